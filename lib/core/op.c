#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "core/op.h"
#include "crypto/crypto.h"

int
op_is_source(const char *provider)
{
	return strcmp(provider, OP_OPERATOR) == 0 || strcmp(provider, OP_APP) == 0 ||
	    strcmp(provider, OP_JOB) == 0;
}

static void
kstr_opt(struct jw *w, const char *k, const char *v)
{
	if (v != NULL)
		jw_kstr(w, k, v);
}

static void
kint_opt(struct jw *w, const char *k, int64_t v)
{
	if (v != 0)
		jw_kint(w, k, v);
}

enum terr
op_build(const struct op_action *a, struct buf *body)
{
	unsigned char rnd[12];
	char id[32] = "op_";
	struct jw w;

	if (a->id == NULL) {
		if (crypto_random_bytes(rnd, sizeof(rnd)) != TERR_OK)
			return TERR_INTERNAL;
		text_hex(rnd, sizeof(rnd), id + 3);
	}
	jw_init(&w, body);
	jw_obj(&w);
	jw_kstr(&w, "id", a->id != NULL ? a->id : id);
	jw_kstr(&w, "action", a->action);
	jw_kstr(&w, "user_id", a->user);
	jw_kint(&w, "amount", a->amount);
	jw_kint(&w, "expires_at", a->expires_at);
	jw_kstr(&w, "reason", a->reason != NULL ? a->reason : "");
	jw_kstr(&w, "operator", a->operator_);
	jw_kint(&w, "at", a->at);
	if (a->link_provider != NULL) {
		jw_key(&w, "link");
		jw_obj(&w);
		jw_kstr(&w, "provider", a->link_provider);
		jw_kstr(&w, "kind", a->link_kind);
		jw_kstr(&w, "id", a->link_id);
		jw_end(&w);
	}
	kint_opt(&w, "sub_id", a->sub_id);
	kstr_opt(&w, "state", a->state);
	kstr_opt(&w, "name", a->name);
	kint_opt(&w, "ends_at", a->ends_at);
	kstr_opt(&w, "referrer", a->referrer);
	kstr_opt(&w, "request_hash", a->request_hash);
	kstr_opt(&w, "key", a->key);
	kstr_opt(&w, "idempotency_key", a->idem_key);
	if (a->order != NULL) {
		const struct op_order *o = a->order;
		jw_key(&w, "order");
		jw_obj(&w);
		jw_kstr(&w, "id", o->id);
		jw_kstr(&w, "provider", o->provider);
		jw_kstr(&w, "product", o->product);
		jw_kint(&w, "amount", o->amount);
		jw_kstr(&w, "currency", o->currency);
		jw_kint(&w, "expires_at", o->expires_at);
		kstr_opt(&w, "provider_ref", o->provider_ref);
		jw_end(&w);
	}
	jw_end(&w);
	return body->err;
}

/* The parse of one event: the document, the event, and the first failure. */
struct opx {
	const cJSON *root;
	struct bev *e;
	const char *action;
	char *why;
	size_t whysize;
	int bad;
};

