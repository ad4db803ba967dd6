#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/auth.h"
#include "api/checkout.h"
#include "base/json.h"
#include "base/log.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/op.h"
#include "core/report.h"
#include "crypto/crypto.h"
#include "http/httpc.h"
#include "providers/stripe/stripe_api.h"
#include "store/store_access.h"
#include "store/store_rows.h"

/* One request. */
struct req {
	struct svc *sv;
	struct http_req *r;
	const struct cfg *c;
	char user[USER_ID_MAX + 1];
	cJSON *body;
	char who[40]; /* the API key's id: recorded as the event's operator */
	unsigned scopes;
	int user_token;    /* the user's own token, not a key: answers take the user view */
	struct buf evbody; /* the event's body while it is applied */
	struct bev *e;
	struct apply_result res;
	/*
	 * The id this request's event had before the parts of ids were escaped
	 * (text_key), when it differs: the user or the key holds ':' or '%'.
	 */
	char legacy[ID_MAX];
};

enum terr
api_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	(void)c;
	(void)why;
	(void)whysize;
	*state = NULL;
	httpc_init(); /* checkout calls Stripe and the direct providers */
	return TERR_OK;
}

void
api_fini(void *state)
{
	(void)state;
}

/* The HTTP status of a refusal code of apply (apply_result.code). */
static int
status_of(const char *code)
{
	static const struct {
		const char *code;
		int status;
	} map[] = {
		{ "unknown_user", 404 },
		{ "not_found", 404 },
		{ "unknown_referrer", 404 },
		{ "no_trial", 404 },
		{ "insufficient_credits", 402 },
		{ "trial_used", 409 },
		{ "referrer_set", 409 },
		{ "referral_loop", 409 },
		{ "self_referral", 400 },
		{ "not_for_sale", 400 },
		{ "bad_request", 400 },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i].code, code) == 0)
			return map[i].status;
	return 409;
}

/*
 * The user document: to a key, the same as `tally user show --json`; to the
 * user's own token, its user view (report.h), whatever the route, so a
 * route opened to user tokens can never answer them operators' fields.
 */
static void
reply_user(struct req *q, int status)
{
	struct store *s = svc_store(q->sv);
	struct buf b;

	if (s == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return;
	}
	buf_init(&b, 4 * 1024 * 1024);
	if (store_user_exists(s, q->user) == TERR_NOTFOUND)
		http_error(q->r, 404, "unknown_user", "no such user");
	else if (report_user_json_view(s, q->c, q->user, tm_now_ms(),
		     q->user_token ? REPORT_USER : REPORT_FULL, &b) != TERR_OK)
		http_error(q->r, 503, "storage_unavailable", "the user could not be read");
	else {
		buf_putc(&b, '\n');
		http_reply_json(q->r, status, &b);
	}
	buf_release(&b);
}

/*
 * The stored body of inbox row id into body; TERR_OK, or a storage error.
 * Its user_id, referrer and whether it names its idempotency_key (events
 * made since the parts of ids were escaped do) through the out parameters.
 */
static enum terr
stored_event(struct req *q, int64_t id, struct buf *body, char user[USER_ID_MAX + 1],
    char referrer[USER_ID_MAX + 1], int *has_key)
{
	struct store *s = svc_store(q->sv);
	struct inbox_row row;
	cJSON *root = NULL;
	const char *jwhy, *v;
	enum terr rc;

	user[0] = referrer[0] = '\0';
	*has_key = 0;
	if (s == NULL)
		return TERR_DB;
	if ((rc = store_inbox_get(s, id, &row, body)) != TERR_OK)
		return rc;
	if (json_parse(buf_cstr(body), body->len, JSON_DEPTH_MAX, &root, &jwhy) == TERR_OK) {
		if ((v = jstr(root, "user_id")) != NULL)
			text_copy(user, USER_ID_MAX + 1, v);
		if ((v = jstr(root, "referrer")) != NULL)
			text_copy(referrer, USER_ID_MAX + 1, v);
		*has_key = jget(root, "idempotency_key") != NULL;
	}
	cJSON_Delete(root);
	return TERR_OK;
}

/*
 * Before the parts of ids were escaped, (user "a", key "x:k") and (user
 * "a:x", key "k") made one id, "spend:a:x:k". A request whose id changed
 * with the escaping looks for its own event of before under that old id
 * (q->legacy): one made before (it names no idempotency_key) for this user,
 * and for this referrer if it names one; the old id then holds this
 * request's key, the rest of it. Another user's is none of its business.
 * 1 when found, with q->res as apply's answer for a duplicate; 0 when none;
 * -1 when the store failed (503 sent).
 */
