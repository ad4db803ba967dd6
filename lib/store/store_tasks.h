/*
 * Storage of tasks: the work tally owes a provider once an event has
 * committed (migrations/0005; what they are and how they are run:
 * core/task.h). A task is inserted by apply in the event's own transaction;
 * everything after is the tasks' own operational state, written by whoever
 * tries it (the handler right after its commit, the tasks job), each change
 * in a short transaction of its own, like the outbox's delivery states.
 *
 * A try is claimed first (store_task_claim): attempts + 1 and due_at moved
 * past the longest call, only while the task is due and its attempts are
 * what the claimer read. Two runners that read the same row claim it once;
 * the one that lost gets TERR_CONFLICT and does nothing. Its outcome
 * (store_task_finish) is written only while the attempts are still the
 * claimed ones, so a runner that outlived its claim writes nothing either.
 */
#ifndef TALLY_STORE_TASKS_H
#define TALLY_STORE_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_jobs.h"

enum task_state {
	TASK_PENDING,  /* owed: tried at due_at */
	TASK_DONE,     /* the provider took it (or already had it) */
	TASK_GIVEN_UP, /* the provider refused it for good, or its deadline passed */
	TASK__MAX
};

/* "pending", "done", "given_up". */
const char *task_state_str(enum task_state st);

struct task_row {
	int64_t id;
	char provider[PROVIDER_MAX];
	char kind[KIND_MAX];
	char key[ID_MAX];
	char arg[ID_MAX];
	char user[USER_ID_MAX + 1]; /* "" when the event named none */
	int64_t inbox_id;           /* the event that made it; 0 when none */
	int64_t deadline;           /* 0: none */
	int64_t near_at;            /* "deadline near" is alerted from then on; 0: never */
	int64_t created_at;
	int64_t due_at;
	int64_t attempts;
	enum task_state state;
	char last_error[REASON_MAX];
	int64_t last_try_at;
	int64_t done_at;
	int64_t near_alerted_at; /* 0: not alerted */
	int64_t late_alerted_at; /* 0: not alerted */
};

/*
 * Insert t (provider, kind, key, arg, user, inbox_id, deadline, near_at,
 * created_at, due_at; the rest start empty); t->id is set. TERR_DUP (nothing
 * written) when (provider, kind, key) is owed already, done or not.
 */
enum terr store_task_insert(struct store *s, struct task_row *t);
enum terr store_task_get(struct store *s, int64_t id, struct task_row *out);
enum terr store_task_find(struct store *s, const char *provider, const char *kind, const char *key,
    struct task_row *out);

/* The pending tasks inbox row inbox_id made, at most max, oldest first. */
enum terr store_tasks_of_inbox(struct store *s, int64_t inbox_id, struct task_row *out, size_t max,
    size_t *n);

/* The walks of the tasks job (store_jobs.h's positions): pending tasks by due_at ... */
enum terr store_due_tasks(struct store *s, struct store_pos *pos, int64_t until,
    struct task_row *out, size_t max, size_t *n);
/* ... and pending ones not yet alerted as near their deadline, by near_at. */
enum terr store_near_tasks(struct store *s, struct store_pos *pos, int64_t until,
    struct task_row *out, size_t max, size_t *n);

/*
 * Each alone in its own transaction. Claim task id for one try at now:
 * attempts + 1, last_try_at now, due_at hold_until (the try is made again
 * then if its outcome is never written). TERR_CONFLICT when it is no longer
 * pending, not due at now, or its attempts are no longer attempts (another
 * runner has it).
 */
enum terr store_task_claim(struct store *s, int64_t id, int64_t attempts, int64_t now,
    int64_t hold_until);

/* The outcome of a claimed try. */
struct task_end {
	enum task_state state; /* TASK_PENDING: tried again at due_at */
	int64_t due_at;
	const char *error; /* the failure, why given up, or a note on how it was done; "" none */
	int64_t at;        /* now */
	int late;          /* the end says the deadline passed (its alert is alert) */
};

/*
 * Write the outcome of the try that claimed task id with attempts (the
 * value after the claim), and alert (NULL: none; one with the same dedup key
 * already there is no error) in the same transaction. TERR_CONFLICT (nothing
 * written) when the task is no longer pending with those attempts.
 */
enum terr store_task_finish(struct store *s, int64_t id, int64_t attempts, const struct task_end *e,
    struct outbox_row *alert);

/*
 * Give task id up at now because its deadline passed, without a try, with
 * why and alert in the same transaction: only while it is pending, due and
 * has attempts (no runner's claim is running). TERR_CONFLICT otherwise.
 */
enum terr store_task_expire(struct store *s, int64_t id, int64_t attempts, int64_t now,
    const char *why, struct outbox_row *alert);

/*
 * Record that task id, still pending, was alerted at now as near its
 * deadline, with alert in the same transaction. TERR_CONFLICT when it is not
 * pending or was alerted already (another runner did).
 */
enum terr store_task_near_alerted(struct store *s, int64_t id, int64_t now,
    struct outbox_row *alert);

/*
 * For the CLI: the pending tasks, soonest due first, or (all) every task,
 * newest first; at most max.
 */
enum terr store_tasks_list(struct store *s, int all, struct task_row *out, size_t max, size_t *n);

#endif
