/*
 * Revenue and subscription metrics (kpi.c), as docs/metrics.md defines
 * them: MRR and ARR, paying subscriptions, trials, new subscriptions, trial
 * starts and conversions (with each cohort's rate), churn (voluntary or a
 * billing failure), reactivations, refunds, revenue, credits. ("kpi" in
 * names: "metrics" is already the Prometheus counters of core/metrics.h.)
 *
 * Three parts:
 *  - the definitions the write path applies (core/apply_kpi.c): what a
 *    subscription counts for, and its amount normalised to a month;
 *  - the report: the daily rollups (store_kpi.h) read into periods (days,
 *    ISO weeks, calendar months) and groups (currency, and by provider and
 *    product when asked), stocks as of each period's last day, flows summed
 *    over it, and with a reporting currency the money converted at the
 *    configured rates; written as JSON, CSV or a table for people; the CLI
 *    (`tally metrics`) and the API (GET /v1/metrics) take the same options
 *    through kpi_query_set, so both refuse the same input the same way;
 *  - the console's overview (kpi_overview): the series of its charts and
 *    its tables in one call.
 *
 * Every amount is an integer in the currency's smallest unit, per currency;
 * nothing is summed across currencies except through a configured rate.
 */
#ifndef TALLY_KPI_H
#define TALLY_KPI_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/json.h"
#include "cfg/cfg.h"
#include "store/store_kpi.h"

#define DAY_MS_KPI      86400000LL
/* A month of 365.25 / 12 days: what a period that is no whole number of months is counted in. */
#define KPI_MONTH_MS    2629800000LL
/* A period within this of a whole number of months is that many months (28 to 31 days: one). */
#define KPI_MONTH_SLACK (3 * DAY_MS_KPI)

/* What a subscription in state st whose latest full period cost amount counts for. */
enum kpi_status kpi_status_of(enum sub_state st, int64_t amount);

/*
 * amount for a period of months calendar months (months > 0), else of
 * period_ms, as a monthly amount, rounded half up: amount / months, or
 * amount * KPI_MONTH_MS / period_ms. Both 0 (the period is not known): the
 * amount itself (one month). A result past int64 is clamped (never reached
 * with amounts up to MONEY_MINOR_MAX and periods of a day or more).
 */
int64_t kpi_monthly(int64_t amount, int months, int64_t period_ms);

/*
 * The period from start to end as *months (a whole number of months within
 * KPI_MONTH_SLACK) or else *ms. Both 0 when end <= start.
 */
void kpi_period_of(int64_t start, int64_t end, int *months, int64_t *ms);

/* --- the report --- */

enum kpi_by { KPI_BY_DAY, KPI_BY_WEEK, KPI_BY_MONTH };

#define KPI_GROUP_PROVIDER 1u
#define KPI_GROUP_PRODUCT  2u

struct kpi_query {
	int64_t from; /* first day (days since 1970-01-01 UTC), inclusive */
	int64_t to;   /* last day, inclusive */
	enum kpi_by by;
	int test; /* 1: test and sandbox data alone; 0: live data alone */
	char provider[PROVIDER_MAX];
	char product[CFG_NAME_MAX];
	char currency[CURRENCY_MAX]; /* in capitals */
	unsigned group;              /* KPI_GROUP_* */
	int have_from, have_to;
};

/* A query's defaults: the last 30 days up to today (now, ms), by day, live, every group merged. */
void kpi_query_init(struct kpi_query *q, int64_t now);
/*
 * Set option name ("from", "to", "by", "provider", "product", "currency",
 * "group", "test") to value (NULL for the flag "test"). TERR_INVAL with why
 * (naming the option and what it takes) when the name is unknown or the
 * value malformed.
 */
enum terr kpi_query_set(struct kpi_query *q, const char *name, const char *value, char *why,
    size_t whysize);
/*
 * Complete q after its options: from defaults to 29 days, 11 weeks or 11
 * months before to (by day, week, month); TERR_INVAL with why when from is
 * after to or the range is longer than KPI_DAYS_MAX days.
 */
enum terr kpi_query_finish(struct kpi_query *q, char *why, size_t whysize);

/* The longest range a report covers (ten years of days). */
#define KPI_DAYS_MAX 3660
/* The most rows a report holds (periods times groups). */
#define KPI_ROWS_MAX 50000

