/*
 * bin/tally: the admin CLI. Text for people by default, JSON with --json.
 * Every change it makes is an operator event applied through the same path
 * as a webhook, audited with the operator's name (--operator, else
 * TALLY_OPERATOR, else SUDO_USER, USER or LOGNAME).
 *
 * Environment: TALLY_DB, TALLY_CONFIG (not needed by migrate).
 * Exit: 0 success, 1 failure (including `verify` finding a mismatch), 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply.h"
#include "cfg.h"
#include "crypto.h"
#include "json.h"
#include "log.h"
#include "op.h"
#include "report.h"
#include "store.h"
#include "text.h"
#include "tm.h"

#define OUT_MAX   (16 * 1024 * 1024)
#define LIST_PAGE 100

struct cli {
	struct cfg cfg;
	struct store *s;
	int json;
	const char *operator_;
	const char *reason;
	const char *state;
	const char *expires;
	const char *to;
	int64_t limit;
	int64_t now;
	char *pos[8]; /* positional arguments after the command words */
	int npos;
};

/* Write text for a terminal: control characters (but newline and tab) become '?'. */
static void
out(const char *p, size_t n)
{
	char chunk[4096];
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		chunk[k++] = (c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ? '?' : (char)c;
		if (k == sizeof(chunk)) {
			fwrite(chunk, 1, k, stdout);
			k = 0;
		}
	}
	fwrite(chunk, 1, k, stdout);
}

static void
outb(const struct buf *b)
{
	out(buf_cstr(b), b->len);
}

static int
fail(const char *msg, const char *detail)
{
	fprintf(stderr, "tally: %s%s%s\n", msg, detail != NULL ? ": " : "",
	    detail != NULL ? detail : "");
	return 1;
}

/* A malformed argument: a usage error (exit 2) with a message saying which. */
static int
bad_arg(const char *msg, const char *detail)
{
	fail(msg, detail);
	return 2;
}

static int
usage(void)
{
	fputs("usage: tally COMMAND [ARGS] [--json]\n"
	      "  migrate [--to VERSION]\n"
	      "  user show ID [--json]\n"
	      "  credits grant ID AMOUNT --reason TEXT [--expires TIME] [--operator NAME]\n"
	      "  credits revoke ID AMOUNT --reason TEXT [--operator NAME]\n"
	      "  links add USER PROVIDER KIND EXTERNAL_ID [--reason TEXT]\n"
	      "  links remove USER PROVIDER KIND EXTERNAL_ID [--reason TEXT]\n"
	      "  events list [--state STATE] [--limit N] [--json]\n"
	      "  events show INBOX_ID [--json]\n"
	      "  events replay INBOX_ID | --state STATE\n"
	      "  verify [--json]\n",
	    stderr);
	return 2;
}

static const char *
operator_name(const struct cli *c)
{
	const char *v;

	if (c->operator_ != NULL)
		return c->operator_;
	if ((v = getenv("TALLY_OPERATOR")) != NULL && *v != '\0')
		return v;
	if ((v = getenv("SUDO_USER")) != NULL && *v != '\0')
		return v;
	if ((v = getenv("USER")) != NULL && *v != '\0')
		return v;
	if ((v = getenv("LOGNAME")) != NULL && *v != '\0')
		return v;
	return "unknown";
}

static int
open_store(struct cli *c, enum store_mode mode)
{
	char why[512];

	if (cfg_load(&c->cfg, why, sizeof(why)) != TERR_OK)
		return fail("configuration invalid", why);
	if (store_open(&c->s, c->cfg.db_path, mode) != TERR_OK)
		return fail("cannot open the database", c->cfg.db_path);
	return 0;
}

