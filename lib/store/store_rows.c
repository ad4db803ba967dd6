/*
 * Typed access to users, links, the inbox, subscriptions, entitlements and
 * payments. Each function binds, steps and resets one statement of
 * store_sql.c.
 */
#include <string.h>

#include "store/store_int.h"
#include "store/store_rows.h"
#include "store/store_rows_int.h"

static const char *const inbox_states[INBOX__MAX] = {
	[INBOX_APPLIED] = "applied",
	[INBOX_IGNORED] = "ignored",
	[INBOX_ORPHANED] = "orphaned",
	[INBOX_UNKNOWN_PRODUCT] = "unknown_product",
	[INBOX_FAILED] = "failed",
};

static const char *const pay_states[] = { "paid", "refunded", "disputed" };

const char *
inbox_state_str(enum inbox_state st)
{
	return (unsigned)st < INBOX__MAX ? inbox_states[st] : "failed";
}

int
inbox_state_parse(const char *s)
{
	int i;

	for (i = 0; i < INBOX__MAX; i++)
		if (strcmp(inbox_states[i], s) == 0)
			return i;
	return -1;
}

const char *
pay_state_str(enum pay_state st)
{
	return (unsigned)st <= PAY_DISPUTED ? pay_states[st] : "paid";
}

static enum pay_state
pay_state_parse(const char *s)
{
	if (strcmp(s, "refunded") == 0)
		return PAY_REFUNDED;
	if (strcmp(s, "disputed") == 0)
		return PAY_DISPUTED;
	return PAY_PAID;
}

/* --- users and links --- */

enum terr
store_user_get(struct store *s, const char *id, int64_t *created_at,
    char merged_into[USER_ID_MAX + 1])
{
	sqlite3_stmt *st = store_stmt(s, STMT_USER_EXISTS);
	enum terr rc = TERR_NOTFOUND;
	int r;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		if (created_at != NULL)
			*created_at = sqlite3_column_int64(st, 0);
		if (merged_into != NULL)
			store_col_text(st, 1, merged_into, USER_ID_MAX + 1);
		rc = TERR_OK;
	} else if (r != SQLITE_DONE)
		rc = store_err(s, r, "user exists");
	store_stmt_done(st);
	return rc;
}

enum terr
store_user_created(struct store *s, const char *id, int64_t *created_at)
{
	return store_user_get(s, id, created_at, NULL);
}

/* Bind (a text, b text) to statement i and run it. */
static enum terr
run2(struct store *s, enum stmt i, const char *a, const char *b, const char *what)
{
	sqlite3_stmt *st = store_stmt(s, i);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, a);
	store_bind_text(st, 2, b);
	return store_step_done(s, st, what);
}

enum terr
store_user_merge(struct store *s, const char *from, const char *into)
{
	enum terr rc;

	if ((rc = run2(s, STMT_LINKS_MOVE, from, into, "links move")) != TERR_OK ||
	    (rc = run2(s, STMT_PAYS_MOVE, from, into, "payments move")) != TERR_OK)
		return rc;
	return run2(s, STMT_USER_MERGE, from, into, "user merge");
}

enum terr
store_pays_move_sub(struct store *s, int64_t sub_id, const char *user)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PAYS_MOVE_SUB);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, sub_id);
	store_bind_text(st, 2, user);
	return store_step_done(s, st, "payments of subscription move");
}

enum terr
store_pay_set_user(struct store *s, int64_t pay_id, const char *user)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PAY_SET_USER);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, pay_id);
	store_bind_text(st, 2, user);
	return store_step_done(s, st, "payment set user");
}

enum terr
store_clawback_of_pay(struct store *s, int64_t pay_id, int64_t *amount)
{
	sqlite3_stmt *st = store_stmt(s, STMT_CLAWBACK_OF_PAY);
	int r;

	*amount = 0;
	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, pay_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*amount = sqlite3_column_int64(st, 0);
	store_stmt_done(st);
	return r == SQLITE_ROW ? TERR_OK : store_err(s, r, "clawback of payment");
}

enum terr
store_user_exists(struct store *s, const char *id)
{
	return store_user_created(s, id, NULL);
}

enum terr
store_user_insert(struct store *s, const char *id, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_USER_INSERT);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, id);
	store_bind_i64(st, 2, now);
	if ((rc = store_step_done(s, st, "user insert")) != TERR_OK)
		return rc;
	return sqlite3_changes(s->db) == 0 ? TERR_DUP : TERR_OK;
}

