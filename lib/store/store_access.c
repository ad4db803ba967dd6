#include <string.h>

#include "base/text.h"
#include "store/store_access.h"
#include "store/store_int.h"

/* --- API keys --- */

static void
read_key(const struct store_row *row, void *out)
{
	struct key_row *r = out;
	size_t len;

	store_col_text(row, 0, r->id, sizeof(r->id));
	memset(r->secret_hash, 0, sizeof(r->secret_hash));
	if (store_col_blob(row, 1, r->secret_hash, sizeof(r->secret_hash), &len) != TERR_OK ||
	    len != SHA256_LEN)
		memset(r->secret_hash, 0, sizeof(r->secret_hash));
	store_col_text(row, 2, r->name, sizeof(r->name));
	store_col_text(row, 3, r->scopes, sizeof(r->scopes));
	r->created_at = store_col_i64(row, 4);
	store_col_text(row, 5, r->created_by, sizeof(r->created_by));
	r->revoked_at = store_col_i64(row, 6);
	r->last_used_at = store_col_i64(row, 7);
}

enum terr
store_key_insert(struct store *s, const struct key_row *r)
{
	return store_run_insert(s, STMT_KEY_INSERT, NULL, "key insert",
	    STORE_PARAMS(SP_TEXT(r->id), SP_BLOB(r->secret_hash, SHA256_LEN), SP_TEXT(r->name),
		SP_TEXT(r->scopes), SP_I64(r->created_at), SP_TEXT(r->created_by)));
}

enum terr
store_key_get(struct store *s, const char *id, struct key_row *out)
{
	return store_get(s, STMT_KEY_GET, read_key, out, "key get", STORE_PARAMS(SP_TEXT(id)));
}

enum terr
store_key_revoke(struct store *s, const char *id, int64_t at)
{
	return store_run_changed(s, STMT_KEY_REVOKE, TERR_NOTFOUND, "key revoke",
	    STORE_PARAMS(SP_TEXT(id), SP_I64(at)));
}

enum terr
store_keys_list(struct store *s, struct key_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_KEYS_LIST, read_key, out, sizeof(*out), max, n, "keys list",
	    STORE_PARAMS(SP_I64(max)));
}

/* --- answers --- */

/* STMT_ANSWER_GET's row: the hash and status into a, the body appended to a->body. */
struct answer {
	char *hash;
	int *status;
	struct buf *body;
};

static void
read_answer(const struct store_row *row, void *out)
{
	struct answer *a = out;

	store_col_text(row, 0, a->hash, 72);
	*a->status = (int)store_col_i64(row, 1);
	buf_reset(a->body);
	store_col_buf(row, 2, a->body);
}

enum terr
store_answer_get(struct store *s, int64_t inbox_id, char hash[72], int *status, struct buf *body)
{
	struct answer a = { hash, status, body };
	enum terr rc;

	rc = store_get(s, STMT_ANSWER_GET, read_answer, &a, "answer get",
	    STORE_PARAMS(SP_I64(inbox_id)));
	return rc == TERR_OK ? body->err : rc;
}

enum terr
store_answer_insert(struct store *s, int64_t inbox_id, const char *hash, int status,
    const char *body)
{
	return store_run_insert(s, STMT_ANSWER_INSERT, NULL, "answer insert",
	    STORE_PARAMS(SP_I64(inbox_id), SP_TEXT(hash), SP_I64(status), SP_TEXT(body)));
}

/* --- metrics --- */

enum terr
store_metric_add(struct store *s, const char *name, const char *labels, int64_t delta)
{
	return store_run(s, STMT_METRIC_ADD, "metric add",
	    STORE_PARAMS(SP_TEXT(name), SP_TEXT(labels), SP_I64(delta)));
}

struct metrics_walk {
	void (*fn)(void *arg, const char *name, const char *labels, int64_t value);
	void *arg;
};

static enum terr
each_metric(const struct store_row *row, void *arg)
{
	struct metrics_walk *w = arg;

	w->fn(w->arg, store_col_str(row, 0), store_col_str(row, 1), store_col_i64(row, 2));
	return TERR_OK;
}

enum terr
store_metrics_each(struct store *s,
    void (*fn)(void *arg, const char *name, const char *labels, int64_t value), void *arg)
{
	struct metrics_walk w = { fn, arg };

	return store_each(s, STMT_METRICS_ALL, each_metric, &w, "metrics", NULL, 0);
}

struct gauge_walk {
	void (*fn)(void *arg, const char *gauge, const char *a, const char *b, int64_t n);
	void *arg;
	const char *name;
};

