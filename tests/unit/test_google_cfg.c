/*
 * lib/cfg: the google section read exactly, its defaults, every refusal
 * naming its key, and GOOGLE_SERVICE_ACCOUNT_FILE taken as a path without
 * being read (a missing file is the API call's error, not the start's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cfg/cfg.h"
#include "t.h"
#include "t_cfg.h"

#define EMAIL "pubsub-push@example-project.iam.gserviceaccount.com"
#define AUD   "https://billing.example.com/webhooks/google"

/* A google section of the required keys plus extra ("" or ", \"k\": v"). */
static void
section(char *out, size_t size, const char *package, const char *extra)
{
	snprintf(out, size,
	    "{\"google\": {\"package_name\": \"%s\", \"push_audience\": \"" AUD "\", "
	    "\"push_service_account\": \"" EMAIL "\"%s}}",
	    package, extra);
}

static int
refused_extra(const char *extra, const char *want)
{
	char text[2048];

	section(text, sizeof(text), "com.example.app", extra);
	return refused(text, want);
}

static int
package_refused(const char *package)
{
	char text[2048];

	section(text, sizeof(text), package, "");
	return refused(text, "google.package_name");
}

TEST(google_cfg_defaults)
{
	struct cfg c;

	cfg_defaults(&c);
	CHECK_EQ(c.google.enabled, 0);
	CHECK_EQ(c.google.test_mode, 0);
	CHECK_STR(c.google.certs_url, "https://www.googleapis.com/oauth2/v3/certs");
	CHECK_STR(c.google.api_base, "https://androidpublisher.googleapis.com");
	CHECK_STR(c.google.token_url, "https://oauth2.googleapis.com/token");
	CHECK_STR(c.google.sa_file, "");
	cfg_release(&c);
}

TEST(google_cfg_reads_required_keys_and_keeps_defaults)
{
	struct cfg c;
	char text[2048], why[512];

	section(text, sizeof(text), "com.example.app", "");
	CHECK_EQ(load(&c, text, why, sizeof(why)), TERR_OK);
	CHECK_EQ(c.google.enabled, 1);
	CHECK_STR(c.google.package_name, "com.example.app");
	CHECK_STR(c.google.push_audience, AUD);
	CHECK_STR(c.google.push_service_account, EMAIL);
	CHECK_STR(c.google.certs_url, "https://www.googleapis.com/oauth2/v3/certs");
	CHECK_EQ(c.google.test_mode, 0);
	cfg_release(&c);
}

TEST(google_cfg_reads_every_key)
{
	struct cfg c;
	char text[2048], why[512];

	section(text, sizeof(text), "com.Example.my_app2",
	    ", \"certs_url\": \"http://127.0.0.1:9/certs\", \"api_base\": "
	    "\"http://127.0.0.1:9/\", \"token_url\": \"https://127.0.0.1:10/token\", "
	    "\"test_mode\": true");
	CHECK_EQ(load(&c, text, why, sizeof(why)), TERR_OK);
	CHECK_STR(c.google.package_name, "com.Example.my_app2");
	CHECK_STR(c.google.certs_url, "http://127.0.0.1:9/certs");
	CHECK_STR(c.google.api_base, "http://127.0.0.1:9/");
	CHECK_STR(c.google.token_url, "https://127.0.0.1:10/token");
	CHECK_EQ(c.google.test_mode, 1);
	cfg_release(&c);
}

TEST(google_cfg_rejects_not_an_object)
{
	CHECK(refused("{\"google\": true}", "config: google: expected an object"));
}

TEST(google_cfg_rejects_unknown_key)
{
	CHECK(refused_extra(", \"sandbox\": true", "google.sandbox: unknown key"));
}

TEST(google_cfg_requires_package_name)
{
	CHECK(refused("{\"google\": {\"push_audience\": \"a\", \"push_service_account\": \"" EMAIL
		      "\"}}",
	    "config: google.package_name: required"));
}

TEST(google_cfg_rejects_bad_package_names)
{
	CHECK(package_refused("app"));
	CHECK(package_refused("com..app"));
	CHECK(package_refused("com.app."));
	CHECK(package_refused(".com.app"));
	CHECK(package_refused("com.1app"));
	CHECK(package_refused("com.my-app"));
	CHECK(package_refused("com.my app"));
	CHECK(package_refused(""));
}

