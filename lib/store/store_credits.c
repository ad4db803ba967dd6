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

static const char *const balance_states[BALANCE__MAX] = {
	[BALANCE_OK] = "ok",
	[BALANCE_LOW] = "low",
	[BALANCE_EMPTY] = "empty",
};

const char *
grant_source_str(enum grant_source g)
{
	return (unsigned)g < GRANT__MAX ? grant_sources[g] : "admin";
}

static enum grant_source
grant_source_parse(const char *s)
{
	int i = store_name_find(grant_sources, GRANT__MAX, s);

	return i < 0 ? GRANT_ADMIN : (enum grant_source)i;
}

static void
read_grant(const struct store_row *row, void *out)
{
	struct grant_row *r = out;
	char source[16];

	r->id = store_col_i64(row, 0);
	store_col_text(row, 1, r->user, sizeof(r->user));
	store_col_text(row, 2, source, sizeof(source));
	r->source = grant_source_parse(source);
	r->sub_id = store_col_i64(row, 3);
	r->pay_id = store_col_i64(row, 4);
	store_col_text(row, 5, r->product, sizeof(r->product));
	r->amount = store_col_i64(row, 6);
	r->remaining = store_col_i64(row, 7);
	r->expires_at = store_col_i64(row, 8);
	r->created_at = store_col_i64(row, 9);
}

enum terr
store_grant_insert(struct store *s, struct grant_row *r)
{
	return store_run_insert(s, STMT_GRANT_INSERT, &r->id, "grant insert",
	    STORE_PARAMS(SP_TEXT(r->user), SP_TEXT(grant_source_str(r->source)), SP_ID(r->sub_id),
		SP_ID(r->pay_id), SP_OPT(r->product), SP_I64(r->amount), SP_I64(r->remaining),
		SP_I64(r->expires_at), SP_I64(r->created_at)));
}

enum terr
store_grant_set_remaining(struct store *s, int64_t id, int64_t remaining)
{
	return store_run(s, STMT_GRANT_SET_REMAINING, "grant set remaining",
	    STORE_PARAMS(SP_I64(id), SP_I64(remaining)));
}

enum terr
store_grant_set_expiry(struct store *s, int64_t id, int64_t expires_at)
{
	return store_run(s, STMT_GRANT_SET_EXPIRY, "grant set expiry",
	    STORE_PARAMS(SP_I64(id), SP_I64(expires_at)));
}

enum terr
store_grants_live(struct store *s, const char *user, int64_t now, struct grant_row *out, size_t max,
    size_t *n)
{
	return store_list(s, STMT_GRANTS_LIVE, read_grant, out, sizeof(*out), max, n, "grants live",
	    STORE_PARAMS(SP_TEXT(user), SP_I64(now), SP_I64(max)));
}

/* The grants of statement i, bound to (p, max). */
static enum terr
grants_of(struct store *s, enum stmt i, struct store_param p, struct grant_row *out, size_t max,
    size_t *n, const char *what)
{
	return store_list(s, i, read_grant, out, sizeof(*out), max, n, what,
	    STORE_PARAMS(p, SP_I64(max)));
}

enum terr
store_grants_of_sub(struct store *s, int64_t sub_id, struct grant_row *out, size_t max, size_t *n)
{
	return grants_of(s, STMT_GRANTS_OF_SUB, SP_I64(sub_id), out, max, n,
	    "grants of subscription");
}

enum terr
store_grants_of_pay(struct store *s, int64_t pay_id, struct grant_row *out, size_t max, size_t *n)
{
	return grants_of(s, STMT_GRANTS_OF_PAY, SP_I64(pay_id), out, max, n, "grants of payment");
}

enum terr
store_grants_packs(struct store *s, const char *user, struct grant_row *out, size_t max, size_t *n)
{
	return grants_of(s, STMT_GRANTS_PACKS, SP_TEXT(user), out, max, n, "pack grants");
}

