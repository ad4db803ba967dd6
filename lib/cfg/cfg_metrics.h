/* The metrics' section: reporting currency and exchange rates (cfg_metrics.c), for cfg.c. */
#ifndef TALLY_CFG_METRICS_H
#define TALLY_CFG_METRICS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cfg/cfg_types.h"

enum terr cfg_parse_metrics(struct cfg *c, const cJSON *o, char *why, size_t size);

/*
 * The rate of currency in force on day (the latest dated on or before it),
 * or NULL when none is. currency in capitals.
 */
const struct cfg_rate *cfg_rate_on(const struct cfg *c, const char *currency, int64_t day);

#endif
