/*
 * Telegram's Bot API (telegram_api.c): {telegram.api_base}/bot<token>/<method>,
 * JSON. For the checkout, the pre-checkout answer, refunds and
 * reconciliation; only tally-telegram of the handlers links it.
 */
#ifndef TALLY_TELEGRAM_API_H
#define TALLY_TELEGRAM_API_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "cfg/cfg.h"

/*
 * Every call: TERR_OK when Telegram answered {"ok":true}; TERR_CONFIG (no
 * TELEGRAM_BOT_TOKEN); TERR_IO (no answer, a timeout, 429, 5xx: retry later);
 * TERR_AUTH (401, 403, 404: the token is wrong); TERR_INVAL (400: Telegram
 * refused; its description in why). why never holds the token or the URL.
 */

struct tg_invoice {
	const char *title;       /* 1-32 characters */
	const char *description; /* 1-255 characters */
	const char *payload;     /* tally's order id, 1-128 bytes */
	const char *currency;    /* "XTR" or ISO 4217 (then TELEGRAM_PROVIDER_TOKEN) */
	int64_t amount;          /* smallest units; one price */
	int subscription;        /* a Stars subscription of TG_SUBSCRIPTION_PERIOD */
};

/* createInvoiceLink: the link into link. */
enum terr telegram_create_invoice_link(const struct cfg *c, const struct tg_invoice *inv,
    char *link, size_t linksize, char *why, size_t whysize);
/* answerPreCheckoutQuery within TG_PRECHECKOUT_TIMEOUT_MS; error_message when !ok. */
enum terr telegram_answer_precheckout(const struct cfg *c, const char *query_id, int ok,
    const char *error_message, char *why, size_t whysize);
/* refundStarPayment; TERR_DUP when Telegram says it was refunded already. */
enum terr telegram_refund_star_payment(const struct cfg *c, const char *tg_user,
    const char *charge_id, char *why, size_t whysize);

/* getStarTransactions' limit: "Values between 1-100 are accepted." */
#define TG_STAR_PAGE 100

struct tg_star_tx; /* telegram_sync.h */

/*
 * getStarTransactions(offset, limit 1..TG_STAR_PAGE): the page read into
 * out (at most max, telegram_star_transactions_parse), *n of them. TERR_INVAL
 * also when the answer cannot be read.
 */
enum terr telegram_star_transactions(const struct cfg *c, int64_t offset, int64_t limit,
    struct tg_star_tx *out, size_t max, size_t *n, char *why, size_t whysize);

#endif