static int
legacy_find(struct req *q, const struct op_action *a)
{
	struct store *s = svc_store(q->sv);
	struct inbox_row row;
	struct buf body;
	char user[USER_ID_MAX + 1], referrer[USER_ID_MAX + 1];
	int found = -1, has_key;
	enum terr rc;

	buf_init(&body, API_BODY_MAX + 4096);
	if (s == NULL)
		goto out;
	if ((rc = store_inbox_find(s, OP_APP, q->legacy, &row)) == TERR_NOTFOUND ||
	    (rc == TERR_OK && row.state != INBOX_APPLIED && row.state != INBOX_IGNORED)) {
		found = 0;
		goto out;
	}
	if (rc != TERR_OK || stored_event(q, row.id, &body, user, referrer, &has_key) != TERR_OK)
		goto out;
	found = !has_key && strcmp(user, q->user) == 0 &&
	    (a->referrer == NULL || strcmp(referrer, a->referrer) == 0);
	if (found) {
		memset(&q->res, 0, sizeof(q->res));
		q->res.inbox_id = row.id;
		q->res.state = row.state;
		q->res.duplicate = 1;
		text_copy(q->res.user, sizeof(q->res.user), row.user);
		text_copy(q->res.reason, sizeof(q->res.reason), row.reason);
	}
out:
	if (found < 0)
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read; retry");
	buf_release(&body);
	return found;
}

/*
 * A request whose event was found done (q->res.duplicate; legacy: found by
 * legacy_find) is answered as the first one only when it is the same
 * request: the same user and every field the same (op_same_request). An
 * event made before the parts of ids were escaped that has this request's
 * new id was another request (its plain parts spell this one's escaped
 * ones) unless the escaping changed nothing. 0 when it is the same request;
 * 1 when the answer was sent (409 idempotency_conflict, or 503).
 */
static int
replay_check(struct req *q, const struct op_action *a, int legacy)
{
	struct buf stored;
	char user[USER_ID_MAX + 1], referrer[USER_ID_MAX + 1];
	int rc = 1, has_key;

	buf_init(&stored, API_BODY_MAX + 4096);
	if (stored_event(q, q->res.inbox_id, &stored, user, referrer, &has_key) != TERR_OK)
		http_error(q->r, 503, "storage_unavailable",
		    "the first request cannot be read; retry");
	else if ((!legacy && a->idem_key != NULL && !has_key && q->legacy[0] != '\0') ||
	    !op_same_request(buf_cstr(&q->evbody), q->evbody.len, buf_cstr(&stored), stored.len))
		http_error(q->r, 409, "idempotency_conflict",
		    "this idempotency_key was used for another request");
	else
		rc = 0;
	buf_release(&stored);
	return rc;
}

/*
 * Apply a (source app, by the key, at now). 0 when it applied, or when it
 * is a replay of the same request; else the answer was sent (503 not
 * committed, the refusal's status and code, or 409 idempotency_conflict).
 */
static int
apply_action(struct req *q, struct op_action *a)
{
	char why[256];
	int found = 0;

	a->source = OP_APP;
	a->operator_ = q->who;
	a->at = q->sv->now;
	a->user = q->user;
	if (op_event(a, &q->evbody, q->e, why, sizeof(why)) != TERR_OK) {
		http_error(q->r, 400, "bad_request", why);
		return 1;
	}
	if (q->legacy[0] != '\0' && (found = legacy_find(q, a)) < 0)
		return 1;
	if (found)
		return replay_check(q, a, 1);
	svc_apply(q->sv, q->e, &q->res);
	if (q->res.err != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "not committed; retry");
		return 1;
	}
	if (q->res.code[0] != '\0') {
		http_error(q->r, status_of(q->res.code), q->res.code, q->res.reason);
		return 1;
	}
	if (q->res.state == INBOX_UNKNOWN_PRODUCT) {
		http_error(q->r, 400, "unknown_product", q->res.reason);
		return 1;
	}
	if (q->res.state == INBOX_FAILED || q->res.state == INBOX_ORPHANED) {
		http_error(q->r, 409, "refused", q->res.reason);
		return 1;
	}
	return q->res.duplicate ? replay_check(q, a, 0) : 0;
}

/* A string field: NULL when absent; *bad when present but not text of 1..max bytes. */
static const char *
field(struct req *q, const char *key, size_t max, int *bad)
{
	const cJSON *v = jget(q->body, key);

	if (v == NULL)
		return NULL;
	if (!cJSON_IsString(v) || !text_id_valid(v->valuestring, max)) {
		*bad = 1;
		return NULL;
	}
	return v->valuestring;
}

