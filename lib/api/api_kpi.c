/*
 * GET /v1/metrics?from=&to=&by=&provider=&product=&currency=&group=&test=
 * (admin scope): the report of core/kpi.h as JSON. A parameter given twice,
 * one tally does not know, or a malformed value is refused 400 bad_parameter
 * with the reason `tally metrics` gives for the same input; an answer larger
 * than KPI_ANSWER_MAX (or more than KPI_ROWS_MAX rows) 400 too_large.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_kpi.h"
#include "base/log.h"
#include "base/text.h"
#include "core/kpi.h"

#define PARAMS_MAX 16

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode p[0..n) of application/x-www-form-urlencoded (the query string,
 * WHATWG URL "application/x-www-form-urlencoded parsing": '+' is a space,
 * %XX a byte) into out[size]; 0 on a bad escape, a NUL or no room.
 */
static int
decode(const char *p, size_t n, char *out, size_t size)
{
	size_t i, k = 0;
	int hi, lo;

	for (i = 0; i < n; i++) {
		char c = p[i];
		if (c == '+')
			c = ' ';
		else if (c == '%') {
			if (i + 2 >= n || (hi = hexval(p[i + 1])) < 0 ||
			    (lo = hexval(p[i + 2])) < 0)
				return 0;
			c = (char)(hi * 16 + lo);
			i += 2;
		}
		if (c == '\0' || k + 1 >= size)
			return 0;
		out[k++] = c;
	}
	out[k] = '\0';
	return 1;
}

/* The query string's options into q; 0, or the answer (400) was sent. */
static int
read_query(struct api_req *q, struct kpi_query *kq)
{
	const char *qs = http_param(q->r, "QUERY_STRING"), *p, *amp, *eq;
	char names[PARAMS_MAX][32], value[KPI_QUERY_MAX], why[256];
	size_t n = 0, i, len;

	if (qs == NULL || qs[0] == '\0')
		return 0;
	if (strlen(qs) > KPI_QUERY_MAX) {
		http_error(q->r, 400, "bad_parameter", "the query string is too long");
		return 1;
	}
	for (p = qs; *p != '\0'; p = *amp != '\0' ? amp + 1 : amp) {
		if ((amp = strchr(p, '&')) == NULL)
			amp = p + strlen(p);
		len = (size_t)(amp - p);
		if (len == 0)
			continue;
		eq = memchr(p, '=', len);
		if (n == PARAMS_MAX ||
		    !decode(p, eq != NULL ? (size_t)(eq - p) : len, names[n], sizeof(names[n])) ||
		    !decode(eq != NULL ? eq + 1 : amp, eq != NULL ? (size_t)(amp - eq - 1) : 0,
			value, sizeof(value))) {
			http_error(q->r, 400, "bad_parameter",
			    n == PARAMS_MAX ? "too many query parameters"
					    : "a query parameter is malformed (a bad escape, or "
					      "too long)");
			return 1;
		}
		for (i = 0; i < n && strcmp(names[i], names[n]) != 0; i++)
			;
		if (i < n) {
			char quoted[48];
			text_quote(quoted, sizeof(quoted), names[n], 32);
			snprintf(why, sizeof(why), "%s: given twice", quoted);
			http_error(q->r, 400, "bad_parameter", why);
			return 1;
		}
		/* A name alone (no "="): the flag "test"; any other name misses its value. */
		if (kpi_query_set(kq, names[n], eq == NULL ? NULL : value, why, sizeof(why)) !=
		    TERR_OK) {
			http_error(q->r, 400, "bad_parameter", why);
			return 1;
		}
		n++;
	}
	return 0;
}

void
api_route_kpi(struct api_req *q)
{
	struct store *s = svc_store(q->sv);
	struct kpi_query kq;
	struct kpi_report r;
	struct buf b;
	struct jw w;
	char why[256];
	enum terr rc;

	kpi_query_init(&kq, q->sv->now);
	if (read_query(q, &kq) != 0)
		return;
	if (kpi_query_finish(&kq, why, sizeof(why)) != TERR_OK) {
		http_error(q->r, 400, "bad_parameter", why);
		return;
	}
	if (s == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return;
	}
	if ((rc = kpi_run(s, q->c, &kq, &r)) != TERR_OK) {
		kpi_report_release(&r);
		if (rc == TERR_TOOBIG)
			http_error(q->r, 400, "too_large",
			    "too many rows: narrow the range, or ask by week or month");
		else
			http_error(q->r, 503, "storage_unavailable", "the metrics cannot be read");
		return;
	}
	buf_init(&b, KPI_ANSWER_MAX);
	jw_init(&w, &b);
	kpi_json(&w, &kq, &r);
	kpi_report_release(&r);
	if (b.err != TERR_OK)
		http_error(q->r, 400, "too_large",
		    "the answer is too large: narrow the range, or ask by week or month");
	else
		http_reply_json(q->r, 200, &b);
	buf_release(&b);
}
