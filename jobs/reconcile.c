/*
 * tally-reconcile: what the providers know and tally missed, found through
 * their APIs and applied through the same path as their webhooks, with a
 * drift report (--json: the items). Each configured provider in turn:
 *
 *   stripe      (STRIPE_API_KEY) the events Stripe kept since the window's
 *               start (GET /v1/events, every page first, then oldest first):
 *               those the inbox lacks are applied as the webhook would have
 *               (same ids, so never twice). Then stale subscriptions (access
 *               should have ended and no event said so: active past period
 *               end + leeway, canceled past period end, past_due past grace,
 *               trialing past trial end), oldest first: GET
 *               /v1/subscriptions/{id}; when Stripe's state differs, it is
 *               applied as a customer.subscription.updated event
 *               "reconcile:<sub>:<16 hex of its SHA-256>" (the same state twice
 *               is one event).
 *   apple       (apple.key_id, issuer_id, APPLE_PRIVATE_KEY) Get Notification
 *               History for the window, every page fetched and verified
 *               first; those the inbox lacks applied (as `tally apple
 *               missed`); Sandbox too when apple.sandbox.
 *   revenuecat  (REVENUECAT_API_KEY) the users of stale RevenueCat
 *               subscriptions, oldest first: GET /v1/subscribers/{app_user_id}
 *               and the differences applied as `tally revenuecat sync` does.
 *
 * A provider that cannot be reached (or refuses the key, or rate-limits) is
 * reported with its error and changes nothing more; the others still run;
 * the run exits 1. Events already applied stay applied, each complete.
 *
 *   --provider NAME  only this provider
 *   --since TIME|AGE the window's start (RFC 3339, or an age such as 48h);
 *                    default: the last successful run less an hour (3 days
 *                    when none), at most 30 days back for Stripe (what it
 *                    keeps) and 180 for Apple.
 * --limit bounds the subscriptions and users checked (events of the window
 * are all fetched, at most STRIPE_SYNC_EVENTS_MAX / APPSTORE_API_ITEMS_MAX).
 * Razorpay, Telegram and CryptoBot are not reconciled yet. Exit 0, 1, 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appstore_api.h"
#include "crypto.h"
#include "job.h"
#include "json.h"
#include "provider.h"
#include "revenuecat.h"
#include "store_access.h"
#include "store_jobs.h"
#include "stripe.h"
#include "stripe_sync.h"
#include "sub.h"
#include "text.h"
#include "tm.h"

#define LIMIT_DEFAULT 500
#define DAY_MS        (86400LL * 1000)
#define OVERLAP_MS    (3600LL * 1000)
#define FIRST_WINDOW  (3 * DAY_MS)
#define STRIPE_BACK   (30 * DAY_MS)
#define APPLE_BACK    (180 * DAY_MS)
/* Stale subscriptions (or users) checked against one provider in a run, at most. */
#define STALE_MAX     1000

static const char *const opts[] = { "provider", "since", NULL };

/* The window's start: --since, else the last successful run less an hour; at most back ago. */
static int64_t
window_start(struct job *j, int64_t last_ok, int64_t back)
{
	const char *s = job_opt(j, "since");
	int64_t since, d;

	if (s != NULL && tm_parse(s, &since) != TERR_OK && tm_parse_duration(s, &d) == TERR_OK)
		since = j->now - d;
	else if (s == NULL)
		since = last_ok != 0 ? (last_ok < j->now ? last_ok : j->now) - OVERLAP_MS
				     : j->now - FIRST_WINDOW;
	return since < j->now - back ? j->now - back : since;
}

/* A line of the report, counted as "<provider>.<what>". */
static void
say(struct job *j, const struct job_item *it, const char *what)
{
	char name[48];

	job_report(j, it);
	snprintf(name, sizeof(name), "%s.%s", it->provider, what);
	job_count(j, name, 1);
}

