/*
 * lib/cfg/cfg_jobs.c: the reminders and deliver sections. Defaults when absent,
 * offsets stored largest first whatever order they are written in, and every
 * malformed value refused with a message naming the key.
 */
#include <stdio.h>
#include <string.h>

#include "cfg/cfg.h"
#include "t.h"

#define DAY_MS  (86400LL * 1000)
#define HOUR_MS (3600LL * 1000)

/* Parse text into a fresh cfg (after cfg_defaults); the caller cfg_releases. */
static enum terr
load(struct cfg *c, const char *text, char *why, size_t whysize)
{
	cfg_defaults(c);
	why[0] = '\0';
	return cfg_parse(c, text, strlen(text), why, whysize);
}

TEST(jobs_cfg_defaults_three_days_and_one_ten_attempts_fifteen_seconds)
{
	struct cfg c;
	char why[256];

	CHECK_EQ(load(&c, "{}", why, sizeof(why)), TERR_OK);
	CHECK_EQ(c.jobs.ntrial, 2);
	CHECK_EQ(c.jobs.trial_offsets[0], 3 * DAY_MS);
	CHECK_EQ(c.jobs.trial_offsets[1], DAY_MS);
	CHECK_EQ(c.jobs.nexpiry, 2);
	CHECK_EQ(c.jobs.max_attempts, 10);
	CHECK_EQ(c.jobs.timeout, 15000);
	CHECK_STR(c.jobs.webhook_url, "");
	cfg_release(&c);
}

TEST(jobs_cfg_reads_both_sections_offsets_largest_first)
{
	struct cfg c;
	char why[256];

	CHECK_EQ(load(&c,
		     "{\"reminders\": {\"trial\": [\"1d\", \"12h\", \"7d\"], \"expiry\": []},"
		     " \"deliver\": {\"webhook_url\": \"https://app.example/hooks\","
		     " \"notify_url\": \"http://127.0.0.1:9/n\", \"alert_url\": "
		     "\"https://hooks.slack.com/services/x\", \"max_attempts\": 3, \"timeout\": "
		     "\"30s\"}}",
		     why, sizeof(why)),
	    TERR_OK);
	CHECK_EQ(c.jobs.ntrial, 3);
	CHECK_EQ(c.jobs.trial_offsets[0], 7 * DAY_MS);
	CHECK_EQ(c.jobs.trial_offsets[1], DAY_MS);
	CHECK_EQ(c.jobs.trial_offsets[2], 12 * HOUR_MS);
	CHECK_EQ(c.jobs.nexpiry, 0);
	CHECK_STR(c.jobs.webhook_url, "https://app.example/hooks");
	CHECK_STR(c.jobs.alert_url, "https://hooks.slack.com/services/x");
	CHECK_EQ(c.jobs.max_attempts, 3);
	CHECK_EQ(c.jobs.timeout, 30000);
	cfg_release(&c);
}

TEST(jobs_cfg_refuses_bad_values_naming_the_key)
{
	static const struct {
		const char *text, *why;
	} bad[] = {
		{ "{\"reminders\": {\"trial\": \"3d\"}}", "reminders.trial: expected a list" },
		{ "{\"reminders\": {\"trial\": [\"0s\"]}}",
		    "reminders.trial[0]: expected a duration" },
		{ "{\"reminders\": {\"expiry\": [\"91d\"]}}", "reminders.expiry[0]" },
		{ "{\"reminders\": {\"trial\": [\"1d\", \"24h\"]}}",
		    "reminders.trial[1]: named twice" },
		{ "{\"reminders\": {\"trial\": "
		  "[\"1d\",\"2d\",\"3d\",\"4d\",\"5d\",\"6d\",\"7d\",\"8d\","
		  "\"9d\"]}}",
		    "more than 8 offsets" },
		{ "{\"reminders\": {\"trail\": [\"1d\"]}}", "reminders.trail: unknown key" },
		{ "{\"deliver\": {\"webhook_url\": \"ftp://x\"}}", "deliver.webhook_url" },
		{ "{\"deliver\": {\"max_attempts\": 0}}", "deliver.max_attempts" },
		{ "{\"deliver\": {\"timeout\": \"10m\"}}", "deliver.timeout" },
		{ "{\"deliver\": {\"secret\": \"whsec_x\"}}", "deliver.secret: unknown key" },
	};
	struct cfg c;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_EQ(load(&c, bad[i].text, why, sizeof(why)), TERR_CONFIG);
		if (strstr(why, bad[i].why) == NULL)
			printf("# %s -> %s\n", bad[i].text, why);
		CHECK(strstr(why, bad[i].why) != NULL);
		cfg_release(&c);
	}
}

int
main(void)
{
	RUN(jobs_cfg_defaults_three_days_and_one_ten_attempts_fifteen_seconds);
	RUN(jobs_cfg_reads_both_sections_offsets_largest_first);
	RUN(jobs_cfg_refuses_bad_values_naming_the_key);
	return t_done();
}
