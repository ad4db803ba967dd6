/*
 * The metrics' definitions (lib/core/kpi.h, docs/metrics.md): what a
 * subscription counts for, its monthly amount and the period it pays for,
 * a cohort's rate, the report's options (the CLI's and the API's), and the
 * config section of the reporting currency and its dated rates.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "cfg/cfg.h"
#include "cfg/cfg_metrics.h"
#include "core/kpi.h"
#include "store/store_kpi.h"
#include "store/store_rows.h"
#include "t.h"
#include "t_db.h"

#define DAY  (86400LL * 1000)
/* 2026-01-01T00:00:00Z */
#define JAN1 1767225600000LL

TEST(status_follows_the_state_and_the_price)
{
	CHECK_EQ(kpi_status_of(SUB_TRIALING, 0), KPI_SUB_TRIAL);
	CHECK_EQ(kpi_status_of(SUB_TRIALING, 1000), KPI_SUB_TRIAL);
	CHECK_EQ(kpi_status_of(SUB_ACTIVE, 1000), KPI_SUB_PAYING);
	CHECK_EQ(kpi_status_of(SUB_CANCELED, 1000), KPI_SUB_PAYING);
	CHECK_EQ(kpi_status_of(SUB_PAST_DUE, 1), KPI_SUB_PAYING);
	CHECK_EQ(kpi_status_of(SUB_ACTIVE, 0), KPI_SUB_FREE);
	CHECK_EQ(kpi_status_of(SUB_EXPIRED, 1000), KPI_SUB_NONE);
	CHECK_EQ(kpi_status_of(SUB_REFUNDED, 1000), KPI_SUB_NONE);
	CHECK_EQ(kpi_status_of(SUB_REVOKED, 1000), KPI_SUB_NONE);
	CHECK_EQ(kpi_status_of(SUB_PAUSED, 1000), KPI_SUB_NONE);
	CHECK_EQ(kpi_status_of(SUB_INCOMPLETE, 1000), KPI_SUB_NONE);
}

TEST(a_period_within_three_days_of_whole_months_is_that_many_months)
{
	int m;
	int64_t ms;

	/* February to March, and every month length */
	for (int days = 28; days <= 31; days++) {
		kpi_period_of(JAN1, JAN1 + days * DAY, &m, &ms);
		CHECK_EQ(m, 1);
		CHECK_EQ(ms, 0);
	}
	kpi_period_of(JAN1, JAN1 + 365 * DAY, &m, &ms);
	CHECK_EQ(m, 12);
	kpi_period_of(JAN1, JAN1 + 366 * DAY, &m, &ms);
	CHECK_EQ(m, 12);
	kpi_period_of(JAN1, JAN1 + 90 * DAY, &m, &ms);
	CHECK_EQ(m, 3);
	/* A week and six weeks are durations. */
	kpi_period_of(JAN1, JAN1 + 7 * DAY, &m, &ms);
	CHECK_EQ(m, 0);
	CHECK_EQ(ms, 7 * DAY);
	kpi_period_of(JAN1, JAN1 + 45 * DAY, &m, &ms);
	CHECK_EQ(m, 0);
	CHECK_EQ(ms, 45 * DAY);
	/* Nothing known. */
	kpi_period_of(0, JAN1, &m, &ms);
	CHECK_EQ(m + ms, 0);
	kpi_period_of(JAN1, JAN1, &m, &ms);
	CHECK_EQ(m + ms, 0);
}

TEST(monthly_amount_rounds_half_up_per_subscription)
{
	CHECK_EQ(kpi_monthly(1000, 1, 0), 1000);
	CHECK_EQ(kpi_monthly(12000, 12, 0), 1000);
	CHECK_EQ(kpi_monthly(11999, 12, 0), 1000); /* 999.92 */
	CHECK_EQ(kpi_monthly(11994, 12, 0), 1000); /* 999.5: up */
	CHECK_EQ(kpi_monthly(11993, 12, 0), 999);  /* 999.42 */
	CHECK_EQ(kpi_monthly(1000, 3, 0), 333);
	CHECK_EQ(kpi_monthly(700, 0, 7 * DAY), 3044); /* 700 * 30.4375 / 7 = 3043.75 */
	CHECK_EQ(kpi_monthly(1000, 0, KPI_MONTH_MS), 1000);
	CHECK_EQ(kpi_monthly(500, 0, 0), 500); /* an unknown period is a month */
	CHECK_EQ(kpi_monthly(0, 1, 0), 0);
	/* The largest amount tally records over a day: no overflow on the way. */
	CHECK_EQ(kpi_monthly(1000000000000000LL, 0, DAY), 30437500000000000LL);
}

