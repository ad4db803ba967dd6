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

static const char *const pay_states[] = {
	[PAY_PAID] = "paid",
	[PAY_REFUNDED] = "refunded",
	[PAY_DISPUTED] = "disputed",
};

const char *
inbox_state_str(enum inbox_state st)
{
	return (unsigned)st < INBOX__MAX ? inbox_states[st] : "failed";
}

int
inbox_state_parse(const char *s)
{
	return store_name_find(inbox_states, INBOX__MAX, s);
}

const char *
pay_state_str(enum pay_state st)
{
	return (unsigned)st <= PAY_DISPUTED ? pay_states[st] : "paid";
}

static enum pay_state
pay_state_parse(const char *s)
{
	int i = store_name_find(pay_states, PAY_DISPUTED + 1, s);

	return i < 0 ? PAY_PAID : (enum pay_state)i;
}

/* --- users and links --- */

/* STMT_USER_EXISTS's row. */
struct user_seen {
	int64_t created_at;
	char merged_into[USER_ID_MAX + 1];
};

static void
read_user_seen(const struct store_row *row, void *out)
{
	struct user_seen *r = out;

	r->created_at = store_col_i64(row, 0);
	store_col_text(row, 1, r->merged_into, sizeof(r->merged_into));
}

enum terr
store_user_get(struct store *s, const char *id, int64_t *created_at,
    char merged_into[USER_ID_MAX + 1])
{
	struct user_seen u;
	enum terr rc;

	rc = store_get(s, STMT_USER_EXISTS, read_user_seen, &u, "user exists",
	    STORE_PARAMS(SP_TEXT(id)));
	if (rc != TERR_OK)
		return rc;
	if (created_at != NULL)
		*created_at = u.created_at;
	if (merged_into != NULL)
		memcpy(merged_into, u.merged_into, sizeof(u.merged_into));
	return TERR_OK;
}

enum terr
store_user_created(struct store *s, const char *id, int64_t *created_at)
{
	return store_user_get(s, id, created_at, NULL);
}

/* Statement i moving rows of user from to user into. */
static enum terr
move(struct store *s, enum stmt i, const char *from, const char *into, const char *what)
{
	return store_run(s, i, what, STORE_PARAMS(SP_TEXT(from), SP_TEXT(into)));
}

enum terr
store_user_merge(struct store *s, const char *from, const char *into)
{
	enum terr rc;

	if ((rc = move(s, STMT_LINKS_MOVE, from, into, "links move")) != TERR_OK ||
	    (rc = move(s, STMT_PAYS_MOVE, from, into, "payments move")) != TERR_OK)
		return rc;
	return move(s, STMT_USER_MERGE, from, into, "user merge");
}

enum terr
store_pays_move_sub(struct store *s, int64_t sub_id, const char *user)
{
	return store_run(s, STMT_PAYS_MOVE_SUB, "payments of subscription move",
	    STORE_PARAMS(SP_I64(sub_id), SP_TEXT(user)));
}

enum terr
store_pay_set_user(struct store *s, int64_t pay_id, const char *user)
{
	return store_run(s, STMT_PAY_SET_USER, "payment set user",
	    STORE_PARAMS(SP_I64(pay_id), SP_TEXT(user)));
}

enum terr
store_clawback_of_pay(struct store *s, int64_t pay_id, int64_t *amount)
{
	return store_ints(s, STMT_CLAWBACK_OF_PAY, amount, NULL, "clawback of payment",
	    STORE_PARAMS(SP_I64(pay_id)));
}

enum terr
store_user_exists(struct store *s, const char *id)
{
	return store_user_created(s, id, NULL);
}

enum terr
store_user_insert(struct store *s, const char *id, int64_t now)
{
	return store_run_insert(s, STMT_USER_INSERT, NULL, "user insert",
	    STORE_PARAMS(SP_TEXT(id), SP_I64(now)));
}

static void
read_user_id(const struct store_row *row, void *out)
{
	store_col_text(row, 0, out, USER_ID_MAX + 1);
}

enum terr
store_link_find(struct store *s, const char *provider, const char *kind, const char *ext_id,
    char user[USER_ID_MAX + 1])
{
	return store_get(s, STMT_LINK_FIND, read_user_id, user, "link find",
	    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(kind), SP_TEXT(ext_id)));
}

enum terr
store_link_insert(struct store *s, const char *provider, const char *kind, const char *ext_id,
    const char *user, int64_t now)
{
	return store_run_insert(s, STMT_LINK_INSERT, NULL, "link insert",
	    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(kind), SP_TEXT(ext_id), SP_TEXT(user),
		SP_I64(now)));
}

