/*
 * apply: the one path of every state change. See apply.h for the contract
 * and DESIGN.md for the invariants it keeps; each is named where it is kept.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "json.h"
#include "ledger.h"
#include "log.h"
#include "provider.h"
#include "sub.h"
#include "text.h"
#include "tm.h"

#define RESOLVERS_MAX    16
#define REPLAY_DEPTH_MAX 3
#define SUB_GRANTS_MAX   64

struct outcome;

struct actx {
	struct store *s;
	const struct cfg *c;
	int64_t now;
	int depth;      /* nesting of orphan replays */
	size_t replays; /* orphans replayed in this transaction */
	struct outcome *pool; /* one outcome per replay depth, allocated once per batch */
};

/* Something this event created that may resolve orphans waiting for it. */
struct resolver {
	char provider[PROVIDER_MAX];
	char kind[KIND_MAX];
	char id[ID_MAX];
};

struct outcome {
	enum inbox_state state;
	char reason[REASON_MAX];
	char user[USER_ID_MAX + 1];
	char orphan_kind[KIND_MAX];
	char orphan_id[ID_MAX];
	struct resolver res[RESOLVERS_MAX];
	size_t nres;
	int changed; /* entitlements or balance changed */
	char actor[ACTOR_MAX];
	struct ledger_op op;
};

/* The subscription an event speaks of, held in memory until written once. */
struct subst {
	int have; /* row is valid */
	int created;
	int dirty;        /* row differs from the stored one */
	int stale;        /* the event is older than the stored state (invariant 3) */
	int plan_changed; /* product differs from the stored one */
	int granted;      /* a payment of this event granted plan credits */
	struct sub_row row;
};

static int
is_storage_error(enum terr rc)
{
	return rc == TERR_DB || rc == TERR_BUSY || rc == TERR_NOMEM;
}

/* Append a note to the outcome's reason ("; " between notes), bounded. */
static void
note(struct outcome *o, const char *fmt, ...)
{
	size_t len = strlen(o->reason);
	va_list ap;

	if (len + 3 >= sizeof(o->reason))
		return;
	if (len > 0) {
		memcpy(o->reason + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(o->reason + len, sizeof(o->reason) - len, fmt, ap);
	va_end(ap);
}

/* End processing with a state other than applied, and why. */
static void
outcome_set(struct outcome *o, enum inbox_state st, const char *fmt, ...)
{
	va_list ap;

	o->state = st;
	va_start(ap, fmt);
	vsnprintf(o->reason, sizeof(o->reason), fmt, ap);
	va_end(ap);
}

static void
resolver_add(struct outcome *o, const char *provider, const char *kind, const char *id)
{
	if (o->nres == RESOLVERS_MAX)
		return;
	text_copy(o->res[o->nres].provider, PROVIDER_MAX, provider);
	text_copy(o->res[o->nres].kind, KIND_MAX, kind);
	text_copy(o->res[o->nres].id, ID_MAX, id);
	o->nres++;
}

static enum terr
audit(struct actx *a, struct outcome *o, const char *action, const char *object, const char *detail,
    const char *reason)
{
	struct audit_row r;

	memset(&r, 0, sizeof(r));
	r.at = a->now;
	text_copy(r.actor, sizeof(r.actor), o->actor);
	text_copy(r.user, sizeof(r.user), o->user);
	text_copy(r.action, sizeof(r.action), action);
	text_copy(r.object, sizeof(r.object), object);
	/* Details are bounded summaries; a cut one is still a valid record of who and what. */
	snprintf(r.detail, sizeof(r.detail), "%s", detail);
	snprintf(r.reason, sizeof(r.reason), "%s", reason != NULL ? reason : "");
	r.inbox_id = o->op.inbox_id;
	return store_audit_insert(a->s, &r);
}

/* An outbox row; a second one with the same dedup key is a no-op (TERR_DUP is success). */
static enum terr
outbox(struct actx *a, enum outbox_kind kind, const char *topic, const char *user,
    const char *dedup, const struct buf *payload)
{
	struct outbox_row r;
	enum terr rc;

	if (payload->err != TERR_OK)
		return TERR_INTERNAL;
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	text_copy(r.topic, sizeof(r.topic), topic);
	text_copy(r.user, sizeof(r.user), user != NULL ? user : "");
	snprintf(r.dedup_key, sizeof(r.dedup_key), "%s", dedup);
	r.payload = buf_cstr(payload);
	r.next_at = a->now;
	r.created_at = a->now;
	rc = store_outbox_insert(a->s, &r);
	return rc == TERR_DUP ? TERR_OK : rc;
}

/* Invariant 1: an event that cannot be finished raises an alert. */
static enum terr
alert_event(struct actx *a, const struct inbox_row *row)
{
	char storage[2048], dedup[96];
	struct buf b;
	struct jw w;

	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "type", "event.attention");
	jw_kstr(&w, "state", inbox_state_str(row->state));
	jw_kstr(&w, "provider", row->provider);
	jw_kstr(&w, "event_id", row->event_id);
	jw_kstr(&w, "event_type", row->type);
	jw_kint(&w, "inbox_id", row->id);
	jw_kstr(&w, "reason", row->reason);
	jw_end(&w);
	if (b.err != TERR_OK) {
		buf_reset(&b);
		buf_printf(&b, "{\"type\":\"event.attention\",\"inbox_id\":%lld}",
		    (long long)row->id);
	}
	snprintf(dedup, sizeof(dedup), "alert:inbox:%lld:%s", (long long)row->id,
	    inbox_state_str(row->state));
	return outbox(a, OUTBOX_ALERT, "event.attention", row->user, dedup, &b);
}

static enum terr
alert_text(struct actx *a, struct outcome *o, const char *topic, const char *dedup,
    const char *text)
{
	char storage[1024];
	struct buf b;
	struct jw w;

	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "type", topic);
	jw_kstr(&w, "user_id", o->user);
	jw_kint(&w, "inbox_id", o->op.inbox_id);
	jw_kstr(&w, "message", text);
	jw_end(&w);
	return outbox(a, OUTBOX_ALERT, topic, o->user, dedup, &b);
}

