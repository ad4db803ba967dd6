/*
 * apply: money. Payments deduplicated on their business keys (invariant 2),
 * what they grant (a plan's credits, a pack's, the referrer's reward for a
 * referred user's payment), refunds and disputes that take it back (and the
 * order a refunded payment paid), reversals that give it back, and direct
 * credit grants and revokes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/money.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/apply_app.h"
#include "core/apply_kpi.h"
#include "core/apply_money.h"
#include "core/ledger.h"
#include "core/provider.h"
#include "core/sub.h"
#include "store/store_credits.h"
#include "store/store_orders.h"
#include "store/store_rows.h"

/* ------------------------------------------------------------- payments */

enum terr
ap_attach_keys(struct actx *a, const struct bev *e, struct outcome *o, const struct bev_keys *k,
    int64_t pay_id)
{
	size_t i;
	enum terr rc;

	for (i = 0; i < k->n; i++) {
		rc = store_pay_key_insert(a->s, e->provider, k->k[i], pay_id);
		if (rc == TERR_DUP)
			continue;
		if (rc != TERR_OK)
			return rc;
		ap_resolver_add(o, e->provider, "payment", k->k[i]);
	}
	return TERR_OK;
}

/* The payment any of keys belongs to; TERR_CONFLICT (outcome set) when they name two. */
enum terr
ap_find_payment(struct actx *a, const struct bev *e, const struct bev_keys *k, struct pay_row *out,
    struct outcome *o)
{
	struct pay_row pr;
	size_t i;
	int found = 0;
	enum terr rc;

	for (i = 0; i < k->n; i++) {
		rc = store_pay_find_key(a->s, e->provider, k->k[i], &pr);
		if (rc == TERR_NOTFOUND)
			continue;
		if (rc != TERR_OK)
			return rc;
		if (found && pr.id != out->id) {
			ap_outcome_set(o, INBOX_FAILED,
			    "conflict: keys of this event name payments %lld and %lld",
			    (long long)out->id, (long long)pr.id);
			return TERR_CONFLICT;
		}
		*out = pr;
		found = 1;
	}
	return found ? TERR_OK : TERR_NOTFOUND;
}

enum terr
ap_apply_pay(struct actx *a, const struct bev *e, const struct product *p, struct subst *ss,
    struct outcome *o)
{
	struct pay_row pr;
	char object[48], detail[256], paid[MONEY_TEXT_SIZE];
	enum pay_kind kind = e->pay.kind;
	int64_t period_end;
	enum terr rc;

	/* Invariant 2: a second event about one payment grants nothing again. */
	rc = ap_find_payment(a, e, &e->pay.keys, &pr, o);
	if (rc == TERR_CONFLICT)
		return TERR_OK;
	if (rc == TERR_OK) {
		if (strcmp(pr.user, o->user) != 0) {
			ap_outcome_set(o, INBOX_FAILED,
			    "conflict: payment %lld (%s) belongs to user %s, the event is for user "
			    "%s",
			    (long long)pr.id, e->pay.keys.k[0], pr.user, o->user);
			return TERR_OK;
		}
		ap_note(o, "payment already recorded (payment %lld): nothing granted again",
		    (long long)pr.id);
		return ap_attach_keys(a, e, o, &e->pay.keys, pr.id);
	}
	if (rc != TERR_NOTFOUND)
		return rc;
	if (e->pay.keys.n == 0) {
		ap_outcome_set(o, INBOX_FAILED, "payment without a business key");
		return TERR_OK;
	}
	if (p->kind == PRODUCT_PACK)
		kind = PAY_ONE_OFF;
	else if (kind == PAY_ONE_OFF || !ss->have) {
		ap_outcome_set(o, INBOX_FAILED,
		    "payment %s for subscription product %s %s: a subscription's payment must name "
		    "its subscription",
		    e->pay.keys.k[0], p->id,
		    kind == PAY_ONE_OFF ? "is a one-off payment" : "names no subscription");
		return TERR_OK;
	}
	memset(&pr, 0, sizeof(pr));
	text_copy(pr.provider, sizeof(pr.provider), e->provider);
	text_copy(pr.user, sizeof(pr.user), o->user);
	text_copy(pr.product, sizeof(pr.product), p->id);
	pr.sub_id = kind == PAY_ONE_OFF ? 0 : ss->row.id;
	pr.kind = kind;
	pr.amount = e->pay.amount;
	text_copy(pr.currency, sizeof(pr.currency), e->pay.currency);
	pr.live = e->live;
	pr.state = PAY_PAID;
	pr.inbox_id = o->op.inbox_id;
	pr.created_at = a->now;
	if ((rc = store_pay_insert(a->s, &pr)) != TERR_OK)
		return rc;
	if ((rc = ap_attach_keys(a, e, o, &e->pay.keys, pr.id)) != TERR_OK)
		return rc;
	/* A full period's price: the metrics' monthly amount of the subscription (apply_kpi.h). */
	if (kind == PAY_INITIAL || kind == PAY_RENEWAL) {
		int own = e->pay.period_start != 0 && e->pay.period_end > e->pay.period_start;
		ap_kpi_price(&ss->kpi, p, &pr, own ? e->pay.period_start : ss->row.period_start,
		    own ? e->pay.period_end : ss->row.period_end);
	}
	snprintf(object, sizeof(object), "payment:%lld", (long long)pr.id);
	money_text(pr.amount, pr.currency, paid, sizeof(paid));
	snprintf(detail, sizeof(detail), "%s %s for %s (%s)", pay_kind_str(kind), paid, p->id,
	    e->pay.keys.k[0]);
	if ((rc = ap_audit(a, o, "payment.received", object, detail, "")) != TERR_OK)
		return rc;