enum terr
store_link_find(struct store *s, const char *provider, const char *kind, const char *ext_id,
    char user[USER_ID_MAX + 1])
{
	sqlite3_stmt *st = store_stmt(s, STMT_LINK_FIND);
	enum terr rc = TERR_NOTFOUND;
	int r;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, provider);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, ext_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		store_col_text(st, 0, user, USER_ID_MAX + 1);
		rc = TERR_OK;
	} else if (r != SQLITE_DONE)
		rc = store_err(s, r, "link find");
	store_stmt_done(st);
	return rc;
}

enum terr
store_link_insert(struct store *s, const char *provider, const char *kind, const char *ext_id,
    const char *user, int64_t now)
{
	sqlite3_stmt *st = store_stmt(s, STMT_LINK_INSERT);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, provider);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, ext_id);
	store_bind_text(st, 4, user);
	store_bind_i64(st, 5, now);
	return store_step_done(s, st, "link insert");
}

enum terr
store_link_delete(struct store *s, const char *provider, const char *kind, const char *ext_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_LINK_DELETE);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, provider);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, ext_id);
	rc = store_step_done(s, st, "link delete");
	if (rc == TERR_OK && sqlite3_changes(s->db) == 0)
		return TERR_NOTFOUND;
	return rc;
}

static void
read_link(sqlite3_stmt *st, void *out)
{
	struct link_row *r = out;

	store_col_text(st, 0, r->provider, sizeof(r->provider));
	store_col_text(st, 1, r->kind, sizeof(r->kind));
	store_col_text(st, 2, r->ext_id, sizeof(r->ext_id));
	store_col_text(st, 3, r->user, sizeof(r->user));
	r->created_at = sqlite3_column_int64(st, 4);
}

enum terr
store_links_of(struct store *s, const char *user, struct link_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_LINKS_OF);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, read_link, out, sizeof(*out), max, n, "links of");
}

/* --- inbox --- */

void
store_read_inbox(sqlite3_stmt *st, void *out)
{
	struct inbox_row *r = out;
	char state[24];
	int v;

	r->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, r->provider, sizeof(r->provider));
	store_col_text(st, 2, r->event_id, sizeof(r->event_id));
	store_col_text(st, 3, r->type, sizeof(r->type));
	r->live = sqlite3_column_int(st, 4);
	r->event_at = sqlite3_column_int64(st, 5);
	r->received_at = sqlite3_column_int64(st, 6);
	r->updated_at = sqlite3_column_int64(st, 7);
	store_col_text(st, 8, state, sizeof(state));
	v = inbox_state_parse(state);
	r->state = v < 0 ? INBOX_FAILED : (enum inbox_state)v;
	store_col_text(st, 9, r->reason, sizeof(r->reason));
	store_col_text(st, 10, r->user, sizeof(r->user));
	store_col_text(st, 11, r->orphan_kind, sizeof(r->orphan_kind));
	store_col_text(st, 12, r->orphan_id, sizeof(r->orphan_id));
	r->attempts = sqlite3_column_int64(st, 13);
}

enum terr
store_inbox_find(struct store *s, const char *provider, const char *event_id, struct inbox_row *out)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INBOX_FIND);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, provider);
	store_bind_text(st, 2, event_id);
	return store_one_row(s, st, store_read_inbox, out, "inbox find");
}

enum terr
store_inbox_insert(struct store *s, struct inbox_row *r, const void *body, size_t n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INBOX_INSERT);
	enum terr rc;
	int step;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, r->provider);
	store_bind_text(st, 2, r->event_id);
	store_bind_text(st, 3, r->type);
	store_bind_i64(st, 4, r->live);
	store_bind_i64(st, 5, r->event_at);
	store_bind_i64(st, 6, r->received_at);
	store_bind_i64(st, 7, r->updated_at);
	store_bind_text(st, 8, inbox_state_str(r->state));
	store_bind_text(st, 9, r->reason);
	store_bind_opt(st, 10, r->user);
	store_bind_opt(st, 11, r->orphan_kind);
	store_bind_opt(st, 12, r->orphan_id);
	store_bind_i64(st, 13, r->attempts);
	/*
	 * ON CONFLICT DO NOTHING: one row changed means inserted, none a
	 * duplicate. (Not RETURNING: SQLite builds a temporary table for it.)
	 */
	step = sqlite3_step(st);
	store_stmt_done(st);
	if (step != SQLITE_DONE)
		return store_err(s, step, "inbox insert");
	if (sqlite3_changes(s->db) == 0)
		return TERR_DUP;
	r->id = sqlite3_last_insert_rowid(s->db);
	if ((st = store_stmt(s, STMT_INBOX_BODY_INSERT)) == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, r->id);
	sqlite3_bind_blob64(st, 2, body != NULL ? body : "", n, SQLITE_STATIC);
	rc = store_step_done(s, st, "inbox body insert");
	return rc;
}

