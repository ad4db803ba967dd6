/*
 * bin/tally: the revenue and subscription metrics (docs/metrics.md).
 *
 *   metrics [--from DATE] [--to DATE] [--by day|week|month] [--provider NAME]
 *           [--product ID] [--currency CODE] [--group provider|product|provider,product]
 *           [--test] [--json | --csv]
 *
 * A table for people by default (money as money_text writes it), JSON with
 * --json (integer minor units), CSV with --csv. The options are the API's
 * (GET /v1/metrics), checked by the same code (kpi_query_set).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/kpi.h"

/* The options metrics takes besides --to, --json and the flags --test and --csv. */
static const char *const valued[] = { "from", "by", "provider", "product", "currency", "group",
	NULL };

int
cmd_metrics(struct cli *c)
{
	struct kpi_query q;
	struct kpi_report r;
	struct buf b;
	struct jw w;
	char why[256];
	int i, k, csv = cli_flag(c, "csv");
	enum terr rc;

	if (c->npos != 0)
		return cli_usage();
	if (csv && c->json)
		return cli_bad_arg("--json and --csv: choose one", NULL);
	if (c->limit != 0 || c->reason != NULL || c->state != NULL || c->expires != NULL)
		return cli_bad_arg("metrics takes no --limit, --reason, --state or --expires",
		    NULL);
	kpi_query_init(&q, c->now);
	for (i = 0; i < c->nopts; i++) {
		const char *name = c->opts[i].name;
		if (c->opts[i].value == NULL) {
			if (strcmp(name, "test") == 0 || strcmp(name, "csv") == 0) {
				if (name[0] == 't' &&
				    kpi_query_set(&q, "test", NULL, why, sizeof(why)) != TERR_OK)
					return cli_bad_arg(why, NULL);
				continue;
			}
			return cli_bad_arg("metrics does not take this flag", name);
		}
		for (k = 0; valued[k] != NULL && strcmp(valued[k], name) != 0; k++)
			;
		if (valued[k] == NULL)
			return cli_bad_arg("metrics does not take this option", name);
		if (kpi_query_set(&q, name, c->opts[i].value, why, sizeof(why)) != TERR_OK)
			return cli_bad_arg(why, NULL);
	}
	if (c->to != NULL && kpi_query_set(&q, "to", c->to, why, sizeof(why)) != TERR_OK)
		return cli_bad_arg(why, NULL);
	if (kpi_query_finish(&q, why, sizeof(why)) != TERR_OK)
		return cli_bad_arg(why, NULL);
	if (cli_open(c, STORE_RO) != 0)
		return 1;
	if ((rc = kpi_run(c->s, &c->cfg, &q, &r)) != TERR_OK) {
		kpi_report_release(&r);
		if (rc == TERR_TOOBIG)
			return cli_fail(
			    "too many rows: narrow the range, or use --by week or month", NULL);
		return cli_fail("cannot read the metrics", err_str(rc));
	}
	buf_init(&b, OUT_MAX);
	if (c->json) {
		jw_init(&w, &b);
		kpi_json(&w, &q, &r);
		buf_putc(&b, '\n');
	} else if (csv)
		kpi_csv(&b, &q, &r);
	else
		kpi_text(&b, &q, &r);
	kpi_report_release(&r);
	if (b.err != TERR_OK) {
		buf_release(&b);
		return cli_fail("the report is too large: narrow the range", NULL);
	}
	cli_outb(&b);
	buf_release(&b);
	return 0;
}
