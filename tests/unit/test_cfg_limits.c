/*
 * Every constraint docs/ documents on a variable or a config key is
 * checked at start (lib/cfg*.c), for each entry of a secret's rotation list,
 * with a message naming the variable or key (and the entry's place) and
 * never a secret's bytes. The environment through cfg_load_env, the file
 * through cfg_parse, as tests/unit/test_cfg.c does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "t.h"
#include "t_cfg.h"

/* 32 and 31 bytes: RFC 7518 3.2's minimum for HS256 and one short of it. */
#define JWT_32 "0123456789abcdef0123456789ABCDEF"
#define JWT_31 "0123456789abcdef0123456789ABCDE"

static const char *const env_names[] = { "STRIPE_WEBHOOK_SECRET", "TALLY_JWT_SECRET",
	"RAZORPAY_WEBHOOK_SECRET", "TELEGRAM_WEBHOOK_SECRET", "TALLY_SYNCHRONOUS", NULL };

static void
env_clear(void)
{
	char file[64];
	size_t i;

	for (i = 0; env_names[i] != NULL; i++) {
		unsetenv(env_names[i]);
		snprintf(file, sizeof(file), "%s_FILE", env_names[i]);
		unsetenv(file);
	}
}

/* cfg_load_env with name=value as the only setting of ours; the cfg is released. */
static enum terr
env_load(const char *name, const char *value, char *why, size_t whysize)
{
	struct cfg c;
	enum terr rc;

	env_clear();
	setenv(name, value, 1);
	why[0] = '\0';
	rc = cfg_load_env(&c, why, whysize);
	env_clear();
	cfg_release(&c);
	return rc;
}

/*
 * 1 when name=value is refused naming name and want (the entry's place), and
 * the message holds none of secret (a part of the value that must not leak).
 */
static int
env_refused(const char *name, const char *value, const char *want, const char *secret)
{
	char why[512];
	enum terr rc = env_load(name, value, why, sizeof(why));
	int ok = rc == TERR_CONFIG && strstr(why, name) != NULL && strstr(why, want) != NULL &&
	    (secret == NULL || strstr(why, secret) == NULL);

	if (!ok)
		printf("# %s: rc=%d why=\"%s\" (wanted TERR_CONFIG naming \"%s\")\n", name, (int)rc,
		    why, want);
	return ok;
}

static int
env_accepted(const char *name, const char *value)
{
	char why[512];
	enum terr rc = env_load(name, value, why, sizeof(why));

	if (rc != TERR_OK)
		printf("# %s refused: %s\n", name, why);
	return rc == TERR_OK;
}

/* -------------------------------------------------------- TALLY_JWT_SECRET */

TEST(jwt_secret_of_one_byte_is_refused)
{
	CHECK(env_refused("TALLY_JWT_SECRET", "k", "secret 1 of the list: expected at least 32",
	    NULL));
}

TEST(jwt_secret_of_31_bytes_is_refused_without_its_value)
{
	CHECK(env_refused("TALLY_JWT_SECRET", JWT_31, "secret 1", "0123456789"));
}

TEST(jwt_secret_of_32_bytes_is_accepted)
{
	CHECK(env_accepted("TALLY_JWT_SECRET", JWT_32));
}

TEST(jwt_rotation_list_checks_every_entry_naming_its_place)
{
	CHECK(
	    env_refused("TALLY_JWT_SECRET", JWT_32 ", short-new-secret", "secret 2", "short-new"));
	CHECK(
	    env_refused("TALLY_JWT_SECRET", "short-old-secret, " JWT_32, "secret 1", "short-old"));
	/* Places are counted as written: an empty entry still counts. */
	CHECK(env_refused("TALLY_JWT_SECRET", JWT_32 ",," JWT_31, "secret 3", "0123456789"));
}

TEST(jwt_rotation_list_of_two_good_secrets_reads_both)
{
	struct cfg c;
	char why[512] = "";
	enum terr rc;

	env_clear();
	setenv("TALLY_JWT_SECRET", JWT_32 ", " JWT_32 "-new", 1);
	rc = cfg_load_env(&c, why, sizeof(why));
	env_clear();
	if (rc != TERR_OK)
		printf("# %s\n", why);
	CHECK_EQ(rc, TERR_OK);
	CHECK_EQ(c.api.njwt, 2);
	CHECK_STR(c.api.jwt_secrets[0], JWT_32);
	CHECK_STR(c.api.jwt_secrets[1], JWT_32 "-new");
	cfg_release(&c);
}

