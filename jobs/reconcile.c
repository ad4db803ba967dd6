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
 *               missed`); Sandbox too when apple.sandbox. Then stale Apple
 *               subscriptions, oldest first: Get All Subscription Statuses
 *               of each original transaction (the Sandbox host for a Sandbox
 *               one, when apple.sandbox), every answer fetched and verified
 *               first; the item of that original transaction becomes tally's
 *               status envelope (appstore.h: the status and both JWS as Apple
 *               signed them) and, when its state differs, is applied through
 *               appstore_parse as "status:<original id>:<16 hex of SHA-256>"
 *               (the same answer twice is one event). The "apple" line
 *               covers Production's notifications and every status.
 *   revenuecat  (REVENUECAT_API_KEY) the users of stale RevenueCat
 *               subscriptions, oldest first: GET /v1/subscribers/{app_user_id}
 *               and the differences applied as `tally revenuecat sync` does.
 *   razorpay    (razorpay.key_id, RAZORPAY_KEY_SECRET) tally's pending
 *               Razorpay orders, oldest expiry first: GET /v1/orders/{id} and
 *               /v1/orders/{id}/payments; a captured payment is applied as the
 *               order.paid webhook would have (event "checkout:<payment id>",
 *               the Checkout callback's; the payment id is the business key,
 *               so the webhook arriving later grants nothing; amount and
 *               currency checked against the order by apply). Then stale
 *               Razorpay subscriptions (sub_...): GET /v1/subscriptions/{id};
 *               a status that differs is applied as subscription.<status>,
 *               "reconcile:<sub>:<16 hex of its SHA-256>".
 *   cryptobot   (CRYPTOBOT_TOKEN) tally's pending CryptoBot orders, oldest
 *               expiry first: getInvoices by invoice_ids (100 a call); a paid
 *               invoice is applied as the invoice_paid webhook would have
 *               (the same event id "invoice_paid:<invoice>": a later webhook
 *               or run is a duplicate); an expired one is reported, and the
 *               grace-expiry job expires the order.
 *   telegram    (TELEGRAM_BOT_TOKEN) Stars only: tally's pending XTR orders;
 *               getStarTransactions, newest first, a page of 100 at a time
 *               until past the oldest such order (at most 50 pages), all read
 *               first; an incoming invoice payment of a user naming one of
 *               them is applied as the successful_payment the webhook would
 *               have carried (event "stars:<charge id>"; the charge id, the
 *               transaction's id, is the business key: a later webhook or
 *               run grants nothing); one refunded since is reported. An
 *               ordinary Telegram Payments invoice cannot be reconciled (no
 *               Bot API method says whether it was paid): such orders are
 *               counted in the provider line as not reconcilable.
 *
 * A provider that cannot be reached (or refuses the key, or rate-limits) is
 * reported with its error and changes nothing more; the others still run;
 * the run exits 1. Events already applied stay applied, each complete.
 *
 *   --provider NAME  only this provider (stripe, apple, revenuecat, razorpay,
 *                    cryptobot, telegram)
 *   --since TIME|AGE the window's start (RFC 3339, or an age such as 48h);
 *                    default: the last successful run less an hour (3 days
 *                    when none), at most 30 days back for Stripe (what it
 *                    keeps) and 180 for Apple.
 * --limit bounds the subscriptions, users and orders checked (events of the
 * window are all fetched, at most STRIPE_SYNC_EVENTS_MAX /
 * APPSTORE_API_ITEMS_MAX). The direct providers' code is lib/reconcile_*.c.
 * Exit 0, 1, 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "core/provider.h"
#include "core/sub.h"
#include "crypto/crypto.h"
#include "job/job.h"
#include "job/reconcile.h"
#include "job/reconcile_cryptobot.h"
#include "job/reconcile_razorpay.h"
#include "job/reconcile_telegram.h"
#include "job/revenuecat_sync.h"
#include "providers/appstore/appstore_api.h"
#include "providers/stripe/stripe.h"
#include "providers/stripe/stripe_sync.h"

#define LIMIT_DEFAULT 500
#define DAY_MS        (86400LL * 1000)
#define OVERLAP_MS    (3600LL * 1000)
#define FIRST_WINDOW  (3 * DAY_MS)
#define STRIPE_BACK   (30 * DAY_MS)
#define APPLE_BACK    (180 * DAY_MS)

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

/* ------------------------------------------------------------------ stripe */

/* A fetched subscription compared with tally's row; applied when they differ. */
static int
stripe_compare(struct job *j, const struct sub_row *row, const char *sub_json, struct bev *e)
{
	unsigned char h[SHA256_LEN];
	char id[ID_MAX], hex[33], why[REASON_MAX], tally[96], theirs[96], subject[ID_MAX + 32];
	struct buf body;
	int differs;

	crypto_sha256(sub_json, strlen(sub_json), h);
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
	reconcile_describe(row->state, row->period_end, row->cancel_at_period_end, tally,
	    sizeof(tally));
	reconcile_describe(e->sub.state, e->sub.period_end, e->sub.cancel_at_period_end, theirs,
	    sizeof(theirs));
	differs = reconcile_differs(row, e);
	if (!differs) {
		job_count(j, "stripe.in_sync", 1);
		buf_release(&body);
		return 0;
	}
	reconcile_drift(j, "stripe", subject, row->user, tally, theirs, "found", NULL);
	differs =
	    job_apply_raw(j, "stripe", buf_cstr(&body), body.len, "stripe subscription", subject);
	buf_release(&body);
	return differs;
}

static void
stripe(struct job *j, int64_t last_ok)
{
	struct buf events;
	struct reconcile_stale st = { "stripe", NULL, 0, 0 };
	struct buf *subs = NULL;
	struct bev *e = NULL;
	char why[512];
	size_t i, n, end, line;
	enum terr rc;

	buf_init(&events, STRIPE_SYNC_TEXT_MAX);
	rc = stripe_sync_events(&j->cfg, window_start(j, last_ok, STRIPE_BACK), &events, &n, why,
	    sizeof(why));
	if (rc != TERR_OK) {
		reconcile_result(j, "stripe", why);
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
	if (job_flush(j) != 0 || reconcile_stale_subs(j, &st) != 0)
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
			reconcile_describe(st.rows[i].state, st.rows[i].period_end,
			    st.rows[i].cancel_at_period_end, tally, sizeof(tally));
			reconcile_drift(j, "stripe", subject, st.rows[i].user, tally,
			    "no such subscription", "reported", NULL);
			buf_reset(&subs[i]);
			continue;
		}
		if (rc != TERR_OK) {
			reconcile_result(j, "stripe", why);
			goto out;
		}
		if (job_tick(j) != 0)
			goto out;
	}
	for (i = 0; i < st.n && !j->stop; i++)
		if (subs[i].len > 0 && stripe_compare(j, &st.rows[i], buf_cstr(&subs[i]), e) != 0)
			goto out;
	if (job_flush(j) == 0 && !j->stop)
		reconcile_result(j, "stripe", NULL);
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

/* Get Notification History of one environment, applied. 0, or -1 (its line says why). */
static int
apple_env(struct job *j, int sandbox, int64_t since, int report_ok)
{
	const char *name = sandbox ? "apple sandbox" : "apple";
	struct appstore_api *a = NULL;
	struct appstore_list list = { 0 };
	struct buf body;
	char why[512];
	size_t i;
	int64_t wall = tm_now_ms();
	int ret = -1;

	if (appstore_api_new(&a, &j->cfg, sandbox, why, sizeof(why)) != TERR_OK) {
		reconcile_result(j, name, why);
		return -1;
	}
	/* Apple's clock, not --now: the JWT's iat and the window's end are checked against it. */
	if (appstore_api_notifications(a, since < wall ? since : wall - DAY_MS, wall, 0, wall,
		&list, why, sizeof(why)) != TERR_OK) {
		reconcile_result(j, name, why);
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
	if (job_flush(j) == 0 && !j->stop) {
		ret = 0;
		if (report_ok)
			reconcile_result(j, name, NULL);
	}
out:
	appstore_list_release(&list);
	appstore_api_free(a);
	return ret;
}

/*
 * Apple's status of one subscription as tally's envelope (appstore.h):
 * {"tally_status": {status, originalTransactionId, environment},
 * "signedTransactionInfo", "signedRenewalInfo"}, the JWS as Apple sent them.
 */
static enum terr
apple_envelope(const struct appstore_status *st, struct buf *body)
{
	buf_reset(body);
	buf_printf(body, "{\"tally_status\":{\"status\":%d,\"originalTransactionId\":", st->status);
	json_escape(body, st->original_id, strlen(st->original_id));
	buf_puts(body, ",\"environment\":");
	json_escape(body, st->environment, strlen(st->environment));
	buf_puts(body, "},\"signedTransactionInfo\":");
	json_escape(body, st->signed_tx, strlen(st->signed_tx));
	if (st->signed_renewal != NULL) {
		buf_puts(body, ",\"signedRenewalInfo\":");
		json_escape(body, st->signed_renewal, strlen(st->signed_renewal));
	}
	buf_putc(body, '}');
	return body->err;
}

static void
apple_subject(const struct sub_row *row, char *subject, size_t ssize, char *tally, size_t tsize)
{
	snprintf(subject, ssize, "subscription %lld (%s)", (long long)row->id, row->ext_id);
	reconcile_describe(row->state, row->period_end, row->cancel_at_period_end, tally, tsize);
}

/*
 * One stale subscription's status at Apple into body (left empty when
 * there is nothing to apply: reported). 0, or -1 with why (nothing applied).
 */
static int
apple_fetch_status(struct job *j, struct appstore_api *a, const struct sub_row *row,
    struct appstore_status *got, struct buf *body, struct bev *e, char *why, size_t whysize)
{
	char subject[ID_MAX + 32], tally[96], pwhy[REASON_MAX];
	size_t n = 0, k;
	enum terr rc;
	int ret = -1, keep = 0;

	buf_reset(body);
	apple_subject(row, subject, sizeof(subject), tally, sizeof(tally));
	/* Apple's clock, not --now, for the JWT (as apple_env). */
	rc = appstore_api_statuses(a, row->ext_id, tm_now_ms(), got, APPSTORE_STATUS_MAX, &n, why,
	    whysize);
	if (rc == TERR_NOTFOUND) {
		reconcile_drift(j, "apple", subject, row->user, tally, "no such subscription",
		    "reported", NULL);
		return 0;
	}
	if (rc != TERR_OK)
		return -1;
	/* The subscription's own item: Get All Subscription Statuses answers every group. */
	for (k = 0; k < n && strcmp(got[k].original_id, row->ext_id) != 0; k++)
		;
	if (k == n) {
		reconcile_drift(j, "apple", subject, row->user, tally,
		    "no status for this original transaction", "reported", NULL);
		ret = 0;
	} else if (got[k].status == 0) {
		reconcile_drift(j, "apple", subject, row->user, tally,
		    "a status tally does not know", "reported", NULL);
		ret = 0;
	} else if (apple_envelope(&got[k], body) != TERR_OK) {
		snprintf(why, whysize, "Apple's status of %.64s is larger than the largest body",
		    row->ext_id);
	} else if (appstore_parse(&j->cfg, buf_cstr(body), body->len, e, pwhy, sizeof(pwhy)) !=
	    TERR_OK) {
		snprintf(why, whysize, "Apple's status of %.64s cannot be read: %.300s",
		    row->ext_id, pwhy);
	} else if (!(e->aspects & BEV_SUB) || strcmp(e->sub.id, row->ext_id) != 0) {
		snprintf(why, whysize, "Apple's status of %.64s names another subscription",
		    row->ext_id);
	} else {
		ret = 0;
		keep = 1;
	}
	if (!keep)
		buf_reset(body);
	appstore_statuses_release(got, n);
	return ret;
}

/*
 * Stale Apple subscriptions, oldest first: Get All Subscription Statuses of
 * each (Production, or Sandbox for a Sandbox subscription when
 * apple.sandbox), every one fetched and verified first; those whose status
 * differs applied as tally's status envelope. 0, or -1 (the "apple" line
 * says why; nothing applied).
 */
static int
apple_statuses(struct job *j)
{
	struct reconcile_stale st = { "apple", NULL, 0, 0 };
	struct appstore_api *api[2] = { NULL, NULL };
	struct appstore_status *got = NULL;
	struct buf *bodies = NULL;
	struct bev *e = NULL;
	char why[512], subject[ID_MAX + 32], tally[96], theirs[96];
	size_t i, fetched = 0;
	int ret = -1, sandbox;

	why[0] = '\0';
	if (reconcile_stale_subs(j, &st) != 0) {
		if (!j->stop)
			job_fail(j, "out of memory");
		goto out;
	}
	if (st.n > 0 &&
	    ((bodies = calloc(st.n, sizeof(*bodies))) == NULL ||
		(got = calloc(APPSTORE_STATUS_MAX, sizeof(*got))) == NULL ||
		(e = malloc(sizeof(*e))) == NULL)) {
		job_fail(j, "out of memory");
		goto out;
	}
	for (i = 0; i < st.n; i++)
		buf_init(&bodies[i], BODY_MAX);
	/* Every status fetched and read before anything is applied. */
	for (i = 0; i < st.n; i++) {
		const struct sub_row *row = &st.rows[i];
		sandbox = !row->live;
		j->done++;
		if (sandbox && !j->cfg.apple.sandbox) {
			apple_subject(row, subject, sizeof(subject), tally, sizeof(tally));
			reconcile_drift(j, "apple", subject, row->user, tally, "not checked",
			    "reported", "a Sandbox subscription while apple.sandbox is off");
			continue;
		}
		if (api[sandbox] == NULL &&
		    appstore_api_new(&api[sandbox], &j->cfg, sandbox, why, sizeof(why)) != TERR_OK)
			goto failed;
		if (apple_fetch_status(j, api[sandbox], row, got, &bodies[i], e, why,
			sizeof(why)) != 0)
			goto failed;
		fetched++;
		if (job_tick(j) != 0)
			goto out;
	}
	job_count(j, "apple.statuses_fetched", (int64_t)fetched);
	for (i = 0; i < st.n && !j->stop; i++) {
		const struct sub_row *row = &st.rows[i];
		char pwhy[REASON_MAX];
		if (bodies[i].len == 0)
			continue;
		/* Read before (apple_fetch_status): it reads the same again. */
		if (appstore_parse(&j->cfg, buf_cstr(&bodies[i]), bodies[i].len, e, pwhy,
			sizeof(pwhy)) != TERR_OK)
			continue;
		apple_subject(row, subject, sizeof(subject), tally, sizeof(tally));
		reconcile_describe(e->sub.state, e->sub.period_end, e->sub.cancel_at_period_end,
		    theirs, sizeof(theirs));
		if (!reconcile_differs(row, e)) {
			job_count(j, "apple.in_sync", 1);
			continue;
		}
		reconcile_drift(j, "apple", subject, row->user, tally, theirs, "found", NULL);
		if (job_apply_raw(j, "apple", buf_cstr(&bodies[i]), bodies[i].len,
			"apple subscription", subject) != 0)
			goto out;
	}
	if (job_flush(j) == 0 && !j->stop)
		ret = 0;
	goto out;
failed:
	if (!j->stop)
		reconcile_result(j, "apple", why[0] != '\0' ? why : "failed");
out:
	for (i = 0; bodies != NULL && i < st.n; i++)
		buf_release(&bodies[i]);
	free(bodies);
	free(got);
	free(e);
	free(st.rows);
	appstore_api_free(api[0]);
	appstore_api_free(api[1]);
	return ret;
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
		reconcile_say(j, &it, "drift");
		if (ch->done && !ch->duplicate && ch->state != INBOX_APPLIED &&
		    ch->state != INBOX_IGNORED)
			job_fail(j, "revenuecat %s: %s", subject, ch->reason);
	}
}

static void
revenuecat(struct job *j)
{
	struct reconcile_stale st = { "revenuecat", NULL, 0, 0 };
	struct rc_subscriber *r = NULL;
	struct rc_sync *p = NULL;
	char who[ID_MAX], why[512];
	long retry;
	size_t i, k;
	enum terr rc;

	if (reconcile_stale_subs(j, &st) != 0 || (r = calloc(1, sizeof(*r))) == NULL ||
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
			reconcile_drift(j, "revenuecat", "customer", st.rows[i].user, "subscribed",
			    "no such customer", "reported", NULL);
			continue;
		}
		if (rc != TERR_OK) {
			reconcile_result(j, "revenuecat", why);
			goto out;
		}
		if (r->request_ms == 0)
			r->request_ms = j->now;
		if ((rc = revenuecat_sync_plan(j->s, &j->cfg, who, r, "reconcile", p)) != TERR_OK ||
		    (!j->dry_run &&
			(rc = revenuecat_sync_apply(j->s, &j->cfg, p, j->now)) != TERR_OK)) {
			j->stop = 1;
			job_fail(j, "revenuecat %s: storage failed: %s", who, err_str(rc));
			goto out;
		}
		if (p->n == 0)
			job_count(j, "revenuecat.in_sync", 1);
		revenuecat_report(j, p);
	}
	if (!j->stop)
		reconcile_result(j, "revenuecat", NULL);
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
		strcmp(only, "revenuecat") != 0 && strcmp(only, "razorpay") != 0 &&
		strcmp(only, "cryptobot") != 0 && strcmp(only, "telegram") != 0) ||
	    (since != NULL && tm_parse(since, &t) != TERR_OK &&
		tm_parse_duration(since, &d) != TERR_OK)) {
		fprintf(stderr,
		    "tally-reconcile: --provider takes stripe, apple, revenuecat, razorpay, "
		    "cryptobot or telegram; "
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
		int prod;
		any = 1;
		prod = apple_env(&j, 0, window_start(&j, last_ok, APPLE_BACK), 0);
		if (j.cfg.apple.sandbox && !j.stop)
			apple_env(&j, 1, window_start(&j, last_ok, APPLE_BACK), 1);
		/* The "apple" line covers Production's notifications and every status. */
		if (prod == 0 && !j.stop && apple_statuses(&j) == 0 && !j.stop)
			reconcile_result(&j, "apple", NULL);
	}
	if (wanted(&j, "revenuecat") && !j.stop && j.cfg.revenuecat.api_key[0] != '\0') {
		any = 1;
		revenuecat(&j);
	}
	if (wanted(&j, "razorpay") && !j.stop && j.cfg.razorpay.key_id[0] != '\0' &&
	    j.cfg.razorpay.key_secret[0] != '\0') {
		any = 1;
		reconcile_razorpay(&j);
	}
	if (wanted(&j, "cryptobot") && !j.stop && j.cfg.cryptobot.token[0] != '\0') {
		any = 1;
		reconcile_cryptobot(&j);
	}
	if (wanted(&j, "telegram") && !j.stop && j.cfg.telegram.bot_token[0] != '\0') {
		any = 1;
		reconcile_telegram(&j);
	}
	if (!any)
		job_count(&j, "providers_configured", 0);
	return job_finish(&j);
}
