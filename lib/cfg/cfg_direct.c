/*
 * Configuration sections of the direct providers (razorpay, telegram,
 * cryptobot) and of referral rewards (referrals): see cfg.h for the fields
 * and docs/ for the keys. Their secrets come from the environment
 * (cfg.c cfg_load_env), never from the file.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "cfg/cfg_direct.h"
#include "cfg/cfg_read.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS  (24 * HOUR_MS)

/*
 * How long a pending order may be paid: at least a minute (a shorter one
 * expires while the user types), at most 31 days (CryptoBot's createInvoice
 * takes expires_in up to 2678400 s; the same bound for all keeps one rule).
 */
#define TTL_MIN_MS (60LL * 1000)
#define TTL_MAX_MS (31 * DAY_MS)

#define CRYPTOBOT_MAINNET "https://pay.crypt.bot"
#define CRYPTOBOT_TESTNET "https://testnet-pay.crypt.bot"

void
cfg_direct_defaults(struct cfg *c)
{
	text_copy(c->razorpay.api_base, sizeof(c->razorpay.api_base), "https://api.razorpay.com");
	c->razorpay.order_ttl = HOUR_MS;
	/* Razorpay requires total_count; 120 monthly cycles is ten years. */
	c->razorpay.subscription_cycles = 120;
	text_copy(c->telegram.api_base, sizeof(c->telegram.api_base), "https://api.telegram.org");
	c->telegram.invoice_ttl = DAY_MS;
	text_copy(c->cryptobot.api_base, sizeof(c->cryptobot.api_base), CRYPTOBOT_MAINNET);
	c->cryptobot.tolerance = HOUR_MS;
	c->cryptobot.invoice_ttl = HOUR_MS;
}

static enum terr
check_ttl(int64_t ttl, const char *path, char *why, size_t size)
{
	if (ttl < TTL_MIN_MS || ttl > TTL_MAX_MS)
		return cfg_fail(why, size, "config: %s: expected a duration from 60s to 31d", path);
	return TERR_OK;
}