/* A provider's line in the report: ok, or why it could not be reconciled (the run fails). */
static void
provider_result(struct job *j, const char *provider, const char *why)
{
	const char *result = why == NULL ? "ok" : "error";
	struct job_item it = { .action = "provider",
		.subject = provider,
		.provider = provider,
		.result = result,
		.reason = why };

	say(j, &it, result);
	if (why != NULL)
		job_fail(j, "%s: %s", provider, why);
}

static void
drift(struct job *j, const char *provider, const char *subject, const char *user, const char *tally,
    const char *theirs, const char *result)
{
	struct job_item it = { .action = "drift",
		.subject = subject,
		.user = user,
		.provider = provider,
		.tally = tally,
		.theirs = theirs,
		.result = result };

	say(j, &it, "drift");
}

/* "active until 2026-12-01T00:00:00Z" */
static void
describe(enum sub_state st, int64_t end, int cancel, char *out, size_t size)
{
	char when[TM_ISO_SIZE];

	tm_iso(end, when);
	snprintf(out, size, "%s%s until %s", sub_state_str(st), cancel > 0 ? " (ends)" : "",
	    end != 0 ? when : "?");
}

/* ------------------------------------------------------ stale subscriptions */

struct stale {
	const char *provider;
	struct sub_row *rows;
	size_t n, max;
};

static int
take_stale(struct job *j, const struct sub_row *r, void *arg)
{
	struct stale *st = arg;
	size_t i;

	(void)j;
	if (strcmp(r->provider, st->provider) != 0 || st->n == st->max)
		return 0;
	for (i = 0; i < st->n; i++)
		if (st->rows[i].id == r->id)
			return 0;
	st->rows[st->n++] = *r;
	return 0;
}

/*
 * The provider's subscriptions whose access should have ended with no event
 * saying so, oldest first: active past period end + leeway, canceled past
 * period end, past_due past grace, trialing past trial end.
 */
static int
stale_subs(struct job *j, struct stale *st)
{
	struct store_pos start = STORE_POS_START;
	int64_t room = j->limit - j->done;
	size_t k, n;
	struct sub_row *v;

	st->max = room < STALE_MAX ? (size_t)(room > 0 ? room : 0) : STALE_MAX;
	if (st->max == 0 || (st->rows = calloc(st->max, sizeof(*st->rows))) == NULL)
		return st->max == 0 ? 0 : -1;
	/* The walk's own visits count nothing against the limit: only the checks do. */
	n = 0;
	if (job_walk_subs(j, DUE_PERIOD, start, j->now - j->cfg.policy.leeway, take_stale, st) !=
		0 ||
	    job_walk_subs(j, DUE_GRACE, start, j->now, take_stale, st) != 0 ||
	    job_walk_subs(j, DUE_TRIAL, start, j->now, take_stale, st) != 0)
		return -1;
	/* Only those whose access has ended (a past_due's grace may run from state_at still). */
	for (k = 0, v = st->rows; k < st->n; k++)
		if (!sub_has_access(&v[k], &j->cfg.policy, j->now))
			v[n++] = v[k];
	st->n = n;
	return 0;
}

/* ------------------------------------------------------------------ stripe */

