/*
 * Stripe's REST API for reconciliation: see stripe_sync.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "http/httpc.h"
#include "providers/stripe/stripe_sync.h"

/* A page of events (Stripe's largest, "limit" 1..100). */
#define PAGE_SIZE  100
/* An answer of one page: 100 events of a few KB each. */
#define ANSWER_MAX (8 * 1024 * 1024)

/* The event types tally reads (docs/stripe.md); types[] takes at most 20. */
static const char *const types[] = {
	"checkout.session.completed",
	"checkout.session.async_payment_succeeded",
	"invoice.paid",
	"invoice.payment_succeeded",
	"invoice.payment_failed",
	"invoice_payment.paid",
	"customer.subscription.created",
	"customer.subscription.updated",
	"customer.subscription.deleted",
	"customer.subscription.paused",
	"customer.subscription.resumed",
	"customer.subscription.trial_will_end",
	"charge.refunded",
	"charge.dispute.created",
};

/* GET base + path_query; a 200's JSON document into *root. Errors as stripe_sync.h says. */
static enum terr
get(const struct cfg *c, const struct buf *path_query, cJSON **root, char *why, size_t whysize)
{
	struct httpc_req req;
	struct httpc_resp r;
	struct buf url, auth;
	const char *headers[2], *jwhy, *msg;
	char inner[200];
	enum terr rc;

	*root = NULL;
	if (c->stripe.api_key[0] == '\0') {
		snprintf(why, whysize, "STRIPE_API_KEY is not set");
		return TERR_CONFIG;
	}
	buf_init(&url, URL_MAX * 4);
	buf_init(&auth, SECRET_MAX + 32);
	httpc_resp_init(&r, ANSWER_MAX);
	buf_printf(&url, "%s%s", c->stripe.api_base, buf_cstr(path_query));
	buf_printf(&auth, "Authorization: Bearer %s", c->stripe.api_key);
	headers[0] = buf_cstr(&auth);
	headers[1] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = buf_cstr(&url);
	req.headers = headers;
	if (url.err != TERR_OK) {
		snprintf(why, whysize, "request URL too long");
		rc = TERR_INVAL;
		goto out;
	}
	if ((rc = httpc_do(&c->http, &req, &r, why, whysize)) != TERR_OK) {
		text_copy(inner, sizeof(inner), why);
		snprintf(why, whysize, "Stripe did not answer: %s", inner);
		rc = rc == TERR_TOOBIG ? TERR_INVAL : TERR_IO;
		goto out;
	}
	if (json_parse(r.body.p, r.body.len, JSON_DEPTH_MAX, root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "Stripe answered %ld with a body that is not JSON (%s)",
		    r.status, jwhy);
		rc = r.status >= 500 ? TERR_IO : TERR_INVAL;
		goto out;
	}
	if (r.status != 200) {
		msg = jstr(jobj(*root, "error"), "message");
		snprintf(why, whysize, "Stripe answered %ld: %.200s", r.status,
		    msg != NULL ? msg : "(no message)");
		rc = r.status == 401 || r.status == 403 ? TERR_AUTH
		    : r.status == 404                   ? TERR_NOTFOUND
		    : r.status == 429                   ? TERR_BUSY
		    : r.status >= 500                   ? TERR_IO
							: TERR_INVAL;
		cJSON_Delete(*root);
		*root = NULL;
		goto out;
	}
	rc = TERR_OK;
out:
	httpc_resp_release(&r);
	crypto_wipe(auth.p, auth.cap);
	buf_release(&auth);
	buf_release(&url);
	return rc;
}