enum terr
store_link_delete(struct store *s, const char *provider, const char *kind, const char *ext_id)
{
	return store_run_changed(s, STMT_LINK_DELETE, TERR_NOTFOUND, "link delete",
	    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(kind), SP_TEXT(ext_id)));
}

static void
read_link(const struct store_row *row, void *out)
{
	struct link_row *r = out;

	store_col_text(row, 0, r->provider, sizeof(r->provider));
	store_col_text(row, 1, r->kind, sizeof(r->kind));
	store_col_text(row, 2, r->ext_id, sizeof(r->ext_id));
	store_col_text(row, 3, r->user, sizeof(r->user));
	r->created_at = store_col_i64(row, 4);
}

enum terr
store_links_of(struct store *s, const char *user, struct link_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_LINKS_OF, read_link, out, sizeof(*out), max, n, "links of",
	    STORE_PARAMS(SP_TEXT(user), SP_I64(max)));
}

/* --- inbox --- */

void
store_read_inbox(const struct store_row *row, void *out)
{
	struct inbox_row *r = out;
	char state[24];
	int v;

	r->id = store_col_i64(row, 0);
	store_col_text(row, 1, r->provider, sizeof(r->provider));
	store_col_text(row, 2, r->event_id, sizeof(r->event_id));
	store_col_text(row, 3, r->type, sizeof(r->type));
	r->live = (int)store_col_i64(row, 4);
	r->event_at = store_col_i64(row, 5);
	r->received_at = store_col_i64(row, 6);
	r->updated_at = store_col_i64(row, 7);
	store_col_text(row, 8, state, sizeof(state));
	v = inbox_state_parse(state);
	r->state = v < 0 ? INBOX_FAILED : (enum inbox_state)v;
	store_col_text(row, 9, r->reason, sizeof(r->reason));
	store_col_text(row, 10, r->user, sizeof(r->user));
	store_col_text(row, 11, r->orphan_kind, sizeof(r->orphan_kind));
	store_col_text(row, 12, r->orphan_id, sizeof(r->orphan_id));
	r->attempts = store_col_i64(row, 13);
}

enum terr
store_inbox_find(struct store *s, const char *provider, const char *event_id, struct inbox_row *out)
{
	return store_get(s, STMT_INBOX_FIND, store_read_inbox, out, "inbox find",
	    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(event_id)));
}

enum terr
store_inbox_insert(struct store *s, struct inbox_row *r, const void *body, size_t n)
{
	enum terr rc;

	rc = store_run_insert(s, STMT_INBOX_INSERT, &r->id, "inbox insert",
	    STORE_PARAMS(SP_TEXT(r->provider), SP_TEXT(r->event_id), SP_TEXT(r->type),
		SP_I64(r->live), SP_I64(r->event_at), SP_I64(r->received_at), SP_I64(r->updated_at),
		SP_TEXT(inbox_state_str(r->state)), SP_TEXT(r->reason), SP_OPT(r->user),
		SP_OPT(r->orphan_kind), SP_OPT(r->orphan_id), SP_I64(r->attempts)));
	if (rc != TERR_OK)
		return rc;
	return store_run_insert(s, STMT_INBOX_BODY_INSERT, NULL, "inbox body insert",
	    STORE_PARAMS(SP_I64(r->id), SP_BLOB(body, n)));
}

enum terr
store_inbox_any_orphan(struct store *s, int *any)
{
	return store_exists(s, STMT_INBOX_ANY_ORPHAN, any, "any orphan", NULL, 0);
}

enum terr
store_inbox_update(struct store *s, const struct inbox_row *r)
{
	return store_run(s, STMT_INBOX_UPDATE, "inbox update",
	    STORE_PARAMS(SP_I64(r->id), SP_TEXT(inbox_state_str(r->state)), SP_TEXT(r->reason),
		SP_OPT(r->user), SP_OPT(r->orphan_kind), SP_OPT(r->orphan_id), SP_I64(r->attempts),
		SP_I64(r->updated_at)));
}

static void
read_body(const struct store_row *row, void *out)
{
	store_col_buf(row, 0, out);
}

enum terr
store_inbox_get(struct store *s, int64_t id, struct inbox_row *out, struct buf *body)
{
	enum terr rc;

	rc = store_get(s, STMT_INBOX_GET, store_read_inbox, out, "inbox get",
	    STORE_PARAMS(SP_I64(id)));
	if (rc != TERR_OK || body == NULL)
		return rc;
	rc = store_get(s, STMT_INBOX_BODY, read_body, body, "inbox body", STORE_PARAMS(SP_I64(id)));
	return rc == TERR_OK ? body->err : rc;
}

