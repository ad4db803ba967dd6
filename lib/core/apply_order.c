/*
 * apply: what tally sells itself. Orders issued for the direct providers
 * (the amount and currency from the catalog) and the payments that settle
 * them (invariant 4: captured, the same amount and currency, the order the
 * user's, pending and not expired); plans that tally runs (bought from a
 * direct provider or from the credit balance: started or extended by their
 * period). What their payments grant is apply_money.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/money.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/apply_kpi.h"
#include "core/apply_money.h"
#include "core/apply_order.h"
#include "core/ledger.h"
#include "core/provider.h"
#include "core/sub.h"
#include "crypto/crypto.h"
#include "store/store_credits.h"
#include "store/store_orders.h"
#include "store/store_rows.h"

/*
 * The order an event speaks of: by tally's id when the event names one (and
 * then its provider ref, if the event has one too, must be the order's:
 * TERR_CONFLICT otherwise), by the provider's ref only when it names no id.
 */
static enum terr
find_order(struct actx *a, const struct bev *e, struct order_row *ord)
{
	enum terr rc;

	if (e->order.id[0] != '\0') {
		if ((rc = store_order_get(a->s, e->order.id, ord)) != TERR_OK)
			return rc;
		if (e->order.provider_ref[0] != '\0' &&
		    strcmp(ord->provider_ref, e->order.provider_ref) != 0)
			return TERR_CONFLICT;
		return TERR_OK;
	}
	if (e->order.provider_ref[0] != '\0')
		return store_order_find_ref(a->s, e->provider, e->order.provider_ref, ord);
	return TERR_NOTFOUND;
}

enum terr
ap_order_user(struct actx *a, struct bev *e)
{
	struct order_row ord;
	enum terr rc;

	if (!(e->aspects & BEV_ORDER) || e->user[0] != '\0')
		return TERR_OK;
	rc = find_order(a, e, &ord);
	if (rc == TERR_OK)
		text_copy(e->user, sizeof(e->user), ord.user);
	return rc == TERR_NOTFOUND || rc == TERR_CONFLICT ? TERR_OK : rc;
}

/*
 * The event's payment in the provider's words, for a reason: "cryptobot
 * invoice 528", "razorpay order order_Ab", else "telegram payment <charge>".
 */
static void
payment_words(const struct bev *e, char *out, size_t size)
{
	const struct bev_order *m = &e->order;

	if (m->provider_ref[0] != '\0')
		snprintf(out, size, "%s %s %.64s", e->provider, provider_ref_noun(e->provider),
		    m->provider_ref);
	else
		snprintf(out, size, "%s payment %.64s", e->provider,
		    m->charge_id[0] != '\0' ? m->charge_id : "(no charge id)");
}

