#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "cfg/cfg.h"
#include "cfg/cfg_catalog.h"
#include "cfg/cfg_console.h"
#include "cfg/cfg_direct.h"
#include "cfg/cfg_jobs.h"
#include "cfg/cfg_metrics.h"
#include "cfg/cfg_providers.h"
#include "cfg/cfg_read.h"
#include "crypto/crypto.h"

#define DEFAULT_DB     "/var/lib/tally/tally.db"
#define DEFAULT_CONFIG "/etc/tally/tally.json"

void
cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	text_copy(c->db_path, sizeof(c->db_path), DEFAULT_DB);
	text_copy(c->config_path, sizeof(c->config_path), DEFAULT_CONFIG);
	c->stripe.tolerance = (int64_t)STRIPE_TOLERANCE_DEFAULT * 1000;
	text_copy(c->stripe.user_key, sizeof(c->stripe.user_key), "user_id");
	text_copy(c->stripe.product_key, sizeof(c->stripe.product_key), "product");
	text_copy(c->stripe.api_base, sizeof(c->stripe.api_base), "https://api.stripe.com");
	c->policy.grace = (int64_t)7 * 86400 * 1000;
	c->policy.leeway = (int64_t)86400 * 1000;
	c->http.timeout = 10 * 1000;
	c->http.connect_timeout = 5 * 1000;
	text_copy(c->apple.api_base, sizeof(c->apple.api_base), "https://api.storekit.apple.com");
	text_copy(c->apple.api_sandbox_base, sizeof(c->apple.api_sandbox_base),
	    "https://api.storekit-sandbox.apple.com");
	text_copy(c->revenuecat.api_base, sizeof(c->revenuecat.api_base),
	    "https://api.revenuecat.com");
	text_copy(c->google.certs_url, sizeof(c->google.certs_url),
	    "https://www.googleapis.com/oauth2/v3/certs");
	text_copy(c->google.api_base, sizeof(c->google.api_base),
	    "https://androidpublisher.googleapis.com");
	text_copy(c->google.token_url, sizeof(c->google.token_url),
	    "https://oauth2.googleapis.com/token");
	cfg_direct_defaults(c);
	cfg_jobs_defaults(c);
	cfg_console_defaults(c);
}

void
cfg_release(struct cfg *c)
{
	crypto_wipe(c->apple.private_key, sizeof(c->apple.private_key));
	crypto_wipe(c->revenuecat.auth, sizeof(c->revenuecat.auth));
	crypto_wipe(c->revenuecat.api_key, sizeof(c->revenuecat.api_key));
	crypto_wipe(c->stripe.secrets, sizeof(c->stripe.secrets));
	crypto_wipe(c->stripe.api_key, sizeof(c->stripe.api_key));
	crypto_wipe(c->api.jwt_secrets, sizeof(c->api.jwt_secrets));
	crypto_wipe(c->razorpay.key_secret, sizeof(c->razorpay.key_secret));
	crypto_wipe(c->razorpay.secrets, sizeof(c->razorpay.secrets));
	c->razorpay.nsecrets = 0;
	crypto_wipe(c->telegram.bot_token, sizeof(c->telegram.bot_token));
	crypto_wipe(c->telegram.webhook_secret, sizeof(c->telegram.webhook_secret));
	crypto_wipe(c->telegram.provider_token, sizeof(c->telegram.provider_token));
	crypto_wipe(c->cryptobot.token, sizeof(c->cryptobot.token));
	crypto_wipe(c->google.identity_key, sizeof(c->google.identity_key));
	c->api.njwt = 0;
	c->stripe.nsecrets = 0;
	free(c->products);
	c->products = NULL;
	c->nproducts = 0;
	free(c->metrics.rates);
	c->metrics.rates = NULL;
	c->metrics.nrates = 0;
}

