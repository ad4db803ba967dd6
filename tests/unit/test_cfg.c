/*
 * lib/cfg/cfg.h: the catalog is money, so a typo must stop the process with a
 * message naming the key (cfg.h), and a valid catalog must read exactly.
 * cfg_secret: NAME, NAME_FILE, both (error), neither ("").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "t.h"

#define DAY_MS (86400LL * 1000)

static const char catalog[] =
    "{\n"
    "  \"stripe\": {\"test_mode\": true, \"tolerance\": \"10m\", \"user_metadata_key\": \"uid\"},\n"
    "  \"policy\": {\"grace_period\": \"3d\", \"renewal_leeway\": 3600},\n"
    "  \"products\": {\n"
    "    \"pro_monthly\": {\n"
    "      \"kind\": \"subscription\", \"credits\": 1000, \"trial_credits\": 100,\n"
    "      \"entitlements\": [\"pro\", \"export\"],\n"
    "      \"match\": {\"stripe\": [\"price_pro_m\", \"prod_pro\"], \"apple\": "
    "[\"com.x.pro.monthly\"]}\n"
    "    },\n"
    "    \"team\": {\n"
    "      \"kind\": \"subscription\", \"credits\": 5000, \"credit_policy\": \"accumulate\",\n"
    "      \"match\": {\"stripe\": [\"price_team\"]}\n"
    "    },\n"
    "    \"credits_100\": {\n"
    "      \"kind\": \"pack\", \"credits\": 100, \"credits_expire_after\": \"7d\",\n"
    "      \"match\": {\"stripe\": [\"price_pack_100\"], \"apple\": [\"price_pro_m\"]}\n"
    "    },\n"
    "    \"credits_500\": {\n"
    "      \"kind\": \"pack\", \"credits\": 500, \"credits_expire_after\": 2592000,\n"
    "      \"match\": {\"stripe\": [\"price_pack_500\"]}\n"
    "    }\n"
    "  }\n"
    "}\n";

/* Parse text into a fresh cfg (after cfg_defaults); the caller cfg_releases. */
static enum terr
load(struct cfg *c, const char *text, char *why, size_t whysize)
{
	cfg_defaults(c);
	why[0] = '\0';
	return cfg_parse(c, text, strlen(text), why, whysize);
}

/*
 * 1 when text is refused with TERR_CONFIG and a message containing want
 * (the key path). On a mismatch the message is printed to help the reader.
 */
static int
refused(const char *text, const char *want)
{
	struct cfg c;
	char why[512];
	enum terr rc;
	int ok;

	rc = load(&c, text, why, sizeof(why));
	cfg_release(&c);
	ok = rc == TERR_CONFIG && strstr(why, want) != NULL;
	if (!ok)
		printf("# rc=%d why=\"%s\" (wanted TERR_CONFIG naming \"%s\")\n", (int)rc, why,
		    want);
	return ok;
}

/* ------------------------------------------------------------ valid catalog */

TEST(cfg_parses_valid_catalog)
{
	struct cfg c;
	char why[512];
	enum terr rc;
	size_t n;

	rc = load(&c, catalog, why, sizeof(why));
	n = c.nproducts;
	cfg_release(&c);
	CHECK_EQ(rc, TERR_OK);
	CHECK_EQ(n, 4);
}

TEST(cfg_reads_subscription_product)
{
	struct cfg c;
	char why[512];
	const struct product *p;
	int ok;

	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	p = cfg_product(&c, "pro_monthly");
	ok = p != NULL && p->kind == PRODUCT_SUBSCRIPTION && p->policy == CREDIT_RESET &&
	    p->credits == 1000 && p->trial_credits == 100 && p->credits_expire == 0 &&
	    p->nents == 2 && strcmp(p->ents[0], "pro") == 0 && strcmp(p->ents[1], "export") == 0 &&
	    p->nmatch == 3;
	cfg_release(&c);
	CHECK(ok);
}

