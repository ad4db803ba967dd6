/*
 * tally-grace-expiry: access that has ended, ended on the record, with the
 * core's audit row, the entitlements off and the period's credits expired.
 *
 *   subscription.expire  id "expire:<subscription>:<end>", when the end has come:
 *     past_due   its grace end (grace_until, else state_at + policy.grace_period)
 *     canceled   its period end
 *     trialing   tally's own trial (provider "app") at trial_end; a store's
 *                trial a renewal leeway (policy.renewal_leeway) later, since the
 *                store's conversion payment may still be on its way
 *     active     a plan tally runs for a direct provider (ext "plan:...", or
 *                provider "app") at period_end; a plan bought from the balance
 *                a renewal leeway after period_end, when tally-renewals has
 *                neither renewed nor ended it (a safety net)
 *     The core checks again that access really ended ("not due" otherwise)
 *     and writes the expired / trial_ended notice.
 *   credits.expire       id "credits-expire:<user>:<first grant due>": a user's
 *                        grants whose expiry has passed, zeroed with ledger entries
 *   order.expire         id "order-expire:<order>": a pending order past its
 *                        expiry (a payment after it is refused by the core anyway)
 *
 * Picked through subscriptions_grace_due, _period_due, _trial_due,
 * grants_expiry and orders_pending. Options: lib/job/job.h. Exit 0, 1, 2.
 */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "base/tm.h"
#include "core/sub.h"
#include "crypto/crypto.h"
#include "job/job.h"

#define LIMIT_DEFAULT 10000

/* When this job ends r's access; 0: never (the store's own event or the core decides). */
static int64_t
end_of(const struct sub_row *r, const struct cfg_policy *p)
{
	int balance = strcmp(r->provider, "balance") == 0;
	int64_t end;

	switch (r->state) {
	case SUB_PAST_DUE: return sub_access_end(r, p);
	case SUB_CANCELED:
		if (r->period_end == 0)
			return 0;
		return balance ? r->period_end + p->leeway : r->period_end;
	case SUB_TRIALING:
		end = r->trial_end != 0 ? r->trial_end : r->period_end;
		if (end == 0)
			return 0;
		return strcmp(r->provider, "app") == 0 ? end : end + p->leeway;
	case SUB_ACTIVE:
		if (r->period_end == 0)
			return 0;
		if (balance)
			return r->period_end + p->leeway;
		if (strcmp(r->provider, "app") == 0 || strncmp(r->ext_id, "plan:", 5) == 0)
			return r->period_end;
		return 0;
	default: return 0;
	}
}

static int
expire(struct job *j, const struct sub_row *r, void *arg)
{
	struct op_action a;
	char id[96], subject[48], reason[96], when[TM_ISO_SIZE];
	int64_t end = end_of(r, &j->cfg.policy);

	(void)arg;
	if (end == 0 || end > j->now)
		return 0;
	snprintf(id, sizeof(id), "expire:%lld:%lld", (long long)r->id, (long long)end);
	snprintf(subject, sizeof(subject), "subscription %lld", (long long)r->id);
	tm_iso(end, when);
	snprintf(reason, sizeof(reason), "%s: access ended %s", sub_state_str(r->state), when);
	job_action(&a, id, "subscription.expire", r->user, reason);
	a.sub_id = r->id;
	return job_op(j, &a, subject);
}

static enum terr
page_grants(struct store *s, const void *arg, struct store_pos *pos, int64_t until, void *rows,
    size_t max, size_t *n)
{
	(void)arg;
	return store_due_grants(s, pos, until, rows, max, n);
}

/* The users whose credits.expire is queued in this page of the walk. */
struct recent {
	char users[64][USER_ID_MAX + 1];
	size_t n;
};

/*
 * One credits.expire per user with grants past expiry: the core zeroes all of
 * them at once, so once the event is applied the walk meets that user no
 * more; within one page the user's other grants are skipped here.
 */
static int
grant(struct job *j, const void *row, void *arg)
{
	const struct due_grant *g = row;
	struct recent *seen = arg;
	struct op_action a;
	char id[ID_MAX], subject[USER_ID_MAX + 8], num[24];
	size_t i;

	for (i = 0; i < seen->n && i < 64; i++)
		if (strcmp(seen->users[i], g->user) == 0)
			return 0;
	text_copy(seen->users[seen->n++ % 64], USER_ID_MAX + 1, g->user);
	/* Parts of a key (crypto_key): a user id with ':' never reads as another's. */
	snprintf(num, sizeof(num), "%lld", (long long)g->id);
	if (crypto_key(id, sizeof(id), "credits-expire", g->user, num, NULL) != TERR_OK) {
		job_fail(j, "user %.128s: credits-expire id too long", g->user);
		return 0;
	}
	snprintf(subject, sizeof(subject), "user %.128s", g->user);
	job_action(&a, id, "credits.expire", g->user, "credits past their expiry");
	return job_op(j, &a, subject);
}

static enum terr
page_orders(struct store *s, const void *arg, struct store_pos *pos, int64_t until, void *rows,
    size_t max, size_t *n)
{
	(void)arg;
	return store_due_orders(s, pos, until, rows, max, n);
}

static int
order(struct job *j, const void *row, void *arg)
{
	const struct order_row *r = &((const struct due_order *)row)->o;
	struct op_order oo = { r->id, r->provider, r->product, r->amount, r->currency,
		r->expires_at, r->provider_ref };
	struct op_action a;
	char id[ID_MAX + 16], subject[ID_MAX + 8];

	(void)arg;
	snprintf(id, sizeof(id), "order-expire:%.255s", r->id);
	snprintf(subject, sizeof(subject), "order %.255s", r->id);
	job_action(&a, id, "order.expire", r->user, "expired unpaid");
	a.order = &oo;
	return job_op(j, &a, subject);
}

int
main(int argc, char **argv)
{
	struct store_pos start = STORE_POS_START;
	struct recent seen = { .n = 0 };
	struct job j;
	int r;

	if ((r = job_init(&j, "grace-expiry", argc, argv, NULL, LIMIT_DEFAULT)) != JOB_RUN)
		return r;
	if (job_walk_subs(&j, DUE_GRACE, start, j.now, expire, NULL) == 0 &&
	    job_walk_subs(&j, DUE_PERIOD, start, j.now, expire, NULL) == 0 &&
	    job_walk_subs(&j, DUE_TRIAL, start, j.now, expire, NULL) == 0 &&
	    job_walk(&j, page_grants, NULL, sizeof(struct due_grant), start, j.now, grant, &seen) ==
		0)
		job_walk(&j, page_orders, NULL, sizeof(struct due_order), start, j.now, order,
		    NULL);
	return job_finish(&j);
}
