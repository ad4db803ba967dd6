/*
 * A handler's tasks right after its commit: see svc_tasks.h.
 */
#include <pthread.h>

#include "base/log.h"
#include "base/tm.h"
#include "core/task_run.h"
#include "serve/svc_tasks.h"

/* The process's API clients: made once under the lock, then only read (each client is thread-safe). */
static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static struct task_clients clients;
static int clients_made;

static struct task_clients *
shared_clients(const struct cfg *c)
{
	pthread_mutex_lock(&clients_lock);
	if (!clients_made) {
		task_clients_init(&clients, c);
		task_clients_open(&clients);
		clients_made = 1;
	}
	pthread_mutex_unlock(&clients_lock);
	return &clients;
}

void
svc_tasks(struct svc *sv, const struct apply_result *res)
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
	task_run_event(sv->rw, shared_clients(sv->cfg), res->inbox_id, tm_now_ms(), NULL);
}

void
svc_tasks_release(void)
{
	pthread_mutex_lock(&clients_lock);
	if (clients_made)
		task_clients_release(&clients);
	clients_made = 0;
	pthread_mutex_unlock(&clients_lock);
}
