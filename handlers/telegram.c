/*
 * bin/tally-telegram: the bot's webhook for Telegram Payments and Stars
 * (POST /webhooks/telegram; setWebhook with secret_token and
 * allowed_updates ["message", "pre_checkout_query"]).
 *
 * Unlike the other handlers this one calls out: Telegram asks before taking
 * the money (pre_checkout_query) and waits at most 10 s for
 * answerPreCheckoutQuery, so the order is checked (core/order.h: a
 * read-only connection, never a write) and answered through the Bot API,
 * the call bounded by TG_PRECHECKOUT_TIMEOUT_MS. The query is logged, not
 * stored: it is not a payment. Updates that are not payments (the bot's
 * chat messages) are acknowledged and not stored.
 *
 * Environment: TELEGRAM_WEBHOOK_SECRET (setWebhook's secret_token, compared
 * whole in constant time) and TELEGRAM_BOT_TOKEN (answers), each also as
 * <NAME>_FILE; TALLY_DB, TALLY_CONFIG. Config: telegram.api_base, http.*.
 * Limits: body BODY_MAX (413 past it).
 * Answers: 200 once committed (successful_payment and refunded_payment, each
 * stored; one refused against its order is failed and alerted), 200 without
 * storing for a pre-checkout query (answered) and any other update, 401 for a
 * missing or wrong secret token, 400 for a body that is not an update, 405,
 * 411, 413, and 503 when the secret or the bot token is not configured or
 * storage failed (Telegram repeats the update).
 */
#include "providers/telegram/telegram.h"
#include "providers/telegram/telegram_api.h"
#include "base/tally_limits.h"
#include "http/httpc.h"
#include "serve/handler.h"

/* Verified, classified, parsed and refused by the "telegram" row of the provider table. */
static const struct handler telegram_handler = {
	.name = "telegram",
	.provider = "telegram",
	.body_max = BODY_MAX,
	.answer = telegram_answer_precheckout,
};

int
main(int argc, char **argv)
{
	/* The one webhook that calls out: libcurl once, before any thread starts. */
	httpc_init();
	return handler_main(&telegram_handler, argc, argv);
}