enum terr
ap_order_unmatched(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct bev_order *m = &e->order;
	const char *noun = provider_ref_noun(e->provider);
	struct order_row named, byref;
	char what[ID_MAX + 48], also[2 * ID_MAX + USER_ID_MAX + 48] = "";
	int have_named = 0, have_ref = 0;
	enum terr rc;

	payment_words(e, what, sizeof(what));
	if (m->id[0] != '\0') {
		if ((rc = store_order_get(a->s, m->id, &named)) != TERR_OK && rc != TERR_NOTFOUND)
			return rc;
		have_named = rc == TERR_OK;
	}
	if (m->provider_ref[0] != '\0') {
		rc = store_order_find_ref(a->s, e->provider, m->provider_ref, &byref);
		if (rc != TERR_OK && rc != TERR_NOTFOUND)
			return rc;
		have_ref = rc == TERR_OK && !(have_named && strcmp(byref.id, named.id) == 0);
	}
	/* The order the provider's ref was made for, when it is not the one named. */
	if (have_ref)
		snprintf(also, sizeof(also), "; %s %.64s is order %.64s's (user %.64s)", noun,
		    m->provider_ref, byref.id, byref.user);
	/* Filed under the user whose order it names (else whose order the ref is), for support. */
	if (o->user[0] == '\0' && (have_named || have_ref))
		text_copy(o->user, sizeof(o->user), have_named ? named.user : byref.user);
	if (have_named && strcmp(named.provider, e->provider) != 0)
		return ap_fail(o,
		    "order mismatch: %s names order %s (user %s), which was made for %s, not %s%s: "
		    "nothing granted",
		    what, named.id, named.user, named.provider, e->provider, also);
	if (have_named && m->provider_ref[0] != '\0' &&
	    strcmp(named.provider_ref, m->provider_ref) != 0) {
		if (named.provider_ref[0] == '\0')
			return ap_fail(o,
			    "order mismatch: %s names order %s (user %s), which has no %s %s "
			    "recorded%s: nothing granted",
			    what, named.id, named.user, e->provider, noun, also);
		return ap_fail(o,
		    "order mismatch: %s names order %s (user %s), which was made with %s %.64s%s: "
		    "nothing granted",
		    what, named.id, named.user, noun, named.provider_ref, also);
	}
	if (have_named) /* found after all (not reached through apply: ap_order_user finds it) */
		return ap_fail(o, "order %s (user %s) cannot be paid by %s: nothing granted",
		    named.id, named.user, what);
	if (m->id[0] != '\0')
		return ap_fail(o,
		    "unknown order: %s names order %.64s, which tally never issued%s: "
		    "nothing granted",
		    what, m->id, also);
	if (have_ref) /* found after all, as above */
		return ap_fail(o, "order %s (user %s) cannot be paid by %s: nothing granted",
		    byref.id, byref.user, what);
	if (m->provider_ref[0] != '\0')
		return ap_fail(o,
		    "unknown order: %s is not one tally issued (no order of tally's was made with "
		    "it): nothing granted",
		    what);
	return ap_fail(o, "unknown order: %s names no order: nothing granted", what);
}

/* The catalog price of product p in currency, or 0 when it has none. */
static int64_t
price_of(const struct product *p, const char *currency)
{
	size_t i;

	for (i = 0; i < p->nprices; i++)
		if (strcmp(p->prices[i].currency, currency) == 0)
			return p->prices[i].amount;
	return 0;
}