TEST(a_cohorts_rate_in_basis_points)
{
	CHECK_EQ(kpi_rate_bp(0, 0), -1);
	CHECK_EQ(kpi_rate_bp(2, 5), 4000);
	CHECK_EQ(kpi_rate_bp(1, 3), 3333);
	CHECK_EQ(kpi_rate_bp(2, 3), 6667);
	CHECK_EQ(kpi_rate_bp(3, 3), 10000);
}

static int
set(struct kpi_query *q, const char *name, const char *value, const char *want)
{
	char why[256] = "";
	enum terr rc = kpi_query_set(q, name, value, why, sizeof(why));

	if (want == NULL)
		return rc == TERR_OK;
	if (rc != TERR_INVAL || strstr(why, want) == NULL) {
		printf("# %s=%s: %s\n", name, value ? value : "(flag)", why);
		return 0;
	}
	return 1;
}

TEST(options_read_and_refused_with_their_reason)
{
	struct kpi_query q;
	char why[128];

	kpi_query_init(&q, JAN1 + 10 * DAY + 5);
	CHECK_EQ(q.to, JAN1 / DAY + 10);
	CHECK(set(&q, "from", "2025-12-01", NULL));
	CHECK_EQ(q.from, (JAN1 - 31 * DAY) / DAY);
	CHECK(set(&q, "to", "2026-01-05T23:59:59Z", NULL));
	CHECK_EQ(q.to, JAN1 / DAY + 4);
	CHECK(set(&q, "by", "week", NULL));
	CHECK_EQ(q.by, KPI_BY_WEEK);
	CHECK(set(&q, "currency", "jpy", NULL));
	CHECK_STR(q.currency, "JPY");
	CHECK(set(&q, "group", "product,provider", NULL));
	CHECK_EQ(q.group, KPI_GROUP_PROVIDER | KPI_GROUP_PRODUCT);
	CHECK(set(&q, "test", NULL, NULL));
	CHECK_EQ(q.test, 1);
	CHECK(set(&q, "test", "false", NULL));
	CHECK_EQ(q.test, 0);
	CHECK(set(&q, "provider", "stripe", NULL));
	CHECK(set(&q, "product", "pro_monthly", NULL));
	CHECK_EQ(kpi_query_finish(&q, why, sizeof(why)), TERR_OK);

	CHECK(set(&q, "by", "year", "by: expected day, week or month, not \"year\""));
	CHECK(set(&q, "from", "2026-02-30", "from: expected a date YYYY-MM-DD"));
	CHECK(set(&q, "to", "", "to: expected a date"));
	CHECK(set(&q, "currency", "U$D", "currency: expected a currency code"));
	CHECK(set(&q, "currency", "ABCDEFGHIJ", "currency: expected a currency code"));
	CHECK(set(&q, "group", "user", "group: expected provider, product"));
	CHECK(set(&q, "test", "yes", "test: expected true or false"));
	CHECK(set(&q, "provider", "a b\n", "provider: expected a provider's name"));
	CHECK(set(&q, "limit", "5", "unknown option \"limit\""));
	CHECK(set(&q, "from", NULL, "from: a value is missing"));
	/* A control character is quoted, never printed as it is. */
	CHECK(set(&q, "product", "x\x1b[2J", "product: expected a catalog id, not \"x?[2J\""));

	kpi_query_init(&q, JAN1);
	CHECK(set(&q, "from", "2026-02-01", NULL));
	CHECK_EQ(kpi_query_finish(&q, why, sizeof(why)), TERR_INVAL);
	CHECK(strstr(why, "from is after to") != NULL);
	kpi_query_init(&q, JAN1);
	CHECK(set(&q, "from", "2010-01-01", NULL));
	CHECK_EQ(kpi_query_finish(&q, why, sizeof(why)), TERR_INVAL);
	CHECK(strstr(why, "more than 3660 days") != NULL);
}

