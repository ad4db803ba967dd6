#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/report.h"
#include "core/sub.h"
#include "providers/google/google.h"
#include "store/store_credits.h"
#include "store/store_rows.h"

#define LIST_MAX 64

/* Everything the document shows, read once. */
struct user_view {
	int64_t created_at;
	struct ent_row ents[LIST_MAX];
	size_t nents;
	struct sub_row ent_subs[LIST_MAX]; /* each entitlement's subscription (state 0: none) */
	struct sub_row subs[LIST_MAX];
	size_t nsubs;
	struct grant_row grants[LIST_MAX];
	size_t ngrants;
	struct link_row links[LIST_MAX];
	size_t nlinks;
	struct ledger_row ledger[SHOW_RECENT];
	size_t nledger;
	struct ledger_line lines[SHOW_RECENT]; /* REPORT_USER: the ledger with its grants */
	size_t nlines;
	int64_t held; /* REPORT_USER: the whole ledger's sum (the newest balance after) */
	struct audit_row audit[SHOW_RECENT];
	size_t naudit;
	int64_t available;
};

/* The subscription of each entitlement: among the user's, else read (one older than those listed). */
static enum terr
load_ent_subs(struct store *s, struct user_view *v)
{
	size_t i, k;
	enum terr rc;

	for (i = 0; i < v->nents; i++) {
		if (v->ents[i].sub_id == 0)
			continue;
		for (k = 0; k < v->nsubs && v->subs[k].id != v->ents[i].sub_id; k++)
			;
		if (k < v->nsubs)
			v->ent_subs[i] = v->subs[k];
		else if ((rc = store_sub_get(s, v->ents[i].sub_id, &v->ent_subs[i])) != TERR_OK &&
		    rc != TERR_NOTFOUND)
			return rc;
	}
	return TERR_OK;
}

/* What view shows, read once: the user view never reads links or audit rows. */
static enum terr
load(struct store *s, const char *user, int64_t now, enum report_view view, struct user_view *v)
{
	int64_t remaining;
	enum terr rc;

	if ((rc = store_user_created(s, user, &v->created_at)) != TERR_OK ||
	    (rc = store_ents_of(s, user, v->ents, LIST_MAX, &v->nents)) != TERR_OK ||
	    (rc = store_subs_of(s, user, v->subs, LIST_MAX, &v->nsubs)) != TERR_OK ||
	    (rc = load_ent_subs(s, v)) != TERR_OK ||
	    (rc = store_grants_live(s, user, now, v->grants, LIST_MAX, &v->ngrants)) != TERR_OK ||
	    (rc = store_balance_live(s, user, now, &v->available)) != TERR_OK)
		return rc;
	if (view == REPORT_USER) {
		/* Each line's balance after counts back from the sum of the whole ledger. */
		if ((rc = store_ledger_lines_of(s, user, v->lines, SHOW_RECENT, &v->nlines)) !=
		    TERR_OK)
			return rc;
		return store_balance_sums(s, user, &v->held, &remaining);
	}
	if ((rc = store_links_of(s, user, v->links, LIST_MAX, &v->nlinks)) != TERR_OK ||
	    (rc = store_ledger_of(s, user, v->ledger, SHOW_RECENT, &v->nledger)) != TERR_OK ||
	    (rc = store_audit_of(s, user, v->audit, SHOW_RECENT, &v->naudit)) != TERR_OK)
		return rc;
	return TERR_OK;
}

/*
 * A ledger entry in the user's words (docs/user-document.md, the user view table). The
 * entry's own kind says what happened to a grant; the grant's source and
 * its payment say why from the user's side. An actor is read here only to
 * tell a job's renewal from the user's purchase; it is never shown.
 */
static const char *
user_kind(const struct ledger_line *l)
{
	const char *k = l->row.kind;

	if (strcmp(k, "spend") == 0)
		return "spend";
	if (strcmp(k, "expire") == 0)
		return "expiry";
	if (strcmp(k, "clawback") == 0)
		return "refund";
	if (strcmp(k, "reset") == 0)
		return "reset";
	if (strcmp(k, "grant") != 0)
		return "adjustment"; /* revoke: by support, a store, a dispute, a move */
	switch (l->source) {
	case GRANT_SUBSCRIPTION:
		/* Credits of a paid period: a renewal's payment, or a job's period (no payment). */
		return l->pay_kind == PAY_RENEWAL ||
			(l->pay_kind < 0 && strncmp(l->row.actor, "job:", 4) == 0)
		    ? "renewal"
		    : "purchase";
	case GRANT_PACK: return "purchase";
	case GRANT_TRIAL: return "trial";
	case GRANT_PROMO: return "promotion";
	case GRANT_FREE: return "free";
	case GRANT_REFERRAL: return "referral";
	default: return "adjustment"; /* an operator's grant */
	}
}