/* ---------------------------------------------------------------- users */

static enum terr
ensure_user(struct actx *a, struct outcome *o, const char *user)
{
	enum terr rc = store_user_insert(a->s, user, a->now);

	if (rc == TERR_DUP)
		return TERR_OK;
	if (rc != TERR_OK)
		return rc;
	return audit(a, o, "user.create", user, "", "first named by this event");
}

/*
 * Who the event is about: the user it names, else the user any of its
 * provider ids is linked to, else the owner of its subscription or payment.
 * Links it carries are recorded for that user. Sets o->user, or an orphan or
 * failed outcome.
 */
static enum terr
resolve_user(struct actx *a, const struct bev *e, struct outcome *o)
{
	char found[USER_ID_MAX + 1] = "", u[USER_ID_MAX + 1];
	const struct bev_link *via = NULL;
	struct sub_row sr;
	struct pay_row pr;
	int known[BEV_LINKS_MAX] = { 0 };
	const char *lp = e->link_provider[0] != '\0' ? e->link_provider : e->provider;
	size_t i;
	enum terr rc;

	for (i = 0; i < e->nlinks; i++) {
		rc = store_link_find(a->s, lp, e->links[i].kind, e->links[i].id, u);
		if (rc == TERR_NOTFOUND)
			continue;
		if (rc != TERR_OK)
			return rc;
		known[i] = 1;
		if (found[0] == '\0') {
			text_copy(found, sizeof(found), u);
			via = &e->links[i];
		} else if (strcmp(found, u) != 0) {
			outcome_set(o, INBOX_FAILED,
			    "conflict: %s %s %s belongs to user %s, %s %s to user %s", lp,
			    via->kind, via->id, found, e->links[i].kind, e->links[i].id, u);
			return TERR_OK;
		}
	}
	if (e->user[0] != '\0') {
		if (!text_id_valid(e->user, USER_ID_MAX)) {
			outcome_set(o, INBOX_FAILED, "invalid user id in event");
			return TERR_OK;
		}
		if (found[0] != '\0' && strcmp(found, e->user) != 0) {
			outcome_set(o, INBOX_FAILED,
			    "conflict: %s %s %s belongs to user %s but the event names user %s", lp,
			    via->kind, via->id, found, e->user);
			return TERR_OK;
		}
		if (e->user_must_exist && (rc = store_user_exists(a->s, e->user)) != TERR_OK) {
			if (rc != TERR_NOTFOUND)
				return rc;
			outcome_set(o, INBOX_FAILED, "unknown user %s", e->user);
			return TERR_OK;
		}
		text_copy(o->user, sizeof(o->user), e->user);
		if ((rc = ensure_user(a, o, o->user)) != TERR_OK)
			return rc;
	} else if (found[0] != '\0') {
		text_copy(o->user, sizeof(o->user), found);
	} else if ((e->aspects & BEV_SUB) && e->sub.id[0] != '\0' &&
	    (rc = store_sub_find(a->s, e->provider, e->sub.id, &sr)) != TERR_NOTFOUND) {
		if (rc != TERR_OK)
			return rc;
		text_copy(o->user, sizeof(o->user), sr.user);
	} else {
		const struct bev_keys *k = (e->aspects & BEV_REFUND) ? &e->refund.keys
		    : (e->aspects & BEV_ALIAS)                       ? &e->alias
								     : NULL;
		for (i = 0; k != NULL && i < k->n && o->user[0] == '\0'; i++) {
			rc = store_pay_find_key(a->s, e->provider, k->k[i], &pr);
			if (rc == TERR_OK)
				text_copy(o->user, sizeof(o->user), pr.user);
			else if (rc != TERR_NOTFOUND)
				return rc;
		}
	}
	if (o->user[0] == '\0') {
		/* Invariant 1: kept with the key that will resolve it, replayed when it appears. */
		if (e->nlinks > 0) {
			text_copy(o->orphan_kind, sizeof(o->orphan_kind), e->links[0].kind);
			text_copy(o->orphan_id, sizeof(o->orphan_id), e->links[0].id);
		} else if ((e->aspects & BEV_SUB) && e->sub.id[0] != '\0') {
			text_copy(o->orphan_kind, sizeof(o->orphan_kind), "subscription");
			text_copy(o->orphan_id, sizeof(o->orphan_id), e->sub.id);
		} else if ((e->aspects & BEV_REFUND) && e->refund.keys.n > 0) {
			text_copy(o->orphan_kind, sizeof(o->orphan_kind), "payment");
			text_copy(o->orphan_id, sizeof(o->orphan_id), e->refund.keys.k[0]);
		} else if ((e->aspects & BEV_ALIAS) && e->alias.n > 0) {
			text_copy(o->orphan_kind, sizeof(o->orphan_kind), "payment");
			text_copy(o->orphan_id, sizeof(o->orphan_id), e->alias.k[0]);
		} else {
			outcome_set(o, INBOX_FAILED,
			    "the event names no user and no id to find one by");
			return TERR_OK;
		}
		outcome_set(o, INBOX_ORPHANED, "unknown user: no user is linked to %s %s %s", lp,
		    o->orphan_kind, o->orphan_id);
		return TERR_OK;
	}
	/* Learn the ids this event carries, so later events that carry only those find the user. */
	for (i = 0; i < e->nlinks; i++) {
		char detail[ID_MAX + 64];
		if (known[i])
			continue;
		rc = store_link_insert(a->s, lp, e->links[i].kind, e->links[i].id, o->user, a->now);
		if (rc == TERR_DUP)
			continue;
		if (rc != TERR_OK)
			return rc;
		snprintf(detail, sizeof(detail), "%s %s %s", lp, e->links[i].kind, e->links[i].id);
		if ((rc = audit(a, o, "link.add", detail, detail, e->reason)) != TERR_OK)
			return rc;
		resolver_add(o, lp, e->links[i].kind, e->links[i].id);
	}
	return TERR_OK;
}

