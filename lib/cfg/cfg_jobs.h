/*
 * The scheduled jobs' sections (reminders, deliver) and their defaults
 * (cfg_jobs.c), for cfg.c.
 */
#ifndef TALLY_CFG_JOBS_H
#define TALLY_CFG_JOBS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cfg/cfg_types.h"

enum terr cfg_parse_reminders(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_deliver(struct cfg *c, const cJSON *o, char *why, size_t size);
void cfg_jobs_defaults(struct cfg *c);

#endif
