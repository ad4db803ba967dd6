/*
 * Typed access to the metrics' tables (store_kpi.h): kpi_subs, sub_history,
 * refunds and the kpi_daily rollups. Each function binds, steps and resets
 * statements of store_sql.c.
 */
#include <string.h>

#include "base/text.h"
#include "store/store_int.h"
#include "store/store_kpi.h"

static const char *const statuses[KPI_SUB__MAX] = {
	[KPI_SUB_NONE] = "none",
	[KPI_SUB_TRIAL] = "trial",
	[KPI_SUB_PAYING] = "paying",
	[KPI_SUB_FREE] = "free",
};

static const char *const cols[KPI_COL__MAX] = {
	[KPI_MRR] = "mrr",
	[KPI_PAYING] = "paying",
	[KPI_TRIALS] = "trials",
	[KPI_NEW] = "new_subs",
	[KPI_TRIAL_STARTS] = "trial_starts",
	[KPI_CONVERSIONS] = "conversions",
	[KPI_CONVERTED] = "converted",
	[KPI_CHURN_VOLUNTARY] = "churn_voluntary",
	[KPI_CHURN_BILLING] = "churn_billing",
	[KPI_REACTIVATIONS] = "reactivations",
	[KPI_PAYMENTS] = "payments",
	[KPI_REVENUE] = "revenue",
	[KPI_REFUNDS] = "refunds",
	[KPI_REFUNDED] = "refunded",
	[KPI_CREDITS_GRANTED] = "credits_granted",
	[KPI_CREDITS_SPENT] = "credits_spent",
	[KPI_CREDITS_EXPIRED] = "credits_expired",
	[KPI_CREDITS_REVOKED] = "credits_revoked",
};

const char *
kpi_status_str(enum kpi_status st)
{
	return (unsigned)st < KPI_SUB__MAX ? statuses[st] : "none";
}

const char *
kpi_col_name(enum kpi_col c)
{
	return (unsigned)c < KPI_COL__MAX ? cols[c] : "";
}

static void
read_kpi_sub(const struct store_row *row, void *out)
{
	struct kpi_sub_row *r = out;
	char status[16], state[24];
	int i;

	memset(r, 0, sizeof(*r));
	r->sub_id = store_col_i64(row, 0);
	store_col_text(row, 1, status, sizeof(status));
	i = store_name_find(statuses, KPI_SUB__MAX, status);
	r->status = i < 0 ? KPI_SUB_NONE : (enum kpi_status)i;
	store_col_text(row, 2, state, sizeof(state));
	r->state = sub_state_parse(state);
	store_col_text(row, 3, r->product, sizeof(r->product));
	store_col_text(row, 4, r->currency, sizeof(r->currency));
	r->mrr = store_col_i64(row, 5);
	r->amount = store_col_i64(row, 6);
	store_col_text(row, 7, r->amount_currency, sizeof(r->amount_currency));
	r->months = (int)store_col_i64(row, 8);
	r->period_ms = store_col_i64(row, 9);
	r->amount_at = store_col_i64(row, 10);
	r->trial_at = store_col_i64(row, 11);
	store_col_text(row, 12, r->trial_product, sizeof(r->trial_product));
	r->paid = store_col_i64(row, 13) != 0;
	r->churned = store_col_i64(row, 14) != 0;
	r->at = store_col_i64(row, 15);
}

enum terr
store_kpi_sub_get(struct store *s, int64_t sub_id, struct kpi_sub_row *out)
{
	return store_get(s, STMT_KPI_SUB_GET, read_kpi_sub, out, "kpi sub get",
	    STORE_PARAMS(SP_I64(sub_id)));
}

enum terr
store_kpi_sub_put(struct store *s, const struct kpi_sub_row *r)
{
	return store_run(s, STMT_KPI_SUB_PUT, "kpi sub put",
	    STORE_PARAMS(SP_I64(r->sub_id), SP_TEXT(kpi_status_str(r->status)),
		SP_TEXT(sub_state_str(r->state)), SP_TEXT(r->product), SP_TEXT(r->currency),
		SP_I64(r->mrr), SP_I64(r->amount), SP_TEXT(r->amount_currency), SP_I64(r->months),
		SP_I64(r->period_ms), SP_I64(r->amount_at), SP_I64(r->trial_at),
		SP_TEXT(r->trial_product), SP_I64(r->paid), SP_I64(r->churned), SP_I64(r->at)));
}

enum terr
store_sub_history_insert(struct store *s, const struct sub_history_row *r)
{
	const int64_t *v = r->v;

	return store_run(s, STMT_SUB_HISTORY_INSERT, "sub history insert",
	    STORE_PARAMS(SP_I64(r->sub_id), SP_I64(r->at), SP_I64(r->live), SP_TEXT(r->provider),
		SP_TEXT(r->product), SP_TEXT(r->currency), SP_TEXT(kpi_status_str(r->status)),
		SP_I64(v[KPI_MRR]), SP_I64(v[KPI_PAYING]), SP_I64(v[KPI_TRIALS]),
		SP_I64(v[KPI_NEW]), SP_I64(v[KPI_TRIAL_STARTS]), SP_I64(v[KPI_CONVERSIONS]),
		SP_I64(v[KPI_CONVERTED]), SP_I64(v[KPI_CHURN_VOLUNTARY]),
		SP_I64(v[KPI_CHURN_BILLING]), SP_I64(v[KPI_REACTIVATIONS]), SP_ID(r->inbox_id)));
}