/* -------------------------------------------------------- subscriptions */

static const struct product *
product_of(struct actx *a, const struct bev *e, const char *ext, int is_catalog)
{
	if (ext == NULL || ext[0] == '\0')
		return NULL;
	return is_catalog ? cfg_product(a->c, ext) : cfg_match(a->c, e->provider, ext);
}

/* An audit detail: time as RFC 3339, or "-" when unknown. */
static const char *
iso(int64_t ms, char out[TM_ISO_SIZE])
{
	if (ms == 0)
		return "-";
	tm_iso(ms, out);
	return out;
}

static void
sub_detail(char *out, size_t size, const struct sub_row *before, const struct sub_row *after)
{
	char a[TM_ISO_SIZE], b[TM_ISO_SIZE];

	if (before == NULL)
		snprintf(out, size, "state=%s product=%s period_end=%s",
		    sub_state_str(after->state), after->product, iso(after->period_end, a));
	else
		snprintf(out, size, "state %s->%s product %s->%s period_end %s->%s cancel %d->%d",
		    sub_state_str(before->state), sub_state_str(after->state), before->product,
		    after->product, iso(before->period_end, b), iso(after->period_end, a),
		    before->cancel_at_period_end, after->cancel_at_period_end);
}

static enum terr
apply_sub(struct actx *a, const struct bev *e, const struct product *p, struct subst *ss,
    struct outcome *o)
{
	struct sub_row before;
	char object[48], detail[REASON_MAX];
	enum sub_state st;
	enum terr rc;
	int newer;

	rc = store_sub_find(a->s, e->provider, e->sub.id, &ss->row);
	if (rc != TERR_OK && rc != TERR_NOTFOUND)
		return rc;
	if (rc == TERR_NOTFOUND) {
		st = e->sub.state;
		if (st == SUB_NONE && (e->aspects & BEV_PAY))
			st = e->pay.trial ? SUB_TRIALING : SUB_ACTIVE;
		if (p == NULL || st == SUB_NONE) {
			/* Not known yet and this event cannot create it: wait for the event that can. */
			text_copy(o->orphan_kind, sizeof(o->orphan_kind), "subscription");
			text_copy(o->orphan_id, sizeof(o->orphan_id), e->sub.id);
			outcome_set(o, INBOX_ORPHANED,
			    "subscription %s %s is not known yet and this event does not say "
			    "enough "
			    "to create it",
			    e->provider, e->sub.id);
			return TERR_OK;
		}
		if (p->kind != PRODUCT_SUBSCRIPTION) {
			outcome_set(o, INBOX_FAILED, "product %s is a pack, not a subscription",
			    p->id);
			return TERR_OK;
		}
		memset(&ss->row, 0, sizeof(ss->row));
		text_copy(ss->row.provider, sizeof(ss->row.provider), e->provider);
		text_copy(ss->row.ext_id, sizeof(ss->row.ext_id), e->sub.id);
		text_copy(ss->row.user, sizeof(ss->row.user), o->user);
		text_copy(ss->row.product, sizeof(ss->row.product), p->id);
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
		sub_detail(detail, sizeof(detail), NULL, &ss->row);
		if ((rc = audit(a, o, "subscription.create", object, detail, "")) != TERR_OK)
			return rc;
		/* The subscription id finds its user from now on, and resolves orphans waiting for it. */
		rc = store_link_insert(a->s, e->provider, "subscription", e->sub.id, o->user,
		    a->now);
		if (rc != TERR_OK && rc != TERR_DUP)
			return rc;
		resolver_add(o, e->provider, "subscription", e->sub.id);
		return TERR_OK;
	}
	ss->have = 1;
	if (strcmp(ss->row.user, o->user) != 0) {
		outcome_set(o, INBOX_FAILED,
		    "conflict: subscription %s %s belongs to user %s, the event is for user %s",
		    e->provider, e->sub.id, ss->row.user, o->user);
		return TERR_OK;
	}
	/* Invariant 3: an older event is recorded but never rolls state back. */
	newer = e->at > ss->row.state_at ||
	    (e->at == ss->row.state_at && e->rank >= ss->row.state_rank);
	if (!newer) {
		ss->stale = 1;
		note(o, "older than the subscription's current state: state not changed");
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
	if (ss->row.state == SUB_PAST_DUE) {
		if (e->sub.grace_until != 0)
			ss->row.grace_until = e->sub.grace_until;
		else if (before.state != SUB_PAST_DUE || before.grace_until == 0)
			ss->row.grace_until = e->at + a->c->policy.grace;
	} else
		ss->row.grace_until = 0;
	if (p != NULL && strcmp(p->id, ss->row.product) != 0) {
		if (p->kind != PRODUCT_SUBSCRIPTION) {
			outcome_set(o, INBOX_FAILED, "product %s is a pack, not a subscription",
			    p->id);
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
		sub_detail(detail, sizeof(detail), &before, &ss->row);
		if ((rc = audit(a, o, "subscription.update", object, detail, "")) != TERR_OK)
			return rc;
	}
	return TERR_OK;
}

/* Grant a subscription's credits for a period (SET, RESET or ACCUMULATE by policy). */
static enum terr
grant_plan(struct actx *a, struct outcome *o, struct subst *ss, const struct product *p,
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
			if ((rc = audit(a, o, "credits.reset", object, detail, "")) != TERR_OK)
				return rc;
		}
	}
	ss->granted = 1;
	o->changed = 1;
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
	    ng.expires_at != 0 ? iso(ng.expires_at, when) : "never");
	return audit(a, o, "credits.grant", object, detail, "");
}

