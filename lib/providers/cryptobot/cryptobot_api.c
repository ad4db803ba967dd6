/*
 * The Crypto Pay API client (cryptobot_api.h): createInvoice and getInvoices
 * over lib/providers/papi.c. Apart from lib/providers/cryptobot/cryptobot.c so
 * that only the executables that call out link libcurl.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/money.h"
#include "base/text.h"
#include "http/httpc.h"
#include "providers/cryptobot/cryptobot_api.h"
#include "providers/papi.h"

/* Crypto Pay's answer: {"ok":true,"result":...} or {"ok":false,"error":{"code","name"}}. */
static enum terr
call(const struct cfg *c, const char *method, const struct buf *body, struct buf *out, char *why,
    size_t whysize)
{
	char path[64], auth[SECRET_MAX + 32];
	struct papi_req q;
	struct httpc_resp resp;
	enum terr rc;

	if (c->cryptobot.token[0] == '\0') {
		snprintf(why, whysize, "CRYPTOBOT_TOKEN is not set");
		return TERR_CONFIG;
	}
	snprintf(path, sizeof(path), "/api/%s", method);
	snprintf(auth, sizeof(auth), "Crypto-Pay-API-Token: %s", c->cryptobot.token);
	memset(&q, 0, sizeof(q));
	q.who = "Crypto Pay";
	q.base = c->cryptobot.api_base;
	q.path = path;
	q.method = "POST";
	q.body = body;
	q.header = auth;
	httpc_resp_init(&resp, HTTPC_BODY_MAX);
	if ((rc = papi_do(&c->http, &q, &resp, why, whysize)) == TERR_OK &&
	    (rc = papi_status(&q, &resp, "error.name", why, whysize)) == TERR_OK) {
		buf_reset(out);
		buf_append(out, resp.body.p, resp.body.len);
		rc = out->err;
	}
	crypto_wipe(auth, sizeof(auth));
	httpc_resp_release(&resp);
	return rc;
}

/* The decimal CryptoBot takes: the exact amount, without trailing zeros ("4.99"). */
static void
decimal_text(int64_t amount, const char *asset, char *out, size_t size)
{
	size_t n;

	money_format(amount, asset, out, size);
	if (strchr(out, '.') == NULL)
		return;
	for (n = strlen(out); n > 0 && out[n - 1] == '0'; n--)
		out[n - 1] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[n - 1] = '\0';
}

enum terr
cryptobot_create_invoice(const struct cfg *c, const char *asset, int64_t amount,
    const char *payload, const char *description, int64_t expires_in, struct cb_invoice *out,
    char *why, size_t whysize)
{
	char storage[2048], amt[40];
	struct buf body, answer;
	struct jw w;
	enum terr rc;

	decimal_text(amount, asset, amt, sizeof(amt));
	buf_init_fixed(&body, storage, sizeof(storage));
	jw_init(&w, &body);
	jw_obj(&w);
	jw_kstr(&w, "currency_type", "crypto");
	jw_kstr(&w, "asset", asset);
	jw_kstr(&w, "amount", amt);
	jw_kstr(&w, "description", description);
	jw_kstr(&w, "payload", payload);
	jw_kint(&w, "expires_in", expires_in);
	jw_end(&w);
	if (body.err != TERR_OK) {
		snprintf(why, whysize, "invoice request too long");
		return TERR_TOOBIG;
	}
	buf_init(&answer, HTTPC_BODY_MAX);
	if ((rc = call(c, "createInvoice", &body, &answer, why, whysize)) != TERR_OK)
		goto out;
	if ((rc = cryptobot_invoice_parse(buf_cstr(&answer), answer.len, out, why, whysize)) !=
	    TERR_OK)
		goto out;
	rc = TERR_INVAL;
	if (strncmp(out->url, "https://", 8) != 0 || strcmp(out->payload, payload) != 0 ||
	    strcmp(out->currency, asset) != 0 || out->amount != amount) {
		snprintf(why, whysize, "Crypto Pay's invoice is not the one asked for");
		goto out;
	}
	rc = TERR_OK;
out:
	buf_release(&answer);
	return rc;
}

enum terr
cryptobot_get_invoices(const struct cfg *c, const char *invoice_ids, const char *status,
    int64_t offset, int64_t count, struct cb_invoice *out, size_t max, size_t *n, char *why,
    size_t whysize)
{
	char storage[4096];
	struct buf body, answer;
	struct jw w;
	enum terr rc;

	*n = 0;
	buf_init_fixed(&body, storage, sizeof(storage));
	jw_init(&w, &body);
	jw_obj(&w);
	if (invoice_ids != NULL)
		jw_kstr(&w, "invoice_ids", invoice_ids);
	if (status != NULL)
		jw_kstr(&w, "status", status);
	jw_kint(&w, "offset", offset);
	jw_kint(&w, "count", count);
	jw_end(&w);
	if (body.err != TERR_OK || count < 1 || count > 1000) {
		snprintf(why, whysize, "getInvoices: invalid request");
		return TERR_INVAL;
	}
	buf_init(&answer, HTTPC_BODY_MAX);
	if ((rc = call(c, "getInvoices", &body, &answer, why, whysize)) == TERR_OK)
		rc = cryptobot_invoices_parse(buf_cstr(&answer), answer.len, out, max, n, why,
		    whysize);
	buf_release(&answer);
	return rc;
}
