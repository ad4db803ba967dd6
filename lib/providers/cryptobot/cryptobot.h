/*
 * CryptoBot (Crypto Pay API): webhook signatures, the mapping of its updates
 * to normalized billing events, and the API client (createInvoice,
 * getInvoices). Only this module knows Crypto Pay's wire format.
 *
 * Sources: help.crypt.bot/crypto-pay-api ("Webhooks", "Verifying webhook
 * updates", Invoice, createInvoice, getInvoices; changelog to 1.5.1);
 * vovchic17/aiocpa @48a0cef aiocpa/types/{update,invoice}.py,
 * aiocpa/webhook/base.py, aiocpa/methods/{create_invoice,get_invoices}.py
 * (PROVIDERS.md section 6).
 *
 * Signature ("Verifying webhook updates"): crypto-pay-api-signature is the
 * hex HMAC-SHA256 of the raw body keyed with SHA-256 of the app's API token
 * (the 32 raw bytes). aiocpa re-serializes the parsed body before hashing;
 * tally hashes the bytes received. No timestamp header: request_date (ISO
 * 8601) must be within cryptobot.tolerance of now, either way, checked only
 * after the signature matched.
 *
 * Updates: {update_id, update_type, request_date, payload: Invoice}; the only
 * update_type is "invoice_paid" -> ORDER: tally's order id is the invoice's
 * payload (set at createInvoice), provider ref and charge are the invoice_id
 * (an invoice is paid once), captured when its status is "paid". Amount: an
 * invoice tally creates is priced in crypto (currency_type "crypto"), and a
 * crypto invoice is paid in exactly its asset and amount, so asset + amount
 * are what was paid (paid_asset / paid_amount are documented only for fiat
 * invoices, where the payer picks the asset). A fiat invoice maps to its fiat
 * and amount, which no crypto order matches. Decimal strings are read exactly
 * (money_parse: 10^-8 of a coin); one that cannot be read is amount 0, which
 * the order check refuses (stored, alerted). The dedup key is
 * "invoice_paid:<invoice_id>" (update_id is not documented as unique). Events
 * are test events when cryptobot.testnet is set.
 */
#ifndef TALLY_CRYPTOBOT_H
#define TALLY_CRYPTOBOT_H

#include <stddef.h>
#include <stdint.h>

#include "base/event.h"
#include "cfg/cfg.h"
#include "crypto/crypto.h"
#include "providers/hook.h"

struct cryptobot_verifier {
	struct hmac_key key;
	int have;
	int64_t tolerance; /* ms */
};

/* The HMAC key SHA-256(CRYPTOBOT_TOKEN); have == 0 when no token is configured. */
enum terr cryptobot_verifier_init(struct cryptobot_verifier *v, const struct cfg_cryptobot *c);
void cryptobot_verifier_release(struct cryptobot_verifier *v);

/*
 * Verify header (crypto-pay-api-signature, NULL when absent) over body[0..n)
 * and then the body's request_date at now (ms). TERR_OK; TERR_AUTH (missing
 * or wrong signature); TERR_STALE (request_date outside the tolerance);
 * TERR_INVAL (no readable request_date); TERR_CONFIG (no token). *why static.
 */
enum terr cryptobot_verify(const struct cryptobot_verifier *v, const char *header, const char *body,
    size_t n, int64_t now, const char **why);

/*
 * The webhook's side for the provider table (hook.h): init prepares a
 * cryptobot_verifier of the configured token (TERR_CONFIG, "CRYPTOBOT_TOKEN is
 * not set", when none is), fini frees it, verify is cryptobot_verify over the
 * request's crypto-pay-api-signature and body.
 */
enum terr cryptobot_hook_init(void **state, const struct cfg *c, char *why, size_t whysize);
void cryptobot_hook_fini(void *state);
enum terr cryptobot_hook_verify(void *state, const struct cfg *c, const struct hook_req *q,
    const char **why);

/*
 * Map a verified update body into e (bev_init'ed here; e->raw points into
 * body). TERR_INVAL with why when it is not a Crypto Pay update or a field
 * has the wrong type.
 */
enum terr cryptobot_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize);

/* --- API (https://pay.crypt.bot/api/<method>, header Crypto-Pay-API-Token) --- */

#define CB_INVOICES_MAX 100

struct cb_invoice {
	char invoice_id[32];
	char status[16];      /* active, paid, expired */
	char currency[16];    /* the asset (crypto invoices) or the fiat */
	int64_t amount;       /* minor units of currency (money.h); -1 when it cannot be read */
	char amount_text[48]; /* the amount as sent (cut to fit), quoted when it cannot be read */
	char payload[ID_MAX];
	char url[URL_MAX]; /* bot_invoice_url */
	int64_t paid_at;   /* ms, 0 unless paid */
};

/* Read createInvoice's answer {"ok":true,"result":{invoice}}. */
enum terr cryptobot_invoice_parse(const char *body, size_t len, struct cb_invoice *out, char *why,
    size_t whysize);
/* Read getInvoices' answer {"ok":true,"result":{"items":[...]}}. */
enum terr cryptobot_invoices_parse(const char *body, size_t len, struct cb_invoice *out, size_t max,
    size_t *n, char *why, size_t whysize);

#endif
