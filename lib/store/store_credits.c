/*
 * Typed access to credit grants, the ledger, the audit trail and the outbox.
 */
#include <string.h>

#include "store/store_credits.h"
#include "store/store_credits_int.h"
#include "store/store_int.h"

static const char *const grant_sources[GRANT__MAX] = {
	[GRANT_SUBSCRIPTION] = "subscription",
	[GRANT_TRIAL] = "trial",
	[GRANT_PACK] = "pack",
	[GRANT_PROMO] = "promo",
	[GRANT_ADMIN] = "admin",
	[GRANT_FREE] = "free",
	[GRANT_REFERRAL] = "referral",
};

static const char *const outbox_kinds[] = { "webhook", "notify", "alert" };

const char *
grant_source_str(enum grant_source g)
{
	return (unsigned)g < GRANT__MAX ? grant_sources[g] : "admin";
}

static enum grant_source
grant_source_parse(const char *s)
{
	int i;

	for (i = 0; i < GRANT__MAX; i++)
		if (strcmp(grant_sources[i], s) == 0)
			return (enum grant_source)i;
	return GRANT_ADMIN;
}

static void
read_grant(sqlite3_stmt *st, void *out)
{
	struct grant_row *r = out;
	char source[16];

	r->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, r->user, sizeof(r->user));
	store_col_text(st, 2, source, sizeof(source));
	r->source = grant_source_parse(source);
	r->sub_id = sqlite3_column_int64(st, 3);
	r->pay_id = sqlite3_column_int64(st, 4);
	store_col_text(st, 5, r->product, sizeof(r->product));
	r->amount = sqlite3_column_int64(st, 6);
	r->remaining = sqlite3_column_int64(st, 7);
	r->expires_at = sqlite3_column_int64(st, 8);
	r->created_at = sqlite3_column_int64(st, 9);
}

enum terr
store_grant_insert(struct store *s, struct grant_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_GRANT_INSERT);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, r->user);
	store_bind_text(st, 2, grant_source_str(r->source));
	if (r->sub_id != 0)
		store_bind_i64(st, 3, r->sub_id);
	if (r->pay_id != 0)
		store_bind_i64(st, 4, r->pay_id);
	store_bind_opt(st, 5, r->product);
	store_bind_i64(st, 6, r->amount);
	store_bind_i64(st, 7, r->remaining);
	store_bind_i64(st, 8, r->expires_at);
	store_bind_i64(st, 9, r->created_at);
	rc = store_step_done(s, st, "grant insert");
	if (rc == TERR_OK)
		r->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

enum terr
store_grant_set_remaining(struct store *s, int64_t id, int64_t remaining)
{
	sqlite3_stmt *st = store_stmt(s, STMT_GRANT_SET_REMAINING);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, id);
	store_bind_i64(st, 2, remaining);
	return store_step_done(s, st, "grant set remaining");
}

enum terr
store_grant_set_expiry(struct store *s, int64_t id, int64_t expires_at)
{
	sqlite3_stmt *st = store_stmt(s, STMT_GRANT_SET_EXPIRY);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, id);
	store_bind_i64(st, 2, expires_at);
	return store_step_done(s, st, "grant set expiry");
}

enum terr
store_grants_live(struct store *s, const char *user, int64_t now, struct grant_row *out, size_t max,
    size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_GRANTS_LIVE);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	store_bind_i64(st, 2, now);
	store_bind_i64(st, 3, (int64_t)max);
	return store_many_rows(s, st, read_grant, out, sizeof(*out), max, n, "grants live");
}

enum terr
store_grants_of_sub(struct store *s, int64_t sub_id, struct grant_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_GRANTS_OF_SUB);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, sub_id);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, read_grant, out, sizeof(*out), max, n,
	    "grants of subscription");
}

enum terr
store_grants_of_pay(struct store *s, int64_t pay_id, struct grant_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_GRANTS_OF_PAY);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, pay_id);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, read_grant, out, sizeof(*out), max, n, "grants of payment");
}

enum terr
store_grants_packs(struct store *s, const char *user, struct grant_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_GRANTS_PACKS);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, read_grant, out, sizeof(*out), max, n, "pack grants");
}

enum terr
store_grants_plan(struct store *s, const char *user, struct grant_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_GRANTS_PLAN);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, read_grant, out, sizeof(*out), max, n, "plan grants");
}

void
store_read_ledger(sqlite3_stmt *st, void *out)
{
	struct ledger_row *r = out;

	r->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, r->user, sizeof(r->user));
	r->grant_id = sqlite3_column_int64(st, 2);
	r->amount = sqlite3_column_int64(st, 3);
	store_col_text(st, 4, r->kind, sizeof(r->kind));
	store_col_text(st, 5, r->reason, sizeof(r->reason));
	store_col_text(st, 6, r->actor, sizeof(r->actor));
	r->inbox_id = sqlite3_column_int64(st, 7);
	r->created_at = sqlite3_column_int64(st, 8);
}