/* Checks across sections, once all are read: products named by free_tier, trial ... */
static enum terr
cfg_check(struct cfg *c, char *why, size_t size)
{
	const struct product *p;
	size_t i;

	for (i = 0; i < c->nproducts; i++) {
		p = &c->products[i];
		if (p->balance_low.credits == 0 && p->balance_low.percent == 0)
			continue;
		if (!c->balance_alerts.enabled)
			return cfg_fail(why, size,
			    "config: products.%s.balance_low: needs the balance_alerts section "
			    "(balance alerts are off without it)",
			    p->id);
		c->balance_alerts.by_plan = 1;
	}
	if (c->balance_alerts.low.percent > 0)
		c->balance_alerts.by_plan = 1;
	if (c->balance_alerts.enabled && c->jobs.webhook_url[0] == '\0')
		return cfg_fail(why, size,
		    "config: balance_alerts: needs deliver.webhook_url (balance.low and "
		    "balance.empty are sent to the app's webhook)");
	if (c->trial.enabled) {
		if ((p = cfg_product(c, c->trial.product)) == NULL ||
		    p->kind != PRODUCT_SUBSCRIPTION)
			return cfg_fail(why, size,
			    "config: trial.product: %s is not a subscription product of the "
			    "catalog",
			    c->trial.product);
	}
	return TERR_OK;
}

/*
 * The config file's sections, in the order they are read (the catalog last:
 * it may refer to what the others set). A new section is one line here and
 * its parser in the module it belongs to, declared in that module's header
 * (cfg_catalog.h, cfg_providers.h ...).
 */
static const struct section {
	const char *key;
	enum terr (*parse)(struct cfg *c, const cJSON *o, char *why, size_t size);
} sections[] = {
	{ "stripe", cfg_parse_stripe },
	{ "policy", cfg_parse_policy },
	{ "http", cfg_parse_http },
	{ "apple", cfg_parse_apple },
	{ "revenuecat", cfg_parse_revenuecat },
	{ "google", cfg_parse_google },
	{ "free_tier", cfg_parse_free_tier },
	{ "trial", cfg_parse_trial },
	{ "checkout", cfg_parse_checkout },
	{ "razorpay", cfg_parse_razorpay },
	{ "telegram", cfg_parse_telegram },
	{ "cryptobot", cfg_parse_cryptobot },
	{ "referrals", cfg_parse_referrals },
	{ "reminders", cfg_parse_reminders },
	{ "deliver", cfg_parse_deliver },
	{ "console", cfg_parse_console },
	{ "balance_alerts", cfg_parse_balance_alerts },
	{ "metrics", cfg_parse_metrics },
	{ "products", cfg_parse_products },
};

#define NSECTIONS (sizeof(sections) / sizeof(sections[0]))

enum terr
cfg_parse(struct cfg *c, const char *text, size_t n, char *why, size_t size)
{
	cJSON *root = NULL;
	const cJSON *o;
	const char *jwhy;
	size_t i;
	enum terr rc;

	if (json_parse(text, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		rc = cfg_fail(why, size, "config: %s: %s", c->config_path, jwhy);
		goto out;
	}
	if (!cJSON_IsObject(root)) {
		rc = cfg_fail(why, size, "config: %s: expected a JSON object", c->config_path);
		goto out;
	}
	for (o = root->child; o != NULL; o = o->next) {
		for (i = 0; i < NSECTIONS && strcmp(o->string, sections[i].key) != 0; i++)
			;
		if (i == NSECTIONS) {
			rc = cfg_fail(why, size, "config: %s: unknown key", o->string);
			goto out;
		}
	}
	for (i = 0; i < NSECTIONS; i++)
		if ((o = jget(root, sections[i].key)) != NULL &&
		    (rc = sections[i].parse(c, o, why, size)) != TERR_OK)
			goto out;
	rc = cfg_check(c, why, size);
out:
	cJSON_Delete(root);
	return rc;
}

static enum terr
read_file(const char *path, struct buf *b, char *why, size_t size)
{
	char chunk[8192];
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return TERR_IO;
	}
	for (;;) {
		r = read(fd, chunk, sizeof(chunk));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf_append(b, chunk, (size_t)r);
	}
	close(fd);
	if (r < 0) {
		snprintf(why, size, "%s: %s", path, strerror(errno));
		return TERR_IO;
	}
	if (b->err != TERR_OK) {
		snprintf(why, size, "%s: larger than %zu bytes", path, b->max);
		return b->err;
	}
	return TERR_OK;
}

