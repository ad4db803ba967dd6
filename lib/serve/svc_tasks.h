/*
 * What a handler or a service calls right after its event committed, to do
 * at once the work the event owes a provider (core/task.h: Google Play's
 * acknowledge and consume), rather than a minute later when the tasks job
 * runs. Apart from handler.c because it calls out: only the executables
 * that call it link the providers' API clients.
 *
 *	svc_apply(sv, e, &res);
 *	... the answer is decided by res alone ...
 *	svc_tasks(sv, &state->tasks, &res);
 */
#ifndef TALLY_SVC_TASKS_H
#define TALLY_SVC_TASKS_H

#include "core/apply.h"
#include "core/task_run.h"
#include "serve/handler.h"

/*
 * After svc_apply (or writer_apply) committed res (res->err TERR_OK and an
 * inbox row; nothing is done otherwise): try the tasks that event made
 * (task_run_event), on this thread's read-write connection (sv->rw, opened
 * on first use and closed by the accept loop). cl holds the API clients:
 * made at the handler's init and shared by its threads (set cl->google to
 * the client the handler made; task_run.h). Outcomes are recorded with the
 * task and logged; none of them changes the request's answer (a task that
 * fails waits for the tasks job), so nothing is returned.
 */
void svc_tasks(struct svc *sv, struct task_clients *cl, const struct apply_result *res);

#endif
