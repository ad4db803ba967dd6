/*
 * Reading fields of a provider's JSON (prefix jr_: JSON reader) with one sticky error: every reader
 * marks the read bad (the first failure's message in why) on a field of the
 * wrong type or past its bounds, and returns an empty value, so a mapping
 * reads all its fields and checks r->bad once (every provider's mapping:
 * stripe, appstore, revenuecat*, razorpay, telegram, cryptobot).
 */
#ifndef TALLY_JREAD_H
#define TALLY_JREAD_H

#include <stddef.h>
#include <stdint.h>

#include "base/json.h"

struct jread {
	char *why;
	size_t whysize;
	int bad; /* a field had the wrong type or was out of bounds */
};

void jr_init(struct jread *r, char *why, size_t whysize);
/* Mark the read bad with a message (only the first is kept). */
void jr_bad(struct jread *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A string field into out (absent or null: ""); not a string, or too long for out: bad. */
void jr_str(struct jread *r, const cJSON *o, const char *key, char *out, size_t size);
/* An integer within [min, max] (absent or null: 0); any other value: bad. */
int64_t jr_int(struct jread *r, const cJSON *o, const char *key, int64_t min, int64_t max);
/* A Unix time in seconds, as ms (absent or null: 0). */
int64_t jr_secs(struct jread *r, const cJSON *o, const char *key);
/* A boolean (absent or null: 0). */
int jr_bool(struct jread *r, const cJSON *o, const char *key);
/* An id sent as a string or as an integer (Telegram's, CryptoBot's): its decimal text. */
void jr_id(struct jread *r, const cJSON *o, const char *key, char *out, size_t size);
/* The object at key (absent or null: NULL); another type: bad. */
const cJSON *jr_obj(struct jread *r, const cJSON *o, const char *key);

#endif