/*
 * Write the subscription once, then make entitlements and the plan's
 * credits follow its access (a cancellation keeps both until access ends).
 */
static enum terr
finish_sub(struct actx *a, struct outcome *o, struct subst *ss)
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
	p = cfg_product(a->c, ss->row.product);
	access = sub_state_grants_access(ss->row.state);
	end = sub_access_end(&ss->row, &a->c->policy);
	ended = ss->row.state == SUB_REFUNDED || ss->row.state == SUB_REVOKED ? "revoke" : "expire";

	/* A plan change RESETS the credits to the new plan's amount at once. */
	if (ss->plan_changed && !ss->granted && access && p != NULL &&
	    ss->row.credits_through != 0 && p->policy == CREDIT_RESET &&
	    (rc = grant_plan(a, o, ss, p, 0, ss->row.state == SUB_TRIALING, 0)) != TERR_OK)
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
		return audit(a, o,
		    strcmp(ended, "revoke") == 0 ? "credits.revoke" : "credits.expire", object,
		    detail, "");
	}
	return TERR_OK;
}

/* ------------------------------------------------------------- payments */

static enum terr
attach_keys(struct actx *a, const struct bev *e, struct outcome *o, const struct bev_keys *k,
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
		resolver_add(o, e->provider, "payment", k->k[i]);
	}
	return TERR_OK;
}

/* The payment any of keys belongs to; TERR_CONFLICT (outcome set) when they name two. */
static enum terr
find_payment(struct actx *a, const struct bev *e, const struct bev_keys *k, struct pay_row *out,
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
			outcome_set(o, INBOX_FAILED,
			    "conflict: keys of this event name payments %lld and %lld",
			    (long long)out->id, (long long)pr.id);
			return TERR_CONFLICT;
		}
		*out = pr;
		found = 1;
	}
	return found ? TERR_OK : TERR_NOTFOUND;
}

static enum terr
apply_pay(struct actx *a, const struct bev *e, const struct product *p, struct subst *ss,
    struct outcome *o)
{
	struct pay_row pr;
	char object[48], detail[256];
	enum pay_kind kind = e->pay.kind;
	int64_t period_end;
	enum terr rc;

	/* Invariant 2: a second event about one payment grants nothing again. */
	rc = find_payment(a, e, &e->pay.keys, &pr, o);
	if (rc == TERR_CONFLICT)
		return TERR_OK;
	if (rc == TERR_OK) {
		if (strcmp(pr.user, o->user) != 0) {
			outcome_set(o, INBOX_FAILED, "conflict: payment %lld belongs to user %s",
			    (long long)pr.id, pr.user);
			return TERR_OK;
		}
		note(o, "payment already recorded (payment %lld): nothing granted again",
		    (long long)pr.id);
		return attach_keys(a, e, o, &e->pay.keys, pr.id);
	}
	if (rc != TERR_NOTFOUND)
		return rc;
	if (e->pay.keys.n == 0) {
		outcome_set(o, INBOX_FAILED, "payment without a business key");
		return TERR_OK;
	}
	if (p->kind == PRODUCT_PACK)
		kind = PAY_ONE_OFF;
	else if (kind == PAY_ONE_OFF || !ss->have) {
		outcome_set(o, INBOX_FAILED,
		    "payment for subscription product %s without a subscription", p->id);
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
	if ((rc = attach_keys(a, e, o, &e->pay.keys, pr.id)) != TERR_OK)
		return rc;
	snprintf(object, sizeof(object), "payment:%lld", (long long)pr.id);
	snprintf(detail, sizeof(detail), "%s %lld %s for %s (%s)", pay_kind_str(kind),
	    (long long)pr.amount, pr.currency, p->id, e->pay.keys.k[0]);
	if ((rc = audit(a, o, "payment.received", object, detail, "")) != TERR_OK)
		return rc;

	if (kind == PAY_ONE_OFF) {
		struct grant_row g;
		if (p->credits <= 0)
			return TERR_OK;
		memset(&g, 0, sizeof(g));
		text_copy(g.user, sizeof(g.user), o->user);
		g.source = GRANT_PACK;
		g.pay_id = pr.id;
		text_copy(g.product, sizeof(g.product), p->id);
		g.amount = p->credits;
		g.expires_at = p->credits_expire != 0 ? a->now + p->credits_expire : 0;
		if ((rc = ledger_grant(a->s, &o->op, &g)) != TERR_OK)
			return rc;
		o->changed = 1;
		snprintf(object, sizeof(object), "grant:%lld", (long long)g.id);
		snprintf(detail, sizeof(detail), "+%lld credits (pack %s)", (long long)g.amount,
		    p->id);
		return audit(a, o, "credits.grant", object, detail, "");
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
				note(o, "credits for this subscription were already granted");
			return TERR_OK;
		}
		rc = grant_plan(a, o, ss, p, pr.id, e->pay.trial, 1);
		break;
	case PAY_RENEWAL:
		if (period_end != 0 && period_end <= ss->row.credits_through) {
			note(o, "renewal for a period already granted: no credits");
			return TERR_OK;
		}
		rc = grant_plan(a, o, ss, p, pr.id, e->pay.trial, ss->row.credits_through == 0);
		break;
	default: return TERR_OK;
	}
	if (rc != TERR_OK)
		return rc;
	if (period_end > ss->row.credits_through) {
		ss->row.credits_through = period_end;
		ss->dirty = 1;
	}
	return TERR_OK;
}

