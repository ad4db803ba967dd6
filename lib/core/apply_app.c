/*
 * apply: tally's own events (op.h). What the app asks through the API
 * (registration and the free tier, spending, the trial, promotions, the
 * referrer), what an operator sets (a subscription's state), and what the
 * jobs do when time passes (credit periods, the free allowance, expiries,
 * ended access). Each is checked again here, inside the transaction, so a
 * job that runs twice at once or an API retry changes nothing twice.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/apply_app.h"
#include "core/apply_sub.h"
#include "core/ledger.h"
#include "core/sub.h"
#include "store/store_access.h"
#include "store/store_credits.h"
#include "store/store_orders.h"
#include "store/store_rows.h"

/* The calendar month of the free allowance. */
static const struct tm_period month = { 1, 0 };

/* The user's free entitlements (source "free"), active or not. */
static enum terr
free_entitlements(struct actx *a, struct outcome *o, int active)
{
	const struct cfg_free_tier *f = &a->c->free_tier;
	struct ent_row er;
	size_t i;
	int changed;
	enum terr rc;

	memset(&er, 0, sizeof(er));
	text_copy(er.user, sizeof(er.user), o->user);
	text_copy(er.source, sizeof(er.source), "free");
	er.active = active;
	er.updated_at = a->now;
	for (i = 0; i < f->nents; i++) {
		text_copy(er.name, sizeof(er.name), f->ents[i]);
		if ((rc = store_ent_set(a->s, &er, &changed)) != TERR_OK)
			return rc;
		o->changed |= changed;
	}
	return TERR_OK;
}

/* A grant of the free tier (source free); expires_at 0: never. */
static enum terr
free_grant(struct actx *a, struct outcome *o, int64_t amount, int64_t expires_at, const char *what)
{
	struct grant_row g;
	char object[48], detail[128];
	enum terr rc;

	if (amount <= 0)
		return TERR_OK;
	memset(&g, 0, sizeof(g));
	text_copy(g.user, sizeof(g.user), o->user);
	g.source = GRANT_FREE;
	g.amount = amount;
	g.expires_at = expires_at;
	if ((rc = ledger_grant(a->s, &o->op, &g)) != TERR_OK)
		return rc;
	o->changed = 1;
	snprintf(object, sizeof(object), "grant:%lld", (long long)g.id);
	snprintf(detail, sizeof(detail), "+%lld credits (%s)", (long long)amount, what);
	return ap_audit(a, o, "credits.grant", object, detail, "");
}

/* Does any subscription of the user give access now (then the free allowance waits)? */
static enum terr
paid_access(struct actx *a, const char *user, int *yes)
{
	struct sub_row subs[32];
	size_t n, i;
	enum terr rc;

	*yes = 0;
	if ((rc = store_subs_of(a->s, user, subs, 32, &n)) != TERR_OK)
		return rc;
	for (i = 0; i < n && !*yes; i++)
		*yes = sub_has_access(&subs[i], &a->c->policy, a->now);
	return TERR_OK;
}

enum terr
ap_apply_register(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct cfg_free_tier *f = &a->c->free_tier;
	int64_t next = 0;
	int paid = 0;
	enum terr rc;

	(void)e;
	rc = store_user_set_registered(a->s, o->user, a->now);
	if (rc == TERR_DUP) {
		ap_note(o, "already registered");
		return TERR_OK;
	}
	if (rc != TERR_OK || (rc = ap_audit(a, o, "user.register", o->user, "", "")) != TERR_OK)
		return rc;
	if (!f->enabled)
		return TERR_OK;
	if ((rc = free_grant(a, o, f->signup_credits, 0, "signup")) != TERR_OK ||
	    (rc = free_entitlements(a, o, 1)) != TERR_OK)
		return rc;
	if (f->monthly_credits <= 0)
		return TERR_OK;
	next = tm_add_periods(a->now, &month, 1);
	if ((rc = store_user_set_free_next(a->s, o->user, next)) != TERR_OK ||
	    (rc = paid_access(a, o->user, &paid)) != TERR_OK)
		return rc;
	return paid ? TERR_OK : free_grant(a, o, f->monthly_credits, next, "monthly allowance");
}

