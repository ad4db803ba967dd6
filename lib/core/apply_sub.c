/*
 * apply: subscriptions. A subscription's state as of an event (never rolled
 * back by an older one), the plan's credits by policy, and entitlements and
 * period-bound credits that follow its access.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/apply_kpi.h"
#include "core/apply_sub.h"
#include "core/ledger.h"
#include "core/provider.h"
#include "core/sub.h"
#include "store/store_credits.h"
#include "store/store_rows.h"

/* -------------------------------------------------------- subscriptions */

const struct product *
ap_product_of(struct actx *a, const struct bev *e, const char *ext, int is_catalog)
{
	const struct product *p;

	if (ext == NULL || ext[0] == '\0')
		return NULL;
	if (is_catalog)
		return cfg_product(a->c, ext);
	/* A store's id first (RevenueCat reports PLAY_STORE ids), then the provider's own. */
	if (e->match_provider[0] != '\0' && (p = cfg_match(a->c, e->match_provider, ext)) != NULL)
		return p;
	return cfg_match(a->c, e->provider, ext);
}

/* An audit detail: time as RFC 3339, or "-" when unknown. */
const char *
ap_iso(int64_t ms, char out[TM_ISO_SIZE])
{
	if (ms == 0)
		return "-";
	tm_iso(ms, out);
	return out;
}

void
ap_sub_detail(char *out, size_t size, const struct sub_row *before, const struct sub_row *after)
{
	char a[TM_ISO_SIZE], b[TM_ISO_SIZE];

	if (before == NULL)
		snprintf(out, size, "state=%s product=%s period_end=%s",
		    sub_state_str(after->state), after->product, ap_iso(after->period_end, a));
	else
		snprintf(out, size, "state %s->%s product %s->%s period_end %s->%s cancel %d->%d",
		    sub_state_str(before->state), sub_state_str(after->state), before->product,
		    after->product, ap_iso(before->period_end, b), ap_iso(after->period_end, a),
		    before->cancel_at_period_end, after->cancel_at_period_end);
}

/* Whether the event's subscription was replaced by another of its user (SUB_REPLACED_LINK). */
static enum terr
replaced(struct actx *a, const struct bev *e, const struct outcome *o, int *yes)
{
	char u[USER_ID_MAX + 1];
	enum terr rc;

	*yes = 0;
	rc = store_link_find(a->s, e->provider, SUB_REPLACED_LINK, e->sub.id, u);
	if (rc == TERR_NOTFOUND)
		return TERR_OK;
	if (rc == TERR_OK)
		*yes = strcmp(u, o->user) == 0;
	return rc;
}

enum terr
ap_apply_sub(struct actx *a, const struct bev *e, const struct product *p, struct subst *ss,
    struct outcome *o)
{
	struct sub_row before;
	char object[48], detail[REASON_MAX];
	enum sub_state st;
	enum terr rc;
	int newer;