/* A time field: RFC 3339 text; 0 when absent. */
static int64_t
time_field(struct req *q, const char *key, int *bad)
{
	const char *s = field(q, key, 40, bad);
	int64_t ms = 0;

	if (s != NULL && tm_parse(s, &ms) != TERR_OK)
		*bad = 1;
	return ms;
}

/*
 * The id of the event of what for the user and key: the three as parts of
 * one text_key, so that no user's key names another user's event (a user id
 * may hold ':'). TERR_TOOBIG when it does not fit in ID_MAX (the app then
 * chooses a shorter key); with digest, never: past ID_MAX the id is a digest
 * of the whole (crypto_key), for keys the app does not choose. The id the
 * same request had before (the parts joined as they are) goes to q->legacy
 * when it differs.
 */
static enum terr
key_id(struct req *q, const char *what, const char *key, int digest, char out[ID_MAX])
{
	enum terr rc = digest ? crypto_key(out, ID_MAX, what, q->user, key, NULL)
			      : text_key(out, ID_MAX, what, q->user, key, NULL);
	int n;

	q->legacy[0] = '\0';
	if (rc != TERR_OK)
		return rc;
	n = snprintf(q->legacy, sizeof(q->legacy), "%s:%s:%s", what, q->user, key);
	if (n < 0 || (size_t)n >= sizeof(q->legacy) || strcmp(q->legacy, out) == 0)
		q->legacy[0] = '\0';
	return TERR_OK;
}

/* An idempotent event's id (key_id), or NULL (a fresh id) without a key; *keyp the key. */
static const char *
idem_id(struct req *q, const char *what, char *out, size_t size, const char **keyp, int *bad)
{
	const char *key = field(q, "idempotency_key", 128, bad);

	*keyp = key;
	if (key == NULL)
		return NULL;
	if (size < ID_MAX || key_id(q, what, key, 0, out) != TERR_OK) {
		*bad = 1;
		return NULL;
	}
	return out;
}

/* --- routes --- */

static void
route_get_user(struct req *q)
{
	reply_user(q, 200);
}

static void
route_register(struct req *q)
{
	struct op_action a;
	char id[ID_MAX];

	memset(&a, 0, sizeof(a));
	snprintf(id, sizeof(id), "register:%s", q->user);
	a.id = id;
	a.action = "user.register";
	if (apply_action(q, &a) == 0)
		reply_user(q, 200);
}

static void
route_spend(struct req *q)
{
	struct op_action a;
	struct store *s;
	struct buf answer;
	unsigned char h[SHA256_LEN];
	char id[ID_MAX], hash[72], old[72], stored[72], num[24];
	char canon[3 * (USER_ID_MAX + REASON_MAX) + 32];
	const char *key, *reason;
	int64_t amount = 0;
	int bad = 0, status = 0;

	key = field(q, "idempotency_key", 128, &bad);
	reason = field(q, "reason", 256, &bad);
	if (jint(q->body, "amount", &amount) != 1 || amount <= 0 || amount > CREDITS_MAX || bad ||
	    key == NULL) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"amount\": 1..1000000000, \"idempotency_key\": \"...\", "
		    "\"reason\": "
		    "\"...\"}");
		return;
	}
	if (key_id(q, "spend", key, 0, id) != TERR_OK) {
		http_error(q->r, 400, "bad_request", "idempotency_key too long");
		return;
	}
	/*
	 * The same key with another request is refused (409): the request is
	 * hashed, the user with it, in a form where no two requests meet.
	 */
	snprintf(num, sizeof(num), "%lld", (long long)amount);
	if (text_key(canon, sizeof(canon), q->user, num, reason != NULL ? reason : "", NULL) !=
	    TERR_OK) {
		http_error(q->r, 400, "bad_request", "reason too long");
		return;
	}
	crypto_sha256(canon, strlen(canon), h);
	text_hex(h, SHA256_LEN, hash);
	/* The hash answers stored before the user was in it (amount, reason) carry. */
	snprintf(canon, sizeof(canon), "%lld\n%s", (long long)amount, reason != NULL ? reason : "");
	crypto_sha256(canon, strlen(canon), h);
	text_hex(h, SHA256_LEN, old);
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.idem_key = key;
	a.action = "credits.spend";
	a.amount = amount;
	a.reason = reason;
	a.request_hash = hash;
	if (apply_action(q, &a) != 0)
		return;
	if ((s = svc_store(q->sv)) == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the answer cannot be read; retry");
		return;
	}
	buf_init(&answer, 4096);
	/*
	 * The answer of this request: its own hash; or, for a replay that
	 * apply_action found to be the same request (user, amount, reason), the
	 * hash of before.
	 */
	if (store_answer_get(s, q->res.inbox_id, stored, &status, &answer) != TERR_OK)
		http_error(q->r, 503, "storage_unavailable", "the answer cannot be read; retry");
	else if (strcmp(stored, hash) != 0 && !(q->res.duplicate && strcmp(stored, old) == 0))
		http_error(q->r, 409, "idempotency_conflict",
		    "this idempotency_key was used for another request");
	else {
		buf_putc(&answer, '\n');
		http_reply_json(q->r, status, &answer);
	}
	buf_release(&answer);
}

