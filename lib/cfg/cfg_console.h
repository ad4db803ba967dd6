/* The support console's section, and its defaults (cfg_console.c), for cfg.c. */
#ifndef TALLY_CFG_CONSOLE_H
#define TALLY_CFG_CONSOLE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cfg/cfg_types.h"

enum terr cfg_parse_console(struct cfg *c, const cJSON *o, char *why, size_t size);
void cfg_console_defaults(struct cfg *c);

#endif
