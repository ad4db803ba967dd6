/*
 * Configuration of the scheduled jobs: reminders (when the reminders job
 * writes a notice before a trial or a plan that does not renew ends) and
 * deliver (where the deliver job sends the outbox). See cfg.h struct
 * cfg_jobs and docs/jobs.md, "Settings". The webhook signing secret
 * comes from the environment (TALLY_WEBHOOK_SECRET), read by the deliver
 * job itself, never from the file.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/tm.h"
#include "cfg/cfg_jobs.h"
#include "cfg/cfg_read.h"

#define DAY_MS (86400LL * 1000)

/* A reminder further ahead than this is no reminder (and its window would scan half the table). */
#define REMINDER_OFFSET_MAX_MS (90 * DAY_MS)
/* Standard Webhooks: "request timeout 15-30 s"; a minute at most so one run stays bounded. */
#define DELIVER_TIMEOUT_MIN_MS (1000LL)
#define DELIVER_TIMEOUT_MAX_MS (120LL * 1000)

void
cfg_jobs_defaults(struct cfg *c)
{
	struct cfg_jobs *j = &c->jobs;

	/* The example: three days and one day before. */
	j->trial_offsets[0] = j->expiry_offsets[0] = 3 * DAY_MS;
	j->trial_offsets[1] = j->expiry_offsets[1] = 1 * DAY_MS;
	j->ntrial = j->nexpiry = 2;
	/* Ten attempts over about three days (the Standard Webhooks schedule, deliver.c). */
	j->max_attempts = 10;
	j->timeout = 15 * 1000;
}

/* reminders.<key>: a list of durations ("3d", "12h" or seconds), each once, stored largest first. */
static enum terr
offsets(const cJSON *o, const char *key, int64_t *out, size_t *n, char *why, size_t size)
{
	const cJSON *a = jget(o, key), *v;
	int64_t ms, secs, t;
	size_t i, k;

	if (a == NULL)
		return TERR_OK;
	if (!cJSON_IsArray(a))
		return cfg_fail(why, size, "config: reminders.%s: expected a list of durations",
		    key);
	*n = 0;
	cJSON_ArrayForEach (v, a) {
		if (*n == REMINDER_OFFSETS_MAX)
			return cfg_fail(why, size, "config: reminders.%s: more than %d offsets",
			    key, REMINDER_OFFSETS_MAX);
		ms = -1;
		if (cJSON_IsString(v) && tm_parse_duration(v->valuestring, &ms) != TERR_OK)
			ms = -1;
		else if (cJSON_IsNumber(v) && v->valuedouble >= 0 &&
		    v->valuedouble <= (double)REMINDER_OFFSET_MAX_MS / 1000 &&
		    (double)(secs = (int64_t)v->valuedouble) == v->valuedouble)
			ms = secs * 1000;
		if (ms <= 0 || ms > REMINDER_OFFSET_MAX_MS)
			return cfg_fail(why, size,
			    "config: reminders.%s[%zu]: expected a duration from 1s to 90d", key,
			    *n);
		for (i = 0; i < *n; i++)
			if (out[i] == ms)
				return cfg_fail(why, size, "config: reminders.%s[%zu]: named twice",
				    key, *n);
		out[(*n)++] = ms;
	}
	/* Largest first: the reminders job picks the nearest offset due. */
	for (i = 1; i < *n; i++)
		for (k = i; k > 0 && out[k - 1] < out[k]; k--) {
			t = out[k];
			out[k] = out[k - 1];
			out[k - 1] = t;
		}
	return TERR_OK;
}

enum terr
cfg_parse_reminders(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "trial", "expiry", NULL };
	struct cfg_jobs *j = &c->jobs;
	enum terr rc;

	if ((rc = cfg_section(o, "reminders", keys, why, size)) != TERR_OK ||
	    (rc = offsets(o, "trial", j->trial_offsets, &j->ntrial, why, size)) != TERR_OK)
		return rc;
	return offsets(o, "expiry", j->expiry_offsets, &j->nexpiry, why, size);
}

enum terr
cfg_parse_deliver(struct cfg *c, const cJSON *o, char *why, size_t size)
{
	static const char *const keys[] = { "webhook_url", "notify_url", "alert_url",
		"max_attempts", "timeout", NULL };
	struct cfg_jobs *j = &c->jobs;
	enum terr rc;

	if ((rc = cfg_section(o, "deliver", keys, why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "webhook_url", "deliver", j->webhook_url, sizeof(j->webhook_url),
		 why, size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "notify_url", "deliver", j->notify_url, sizeof(j->notify_url), why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_url(o, "alert_url", "deliver", j->alert_url, sizeof(j->alert_url), why,
		 size)) != TERR_OK ||
	    (rc = cfg_get_int(o, "max_attempts", "deliver", 1, 100, &j->max_attempts, why, size)) !=
		TERR_OK ||
	    (rc = cfg_get_duration(o, "timeout", "deliver", &j->timeout, why, size)) != TERR_OK)
		return rc;
	if (j->timeout < DELIVER_TIMEOUT_MIN_MS || j->timeout > DELIVER_TIMEOUT_MAX_MS)
		return cfg_fail(why, size,
		    "config: deliver.timeout: expected a duration from 1s to 2m");
	return TERR_OK;
}
