#include <string.h>

#include "base/text.h"
#include "store/store_access.h"
#include "store/store_int.h"

/* --- API keys --- */

static void
read_key(sqlite3_stmt *st, void *out)
{
	struct key_row *r = out;
	const void *h = sqlite3_column_blob(st, 1);

	store_col_text(st, 0, r->id, sizeof(r->id));
	memset(r->secret_hash, 0, sizeof(r->secret_hash));
	if (h != NULL && sqlite3_column_bytes(st, 1) == SHA256_LEN)
		memcpy(r->secret_hash, h, SHA256_LEN);
	store_col_text(st, 2, r->name, sizeof(r->name));
	store_col_text(st, 3, r->scopes, sizeof(r->scopes));
	r->created_at = sqlite3_column_int64(st, 4);
	store_col_text(st, 5, r->created_by, sizeof(r->created_by));
	r->revoked_at = sqlite3_column_int64(st, 6);
	r->last_used_at = sqlite3_column_int64(st, 7);
}

enum terr
store_key_insert(struct store *s, const struct key_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_KEY_INSERT);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, r->id);
	sqlite3_bind_blob(st, 2, r->secret_hash, SHA256_LEN, SQLITE_STATIC);
	store_bind_text(st, 3, r->name);
	store_bind_text(st, 4, r->scopes);
	store_bind_i64(st, 5, r->created_at);
	store_bind_text(st, 6, r->created_by);
	return store_step_done(s, st, "key insert");
}

enum terr
store_key_get(struct store *s, const char *id, struct key_row *out)
{
	sqlite3_stmt *st = store_stmt(s, STMT_KEY_GET);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, id);
	return store_one_row(s, st, read_key, out, "key get");
}

enum terr
store_key_revoke(struct store *s, const char *id, int64_t at)
{
	sqlite3_stmt *st = store_stmt(s, STMT_KEY_REVOKE);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, id);
	store_bind_i64(st, 2, at);
	if ((rc = store_step_done(s, st, "key revoke")) != TERR_OK)
		return rc;
	return sqlite3_changes(s->db) == 0 ? TERR_NOTFOUND : TERR_OK;
}

enum terr
store_keys_list(struct store *s, struct key_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_KEYS_LIST);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, (int64_t)max);
	return store_many_rows(s, st, read_key, out, sizeof(*out), max, n, "keys list");
}

/* --- answers --- */

enum terr
store_answer_get(struct store *s, int64_t inbox_id, char hash[72], int *status, struct buf *body)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ANSWER_GET);
	enum terr rc = TERR_NOTFOUND;
	int r;

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, inbox_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		store_col_text(st, 0, hash, 72);
		*status = sqlite3_column_int(st, 1);
		buf_reset(body);
		buf_append(body, sqlite3_column_text(st, 2), (size_t)sqlite3_column_bytes(st, 2));
		rc = body->err;
	} else if (r != SQLITE_DONE)
		rc = store_err(s, r, "answer get");
	store_stmt_done(st);
	return rc;
}

enum terr
store_answer_insert(struct store *s, int64_t inbox_id, const char *hash, int status,
    const char *body)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ANSWER_INSERT);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, inbox_id);
	store_bind_text(st, 2, hash);
	store_bind_i64(st, 3, status);
	store_bind_text(st, 4, body);
	return store_step_done(s, st, "answer insert");
}

/* --- metrics --- */

enum terr
store_metric_add(struct store *s, const char *name, const char *labels, int64_t delta)
{
	sqlite3_stmt *st = store_stmt(s, STMT_METRIC_ADD);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, labels);
	store_bind_i64(st, 3, delta);
	return store_step_done(s, st, "metric add");
}

enum terr
store_metrics_each(struct store *s,
    void (*fn)(void *arg, const char *name, const char *labels, int64_t value), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, STMT_METRICS_ALL);
	int r;

	if (st == NULL)
		return TERR_DB;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const char *labels = (const char *)sqlite3_column_text(st, 1);
		fn(arg, name != NULL ? name : "", labels != NULL ? labels : "",
		    sqlite3_column_int64(st, 2));
	}
	store_stmt_done(st);
	return r == SQLITE_DONE ? TERR_OK : store_err(s, r, "metrics");
}

static enum terr
gauge(struct store *s, enum stmt i, const char *name,
    void (*fn)(void *arg, const char *gauge, const char *a, const char *b, int64_t n), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, i);
	int r;

	if (st == NULL)
		return TERR_DB;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *a = (const char *)sqlite3_column_text(st, 0);
		const char *b = (const char *)sqlite3_column_text(st, 1);
		fn(arg, name, a != NULL ? a : "", b != NULL ? b : "", sqlite3_column_int64(st, 2));
	}
	store_stmt_done(st);
	return r == SQLITE_DONE ? TERR_OK : store_err(s, r, name);
}

enum terr
store_gauges(struct store *s,
    void (*fn)(void *arg, const char *gauge, const char *a, const char *b, int64_t n), void *arg)
{
	enum terr rc;

	if ((rc = gauge(s, STMT_INBOX_ATTENTION_COUNTS, "inbox", fn, arg)) != TERR_OK)
		return rc;
	return gauge(s, STMT_OUTBOX_STATE_COUNTS, "outbox", fn, arg);
}