/* A fetched subscription compared with tally's row; applied when they differ. */
static int
stripe_compare(struct job *j, const struct sub_row *row, const char *sub_json, struct bev *e)
{
	unsigned char h[SHA256_LEN];
	char id[ID_MAX], hex[33], why[REASON_MAX], tally[96], theirs[96], subject[ID_MAX + 32];
	struct buf body;
	int differs;

	sha256(sub_json, strlen(sub_json), h);
	text_hex(h, 16, hex);
	snprintf(id, sizeof(id), "reconcile:%.200s:%s", row->ext_id, hex);
	buf_init(&body, BODY_MAX);
	if (stripe_sync_event(id, j->now, sub_json, &body) != TERR_OK ||
	    stripe_parse(&j->cfg, buf_cstr(&body), body.len, e, why, sizeof(why)) != TERR_OK) {
		job_fail(j, "stripe subscription %s: Stripe's answer cannot be read", row->ext_id);
		buf_release(&body);
		return 0;
	}
	snprintf(subject, sizeof(subject), "subscription %lld (%s)", (long long)row->id,
	    row->ext_id);
	describe(row->state, row->period_end, row->cancel_at_period_end, tally, sizeof(tally));
	describe(e->sub.state, e->sub.period_end, e->sub.cancel_at_period_end, theirs,
	    sizeof(theirs));
	differs = e->sub.state != row->state ||
	    (e->sub.period_end != 0 && e->sub.period_end != row->period_end) ||
	    (e->sub.cancel_at_period_end >= 0 &&
		e->sub.cancel_at_period_end != row->cancel_at_period_end);
	if (!differs) {
		job_count(j, "stripe.in_sync", 1);
		buf_release(&body);
		return 0;
	}
	drift(j, "stripe", subject, row->user, tally, theirs, "found");
	differs =
	    job_apply_raw(j, "stripe", buf_cstr(&body), body.len, "stripe subscription", subject);
	buf_release(&body);
	return differs;
}

static void
stripe(struct job *j, int64_t last_ok)
{
	struct buf events;
	struct stale st = { "stripe", NULL, 0, 0 };
	struct buf *subs = NULL;
	struct bev *e = NULL;
	char why[512];
	size_t i, n, end, line;
	enum terr rc;

	buf_init(&events, STRIPE_SYNC_TEXT_MAX);
	rc = stripe_sync_events(&j->cfg, window_start(j, last_ok, STRIPE_BACK), &events, &n, why,
	    sizeof(why));
	if (rc != TERR_OK) {
		provider_result(j, "stripe", why);
		goto out;
	}
	job_count(j, "stripe.events_fetched", (int64_t)n);
	/* Newest first in the text: applied from its end, oldest first. */
	for (end = events.len; end > 0 && !j->stop; end = line) {
		for (line = end - 1; line > 0 && events.p[line - 1] != '\n'; line--)
			;
		if (job_apply_raw(j, "stripe", events.p + line, end - 1 - line, "stripe event",
			"event") != 0)
			goto out;
	}
	if (job_flush(j) != 0 || stale_subs(j, &st) != 0)
		goto out;
	/* Every subscription fetched before any is applied: an unreachable Stripe changes nothing. */
	if (st.n > 0 &&
	    ((subs = calloc(st.n, sizeof(*subs))) == NULL || (e = malloc(sizeof(*e))) == NULL)) {
		job_fail(j, "out of memory");
		goto out;
	}
	for (i = 0; i < st.n; i++) {
		buf_init(&subs[i], BODY_MAX / 2);
		j->done++;
		rc = stripe_sync_subscription(&j->cfg, st.rows[i].ext_id, &subs[i], why,
		    sizeof(why));
		if (rc == TERR_NOTFOUND) {
			char subject[ID_MAX + 32], tally[96];
			snprintf(subject, sizeof(subject), "subscription %lld (%s)",
			    (long long)st.rows[i].id, st.rows[i].ext_id);
			describe(st.rows[i].state, st.rows[i].period_end,
			    st.rows[i].cancel_at_period_end, tally, sizeof(tally));
			drift(j, "stripe", subject, st.rows[i].user, tally, "no such subscription",
			    "reported");
			buf_reset(&subs[i]);
			continue;
		}
		if (rc != TERR_OK) {
			provider_result(j, "stripe", why);
			goto out;
		}
		if (job_tick(j) != 0)
			goto out;
	}
	for (i = 0; i < st.n && !j->stop; i++)
		if (subs[i].len > 0 && stripe_compare(j, &st.rows[i], buf_cstr(&subs[i]), e) != 0)
			goto out;
	if (job_flush(j) == 0 && !j->stop)
		provider_result(j, "stripe", NULL);
out:
	if (subs != NULL)
		for (i = 0; i < st.n; i++)
			buf_release(&subs[i]);
	free(subs);
	free(e);
	free(st.rows);
	buf_release(&events);
}