	if (kind == PAY_ONE_OFF) {
		if ((rc = ap_grant_pack(a, o, p, pr.id, e->pay.quantity)) != TERR_OK)
			return rc;
		return pr.amount > 0 ? ap_referral_reward(a, o, pr.id) : TERR_OK;
	}

	/* A replaced subscription's payment is money received, but its period was superseded. */
	if (ss->replaced) {
		ap_note(o, "payment of a replaced subscription: recorded, no credits");
		return TERR_OK;
	}
	/* Subscription payments: only money actually received grants (invariant 4). */
	period_end = e->pay.period_end != 0 ? e->pay.period_end : ss->row.period_end;
	if (ss->row.trial_end > period_end && e->pay.trial)
		period_end = ss->row.trial_end;
	switch (kind) {
	case PAY_INITIAL:
	case PAY_CHANGE:
		if (ss->row.credits_through != 0) {
			if (kind == PAY_INITIAL)
				ap_note(o, "credits for this subscription were already granted");
			return TERR_OK;
		}
		rc = ap_grant_plan(a, o, ss, p, pr.id, e->pay.trial, 1);
		break;
	case PAY_RENEWAL:
		if (period_end != 0 && period_end <= ss->row.credits_through) {
			ap_note(o, "renewal for a period already granted: no credits");
			return TERR_OK;
		}
		rc = ap_grant_plan(a, o, ss, p, pr.id, e->pay.trial, ss->row.credits_through == 0);
		break;
	default: return TERR_OK;
	}
	if (rc != TERR_OK)
		return rc;
	if (period_end > ss->row.credits_through) {
		ss->row.credits_through = period_end;
		ss->dirty = 1;
	}
	/* A paid plan converts the app-managed trial; a referred user's payment rewards the referrer. */
	if (!e->pay.trial && pr.amount > 0 && strcmp(e->provider, "app") != 0 &&
	    (rc = ap_end_trial(a, o, p->id)) != TERR_OK)
		return rc;
	return pr.amount > 0 ? ap_referral_reward(a, o, pr.id) : TERR_OK;
}

/*
 * An alert about the event's money, once per topic and event: the dedup key
 * names the topic and the provider with the event's id (text_key), since the
 * outbox's keys are one namespace and two providers may use one id.
 */
static enum terr
alert(struct actx *a, const struct bev *e, struct outcome *o, const char *topic, const char *text)
{
	char dedup[2 * ID_MAX];

	if (text_key(dedup, sizeof(dedup), "alert", topic, e->provider, e->id, NULL) != TERR_OK)
		return TERR_TOOBIG;
	return ap_alert_text(a, o, topic, dedup, text);
}