static void
route_trial(struct req *q)
{
	struct op_action a;

	memset(&a, 0, sizeof(a));
	a.action = "trial.start";
	if (apply_action(q, &a) == 0)
		reply_user(q, 200);
}

static void
route_promotion(struct req *q)
{
	struct op_action a;
	char id[ID_MAX];
	const char *ent, *reason;
	int64_t credits = 0, until;
	int bad = 0, has_credits;

	memset(&a, 0, sizeof(a));
	ent = field(q, "entitlement", CFG_NAME_MAX - 1, &bad);
	reason = field(q, "reason", 256, &bad);
	has_credits = jget(q->body, "credits") != NULL;
	if (has_credits &&
	    (jint(q->body, "credits", &credits) != 1 || credits <= 0 || credits > CREDITS_MAX))
		bad = 1;
	until = time_field(q, ent != NULL ? "ends_at" : "expires_at", &bad);
	a.id = idem_id(q, "promo", id, sizeof(id), &a.idem_key, &bad);
	if (bad || reason == NULL || (ent == NULL) == (has_credits == 0) ||
	    (until != 0 && until <= q->sv->now)) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"credits\": N, \"expires_at\": TIME} or {\"entitlement\": NAME, "
		    "\"ends_at\": TIME}, with a \"reason\" (times RFC 3339, after now)");
		return;
	}
	a.reason = reason;
	if (ent != NULL) {
		a.action = "promo.entitlement";
		a.name = ent;
		a.ends_at = until;
	} else {
		a.action = "promo.credits";
		a.amount = credits;
		a.expires_at = until;
	}
	if (apply_action(q, &a) == 0)
		reply_user(q, 200);
}

static void
route_links(struct req *q)
{
	static const char *const providers[] = { "stripe", "apple", "revenuecat", "razorpay",
		"telegram", "cryptobot", NULL };
	struct op_action a;
	const char *provider, *kind, *id;
	size_t i;
	int bad = 0;

	provider = field(q, "provider", PROVIDER_MAX - 1, &bad);
	kind = field(q, "kind", KIND_MAX - 1, &bad);
	id = field(q, "id", ID_MAX - 1, &bad);
	for (i = 0; provider != NULL && providers[i] != NULL; i++)
		if (strcmp(providers[i], provider) == 0)
			break;
	if (bad || provider == NULL || kind == NULL || id == NULL || providers[i] == NULL) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"provider\": "
		    "\"stripe|apple|revenuecat|razorpay|telegram|cryptobot\", "
		    "\"kind\": \"customer|app_account_token|app_user_id|user|...\", \"id\": "
		    "\"...\"}");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.action = "links.add";
	a.link_provider = provider;
	a.link_kind = kind;
	a.link_id = id;
	if (apply_action(q, &a) == 0)
		reply_user(q, 200);
}

static void
route_referrer(struct req *q)
{
	struct op_action a;
	char id[ID_MAX];
	const char *referrer;
	int bad = 0;

	referrer = field(q, "referrer", USER_ID_MAX, &bad);
	if (bad || referrer == NULL) {
		http_error(q->r, 400, "bad_request", "expected {\"referrer\": USER_ID}");
		return;
	}
	memset(&a, 0, sizeof(a));
	/* The same referrer again is a retry; another is refused (set once). */
	if (key_id(q, "referrer", referrer, 1, id) != TERR_OK) {
		http_error(q->r, 400, "bad_request", "user id and referrer too long together");
		return;
	}
	a.id = id;
	a.action = "referrer.set";
	a.referrer = referrer;
	if (apply_action(q, &a) == 0)
		reply_user(q, 200);
}

