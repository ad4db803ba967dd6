#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "core/metrics.h"
#include "store/store_access.h"

struct series {
	char name[64];
	char labels[160];
	int64_t delta;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct series pending[METRICS_PENDING_MAX];
static size_t npending;
static int64_t dropped;

/* Histogram bounds (ms), Prometheus "le" labels. */
static const int64_t bounds[] = { 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 10000 };
#define NBOUNDS (sizeof(bounds) / sizeof(bounds[0]))

static void
add_locked(const char *name, const char *labels, int64_t delta)
{
	size_t i;

	for (i = 0; i < npending; i++)
		if (strcmp(pending[i].name, name) == 0 && strcmp(pending[i].labels, labels) == 0) {
			pending[i].delta += delta;
			return;
		}
	if (npending == METRICS_PENDING_MAX || strlen(name) >= sizeof(pending[0].name) ||
	    strlen(labels) >= sizeof(pending[0].labels)) {
		dropped += delta;
		return;
	}
	text_copy(pending[npending].name, sizeof(pending[npending].name), name);
	text_copy(pending[npending].labels, sizeof(pending[npending].labels), labels);
	pending[npending++].delta = delta;
}

void
metrics_add(const char *name, const char *labels, int64_t delta)
{
	pthread_mutex_lock(&mu);
	add_locked(name, labels, delta);
	pthread_mutex_unlock(&mu);
}

void
metrics_observe_ms(const char *name, const char *labels, int64_t ms)
{
	char series[64], l[200];
	size_t i;

	pthread_mutex_lock(&mu);
	snprintf(series, sizeof(series), "%s_bucket", name);
	/* Prometheus buckets are cumulative: every bound at or above the value counts it. */
	for (i = 0; i < NBOUNDS; i++)
		if (ms <= bounds[i]) {
			snprintf(l, sizeof(l), "%s%sle=\"%lld\"", labels, labels[0] ? "," : "",
			    (long long)bounds[i]);
			add_locked(series, l, 1);
		}
	snprintf(l, sizeof(l), "%s%sle=\"+Inf\"", labels, labels[0] ? "," : "");
	add_locked(series, l, 1);
	snprintf(series, sizeof(series), "%s_sum", name);
	add_locked(series, labels, ms);
	snprintf(series, sizeof(series), "%s_count", name);
	add_locked(series, labels, 1);
	pthread_mutex_unlock(&mu);
}

enum terr
metrics_flush(struct store *s)
{
	struct series *batch;
	size_t n, i;
	int64_t lost;
	enum terr rc = TERR_OK;

	pthread_mutex_lock(&mu);
	if (npending == 0 && dropped == 0) {
		pthread_mutex_unlock(&mu);
		return TERR_OK;
	}
	if ((batch = malloc(npending * sizeof(*batch) + 1)) == NULL) {
		pthread_mutex_unlock(&mu);
		return TERR_NOMEM;
	}
	n = npending;
	memcpy(batch, pending, n * sizeof(batch[0]));
	npending = 0;
	lost = dropped;
	dropped = 0;
	pthread_mutex_unlock(&mu);
	for (i = 0; i < n; i++)
		if ((rc = store_metric_add(s, batch[i].name, batch[i].labels, batch[i].delta)) !=
		    TERR_OK)
			break;
	if (rc == TERR_OK && lost > 0 &&
	    (rc = store_metric_add(s, "tally_metrics_dropped_total", "", lost)) == TERR_OK)
		lost = 0;
	if (rc != TERR_OK) {
		/* What was not written waits for the next transaction (a statement fails alone). */
		pthread_mutex_lock(&mu);
		for (; i < n; i++)
			add_locked(batch[i].name, batch[i].labels, batch[i].delta);
		dropped += lost;
		pthread_mutex_unlock(&mu);
	}
	free(batch);
	return rc;
}