enum terr
store_inbox_any_orphan(struct store *s, int *any)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INBOX_ANY_ORPHAN);
	int step;

	*any = 0;
	if (st == NULL)
		return TERR_DB;
	step = sqlite3_step(st);
	*any = step == SQLITE_ROW;
	store_stmt_done(st);
	return step == SQLITE_ROW || step == SQLITE_DONE ? TERR_OK
							 : store_err(s, step, "any orphan");
}

enum terr
store_inbox_update(struct store *s, const struct inbox_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INBOX_UPDATE);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, r->id);
	store_bind_text(st, 2, inbox_state_str(r->state));
	store_bind_text(st, 3, r->reason);
	store_bind_opt(st, 4, r->user);
	store_bind_opt(st, 5, r->orphan_kind);
	store_bind_opt(st, 6, r->orphan_id);
	store_bind_i64(st, 7, r->attempts);
	store_bind_i64(st, 8, r->updated_at);
	return store_step_done(s, st, "inbox update");
}

enum terr
store_inbox_get(struct store *s, int64_t id, struct inbox_row *out, struct buf *body)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INBOX_GET);
	enum terr rc;
	int r;

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, id);
	if ((rc = store_one_row(s, st, store_read_inbox, out, "inbox get")) != TERR_OK ||
	    body == NULL)
		return rc;
	if ((st = store_stmt(s, STMT_INBOX_BODY)) == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		buf_append(body, sqlite3_column_blob(st, 0), (size_t)sqlite3_column_bytes(st, 0));
		rc = body->err;
	} else
		rc = r == SQLITE_DONE ? TERR_NOTFOUND : store_err(s, r, "inbox body");
	store_stmt_done(st);
	return rc;
}

enum terr
store_inbox_list(struct store *s, int state, const char *user, int64_t after_id,
    struct inbox_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INBOX_LIST);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, after_id);
	store_bind_text(st, 2, state < 0 ? NULL : inbox_state_str((enum inbox_state)state));
	store_bind_text(st, 3, user);
	store_bind_i64(st, 4, (int64_t)max);
	return store_many_rows(s, st, store_read_inbox, out, sizeof(*out), max, n, "inbox list");
}

static void
read_id(sqlite3_stmt *st, void *out)
{
	*(int64_t *)out = sqlite3_column_int64(st, 0);
}

enum terr
store_inbox_orphans(struct store *s, const char *provider, const char *kind, const char *id,
    int64_t *ids, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_INBOX_ORPHANS);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, provider);
	store_bind_text(st, 2, kind);
	store_bind_text(st, 3, id);
	store_bind_i64(st, 4, (int64_t)max);
	return store_many_rows(s, st, read_id, ids, sizeof(*ids), max, n, "inbox orphans");
}

/* --- subscriptions --- */

void
store_read_sub(sqlite3_stmt *st, void *out)
{
	struct sub_row *r = out;
	char state[24];

	r->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, r->provider, sizeof(r->provider));
	store_col_text(st, 2, r->ext_id, sizeof(r->ext_id));
	store_col_text(st, 3, r->user, sizeof(r->user));
	store_col_text(st, 4, r->product, sizeof(r->product));
	store_col_text(st, 5, state, sizeof(state));
	r->state = sub_state_parse(state);
	r->live = sqlite3_column_int(st, 6);
	r->period_start = sqlite3_column_int64(st, 7);
	r->period_end = sqlite3_column_int64(st, 8);
	r->trial_end = sqlite3_column_int64(st, 9);
	r->grace_until = sqlite3_column_int64(st, 10);
	r->cancel_at_period_end = sqlite3_column_int(st, 11);
	r->credits_through = sqlite3_column_int64(st, 12);
	r->state_at = sqlite3_column_int64(st, 13);
	r->state_rank = (unsigned)sqlite3_column_int(st, 14);
	r->created_at = sqlite3_column_int64(st, 15);
	r->updated_at = sqlite3_column_int64(st, 16);
	store_col_text(st, 17, r->store, sizeof(r->store));
	r->credits_next_at = sqlite3_column_int64(st, 18);
}