enum terr
store_inbox_list(struct store *s, int state, const char *user, int64_t after_id,
    struct inbox_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_INBOX_LIST, store_read_inbox, out, sizeof(*out), max, n,
	    "inbox list",
	    STORE_PARAMS(SP_I64(after_id),
		SP_TEXT(state < 0 ? NULL : inbox_state_str((enum inbox_state)state)), SP_TEXT(user),
		SP_I64(max)));
}

static void
read_id(const struct store_row *row, void *out)
{
	*(int64_t *)out = store_col_i64(row, 0);
}

enum terr
store_inbox_orphans(struct store *s, const char *provider, const char *kind, const char *id,
    int64_t *ids, size_t max, size_t *n)
{
	return store_list(s, STMT_INBOX_ORPHANS, read_id, ids, sizeof(*ids), max, n,
	    "inbox orphans",
	    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(kind), SP_TEXT(id), SP_I64(max)));
}

/* --- subscriptions --- */

void
store_read_sub(const struct store_row *row, void *out)
{
	struct sub_row *r = out;
	char state[24];

	r->id = store_col_i64(row, 0);
	store_col_text(row, 1, r->provider, sizeof(r->provider));
	store_col_text(row, 2, r->ext_id, sizeof(r->ext_id));
	store_col_text(row, 3, r->user, sizeof(r->user));
	store_col_text(row, 4, r->product, sizeof(r->product));
	store_col_text(row, 5, state, sizeof(state));
	r->state = sub_state_parse(state);
	r->live = (int)store_col_i64(row, 6);
	r->period_start = store_col_i64(row, 7);
	r->period_end = store_col_i64(row, 8);
	r->trial_end = store_col_i64(row, 9);
	r->grace_until = store_col_i64(row, 10);
	r->cancel_at_period_end = (int)store_col_i64(row, 11);
	r->credits_through = store_col_i64(row, 12);
	r->state_at = store_col_i64(row, 13);
	r->state_rank = (unsigned)(int)store_col_i64(row, 14);
	r->created_at = store_col_i64(row, 15);
	r->updated_at = store_col_i64(row, 16);
	store_col_text(row, 17, r->store, sizeof(r->store));
	r->credits_next_at = store_col_i64(row, 18);
}

enum terr
store_sub_find(struct store *s, const char *provider, const char *ext_id, struct sub_row *out)
{
	return store_get(s, STMT_SUB_FIND, store_read_sub, out, "subscription find",
	    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(ext_id)));
}

enum terr
store_sub_get(struct store *s, int64_t id, struct sub_row *out)
{
	return store_get(s, STMT_SUB_GET, store_read_sub, out, "subscription get",
	    STORE_PARAMS(SP_I64(id)));
}

enum terr
store_sub_insert(struct store *s, struct sub_row *r)
{
	return store_run_insert(s, STMT_SUB_INSERT, &r->id, "subscription insert",
	    STORE_PARAMS(SP_TEXT(r->provider), SP_TEXT(r->ext_id), SP_TEXT(r->user),
		SP_TEXT(r->product), SP_TEXT(sub_state_str(r->state)), SP_I64(r->live),
		SP_I64(r->period_start), SP_I64(r->period_end), SP_I64(r->trial_end),
		SP_I64(r->grace_until), SP_I64(r->cancel_at_period_end), SP_I64(r->credits_through),
		SP_I64(r->state_at), SP_I64(r->state_rank), SP_I64(r->created_at),
		SP_I64(r->updated_at), SP_TEXT(r->store), SP_I64(r->credits_next_at)));
}

enum terr
store_sub_update(struct store *s, const struct sub_row *r)
{
	return store_run(s, STMT_SUB_UPDATE, "subscription update",
	    STORE_PARAMS(SP_I64(r->id), SP_TEXT(r->product), SP_TEXT(sub_state_str(r->state)),
		SP_I64(r->period_start), SP_I64(r->period_end), SP_I64(r->trial_end),
		SP_I64(r->grace_until), SP_I64(r->cancel_at_period_end), SP_I64(r->credits_through),
		SP_I64(r->state_at), SP_I64(r->state_rank), SP_I64(r->updated_at),
		SP_TEXT(r->store), SP_TEXT(r->user), SP_I64(r->credits_next_at)));
}

enum terr
store_subs_of(struct store *s, const char *user, struct sub_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_SUBS_OF, store_read_sub, out, sizeof(*out), max, n,
	    "subscriptions of", STORE_PARAMS(SP_TEXT(user), SP_I64(max)));
}

/* --- entitlements --- */