TEST(cfg_reads_accumulate_policy)
{
	struct cfg c;
	char why[512];
	const struct product *p;
	int ok;

	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	p = cfg_product(&c, "team");
	ok = p != NULL && p->policy == CREDIT_ACCUMULATE && p->nents == 0;
	cfg_release(&c);
	CHECK(ok);
}

TEST(cfg_trial_credits_default_to_credits)
{
	struct cfg c;
	char why[512];
	const struct product *p;
	int64_t trial = -1;

	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	if ((p = cfg_product(&c, "team")) != NULL)
		trial = p->trial_credits;
	cfg_release(&c);
	CHECK_EQ(trial, 5000);
}

TEST(cfg_reads_pack_with_duration_string)
{
	struct cfg c;
	char why[512];
	const struct product *p;
	int ok;

	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	p = cfg_product(&c, "credits_100");
	ok = p != NULL && p->kind == PRODUCT_PACK && p->credits == 100 &&
	    p->credits_expire == 7 * DAY_MS;
	cfg_release(&c);
	CHECK(ok);
}

TEST(cfg_reads_duration_in_integer_seconds)
{
	struct cfg c;
	char why[512];
	const struct product *p;
	int64_t expire = -1;

	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	if ((p = cfg_product(&c, "credits_500")) != NULL)
		expire = p->credits_expire;
	cfg_release(&c);
	CHECK_EQ(expire, 30 * DAY_MS);
}

TEST(cfg_reads_stripe_and_policy_sections)
{
	struct cfg c;
	char why[512];
	int ok;

	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	ok = c.stripe.test_mode == 1 && c.stripe.tolerance == 600000 &&
	    strcmp(c.stripe.user_key, "uid") == 0 && strcmp(c.stripe.product_key, "product") == 0 &&
	    c.policy.grace == 3 * DAY_MS && c.policy.leeway == 3600000;
	cfg_release(&c);
	CHECK(ok);
}

TEST(cfg_defaults_kept_when_sections_absent)
{
	struct cfg c;
	char why[512];
	enum terr rc;
	int ok;

	rc = load(&c, "{}", why, sizeof(why));
	ok = c.nproducts == 0 && c.stripe.test_mode == 0 &&
	    c.stripe.tolerance == STRIPE_TOLERANCE_DEFAULT * 1000LL &&
	    strcmp(c.stripe.user_key, "user_id") == 0 && c.policy.grace == 7 * DAY_MS &&
	    c.policy.leeway == DAY_MS;
	cfg_release(&c);
	CHECK_EQ(rc, TERR_OK);
	CHECK(ok);
}

TEST(cfg_match_finds_product_by_provider_id)
{
	struct cfg c;
	char why[512];
	const struct product *a, *b, *d;
	int ok;

	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	a = cfg_match(&c, "stripe", "price_pro_m");
	b = cfg_match(&c, "stripe", "prod_pro");
	d = cfg_match(&c, "apple", "com.x.pro.monthly");
	ok = a != NULL && strcmp(a->id, "pro_monthly") == 0 && b == a && d == a;
	cfg_release(&c);
	CHECK(ok);
}

TEST(cfg_match_is_per_provider)
{
	struct cfg c;
	char why[512];
	const struct product *s, *a;
	int ok;

	/* price_pro_m is pro_monthly under stripe, credits_100 under apple. */
	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	s = cfg_match(&c, "stripe", "price_pro_m");
	a = cfg_match(&c, "apple", "price_pro_m");
	ok = s != NULL && a != NULL && strcmp(s->id, "pro_monthly") == 0 &&
	    strcmp(a->id, "credits_100") == 0 && cfg_match(&c, "google", "price_pro_m") == NULL;
	cfg_release(&c);
	CHECK(ok);
}

TEST(cfg_match_unknown_id_returns_null)
{
	struct cfg c;
	char why[512];
	int ok;

	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	ok = cfg_match(&c, "stripe", "price_nope") == NULL && cfg_match(&c, "stripe", "") == NULL &&
	    cfg_match(&c, "stripe", "price_pro") == NULL;
	cfg_release(&c);
	CHECK(ok);
}