enum terr
ap_apply_order_new(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct bev_order *n = &e->order;
	const struct product *p;
	struct order_row ord, cur;
	char object[ID_MAX + 8], detail[256], amount[MONEY_TEXT_SIZE], want[MONEY_TEXT_SIZE];
	char t1[TM_ISO_SIZE];
	int64_t price;
	enum terr rc;

	snprintf(object, sizeof(object), "order:%s", n->id);
	if (n->canceled) {
		/* 1: never made at the provider (canceled); 2: not paid in time (expired). */
		if ((rc = store_order_get(a->s, n->id, &cur)) == TERR_NOTFOUND) {
			ap_outcome_set(o, INBOX_FAILED,
			    "%s names order %s, which tally never issued", e->type, n->id);
			return TERR_OK;
		}
		if (rc != TERR_OK)
			return rc;
		if (cur.state != ORDER_PENDING) {
			ap_note(o, "order %s is %s: left as it is", n->id,
			    order_state_str(cur.state));
			return TERR_OK;
		}
		if (n->canceled == 2 && cur.expires_at > a->now) {
			ap_outcome_set(o, INBOX_IGNORED,
			    "order %s has not expired: it expires at %s", n->id,
			    ap_iso(cur.expires_at, t1));
			return TERR_OK;
		}
		cur.state = n->canceled == 2 ? ORDER_EXPIRED : ORDER_CANCELED;
		cur.updated_at = a->now;
		if ((rc = store_order_update(a->s, &cur)) != TERR_OK)
			return rc;
		return ap_audit(a, o, n->canceled == 2 ? "order.expire" : "order.cancel", object,
		    n->canceled == 2 ? "not paid before it expired" : "never made at the provider",
		    e->reason);
	}
	/* Invariant 4: the price is the catalog's, whatever asked for the order. */
	if ((p = cfg_product(a->c, n->product)) == NULL) {
		ap_outcome_set(o, INBOX_UNKNOWN_PRODUCT,
		    "unknown product: %s is not in the catalog", n->product);
		return TERR_OK;
	}
	price = price_of(p, n->currency);
	if (n->amount <= 0 || price != n->amount) {
		money_text(n->amount, n->currency, amount, sizeof(amount));
		if (price > 0) {
			money_text(price, n->currency, want, sizeof(want));
			ap_outcome_set(o, INBOX_FAILED,
			    "order of %s for %s: the catalog's price is %s", p->id, amount, want);
		} else
			ap_outcome_set(o, INBOX_FAILED,
			    "order of %s for %s: the catalog has no price of it in %s", p->id,
			    amount, n->currency);
		return TERR_OK;
	}
	memset(&ord, 0, sizeof(ord));
	text_copy(ord.id, sizeof(ord.id), n->id);
	text_copy(ord.provider, sizeof(ord.provider), n->provider);
	text_copy(ord.user, sizeof(ord.user), o->user);
	text_copy(ord.product, sizeof(ord.product), p->id);
	ord.amount = n->amount;
	text_copy(ord.currency, sizeof(ord.currency), n->currency);
	ord.state = ORDER_PENDING;
	ord.live = e->live;
	text_copy(ord.provider_ref, sizeof(ord.provider_ref), n->provider_ref);
	ord.expires_at = n->expires_at;
	ord.created_at = ord.updated_at = a->now;
	rc = store_order_insert(a->s, &ord);
	if (rc == TERR_DUP) {
		/* The same order again: the provider's ref, once it is made there. */
		if ((rc = store_order_get(a->s, n->id, &cur)) != TERR_OK)
			return rc == TERR_NOTFOUND ? TERR_CONFLICT : rc;
		if (strcmp(cur.user, ord.user) != 0 || strcmp(cur.product, ord.product) != 0 ||
		    cur.amount != ord.amount || strcmp(cur.currency, ord.currency) != 0 ||
		    strcmp(cur.provider, ord.provider) != 0) {
			char have[MONEY_TEXT_SIZE];
			money_text(cur.amount, cur.currency, have, sizeof(have));
			money_text(ord.amount, ord.currency, amount, sizeof(amount));
			ap_outcome_set(o, INBOX_FAILED,
			    "conflict: order %s is %s for user %s, %s through %s; this event says "
			    "%s for user %s, %s through %s",
			    n->id, cur.product, cur.user, have, cur.provider, ord.product, ord.user,
			    amount, ord.provider);
			return TERR_OK;
		}
		if (n->provider_ref[0] == '\0' || strcmp(cur.provider_ref, n->provider_ref) == 0) {
			ap_note(o, "order %s already recorded", n->id);
			return TERR_OK;
		}
		if (cur.provider_ref[0] != '\0') {
			ap_outcome_set(o, INBOX_FAILED,
			    "conflict: order %s is already %s %s at %s, this event says %s", n->id,
			    provider_ref_noun(cur.provider), cur.provider_ref, cur.provider,
			    n->provider_ref);
			return TERR_OK;
		}
		text_copy(cur.provider_ref, sizeof(cur.provider_ref), n->provider_ref);
		cur.updated_at = a->now;
		if ((rc = store_order_update(a->s, &cur)) == TERR_DUP) {
			ap_outcome_set(o, INBOX_FAILED,
			    "conflict: %s %s %s is another order's, not order %s's", cur.provider,
			    provider_ref_noun(cur.provider), n->provider_ref, n->id);
			return TERR_OK;
		}
		if (rc != TERR_OK)
			return rc;
		snprintf(detail, sizeof(detail), "made at %s as %.96s", cur.provider,
		    cur.provider_ref);
		return ap_audit(a, o, "order.update", object, detail, e->reason);
	}
	if (rc != TERR_OK)
		return rc;
	money_text(ord.amount, ord.currency, amount, sizeof(amount));
	snprintf(detail, sizeof(detail), "%s for %s through %s, pending", p->id, amount,
	    ord.provider);
	return ap_audit(a, o, "order.create", object, detail, e->reason);
}

