/*
 * Time in tally: int64 milliseconds since the Unix epoch, UTC, everywhere
 * (Apple and RevenueCat send ms, Stripe seconds: converted at the edge).
 * 0 means "none" in optional fields.
 */
#ifndef TALLY_TM_H
#define TALLY_TM_H

#include <stdint.h>

#include "err.h"

#define TM_ISO_SIZE 32

/* Wall clock now, in ms. */
int64_t tm_now_ms(void);

/* Format ms as RFC 3339 UTC "2026-11-22T08:12:45Z" (ms dropped when 0, else ".123Z"). */
void tm_iso(int64_t ms, char out[TM_ISO_SIZE]);

/*
 * Parse an RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SS[.fff]Z" (also "YYYY-MM-DD",
 * midnight UTC), or "@<unix seconds>". TERR_INVAL otherwise.
 */
enum terr tm_parse(const char *s, int64_t *ms);

/*
 * Parse a duration: an integer number of seconds ("3600") or an integer with
 * one unit suffix s, m, h, d ("90m", "7d"). Result in ms within [0, 10 years].
 */
enum terr tm_parse_duration(const char *s, int64_t *ms);

#endif
