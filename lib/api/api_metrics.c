/*
 * GET /metrics (admin scope): the store's counters and histograms, the
 * inbox and outbox gauges and each job's last success, in Prometheus's text
 * format 0.0.4.
 */
#include <string.h>

#include "api/api_metrics.h"
#include "base/text.h"
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
