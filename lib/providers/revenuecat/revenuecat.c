/*
 * RevenueCat webhooks: authentication, and reading an event's fields into
 * struct bev (users and their aliases, the store and its catalog name, the
 * subscription, the payment). What each event type means is in
 * revenuecat_map.c; field names and values cite event-types-and-fields.mdx
 * (RevenueCat/docs @bf39a9c).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/money.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "providers/revenuecat/revenuecat.h"
#include "providers/revenuecat/revenuecat_int.h"

enum terr
revenuecat_verify(const struct cfg_revenuecat *c, const char *header, const char **why)
{
	size_t n = strlen(c->auth);

	if (n == 0) {
		*why = "no webhook authorization configured";
		return TERR_CONFIG;
	}
	if (header == NULL || *header == '\0') {
		*why = "missing Authorization header";
		return TERR_AUTH;
	}
	/* Lengths first (only the length can leak), then every byte in constant time. */
	if (strlen(header) != n || !crypto_ct_eq(header, c->auth, n)) {
		*why = "wrong Authorization header";
		return TERR_AUTH;
	}
	return TERR_OK;
}

enum terr
revenuecat_hook_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	*state = NULL;
	return hook_ready(TERR_OK, c->revenuecat.auth[0] != '\0', "REVENUECAT_WEBHOOK_AUTH", why,
	    whysize);
}

enum terr
revenuecat_hook_verify(void *state, const struct cfg *c, const struct hook_req *q, const char **why)
{
	(void)state;
	return revenuecat_verify(&c->revenuecat, q->sig, why);
}

/* --- reading an event --- */

void
rc_note(struct rctx *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->e->note, sizeof(x->e->note), fmt, ap);
	va_end(ap);
}

/* A time in ms since the epoch (the *_ms fields); absent or null: 0. */
int64_t
rc_ms(struct rctx *x, const cJSON *o, const char *key)
{
	int64_t v = 0;
	int r = jint(o, key, &v);

	if (r < 0 || (r > 0 && v < 0)) {
		jr_bad(&x->r, "field %s: expected a time in ms", key);
		return 0;
	}
	return v;
}

/*
 * price_in_purchased_currency (a double: "Can be negative for refunds") in
 * the smallest unit of currency, rounded; absent or null: 0. Recorded, never
 * used to grant: the store charged what it charged.
 */
int64_t
rc_money(struct rctx *x, const cJSON *o, const char *key, const char *currency)
{
	const cJSON *v = jget(o, key);
	int exp = money_exponent(currency), i;
	double d;

	if (v == NULL)
		return 0;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 1e12) {
		jr_bad(&x->r, "field %s: expected a price", key);
		return 0;
	}
	for (d = v->valuedouble, i = 0; i < exp; i++)
		d *= 10;
	if (fabs(d) > 1e15) { /* a crypto asset's 10^-8 units: past what int64 holds exactly */
		jr_bad(&x->r, "field %s: price out of range", key);
		return 0;
	}
	return (int64_t)(d < 0 ? d - 0.5 : d + 0.5);
}

static int
is_anon(const char *id)
{
	return strncmp(id, RC_ANON_PREFIX, sizeof(RC_ANON_PREFIX) - 1) == 0;
}

/* An id usable as a tally user id (README: printable, at most 128 bytes). */
static int
user_ok(const char *id)
{
	return text_id_valid(id, USER_ID_MAX);
}

/*
 * The ids of one person: app_user_id (last seen), original_app_user_id and
 * every alias ("make sure to search both the original_app_user_id and the
 * aliases array"), or TRANSFER's transferred_to. Each becomes a link; the
 * user is the first identified (non-anonymous) one, else the first
 * anonymous one, which is kept until an event names it with an identified
 * id and it is merged into that user. Links that lead to two users are
 * merged only when the event names an identified user: an anonymous id
 * never absorbs an identified user.
 */
void
rc_users(struct rctx *x, const char *const *ids, size_t n)
{
	struct bev *e = x->e;
	const char *anon = NULL, *named = NULL;
	size_t i, pass, skipped = 0;

	for (i = 0; i < n && named == NULL; i++) {
		if (ids[i] == NULL || !user_ok(ids[i]))
			continue;
		if (!is_anon(ids[i]))
			named = ids[i];
		else if (anon == NULL)
			anon = ids[i];
	}
	if (named != NULL || anon != NULL)
		text_copy(e->user, sizeof(e->user), named != NULL ? named : anon);
	e->merge_links = named != NULL;
	/* Identified ids first, so that what does not fit in BEV_LINKS_MAX is anonymous. */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			if (ids[i] == NULL || ids[i][0] == '\0' || is_anon(ids[i]) != (int)pass)
				continue;
			if (strlen(ids[i]) >= ID_MAX || !text_id_valid(ids[i], ID_MAX - 1) ||
			    bev_link(e, RC_LINK_KIND, ids[i]) != TERR_OK)
				skipped++;
		}
	if (skipped > 0)
		rc_note(x, "%zu app user ids not linked (invalid or more than %d)", skipped,
		    BEV_LINKS_MAX);
}