enum terr
store_sub_find(struct store *s, const char *provider, const char *ext_id, struct sub_row *out)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SUB_FIND);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, provider);
	store_bind_text(st, 2, ext_id);
	return store_one_row(s, st, store_read_sub, out, "subscription find");
}

enum terr
store_sub_get(struct store *s, int64_t id, struct sub_row *out)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SUB_GET);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, id);
	return store_one_row(s, st, store_read_sub, out, "subscription get");
}

enum terr
store_sub_insert(struct store *s, struct sub_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SUB_INSERT);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, r->provider);
	store_bind_text(st, 2, r->ext_id);
	store_bind_text(st, 3, r->user);
	store_bind_text(st, 4, r->product);
	store_bind_text(st, 5, sub_state_str(r->state));
	store_bind_i64(st, 6, r->live);
	store_bind_i64(st, 7, r->period_start);
	store_bind_i64(st, 8, r->period_end);
	store_bind_i64(st, 9, r->trial_end);
	store_bind_i64(st, 10, r->grace_until);
	store_bind_i64(st, 11, r->cancel_at_period_end);
	store_bind_i64(st, 12, r->credits_through);
	store_bind_i64(st, 13, r->state_at);
	store_bind_i64(st, 14, r->state_rank);
	store_bind_i64(st, 15, r->created_at);
	store_bind_i64(st, 16, r->updated_at);
	store_bind_text(st, 17, r->store);
	store_bind_i64(st, 18, r->credits_next_at);
	rc = store_step_done(s, st, "subscription insert");
	if (rc == TERR_OK)
		r->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

enum terr
store_sub_update(struct store *s, const struct sub_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SUB_UPDATE);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, r->id);
	store_bind_text(st, 2, r->product);
	store_bind_text(st, 3, sub_state_str(r->state));
	store_bind_i64(st, 4, r->period_start);
	store_bind_i64(st, 5, r->period_end);
	store_bind_i64(st, 6, r->trial_end);
	store_bind_i64(st, 7, r->grace_until);
	store_bind_i64(st, 8, r->cancel_at_period_end);
	store_bind_i64(st, 9, r->credits_through);
	store_bind_i64(st, 10, r->state_at);
	store_bind_i64(st, 11, r->state_rank);
	store_bind_i64(st, 12, r->updated_at);
	store_bind_text(st, 13, r->store);
	store_bind_text(st, 14, r->user);
	store_bind_i64(st, 15, r->credits_next_at);
	return store_step_done(s, st, "subscription update");
}

enum terr
store_subs_of(struct store *s, const char *user, struct sub_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_SUBS_OF);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, store_read_sub, out, sizeof(*out), max, n,
	    "subscriptions of");
}

/* --- entitlements --- */

static void
read_ent(sqlite3_stmt *st, void *out)
{
	struct ent_row *r = out;

	r->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, r->user, sizeof(r->user));
	store_col_text(st, 2, r->name, sizeof(r->name));
	store_col_text(st, 3, r->source, sizeof(r->source));
	r->sub_id = sqlite3_column_int64(st, 4);
	r->active = sqlite3_column_int(st, 5);
	r->ends_at = sqlite3_column_int64(st, 6);
	r->updated_at = sqlite3_column_int64(st, 7);
}