/* ------------------------------------------------------------------- apple */

static void
apple_env(struct job *j, int sandbox, int64_t since)
{
	const char *name = sandbox ? "apple sandbox" : "apple";
	struct appstore_api *a = NULL;
	struct appstore_list list = { 0 };
	struct buf body;
	char why[512];
	size_t i;
	int64_t wall = tm_now_ms();

	if (appstore_api_new(&a, &j->cfg, sandbox, why, sizeof(why)) != TERR_OK) {
		provider_result(j, name, why);
		return;
	}
	/* Apple's clock, not --now: the JWT's iat and the window's end are checked against it. */
	if (appstore_api_notifications(a, since < wall ? since : wall - DAY_MS, wall, 0, wall,
		&list, why, sizeof(why)) != TERR_OK) {
		provider_result(j, name, why);
		goto out;
	}
	job_count(j, sandbox ? "apple.sandbox_fetched" : "apple.fetched", (int64_t)list.n);
	buf_init(&body, BODY_MAX);
	for (i = 0; i < list.n && !j->stop; i++) {
		buf_reset(&body);
		buf_puts(&body, "{\"signedPayload\":");
		json_escape(&body, list.v[i], strlen(list.v[i]));
		buf_putc(&body, '}');
		if (job_apply_raw(j, "apple", buf_cstr(&body), body.len, "apple notification",
			"notification") != 0)
			break;
	}
	buf_release(&body);
	if (job_flush(j) == 0 && !j->stop)
		provider_result(j, name, NULL);
out:
	appstore_list_release(&list);
	appstore_api_free(a);
}

/* -------------------------------------------------------------- revenuecat */

/* The app user id RevenueCat knows user by: its link, else the user id itself. */
static void
app_user_id(struct job *j, const char *user, char *out, size_t size)
{
	struct link_row links[16];
	size_t n = 0, i;

	text_copy(out, size, user);
	if (store_links_of(j->s, user, links, 16, &n) != TERR_OK)
		return;
	for (i = 0; i < n; i++)
		if (strcmp(links[i].provider, "revenuecat") == 0 &&
		    strcmp(links[i].kind, "app_user_id") == 0 &&
		    strncmp(links[i].ext_id, "$RCAnonymousID:", 15) != 0) {
			text_copy(out, size, links[i].ext_id);
			return;
		}
}

static void
revenuecat_report(struct job *j, const struct rc_sync *p)
{
	char subject[ID_MAX + 64];
	size_t i;

	for (i = 0; i < p->n; i++) {
		const struct rc_change *ch = &p->changes[i];
		struct job_item it = { .action = "drift",
			.subject = subject,
			.user = p->user,
			.provider = "revenuecat",
			.tally = ch->tally,
			.theirs = ch->revenuecat,
			.event_id = ch->event_id[0] != '\0' ? ch->event_id : NULL,
			.reason = ch->done ? ch->reason : ch->note };
		snprintf(subject, sizeof(subject), "%s %.200s", ch->what, ch->product);
		it.result = ch->event_type[0] == '\0' ? "reported"
		    : j->dry_run                      ? "would apply"
		    : !ch->done                       ? "not applied"
		    : ch->duplicate                   ? "duplicate"
						      : inbox_state_str(ch->state);
		say(j, &it, "drift");
		if (ch->done && !ch->duplicate && ch->state != INBOX_APPLIED &&
		    ch->state != INBOX_IGNORED)
			job_fail(j, "revenuecat %s: %s", subject, ch->reason);
	}
}