static enum terr
apply_refund(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct grant_row g[SUB_GRANTS_MAX];
	struct subst ss;
	struct pay_row pr;
	char object[48], detail[256];
	int64_t granted = 0, taken = 0, latest = 0;
	size_t n, i;
	enum terr rc;

	rc = find_payment(a, e, &e->refund.keys, &pr, o);
	if (rc == TERR_CONFLICT)
		return TERR_OK;
	if (rc == TERR_NOTFOUND) {
		text_copy(o->orphan_kind, sizeof(o->orphan_kind), "payment");
		text_copy(o->orphan_id, sizeof(o->orphan_id), e->refund.keys.k[0]);
		outcome_set(o, INBOX_ORPHANED, "%s for payment %s, which is not known yet",
		    refund_kind_str(e->refund.kind), e->refund.keys.k[0]);
		return TERR_OK;
	}
	if (rc != TERR_OK)
		return rc;
	if (strcmp(pr.user, o->user) != 0) {
		outcome_set(o, INBOX_FAILED, "conflict: payment %lld belongs to user %s",
		    (long long)pr.id, pr.user);
		return TERR_OK;
	}
	snprintf(object, sizeof(object), "payment:%lld", (long long)pr.id);
	if (e->refund.kind == REFUND_PARTIAL) {
		snprintf(detail, sizeof(detail),
		    "partial refund of %lld on payment %lld: nothing revoked",
		    (long long)e->refund.amount, (long long)pr.id);
		note(o, "%s", detail);
		if ((rc = audit(a, o, "payment.partial_refund", object, detail, "")) != TERR_OK)
			return rc;
		return alert_text(a, o, "payment.partial_refund", e->id, detail);
	}
	if (pr.state != PAY_PAID) {
		note(o, "payment %lld already %s: nothing revoked again", (long long)pr.id,
		    pay_state_str(pr.state));
		return TERR_OK;
	}
	if (pr.sub_id != 0 && (rc = store_pay_latest_of_sub(a->s, pr.sub_id, &latest)) != TERR_OK)
		return rc;
	if ((rc = store_pay_set_state(a->s, pr.id,
		 e->refund.kind == REFUND_DISPUTE ? PAY_DISPUTED : PAY_REFUNDED)) != TERR_OK)
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
	    "%s of %lld %s: clawed back %lld of %lld credits granted (the rest was already spent "
	    "or expired)",
	    refund_kind_str(e->refund.kind), (long long)pr.amount, pr.currency, (long long)taken,
	    (long long)granted);
	if ((rc = audit(a, o,
		 e->refund.kind == REFUND_DISPUTE ? "payment.disputed" : "payment.refunded", object,
		 detail, "")) != TERR_OK)
		return rc;
	if (e->refund.kind == REFUND_DISPUTE &&
	    (rc = alert_text(a, o, "payment.disputed", e->id, detail)) != TERR_OK)
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
		sub_detail(detail, sizeof(detail), &before, &ss.row);
		if ((rc = audit(a, o, "subscription.update", object, detail, "money returned")) !=
		    TERR_OK)
			return rc;
	}
	return finish_sub(a, o, &ss);
}

static enum terr
apply_alias(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct pay_row pr;
	enum terr rc;

	if (e->alias.n == 0)
		return TERR_OK;
	rc = store_pay_find_key(a->s, e->provider, e->alias.k[0], &pr);
	if (rc == TERR_NOTFOUND) {
		text_copy(o->orphan_kind, sizeof(o->orphan_kind), "payment");
		text_copy(o->orphan_id, sizeof(o->orphan_id), e->alias.k[0]);
		outcome_set(o, INBOX_ORPHANED, "payment %s is not known yet", e->alias.k[0]);
		return TERR_OK;
	}
	if (rc != TERR_OK)
		return rc;
	return attach_keys(a, e, o, &e->alias, pr.id);
}

static enum terr
apply_notice(struct actx *a, const struct bev *e, struct outcome *o)
{
	char storage[1024], dedup[2 * ID_MAX];
	struct buf b;
	struct jw w;

	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "type", e->notice);
	jw_kstr(&w, "user_id", o->user);
	jw_kstr(&w, "provider", e->provider);
	if (e->sub.id[0] != '\0')
		jw_kstr(&w, "subscription", e->sub.id);
	if (e->sub.trial_end != 0)
		jw_ktime(&w, "trial_end", e->sub.trial_end);
	jw_ktime(&w, "at", e->at);
	jw_end(&w);
	snprintf(dedup, sizeof(dedup), "notice:%s:%s:%s", e->notice, e->provider, e->id);
	return outbox(a, OUTBOX_NOTIFY, e->notice, o->user, dedup, &b);
}