TEST(cfg_product_unknown_id_returns_null)
{
	struct cfg c;
	char why[512];
	int ok;

	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	ok = cfg_product(&c, "nope") == NULL && cfg_product(&c, "pro") == NULL &&
	    cfg_product(&c, "PRO_MONTHLY") == NULL;
	cfg_release(&c);
	CHECK(ok);
}

TEST(cfg_release_empties_catalog)
{
	struct cfg c;
	char why[512];

	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	cfg_release(&c);
	CHECK(c.products == NULL);
	CHECK_EQ(c.nproducts, 0);
	CHECK(cfg_product(&c, "pro_monthly") == NULL);
}

TEST(cfg_same_id_under_two_providers_is_allowed)
{
	struct cfg c;
	char why[512];
	enum terr rc;

	rc = load(&c,
	    "{\"products\":{"
	    "\"a\":{\"kind\":\"pack\",\"credits\":1,\"match\":{\"stripe\":[\"x\"]}},"
	    "\"b\":{\"kind\":\"pack\",\"credits\":2,\"match\":{\"apple\":[\"x\"]}}}}",
	    why, sizeof(why));
	cfg_release(&c);
	CHECK_EQ(rc, TERR_OK);
}

TEST(cfg_entitlements_alone_grant_something)
{
	struct cfg c;
	char why[512];
	enum terr rc;

	rc = load(&c,
	    "{\"products\":{\"p\":{\"kind\":\"subscription\",\"entitlements\":[\"pro\"]}}}", why,
	    sizeof(why));
	cfg_release(&c);
	CHECK_EQ(rc, TERR_OK);
}

/* ---------------------------------------------------------- invalid config */

TEST(cfg_rejects_unknown_top_level_key)
{
	CHECK(refused("{\"product\":{}}", "product: unknown key"));
}

TEST(cfg_rejects_unknown_product_key_typo)
{
	CHECK(refused("{\"products\":{\"pro\":{\"kind\":\"subscription\",\"credit\":100}}}",
	    "products.pro.credit:"));
}

TEST(cfg_rejects_unknown_stripe_key)
{
	CHECK(refused("{\"stripe\":{\"tolerence\":300}}", "stripe.tolerence"));
}

TEST(cfg_rejects_credits_of_wrong_type)
{
	CHECK(refused("{\"products\":{\"pro\":{\"kind\":\"subscription\",\"credits\":\"100\"}}}",
	    "products.pro.credits"));
}

TEST(cfg_rejects_fractional_credits)
{
	CHECK(refused("{\"products\":{\"pro\":{\"kind\":\"subscription\",\"credits\":1.5}}}",
	    "products.pro.credits"));
}

TEST(cfg_rejects_negative_credits)
{
	CHECK(refused("{\"products\":{\"pro\":{\"kind\":\"subscription\",\"credits\":-1}}}",
	    "products.pro.credits"));
}

TEST(cfg_rejects_credits_past_credits_max)
{
	CHECK(refused("{\"products\":{\"pro\":{\"kind\":\"subscription\",\"credits\":1000000001}}}",
	    "products.pro.credits"));
}

TEST(cfg_accepts_credits_max)
{
	struct cfg c;
	char why[512];
	enum terr rc;

	rc = load(&c, "{\"products\":{\"pro\":{\"kind\":\"subscription\",\"credits\":1000000000}}}",
	    why, sizeof(why));
	cfg_release(&c);
	CHECK_EQ(rc, TERR_OK);
}

TEST(cfg_rejects_trial_credits_of_wrong_type)
{
	CHECK(refused("{\"products\":{\"pro\":{\"kind\":\"subscription\",\"credits\":1,"
		      "\"trial_credits\":true}}}",
	    "products.pro.trial_credits"));
}

TEST(cfg_rejects_missing_kind)
{
	CHECK(refused("{\"products\":{\"pro\":{\"credits\":100}}}", "products.pro.kind"));
}