enum terr
ap_run_plan(struct actx *a, const struct bev *e, struct outcome *o, const char *provider,
    const char *ext, const struct product *p, int64_t end, struct subst *ss, int *fresh)
{
	struct sub_row before;
	char object[48], detail[REASON_MAX];
	int64_t start;
	int had_access = 0;
	enum terr rc;

	rc = store_sub_find(a->s, provider, ext, &ss->row);
	if (rc != TERR_OK && rc != TERR_NOTFOUND)
		return rc;
	if (rc == TERR_OK && strcmp(ss->row.user, o->user) != 0) {
		ap_outcome_set(o, INBOX_FAILED,
		    "conflict: subscription %s %s belongs to user %s, the payment is user %s's",
		    provider, ext, ss->row.user, o->user);
		return TERR_OK;
	}
	if (rc == TERR_OK) {
		had_access = sub_has_access(&ss->row, &a->c->policy, a->now);
		before = ss->row;
	}
	/* A plan bought again extends the one running: the new period starts at its end. */
	start = had_access && ss->row.period_end > a->now ? ss->row.period_end : a->now;
	if (end == 0) {
		if (p->period.months == 0 && p->period.ms == 0) {
			ap_outcome_set(o, INBOX_FAILED, "product %s has no period to sell", p->id);
			return TERR_OK;
		}
		end = tm_add_periods(start, &p->period, 1);
	}
	if (end <= a->now) {
		char t1[TM_ISO_SIZE], t2[TM_ISO_SIZE];
		ap_outcome_set(o, INBOX_FAILED, "the period paid for ended at %s, before now (%s)",
		    ap_iso(end, t1), ap_iso(a->now, t2));
		return TERR_OK;
	}
	if (rc == TERR_NOTFOUND) {
		memset(&ss->row, 0, sizeof(ss->row));
		text_copy(ss->row.provider, sizeof(ss->row.provider), provider);
		text_copy(ss->row.ext_id, sizeof(ss->row.ext_id), ext);
		text_copy(ss->row.user, sizeof(ss->row.user), o->user);
		ss->row.live = e->live;
		ss->row.created_at = a->now;
	}
	text_copy(ss->row.product, sizeof(ss->row.product), p->id);
	ss->row.state = SUB_ACTIVE;
	ss->row.period_start = start;
	ss->row.period_end = end;
	ss->row.grace_until = 0;
	ss->row.cancel_at_period_end = 0;
	if (e->at > ss->row.state_at)
		ss->row.state_at = e->at;
	ss->row.state_rank = sub_state_rank(SUB_ACTIVE);
	ss->row.updated_at = a->now;
	snprintf(object, sizeof(object), "subscription:%lld", (long long)ss->row.id);
	if (rc == TERR_NOTFOUND) {
		if ((rc = store_sub_insert(a->s, &ss->row)) != TERR_OK)
			return rc;
		ss->have = ss->created = 1;
		snprintf(object, sizeof(object), "subscription:%lld", (long long)ss->row.id);
		ap_sub_detail(detail, sizeof(detail), NULL, &ss->row);
		if ((rc = ap_audit(a, o, "subscription.create", object, detail, "")) != TERR_OK)
			return rc;
	} else {
		ss->have = ss->dirty = 1;
		ap_sub_detail(detail, sizeof(detail), &before, &ss->row);
		if ((rc = ap_audit(a, o, "subscription.update", object, detail, "")) != TERR_OK)
			return rc;
	}
	o->changed = 1;
	*fresh = !had_access;
	return TERR_OK;
}