static int
cmd_migrate(struct cli *c)
{
	char why[512];
	int64_t to = 0;
	int from, now;

	if (c->to != NULL && text_i64s(c->to, 1, 1000000, &to) != TERR_OK)
		return usage();
	if (cfg_load_env(&c->cfg, why, sizeof(why)) != TERR_OK)
		return fail("configuration invalid", why);
	if (store_open(&c->s, c->cfg.db_path, STORE_MIGRATE) != TERR_OK)
		return fail("cannot open the database", c->cfg.db_path);
	if (store_migrate(c->s, (int)to, &from, &now) != TERR_OK)
		return fail("migration failed", NULL);
	if (c->json)
		printf("{\"from\":%d,\"to\":%d}\n", from, now);
	else if (from == now)
		printf("database %s is at version %d: nothing to do\n", c->cfg.db_path, now);
	else
		printf("database %s migrated from version %d to %d\n", c->cfg.db_path, from, now);
	return 0;
}

static int
cmd_user_show(struct cli *c)
{
	struct buf b;
	enum terr rc;
	int ret = 0;

	if (c->npos != 1)
		return usage();
	if (open_store(c, STORE_RW) != 0)
		return 1;
	buf_init(&b, OUT_MAX);
	rc = c->json ? report_user_json(c->s, &c->cfg, c->pos[0], c->now, &b)
		     : report_user_text(c->s, &c->cfg, c->pos[0], c->now, &b);
	if (rc == TERR_NOTFOUND)
		ret = fail("unknown user", c->pos[0]);
	else if (rc != TERR_OK)
		ret = fail("cannot read the user", terr_str(rc));
	else {
		outb(&b);
		out("\n", 1);
	}
	buf_release(&b);
	return ret;
}

/* Apply one operator action; print what became of it. */
static int
run_op(struct cli *c, struct op_action *a, const char *done)
{
	struct buf body;
	struct bev *e;
	struct apply_result res;
	char why[256];
	int ret = 1;

	a->operator_ = operator_name(c);
	a->at = c->now;
	buf_init(&body, 64 * 1024);
	if ((e = malloc(sizeof(*e))) == NULL)
		return fail("out of memory", NULL);
	if (op_build(a, &body) != TERR_OK ||
	    op_parse(buf_cstr(&body), body.len, e, why, sizeof(why)) != TERR_OK) {
		fail("cannot build the operator event", why);
		goto out;
	}
	if (apply_batch(c->s, &c->cfg, e, 1, &res, c->now) != TERR_OK) {
		fail("not committed", terr_str(res.err));
		goto out;
	}
	if (c->json)
		printf("{\"inbox_id\":%lld,\"state\":\"%s\"}\n", (long long)res.inbox_id,
		    inbox_state_str(res.state));
	if (res.state != INBOX_APPLIED) {
		fail(inbox_state_str(res.state), res.reason);
		goto out;
	}
	if (!c->json)
		printf("%s (event #%lld, by operator %s)\n", done, (long long)res.inbox_id,
		    a->operator_);
	ret = 0;
out:
	buf_release(&body);
	free(e);
	return ret;
}

static int
cmd_credits(struct cli *c, int grant)
{
	struct op_action a;
	char done[256];
	int64_t amount, expires = 0;

	if (c->npos != 2)
		return usage();
	if (c->reason == NULL || *c->reason == '\0')
		return bad_arg("a reason is required", "--reason TEXT");
	if (strlen(c->reason) >= REASON_MAX)
		return bad_arg("reason too long", NULL);
	if (text_i64s(c->pos[1], 1, CREDITS_MAX, &amount) != TERR_OK)
		return bad_arg("AMOUNT must be an integer from 1 to 1000000000", c->pos[1]);
	if (c->expires != NULL && (!grant || tm_parse(c->expires, &expires) != TERR_OK))
		return bad_arg("--expires takes a time like 2026-12-31T00:00:00Z (grants only)",
		    c->expires);
	if (open_store(c, STORE_RW) != 0)
		return 1;
	if (store_user_exists(c->s, c->pos[0]) != TERR_OK)
		return fail("unknown user", c->pos[0]);
	memset(&a, 0, sizeof(a));
	a.action = grant ? "credits.grant" : "credits.revoke";
	a.user = c->pos[0];
	a.amount = amount;
	a.expires_at = expires;
	a.reason = c->reason;
	snprintf(done, sizeof(done), "%s %lld credits %s user %s", grant ? "granted" : "revoked",
	    (long long)amount, grant ? "to" : "from", c->pos[0]);
	return run_op(c, &a, done);
}