	if ((rc = replaced(a, e, o, &ss->replaced)) != TERR_OK)
		return rc;
	rc = store_sub_find(a->s, e->provider, e->sub.id, &ss->row);
	if (rc != TERR_OK && rc != TERR_NOTFOUND)
		return rc;
	if (rc == TERR_NOTFOUND) {
		st = e->sub.state;
		if (st == SUB_NONE && (e->aspects & BEV_PAY))
			st = e->pay.trial ? SUB_TRIALING : SUB_ACTIVE;
		/* Replaced before it was heard of (the new one's event came first): born ended. */
		if (ss->replaced && st != SUB_NONE) {
			st = SUB_EXPIRED;
			ap_note(o,
			    "subscription %s %s was replaced by a newer one: recorded as expired",
			    e->provider, e->sub.id);
		}
		if (p == NULL || st == SUB_NONE) {
			/* Not known yet and this event cannot create it: wait for the event that can. */
			text_copy(o->orphan_kind, sizeof(o->orphan_kind), "subscription");
			text_copy(o->orphan_id, sizeof(o->orphan_id), e->sub.id);
			ap_outcome_set(o, INBOX_ORPHANED,
			    "subscription %s %s is not known yet and this event does not say "
			    "enough "
			    "to create it",
			    e->provider, e->sub.id);
			return TERR_OK;
		}
		if (p->kind != PRODUCT_SUBSCRIPTION) {
			ap_outcome_set(o, INBOX_FAILED,
			    "subscription %s %s is of %s, which the catalog sells as %s, a pack, "
			    "not "
			    "a subscription",
			    e->provider, e->sub.id,
			    e->sub.product[0] != '\0' ? e->sub.product : e->pay.product, p->id);
			return TERR_OK;
		}
		memset(&ss->row, 0, sizeof(ss->row));
		text_copy(ss->row.provider, sizeof(ss->row.provider), e->provider);
		text_copy(ss->row.ext_id, sizeof(ss->row.ext_id), e->sub.id);
		text_copy(ss->row.user, sizeof(ss->row.user), o->user);
		text_copy(ss->row.product, sizeof(ss->row.product), p->id);
		text_copy(ss->row.store, sizeof(ss->row.store), e->sub.store);
		ss->row.state = st;
		ss->row.live = e->live;
		ss->row.period_start = e->sub.period_start;
		ss->row.period_end = e->sub.period_end;
		ss->row.trial_end = e->sub.trial_end;
		ss->row.grace_until = st == SUB_PAST_DUE ? e->sub.grace_until : 0;
		if (st == SUB_PAST_DUE && ss->row.grace_until == 0)
			ss->row.grace_until = e->at + a->c->policy.grace;
		ss->row.cancel_at_period_end = e->sub.cancel_at_period_end > 0;
		ss->row.state_at = e->at;
		ss->row.state_rank = e->rank;
		ss->row.created_at = ss->row.updated_at = a->now;
		if ((rc = store_sub_insert(a->s, &ss->row)) != TERR_OK)
			return rc;
		ss->have = ss->created = 1;
		o->changed = 1;
		snprintf(object, sizeof(object), "subscription:%lld", (long long)ss->row.id);
		ap_sub_detail(detail, sizeof(detail), NULL, &ss->row);
		if ((rc = ap_audit(a, o, "subscription.create", object, detail, "")) != TERR_OK)
			return rc;
		/* The subscription id finds its user from now on, and resolves orphans waiting for it. */
		rc = store_link_insert(a->s, e->provider, "subscription", e->sub.id, o->user,
		    a->now);
		if (rc != TERR_OK && rc != TERR_DUP)
			return rc;
		ap_resolver_add(o, e->provider, "subscription", e->sub.id);
		return TERR_OK;
	}
	ss->have = 1;
	if (strcmp(ss->row.user, o->user) != 0) {
		ap_outcome_set(o, INBOX_FAILED,
		    "conflict: subscription %s %s belongs to user %s, the event is for user %s",
		    e->provider, e->sub.id, ss->row.user, o->user);
		return TERR_OK;
	}
	/* A replaced subscription ended for good (ap_apply_replaces): no event brings it back. */
	if (ss->replaced) {
		ap_note(o, "subscription %s %s was replaced by a newer one: state not changed",
		    e->provider, e->sub.id);
		return TERR_OK;
	}
	/* Invariant 3: an older event is recorded but never rolls state back. */
	newer = e->at > ss->row.state_at ||
	    (e->at == ss->row.state_at && e->rank >= ss->row.state_rank);
	if (!newer) {
		ss->stale = 1;
		ap_note(o, "older than the subscription's current state: state not changed");
		return TERR_OK;
	}
	before = ss->row;
	if (e->sub.state != SUB_NONE) {
		st = e->sub.state;
		/* A payment does not undo a cancellation the event does not mention. */
		if (st == SUB_ACTIVE && e->sub.cancel_at_period_end < 0 &&
		    before.state == SUB_CANCELED)
			st = SUB_CANCELED;
		ss->row.state = st;
	}
	if (e->sub.period_end != 0) {
		ss->row.period_start = e->sub.period_start;
		ss->row.period_end = e->sub.period_end;
	}
	if (e->sub.trial_end != 0)
		ss->row.trial_end = e->sub.trial_end;
	if (e->sub.cancel_at_period_end >= 0)
		ss->row.cancel_at_period_end = e->sub.cancel_at_period_end;
	if (e->sub.store[0] != '\0')
		text_copy(ss->row.store, sizeof(ss->row.store), e->sub.store);
	if (ss->row.state == SUB_PAST_DUE) {
		if (e->sub.grace_until != 0)
			ss->row.grace_until = e->sub.grace_until;
		else if (before.state != SUB_PAST_DUE || before.grace_until == 0)
			ss->row.grace_until = e->at + a->c->policy.grace;
	} else
		ss->row.grace_until = 0;
	if (p != NULL && strcmp(p->id, ss->row.product) != 0) {
		if (p->kind != PRODUCT_SUBSCRIPTION) {
			ap_outcome_set(o, INBOX_FAILED,
			    "subscription %s %s is of %s, which the catalog sells as %s, a pack, "
			    "not "
			    "a subscription",
			    e->provider, e->sub.id,
			    e->sub.product[0] != '\0' ? e->sub.product : e->pay.product, p->id);
			return TERR_OK;
		}
		ss->plan_changed = 1;
		text_copy(ss->row.product, sizeof(ss->row.product), p->id);
	}
	ss->row.state_at = e->at;
	ss->row.state_rank = e->rank;
	if (memcmp(&before, &ss->row, sizeof(before)) == 0)
		return TERR_OK;
	ss->row.updated_at = a->now;
	ss->dirty = 1;
	if (before.state != ss->row.state || before.period_end != ss->row.period_end ||
	    ss->plan_changed || before.cancel_at_period_end != ss->row.cancel_at_period_end ||
	    before.grace_until != ss->row.grace_until || before.trial_end != ss->row.trial_end) {
		o->changed = 1;
		snprintf(object, sizeof(object), "subscription:%lld", (long long)ss->row.id);
		ap_sub_detail(detail, sizeof(detail), &before, &ss->row);
		if ((rc = ap_audit(a, o, "subscription.update", object, detail, "")) != TERR_OK)
			return rc;
	}
	return TERR_OK;
}

