/*
 * Tasks: the work tally owes a provider once an event has committed
 * (struct bev_task: Google Play's acknowledge and consume; later the
 * stores' answers to refund requests). Provider-neutral: a table of kinds,
 * each naming its provider and the call that does it.
 *
 *   kind                 provider  call (PROVIDERS.md 7.4)
 *   google_ack_sub       google    purchases.subscriptions.acknowledge  (key token, arg product)
 *   google_ack_product   google    purchases.products.acknowledge       (key token, arg product)
 *   google_consume       google    purchases.products.consume           (key token, arg product)
 *
 * Life of a task. apply writes it in the event's own transaction
 * (apply_task.c; a second event owing the same (provider, kind, key) adds
 * nothing); the caller that committed the event tries it at once
 * (task_run_event, task_run.h); the tasks job (jobs/tasks.c) tries what is
 * due after that. A try is claimed first (store_tasks.h), so the handler and any
 * number of jobs never make the same try twice at once. What the
 * provider's answer means:
 *
 *   TERR_OK                            done
 *   TERR_NOTFOUND, TERR_STALE, TERR_INVAL   given up with the reason, alerted
 *                                      (unless the provider's own state says it
 *                                      was done already: done; google_task.h)
 *   TERR_AUTH, TERR_CONFIG             blocked: not the task's fault (a permission
 *                                      or a key the operator must give): tried
 *                                      again as below, alerted once a day per provider
 *   anything else (TERR_IO: 429, 5xx, no answer)   tried again as below
 *
 * Tried again after 1 min, doubling to at most 1 h (task_next_try), never
 * past the deadline: when the wait would reach it, the remaining time is
 * halved each try (no closer than 5 s), so the last tries are squeezed in
 * before it. Still pending at near_at (24 h before the deadline, or the
 * last third of the task's life when that is shorter: a license tester's
 * purchase must be acknowledged within minutes): "deadline near" alerted
 * once. At the deadline, still not done: given up without a try (the
 * provider no longer takes it) and alerted once.
 *
 * Alerts are outbox rows (deliver sends them), dedup keys "alert:task:...":
 *   task.deadline_near   alert:task:<id>:near
 *   task.deadline_passed alert:task:<id>:late
 *   task.given_up        alert:task:<id>:given_up
 *   task.blocked         alert:task:blocked:<provider>:<UTC day>
 *
 * Rebuild: tasks are re-derived by replaying the events (what is owed, and
 * which event owed it, is compared by `tally rebuild`); how far the tries
 * got is the providers' answers, kept only in the live database. A database
 * rebuilt from events would owe its tasks again, and trying them again is
 * harmless: a call the provider already took reads as done.
 */
#ifndef TALLY_TASK_H
#define TALLY_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "store/store_tasks.h"

/* The first wait after a failed try; doubled each try up to the longest. */
#define TASK_BACKOFF_FIRST_MS (60 * 1000LL)
#define TASK_BACKOFF_MAX_MS   (3600 * 1000LL)
/* Squeezed tries before a deadline are at least this far apart. */
#define TASK_BACKOFF_MIN_MS   (5 * 1000LL)
/* "Deadline near": this long before the deadline, or the last 1/TASK_NEAR_SHARE of its life. */
#define TASK_NEAR_MS          (24 * 3600 * 1000LL)
#define TASK_NEAR_SHARE       3

/*
 * When a task that has failed failures tries (>= 1; the last at now) is
 * tried again: now + 1 min * 2^(failures - 1), at most 1 h; with a
 * deadline, at most half the time left (at least TASK_BACKOFF_MIN_MS), and
 * the deadline itself when no try fits before it (the task is then given
 * up at the deadline).
 */
int64_t task_next_try(int64_t failures, int64_t now, int64_t deadline);

/* When a task made at created with deadline is alerted as near it (0: never). */
int64_t task_near_at(int64_t created, int64_t deadline);

/* A kind of task: whose it is, and which of that provider's calls does it. */
struct task_kind {
	const char *kind;
	const char *provider;
	int op; /* the provider's own number of the call (enum google_task) */
};

/* The kind named kind, or NULL when tally has no executor for it. */
const struct task_kind *task_kind(const char *kind);

/* What became of one try (task_run.h). */
enum task_result {
	TASK_R_DONE,    /* the provider took it (or had it already) */
	TASK_R_RETRY,   /* failed; tried again at next_at */
	TASK_R_BLOCKED, /* refused for tally's credentials or a permission; tried again at next_at */
	TASK_R_GIVEN_UP, /* refused for good */
	TASK_R_LATE,     /* its deadline passed: given up without a try */
	TASK_R_TAKEN, /* not tried here: no longer due or pending, or another runner claimed it */
	TASK_R__MAX
};

/* "done", "retry", "blocked", "given_up", "deadline_passed", "taken". */
const char *task_result_str(enum task_result r);

#endif