TEST(default_ranges_by_day_week_and_month)
{
	struct kpi_query q;
	char why[128];

	/* 2026-01-10 is a Saturday. */
	kpi_query_init(&q, JAN1 + 9 * DAY);
	CHECK_EQ(kpi_query_finish(&q, why, sizeof(why)), TERR_OK);
	CHECK_EQ(q.to - q.from, 29);
	kpi_query_init(&q, JAN1 + 9 * DAY);
	CHECK(set(&q, "by", "week", NULL));
	CHECK_EQ(kpi_query_finish(&q, why, sizeof(why)), TERR_OK);
	/* The Monday 11 weeks before 2026-01-05: 2025-10-20. */
	CHECK_EQ(q.from, JAN1 / DAY + 4 - 77);
	kpi_query_init(&q, JAN1 + 9 * DAY);
	CHECK(set(&q, "by", "month", NULL));
	CHECK_EQ(kpi_query_finish(&q, why, sizeof(why)), TERR_OK);
	/* 2025-02-01 */
	CHECK_EQ(q.from, 1738368000000LL / DAY);
}

static enum terr
load(struct cfg *c, const char *text, char *why, size_t whysize)
{
	cfg_defaults(c);
	why[0] = '\0';
	return cfg_parse(c, text, strlen(text), why, whysize);
}

TEST(rates_read_in_force_from_their_day)
{
	static const char text[] =
	    "{\"metrics\": {\"currency\": \"USD\", \"rates\": {"
	    "\"JPY\": {\"2026-02-01\": \"0.0065\", \"2026-01-01\": \"0.0067\"},"
	    "\"KWD\": {\"2026-01-15\": \"3.25\"}, \"EUR\": {\"2025-12-31\": \"1\"}}}}";
	struct cfg c;
	const struct cfg_rate *r;
	char why[256];

	CHECK_EQ(load(&c, text, why, sizeof(why)), TERR_OK);
	CHECK_STR(c.metrics.currency, "USD");
	CHECK_EQ(c.metrics.nrates, 4);
	CHECK(cfg_rate_on(&c, "JPY", JAN1 / DAY - 1) == NULL);
	r = cfg_rate_on(&c, "JPY", JAN1 / DAY);
	CHECK(r != NULL);
	CHECK_STR(r->text, "0.0067");
	CHECK_EQ(r->num, 67);
	CHECK_EQ(r->scale, 4);
	r = cfg_rate_on(&c, "JPY", JAN1 / DAY + 40);
	CHECK(r != NULL);
	CHECK_STR(r->text, "0.0065");
	r = cfg_rate_on(&c, "KWD", JAN1 / DAY + 14);
	CHECK(r != NULL);
	CHECK_EQ(r->num, 325);
	CHECK_EQ(r->scale, 2);
	r = cfg_rate_on(&c, "EUR", JAN1 / DAY);
	CHECK(r != NULL && r->num == 1 && r->scale == 0);
	CHECK(cfg_rate_on(&c, "INR", JAN1 / DAY + 99) == NULL);
	cfg_release(&c);
	CHECK(c.metrics.rates == NULL);
}

static int
refused(const char *text, const char *want)
{
	struct cfg c;
	char why[512];
	enum terr rc = load(&c, text, why, sizeof(why));

	cfg_release(&c);
	if (rc == TERR_CONFIG && strstr(why, want) != NULL)
		return 1;
	printf("# %s -> %d %s\n", text, rc, why);
	return 0;
}