/* The array of strings at key into ids (pointers into the tree); a wrong type is bad. */
size_t
rc_id_array(struct rctx *x, const cJSON *o, const char *key, const char **ids, size_t max)
{
	const cJSON *a = jget(o, key), *it;
	size_t n = 0;

	if (a == NULL)
		return 0;
	if (!cJSON_IsArray(a)) {
		jr_bad(&x->r, "field %s: expected an array of strings", key);
		return 0;
	}
	cJSON_ArrayForEach (it, a) {
		if (!cJSON_IsString(it)) {
			jr_bad(&x->r, "field %s: expected an array of strings", key);
			return 0;
		}
		if (n < max)
			ids[n++] = it->valuestring;
	}
	return n;
}

static void
rc_event_users(struct rctx *x, const cJSON *ev)
{
	const char *ids[RC_IDS_MAX + 2];
	const cJSON *v;
	size_t n = 0;

	if ((v = jget(ev, "app_user_id")) != NULL && !cJSON_IsString(v))
		jr_bad(&x->r, "field app_user_id: expected a string");
	else if (v != NULL)
		ids[n++] = v->valuestring;
	if ((v = jget(ev, "original_app_user_id")) != NULL && !cJSON_IsString(v))
		jr_bad(&x->r, "field original_app_user_id: expected a string");
	else if (v != NULL)
		ids[n++] = v->valuestring;
	n += rc_id_array(x, ev, "aliases", ids + n, RC_IDS_MAX);
	rc_users(x, ids, n);
}

/* store → the catalog's provider name for that store's product ids (bev.match_provider). */
const char *
revenuecat_store_provider(const char *store)
{
	if (strcmp(store, "APP_STORE") == 0 || strcmp(store, "MAC_APP_STORE") == 0)
		return "apple";
	if (strcmp(store, "PLAY_STORE") == 0)
		return "google";
	if (strcmp(store, "STRIPE") == 0)
		return "stripe";
	if (strcmp(store, "AMAZON") == 0)
		return "amazon";
	return "";
}

/*
 * The catalog is matched per store (bev.match_provider, then the catalog's
 * "revenuecat" ids). Google Play products set up since February 2023 are
 * "<subscription_id>:<base_plan_id>": the whole id is matched first; when the
 * catalog has it under neither name, the subscription id alone is tried, so a
 * catalog may list a Play subscription as a whole or each base plan.
 * Returns id, or the subscription id written into sub.
 */
static const char *
play_id(const struct cfg *c, const char *store, const char *id, char *sub, size_t size)
{
	const char *colon;

	if (strcmp(store, "PLAY_STORE") != 0 || (colon = strchr(id, ':')) == NULL ||
	    cfg_match(c, "google", id) != NULL || cfg_match(c, "revenuecat", id) != NULL ||
	    text_copyn(sub, size, id, (size_t)(colon - id)) != TERR_OK)
		return id;
	if (cfg_match(c, "google", sub) != NULL || cfg_match(c, "revenuecat", sub) != NULL)
		return sub;
	return id;
}

const struct product *
revenuecat_product(const struct cfg *c, const char *store, const char *product_id)
{
	const struct product *p = NULL;
	const char *mp = revenuecat_store_provider(store);
	char sub[ID_MAX];

	product_id = play_id(c, store, product_id, sub, sizeof(sub));
	if (mp[0] != '\0')
		p = cfg_match(c, mp, product_id);
	return p != NULL ? p : cfg_match(c, "revenuecat", product_id);
}

static void
product_id(struct rctx *x, const cJSON *ev, char *out, size_t size)
{
	char sub[ID_MAX];

	jr_str(&x->r, ev, "product_id", out, size);
	if (play_id(x->c, x->store, out, sub, sizeof(sub)) == sub)
		text_copy(out, size, sub);
}

/* The subscription and its period as the event states it. */
void
rc_sub_fields(struct rctx *x, const cJSON *ev, enum sub_state st, int cancel)
{
	struct bev *e = x->e;
	char txn[ID_MAX];

	/* The store's original transaction is the subscription across renewals. */
	jr_str(&x->r, ev, "original_transaction_id", e->sub.id, sizeof(e->sub.id));
	if (e->sub.id[0] == '\0') {
		jr_str(&x->r, ev, "transaction_id", txn, sizeof(txn));
		text_copy(e->sub.id, sizeof(e->sub.id), txn);
	}
	product_id(x, ev, e->sub.product, sizeof(e->sub.product));
	e->sub.period_start = rc_ms(x, ev, "purchased_at_ms");
	e->sub.period_end = rc_ms(x, ev, "expiration_at_ms");
	if (e->sub.period_end == 0)
		e->sub.period_start = 0;
	if (st == SUB_TRIALING)
		e->sub.trial_end = e->sub.period_end;
	e->sub.state = st;
	e->sub.cancel_at_period_end = cancel;
	snprintf(e->sub.store, sizeof(e->sub.store), "%.15s", x->store);
	e->rank = sub_state_rank(st);
	e->aspects |= BEV_SUB;
}