enum terr
store_ledger_insert(struct store *s, struct ledger_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_LEDGER_INSERT);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, r->user);
	store_bind_i64(st, 2, r->grant_id);
	store_bind_i64(st, 3, r->amount);
	store_bind_text(st, 4, r->kind);
	store_bind_text(st, 5, r->reason);
	store_bind_text(st, 6, r->actor);
	if (r->inbox_id != 0)
		store_bind_i64(st, 7, r->inbox_id);
	store_bind_i64(st, 8, r->created_at);
	rc = store_step_done(s, st, "ledger insert");
	if (rc == TERR_OK)
		r->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

enum terr
store_ledger_of(struct store *s, const char *user, struct ledger_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_LEDGER_OF);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, store_read_ledger, out, sizeof(*out), max, n, "ledger of");
}

static void
read_ledger_line(sqlite3_stmt *st, void *out)
{
	struct ledger_line *r = out;
	char source[16], kind[16];

	store_read_ledger(st, &r->row);
	store_col_text(st, 9, source, sizeof(source));
	r->source = grant_source_parse(source);
	r->pay_kind = -1;
	if (sqlite3_column_type(st, 10) != SQLITE_NULL) {
		store_col_text(st, 10, kind, sizeof(kind));
		r->pay_kind = (int)pay_kind_parse(kind);
	}
}

enum terr
store_ledger_lines_of(struct store *s, const char *user, struct ledger_line *out, size_t max,
    size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_LEDGER_LINES_OF);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, read_ledger_line, out, sizeof(*out), max, n,
	    "ledger lines of");
}

enum terr
store_ledger_since(struct store *s, int64_t since, int64_t after_id, struct ledger_row *out,
    size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_LEDGER_SINCE);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, since);
	store_bind_i64(st, 2, after_id);
	store_bind_i64(st, 3, (int64_t)max);
	return store_many_rows(s, st, store_read_ledger, out, sizeof(*out), max, n, "ledger since");
}

void
store_read_audit(sqlite3_stmt *st, void *out)
{
	struct audit_row *r = out;

	r->id = sqlite3_column_int64(st, 0);
	r->at = sqlite3_column_int64(st, 1);
	store_col_text(st, 2, r->actor, sizeof(r->actor));
	store_col_text(st, 3, r->user, sizeof(r->user));
	store_col_text(st, 4, r->action, sizeof(r->action));
	store_col_text(st, 5, r->object, sizeof(r->object));
	store_col_text(st, 6, r->detail, sizeof(r->detail));
	store_col_text(st, 7, r->reason, sizeof(r->reason));
	r->inbox_id = sqlite3_column_int64(st, 8);
}

enum terr
store_audit_insert(struct store *s, struct audit_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_AUDIT_INSERT);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, r->at);
	store_bind_text(st, 2, r->actor);
	store_bind_opt(st, 3, r->user);
	store_bind_text(st, 4, r->action);
	store_bind_text(st, 5, r->object);
	store_bind_text(st, 6, r->detail);
	store_bind_text(st, 7, r->reason);
	if (r->inbox_id != 0)
		store_bind_i64(st, 8, r->inbox_id);
	rc = store_step_done(s, st, "audit insert");
	if (rc == TERR_OK)
		r->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

enum terr
store_audit_of(struct store *s, const char *user, struct audit_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_AUDIT_OF);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, store_read_audit, out, sizeof(*out), max, n, "audit of");
}

enum terr
store_outbox_insert(struct store *s, struct outbox_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_OUTBOX_INSERT);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, outbox_kinds[r->kind]);
	store_bind_text(st, 2, r->topic);
	store_bind_opt(st, 3, r->user);
	store_bind_text(st, 4, r->dedup_key);
	store_bind_text(st, 5, r->payload);
	store_bind_i64(st, 6, r->next_at);
	store_bind_i64(st, 7, r->created_at);
	rc = store_step_done(s, st, "outbox insert");
	if (rc == TERR_OK)
		r->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

static enum terr
scalar(struct store *s, sqlite3_stmt *st, int64_t *out, const char *what)
{
	int rc = sqlite3_step(st);

	*out = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	store_stmt_done(st);
	return rc == SQLITE_ROW ? TERR_OK : store_err(s, rc, what);
}

enum terr
store_outbox_count(struct store *s, const char *kind, const char *topic, int64_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_OUTBOX_COUNT);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, kind);
	store_bind_text(st, 2, topic);
	return scalar(s, st, n, "outbox count");
}

enum terr
store_balance_sums(struct store *s, const char *user, int64_t *ledger_sum, int64_t *remaining_sum)
{
	sqlite3_stmt *st;
	enum terr rc;

	if ((st = store_stmt(s, STMT_BALANCE_LEDGER)) == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	if ((rc = scalar(s, st, ledger_sum, "ledger sum")) != TERR_OK)
		return rc;
	if ((st = store_stmt(s, STMT_BALANCE_GRANTS)) == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	return scalar(s, st, remaining_sum, "grants sum");
}

enum terr
store_balance_live(struct store *s, const char *user, int64_t now, int64_t *balance)
{
	sqlite3_stmt *st = store_stmt(s, STMT_BALANCE_LIVE);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	store_bind_i64(st, 2, now);
	return scalar(s, st, balance, "live balance");
}

enum terr
store_pay_latest_of_sub(struct store *s, int64_t sub_id, int64_t *pay_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PAY_LATEST_OF_SUB);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, sub_id);
	return scalar(s, st, pay_id, "latest payment of subscription");
}
