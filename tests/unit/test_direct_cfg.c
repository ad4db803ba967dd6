/*
 * lib/cfg/cfg_direct.c: the sections razorpay, telegram, cryptobot and
 * referrals read exactly, their defaults, and every refusal names its key;
 * the direct providers' secrets from the environment (comma-separated
 * Razorpay webhook secrets, the Telegram secret token's alphabet) and their
 * wiping by cfg_release.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cfg/cfg.h"
#include "t.h"
#include "t_cfg.h"

#define HOUR_MS (3600LL * 1000)
#define DAY_MS  (24 * HOUR_MS)

static const char full[] =
    "{\n"
    "  \"razorpay\": {\"key_id\": \"rzp_test_abc\", \"api_base\": \"http://127.0.0.1:9/\",\n"
    "                \"test_mode\": true, \"order_ttl\": \"30m\", \"subscription_cycles\": 24},\n"
    "  \"telegram\": {\"api_base\": \"http://127.0.0.1:10\", \"invoice_ttl\": \"2h\"},\n"
    "  \"cryptobot\": {\"testnet\": true, \"tolerance\": \"10m\", \"invoice_ttl\": 900},\n"
    "  \"referrals\": {\"levels\": [{\"referrals\": 0, \"percent\": 10},\n"
    "                             {\"referrals\": 5, \"percent\": 25},\n"
    "                             {\"referrals\": 20, \"percent\": 45}], \"cap\": 5000}\n"
    "}\n";

TEST(direct_cfg_defaults)
{
	struct cfg c;

	cfg_defaults(&c);
	CHECK_STR(c.razorpay.api_base, "https://api.razorpay.com");
	CHECK_EQ(c.razorpay.order_ttl, HOUR_MS);
	CHECK_EQ(c.razorpay.subscription_cycles, 120);
	CHECK_EQ(c.razorpay.test_mode, 0);
	CHECK_STR(c.telegram.api_base, "https://api.telegram.org");
	CHECK_EQ(c.telegram.invoice_ttl, DAY_MS);
	CHECK_STR(c.cryptobot.api_base, "https://pay.crypt.bot");
	CHECK_EQ(c.cryptobot.tolerance, HOUR_MS);
	CHECK_EQ(c.cryptobot.invoice_ttl, HOUR_MS);
	CHECK_EQ(c.cryptobot.testnet, 0);
	CHECK_EQ(c.referrals.enabled, 0);
	cfg_release(&c);
}

TEST(direct_cfg_reads_every_key)
{
	struct cfg c;
	char why[512];
	enum terr rc = load(&c, full, why, sizeof(why));

	if (rc != TERR_OK)
		printf("# %s\n", why);
	CHECK_EQ(rc, TERR_OK);
	CHECK_STR(c.razorpay.key_id, "rzp_test_abc");
	CHECK_STR(c.razorpay.api_base, "http://127.0.0.1:9/");
	CHECK_EQ(c.razorpay.test_mode, 1);
	CHECK_EQ(c.razorpay.order_ttl, 30 * 60 * 1000LL);
	CHECK_EQ(c.razorpay.subscription_cycles, 24);
	CHECK_STR(c.telegram.api_base, "http://127.0.0.1:10");
	CHECK_EQ(c.telegram.invoice_ttl, 2 * HOUR_MS);
	CHECK_EQ(c.cryptobot.testnet, 1);
	CHECK_EQ(c.cryptobot.tolerance, 10 * 60 * 1000LL);
	CHECK_EQ(c.cryptobot.invoice_ttl, 900 * 1000LL);
	CHECK_EQ(c.referrals.enabled, 1);
	CHECK_EQ(c.referrals.nlevels, 3);
	CHECK_EQ(c.referrals.levels[0].min_referrals, 0);
	CHECK_EQ(c.referrals.levels[0].percent, 10);
	CHECK_EQ(c.referrals.levels[1].min_referrals, 5);
	CHECK_EQ(c.referrals.levels[1].percent, 25);
	CHECK_EQ(c.referrals.levels[2].min_referrals, 20);
	CHECK_EQ(c.referrals.levels[2].percent, 45);
	CHECK_EQ(c.referrals.cap, 5000);
	cfg_release(&c);
}

TEST(direct_cfg_testnet_switches_the_api_unless_given)
{
	struct cfg c;
	char why[512];

	CHECK_EQ(load(&c, "{\"cryptobot\": {\"testnet\": true}}", why, sizeof(why)), TERR_OK);
	CHECK_STR(c.cryptobot.api_base, "https://testnet-pay.crypt.bot");
	cfg_release(&c);
	CHECK_EQ(load(&c, "{\"cryptobot\": {\"testnet\": true, \"api_base\": \"http://x\"}}", why,
		     sizeof(why)),
	    TERR_OK);
	CHECK_STR(c.cryptobot.api_base, "http://x");
	cfg_release(&c);
}

TEST(direct_cfg_unknown_keys_are_refused)
{
	CHECK(refused("{\"razorpay\": {\"key\": \"rzp_test_x\"}}", "razorpay.key"));
	CHECK(refused("{\"telegram\": {\"bot_token\": \"1:x\"}}", "telegram.bot_token"));
	CHECK(refused("{\"cryptobot\": {\"token\": \"x\"}}", "cryptobot.token"));
	CHECK(refused("{\"referrals\": {\"levels\": [{\"referrals\": 0, \"percent\": 10}], "
		      "\"max\": 1}}",
	    "referrals.max"));
	CHECK(refused("{\"referrals\": {\"levels\": [{\"referrals\": 0, \"pct\": 10}]}}",
	    "referrals.levels[0].pct"));
}

TEST(direct_cfg_bad_values_name_their_key)
{
	CHECK(refused("{\"razorpay\": {\"key_id\": \"key_1\"}}", "razorpay.key_id"));
	CHECK(refused("{\"razorpay\": {\"api_base\": \"ftp://x\"}}", "razorpay.api_base"));
	CHECK(refused("{\"razorpay\": {\"order_ttl\": \"10s\"}}", "razorpay.order_ttl"));
	CHECK(refused("{\"razorpay\": {\"subscription_cycles\": 0}}",
	    "razorpay.subscription_cycles"));
	CHECK(refused("{\"telegram\": {\"invoice_ttl\": \"40d\"}}", "telegram.invoice_ttl"));
	CHECK(refused("{\"cryptobot\": {\"tolerance\": \"2d\"}}", "cryptobot.tolerance"));
	CHECK(refused("{\"cryptobot\": {\"testnet\": \"yes\"}}", "cryptobot.testnet"));
	CHECK(refused("{\"razorpay\": []}", "razorpay"));
}

TEST(direct_cfg_referral_levels_are_checked)
{
	CHECK(refused("{\"referrals\": {}}", "referrals.levels"));
	CHECK(refused("{\"referrals\": {\"levels\": []}}", "referrals.levels"));
	CHECK(refused("{\"referrals\": {\"levels\": [{\"referrals\": 0, \"percent\": 0}]}}",
	    "referrals.levels[0].percent"));
	CHECK(refused("{\"referrals\": {\"levels\": [{\"referrals\": 0, \"percent\": 101}]}}",
	    "referrals.levels[0].percent"));
	CHECK(refused("{\"referrals\": {\"levels\": [{\"referrals\": -1, \"percent\": 5}]}}",
	    "referrals.levels[0].referrals"));
	CHECK(refused("{\"referrals\": {\"levels\": [{\"percent\": 5}]}}", "referrals.levels[0]"));
	CHECK(refused("{\"referrals\": {\"levels\": [{\"referrals\": 5, \"percent\": 5}, "
		      "{\"referrals\": 5, \"percent\": 9}]}}",
	    "referrals.levels[1].referrals"));
	CHECK(refused("{\"referrals\": {\"levels\": [1,2,3,4,5,6,7,8,9]}}", "more than 8"));
	CHECK(refused("{\"referrals\": {\"levels\": [{\"referrals\": 0, \"percent\": 5}], "
		      "\"cap\": -1}}",
	    "referrals.cap"));
}

TEST(direct_cfg_referrals_can_be_off)
{
	struct cfg c;
	char why[512];

	CHECK_EQ(load(&c,
		     "{\"referrals\": {\"enabled\": false, \"levels\": [{\"referrals\": 0, "
		     "\"percent\": 10}]}}",
		     why, sizeof(why)),
	    TERR_OK);
	CHECK_EQ(c.referrals.enabled, 0);
	CHECK_EQ(c.referrals.nlevels, 1);
	CHECK_EQ(c.referrals.cap, 0);
	cfg_release(&c);
}

static void
env_clear(void)
{
	static const char *const names[] = { "RAZORPAY_WEBHOOK_SECRET", "RAZORPAY_KEY_SECRET",
		"TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_PROVIDER_TOKEN",
		"CRYPTOBOT_TOKEN", NULL };
	char file[64];
	size_t i;

	for (i = 0; names[i] != NULL; i++) {
		unsetenv(names[i]);
		snprintf(file, sizeof(file), "%s_FILE", names[i]);
		unsetenv(file);
	}
}

TEST(direct_cfg_secrets_from_the_environment)
{
	struct cfg c;
	char why[512] = "";
	enum terr rc;

	env_clear();
	setenv("RAZORPAY_WEBHOOK_SECRET", "old_secret, new_secret", 1);
	setenv("RAZORPAY_KEY_SECRET", "key_secret_1", 1);
	setenv("TELEGRAM_BOT_TOKEN", "123456:ABC-def_ghi", 1);
	setenv("TELEGRAM_WEBHOOK_SECRET", "tg_Secret-1", 1);
	setenv("CRYPTOBOT_TOKEN", "1234:AAAbbb", 1);
	rc = cfg_load_env(&c, why, sizeof(why));
	env_clear();
	if (rc != TERR_OK)
		printf("# %s\n", why);
	CHECK_EQ(rc, TERR_OK);
	CHECK_EQ(c.razorpay.nsecrets, 2);
	CHECK_STR(c.razorpay.secrets[0], "old_secret");
	CHECK_STR(c.razorpay.secrets[1], "new_secret");
	CHECK_STR(c.razorpay.key_secret, "key_secret_1");
	CHECK_STR(c.telegram.bot_token, "123456:ABC-def_ghi");
	CHECK_STR(c.telegram.webhook_secret, "tg_Secret-1");
	CHECK_STR(c.telegram.provider_token, "");
	CHECK_STR(c.cryptobot.token, "1234:AAAbbb");
	cfg_release(&c);
	/* Wiped, not only forgotten. */
	CHECK_EQ(c.razorpay.nsecrets, 0);
	CHECK_STR(c.razorpay.secrets[0], "");
	CHECK_STR(c.razorpay.secrets[1], "");
	CHECK_STR(c.razorpay.key_secret, "");
	CHECK_STR(c.telegram.bot_token, "");
	CHECK_STR(c.telegram.webhook_secret, "");
	CHECK_STR(c.cryptobot.token, "");
}