static int
cmd_links(struct cli *c, int add)
{
	struct op_action a;
	char done[512];

	if (c->npos != 4)
		return usage();
	if (open_store(c, STORE_RW) != 0)
		return 1;
	if (store_user_exists(c->s, c->pos[0]) != TERR_OK)
		return fail("unknown user", c->pos[0]);
	memset(&a, 0, sizeof(a));
	a.action = add ? "links.add" : "links.remove";
	a.user = c->pos[0];
	a.link_provider = c->pos[1];
	a.link_kind = c->pos[2];
	a.link_id = c->pos[3];
	a.reason = c->reason != NULL ? c->reason : "";
	snprintf(done, sizeof(done), "%s %s %s %s %s user %s", add ? "linked" : "unlinked",
	    c->pos[1], c->pos[2], c->pos[3], add ? "to" : "from", c->pos[0]);
	return run_op(c, &a, done);
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

static int
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
		return usage();
	if (c->state != NULL && (state = inbox_state_parse(c->state)) < 0)
		return bad_arg(
		    "unknown state (applied, ignored, orphaned, unknown_product, failed)",
		    c->state);
	if (open_store(c, STORE_RW) != 0)
		return 1;
	if ((rows = calloc(LIST_PAGE, sizeof(*rows))) == NULL)
		return fail("out of memory", NULL);
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
		return fail("cannot list events", terr_str(rc != TERR_OK ? rc : b.err));
	}
	outb(&b);
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

