/*
 * Revenue and subscription metrics: the definitions the write path applies,
 * the report over the daily rollups, its three outputs, the console's
 * overview. See kpi.h for the contract and docs/metrics.md for each
 * definition as a finance person would check it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/money.h"
#include "base/text.h"
#include "base/tm.h"
#include "cfg/cfg_metrics.h"
#include "core/kpi.h"

/* ------------------------------------------------------------ definitions */

enum kpi_status
kpi_status_of(enum sub_state st, int64_t amount)
{
	switch (st) {
	case SUB_TRIALING: return KPI_SUB_TRIAL;
	case SUB_ACTIVE:
	case SUB_CANCELED:
	case SUB_PAST_DUE: return amount > 0 ? KPI_SUB_PAYING : KPI_SUB_FREE;
	default: return KPI_SUB_NONE;
	}
}

/* n / d rounded half away from zero, d > 0; *ok 0 when the result leaves int64. */
static int64_t
div_round(__int128 n, __int128 d, int *ok)
{
	__int128 q = n / d, r = n % d;

	if (r < 0)
		r = -r;
	if (2 * r >= d)
		q += n < 0 ? -1 : 1;
	if (q > INT64_MAX || q < INT64_MIN) {
		*ok = 0;
		return q > 0 ? INT64_MAX : INT64_MIN;
	}
	return (int64_t)q;
}

int64_t
kpi_monthly(int64_t amount, int months, int64_t period_ms)
{
	int ok = 1;

	if (months > 0)
		return div_round(amount, months, &ok);
	if (period_ms > 0)
		return div_round((__int128)amount * KPI_MONTH_MS, period_ms, &ok);
	return amount;
}

void
kpi_period_of(int64_t start, int64_t end, int *months, int64_t *ms)
{
	int64_t d = end - start, n, off;

	*months = 0;
	*ms = 0;
	if (start <= 0 || d <= 0)
		return;
	n = (d + KPI_MONTH_MS / 2) / KPI_MONTH_MS;
	off = d - n * KPI_MONTH_MS;
	if (n >= 1 && n <= 1200 && off <= KPI_MONTH_SLACK && off >= -KPI_MONTH_SLACK)
		*months = (int)n;
	else
		*ms = d;
}

int64_t
kpi_rate_bp(int64_t converted, int64_t starts)
{
	int ok = 1;

	if (starts <= 0)
		return -1;
	return div_round((__int128)converted * 10000, starts, &ok);
}

/* ------------------------------------------------------------------ days */