enum terr
store_ent_set(struct store *s, const struct ent_row *r, int *changed)
{
	struct ent_row cur;
	sqlite3_stmt *st = store_stmt(s, STMT_ENT_GET);
	enum terr rc;

	*changed = 0;
	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, r->user);
	store_bind_text(st, 2, r->name);
	store_bind_text(st, 3, r->source);
	rc = store_one_row(s, st, read_ent, &cur, "entitlement get");
	if (rc == TERR_NOTFOUND) {
		if (!r->active)
			return TERR_OK; /* nothing to switch off */
		if ((st = store_stmt(s, STMT_ENT_INSERT)) == NULL)
			return TERR_DB;
		store_bind_text(st, 1, r->user);
		store_bind_text(st, 2, r->name);
		store_bind_text(st, 3, r->source);
		if (r->sub_id != 0)
			store_bind_i64(st, 4, r->sub_id);
		store_bind_i64(st, 5, r->active);
		store_bind_i64(st, 6, r->ends_at);
		store_bind_i64(st, 7, r->updated_at);
		*changed = 1;
		return store_step_done(s, st, "entitlement insert");
	}
	if (rc != TERR_OK)
		return rc;
	if (cur.active == r->active && cur.ends_at == r->ends_at)
		return TERR_OK;
	if ((st = store_stmt(s, STMT_ENT_UPDATE)) == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, cur.id);
	store_bind_i64(st, 2, r->active);
	store_bind_i64(st, 3, r->ends_at);
	store_bind_i64(st, 4, r->updated_at);
	*changed = 1;
	return store_step_done(s, st, "entitlement update");
}

enum terr
store_ents_of_sub(struct store *s, int64_t sub_id, struct ent_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ENTS_OF_SUB);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, sub_id);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, read_ent, out, sizeof(*out), max, n,
	    "entitlements of subscription");
}

enum terr
store_ents_of(struct store *s, const char *user, struct ent_row *out, size_t max, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, STMT_ENTS_OF);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, user);
	store_bind_i64(st, 2, (int64_t)max);
	return store_many_rows(s, st, read_ent, out, sizeof(*out), max, n, "entitlements of");
}

/* --- payments --- */

static void
read_pay(sqlite3_stmt *st, void *out)
{
	struct pay_row *r = out;
	char kind[16], state[16];

	r->id = sqlite3_column_int64(st, 0);
	store_col_text(st, 1, r->provider, sizeof(r->provider));
	store_col_text(st, 2, r->user, sizeof(r->user));
	store_col_text(st, 3, r->product, sizeof(r->product));
	r->sub_id = sqlite3_column_int64(st, 4);
	store_col_text(st, 5, kind, sizeof(kind));
	r->kind = pay_kind_parse(kind);
	r->amount = sqlite3_column_int64(st, 6);
	store_col_text(st, 7, r->currency, sizeof(r->currency));
	r->live = sqlite3_column_int(st, 8);
	store_col_text(st, 9, state, sizeof(state));
	r->state = pay_state_parse(state);
	r->inbox_id = sqlite3_column_int64(st, 10);
	r->created_at = sqlite3_column_int64(st, 11);
}

enum terr
store_pay_find_key(struct store *s, const char *provider, const char *key, struct pay_row *out)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PAY_FIND_KEY);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, provider);
	store_bind_text(st, 2, key);
	return store_one_row(s, st, read_pay, out, "payment find");
}

enum terr
store_pay_insert(struct store *s, struct pay_row *r)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PAY_INSERT);
	enum terr rc;

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, r->provider);
	store_bind_text(st, 2, r->user);
	store_bind_opt(st, 3, r->product);
	if (r->sub_id != 0)
		store_bind_i64(st, 4, r->sub_id);
	store_bind_text(st, 5, pay_kind_str(r->kind));
	store_bind_i64(st, 6, r->amount);
	store_bind_text(st, 7, r->currency);
	store_bind_i64(st, 8, r->live);
	store_bind_text(st, 9, pay_state_str(r->state));
	if (r->inbox_id != 0)
		store_bind_i64(st, 10, r->inbox_id);
	store_bind_i64(st, 11, r->created_at);
	rc = store_step_done(s, st, "payment insert");
	if (rc == TERR_OK)
		r->id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

enum terr
store_pay_key_insert(struct store *s, const char *provider, const char *key, int64_t pay_id)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PAY_KEY_INSERT);

	if (st == NULL)
		return TERR_DB;
	store_bind_text(st, 1, provider);
	store_bind_text(st, 2, key);
	store_bind_i64(st, 3, pay_id);
	return store_step_done(s, st, "payment key insert");
}

enum terr
store_pay_set_state(struct store *s, int64_t id, enum pay_state state)
{
	sqlite3_stmt *st = store_stmt(s, STMT_PAY_SET_STATE);

	if (st == NULL)
		return TERR_DB;
	store_bind_i64(st, 1, id);
	store_bind_text(st, 2, pay_state_str(state));
	return store_step_done(s, st, "payment set state");
}