TEST(bad_rates_refused_naming_the_key)
{
	CHECK(refused("{\"metrics\":{\"currency\":\"usd\"}}", "metrics.currency"));
	CHECK(refused("{\"metrics\":{\"rates\":{\"EUR\":{\"2026-01-01\":\"1.08\"}}}}",
	    "rates need metrics.currency"));
	CHECK(refused(
	    "{\"metrics\":{\"currency\":\"USD\",\"rates\":{\"EUR\":{\"2026-01-01\":1.08}}}}",
	    "metrics.rates.EUR.2026-01-01: expected a rate as a decimal string"));
	CHECK(refused(
	    "{\"metrics\":{\"currency\":\"USD\",\"rates\":{\"EUR\":{\"2026-01-01\":\"0\"}}}}",
	    "more than zero"));
	CHECK(refused(
	    "{\"metrics\":{\"currency\":\"USD\",\"rates\":{\"EUR\":{\"2026-01-01\":\"-1.5\"}}}}",
	    "metrics.rates.EUR.2026-01-01"));
	CHECK(refused(
	    "{\"metrics\":{\"currency\":\"USD\",\"rates\":{\"EUR\":{\"2026-01-01\":\"1.08.1\"}}}}",
	    "metrics.rates.EUR.2026-01-01"));
	CHECK(refused("{\"metrics\":{\"currency\":\"USD\",\"rates\":{\"EUR\":{\"2026-01-01\":\"."
		      "5\"}}}}",
	    "metrics.rates.EUR.2026-01-01"));
	CHECK(refused("{\"metrics\":{\"currency\":\"USD\",\"rates\":{\"EUR\":{\"2026-01-01\":"
		      "\"1234567890.1234567890\"}}}}",
	    "at most 18 digits"));
	CHECK(
	    refused("{\"metrics\":{\"currency\":\"USD\",\"rates\":{\"EUR\":{\"January\":\"1\"}}}}",
		"metrics.rates.EUR.January: expected a date YYYY-MM-DD"));
	CHECK(refused(
	    "{\"metrics\":{\"currency\":\"USD\",\"rates\":{\"eur\":{\"2026-01-01\":\"1\"}}}}",
	    "metrics.rates.eur"));
	CHECK(refused(
	    "{\"metrics\":{\"currency\":\"USD\",\"rates\":{\"USD\":{\"2026-01-01\":\"1\"}}}}",
	    "the reporting currency needs no rate"));
	CHECK(refused("{\"metrics\":{\"currency\":\"USD\",\"rates\":{\"EUR\":{}}}}",
	    "metrics.rates.EUR: expected an object"));
	CHECK(refused("{\"metrics\":{\"currency\":\"USD\",\"rate\":{}}}", "metrics"));
}

/* ------------------------------------------------- reports over a history made by hand */

/* Day D0 + d at 10:00 UTC (2026-01-01 + d). */
#define D0    (JAN1 / DAY)
#define AT(d) (JAN1 + (d)*DAY + 10 * 3600 * 1000LL)

static int64_t
sub(struct store *s, const char *user, const char *provider, const char *product)
{
	struct sub_row r;

	memset(&r, 0, sizeof(r));
	store_user_insert(s, user, JAN1);
	text_copy(r.provider, sizeof(r.provider), provider);
	text_copy(r.ext_id, sizeof(r.ext_id), user);
	text_copy(r.user, sizeof(r.user), user);
	text_copy(r.product, sizeof(r.product), product);
	r.state = SUB_ACTIVE;
	r.live = 1;
	r.state_at = r.created_at = r.updated_at = JAN1;
	return store_sub_insert(s, &r) == TERR_OK ? r.id : 0;
}

/* One history row: figures given as (column, value) pairs ending with -1. */
static enum terr
hist(struct store *s, int64_t id, int64_t at, const char *provider, const char *product,
    const char *currency, ...)
{
	struct sub_history_row h;
	va_list ap;
	int c;

	memset(&h, 0, sizeof(h));
	h.sub_id = id;
	h.at = at;
	h.live = 1;
	text_copy(h.provider, sizeof(h.provider), provider);
	text_copy(h.product, sizeof(h.product), product);
	text_copy(h.currency, sizeof(h.currency), currency);
	va_start(ap, currency);
	while ((c = va_arg(ap, int)) >= 0)
		h.v[c] = va_arg(ap, int64_t);
	va_end(ap);
	return store_sub_history_insert(s, &h);
}

static enum terr
pay(struct store *s, const char *user, int64_t sub_id, int64_t at, int64_t amount,
    const char *currency)
{
	struct pay_row p;

	memset(&p, 0, sizeof(p));
	text_copy(p.provider, sizeof(p.provider), "stripe");
	text_copy(p.user, sizeof(p.user), user);
	text_copy(p.product, sizeof(p.product), "pro");
	p.sub_id = sub_id;
	p.kind = PAY_RENEWAL;
	p.amount = amount;
	text_copy(p.currency, sizeof(p.currency), currency);
	p.live = 1;
	p.created_at = at;
	return store_pay_insert(s, &p);
}

/* The row of report r for day `day` and currency, or NULL. */
static const struct kpi_row *
row_of(const struct kpi_report *r, int64_t day, const char *currency)
{
	size_t i;

	for (i = 0; i < r->nrows; i++)
		if (r->rows[i].start <= day && r->rows[i].end >= day &&
		    strcmp(r->rows[i].currency, currency) == 0)
			return &r->rows[i];
	return NULL;
}

/*
 * Stripe: A pays 10.00 USD a month from day 0 and churns (billing) on day 20;
 * B pays 20.00 USD from day 3. App Store: T begins a trial on day 1 and
 * converts on day 8 at 1200 JPY. Revenue: A's payment on day 0.
 */
