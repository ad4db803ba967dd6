#include "store/store_orders.h"
#include "store/store_int.h"
#include "store/store_orders_int.h"

static const char *const order_states[] = { "pending", "paid", "refunded", "expired", "canceled" };

const char *
order_state_str(enum order_state st)
{
	return (unsigned)st <= ORDER_CANCELED ? order_states[st] : "pending";
}

static enum order_state
order_state_parse(const char *s)
{
	int i = store_name_find(order_states, ORDER_CANCELED + 1, s);

	return i < 0 ? ORDER_PENDING : (enum order_state)i;
}

void
store_read_order(const struct store_row *row, void *out)
{
	struct order_row *r = out;
	char state[16];

	store_col_text(row, 0, r->id, sizeof(r->id));
	store_col_text(row, 1, r->provider, sizeof(r->provider));
	store_col_text(row, 2, r->user, sizeof(r->user));
	store_col_text(row, 3, r->product, sizeof(r->product));
	r->amount = store_col_i64(row, 4);
	store_col_text(row, 5, r->currency, sizeof(r->currency));
	store_col_text(row, 6, state, sizeof(state));
	r->state = order_state_parse(state);
	r->live = (int)store_col_i64(row, 7);
	store_col_text(row, 8, r->provider_ref, sizeof(r->provider_ref));
	store_col_text(row, 9, r->charge_id, sizeof(r->charge_id));
	r->pay_id = store_col_i64(row, 10);
	r->expires_at = store_col_i64(row, 11);
	r->created_at = store_col_i64(row, 12);
	r->updated_at = store_col_i64(row, 13);
}

enum terr
store_order_insert(struct store *s, const struct order_row *r)
{
	return store_run_insert(s, STMT_ORDER_INSERT, NULL, "order insert",
	    STORE_PARAMS(SP_TEXT(r->id), SP_TEXT(r->provider), SP_TEXT(r->user),
		SP_TEXT(r->product), SP_I64(r->amount), SP_TEXT(r->currency),
		SP_TEXT(order_state_str(r->state)), SP_I64(r->live), SP_OPT(r->provider_ref),
		SP_OPT(r->charge_id), SP_ID(r->pay_id), SP_I64(r->expires_at),
		SP_I64(r->created_at), SP_I64(r->updated_at)));
}

enum terr
store_order_get(struct store *s, const char *id, struct order_row *out)
{
	return store_get(s, STMT_ORDER_GET, store_read_order, out, "order get",
	    STORE_PARAMS(SP_TEXT(id)));
}

enum terr
store_order_find_ref(struct store *s, const char *provider, const char *ref, struct order_row *out)
{
	return store_get(s, STMT_ORDER_FIND_REF, store_read_order, out, "order find ref",
	    STORE_PARAMS(SP_TEXT(provider), SP_TEXT(ref)));
}

enum terr
store_order_update(struct store *s, const struct order_row *r)
{
	return store_run(s, STMT_ORDER_UPDATE, "order update",
	    STORE_PARAMS(SP_TEXT(r->id), SP_TEXT(order_state_str(r->state)),
		SP_OPT(r->provider_ref), SP_OPT(r->charge_id), SP_ID(r->pay_id),
		SP_I64(r->updated_at)));
}

enum terr
store_order_of_pay(struct store *s, int64_t pay_id, struct order_row *out)
{
	return store_get(s, STMT_ORDER_OF_PAY, store_read_order, out, "order of payment",
	    STORE_PARAMS(SP_I64(pay_id)));
}

/* --- users --- */

static void
read_user(const struct store_row *row, void *out)
{
	struct user_row *r = out;

	store_col_text(row, 0, r->id, sizeof(r->id));
	r->created_at = store_col_i64(row, 1);
	store_col_text(row, 2, r->merged_into, sizeof(r->merged_into));
	store_col_text(row, 3, r->referrer, sizeof(r->referrer));
	r->registered_at = store_col_i64(row, 4);
	r->trial_used_at = store_col_i64(row, 5);
	r->free_next_at = store_col_i64(row, 6);
}

enum terr
store_user_row(struct store *s, const char *id, struct user_row *out)
{
	return store_get(s, STMT_USER_ROW, read_user, out, "user row", STORE_PARAMS(SP_TEXT(id)));
}

/* Run a "set once" update of a user to v; dup when it changed nothing. */
static enum terr
set_once(struct store *s, enum stmt i, const char *id, struct store_param v, enum terr dup,
    const char *what)
{
	return store_run_changed(s, i, dup, what, STORE_PARAMS(SP_TEXT(id), v));
}

enum terr
store_user_set_referrer(struct store *s, const char *id, const char *referrer)
{
	return set_once(s, STMT_USER_SET_REFERRER, id, SP_TEXT(referrer), TERR_CONFLICT,
	    "user set referrer");
}

enum terr
store_user_set_registered(struct store *s, const char *id, int64_t at)
{
	return set_once(s, STMT_USER_SET_REGISTERED, id, SP_I64(at), TERR_DUP,
	    "user set registered");
}

enum terr
store_user_set_trial_used(struct store *s, const char *id, int64_t at)
{
	return set_once(s, STMT_USER_SET_TRIAL_USED, id, SP_I64(at), TERR_DUP,
	    "user set trial used");
}

enum terr
store_user_set_free_next(struct store *s, const char *id, int64_t at)
{
	return store_run(s, STMT_USER_SET_FREE_NEXT, "user set free next",
	    STORE_PARAMS(SP_TEXT(id), SP_I64(at)));
}

/* --- referral rewards --- */

enum terr
store_referral_insert(struct store *s, const struct referral_row *r)
{
	return store_run_insert(s, STMT_REFERRAL_INSERT, NULL, "referral insert",
	    STORE_PARAMS(SP_TEXT(r->buyer), SP_I64(r->pay_id), SP_TEXT(r->referrer),
		SP_I64(r->percent), SP_I64(r->credits), SP_ID(r->grant_id), SP_I64(r->created_at)));
}

enum terr
store_referral_stats(struct store *s, const char *referrer, int64_t *buyers, int64_t *credits)
{
	return store_ints(s, STMT_REFERRAL_STATS, buyers, credits, "referral stats",
	    STORE_PARAMS(SP_TEXT(referrer)));
}

enum terr
store_referral_has_buyer(struct store *s, const char *referrer, const char *buyer, int *yes)
{
	return store_exists(s, STMT_REFERRAL_HAS_BUYER, yes, "referral has buyer",
	    STORE_PARAMS(SP_TEXT(referrer), SP_TEXT(buyer)));
}
