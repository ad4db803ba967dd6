/* GET /metrics (api_metrics.c): the Prometheus text of the store's counters and gauges. */
#ifndef TALLY_API_METRICS_H
#define TALLY_API_METRICS_H

#include "api/api_req.h"

void api_route_metrics(struct api_req *q);

#endif
