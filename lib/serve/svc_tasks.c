/*
 * A handler's tasks right after its commit: see svc_tasks.h.
 */
#include "serve/svc_tasks.h"
#include "base/log.h"
#include "base/tm.h"

void
svc_tasks(struct svc *sv, struct task_clients *cl, const struct apply_result *res)
{
	if (res->err != TERR_OK || res->inbox_id == 0)
		return;
	/* Writes of its own (claims, outcomes), beside the writer's: the lock file orders them. */
	if (sv->rw == NULL && store_open(&sv->rw, sv->cfg->db_path, STORE_RW) != TERR_OK) {
		sv->rw = NULL;
		log_msg(LOG_ERROR, "cannot open the database for tasks; the tasks job will do them",
		    sv->cfg->db_path);
		return;
	}
	/* The wall clock, not the request's start: the tasks are stamped by the commit. */
	task_run_event(sv->rw, cl, res->inbox_id, tm_now_ms(), NULL);
}
