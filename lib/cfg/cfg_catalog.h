/* The catalog and its policies (cfg_catalog.c), for cfg.c. */
#ifndef TALLY_CFG_CATALOG_H
#define TALLY_CFG_CATALOG_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cfg/cfg_types.h"

enum terr cfg_parse_policy(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_free_tier(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_trial(struct cfg *c, const cJSON *o, char *why, size_t size);
/* balance_alerts: the section's keys; cfg.c checks it against the catalog and deliver. */
enum terr cfg_parse_balance_alerts(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_products(struct cfg *c, const cJSON *o, char *why, size_t size);

#endif