/* Grant a subscription's credits for a period (SET, RESET or ACCUMULATE by policy). */
enum terr
ap_grant_plan(struct actx *a, struct outcome *o, struct subst *ss, const struct product *p,
    int64_t pay_id, int trial, int replace_all)
{
	struct grant_row g[SUB_GRANTS_MAX], ng;
	int64_t amount = trial ? p->trial_credits : p->credits;
	size_t n;
	enum terr rc;
	char object[48], detail[160], when[TM_ISO_SIZE];

	if (p->policy == CREDIT_RESET) {
		/* SET for a new subscription (every plan grant of the user), RESET for its own. */
		int64_t taken = 0, all = 0;
		do {
			rc = replace_all
			    ? store_grants_plan(a->s, o->user, g, SUB_GRANTS_MAX, &n)
			    : store_grants_of_sub(a->s, ss->row.id, g, SUB_GRANTS_MAX, &n);
			if (rc != TERR_OK)
				return rc;
			if ((rc = ledger_zero(a->s, &o->op, "reset", g, n, &taken)) != TERR_OK)
				return rc;
			all += taken;
		} while (n == SUB_GRANTS_MAX);
		if (all > 0) {
			snprintf(object, sizeof(object), "subscription:%lld",
			    (long long)ss->row.id);
			snprintf(detail, sizeof(detail),
			    "-%lld unused plan credits replaced by %s's", (long long)all, p->id);
			if ((rc = ap_audit(a, o, "credits.reset", object, detail, "")) != TERR_OK)
				return rc;
		}
	}
	ss->granted = 1;
	o->changed = 1;
	/* A credit period shorter than the paid one (monthly credits on a yearly plan): the next reset. */
	if (p->credit_period.months > 0 || p->credit_period.ms > 0) {
		int64_t anchor = ss->row.period_start != 0 ? ss->row.period_start : a->now;
		int64_t next =
		    tm_next_after(anchor, &p->credit_period, a->now > anchor ? a->now : anchor);
		ss->row.credits_next_at = next < ss->row.period_end ? next : 0;
		ss->dirty = 1;
	}
	if (amount <= 0)
		return TERR_OK;
	memset(&ng, 0, sizeof(ng));
	text_copy(ng.user, sizeof(ng.user), o->user);
	ng.source = trial ? GRANT_TRIAL : GRANT_SUBSCRIPTION;
	ng.sub_id = ss->row.id;
	ng.pay_id = pay_id;
	text_copy(ng.product, sizeof(ng.product), p->id);
	ng.amount = amount;
	/*
	 * RESET credits expire with the access they came with (finish_sub keeps the
	 * two together; 0 while the end is unknown); ACCUMULATE credits never.
	 */
	ng.expires_at = p->policy == CREDIT_RESET ? sub_access_end(&ss->row, &a->c->policy) : 0;
	if ((rc = ledger_grant(a->s, &o->op, &ng)) != TERR_OK)
		return rc;
	snprintf(object, sizeof(object), "grant:%lld", (long long)ng.id);
	snprintf(detail, sizeof(detail), "+%lld credits (%s of %s), expires %s", (long long)amount,
	    trial ? "trial" : "period", p->id,
	    ng.expires_at != 0 ? ap_iso(ng.expires_at, when) : "never");
	return ap_audit(a, o, "credits.grant", object, detail, "");
}

