/*
 * tally-renewals: the periodic grants no store sends a webhook for.
 *
 *   credits.reset   a subscription whose next credit reset has come
 *                   (subscriptions.credits_next_at: a yearly plan with monthly
 *                   credits, products.<id>.credit_period); the core RESETS its
 *                   credits and schedules the next.
 *                   id "reset:<subscription>:<credits_next_at>"
 *   allowance.reset a registered user's free monthly allowance (users.free_next_at),
 *                   when free_tier.monthly_credits is set.
 *                   id "allowance:<user>:<free_next_at>"
 *   plan.renew      a plan bought from the credit balance (provider "balance",
 *                   active or canceled) whose period has ended: renewed from the
 *                   balance, or ended with a renewal_failed notice (funds short)
 *                   or because auto-renew is off.
 *                   id "renew:<subscription>:<period_end>"
 *
 * Each is picked through its index (subscriptions_credits_due, users_free_due,
 * subscriptions_period_due), re-checked by the core inside its transaction.
 * Options: see lib/job/job.h. Exit 0, 1, 2.
 */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "base/tm.h"
#include "crypto/crypto.h"
#include "job/job.h"

#define LIMIT_DEFAULT 10000

static int
credit_reset(struct job *j, const struct sub_row *r, void *arg)
{
	struct op_action a;
	char id[96], subject[48], reason[96], when[TM_ISO_SIZE];

	(void)arg;
	snprintf(id, sizeof(id), "reset:%lld:%lld", (long long)r->id,
	    (long long)r->credits_next_at);
	snprintf(subject, sizeof(subject), "subscription %lld", (long long)r->id);
	tm_iso(r->credits_next_at, when);
	snprintf(reason, sizeof(reason), "credit period due %s", when);
	job_action(&a, id, "credits.reset", r->user, reason);
	a.sub_id = r->id;
	a.ends_at = r->credits_next_at;
	return job_op(j, &a, subject);
}

static int
plan_renew(struct job *j, const struct sub_row *r, void *arg)
{
	struct op_action a;
	char id[96], subject[48], reason[96], when[TM_ISO_SIZE];

	(void)arg;
	if (strcmp(r->provider, "balance") != 0)
		return 0; /* the store renews its own */
	snprintf(id, sizeof(id), "renew:%lld:%lld", (long long)r->id, (long long)r->period_end);
	snprintf(subject, sizeof(subject), "subscription %lld", (long long)r->id);
	tm_iso(r->period_end, when);
	snprintf(reason, sizeof(reason), "period ended %s", when);
	job_action(&a, id, "plan.renew", r->user, reason);
	a.sub_id = r->id;
	return job_op(j, &a, subject);
}

static enum terr
page_free(struct store *s, const void *arg, struct store_pos *pos, int64_t until, void *rows,
    size_t max, size_t *n)
{
	(void)arg;
	return store_due_free(s, pos, until, rows, max, n);
}

static int
allowance(struct job *j, const void *row, void *arg)
{
	const struct due_user *u = row;
	struct op_action a;
	char id[ID_MAX], subject[USER_ID_MAX + 8], num[24];

	(void)arg;
	/* Parts of a key (crypto_key): a user id with ':' never reads as another's. */
	snprintf(num, sizeof(num), "%lld", (long long)u->free_next_at);
	if (crypto_key(id, sizeof(id), "allowance", u->id, num, NULL) != TERR_OK) {
		job_fail(j, "user %.128s: allowance id too long", u->id);
		return 0;
	}
	snprintf(subject, sizeof(subject), "user %.128s", u->id);
	job_action(&a, id, "allowance.reset", u->id, "monthly free allowance");
	return job_op(j, &a, subject);
}

int
main(int argc, char **argv)
{
	struct store_pos start = STORE_POS_START;
	struct job j;
	int r;

	if ((r = job_init(&j, "renewals", argc, argv, NULL, LIMIT_DEFAULT)) != JOB_RUN)
		return r;
	if (job_walk_subs(&j, DUE_CREDITS, start, j.now, credit_reset, NULL) == 0 &&
	    /* With no allowance configured, a due date left on users is no work (the core ignores it). */
	    (!j.cfg.free_tier.enabled || j.cfg.free_tier.monthly_credits <= 0 ||
		job_walk(&j, page_free, NULL, sizeof(struct due_user), start, j.now, allowance,
		    NULL) == 0))
		job_walk_subs(&j, DUE_PERIOD, start, j.now, plan_renew, NULL);
	return job_finish(&j);
}
