/*
 * Tasks tried: one try of a task from its claim to its recorded outcome,
 * the alerts, and what a handler calls right after its commit. What tasks
 * are, what each answer means and when they are tried again: task.h. Kept
 * apart from task.c because it calls out (the providers' API clients,
 * libcurl): only the executables that try tasks link it (the tasks job,
 * and the handlers and API routes that try an event's tasks at once).
 */
#ifndef TALLY_TASK_RUN_H
#define TALLY_TASK_RUN_H

#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"
#include "core/task.h"
#include "store/store.h"
#include "store/store_tasks.h"

struct google_api;

/* A claimed try holds its task this long past the calls' own timeouts (a runner that died). */
#define TASK_CLAIM_MARGIN_MS (10 * 1000LL)
/* Calls one try may make (token, call, token again on a 401, call, the state read). */
#define TASK_CALLS_MAX       6
/* Tasks of one event task_run_event tries. */
#define TASK_PER_EVENT_MAX   8

/*
 * The API clients the tries call, one per provider that has tasks. A field
 * left NULL is made on first use from cfg (and freed by
 * task_clients_release); one set by the caller is shared and never freed
 * here. Making a client on first use is for one thread at a time: threads
 * that share one struct call task_clients_open first (under a lock of
 * their own), and only read it after (each client is thread-safe).
 */
struct task_clients {
	const struct cfg *cfg;
	struct google_api *google;
	int google_owned;
	enum terr google_err; /* making it failed (not TERR_OK): every Google task is blocked */
	char google_why[256];
};

void task_clients_init(struct task_clients *cl, const struct cfg *c);
/*
 * Make now every client whose provider is configured (cfg's google
 * section), so no try makes one later; one that cannot be made is
 * remembered, and every task of its provider is then blocked with why.
 */
void task_clients_open(struct task_clients *cl);
void task_clients_release(struct task_clients *cl);

struct task_outcome {
	enum task_result result;
	char why[REASON_MAX]; /* the provider's answer, or how it was done */
	int64_t next_at;      /* TASK_R_RETRY, TASK_R_BLOCKED */
	int64_t attempts;     /* tries so far, this one included */
	int alerted;          /* an alert was written with the outcome */
};

/*
 * Try task t (as read just now; s read-write, not in a transaction) at now:
 * claim, call, record the outcome and its alert (store_tasks.h). Returns
 * TERR_OK with out set, or a storage error (nothing more recorded; the try
 * is made again once its claim lapses). Logs one line per try.
 */
enum terr task_try(struct store *s, struct task_clients *cl, const struct task_row *t, int64_t now,
    struct task_outcome *out);

/*
 * Alert task t (pending, near_at <= now) as near its deadline, once.
 * *alerted 1 when this call wrote the alert, 0 when it was not needed
 * (done meanwhile, alerted by another runner). Storage errors otherwise.
 */
enum terr task_alert_near(struct store *s, const struct task_row *t, int64_t now, int *alerted);

/*
 * What a handler (or an API route) calls right after the transaction that
 * applied inbox row inbox_id committed (apply_result.inbox_id, err TERR_OK):
 * try at once the tasks that event made that are still pending and due (a
 * redelivery, answered as a duplicate, names the first delivery's row: its
 * tasks are tried again when due; one another runner holds is left to it). s is a read-write connection of the calling thread, outside any
 * transaction; now the wall clock. The request's answer does not depend on
 * it: a task that fails here waits in the tasks table for the tasks job.
 * *tried (may be NULL) counts the tries made. TERR_OK, or a storage error
 * (logged).
 */
enum terr task_run_event(struct store *s, struct task_clients *cl, int64_t inbox_id, int64_t now,
    int *tried);

#endif