TEST(direct_cfg_telegram_secret_token_alphabet)
{
	struct cfg c;
	char why[512] = "";
	enum terr rc;

	env_clear();
	setenv("TELEGRAM_WEBHOOK_SECRET", "has space", 1);
	rc = cfg_load_env(&c, why, sizeof(why));
	env_clear();
	cfg_release(&c);
	CHECK_EQ(rc, TERR_CONFIG);
	CHECK(strstr(why, "TELEGRAM_WEBHOOK_SECRET") != NULL);
}

TEST(direct_cfg_secret_files)
{
	struct cfg c;
	char why[512] = "", path[] = "/tmp/tally-test-cbtoken-XXXXXX";
	enum terr rc;
	FILE *f;
	int fd;

	env_clear();
	CHECK((fd = mkstemp(path)) >= 0);
	CHECK((f = fdopen(fd, "w")) != NULL);
	fputs("5678:ZZZ\n", f);
	fclose(f);
	setenv("CRYPTOBOT_TOKEN_FILE", path, 1);
	rc = cfg_load_env(&c, why, sizeof(why));
	env_clear();
	unlink(path);
	CHECK_EQ(rc, TERR_OK);
	CHECK_STR(c.cryptobot.token, "5678:ZZZ");
	cfg_release(&c);
}

int
main(void)
{
	RUN(direct_cfg_defaults);
	RUN(direct_cfg_reads_every_key);
	RUN(direct_cfg_testnet_switches_the_api_unless_given);
	RUN(direct_cfg_unknown_keys_are_refused);
	RUN(direct_cfg_bad_values_name_their_key);
	RUN(direct_cfg_referral_levels_are_checked);
	RUN(direct_cfg_referrals_can_be_off);
	RUN(direct_cfg_secrets_from_the_environment);
	RUN(direct_cfg_telegram_secret_token_alphabet);
	RUN(direct_cfg_secret_files);
	return t_done();
}