enum terr
ap_apply_refund(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct grant_row g[SUB_GRANTS_MAX];
	struct subst ss;
	struct pay_row pr;
	char object[48], detail[256], paid[MONEY_TEXT_SIZE], back[MONEY_TEXT_SIZE];
	int64_t granted = 0, taken = 0, latest = 0;
	size_t n, i;
	enum terr rc;

	rc = ap_find_payment(a, e, &e->refund.keys, &pr, o);
	if (rc == TERR_CONFLICT)
		return TERR_OK;
	if (rc == TERR_NOTFOUND) {
		text_copy(o->orphan_kind, sizeof(o->orphan_kind), "payment");
		text_copy(o->orphan_id, sizeof(o->orphan_id), e->refund.keys.k[0]);
		ap_outcome_set(o, INBOX_ORPHANED, "%s for payment %s, which is not known yet",
		    refund_kind_str(e->refund.kind), e->refund.keys.k[0]);
		return TERR_OK;
	}
	if (rc != TERR_OK)
		return rc;
	if (strcmp(pr.user, o->user) != 0) {
		ap_outcome_set(o, INBOX_FAILED,
		    "conflict: payment %lld (%s) belongs to user %s, the %s is for user %s",
		    (long long)pr.id, e->refund.keys.k[0], pr.user, refund_kind_str(e->refund.kind),
		    o->user);
		return TERR_OK;
	}
	snprintf(object, sizeof(object), "payment:%lld", (long long)pr.id);
	money_text(pr.amount, pr.currency, paid, sizeof(paid));
	if (e->refund.kind == REFUND_PARTIAL) {
		/* The refund is in the payment's currency (the provider refunds what it charged). */
		money_text(e->refund.amount, pr.currency, back, sizeof(back));
		snprintf(detail, sizeof(detail),
		    "partial refund of %s on payment %lld of %s: nothing revoked (only a full "
		    "refund revokes)",
		    back, (long long)pr.id, paid);
		ap_note(o, "%s", detail);
		if ((rc = ap_audit(a, o, "payment.partial_refund", object, detail, "")) !=
			TERR_OK ||
		    (rc = ap_kpi_refund(a, o, &pr, &e->refund)) != TERR_OK)
			return rc;
		return alert(a, e, o, "payment.partial_refund", detail);
	}
	if (pr.state != PAY_PAID) {
		ap_note(o, "payment %lld already %s: nothing revoked again", (long long)pr.id,
		    pay_state_str(pr.state));
		return TERR_OK;
	}
	if (pr.sub_id != 0 && (rc = store_pay_latest_of_sub(a->s, pr.sub_id, &latest)) != TERR_OK)
		return rc;
	if ((rc = store_pay_set_state(a->s, pr.id,
		 e->refund.kind == REFUND_DISPUTE ? PAY_DISPUTED : PAY_REFUNDED)) != TERR_OK ||
	    (rc = ap_kpi_refund(a, o, &pr, &e->refund)) != TERR_OK ||
	    (rc = ap_order_refunded(a, pr.id, o)) != TERR_OK)
		return rc;
	/* Claw back what the payment granted and is still unspent. */
	if ((rc = store_grants_of_pay(a->s, pr.id, g, SUB_GRANTS_MAX, &n)) != TERR_OK)
		return rc;
	for (i = 0; i < n; i++)
		granted += g[i].amount;
	if ((rc = ledger_zero(a->s, &o->op, "clawback", g, n, &taken)) != TERR_OK)
		return rc;
	o->changed = 1;
	snprintf(detail, sizeof(detail),
	    "%s of %s: clawed back %lld of %lld credits granted (the rest was already spent "
	    "or expired)",
	    refund_kind_str(e->refund.kind), paid, (long long)taken, (long long)granted);
	if ((rc = ap_audit(a, o,
		 e->refund.kind == REFUND_DISPUTE ? "payment.disputed" : "payment.refunded", object,
		 detail, "")) != TERR_OK)
		return rc;
	if (e->refund.kind == REFUND_DISPUTE &&
	    (rc = alert(a, e, o, "payment.disputed", detail)) != TERR_OK)
		return rc;
	/* Access goes with the money: a dispute always, a refund of the current period. */
	if (pr.sub_id == 0 || (e->refund.kind != REFUND_DISPUTE && latest != pr.id))
		return TERR_OK;
	memset(&ss, 0, sizeof(ss));
	if ((rc = store_sub_get(a->s, pr.sub_id, &ss.row)) != TERR_OK)
		return rc == TERR_NOTFOUND ? TERR_INTERNAL : rc;
	ss.have = ss.dirty = 1;
	{
		struct sub_row before = ss.row;
		ss.row.state = e->refund.kind == REFUND_DISPUTE ? SUB_REVOKED : SUB_REFUNDED;
		if (e->at > ss.row.state_at)
			ss.row.state_at = e->at;
		ss.row.state_rank = sub_state_rank(ss.row.state);
		ss.row.updated_at = a->now;
		snprintf(object, sizeof(object), "subscription:%lld", (long long)ss.row.id);
		ap_sub_detail(detail, sizeof(detail), &before, &ss.row);
		if ((rc = ap_audit(a, o, "subscription.update", object, detail,
			 "money returned")) != TERR_OK)
			return rc;
	}
	return ap_finish_sub(a, o, &ss);
}

