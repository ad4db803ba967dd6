/*
 * RevenueCat REST API v1: GET /v1/subscribers/{app_user_id} (openapi-spec/
 * api-v1.yaml "Get or Create Customer", schema Subscriber) over httpc.
 * Only the sync command calls this: handlers never call out.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/jread.h"
#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "crypto/crypto.h"
#include "http/httpc.h"
#include "providers/revenuecat/revenuecat_api.h"

/* The store as webhooks name it: "app_store" -> "APP_STORE" (cut to fit). */
static void
store_name(struct jread *x, const cJSON *o, char *out, size_t size)
{
	char s[32];
	size_t i;

	jr_str(x, o, "store", s, sizeof(s));
	for (i = 0; s[i] != '\0' && i + 1 < size; i++)
		out[i] = s[i] >= 'a' && s[i] <= 'z' ? (char)(s[i] - 'a' + 'A') : s[i];
	out[i] = '\0';
}

/*
 * An ISO 8601 date ("2019-07-26T17:40:10Z"; null: 0). Fractions of any
 * length and a "+00:00" offset are brought to the form tm_parse reads.
 */
static int64_t
date(struct jread *x, const cJSON *o, const char *key)
{
	char s[40], t[32];
	size_t n, i, k;
	int64_t ms = 0;

	jr_str(x, o, key, s, sizeof(s));
	if (s[0] == '\0' || x->bad)
		return 0;
	n = strlen(s);
	if (n > 6 && strcmp(s + n - 6, "+00:00") == 0) {
		s[n - 6] = 'Z';
		s[n - 5] = '\0';
		n -= 5;
	}
	if (n > 20 && s[19] == '.' && s[n - 1] == 'Z') {
		/* Seconds and milliseconds: ".5Z" -> ".500Z", ".123456Z" -> ".123Z". */
		memcpy(t, s, 20);
		for (i = 20, k = 0; k < 3; k++)
			t[20 + k] = i < n - 1 ? s[i++] : '0';
		t[23] = 'Z';
		t[24] = '\0';
		text_copy(s, sizeof(s), t);
	}
	if (tm_parse(s, &ms) != TERR_OK)
		jr_bad(x, "field %s: expected an ISO 8601 UTC time", key);
	return ms;
}

static void
price(struct jread *x, const cJSON *o, double *amount, char *currency, size_t size)
{
	const cJSON *p = jget(o, "price"), *a;

	*amount = 0;
	currency[0] = '\0';
	if (p == NULL)
		return;
	if (!cJSON_IsObject(p)) {
		jr_bad(x, "field price: expected an object");
		return;
	}
	if ((a = jget(p, "amount")) != NULL) {
		if (!cJSON_IsNumber(a) || !isfinite(a->valuedouble) || fabs(a->valuedouble) > 1e12)
			jr_bad(x, "field price.amount: expected a number");
		else
			*amount = a->valuedouble;
	}
	jr_str(x, p, "currency", currency, size);
}

static void
read_subscription(struct jread *x, const cJSON *o, struct rc_subscription *r)
{
	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(o) || text_copy(r->product, sizeof(r->product), o->string) != TERR_OK) {
		jr_bad(x, "subscriptions: expected objects keyed by product id");
		return;
	}
	store_name(x, o, r->store, sizeof(r->store));
	jr_str(x, o, "store_transaction_id", r->txn, sizeof(r->txn));
	jr_str(x, o, "period_type", r->period_type, sizeof(r->period_type));
	r->sandbox = jr_bool(x, o, "is_sandbox");
	r->purchased = date(x, o, "purchase_date");
	r->expires = date(x, o, "expires_date");
	r->grace_expires = date(x, o, "grace_period_expires_date");
	r->unsubscribe_at = date(x, o, "unsubscribe_detected_at");
	r->billing_issue_at = date(x, o, "billing_issues_detected_at");
	r->refunded_at = date(x, o, "refunded_at");
	price(x, o, &r->price, r->currency, sizeof(r->currency));
}

static void
read_purchase(struct jread *x, const char *product, const cJSON *o, struct rc_purchase *r)
{
	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(o)) {
		jr_bad(x, "non_subscriptions: expected arrays of objects");
		return;
	}
	if (text_copy(r->product, sizeof(r->product), product) != TERR_OK)
		jr_bad(x, "non_subscriptions: product id too long");
	jr_str(x, o, "id", r->id, sizeof(r->id));
	jr_str(x, o, "store_transaction_id", r->txn, sizeof(r->txn));
	if (r->txn[0] == '\0')
		text_copy(r->txn, sizeof(r->txn), r->id);
	store_name(x, o, r->store, sizeof(r->store));
	r->sandbox = jr_bool(x, o, "is_sandbox");
	r->purchased = date(x, o, "purchase_date");
	price(x, o, &r->price, r->currency, sizeof(r->currency));
	if (r->txn[0] == '\0')
		jr_bad(x, "non_subscriptions: a purchase without id");
}

static void
read_entitlement(struct jread *x, const cJSON *o, struct rc_entitlement *r)
{
	memset(r, 0, sizeof(*r));
	if (!cJSON_IsObject(o) || text_copy(r->id, sizeof(r->id), o->string) != TERR_OK) {
		jr_bad(x, "entitlements: expected objects keyed by entitlement id");
		return;
	}
	jr_str(x, o, "product_identifier", r->product, sizeof(r->product));
	r->expires = date(x, o, "expires_date");
	r->grace_expires = date(x, o, "grace_period_expires_date");
}

/* An object member that must be an object when present. */
static const cJSON *
member(struct jread *x, const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);

	if (v != NULL && !cJSON_IsObject(v)) {
		jr_bad(x, "field %s: expected an object", key);
		return NULL;
	}
	return v;
}