enum terr
store_refund_insert(struct store *s, int64_t pay_id, int64_t at, const char *kind, int64_t amount,
    int count, int64_t inbox_id)
{
	return store_run(s, STMT_REFUND_INSERT, "refund insert",
	    STORE_PARAMS(SP_I64(pay_id), SP_I64(at), SP_TEXT(kind), SP_I64(amount), SP_I64(count),
		SP_ID(inbox_id)));
}

enum terr
store_refund_sums(struct store *s, int64_t pay_id, int64_t *all, int64_t *whole)
{
	return store_ints(s, STMT_REFUND_SUMS, all, whole, "refund sums",
	    STORE_PARAMS(SP_I64(pay_id)));
}

struct day_walk {
	enum terr (*fn)(void *arg, const struct kpi_day *row);
	void *arg;
	int ncols; /* the figures the statement has after its four keys */
};

static enum terr
each_day(const struct store_row *row, void *arg)
{
	struct day_walk *w = arg;
	struct kpi_day d;
	int i;

	memset(&d, 0, sizeof(d));
	d.day = store_col_i64(row, 0);
	store_col_text(row, 1, d.provider, sizeof(d.provider));
	store_col_text(row, 2, d.product, sizeof(d.product));
	store_col_text(row, 3, d.currency, sizeof(d.currency));
	for (i = 0; i < w->ncols; i++)
		d.v[i] = store_col_i64(row, 4 + i);
	return w->fn(w->arg, &d);
}

enum terr
store_kpi_days(struct store *s, int live, int64_t from, int64_t to, const char *provider,
    const char *product, const char *currency,
    enum terr (*fn)(void *arg, const struct kpi_day *row), void *arg)
{
	struct day_walk w = { fn, arg, KPI_COL__MAX };

	return store_each(s, STMT_KPI_DAYS, each_day, &w, "kpi days",
	    STORE_PARAMS(SP_I64(live), SP_I64(from), SP_I64(to), SP_OPT(provider), SP_OPT(product),
		SP_OPT(currency)));
}

enum terr
store_kpi_before(struct store *s, int live, int64_t before, const char *provider,
    const char *product, const char *currency,
    enum terr (*fn)(void *arg, const struct kpi_day *row), void *arg)
{
	struct day_walk w = { fn, arg, KPI_STOCKS };

	return store_each(s, STMT_KPI_BEFORE, each_day, &w, "kpi before",
	    STORE_PARAMS(SP_I64(live), SP_I64(before), SP_OPT(provider), SP_OPT(product),
		SP_OPT(currency)));
}

enum terr
store_kpi_span(struct store *s, int live, int64_t *first, int64_t *last)
{
	return store_ints(s, STMT_KPI_SPAN, first, last, "kpi span", STORE_PARAMS(SP_I64(live)));
}

enum terr
store_kpi_levels(struct store *s, int live, const char *provider, const char *product,
    const char *currency, enum terr (*fn)(void *arg, const struct kpi_day *row), void *arg)
{
	struct day_walk w = { fn, arg, KPI_STOCKS };

	return store_each(s, STMT_KPI_LEVELS, each_day, &w, "kpi levels",
	    STORE_PARAMS(SP_I64(live), SP_OPT(provider), SP_OPT(product), SP_OPT(currency)));
}

enum terr
store_kpi_after(struct store *s, int live, int64_t from, const char *provider, const char *product,
    const char *currency, enum terr (*fn)(void *arg, const struct kpi_day *row), void *arg)
{
	struct day_walk w = { fn, arg, KPI_STOCKS };

	return store_each(s, STMT_KPI_AFTER, each_day, &w, "kpi after",
	    STORE_PARAMS(SP_I64(live), SP_I64(from), SP_OPT(provider), SP_OPT(product),
		SP_OPT(currency)));
}

enum terr
store_kpi_recompute(struct store *s, int64_t *rows)
{
	enum terr rc;

	*rows = 0;
	if ((rc = store_begin(s)) != TERR_OK)
		return rc;
	if ((rc = store_run(s, STMT_KPI_CLEAR, "kpi clear", NULL, 0)) == TERR_OK &&
	    (rc = store_run(s, STMT_KPI_RECOMPUTE, "kpi recompute", NULL, 0)) == TERR_OK &&
	    (rc = store_run(s, STMT_KPI_LEVELS_CLEAR, "kpi levels clear", NULL, 0)) == TERR_OK &&
	    (rc = store_run(s, STMT_KPI_LEVELS_RECOMPUTE, "kpi levels", NULL, 0)) == TERR_OK &&
	    (rc = store_ints(s, STMT_KPI_COUNT, rows, NULL, "kpi count", NULL, 0)) == TERR_OK &&
	    (rc = store_commit(s)) == TERR_OK)
		return TERR_OK;
	store_rollback(s);
	return rc;
}
