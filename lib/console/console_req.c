/*
 * One request of the support console: the process's write connection,
 * shared by its threads one at a time, and the admin the request's session
 * is of.
 */
#include <pthread.h>

#include "base/log.h"
#include "base/tally_limits.h"
#include "console/console_req.h"

struct store *
console_rw(struct creq *q)
{
	struct console *k = q->k;

	pthread_mutex_lock(&k->lock);
	if (k->rw == NULL && store_open(&k->rw, q->c->db_path, STORE_RW) != TERR_OK) {
		char db[PG_URI_MAX];
		store_db_shown(q->c->db_path, db, sizeof(db));
		log_msg(LOG_ERROR, "console: cannot open the database for writing", db);
		k->rw = NULL;
		pthread_mutex_unlock(&k->lock);
		return NULL;
	}
	return k->rw;
}

void
console_rw_done(struct creq *q)
{
	pthread_mutex_unlock(&q->k->lock);
}

const char *
console_admin(const struct creq *q)
{
	return q->sess.admin;
}