enum terr
ap_apply_allowance(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct cfg_free_tier *f = &a->c->free_tier;
	struct user_row u;
	struct grant_row g[SUB_GRANTS_MAX];
	size_t n, i, k;
	int64_t next, taken = 0;
	int paid = 0;
	enum terr rc;

	(void)e;
	if ((rc = store_user_row(a->s, o->user, &u)) != TERR_OK)
		return rc;
	if (!f->enabled || f->monthly_credits <= 0 || u.free_next_at == 0) {
		ap_outcome_set(o, INBOX_IGNORED, "no free allowance for %s", o->user);
		return TERR_OK;
	}
	if (u.free_next_at > a->now) {
		char t1[TM_ISO_SIZE], t2[TM_ISO_SIZE];
		ap_outcome_set(o, INBOX_IGNORED, "allowance not due before %s (now %s)",
		    ap_iso(u.free_next_at, t1), ap_iso(a->now, t2));
		return TERR_OK;
	}
	/* RESET: last month's unused allowance goes; a new one comes unless a plan gives access. */
	if ((rc = store_grants_live(a->s, o->user, 0, g, SUB_GRANTS_MAX, &n)) != TERR_OK)
		return rc;
	for (i = k = 0; i < n; i++)
		if (g[i].source == GRANT_FREE && g[i].expires_at != 0)
			g[k++] = g[i];
	if ((rc = ledger_zero(a->s, &o->op, "reset", g, k, &taken)) != TERR_OK)
		return rc;
	o->changed |= taken > 0;
	next = tm_next_after(u.free_next_at, &month, a->now);
	if ((rc = store_user_set_free_next(a->s, o->user, next)) != TERR_OK ||
	    (rc = paid_access(a, o->user, &paid)) != TERR_OK)
		return rc;
	if (paid) {
		ap_note(o, "on a paid plan: no free allowance this month");
		return TERR_OK;
	}
	return free_grant(a, o, f->monthly_credits, next, "monthly allowance");
}

enum terr
ap_apply_spend(struct actx *a, const struct bev *e, struct outcome *o)
{
	char body[256], detail[96];
	int64_t taken = 0, balance = 0;
	int status = 200;
	enum terr rc;

	rc = ledger_debit(a->s, &o->op, o->user, e->credit.amount, "spend", 0, &taken);
	if (rc != TERR_OK && rc != TERR_SHORT)
		return rc;
	if ((rc == TERR_SHORT ? store_balance_live(a->s, o->user, a->now, &balance)
			      : store_balance_live(a->s, o->user, a->now, &balance)) != TERR_OK)
		return TERR_DB;
	if (rc == TERR_SHORT) {
		/* Refused, and kept with its answer: the same key gets the same answer. */
		status = 402;
		snprintf(body, sizeof(body),
		    "{\"error\":{\"code\":\"insufficient_credits\",\"message\":\"balance %lld, "
		    "spend %lld\"},\"balance\":%lld}",
		    (long long)balance, (long long)e->credit.amount, (long long)balance);
		ap_outcome_set(o, INBOX_IGNORED, "insufficient credits: balance %lld, spend %lld",
		    (long long)balance, (long long)e->credit.amount);
	} else {
		snprintf(body, sizeof(body), "{\"ok\":true,\"spent\":%lld,\"balance\":%lld}",
		    (long long)taken, (long long)balance);
		snprintf(detail, sizeof(detail), "-%lld credits", (long long)taken);
		o->changed = 1;
		if ((rc = ap_audit(a, o, "credits.spend", o->user, detail, e->reason)) != TERR_OK)
			return rc;
	}
	return store_answer_insert(a->s, o->op.inbox_id, e->act.request_hash, status, body);
}

enum terr
ap_apply_entitle(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct ent_row er;
	char detail[96], when[TM_ISO_SIZE];
	int changed;
	enum terr rc;

	if (e->act.name[0] == '\0' || (e->act.ends_at != 0 && e->act.ends_at <= a->now)) {
		char t1[TM_ISO_SIZE], t2[TM_ISO_SIZE];
		if (e->act.name[0] == '\0')
			return ap_refuse(o, "bad_request",
			    "a promotion needs an entitlement: none was named");
		return ap_refuse(o, "bad_request",
		    "a promotion of %s ending %s: its end must be after now (%s)", e->act.name,
		    ap_iso(e->act.ends_at, t1), ap_iso(a->now, t2));
	}
	memset(&er, 0, sizeof(er));
	text_copy(er.user, sizeof(er.user), o->user);
	text_copy(er.name, sizeof(er.name), e->act.name);
	snprintf(er.source, sizeof(er.source), "promo:%lld", (long long)o->op.inbox_id);
	er.active = 1;
	er.ends_at = e->act.ends_at;
	er.updated_at = a->now;
	if ((rc = store_ent_set(a->s, &er, &changed)) != TERR_OK)
		return rc;
	o->changed = 1;
	snprintf(detail, sizeof(detail), "%s until %s", er.name,
	    er.ends_at != 0 ? ap_iso(er.ends_at, when) : "no end");
	return ap_audit(a, o, "entitlement.grant", er.source, detail, e->reason);
}