enum terr
store_grants_plan(struct store *s, const char *user, struct grant_row *out, size_t max, size_t *n)
{
	return grants_of(s, STMT_GRANTS_PLAN, SP_TEXT(user), out, max, n, "plan grants");
}

void
store_read_ledger(const struct store_row *row, void *out)
{
	struct ledger_row *r = out;

	r->id = store_col_i64(row, 0);
	store_col_text(row, 1, r->user, sizeof(r->user));
	r->grant_id = store_col_i64(row, 2);
	r->amount = store_col_i64(row, 3);
	store_col_text(row, 4, r->kind, sizeof(r->kind));
	store_col_text(row, 5, r->reason, sizeof(r->reason));
	store_col_text(row, 6, r->actor, sizeof(r->actor));
	r->inbox_id = store_col_i64(row, 7);
	r->created_at = store_col_i64(row, 8);
}

enum terr
store_ledger_insert(struct store *s, struct ledger_row *r)
{
	return store_run_insert(s, STMT_LEDGER_INSERT, &r->id, "ledger insert",
	    STORE_PARAMS(SP_TEXT(r->user), SP_I64(r->grant_id), SP_I64(r->amount), SP_TEXT(r->kind),
		SP_TEXT(r->reason), SP_TEXT(r->actor), SP_ID(r->inbox_id), SP_I64(r->created_at)));
}

enum terr
store_ledger_of(struct store *s, const char *user, struct ledger_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_LEDGER_OF, store_read_ledger, out, sizeof(*out), max, n,
	    "ledger of", STORE_PARAMS(SP_TEXT(user), SP_I64(max)));
}

static void
read_ledger_line(const struct store_row *row, void *out)
{
	struct ledger_line *r = out;
	char source[16], kind[16];

	store_read_ledger(row, &r->row);
	store_col_text(row, 9, source, sizeof(source));
	r->source = grant_source_parse(source);
	r->pay_kind = -1;
	if (!store_col_null(row, 10)) {
		store_col_text(row, 10, kind, sizeof(kind));
		r->pay_kind = (int)pay_kind_parse(kind);
	}
}

enum terr
store_ledger_lines_of(struct store *s, const char *user, struct ledger_line *out, size_t max,
    size_t *n)
{
	return store_list(s, STMT_LEDGER_LINES_OF, read_ledger_line, out, sizeof(*out), max, n,
	    "ledger lines of", STORE_PARAMS(SP_TEXT(user), SP_I64(max)));
}

enum terr
store_ledger_since(struct store *s, int64_t since, int64_t after_id, struct ledger_row *out,
    size_t max, size_t *n)
{
	return store_list(s, STMT_LEDGER_SINCE, store_read_ledger, out, sizeof(*out), max, n,
	    "ledger since", STORE_PARAMS(SP_I64(since), SP_I64(after_id), SP_I64(max)));
}

void
store_read_audit(const struct store_row *row, void *out)
{
	struct audit_row *r = out;

	r->id = store_col_i64(row, 0);
	r->at = store_col_i64(row, 1);
	store_col_text(row, 2, r->actor, sizeof(r->actor));
	store_col_text(row, 3, r->user, sizeof(r->user));
	store_col_text(row, 4, r->action, sizeof(r->action));
	store_col_text(row, 5, r->object, sizeof(r->object));
	store_col_text(row, 6, r->detail, sizeof(r->detail));
	store_col_text(row, 7, r->reason, sizeof(r->reason));
	r->inbox_id = store_col_i64(row, 8);
}

enum terr
store_audit_insert(struct store *s, struct audit_row *r)
{
	return store_run_insert(s, STMT_AUDIT_INSERT, &r->id, "audit insert",
	    STORE_PARAMS(SP_I64(r->at), SP_TEXT(r->actor), SP_OPT(r->user), SP_TEXT(r->action),
		SP_TEXT(r->object), SP_TEXT(r->detail), SP_TEXT(r->reason), SP_ID(r->inbox_id)));
}

