#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/text.h"
#include "base/tm.h"

int64_t
tm_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
tm_iso(int64_t ms, char out[TM_ISO_SIZE])
{
	time_t secs = (time_t)(ms / 1000);
	int frac = (int)(ms % 1000);
	struct tm tm;

	if (frac < 0) {
		frac += 1000;
		secs -= 1;
	}
	if (gmtime_r(&secs, &tm) == NULL) {
		snprintf(out, TM_ISO_SIZE, "invalid");
		return;
	}
	if (frac == 0)
		strftime(out, TM_ISO_SIZE, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else {
		char base[TM_ISO_SIZE];
		strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(out, TM_ISO_SIZE, "%.20s.%03dZ", base, frac);
	}
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), H. Hinnant's algorithm. */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* A fixed-width field of digits only (RFC 3339 5.6: no sign, no space). */
static enum terr
field(const char *s, size_t off, size_t n, int64_t min, int64_t max, int64_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[off + i] < '0' || s[off + i] > '9')
			return TERR_INVAL;
	return text_i64(s + off, n, min, max, out);
}

static int
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

enum terr
tm_parse(const char *s, int64_t *ms)
{
	size_t n = strlen(s);
	int64_t y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, v;
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (n > 1 && s[0] == '@') {
		if (text_i64(s + 1, n - 1, 0, INT64_MAX / 1000, &v) != TERR_OK)
			return TERR_INVAL;
		*ms = v * 1000;
		return TERR_OK;
	}
	if (n < 10 || s[4] != '-' || s[7] != '-')
		return TERR_INVAL;
	if (field(s, 0, 4, 1970, 9999, &y) || field(s, 5, 2, 1, 12, &mo) ||
	    field(s, 8, 2, 1, mo == 2 && !leap(y) ? 28 : mdays[mo - 1], &d))
		return TERR_INVAL;
	if (n > 10) {
		if (n < 20 || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
			return TERR_INVAL;
		if (field(s, 11, 2, 0, 23, &h) || field(s, 14, 2, 0, 59, &mi) ||
		    field(s, 17, 2, 0, 59, &sec))
			return TERR_INVAL;
		if (s[19] == '.') {
			if (n != 24 || s[23] != 'Z' || field(s, 20, 3, 0, 999, &frac))
				return TERR_INVAL;
		} else if (n != 20 || s[19] != 'Z')
			return TERR_INVAL;
	}
	*ms = ((days_from_civil(y, mo, d) * 86400) + h * 3600 + mi * 60 + sec) * 1000 + frac;
	return TERR_OK;
}

enum terr
tm_parse_duration(const char *s, int64_t *ms)
{
	size_t n = strlen(s);
	int64_t unit = 1000, v;

	if (n == 0)
		return TERR_INVAL;
	switch (s[n - 1]) {
	case 's':
		unit = 1000;
		n--;
		break;
	case 'm':
		unit = 60 * 1000;
		n--;
		break;
	case 'h':
		unit = 3600 * 1000;
		n--;
		break;
	case 'd':
		unit = 86400 * 1000;
		n--;
		break;
	default: break;
	}
	if (text_i64(s, n, 0, (int64_t)3660 * 86400 * 1000 / unit, &v) != TERR_OK)
		return TERR_INVAL;
	*ms = v * unit;
	return TERR_OK;
}

enum terr
tm_parse_period(const char *s, struct tm_period *out)
{
	size_t n = strlen(s);
	int64_t v;

	memset(out, 0, sizeof(*out));
	if (n > 2 && strcmp(s + n - 2, "mo") == 0) {
		if (text_i64(s, n - 2, 1, 1200, &v) != TERR_OK)
			return TERR_INVAL;
		out->months = (int)v;
		return TERR_OK;
	}
	if (n > 1 && s[n - 1] == 'y') {
		if (text_i64(s, n - 1, 1, 100, &v) != TERR_OK)
			return TERR_INVAL;
		out->months = (int)v * 12;
		return TERR_OK;
	}
	if (tm_parse_duration(s, &out->ms) != TERR_OK || out->ms <= 0)
		return TERR_INVAL;
	return TERR_OK;
}

static int
days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	return month == 1 && leap ? 29 : days[month];
}

int64_t
tm_add_periods(int64_t anchor, const struct tm_period *p, int64_t n)
{
	time_t secs;
	struct tm tm;
	int64_t frac, months, day;

	if (p->months <= 0)
		return anchor + p->ms * n;
	frac = anchor % 1000;
	if (frac < 0)
		frac += 1000;
	secs = (time_t)((anchor - frac) / 1000);
	if (gmtime_r(&secs, &tm) == NULL)
		return anchor;
	months = (int64_t)tm.tm_mon + (int64_t)p->months * n;
	tm.tm_year += (int)(months / 12);
	tm.tm_mon = (int)(months % 12);
	day = tm.tm_mday;
	if (day > days_in_month(tm.tm_year + 1900, tm.tm_mon))
		tm.tm_mday = days_in_month(tm.tm_year + 1900, tm.tm_mon);
	return (int64_t)timegm(&tm) * 1000 + frac;
}

int64_t
tm_next_after(int64_t anchor, const struct tm_period *p, int64_t t)
{
	int64_t k, at;

	if (p->months <= 0) {
		k = (t - anchor) / p->ms + 1;
		return anchor + k * p->ms;
	}
	/* Months vary in length: start from 31-day months (never too many), then step up. */
	k = (t - anchor) / ((int64_t)31 * 86400 * 1000 * p->months);
	if (k < 1)
		k = 1;
	while ((at = tm_add_periods(anchor, p, k)) <= t)
		k++;
	return at;
}