/* Append each event of a page's data[] to out; *last its last id (for starting_after). */
static enum terr
take_page(const cJSON *root, struct buf *out, size_t *n, char *last, size_t lastsize, char *why,
    size_t whysize)
{
	const cJSON *data = jarr(root, "data"), *e;
	const char *id;
	char *text;

	last[0] = '\0';
	if (data == NULL) {
		snprintf(why, whysize, "Stripe's answer is not a list of events");
		return TERR_INVAL;
	}
	cJSON_ArrayForEach (e, data) {
		if (!cJSON_IsObject(e) || (id = jstr(e, "id")) == NULL ||
		    text_copy(last, lastsize, id) != TERR_OK) {
			snprintf(why, whysize,
			    "Stripe's list holds something that is not an event");
			return TERR_INVAL;
		}
		if (*n == STRIPE_SYNC_EVENTS_MAX) {
			snprintf(why, whysize,
			    "more than %d events in the window: reconcile a shorter one (--since)",
			    STRIPE_SYNC_EVENTS_MAX);
			return TERR_TOOBIG;
		}
		if ((text = cJSON_PrintUnformatted(e)) == NULL)
			return TERR_NOMEM;
		buf_puts(out, text);
		buf_putc(out, '\n');
		free(text);
		if (out->err != TERR_OK) {
			snprintf(why, whysize, "the window's events are larger than %zu bytes",
			    out->max);
			return out->err;
		}
		(*n)++;
	}
	return TERR_OK;
}

enum terr
stripe_sync_events(const struct cfg *c, int64_t since, struct buf *out, size_t *n, char *why,
    size_t whysize)
{
	char last[ID_MAX] = "";
	struct buf q;
	cJSON *root = NULL;
	size_t i;
	int more = 1;
	enum terr rc = TERR_OK;

	*n = 0;
	buf_reset(out);
	buf_init(&q, 4096);
	/* Newest first, page by page toward older ones (starting_after). */
	while (more && rc == TERR_OK) {
		buf_reset(&q);
		buf_printf(&q, "/v1/events?limit=%d&created%%5Bgt%%5D=%lld", PAGE_SIZE,
		    (long long)(since / 1000));
		for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			buf_printf(&q, "&types%%5B%%5D=%s", types[i]);
		if (last[0] != '\0') {
			buf_puts(&q, "&starting_after=");
			httpc_escape(&q, last);
		}
		if ((rc = get(c, &q, &root, why, whysize)) != TERR_OK)
			break;
		rc = take_page(root, out, n, last, sizeof(last), why, whysize);
		more = cJSON_IsTrue(jget(root, "has_more")) && last[0] != '\0';
		cJSON_Delete(root);
		root = NULL;
	}
	buf_release(&q);
	if (rc != TERR_OK) {
		buf_reset(out);
		*n = 0;
	}
	return rc;
}

enum terr
stripe_sync_subscription(const struct cfg *c, const char *id, struct buf *out, char *why,
    size_t whysize)
{
	struct buf q;
	cJSON *root = NULL;
	char *text = NULL;
	enum terr rc;

	buf_init(&q, ID_MAX * 3 + 32);
	buf_puts(&q, "/v1/subscriptions/");
	httpc_escape(&q, id);
	if ((rc = get(c, &q, &root, why, whysize)) == TERR_OK) {
		if (!cJSON_IsObject(root) || jstr(root, "status") == NULL) {
			snprintf(why, whysize, "Stripe's answer is not a subscription");
			rc = TERR_INVAL;
		} else if ((text = cJSON_PrintUnformatted(root)) == NULL)
			rc = TERR_NOMEM;
		else {
			buf_puts(out, text);
			rc = out->err;
		}
	}
	free(text);
	cJSON_Delete(root);
	buf_release(&q);
	return rc;
}

enum terr
stripe_sync_event(const char *id, int64_t at, const char *sub, struct buf *out)
{
	const char *jwhy;
	cJSON *root = NULL;
	struct jw w;
	int live = 0;

	if (json_parse(sub, strlen(sub), JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK ||
	    !cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return TERR_INVAL;
	}
	live = cJSON_IsTrue(jget(root, "livemode"));
	cJSON_Delete(root);
	jw_init(&w, out);
	jw_obj(&w);
	jw_kstr(&w, "id", id);
	jw_kstr(&w, "object", "event");
	jw_kint(&w, "created", at / 1000);
	jw_kbool(&w, "livemode", live);
	jw_kstr(&w, "type", "customer.subscription.updated");
	jw_key(&w, "data");
	jw_obj(&w);
	jw_key(&w, "object");
	jw_raw(&w, sub);
	jw_end(&w);
	jw_end(&w);
	return out->err;
}