static void bad(struct opx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The first refusal of the event, naming the field and what it should have been. */
static void
bad(struct opx *x, const char *fmt, ...)
{
	char what[160];
	va_list ap;

	if (!x->bad) {
		va_start(ap, fmt);
		vsnprintf(what, sizeof(what), fmt, ap);
		va_end(ap);
		snprintf(x->why, x->whysize, "%s event %s: %s", x->e->provider, x->action, what);
	}
	x->bad = 1;
}

/* A string field copied into out; required unless optional. */
static void
str(struct opx *x, const cJSON *o, const char *key, char *out, size_t size, int optional)
{
	const char *v = jstr(o, key);

	out[0] = '\0';
	if (v == NULL) {
		if (!optional)
			bad(x, "missing field %s (a string)", key);
		return;
	}
	if (text_copy(out, size, v) != TERR_OK || (v[0] != '\0' && !text_id_valid(v, size - 1)))
		bad(x, "field %s: %zu bytes, expected text of at most %zu", key, strlen(v),
		    size - 1);
}

static int64_t
num(struct opx *x, const cJSON *o, const char *key, int required)
{
	int64_t v = 0;
	int r = jint(o, key, &v);

	if (r < 0)
		bad(x, "field %s: expected an integer", key);
	else if (r == 0 && required)
		bad(x, "missing field %s (an integer)", key);
	return v;
}

static void
act_credits(struct opx *x, enum credit_op op, enum grant_source source)
{
	struct bev *e = x->e;

	e->aspects |= BEV_CREDIT;
	e->credit.op = op;
	e->credit.amount = num(x, x->root, "amount", 1);
	e->credit.expires_at = num(x, x->root, "expires_at", 0);
	e->credit.source = source;
	if (e->credit.amount <= 0 || e->credit.amount > CREDITS_MAX)
		bad(x, "amount %lld: expected 1 to %lld", (long long)e->credit.amount,
		    (long long)CREDITS_MAX);
}

static void
act_link(struct opx *x, int add)
{
	struct bev *e = x->e;
	const cJSON *l = jobj(x->root, "link");
	const char *lp = jstr(l, "provider"), *lk = jstr(l, "kind"), *li = jstr(l, "id");

	if (lp == NULL || lk == NULL || li == NULL || !text_id_valid(li, ID_MAX - 1) ||
	    text_copy(e->link_provider, sizeof(e->link_provider), lp) != TERR_OK ||
	    bev_link(e, lk, li) != TERR_OK) {
		bad(x, "field link: expected {provider, kind, id} (id up to %d bytes of text)",
		    ID_MAX - 1);
		return;
	}
	e->aspects |= add ? BEV_LINKONLY : BEV_UNLINK;
}

static void
act_order(struct opx *x, int cancel)
{
	struct bev *e = x->e;
	const cJSON *o = jobj(x->root, "order");

	if (o == NULL) {
		bad(x, "missing field order (an object)");
		return;
	}
	e->aspects |= BEV_ORDER_NEW;
	e->order.canceled = cancel;
	str(x, o, "id", e->order.id, sizeof(e->order.id), 0);
	str(x, o, "provider", e->order.provider, sizeof(e->order.provider), 0);
	str(x, o, "product", e->order.product, sizeof(e->order.product), 0);
	str(x, o, "currency", e->order.currency, sizeof(e->order.currency), 0);
	str(x, o, "provider_ref", e->order.provider_ref, sizeof(e->order.provider_ref), 1);
	e->order.amount = num(x, o, "amount", 1);
	e->order.expires_at = num(x, o, "expires_at", 1);
	if (!cancel && e->order.amount <= 0)
		bad(x, "order amount %lld: expected a positive amount", (long long)e->order.amount);
}

/* The action's aspects and fields. */
static void
map(struct opx *x)
{
	struct bev *e = x->e;
	const char *a = x->action;
	char state[24];

#define IS(s) (strcmp(a, s) == 0)
	if (IS("credits.grant"))
		act_credits(x, CREDIT_GRANT, GRANT_ADMIN);
	else if (IS("credits.revoke"))
		act_credits(x, CREDIT_REVOKE, GRANT_ADMIN);
	else if (IS("promo.credits"))
		act_credits(x, CREDIT_GRANT, GRANT_PROMO);
	else if (IS("links.add") || IS("links.remove"))
		act_link(x, IS("links.add"));
	else if (IS("promo.entitlement")) {
		e->aspects |= BEV_ENTITLE;
		str(x, x->root, "name", e->act.name, sizeof(e->act.name), 0);
		e->act.ends_at = num(x, x->root, "ends_at", 0);
	} else if (IS("subscription.set") || IS("subscription.expire")) {
		e->aspects |= BEV_SUBSET;
		e->act.sub_id = num(x, x->root, "sub_id", 1);
		if (IS("subscription.expire"))
			e->act.state = SUB_EXPIRED;
		else {
			str(x, x->root, "state", state, sizeof(state), 0);
			if ((e->act.state = sub_state_parse(state)) == SUB_NONE)
				bad(x,
				    "unknown subscription state \"%.24s\" (expected incomplete, "
				    "trialing, active, canceled, past_due, paused, expired, "
				    "revoked or refunded)",
				    state);
		}
	} else if (IS("user.register")) {
		e->aspects |= BEV_REGISTER;
		e->user_must_exist = 0;
	} else if (IS("credits.spend")) {
		e->aspects |= BEV_SPEND;
		e->credit.op = CREDIT_REVOKE;
		e->credit.amount = num(x, x->root, "amount", 1);
		str(x, x->root, "request_hash", e->act.request_hash, sizeof(e->act.request_hash),
		    0);
		if (e->credit.amount <= 0 || e->credit.amount > CREDITS_MAX)
			bad(x, "amount %lld: expected 1 to %lld", (long long)e->credit.amount,
			    (long long)CREDITS_MAX);
	} else if (IS("trial.start"))
		e->aspects |= BEV_TRIAL;
	else if (IS("referrer.set")) {
		e->aspects |= BEV_REFERRER;
		str(x, x->root, "referrer", e->act.referrer, sizeof(e->act.referrer), 0);
	} else if (IS("order.create") || IS("order.cancel") || IS("order.expire"))
		act_order(x, IS("order.cancel") ? 1 : IS("order.expire") ? 2 : 0);
	else if (IS("plan.buy")) {
		e->aspects |= BEV_BUY;
		str(x, x->root, "name", e->act.name, sizeof(e->act.name), 0);
	} else if (IS("plan.renew")) {
		e->aspects |= BEV_BUY;
		e->act.sub_id = num(x, x->root, "sub_id", 1);
	} else if (IS("credits.reset")) {
		e->aspects |= BEV_RESET;
		e->act.sub_id = num(x, x->root, "sub_id", 1);
		e->act.ends_at = num(x, x->root, "ends_at", 1);
	} else if (IS("allowance.reset"))
		e->aspects |= BEV_ALLOWANCE;
	else if (IS("credits.expire"))
		e->aspects |= BEV_EXPIRE;
	else if (IS("notice")) {
		e->aspects |= BEV_NOTICE;
		str(x, x->root, "name", e->notice, sizeof(e->notice), 0);
		str(x, x->root, "key", e->notice_key, sizeof(e->notice_key), 1);
		e->act.sub_id = num(x, x->root, "sub_id", 0);
		e->act.ends_at = num(x, x->root, "ends_at", 0);
	} else
		bad(x, "unknown action (not one of op.h's)");
#undef IS
}

enum terr
op_parse(const char *source, const char *body, size_t n, struct bev *e, char *why, size_t whysize)
{
	struct opx x = { NULL, e, "?", why, whysize, 0 };
	cJSON *root = NULL;
	const char *jwhy, *action, *who;
	char user[USER_ID_MAX + 1];

	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	if (!op_is_source(source)) {
		snprintf(why, whysize, "not one of tally's own sources: %s", source);
		return TERR_INVAL;
	}
	text_copy(e->provider, sizeof(e->provider), source);
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "%s", jwhy);
		return TERR_INVAL;
	}
	x.root = root;
	if ((action = jstr(root, "action")) == NULL ||
	    text_copy(e->type, sizeof(e->type), action) != TERR_OK) {
		bad(&x, "missing field action (a string)");
		goto out;
	}
	x.action = action;
	str(&x, root, "id", e->id, sizeof(e->id), 0);
	str(&x, root, "user_id", user, sizeof(user), 0);
	str(&x, root, "reason", e->reason, sizeof(e->reason), 1);
	e->at = num(&x, root, "at", 1);
	if ((who = jstr(root, "operator")) == NULL || !text_id_valid(who, 64)) {
		bad(&x, "field operator: expected text of 1 to 64 bytes");
		goto out;
	}
	text_copy(e->user, sizeof(e->user), user);
	if (strcmp(source, OP_OPERATOR) == 0)
		snprintf(e->actor, sizeof(e->actor), "operator:%s", who);
	else
		snprintf(e->actor, sizeof(e->actor), "%s:%s", source, who);
	e->user_must_exist = 1;
	e->atomic = 1;
	map(&x);
