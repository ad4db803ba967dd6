/*
 * Time in tally (prefix tm_): int64 milliseconds since the Unix epoch, UTC, everywhere
 * (Apple and RevenueCat send ms, Stripe seconds: converted at the edge).
 * 0 means "none" in optional fields.
 */
#ifndef TALLY_TM_H
#define TALLY_TM_H

#include <stdint.h>

#include "base/err.h"

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

/*
 * A period of a plan or of a credit allowance: calendar months ("1mo",
 * "12mo", "1y") or a fixed duration ("30d"). Month arithmetic keeps the day
 * of the month, clamped to the month's last day (Jan 31 + 1mo = Feb 28/29),
 * always counted from the period's anchor so days never drift.
 */
struct tm_period {
	int months; /* > 0: calendar months */
	int64_t ms; /* else a fixed duration in ms (> 0) */
};

/* Parse "Nmo", "Ny" or a duration as tm_parse_duration (must be > 0). */
enum terr tm_parse_period(const char *s, struct tm_period *out);

/* anchor + n periods (n >= 0), in ms. */
int64_t tm_add_periods(int64_t anchor, const struct tm_period *p, int64_t n);

/* The first anchor + k periods (k >= 1) strictly after t (t >= anchor). */
int64_t tm_next_after(int64_t anchor, const struct tm_period *p, int64_t t);

#endif
