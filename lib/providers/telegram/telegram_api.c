/*
 * The Bot API calls tally makes (telegram.h): createInvoiceLink,
 * answerPreCheckoutQuery, refundStarPayment, getStarTransactions. "All queries must be made
 * using UTF-8", as JSON here; answers are {"ok":true,"result":...} or
 * {"ok":false,"error_code":N,"description":"..."} (Bot API "Making
 * requests"). The token is part of the URL: neither is ever logged or put
 * into why.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "http/httpc.h"
#include "providers/papi.h"
#include "providers/telegram/telegram.h"
#include "providers/telegram/telegram_api.h"
#include "providers/telegram/telegram_sync.h"

/*
 * POST body to method; on TERR_OK the "result" value's JSON into result
 * (NULL: not wanted). h bounds the call's time.
 */
static enum terr
call(const struct cfg *c, const struct cfg_http *h, const char *method, const struct buf *body,
    struct buf *result, char *why, size_t whysize)
{
	char pathbuf[SECRET_MAX + 64];
	struct papi_req q;
	struct httpc_resp resp;
	struct buf path;
	cJSON *root = NULL;
	const cJSON *res;
	const char *jwhy;
	char *text;
	int ok = 0;
	enum terr rc;

	if (c->telegram.bot_token[0] == '\0') {
		snprintf(why, whysize, "TELEGRAM_BOT_TOKEN is not set");
		return TERR_CONFIG;
	}
	/* https://api.telegram.org/bot<token>/METHOD_NAME ("Making requests"). */
	buf_init_fixed(&path, pathbuf, sizeof(pathbuf));
	buf_printf(&path, "/bot%s/%s", c->telegram.bot_token, method);
	memset(&q, 0, sizeof(q));
	q.who = "Telegram";
	q.base = c->telegram.api_base;
	q.path = buf_cstr(&path);
	q.method = "POST";
	q.body = body;
	httpc_resp_init(&resp, HTTPC_BODY_MAX);
	if (path.err != TERR_OK) {
		snprintf(why, whysize, "the bot token is too long");
		rc = TERR_TOOBIG;
	} else
		rc = papi_do(h, &q, &resp, why, whysize);
	crypto_wipe(pathbuf, sizeof(pathbuf));
	if (rc != TERR_OK ||
	    (rc = papi_status(&q, &resp, "description", why, whysize)) != TERR_OK) {
		/* A wrong token is 401, or 404 for a token Telegram cannot parse. */
		if (rc == TERR_NOTFOUND)
			rc = TERR_AUTH;
		goto out;
	}
	if (json_parse(buf_cstr(&resp.body), resp.body.len, JSON_DEPTH_MAX, &root, &jwhy) !=
		TERR_OK ||
	    jbool(root, "ok", &ok) != 1 || !ok) {
		snprintf(why, whysize, "Telegram's answer to %s is not {\"ok\":true}", method);
		rc = TERR_INVAL;
		goto out;
	}
	if (result != NULL && (res = jget(root, "result")) != NULL) {
		if ((text = cJSON_PrintUnformatted(res)) == NULL) {
			rc = TERR_NOMEM;
			goto out;
		}
		buf_reset(result);
		buf_puts(result, text);
		cJSON_free(text);
		rc = result->err;
	}
out:
	cJSON_Delete(root);
	httpc_resp_release(&resp);
	return rc;
}

enum terr
telegram_create_invoice_link(const struct cfg *c, const struct tg_invoice *inv, char *link,
    size_t linksize, char *why, size_t whysize)
{
	struct buf body, result;
	struct jw w;
	cJSON *root = NULL;
	const char *jwhy;
	int stars = strcmp(inv->currency, "XTR") == 0;
	enum terr rc;

	link[0] = '\0';
	if (!stars && c->telegram.provider_token[0] == '\0') {
		snprintf(why, whysize, "TELEGRAM_PROVIDER_TOKEN is not set: only XTR invoices");
		return TERR_CONFIG;
	}
	buf_init(&body, 4096);
	buf_init(&result, 4096);
	jw_init(&w, &body);
	jw_obj(&w);
	jw_kstr(&w, "title", inv->title);
	jw_kstr(&w, "description", inv->description);
	jw_kstr(&w, "payload", inv->payload);
	/* "Pass an empty string for payments in Telegram Stars." */
	jw_kstr(&w, "provider_token", stars ? "" : c->telegram.provider_token);
	jw_kstr(&w, "currency", inv->currency);
	jw_key(&w, "prices");
	jw_arr(&w);
	jw_obj(&w);
	jw_kstr(&w, "label", inv->title);
	jw_kint(&w, "amount", inv->amount);
	jw_end(&w);
	jw_aend(&w);
	if (inv->subscription)
		jw_kint(&w, "subscription_period", TG_SUBSCRIPTION_PERIOD);
	jw_end(&w);
	if (body.err != TERR_OK) {
		snprintf(why, whysize, "invoice request too long");
		rc = TERR_TOOBIG;
		goto out;
	}
	if ((rc = call(c, &c->http, "createInvoiceLink", &body, &result, why, whysize)) != TERR_OK)
		goto out;
	/* The result is the link, a JSON string. */
	if (json_parse(buf_cstr(&result), result.len, 2, &root, &jwhy) != TERR_OK ||
	    !cJSON_IsString(root) || strncmp(root->valuestring, "https://", 8) != 0 ||
	    text_copy(link, linksize, root->valuestring) != TERR_OK) {
		snprintf(why, whysize, "Telegram's createInvoiceLink answer is not a link");
		rc = TERR_INVAL;
	}
out:
	crypto_wipe(body.p, body.cap);
	cJSON_Delete(root);
	buf_release(&body);
	buf_release(&result);
	return rc;
}