TEST(cfg_rejects_unknown_kind)
{
	CHECK(refused("{\"products\":{\"pro\":{\"kind\":\"monthly\",\"credits\":100}}}",
	    "products.pro.kind"));
}

TEST(cfg_rejects_pack_with_credit_policy)
{
	CHECK(refused("{\"products\":{\"p\":{\"kind\":\"pack\",\"credits\":100,"
		      "\"credit_policy\":\"reset\"}}}",
	    "products.p.credit_policy"));
}

TEST(cfg_rejects_unknown_credit_policy)
{
	CHECK(refused("{\"products\":{\"s\":{\"kind\":\"subscription\",\"credits\":100,"
		      "\"credit_policy\":\"rollover\"}}}",
	    "products.s.credit_policy"));
}

TEST(cfg_rejects_subscription_with_credits_expire_after)
{
	CHECK(refused("{\"products\":{\"s\":{\"kind\":\"subscription\",\"credits\":100,"
		      "\"credits_expire_after\":\"30d\"}}}",
	    "products.s.credits_expire_after"));
}

TEST(cfg_rejects_bad_duration)
{
	CHECK(refused("{\"products\":{\"p\":{\"kind\":\"pack\",\"credits\":100,"
		      "\"credits_expire_after\":\"7x\"}}}",
	    "products.p.credits_expire_after"));
}

TEST(cfg_rejects_negative_duration_seconds)
{
	CHECK(refused("{\"policy\":{\"grace_period\":-1}}", "policy.grace_period"));
}

TEST(cfg_rejects_stripe_tolerance_below_one_second)
{
	CHECK(refused("{\"stripe\":{\"tolerance\":0}}", "stripe.tolerance"));
}

TEST(cfg_rejects_unknown_provider_under_match)
{
	CHECK(refused("{\"products\":{\"pro\":{\"kind\":\"subscription\",\"credits\":1,"
		      "\"match\":{\"paypal\":[\"x\"]}}}}",
	    "products.pro.match.paypal"));
}

TEST(cfg_rejects_match_ids_not_an_array)
{
	CHECK(refused("{\"products\":{\"pro\":{\"kind\":\"subscription\",\"credits\":1,"
		      "\"match\":{\"stripe\":\"price_1\"}}}}",
	    "products.pro.match.stripe"));
}

TEST(cfg_rejects_empty_match_id)
{
	CHECK(refused("{\"products\":{\"pro\":{\"kind\":\"subscription\",\"credits\":1,"
		      "\"match\":{\"stripe\":[\"\"]}}}}",
	    "products.pro.match.stripe"));
}

TEST(cfg_rejects_same_provider_id_under_two_products)
{
	CHECK(refused(
	    "{\"products\":{"
	    "\"a\":{\"kind\":\"pack\",\"credits\":1,\"match\":{\"stripe\":[\"price_1\"]}},"
	    "\"b\":{\"kind\":\"pack\",\"credits\":2,\"match\":{\"stripe\":[\"price_1\"]}}}}",
	    "match.stripe"));
}

TEST(cfg_duplicate_provider_id_message_names_both_products)
{
	CHECK(refused(
		  "{\"products\":{"
		  "\"a\":{\"kind\":\"pack\",\"credits\":1,\"match\":{\"stripe\":[\"price_1\"]}},"
		  "\"b\":{\"kind\":\"pack\",\"credits\":2,\"match\":{\"stripe\":[\"price_1\"]}}}}",
		  "products.b.match.stripe") &&
	    refused(
		"{\"products\":{"
		"\"a\":{\"kind\":\"pack\",\"credits\":1,\"match\":{\"stripe\":[\"price_1\"]}},"
		"\"b\":{\"kind\":\"pack\",\"credits\":2,\"match\":{\"stripe\":[\"price_1\"]}}}}",
		"products.a"));
}

TEST(cfg_rejects_same_provider_id_twice_in_one_product)
{
	CHECK(refused("{\"products\":{\"a\":{\"kind\":\"pack\",\"credits\":1,"
		      "\"match\":{\"stripe\":[\"price_1\",\"price_1\"]}}}}",
	    "products.a.match.stripe"));
}