enum terr
ap_apply_alias(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct pay_row pr;
	enum terr rc;

	if (e->alias.n == 0)
		return TERR_OK;
	rc = store_pay_find_key(a->s, e->provider, e->alias.k[0], &pr);
	if (rc == TERR_NOTFOUND) {
		text_copy(o->orphan_kind, sizeof(o->orphan_kind), "payment");
		text_copy(o->orphan_id, sizeof(o->orphan_id), e->alias.k[0]);
		ap_outcome_set(o, INBOX_ORPHANED, "payment %s is not known yet", e->alias.k[0]);
		return TERR_OK;
	}
	if (rc != TERR_OK)
		return rc;
	return ap_attach_keys(a, e, o, &e->alias, pr.id);
}

enum terr
ap_apply_credit(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct grant_row g;
	char object[48], detail[128];
	int64_t live = 0;
	enum terr rc;

	if (e->credit.amount <= 0 || e->credit.amount > CREDITS_MAX) {
		ap_outcome_set(o, INBOX_FAILED, "credit amount %lld: it must be from 1 to %lld",
		    (long long)e->credit.amount, (long long)CREDITS_MAX);
		return TERR_OK;
	}
	if (e->credit.op == CREDIT_REVOKE) {
		int64_t taken = 0;
		rc = ledger_debit(a->s, &o->op, o->user, e->credit.amount, "revoke",
		    e->credit.partial_ok, &taken);
		if (rc == TERR_SHORT) {
			store_balance_live(a->s, o->user, a->now, &live);
			ap_outcome_set(o, INBOX_FAILED,
			    "insufficient credits: balance %lld, revoke %lld", (long long)live,
			    (long long)e->credit.amount);
			return TERR_OK;
		}
		if (rc != TERR_OK)
			return rc;
		if (taken < e->credit.amount)
			snprintf(detail, sizeof(detail),
			    "-%lld of %lld credits (the balance was short)", (long long)taken,
			    (long long)e->credit.amount);
		else
			snprintf(detail, sizeof(detail), "-%lld credits", (long long)taken);
		o->changed = 1;
		return ap_audit(a, o, "credits.revoke", o->user, detail, e->reason);
	}
	memset(&g, 0, sizeof(g));
	text_copy(g.user, sizeof(g.user), o->user);
	g.source = e->credit.source;
	g.amount = e->credit.amount;
	g.expires_at = e->credit.expires_at;
	if ((rc = ledger_grant(a->s, &o->op, &g)) != TERR_OK)
		return rc;
	o->changed = 1;
	snprintf(object, sizeof(object), "grant:%lld", (long long)g.id);
	snprintf(detail, sizeof(detail), "+%lld credits", (long long)g.amount);
	return ap_audit(a, o, "credits.grant", object, detail, e->reason);
}