static enum terr
apply_unlink(struct actx *a, const struct bev *e, struct outcome *o)
{
	char detail[ID_MAX + 64];
	size_t i;
	enum terr rc;

	for (i = 0; i < e->nlinks; i++) {
		rc = store_link_delete(a->s, e->link_provider, e->links[i].kind, e->links[i].id);
		if (rc == TERR_NOTFOUND)
			continue;
		if (rc != TERR_OK)
			return rc;
		snprintf(detail, sizeof(detail), "%s %s %s", e->link_provider, e->links[i].kind,
		    e->links[i].id);
		if ((rc = audit(a, o, "link.remove", detail, detail, e->reason)) != TERR_OK)
			return rc;
	}
	return TERR_OK;
}

static enum terr
apply_credit(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct grant_row g;
	char object[48], detail[128];
	int64_t live = 0;
	enum terr rc;

	if (e->credit.amount <= 0 || e->credit.amount > CREDITS_MAX) {
		outcome_set(o, INBOX_FAILED, "credit amount must be from 1 to %lld",
		    (long long)CREDITS_MAX);
		return TERR_OK;
	}
	if (e->credit.op == CREDIT_REVOKE) {
		rc = ledger_debit(a->s, &o->op, o->user, e->credit.amount, "revoke", 0, NULL);
		if (rc == TERR_SHORT) {
			store_balance_live(a->s, o->user, a->now, &live);
			outcome_set(o, INBOX_FAILED,
			    "insufficient credits: balance %lld, revoke %lld", (long long)live,
			    (long long)e->credit.amount);
			return TERR_OK;
		}
		if (rc != TERR_OK)
			return rc;
		snprintf(detail, sizeof(detail), "-%lld credits", (long long)e->credit.amount);
		o->changed = 1;
		return audit(a, o, "credits.revoke", o->user, detail, e->reason);
	}
	memset(&g, 0, sizeof(g));
	text_copy(g.user, sizeof(g.user), o->user);
	g.source = GRANT_ADMIN;
	g.amount = e->credit.amount;
	g.expires_at = e->credit.expires_at;
	if ((rc = ledger_grant(a->s, &o->op, &g)) != TERR_OK)
		return rc;
	o->changed = 1;
	snprintf(object, sizeof(object), "grant:%lld", (long long)g.id);
	snprintf(detail, sizeof(detail), "+%lld credits", (long long)g.amount);
	return audit(a, o, "credits.grant", object, detail, e->reason);
}

/* --------------------------------------------------------------- events */

/* Everything the event changes. Returns only storage errors; the rest are outcomes. */
static enum terr
effects(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct product *sp = NULL, *pp = NULL;
	struct subst ss;
	enum terr rc;

	memset(&ss, 0, sizeof(ss));
	if (!e->live && !provider_test_allowed(a->c, e->provider)) {
		outcome_set(o, INBOX_IGNORED,
		    "test-mode event refused: test mode is not enabled for %s", e->provider);
		return TERR_OK;
	}
	if (e->aspects == 0) {
		outcome_set(o, INBOX_IGNORED, "%s",
		    e->note[0] != '\0' ? e->note : "nothing to apply");
		return TERR_OK;
	}
	if ((rc = resolve_user(a, e, o)) != TERR_OK || o->state != INBOX_APPLIED)
		return rc;

	if ((e->aspects & BEV_SUB) && e->sub.product[0] != '\0' &&
	    (sp = product_of(a, e, e->sub.product, 0)) == NULL) {
		outcome_set(o, INBOX_UNKNOWN_PRODUCT,
		    "unknown product: %s %s is not in the catalog", e->provider, e->sub.product);
		return TERR_OK;
	}
	if (e->aspects & BEV_PAY) {
		pp = product_of(a, e, e->pay.product, e->pay.product_is_catalog);
		if (pp == NULL && e->pay.product[0] == '\0')
			pp = sp;
		if (pp == NULL && e->pay.product[0] == '\0' && (e->aspects & BEV_SUB)) {
			struct sub_row sr;
			rc = store_sub_find(a->s, e->provider, e->sub.id, &sr);
			if (rc != TERR_OK && rc != TERR_NOTFOUND)
				return rc;
			if (rc == TERR_OK)
				pp = cfg_product(a->c, sr.product);
		}
		if (pp == NULL) {
			outcome_set(o, INBOX_UNKNOWN_PRODUCT,
			    "unknown product: %s %s is not in the catalog", e->provider,
			    e->pay.product[0] != '\0' ? e->pay.product : "(none named)");
			return TERR_OK;
		}
		if (sp == NULL && pp->kind == PRODUCT_SUBSCRIPTION)
			sp = pp;
	}

	if ((e->aspects & BEV_SUB) && e->sub.id[0] != '\0' &&
	    (pp == NULL || pp->kind == PRODUCT_SUBSCRIPTION)) {
		if ((rc = apply_sub(a, e, sp, &ss, o)) != TERR_OK || o->state != INBOX_APPLIED)
			return rc;
	}
	if ((e->aspects & BEV_PAY) &&
	    ((rc = apply_pay(a, e, pp, &ss, o)) != TERR_OK || o->state != INBOX_APPLIED))
		return rc;
	if ((rc = finish_sub(a, o, &ss)) != TERR_OK)
		return rc;
	if ((e->aspects & BEV_REFUND) &&
	    ((rc = apply_refund(a, e, o)) != TERR_OK || o->state != INBOX_APPLIED))
		return rc;
	if ((e->aspects & BEV_ALIAS) &&
	    ((rc = apply_alias(a, e, o)) != TERR_OK || o->state != INBOX_APPLIED))
		return rc;
	if ((e->aspects & BEV_NOTICE) && (rc = apply_notice(a, e, o)) != TERR_OK)
		return rc;
	if ((e->aspects & BEV_CREDIT) && (rc = apply_credit(a, e, o)) != TERR_OK)
		return rc;
	if ((e->aspects & BEV_UNLINK) && (rc = apply_unlink(a, e, o)) != TERR_OK)
		return rc;
	if (e->note[0] != '\0' && o->state == INBOX_APPLIED)
		note(o, "%s", e->note);
	return TERR_OK;
}

