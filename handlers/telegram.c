/*
 * bin/tally-telegram: the bot's webhook for Telegram Payments and Stars
 * (POST /webhooks/telegram; setWebhook with secret_token and
 * allowed_updates ["message", "pre_checkout_query"]).
 *
 * Unlike the other handlers this one calls out: Telegram asks before taking
 * the money (pre_checkout_query) and waits at most 10 s for
 * answerPreCheckoutQuery, so the handler checks the order (a read-only
 * connection, never a write) and answers through the Bot API itself, the
 * call bounded by TG_PRECHECKOUT_TIMEOUT_MS. It calls httpc_init() in init.
 * The query is logged, not stored: it is not a payment. Updates that are
 * not payments (the bot's chat messages) are acknowledged and not stored.
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
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/tally_limits.h"
#include "http/httpc.h"
#include "providers/telegram/telegram.h"
#include "serve/handler.h"
#include "store/store.h"

static enum terr
init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	*state = NULL;
	httpc_init();
	if (c->telegram.webhook_secret[0] == '\0') {
		snprintf(why, whysize, "TELEGRAM_WEBHOOK_SECRET is not set");
		return TERR_CONFIG;
	}
	/* Without the token no pre-checkout query can be answered: no purchase could finish. */
	if (c->telegram.bot_token[0] == '\0') {
		snprintf(why, whysize, "TELEGRAM_BOT_TOKEN is not set");
		return TERR_CONFIG;
	}
	return TERR_OK;
}

/* 200 without storing: {"ok":true,"stored":false,...}. */
static int
acknowledge(struct http_req *r, int answered, int accepted)
{
	char storage[128];
	struct buf b;
	struct jw w;

	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kbool(&w, "ok", 1);
	jw_kbool(&w, "stored", 0);
	if (answered >= 0) {
		jw_kbool(&w, "answered", answered);
		jw_kbool(&w, "accepted", accepted);
	}
	jw_end(&w);
	buf_putc(&b, '\n');
	http_reply_json(r, 200, &b);
	return 200;
}

/* Check the order and answer Telegram; the outcome goes to the request's log line. */
static int
precheckout(const struct cfg *c, struct http_req *r, int64_t now, const struct tg_precheckout *q,
    struct intake_err *err)
{
	struct store *s = NULL;
	char msg[TG_MESSAGE_MAX], reason[256], why[256] = "";
	int ok = -1;
	enum terr rc;

	if (store_open(&s, c->db_path, STORE_RO) == TERR_OK)
		ok =
		    telegram_precheckout_check(s, q, now, msg, sizeof(msg), reason, sizeof(reason));
	else {
		snprintf(msg, sizeof(msg),
		    "The purchase cannot be checked right now. Please try "
		    "again.");
		snprintf(reason, sizeof(reason), "the database could not be opened");
	}
	store_close(s);
	rc = telegram_answer_precheckout(c, q->id, ok == 1, msg, why, sizeof(why));
	err->code = "pre_checkout_query";
	snprintf(err->message, sizeof(err->message), "%s: %.160s%s%.60s",
	    rc != TERR_OK ? "not answered"
		: ok == 1 ? "accepted"
			  : "refused",
	    reason, rc != TERR_OK ? "; " : "", rc != TERR_OK ? why : "");
	if (rc != TERR_OK)
		log_msg(LOG_WARN, "pre_checkout_query not answered", why);
	return acknowledge(r, rc == TERR_OK, ok == 1);
}

static int
intake(void *state, const struct cfg *c, struct http_req *r, int64_t now, struct bev *e,
    struct intake_err *err)
{
	struct tg_precheckout q;
	enum tg_update_kind kind;
	const char *why = NULL;
	char what[64];
	int64_t uid;
	enum terr rc;

	(void)state;
	if ((rc = telegram_verify(&c->telegram, http_header(r, "X-Telegram-Bot-Api-Secret-Token"),
		 &why)) != TERR_OK) {
		err->status = rc == TERR_CONFIG ? 503 : 401;
		err->code = rc == TERR_CONFIG ? "not_configured" : "bad_secret_token";
		snprintf(err->message, sizeof(err->message), "%s", why);
		return err->status;
	}
	if (telegram_classify(buf_cstr(&r->body), r->body.len, &kind, &uid, what, sizeof(what), &q,
		err->message, sizeof(err->message)) != TERR_OK) {
		err->status = 400;
		err->code = "malformed_update";
		return 400;
	}
	if (kind == TG_PAYMENT) {
		if (telegram_parse(c, buf_cstr(&r->body), r->body.len, e, err->message,
			sizeof(err->message)) != TERR_OK) {
			err->status = 400;
			err->code = "malformed_update";
			return 400;
		}
		return 0;
	}
	/* Named for the log line only: nothing is stored. */
	snprintf(e->type, sizeof(e->type), "%s", what[0] != '\0' ? what : "update");
	if (kind == TG_PRECHECKOUT) {
		snprintf(e->id, sizeof(e->id), "pre_checkout_query:%.200s", q.id);
		return precheckout(c, r, now, &q, err);
	}
	snprintf(e->id, sizeof(e->id), "update:%lld", (long long)uid);
	err->code = "not_a_payment";
	snprintf(err->message, sizeof(err->message), "acknowledged, not stored");
	return acknowledge(r, -1, 0);
}

static const struct handler telegram_handler = {
	.name = "telegram",
	.body_max = BODY_MAX,
	.init = init,
	.intake = intake,
};

int
main(int argc, char **argv)
{
	return handler_main(&telegram_handler, argc, argv);
}