static struct store *
history(struct t_db *d)
{
	struct store *s = t_db_open(d);
	int64_t a, b, t;

	if (s == NULL || (a = sub(s, "a", "stripe", "pro")) == 0 ||
	    (b = sub(s, "b", "stripe", "pro")) == 0 || (t = sub(s, "t", "apple", "pro")) == 0)
		return NULL;
	if (hist(s, a, AT(0), "stripe", "pro", "USD", KPI_MRR, (int64_t)1000, KPI_PAYING,
		(int64_t)1, KPI_NEW, (int64_t)1, -1) != TERR_OK ||
	    hist(s, a, AT(20), "stripe", "pro", "USD", KPI_MRR, (int64_t)-1000, KPI_PAYING,
		(int64_t)-1, KPI_CHURN_BILLING, (int64_t)1, -1) != TERR_OK ||
	    hist(s, b, AT(3), "stripe", "pro", "USD", KPI_MRR, (int64_t)2000, KPI_PAYING,
		(int64_t)1, KPI_NEW, (int64_t)1, -1) != TERR_OK ||
	    hist(s, t, AT(1), "apple", "pro", "", KPI_TRIALS, (int64_t)1, KPI_TRIAL_STARTS,
		(int64_t)1, -1) != TERR_OK ||
	    hist(s, t, AT(8), "apple", "pro", "", KPI_TRIALS, (int64_t)-1, KPI_CONVERSIONS,
		(int64_t)1, -1) != TERR_OK ||
	    hist(s, t, AT(1), "apple", "pro", "", KPI_CONVERTED, (int64_t)1, -1) != TERR_OK ||
	    hist(s, t, AT(8), "apple", "pro", "JPY", KPI_MRR, (int64_t)1200, KPI_PAYING, (int64_t)1,
		KPI_NEW, (int64_t)1, -1) != TERR_OK ||
	    pay(s, "a", a, AT(0), 1000, "usd") != TERR_OK)
		return NULL;
	return s;
}

TEST(a_report_carries_stocks_into_its_periods_from_either_end)
{
	struct t_db d;
	struct store *s = history(&d);
	struct kpi_query q;
	struct kpi_report early, late, week;
	const struct kpi_row *r;
	struct cfg c;
	char why[128];

	CHECK(s != NULL);
	cfg_defaults(&c);
	/* From the start (the days before it: none), and from day 25 (the levels less the days after). */
	kpi_query_init(&q, AT(29));
	q.from = D0;
	CHECK_EQ(kpi_run(s, &c, &q, &early), TERR_OK);
	kpi_query_init(&q, AT(29));
	q.from = D0 + 25;
	CHECK_EQ(kpi_run(s, &c, &q, &late), TERR_OK);
	CHECK((r = row_of(&early, D0 + 25, "USD")) != NULL);
	CHECK_EQ(r->v[KPI_MRR], 2000);
	CHECK_EQ(r->v[KPI_PAYING], 1);
	CHECK((r = row_of(&late, D0 + 25, "USD")) != NULL);
	CHECK_EQ(r->v[KPI_MRR], 2000);
	CHECK((r = row_of(&late, D0 + 29, "JPY")) != NULL);
	CHECK_EQ(r->v[KPI_MRR], 1200);
	CHECK_EQ(kpi_arr(r), 14400);
	kpi_report_release(&late);
	/* From day 5: the days before it, summed. */
	kpi_query_init(&q, AT(29));
	q.from = D0 + 5;
	CHECK_EQ(kpi_run(s, &c, &q, &late), TERR_OK);
	CHECK((r = row_of(&late, D0 + 5, "USD")) != NULL);
	CHECK_EQ(r->v[KPI_MRR], 3000);
	CHECK_EQ(r->v[KPI_PAYING], 2);
	CHECK_EQ(r->v[KPI_NEW], 0);
	CHECK((r = row_of(&late, D0 + 5, "")) != NULL);
	CHECK_EQ(r->v[KPI_TRIALS], 1);
	CHECK((r = row_of(&early, D0, "USD")) != NULL);
	CHECK_EQ(r->v[KPI_REVENUE], 1000);
	CHECK_EQ(r->v[KPI_PAYMENTS], 1);
	CHECK((r = row_of(&early, D0 + 5, "")) != NULL);
	CHECK_EQ(r->v[KPI_TRIALS], 1);
	CHECK(row_of(&early, D0 + 9, "") == NULL); /* nothing of no currency that day */
	/* ISO weeks: 2026-01-01 is a Thursday, its week clipped to the query's first day. */
	kpi_query_init(&q, AT(29));
	q.from = D0;
	CHECK_EQ(kpi_query_set(&q, "by", "week", why, sizeof(why)), TERR_OK);
	CHECK_EQ(kpi_run(s, &c, &q, &week), TERR_OK);
	CHECK((r = row_of(&week, D0, "USD")) != NULL);
	CHECK_EQ(r->start, D0);
	CHECK_EQ(r->end, D0 + 3); /* Sunday 2026-01-04 */
	CHECK_EQ(r->v[KPI_NEW], 2);
	CHECK_EQ(r->v[KPI_MRR], 3000);
	CHECK((r = row_of(&week, D0 + 18, "USD")) != NULL); /* the week of the 19th to the 25th */
	CHECK_EQ(r->start, D0 + 18);
	CHECK_EQ(r->v[KPI_CHURN_BILLING], 1);
	CHECK_EQ(r->v[KPI_MRR], 2000);
	kpi_report_release(&early);
	kpi_report_release(&late);
	kpi_report_release(&week);
	cfg_release(&c);
	t_db_drop(&d);
}