enum terr
cfg_secret(const char *name, char *out, size_t outsize, char *why, size_t size)
{
	char fname[CFG_NAME_MAX + 8];
	const char *v, *f;
	struct buf b;
	enum terr rc;

	out[0] = '\0';
	snprintf(fname, sizeof(fname), "%s_FILE", name);
	v = getenv(name);
	f = getenv(fname);
	if (v != NULL && *v != '\0' && f != NULL && *f != '\0')
		return cfg_fail(why, size, "%s and %s are both set: set one", name, fname);
	if (v != NULL && *v != '\0') {
		if (text_copy(out, outsize, v) != TERR_OK)
			return cfg_fail(why, size, "%s: longer than %zu bytes", name, outsize - 1);
		return TERR_OK;
	}
	if (f == NULL || *f == '\0')
		return TERR_OK;
	/* Room for the secret and one line ending, which is not part of it. */
	buf_init(&b, outsize + 1);
	if ((rc = read_file(f, &b, why, size)) != TERR_OK) {
		crypto_wipe(b.p, b.cap);
		buf_release(&b);
		return rc == TERR_TOOBIG ? cfg_fail(why, size, "%s: secret file too large", fname)
					 : rc;
	}
	if (b.len > 0 && b.p[b.len - 1] == '\n')
		b.len--;
	if (b.len > 0 && b.p[b.len - 1] == '\r')
		b.len--;
	if (b.len >= outsize) {
		crypto_wipe(b.p, b.cap);
		buf_release(&b);
		return cfg_fail(why, size, "%s: secret file too large", fname);
	}
	text_copyn(out, outsize, buf_cstr(&b), b.len);
	crypto_wipe(b.p, b.cap);
	buf_release(&b);
	return TERR_OK;
}

/*
 * What every entry of a secret's rotation list must be (docs/configuration.md
 * and each provider's page), checked at start so that a weak or mistyped secret stops
 * the process instead of signing or accepting anything. Messages name the
 * variable and the entry's place in the list, never its bytes.
 */
struct secret_rule {
	size_t min;         /* bytes, at least */
	const char *prefix; /* the entry starts with it (and has more), or NULL */
	const char *expect; /* "expected ..." in the message */
};

/* Stripe's endpoint signing secrets are "whsec_..." (Stripe docs, "Check the webhook signatures"). */
static const struct secret_rule stripe_webhook_rule = { 7, "whsec_",
	"whsec_ and the endpoint's signing secret (a Stripe API key is not one)" };
/*
 * RFC 7518 3.2: "A key of the same size as the hash output (for instance,
 * 256 bits for "HS256") or larger MUST be used with this algorithm."
 */
static const struct secret_rule jwt_rule = { 32, NULL,
	"at least 32 bytes (RFC 7518 3.2: a key as long as the SHA-256 output)" };
/* Razorpay's webhook secret is whatever the Dashboard was given: only not empty. */
static const struct secret_rule any_rule = { 1, NULL, "a secret" };

/*
 * Split "a,b" into up to SECRETS_MAX secrets (rotation: old and new at once),
 * each checked against rule. Entries are counted as written, from 1; empty
 * ones (", ,") are skipped.
 */
