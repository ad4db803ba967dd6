/*
 * In-process timing of the metrics' reads on a database (tests/bench/metrics.sh):
 * the console's overview (kpi_overview: its four reports for the last 30 days),
 * and one report of each period over three years, without a process's start.
 * Usage: metrics_micro DBPATH CONFIG RUNS. Prints the best wall time of each, in ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/text.h"
#include "base/tm.h"
#include "cfg/cfg.h"
#include "core/kpi.h"

static double
ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int
main(int argc, char **argv)
{
	struct cfg c;
	struct store *s = NULL;
	struct kpi_overview o;
	struct kpi_query q;
	struct kpi_report r;
	char why[256];
	int64_t runs, now = tm_now_ms(), i;
	double best[4] = { 1e9, 1e9, 1e9, 1e9 }, t;
	static const char *const by[] = { "day", "week", "month" };
	int k;

	if (argc != 4 || text_i64s(argv[3], 1, 100, &runs) != TERR_OK) {
		fprintf(stderr, "usage: metrics_micro DBPATH CONFIG RUNS\n");
		return 2;
	}
	setenv("TALLY_DB", argv[1], 1);
	setenv("TALLY_CONFIG", argv[2], 1);
	if (cfg_load(&c, why, sizeof(why)) != TERR_OK ||
	    store_open(&s, argv[1], STORE_RO) != TERR_OK)
		return fprintf(stderr, "%s\n", why), 1;
	for (i = 0; i < runs; i++) {
		t = ms_now();
		if (kpi_overview(s, &c, now, 30, &o) != TERR_OK)
			return 1;
		kpi_overview_release(&o);
		if ((t = ms_now() - t) < best[0])
			best[0] = t;
		for (k = 0; k < 3; k++) {
			kpi_query_init(&q, now);
			q.from = q.to - 1094;
			q.have_from = 1;
			if (kpi_query_set(&q, "by", by[k], why, sizeof(why)) != TERR_OK ||
			    kpi_query_set(&q, "group", "provider,product", why, sizeof(why)) !=
				TERR_OK)
				return 1;
			if (k == 0 &&
			    kpi_query_set(&q, "group", "none", why, sizeof(why)) != TERR_OK)
				return 1;
			t = ms_now();
			if (kpi_run(s, &c, &q, &r) != TERR_OK)
				return 1;
			kpi_report_release(&r);
			if ((t = ms_now() - t) < best[k + 1])
				best[k + 1] = t;
		}
	}
	printf(
	    "overview %.0f ms; three years by day %.0f ms, by week (by provider and product) %.0f "
	    "ms, by month (by provider and product) %.0f ms\n",
	    best[0], best[1], best[2], best[3]);
	store_close(s);
	cfg_release(&c);
	return 0;
}
