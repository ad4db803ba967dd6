/*
 * tally-tasks: the work tally owes providers once an event has committed
 * (core/task.h): acknowledging and consuming Google Play purchases, which
 * Google refunds when they are not acknowledged within three days.
 *
 * Each run, in two walks through the tasks' own indexes:
 *   1. every pending task due by now (tasks_due), oldest due first: tried
 *      (task_try: claimed first, so the handler trying an event's task at
 *      once and this job never make the same try twice), or given up when
 *      its deadline has passed; a failed try is due again after 1 min,
 *      doubling to 1 h, squeezed in before the deadline;
 *   2. every pending task past its "deadline near" time not yet alerted
 *      (tasks_near): alerted once.
 * Alerts go to the outbox (deliver sends them). Like deliver, this job
 * changes no billing state and applies no events: a task's tries are its
 * own rows (store_tasks.h).
 *
 * Exit 1 also when a provider refused tally's credentials or a permission
 * (a task "blocked": the operator must act), besides the failures every job
 * has. Options: lib/job/job.h (--dry-run says what would be tried). Exit 0,
 * 1, 2.
 */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "base/tm.h"
#include "core/task_run.h"
#include "job/job.h"

#define LIMIT_DEFAULT 1000

struct run {
	struct task_clients cl;
	char blocked[REASON_MAX]; /* the first "blocked" reason of the run; "" none */
};

static enum terr
page_due(struct store *s, const void *arg, struct store_pos *pos, int64_t until, void *rows,
    size_t max, size_t *n)
{
	(void)arg;
	return store_due_tasks(s, pos, until, rows, max, n);
}

static enum terr
page_near(struct store *s, const void *arg, struct store_pos *pos, int64_t until, void *rows,
    size_t max, size_t *n)
{
	(void)arg;
	return store_near_tasks(s, pos, until, rows, max, n);
}

static void
subject_of(const struct task_row *t, char *out, size_t size)
{
	snprintf(out, size, "task %lld (%s)", (long long)t->id, t->kind);
}

static void
count(struct job *j, const char *walk, const char *result)
{
	char name[48];

	snprintf(name, sizeof(name), "%s.%s", walk, result);
	job_count(j, name, 1);
}

static int
try_one(struct job *j, const void *row, void *arg)
{
	const struct task_row *t = row;
	struct run *r = arg;
	struct task_outcome o;
	struct job_item it;
	char subject[64], reason[REASON_MAX], when[TM_ISO_SIZE];
	enum terr rc;

	j->done++;
	subject_of(t, subject, sizeof(subject));
	it = (struct job_item){ .action = "try", .subject = subject, .user = t->user };
	if (j->dry_run) {
		int late = t->deadline != 0 && j->now >= t->deadline;
		it.result = late ? "would give up" : "would try";
		it.reason = late ? "deadline passed" : t->last_error;
		job_report(j, &it);
		count(j, "task", late ? "would_give_up" : "would_try");
		return 0;
	}
	if ((rc = task_try(j->s, &r->cl, t, j->now, &o)) != TERR_OK) {
		j->stop = 1;
		job_fail(j, "task %lld: storage failed: %s (run again: no try is made twice)",
		    (long long)t->id, err_str(rc));
		return -1;
	}
	it.result = task_result_str(o.result);
	if (o.result == TASK_R_RETRY || o.result == TASK_R_BLOCKED) {
		tm_iso(o.next_at, when);
		snprintf(reason, sizeof(reason), "%.400s (attempt %lld; again at %s)", o.why,
		    (long long)o.attempts, when);
		it.reason = reason;
	} else
		it.reason = o.why;
	job_report(j, &it);
	count(j, "task", it.result);
	if (o.result == TASK_R_BLOCKED && r->blocked[0] == '\0')
		snprintf(r->blocked, sizeof(r->blocked), "%s: %.400s", subject, o.why);
	return job_tick(j);
}

static int
alert_near(struct job *j, const void *row, void *arg)
{
	const struct task_row *t = row;
	struct job_item it;
	char subject[64], reason[64], when[TM_ISO_SIZE];
	int alerted = 0;
	enum terr rc;

	(void)arg;
	j->done++;
	subject_of(t, subject, sizeof(subject));
	tm_iso(t->deadline, when);
	snprintf(reason, sizeof(reason), "deadline %s", when);
	it = (struct job_item){ .action = "task.deadline_near",
		.subject = subject,
		.user = t->user,
		.reason = reason };
	if (j->dry_run) {
		it.result = "would alert";
		job_report(j, &it);
		count(j, "near", "would_alert");
		return 0;
	}
	if ((rc = task_alert_near(j->s, t, j->now, &alerted)) != TERR_OK) {
		j->stop = 1;
		job_fail(j, "task %lld: storage failed: %s", (long long)t->id, err_str(rc));
		return -1;
	}
	it.result = alerted ? "alerted" : "taken";
	job_report(j, &it);
	count(j, "near", it.result);
	return job_tick(j);
}

int
main(int argc, char **argv)
{
	struct store_pos start = STORE_POS_START;
	struct run r;
	struct job j;
	int rc;

	if ((rc = job_init(&j, "tasks", argc, argv, NULL, LIMIT_DEFAULT)) != JOB_RUN)
		return rc;
	memset(&r, 0, sizeof(r));
	task_clients_init(&r.cl, &j.cfg);
	/* Tries first: a task done now needs no "deadline near" alert. */
	if (job_walk(&j, page_due, NULL, sizeof(struct task_row), start, j.now, try_one, &r) == 0)
		job_walk(&j, page_near, NULL, sizeof(struct task_row), start, j.now, alert_near,
		    &r);
	/* Not the task's fault and not passing by itself: the operator must act. */
	if (r.blocked[0] != '\0')
		job_fail(&j, "blocked: %s", r.blocked);
	task_clients_release(&r.cl);
	return job_finish(&j);
}