enum terr
store_audit_of(struct store *s, const char *user, struct audit_row *out, size_t max, size_t *n)
{
	return store_list(s, STMT_AUDIT_OF, store_read_audit, out, sizeof(*out), max, n, "audit of",
	    STORE_PARAMS(SP_TEXT(user), SP_I64(max)));
}

enum terr
store_outbox_insert(struct store *s, struct outbox_row *r)
{
	return store_run_insert(s, STMT_OUTBOX_INSERT, &r->id, "outbox insert",
	    STORE_PARAMS(SP_TEXT(outbox_kinds[r->kind]), SP_TEXT(r->topic), SP_OPT(r->user),
		SP_TEXT(r->dedup_key), SP_TEXT(r->payload), SP_I64(r->next_at),
		SP_I64(r->created_at)));
}

enum terr
store_outbox_count(struct store *s, const char *kind, const char *topic, int64_t *n)
{
	return store_ints(s, STMT_OUTBOX_COUNT, n, NULL, "outbox count",
	    STORE_PARAMS(SP_TEXT(kind), SP_TEXT(topic)));
}

const char *
balance_state_str(enum balance_state st)
{
	return (unsigned)st < BALANCE__MAX ? balance_states[st] : "empty";
}

static void
read_balance_alert(const struct store_row *row, void *out)
{
	struct balance_alert_row *r = out;
	char state[16];
	int i;

	store_col_text(row, 0, r->user, sizeof(r->user));
	store_col_text(row, 1, state, sizeof(state));
	/* The column's CHECK admits only the three; anything else reads as the safe "empty". */
	i = store_name_find(balance_states, BALANCE__MAX, state);
	r->state = i < 0 ? BALANCE_EMPTY : (enum balance_state)i;
	r->balance = store_col_i64(row, 2);
	r->threshold = store_col_i64(row, 3);
	r->inbox_id = store_col_i64(row, 4);
	r->changed_at = store_col_i64(row, 5);
}

enum terr
store_balance_alert_get(struct store *s, const char *user, struct balance_alert_row *out)
{
	return store_get(s, STMT_BALANCE_ALERT_GET, read_balance_alert, out, "balance alert get",
	    STORE_PARAMS(SP_TEXT(user)));
}

enum terr
store_balance_alert_set(struct store *s, const struct balance_alert_row *r)
{
	return store_run(s, STMT_BALANCE_ALERT_SET, "balance alert set",
	    STORE_PARAMS(SP_TEXT(r->user), SP_TEXT(balance_state_str(r->state)), SP_I64(r->balance),
		SP_I64(r->threshold), SP_ID(r->inbox_id), SP_I64(r->changed_at)));
}

enum terr
store_balance_sums(struct store *s, const char *user, int64_t *ledger_sum, int64_t *remaining_sum)
{
	enum terr rc;

	if ((rc = store_ints(s, STMT_BALANCE_LEDGER, ledger_sum, NULL, "ledger sum",
		 STORE_PARAMS(SP_TEXT(user)))) != TERR_OK)
		return rc;
	return store_ints(s, STMT_BALANCE_GRANTS, remaining_sum, NULL, "grants sum",
	    STORE_PARAMS(SP_TEXT(user)));
}

enum terr
store_balance_live(struct store *s, const char *user, int64_t now, int64_t *balance)
{
	return store_ints(s, STMT_BALANCE_LIVE, balance, NULL, "live balance",
	    STORE_PARAMS(SP_TEXT(user), SP_I64(now)));
}

enum terr
store_pay_latest_of_sub(struct store *s, int64_t sub_id, int64_t *pay_id)
{
	return store_ints(s, STMT_PAY_LATEST_OF_SUB, pay_id, NULL, "latest payment of subscription",
	    STORE_PARAMS(SP_I64(sub_id)));
}