static enum terr apply_one(struct actx *a, struct bev *e, int64_t replay_id,
    struct apply_result *r);

/* Orphans waiting for something this event created: apply them now, in this transaction. */
static enum terr
replay_resolved(struct actx *a, const struct outcome *o)
{
	int64_t ids[ORPHAN_REPLAY_MAX];
	struct inbox_row row;
	struct apply_result r;
	struct bev *ev = NULL;
	struct buf body;
	char why[128];
	size_t i, k, n;
	enum terr rc = TERR_OK;
	int any;

	if (a->depth >= REPLAY_DEPTH_MAX || o->nres == 0)
		return TERR_OK;
	if ((rc = store_inbox_any_orphan(a->s, &any)) != TERR_OK || !any)
		return rc;
	buf_init(&body, BODY_MAX);
	for (k = 0; k < o->nres && a->replays < ORPHAN_REPLAY_MAX; k++) {
		rc = store_inbox_orphans(a->s, o->res[k].provider, o->res[k].kind, o->res[k].id, ids,
		    ORPHAN_REPLAY_MAX - a->replays, &n);
		if (rc != TERR_OK)
			goto out;
		/* The common case, nothing waiting, allocates nothing. */
		if (n > 0 && ev == NULL && (ev = malloc(sizeof(*ev))) == NULL) {
			rc = TERR_NOMEM;
			goto out;
		}
		for (i = 0; i < n; i++) {
			buf_reset(&body);
			if ((rc = store_inbox_get(a->s, ids[i], &row, &body)) != TERR_OK)
				goto out;
			if (provider_parse(a->c, row.provider, buf_cstr(&body), body.len, ev, why,
				sizeof(why)) != TERR_OK)
				continue; /* stays orphaned; `tally events show` tells why */
			a->replays++;
			a->depth++;
			rc = apply_one(a, ev, ids[i], &r);
			a->depth--;
			if (rc != TERR_OK)
				goto out;
		}
	}
out:
	buf_release(&body);
	free(ev);
	return rc;
}

/* The event's inbox row: a new one, or the existing one (retry, replay). */
static enum terr
inbox_claim(struct actx *a, const struct bev *e, int64_t replay_id, struct inbox_row *row,
    struct apply_result *r)
{
	enum terr rc;

	if (replay_id == 0) {
		memset(row, 0, sizeof(*row));
		text_copy(row->provider, sizeof(row->provider), e->provider);
		text_copy(row->event_id, sizeof(row->event_id), e->id);
		text_copy(row->type, sizeof(row->type), e->type);
		row->live = e->live;
		row->event_at = e->at;
		row->received_at = row->updated_at = a->now;
		row->state = INBOX_FAILED;
		text_copy(row->reason, sizeof(row->reason), "processing");
		row->attempts = 1;
		/* Invariant 2: the first delivery inserts; every later one finds it. */
		if ((rc = store_inbox_insert(a->s, row, e->raw, e->raw_len)) != TERR_DUP)
			return rc;
		rc = store_inbox_find(a->s, e->provider, e->id, row);
	} else
		rc = store_inbox_get(a->s, replay_id, row, NULL);
	if (rc != TERR_OK)
		return rc == TERR_NOTFOUND && replay_id == 0 ? TERR_INTERNAL : rc;
	if (row->state == INBOX_APPLIED || row->state == INBOX_IGNORED)
		r->duplicate = 1;
	else
		row->attempts++;
	return TERR_OK;
}