/* Days since 1970-01-01 of a civil date (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms"). */
static int64_t
days_of(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_of(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* "YYYY-MM-DD" of a day. */
static void
day_text(int64_t day, char out[16])
{
	int64_t y;
	int m, d;

	civil_of(day, &y, &m, &d);
	snprintf(out, 16, "%04lld-%02d-%02d", (long long)y, m, d);
}

/* The first day of the period of `by` holding day (weeks begin on Monday, ISO 8601). */
static int64_t
period_start(enum kpi_by by, int64_t day)
{
	int64_t y;
	int m, d;

	switch (by) {
	case KPI_BY_WEEK: return day - (((day + 3) % 7) + 7) % 7;
	case KPI_BY_MONTH: civil_of(day, &y, &m, &d); return days_of(y, m, 1);
	default: return day;
	}
}

/* The last day of the period of `by` that begins on start. */
static int64_t
period_end(enum kpi_by by, int64_t start)
{
	int64_t y;
	int m, d;

	switch (by) {
	case KPI_BY_WEEK: return start + 6;
	case KPI_BY_MONTH:
		civil_of(start, &y, &m, &d);
		return m == 12 ? days_of(y + 1, 1, 1) - 1 : days_of(y, m + 1, 1) - 1;
	default: return start;
	}
}

/* ---------------------------------------------------------------- options */

void
kpi_query_init(struct kpi_query *q, int64_t now)
{
	memset(q, 0, sizeof(*q));
	q->to = now / DAY_MS_KPI;
	q->from = q->to - 29;
	q->by = KPI_BY_DAY;
}

/* why = "<what>, not <v quoted>"; TERR_INVAL. */
static enum terr
bad(char *why, size_t whysize, const char *what, const char *v)
{
	char quoted[72];

	text_quote(quoted, sizeof(quoted), v != NULL ? v : "", 48);
	snprintf(why, whysize, "%s, not %s", what, quoted);
	return TERR_INVAL;
}

/* A day from "YYYY-MM-DD" (or a full RFC 3339 time, its day). */
static enum terr
parse_day(const char *v, int64_t *day)
{
	int64_t ms;

	if (v == NULL || tm_parse(v, &ms) != TERR_OK || ms < 0)
		return TERR_INVAL;
	*day = ms / DAY_MS_KPI;
	return TERR_OK;
}

enum terr
kpi_query_set(struct kpi_query *q, const char *name, const char *value, char *why, size_t whysize)
{
	char up[CURRENCY_MAX];
	size_t i;

	if (strcmp(name, "test") == 0) {
		if (value == NULL || strcmp(value, "1") == 0 || strcmp(value, "true") == 0)
			q->test = 1;
		else if (strcmp(value, "0") == 0 || strcmp(value, "false") == 0)
			q->test = 0;
		else
			return bad(why, whysize, "test: expected true or false", value);
		return TERR_OK;
	}
	if (value == NULL) {
		snprintf(why, whysize, "%.32s: a value is missing", name);
		return TERR_INVAL;
	}
	if (strcmp(name, "from") == 0 || strcmp(name, "to") == 0) {
		int64_t *day = name[0] == 'f' ? &q->from : &q->to;
		if (parse_day(value, day) != TERR_OK)
			return bad(why, whysize,
			    name[0] == 'f' ? "from: expected a date YYYY-MM-DD"
					   : "to: expected a date YYYY-MM-DD",
			    value);
		if (name[0] == 'f')
			q->have_from = 1;
		else
			q->have_to = 1;
		return TERR_OK;
	}
	if (strcmp(name, "by") == 0) {
		if (strcmp(value, "day") == 0)
			q->by = KPI_BY_DAY;
		else if (strcmp(value, "week") == 0)
			q->by = KPI_BY_WEEK;
		else if (strcmp(value, "month") == 0)
			q->by = KPI_BY_MONTH;
		else
			return bad(why, whysize, "by: expected day, week or month", value);
		return TERR_OK;
	}
	if (strcmp(name, "provider") == 0) {
		if (!text_id_valid(value, PROVIDER_MAX - 1))
			return bad(why, whysize, "provider: expected a provider's name", value);
		text_copy(q->provider, sizeof(q->provider), value);
		return TERR_OK;
	}
	if (strcmp(name, "product") == 0) {
		if (!text_id_valid(value, CFG_NAME_MAX - 1))
			return bad(why, whysize, "product: expected a catalog id", value);
		text_copy(q->product, sizeof(q->product), value);
		return TERR_OK;
	}
	if (strcmp(name, "currency") == 0) {
		for (i = 0; value[i] != '\0' && i + 1 < sizeof(up); i++)
			up[i] = value[i] >= 'a' && value[i] <= 'z' ? (char)(value[i] - 'a' + 'A')
								   : value[i];
		up[i] = '\0';
		if (value[i] != '\0' || !money_currency_valid(up))
			return bad(why, whysize,
			    "currency: expected a currency code (USD, JPY ...)", value);
		text_copy(q->currency, sizeof(q->currency), up);
		return TERR_OK;
	}
	if (strcmp(name, "group") == 0) {
		if (strcmp(value, "none") == 0)
			q->group = 0;
		else if (strcmp(value, "provider") == 0)
			q->group = KPI_GROUP_PROVIDER;
		else if (strcmp(value, "product") == 0)
			q->group = KPI_GROUP_PRODUCT;
		else if (strcmp(value, "provider,product") == 0 ||
		    strcmp(value, "product,provider") == 0)
			q->group = KPI_GROUP_PROVIDER | KPI_GROUP_PRODUCT;
		else
			return bad(why, whysize,
			    "group: expected provider, product, provider,product or none", value);
		return TERR_OK;
	}
	{
		char quoted[72];
		text_quote(quoted, sizeof(quoted), name, 48);
		snprintf(why, whysize,
		    "unknown option %s (from, to, by, provider, product, currency, group, test)",
		    quoted);
	}
	return TERR_INVAL;
}

enum terr
kpi_query_finish(struct kpi_query *q, char *why, size_t whysize)
{
	if (!q->have_from) {
		switch (q->by) {
		case KPI_BY_WEEK: q->from = period_start(KPI_BY_WEEK, q->to) - 11 * 7; break;
		case KPI_BY_MONTH: {
			int64_t s = period_start(KPI_BY_MONTH, q->to), y;
			int m, d;
			civil_of(s, &y, &m, &d);
			m -= 11;
			if (m < 1) {
				m += 12;
				y--;
			}
			q->from = days_of(y, m, 1);
			break;
		}
		default: q->from = q->to - 29; break;
		}
		if (q->from < 0)
			q->from = 0;
	}
	if (q->from > q->to) {
		snprintf(why, whysize, "from is after to");
		return TERR_INVAL;
	}
	if (q->to - q->from + 1 > KPI_DAYS_MAX) {
		snprintf(why, whysize, "from to to is more than %d days: ask for less",
		    KPI_DAYS_MAX);
		return TERR_INVAL;
	}
	return TERR_OK;
}

/* ---------------------------------------------------------------- the run */

/* One group (currency, and provider and product when grouped by them) while the periods pass. */
struct group {
	char provider[PROVIDER_MAX];
	char product[CFG_NAME_MAX];
	char currency[CURRENCY_MAX];
	int64_t v[KPI_COL__MAX]; /* stocks: the level so far; the rest: the current period's */
};

struct run {
	const struct kpi_query *q;
	struct group *g;
	size_t ng, capg;
	size_t *slot; /* open addressing: index + 1 of a group, 0 empty */
	size_t nslot;
	int64_t start, end; /* the current period, clipped to [q->from, q->to] */
	struct kpi_report *out;
	size_t caprows;
	enum kpi_by by; /* the periods (the query's, or one for the whole range) */
	int whole;      /* one period: [q->from, q->to] */
};

static uint64_t
hash_key(const char *a, const char *b, const char *c)
{
	uint64_t h = 1469598103934665603ULL;
	const char *parts[3] = { a, b, c };
	int i;

	for (i = 0; i < 3; i++) {
		const unsigned char *p = (const unsigned char *)parts[i];
		for (; *p != '\0'; p++)
			h = (h ^ *p) * 1099511628211ULL;
		h = (h ^ 0x1f) * 1099511628211ULL;
	}
	return h;
}

static enum terr
rehash(struct run *r, size_t nslot)
{
	size_t *slot = calloc(nslot, sizeof(*slot)), i, k;

	if (slot == NULL)
		return TERR_NOMEM;
	for (i = 0; i < r->ng; i++) {
		k = hash_key(r->g[i].provider, r->g[i].product, r->g[i].currency) & (nslot - 1);
		while (slot[k] != 0)
			k = (k + 1) & (nslot - 1);
		slot[k] = i + 1;
	}
	free(r->slot);
	r->slot = slot;
	r->nslot = nslot;
	return TERR_OK;
}

/* The group of a rollup row, made when new; NULL (err set) when out of memory or too many. */
static struct group *
group_of(struct run *r, const struct kpi_day *d, enum terr *err)
{
	const char *provider = (r->q->group & KPI_GROUP_PROVIDER) ? d->provider : "";
	const char *product = (r->q->group & KPI_GROUP_PRODUCT) ? d->product : "";
	size_t k;
	struct group *g;

	if (r->nslot == 0 || 2 * (r->ng + 1) > r->nslot) {
		if ((*err = rehash(r, r->nslot == 0 ? 64 : 2 * r->nslot)) != TERR_OK)
			return NULL;
	}
	k = hash_key(provider, product, d->currency) & (r->nslot - 1);
	for (; r->slot[k] != 0; k = (k + 1) & (r->nslot - 1)) {
		g = &r->g[r->slot[k] - 1];
		if (strcmp(g->provider, provider) == 0 && strcmp(g->product, product) == 0 &&
		    strcmp(g->currency, d->currency) == 0)
			return g;
	}
	if (r->ng == r->capg) {
		size_t cap = r->capg == 0 ? 32 : 2 * r->capg;
		struct group *ng;
		if (cap > KPI_ROWS_MAX || (ng = realloc(r->g, cap * sizeof(*ng))) == NULL) {
			*err = cap > KPI_ROWS_MAX ? TERR_TOOBIG : TERR_NOMEM;
			return NULL;
		}
		r->g = ng;
		r->capg = cap;
	}
	g = &r->g[r->ng];
	memset(g, 0, sizeof(*g));
	text_copy(g->provider, sizeof(g->provider), provider);
	text_copy(g->product, sizeof(g->product), product);
	text_copy(g->currency, sizeof(g->currency), d->currency);
	r->slot[k] = ++r->ng;
	return g;
}

static void
set_period(struct run *r, int64_t start)
{
	r->start = start;
	if (r->whole) {
		r->end = r->q->to;
		return;
	}
	r->end = period_end(r->by, period_start(r->by, start));
	if (r->end > r->q->to)
		r->end = r->q->to;
}

/* The current period's rows (every group with a figure not zero), then the next period. */
static enum terr
flush(struct run *r)
{
	struct kpi_report *o = r->out;
	size_t i;
	int c;

	for (i = 0; i < r->ng; i++) {
		struct group *g = &r->g[i];
		struct kpi_row *row;
		for (c = 0; c < KPI_COL__MAX && g->v[c] == 0; c++)
			;
		if (c == KPI_COL__MAX)
			continue;
		if (o->nrows == r->caprows) {
			size_t cap = r->caprows == 0 ? 256 : 2 * r->caprows;
			struct kpi_row *nr;
			if (o->nrows >= KPI_ROWS_MAX)
				return TERR_TOOBIG;
			if (cap > KPI_ROWS_MAX)
				cap = KPI_ROWS_MAX;
			if ((nr = realloc(o->rows, cap * sizeof(*nr))) == NULL)
				return TERR_NOMEM;
			o->rows = nr;
			r->caprows = cap;
		}
		row = &o->rows[o->nrows++];
		row->start = r->start;
		row->end = r->end;
		text_copy(row->provider, sizeof(row->provider), g->provider);
		text_copy(row->product, sizeof(row->product), g->product);
		text_copy(row->currency, sizeof(row->currency), g->currency);
		memcpy(row->v, g->v, sizeof(row->v));
		for (c = KPI_STOCKS; c < KPI_COL__MAX; c++)
			g->v[c] = 0;
	}
	set_period(r, r->end + 1);
	return TERR_OK;
}

static enum terr
on_before(void *arg, const struct kpi_day *d)
{
	struct run *r = arg;
	struct group *g;
	enum terr rc = TERR_OK;
	int c;

	if ((g = group_of(r, d, &rc)) == NULL)
		return rc;
	for (c = 0; c < KPI_STOCKS; c++)
		g->v[c] += d->v[c];
	return TERR_OK;
}

static enum terr
on_day(void *arg, const struct kpi_day *d)
{
	struct run *r = arg;
	struct group *g;
	enum terr rc = TERR_OK;
	int c;

	while (d->day > r->end)
		if ((rc = flush(r)) != TERR_OK)
			return rc;
	if ((g = group_of(r, d, &rc)) == NULL)
		return rc;
	for (c = 0; c < KPI_COL__MAX; c++)
		g->v[c] += d->v[c];
	return TERR_OK;
}

static int
row_cmp(const void *a, const void *b)
{
	const struct kpi_row *x = a, *y = b;
	int c;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if ((c = strcmp(x->provider, y->provider)) != 0 ||
	    (c = strcmp(x->product, y->product)) != 0)
		return c;
	return strcmp(x->currency, y->currency);
}

struct negate {
	enum terr (*fn)(void *arg, const struct kpi_day *row);
	void *arg;
};

/* A row of days after the one asked for: taken from the levels. */
static enum terr
on_negated(void *arg, const struct kpi_day *d)
{
	struct negate *n = arg;
	struct kpi_day m = *d;
	int c;

	for (c = 0; c < KPI_STOCKS; c++)
		m.v[c] = -m.v[c];
	return n->fn(n->arg, &m);
}

enum terr
kpi_stocks(struct store *s, int live, int64_t day, const char *provider, const char *product,
    const char *currency, enum terr (*fn)(void *arg, const struct kpi_day *row), void *arg)
{
	struct negate n = { fn, arg };
	int64_t first = 0, last = -1;
	enum terr rc;

	if ((rc = store_kpi_span(s, live, &first, &last)) != TERR_OK)
		return rc;
	if (last < first || day < first)
		return TERR_OK; /* nothing, or nothing yet */
	/* The rollups' rows spread over their days: read the fewer. */
	if (last - day < day - first) {
		if ((rc = store_kpi_levels(s, live, provider, product, currency, fn, arg)) !=
		    TERR_OK)
			return rc;
		return store_kpi_after(s, live, day + 1, provider, product, currency, on_negated,
		    &n);
	}
	return store_kpi_before(s, live, day + 1, provider, product, currency, fn, arg);
}

/* v of currency `from` in the reporting currency `to` at rate r, rounded half away from zero. */
static int
convert(int64_t v, const char *from, const char *to, const struct cfg_rate *r, int64_t *out)
{
	__int128 n = v, d = 1;
	int i, ok = 1, up = money_exponent(to), down = money_exponent(from) + r->scale;

	/* n * num * 10^up / 10^down, each step checked: a rate of 18 digits times 10^15 fits 2^127. */
	if (__builtin_mul_overflow(n, (__int128)r->num, &n))
		return 0;
	for (i = 0; i < up; i++)
		if (__builtin_mul_overflow(n, (__int128)10, &n))
			return 0;
	for (i = 0; i < down; i++)
		d *= 10;
	*out = div_round(n, d, &ok);
	return ok;
}

/* One reporting total per period (rows sorted by period). */
static enum terr
totals(const struct cfg *c, struct kpi_report *o)
{
	size_t i = 0, j, k;

	if ((o->totals = calloc(o->nrows > 0 ? o->nrows : 1, sizeof(*o->totals))) == NULL)
		return TERR_NOMEM;
	while (i < o->nrows) {
		struct kpi_total *t = &o->totals[o->ntotals++];
		t->start = o->rows[i].start;
		t->end = o->rows[i].end;
		for (j = i; j < o->nrows && o->rows[j].start == t->start; j++) {
			const struct kpi_row *row = &o->rows[j];
			const struct cfg_rate *rate = NULL;
			int64_t m = 0, rv = 0, rf = 0;
			if (row->currency[0] == '\0')
				continue;
			if (strcmp(row->currency, o->reporting) != 0) {
				for (k = 0;
				     k < t->nrates && strcmp(t->rates[k].currency, row->currency);
				     k++)
					;
				if (k == t->nrates) {
					if (k == sizeof(t->rates) / sizeof(t->rates[0])) {
						t->missing = 1;
						continue;
					}
					text_copy(t->rates[k].currency,
					    sizeof(t->rates[k].currency), row->currency);
					t->rates[k].rate = cfg_rate_on(c, row->currency, t->end);
					t->nrates++;
				}
				if ((rate = t->rates[k].rate) == NULL) {
					t->missing = 1;
					continue;
				}
				if (!convert(row->v[KPI_MRR], row->currency, o->reporting, rate,
					&m) ||
				    !convert(row->v[KPI_REVENUE], row->currency, o->reporting, rate,
					&rv) ||
				    !convert(row->v[KPI_REFUNDED], row->currency, o->reporting,
					rate, &rf)) {
					t->missing = 1;
					continue;
				}
			} else {
				m = row->v[KPI_MRR];
				rv = row->v[KPI_REVENUE];
				rf = row->v[KPI_REFUNDED];
			}
			t->mrr += m;
			t->revenue += rv;
			t->refunded += rf;
		}
		i = j;
	}
	return TERR_OK;
}

/* kpi_run, with periods of `by`, or one period for the whole range (whole). */
static enum terr
run_query(struct store *s, const struct cfg *c, const struct kpi_query *q, enum kpi_by by,
    int whole, struct kpi_report *out)
{
	struct run r;
	enum terr rc;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.q = q;
	r.out = out;
	r.by = by;
	r.whole = whole;
	set_period(&r, q->from);
	if (c != NULL)
		text_copy(out->reporting, sizeof(out->reporting), c->metrics.currency);
	if ((rc = kpi_stocks(s, !q->test, q->from - 1, q->provider, q->product, q->currency,
		 on_before, &r)) != TERR_OK ||
	    (rc = store_kpi_days(s, !q->test, q->from, q->to, q->provider, q->product, q->currency,
		 on_day, &r)) != TERR_OK)
		goto out;
	while (r.start <= q->to)
		if ((rc = flush(&r)) != TERR_OK)
			goto out;
	if (out->nrows > 0)
		qsort(out->rows, out->nrows, sizeof(*out->rows), row_cmp);
	if (out->reporting[0] != '\0')
		rc = totals(c, out);
out:
	free(r.g);
	free(r.slot);
	return rc;
}

enum terr
kpi_run(struct store *s, const struct cfg *c, const struct kpi_query *q, struct kpi_report *out)
{
	return run_query(s, c, q, q->by, 0, out);
}

void
kpi_report_release(struct kpi_report *r)
{
	free(r->rows);
	free(r->totals);
	r->rows = NULL;
	r->totals = NULL;
	r->nrows = r->ntotals = 0;
}

int64_t
kpi_arr(const struct kpi_row *r)
{
	return r->v[KPI_MRR] * 12;
}

enum terr
kpi_rebuild(struct store *s, int64_t *rows)
{
	return store_kpi_recompute(s, rows);
}

/* ---------------------------------------------------------------- outputs */

static const char *
by_name(enum kpi_by by)
{
	return by == KPI_BY_WEEK ? "week" : by == KPI_BY_MONTH ? "month" : "day";
}

/* A rate in basis points as a decimal fraction "0.4000" into out[32]; "" when there is none. */
#define RATE_TEXT_SIZE 32
static void
rate_text(int64_t bp, char out[RATE_TEXT_SIZE])
{
	if (bp < 0)
		out[0] = '\0';
	else
		snprintf(out, RATE_TEXT_SIZE, "%lld.%04lld", (long long)(bp / 10000),
		    (long long)(bp % 10000));
}

static void
json_opt(struct jw *w, const char *k, const char *v)
{
	jw_kstr(w, k, v[0] != '\0' ? v : NULL);
}

void
kpi_json(struct jw *w, const struct kpi_query *q, const struct kpi_report *r)
{
	char from[16], to[16], a[RATE_TEXT_SIZE], b[16];
	size_t i, k;
	int c;

	day_text(q->from, from);
	day_text(q->to, to);
	jw_obj(w);
	jw_kbool(w, "live", !q->test);
	jw_kstr(w, "from", from);
	jw_kstr(w, "to", to);
	jw_kstr(w, "by", by_name(q->by));
	json_opt(w, "provider", q->provider);
	json_opt(w, "product", q->product);
	json_opt(w, "currency", q->currency);
	jw_key(w, "group");
	jw_arr(w);
	if (q->group & KPI_GROUP_PROVIDER)
		jw_str(w, "provider");
	if (q->group & KPI_GROUP_PRODUCT)
		jw_str(w, "product");
	jw_aend(w);
	jw_key(w, "rows");
	jw_arr(w);
	for (i = 0; i < r->nrows; i++) {
		const struct kpi_row *row = &r->rows[i];
		day_text(row->start, a);
		day_text(row->end, b);
		jw_obj(w);
		jw_kstr(w, "start", a);
		jw_kstr(w, "end", b);
		if (q->group & KPI_GROUP_PROVIDER)
			json_opt(w, "provider", row->provider);
		if (q->group & KPI_GROUP_PRODUCT)
			json_opt(w, "product", row->product);
		json_opt(w, "currency", row->currency);
		for (c = 0; c < KPI_COL__MAX; c++) {
			jw_kint(w, kpi_col_name((enum kpi_col)c), row->v[c]);
			if (c == KPI_MRR)
				jw_kint(w, "arr", kpi_arr(row));
		}
		rate_text(kpi_rate_bp(row->v[KPI_CONVERTED], row->v[KPI_TRIAL_STARTS]), a);
		jw_key(w, "conversion_rate");
		if (a[0] != '\0')
			jw_raw(w, a);
		else
			jw_null(w);
		jw_end(w);
	}
	jw_aend(w);
	jw_key(w, "reporting");
	if (r->reporting[0] == '\0') {
		jw_null(w);
		jw_end(w);
		return;
	}
	jw_obj(w);
	jw_kstr(w, "currency", r->reporting);
	jw_key(w, "totals");
	jw_arr(w);
	for (i = 0; i < r->ntotals; i++) {
		const struct kpi_total *t = &r->totals[i];
		day_text(t->start, a);
		day_text(t->end, b);
		jw_obj(w);
		jw_kstr(w, "start", a);
		jw_kstr(w, "end", b);
		jw_kint(w, "mrr", t->mrr);
		jw_kint(w, "arr", t->mrr * 12);
		jw_kint(w, "revenue", t->revenue);
		jw_kint(w, "refunded", t->refunded);
		jw_kbool(w, "complete", !t->missing);
		jw_key(w, "rates");
		jw_arr(w);
		for (k = 0; k < t->nrates; k++) {
			jw_obj(w);
			jw_kstr(w, "currency", t->rates[k].currency);
			if (t->rates[k].rate != NULL) {
				day_text(t->rates[k].rate->day, a);
				jw_kstr(w, "rate", t->rates[k].rate->text);
				jw_kstr(w, "date", a);
			} else {
				jw_kstr(w, "rate", NULL);
				jw_kstr(w, "date", NULL);
			}
			jw_end(w);
		}
		jw_aend(w);
		jw_end(w);
	}
	jw_aend(w);
	jw_end(w);
	jw_end(w);
}

/* A CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break. */
static void
csv_field(struct buf *b, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
}

/* The rates of a total as one field: "EUR 1.0825 2026-01-01; JPY none". */
static void
rates_text(struct buf *b, const struct kpi_total *t)
{
	char d[16];
	size_t k;

	for (k = 0; k < t->nrates; k++) {
		if (k > 0)
			buf_puts(b, "; ");
		if (t->rates[k].rate == NULL) {
			buf_printf(b, "%s none", t->rates[k].currency);
			continue;
		}
		day_text(t->rates[k].rate->day, d);
		buf_printf(b, "%s %s %s", t->rates[k].currency, t->rates[k].rate->text, d);
	}
}

void
kpi_csv(struct buf *b, const struct kpi_query *q, const struct kpi_report *r)
{
	char a[RATE_TEXT_SIZE], e[16];
	size_t i;
	int c;

	(void)q;
	buf_puts(b, "kind,start,end,provider,product,currency");
	for (c = 0; c < KPI_COL__MAX; c++) {
		buf_printf(b, ",%s", kpi_col_name((enum kpi_col)c));
		if (c == KPI_MRR)
			buf_puts(b, ",arr");
	}
	buf_puts(b, ",conversion_rate,rates\n");
	for (i = 0; i < r->nrows; i++) {
		const struct kpi_row *row = &r->rows[i];
		day_text(row->start, a);
		day_text(row->end, e);
		buf_printf(b, "figures,%s,%s,", a, e);
		csv_field(b, row->provider);
		buf_putc(b, ',');
		csv_field(b, row->product);
		buf_printf(b, ",%s", row->currency);
		for (c = 0; c < KPI_COL__MAX; c++) {
			buf_printf(b, ",%lld", (long long)row->v[c]);
			if (c == KPI_MRR)
				buf_printf(b, ",%lld", (long long)kpi_arr(row));
		}
		rate_text(kpi_rate_bp(row->v[KPI_CONVERTED], row->v[KPI_TRIAL_STARTS]), a);
		buf_printf(b, ",%s,\n", a);
	}
	for (i = 0; i < r->ntotals; i++) {
		const struct kpi_total *t = &r->totals[i];
		day_text(t->start, a);
		day_text(t->end, e);
		buf_printf(b, "%s,%s,%s,,,%s", t->missing ? "total_incomplete" : "total", a, e,
		    r->reporting);
		for (c = 0; c < KPI_COL__MAX; c++) {
			int64_t v = c == KPI_MRR ? t->mrr
			    : c == KPI_REVENUE   ? t->revenue
			    : c == KPI_REFUNDED  ? t->refunded
						 : 0;
			buf_printf(b, ",%lld", (long long)v);
			if (c == KPI_MRR)
				buf_printf(b, ",%lld", (long long)(t->mrr * 12));
		}
		buf_puts(b, ",,");
		{
			struct buf f;
			buf_init(&f, 4096);
			rates_text(&f, t);
			csv_field(b, buf_cstr(&f));
			buf_release(&f);
		}
		buf_putc(b, '\n');
	}
}

/* The columns of the table for people, and how each cell is written. */
enum tcol { T_PERIOD, T_PROVIDER, T_PRODUCT, T_CURRENCY, T_FIG };
static const struct {
	const char *head;
	int col;   /* enum kpi_col, or -1 for ARR, -2 for the conversion rate */
	int money; /* written with money_text */
} figs[] = {
	{ "MRR", KPI_MRR, 1 },
	{ "ARR", -1, 1 },
	{ "paying", KPI_PAYING, 0 },
	{ "trials", KPI_TRIALS, 0 },
	{ "new", KPI_NEW, 0 },
	{ "trial starts", KPI_TRIAL_STARTS, 0 },
	{ "converted", KPI_CONVERTED, 0 },
	{ "rate", -2, 0 },
	{ "conversions", KPI_CONVERSIONS, 0 },
	{ "churn vol.", KPI_CHURN_VOLUNTARY, 0 },
	{ "churn billing", KPI_CHURN_BILLING, 0 },
	{ "reactivated", KPI_REACTIVATIONS, 0 },
	{ "payments", KPI_PAYMENTS, 0 },
	{ "revenue", KPI_REVENUE, 1 },
	{ "refunds", KPI_REFUNDS, 0 },
	{ "refunded", KPI_REFUNDED, 1 },
	{ "credits +", KPI_CREDITS_GRANTED, 0 },
	{ "spent", KPI_CREDITS_SPENT, 0 },
	{ "expired", KPI_CREDITS_EXPIRED, 0 },
	{ "revoked", KPI_CREDITS_REVOKED, 0 },
};
#define NFIGS    (sizeof(figs) / sizeof(figs[0]))
#define TCOLS    (T_FIG + NFIGS)
#define CELL_MAX 64

/* Cell k of row (k as enum tcol, figures after T_FIG). */
static void
cell(const struct kpi_query *q, const struct kpi_row *row, size_t k, char out[CELL_MAX])
{
	char a[RATE_TEXT_SIZE], b[16];
	int64_t v;

	switch (k) {
	case T_PERIOD:
		day_text(row->start, a);
		day_text(row->end, b);
		if (row->start == row->end)
			snprintf(out, CELL_MAX, "%s", a);
		else
			snprintf(out, CELL_MAX, "%s..%s", a, b + 5);
		return;
	case T_PROVIDER:
		snprintf(out, CELL_MAX, "%s", row->provider[0] ? row->provider : "-");
		return;
	case T_PRODUCT: snprintf(out, CELL_MAX, "%s", row->product[0] ? row->product : "-"); return;
	case T_CURRENCY:
		snprintf(out, CELL_MAX, "%s", row->currency[0] ? row->currency : "-");
		return;
	default: break;
	}
	(void)q;
	k -= T_FIG;
	if (figs[k].col == -2) {
		rate_text(kpi_rate_bp(row->v[KPI_CONVERTED], row->v[KPI_TRIAL_STARTS]), a);
		if (a[0] == '\0')
			snprintf(out, CELL_MAX, "-");
		else {
			int64_t bp = kpi_rate_bp(row->v[KPI_CONVERTED], row->v[KPI_TRIAL_STARTS]);
			snprintf(out, CELL_MAX, "%lld.%02lld%%", (long long)(bp / 100),
			    (long long)(bp % 100));
		}
		return;
	}
	v = figs[k].col == -1 ? kpi_arr(row) : row->v[figs[k].col];
	if (figs[k].money) {
		if (row->currency[0] == '\0')
			snprintf(out, CELL_MAX, "-");
		else
			money_text(v, row->currency, out, CELL_MAX);
	} else
		snprintf(out, CELL_MAX, "%lld", (long long)v);
}

static int
shown(const struct kpi_query *q, size_t k)
{
	if (k == T_PROVIDER)
		return (q->group & KPI_GROUP_PROVIDER) != 0;
	if (k == T_PRODUCT)
		return (q->group & KPI_GROUP_PRODUCT) != 0;
	return 1;
}

void
kpi_text(struct buf *b, const struct kpi_query *q, const struct kpi_report *r)
{
	static const char *const heads[T_FIG] = { "period", "provider", "product", "currency" };
	size_t width[TCOLS], i, k;
	char c[CELL_MAX], from[16], to[16];

	day_text(q->from, from);
	day_text(q->to, to);
	buf_printf(b, "%s metrics %s to %s by %s", q->test ? "test" : "live", from, to,
	    by_name(q->by));
	if (q->provider[0] != '\0')
		buf_printf(b, ", provider %s", q->provider);
	if (q->product[0] != '\0')
		buf_printf(b, ", product %s", q->product);
	if (q->currency[0] != '\0')
		buf_printf(b, ", currency %s", q->currency);
	buf_puts(b, "\n");
	if (r->nrows == 0) {
		buf_puts(b, "nothing recorded in this range\n");
		return;
	}
	for (k = 0; k < TCOLS; k++)
		width[k] = strlen(k < T_FIG ? heads[k] : figs[k - T_FIG].head);
	for (i = 0; i < r->nrows; i++)
		for (k = 0; k < TCOLS; k++) {
			cell(q, &r->rows[i], k, c);
			if (strlen(c) > width[k])
				width[k] = strlen(c);
		}
	for (k = 0; k < TCOLS; k++)
		if (shown(q, k))
			buf_printf(b,
			    k == 0          ? "%-*s"
				: k < T_FIG ? "  %-*s"
					    : "  %*s",
			    (int)width[k], k < T_FIG ? heads[k] : figs[k - T_FIG].head);
	buf_puts(b, "\n");
	for (i = 0; i < r->nrows; i++) {
		for (k = 0; k < TCOLS; k++) {
			if (!shown(q, k))
				continue;
			cell(q, &r->rows[i], k, c);
			buf_printf(b,
			    k == 0          ? "%-*s"
				: k < T_FIG ? "  %-*s"
					    : "  %*s",
			    (int)width[k], c);
		}
		buf_puts(b, "\n");
	}
	if (r->reporting[0] == '\0')
		return;
	buf_printf(b, "\nin %s (each currency at the rate in force on the period's last day):\n",
	    r->reporting);
	for (i = 0; i < r->ntotals; i++) {
		const struct kpi_total *t = &r->totals[i];
		char m[MONEY_TEXT_SIZE], a[MONEY_TEXT_SIZE], rv[MONEY_TEXT_SIZE],
		    rf[MONEY_TEXT_SIZE];
		day_text(t->start, from);
		day_text(t->end, to);
		money_text(t->mrr, r->reporting, m, sizeof(m));
		money_text(t->mrr * 12, r->reporting, a, sizeof(a));
		money_text(t->revenue, r->reporting, rv, sizeof(rv));
		money_text(t->refunded, r->reporting, rf, sizeof(rf));
		buf_printf(b, "%s..%s  MRR %s  ARR %s  revenue %s  refunded %s", from, to + 5, m, a,
		    rv, rf);
		if (t->nrates > 0) {
			buf_puts(b, "  rates: ");
			rates_text(b, t);
		}
		if (t->missing)
			buf_puts(b, "  (INCOMPLETE: a currency has no rate)");
		buf_puts(b, "\n");
	}
}

/* ---------------------------------------------------------------- overview */

/* r's rows summed over currencies, period by period, into out (currency ""). */
static enum terr
over_currencies(const struct kpi_report *r, struct kpi_report *out)
{
	size_t i;
	int c;

	memset(out, 0, sizeof(*out));
	if ((out->rows = calloc(r->nrows > 0 ? r->nrows : 1, sizeof(*out->rows))) == NULL)
		return TERR_NOMEM;
	for (i = 0; i < r->nrows; i++) {
		struct kpi_row *o;
		if (out->nrows == 0 || out->rows[out->nrows - 1].start != r->rows[i].start) {
			o = &out->rows[out->nrows++];
			o->start = r->rows[i].start;
			o->end = r->rows[i].end;
		} else
			o = &out->rows[out->nrows - 1];
		for (c = 0; c < KPI_COL__MAX; c++)
			if (c != KPI_MRR && c != KPI_REVENUE && c != KPI_REFUNDED)
				o->v[c] += r->rows[i].v[c];
	}
	return TERR_OK;
}

enum terr
kpi_overview(struct store *s, const struct cfg *c, int64_t now, int days, struct kpi_overview *out)
{
	struct kpi_query q;
	struct kpi_report months;
	enum terr rc;

	memset(out, 0, sizeof(*out));
	memset(&months, 0, sizeof(months));
	kpi_query_init(&q, now);
	if (days < 1)
		days = 1;
	if (days > KPI_DAYS_MAX)
		days = KPI_DAYS_MAX;
	q.from = q.to - days + 1;
	if (q.from < 0)
		q.from = 0;
	out->from = q.from;
	out->to = q.to;
	if ((rc = run_query(s, c, &q, KPI_BY_DAY, 0, &out->mrr)) != TERR_OK ||
	    (rc = over_currencies(&out->mrr, &out->subs)) != TERR_OK)
		goto out;
	q.group = KPI_GROUP_PROVIDER | KPI_GROUP_PRODUCT;
	if ((rc = run_query(s, c, &q, KPI_BY_DAY, 1, &out->products)) != TERR_OK)
		goto out;
	q.group = 0;
	q.by = KPI_BY_MONTH;
	if ((rc = run_query(s, NULL, &q, KPI_BY_MONTH, 0, &months)) != TERR_OK)
		goto out;
	rc = over_currencies(&months, &out->cohorts);
out:
	kpi_report_release(&months);
	return rc;
}

void
kpi_overview_release(struct kpi_overview *o)
{
	kpi_report_release(&o->mrr);
	kpi_report_release(&o->subs);
	kpi_report_release(&o->products);
	kpi_report_release(&o->cohorts);
}