/* --- the outbox --- */

static void
read_outbox(sqlite3_stmt *st, void *out)
{
	struct outbox_item *r = out;

	r->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, r->kind, sizeof(r->kind));
	store_col_text(st, 2, r->topic, sizeof(r->topic));
	store_col_text(st, 3, r->user, sizeof(r->user));
	store_col_text(st, 4, r->dedup_key, sizeof(r->dedup_key));
	store_col_text(st, 5, r->payload, sizeof(r->payload));
	store_col_text(st, 6, r->state, sizeof(r->state));
	r->attempts = sqlite3_column_int64(st, 7);
	r->next_at = sqlite3_column_int64(st, 8);
	store_col_text(st, 9, r->last_error, sizeof(r->last_error));
	r->created_at = sqlite3_column_int64(st, 10);
}

enum terr
store_outbox_list(struct store *s, const char *state, int64_t after_id, struct outbox_item *out,
    size_t max, size_t *n)
{
	int dead = state != NULL && strcmp(state, "dead") == 0;
	sqlite3_stmt *st = store_stmt(s, dead ? STMT_OUTBOX_DEAD_LIST : STMT_OUTBOX_LIST);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, state);
	store_bind_i64(st, 2, after_id);
	store_bind_i64(st, 3, (int64_t)max);
	return store_many_rows(s, st, read_outbox, out, sizeof(*out), max, n, "outbox list");
}

enum terr
store_outbox_retry(struct store *s, int64_t id, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_OUTBOX_RETRY);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, id);
	store_bind_i64(st, 2, now);
	if ((rc = store_step_done(s, st, "outbox retry")) != TERR_OK)
		return rc;
	return sqlite3_changes(s->db) == 0 ? TERR_NOTFOUND : TERR_OK;
}

/* --- job leases --- */

enum terr
store_job_lease(struct store *s, const char *name, const char *owner, int64_t now, int64_t ttl,
    int *got)
{
	sqlite3_stmt *st;
	enum terr rc;

	*got = 0;
	if ((rc = store_begin(s)) != TERR_OK)
		return rc;
	if ((st = store_stmt(s, STMT_JOB_LEASE)) == NULL) {
		store_rollback(s);
		return TERR_DB;
	}
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, owner);
	store_bind_i64(st, 3, now + ttl);
	store_bind_i64(st, 4, now);
	if ((rc = store_step_done(s, st, "job lease")) != TERR_OK) {
		store_rollback(s);
		return rc;
	}
	*got = sqlite3_changes(s->db) == 1;
	if ((rc = store_commit(s)) != TERR_OK) {
		store_rollback(s);
		*got = 0;
	}
	return rc;
}

enum terr
store_job_renew(struct store *s, const char *name, const char *owner, int64_t until)
{
	sqlite3_stmt *st;
	enum terr rc;

	if ((rc = store_begin(s)) != TERR_OK)
		return rc;
	if ((st = store_stmt(s, STMT_JOB_RENEW)) == NULL) {
		store_rollback(s);
		return TERR_DB;
	}
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, owner);
	store_bind_i64(st, 3, until);
	if ((rc = store_step_done(s, st, "job renew")) == TERR_OK && sqlite3_changes(s->db) == 0)
		rc = TERR_CONFLICT;
	if (rc != TERR_OK) {
		store_rollback(s);
		return rc;
	}
	if ((rc = store_commit(s)) != TERR_OK)
		store_rollback(s);
	return rc;
}

enum terr
store_job_release(struct store *s, const char *name, const char *owner, int64_t now, int ok,
    const char *result)
{
	sqlite3_stmt *st;
	enum terr rc;

	if ((rc = store_begin(s)) != TERR_OK)
		return rc;
	if ((st = store_stmt(s, STMT_JOB_RELEASE)) == NULL) {
		store_rollback(s);
		return TERR_DB;
	}
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, owner);
	store_bind_i64(st, 3, ok);
	store_bind_i64(st, 4, now);
	store_bind_text(st, 5, result);
	if ((rc = store_step_done(s, st, "job release")) != TERR_OK) {
		store_rollback(s);
		return rc;
	}
	if ((rc = store_commit(s)) != TERR_OK)
		store_rollback(s);
	return rc;
}

static void
read_job(sqlite3_stmt *st, void *out)
{
	struct job_row *r = out;

	store_col_text(st, 0, r->name, sizeof(r->name));
	store_col_text(st, 1, r->lease_owner, sizeof(r->lease_owner));
	r->lease_until = sqlite3_column_int64(st, 2);
	r->last_started_at = sqlite3_column_int64(st, 3);
	r->last_success_at = sqlite3_column_int64(st, 4);
	store_col_text(st, 5, r->last_result, sizeof(r->last_result));
}

enum terr
store_jobs_list(struct store *s, struct job_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_JOBS_LIST);

	if (st == NULL)
		return TERR_DB;
	return store_many_rows(s, st, read_job, out, sizeof(*out), max, n, "jobs list");
}
