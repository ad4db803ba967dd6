/*
 * apply: moves between users. A transfer moves one provider's subscriptions
 * (with their entitlements and unspent plan credits, and optionally packs)
 * from the users who had them to the event's user (RevenueCat TRANSFER); a
 * merge moves everything of one user to another, who then stands for both
 * (an anonymous id later known as an identified user). Both are audited on
 * both sides; credits move as a revoke on one side and a grant on the other,
 * so every balance still equals its ledger.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "core/apply_move.h"
#include "core/apply_sub.h"
#include "store/store_credits.h"
#include "store/store_rows.h"

#define MOVE_BATCH 64

/* An audit row about another user than the event's (the source side of a move). */
static enum terr
audit_for(struct actx *a, struct outcome *o, const char *user, const char *action,
    const char *object, const char *detail)
{
	char keep[USER_ID_MAX + 1];
	enum terr rc;

	text_copy(keep, sizeof(keep), o->user);
	text_copy(o->user, sizeof(o->user), user);
	rc = ap_audit(a, o, action, object, detail, "");
	text_copy(o->user, sizeof(o->user), keep);
	return rc;
}

/* Move the unspent credits of grants g[0..n) to user: revoke there, grant here. */
static enum terr
move_grants(struct actx *a, struct outcome *o, struct grant_row *g, size_t n, const char *to,
    int64_t *moved)
{
	struct grant_row ng;
	size_t i;
	enum terr rc;

	for (i = 0; i < n; i++) {
		if (g[i].remaining <= 0)
			continue;
		ng = g[i];
		if ((rc = ledger_zero(a->s, &o->op, "revoke", &g[i], 1, NULL)) != TERR_OK)
			return rc;
		text_copy(ng.user, sizeof(ng.user), to);
		ng.id = 0;
		ng.amount = ng.remaining;
		if ((rc = ledger_grant(a->s, &o->op, &ng)) != TERR_OK)
			return rc;
		*moved += ng.amount;
	}
	return TERR_OK;
}

/* Move subscription r (of another user) to user to, with its payments, grants, entitlements. */
static enum terr
move_sub(struct actx *a, struct outcome *o, struct sub_row *r, const char *to, int64_t *credits)
{
	struct ent_row ents[PRODUCT_ENT_MAX * 2];
	struct grant_row g[MOVE_BATCH];
	struct subst ss;
	size_t n, i;
	int changed;
	enum terr rc;

	/* The old owner's entitlements of it end; the new owner's follow from its state. */
	if ((rc = store_ents_of_sub(a->s, r->id, ents, sizeof(ents) / sizeof(ents[0]), &n)) !=
	    TERR_OK)
		return rc;
	for (i = 0; i < n; i++) {
		if (strcmp(ents[i].user, r->user) != 0 || !ents[i].active)
			continue;
		ents[i].active = 0;
		ents[i].updated_at = a->now;
		if ((rc = store_ent_set(a->s, &ents[i], &changed)) != TERR_OK)
			return rc;
	}
	do {
		if ((rc = store_grants_of_sub(a->s, r->id, g, MOVE_BATCH, &n)) != TERR_OK ||
		    (rc = move_grants(a, o, g, n, to, credits)) != TERR_OK)
			return rc;
	} while (n == MOVE_BATCH);
	if ((rc = store_pays_move_sub(a->s, r->id, to)) != TERR_OK)
		return rc;
	memset(&ss, 0, sizeof(ss));
	ss.row = *r;
	ss.have = ss.dirty = 1;
	text_copy(ss.row.user, sizeof(ss.row.user), to);
	ss.row.updated_at = a->now;
	o->changed = 1;
	return ap_finish_sub(a, o, &ss);
}