TEST(google_cfg_requires_push_audience)
{
	CHECK(refused("{\"google\": {\"package_name\": \"com.example.app\", "
		      "\"push_service_account\": \"" EMAIL "\"}}",
	    "config: google.push_audience: required"));
	CHECK(refused("{\"google\": {\"package_name\": \"com.example.app\", \"push_audience\": "
		      "\"\", \"push_service_account\": \"" EMAIL "\"}}",
	    "google.push_audience"));
}

TEST(google_cfg_requires_push_service_account)
{
	CHECK(refused("{\"google\": {\"package_name\": \"com.example.app\", \"push_audience\": "
		      "\"a\"}}",
	    "config: google.push_service_account: required"));
}

TEST(google_cfg_rejects_bad_service_account_emails)
{
	static const char *const bad[] = { "push", "@example.com", "push@", "push@@example.com",
		"push@example", "push @example.com", "push@.example.com", "push@example.com.",
		"a@b@example.com", "push\\u0001@example.com" };
	char text[2048];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text),
		    "{\"google\": {\"package_name\": \"com.example.app\", \"push_audience\": "
		    "\"a\", \"push_service_account\": \"%s\"}}",
		    bad[i]);
		CHECK(refused(text, "google.push_service_account"));
	}
}

TEST(google_cfg_rejects_bad_urls)
{
	CHECK(refused_extra(", \"certs_url\": \"ftp://example.com/certs\"", "google.certs_url"));
	CHECK(refused_extra(", \"certs_url\": \"https://\"", "google.certs_url"));
	CHECK(refused_extra(", \"api_base\": \"androidpublisher.googleapis.com\"",
	    "google.api_base"));
	CHECK(refused_extra(", \"token_url\": 7", "google.token_url"));
}

TEST(google_cfg_rejects_test_mode_not_a_bool)
{
	CHECK(refused_extra(", \"test_mode\": \"yes\"", "google.test_mode"));
}

/* The key file is a path: not read, not required to exist, at config load. */
TEST(google_cfg_service_account_file_is_a_path_not_read)
{
	struct cfg c;
	char why[512] = "";

	setenv("GOOGLE_SERVICE_ACCOUNT_FILE", "/nonexistent/tally-sa.json", 1);
	CHECK_EQ(cfg_load_env(&c, why, sizeof(why)), TERR_OK);
	CHECK_STR(c.google.sa_file, "/nonexistent/tally-sa.json");
	cfg_release(&c);
	unsetenv("GOOGLE_SERVICE_ACCOUNT_FILE");
	CHECK_EQ(cfg_load_env(&c, why, sizeof(why)), TERR_OK);
	CHECK_STR(c.google.sa_file, "");
	cfg_release(&c);
}

TEST(google_cfg_service_account_file_too_long_names_the_variable)
{
	struct cfg c;
	char path[CFG_PATH_MAX + 8], why[512] = "";
	enum terr rc;

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	setenv("GOOGLE_SERVICE_ACCOUNT_FILE", path, 1);
	rc = cfg_load_env(&c, why, sizeof(why));
	unsetenv("GOOGLE_SERVICE_ACCOUNT_FILE");
	cfg_release(&c);
	CHECK_EQ(rc, TERR_CONFIG);
	CHECK(strncmp(why, "GOOGLE_SERVICE_ACCOUNT_FILE: ", 29) == 0);
	CHECK(strstr(why, "aaaa") == NULL);
}

int
main(void)
{
	RUN(google_cfg_defaults);
	RUN(google_cfg_reads_required_keys_and_keeps_defaults);
	RUN(google_cfg_reads_every_key);
	RUN(google_cfg_rejects_not_an_object);
	RUN(google_cfg_rejects_unknown_key);
	RUN(google_cfg_requires_package_name);
	RUN(google_cfg_rejects_bad_package_names);
	RUN(google_cfg_requires_push_audience);
	RUN(google_cfg_requires_push_service_account);
	RUN(google_cfg_rejects_bad_service_account_emails);
	RUN(google_cfg_rejects_bad_urls);
	RUN(google_cfg_rejects_test_mode_not_a_bool);
	RUN(google_cfg_service_account_file_is_a_path_not_read);
	RUN(google_cfg_service_account_file_too_long_names_the_variable);
	return t_done();
}
