/*
 * Telegram Payments, Telegram Stars (XTR) included: the bot's webhook, the
 * mapping of payment updates to normalized billing events, the pre-checkout
 * check, and the Bot API calls tally makes (telegram_api.c). Only these
 * files know the Bot API's wire format.
 *
 * Sources: PaulSonOfLars/telegram-bot-api-spec @160fd99 api.json (Bot API
 * 10.1, 2026-06-11: Update, Message, SuccessfulPayment, RefundedPayment,
 * PreCheckoutQuery, createInvoiceLink, answerPreCheckoutQuery,
 * refundStarPayment, setWebhook); core.telegram.org/bots/payments-stars
 * (PROVIDERS.md section 5).
 *
 * Authentication (setWebhook secret_token): Telegram sends the token set
 * with setWebhook in X-Telegram-Bot-Api-Secret-Token on every request; there
 * is no body signature. tally compares the whole header in constant time.
 *
 * Updates (one optional field each):
 *   message.successful_payment  ORDER: the invoice_payload is tally's order id,
 *                        charge = telegram_payment_charge_id, amount = total_amount
 *                        in the currency's smallest unit (whole Stars for XTR),
 *                        captured. A Stars subscription's payment carries
 *                        subscription_expiration_date (the period's end) and
 *                        is_recurring; a renewal is is_recurring without
 *                        is_first_recurring (recurring: the same order paid again)
 *   message.refunded_payment  REFUND full of telegram_payment_charge_id
 *   pre_checkout_query   not stored: answered through answerPreCheckoutQuery
 *                        once tally has checked the order (HOOK_PRECHECK)
 *   any other update     not stored: a bot's chat messages are not billing events
 *                        (set allowed_updates to ["message", "pre_checkout_query"])
 * The dedup key is "update:<update_id>"; message.from.id is linked to the user
 * as ("telegram", "user", id). Telegram has no test mode in updates: live.
 * The business key of a payment is its charge: a second event about the same
 * charge (another update_id, or reconciliation's) grants nothing.
 *
 * Reconciliation (tally-reconcile, telegram_sync.h) applies a Stars payment
 * Telegram's getStarTransactions knows and the webhook missed as the
 * successful_payment it would have carried, marked {"tally_reconcile": {}}
 * instead of an update_id: its id is "stars:<charge id>". The webhook
 * refuses bodies with tally_reconcile.
 *
 * An operator's refund (tally telegram refund) is applied at once as a
 * refunded_payment of tally's own making, {"tally_refund": {"operator",
 * "reason"}, "message": {...}}, id "refund:<charge id>", actor the operator;
 * Telegram's own refunded_payment that follows finds the payment refunded
 * and changes nothing. The webhook refuses bodies with tally_refund.
 */
#ifndef TALLY_TELEGRAM_H
#define TALLY_TELEGRAM_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/event.h"
#include "cfg/cfg.h"
#include "providers/hook.h"

#define TG_LINK_USER              "user"
/* createInvoiceLink subscription_period: "it must always be 2592000 (30 days)". */
#define TG_SUBSCRIPTION_PERIOD    2592000
/*
 * answerPreCheckoutQuery must reach Telegram within 10 s of the query: the
 * whole call is bounded by this (connect included), whatever http.timeout
 * says, leaving the rest for the database lookup and the request's way in.
 */
#define TG_PRECHECKOUT_TIMEOUT_MS 4000
#define TG_PRECHECKOUT_CONNECT_MS 2000

/*
 * Compare header (X-Telegram-Bot-Api-Secret-Token, NULL when absent) with
 * TELEGRAM_WEBHOOK_SECRET: lengths, then ct_eq. TERR_OK; TERR_AUTH; TERR_CONFIG
 * when none is configured. *why is static; neither value is logged.
 */
enum terr telegram_verify(const struct cfg_telegram *c, const char *header, const char **why);

/*
 * The webhook's side for the provider table (hook.h): no state; init says
 * TERR_CONFIG when TELEGRAM_WEBHOOK_SECRET is not set, or TELEGRAM_BOT_TOKEN
 * (without it no pre-checkout query can be answered: no purchase could
 * finish); verify is telegram_verify of the request's
 * X-Telegram-Bot-Api-Secret-Token.
 */
enum terr telegram_hook_init(void **state, const struct cfg *c, char *why, size_t whysize);
enum terr telegram_hook_verify(void *state, const struct cfg *c, const struct hook_req *q,
    const char **why);

/*
 * What an update is (hook.h): a payment (HOOK_EVENT: successful_payment,
 * refunded_payment), a pre_checkout_query (HOOK_PRECHECK, the query in u->q;
 * u->id "pre_checkout_query:<id>"), or anything else (HOOK_OTHER; u->id
 * "update:<update_id>"); u->what the name of its field ("message",
 * "pre_checkout_query", "update" when it has none). TERR_INVAL with why
 * when the body is not an update (or carries tally_refund or
 * tally_reconcile, which only tally itself writes).
 */
enum terr telegram_classify(const char *body, size_t n, struct hook_update *u, char *why,
    size_t whysize);

/*
 * Map a verified update body (a payment) into e (bev_init'ed here; e->raw
 * points into body). TERR_INVAL with why when it cannot be read. Updates
 * without effects map to an event without aspects and a note.
 */
enum terr telegram_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize);

/*
 * The body of an operator's refund of a Stars payment (tally telegram
 * refund), applied through telegram_parse: refunded_payment of charge_id to
 * Telegram user tg_user, for order_id, of amount currency.
 */
enum terr telegram_refund_body(const char *operator_, const char *reason, int64_t at,
    const char *tg_user, const char *order_id, const char *charge_id, int64_t amount,
    const char *currency, struct buf *out);

#endif