static enum terr
each_gauge(const struct store_row *row, void *arg)
{
	struct gauge_walk *w = arg;

	w->fn(w->arg, w->name, store_col_str(row, 0), store_col_str(row, 1), store_col_i64(row, 2));
	return TERR_OK;
}

enum terr
store_gauges(struct store *s,
    void (*fn)(void *arg, const char *gauge, const char *a, const char *b, int64_t n), void *arg)
{
	struct gauge_walk w = { fn, arg, "inbox" };
	enum terr rc;

	if ((rc = store_each(s, STMT_INBOX_ATTENTION_COUNTS, each_gauge, &w, w.name, NULL, 0)) !=
	    TERR_OK)
		return rc;
	w.name = "outbox";
	return store_each(s, STMT_OUTBOX_STATE_COUNTS, each_gauge, &w, w.name, NULL, 0);
}

/* --- the outbox --- */

static void
read_outbox(const struct store_row *row, void *out)
{
	struct outbox_item *r = out;

	r->id = store_col_i64(row, 0);
	store_col_text(row, 1, r->kind, sizeof(r->kind));
	store_col_text(row, 2, r->topic, sizeof(r->topic));
	store_col_text(row, 3, r->user, sizeof(r->user));
	store_col_text(row, 4, r->dedup_key, sizeof(r->dedup_key));
	store_col_text(row, 5, r->payload, sizeof(r->payload));
	store_col_text(row, 6, r->state, sizeof(r->state));
	r->attempts = store_col_i64(row, 7);
	r->next_at = store_col_i64(row, 8);
	store_col_text(row, 9, r->last_error, sizeof(r->last_error));
	r->created_at = store_col_i64(row, 10);
}

enum terr
store_outbox_list(struct store *s, const char *state, int64_t after_id, struct outbox_item *out,
    size_t max, size_t *n)
{
	int dead = state != NULL && strcmp(state, "dead") == 0;

	return store_list(s, dead ? STMT_OUTBOX_DEAD_LIST : STMT_OUTBOX_LIST, read_outbox, out,
	    sizeof(*out), max, n, "outbox list",
	    STORE_PARAMS(SP_TEXT(state), SP_I64(after_id), SP_I64(max)));
}

enum terr
store_outbox_retry(struct store *s, int64_t id, int64_t now)
{
	return store_run_changed(s, STMT_OUTBOX_RETRY, TERR_NOTFOUND, "outbox retry",
	    STORE_PARAMS(SP_I64(id), SP_I64(now)));
}

/* --- job leases: each alone in its own transaction (store_run_alone) --- */

enum terr
store_job_lease(struct store *s, const char *name, const char *owner, int64_t now, int64_t ttl,
    int *got)
{
	/* Taken when the upsert changed the row; held by another, TERR_CONFLICT: not got. */
	enum terr rc = store_run_alone(s, STMT_JOB_LEASE, TERR_CONFLICT, "job lease",
	    STORE_PARAMS(SP_TEXT(name), SP_TEXT(owner), SP_I64(now + ttl), SP_I64(now)));

	*got = rc == TERR_OK;
	return rc == TERR_CONFLICT ? TERR_OK : rc;
}

enum terr
store_job_renew(struct store *s, const char *name, const char *owner, int64_t until)
{
	return store_run_alone(s, STMT_JOB_RENEW, TERR_CONFLICT, "job renew",
	    STORE_PARAMS(SP_TEXT(name), SP_TEXT(owner), SP_I64(until)));
}

enum terr
store_job_release(struct store *s, const char *name, const char *owner, int64_t now, int ok,
    const char *result)
{
	return store_run_alone(s, STMT_JOB_RELEASE, TERR_OK, "job release",
	    STORE_PARAMS(SP_TEXT(name), SP_TEXT(owner), SP_I64(ok), SP_I64(now), SP_TEXT(result)));
}

static void
read_job(const struct store_row *row, void *out)
{
	struct job_row *r = out;

	store_col_text(row, 0, r->name, sizeof(r->name));
	store_col_text(row, 1, r->lease_owner, sizeof(r->lease_owner));
	r->lease_until = store_col_i64(row, 2);
	r->last_started_at = store_col_i64(row, 3);
	r->last_success_at = store_col_i64(row, 4);
	store_col_text(row, 5, r->last_result, sizeof(r->last_result));
}

enum terr
store_jobs_list(struct store *s, struct job_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_JOBS_LIST, read_job, out, sizeof(*out), max, n, "jobs list", NULL,
	    0);
}
