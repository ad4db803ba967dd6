/*
 * Private to the configuration (cfg*.c): the readers every section uses
 * (cfg_read.c), each failing with a message that names the key.
 */
#ifndef TALLY_CFG_READ_H
#define TALLY_CFG_READ_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cfg/cfg_types.h"

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

#endif
