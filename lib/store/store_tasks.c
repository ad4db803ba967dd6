/*
 * Storage of tasks: see store_tasks.h. The statements are the store_tasks.c
 * section of store_sql.c.
 */
#include <stddef.h>
#include <string.h>

#include "store/store_credits.h"
#include "store/store_int.h"
#include "store/store_tasks.h"

static const char *const task_states[] = { "pending", "done", "given_up" };

const char *
task_state_str(enum task_state st)
{
	return (unsigned)st < TASK__MAX ? task_states[st] : "pending";
}

static void
read_task(const struct store_row *row, void *out)
{
	struct task_row *r = out;
	char state[16];
	int i;

	r->id = store_col_i64(row, 0);
	store_col_text(row, 1, r->provider, sizeof(r->provider));
	store_col_text(row, 2, r->kind, sizeof(r->kind));
	store_col_text(row, 3, r->key, sizeof(r->key));
	store_col_text(row, 4, r->arg, sizeof(r->arg));
	store_col_text(row, 5, r->user, sizeof(r->user));
	r->inbox_id = store_col_i64(row, 6);
	r->deadline = store_col_i64(row, 7);
	r->near_at = store_col_i64(row, 8);
	r->created_at = store_col_i64(row, 9);
	r->due_at = store_col_i64(row, 10);
	r->attempts = store_col_i64(row, 11);
	store_col_text(row, 12, state, sizeof(state));
	i = store_name_find(task_states, TASK__MAX, state);
	r->state = i < 0 ? TASK_PENDING : (enum task_state)i;
	store_col_text(row, 13, r->last_error, sizeof(r->last_error));
	r->last_try_at = store_col_i64(row, 14);
	r->done_at = store_col_i64(row, 15);
	r->near_alerted_at = store_col_i64(row, 16);
	r->late_alerted_at = store_col_i64(row, 17);
}

enum terr
store_task_insert(struct store *s, struct task_row *t)
{
	return store_run_insert(s, STMT_TASK_INSERT, &t->id, "task insert",
	    STORE_PARAMS(SP_TEXT(t->provider), SP_TEXT(t->kind), SP_TEXT(t->key), SP_TEXT(t->arg),
		SP_OPT(t->user), SP_ID(t->inbox_id), SP_I64(t->deadline), SP_I64(t->near_at),
		SP_I64(t->created_at), SP_I64(t->due_at)));
}

enum terr
store_task_get(struct store *s, int64_t id, struct task_row *out)
{
	return store_get(s, STMT_TASK_GET, read_task, out, "task get", STORE_PARAMS(SP_I64(id)));
}

enum terr
store_task_find(struct store *s, const char *provider, const char *kind, const char *key,
    struct task_row *out)
{
	return store_get(s, STMT_TASK_FIND, read_task, out, "task find",
	    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(kind), SP_TEXT(key)));
}

enum terr
store_tasks_of_inbox(struct store *s, int64_t inbox_id, struct task_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_TASKS_OF_INBOX, read_task, out, sizeof(*out), max, n,
	    "tasks of inbox", STORE_PARAMS(SP_I64(inbox_id), SP_I64(max)));
}

/* One page of a walk (store_jobs.c's walk, with the task's own key). */
static enum terr
walk(struct store *s, enum stmt i, struct store_pos *pos, int64_t until, struct task_row *out,
    size_t max, size_t *n, size_t at_off)
{
	enum terr rc;

	rc = store_list(s, i, read_task, out, sizeof(*out), max, n, "due tasks",
	    STORE_PARAMS(SP_I64(pos->at), SP_I64(pos->id), SP_I64(until), SP_I64(max)));
	if (rc != TERR_OK || *n == 0)
		return rc;
	memcpy(&pos->at, (const char *)&out[*n - 1] + at_off, sizeof(pos->at));
	pos->id = out[*n - 1].id;
	return TERR_OK;
}

enum terr
store_due_tasks(struct store *s, struct store_pos *pos, int64_t until, struct task_row *out,
    size_t max, size_t *n)
{
	return walk(s, STMT_DUE_TASKS, pos, until, out, max, n, offsetof(struct task_row, due_at));
}

enum terr
store_near_tasks(struct store *s, struct store_pos *pos, int64_t until, struct task_row *out,
    size_t max, size_t *n)
{
	return walk(s, STMT_NEAR_TASKS, pos, until, out, max, n,
	    offsetof(struct task_row, near_at));
}

enum terr
store_task_claim(struct store *s, int64_t id, int64_t attempts, int64_t now, int64_t hold_until)
{
	return store_run_alone(s, STMT_TASK_CLAIM, TERR_CONFLICT, "task claim",
	    STORE_PARAMS(SP_I64(id), SP_I64(attempts), SP_I64(now), SP_I64(hold_until)));
}

/* The change (run), then the alert when there is one, in one transaction. */
static enum terr
with_alert(struct store *s, enum stmt i, const char *what, const struct store_param *p, size_t n,
    struct outbox_row *alert)
{
	enum terr rc;

	if ((rc = store_begin(s)) != TERR_OK)
		return rc;
	rc = store_run_changed(s, i, TERR_CONFLICT, what, p, n);
	if (rc == TERR_OK && alert != NULL && (rc = store_outbox_insert(s, alert)) == TERR_DUP)
		rc = TERR_OK;
	if (rc == TERR_OK && (rc = store_commit(s)) == TERR_OK)
		return TERR_OK;
	store_rollback(s);
	return rc;
}

enum terr
store_task_finish(struct store *s, int64_t id, int64_t attempts, const struct task_end *e,
    struct outbox_row *alert)
{
	return with_alert(s, STMT_TASK_FINISH, "task finish",
	    STORE_PARAMS(SP_I64(id), SP_I64(attempts), SP_TEXT(task_state_str(e->state)),
		SP_I64(e->due_at), SP_TEXT(e->error != NULL ? e->error : ""),
		SP_I64(e->state == TASK_PENDING ? 0 : e->at), SP_I64(e->late ? e->at : 0)),
	    alert);
}

enum terr
store_task_expire(struct store *s, int64_t id, int64_t attempts, int64_t now, const char *why,
    struct outbox_row *alert)
{
	return with_alert(s, STMT_TASK_EXPIRE, "task expire",
	    STORE_PARAMS(SP_I64(id), SP_I64(attempts), SP_I64(now), SP_TEXT(why)), alert);
}

enum terr
store_task_near_alerted(struct store *s, int64_t id, int64_t now, struct outbox_row *alert)
{
	return with_alert(s, STMT_TASK_NEAR_ALERTED, "task near alerted",
	    STORE_PARAMS(SP_I64(id), SP_I64(now)), alert);
}

enum terr
store_tasks_list(struct store *s, int all, struct task_row *out, size_t max, size_t *n)
{
	return store_list(s, all ? STMT_TASKS_ALL : STMT_TASKS_PENDING, read_task, out,
	    sizeof(*out), max, n, "tasks list", STORE_PARAMS(SP_I64(max)));
}
