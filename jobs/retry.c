/*
 * tally-retry: replay inbox events left orphaned, unknown_product or failed,
 * oldest first, in case their cause has been fixed since (a product added to
 * the catalog, a user linked, a bug fixed): apply_replay, each in its own
 * transaction, as `tally events replay` does. An event applied or ignored
 * meanwhile is left alone.
 *
 * An event is tried again once its backoff has passed since its last try
 * (updated_at): 15 minutes after the first, doubling with each attempt up
 * to a day, so one that cannot succeed costs a replay a day, not one a run.
 * Picked through inbox_attention. Options: lib/job/job.h. Exit 0, 1, 2.
 */
#include <stdio.h>
#include <string.h>

#include "base/text.h"
#include "core/apply.h"
#include "job/job.h"

#define LIMIT_DEFAULT 1000
#define PAGE          64
#define BACKOFF_FIRST (15LL * 60 * 1000)
#define BACKOFF_MAX   (24LL * 3600 * 1000)

/* How long after its last try an event with attempts tries is tried again. */
static int64_t
backoff(int64_t attempts)
{
	int64_t d = BACKOFF_FIRST;

	while (--attempts > 0 && d < BACKOFF_MAX)
		d *= 2;
	return d < BACKOFF_MAX ? d : BACKOFF_MAX;
}

static int
replay(struct job *j, const struct inbox_row *row)
{
	struct apply_result res;
	char subject[ID_MAX + PROVIDER_MAX + 16], result[40];
	struct job_item it = { .action = "replay", .subject = subject, .user = row->user };
	enum terr rc;

	j->done++;
	snprintf(subject, sizeof(subject), "inbox %lld (%s %s)", (long long)row->id, row->provider,
	    row->event_id);
	if (j->dry_run) {
		it.result = "would replay";
		it.reason = inbox_state_str(row->state);
		job_report(j, &it);
		job_count(j, "replay.would_replay", 1);
		return 0;
	}
	rc = apply_replay(j->s, &j->cfg, row->id, NULL, &res, j->now);
	if (rc == TERR_DB || rc == TERR_BUSY || rc == TERR_NOMEM) {
		j->stop = 1;
		job_fail(j, "replay of inbox %lld: storage failed: %s", (long long)row->id,
		    err_str(rc));
		return -1;
	}
	if (rc != TERR_OK) {
		/* The stored body no longer parses (a parser changed): a person must look. */
		it.result = "unreadable";
		it.reason = res.reason;
		job_report(j, &it);
		job_count(j, "replay.unreadable", 1);
		return 0;
	}
	if (res.duplicate)
		text_copy(result, sizeof(result), "duplicate");
	else if (res.state == INBOX_APPLIED || res.state == INBOX_IGNORED)
		text_copy(result, sizeof(result), inbox_state_str(res.state));
	else
		snprintf(result, sizeof(result), "still_%s", inbox_state_str(res.state));
	it.result = result;
	it.reason = res.reason;
	job_report(j, &it);
	{
		char name[48];
		snprintf(name, sizeof(name), "replay.%s", result);
		job_count(j, name, 1);
	}
	return job_tick(j);
}

int
main(int argc, char **argv)
{
	struct inbox_row rows[PAGE];
	struct job j;
	int64_t after = 0;
	size_t n, i;
	int r;
	enum terr rc;

	if ((r = job_init(&j, "retry", argc, argv, NULL, LIMIT_DEFAULT)) != JOB_RUN)
		return r;
	while (job_more(&j)) {
		if ((rc = store_due_attention(j.s, after, rows, PAGE, &n)) != TERR_OK) {
			job_fail(&j, "storage failed reading the inbox: %s", err_str(rc));
			break;
		}
		if (n == 0)
			break;
		after = rows[n - 1].id;
		for (i = 0; i < n && job_more(&j); i++) {
			if (rows[i].updated_at + backoff(rows[i].attempts) > j.now) {
				job_count(&j, "replay.waiting", 1);
				continue;
			}
			if (replay(&j, &rows[i]) != 0)
				break;
		}
	}
	return job_finish(&j);
}