enum terr
cfg_parse_razorpay(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "key_id", "api_base", "test_mode", "order_ttl",
		"subscription_cycles", NULL };
	struct cfg_razorpay *r = &c->razorpay;
	enum terr rc;

	if ((rc = cfg_section(o, "razorpay", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_name(o, "key_id", "razorpay", r->key_id, sizeof(r->key_id), why, size)) !=
		TERR_OK ||
	    (rc = cfg_get_url(o, "api_base", "razorpay", r->api_base, sizeof(r->api_base), why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_bool(o, "test_mode", "razorpay", &r->test_mode, why, size)) != TERR_OK ||
	    (rc = cfg_get_duration(o, "order_ttl", "razorpay", &r->order_ttl, why, size)) !=
		TERR_OK ||
	    (rc = cfg_get_int(o, "subscription_cycles", "razorpay", 1, 1200,
		 &r->subscription_cycles, why, size)) != TERR_OK)
		return rc;
	/* Razorpay's key ids: rzp_test_... (test mode), rzp_live_... (api/authentication.md). */
	if (r->key_id[0] != '\0' &&
	    !((strncmp(r->key_id, "rzp_live_", 9) == 0 && r->key_id[9] != '\0') ||
		(strncmp(r->key_id, "rzp_test_", 9) == 0 && r->key_id[9] != '\0')))
		return cfg_fail(why, size,
		    "config: razorpay.key_id: expected a Razorpay key id (rzp_live_... or "
		    "rzp_test_...)");
	return check_ttl(r->order_ttl, "razorpay.order_ttl", why, size);
}

enum terr
cfg_parse_telegram(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "api_base", "invoice_ttl", NULL };
	struct cfg_telegram *t = &c->telegram;
	enum terr rc;

	if ((rc = cfg_section(o, "telegram", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "api_base", "telegram", t->api_base, sizeof(t->api_base), why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_duration(o, "invoice_ttl", "telegram", &t->invoice_ttl, why, size)) !=
		TERR_OK)
		return rc;
	return check_ttl(t->invoice_ttl, "telegram.invoice_ttl", why, size);
}

enum terr
cfg_parse_cryptobot(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "api_base", "testnet", "tolerance", "invoice_ttl",
		NULL };
	struct cfg_cryptobot *k = &c->cryptobot;
	enum terr rc;

	if ((rc = cfg_section(o, "cryptobot", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_bool(o, "testnet", "cryptobot", &k->testnet, why, size)) != TERR_OK)
		return rc;
	/* A testnet app talks to the testnet API (Crypto Pay API "Testnet") unless told otherwise. */
	if (k->testnet)
		text_copy(k->api_base, sizeof(k->api_base), CRYPTOBOT_TESTNET);
	if ((rc = cfg_get_url(o, "api_base", "cryptobot", k->api_base, sizeof(k->api_base), why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_duration(o, "tolerance", "cryptobot", &k->tolerance, why, size)) !=
		TERR_OK ||
	    (rc = cfg_get_duration(o, "invoice_ttl", "cryptobot", &k->invoice_ttl, why, size)) !=
		TERR_OK)
		return rc;
	if (k->tolerance < 1000 || k->tolerance > DAY_MS)
		return cfg_fail(why, size,
		    "config: cryptobot.tolerance: expected a duration from 1s to 1d");
	return check_ttl(k->invoice_ttl, "cryptobot.invoice_ttl", why, size);
}

/* One element of referrals.levels: {"referrals": N, "percent": P}. */
static enum terr
parse_level(struct cfg_referrals *r, const cJSON *l, size_t i, char *why, size_t size)
{
	static const char *const keys[] = { "referrals", "percent", NULL };
	char path[48];
	int64_t n = -1, pct = -1;
	enum terr rc;

	snprintf(path, sizeof(path), "referrals.levels[%zu]", i);
	if ((rc = cfg_section(l, path, keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_int(l, "referrals", path, 0, 1000000, &n, why, size)) != TERR_OK ||
	    (rc = cfg_get_int(l, "percent", path, 1, 100, &pct, why, size)) != TERR_OK)
		return rc;
	if (n < 0 || pct < 0)
		return cfg_fail(why, size, "config: %s: needs referrals and percent", path);
	/* Levels climb: each asks more paying referrals than the one before. */
	if (r->nlevels > 0 && n <= r->levels[r->nlevels - 1].min_referrals)
		return cfg_fail(why, size,
		    "config: %s.referrals: levels must be in increasing order of referrals", path);
	r->levels[r->nlevels].min_referrals = n;
	r->levels[r->nlevels].percent = pct;
	r->nlevels++;
	return TERR_OK;
}

enum terr
cfg_parse_referrals(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "enabled", "levels", "cap", NULL };
	struct cfg_referrals *r = &c->referrals;
	const size_t max = sizeof(r->levels) / sizeof(r->levels[0]);
	const cJSON *levels, *l;
	enum terr rc;

	r->enabled = 1;
	if ((rc = cfg_section(o, "referrals", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_bool(o, "enabled", "referrals", &r->enabled, why, size)) != TERR_OK ||
	    (rc = cfg_get_int(o, "cap", "referrals", 0, CREDITS_MAX * 1000, &r->cap, why, size)) !=
		TERR_OK)
		return rc;
	if ((levels = jget(o, "levels")) == NULL || !cJSON_IsArray(levels) ||
	    cJSON_GetArraySize(levels) == 0)
		return cfg_fail(why, size,
		    "config: referrals.levels: expected an array of {\"referrals\": N, "
		    "\"percent\": "
		    "P}");
	if ((size_t)cJSON_GetArraySize(levels) > max)
		return cfg_fail(why, size, "config: referrals.levels: more than %zu levels", max);
	cJSON_ArrayForEach (l, levels)
		if ((rc = parse_level(r, l, r->nlevels, why, size)) != TERR_OK)
			return rc;
	return TERR_OK;
}

/* setWebhook secret_token: 1-256 characters of A-Z a-z 0-9 _ - (Bot API). */
static int
token_alphabet(const char *s)
{
	size_t n = strlen(s), i;

	if (n == 0 || n > 256)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

enum terr
cfg_direct_check_env(const struct cfg *c, char *why, size_t size)
{
	/* A token Telegram cannot send would refuse every update: say so at start. */
	if (c->telegram.webhook_secret[0] != '\0' && !token_alphabet(c->telegram.webhook_secret))
		return cfg_fail(why, size,
		    "TELEGRAM_WEBHOOK_SECRET: 1 to 256 characters of A-Z, a-z, 0-9, _ and - "
		    "(setWebhook secret_token)");
	return TERR_OK;
}
