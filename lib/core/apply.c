/*
 * apply: the one path of every state change. See apply.h for the contract
 * and DESIGN.md for the invariants it keeps; each is named where it is kept.
 * This file: the event's inbox row, who it is about, its effects in order,
 * orphans it resolves, batches and replays. Subscriptions are in
 * apply_sub.c, money in apply_money.c, moves between users in apply_move.c,
 * tally's own events in apply_app.c, orders in apply_order.c, the app's
 * webhook in apply_webhook.c, the work owed to providers in apply_task.c;
 * each declares what it offers in its own header, and all of them record
 * through apply_outcome.c. The arrows run one way: this file calls the
 * aspects, the aspects call apply_outcome.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/apply.h"
#include "core/apply_app.h"
#include "core/apply_balance.h"
#include "core/apply_money.h"
#include "core/apply_move.h"
#include "core/apply_order.h"
#include "core/apply_outcome.h"
#include "core/apply_sub.h"
#include "core/apply_task.h"
#include "core/apply_webhook.h"
#include "core/ledger.h"
#include "core/metrics.h"
#include "core/op.h"
#include "core/provider.h"
#include "core/sub.h"
#include "store/store_credits.h"
#include "store/store_rows.h"

#define REPLAY_DEPTH_MAX 3

static enum terr
ap_apply_notice(struct actx *a, const struct bev *e, struct outcome *o)
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
	if (e->act.sub_id != 0)
		jw_kint(&w, "subscription_id", e->act.sub_id);
	if (e->act.ends_at != 0)
		jw_ktime(&w, "ends_at", e->act.ends_at);
	jw_ktime(&w, "at", e->at);
	jw_end(&w);
	/*
	 * Parts of one text_key, so that an event id (a job's holds ':') never
	 * reads as other parts. A notice's own key is a text_key already (the
	 * reminder's, jobs/reminders.c): after "notice:" it stays as it is, the
	 * text_key of "notice" and its parts, as stored before.
	 */
	if (e->notice_key[0] != '\0') {
		if ((size_t)snprintf(dedup, sizeof(dedup), "notice:%s", e->notice_key) >=
		    sizeof(dedup))
			return TERR_TOOBIG;
	} else if (text_key(dedup, sizeof(dedup), "notice", e->notice, e->provider, e->id, NULL) !=
	    TERR_OK)
		return TERR_TOOBIG;
	return ap_outbox(a, OUTBOX_NOTIFY, e->notice, o->user, dedup, &b);
}

static enum terr
ap_apply_unlink(struct actx *a, const struct bev *e, struct outcome *o)
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
		if ((rc = ap_audit(a, o, "link.remove", detail, detail, e->reason)) != TERR_OK)
			return rc;
	}
	return TERR_OK;
}

/* ---------------------------------------------------------------- users */