TEST(jwt_refused_list_leaves_no_secret_behind)
{
	struct cfg c;
	char why[512] = "";
	enum terr rc;

	env_clear();
	setenv("TALLY_JWT_SECRET", JWT_32 ",short", 1);
	rc = cfg_load_env(&c, why, sizeof(why));
	env_clear();
	CHECK_EQ(rc, TERR_CONFIG);
	/* The good first entry was read, then wiped with the rest when the second failed. */
	CHECK_EQ(c.api.njwt, 0);
	CHECK_STR(c.api.jwt_secrets[0], "");
	cfg_release(&c);
}

TEST(jwt_secret_file_is_checked_the_same_way)
{
	char path[] = "/tmp/tally-test-jwt-XXXXXX", why[512];
	static const char text[] = JWT_32 ",file-short\n";
	enum terr rc;
	int fd;

	CHECK((fd = mkstemp(path)) >= 0);
	CHECK(write(fd, text, sizeof(text) - 1) == (ssize_t)(sizeof(text) - 1));
	close(fd);
	rc = env_load("TALLY_JWT_SECRET_FILE", path, why, sizeof(why));
	unlink(path);
	CHECK_EQ(rc, TERR_CONFIG);
	CHECK(strstr(why, "TALLY_JWT_SECRET: secret 2") != NULL);
	CHECK(strstr(why, "file-short") == NULL);
}

/* --------------------------------------------------- STRIPE_WEBHOOK_SECRET */

TEST(stripe_webhook_secret_without_whsec_is_refused)
{
	/* The API key pasted where the endpoint secret belongs. */
	CHECK(env_refused("STRIPE_WEBHOOK_SECRET", "sk_test_51AbCdEf", "secret 1", "51AbCdEf"));
	CHECK(env_refused("STRIPE_WEBHOOK_SECRET", "whsec_", "secret 1", NULL));
	CHECK(env_refused("STRIPE_WEBHOOK_SECRET", "WHSEC_upper", "expected whsec_", "upper"));
}

TEST(stripe_webhook_rotation_list_checks_every_entry)
{
	CHECK(env_refused("STRIPE_WEBHOOK_SECRET", "whsec_old1, sk_live_new2", "secret 2", "new2"));
	CHECK(env_accepted("STRIPE_WEBHOOK_SECRET", "whsec_old1, whsec_new2"));
}

TEST(more_secrets_than_the_limit_are_refused)
{
	/* docs/limits.md: 4 secrets per provider. */
	CHECK(env_refused("STRIPE_WEBHOOK_SECRET", "whsec_1,whsec_2,whsec_3,whsec_4,whsec_5",
	    "more than 4 secrets", "whsec_"));
	CHECK(env_accepted("STRIPE_WEBHOOK_SECRET", "whsec_1,whsec_2,whsec_3,whsec_4"));
}

/* ------------------------------------------------- TELEGRAM_WEBHOOK_SECRET */

TEST(telegram_secret_token_of_257_characters_is_refused_256_accepted)
{
	char tok[258];

	memset(tok, 'a', 257);
	tok[257] = '\0';
	CHECK(env_refused("TELEGRAM_WEBHOOK_SECRET", tok, "1 to 256 characters", "aaaa"));
	tok[256] = '\0';
	CHECK(env_accepted("TELEGRAM_WEBHOOK_SECRET", tok));
	CHECK(env_refused("TELEGRAM_WEBHOOK_SECRET", "xq.zv", "A-Z", "xq"));
}

/* ------------------------------------------------------- TALLY_SYNCHRONOUS */

TEST(synchronous_is_full_or_normal)
{
	CHECK(env_accepted("TALLY_SYNCHRONOUS", "full"));
	CHECK(env_accepted("TALLY_SYNCHRONOUS", "normal"));
	/* A typo must not pass silently, even one that would have meant FULL. */
	CHECK(env_refused("TALLY_SYNCHRONOUS", "NORMAL", "expected full or normal", NULL));
	CHECK(env_refused("TALLY_SYNCHRONOUS", "off", "expected full or normal", NULL));
}

/* ------------------------------------------------------------ config file */