static void
revenuecat(struct job *j)
{
	struct stale st = { "revenuecat", NULL, 0, 0 };
	struct rc_subscriber *r = NULL;
	struct rc_sync *p = NULL;
	char who[ID_MAX], why[512];
	long retry;
	size_t i, k;
	enum terr rc;

	if (stale_subs(j, &st) != 0 || (r = calloc(1, sizeof(*r))) == NULL ||
	    (p = calloc(1, sizeof(*p))) == NULL) {
		if (!j->stop)
			job_fail(j, "out of memory");
		goto out;
	}
	for (i = 0; i < st.n && job_more(j); i++) {
		for (k = 0; k < i && strcmp(st.rows[k].user, st.rows[i].user) != 0; k++)
			;
		if (k < i)
			continue; /* this user was synced already */
		j->done++;
		app_user_id(j, st.rows[i].user, who, sizeof(who));
		rc = revenuecat_subscriber(&j->cfg, who, r, &retry, why, sizeof(why));
		if (rc == TERR_NOTFOUND) {
			drift(j, "revenuecat", "customer", st.rows[i].user, "subscribed",
			    "no such customer", "reported");
			continue;
		}
		if (rc != TERR_OK) {
			provider_result(j, "revenuecat", why);
			goto out;
		}
		if (r->request_ms == 0)
			r->request_ms = j->now;
		if ((rc = revenuecat_sync_plan(j->s, &j->cfg, who, r, "reconcile", p)) != TERR_OK ||
		    (!j->dry_run &&
			(rc = revenuecat_sync_apply(j->s, &j->cfg, p, j->now)) != TERR_OK)) {
			j->stop = 1;
			job_fail(j, "revenuecat %s: storage failed: %s", who, terr_str(rc));
			goto out;
		}
		if (p->n == 0)
			job_count(j, "revenuecat.in_sync", 1);
		revenuecat_report(j, p);
	}
	if (!j->stop)
		provider_result(j, "revenuecat", NULL);
out:
	free(r);
	free(p);
	free(st.rows);
}

/* ----------------------------------------------------------------------- */

static int
wanted(struct job *j, const char *name)
{
	const char *only = job_opt(j, "provider");

	return only == NULL || strcmp(only, name) == 0;
}

int
main(int argc, char **argv)
{
	struct job_row rows[64];
	struct job j;
	const char *only, *since;
	int64_t last_ok = 0, d, t;
	size_t n = 0, i;
	int r, any = 0;

	if ((r = job_init(&j, "reconcile", argc, argv, opts, LIMIT_DEFAULT)) != JOB_RUN)
		return r;
	only = job_opt(&j, "provider");
	since = job_opt(&j, "since");
	if ((only != NULL && strcmp(only, "stripe") != 0 && strcmp(only, "apple") != 0 &&
		strcmp(only, "revenuecat") != 0) ||
	    (since != NULL && tm_parse(since, &t) != TERR_OK &&
		tm_parse_duration(since, &d) != TERR_OK)) {
		fprintf(stderr,
		    "tally-reconcile: --provider takes stripe, apple or revenuecat; "
		    "--since a time (2026-11-01T00:00:00Z) or an age (48h)\n");
		job_finish(&j);
		return 2;
	}
	if (store_jobs_list(j.s, rows, 64, &n) == TERR_OK)
		for (i = 0; i < n; i++)
			if (strcmp(rows[i].name, "reconcile") == 0)
				last_ok = rows[i].last_success_at;
	if (wanted(&j, "stripe") && j.cfg.stripe.api_key[0] != '\0') {
		any = 1;
		stripe(&j, last_ok);
	}
	if (wanted(&j, "apple") && !j.stop && j.cfg.apple.key_id[0] != '\0' &&
	    j.cfg.apple.issuer_id[0] != '\0' && j.cfg.apple.private_key[0] != '\0') {
		any = 1;
		apple_env(&j, 0, window_start(&j, last_ok, APPLE_BACK));
		if (j.cfg.apple.sandbox && !j.stop)
			apple_env(&j, 1, window_start(&j, last_ok, APPLE_BACK));
	}
	if (wanted(&j, "revenuecat") && !j.stop && j.cfg.revenuecat.api_key[0] != '\0') {
		any = 1;
		revenuecat(&j);
	}
	if (!any)
		job_count(&j, "providers_configured", 0);
	return job_finish(&j);
}
