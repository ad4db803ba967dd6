/*
 * RevenueCat webhooks: reading an event's fields into struct bev (users and
 * their aliases, the subscription, the payment), shared by the per-type
 * mappings (revenuecat_map.c) and revenuecat.c. Field names and values cite
 * event-types-and-fields.mdx (RevenueCat/docs @bf39a9c).
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/money.h"
#include "base/text.h"
#include "providers/revenuecat/revenuecat_ids.h"
#include "providers/revenuecat/revenuecat_read.h"

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

/* An id usable as a tally user id (docs/limits.md: printable, at most 128 bytes). */
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
product_id(struct rctx *x, const cJSON *ev, char *out, size_t size)
{
	char sub[ID_MAX];

	jr_str(&x->r, ev, "product_id", out, size);
	if (revenuecat_play_id(x->c, x->store, out, sub, sizeof(sub)) == sub)
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
