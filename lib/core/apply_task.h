/* apply: the work an event owes a provider after its commit (apply_task.c), for apply.c. */
#ifndef TALLY_APPLY_TASK_H
#define TALLY_APPLY_TASK_H

#include "core/apply_outcome.h"

/*
 * BEV_TASK: the event's task (struct bev_task) written in its transaction,
 * due at once, for the user the event resolved (core/task.h). A task owed
 * already under the same (provider, kind, key), done or not, is no error and
 * nothing changes. A kind no executor knows, or no key, fails the event
 * (replayable once the mapping is fixed).
 */
enum terr ap_apply_task(struct actx *a, const struct bev *e, struct outcome *o);

#endif
