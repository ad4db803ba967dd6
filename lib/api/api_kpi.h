/*
 * GET /v1/metrics (api_kpi.c, admin scope): the revenue and subscription
 * metrics report as JSON, the options of `tally metrics` as query
 * parameters (docs/api.md, docs/metrics.md).
 */
#ifndef TALLY_API_KPI_H
#define TALLY_API_KPI_H

#include "api/api_req.h"

/* The largest query string read: every option at its longest fits many times over. */
#define KPI_QUERY_MAX  2048
/* The largest answer: a report past it is refused (400 too_large: narrow the range). */
#define KPI_ANSWER_MAX (16 * 1024 * 1024)

void api_route_kpi(struct api_req *q);

#endif