enum terr
ap_plan_credits(struct actx *a, struct outcome *o, struct subst *ss, const struct product *p,
    int64_t pay_id, int fresh)
{
	enum terr rc;

	/* The period's credits: SET for a plan that gave no access, RESET for one renewed. */
	if ((rc = ap_grant_plan(a, o, ss, p, pay_id, 0, fresh)) != TERR_OK)
		return rc;
	if (ss->row.period_end > ss->row.credits_through) {
		ss->row.credits_through = ss->row.period_end;
		ss->dirty = 1;
	}
	return TERR_OK;
}

/*
 * The key (subscriptions.ext_id) of plan p bought by user through provider
 * when no provider renews it: "plan", the user and the product as one key
 * (crypto_key), so that no user's plan is another's (user "a:b" with
 * product "c", user "a" with product "b:c"). A plan stored before the parts were
 * escaped keeps the plain join as its key: that row is used when its own
 * user and product are these, so the plan bought again extends it. Into
 * out[ID_MAX]; TERR_TOOBIG when the key does not fit, or a storage error.
 */
static enum terr
plan_ext(struct actx *a, const char *provider, const char *user, const struct product *p, char *out)
{
	char old[ID_MAX];
	struct sub_row r;
	enum terr rc;
	int n;

	if ((rc = crypto_key(out, ID_MAX, "plan", user, p->id, NULL)) != TERR_OK)
		return rc;
	n = snprintf(old, sizeof(old), "plan:%s:%s", user, p->id);
	if (n < 0 || (size_t)n >= sizeof(old) || strcmp(old, out) == 0)
		return TERR_OK;
	if ((rc = store_sub_find(a->s, provider, out, &r)) != TERR_NOTFOUND)
		return rc;
	if ((rc = store_sub_find(a->s, provider, old, &r)) != TERR_OK)
		return rc == TERR_NOTFOUND ? TERR_OK : rc;
	if (strcmp(r.user, user) == 0 && strcmp(r.product, p->id) == 0)
		text_copy(out, ID_MAX, old);
	return TERR_OK;
}