/*
 * Who the event is about: the user it names, else the user any of its
 * provider ids is linked to, else the owner of its subscription (or of the
 * one it replaces) or payment.
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

	char others[BEV_LINKS_MAX][USER_ID_MAX + 1], merged[USER_ID_MAX + 1] = "";
	size_t nothers = 0, k;

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
			if (!e->merge_links) {
				ap_outcome_set(o, INBOX_FAILED,
				    "conflict: %s %s %s belongs to user %s, %s %s to user %s", lp,
				    via->kind, via->id, found, e->links[i].kind, e->links[i].id, u);
				return TERR_OK;
			}
			for (k = 0; k < nothers && strcmp(others[k], u) != 0; k++)
				;
			if (k == nothers)
				text_copy(others[nothers++], USER_ID_MAX + 1, u);
		}
	}
	/* A user merged into another stands for it from then on. */
	if (e->user[0] != '\0' && (rc = store_user_get(a->s, e->user, NULL, merged)) != TERR_OK &&
	    rc != TERR_NOTFOUND)
		return rc;
	if (e->user[0] != '\0') {
		const char *named = merged[0] != '\0' ? merged : e->user;
		if (!text_id_valid(e->user, USER_ID_MAX)) {
			char q[80];
			text_quote(q, sizeof(q), e->user, 48);
			ap_outcome_set(o, INBOX_FAILED,
			    "invalid user id in event: %s (a user id is 1 to %d bytes of UTF-8 "
			    "without control characters)",
			    q, USER_ID_MAX);
			return TERR_OK;
		}
		if (found[0] != '\0' && strcmp(found, named) != 0) {
			if (!e->merge_links) {
				ap_outcome_set(o, INBOX_FAILED,
				    "conflict: %s %s %s belongs to user %s but the event names "
				    "user %s",
				    lp, via->kind, via->id, found, e->user);
				return TERR_OK;
			}
			/* Aliases of one person: the user found through them joins the named one. */
			text_copy(others[nothers++], USER_ID_MAX + 1, found);
		}
		if (e->user_must_exist && (rc = store_user_exists(a->s, named)) != TERR_OK) {
			if (rc != TERR_NOTFOUND)
				return rc;
			ap_refuse(o, "unknown_user", "unknown user %s: no user has that id",
			    e->user);
			return TERR_OK;
		}
		text_copy(o->user, sizeof(o->user), named);
		if ((rc = ap_ensure_user(a, o, o->user)) != TERR_OK)
			return rc;
		for (k = 0; k < nothers; k++)
			if ((rc = ap_merge_users(a, o, others[k], o->user)) != TERR_OK)
				return rc;
	} else if (found[0] != '\0') {
		text_copy(o->user, sizeof(o->user), found);
		for (k = 0; k < nothers; k++)
			if ((rc = ap_merge_users(a, o, others[k], o->user)) != TERR_OK)
				return rc;
	} else if ((e->aspects & BEV_SUB) && e->sub.id[0] != '\0' &&
	    (rc = store_sub_find(a->s, e->provider, e->sub.id, &sr)) != TERR_NOTFOUND) {
		if (rc != TERR_OK)
			return rc;
		text_copy(o->user, sizeof(o->user), sr.user);
	} else if ((e->aspects & BEV_SUB) && e->sub.replaces[0] != '\0' &&
	    (rc = store_sub_find(a->s, e->provider, e->sub.replaces, &sr)) != TERR_NOTFOUND) {
		/* An upgrade, downgrade or resubscribe that names no user is its predecessor's. */
		if (rc != TERR_OK)
			return rc;
		text_copy(o->user, sizeof(o->user), sr.user);
	} else {
		const struct bev_keys *keys = (e->aspects & BEV_REFUND) ? &e->refund.keys
		    : (e->aspects & BEV_ALIAS)                          ? &e->alias
		    : (e->aspects & BEV_REINSTATE)                      ? &e->reinstate
									: NULL;
		for (i = 0; keys != NULL && i < keys->n && o->user[0] == '\0'; i++) {
			rc = store_pay_find_key(a->s, e->provider, keys->k[i], &pr);
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
		} else if ((e->aspects & BEV_REINSTATE) && e->reinstate.n > 0) {
			text_copy(o->orphan_kind, sizeof(o->orphan_kind), "payment");
			text_copy(o->orphan_id, sizeof(o->orphan_id), e->reinstate.k[0]);
		} else {
			ap_outcome_set(o, INBOX_FAILED,
			    "the event names no user and no id to find one by");
			return TERR_OK;
		}
		ap_outcome_set(o, INBOX_ORPHANED, "unknown user: no user is linked to %s %s %s", lp,
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
		if ((rc = ap_audit(a, o, "link.add", detail, detail, e->reason)) != TERR_OK)
			return rc;
		ap_resolver_add(o, lp, e->links[i].kind, e->links[i].id);
	}
	return TERR_OK;
}

/* --------------------------------------------------------------- events */

/* The aspects of tally's own events and of orders, each ending the event when it refuses. */
static enum terr
own_effects(struct actx *a, const struct bev *e, struct outcome *o)
{
	static const struct {
		unsigned aspect;
		enum terr (*fn)(struct actx *, const struct bev *, struct outcome *);
	} table[] = {
		{ BEV_ORDER_NEW, ap_apply_order_new },
		{ BEV_ORDER, ap_apply_order },
		{ BEV_REGISTER, ap_apply_register },
		{ BEV_REFERRER, ap_apply_referrer },
		{ BEV_TRIAL, ap_apply_trial },
		{ BEV_ENTITLE, ap_apply_entitle },
		{ BEV_SUBSET, ap_apply_subset },
		{ BEV_RESET, ap_apply_reset },
		{ BEV_ALLOWANCE, ap_apply_allowance },
		{ BEV_EXPIRE, ap_apply_expire },
		{ BEV_BUY, ap_apply_buy },
		{ BEV_SPEND, ap_apply_spend },
	};
	size_t i;
	enum terr rc;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if ((e->aspects & table[i].aspect) &&
		    ((rc = table[i].fn(a, e, o)) != TERR_OK || o->state != INBOX_APPLIED))
			return rc;
	return TERR_OK;
}

