/*
 * bin/tally, the admin CLI: what its command files share. Each command is
 * `int cmd_x(struct cli *c)` returning the exit status (0 success, 1
 * failure, 2 usage); main.c parses the arguments and dispatches.
 */
#ifndef TALLY_CLI_H
#define TALLY_CLI_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "cfg/cfg.h"
#include "core/op.h"
#include "job/admin.h"

#define OUT_MAX      (16 * 1024 * 1024)
#define LIST_PAGE    100
#define CLI_OPTS_MAX 16

struct cli_opt {
	const char *name;  /* without the leading "--" */
	const char *value; /* NULL for a flag */
};

struct cli {
	struct cfg cfg;
	struct store *s;
	int json;
	int help; /* --help or -h among the arguments */
	/* Options every command may read; the rest are in opts. */
	const char *operator_;
	const char *reason;
	const char *state;
	const char *expires;
	const char *to;
	int64_t limit;
	int64_t now;
	struct cli_opt opts[CLI_OPTS_MAX];
	int nopts;
	char *pos[8]; /* positional arguments after the command words */
	int npos;
};

/* The value of --name, or NULL. */
const char *cli_opt(const struct cli *c, const char *name);
/* 1 if the flag --name was given. */
int cli_flag(const struct cli *c, const char *name);

/* Text for a terminal: control characters (but newline and tab) become '?'. */
void cli_out(const char *p, size_t n);
void cli_outb(const struct buf *b);
/* "tally: msg: detail" on stderr; returns 1. cli_bad_arg the same, returning 2. */
int cli_fail(const char *msg, const char *detail);
int cli_bad_arg(const char *msg, const char *detail);
int cli_usage(void);
/* --operator, TALLY_OPERATOR, SUDO_USER, USER, LOGNAME, or "unknown". */
const char *cli_operator(const struct cli *c);
/* Load the configuration and open the database; 0 or 1 (message printed). */
int cli_open(struct cli *c, enum store_mode mode);
/* Apply one operator action through the apply path; print what became of it. */
int cli_run_op(struct cli *c, struct op_action *a, const char *done);

int cmd_migrate(struct cli *c);
int cmd_verify(struct cli *c);
int cmd_backup(struct cli *c);
int cmd_user_show(struct cli *c);
int cmd_credits_grant(struct cli *c);
int cmd_credits_revoke(struct cli *c);
int cmd_links_add(struct cli *c);
int cmd_links_remove(struct cli *c);
int cmd_events_list(struct cli *c);
int cmd_events_show(struct cli *c);
int cmd_events_replay(struct cli *c);
int cmd_apple_status(struct cli *c);
int cmd_apple_missed(struct cli *c);
int cmd_google_status(struct cli *c);
int cmd_revenuecat_sync(struct cli *c);
int cmd_checkout(struct cli *c);
int cmd_orders_show(struct cli *c);
int cmd_telegram_refund(struct cli *c);
int cmd_razorpay_verify(struct cli *c);
int cmd_user_history(struct cli *c);
int cmd_subscription_set(struct cli *c);
int cmd_promo(struct cli *c);
int cmd_outbox_list(struct cli *c);
int cmd_outbox_retry(struct cli *c);
int cmd_tasks(struct cli *c);
int cmd_export_ledger(struct cli *c);
int cmd_rebuild(struct cli *c);
int cmd_metrics(struct cli *c);
int cmd_keys_create(struct cli *c);
int cmd_keys_list(struct cli *c);
int cmd_keys_revoke(struct cli *c);
int cmd_admin_create(struct cli *c);
int cmd_admin_passwd(struct cli *c);

#endif