/*
 * The reason a user may read: only the one the app gave for the user's own
 * spend (an API spend's actor is "app:<key>"); every other reason is written
 * by or for the staff. NULL when there is none to show.
 */
static const char *
user_reason(const struct ledger_line *l)
{
	if (strcmp(l->row.kind, "spend") != 0 || strncmp(l->row.actor, "app:", 4) != 0 ||
	    l->row.reason[0] == '\0')
		return NULL;
	return l->row.reason;
}

/* "subscription:12" or "promo:<inbox id>" as "subscription", "promo": the kind, no ids. */
static void
ent_source_kind(struct jw *w, const char *source)
{
	const char *colon = strchr(source, ':');
	char kind[48];

	text_copyn(kind, sizeof(kind), source,
	    colon != NULL ? (size_t)(colon - source) : strlen(source));
	jw_kstr(w, "source", kind);
}

/*
 * The customer's detail of a subscription r (sub_detail; state SUB_NONE:
 * an entitlement no subscription gives, which neither renews nor is
 * managed anywhere): the same keys on entitlements and subscriptions.
 */
static void
detail_json(struct jw *w, const struct cfg *c, const struct sub_row *r, int64_t now)
{
	struct sub_detail d;

	memset(&d, 0, sizeof(d));
	if (r->state != SUB_NONE)
		sub_detail(r, c, now, &d);
	jw_kbool(w, "will_renew", d.will_renew);
	jw_key(w, "billing_problem");
	if (d.problem != NULL) {
		jw_obj(w);
		jw_kstr(w, "kind", d.problem);
		jw_ktime(w, "ends_at", d.problem_ends_at);
		jw_end(w);
	} else
		jw_null(w);
	jw_kbool(w, "in_trial", d.in_trial);
	jw_ktime(w, "trial_ends_at", d.trial_ends_at);
	jw_kbool(w, "canceled_at_period_end", d.canceled_at_period_end);
	jw_kstr(w, "managed_in", d.managed_in);
	jw_kstr(w, "manage_url", d.manage_url[0] != '\0' ? d.manage_url : NULL);
}

static int
ent_live(const struct ent_row *e, int64_t now)
{
	return e->active && (e->ends_at == 0 || e->ends_at > now);
}

enum terr
report_user_json(struct store *s, const struct cfg *c, const char *user, int64_t now,
    struct buf *out)
{
	return report_user_json_view(s, c, user, now, REPORT_FULL, out);
}

/*
 * With Google Play configured, what the app passes to Play Billing's
 * setObfuscatedAccountId for this user (google.identity: the user id, or
 * its HMAC); left out when the user id cannot be one (past 64 characters).
 */
static void
google_account(struct jw *w, const struct cfg *c, const char *user)
{
	char id[GOOGLE_ACCOUNT_ID_MAX + 1];

	if (c->google.enabled && google_account_id(&c->google, user, id, sizeof(id)) == TERR_OK)
		jw_kstr(w, "google_account_id", id);
}

enum terr
report_user_json_view(struct store *s, const struct cfg *c, const char *user, int64_t now,
    enum report_view view, struct buf *out)
{
	struct user_view *v;
	struct jw w;
	int64_t after;
	size_t i;
	int full = view != REPORT_USER;
	enum terr rc;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	if ((rc = load(s, user, now, view, v)) != TERR_OK)
		goto out;
	jw_init(&w, out);
	jw_obj(&w);
	jw_kstr(&w, "user_id", user);
	jw_ktime(&w, "created_at", v->created_at);
	jw_ktime(&w, "as_of", now);
	google_account(&w, c, user);

	jw_key(&w, "entitlements");
	jw_arr(&w);
	for (i = 0; i < v->nents; i++) {
		const struct ent_row *e = &v->ents[i];
		if (!ent_live(e, now))
			continue;
		jw_obj(&w);
		jw_kstr(&w, "name", e->name);
		if (full)
			jw_kstr(&w, "source", e->source);
		else
			ent_source_kind(&w, e->source);
		if (e->sub_id != 0)
			jw_kint(&w, "subscription_id", e->sub_id);
		else {
			jw_key(&w, "subscription_id");
			jw_null(&w);
		}
		jw_ktime(&w, "ends_at", e->ends_at);
		detail_json(&w, c, &v->ent_subs[i], now);
		jw_end(&w);
	}
	jw_aend(&w);

