/*
 * Razorpay REST API over httpc (PROVIDERS.md 4.5; markdown-docs
 * api/authentication.md, api/orders/create.md, api/orders/fetch-with-id.md,
 * api/payments/fetch-with-id.md, api/payments/subscriptions/
 * create-subscription.md). HTTP Basic with key_id:key_secret; errors are
 * {"error":{"code","description",...}}. Handlers never call this: the
 * checkout library (the API, the CLI) does.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "http/httpc.h"
#include "providers/papi.h"
#include "providers/razorpay/razorpay_api.h"

/* The answer must be an entity: a JSON object with a string id. */
static enum terr
check_entity(const struct buf *body, char *why, size_t whysize)
{
	cJSON *root = NULL;
	const char *jwhy, *id;
	enum terr rc = TERR_OK;

	if (json_parse(buf_cstr(body), body->len, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "Razorpay's answer is not JSON: %s", jwhy);
		return TERR_INVAL;
	}
	if ((id = jstr(root, "id")) == NULL || !text_id_valid(id, ID_MAX - 1)) {
		snprintf(why, whysize, "Razorpay's answer is not an entity with an id");
		rc = TERR_INVAL;
	}
	cJSON_Delete(root);
	return rc;
}

/*
 * A collection ({"entity":"collection","count":N,"items":[entity...]},
 * api/orders/fetch-payments.md): items an array of entities with an id.
 */
static enum terr
check_collection(const struct buf *body, char *why, size_t whysize)
{
	cJSON *root = NULL;
	const cJSON *items, *it;
	const char *jwhy, *kind, *id;
	enum terr rc = TERR_OK;

	if (json_parse(buf_cstr(body), body->len, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "Razorpay's answer is not JSON: %s", jwhy);
		return TERR_INVAL;
	}
	kind = jstr(root, "entity");
	if (kind == NULL || strcmp(kind, "collection") != 0 ||
	    (items = jarr(root, "items")) == NULL)
		rc = TERR_INVAL;
	else
		cJSON_ArrayForEach (it, items)
			if ((id = jstr(it, "id")) == NULL || !text_id_valid(id, ID_MAX - 1))
				rc = TERR_INVAL;
	if (rc != TERR_OK)
		snprintf(why, whysize, "Razorpay's answer is not a collection of entities");
	cJSON_Delete(root);
	return rc;
}

/* method {api_base}/v1/<what>[/<id>[/<tail>]] with body (NULL: none) into out. */
static enum terr
call_tail(const struct cfg *c, const char *method, const char *what, const char *id,
    const char *tail, const struct buf *body, struct buf *out, char *why, size_t whysize)
{
	const struct cfg_razorpay *r = &c->razorpay;
	char pathbuf[3 * ID_MAX + 32];
	struct papi_req q;
	struct httpc_resp resp;
	struct buf path;
	enum terr rc;

	if (r->key_id[0] == '\0' || r->key_secret[0] == '\0') {
		snprintf(why, whysize, "razorpay.key_id or RAZORPAY_KEY_SECRET is not set");
		return TERR_CONFIG;
	}
	buf_init_fixed(&path, pathbuf, sizeof(pathbuf));
	buf_printf(&path, "/v1/%s", what);
	if (id != NULL) {
		buf_putc(&path, '/');
		httpc_escape(&path, id);
	}
	if (tail != NULL)
		buf_printf(&path, "/%s", tail);
	memset(&q, 0, sizeof(q));
	q.who = "Razorpay";
	q.base = r->api_base;
	q.path = buf_cstr(&path);
	q.method = method;
	q.body = body;
	q.basic_user = r->key_id;
	q.basic_pass = r->key_secret;
	httpc_resp_init(&resp, HTTPC_BODY_MAX);
	if (path.err != TERR_OK) {
		snprintf(why, whysize, "the id is too long");
		rc = TERR_TOOBIG;
	} else if ((rc = papi_do(&c->http, &q, &resp, why, whysize)) == TERR_OK &&
	    (rc = papi_status(&q, &resp, "error.description", why, whysize)) == TERR_OK) {
		buf_reset(out);
		buf_append(out, resp.body.p, resp.body.len);
		rc = out->err != TERR_OK ? out->err
		    : tail != NULL       ? check_collection(out, why, whysize)
					 : check_entity(out, why, whysize);
	}
	httpc_resp_release(&resp);
	return rc;
}

/* method {api_base}/v1/<what>[/<id>]: an entity. */
static enum terr
call(const struct cfg *c, const char *method, const char *what, const char *id,
    const struct buf *body, struct buf *out, char *why, size_t whysize)
{
	return call_tail(c, method, what, id, NULL, body, out, why, whysize);
}

/*
 * Finish the entity request opened in w with the notes {"tally_order":
 * order_id, "user_id": user} (how the events find tally's order and user)
 * and POST it to /v1/<what>.
 */
static enum terr
create(const struct cfg *c, const char *what, struct jw *w, const char *order_id, const char *user,
    struct buf *out, char *why, size_t whysize)
{
	jw_key(w, "notes");
	jw_obj(w);
	jw_kstr(w, RZP_NOTE_ORDER, order_id);
	jw_kstr(w, RZP_NOTE_USER, user);
	jw_end(w);
	jw_end(w);
	if (w->b->err != TERR_OK) {
		snprintf(why, whysize, "the %s request is too long", what);
		return TERR_TOOBIG;
	}
	return call(c, "POST", what, NULL, w->b, out, why, whysize);
}

enum terr
razorpay_order_create(const struct cfg *c, const char *order_id, const char *user, int64_t amount,
    const char *currency, struct buf *out, char *why, size_t whysize)
{
	char storage[1024];
	struct buf b;
	struct jw w;

	/* api/orders/create.md: amount in subunits, currency, receipt (at most 40 characters). */
	if (strlen(order_id) > 40) {
		snprintf(why, whysize, "receipt longer than 40 characters");
		return TERR_TOOBIG;
	}
	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kint(&w, "amount", amount);
	jw_kstr(&w, "currency", currency);
	jw_kstr(&w, "receipt", order_id);
	return create(c, "orders", &w, order_id, user, out, why, whysize);
}

enum terr
razorpay_subscription_create(const struct cfg *c, const char *plan_id, const char *order_id,
    const char *user, struct buf *out, char *why, size_t whysize)
{
	char storage[1024];
	struct buf b;
	struct jw w;

	/* create-subscription.md: plan_id and total_count are mandatory. */
	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "plan_id", plan_id);
	jw_kint(&w, "total_count", c->razorpay.subscription_cycles);
	jw_kint(&w, "quantity", 1);
	return create(c, "subscriptions", &w, order_id, user, out, why, whysize);
}

enum terr
razorpay_fetch(const struct cfg *c, const char *what, const char *id, struct buf *out, char *why,
    size_t whysize)
{
	if (!text_id_valid(id, ID_MAX - 1)) {
		snprintf(why, whysize, "invalid id");
		return TERR_INVAL;
	}
	return call(c, "GET", what, id, NULL, out, why, whysize);
}

enum terr
razorpay_order_payments(const struct cfg *c, const char *order_id, struct buf *out, char *why,
    size_t whysize)
{
	if (!text_id_valid(order_id, ID_MAX - 1)) {
		snprintf(why, whysize, "invalid id");
		return TERR_INVAL;
	}
	return call_tail(c, "GET", "orders", order_id, "payments", NULL, out, why, whysize);
}
