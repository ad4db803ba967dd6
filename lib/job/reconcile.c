/*
 * tally-reconcile's shared parts (reconcile.h): the report lines, the window
 * of a provider's history, the walk of stale subscriptions and of pending
 * orders. Each provider's pass is in a file of its own: reconcile_stripe.c,
 * reconcile_appstore.c, reconcile_revenuecat.c, reconcile_cryptobot.c,
 * reconcile_razorpay.c, reconcile_telegram.c, reconcile_google.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "base/tm.h"
#include "job/reconcile.h"
#include "job/reconcile_int.h"
#include "store/store_access.h"
#include "store/store_jobs.h"

#define OVERLAP_MS   (3600LL * 1000)
#define FIRST_WINDOW (3 * RECONCILE_DAY_MS)
/* Rows of the jobs table read to find reconcile's: one a job, far more than tally has. */
#define JOB_ROWS_MAX 64

void
reconcile_say(struct job *j, const struct job_item *it, const char *what)
{
	char name[48];

	job_report(j, it);
	snprintf(name, sizeof(name), "%s.%s", it->provider, what);
	job_count(j, name, 1);
}

void
reconcile_result(struct job *j, const char *provider, const char *why)
{
	const char *result = why == NULL ? "ok" : "error";
	struct job_item it = { .action = "provider",
		.subject = provider,
		.provider = provider,
		.result = result,
		.reason = why };

	reconcile_say(j, &it, result);
	if (why != NULL)
		job_fail(j, "%s: %s", provider, why);
}

void
reconcile_drift(struct job *j, const char *provider, const char *subject, const char *user,
    const char *tally, const char *theirs, const char *result, const char *reason)
{
	struct job_item it = { .action = "drift",
		.subject = subject,
		.user = user,
		.provider = provider,
		.tally = tally,
		.theirs = theirs,
		.result = result,
		.reason = reason };

	reconcile_say(j, &it, "drift");
}

void
reconcile_describe(enum sub_state st, int64_t end, int cancel, char *out, size_t size)
{
	char when[TM_ISO_SIZE];

	tm_iso(end, when);
	snprintf(out, size, "%s%s until %s", sub_state_str(st), cancel > 0 ? " (ends)" : "",
	    end != 0 ? when : "?");
}

int
reconcile_differs(const struct sub_row *row, const struct bev *e)
{
	return e->sub.state != row->state ||
	    (e->sub.period_end != 0 && e->sub.period_end != row->period_end) ||
	    (e->sub.cancel_at_period_end >= 0 &&
		e->sub.cancel_at_period_end != row->cancel_at_period_end);
}

/* ------------------------------------------------------------- the window */

int64_t
reconcile_last_ok(struct job *j)
{
	struct job_row rows[JOB_ROWS_MAX];
	int64_t last_ok = 0;
	size_t n = 0, i;

	if (store_jobs_list(j->s, rows, JOB_ROWS_MAX, &n) == TERR_OK)
		for (i = 0; i < n; i++)
			if (strcmp(rows[i].name, "reconcile") == 0)
				last_ok = rows[i].last_success_at;
	return last_ok;
}

int64_t
reconcile_since(struct job *j, int64_t last_ok, int64_t back)
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

/* ------------------------------------------------------ stale subscriptions */

static int
take_stale(struct job *j, const struct sub_row *r, void *arg)
{
	struct reconcile_stale *st = arg;
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

int
reconcile_stale_subs(struct job *j, struct reconcile_stale *st)
{
	struct store_pos start = STORE_POS_START;
	int64_t room = j->limit - j->done;
	size_t k, n;
	struct sub_row *v;

	st->max = room < RECONCILE_STALE_MAX ? (size_t)(room > 0 ? room : 0) : RECONCILE_STALE_MAX;
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

/* The provider's error line, its reason naming it (who: "Razorpay") when the cause did not. */
void
reconcile_failed(struct job *j, const char *provider, const char *who, const char *why)
{
	char reason[600];

	if (strstr(why, who) != NULL)
		text_copy(reason, sizeof(reason), why);
	else
		snprintf(reason, sizeof(reason), "%s: %.500s", who, why);
	reconcile_result(j, provider, reason);
}

/* ---------------------------------------------------------- pending orders */

#define PAGE 64 /* pending orders read a page at a time */

/*
 * The provider's pending orders made there (a provider ref, starting with
 * prefix when not NULL; any when !ref: Telegram's invoices have none), the
 * oldest first, at most the run's room under --limit (RECONCILE_STALE_MAX):
 * *out calloc'ed (free it), *n. 0, or -1.
 */
int
reconcile_pending_orders(struct job *j, const char *provider, int ref, const char *prefix,
    struct order_row **out, size_t *n)
{
	struct store_pos pos = STORE_POS_START;
	struct due_order *page = NULL;
	int64_t room = j->limit - j->done;
	size_t max, got, i;
	enum terr rc;
	int ret = -1;

	*out = NULL;
	*n = 0;
	max = room < RECONCILE_STALE_MAX ? (size_t)(room > 0 ? room : 0) : RECONCILE_STALE_MAX;
	if (max == 0)
		return 0;
	if ((*out = calloc(max, sizeof(**out))) == NULL ||
	    (page = calloc(PAGE, sizeof(*page))) == NULL) {
		j->stop = 1;
		job_fail(j, "out of memory");
		goto out;
	}
	while (*n < max) {
		if ((rc = store_pending_orders(j->s, provider, &pos, page, PAGE, &got)) !=
		    TERR_OK) {
			j->stop = 1;
			job_fail(j, "storage failed reading pending orders: %s", err_str(rc));
			goto out;
		}
		if (got == 0)
			break;
		for (i = 0; i < got && *n < max; i++)
			if (!ref ||
			    (page[i].o.provider_ref[0] != '\0' &&
				(prefix == NULL ||
				    strncmp(page[i].o.provider_ref, prefix, strlen(prefix)) == 0)))
				(*out)[(*n)++] = page[i].o;
	}
	ret = 0;
out:
	free(page);
	return ret;
}

/* "order ord_... (<what> <ref>)" and "pending until <expiry>". */
void
reconcile_order_words(const struct order_row *o, const char *what, char *subject, size_t ssize,
    char *tally, size_t tsize)
{
	char when[TM_ISO_SIZE];

	snprintf(subject, ssize, "order %.64s (%s %.64s)", o->id, what, o->provider_ref);
	tm_iso(o->expires_at, when);
	snprintf(tally, tsize, "pending until %s", when);
}