/*
 * Write the subscription once, then make entitlements and the plan's
 * credits follow its access (a cancellation keeps both until access ends).
 */
enum terr
ap_finish_sub(struct actx *a, struct outcome *o, struct subst *ss)
{
	struct ent_row cur[PRODUCT_ENT_MAX * 2], er;
	struct grant_row g[SUB_GRANTS_MAX];
	const struct product *p;
	char source[48];
	const char *ended;
	int64_t end, taken, gone = 0;
	size_t n, i, j;
	int access, changed;
	enum terr rc;

	/* A stale event changed no state, but its payment may have moved credits_through. */
	if (!ss->have)
		return TERR_OK;
	if (ss->dirty && (rc = store_sub_update(a->s, &ss->row)) != TERR_OK)
		return rc;
	if ((rc = ap_kpi_sub(a, o, &ss->row, &ss->kpi)) != TERR_OK)
		return rc;
	p = cfg_product(a->c, ss->row.product);
	access = sub_state_grants_access(ss->row.state);
	end = sub_access_end(&ss->row, &a->c->policy);
	ended = ss->row.state == SUB_REFUNDED || ss->row.state == SUB_REVOKED ? "revoke" : "expire";

	/* A plan change RESETS the credits to the new plan's amount at once. */
	if (ss->plan_changed && !ss->granted && access && p != NULL &&
	    ss->row.credits_through != 0 && p->policy == CREDIT_RESET &&
	    (rc = ap_grant_plan(a, o, ss, p, 0, ss->row.state == SUB_TRIALING, 0)) != TERR_OK)
		return rc;

	snprintf(source, sizeof(source), "subscription:%lld", (long long)ss->row.id);
	if ((rc = store_ents_of_sub(a->s, ss->row.id, cur, sizeof(cur) / sizeof(cur[0]), &n)) !=
	    TERR_OK)
		return rc;
	memset(&er, 0, sizeof(er));
	text_copy(er.user, sizeof(er.user), ss->row.user);
	text_copy(er.source, sizeof(er.source), source);
	er.sub_id = ss->row.id;
	er.updated_at = a->now;
	for (i = 0; p != NULL && i < p->nents; i++) {
		text_copy(er.name, sizeof(er.name), p->ents[i]);
		er.active = access;
		er.ends_at = access ? end : 0;
		if ((rc = store_ent_set(a->s, &er, &changed)) != TERR_OK)
			return rc;
		o->changed |= changed;
	}
	/* Entitlements of a previous plan that the new one does not grant. */
	for (i = 0; i < n; i++) {
		for (j = 0; p != NULL && j < p->nents; j++)
			if (strcmp(cur[i].name, p->ents[j]) == 0)
				break;
		if (p != NULL && j < p->nents)
			continue;
		er = cur[i];
		er.active = 0;
		er.updated_at = a->now;
		if ((rc = store_ent_set(a->s, &er, &changed)) != TERR_OK)
			return rc;
		o->changed |= changed;
	}

	/* Period-bound credits live exactly as long as the access that came with them. */
	if ((rc = store_grants_of_sub(a->s, ss->row.id, g, SUB_GRANTS_MAX, &n)) != TERR_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if (g[i].expires_at == 0 && (p == NULL || p->policy != CREDIT_RESET))
			continue; /* accumulated credits outlive the subscription */
		if (!access) {
			if ((rc = ledger_zero(a->s, &o->op, ended, &g[i], 1, &taken)) != TERR_OK)
				return rc;
			gone += taken;
			o->changed = 1;
		} else if (g[i].expires_at != end && end != 0) {
			if ((rc = store_grant_set_expiry(a->s, g[i].id, end)) != TERR_OK)
				return rc;
		}
	}
	if (gone > 0) {
		char object[48], detail[128];
		snprintf(object, sizeof(object), "subscription:%lld", (long long)ss->row.id);
		snprintf(detail, sizeof(detail), "-%lld credits: access ended (%s)",
		    (long long)gone, sub_state_str(ss->row.state));
		return ap_audit(a, o,
		    strcmp(ended, "revoke") == 0 ? "credits.revoke" : "credits.expire", object,
		    detail, "");
	}
	return TERR_OK;
}