enum terr
ap_merge_users(struct actx *a, struct outcome *o, const char *from, const char *into)
{
	struct sub_row subs[MOVE_BATCH];
	struct grant_row g[MOVE_BATCH];
	char object[USER_ID_MAX + 16], detail[2 * USER_ID_MAX + 96];
	int64_t credits = 0;
	size_t n, i;
	enum terr rc;

	if (strcmp(from, into) == 0)
		return TERR_OK;
	do {
		if ((rc = store_subs_of(a->s, from, subs, MOVE_BATCH, &n)) != TERR_OK)
			return rc;
		for (i = 0; i < n; i++)
			if ((rc = move_sub(a, o, &subs[i], into, &credits)) != TERR_OK)
				return rc;
	} while (n == MOVE_BATCH);
	/* Every other credit of theirs, packs included: one person now. */
	do {
		if ((rc = store_grants_live(a->s, from, 0, g, MOVE_BATCH, &n)) != TERR_OK ||
		    (rc = move_grants(a, o, g, n, into, &credits)) != TERR_OK)
			return rc;
	} while (n == MOVE_BATCH);
	if ((rc = store_user_merge(a->s, from, into)) != TERR_OK)
		return rc;
	o->changed = 1;
	snprintf(object, sizeof(object), "user:%s", into);
	snprintf(detail, sizeof(detail), "user %s merged into %s (%lld credits moved)", from, into,
	    (long long)credits);
	if ((rc = ap_audit(a, o, "user.merge", object, detail, "")) != TERR_OK)
		return rc;
	return audit_for(a, o, from, "user.merge", object, detail);
}

enum terr
ap_apply_transfer(struct actx *a, const struct bev *e, struct outcome *o)
{
	struct sub_row subs[MOVE_BATCH];
	struct grant_row g[MOVE_BATCH];
	char from[USER_ID_MAX + 1], object[48], detail[2 * USER_ID_MAX + 96];
	const char *lp = e->link_provider[0] != '\0' ? e->link_provider : e->provider;
	int64_t credits;
	size_t k, n, i;
	enum terr rc;

	for (k = 0; k < e->transfer.nfrom; k++) {
		rc = store_link_find(a->s, lp, e->transfer.from[k].kind, e->transfer.from[k].id,
		    from);
		if (rc == TERR_NOTFOUND) {
			ap_note(o, "transfer from %s %s: no such user here",
			    e->transfer.from[k].kind, e->transfer.from[k].id);
			continue;
		}
		if (rc != TERR_OK)
			return rc;
		if (strcmp(from, o->user) == 0)
			continue;
		/* This provider's subscriptions move; others of the same user stay. */
		if ((rc = store_subs_of(a->s, from, subs, MOVE_BATCH, &n)) != TERR_OK)
			return rc;
		for (i = 0; i < n; i++) {
			if (strcmp(subs[i].provider, e->provider) != 0)
				continue;
			credits = 0;
			if ((rc = move_sub(a, o, &subs[i], o->user, &credits)) != TERR_OK)
				return rc;
			snprintf(object, sizeof(object), "subscription:%lld",
			    (long long)subs[i].id);
			snprintf(detail, sizeof(detail), "transferred from %s to %s (%lld credits)",
			    from, o->user, (long long)credits);
			if ((rc = ap_audit(a, o, "subscription.transfer", object, detail, "")) !=
				TERR_OK ||
			    (rc = audit_for(a, o, from, "subscription.transfer", object, detail)) !=
				TERR_OK)
				return rc;
		}
		if (!e->transfer.packs)
			continue;
		credits = 0;
		do {
			if ((rc = store_grants_packs(a->s, from, g, MOVE_BATCH, &n)) != TERR_OK)
				return rc;
			for (i = 0; i < n; i++)
				if (g[i].pay_id != 0 &&
				    (rc = store_pay_set_user(a->s, g[i].pay_id, o->user)) !=
					TERR_OK)
					return rc;
			if ((rc = move_grants(a, o, g, n, o->user, &credits)) != TERR_OK)
				return rc;
		} while (n == MOVE_BATCH);
		if (credits > 0) {
			snprintf(object, sizeof(object), "user:%.30s", from);
			snprintf(detail, sizeof(detail),
			    "%lld pack credits transferred from %s to %s", (long long)credits, from,
			    o->user);
			if ((rc = ap_audit(a, o, "credits.transfer", object, detail, "")) !=
				TERR_OK ||
			    (rc = audit_for(a, o, from, "credits.transfer", object, detail)) !=
				TERR_OK)
				return rc;
		}
	}
	return TERR_OK;
}
