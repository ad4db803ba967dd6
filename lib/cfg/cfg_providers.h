/*
 * The configuration sections of the providers and the app-facing API
 * (cfg_providers.c), for cfg.c.
 */
#ifndef TALLY_CFG_PROVIDERS_H
#define TALLY_CFG_PROVIDERS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cfg/cfg_types.h"

enum terr cfg_parse_stripe(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_http(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_apple(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_revenuecat(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_google(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_checkout(struct cfg *c, const cJSON *o, char *why, size_t size);

#endif
