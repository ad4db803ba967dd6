/*
 * Storage of the scheduled jobs: see store_jobs.h. The statements are the
 * store_jobs.c section of store_sql.c.
 */
#include <stddef.h>
#include <string.h>

#include "base/text.h"
#include "store/store_credits.h"
#include "store/store_int.h"
#include "store/store_jobs.h"
#include "store/store_orders_int.h"
#include "store/store_rows_int.h"

/*
 * One page of a walk: (?1, ?2) the position, ?3 the last due time, ?4 the
 * page size. The position moves to the last row's due time and id, read at
 * at_off and id_off of its struct.
 */
static enum terr
walk_by(struct store *s, enum stmt i, const char *by, struct store_pos *pos, int64_t until,
    store_read_fn fn, void *out, size_t sz, size_t max, size_t *n, size_t at_off, size_t id_off)
{
	const struct store_param p[] = { SP_I64(pos->at), SP_I64(pos->id), SP_I64(until),
		SP_I64(max), SP_TEXT(by) };
	const char *last;
	enum terr rc;

	/* ?5 only where the statement has it (by not NULL). */
	rc = store_list(s, i, fn, out, sz, max, n, "due work", p, by != NULL ? 5 : 4);
	if (rc != TERR_OK || *n == 0)
		return rc;
	last = (const char *)out + (*n - 1) * sz;
	memcpy(&pos->at, last + at_off, sizeof(pos->at));
	memcpy(&pos->id, last + id_off, sizeof(pos->id));
	return TERR_OK;
}

/* walk_by without ?5. */
static enum terr
walk(struct store *s, enum stmt i, struct store_pos *pos, int64_t until, store_read_fn fn,
    void *out, size_t sz, size_t max, size_t *n, size_t at_off, size_t id_off)
{
	return walk_by(s, i, NULL, pos, until, fn, out, sz, max, n, at_off, id_off);
}

enum terr
store_due_subs(struct store *s, enum due_subs w, struct store_pos *pos, int64_t until,
    struct sub_row *out, size_t max, size_t *n)
{
	static const struct {
		enum stmt st;
		size_t at;
	} walks[] = {
		[DUE_CREDITS] = { STMT_DUE_CREDITS, offsetof(struct sub_row, credits_next_at) },
		[DUE_GRACE] = { STMT_DUE_GRACE, offsetof(struct sub_row, grace_until) },
		[DUE_PERIOD] = { STMT_DUE_PERIOD, offsetof(struct sub_row, period_end) },
		[DUE_TRIAL] = { STMT_DUE_TRIAL, offsetof(struct sub_row, trial_end) },
		[DUE_ENDING] = { STMT_DUE_ENDING, offsetof(struct sub_row, period_end) },
	};

	return walk(s, walks[w].st, pos, until, store_read_sub, out, sizeof(*out), max, n,
	    walks[w].at, offsetof(struct sub_row, id));
}

static void
read_due_user(const struct store_row *row, void *out)
{
	struct due_user *r = out;

	r->rowid = store_col_i64(row, 0);
	store_col_text(row, 1, r->id, sizeof(r->id));
	r->free_next_at = store_col_i64(row, 2);
}

enum terr
store_due_free(struct store *s, struct store_pos *pos, int64_t until, struct due_user *out,
    size_t max, size_t *n)
{
	return walk(s, STMT_DUE_FREE, pos, until, read_due_user, out, sizeof(*out), max, n,
	    offsetof(struct due_user, free_next_at), offsetof(struct due_user, rowid));
}

static void
read_due_grant(const struct store_row *row, void *out)
{
	struct due_grant *r = out;

	r->id = store_col_i64(row, 0);
	store_col_text(row, 1, r->user, sizeof(r->user));
	r->expires_at = store_col_i64(row, 2);
}

enum terr
store_due_grants(struct store *s, struct store_pos *pos, int64_t until, struct due_grant *out,
    size_t max, size_t *n)
{
	return walk(s, STMT_DUE_GRANTS, pos, until, read_due_grant, out, sizeof(*out), max, n,
	    offsetof(struct due_grant, expires_at), offsetof(struct due_grant, id));
}

static void
read_due_order(const struct store_row *row, void *out)
{
	struct due_order *r = out;

	store_read_order(row, &r->o);
	r->rowid = store_col_i64(row, 14); /* after the 14 ORDER_COLS */
}