enum terr
ap_apply_reinstate(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct pay_row pr;
	struct subst ss;
	struct grant_row g;
	char object[48], detail[256];
	int64_t clawed = 0;
	enum terr rc;

	rc = ap_find_payment(a, e, &e->reinstate, &pr, o);
	if (rc == TERR_CONFLICT)
		return TERR_OK;
	if (rc == TERR_NOTFOUND) {
		ap_note(o, "reversal for a payment not known here: nothing to reinstate");
		return TERR_OK;
	}
	if (rc != TERR_OK)
		return rc;
	if (pr.state == PAY_PAID) {
		ap_note(o, "payment %lld was not refunded: nothing to reinstate", (long long)pr.id);
		return TERR_OK;
	}
	if ((rc = store_pay_set_state(a->s, pr.id, PAY_PAID)) != TERR_OK ||
	    (rc = ap_kpi_reversal(a, o, &pr)) != TERR_OK ||
	    (rc = store_clawback_of_pay(a->s, pr.id, &clawed)) != TERR_OK)
		return rc;
	snprintf(object, sizeof(object), "payment:%lld", (long long)pr.id);
	snprintf(detail, sizeof(detail), "%s reversed: %lld credits given back",
	    pay_state_str(pr.state), (long long)clawed);
	if ((rc = ap_audit(a, o, "payment.reinstated", object, detail, "")) != TERR_OK)
		return rc;
	memset(&ss, 0, sizeof(ss));
	if (pr.sub_id != 0) {
		if ((rc = store_sub_get(a->s, pr.sub_id, &ss.row)) != TERR_OK)
			return rc == TERR_NOTFOUND ? TERR_INTERNAL : rc;
		ss.have = 1;
		if (ss.row.state == SUB_REFUNDED || ss.row.state == SUB_REVOKED) {
			struct sub_row before = ss.row;
			/* Back to what the money paid for: the period, if it has not ended. */
			ss.row.state = ss.row.period_end > a->now ? SUB_ACTIVE : SUB_EXPIRED;
			if (e->at > ss.row.state_at)
				ss.row.state_at = e->at;
			ss.row.state_rank = sub_state_rank(ss.row.state);
			ss.row.updated_at = a->now;
			ss.dirty = 1;
			snprintf(object, sizeof(object), "subscription:%lld", (long long)ss.row.id);
			ap_sub_detail(detail, sizeof(detail), &before, &ss.row);
			if ((rc = ap_audit(a, o, "subscription.update", object, detail,
				 "refund reversed")) != TERR_OK)
				return rc;
		}
	}
	if (clawed > 0 && (pr.sub_id == 0 || sub_state_grants_access(ss.row.state))) {
		const struct product *p = cfg_product(a->c, pr.product);
		memset(&g, 0, sizeof(g));
		text_copy(g.user, sizeof(g.user), pr.user);
		g.source = pr.sub_id != 0 ? GRANT_SUBSCRIPTION : GRANT_PACK;
		g.sub_id = pr.sub_id;
		g.pay_id = pr.id;
		text_copy(g.product, sizeof(g.product), pr.product);
		g.amount = clawed;
		if (pr.sub_id != 0 && (p == NULL || p->policy == CREDIT_RESET))
			g.expires_at = sub_access_end(&ss.row, &a->c->policy);
		if ((rc = ledger_grant(a->s, &o->op, &g)) != TERR_OK)
			return rc;
	}
	o->changed = 1;
	return ap_finish_sub(a, o, &ss);
}

enum terr
ap_grant_pack(struct actx *a, struct outcome *o, const struct product *p, int64_t pay_id,
    int64_t quantity)
{
	struct grant_row g;
	char object[48], detail[128];
	enum terr rc;

	if (p->credits <= 0)
		return TERR_OK;
	memset(&g, 0, sizeof(g));
	text_copy(g.user, sizeof(g.user), o->user);
	g.source = GRANT_PACK;
	g.pay_id = pay_id;
	text_copy(g.product, sizeof(g.product), p->id);
	g.amount = p->credits;
	/* Several units of a consumable: several times its credits, within the limit. */
	if (quantity > 1)
		g.amount =
		    quantity > CREDITS_MAX / p->credits ? CREDITS_MAX : p->credits * quantity;
	g.expires_at = p->credits_expire != 0 ? a->now + p->credits_expire : 0;
	if ((rc = ledger_grant(a->s, &o->op, &g)) != TERR_OK)
		return rc;
	o->changed = 1;
	snprintf(object, sizeof(object), "grant:%lld", (long long)g.id);
	snprintf(detail, sizeof(detail), "+%lld credits (pack %s)", (long long)g.amount, p->id);
	return ap_audit(a, o, "credits.grant", object, detail, "");
}