static int
accepted(const char *text)
{
	struct cfg c;
	char why[512];
	enum terr rc = load(&c, text, why, sizeof(why));

	cfg_release(&c);
	if (rc != TERR_OK)
		printf("# %s refused: %s\n", text, why);
	return rc == TERR_OK;
}

TEST(razorpay_key_id_is_rzp_live_or_rzp_test)
{
	CHECK(refused("{\"razorpay\": {\"key_id\": \"rzp_abc\"}}", "razorpay.key_id"));
	CHECK(refused("{\"razorpay\": {\"key_id\": \"rzp_live_\"}}", "razorpay.key_id"));
	CHECK(refused("{\"razorpay\": {\"key_id\": \"rzp_Test_abc\"}}", "razorpay.key_id"));
	CHECK(accepted("{\"razorpay\": {\"key_id\": \"rzp_live_abc\"}}"));
	CHECK(accepted("{\"razorpay\": {\"key_id\": \"rzp_test_abc\"}}"));
}

/* "{"section": {"key": "url"}}" into text. */
static void
url_config(char *text, size_t size, const char *section, const char *key, const char *url)
{
	snprintf(text, size, "{\"%s\": {\"%s\": \"%s\"}}", section, key, url);
}

TEST(urls_need_a_scheme_and_a_host)
{
	static const char *const keys[][2] = { { "deliver", "webhook_url" },
		{ "deliver", "alert_url" }, { "checkout", "success_url" }, { "stripe", "api_base" },
		{ "http", "proxy" }, { "telegram", "api_base" }, { "revenuecat", "api_base" } };
	static const char *const bad[] = { "https://", "http://", "http:///path", "https://?q",
		"https://:443", "ftp://host", "example.com", NULL };
	char text[256];
	size_t i, k;

	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		for (i = 0; bad[i] != NULL; i++) {
			url_config(text, sizeof(text), keys[k][0], keys[k][1], bad[i]);
			CHECK(refused(text, "expected an http:// or https:// URL"));
		}
		url_config(text, sizeof(text), keys[k][0], keys[k][1], "http://127.0.0.1:9/x");
		CHECK(accepted(text));
		url_config(text, sizeof(text), keys[k][0], keys[k][1], "https://example.com");
		CHECK(accepted(text));
	}
}

/*
 * The ranges docs/ gives, at both ends (test_direct_cfg.c and
 * test_jobs_cfg.c refuse one side of some of them).
 */
