/*
 * The Crypto Pay API client (cryptobot_api.c): createInvoice and getInvoices
 * (help.crypt.bot/crypto-pay-api). For the checkout and reconciliation; a
 * handler does not link it.
 */
#ifndef TALLY_CRYPTOBOT_API_H
#define TALLY_CRYPTOBOT_API_H

#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"
#include "providers/cryptobot/cryptobot.h"

/*
 * Every call: TERR_OK; TERR_CONFIG (no CRYPTOBOT_TOKEN); TERR_IO (no answer,
 * a timeout, 429, 5xx); TERR_AUTH (401, 403: the token is refused);
 * TERR_INVAL (400 or an answer tally cannot read; the error's name in why).
 */

/* createInvoice: currency_type crypto, asset, amount (decimal), payload, expires_in (s). */
enum terr cryptobot_create_invoice(const struct cfg *c, const char *asset, int64_t amount,
    const char *payload, const char *description, int64_t expires_in, struct cb_invoice *out,
    char *why, size_t whysize);
/*
 * getInvoices (reconciliation): invoice_ids ("1,2,3" or NULL), status
 * ("active", "paid" or NULL), offset, count (1-1000). Up to max into out, *n.
 */
enum terr cryptobot_get_invoices(const struct cfg *c, const char *invoice_ids, const char *status,
    int64_t offset, int64_t count, struct cb_invoice *out, size_t max, size_t *n, char *why,
    size_t whysize);

#endif