static enum terr
split_secrets(const char *name, const char *all, const struct secret_rule *rule,
    char out[][SECRET_MAX], size_t *n, char *why, size_t size)
{
	const char *p = all, *comma;
	size_t len, pos = 0, plen = rule->prefix != NULL ? strlen(rule->prefix) : 0;

	*n = 0;
	while (*p != '\0') {
		pos++;
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		while (len > 0 && (*p == ' ')) {
			p++;
			len--;
		}
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len > 0) {
			if (*n == SECRETS_MAX)
				return cfg_fail(why, size, "%s: more than %d secrets", name,
				    SECRETS_MAX);
			if (len < rule->min ||
			    (plen > 0 && (len <= plen || strncmp(p, rule->prefix, plen) != 0)))
				return cfg_fail(why, size,
				    "%s: secret %zu of the list: expected %s", name, pos,
				    rule->expect);
			text_copyn(out[(*n)++], SECRET_MAX, p, len);
		}
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return TERR_OK;
}

/* A rotation list NAME (or NAME_FILE) into out[], each entry checked against rule. */
static enum terr
secret_list(const char *name, const struct secret_rule *rule, char out[][SECRET_MAX], size_t *n,
    char *why, size_t size)
{
	char all[SECRET_MAX];
	enum terr rc;

	if ((rc = cfg_secret(name, all, sizeof(all), why, size)) == TERR_OK)
		rc = split_secrets(name, all, rule, out, n, why, size);
	crypto_wipe(all, sizeof(all));
	if (rc != TERR_OK) {
		crypto_wipe(out, SECRETS_MAX * SECRET_MAX);
		*n = 0;
	}
	return rc;
}

/* TALLY_SYNCHRONOUS (read by lib/store/store.c for each connection): full or normal, nothing else. */
static enum terr
check_synchronous(char *why, size_t size)
{
	const char *v = getenv("TALLY_SYNCHRONOUS");

	if (v == NULL || *v == '\0' || strcmp(v, "full") == 0 || strcmp(v, "normal") == 0)
		return TERR_OK;
	return cfg_fail(why, size, "TALLY_SYNCHRONOUS: expected full or normal");
}

