/*
 * bin/tally: the database and the inbox (migrate, events list, show and
 * replay, verify).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/tally_limits.h"
#include "base/text.h"
#include "base/tm.h"
#include "cli.h"
#include "core/apply.h"

int
cmd_migrate(struct cli *c)
{
	char why[512], db[PG_URI_MAX];
	int64_t to = 0;
	int from, now;

	if (c->to != NULL && text_i64s(c->to, 1, 1000000, &to) != TERR_OK)
		return cli_usage();
	if (cfg_load_env(&c->cfg, why, sizeof(why)) != TERR_OK)
		return cli_fail("configuration invalid", why);
	store_db_shown(c->cfg.db_path, db, sizeof(db));
	if (store_open(&c->s, c->cfg.db_path, STORE_MIGRATE) != TERR_OK)
		return cli_fail("cannot open the database", db);
	if (store_migrate(c->s, (int)to, &from, &now) != TERR_OK)
		return cli_fail("migration failed", NULL);
	if (c->json)
		printf("{\"from\":%d,\"to\":%d}\n", from, now);
	else if (from == now)
		printf("database %s is at version %d: nothing to do\n", db, now);
	else
		printf("database %s migrated from version %d to %d\n", db, from, now);
	return 0;
}

static void
inbox_json(struct jw *w, const struct inbox_row *r)
{
	jw_obj(w);
	jw_kint(w, "inbox_id", r->id);
	jw_kstr(w, "provider", r->provider);
	jw_kstr(w, "event_id", r->event_id);
	jw_kstr(w, "type", r->type);
	jw_kbool(w, "live", r->live);
	jw_kstr(w, "state", inbox_state_str(r->state));
	jw_kstr(w, "reason", r->reason);
	jw_kstr(w, "user_id", r->user[0] != '\0' ? r->user : NULL);
	jw_ktime(w, "event_at", r->event_at);
	jw_ktime(w, "received_at", r->received_at);
	jw_ktime(w, "updated_at", r->updated_at);
	jw_kint(w, "attempts", r->attempts);
	if (r->orphan_kind[0] != '\0') {
		jw_key(w, "waiting_for");
		jw_obj(w);
		jw_kstr(w, "kind", r->orphan_kind);
		jw_kstr(w, "id", r->orphan_id);
		jw_end(w);
	}
}

int
cmd_events_list(struct cli *c)
{
	struct inbox_row *rows;
	struct buf b;
	struct jw w;
	int state = -1, first = 1;
	int64_t after = 0, left = c->limit > 0 ? c->limit : 100;
	size_t n, i;
	enum terr rc = TERR_OK;

	if (c->npos != 0)
		return cli_usage();
	if (c->state != NULL && (state = inbox_state_parse(c->state)) < 0)
		return cli_bad_arg(
		    "unknown state (applied, ignored, orphaned, unknown_product, failed)",
		    c->state);
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if ((rows = calloc(LIST_PAGE, sizeof(*rows))) == NULL)
		return cli_fail("out of memory", NULL);
	buf_init(&b, OUT_MAX);
	jw_init(&w, &b);
	if (c->json)
		jw_arr(&w);
	while (left > 0) {
		rc = store_inbox_list(c->s, state, NULL, after, rows,
		    left < LIST_PAGE ? (size_t)left : LIST_PAGE, &n);
		if (rc != TERR_OK || n == 0)
			break;
		for (i = 0; i < n; i++) {
			char iso[TM_ISO_SIZE];
			if (c->json) {
				inbox_json(&w, &rows[i]);
				jw_end(&w);
				continue;
			}
			if (first)
				buf_puts(&b,
				    "ID      STATE            PROVIDER  RECEIVED              "
				    "TYPE / EVENT / USER / REASON\n");
			first = 0;
			tm_iso(rows[i].received_at, iso);
			buf_printf(&b, "%-7lld %-16s %-9s %-21s %s %s user=%s %s\n",
			    (long long)rows[i].id, inbox_state_str(rows[i].state), rows[i].provider,
			    iso, rows[i].type, rows[i].event_id,
			    rows[i].user[0] ? rows[i].user : "-", rows[i].reason);
		}
		after = rows[n - 1].id;
		left -= (int64_t)n;
	}
	if (c->json) {
		jw_aend(&w);
		buf_putc(&b, '\n');
	} else if (first)
		buf_puts(&b, "no events\n");
	free(rows);
	if (rc != TERR_OK || b.err != TERR_OK) {
		buf_release(&b);
		return cli_fail("cannot list events", err_str(rc != TERR_OK ? rc : b.err));
	}
	cli_outb(&b);
	buf_release(&b);
	return 0;
}

static int
parse_inbox_id(const char *s, int64_t *id)
{
	if (s[0] == '#')
		s++;
	return text_i64s(s, 1, INT64_MAX, id) == TERR_OK;
}

int
cmd_events_show(struct cli *c)
{
	struct inbox_row r;
	struct buf body, b;
	struct jw w;
	cJSON *doc = NULL;
	const char *why;
	int64_t id;
	enum terr rc;
	int ret = 1;

	if (c->npos != 1 || !parse_inbox_id(c->pos[0], &id))
		return cli_usage();
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	buf_init(&body, BODY_MAX);
	buf_init(&b, OUT_MAX);
	if ((rc = store_inbox_get(c->s, id, &r, &body)) != TERR_OK) {
		cli_fail(rc == TERR_NOTFOUND ? "no such event" : "cannot read the event",
		    c->pos[0]);
		goto out;
	}
	if (c->json) {
		jw_init(&w, &b);
		inbox_json(&w, &r);
		jw_key(&w, "body");
		/* The stored body was parsed when it arrived; embed it as JSON when it still is. */
		if (json_parse(buf_cstr(&body), body.len, JSON_DEPTH_MAX, &doc, &why) == TERR_OK)
			jw_raw(&w, buf_cstr(&body));
		else
			jw_strn(&w, buf_cstr(&body), body.len);
		jw_end(&w);
		buf_putc(&b, '\n');
	} else {
		char ev[TM_ISO_SIZE], rec[TM_ISO_SIZE], upd[TM_ISO_SIZE];
		tm_iso(r.event_at, ev);
		tm_iso(r.received_at, rec);
		tm_iso(r.updated_at, upd);
		buf_printf(&b,
		    "event #%lld\n  provider  %s%s\n  event id  %s\n  type      %s\n  state     "
		    "%s\n"
		    "  reason    %s\n  user      %s\n  event at  %s\n  received  %s\n  updated   "
		    "%s\n"
		    "  attempts  %lld\n",
		    (long long)r.id, r.provider, r.live ? "" : " (test mode)", r.event_id, r.type,
		    inbox_state_str(r.state), r.reason, r.user[0] ? r.user : "-", ev, rec, upd,
		    (long long)r.attempts);
		if (r.orphan_kind[0] != '\0')
			buf_printf(&b, "  waiting   %s %s\n", r.orphan_kind, r.orphan_id);
		buf_puts(&b, "  body:\n");
		buf_append(&b, buf_cstr(&body), body.len);
		buf_putc(&b, '\n');
	}
	cli_outb(&b);
	ret = 0;