enum terr
ap_order_refunded(struct actx *a, int64_t pay_id, struct outcome *o)
{
	struct order_row ord;
	char object[ID_MAX + 8];
	enum terr rc;

	if ((rc = store_order_of_pay(a->s, pay_id, &ord)) == TERR_NOTFOUND)
		return TERR_OK;
	if (rc != TERR_OK)
		return rc;
	ord.state = ORDER_REFUNDED;
	ord.updated_at = a->now;
	if ((rc = store_order_update(a->s, &ord)) != TERR_OK)
		return rc;
	snprintf(object, sizeof(object), "order:%s", ord.id);
	return ap_audit(a, o, "order.refunded", object, "", "");
}

/* The referral level of a referrer with n paying referrals. */
static int64_t
percent_for(const struct cfg_referrals *r, int64_t n)
{
	int64_t percent = 0, best = -1;
	size_t i;

	for (i = 0; i < r->nlevels; i++)
		if (n >= r->levels[i].min_referrals && r->levels[i].min_referrals > best) {
			best = r->levels[i].min_referrals;
			percent = r->levels[i].percent;
		}
	return percent;
}

enum terr
ap_referral_reward(struct actx *a, struct outcome *o, int64_t pay_id)
{
	const struct cfg_referrals *cr = &a->c->referrals;
	struct user_row buyer;
	struct grant_row g[SUB_GRANTS_MAX], ng;
	struct referral_row rr;
	int64_t buyers = 0, earned = 0, granted = 0, percent, credits;
	char object[48], detail[256];
	size_t n, i;
	int seen = 0;
	enum terr rc;

	/*
	 * A business rule that refuses (no referrer, cap reached) never blocks the
	 * purchase. Test payments reward only where test events are applied at all.
	 */
	if (!cr->enabled)
		return TERR_OK;
	if ((rc = store_user_row(a->s, o->user, &buyer)) != TERR_OK)
		return rc == TERR_NOTFOUND ? TERR_OK : rc;
	if (buyer.referrer[0] == '\0')
		return TERR_OK;
	if ((rc = store_grants_of_pay(a->s, pay_id, g, SUB_GRANTS_MAX, &n)) != TERR_OK)
		return rc;
	for (i = 0; i < n; i++)
		if (g[i].source != GRANT_REFERRAL && strcmp(g[i].user, o->user) == 0)
			granted += g[i].amount;
	if ((rc = store_referral_stats(a->s, buyer.referrer, &buyers, &earned)) != TERR_OK ||
	    (rc = store_referral_has_buyer(a->s, buyer.referrer, o->user, &seen)) != TERR_OK)
		return rc;
	/* The level counts paying referrals, this buyer included. */
	percent = percent_for(cr, seen ? buyers : buyers + 1);
	credits = granted * percent / 100;
	if (cr->cap > 0 && earned + credits > cr->cap)
		credits = cr->cap > earned ? cr->cap - earned : 0;
	if (percent <= 0)
		return TERR_OK;
	memset(&rr, 0, sizeof(rr));
	text_copy(rr.buyer, sizeof(rr.buyer), o->user);
	rr.pay_id = pay_id;
	text_copy(rr.referrer, sizeof(rr.referrer), buyer.referrer);
	rr.percent = percent;
	rr.credits = credits;
	rr.created_at = a->now;
	if (credits > 0) {
		memset(&ng, 0, sizeof(ng));
		text_copy(ng.user, sizeof(ng.user), buyer.referrer);
		ng.source = GRANT_REFERRAL;
		ng.pay_id = pay_id; /* a refund of the purchase takes the reward back too */
		ng.amount = credits;
		if ((rc = ledger_grant(a->s, &o->op, &ng)) != TERR_OK)
			return rc;
		rr.grant_id = ng.id;
	}
	rc = store_referral_insert(a->s, &rr);
	if (rc == TERR_DUP)
		return TERR_INTERNAL; /* the grant above would be a second reward: roll back */
	if (rc != TERR_OK)
		return rc;
	snprintf(object, sizeof(object), "payment:%lld", (long long)pay_id);
	snprintf(detail, sizeof(detail), "referrer %.64s earned %lld credits (%lld%% of %lld)%s",
	    buyer.referrer, (long long)credits, (long long)percent, (long long)granted,
	    credits == 0 && granted > 0 ? ": cap reached" : "");
	return ap_audit(a, o, "referral.reward", object, detail, "");
}