enum terr
cfg_load_env(struct cfg *c, char *why, size_t size)
{
	const char *v;
	enum terr rc;

	cfg_defaults(c);
	if ((v = getenv("TALLY_DB")) != NULL && *v != '\0' &&
	    text_copy(c->db_path, sizeof(c->db_path), v) != TERR_OK)
		return cfg_fail(why, size, "TALLY_DB: path too long");
	/*
	 * A PostgreSQL URI holding a password may come from a file instead
	 * (TALLY_DB_FILE), as every secret may; the store tells a URI from a path.
	 */
	if ((v = getenv("TALLY_DB_FILE")) != NULL && *v != '\0') {
		char uri[CFG_PATH_MAX];
		if ((rc = cfg_secret("TALLY_DB", uri, sizeof(uri), why, size)) != TERR_OK)
			return rc;
		text_copy(c->db_path, sizeof(c->db_path), uri);
		crypto_wipe(uri, sizeof(uri));
	}
	if ((v = getenv("TALLY_CONFIG")) != NULL && *v != '\0' &&
	    text_copy(c->config_path, sizeof(c->config_path), v) != TERR_OK)
		return cfg_fail(why, size, "TALLY_CONFIG: path too long");
	/* A path only: the key file is read (and must be readable) when the API is called. */
	if ((v = getenv("GOOGLE_SERVICE_ACCOUNT_FILE")) != NULL && *v != '\0' &&
	    (!text_id_valid(v, sizeof(c->google.sa_file) - 1) ||
		text_copy(c->google.sa_file, sizeof(c->google.sa_file), v) != TERR_OK))
		return cfg_fail(why, size,
		    "GOOGLE_SERVICE_ACCOUNT_FILE: expected a path of at most %zu bytes",
		    sizeof(c->google.sa_file) - 1);

	if ((rc = check_synchronous(why, size)) != TERR_OK ||
	    (rc = secret_list("STRIPE_WEBHOOK_SECRET", &stripe_webhook_rule, c->stripe.secrets,
		 &c->stripe.nsecrets, why, size)) != TERR_OK ||
	    (rc = cfg_secret("APPLE_PRIVATE_KEY", c->apple.private_key,
		 sizeof(c->apple.private_key), why, size)) != TERR_OK ||
	    (rc = cfg_secret("REVENUECAT_WEBHOOK_AUTH", c->revenuecat.auth,
		 sizeof(c->revenuecat.auth), why, size)) != TERR_OK ||
	    (rc = cfg_secret("REVENUECAT_API_KEY", c->revenuecat.api_key,
		 sizeof(c->revenuecat.api_key), why, size)) != TERR_OK ||
	    (rc = cfg_secret("STRIPE_API_KEY", c->stripe.api_key, sizeof(c->stripe.api_key), why,
		 size)) != TERR_OK)
		return rc;
	if ((rc = secret_list("TALLY_JWT_SECRET", &jwt_rule, c->api.jwt_secrets, &c->api.njwt, why,
		 size)) != TERR_OK ||
	    (rc = secret_list("RAZORPAY_WEBHOOK_SECRET", &any_rule, c->razorpay.secrets,
		 &c->razorpay.nsecrets, why, size)) != TERR_OK ||
	    (rc = cfg_secret("RAZORPAY_KEY_SECRET", c->razorpay.key_secret,
		 sizeof(c->razorpay.key_secret), why, size)) != TERR_OK ||
	    (rc = cfg_secret("TELEGRAM_BOT_TOKEN", c->telegram.bot_token,
		 sizeof(c->telegram.bot_token), why, size)) != TERR_OK ||
	    (rc = cfg_secret("TELEGRAM_WEBHOOK_SECRET", c->telegram.webhook_secret,
		 sizeof(c->telegram.webhook_secret), why, size)) != TERR_OK ||
	    (rc = cfg_secret("TELEGRAM_PROVIDER_TOKEN", c->telegram.provider_token,
		 sizeof(c->telegram.provider_token), why, size)) != TERR_OK ||
	    (rc = cfg_secret("CRYPTOBOT_TOKEN", c->cryptobot.token, sizeof(c->cryptobot.token), why,
		 size)) != TERR_OK ||
	    (rc = cfg_secret("GOOGLE_IDENTITY_KEY", c->google.identity_key,
		 sizeof(c->google.identity_key), why, size)) != TERR_OK ||
	    (rc = cfg_direct_check_env(c, why, size)) != TERR_OK)
		return rc;
	return TERR_OK;
}

enum terr
cfg_load(struct cfg *c, char *why, size_t size)
{
	struct buf b;
	enum terr rc;

	if ((rc = cfg_load_env(c, why, size)) != TERR_OK)
		return rc;
	buf_init(&b, CONFIG_MAX);
	if ((rc = read_file(c->config_path, &b, why, size)) != TERR_OK) {
		char inner[256];
		snprintf(inner, sizeof(inner), "%s", why);
		snprintf(why, size, "TALLY_CONFIG: cannot read the config file: %s", inner);
		buf_release(&b);
		return TERR_CONFIG;
	}
	rc = cfg_parse(c, buf_cstr(&b), b.len, why, size);
	buf_release(&b);
	return rc;
}

const struct product *
cfg_match(const struct cfg *c, const char *provider, const char *ext_id)
{
	size_t i, j;

	for (i = 0; i < c->nproducts; i++)
		for (j = 0; j < c->products[i].nmatch; j++)
			if (strcmp(c->products[i].match[j].id, ext_id) == 0 &&
			    strcmp(c->products[i].match[j].provider, provider) == 0)
				return &c->products[i];
	return NULL;
}

const struct product *
cfg_product(const struct cfg *c, const char *id)
{
	size_t i;

	for (i = 0; i < c->nproducts; i++)
		if (strcmp(c->products[i].id, id) == 0)
			return &c->products[i];
	return NULL;
}

const char *
product_kind_str(enum product_kind k)
{
	return k == PRODUCT_PACK ? "pack" : "subscription";
}