out:
	cJSON_Delete(doc);
	buf_release(&body);
	buf_release(&b);
	return ret;
}

static void
print_replay(struct cli *c, int64_t id, const struct apply_result *res)
{
	if (c->json) {
		struct buf b;
		struct jw w;
		buf_init(&b, 64 * 1024);
		jw_init(&w, &b);
		jw_obj(&w);
		jw_kint(&w, "inbox_id", id);
		jw_kstr(&w, "state", inbox_state_str(res->state));
		jw_kbool(&w, "unchanged", res->duplicate);
		jw_kstr(&w, "reason", res->reason);
		jw_end(&w);
		buf_putc(&b, '\n');
		cli_outb(&b);
		buf_release(&b);
		return;
	}
	if (res->duplicate)
		printf("event #%lld is already %s: nothing to replay\n", (long long)id,
		    inbox_state_str(res->state));
	else
		printf("event #%lld replayed: %s%s%s\n", (long long)id, inbox_state_str(res->state),
		    res->reason[0] ? ": " : "", res->reason);
}

int
cmd_events_replay(struct cli *c)
{
	struct apply_result res;
	struct audit_row who;
	struct inbox_row *rows;
	int64_t id, after = 0, ok = 0, total = 0;
	size_t n, i;
	int state;
	enum terr rc;

	/* Who replays, recorded with each replay in its transaction. */
	memset(&who, 0, sizeof(who));
	snprintf(who.actor, sizeof(who.actor), "operator:%s", cli_operator(c));
	text_copy(who.reason, sizeof(who.reason), c->reason != NULL ? c->reason : "");
	if (c->npos == 1 && c->state == NULL) {
		if (!parse_inbox_id(c->pos[0], &id))
			return cli_usage();
		if (cli_open(c, STORE_RW) != 0)
			return 1;
		rc = apply_replay(c->s, &c->cfg, id, &who, &res, c->now);
		if (rc == TERR_NOTFOUND)
			return cli_fail("no such event", c->pos[0]);
		if (rc != TERR_OK)
			return cli_fail("replay not committed",
			    res.reason[0] ? res.reason : err_str(rc));
		print_replay(c, id, &res);
		return res.duplicate || res.state == INBOX_APPLIED || res.state == INBOX_IGNORED
		    ? 0
		    : 1;
	}
	if (c->npos != 0 || c->state == NULL)
		return cli_usage();
	if ((state = inbox_state_parse(c->state)) < 0 || state == INBOX_APPLIED ||
	    state == INBOX_IGNORED)
		return cli_bad_arg("replay takes --state orphaned, unknown_product or failed",
		    c->state);
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if ((rows = calloc(LIST_PAGE, sizeof(*rows))) == NULL)
		return cli_fail("out of memory", NULL);
	for (;;) {
		if ((rc = store_inbox_list(c->s, state, NULL, after, rows, LIST_PAGE, &n)) !=
			TERR_OK ||
		    n == 0)
			break;
		for (i = 0; i < n; i++) {
			who.at = 0;
			if (apply_replay(c->s, &c->cfg, rows[i].id, &who, &res, c->now) !=
			    TERR_OK) {
				free(rows);
				return cli_fail("replay not committed", err_str(res.err));
			}
			total++;
			ok += res.state == INBOX_APPLIED || res.state == INBOX_IGNORED;
			print_replay(c, rows[i].id, &res);
		}
		after = rows[n - 1].id;
	}
	free(rows);
	if (!c->json)
		printf("%lld replayed, %lld now applied\n", (long long)total, (long long)ok);
	return rc == TERR_OK ? 0 : 1;
}

