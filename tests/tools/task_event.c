/*
 * Test tool: apply one event that owes a task, as a handler applies what it
 * parsed, and then, unless --no-try, try the event's tasks at once with
 * svc_tasks, as a handler does right after its commit. Stands in for the
 * Google Play handler's event in the tasks' tests.
 *
 *   task_event [--no-try] EVENT_ID USER KIND TOKEN PRODUCT DEADLINE_MS
 *
 * The event (provider "tool") names USER and owes KIND on TOKEN with
 * PRODUCT, due by DEADLINE_MS (0: none). TALLY_DB and TALLY_CONFIG as for
 * every program of tally (the config's google section and
 * GOOGLE_SERVICE_ACCOUNT_FILE for the try). Prints
 * {"state","duplicate","inbox_id","reason"}; exits 0 when committed, 1
 * otherwise, 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/text.h"
#include "base/tm.h"
#include "cfg/cfg.h"
#include "core/apply.h"
#include "crypto/crypto.h"
#include "http/httpc.h"
#include "serve/svc_tasks.h"
#include "store/store_rows.h"

int
main(int argc, char **argv)
{
	struct cfg c;
	struct store *s = NULL;
	struct apply_result res;
	struct svc sv;
	struct bev *e = NULL;
	char why[512], storage[1024];
	struct buf b;
	struct jw w;
	int64_t deadline;
	int a = 1, try = 1, rc = 1;

	if (argc > 1 && strcmp(argv[1], "--no-try") == 0) {
		try = 0;
		a++;
	}
	if (argc - a != 6 || text_i64s(argv[a + 5], 0, INT64_MAX, &deadline) != TERR_OK) {
		fprintf(stderr,
		    "usage: task_event [--no-try] EVENT_ID USER KIND TOKEN PRODUCT DEADLINE_MS\n");
		return 2;
	}
	crypto_init();
	httpc_init();
	log_init("task_event");
	if (cfg_load(&c, why, sizeof(why)) != TERR_OK) {
		fprintf(stderr, "task_event: %s\n", why);
		return 1;
	}
	if (store_open(&s, c.db_path, STORE_RW) != TERR_OK || (e = malloc(sizeof(*e))) == NULL)
		goto out;
	bev_init(e);
	text_copy(e->provider, sizeof(e->provider), "tool");
	text_copy(e->id, sizeof(e->id), argv[a]);
	text_copy(e->type, sizeof(e->type), "purchase");
	text_copy(e->user, sizeof(e->user), argv[a + 1]);
	e->at = tm_now_ms();
	e->aspects = BEV_LINKONLY | BEV_TASK;
	text_copy(e->task.kind, sizeof(e->task.kind), argv[a + 2]);
	text_copy(e->task.key, sizeof(e->task.key), argv[a + 3]);
	text_copy(e->task.arg, sizeof(e->task.arg), argv[a + 4]);
	e->task.deadline = deadline;
	e->raw = "{}";
	e->raw_len = 2;
	if (apply_batch(s, &c, e, 1, &res, tm_now_ms()) != TERR_OK)
		goto out;
	if (try) {
		/* As a handler's thread: its own read-write connection, the process's clients. */
		memset(&sv, 0, sizeof(sv));
		sv.cfg = &c;
		svc_tasks(&sv, &res);
		svc_tasks_release();
		store_close(sv.rw);
	}
	buf_init_fixed(&b, storage, sizeof(storage));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "state", inbox_state_str(res.state));
	jw_kbool(&w, "duplicate", res.duplicate);
	jw_kint(&w, "inbox_id", res.inbox_id);
	jw_kstr(&w, "reason", res.reason);
	jw_end(&w);
	printf("%s\n", buf_cstr(&b));
	rc = 0;
out:
	free(e);
	store_close(s);
	cfg_release(&c);
	return rc;
}