enum terr
store_due_orders(struct store *s, struct store_pos *pos, int64_t until, struct due_order *out,
    size_t max, size_t *n)
{
	return walk(s, STMT_DUE_ORDERS, pos, until, read_due_order, out, sizeof(*out), max, n,
	    offsetof(struct due_order, o.expires_at), offsetof(struct due_order, rowid));
}

enum terr
store_pending_orders(struct store *s, const char *provider, struct store_pos *pos,
    struct due_order *out, size_t max, size_t *n)
{
	return walk_by(s, STMT_PENDING_ORDERS, provider, pos, INT64_MAX, read_due_order, out,
	    sizeof(*out), max, n, offsetof(struct due_order, o.expires_at),
	    offsetof(struct due_order, rowid));
}

static void
read_due_outbox(const struct store_row *row, void *out)
{
	struct outbox_due *r = out;
	char kind[16];

	r->id = store_col_i64(row, 0);
	store_col_text(row, 1, kind, sizeof(kind));
	r->kind = strcmp(kind, "webhook") == 0 ? OUTBOX_WEBHOOK
	    : strcmp(kind, "notify") == 0      ? OUTBOX_NOTIFY
					       : OUTBOX_ALERT;
	store_col_text(row, 2, r->topic, sizeof(r->topic));
	store_col_text(row, 3, r->user, sizeof(r->user));
	store_col_text(row, 4, r->dedup_key, sizeof(r->dedup_key));
	r->payload_cut = store_col_len(row, 5) >= (int)sizeof(r->payload);
	store_col_text(row, 5, r->payload, sizeof(r->payload));
	r->attempts = store_col_i64(row, 6);
	r->next_at = store_col_i64(row, 7);
	r->created_at = store_col_i64(row, 8);
}

enum terr
store_due_outbox(struct store *s, struct store_pos *pos, int64_t until, struct outbox_due *out,
    size_t max, size_t *n)
{
	return walk(s, STMT_DUE_OUTBOX, pos, until, read_due_outbox, out, sizeof(*out), max, n,
	    offsetof(struct outbox_due, next_at), offsetof(struct outbox_due, id));
}

enum terr
store_due_attention(struct store *s, int64_t after_id, struct inbox_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_DUE_ATTENTION, store_read_inbox, out, sizeof(*out), max, n,
	    "inbox attention", STORE_PARAMS(SP_I64(after_id), SP_I64(max)));
}

/* --- each alone in its own transaction; TERR_CONFLICT when it changed no row --- */

enum terr
store_outbox_claim(struct store *s, int64_t id, int64_t attempts, int64_t retry_at)
{
	return store_run_alone(s, STMT_OUTBOX_CLAIM, TERR_CONFLICT, "outbox claim",
	    STORE_PARAMS(SP_I64(id), SP_I64(attempts), SP_I64(retry_at)));
}

enum terr
store_outbox_sent(struct store *s, int64_t id)
{
	return store_run_alone(s, STMT_OUTBOX_SENT, TERR_CONFLICT, "outbox sent",
	    STORE_PARAMS(SP_I64(id)));
}

enum terr
store_outbox_failed(struct store *s, int64_t id, const char *error, int64_t retry_at, int dead,
    struct outbox_row *alert)
{
	enum terr rc;

	if ((rc = store_begin(s)) != TERR_OK)
		return rc;
	rc = store_run_changed(s, STMT_OUTBOX_FAILED, TERR_CONFLICT, "outbox failed",
	    STORE_PARAMS(SP_I64(id), SP_TEXT(dead ? "dead" : "pending"), SP_TEXT(error),
		SP_I64(retry_at)));
	/* A dead delivery raises its alert in the same transaction (once: a duplicate is fine). */
	if (rc == TERR_OK && dead && alert != NULL &&
	    (rc = store_outbox_insert(s, alert)) == TERR_DUP)
		rc = TERR_OK;
	if (rc == TERR_OK && (rc = store_commit(s)) == TERR_OK)
		return TERR_OK;
	store_rollback(s);
	return rc;
}

enum terr
store_job_takeover(struct store *s, const char *name, const char *from, const char *to, int64_t now,
    int64_t until)
{
	return store_run_alone(s, STMT_JOB_TAKEOVER, TERR_CONFLICT, "job takeover",
	    STORE_PARAMS(SP_TEXT(name), SP_TEXT(from), SP_TEXT(to), SP_I64(until), SP_I64(now)));
}
