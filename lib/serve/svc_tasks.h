/*
 * What a handler or a service calls right after its event committed, to do
 * at once the work the event owes a provider (core/task.h: Google Play's
 * acknowledge and consume), rather than a minute later when the tasks job
 * runs. Apart from handler.c because it calls out: only the executables
 * that call it link the providers' API clients.
 *
 *	svc_apply(sv, e, &res);   (or the webhook path's writer_apply)
 *	... the answer is decided by res alone ...
 *	svc_tasks(sv, &res);
 */
#ifndef TALLY_SVC_TASKS_H
#define TALLY_SVC_TASKS_H

#include "core/apply.h"
#include "serve/handler.h"

/*
 * After res committed (res->err TERR_OK and an inbox row; nothing is done
 * otherwise): try the tasks that event made, and a redelivery's the tasks
 * its first delivery made when due (core/task_run.h task_run_event), on
 * this thread's own read-write connection (sv->rw, opened on first use,
 * closed by the accept loop) with the process's API clients (made once, by
 * the first thread that needs them, from sv->cfg, and shared by every
 * thread after). Safe from any number of threads. Outcomes are recorded
 * with each task and logged; none changes the request's answer (a task
 * that fails waits for the tasks job), so nothing is returned.
 */
void svc_tasks(struct svc *sv, const struct apply_result *res);

/* Free the process's API clients (at its end; harmless when none were made). */
void svc_tasks_release(void);

#endif