	jw_key(&w, "subscriptions");
	jw_arr(&w);
	for (i = 0; i < v->nsubs; i++) {
		const struct sub_row *r = &v->subs[i];
		jw_obj(&w);
		jw_kint(&w, "id", r->id);
		jw_kstr(&w, "provider", r->provider);
		if (full)
			jw_kstr(&w, "provider_id", r->ext_id);
		jw_kstr(&w, "product", r->product);
		jw_kstr(&w, "state", sub_state_str(r->state));
		jw_kbool(&w, "live", r->live);
		jw_kbool(&w, "access", sub_has_access(r, &c->policy, now));
		jw_ktime(&w, "access_until",
		    sub_state_grants_access(r->state) ? sub_access_end(r, &c->policy) : 0);
		jw_ktime(&w, "period_start", r->period_start);
		jw_ktime(&w, "period_end", r->period_end);
		jw_ktime(&w, "trial_end", r->trial_end);
		jw_ktime(&w, "grace_until", r->grace_until);
		jw_kbool(&w, "cancel_at_period_end", r->cancel_at_period_end);
		jw_ktime(&w, "updated_at", r->updated_at);
		detail_json(&w, c, r, now);
		jw_end(&w);
	}
	jw_aend(&w);

	jw_key(&w, "balance");
	jw_obj(&w);
	jw_kint(&w, "available", v->available);
	jw_key(&w, "grants");
	jw_arr(&w);
	for (i = 0; i < v->ngrants; i++) {
		const struct grant_row *g = &v->grants[i];
		jw_obj(&w);
		if (full)
			jw_kint(&w, "id", g->id);
		jw_kstr(&w, "source", grant_source_str(g->source));
		jw_kstr(&w, "product", g->product[0] != '\0' ? g->product : NULL);
		jw_kint(&w, "granted", g->amount);
		jw_kint(&w, "remaining", g->remaining);
		jw_ktime(&w, "expires_at", g->expires_at);
		jw_end(&w);
	}
	jw_aend(&w);
	jw_end(&w);

	if (!full) {
		/* Newest first: each line's balance after is the next newer one's less its amount. */
		jw_key(&w, "ledger");
		jw_arr(&w);
		for (i = 0, after = v->held; i < v->nlines; i++) {
			const struct ledger_line *l = &v->lines[i];
			jw_obj(&w);
			jw_ktime(&w, "at", l->row.created_at);
			jw_kint(&w, "amount", l->row.amount);
			jw_kint(&w, "balance_after", after);
			jw_kstr(&w, "kind", user_kind(l));
			jw_kstr(&w, "reason", user_reason(l));
			jw_end(&w);
			after -= l->row.amount;
		}
		jw_aend(&w);
		jw_end(&w);
		rc = out->err;
		goto out;
	}

	jw_key(&w, "links");
	jw_arr(&w);
	for (i = 0; i < v->nlinks; i++) {
		jw_obj(&w);
		jw_kstr(&w, "provider", v->links[i].provider);
		jw_kstr(&w, "kind", v->links[i].kind);
		jw_kstr(&w, "id", v->links[i].ext_id);
		jw_end(&w);
	}
	jw_aend(&w);

	jw_key(&w, "ledger");
	jw_arr(&w);
	for (i = 0; i < v->nledger; i++) {
		const struct ledger_row *l = &v->ledger[i];
		jw_obj(&w);
		jw_kint(&w, "id", l->id);
		jw_ktime(&w, "at", l->created_at);
		jw_kint(&w, "amount", l->amount);
		jw_kstr(&w, "kind", l->kind);
		jw_kint(&w, "grant_id", l->grant_id);
		jw_kstr(&w, "actor", l->actor);
		jw_kstr(&w, "reason", l->reason);
		jw_end(&w);
	}
	jw_aend(&w);

	jw_key(&w, "audit");
	jw_arr(&w);
	for (i = 0; i < v->naudit; i++) {
		const struct audit_row *a = &v->audit[i];
		jw_obj(&w);
		jw_kint(&w, "id", a->id);
		jw_ktime(&w, "at", a->at);
		jw_kstr(&w, "actor", a->actor);
		jw_kstr(&w, "action", a->action);
		jw_kstr(&w, "object", a->object);
		jw_kstr(&w, "detail", a->detail);
		jw_kstr(&w, "reason", a->reason);
		jw_end(&w);
	}
	jw_aend(&w);
	jw_end(&w);
	rc = out->err;
out:
	free(v);
	return rc;
}

static void
time_or(struct buf *b, int64_t ms, const char *none)
{
	char iso[TM_ISO_SIZE];

	if (ms == 0) {
		buf_puts(b, none);
		return;
	}
	tm_iso(ms, iso);
	buf_puts(b, iso);
}