static void
route_plans(struct req *q)
{
	struct op_action a;
	char id[ID_MAX];
	const char *product;
	int bad = 0;

	memset(&a, 0, sizeof(a));
	product = field(q, "product", CFG_NAME_MAX - 1, &bad);
	a.id = idem_id(q, "plan", id, sizeof(id), &a.idem_key, &bad);
	if (bad || product == NULL) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"product\": CATALOG_ID, \"idempotency_key\": \"...\"}");
		return;
	}
	a.action = "plan.buy";
	a.name = product;
	if (apply_action(q, &a) == 0)
		reply_user(q, 200);
}

/* A Stripe session: a checkout says whether it is a subscription, as the direct providers' do. */
static void
reply_session(struct req *q, const char *provider, const struct stripe_session *ss, int checkout)
{
	struct buf b;
	struct jw w;

	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "provider", provider);
	jw_kstr(&w, "id", ss->id);
	jw_kstr(&w, "url", ss->url);
	if (checkout)
		jw_kbool(&w, "subscription", ss->subscription);
	jw_end(&w);
	buf_putc(&b, '\n');
	http_reply_json(q->r, 200, &b);
	buf_release(&b);
}

/* checkout_ctx.apply: one of tally's own actions through the writer. */
static enum terr
checkout_apply(void *arg, const struct op_action *a, struct apply_result *res)
{
	struct req *q = arg;
	char why[256];
	enum terr rc;

	if ((rc = op_event(a, &q->evbody, q->e, why, sizeof(why))) != TERR_OK) {
		memset(res, 0, sizeof(*res));
		res->err = rc;
		return rc;
	}
	svc_apply(q->sv, q->e, res);
	return res->err;
}

static void
checkout_ctx_init(struct req *q, struct checkout_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->cfg = q->c;
	x->store = svc_store(q->sv);
	x->source = OP_APP;
	x->who = q->who;
	x->apply = checkout_apply;
	x->arg = q;
}

/* A purchase through a direct provider: tally's order first, then the provider's. */
static void
checkout_direct(struct req *q, const char *provider, const char *product)
{
	struct checkout_ctx x;
	struct checkout_result out;
	struct buf b;
	struct jw w;
	char why[256];
	enum terr rc;

	checkout_ctx_init(q, &x);
	rc = checkout_start(&x, provider, q->user, product, q->sv->now, &out, why, sizeof(why));
	if (rc != TERR_OK && out.provider_failed) {
		/* The provider's fault, never the app's request: a gateway error. */
		if (rc == TERR_CONFIG)
			http_error(q->r, 503, "not_configured", why);
		else
			http_error(q->r, 502,
			    rc == TERR_IO         ? "provider_unavailable"
				: rc == TERR_AUTH ? "provider_refused"
						  : "provider_error",
			    why);
		return;
	}
	switch (rc) {
	case TERR_OK: break;
	case TERR_NOTFOUND: http_error(q->r, 400, "unknown_product", why); return;
	case TERR_INVAL: http_error(q->r, 400, "bad_request", why); return;
	case TERR_CONFIG: http_error(q->r, 503, "not_configured", why); return;
	case TERR_CONFLICT: http_error(q->r, 409, "refused", why); return;
	case TERR_IO: http_error(q->r, 502, "provider_unavailable", why); return;
	case TERR_AUTH: http_error(q->r, 502, "provider_refused", why); return;
	default: http_error(q->r, 503, "storage_unavailable", why); return;
	}
	buf_init(&b, 8192);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "provider", out.provider);
	jw_kstr(&w, "order_id", out.order_id);
	jw_kstr(&w, "product", out.product);
	jw_kint(&w, "amount", out.amount);
	jw_kstr(&w, "currency", out.currency);
	jw_ktime(&w, "expires_at", out.expires_at);
	jw_kstr(&w, "provider_ref", out.provider_ref[0] ? out.provider_ref : NULL);
	jw_kbool(&w, "subscription", out.subscription);
	jw_kstr(&w, "url", out.url[0] ? out.url : NULL);
	jw_kstr(&w, "key_id", out.key_id[0] ? out.key_id : NULL);
	jw_end(&w);
	buf_putc(&b, '\n');
	http_reply_json(q->r, 200, &b);
	buf_release(&b);
}