enum terr
ap_apply_order(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct bev_order *m = &e->order;
	const struct product *p;
	struct order_row ord;
	struct pay_row pr;
	struct bev_keys keys;
	struct subst ss;
	char object[48], detail[REASON_MAX + 128], key[ID_MAX + 8], paid[MONEY_TEXT_SIZE],
	    want[MONEY_TEXT_SIZE], ext[ID_MAX + USER_ID_MAX + 8], t1[TM_ISO_SIZE], t2[TM_ISO_SIZE];
	int64_t paid_at;
	int renewal = 0, fresh = 0;
	enum terr rc;

	if ((rc = find_order(a, e, &ord)) == TERR_NOTFOUND || rc == TERR_CONFLICT)
		return ap_order_unmatched(a, e, o);
	if (rc != TERR_OK)
		return rc;
	if (strcmp(ord.provider, e->provider) != 0)
		return ap_fail(o,
		    "order mismatch: a %s payment names order %s (user %s), which was made for %s: "
		    "nothing granted",
		    e->provider, ord.id, ord.user, ord.provider);
	if (strcmp(ord.user, o->user) != 0)
		return ap_fail(o,
		    "order %s belongs to user %s, the payment names user %s: nothing granted",
		    ord.id, ord.user, o->user);
	if (!m->captured) {
		ap_outcome_set(o, INBOX_IGNORED,
		    "payment %s of order %s not captured (the money is not secured yet): nothing "
		    "granted",
		    m->charge_id, ord.id);
		return TERR_OK;
	}
	if (m->charge_id[0] == '\0')
		return ap_fail(o, "payment of order %s without a charge id (its business key)",
		    ord.id);
	/* An amount the provider sent that is none of its currency: refused as malformed, quoted. */
	if (m->amount < 0) {
		money_text(ord.amount, ord.currency, want, sizeof(want));
		return ap_fail(o, "malformed amount: %s; order %s is %s: nothing granted",
		    e->note[0] != '\0' ? e->note : "the amount cannot be read", ord.id, want);
	}
	if (ord.state == ORDER_PAID && strcmp(ord.charge_id, m->charge_id) == 0) {
		ap_note(o, "order %s already paid by this charge: nothing granted again", ord.id);
		return TERR_OK;
	}
	if (ord.state == ORDER_PAID && m->recurring)
		renewal = 1;
	else if (ord.state == ORDER_PAID) {
		snprintf(detail, sizeof(detail),
		    "order %.64s already paid by charge %.64s; charge %.64s refused: refund it",
		    ord.id, ord.charge_id, m->charge_id);
		ap_outcome_set(o, INBOX_FAILED, "%s", detail);
		return TERR_OK;
	} else if (ord.state != ORDER_PENDING)
		return ap_fail(o, "order %s is %s, not pending: charge %s grants nothing", ord.id,
		    order_state_str(ord.state), m->charge_id);
	/* Paid when the provider says (signed), if before now: a late delivery is not a late payment. */
	else if ((paid_at = e->at > 0 && e->at < a->now ? e->at : a->now) > ord.expires_at)
		return ap_fail(o, "order %s expired at %s, before it was paid at %s: refund it",
		    ord.id, ap_iso(ord.expires_at, t1), ap_iso(paid_at, t2));
	if (m->amount != ord.amount || strcmp(m->currency, ord.currency) != 0) {
		money_text(m->amount, m->currency, paid, sizeof(paid));
		money_text(ord.amount, ord.currency, want, sizeof(want));
		snprintf(detail, sizeof(detail),
		    "amount mismatch: paid %s, the order is %s: nothing granted", paid, want);
		ap_outcome_set(o, INBOX_FAILED, "%s", detail);
		return TERR_OK;
	}
	if ((p = cfg_product(a->c, ord.product)) == NULL) {
		ap_outcome_set(o, INBOX_UNKNOWN_PRODUCT,
		    "unknown product: order %s is for %s, which is no longer in the catalog",
		    ord.id, ord.product);
		return TERR_OK;
	}

	/* Invariant 2: a charge recorded once, however many events speak of it. */
	memset(&keys, 0, sizeof(keys));
	bev_key(&keys, m->charge_id);
	snprintf(key, sizeof(key), "order:%s", ord.id);
	if (!renewal)
		bev_key(&keys, key);
	rc = ap_find_payment(a, e, &keys, &pr, o);
	if (rc == TERR_CONFLICT)
		return TERR_OK;
	if (rc == TERR_OK) {
		ap_note(o, "payment already recorded (payment %lld): nothing granted again",
		    (long long)pr.id);
		return TERR_OK;
	}
	if (rc != TERR_NOTFOUND)
		return rc;
	memset(&pr, 0, sizeof(pr));
	text_copy(pr.provider, sizeof(pr.provider), e->provider);
	text_copy(pr.user, sizeof(pr.user), o->user);
	text_copy(pr.product, sizeof(pr.product), p->id);
	pr.kind = p->kind == PRODUCT_PACK ? PAY_ONE_OFF : renewal ? PAY_RENEWAL : PAY_INITIAL;
	pr.amount = m->amount;
	text_copy(pr.currency, sizeof(pr.currency), m->currency);
	pr.live = e->live;
	pr.state = PAY_PAID;
	pr.inbox_id = o->op.inbox_id;
	pr.created_at = a->now;
	memset(&ss, 0, sizeof(ss));
	if (p->kind == PRODUCT_SUBSCRIPTION) {
		/* A plan the provider renews itself is the order's; one bought again extends the same. */
		if (m->period_end != 0)
			snprintf(ext, sizeof(ext), "order:%s", ord.id);
		else if ((rc = plan_ext(a, e->provider, o->user, p, ext)) != TERR_OK) {
			if (rc != TERR_TOOBIG)
				return rc;
			/* Paid and not granted: kept failed, with an alert (invariant 1). */
			ap_outcome_set(o, INBOX_FAILED, "user %s and product %s: plan key too long",
			    o->user, p->id);
			return TERR_OK;
		}
		if ((rc = ap_run_plan(a, e, o, e->provider, ext, p, m->period_end, &ss, &fresh)) !=
			TERR_OK ||
		    o->state != INBOX_APPLIED)
			return rc;
		pr.sub_id = ss.row.id;
	}
	if ((rc = store_pay_insert(a->s, &pr)) != TERR_OK ||
	    (rc = ap_attach_keys(a, e, o, &keys, pr.id)) != TERR_OK)
		return rc;
	if (p->kind == PRODUCT_SUBSCRIPTION)
		ap_kpi_price(&ss.kpi, p, &pr, ss.row.period_start, ss.row.period_end);
	snprintf(object, sizeof(object), "payment:%lld", (long long)pr.id);
	money_text(pr.amount, pr.currency, paid, sizeof(paid));
	snprintf(detail, sizeof(detail), "%s %s for %s (order %.64s, charge %.64s)",
	    pay_kind_str(pr.kind), paid, p->id, ord.id, m->charge_id);
	if ((rc = ap_audit(a, o, "payment.received", object, detail, "")) != TERR_OK)
		return rc;
	if (p->kind == PRODUCT_PACK)
		rc = ap_grant_pack(a, o, p, pr.id, 1);
	else
		rc = ap_plan_credits(a, o, &ss, p, pr.id, fresh);
	if (rc != TERR_OK || (rc = ap_finish_sub(a, o, &ss)) != TERR_OK)
		return rc;
	if (!renewal) {
		ord.state = ORDER_PAID;
		text_copy(ord.charge_id, sizeof(ord.charge_id), m->charge_id);
		ord.pay_id = pr.id;
		ord.updated_at = a->now;
		if ((rc = store_order_update(a->s, &ord)) == TERR_DUP) {
			ap_outcome_set(o, INBOX_FAILED,
			    "conflict: charge %s paid another order already, not order %s",
			    m->charge_id, ord.id);
			return TERR_OK;
		}
		if (rc != TERR_OK)
			return rc;
		snprintf(object, sizeof(object), "order:%.40s", ord.id);
		if ((rc = ap_audit(a, o, "order.paid", object, m->charge_id, "")) != TERR_OK)
			return rc;
	}
	return ap_referral_reward(a, o, pr.id);
}

