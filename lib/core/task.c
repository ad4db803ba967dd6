/*
 * Tasks owed to providers after a commit: the schedule and the kinds. See
 * task.h. Nothing here calls out (task_run.c does): apply uses this file,
 * and a handler that never tries a task links no API client through it.
 */
#include <string.h>

#include "core/task.h"
#include "providers/google/google_task.h"

int64_t
task_next_try(int64_t failures, int64_t now, int64_t deadline)
{
	int64_t wait = TASK_BACKOFF_FIRST_MS, left;

	while (--failures > 0 && wait < TASK_BACKOFF_MAX_MS)
		wait *= 2;
	if (wait > TASK_BACKOFF_MAX_MS)
		wait = TASK_BACKOFF_MAX_MS;
	if (deadline == 0)
		return now + wait;
	if ((left = deadline - now) <= 0)
		return deadline;
	/* The last tries squeezed in before the deadline: half of what is left each time. */
	if (wait > left / 2)
		wait = left / 2;
	if (wait < TASK_BACKOFF_MIN_MS)
		wait = TASK_BACKOFF_MIN_MS;
	return wait < left ? now + wait : deadline;
}

int64_t
task_near_at(int64_t created, int64_t deadline)
{
	int64_t window;

	if (deadline == 0 || deadline <= created)
		return 0;
	/* 24 h of Google's 3 days; a license tester's few minutes get their last third. */
	window = (deadline - created) / TASK_NEAR_SHARE;
	if (window > TASK_NEAR_MS)
		window = TASK_NEAR_MS;
	return deadline - window;
}

static const struct task_kind kinds[] = {
	{ "google_ack_sub", "google", GOOGLE_TASK_ACK_SUB },
	{ "google_ack_product", "google", GOOGLE_TASK_ACK_PRODUCT },
	{ "google_consume", "google", GOOGLE_TASK_CONSUME },
};

const struct task_kind *
task_kind(const char *kind)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return &kinds[i];
	return NULL;
}

const char *
task_result_str(enum task_result r)
{
	static const char *const names[] = { "done", "retry", "blocked", "given_up",
		"deadline_passed", "taken" };

	return (unsigned)r < TASK_R__MAX ? names[r] : "taken";
}