/* Everything the event changes. Returns only storage errors; the rest are outcomes. */
static enum terr
effects(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct product *sp = NULL, *pp = NULL;
	struct subst ss;
	enum terr rc;

	memset(&ss, 0, sizeof(ss));
	if (!e->live && !provider_test_allowed(a->c, e->provider)) {
		ap_outcome_set(o, INBOX_IGNORED,
		    "test-mode event refused: test mode is not enabled for %s (a test event; "
		    "config %s is false)",
		    e->provider, provider_test_setting(e->provider));
		return TERR_OK;
	}
	if (e->refusal[0] != '\0')
		return ap_fail(o, "%s", e->refusal);
	if (e->aspects == 0) {
		ap_outcome_set(o, INBOX_IGNORED, "%s",
		    e->note[0] != '\0' ? e->note : "nothing to apply");
		return TERR_OK;
	}
	/* Money for an order: the order names the user (ap_order_user); none found, none paid. */
	if ((e->aspects & BEV_ORDER) && e->user[0] == '\0')
		return ap_order_unmatched(a, e, o);
	if ((rc = resolve_user(a, e, o)) != TERR_OK || o->state != INBOX_APPLIED)
		return rc;

	if ((e->aspects & BEV_SUB) && e->sub.product[0] != '\0' &&
	    (sp = ap_product_of(a, e, e->sub.product, 0)) == NULL) {
		ap_outcome_set(o, INBOX_UNKNOWN_PRODUCT,
		    "unknown product: %s %s is not in the catalog", e->provider, e->sub.product);
		return TERR_OK;
	}
	if (e->aspects & BEV_PAY) {
		pp = ap_product_of(a, e, e->pay.product, e->pay.product_is_catalog);
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
			if (e->pay.product[0] != '\0')
				ap_outcome_set(o, INBOX_UNKNOWN_PRODUCT,
				    "unknown product: %s %s is not in the catalog", e->provider,
				    e->pay.product);
			else
				ap_outcome_set(o, INBOX_UNKNOWN_PRODUCT,
				    "unknown product: the %s payment names no product, and no "
				    "subscription tally knows says which",
				    e->provider);
			return TERR_OK;
		}
		if (sp == NULL && pp->kind == PRODUCT_SUBSCRIPTION)
			sp = pp;
	}

	if ((e->aspects & BEV_SUB) && e->sub.id[0] != '\0' &&
	    (pp == NULL || pp->kind == PRODUCT_SUBSCRIPTION)) {
		if ((rc = ap_apply_sub(a, e, sp, &ss, o)) != TERR_OK || o->state != INBOX_APPLIED)
			return rc;
	}
	if ((e->aspects & BEV_PAY) &&
	    ((rc = ap_apply_pay(a, e, pp, &ss, o)) != TERR_OK || o->state != INBOX_APPLIED))
		return rc;
	if ((rc = ap_finish_sub(a, o, &ss)) != TERR_OK)
		return rc;
	if ((e->aspects & BEV_SUB) && ss.have && (rc = ap_apply_replaces(a, e, o)) != TERR_OK)
		return rc;
	if ((e->aspects & BEV_REFUND) &&
	    ((rc = ap_apply_refund(a, e, o)) != TERR_OK || o->state != INBOX_APPLIED))
		return rc;
	if ((e->aspects & BEV_ALIAS) &&
	    ((rc = ap_apply_alias(a, e, o)) != TERR_OK || o->state != INBOX_APPLIED))
		return rc;
	if ((e->aspects & BEV_NOTICE) && (rc = ap_apply_notice(a, e, o)) != TERR_OK)
		return rc;
	if ((e->aspects & BEV_CREDIT) && (rc = ap_apply_credit(a, e, o)) != TERR_OK)
		return rc;
	if ((e->aspects & BEV_UNLINK) && (rc = ap_apply_unlink(a, e, o)) != TERR_OK)
		return rc;
	if ((e->aspects & BEV_REINSTATE) &&
	    ((rc = ap_apply_reinstate(a, e, o)) != TERR_OK || o->state != INBOX_APPLIED))
		return rc;
	if ((e->aspects & BEV_TRANSFER) && (rc = ap_apply_transfer(a, e, o)) != TERR_OK)
		return rc;
	if ((rc = own_effects(a, e, o)) != TERR_OK || o->state != INBOX_APPLIED)
		return rc;
	/* Last: only an event whose effects all hold owes the provider anything. */
	if ((e->aspects & BEV_TASK) &&
	    ((rc = ap_apply_task(a, e, o)) != TERR_OK || o->state != INBOX_APPLIED))
		return rc;
	if (e->note[0] != '\0' && o->state == INBOX_APPLIED)
		ap_note(o, "%s", e->note);
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
		rc = store_inbox_orphans(a->s, o->res[k].provider, o->res[k].kind, o->res[k].id,
		    ids, ORPHAN_REPLAY_MAX - a->replays, &n);
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
				continue;      /* stays orphaned; `tally events show` tells why */
			if (ev->id[0] == '\0') /* an id from a header (Razorpay): the stored one */
				text_copy(ev->id, sizeof(ev->id), row.event_id);
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