TEST(cfg_rejects_product_granting_nothing)
{
	CHECK(refused("{\"products\":{\"free\":{\"kind\":\"subscription\"}}}", "products.free"));
	CHECK(refused(
	    "{\"products\":{\"free\":{\"kind\":\"pack\",\"credits\":0,\"entitlements\":[]}}}",
	    "products.free"));
}

TEST(cfg_rejects_bad_entitlement_name)
{
	CHECK(refused("{\"products\":{\"p\":{\"kind\":\"subscription\",\"entitlements\":[\"\"]}}}",
	    "products.p.entitlements"));
	CHECK(refused("{\"products\":{\"p\":{\"kind\":\"subscription\",\"entitlements\":[1]}}}",
	    "products.p.entitlements"));
}

TEST(cfg_rejects_product_not_an_object)
{
	CHECK(refused("{\"products\":{\"p\":\"pack\"}}", "products.p"));
}

TEST(cfg_rejects_duplicate_json_key)
{
	CHECK(refused("{\"products\":{\"p\":{\"kind\":\"pack\",\"credits\":1,\"credits\":2}}}",
	    "duplicate"));
}

TEST(cfg_duplicate_json_key_message_names_the_key)
{
	/* cfg.h: invalid configuration fails "with a message naming the variable or key". */
	CHECK(refused("{\"products\":{\"p\":{\"kind\":\"pack\",\"credits\":1,\"credits\":2}}}",
	    "credits"));
}

TEST(cfg_rejects_malformed_json)
{
	CHECK(refused("{\"products\":", "config:"));
}

TEST(cfg_rejects_non_object_root)
{
	CHECK(refused("[]", "expected a JSON object"));
}

/* --------------------------------------------------------- balance alerts */

#define BA_HOOK "\"deliver\": {\"webhook_url\": \"https://app.example/hooks\"}, "
#define BA_PRO(extra)                                                                              \
	"\"products\": {\"pro\": {\"kind\": \"subscription\", \"credits\": 1000" extra "}, "       \
	"\"pack\": {\"kind\": \"pack\", \"credits\": 50}}"

TEST(cfg_balance_alerts_read_in_both_forms)
{
	struct cfg c;
	char why[512];
	int ok;

	CHECK_EQ(load(&c,
		     "{" BA_HOOK "\"balance_alerts\": {\"low\": \"20%\"}, " BA_PRO(
			 ", \"balance_low\": 150") "}",
		     why, sizeof(why)),
	    TERR_OK);
	ok = c.balance_alerts.enabled && c.balance_alerts.low.percent == 20 &&
	    c.balance_alerts.low.credits == 0 && c.balance_alerts.by_plan &&
	    cfg_product(&c, "pro")->balance_low.credits == 150 &&
	    cfg_product(&c, "pro")->balance_low.percent == 0 &&
	    cfg_product(&c, "pack")->balance_low.credits == 0;
	cfg_release(&c);
	CHECK(ok);
	/* Credits alone, globally: no plan needs reading. */
	CHECK_EQ(load(&c, "{" BA_HOOK "\"balance_alerts\": {\"low\": 100}, " BA_PRO("") "}", why,
		     sizeof(why)),
	    TERR_OK);
	ok = c.balance_alerts.enabled && c.balance_alerts.low.credits == 100 &&
	    !c.balance_alerts.by_plan;
	cfg_release(&c);
	CHECK(ok);
	/* An empty section: zero alerts only. */
	CHECK_EQ(load(&c, "{" BA_HOOK "\"balance_alerts\": {}, " BA_PRO("") "}", why, sizeof(why)),
	    TERR_OK);
	ok = c.balance_alerts.enabled && c.balance_alerts.low.credits == 0 &&
	    c.balance_alerts.low.percent == 0;
	cfg_release(&c);
	CHECK(ok);
	/* No section: off. */
	CHECK_EQ(load(&c, catalog, why, sizeof(why)), TERR_OK);
	ok = !c.balance_alerts.enabled;
	cfg_release(&c);
	CHECK(ok);
}