static void
read_ent(const struct store_row *row, void *out)
{
	struct ent_row *r = out;

	r->id = store_col_i64(row, 0);
	store_col_text(row, 1, r->user, sizeof(r->user));
	store_col_text(row, 2, r->name, sizeof(r->name));
	store_col_text(row, 3, r->source, sizeof(r->source));
	r->sub_id = store_col_i64(row, 4);
	r->active = (int)store_col_i64(row, 5);
	r->ends_at = store_col_i64(row, 6);
	r->updated_at = store_col_i64(row, 7);
}

enum terr
store_ent_set(struct store *s, const struct ent_row *r, int *changed)
{
	struct ent_row cur;
	enum terr rc;

	*changed = 0;
	rc = store_get(s, STMT_ENT_GET, read_ent, &cur, "entitlement get",
	    STORE_PARAMS(SP_TEXT(r->user), SP_TEXT(r->name), SP_TEXT(r->source)));
	if (rc == TERR_NOTFOUND) {
		if (!r->active)
			return TERR_OK; /* nothing to switch off */
		*changed = 1;
		return store_run_insert(s, STMT_ENT_INSERT, NULL, "entitlement insert",
		    STORE_PARAMS(SP_TEXT(r->user), SP_TEXT(r->name), SP_TEXT(r->source),
			SP_ID(r->sub_id), SP_I64(r->active), SP_I64(r->ends_at),
			SP_I64(r->updated_at)));
	}
	if (rc != TERR_OK)
		return rc;
	if (cur.active == r->active && cur.ends_at == r->ends_at)
		return TERR_OK;
	*changed = 1;
	return store_run(s, STMT_ENT_UPDATE, "entitlement update",
	    STORE_PARAMS(SP_I64(cur.id), SP_I64(r->active), SP_I64(r->ends_at),
		SP_I64(r->updated_at)));
}

enum terr
store_ents_of_sub(struct store *s, int64_t sub_id, struct ent_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_ENTS_OF_SUB, read_ent, out, sizeof(*out), max, n,
	    "entitlements of subscription", STORE_PARAMS(SP_I64(sub_id), SP_I64(max)));
}

enum terr
store_ents_of(struct store *s, const char *user, struct ent_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_ENTS_OF, read_ent, out, sizeof(*out), max, n, "entitlements of",
	    STORE_PARAMS(SP_TEXT(user), SP_I64(max)));
}

/* --- payments --- */

static void
read_pay(const struct store_row *row, void *out)
{
	struct pay_row *r = out;
	char kind[16], state[16];

	r->id = store_col_i64(row, 0);
	store_col_text(row, 1, r->provider, sizeof(r->provider));
	store_col_text(row, 2, r->user, sizeof(r->user));
	store_col_text(row, 3, r->product, sizeof(r->product));
	r->sub_id = store_col_i64(row, 4);
	store_col_text(row, 5, kind, sizeof(kind));
	r->kind = pay_kind_parse(kind);
	r->amount = store_col_i64(row, 6);
	store_col_text(row, 7, r->currency, sizeof(r->currency));
	r->live = (int)store_col_i64(row, 8);
	store_col_text(row, 9, state, sizeof(state));
	r->state = pay_state_parse(state);
	r->inbox_id = store_col_i64(row, 10);
	r->created_at = store_col_i64(row, 11);
}

enum terr
store_pay_find_key(struct store *s, const char *provider, const char *key, struct pay_row *out)
{
	return store_get(s, STMT_PAY_FIND_KEY, read_pay, out, "payment find",
	    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(key)));
}

enum terr
store_pay_insert(struct store *s, struct pay_row *r)
{
	return store_run_insert(s, STMT_PAY_INSERT, &r->id, "payment insert",
	    STORE_PARAMS(SP_TEXT(r->provider), SP_TEXT(r->user), SP_OPT(r->product),
		SP_ID(r->sub_id), SP_TEXT(pay_kind_str(r->kind)), SP_I64(r->amount),
		SP_TEXT(r->currency), SP_I64(r->live), SP_TEXT(pay_state_str(r->state)),
		SP_ID(r->inbox_id), SP_I64(r->created_at)));
}

enum terr
store_pay_key_insert(struct store *s, const char *provider, const char *key, int64_t pay_id)
{
	return store_run_insert(s, STMT_PAY_KEY_INSERT, NULL, "payment key insert",
	    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(key), SP_I64(pay_id)));
}

enum terr
store_pay_set_state(struct store *s, int64_t id, enum pay_state state)
{
	return store_run(s, STMT_PAY_SET_STATE, "payment set state",
	    STORE_PARAMS(SP_I64(id), SP_TEXT(pay_state_str(state))));
}
