/*
 * tally-reconcile (jobs/reconcile.c): the report lines every provider's
 * reconciliation shares and the walk of stale subscriptions (lib/job/reconcile.c),
 * and each provider's pass, one file each (lib/job/reconcile_stripe.c,
 * reconcile_appstore.c, reconcile_revenuecat.c, reconcile_cryptobot.c,
 * reconcile_razorpay.c, reconcile_telegram.c, reconcile_google.c, each declared in its own header
 * and calling this file's functions), each run through the job's batches of
 * provider events (job_apply_raw, or for RevenueCat the sync's own apply), so
 * that what is applied goes through the webhook's own parser and apply path.
 *
 * Every provider's pass first fetches and checks everything it will use;
 * only then is anything applied: a provider that cannot be reached, refuses
 * tally's credentials or answers what cannot be read gets its "provider"
 * line with result error and the reason (the run fails, exit 1) and changes
 * nothing. --limit bounds the orders and subscriptions checked; --dry-run
 * reports and applies nothing (job.h). Google's subscriptions are the one
 * exception: each answer is one purchase's whole truth and is applied as it
 * comes, so Google busy part-way leaves the rest for the next run
 * (reconcile_google.h).
 */
#ifndef TALLY_RECONCILE_H
#define TALLY_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/sub.h"
#include "job/job.h"

/* A line of the report, counted as "<provider>.<what>". */
void reconcile_say(struct job *j, const struct job_item *it, const char *what);
/* A provider's line: ok (why NULL), or why it could not be reconciled (the run fails). */
void reconcile_result(struct job *j, const char *provider, const char *why);
/* One difference between tally (tally) and the provider (theirs); reason may be NULL. */
void reconcile_drift(struct job *j, const char *provider, const char *subject, const char *user,
    const char *tally, const char *theirs, const char *result, const char *reason);
/* "active until 2026-12-01T00:00:00Z" */
void reconcile_describe(enum sub_state st, int64_t end, int cancel, char *out, size_t size);

/* 1 when the provider's view e of subscription row differs: state, period end, ending. */
int reconcile_differs(const struct sub_row *row, const struct bev *e);

/* Stale subscriptions checked against one provider in a run, at most. */
#define RECONCILE_STALE_MAX 1000

struct reconcile_stale {
	const char *provider;
	struct sub_row *rows; /* calloc'ed: free(rows) */
	size_t n, max;
};

/*
 * The provider's subscriptions whose access should have ended with no event
 * saying so, oldest first (active past period end + leeway, canceled past
 * period end, past_due past grace, trialing past trial end), at most the
 * run's room under --limit. 0, or -1 (the job failed).
 */
int reconcile_stale_subs(struct job *j, struct reconcile_stale *st);

/*
 * When the last successful run of tally-reconcile began (0 when none): the
 * default window of the passes that read a provider's history starts there.
 */
int64_t reconcile_last_ok(struct job *j);

#endif