/* tally_events_total{provider, outcome}: every event delivered, by what became of it. */
static void
count_event(const struct bev *e, const char *outcome)
{
	char labels[96];

	snprintf(labels, sizeof(labels), "provider=\"%s\",outcome=\"%s\"", e->provider, outcome);
	metrics_add("tally_events_total", labels, 1);
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
		count_event(e, "duplicate");
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
	o->op.touched = &o->touched;
	o->at = row.event_at > 0 ? row.event_at : row.received_at;

	if ((rc = ap_order_user(a, e)) == TERR_OK)
		rc = effects(a, e, o);
	if (rc != TERR_OK && !ap_is_storage_error(rc)) {
		ap_outcome_set(o, INBOX_FAILED, "%s", err_str(rc));
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
			text_copy(r->code, sizeof(r->code),
			    o->code[0] != '\0' ? o->code : "refused");
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
	    (rc = ap_alert_event(a, &row)) != TERR_OK)
		goto fail;
	if (row.state == INBOX_APPLIED && o->changed && (rc = ap_webhook(a, o, e)) != TERR_OK)
		goto fail;
	/* After every effect of the event: a reset and its new grant are one change, not two. */
	if (row.state == INBOX_APPLIED && (rc = ap_balance_alerts(a, o, e)) != TERR_OK)
		goto fail;
	if ((rc = store_release(a->s)) != TERR_OK)
		goto fail_released;
	r->inbox_id = row.id;
	r->state = row.state;
	text_copy(r->user, sizeof(r->user), row.user);
	text_copy(r->reason, sizeof(r->reason), row.reason);
	count_event(e, inbox_state_str(row.state));
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
	/* Counters ride along in the transaction; a failure to count never fails the batch. */
	metrics_flush(s);
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

/* The record of who replayed inbox row `before`, in the open transaction. */
static enum terr
replay_audit(struct store *s, const struct inbox_row *before, const struct apply_result *res,
    struct audit_row *who, int64_t now)
{
	if (who->at == 0)
		who->at = now;
	text_copy(who->user, sizeof(who->user), res->user[0] != '\0' ? res->user : before->user);
	text_copy(who->action, sizeof(who->action), "event.replay");
	snprintf(who->object, sizeof(who->object), "inbox:%lld", (long long)before->id);
	snprintf(who->detail, sizeof(who->detail), "%s -> %s%s%.400s",
	    inbox_state_str(before->state), inbox_state_str(res->state),
	    res->reason[0] != '\0' ? ": " : "", res->reason);
	who->inbox_id = before->id;
	return store_audit_insert(s, who);
}

enum terr
apply_replay(struct store *s, const struct cfg *c, int64_t inbox_id, struct audit_row *who,
    struct apply_result *res, int64_t now)
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
	if (ev->id[0] == '\0') /* an id from a header (Razorpay): the stored one */
		text_copy(ev->id, sizeof(ev->id), row.event_id);
	if ((a.pool = calloc(REPLAY_DEPTH_MAX + 1, sizeof(*a.pool))) == NULL) {
		rc = TERR_NOMEM;
		goto out;
	}
	if ((rc = store_begin(s)) != TERR_OK)
		goto out;
	if ((rc = apply_one(&a, ev, inbox_id, res)) == TERR_OK && who != NULL && !res->duplicate)
		rc = replay_audit(s, &row, res, who, now);
	if (rc != TERR_OK) {
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

enum terr
apply_op(struct store *s, const struct cfg *c, const struct op_action *a, int64_t now,
    struct apply_result *res, char *why, size_t whysize)
{
	struct bev *e;
	struct buf body;
	enum terr rc;

	memset(res, 0, sizeof(*res));
	if ((e = malloc(sizeof(*e))) == NULL)
		return TERR_NOMEM;
	buf_init(&body, BODY_MAX);
	if ((rc = op_event(a, &body, e, why, whysize)) == TERR_OK) {
		rc = apply_batch(s, c, e, 1, res, now);
		if (rc != TERR_OK)
			snprintf(why, whysize, "not committed: %s", err_str(rc));
	}
	buf_release(&body);
	free(e);
	return rc;
}
