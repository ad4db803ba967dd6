/*
 * bin/tally: the work tally owes providers after a commit (core/task.h):
 * what is pending, how often it was tried, its last error, its deadline.
 *
 *   tasks [--all] [--limit N] [--json]
 *
 * Pending tasks, soonest due first; --all every task, newest first (done
 * and given up too). At most --limit (100 by default).
 */
#include <stdio.h>
#include <stdlib.h>

#include "base/json.h"
#include "base/tm.h"
#include "cli.h"

static void
task_json(struct jw *w, const struct task_row *t)
{
	jw_obj(w);
	jw_kint(w, "id", t->id);
	jw_kstr(w, "provider", t->provider);
	jw_kstr(w, "kind", t->kind);
	jw_kstr(w, "key", t->key);
	jw_kstr(w, "arg", t->arg);
	jw_kstr(w, "user_id", t->user[0] != '\0' ? t->user : NULL);
	jw_key(w, "inbox_id");
	if (t->inbox_id != 0)
		jw_int(w, t->inbox_id);
	else
		jw_null(w);
	jw_kstr(w, "state", task_state_str(t->state));
	jw_kint(w, "attempts", t->attempts);
	jw_ktime(w, "created_at", t->created_at);
	jw_ktime(w, "due_at", t->state == TASK_PENDING ? t->due_at : 0);
	jw_ktime(w, "deadline", t->deadline);
	jw_ktime(w, "last_try_at", t->last_try_at);
	jw_ktime(w, "done_at", t->done_at);
	jw_kstr(w, "last_error", t->last_error);
	jw_ktime(w, "near_alerted_at", t->near_alerted_at);
	jw_ktime(w, "late_alerted_at", t->late_alerted_at);
	jw_end(w);
}

/* "#12 google_ack_sub pending, attempts 2, due ..., deadline ..., user alice" and its key, error. */
static void
task_text(struct buf *b, const struct task_row *t)
{
	char due[TM_ISO_SIZE], deadline[TM_ISO_SIZE], done[TM_ISO_SIZE];

	tm_iso(t->due_at, due);
	tm_iso(t->deadline, deadline);
	tm_iso(t->done_at, done);
	buf_printf(b, "#%lld %s %s, attempts %lld", (long long)t->id, t->kind,
	    task_state_str(t->state), (long long)t->attempts);
	if (t->state == TASK_PENDING)
		buf_printf(b, ", due %s", due);
	else
		buf_printf(b, " at %s", done);
	buf_printf(b, ", deadline %s", t->deadline != 0 ? deadline : "none");
	if (t->user[0] != '\0')
		buf_printf(b, ", user %s", t->user);
	buf_printf(b, "\n    %s %s%s%s\n", t->provider, t->key, t->arg[0] != '\0' ? " " : "",
	    t->arg);
	if (t->last_error[0] != '\0')
		buf_printf(b, "    %s: %s\n", t->state == TASK_PENDING ? "last error" : "note",
		    t->last_error);
}

int
cmd_tasks(struct cli *c)
{
	struct task_row *rows;
	struct buf b;
	struct jw w;
	size_t n = 0, i;
	int64_t limit = c->limit > 0 ? c->limit : LIST_PAGE;
	int all = cli_flag(c, "all");
	enum terr rc;

	if (c->npos != 0)
		return cli_usage();
	if (cli_open(c, STORE_RO) != 0)
		return 1;
	if ((rows = calloc((size_t)limit, sizeof(*rows))) == NULL)
		return cli_fail("out of memory", NULL);
	if ((rc = store_tasks_list(c->s, all, rows, (size_t)limit, &n)) != TERR_OK) {
		free(rows);
		return cli_fail("cannot read the tasks", err_str(rc));
	}
	buf_init(&b, OUT_MAX);
	jw_init(&w, &b);
	if (c->json)
		jw_arr(&w);
	for (i = 0; i < n; i++) {
		if (c->json)
			task_json(&w, &rows[i]);
		else
			task_text(&b, &rows[i]);
	}
	if (c->json) {
		jw_aend(&w);
		buf_putc(&b, '\n');
	} else if (n == 0)
		buf_puts(&b, all ? "no tasks\n" : "no pending tasks\n");
	cli_outb(&b);
	buf_release(&b);
	free(rows);
	return 0;
}