/* Razorpay Checkout's callback: verified with Razorpay, then applied like its webhook. */
static void
route_checkout_verify(struct req *q)
{
	struct checkout_ctx x;
	struct checkout_rzp_callback cb;
	struct checkout_refusal ref;
	const char *provider;
	int bad = 0;
	enum terr rc;

	provider = field(q, "provider", PROVIDER_MAX - 1, &bad);
	memset(&cb, 0, sizeof(cb));
	cb.order_id = field(q, "razorpay_order_id", ID_MAX - 1, &bad);
	cb.subscription_id = field(q, "razorpay_subscription_id", ID_MAX - 1, &bad);
	cb.payment_id = field(q, "razorpay_payment_id", ID_MAX - 1, &bad);
	cb.signature = field(q, "razorpay_signature", 128, &bad);
	if (bad || provider == NULL || strcmp(provider, "razorpay") != 0) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"provider\": \"razorpay\", \"razorpay_order_id\" or "
		    "\"razorpay_subscription_id\", \"razorpay_payment_id\", "
		    "\"razorpay_signature\"}");
		return;
	}
	checkout_ctx_init(q, &x);
	memset(&ref, 0, sizeof(ref));
	rc = checkout_razorpay_verify(&x, q->user, &cb, q->sv->now, &q->evbody, q->e, &ref);
	if (rc != TERR_OK) {
		http_error(q->r, ref.status != 0 ? ref.status : 503,
		    ref.code != NULL ? ref.code : "storage_unavailable", ref.message);
		return;
	}
	svc_apply(q->sv, q->e, &q->res);
	if (q->res.err != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "not committed; retry");
		return;
	}
	if (q->res.state != INBOX_APPLIED && q->res.state != INBOX_IGNORED) {
		http_error(q->r, 409, "refused", q->res.reason);
		return;
	}
	reply_user(q, 200);
}

static void
route_checkout(struct req *q)
{
	const struct product *p = NULL;
	struct stripe_session ss;
	struct store *s;
	char why[256], customer[ID_MAX] = "";
	const char *product, *provider;
	struct link_row links[32];
	size_t n = 0, i;
	int bad = 0, portal = 0;
	enum terr rc;

	product = field(q, "product", CFG_NAME_MAX - 1, &bad);
	provider = field(q, "provider", PROVIDER_MAX - 1, &bad);
	if (jbool(q->body, "portal", &portal) < 0)
		bad = 1;
	if (bad || provider == NULL || (product == NULL && !portal) ||
	    (product != NULL && (p = cfg_product(q->c, product)) == NULL)) {
		http_error(q->r, 400,
		    product != NULL && !bad && p == NULL ? "unknown_product" : "bad_request",
		    "expected {\"provider\": \"stripe\", \"product\": CATALOG_ID} or "
		    "{\"provider\": "
		    "\"stripe\", \"portal\": true}");
		return;
	}
	if (strcmp(provider, "razorpay") == 0 || strcmp(provider, "telegram") == 0 ||
	    strcmp(provider, "cryptobot") == 0) {
		if (product == NULL) {
			http_error(q->r, 400, "bad_request", "a direct checkout needs a product");
			return;
		}
		if ((s = svc_store(q->sv)) == NULL ||
		    (rc = store_user_exists(s, q->user)) != TERR_OK) {
			http_error(q->r, s == NULL || rc != TERR_NOTFOUND ? 503 : 404,
			    s == NULL || rc != TERR_NOTFOUND ? "storage_unavailable"
							     : "unknown_user",
			    "no such user");
			return;
		}
		checkout_direct(q, provider, product);
		return;
	}
	if (strcmp(provider, "stripe") != 0) {
		http_error(q->r, 400, "unsupported_provider",
		    "checkout through this provider is not available");
		return;
	}
	if ((s = svc_store(q->sv)) == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return;
	}
	if ((rc = store_user_exists(s, q->user)) != TERR_OK) {
		http_error(q->r, rc == TERR_NOTFOUND ? 404 : 503,
		    rc == TERR_NOTFOUND ? "unknown_user" : "storage_unavailable",
		    rc == TERR_NOTFOUND ? "no such user" : "the database cannot be read");
		return;
	}
	/* A Stripe customer already linked to the user: the session (and the portal) use it. */
	if (store_links_of(s, q->user, links, 32, &n) == TERR_OK)
		for (i = 0; i < n; i++)
			if (strcmp(links[i].provider, "stripe") == 0 &&
			    strcmp(links[i].kind, "customer") == 0) {
				text_copy(customer, sizeof(customer), links[i].ext_id);
				break;
			}
	if (portal) {
		if (customer[0] == '\0') {
			http_error(q->r, 409, "no_customer",
			    "the user has no Stripe customer yet: start a checkout first");
			return;
		}
		rc = stripe_portal_session(q->c, customer, &ss, why, sizeof(why));
	} else
		rc = stripe_checkout_session(q->c, q->user, p, customer, &ss, why, sizeof(why));
	if (rc == TERR_CONFIG)
		http_error(q->r, 503, "not_configured", why);
	else if (rc == TERR_IO)
		http_error(q->r, 502, "provider_unavailable", why);
	else if (rc != TERR_OK)
		http_error(q->r, 502, "provider_refused", why);
	else
		reply_session(q, "stripe", &ss, !portal);
}