/* The old subscription's end, as an expiry (its access, entitlements and plan credits). */
static enum terr
end_replaced(struct actx *a, const struct bev *e, struct outcome *o, struct subst *ss)
{
	struct sub_row before = ss->row;
	char object[48], detail[REASON_MAX], why[ID_MAX + 48];
	enum terr rc;

	ss->have = ss->dirty = 1;
	ss->row.state = SUB_EXPIRED;
	ss->row.grace_until = 0;
	if (e->at > ss->row.state_at)
		ss->row.state_at = e->at;
	ss->row.state_rank = sub_state_rank(SUB_EXPIRED);
	ss->row.updated_at = a->now;
	o->changed = 1;
	snprintf(object, sizeof(object), "subscription:%lld", (long long)ss->row.id);
	ap_sub_detail(detail, sizeof(detail), &before, &ss->row);
	snprintf(why, sizeof(why), "replaced by %s %.200s", e->provider, e->sub.id);
	if ((rc = ap_audit(a, o, "subscription.update", object, detail, why)) != TERR_OK)
		return rc;
	return ap_finish_sub(a, o, ss);
}

enum terr
ap_apply_replaces(struct actx *a, const struct bev *e, struct outcome *o)
{
	const char *old = e->sub.replaces;
	char u[USER_ID_MAX + 1], detail[ID_MAX + 64];
	struct subst ss;
	int known;
	enum terr rc;

	if (old[0] == '\0' || strcmp(old, e->sub.id) == 0)
		return TERR_OK;
	memset(&ss, 0, sizeof(ss));
	rc = store_sub_find(a->s, e->provider, old, &ss.row);
	if (rc != TERR_OK && rc != TERR_NOTFOUND)
		return rc;
	known = rc == TERR_OK;
	/* Only a subscription of the same user: an event never ends another's. */
	if (known && strcmp(ss.row.user, o->user) != 0) {
		ap_note(o,
		    "subscription %s %s, which this one replaces, belongs to user %s: left as it "
		    "is",
		    e->provider, old, ss.row.user);
		return TERR_OK;
	}
	rc = store_link_find(a->s, e->provider, SUB_REPLACED_LINK, old, u);
	if (rc == TERR_NOTFOUND) {
		rc = store_link_insert(a->s, e->provider, SUB_REPLACED_LINK, old, o->user, a->now);
		if (rc != TERR_OK && rc != TERR_DUP)
			return rc;
		snprintf(detail, sizeof(detail), "%s %s %s", e->provider, SUB_REPLACED_LINK, old);
		if ((rc = ap_audit(a, o, "link.add", detail, detail, "")) != TERR_OK)
			return rc;
	} else if (rc != TERR_OK)
		return rc;
	else if (strcmp(u, o->user) != 0) {
		ap_note(o, "subscription %s %s was replaced for user %s already: left as it is",
		    e->provider, old, u);
		return TERR_OK;
	}
	if (!known) {
		ap_note(o,
		    "replaces subscription %s %s, not known yet: it will be recorded as expired",
		    e->provider, old);
		return TERR_OK;
	}
	if (ss.row.state == SUB_EXPIRED)
		return TERR_OK;
	return end_replaced(a, e, o, &ss);
}
