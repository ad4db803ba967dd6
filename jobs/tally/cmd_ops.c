/*
 * bin/tally: the operator's mending tools.
 *
 *   user history ID [--json]              every event, ledger entry and audit row, in order
 *   subscription set ID STATE --reason T  an operator's state for a subscription (audited)
 *   promo credits USER AMOUNT --reason T [--expires TIME]
 *   promo entitlement USER NAME --reason T [--until TIME]
 *   outbox list [--state pending|sent|dead] [--limit N] [--json]
 *   outbox retry ID                       a dead delivery back to pending
 *   export ledger --since TIME            CSV of every ledger entry since TIME
 *   rebuild [--into PATH] [--keep] [--json]  replay every event into a new database and compare
 *   rebuild --metrics                     the metrics' rollups computed again from their history
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "cli.h"
#include "core/kpi.h"
#include "core/rebuild.h"

#define HISTORY_MAX 2000

/* One line of a user's history. */
struct hline {
	int64_t at;
	int64_t order; /* inbox 0, ledger 1, audit 2: ties keep that order */
	int64_t id;
	char text[REASON_MAX + 256];
};

static int
hline_cmp(const void *a, const void *b)
{
	const struct hline *x = a, *y = b;

	if (x->at != y->at)
		return x->at < y->at ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

int
cmd_user_history(struct cli *c)
{
	struct inbox_row *in = NULL;
	struct ledger_row *le = NULL;
	struct audit_row *au = NULL;
	struct hline *h = NULL;
	size_t ni = 0, nl = 0, na = 0, n = 0, i;
	char when[TM_ISO_SIZE];
	int ret = 1;

	if (c->npos != 1)
		return cli_usage();
	if (cli_open(c, STORE_RO) != 0)
		return 1;
	if (store_user_exists(c->s, c->pos[0]) == TERR_NOTFOUND)
		return cli_fail("no such user", c->pos[0]);
	in = calloc(HISTORY_MAX, sizeof(*in));
	le = calloc(HISTORY_MAX, sizeof(*le));
	au = calloc(HISTORY_MAX, sizeof(*au));
	h = calloc(3 * HISTORY_MAX, sizeof(*h));
	if (in == NULL || le == NULL || au == NULL || h == NULL) {
		cli_fail("out of memory", NULL);
		goto out;
	}
	if (store_inbox_list(c->s, -1, c->pos[0], 0, in, HISTORY_MAX, &ni) != TERR_OK ||
	    store_ledger_of(c->s, c->pos[0], le, HISTORY_MAX, &nl) != TERR_OK ||
	    store_audit_of(c->s, c->pos[0], au, HISTORY_MAX, &na) != TERR_OK) {
		cli_fail("cannot read the history", NULL);
		goto out;
	}
	for (i = 0; i < ni; i++, n++) {
		h[n].at = in[i].received_at;
		h[n].id = in[i].id;
		snprintf(h[n].text, sizeof(h[n].text), "event #%lld %s %s %s: %s%s%s",
		    (long long)in[i].id, in[i].provider, in[i].event_id, in[i].type,
		    inbox_state_str(in[i].state), in[i].reason[0] ? " - " : "", in[i].reason);
	}
	for (i = 0; i < nl; i++, n++) {
		h[n].at = le[i].created_at;
		h[n].order = 1;
		h[n].id = le[i].id;
		snprintf(h[n].text, sizeof(h[n].text),
		    "ledger #%lld %+lld %s (grant %lld) by %s%s%s", (long long)le[i].id,
		    (long long)le[i].amount, le[i].kind, (long long)le[i].grant_id, le[i].actor,
		    le[i].reason[0] ? ": " : "", le[i].reason);
	}
	for (i = 0; i < na; i++, n++) {
		h[n].at = au[i].at;
		h[n].order = 2;
		h[n].id = au[i].id;
		snprintf(h[n].text, sizeof(h[n].text), "audit #%lld %s %s %s by %s%s%s",
		    (long long)au[i].id, au[i].action, au[i].object, au[i].detail, au[i].actor,
		    au[i].reason[0] ? ": " : "", au[i].reason);
	}
	qsort(h, n, sizeof(*h), hline_cmp);
	if (c->json) {
		struct buf b;
		struct jw w;
		buf_init(&b, OUT_MAX);
		jw_init(&w, &b);
		jw_arr(&w);
		for (i = 0; i < n; i++) {
			jw_obj(&w);
			jw_ktime(&w, "at", h[i].at);
			jw_kstr(&w, "kind",
			    h[i].order == 0       ? "event"
				: h[i].order == 1 ? "ledger"
						  : "audit");
			jw_kint(&w, "id", h[i].id);
			jw_kstr(&w, "text", h[i].text);
			jw_end(&w);
		}
		jw_aend(&w);
		buf_putc(&b, '\n');
		cli_outb(&b);
		buf_release(&b);
	} else
		for (i = 0; i < n; i++) {
			tm_iso(h[i].at, when);
			printf("%s  ", when);
			cli_out(h[i].text, strlen(h[i].text));
			cli_out("\n", 1);
		}
	ret = 0;
out:
	free(in);
	free(le);
	free(au);
	free(h);
	return ret;
}

int
cmd_subscription_set(struct cli *c)
{
	struct op_action a;
	struct sub_row r;
	int64_t id;

	if (c->npos != 2 || text_i64s(c->pos[0], 1, INT64_MAX, &id) != TERR_OK)
		return cli_usage();
	if (sub_state_parse(c->pos[1]) == SUB_NONE)
		return cli_bad_arg("unknown state (trialing, active, canceled, past_due, paused, "
				   "expired, revoked, refunded)",
		    c->pos[1]);
	if (c->reason == NULL || c->reason[0] == '\0')
		return cli_bad_arg("subscription set needs --reason", NULL);
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if (store_sub_get(c->s, id, &r) != TERR_OK)
		return cli_fail("no such subscription", c->pos[0]);
	memset(&a, 0, sizeof(a));
	a.action = "subscription.set";
	a.user = r.user;
	a.sub_id = id;
	a.state = c->pos[1];
	a.reason = c->reason;
	return cli_run_op(c, &a, "subscription state set");
}

int
cmd_promo(struct cli *c)
{
	struct op_action a;
	int64_t amount = 0, when = 0;
	const char *until = cli_opt(c, "until");
	int ent;

	if (c->npos != 3)
		return cli_usage();
	ent = strcmp(c->pos[0], "entitlement") == 0;
	if (!ent && strcmp(c->pos[0], "credits") != 0)
		return cli_usage();
	if (c->reason == NULL || c->reason[0] == '\0')
		return cli_bad_arg("a promotion needs --reason", NULL);
	if (!ent && text_i64s(c->pos[2], 1, CREDITS_MAX, &amount) != TERR_OK)
		return cli_bad_arg("AMOUNT must be from 1 to 1000000000", c->pos[2]);
	if ((ent ? until : c->expires) != NULL &&
	    tm_parse(ent ? until : c->expires, &when) != TERR_OK)
		return cli_bad_arg("a time like 2026-12-31T00:00:00Z", ent ? until : c->expires);
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	memset(&a, 0, sizeof(a));
	a.user = c->pos[1];
	a.reason = c->reason;
	if (ent) {
		a.action = "promo.entitlement";
		a.name = c->pos[2];
		a.ends_at = when;
	} else {
		a.action = "promo.credits";
		a.amount = amount;
		a.expires_at = when;
	}
	return cli_run_op(c, &a, "promotion granted");
}

int
cmd_outbox_list(struct cli *c)
{
	struct outbox_item *rows;
	struct buf b;
	struct jw w;
	char when[TM_ISO_SIZE];
	size_t n = 0, i;
	int64_t limit = c->limit > 0 ? c->limit : LIST_PAGE;

	if (c->npos != 0)
		return cli_usage();
	if (c->state != NULL && strcmp(c->state, "pending") != 0 && strcmp(c->state, "sent") != 0 &&
	    strcmp(c->state, "dead") != 0)
		return cli_bad_arg("--state takes pending, sent or dead", c->state);
	if (cli_open(c, STORE_RO) != 0)
		return 1;
	if ((rows = calloc((size_t)limit, sizeof(*rows))) == NULL)
		return cli_fail("out of memory", NULL);
	if (store_outbox_list(c->s, c->state, 0, rows, (size_t)limit, &n) != TERR_OK) {
		free(rows);
		return cli_fail("cannot read the outbox", NULL);
	}
	buf_init(&b, OUT_MAX);
	jw_init(&w, &b);
	if (c->json)
		jw_arr(&w);
	for (i = 0; i < n; i++) {
		if (c->json) {
			jw_obj(&w);
			jw_kint(&w, "id", rows[i].id);
			jw_kstr(&w, "kind", rows[i].kind);
			jw_kstr(&w, "topic", rows[i].topic);
			jw_kstr(&w, "user_id", rows[i].user[0] ? rows[i].user : NULL);
			jw_kstr(&w, "state", rows[i].state);
			jw_kint(&w, "attempts", rows[i].attempts);
			jw_ktime(&w, "next_at", rows[i].next_at);
			jw_kstr(&w, "last_error", rows[i].last_error);
			jw_key(&w, "payload");
			jw_raw(&w, rows[i].payload[0] ? rows[i].payload : "null");
			jw_end(&w);
		} else {
			tm_iso(rows[i].created_at, when);
			buf_printf(&b, "#%lld %s %-7s %-20s %-8s attempts %lld %s%s\n",
			    (long long)rows[i].id, when, rows[i].kind, rows[i].topic, rows[i].state,
			    (long long)rows[i].attempts, rows[i].user,
			    rows[i].last_error[0] ? " error: " : "");
			if (rows[i].last_error[0])
				buf_printf(&b, "    %s\n", rows[i].last_error);
		}
	}
	if (c->json) {
		jw_aend(&w);
		buf_putc(&b, '\n');
	}
	cli_outb(&b);
	buf_release(&b);
	free(rows);
	return 0;
}

int
cmd_outbox_retry(struct cli *c)
{
	int64_t id;
	enum terr rc;

	if (c->npos != 1 || text_i64s(c->pos[0], 1, INT64_MAX, &id) != TERR_OK)
		return cli_usage();
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if ((rc = store_begin(c->s)) != TERR_OK)
		return cli_fail("not committed", err_str(rc));
	if ((rc = store_outbox_retry(c->s, id, c->now)) == TERR_OK)
		rc = store_commit(c->s);
	if (rc != TERR_OK) {
		store_rollback(c->s);
		return rc == TERR_NOTFOUND ? cli_fail("no such dead delivery", c->pos[0])
					   : cli_fail("not committed", err_str(rc));
	}
	printf("delivery #%lld is pending again\n", (long long)id);
	return 0;
}

/* A CSV field: quoted, quotes doubled (RFC 4180). */
static void
csv(struct buf *b, const char *s, int last)
{
	buf_putc(b, '"');
	for (; *s != '\0'; s++) {
		if (*s == '"')
			buf_putc(b, '"');
		buf_putc(b, *s);
	}
	buf_putc(b, '"');
	buf_putc(b, last ? '\n' : ',');
}

int
cmd_export_ledger(struct cli *c)
{
	struct ledger_row *rows;
	const char *s = cli_opt(c, "since");
	struct buf b;
	char when[TM_ISO_SIZE], num[32];
	int64_t since = 0, after = 0;
	size_t n, i;

	if (c->npos != 0 || s == NULL || tm_parse(s, &since) != TERR_OK)
		return cli_bad_arg("export ledger takes --since TIME (2026-11-01T00:00:00Z)", s);
	if (cli_open(c, STORE_RO) != 0)
		return 1;
	if ((rows = calloc(LIST_PAGE, sizeof(*rows))) == NULL)
		return cli_fail("out of memory", NULL);
	buf_init(&b, 1024 * 1024);
	fputs("id,at,user_id,grant_id,amount,kind,actor,reason,inbox_id\n", stdout);
	for (;;) {
		if (store_ledger_since(c->s, since, after, rows, LIST_PAGE, &n) != TERR_OK) {
			free(rows);
			buf_release(&b);
			return cli_fail("cannot read the ledger", NULL);
		}
		if (n == 0)
			break;
		for (i = 0; i < n; i++) {
			buf_reset(&b);
			tm_iso(rows[i].created_at, when);
			buf_printf(&b, "%lld,%s,", (long long)rows[i].id, when);
			csv(&b, rows[i].user, 0);
			snprintf(num, sizeof(num), "%lld,%lld,", (long long)rows[i].grant_id,
			    (long long)rows[i].amount);
			buf_puts(&b, num);
			csv(&b, rows[i].kind, 0);
			csv(&b, rows[i].actor, 0);
			csv(&b, rows[i].reason, 0);
			snprintf(num, sizeof(num), "%lld\n", (long long)rows[i].inbox_id);
			buf_puts(&b, num);
			cli_outb(&b);
		}
		after = rows[n - 1].id;
	}
	free(rows);
	buf_release(&b);
	return 0;
}

struct rctx {
	struct cli *c;
	struct jw *w;
};

static void
on_diff(void *arg, const char *table, const char *only_in, const char *row)
{
	struct rctx *r = arg;

	if (r->c->json) {
		jw_obj(r->w);
		jw_kstr(r->w, "table", table);
		jw_kstr(r->w, "only_in", only_in);
		jw_kstr(r->w, "row", row);
		jw_end(r->w);
	} else {
		printf("%-16s only in %-7s ", table, only_in);
		cli_out(row, strlen(row));
		cli_out("\n", 1);
	}
}

/* rebuild --metrics: kpi_daily from sub_history, payments, refunds and the ledger, in place. */
static int
rebuild_metrics(struct cli *c)
{
	int64_t rows = 0;
	enum terr rc;

	if (cli_opt(c, "into") != NULL || cli_flag(c, "keep"))
		return cli_bad_arg("rebuild --metrics works in place: no --into, no --keep", NULL);
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if ((rc = kpi_rebuild(c->s, &rows)) != TERR_OK)
		return cli_fail("rebuild --metrics not committed", err_str(rc));
	if (c->json)
		printf("{\"metrics_rows\":%lld}\n", (long long)rows);
	else
		printf("rebuild: the metrics' daily rollups computed again from their history: "
		       "%lld rows\n",
		    (long long)rows);
	return 0;
}

int
cmd_rebuild(struct cli *c)
{
	struct rebuild_stats st;
	struct rctx r = { c, NULL };
	struct buf b;
	struct jw w;
	char path[CFG_PATH_MAX + 32], why[256];
	const char *into = cli_opt(c, "into");
	enum terr rc;

	if (c->npos != 0)
		return cli_usage();
	if (cli_flag(c, "metrics"))
		return rebuild_metrics(c);
	if (store_is_postgres(c->cfg.db_path))
		return cli_fail(
		    "tally rebuild compares through a SQLite file: not yet on PostgreSQL", NULL);
	if (cli_open(c, STORE_RO) != 0)
		return 1;
	if (into != NULL)
		text_copy(path, sizeof(path), into);
	else
		snprintf(path, sizeof(path), "%s.rebuild-%ld", c->cfg.db_path, (long)getpid());
	buf_init(&b, OUT_MAX);
	jw_init(&w, &b);
	r.w = &w;
	if (c->json) {
		jw_obj(&w);
		jw_key(&w, "differences");
		jw_arr(&w);
	}
	rc = rebuild_run(c->s, &c->cfg, path, 20, on_diff, &r, &st, why, sizeof(why));
	if (into == NULL && !cli_flag(c, "keep")) {
		char side[CFG_PATH_MAX + 48];
		unlink(path);
		snprintf(side, sizeof(side), "%s-wal", path);
		unlink(side);
		snprintf(side, sizeof(side), "%s-shm", path);
		unlink(side);
	}
	if (rc != TERR_OK) {
		buf_release(&b);
		return cli_fail("rebuild failed", why);
	}
	if (c->json) {
		jw_aend(&w);
		jw_kint(&w, "events", st.events);
		jw_kint(&w, "unparsed", st.unparsed);
		jw_kint(&w, "diffs", st.diffs);
		jw_kbool(&w, "identical", st.diffs == 0 && st.unparsed == 0);
		jw_end(&w);
		buf_putc(&b, '\n');
		cli_outb(&b);
	} else
		printf(
		    "rebuild: %lld events replayed, %lld no longer parse, %lld rows differ: %s\n",
		    (long long)st.events, (long long)st.unparsed, (long long)st.diffs,
		    st.diffs == 0 && st.unparsed == 0 ? "identical" : "DIFFERENT");
	buf_release(&b);
	return st.diffs == 0 && st.unparsed == 0 ? 0 : 1;
}