/* --- /metrics --- */

struct mctx {
	struct buf *b;
	char last[64];
};

static void
metric_line(void *arg, const char *name, const char *labels, int64_t value)
{
	struct mctx *m = arg;
	const char *type = strstr(name, "_bucket") != NULL || strstr(name, "_sum") != NULL ||
		strstr(name, "_count") != NULL
	    ? "histogram"
	    : "counter";
	char base[64];
	size_t n = strlen(name);

	text_copy(base, sizeof(base), name);
	if (strcmp(type, "histogram") == 0) {
		const char *suffix = strrchr(name, '_');
		n = suffix != NULL ? (size_t)(suffix - name) : n;
		text_copyn(base, sizeof(base), name, n);
	}
	if (strcmp(base, m->last) != 0) {
		buf_printf(m->b, "# TYPE %s %s\n", base, type);
		text_copy(m->last, sizeof(m->last), base);
	}
	buf_printf(m->b, "%s%s%s%s %lld\n", name, labels[0] ? "{" : "", labels,
	    labels[0] ? "}" : "", (long long)value);
}

static void
gauge_line(void *arg, const char *gauge, const char *a, const char *b, int64_t n)
{
	struct mctx *m = arg;

	if (strcmp(gauge, "inbox") == 0)
		buf_printf(m->b, "tally_inbox_attention{provider=\"%s\",state=\"%s\"} %lld\n", a, b,
		    (long long)n);
	else
		buf_printf(m->b, "tally_outbox{kind=\"%s\",state=\"%s\"} %lld\n", a, b,
		    (long long)n);
}

static void
route_metrics(struct req *q)
{
	struct store *s = svc_store(q->sv);
	struct job_row jobs[32];
	struct mctx m;
	struct buf b;
	size_t n = 0, i;

	if (s == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return;
	}
	buf_init(&b, 1024 * 1024);
	memset(&m, 0, sizeof(m));
	m.b = &b;
	buf_puts(&b, "# TYPE tally_inbox_attention gauge\n# TYPE tally_outbox gauge\n");
	if (store_gauges(s, gauge_line, &m) != TERR_OK ||
	    store_metrics_each(s, metric_line, &m) != TERR_OK ||
	    store_jobs_list(s, jobs, 32, &n) != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "metrics cannot be read");
		buf_release(&b);
		return;
	}
	buf_puts(&b, "# TYPE tally_job_last_success_timestamp_seconds gauge\n");
	for (i = 0; i < n; i++)
		buf_printf(&b, "tally_job_last_success_timestamp_seconds{job=\"%s\"} %lld\n",
		    jobs[i].name, (long long)(jobs[i].last_success_at / 1000));
	http_reply(q->r, 200, "text/plain; version=0.0.4", "", buf_cstr(&b), b.len);
	buf_release(&b);
}

/* --- routing --- */

static const struct route {
	const char *method;
	const char *action; /* after /v1/users/{id}: "" for the user itself */
	unsigned scope;     /* the key scope it needs (admin has every scope) */
	int jwt;            /* a user token may call it */
	void (*fn)(struct req *q);
} routes[] = {
	{ "GET", "", AUTH_READ, 1, route_get_user },
	{ "POST", "", AUTH_ADMIN, 0, route_register },
	{ "POST", "spend", AUTH_SPEND, 0, route_spend },
	{ "POST", "trial", AUTH_ADMIN, 0, route_trial },
	{ "POST", "promotions", AUTH_ADMIN, 0, route_promotion },
	{ "POST", "links", AUTH_ADMIN, 0, route_links },
	{ "POST", "referrer", AUTH_ADMIN, 0, route_referrer },
	{ "POST", "plans", AUTH_ADMIN, 0, route_plans },
	{ "POST", "checkout", AUTH_ADMIN, 0, route_checkout },
	{ "POST", "checkout/verify", AUTH_ADMIN, 0, route_checkout_verify },
};