static int
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
		return usage();
	if (open_store(c, STORE_RW) != 0)
		return 1;
	buf_init(&body, BODY_MAX);
	buf_init(&b, OUT_MAX);
	if ((rc = store_inbox_get(c->s, id, &r, &body)) != TERR_OK) {
		fail(rc == TERR_NOTFOUND ? "no such event" : "cannot read the event", c->pos[0]);
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
	outb(&b);
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
		outb(&b);
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

static int
cmd_events_replay(struct cli *c)
{
	struct apply_result res;
	struct inbox_row *rows;
	int64_t id, after = 0, ok = 0, total = 0;
	size_t n, i;
	int state;
	enum terr rc;

	if (c->npos == 1 && c->state == NULL) {
		if (!parse_inbox_id(c->pos[0], &id))
			return usage();
		if (open_store(c, STORE_RW) != 0)
			return 1;
		rc = apply_replay(c->s, &c->cfg, id, &res, c->now);
		if (rc == TERR_NOTFOUND)
			return fail("no such event", c->pos[0]);
		if (rc != TERR_OK)
			return fail("replay not committed",
			    res.reason[0] ? res.reason : terr_str(rc));
		print_replay(c, id, &res);
		return res.duplicate || res.state == INBOX_APPLIED || res.state == INBOX_IGNORED
		    ? 0
		    : 1;
	}
	if (c->npos != 0 || c->state == NULL)
		return usage();
	if ((state = inbox_state_parse(c->state)) < 0 || state == INBOX_APPLIED ||
	    state == INBOX_IGNORED)
		return bad_arg("replay takes --state orphaned, unknown_product or failed",
		    c->state);
	if (open_store(c, STORE_RW) != 0)
		return 1;
	if ((rows = calloc(LIST_PAGE, sizeof(*rows))) == NULL)
		return fail("out of memory", NULL);
	for (;;) {
		if ((rc = store_inbox_list(c->s, state, NULL, after, rows, LIST_PAGE, &n)) !=
			TERR_OK ||
		    n == 0)
			break;
		for (i = 0; i < n; i++) {
			if (apply_replay(c->s, &c->cfg, rows[i].id, &res, c->now) != TERR_OK) {
				free(rows);
				return fail("replay not committed", terr_str(res.err));
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
	out(detail, strlen(detail));
	out("\n", 1);
}

static int
cmd_verify(struct cli *c)
{
	struct buf b;
	struct jw w;
	struct vctx v = { c, &w };
	int64_t violations = 0;
	enum terr rc;

	if (c->npos != 0)
		return usage();
	if (open_store(c, STORE_RW) != 0)
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
		outb(&b);
	} else if (rc == TERR_OK)
		printf(violations == 0 ? "verify: ok: every balance equals its ledger, every check "
					 "passed\n"
				       : "verify: %lld violations\n",
		    (long long)violations);
	buf_release(&b);
	if (rc != TERR_OK)
		return fail("verify could not run", terr_str(rc));
	return violations == 0 ? 0 : 1;
}

/* Split argv into options (anywhere) and positionals. 0, or 2 on a usage error. */
static int
parse_args(struct cli *c, int argc, char **argv, int first)
{
	int i;

	for (i = first; i < argc; i++) {
		const char *a = argv[i];
		const char **dst = NULL;
		if (strcmp(a, "--json") == 0) {
			c->json = 1;
			continue;
		}
		if (strcmp(a, "--reason") == 0)
			dst = &c->reason;
		else if (strcmp(a, "--operator") == 0)
			dst = &c->operator_;
		else if (strcmp(a, "--state") == 0)
			dst = &c->state;
		else if (strcmp(a, "--expires") == 0)
			dst = &c->expires;
		else if (strcmp(a, "--to") == 0)
			dst = &c->to;
		else if (strcmp(a, "--limit") == 0) {
			if (i + 1 >= argc ||
			    text_i64s(argv[i + 1], 1, 1000000, &c->limit) != TERR_OK)
				return 2;
			i++;
			continue;
		} else if (a[0] == '-' && a[1] == '-')
			return 2;
		if (dst != NULL) {
			if (i + 1 >= argc)
				return 2;
			*dst = argv[++i];
			continue;
		}
		if (c->npos == (int)(sizeof(c->pos) / sizeof(c->pos[0])))
			return 2;
		c->pos[c->npos++] = argv[i];
	}
	if (c->operator_ != NULL && !text_id_valid(c->operator_, 64))
		return 2;
	return 0;
}

int
main(int argc, char **argv)
{
	struct cli c;
	const char *cmd, *sub;
	int rc;

	memset(&c, 0, sizeof(c));
	crypto_init();
	log_init("tally");
	if (getenv("TALLY_LOG_LEVEL") == NULL)
		log_set_level(LOG_WARN);
	c.now = tm_now_ms();
	if (argc < 2)
		return usage();
	cmd = argv[1];
	sub = argc > 2 ? argv[2] : "";
	if (strcmp(cmd, "migrate") == 0 || strcmp(cmd, "verify") == 0)
		rc = parse_args(&c, argc, argv, 2);
	else
		rc = parse_args(&c, argc, argv, 3);
	if (rc != 0)
		return usage();

	if (strcmp(cmd, "migrate") == 0)
		rc = cmd_migrate(&c);
	else if (strcmp(cmd, "verify") == 0)
		rc = cmd_verify(&c);
	else if (strcmp(cmd, "user") == 0 && strcmp(sub, "show") == 0)
		rc = cmd_user_show(&c);
	else if (strcmp(cmd, "credits") == 0 && strcmp(sub, "grant") == 0)
		rc = cmd_credits(&c, 1);
	else if (strcmp(cmd, "credits") == 0 && strcmp(sub, "revoke") == 0)
		rc = cmd_credits(&c, 0);
	else if (strcmp(cmd, "links") == 0 && strcmp(sub, "add") == 0)
		rc = cmd_links(&c, 1);
	else if (strcmp(cmd, "links") == 0 && strcmp(sub, "remove") == 0)
		rc = cmd_links(&c, 0);
	else if (strcmp(cmd, "events") == 0 && strcmp(sub, "list") == 0)
		rc = cmd_events_list(&c);
	else if (strcmp(cmd, "events") == 0 && strcmp(sub, "show") == 0)
		rc = cmd_events_show(&c);
	else if (strcmp(cmd, "events") == 0 && strcmp(sub, "replay") == 0)
		rc = cmd_events_replay(&c);
	else
		rc = usage();
	store_close(c.s);
	cfg_release(&c.cfg);
	fflush(stdout);
	return rc;
}