TEST(cfg_balance_alerts_refuse_bad_thresholds)
{
	static const char *const bad[] = { "0", "-5", "1000000001", "12.5", "\"0%\"", "\"101%\"",
		"\"20\"", "\"%\"", "\"20 %\"", "\"-1%\"", "\"12.5%\"", "true", "[]" };
	char text[512];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), "{" BA_HOOK "\"balance_alerts\": {\"low\": %s}}",
		    bad[i]);
		CHECK(refused(text, "config: balance_alerts.low: expected credits"));
		snprintf(text, sizeof(text),
		    "{" BA_HOOK "\"balance_alerts\": {}, " BA_PRO(", \"balance_low\": %s") "}",
		    bad[i]);
		CHECK(refused(text, "config: products.pro.balance_low: expected credits"));
	}
}

TEST(cfg_balance_alerts_refuse_what_cannot_work)
{
	CHECK(refused("{\"balance_alerts\": {\"low\": 10}}",
	    "config: balance_alerts: needs deliver.webhook_url"));
	CHECK(refused("{" BA_PRO(", \"balance_low\": 10") "}",
	    "config: products.pro.balance_low: needs the balance_alerts section"));
	CHECK(refused("{" BA_HOOK "\"balance_alerts\": {}, \"products\": {\"p\": {\"kind\": "
		      "\"pack\", \"credits\": 5, \"balance_low\": 1}}}",
	    "config: products.p.balance_low: for subscriptions"));
	CHECK(refused("{" BA_HOOK "\"balance_alerts\": {\"lowest\": 1}}",
	    "config: balance_alerts.lowest: unknown key"));
	CHECK(refused("{" BA_HOOK "\"balance_alerts\": 5}",
	    "config: balance_alerts: expected an object"));
	CHECK(refused("{\"stripe\": {\"portal_login_url\": \"billing.stripe.com/p/login/x\"}}",
	    "config: stripe.portal_login_url"));
}

/* ---------------------------------------------------------------- secrets */

#define SECRET_ENV      "TALLY_TEST_SECRET"
#define SECRET_ENV_FILE "TALLY_TEST_SECRET_FILE"

/* A temp file holding s; path in path[64]. 1 on success. */
static int
tmpfile_with(char path[64], const char *s, size_t n)
{
	int fd;

	snprintf(path, 64, "/tmp/tally-test-secret-XXXXXX");
	if ((fd = mkstemp(path)) < 0)
		return 0;
	if (write(fd, s, n) != (ssize_t)n) {
		close(fd);
		unlink(path);
		return 0;
	}
	close(fd);
	return 1;
}

static void
secret_env_clear(void)
{
	unsetenv(SECRET_ENV);
	unsetenv(SECRET_ENV_FILE);
}

TEST(cfg_secret_reads_env)
{
	char out[SECRET_MAX] = "x", why[256];
	enum terr rc;

	secret_env_clear();
	setenv(SECRET_ENV, "whsec_abc", 1);
	rc = cfg_secret(SECRET_ENV, out, sizeof(out), why, sizeof(why));
	secret_env_clear();
	CHECK_EQ(rc, TERR_OK);
	CHECK_STR(out, "whsec_abc");
}

TEST(cfg_secret_reads_file_stripping_trailing_newline)
{
	char out[SECRET_MAX] = "x", why[256], path[64];
	enum terr rc;

	secret_env_clear();
	CHECK(tmpfile_with(path, "whsec_file\n", 11));
	setenv(SECRET_ENV_FILE, path, 1);
	rc = cfg_secret(SECRET_ENV, out, sizeof(out), why, sizeof(why));
	secret_env_clear();
	unlink(path);
	CHECK_EQ(rc, TERR_OK);
	CHECK_STR(out, "whsec_file");
}

