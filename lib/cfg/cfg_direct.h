/* The direct providers and referral rewards (cfg_direct.c), for cfg.c. */
#ifndef TALLY_CFG_DIRECT_H
#define TALLY_CFG_DIRECT_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "cfg/cfg_types.h"

enum terr cfg_parse_razorpay(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_telegram(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_cryptobot(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_referrals(struct cfg *c, const cJSON *o, char *why, size_t size);
/* Defaults of those sections (cfg_defaults). */
void cfg_direct_defaults(struct cfg *c);
/* The direct providers' secrets as read from the environment: the webhook secret token's alphabet. */
enum terr cfg_direct_check_env(const struct cfg *c, char *why, size_t size);

#endif