/* detail_json's facts for people, on a line of their own under the entitlement or subscription. */
static void
detail_text(struct buf *b, const struct cfg *c, const struct sub_row *r, int64_t now)
{
	struct sub_detail d;

	if (r->state == SUB_NONE)
		return;
	sub_detail(r, c, now, &d);
	buf_puts(b, "      ");
	buf_puts(b, d.will_renew ? "renews" : "does not renew");
	if (d.in_trial) {
		buf_puts(b, "; in trial until ");
		time_or(b, d.trial_ends_at, "?");
	}
	if (d.canceled_at_period_end)
		buf_puts(b, "; canceled at period end");
	if (d.problem != NULL) {
		buf_printf(b, "; billing problem (%s), access %s ", d.problem,
		    strcmp(d.problem, "grace") == 0 ? "until" : "ended");
		time_or(b, d.problem_ends_at, "?");
	}
	buf_printf(b, "; managed in %s", d.managed_in);
	if (d.manage_url[0] != '\0')
		buf_printf(b, ": %s", d.manage_url);
	buf_putc(b, '\n');
}

enum terr
report_user_text(struct store *s, const struct cfg *c, const char *user, int64_t now,
    struct buf *out)
{
	struct user_view *v;
	size_t i, shown = 0;
	enum terr rc;

	if ((v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	if ((rc = load(s, user, now, REPORT_FULL, v)) != TERR_OK)
		goto out;
	buf_printf(out, "user %s (since ", user);
	time_or(out, v->created_at, "?");
	buf_puts(out, ")\n\nentitlements:\n");
	for (i = 0; i < v->nents; i++) {
		const struct ent_row *e = &v->ents[i];
		if (!ent_live(e, now))
			continue;
		buf_printf(out, "  %-16s until ", e->name);
		time_or(out, e->ends_at, "no end");
		buf_printf(out, "  (%s)\n", e->source);
		detail_text(out, c, &v->ent_subs[i], now);
		shown++;
	}
	if (shown == 0)
		buf_puts(out, "  none\n");
	buf_puts(out, "\nsubscriptions:\n");
	for (i = 0; i < v->nsubs; i++) {
		const struct sub_row *r = &v->subs[i];
		buf_printf(out, "  #%lld %s %s  %s  %s%s  period ", (long long)r->id, r->provider,
		    r->ext_id, r->product, sub_state_str(r->state), r->live ? "" : " (test)");
		time_or(out, r->period_start, "?");
		buf_puts(out, " .. ");
		time_or(out, r->period_end, "?");
		buf_puts(out,
		    sub_has_access(r, &c->policy, now) ? "  access until " : "  no access");
		if (sub_has_access(r, &c->policy, now))
			time_or(out, sub_access_end(r, &c->policy), "no end");
		buf_putc(out, '\n');
		detail_text(out, c, r, now);
	}
	if (v->nsubs == 0)
		buf_puts(out, "  none\n");
	buf_printf(out, "\nbalance: %lld credits\n", (long long)v->available);
	for (i = 0; i < v->ngrants; i++) {
		const struct grant_row *g = &v->grants[i];
		buf_printf(out, "  grant #%lld  %-12s %-16s %lld/%lld  ", (long long)g->id,
		    grant_source_str(g->source), g->product[0] != '\0' ? g->product : "-",
		    (long long)g->remaining, (long long)g->amount);
		if (g->expires_at != 0) {
			buf_puts(out, "expires ");
			time_or(out, g->expires_at, "");
		} else
			buf_puts(out, "never expires");
		buf_putc(out, '\n');
	}
	buf_puts(out, "\nlinks:\n");
	for (i = 0; i < v->nlinks; i++)
		buf_printf(out, "  %s %s %s\n", v->links[i].provider, v->links[i].kind,
		    v->links[i].ext_id);
	if (v->nlinks == 0)
		buf_puts(out, "  none\n");
	buf_puts(out, "\nrecent ledger:\n");
	for (i = 0; i < v->nledger; i++) {
		const struct ledger_row *l = &v->ledger[i];
		buf_puts(out, "  ");
		time_or(out, l->created_at, "?");
		buf_printf(out, "  %+lld %-8s grant #%lld  %s%s%s\n", (long long)l->amount, l->kind,
		    (long long)l->grant_id, l->actor, l->reason[0] ? "  " : "", l->reason);
	}
	buf_puts(out, "\nrecent audit:\n");
	for (i = 0; i < v->naudit; i++) {
		const struct audit_row *a = &v->audit[i];
		buf_puts(out, "  ");
		time_or(out, a->at, "?");
		buf_printf(out, "  %s  %s %s  %s%s%s\n", a->actor, a->action, a->object, a->detail,
		    a->reason[0] ? "  reason: " : "", a->reason);
	}
	rc = out->err;
out:
	free(v);
	return rc;
}