/* Credentials for route (and user): 0, or the answer was sent (401 / 403 / 503). */
static int
authorize(struct req *q, unsigned scope, int jwt_ok)
{
	const char *authz = http_header(q->r, "Authorization"), *why = "";
	struct store *s;
	struct key_row k;
	enum terr rc;

	if (jwt_ok && authz != NULL && !auth_is_key(authz)) {
		rc = auth_jwt_check(&q->c->api, authz, q->user, q->sv->now, &why);
		if (rc == TERR_OK) {
			text_copy(q->who, sizeof(q->who), "user");
			q->user_token = 1;
			return 0;
		}
		http_error(q->r, 401, "unauthorized", why);
		log_msg(LOG_WARN, "refused user token", why);
		return 1;
	}
	if ((s = svc_store(q->sv)) == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return 1;
	}
	rc = auth_key_check(s, authz, &k, &q->scopes, &why);
	if (rc == TERR_AUTH) {
		http_error(q->r, 401, "unauthorized", why);
		log_msg(LOG_WARN, "refused API key", why);
		return 1;
	}
	if (rc != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "credentials cannot be checked");
		return 1;
	}
	if (!(q->scopes & (scope | AUTH_ADMIN))) {
		char msg[96];
		snprintf(msg, sizeof(msg), "this key lacks the %s scope",
		    scope == AUTH_READ        ? "read"
			: scope == AUTH_SPEND ? "spend"
					      : "admin");
		http_error(q->r, 403, "forbidden", msg);
		log_msg(LOG_WARN, "refused API key: scope", k.id);
		return 1;
	}
	text_copy(q->who, sizeof(q->who), k.id);
	return 0;
}

/* Read and parse a POST's JSON object body; 0, or the answer was sent. */
static int
read_body(struct req *q)
{
	const char *jwhy = NULL;
	int status;

	if ((status = http_read_body(q->r, API_BODY_MAX)) != 0) {
		http_error(q->r, status, status == 413 ? "body_too_large" : "bad_body", q->r->why);
		return 1;
	}
	if (q->r->body.len == 0) {
		q->body = cJSON_CreateObject();
		return q->body == NULL;
	}
	if (json_parse(q->r->body.p, q->r->body.len, 8, &q->body, &jwhy) != TERR_OK ||
	    !cJSON_IsObject(q->body)) {
		http_error(q->r, 400, "malformed_json",
		    jwhy != NULL ? jwhy : "expected a JSON object");
		return 1;
	}
	return 0;
}

void
api_serve(void *state, struct svc *sv, struct http_req *r)
{
	struct req q;
	char path[512], *rest, *slash;
	const char *method = http_method(r), *action;
	size_t i;
	int method_known = 0;

	(void)state;
	memset(&q, 0, sizeof(q));
	q.sv = sv;
	q.r = r;
	q.c = sv->cfg;
	http_path(r, path, sizeof(path));
	if (strcmp(path, "/metrics") == 0) {
		text_copy(sv->label, sizeof(sv->label), "metrics");
		if (strcmp(method, "GET") != 0)
			http_error_h(r, 405, "Allow: GET\r\n", "method_not_allowed", "use GET");
		else if (authorize(&q, AUTH_ADMIN, 0) == 0)
			route_metrics(&q);
		return;
	}
	if (strncmp(path, "/v1/users/", 10) != 0 || path[10] == '\0') {
		http_error(r, 404, "not_found", "no such endpoint");
		return;
	}
	rest = path + 10;
	if ((slash = strchr(rest, '/')) != NULL) {
		*slash = '\0';
		action = slash + 1;
	} else
		action = "";
	if (!text_id_valid(rest, USER_ID_MAX)) {
		http_error(r, 404, "not_found", "no such endpoint");
		return;
	}
	text_copy(q.user, sizeof(q.user), rest);
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].action, action) != 0)
			continue;
		method_known = 1;
		if (strcmp(routes[i].method, method) == 0)
			break;
	}
	if (i == sizeof(routes) / sizeof(routes[0])) {
		if (method_known)
			http_error_h(r, 405,
			    action[0] == '\0' ? "Allow: GET, POST\r\n" : "Allow: POST\r\n",
			    "method_not_allowed", "method not allowed here");
		else
			http_error(r, 404, "not_found", "no such endpoint");
		return;
	}
	snprintf(sv->label, sizeof(sv->label), "%s %s", method,
	    action[0] != '\0' ? action : "user");
	if (authorize(&q, routes[i].scope, routes[i].jwt) != 0)
		return;
	if (strcmp(method, "POST") == 0) {
		if (read_body(&q) != 0)
			goto out;
		if ((q.e = malloc(sizeof(*q.e))) == NULL) {
			http_error(r, 503, "out_of_memory", "retry");
			goto out;
		}
		buf_init(&q.evbody, API_BODY_MAX + 4096);
	}
	routes[i].fn(&q);
out:
	cJSON_Delete(q.body);
	if (q.e != NULL)
		buf_release(&q.evbody);
	free(q.e);
}
