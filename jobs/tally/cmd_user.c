/*
 * bin/tally: users and their credits and links (user show, credits grant
 * and revoke, links add and remove).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "base/tm.h"
#include "cli.h"
#include "core/apply.h"
#include "core/op.h"
#include "core/report.h"

int
cmd_user_show(struct cli *c)
{
	struct buf b;
	enum terr rc;
	int ret = 0;

	if (c->npos != 1)
		return cli_usage();
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	buf_init(&b, OUT_MAX);
	rc = c->json ? report_user_json(c->s, &c->cfg, c->pos[0], c->now, &b)
		     : report_user_text(c->s, &c->cfg, c->pos[0], c->now, &b);
	if (rc == TERR_NOTFOUND)
		ret = cli_fail("unknown user", c->pos[0]);
	else if (rc != TERR_OK)
		ret = cli_fail("cannot read the user", err_str(rc));
	else {
		cli_outb(&b);
		cli_out("\n", 1);
	}
	buf_release(&b);
	return ret;
}

/* Apply one operator action; print what became of it. */
int
cli_run_op(struct cli *c, struct op_action *a, const char *done)
{
	struct apply_result res;
	char why[256];
	enum terr rc;

	a->source = OP_OPERATOR;
	a->operator_ = cli_operator(c);
	a->at = c->now;
	if ((rc = apply_op(c->s, &c->cfg, a, c->now, &res, why, sizeof(why))) != TERR_OK)
		return cli_fail(rc == TERR_INVAL ? "cannot build the operator event"
						 : "not committed",
		    why);
	if (c->json)
		printf("{\"inbox_id\":%lld,\"state\":\"%s\"}\n", (long long)res.inbox_id,
		    inbox_state_str(res.state));
	if (res.state != INBOX_APPLIED)
		return cli_fail(inbox_state_str(res.state), res.reason);
	if (!c->json)
		printf("%s (event #%lld, by operator %s)\n", done, (long long)res.inbox_id,
		    a->operator_);
	return 0;
}

static int
cmd_credits(struct cli *c, int grant)
{
	struct op_action a;
	char done[256];
	int64_t amount, expires = 0;

	if (c->npos != 2)
		return cli_usage();
	if (c->reason == NULL || *c->reason == '\0')
		return cli_bad_arg("a reason is required", "--reason TEXT");
	if (strlen(c->reason) >= REASON_MAX)
		return cli_bad_arg("reason too long", NULL);
	if (text_i64s(c->pos[1], 1, CREDITS_MAX, &amount) != TERR_OK)
		return cli_bad_arg("AMOUNT must be an integer from 1 to 1000000000", c->pos[1]);
	if (c->expires != NULL && (!grant || tm_parse(c->expires, &expires) != TERR_OK))
		return cli_bad_arg("--expires takes a time like 2026-12-31T00:00:00Z (grants only)",
		    c->expires);
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if (store_user_exists(c->s, c->pos[0]) != TERR_OK)
		return cli_fail("unknown user", c->pos[0]);
	memset(&a, 0, sizeof(a));
	a.action = grant ? "credits.grant" : "credits.revoke";
	a.user = c->pos[0];
	a.amount = amount;
	a.expires_at = expires;
	a.reason = c->reason;
	snprintf(done, sizeof(done), "%s %lld credits %s user %s", grant ? "granted" : "revoked",
	    (long long)amount, grant ? "to" : "from", c->pos[0]);
	return cli_run_op(c, &a, done);
}

static int
cmd_links(struct cli *c, int add)
{
	struct op_action a;
	char done[512];

	if (c->npos != 4)
		return cli_usage();
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if (store_user_exists(c->s, c->pos[0]) != TERR_OK)
		return cli_fail("unknown user", c->pos[0]);
	memset(&a, 0, sizeof(a));
	a.action = add ? "links.add" : "links.remove";
	a.user = c->pos[0];
	a.link_provider = c->pos[1];
	a.link_kind = c->pos[2];
	a.link_id = c->pos[3];
	a.reason = c->reason != NULL ? c->reason : "";
	snprintf(done, sizeof(done), "%s %s %s %s %s user %s", add ? "linked" : "unlinked",
	    c->pos[1], c->pos[2], c->pos[3], add ? "to" : "from", c->pos[0]);
	return cli_run_op(c, &a, done);
}

int
cmd_credits_grant(struct cli *c)
{
	return cmd_credits(c, 1);
}

int
cmd_credits_revoke(struct cli *c)
{
	return cmd_credits(c, 0);
}

int
cmd_links_add(struct cli *c)
{
	return cmd_links(c, 1);
}

int
cmd_links_remove(struct cli *c)
{
	return cmd_links(c, 0);
}
