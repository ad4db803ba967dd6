/*
 * Private to the configuration module (cfg*.c): the readers every section
 * uses, each failing with a message that names the key, and the sections'
 * parsers. cfg.c holds the table of sections.
 */
#ifndef TALLY_CFG_INT_H
#define TALLY_CFG_INT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cfg/cfg.h"

/* Format why and return TERR_CONFIG. */
enum terr cfg_fail(char *why, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Reject keys of o not in allowed[] (typos in a billing catalog must not pass silently). */
enum terr cfg_only_keys(const cJSON *o, const char *path, const char *const *allowed, char *why,
    size_t size);

/*
 * Readers of o[key] into *out, which keeps its default when the key is
 * absent. path names the section in messages ("apple", "products.pro").
 */
enum terr cfg_get_int(const cJSON *o, const char *key, const char *path, int64_t min, int64_t max,
    int64_t *out, char *why, size_t size);
enum terr cfg_get_bool(const cJSON *o, const char *key, const char *path, int *out, char *why,
    size_t size);
/* A non-empty string without control characters, at most outsize - 1 bytes. */
enum terr cfg_get_name(const cJSON *o, const char *key, const char *path, char *out, size_t outsize,
    char *why, size_t size);
enum terr cfg_get_text(const cJSON *o, const char *key, const char *path, char *out, size_t outsize,
    char *why, size_t size);
/* An http:// or https:// URL. */
enum terr cfg_get_url(const cJSON *o, const char *key, const char *path, char *out, size_t outsize,
    char *why, size_t size);
/* Seconds as an integer, or a string "90s", "15m", "12h", "7d"; *out in ms. */
enum terr cfg_get_duration(const cJSON *o, const char *key, const char *path, int64_t *out,
    char *why, size_t size);
/* An object section: TERR_CONFIG unless o is an object whose keys are all in allowed[]. */
enum terr cfg_section(const cJSON *o, const char *path, const char *const *allowed, char *why,
    size_t size);

/* The sections (cfg.c's table). */
enum terr cfg_parse_stripe(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_http(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_apple(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_revenuecat(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_checkout(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_policy(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_free_tier(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_trial(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_products(struct cfg *c, const cJSON *o, char *why, size_t size);
/* cfg_direct.c: the direct providers and referral rewards. */
enum terr cfg_parse_razorpay(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_telegram(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_cryptobot(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_referrals(struct cfg *c, const cJSON *o, char *why, size_t size);
/* cfg_console.c: the support console, and its defaults. */
enum terr cfg_parse_console(struct cfg *c, const cJSON *o, char *why, size_t size);
void cfg_console_defaults(struct cfg *c);
/* Defaults of those sections (cfg_defaults). */
void cfg_direct_defaults(struct cfg *c);
/* The direct providers' secrets as read from the environment: the webhook secret token's alphabet. */
enum terr cfg_direct_check_env(const struct cfg *c, char *why, size_t size);
/* cfg_jobs.c: the scheduled jobs (reminders, deliver) and their defaults (cfg_defaults). */
enum terr cfg_parse_reminders(struct cfg *c, const cJSON *o, char *why, size_t size);
enum terr cfg_parse_deliver(struct cfg *c, const cJSON *o, char *why, size_t size);
void cfg_jobs_defaults(struct cfg *c);

/* Checks across sections, once all are read (cfg_catalog.c): products named by free_tier, trial ... */
enum terr cfg_check(const struct cfg *c, char *why, size_t size);

#endif