TEST(the_overview_gives_the_consoles_series_and_tables)
{
	struct t_db d;
	struct store *s = history(&d);
	struct kpi_overview o;
	const struct kpi_row *r;
	struct cfg c;
	size_t i;

	CHECK(s != NULL);
	cfg_defaults(&c);
	CHECK_EQ(kpi_overview(s, &c, AT(29), 30, &o), TERR_OK);
	CHECK_EQ(o.from, D0);
	CHECK_EQ(o.to, D0 + 29);
	/* The MRR chart: a row a day and currency. */
	CHECK((r = row_of(&o.mrr, D0 + 10, "USD")) != NULL);
	CHECK_EQ(r->v[KPI_MRR], 3000);
	CHECK((r = row_of(&o.mrr, D0 + 29, "JPY")) != NULL);
	CHECK_EQ(r->v[KPI_MRR], 1200);
	/* Active and trials: every currency together. */
	CHECK((r = row_of(&o.subs, D0 + 5, "")) != NULL);
	CHECK_EQ(r->v[KPI_PAYING], 2);
	CHECK_EQ(r->v[KPI_TRIALS], 1);
	CHECK((r = row_of(&o.subs, D0 + 29, "")) != NULL);
	CHECK_EQ(r->v[KPI_PAYING], 2);
	CHECK_EQ(r->v[KPI_TRIALS], 0);
	/* Per product: stocks at the end, movements over the range. */
	for (i = 0; i < o.products.nrows; i++)
		CHECK(o.products.rows[i].start == D0 && o.products.rows[i].end == D0 + 29);
	CHECK((r = row_of(&o.products, D0, "USD")) != NULL);
	CHECK_STR(r->provider, "stripe");
	CHECK_STR(r->product, "pro");
	CHECK_EQ(r->v[KPI_MRR], 2000);
	CHECK_EQ(r->v[KPI_NEW], 2);
	CHECK_EQ(r->v[KPI_CHURN_BILLING], 1);
	/* The cohorts: January's one trial, converted. */
	CHECK((r = row_of(&o.cohorts, D0, "")) != NULL);
	CHECK_EQ(r->v[KPI_TRIAL_STARTS], 1);
	CHECK_EQ(r->v[KPI_CONVERTED], 1);
	CHECK_EQ(kpi_rate_bp(r->v[KPI_CONVERTED], r->v[KPI_TRIAL_STARTS]), 10000);
	kpi_overview_release(&o);
	cfg_release(&c);
	t_db_drop(&d);
}

int
main(void)
{
	RUN(status_follows_the_state_and_the_price);
	RUN(a_period_within_three_days_of_whole_months_is_that_many_months);
	RUN(monthly_amount_rounds_half_up_per_subscription);
	RUN(a_cohorts_rate_in_basis_points);
	RUN(options_read_and_refused_with_their_reason);
	RUN(default_ranges_by_day_week_and_month);
	RUN(rates_read_in_force_from_their_day);
	RUN(bad_rates_refused_naming_the_key);
	RUN(a_report_carries_stocks_into_its_periods_from_either_end);
	RUN(the_overview_gives_the_consoles_series_and_tables);
	return t_done();
}