TEST(documented_ranges_hold_at_both_ends)
{
	static const struct {
		const char *text;
		const char *why; /* NULL: accepted */
	} cases[] = {
		{ "{\"console\": {\"session_ttl\": 0}}", "console.session_ttl" },
		{ "{\"console\": {\"session_ttl\": \"1s\"}}", NULL },
		{ "{\"console\": {\"session_ttl\": \"31d\"}}", NULL },
		{ "{\"console\": {\"session_ttl\": \"32d\"}}", "console.session_ttl" },
		{ "{\"deliver\": {\"max_attempts\": 1}}", NULL },
		{ "{\"deliver\": {\"max_attempts\": 100}}", NULL },
		{ "{\"deliver\": {\"max_attempts\": 101}}", "deliver.max_attempts" },
		{ "{\"deliver\": {\"timeout\": 0}}", "deliver.timeout" },
		{ "{\"deliver\": {\"timeout\": \"1s\"}}", NULL },
		{ "{\"deliver\": {\"timeout\": \"2m\"}}", NULL },
		{ "{\"deliver\": {\"timeout\": \"121s\"}}", "deliver.timeout" },
		{ "{\"reminders\": {\"trial\": [\"90d\", \"1s\"]}}", NULL },
		{ "{\"razorpay\": {\"order_ttl\": \"59s\"}}", "razorpay.order_ttl" },
		{ "{\"razorpay\": {\"order_ttl\": \"60s\"}}", NULL },
		{ "{\"razorpay\": {\"order_ttl\": \"31d\"}}", NULL },
		{ "{\"razorpay\": {\"order_ttl\": \"32d\"}}", "razorpay.order_ttl" },
		{ "{\"razorpay\": {\"subscription_cycles\": 1}}", NULL },
		{ "{\"razorpay\": {\"subscription_cycles\": 1200}}", NULL },
		{ "{\"razorpay\": {\"subscription_cycles\": 1201}}",
		    "razorpay.subscription_cycles" },
		{ "{\"telegram\": {\"invoice_ttl\": \"59s\"}}", "telegram.invoice_ttl" },
		{ "{\"telegram\": {\"invoice_ttl\": \"31d\"}}", NULL },
		{ "{\"cryptobot\": {\"tolerance\": 0}}", "cryptobot.tolerance" },
		{ "{\"cryptobot\": {\"tolerance\": \"1s\"}}", NULL },
		{ "{\"cryptobot\": {\"tolerance\": \"1d\"}}", NULL },
		{ "{\"cryptobot\": {\"invoice_ttl\": \"59s\"}}", "cryptobot.invoice_ttl" },
		{ "{\"cryptobot\": {\"invoice_ttl\": \"32d\"}}", "cryptobot.invoice_ttl" },
		{ "{\"referrals\": {\"levels\": [{\"referrals\": 0, \"percent\": 100}]}}", NULL },
		{ "{\"referrals\": {\"levels\": [{\"referrals\": 0, \"percent\": 1}], \"cap\": "
		  "-1}}",
		    "referrals.cap" },
		{ "{\"products\": {\"p\": {\"kind\": \"pack\", \"credits\": 1000000000}}}", NULL },
		{ "{\"products\": {\"p\": {\"kind\": \"pack\", \"credits\": 1000000001}}}",
		    "products.p.credits" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (cases[i].why == NULL)
			CHECK(accepted(cases[i].text));
		else
			CHECK(refused(cases[i].text, cases[i].why));
	}
}

TEST(documented_requirements_between_keys_hold)
{
	/* apple.bundle_id: required to serve Apple. */
	CHECK(refused("{\"apple\": {\"sandbox\": true}}", "apple.bundle_id: required"));
	/* price_credits needs period; period is months, years or a duration. */
	CHECK(refused("{\"products\": {\"p\": {\"kind\": \"subscription\", \"entitlements\": "
		      "[\"pro\"], \"price_credits\": 10}}}",
	    "products.p.price_credits: needs a period"));
	CHECK(refused("{\"products\": {\"p\": {\"kind\": \"subscription\", \"entitlements\": "
		      "[\"pro\"], \"period\": \"0mo\"}}}",
	    "products.p.period"));
	CHECK(accepted("{\"products\": {\"p\": {\"kind\": \"subscription\", \"entitlements\": "
		       "[\"pro\"], \"period\": \"1y\", \"price_credits\": 10}}}"));
	/* trial.product: a subscription product of the catalog. */
	CHECK(refused("{\"trial\": {\"product\": \"p\", \"duration\": \"7d\"}, \"products\": "
		      "{\"p\": {\"kind\": \"pack\", \"credits\": 1}}}",
	    "trial.product"));
	/* prices: a currency code and an amount above zero. */
	CHECK(refused("{\"products\": {\"p\": {\"kind\": \"pack\", \"credits\": 1, \"prices\": "
		      "{\"INR\": 0}}}}",
	    "products.p.prices.INR"));
	CHECK(refused("{\"products\": {\"p\": {\"kind\": \"pack\", \"credits\": 1, \"prices\": "
		      "{\"rupees\": 100}}}}",
	    "products.p.prices.rupees"));
}

int
main(void)
{
	RUN(jwt_secret_of_one_byte_is_refused);
	RUN(jwt_secret_of_31_bytes_is_refused_without_its_value);
	RUN(jwt_secret_of_32_bytes_is_accepted);
	RUN(jwt_rotation_list_checks_every_entry_naming_its_place);
	RUN(jwt_rotation_list_of_two_good_secrets_reads_both);
	RUN(jwt_refused_list_leaves_no_secret_behind);
	RUN(jwt_secret_file_is_checked_the_same_way);
	RUN(stripe_webhook_secret_without_whsec_is_refused);
	RUN(stripe_webhook_rotation_list_checks_every_entry);
	RUN(more_secrets_than_the_limit_are_refused);
	RUN(telegram_secret_token_of_257_characters_is_refused_256_accepted);
	RUN(synchronous_is_full_or_normal);
	RUN(razorpay_key_id_is_rzp_live_or_rzp_test);
	RUN(urls_need_a_scheme_and_a_host);
	RUN(documented_ranges_hold_at_both_ends);
	RUN(documented_requirements_between_keys_hold);
	return t_done();
}
