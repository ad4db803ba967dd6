/*
 * apply: BEV_TASK, the work owed to a provider once the event commits
 * (Google Play's acknowledge and consume). Provider-neutral: the kind names
 * its provider (core/task.h's table), so a task is the same row whichever
 * event owes it (the push, or the app handing the purchase in first), and
 * the second adds nothing.
 */
#include <string.h>

#include "base/text.h"
#include "core/apply_task.h"
#include "core/task.h"
#include "store/store_tasks.h"

enum terr
ap_apply_task(struct actx *a, const struct bev *e, struct outcome *o)
{
	const struct bev_task *k = &e->task;
	const struct task_kind *kind = task_kind(k->kind);
	struct task_row t;
	enum terr rc;

	if (kind == NULL)
		return ap_fail(o, "the event owes a task of kind \"%.*s\", which tally cannot do",
		    KIND_MAX, k->kind);
	if (k->key[0] == '\0')
		return ap_fail(o, "the event owes a task of kind %s but names nothing it is about",
		    k->kind);
	memset(&t, 0, sizeof(t));
	text_copy(t.provider, sizeof(t.provider), kind->provider);
	text_copy(t.kind, sizeof(t.kind), k->kind);
	text_copy(t.key, sizeof(t.key), k->key);
	text_copy(t.arg, sizeof(t.arg), k->arg);
	text_copy(t.user, sizeof(t.user), o->user);
	t.inbox_id = o->op.inbox_id;
	t.deadline = k->deadline;
	t.near_at = task_near_at(a->now, k->deadline);
	t.created_at = t.due_at = a->now;
	rc = store_task_insert(a->s, &t);
	return rc == TERR_DUP ? TERR_OK : rc;
}