enum terr
revenuecat_subscriber_parse(const char *body, size_t n, struct rc_subscriber *out, char *why,
    size_t whysize)
{
	struct jread x;
	const cJSON *sub, *o, *arr, *it;
	cJSON *root = NULL;
	const char *jwhy;
	int64_t v = 0;

	jr_init(&x, why, whysize);
	memset(out, 0, sizeof(*out));
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "RevenueCat's answer is not JSON: %s", jwhy);
		return TERR_INVAL;
	}
	if ((sub = jobj(root, "subscriber")) == NULL) {
		jr_bad(&x, "RevenueCat's answer has no subscriber object");
		goto out;
	}
	if (jint(root, "request_date_ms", &v) < 0 || v < 0)
		jr_bad(&x, "field request_date_ms: expected a time in ms");
	out->request_ms = v;
	jr_str(&x, sub, "original_app_user_id", out->original_app_user_id,
	    sizeof(out->original_app_user_id));
	if ((o = member(&x, sub, "subscriptions")) != NULL)
		cJSON_ArrayForEach (it, o) {
			if (out->nsubs == RC_SUBS_MAX) {
				out->dropped++;
				continue;
			}
			read_subscription(&x, it, &out->subs[out->nsubs++]);
		}
	if ((o = member(&x, sub, "non_subscriptions")) != NULL)
		cJSON_ArrayForEach (arr, o) {
			if (!cJSON_IsArray(arr)) {
				jr_bad(&x, "non_subscriptions: expected arrays of purchases");
				break;
			}
			cJSON_ArrayForEach (it, arr) {
				if (out->npurchases == RC_PURCHASES_MAX) {
					out->dropped++;
					continue;
				}
				read_purchase(&x, arr->string, it,
				    &out->purchases[out->npurchases++]);
			}
		}
	if ((o = member(&x, sub, "entitlements")) != NULL)
		cJSON_ArrayForEach (it, o) {
			if (out->nents == RC_ENTS_MAX) {
				out->dropped++;
				continue;
			}
			read_entitlement(&x, it, &out->ents[out->nents++]);
		}
out:
	cJSON_Delete(root);
	return x.bad ? TERR_INVAL : TERR_OK;
}

/* RevenueCat's error document {"code":7243,"message":"..."}: its message, for people. */
static void
error_message(const struct buf *body, char *out, size_t size)
{
	cJSON *root = NULL;
	const char *jwhy, *m;

	out[0] = '\0';
	if (json_parse(buf_cstr(body), body->len, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK)
		return;
	if ((m = jstr(root, "message")) != NULL)
		snprintf(out, size, ": %.160s", m);
	cJSON_Delete(root);
}

enum terr
revenuecat_subscriber(const struct cfg *c, const char *app_user_id, struct rc_subscriber *out,
    long *retry_after, char *why, size_t whysize)
{
	char urlbuf[URL_MAX + 3 * ID_MAX + 32], auth[SECRET_MAX + 32], msg[192];
	const char *headers[3];
	struct httpc_req req;
	struct httpc_resp resp;
	struct buf url;
	size_t blen = strlen(c->revenuecat.api_base);
	enum terr rc;

	*retry_after = -1;
	if (c->revenuecat.api_key[0] == '\0') {
		snprintf(why, whysize, "REVENUECAT_API_KEY is not set");
		return TERR_CONFIG;
	}
	if (app_user_id[0] == '\0' || strlen(app_user_id) >= ID_MAX) {
		snprintf(why, whysize, "app user id empty or too long");
		return TERR_INVAL;
	}
	while (blen > 0 && c->revenuecat.api_base[blen - 1] == '/')
		blen--;
	buf_init_fixed(&url, urlbuf, sizeof(urlbuf));
	buf_append(&url, c->revenuecat.api_base, blen);
	buf_puts(&url, "/v1/subscribers/");
	httpc_escape(&url, app_user_id);
	/* "Authorization: Bearer <api_key>" (api-v1.yaml securitySchemes); wiped after use. */
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->revenuecat.api_key);
	headers[0] = auth;
	headers[1] = "Accept: application/json";
	headers[2] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = "GET";
	req.url = buf_cstr(&url);
	req.headers = headers;
	httpc_resp_init(&resp, HTTPC_BODY_MAX);
	rc = url.err != TERR_OK ? TERR_TOOBIG : httpc_do(&c->http, &req, &resp, why, whysize);
	crypto_wipe(auth, sizeof(auth));
	if (url.err != TERR_OK)
		snprintf(why, whysize, "the URL of the request is too long");
	if (rc != TERR_OK)
		goto out;
	error_message(&resp.body, msg, sizeof(msg));
	switch (resp.status) {
	case 200:
	case 201:
		rc = revenuecat_subscriber_parse(buf_cstr(&resp.body), resp.body.len, out, why,
		    whysize);
		out->created = resp.status == 201;
		break;
	case 404:
		snprintf(why, whysize, "RevenueCat answered 404%s", msg);
		rc = TERR_NOTFOUND;
		break;
	case 429:
		*retry_after = resp.retry_after;
		if (resp.retry_after >= 0)
			snprintf(why, whysize,
			    "RevenueCat answered 429 (rate limited, retry after %ld s)%s",
			    resp.retry_after, msg);
		else
			snprintf(why, whysize, "RevenueCat answered 429 (rate limited)%s", msg);
		rc = TERR_BUSY;
		break;
	case 401:
	case 403:
		snprintf(why, whysize, "RevenueCat refused the API key (%ld)%s", resp.status, msg);
		rc = TERR_AUTH;
		break;
	default:
		snprintf(why, whysize, "RevenueCat answered %ld%s", resp.status, msg);
		rc = TERR_IO;
	}
out:
	httpc_resp_release(&resp);
	return rc;
}