int
rc_trial(struct rctx *x)
{
	return strcmp(x->period_type, "TRIAL") == 0;
}

/* Money received: keyed on the store's transaction_id (one per period). */
void
rc_pay_fields(struct rctx *x, const cJSON *ev, enum pay_kind kind)
{
	struct bev *e = x->e;
	char txn[ID_MAX];

	jr_str(&x->r, ev, "transaction_id", txn, sizeof(txn));
	if (bev_key(&e->pay.keys, txn) != TERR_OK)
		jr_bad(&x->r, "field transaction_id: too long");
	e->pay.kind = kind;
	jr_str(&x->r, ev, "currency", e->pay.currency, sizeof(e->pay.currency));
	e->pay.amount = rc_money(x, ev, "price_in_purchased_currency", e->pay.currency);
	if (e->pay.amount < 0)
		e->pay.amount = 0;
	product_id(x, ev, e->pay.product, sizeof(e->pay.product));
	e->pay.period_start = rc_ms(x, ev, "purchased_at_ms");
	e->pay.period_end = rc_ms(x, ev, "expiration_at_ms");
	e->pay.trial = kind == PAY_INITIAL && rc_trial(x);
	e->aspects |= BEV_PAY;
}

/* A promotional grant (RevenueCat dashboard or API): entitlements, no money, no credits. */
int
rc_promotional(struct rctx *x)
{
	return strcmp(x->store, "PROMOTIONAL") == 0 || strcmp(x->period_type, "PROMOTIONAL") == 0;
}

/* environment (purchase_environment on virtual currency events): PRODUCTION or SANDBOX. */
static void
environment(struct rctx *x, const cJSON *ev)
{
	char env[16];

	jr_str(&x->r, ev, "environment", env, sizeof(env));
	if (env[0] == '\0')
		jr_str(&x->r, ev, "purchase_environment", env, sizeof(env));
	/* Absent only on types without a store transaction (TEST, EXPERIMENT_ENROLLMENT, ...). */
	if (env[0] == '\0' || strcmp(env, "PRODUCTION") == 0)
		x->e->live = 1;
	else if (strcmp(env, "SANDBOX") == 0)
		x->e->live = 0;
	else
		jr_bad(&x->r, "field environment: expected PRODUCTION or SANDBOX");
}

enum terr
revenuecat_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize)
{
	struct rctx x;
	const struct rc_type *t;
	const cJSON *ev, *v;
	cJSON *root = NULL;
	const char *jwhy;
	enum terr rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.e = e;
	jr_init(&x.r, why, whysize);
	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	text_copy(e->provider, sizeof(e->provider), "revenuecat");
	if ((rc = json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy)) != TERR_OK) {
		snprintf(why, whysize, "%s", jwhy);
		return TERR_INVAL;
	}
	/* Body: {"api_version": "1.0", "event": {...}} (webhooks.md "Events Format"). */
	ev = jobj(root, "event");
	if (ev == NULL || ((v = jget(root, "api_version")) != NULL && !cJSON_IsString(v))) {
		snprintf(why, whysize, "not a RevenueCat event: no \"event\" object");
		rc = TERR_INVAL;
		goto out;
	}
	jr_str(&x.r, ev, "id", e->id, sizeof(e->id));
	jr_str(&x.r, ev, "type", e->type, sizeof(e->type));
	e->at = rc_ms(&x, ev, "event_timestamp_ms");
	if (!x.r.bad &&
	    (e->id[0] == '\0' || !text_id_valid(e->id, ID_MAX - 1) || e->type[0] == '\0' ||
		e->at <= 0))
		jr_bad(&x.r, "event without id, type or event_timestamp_ms");
	jr_str(&x.r, ev, "store", x.store, sizeof(x.store));
	jr_str(&x.r, ev, "period_type", x.period_type, sizeof(x.period_type));
	environment(&x, ev);
	if (x.r.bad) {
		rc = TERR_INVAL;
		goto out;
	}
	snprintf(e->sub.store, sizeof(e->sub.store), "%.15s", x.store);
	text_copy(e->match_provider, sizeof(e->match_provider), revenuecat_store_provider(x.store));
	/* `tally revenuecat sync` names its operator; RevenueCat's own ids never start so. */
	if (strncmp(e->id, "sync:", 5) == 0 && (v = jobj(ev, "tally_sync")) != NULL &&
	    jstr(v, "operator") != NULL)
		snprintf(e->reason, sizeof(e->reason), "revenuecat sync by operator %s",
		    jstr(v, "operator"));

	t = rc_type_of(e->type);
	if (t->users)
		rc_event_users(&x, ev);
	if (!x.r.bad)
		t->map(&x, ev);
	rc = x.r.bad ? TERR_INVAL : TERR_OK;
out:
	cJSON_Delete(root);
	return rc;
}