/* One period of one group: stocks as of its last day, flows summed over it. */
struct kpi_row {
	int64_t start, end; /* days, inclusive (the period clipped to the query's range) */
	char provider[PROVIDER_MAX];
	char product[CFG_NAME_MAX];
	char currency[CURRENCY_MAX]; /* "" for figures of no currency (trials, credits) */
	int64_t v[KPI_COL__MAX];
};

/* An exchange rate a reporting total used. */
struct kpi_rate_used {
	char currency[CURRENCY_MAX];
	const struct cfg_rate *rate; /* NULL: none dated on or before the period's end */
};

/* The money of one period in the reporting currency (only with metrics.currency set). */
struct kpi_total {
	int64_t start, end;
	int64_t mrr, revenue, refunded; /* in the reporting currency's smallest unit */
	struct kpi_rate_used
	    rates[16]; /* each currency of the period other than the reporting one */
	size_t nrates;
	int missing; /* some currency had no rate: its money is left out of the sums */
};

struct kpi_report {
	struct kpi_row *rows; /* in (start, provider, product, currency) order */
	size_t nrows;
	struct kpi_total *totals; /* one per period when a reporting currency is set */
	size_t ntotals;
	char reporting[CURRENCY_MAX]; /* metrics.currency, "" none */
};

/*
 * Run q against s (c: the reporting currency and its rates). On success
 * *out holds the rows (release with kpi_report_release, also after a
 * failure). TERR_TOOBIG when more than KPI_ROWS_MAX rows would result;
 * storage errors as store.h.
 */
enum terr kpi_run(struct store *s, const struct cfg *c, const struct kpi_query *q,
    struct kpi_report *out);
void kpi_report_release(struct kpi_report *r);

/*
 * The stocks (MRR, paying, trials) as of the end of day `day`, one side
 * (live 1, test 0), narrowed as store_kpi_days: fn(arg, row) with rows of
 * day -1 whose sum by (provider, product, currency) are they. From whichever
 * end of the rollups is nearer: the days up to it, or the levels now less
 * the days after it.
 */
enum terr kpi_stocks(struct store *s, int live, int64_t day, const char *provider,
    const char *product, const char *currency,
    enum terr (*fn)(void *arg, const struct kpi_day *row), void *arg);

/* ARR of a row: 12 times its MRR. */
int64_t kpi_arr(const struct kpi_row *r);
/*
 * A cohort's conversion rate in basis points (1/100 of a percent), rounded
 * half up: converted * 10000 / trial starts; -1 when it had no trial start.
 */
int64_t kpi_rate_bp(int64_t converted, int64_t starts);

/* The report as JSON (docs/metrics.md, "Output"): one object. */
void kpi_json(struct jw *w, const struct kpi_query *q, const struct kpi_report *r);
/* As CSV, a header line first: one line per row, then one per reporting total. */
void kpi_csv(struct buf *b, const struct kpi_query *q, const struct kpi_report *r);
/* As a table for people: money with money_text (control characters left to the caller). */
void kpi_text(struct buf *b, const struct kpi_query *q, const struct kpi_report *r);

/*
 * tally rebuild --metrics: the rollups computed again from their histories
 * (store_kpi_recompute), in a transaction of their own; *rows after.
 */
enum terr kpi_rebuild(struct store *s, int64_t *rows);

/* --- the console's overview --- */

/*
 * What the console's overview shows, live data, in one call:
 *  - mrr: by day over [from, to], one row per day and currency (v[KPI_MRR],
 *    the MRR chart; a day without a row of a currency has that currency's
 *    value of the day before);
 *  - subs: by day over the same days, the rows of mrr's query summed over
 *    currencies: v[KPI_PAYING] and v[KPI_TRIALS] (the active/trial chart);
 *  - products: one row per provider, product and currency for the whole
 *    range (stocks as of to, flows summed over the range: the per-product
 *    table);
 *  - cohorts: by month of trial start over the range, every provider and
 *    product together: v[KPI_TRIAL_STARTS] and v[KPI_CONVERTED], their
 *    rate by kpi_rate_bp (the cohort table).
 * Each is a struct kpi_report of its own; release all with
 * kpi_overview_release. now: ms; days: the range's length up to today.
 */
struct kpi_overview {
	struct kpi_report mrr, subs, products, cohorts;
	int64_t from, to;
};
enum terr kpi_overview(struct store *s, const struct cfg *c, int64_t now, int days,
    struct kpi_overview *out);
void kpi_overview_release(struct kpi_overview *o);

#endif