enum terr
ap_apply_referrer(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct user_row r;
	char cur[USER_ID_MAX + 1];
	int depth;
	enum terr rc;

	if (strcmp(e->act.referrer, o->user) == 0)
		return ap_refuse(o, "self_referral", "a user cannot refer themselves");
	if ((rc = store_user_row(a->s, e->act.referrer, &r)) == TERR_NOTFOUND)
		return ap_refuse(o, "unknown_referrer", "unknown referrer %s", e->act.referrer);
	if (rc != TERR_OK)
		return rc;
	/* No loops: the referrer's own chain must not lead back to this user. */
	text_copy(cur, sizeof(cur), r.referrer);
	for (depth = 0; cur[0] != '\0' && depth < 64; depth++) {
		if (strcmp(cur, o->user) == 0)
			return ap_refuse(o, "referral_loop",
			    "referral loop: %s is referred through %s", e->act.referrer, o->user);
		if ((rc = store_user_row(a->s, cur, &r)) != TERR_OK)
			return rc == TERR_NOTFOUND ? TERR_OK : rc;
		text_copy(cur, sizeof(cur), r.referrer);
	}
	if (cur[0] != '\0')
		return ap_refuse(o, "referral_loop",
		    "referral chain too long: %s's chain of referrers goes past 64",
		    e->act.referrer);
	rc = store_user_set_referrer(a->s, o->user, e->act.referrer);
	if (rc == TERR_CONFLICT) {
		if ((rc = store_user_row(a->s, o->user, &r)) != TERR_OK)
			return rc;
		return ap_refuse(o, "referrer_set",
		    "the referrer is set once and never changed: %s's is %s, not %s", o->user,
		    r.referrer, e->act.referrer);
	}
	if (rc != TERR_OK)
		return rc;
	return ap_audit(a, o, "referrer.set", o->user, e->act.referrer, e->reason);
}

/* Is the subscription's access over by now (a job's expiry is due)? */
static int
expiry_due(const struct sub_row *r, const struct cfg_policy *pol, int64_t now)
{
	switch (r->state) {
	case SUB_PAST_DUE:
	case SUB_CANCELED: return !sub_has_access(r, pol, now);
	case SUB_TRIALING:
		/* tally's own trial ends at its end; a store's trial waits one leeway for its conversion. */
		return strcmp(r->provider, "app") == 0
		    ? !sub_has_access(r, pol, now)
		    : r->trial_end != 0 && r->trial_end + pol->leeway <= now;
	case SUB_ACTIVE:
		/*
		 * Plans tally runs end with their period (a balance plan one leeway
		 * later: its renewal comes first); a store's wait for its renewal.
		 */
		if (r->period_end == 0)
			return 0;
		if (strcmp(r->provider, "balance") == 0)
			return r->period_end + pol->leeway <= now;
		return (strcmp(r->provider, "app") == 0 || strncmp(r->ext_id, "plan:", 5) == 0) &&
		    r->period_end <= now;
	default: return 0;
	}
}

