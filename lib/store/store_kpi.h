/*
 * Storage of the revenue and subscription metrics (store_kpi.c; the tables
 * of migrations/0007_metrics.sql, the definitions in docs/metrics.md): what
 * each subscription counts for now (kpi_subs), the history of its changes
 * (sub_history), refunds, and the daily rollups (kpi_daily) that triggers
 * keep as the sums of sub_history, payments, refunds and the ledger. The
 * write path (core/apply_kpi.c) writes the first three in the event's
 * transaction; the report (core/kpi.c) reads the rollups. Every function
 * answers as store.h says (TERR_OK, TERR_NOTFOUND, TERR_DB ...).
 */
#ifndef TALLY_STORE_KPI_H
#define TALLY_STORE_KPI_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* What a subscription counts for (docs/metrics.md, "What a subscription counts for"). */
enum kpi_status {
	KPI_SUB_NONE,   /* no access: ended, paused, incomplete */
	KPI_SUB_TRIAL,  /* in a trial */
	KPI_SUB_PAYING, /* with access and a monthly amount above zero */
	KPI_SUB_FREE,   /* with access and nothing paid for its period */
	KPI_SUB__MAX
};

const char *kpi_status_str(enum kpi_status st);

/*
 * The figures of the rollups, in the column order of kpi_daily and of every
 * row read here. The first KPI_STOCKS are stocks, kept as differences: a
 * day's value is the sum of every day up to it. The rest are counted on
 * their day.
 */
enum kpi_col {
	KPI_MRR,
	KPI_PAYING,
	KPI_TRIALS,
	KPI_NEW,
	KPI_TRIAL_STARTS,
	KPI_CONVERSIONS,
	KPI_CONVERTED, /* conversions on the day their trial began (the cohort's) */
	KPI_CHURN_VOLUNTARY,
	KPI_CHURN_BILLING,
	KPI_REACTIVATIONS,
	KPI_PAYMENTS,
	KPI_REVENUE,
	KPI_REFUNDS,
	KPI_REFUNDED,
	KPI_CREDITS_GRANTED,
	KPI_CREDITS_SPENT,
	KPI_CREDITS_EXPIRED,
	KPI_CREDITS_REVOKED,
	KPI_COL__MAX
};
#define KPI_STOCKS   3
/* The columns sub_history holds (KPI_MRR .. KPI_REACTIVATIONS). */
#define KPI_SUB_COLS (KPI_REACTIVATIONS + 1)

/* The column's name in kpi_daily and in tally's outputs ("mrr", "new_subs" ...). */
const char *kpi_col_name(enum kpi_col c);

/* kpi_subs: one subscription's standing. */
struct kpi_sub_row {
	int64_t sub_id;
	enum kpi_status status;
	enum sub_state state; /* the subscription's state when last seen */
	char product[CFG_NAME_MAX];
	char currency[CURRENCY_MAX]; /* of mrr: "" unless paying */
	int64_t mrr;
	/* The latest payment for a full period, and the period it pays for. */
	int64_t amount;
	char amount_currency[CURRENCY_MAX];
	int months;        /* whole calendar months, or */
	int64_t period_ms; /* a duration when not a whole number of months; both 0: unknown */
	int64_t amount_at; /* that payment's event time */
	int64_t trial_at;  /* its trial began; 0 none */
	char trial_product[CFG_NAME_MAX];
	int paid;    /* has been paying */
	int churned; /* stopped paying and has not paid since */
	int64_t at;  /* its last change */
};

/* sub_history: one change, under one (live, provider, product, currency). */
struct sub_history_row {
	int64_t sub_id;
	int64_t at;
	int live;
	char provider[PROVIDER_MAX];
	char product[CFG_NAME_MAX];
	char currency[CURRENCY_MAX];
	enum kpi_status status; /* after the change */
	int64_t v[KPI_SUB_COLS];
	int64_t inbox_id;
};

enum terr store_kpi_sub_get(struct store *s, int64_t sub_id, struct kpi_sub_row *out);
/* Insert or replace the row r->sub_id. */
enum terr store_kpi_sub_put(struct store *s, const struct kpi_sub_row *r);
enum terr store_sub_history_insert(struct store *s, const struct sub_history_row *r);

/*
 * A refund of payment pay_id at `at`: kind "full", "partial", "dispute" or
 * "reversal" (a refund or dispute undone: amount < 0, count -1).
 */
enum terr store_refund_insert(struct store *s, int64_t pay_id, int64_t at, const char *kind,
    int64_t amount, int count, int64_t inbox_id);
/*
 * What refunds of pay_id returned so far (*all, reversals deducted) and the
 * amount of its latest full refund or dispute (*whole; 0 when none).
 */
enum terr store_refund_sums(struct store *s, int64_t pay_id, int64_t *all, int64_t *whole);

/* One rollup row (a day, or the sum of days before one: day -1). */
struct kpi_day {
	int64_t day;
	char provider[PROVIDER_MAX];
	char product[CFG_NAME_MAX];
	char currency[CURRENCY_MAX];
	int64_t v[KPI_COL__MAX];
};

/*
 * The rows of one side (live 1 or test 0) for days [from, to], in day order,
 * fn(arg, row) for each; a provider, product or currency ("" or NULL: any)
 * narrows them, a currency keeping the rows of no currency too (trials,
 * credits). fn's failure ends the walk and is answered.
 */
enum terr store_kpi_days(struct store *s, int live, int64_t from, int64_t to, const char *provider,
    const char *product, const char *currency,
    enum terr (*fn)(void *arg, const struct kpi_day *row), void *arg);
/*
 * The stocks' differences of every day before `before`, in no order (day -1,
 * figures past KPI_STOCKS zero): their sum by (provider, product, currency)
 * is the stocks as of the end of day before - 1. Filters as store_kpi_days.
 */
enum terr store_kpi_before(struct store *s, int live, int64_t before, const char *provider,
    const char *product, const char *currency,
    enum terr (*fn)(void *arg, const struct kpi_day *row), void *arg);

/* The first and last day of the rollups of one side (first > last when there are none). */
enum terr store_kpi_span(struct store *s, int live, int64_t *first, int64_t *last);
/*
 * The stocks summed over every day (kpi_levels): what they are after the
 * latest event, one row per (provider, product, currency), day -1; filters
 * as store_kpi_days.
 */
enum terr store_kpi_levels(struct store *s, int live, const char *provider, const char *product,
    const char *currency, enum terr (*fn)(void *arg, const struct kpi_day *row), void *arg);
/* As store_kpi_before, the days from `from` on. */
enum terr store_kpi_after(struct store *s, int live, int64_t from, const char *provider,
    const char *product, const char *currency,
    enum terr (*fn)(void *arg, const struct kpi_day *row), void *arg);

/*
 * tally rebuild --metrics: kpi_daily computed again from sub_history,
 * payments, refunds and the ledger, and kpi_levels from it, in a transaction
 * of its own. *rows: the rows kpi_daily holds after.
 */
enum terr store_kpi_recompute(struct store *s, int64_t *rows);

#endif