out:
	cJSON_Delete(root);
	return x.bad ? TERR_INVAL : TERR_OK;
}

/* The fields of an op body that make the request (op_same_request): all but these. */
static void
drop_sending(cJSON *root)
{
	static const char *const sending[] = { "id", "idempotency_key", "operator", "at",
		"request_hash" };
	size_t i;

	for (i = 0; i < sizeof(sending) / sizeof(sending[0]); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(root, sending[i]);
}

int
op_same_request(const char *a, size_t an, const char *b, size_t bn)
{
	cJSON *ra = NULL, *rb = NULL;
	const char *why;
	int same = 0;

	if (json_parse(a, an, JSON_DEPTH_MAX, &ra, &why) != TERR_OK ||
	    json_parse(b, bn, JSON_DEPTH_MAX, &rb, &why) != TERR_OK || !cJSON_IsObject(ra) ||
	    !cJSON_IsObject(rb))
		goto out;
	drop_sending(ra);
	drop_sending(rb);
	/* Case-sensitive, and members in any order: the same fields with the same values. */
	same = cJSON_Compare(ra, rb, 1) ? 1 : 0;
out:
	cJSON_Delete(ra);
	cJSON_Delete(rb);
	return same;
}

enum terr
op_event(const struct op_action *a, struct buf *body, struct bev *e, char *why, size_t whysize)
{
	enum terr rc;

	buf_reset(body);
	if ((rc = op_build(a, body)) != TERR_OK) {
		snprintf(why, whysize, "cannot build the event: %s", err_str(rc));
		return rc;
	}
	return op_parse(a->source != NULL ? a->source : OP_OPERATOR, buf_cstr(body), body->len, e,
	    why, whysize);
}