enum terr
ap_apply_subset(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct subst ss;
	struct sub_row before;
	char object[48], detail[REASON_MAX];
	enum terr rc;

	memset(&ss, 0, sizeof(ss));
	if ((rc = store_sub_get(a->s, e->act.sub_id, &ss.row)) == TERR_NOTFOUND)
		return ap_refuse(o, "not_found", "no such subscription %lld",
		    (long long)e->act.sub_id);
	if (rc != TERR_OK)
		return rc;
	if (strcmp(ss.row.user, o->user) != 0)
		return ap_refuse(o, "not_found", "subscription %lld belongs to %s, not %s",
		    (long long)e->act.sub_id, ss.row.user, o->user);
	if (strcmp(e->provider, "job") == 0 && !expiry_due(&ss.row, &a->c->policy, a->now)) {
		char t1[TM_ISO_SIZE], t2[TM_ISO_SIZE];
		ap_outcome_set(o, INBOX_IGNORED, "not due: %s, access until %s (now %s)",
		    sub_state_str(ss.row.state), ap_iso(sub_access_end(&ss.row, &a->c->policy), t1),
		    ap_iso(a->now, t2));
		return TERR_OK;
	}
	if (ss.row.state == e->act.state) {
		ap_note(o, "already %s", sub_state_str(e->act.state));
		return TERR_OK;
	}
	before = ss.row;
	ss.have = ss.dirty = 1;
	ss.row.state = e->act.state;
	if (ss.row.state != SUB_PAST_DUE)
		ss.row.grace_until = 0;
	else if (ss.row.grace_until == 0)
		ss.row.grace_until = a->now + a->c->policy.grace;
	/*
	 * A provider's later event still wins (invariant 3). An operator's state is
	 * as new as its moment; a job's expiry does not move the state's time at
	 * all, so the provider's own event of a renewal that came late (older than
	 * the job's run, newer than the state it knew) is not taken for stale.
	 */
	if (strcmp(e->provider, "job") != 0 && e->at > ss.row.state_at)
		ss.row.state_at = e->at;
	ss.row.state_rank = sub_state_rank(ss.row.state);
	ss.row.updated_at = a->now;
	o->changed = 1;
	snprintf(object, sizeof(object), "subscription:%lld", (long long)ss.row.id);
	ap_sub_detail(detail, sizeof(detail), &before, &ss.row);
	if ((rc = ap_audit(a, o, "subscription.update", object, detail, e->reason)) != TERR_OK)
		return rc;
	if (ss.row.state == SUB_EXPIRED && strcmp(e->provider, "job") == 0 &&
	    (rc = ap_notice(a, o, before.state == SUB_TRIALING ? "trial_ended" : "expired",
		 ss.row.id, e->id)) != TERR_OK)
		return rc;
	return ap_finish_sub(a, o, &ss);
}

enum terr
ap_apply_trial(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct cfg_trial *t = &a->c->trial;
	const struct product *p;
	struct subst ss;
	char ext[USER_ID_MAX + 8], object[48], detail[REASON_MAX];
	enum terr rc;

	if (!t->enabled)
		return ap_refuse(o, "no_trial",
		    "no trial is offered (config trial is not enabled)");
	if ((p = cfg_product(a->c, t->product)) == NULL)
		return ap_refuse(o, "no_trial",
		    "no trial is offered: config trial.product %s is not in the catalog",
		    t->product);
	rc = store_user_set_trial_used(a->s, o->user, a->now);
	if (rc == TERR_DUP)
		return ap_refuse(o, "trial_used", "the trial was already taken");
	if (rc != TERR_OK)
		return rc;
	memset(&ss, 0, sizeof(ss));
	snprintf(ext, sizeof(ext), "trial:%s", o->user);
	text_copy(ss.row.provider, sizeof(ss.row.provider), "app");
	text_copy(ss.row.ext_id, sizeof(ss.row.ext_id), ext);
	text_copy(ss.row.user, sizeof(ss.row.user), o->user);
	text_copy(ss.row.product, sizeof(ss.row.product), p->id);
	ss.row.state = SUB_TRIALING;
	ss.row.live = 1;
	ss.row.period_start = a->now;
	ss.row.period_end = ss.row.trial_end = a->now + t->duration;
	ss.row.state_at = e->at;
	ss.row.state_rank = sub_state_rank(SUB_TRIALING);
	ss.row.created_at = ss.row.updated_at = a->now;
	if ((rc = store_sub_insert(a->s, &ss.row)) == TERR_DUP)
		return ap_refuse(o, "trial_used", "the trial was already taken");
	if (rc != TERR_OK)
		return rc;
	ss.have = ss.created = 1;
	o->changed = 1;
	snprintf(object, sizeof(object), "subscription:%lld", (long long)ss.row.id);
	ap_sub_detail(detail, sizeof(detail), NULL, &ss.row);
	if ((rc = ap_audit(a, o, "subscription.create", object, detail, "app-managed trial")) !=
		TERR_OK ||
	    (rc = ap_grant_plan(a, o, &ss, p, 0, 1, 1)) != TERR_OK)
		return rc;
	return ap_finish_sub(a, o, &ss);
}