TEST(cfg_secret_reads_file_without_newline)
{
	char out[SECRET_MAX] = "x", why[256], path[64];
	enum terr rc;

	secret_env_clear();
	CHECK(tmpfile_with(path, "whsec_file", 10));
	setenv(SECRET_ENV_FILE, path, 1);
	rc = cfg_secret(SECRET_ENV, out, sizeof(out), why, sizeof(why));
	secret_env_clear();
	unlink(path);
	CHECK_EQ(rc, TERR_OK);
	CHECK_STR(out, "whsec_file");
}

TEST(cfg_secret_both_set_is_an_error)
{
	char out[SECRET_MAX] = "x", why[256] = "", path[64];
	enum terr rc;

	secret_env_clear();
	CHECK(tmpfile_with(path, "whsec_file\n", 11));
	setenv(SECRET_ENV, "whsec_env", 1);
	setenv(SECRET_ENV_FILE, path, 1);
	rc = cfg_secret(SECRET_ENV, out, sizeof(out), why, sizeof(why));
	secret_env_clear();
	unlink(path);
	CHECK_EQ(rc, TERR_CONFIG);
	CHECK(strstr(why, SECRET_ENV_FILE) != NULL);
	CHECK_STR(out, "");
}

TEST(cfg_secret_neither_set_gives_empty)
{
	char out[SECRET_MAX] = "x", why[256];
	enum terr rc;

	secret_env_clear();
	rc = cfg_secret(SECRET_ENV, out, sizeof(out), why, sizeof(why));
	CHECK_EQ(rc, TERR_OK);
	CHECK_STR(out, "");
}

TEST(cfg_secret_empty_env_counts_as_unset)
{
	char out[SECRET_MAX] = "x", why[256], path[64];
	enum terr rc;

	secret_env_clear();
	CHECK(tmpfile_with(path, "whsec_file\n", 11));
	setenv(SECRET_ENV, "", 1);
	setenv(SECRET_ENV_FILE, path, 1);
	rc = cfg_secret(SECRET_ENV, out, sizeof(out), why, sizeof(why));
	secret_env_clear();
	unlink(path);
	CHECK_EQ(rc, TERR_OK);
	CHECK_STR(out, "whsec_file");
}

TEST(cfg_secret_missing_file_is_an_error)
{
	char out[SECRET_MAX] = "x", why[256] = "";
	enum terr rc;

	secret_env_clear();
	setenv(SECRET_ENV_FILE, "/tmp/tally-test-no-such-file-9f3a", 1);
	rc = cfg_secret(SECRET_ENV, out, sizeof(out), why, sizeof(why));
	secret_env_clear();
	CHECK(rc != TERR_OK);
	CHECK(strstr(why, "tally-test-no-such-file-9f3a") != NULL);
	CHECK_STR(out, "");
}

TEST(cfg_secret_env_too_long_is_an_error)
{
	char out[8] = "x", why[256] = "";
	enum terr rc;

	secret_env_clear();
	setenv(SECRET_ENV, "12345678", 1);
	rc = cfg_secret(SECRET_ENV, out, sizeof(out), why, sizeof(why));
	secret_env_clear();
	CHECK_EQ(rc, TERR_CONFIG);
	CHECK(strstr(why, SECRET_ENV) != NULL);
	CHECK_STR(out, "");
}

TEST(cfg_secret_file_too_large_is_an_error)
{
	char out[8] = "x", why[256] = "", path[64];
	enum terr rc;

	secret_env_clear();
	CHECK(tmpfile_with(path, "123456789\n", 10));
	setenv(SECRET_ENV_FILE, path, 1);
	rc = cfg_secret(SECRET_ENV, out, sizeof(out), why, sizeof(why));
	secret_env_clear();
	unlink(path);
	CHECK_EQ(rc, TERR_CONFIG);
	CHECK(strstr(why, SECRET_ENV_FILE) != NULL);
	CHECK_STR(out, "");
}