struct vctx {
	struct cli *c;
	struct jw *w;
};

static void
on_violation(void *arg, const char *check, const char *detail)
{
	struct vctx *v = arg;

	if (v->c->json) {
		jw_obj(v->w);
		jw_kstr(v->w, "check", check);
		jw_kstr(v->w, "detail", detail);
		jw_end(v->w);
		return;
	}
	printf("FAIL %s: ", check);
	cli_out(detail, strlen(detail));
	cli_out("\n", 1);
}

int
cmd_verify(struct cli *c)
{
	struct buf b;
	struct jw w;
	struct vctx v = { c, &w };
	int64_t violations = 0;
	enum terr rc;

	if (c->npos != 0)
		return cli_usage();
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	buf_init(&b, OUT_MAX);
	jw_init(&w, &b);
	if (c->json) {
		jw_obj(&w);
		jw_key(&w, "violations");
		jw_arr(&w);
	}
	rc = store_verify(c->s, on_violation, &v, &violations);
	if (c->json) {
		jw_aend(&w);
		jw_kbool(&w, "ok", rc == TERR_OK && violations == 0);
		jw_end(&w);
		buf_putc(&b, '\n');
		cli_outb(&b);
	} else if (rc == TERR_OK)
		printf(violations == 0 ? "verify: ok: every balance equals its ledger, every check "
					 "passed\n"
				       : "verify: %lld violations\n",
		    (long long)violations);
	buf_release(&b);
	if (rc != TERR_OK)
		return cli_fail("verify could not run", err_str(rc));
	return violations == 0 ? 0 : 1;
}