enum terr
telegram_answer_precheckout(const struct cfg *c, const char *query_id, int ok,
    const char *error_message, char *why, size_t whysize)
{
	char storage[1024];
	struct cfg_http h = c->http;
	struct buf body;
	struct jw w;

	/* Telegram waits 10 s for the answer: ours is bounded well inside that. */
	if (h.timeout > TG_PRECHECKOUT_TIMEOUT_MS)
		h.timeout = TG_PRECHECKOUT_TIMEOUT_MS;
	if (h.connect_timeout > TG_PRECHECKOUT_CONNECT_MS)
		h.connect_timeout = TG_PRECHECKOUT_CONNECT_MS;
	buf_init_fixed(&body, storage, sizeof(storage));
	jw_init(&w, &body);
	jw_obj(&w);
	jw_kstr(&w, "pre_checkout_query_id", query_id);
	jw_kbool(&w, "ok", ok);
	if (!ok)
		jw_kstr(&w, "error_message", error_message);
	jw_end(&w);
	if (body.err != TERR_OK) {
		snprintf(why, whysize, "answer too long");
		return TERR_TOOBIG;
	}
	return call(c, &h, "answerPreCheckoutQuery", &body, NULL, why, whysize);
}

enum terr
telegram_refund_star_payment(const struct cfg *c, const char *tg_user, const char *charge_id,
    char *why, size_t whysize)
{
	char storage[1024];
	struct buf body;
	struct jw w;
	int64_t uid;
	enum terr rc;

	if (text_i64s(tg_user, 1, INT64_MAX, &uid) != TERR_OK) {
		snprintf(why, whysize, "not a Telegram user id: %.32s", tg_user);
		return TERR_INVAL;
	}
	buf_init_fixed(&body, storage, sizeof(storage));
	jw_init(&w, &body);
	jw_obj(&w);
	jw_kint(&w, "user_id", uid);
	jw_kstr(&w, "telegram_payment_charge_id", charge_id);
	jw_end(&w);
	if (body.err != TERR_OK) {
		snprintf(why, whysize, "refund request too long");
		return TERR_TOOBIG;
	}
	rc = call(c, &c->http, "refundStarPayment", &body, NULL, why, whysize);
	/* "Bad Request: CHARGE_ALREADY_REFUNDED": the money went back before. */
	if (rc == TERR_INVAL && strstr(why, "CHARGE_ALREADY_REFUNDED") != NULL)
		return TERR_DUP;
	return rc;
}

enum terr
telegram_star_transactions(const struct cfg *c, int64_t offset, int64_t limit,
    struct tg_star_tx *out, size_t max, size_t *n, char *why, size_t whysize)
{
	char storage[128];
	struct buf body, result;
	struct jw w;
	enum terr rc;

	*n = 0;
	if (limit < 1 || limit > TG_STAR_PAGE || offset < 0) {
		snprintf(why, whysize, "getStarTransactions: limit 1-%d, offset from 0",
		    TG_STAR_PAGE);
		return TERR_INVAL;
	}
	/* offset: "Number of transactions to skip in the response". */
	buf_init_fixed(&body, storage, sizeof(storage));
	jw_init(&w, &body);
	jw_obj(&w);
	jw_kint(&w, "offset", offset);
	jw_kint(&w, "limit", limit);
	jw_end(&w);
	/* A StarTransaction is small: a page of TG_STAR_PAGE fits well within this. */
	buf_init(&result, HTTPC_BODY_MAX);
	rc = call(c, &c->http, "getStarTransactions", &body, &result, why, whysize);
	if (rc == TERR_OK && result.len == 0) {
		snprintf(why, whysize, "Telegram's getStarTransactions answer has no result");
		rc = TERR_INVAL;
	}
	if (rc == TERR_OK)
		rc = telegram_star_transactions_parse(buf_cstr(&result), result.len, out, max, n,
		    why, whysize);
	buf_release(&result);
	return rc;
}