enum terr
ap_end_trial(struct actx *a, struct outcome *o, const char *product)
{
	struct subst ss;
	char ext[USER_ID_MAX + 8], object[48], detail[96];
	enum terr rc;

	snprintf(ext, sizeof(ext), "trial:%s", o->user);
	memset(&ss, 0, sizeof(ss));
	if ((rc = store_sub_find(a->s, "app", ext, &ss.row)) == TERR_NOTFOUND)
		return TERR_OK;
	if (rc != TERR_OK)
		return rc;
	if (ss.row.state != SUB_TRIALING)
		return TERR_OK;
	ss.have = ss.dirty = 1;
	ss.kpi.converted = 1;
	ss.row.state = SUB_EXPIRED;
	ss.row.state_rank = sub_state_rank(SUB_EXPIRED);
	ss.row.updated_at = a->now;
	snprintf(object, sizeof(object), "subscription:%lld", (long long)ss.row.id);
	snprintf(detail, sizeof(detail), "state trialing->expired: converted to %s", product);
	if ((rc = ap_audit(a, o, "subscription.update", object, detail, "")) != TERR_OK)
		return rc;
	return ap_finish_sub(a, o, &ss);
}

enum terr
ap_apply_reset(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct product *p;
	struct subst ss;
	enum terr rc;

	memset(&ss, 0, sizeof(ss));
	if ((rc = store_sub_get(a->s, e->act.sub_id, &ss.row)) == TERR_NOTFOUND)
		return ap_fail(o, "no such subscription %lld", (long long)e->act.sub_id);
	if (rc != TERR_OK)
		return rc;
	if (strcmp(ss.row.user, o->user) != 0)
		return ap_fail(o, "subscription %lld belongs to %s, not %s",
		    (long long)e->act.sub_id, ss.row.user, o->user);
	/* The event names the period it resets: a second runner finds it done. */
	if (ss.row.credits_next_at == 0 || ss.row.credits_next_at != e->act.ends_at ||
	    ss.row.credits_next_at > a->now) {
		char t1[TM_ISO_SIZE], t2[TM_ISO_SIZE], t3[TM_ISO_SIZE];
		if (ss.row.credits_next_at == 0)
			ap_outcome_set(o, INBOX_IGNORED,
			    "credit reset not due: subscription %lld has no reset scheduled, the "
			    "event is for %s",
			    (long long)ss.row.id, ap_iso(e->act.ends_at, t1));
		else
			ap_outcome_set(o, INBOX_IGNORED,
			    "credit reset not due: subscription %lld's next reset is %s, the event "
			    "is "
			    "for %s (now %s)",
			    (long long)ss.row.id, ap_iso(ss.row.credits_next_at, t1),
			    ap_iso(e->act.ends_at, t2), ap_iso(a->now, t3));
		return TERR_OK;
	}
	ss.have = 1;
	p = cfg_product(a->c, ss.row.product);
	if (p == NULL || !sub_has_access(&ss.row, &a->c->policy, a->now)) {
		ss.row.credits_next_at = 0;
		ss.dirty = 1;
		ap_note(o, "no access: no more credit resets");
		return ap_finish_sub(a, o, &ss);
	}
	/* ap_grant_plan RESETS this subscription's credits and schedules the next reset. */
	if ((rc = ap_grant_plan(a, o, &ss, p, 0, ss.row.state == SUB_TRIALING, 0)) != TERR_OK)
		return rc;
	ss.dirty = 1;
	return ap_finish_sub(a, o, &ss);
}

enum terr
ap_apply_expire(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct grant_row g[SUB_GRANTS_MAX];
	char detail[96];
	size_t n, i, k;
	int64_t taken = 0, all = 0;
	enum terr rc;

	(void)e;
	do {
		if ((rc = store_grants_live(a->s, o->user, 0, g, SUB_GRANTS_MAX, &n)) != TERR_OK)
			return rc;
		for (i = k = 0; i < n; i++)
			if (g[i].expires_at != 0 && g[i].expires_at <= a->now)
				g[k++] = g[i];
		if ((rc = ledger_zero(a->s, &o->op, "expire", g, k, &taken)) != TERR_OK)
			return rc;
		all += taken;
	} while (k == SUB_GRANTS_MAX);
	if (all == 0) {
		ap_outcome_set(o, INBOX_IGNORED, "no expired credits");
		return TERR_OK;
	}
	o->changed = 1;
	snprintf(detail, sizeof(detail), "-%lld credits past their expiry", (long long)all);
	return ap_audit(a, o, "credits.expire", o->user, detail, "");
}