static enum terr
apply_one(struct actx *a, struct bev *e, int64_t replay_id, struct apply_result *r)
{
	struct inbox_row row;
	struct outcome *o = NULL;
	enum terr rc;

	memset(r, 0, sizeof(*r));
	if ((rc = store_savepoint(a->s)) != TERR_OK)
		return rc;
	if ((rc = inbox_claim(a, e, replay_id, &row, r)) != TERR_OK)
		goto fail;
	r->inbox_id = row.id;
	r->state = row.state;
	if (r->duplicate) {
		text_copy(r->user, sizeof(r->user), row.user);
		text_copy(r->reason, sizeof(r->reason), row.reason);
		return store_release(a->s);
	}
	o = &a->pool[a->depth];
	memset(o, 0, sizeof(*o));
	o->state = INBOX_APPLIED;
	if (e->actor[0] != '\0')
		text_copy(o->actor, sizeof(o->actor), e->actor);
	else
		snprintf(o->actor, sizeof(o->actor), "%s:%s", e->provider, e->id);
	o->op.actor = o->actor;
	o->op.reason = e->reason;
	o->op.inbox_id = row.id;
	o->op.now = a->now;

	rc = effects(a, e, o);
	if (rc != TERR_OK && !is_storage_error(rc)) {
		outcome_set(o, INBOX_FAILED, "%s", terr_str(rc));
		rc = TERR_OK;
	}
	if (rc != TERR_OK)
		goto fail;
	if (o->state != INBOX_APPLIED && o->state != INBOX_IGNORED) {
		/*
		 * An event that cannot finish keeps none of its effects: back to the
		 * savepoint (which also takes back a new inbox row), then the row
		 * alone is written again with the outcome (invariant 1).
		 */
		int inserted = row.attempts == 1 && replay_id == 0;
		store_rollback_to(a->s);
		if (e->atomic) {
			/* An operator's refused action leaves no trace: the caller reports it. */
			r->state = o->state;
			text_copy(r->reason, sizeof(r->reason), o->reason);
			r->inbox_id = 0;
			return store_release(a->s);
		}
		if (inserted) {
			row.state = o->state;
			text_copy(row.reason, sizeof(row.reason), o->reason);
			text_copy(row.user, sizeof(row.user), o->user);
			text_copy(row.orphan_kind, sizeof(row.orphan_kind),
			    o->state == INBOX_ORPHANED ? o->orphan_kind : "");
			text_copy(row.orphan_id, sizeof(row.orphan_id),
			    o->state == INBOX_ORPHANED ? o->orphan_id : "");
			if ((rc = store_inbox_insert(a->s, &row, e->raw, e->raw_len)) != TERR_OK) {
				rc = rc == TERR_DUP ? TERR_INTERNAL : rc;
				goto fail;
			}
		}
	}

	row.state = o->state;
	text_copy(row.reason, sizeof(row.reason), o->reason);
	text_copy(row.user, sizeof(row.user), o->user);
	text_copy(row.orphan_kind, sizeof(row.orphan_kind),
	    o->state == INBOX_ORPHANED ? o->orphan_kind : "");
	text_copy(row.orphan_id, sizeof(row.orphan_id),
	    o->state == INBOX_ORPHANED ? o->orphan_id : "");
	row.updated_at = a->now;
	if ((rc = store_inbox_update(a->s, &row)) != TERR_OK)
		goto fail;
	if (row.state != INBOX_APPLIED && row.state != INBOX_IGNORED &&
	    (rc = alert_event(a, &row)) != TERR_OK)
		goto fail;
	if ((rc = store_release(a->s)) != TERR_OK)
		goto fail_released;
	r->inbox_id = row.id;
	r->state = row.state;
	text_copy(r->user, sizeof(r->user), row.user);
	text_copy(r->reason, sizeof(r->reason), row.reason);
	if (row.state == INBOX_APPLIED)
		rc = replay_resolved(a, o);
	return rc;
fail:
	store_rollback_to(a->s);
	store_release(a->s);
fail_released:
	return rc;
}

enum terr
apply_batchv(struct store *s, const struct cfg *c, struct bev *const *ev,
    struct apply_result *const *res, size_t n, int64_t now)
{
	struct actx a = { s, c, now, 0, 0, NULL };
	size_t i;
	enum terr rc;

	if ((a.pool = calloc(REPLAY_DEPTH_MAX + 1, sizeof(*a.pool))) == NULL) {
		rc = TERR_NOMEM;
		goto fail;
	}
	if ((rc = store_begin(s)) != TERR_OK)
		goto fail;
	for (i = 0; i < n; i++)
		if ((rc = apply_one(&a, ev[i], 0, res[i])) != TERR_OK) {
			store_rollback(s);
			goto fail;
		}
	if ((rc = store_commit(s)) != TERR_OK) {
		store_rollback(s);
		goto fail;
	}
	free(a.pool);
	return TERR_OK;
fail:
	free(a.pool);
	for (i = 0; i < n; i++)
		res[i]->err = rc;
	return rc;
}

enum terr
apply_batch(struct store *s, const struct cfg *c, struct bev *ev, size_t n,
    struct apply_result *res, int64_t now)
{
	struct bev *evp[64];
	struct apply_result *resp[64];
	size_t i, k;
	enum terr rc;

	/* Arrays of pointers in chunks; one transaction per chunk of 64. */
	for (i = 0; i < n; i += k) {
		for (k = 0; k < 64 && i + k < n; k++) {
			evp[k] = &ev[i + k];
			resp[k] = &res[i + k];
		}
		if ((rc = apply_batchv(s, c, evp, resp, k, now)) != TERR_OK) {
			/* Earlier chunks stay committed; this one and the rest are not. */
			for (k = i; k < n; k++)
				res[k].err = rc;
			return rc;
		}
	}
	return TERR_OK;
}

enum terr
apply_replay(struct store *s, const struct cfg *c, int64_t inbox_id, struct apply_result *res,
    int64_t now)
{
	struct actx a = { s, c, now, 0, 0, NULL };
	struct inbox_row row;
	struct bev *ev = NULL;
	struct buf body;
	char why[128];
	enum terr rc;

	memset(res, 0, sizeof(*res));
	buf_init(&body, BODY_MAX);
	if ((ev = malloc(sizeof(*ev))) == NULL) {
		rc = TERR_NOMEM;
		goto out;
	}
	if ((rc = store_inbox_get(s, inbox_id, &row, &body)) != TERR_OK)
		goto out;
	if ((rc = provider_parse(c, row.provider, buf_cstr(&body), body.len, ev, why,
		 sizeof(why))) != TERR_OK) {
		snprintf(res->reason, sizeof(res->reason), "cannot parse stored event: %s", why);
		goto out;
	}
	if ((a.pool = calloc(REPLAY_DEPTH_MAX + 1, sizeof(*a.pool))) == NULL) {
		rc = TERR_NOMEM;
		goto out;
	}
	if ((rc = store_begin(s)) != TERR_OK)
		goto out;
	if ((rc = apply_one(&a, ev, inbox_id, res)) != TERR_OK) {
		store_rollback(s);
		goto out;
	}
	if ((rc = store_commit(s)) != TERR_OK)
		store_rollback(s);
out:
	res->err = rc;
	buf_release(&body);
	free(a.pool);
	free(ev);
	return rc;
}
