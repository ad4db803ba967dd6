/*
 * GET /metrics (admin scope): the store's counters and histograms, the
 * inbox and outbox gauges, each job's last success, and the revenue
 * gauges (today's MRR per currency, paying subscriptions and trials per
 * provider, from the metrics' rollups: docs/metrics.md), in Prometheus's
 * text format 0.0.4.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api_metrics.h"
#include "base/text.h"
#include "core/kpi.h"
#include "store/store_access.h"

struct mctx {
	struct buf *b;
	char last[64];
};

static void
metric_line(void *arg, const char *name, const char *labels, int64_t value)
{
	struct mctx *m = arg;
	const char *type = strstr(name, "_bucket") != NULL || strstr(name, "_sum") != NULL ||
		strstr(name, "_count") != NULL
	    ? "histogram"
	    : "counter";
	char base[64];
	size_t n = strlen(name);

	text_copy(base, sizeof(base), name);
	if (strcmp(type, "histogram") == 0) {
		const char *suffix = strrchr(name, '_');
		n = suffix != NULL ? (size_t)(suffix - name) : n;
		text_copyn(base, sizeof(base), name, n);
	}
	if (strcmp(base, m->last) != 0) {
		buf_printf(m->b, "# TYPE %s %s\n", base, type);
		text_copy(m->last, sizeof(m->last), base);
	}
	buf_printf(m->b, "%s%s%s%s %lld\n", name, labels[0] ? "{" : "", labels,
	    labels[0] ? "}" : "", (long long)value);
}

static void
gauge_line(void *arg, const char *gauge, const char *a, const char *b, int64_t n)
{
	struct mctx *m = arg;

	if (strcmp(gauge, "inbox") == 0)
		buf_printf(m->b, "tally_inbox_attention{provider=\"%s\",state=\"%s\"} %lld\n", a, b,
		    (long long)n);
	else
		buf_printf(m->b, "tally_outbox{kind=\"%s\",state=\"%s\"} %lld\n", a, b,
		    (long long)n);
}

/* A label value in the text format: backslash, double quote and line feed escaped. */
static void
label(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			buf_putc(b, '\\');
		if (*v == '\n')
			buf_puts(b, "\\n");
		else
			buf_putc(b, *v);
	}
}

/* The revenue gauges' rows, summed per currency (MRR) and per provider (counts). */
#define KPI_GAUGE_ROWS 256
struct kctx {
	char key[KPI_GAUGE_ROWS][PROVIDER_MAX > CURRENCY_MAX ? PROVIDER_MAX : CURRENCY_MAX];
	int64_t v[KPI_GAUGE_ROWS][3]; /* by currency: MRR; by provider: paying, trials */
	int is_currency[KPI_GAUGE_ROWS];
	size_t n;
};

static void
kadd(struct kctx *k, int currency, const char *key, int64_t a, int64_t b)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (k->is_currency[i] == currency && strcmp(k->key[i], key) == 0)
			break;
	if (i == k->n) {
		if (k->n == KPI_GAUGE_ROWS)
			return; /* more than 256 providers and currencies: the rest unreported */
		k->n++;
		text_copy(k->key[i], sizeof(k->key[i]), key);
		k->is_currency[i] = currency;
		k->v[i][0] = k->v[i][1] = 0;
	}
	k->v[i][0] += a;
	k->v[i][1] += b;
}

static enum terr
kpi_line(void *arg, const struct kpi_day *d)
{
	struct kctx *k = arg;

	if (d->currency[0] != '\0')
		kadd(k, 1, d->currency, d->v[KPI_MRR], 0);
	kadd(k, 0, d->provider, d->v[KPI_PAYING], d->v[KPI_TRIALS]);
	return TERR_OK;
}

/* tally_mrr_minor_units{currency}, tally_subscriptions_paying{provider}, ..._trialing{provider}. */
static enum terr
kpi_gauges(struct store *s, int64_t now, struct buf *b)
{
	struct kctx *k;
	size_t i;
	int g;
	enum terr rc;
	static const char *const names[] = { "tally_mrr_minor_units", "tally_subscriptions_paying",
		"tally_subscriptions_trialing" };

	if ((k = calloc(1, sizeof(*k))) == NULL)
		return TERR_NOMEM;
	if ((rc = kpi_stocks(s, 1, now / DAY_MS_KPI, NULL, NULL, NULL, kpi_line, k)) != TERR_OK) {
		free(k);
		return rc;
	}
	for (g = 0; g < 3; g++) {
		buf_printf(b, "# TYPE %s gauge\n", names[g]);
		for (i = 0; i < k->n; i++) {
			if (k->is_currency[i] != (g == 0) || (g > 0 && k->key[i][0] == '\0'))
				continue;
			buf_printf(b, "%s{%s=\"", names[g], g == 0 ? "currency" : "provider");
			label(b, k->key[i]);
			buf_printf(b, "\"} %lld\n", (long long)k->v[i][g == 2 ? 1 : 0]);
		}
	}
	free(k);
	return TERR_OK;
}

void
api_route_metrics(struct api_req *q)
{
	struct store *s = svc_store(q->sv);
	struct job_row jobs[32];
	struct mctx m;
	struct buf b;
	size_t n = 0, i;

	if (s == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return;
	}
	buf_init(&b, 1024 * 1024);
	memset(&m, 0, sizeof(m));
	m.b = &b;
	buf_puts(&b, "# TYPE tally_inbox_attention gauge\n# TYPE tally_outbox gauge\n");
	if (store_gauges(s, gauge_line, &m) != TERR_OK ||
	    kpi_gauges(s, q->sv->now, &b) != TERR_OK ||
	    store_metrics_each(s, metric_line, &m) != TERR_OK ||
	    store_jobs_list(s, jobs, 32, &n) != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "metrics cannot be read");
		buf_release(&b);
		return;
	}
	buf_puts(&b, "# TYPE tally_job_last_success_timestamp_seconds gauge\n");
	for (i = 0; i < n; i++)
		buf_printf(&b, "tally_job_last_success_timestamp_seconds{job=\"%s\"} %lld\n",
		    jobs[i].name, (long long)(jobs[i].last_success_at / 1000));
	http_reply(q->r, 200, "text/plain; version=0.0.4", "", buf_cstr(&b), b.len);
	buf_release(&b);
}
