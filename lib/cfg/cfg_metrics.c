/*
 * The configuration section of the metrics (metrics; docs/metrics.md,
 * "A reporting currency"): the currency the reports add every currency up
 * in, and the exchange rates to it, each in force from its date:
 *
 *   "metrics": { "currency": "USD",
 *                "rates": { "EUR": { "2026-01-01": "1.0825", "2026-02-01": "1.0790" },
 *                           "JPY": { "2026-01-01": "0.0067" } } }
 *
 * A rate is a decimal string (JSON numbers are binary floating point: 1.0825
 * is not exactly what the operator wrote): one major unit of the currency is
 * worth that many major units of the reporting currency.
 */
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/money.h"
#include "base/text.h"
#include "base/tm.h"
#include "cfg/cfg_metrics.h"
#include "cfg/cfg_read.h"

/* Digits of a rate: 18 keep num * 10^8 * amount computable in 128 bits (kpi.c). */
#define RATE_DIGITS_MAX 18

/* "1.0825" into num 10825, scale 4; TERR_INVAL unless digits with at most one point, > 0. */
static enum terr
rate_parse(const char *s, int64_t *num, int *scale)
{
	int digits = 0, point = -1, i;
	int64_t v = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] == '.' && point < 0 && i > 0) {
			point = i;
			continue;
		}
		if (s[i] < '0' || s[i] > '9' || ++digits > RATE_DIGITS_MAX)
			return TERR_INVAL;
		v = v * 10 + (s[i] - '0');
	}
	if (digits == 0 || (point >= 0 && point == i - 1) || v <= 0)
		return TERR_INVAL;
	*num = v;
	*scale = point < 0 ? 0 : i - point - 1;
	return TERR_OK;
}

static int
rate_cmp(const void *a, const void *b)
{
	const struct cfg_rate *x = a, *y = b;
	int c = strcmp(x->currency, y->currency);

	if (c != 0)
		return c;
	return x->day < y->day ? -1 : x->day > y->day;
}

/* The rates of one currency: an object of "YYYY-MM-DD": "rate". */
static enum terr
parse_currency(struct cfg_metrics *m, const cJSON *cur, char *why, size_t size)
{
	const cJSON *d;
	struct cfg_rate *r;
	int64_t ms;

	if (!money_currency_valid(cur->string))
		return cfg_fail(why, size,
		    "config: metrics.rates.%s: expected a currency code in capitals (EUR, JPY, "
		    "XTR ...)",
		    cur->string);
	if (strcmp(cur->string, m->currency) == 0)
		return cfg_fail(why, size,
		    "config: metrics.rates.%s: the reporting currency needs no rate", cur->string);
	if (!cJSON_IsObject(cur) || cur->child == NULL)
		return cfg_fail(why, size,
		    "config: metrics.rates.%s: expected an object of \"YYYY-MM-DD\": \"rate\"",
		    cur->string);
	for (d = cur->child; d != NULL; d = d->next) {
		if (m->nrates == RATES_MAX)
			return cfg_fail(why, size, "config: metrics.rates: more than %d rates",
			    RATES_MAX);
		r = &m->rates[m->nrates];
		memset(r, 0, sizeof(*r));
		if (strlen(d->string) != 10 || tm_parse(d->string, &ms) != TERR_OK || ms < 0)
			return cfg_fail(why, size,
			    "config: metrics.rates.%s.%s: expected a date YYYY-MM-DD", cur->string,
			    d->string);
		if (!cJSON_IsString(d) || strlen(d->valuestring) >= sizeof(r->text) ||
		    rate_parse(d->valuestring, &r->num, &r->scale) != TERR_OK)
			return cfg_fail(why, size,
			    "config: metrics.rates.%s.%s: expected a rate as a decimal string "
			    "(\"1.0825\": what one %s is worth in %s), more than zero, at most %d "
			    "digits",
			    cur->string, d->string, cur->string, m->currency, RATE_DIGITS_MAX);
		text_copy(r->currency, sizeof(r->currency), cur->string);
		text_copy(r->text, sizeof(r->text), d->valuestring);
		r->day = ms / 86400000;
		m->nrates++;
	}
	return TERR_OK;
}

enum terr
cfg_parse_metrics(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "currency", "rates", NULL };
	struct cfg_metrics *m = &c->metrics;
	const cJSON *rates, *cur;
	size_t i;
	enum terr rc;

	free(m->rates);
	memset(m, 0, sizeof(*m));
	if ((rc = cfg_section(o, "metrics", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "currency", "metrics", m->currency, sizeof(m->currency), why,
		 size)) != TERR_OK)
		return rc;
	if (m->currency[0] != '\0' && !money_currency_valid(m->currency))
		return cfg_fail(why, size,
		    "config: metrics.currency: expected a currency code in capitals (USD, EUR "
		    "...)");
	if ((rates = jget(o, "rates")) == NULL)
		return TERR_OK;
	if (m->currency[0] == '\0')
		return cfg_fail(why, size,
		    "config: metrics.rates: rates need metrics.currency, the currency they convert "
		    "to");
	if (!cJSON_IsObject(rates))
		return cfg_fail(why, size,
		    "config: metrics.rates: expected an object of currency: {date: rate}");
	if ((m->rates = calloc(RATES_MAX, sizeof(*m->rates))) == NULL)
		return TERR_NOMEM;
	for (cur = rates->child; cur != NULL; cur = cur->next)
		if ((rc = parse_currency(m, cur, why, size)) != TERR_OK)
			return rc;
	qsort(m->rates, m->nrates, sizeof(*m->rates), rate_cmp);
	for (i = 1; i < m->nrates; i++)
		if (rate_cmp(&m->rates[i - 1], &m->rates[i]) == 0)
			return cfg_fail(why, size, "config: metrics.rates.%s: one date twice",
			    m->rates[i].currency);
	return TERR_OK;
}

const struct cfg_rate *
cfg_rate_on(const struct cfg *c, const char *currency, int64_t day)
{
	const struct cfg_rate *best = NULL;
	size_t i;

	/* A few currencies of a few dates each: a walk is enough. */
	for (i = 0; i < c->metrics.nrates; i++) {
		const struct cfg_rate *r = &c->metrics.rates[i];
		if (strcmp(r->currency, currency) == 0 && r->day <= day)
			best = r;
	}
	return best;
}