enum terr
ap_apply_buy(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct product *p;
	struct subst ss;
	char ext[ID_MAX + USER_ID_MAX + 8], object[48], detail[160];
	int64_t price, taken = 0, live = 0;
	int fresh = 0;
	enum terr rc;

	memset(&ss, 0, sizeof(ss));
	if (e->act.sub_id != 0) {
		/* plan.renew: a job renews a plan bought from the balance when its period ends. */
		if ((rc = store_sub_get(a->s, e->act.sub_id, &ss.row)) == TERR_NOTFOUND) {
			ap_outcome_set(o, INBOX_FAILED, "no such subscription %lld",
			    (long long)e->act.sub_id);
			return TERR_OK;
		}
		if (rc != TERR_OK)
			return rc;
		if (strcmp(ss.row.provider, "balance") != 0 || strcmp(ss.row.user, o->user) != 0) {
			ap_outcome_set(o, INBOX_FAILED,
			    "subscription %lld is a %s subscription of user %s, not a balance plan "
			    "of "
			    "user %s",
			    (long long)e->act.sub_id, ss.row.provider, ss.row.user, o->user);
			return TERR_OK;
		}
		if (ss.row.period_end > a->now ||
		    (ss.row.state != SUB_ACTIVE && ss.row.state != SUB_CANCELED)) {
			char t1[TM_ISO_SIZE], t2[TM_ISO_SIZE];
			ap_outcome_set(o, INBOX_IGNORED,
			    "not due: %s until %s (a renewal is due once an active or canceled "
			    "plan's "
			    "period has ended; now %s)",
			    sub_state_str(ss.row.state), ap_iso(ss.row.period_end, t1),
			    ap_iso(a->now, t2));
			return TERR_OK;
		}
		p = cfg_product(a->c, ss.row.product);
	} else
		p = cfg_product(a->c, e->act.name);
	if (p == NULL || p->kind != PRODUCT_SUBSCRIPTION || p->price_credits <= 0) {
		return ap_refuse(o, "not_for_sale", "%s is not a plan sold for credits: %s",
		    p != NULL ? p->id : e->act.name,
		    p == NULL ? "it is not in the catalog"
			: p->kind != PRODUCT_SUBSCRIPTION
			? "the catalog sells it as a pack"
			: "the catalog sets no price_credits for it");
	}
	price = p->price_credits;
	/* Auto-renew off (canceled, or set to end): the plan ends instead. */
	if (e->act.sub_id != 0 && (ss.row.cancel_at_period_end || ss.row.state == SUB_CANCELED)) {
		ss.have = ss.dirty = 1;
		ss.row.state = SUB_EXPIRED;
		ss.row.state_rank = sub_state_rank(SUB_EXPIRED);
		ss.row.updated_at = a->now;
		snprintf(object, sizeof(object), "subscription:%lld", (long long)ss.row.id);
		if ((rc = ap_audit(a, o, "subscription.update", object, "state ->expired",
			 "auto-renew off")) != TERR_OK)
			return rc;
		return ap_finish_sub(a, o, &ss);
	}
	rc = ledger_debit(a->s, &o->op, o->user, price, "spend", 0, &taken);
	if (rc == TERR_SHORT) {
		store_balance_live(a->s, o->user, a->now, &live);
		if (e->act.sub_id == 0) {
			return ap_refuse(o, "insufficient_credits",
			    "insufficient credits: balance %lld, %s costs %lld", (long long)live,
			    p->id, (long long)price);
		}
		/* A renewal the balance cannot pay: the plan ends, and the user is told. */
		ss.have = ss.dirty = 1;
		ss.row.state = SUB_EXPIRED;
		ss.row.state_rank = sub_state_rank(SUB_EXPIRED);
		ss.row.updated_at = a->now;
		snprintf(object, sizeof(object), "subscription:%lld", (long long)ss.row.id);
		snprintf(detail, sizeof(detail),
		    "state ->expired: balance %lld, renewal costs %lld", (long long)live,
		    (long long)price);
		if ((rc = ap_audit(a, o, "subscription.update", object, detail, "")) != TERR_OK ||
		    (rc = ap_notice(a, o, "renewal_failed", ss.row.id, e->id)) != TERR_OK)
			return rc;
		return ap_finish_sub(a, o, &ss);
	}
	if (rc != TERR_OK)
		return rc;
	if ((rc = plan_ext(a, "balance", o->user, p, ext)) == TERR_TOOBIG)
		return ap_refuse(o, "bad_request", "user %s and product %s: plan key too long",
		    o->user, p->id);
	if (rc != TERR_OK)
		return rc;
	if ((rc = ap_run_plan(a, e, o, "balance", ext, p, 0, &ss, &fresh)) != TERR_OK ||
	    o->state != INBOX_APPLIED || (rc = ap_plan_credits(a, o, &ss, p, 0, fresh)) != TERR_OK)
		return rc;
	snprintf(object, sizeof(object), "subscription:%lld", (long long)ss.row.id);
	snprintf(detail, sizeof(detail), "%s of %s for %lld credits",
	    e->act.sub_id != 0 ? "renewal" : "purchase", p->id, (long long)price);
	if ((rc = ap_audit(a, o, e->act.sub_id != 0 ? "plan.renew" : "plan.buy", object, detail,
		 e->reason)) != TERR_OK)
		return rc;
	return ap_finish_sub(a, o, &ss);
}