TEST(cfg_secret_file_of_max_length_with_newline_fits)
{
	char out[8] = "x", why[256] = "", path[64];
	enum terr rc;

	/* 7 bytes fit in out[8]; the newline that ends the file is stripped, not stored. */
	secret_env_clear();
	CHECK(tmpfile_with(path, "1234567\n", 8));
	setenv(SECRET_ENV_FILE, path, 1);
	rc = cfg_secret(SECRET_ENV, out, sizeof(out), why, sizeof(why));
	secret_env_clear();
	unlink(path);
	CHECK_EQ(rc, TERR_OK);
	CHECK_STR(out, "1234567");
}

int
main(void)
{
	RUN(cfg_parses_valid_catalog);
	RUN(cfg_reads_subscription_product);
	RUN(cfg_reads_accumulate_policy);
	RUN(cfg_trial_credits_default_to_credits);
	RUN(cfg_reads_pack_with_duration_string);
	RUN(cfg_reads_duration_in_integer_seconds);
	RUN(cfg_reads_stripe_and_policy_sections);
	RUN(cfg_defaults_kept_when_sections_absent);
	RUN(cfg_match_finds_product_by_provider_id);
	RUN(cfg_match_is_per_provider);
	RUN(cfg_match_unknown_id_returns_null);
	RUN(cfg_product_unknown_id_returns_null);
	RUN(cfg_release_empties_catalog);
	RUN(cfg_same_id_under_two_providers_is_allowed);
	RUN(cfg_entitlements_alone_grant_something);

	RUN(cfg_rejects_unknown_top_level_key);
	RUN(cfg_rejects_unknown_product_key_typo);
	RUN(cfg_rejects_unknown_stripe_key);
	RUN(cfg_rejects_credits_of_wrong_type);
	RUN(cfg_rejects_fractional_credits);
	RUN(cfg_rejects_negative_credits);
	RUN(cfg_rejects_credits_past_credits_max);
	RUN(cfg_accepts_credits_max);
	RUN(cfg_rejects_trial_credits_of_wrong_type);
	RUN(cfg_rejects_missing_kind);
	RUN(cfg_rejects_unknown_kind);
	RUN(cfg_rejects_pack_with_credit_policy);
	RUN(cfg_rejects_unknown_credit_policy);
	RUN(cfg_rejects_subscription_with_credits_expire_after);
	RUN(cfg_rejects_bad_duration);
	RUN(cfg_rejects_negative_duration_seconds);
	RUN(cfg_rejects_stripe_tolerance_below_one_second);
	RUN(cfg_rejects_unknown_provider_under_match);
	RUN(cfg_rejects_match_ids_not_an_array);
	RUN(cfg_rejects_empty_match_id);
	RUN(cfg_rejects_same_provider_id_under_two_products);
	RUN(cfg_duplicate_provider_id_message_names_both_products);
	RUN(cfg_rejects_same_provider_id_twice_in_one_product);
	RUN(cfg_rejects_product_granting_nothing);
	RUN(cfg_rejects_bad_entitlement_name);
	RUN(cfg_rejects_product_not_an_object);
	RUN(cfg_rejects_duplicate_json_key);
	RUN(cfg_duplicate_json_key_message_names_the_key);
	RUN(cfg_rejects_malformed_json);
	RUN(cfg_rejects_non_object_root);
	RUN(cfg_balance_alerts_read_in_both_forms);
	RUN(cfg_balance_alerts_refuse_bad_thresholds);
	RUN(cfg_balance_alerts_refuse_what_cannot_work);

	RUN(cfg_secret_reads_env);
	RUN(cfg_secret_reads_file_stripping_trailing_newline);
	RUN(cfg_secret_reads_file_without_newline);
	RUN(cfg_secret_both_set_is_an_error);
	RUN(cfg_secret_neither_set_gives_empty);
	RUN(cfg_secret_empty_env_counts_as_unset);
	RUN(cfg_secret_missing_file_is_an_error);
	RUN(cfg_secret_env_too_long_is_an_error);
	RUN(cfg_secret_file_too_large_is_an_error);
	RUN(cfg_secret_file_of_max_length_with_newline_fits);
	return t_done();
}
