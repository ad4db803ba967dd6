/*
 * tally-reminders: a notice to the user (outbox kind notify) before access
 * ends by itself:
 *
 *   trial_ending  before a trial ends (config reminders.trial, default 3d and 1d)
 *   plan_ending   before a plan that does not renew by itself ends
 *                 (reminders.expiry, default 3d and 1d): a canceled
 *                 subscription, an active one set to end at its period end
 *                 (cancel_at_period_end: a balance plan with auto-renew off
 *                 too), a plan tally runs for a direct provider (ext "plan:...")
 *
 * Exactly once per (subscription, kind, offset, end): the event id and the
 * outbox dedup key are "reminder:<subscription>:<kind>:<offset>:<end>"
 * ("reminder:12:trial:3d:1767225600000"). When several offsets are due at
 * once (the job did not run for a while), only the nearest is sent: a "3
 * days left" with hours left would mislead. A new end (a trial extended, a
 * plan bought again) is a new series.
 *
 * Picked through subscriptions_trial_due and subscriptions_period_due (only the
 * rows that end by themselves, filtered in SQL) over
 * (now, now + the largest offset]. Options: lib/job/job.h. Exit 0, 1, 2.
 */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "crypto/crypto.h"
#include "job/job.h"

#define LIMIT_DEFAULT 10000

struct series {
	const char *kind;       /* "trial", "expiry" */
	const char *topic;      /* the notice */
	const int64_t *offsets; /* largest first */
	size_t n;
};

/* An offset as the id shows it: "3d", "12h", "90m", "45s". */
static void
offset_str(int64_t ms, char *out, size_t size)
{
	int64_t s = ms / 1000;

	if (s % 86400 == 0)
		snprintf(out, size, "%lldd", (long long)(s / 86400));
	else if (s % 3600 == 0)
		snprintf(out, size, "%lldh", (long long)(s / 3600));
	else if (s % 60 == 0)
		snprintf(out, size, "%lldm", (long long)(s / 60));
	else
		snprintf(out, size, "%llds", (long long)s);
}

static int
remind(struct job *j, const struct sub_row *r, int64_t end, const struct series *se)
{
	struct op_action a;
	char id[128], subject[48], off[24], reason[96], sid[24], send[24];
	int64_t left = end - j->now;
	size_t i;

	if (left <= 0)
		return 0;
	/* The nearest offset whose moment has come. */
	for (i = se->n; i > 0 && se->offsets[i - 1] < left; i--)
		;
	if (i == 0)
		return 0;
	offset_str(se->offsets[i - 1], off, sizeof(off));
	/* A text_key (its parts hold no ':'): also the notice's key, "notice:" before it (lib/core/apply.c). */
	snprintf(sid, sizeof(sid), "%lld", (long long)r->id);
	snprintf(send, sizeof(send), "%lld", (long long)end);
	if (crypto_key(id, sizeof(id), "reminder", sid, se->kind, off, send, NULL) != TERR_OK) {
		job_fail(j, "subscription %lld: reminder id too long", (long long)r->id);
		return 0;
	}
	snprintf(subject, sizeof(subject), "subscription %lld", (long long)r->id);
	snprintf(reason, sizeof(reason), "%s ends in less than %s", se->kind, off);
	job_action(&a, id, "notice", r->user, reason);
	a.sub_id = r->id;
	a.name = se->topic;
	a.key = id;
	a.ends_at = end;
	return job_op(j, &a, subject);
}

static int
trial(struct job *j, const struct sub_row *r, void *arg)
{
	return remind(j, r, r->trial_end, arg);
}

static int
expiry(struct job *j, const struct sub_row *r, void *arg)
{
	/*
	 * A plan the store or the balance renews is no reminder's business; a
	 * direct provider's plan ("plan:...", bought once) ends unless bought again.
	 */
	if (r->state != SUB_CANCELED && !r->cancel_at_period_end &&
	    (strncmp(r->ext_id, "plan:", 5) != 0 || strcmp(r->provider, "balance") == 0))
		return 0;
	return remind(j, r, r->period_end, arg);
}

int
main(int argc, char **argv)
{
	struct series tr, ex;
	struct store_pos after;
	struct job j;
	int r;

	if ((r = job_init(&j, "reminders", argc, argv, NULL, LIMIT_DEFAULT)) != JOB_RUN)
		return r;
	tr =
	    (struct series){ "trial", "trial_ending", j.cfg.jobs.trial_offsets, j.cfg.jobs.ntrial };
	ex = (struct series){ "expiry", "plan_ending", j.cfg.jobs.expiry_offsets,
		j.cfg.jobs.nexpiry };
	/* Ends strictly after now: (now, INT64_MAX) is past every row ending at now. */
	after = (struct store_pos){ j.now, INT64_MAX };
	r = 0;
	if (tr.n > 0)
		r = job_walk_subs(&j, DUE_TRIAL, after, j.now + tr.offsets[0], trial, &tr);
	if (r == 0 && ex.n > 0)
		job_walk_subs(&j, DUE_ENDING, after, j.now + ex.offsets[0], expiry, &ex);
	return job_finish(&j);
}
