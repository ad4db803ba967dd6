/*
 * bin/tally: the admin CLI. Text for people by default, JSON with --json.
 * Every change it makes is an operator event applied through the same path
 * as a webhook, audited with the operator's name (--operator, else
 * TALLY_OPERATOR, else SUDO_USER, USER or LOGNAME).
 *
 * Environment: TALLY_DB, TALLY_CONFIG (not needed by migrate and backup),
 * and those --help lists (help_text).
 * Exit: 0 success, 1 failure (including `verify` finding a mismatch), 2 usage;
 * --help (or -h, or help) prints the usage and the environment on stdout, 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/tally_limits.h"
#include "base/text.h"
#include "base/tm.h"
#include "cli.h"
#include "crypto/crypto.h"
#include "http/httpc.h"

/* Write text for a terminal: control characters (but newline and tab) become '?'. */
void
cli_out(const char *p, size_t n)
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

void
cli_outb(const struct buf *b)
{
	cli_out(buf_cstr(b), b->len);
}

int
cli_fail(const char *msg, const char *detail)
{
	fprintf(stderr, "tally: %s%s%s\n", msg, detail != NULL ? ": " : "",
	    detail != NULL ? detail : "");
	return 1;
}

/* A malformed argument: a usage error (exit 2) with a message saying which. */
int
cli_bad_arg(const char *msg, const char *detail)
{
	cli_fail(msg, detail);
	return 2;
}

/* The commands, as cli_usage and --help print them. */
static const char usage_text[] =
    "usage: tally COMMAND [ARGS] [--json]\n"
    "  --help, -h: this, with the environment tally reads\n"
    "  migrate [--to VERSION]\n"
    "  user show ID [--json]\n"
    "  credits grant ID AMOUNT --reason TEXT [--expires TIME] [--operator NAME]\n"
    "  credits revoke ID AMOUNT --reason TEXT [--operator NAME]\n"
    "  links add USER PROVIDER KIND EXTERNAL_ID [--reason TEXT]\n"
    "  links remove USER PROVIDER KIND EXTERNAL_ID [--reason TEXT]\n"
    "  events list [--state STATE] [--limit N] [--json]\n"
    "  events show INBOX_ID [--json]\n"
    "  events replay INBOX_ID | --state STATE [--reason TEXT]\n"
    "  verify [--json]\n"
    "  backup DEST [--force] [--json]\n"
    "  apple status ORIGINAL_TRANSACTION_ID [--history] [--sandbox] [--json]\n"
    "  apple missed --since TIME|AGE [--until TIME] [--only-failures] [--sandbox]\n"
    "               [--dry-run] [--json]\n"
    "  google status PURCHASE_TOKEN [--product ID] [--json]\n"
    "  revenuecat sync USER [--dry-run] [--json] [--operator NAME]\n"
    "  checkout USER PROVIDER PRODUCT [--json] [--operator NAME]\n"
    "  orders show ORDER_ID [--json]\n"
    "  telegram refund CHARGE_ID --reason TEXT [--telegram-user ID] [--json]\n"
    "  razorpay verify USER ORDER_OR_SUBSCRIPTION_ID PAYMENT_ID SIGNATURE [--json]\n"
    "  user history ID [--json]\n"
    "  subscription set ID STATE --reason TEXT\n"
    "  promo credits USER AMOUNT --reason TEXT [--expires TIME]\n"
    "  promo entitlement USER NAME --reason TEXT [--until TIME]\n"
    "  outbox list [--state pending|sent|dead] [--limit N] [--json]\n"
    "  outbox retry ID\n"
    "  tasks [--all] [--limit N] [--json]\n"
    "  export ledger --since TIME\n"
    "  rebuild [--into PATH] [--keep] [--json] | rebuild --metrics\n"
    "  metrics [--from DATE] [--to DATE] [--by day|week|month] [--provider NAME]\n"
    "          [--product ID] [--currency CODE] [--group provider|product|provider,product]\n"
    "          [--test] [--json | --csv]\n"
    "  keys create --name NAME --scopes read,spend,admin,purchase [--json]\n"
    "  keys list [--json]\n"
    "  keys revoke KEY_ID [--reason TEXT]\n"
    "  admin create NAME | admin passwd NAME   (password on stdin or typed)\n";

/*
 * What --help adds: the environment it reads (getenv here and in
 * lib/cfg/cfg.c, lib/store/store.c) and the exit statuses.
 */
static const char help_text[] =
    "\n"
    "environment:\n"
    "  TALLY_DB                 the SQLite database (default /var/lib/tally/tally.db)\n"
    "  TALLY_CONFIG             the JSON config file: catalog and policies (default\n"
    "                           /etc/tally/tally.json; migrate and backup do not read it)\n"
    "  TALLY_OPERATOR           the operator name audited, after --operator (else\n"
    "                           SUDO_USER, USER, LOGNAME)\n"
    "  TALLY_LOG_LEVEL          when set, JSON log lines on stderr from info up (unset:\n"
    "                           warnings and errors only)\n"
    "  TALLY_SYNCHRONOUS        full (default) or normal\n"
    "secrets of the commands that call a provider (each may be NAME_FILE, a file holding it):\n"
    "  APPLE_PRIVATE_KEY        apple status, apple missed (and apple.key_id, apple.issuer_id)\n"
    "  GOOGLE_SERVICE_ACCOUNT_FILE  google status (the google section)\n"
    "  REVENUECAT_API_KEY       revenuecat sync\n"
    "  RAZORPAY_KEY_SECRET      checkout USER razorpay, razorpay verify (and razorpay.key_id)\n"
    "  TELEGRAM_BOT_TOKEN       checkout USER telegram, telegram refund\n"
    "  TELEGRAM_PROVIDER_TOKEN  checkout USER telegram in a currency other than XTR\n"
    "  CRYPTOBOT_TOKEN          checkout USER cryptobot\n"
    "  The handlers' secrets (STRIPE_WEBHOOK_SECRET, TALLY_JWT_SECRET, ...) are checked\n"
    "  when set, as by every program of tally: a malformed one stops the command.\n"
    "exit: 0 success, 1 failure (verify: a mismatch), 2 usage\n";

int
cli_usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

/* tally --help, -h or help (also after a command): the commands and the environment, on stdout. */
static int
help(void)
{
	fputs(usage_text, stdout);
	fputs(help_text, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

const char *
cli_operator(const struct cli *c)
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

int
cli_open(struct cli *c, enum store_mode mode)
{
	char why[512], db[PG_URI_MAX];

	if (cfg_load(&c->cfg, why, sizeof(why)) != TERR_OK)
		return cli_fail("configuration invalid", why);
	store_db_shown(c->cfg.db_path, db, sizeof(db));
	if (store_open(&c->s, c->cfg.db_path, mode) != TERR_OK)
		return cli_fail("cannot open the database", db);
	return 0;
}

const char *
cli_opt(const struct cli *c, const char *name)
{
	int i;

	for (i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, name) == 0)
			return c->opts[i].value;
	return NULL;
}

int
cli_flag(const struct cli *c, const char *name)
{
	int i;

	for (i = 0; i < c->nopts; i++)
		if (strcmp(c->opts[i].name, name) == 0 && c->opts[i].value == NULL)
			return 1;
	return 0;
}

static int
is_help(const char *a)
{
	return strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0;
}

/* Options that take no value. */
static int
is_flag(const char *a)
{
	static const char *const flags[] = { "--dry-run", "--force", "--sandbox", "--history",
		"--only-failures", "--keep", "--all", "--test", "--csv", "--metrics", NULL };
	size_t i;

	for (i = 0; flags[i] != NULL; i++)
		if (strcmp(a, flags[i]) == 0)
			return 1;
	return 0;
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
		if (is_help(a)) {
			c->help = 1;
			continue;
		}
		if (is_flag(a)) {
			if (c->nopts == CLI_OPTS_MAX)
				return 2;
			c->opts[c->nopts].name = a + 2;
			c->opts[c->nopts++].value = NULL;
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
		} else if (a[0] == '-' && a[1] == '-') {
			/* Any other --name VALUE: read by the command that knows it (cli_opt). */
			if (i + 1 >= argc || c->nopts == CLI_OPTS_MAX)
				return 2;
			c->opts[c->nopts].name = a + 2;
			c->opts[c->nopts++].value = argv[++i];
			continue;
		}
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

static const struct command {
	const char *cmd;
	const char *sub; /* NULL: the command takes no subcommand word */
	int (*fn)(struct cli *);
} commands[] = {
	{ "migrate", NULL, cmd_migrate },
	{ "verify", NULL, cmd_verify },
	{ "backup", NULL, cmd_backup },
	{ "user", "show", cmd_user_show },
	{ "credits", "grant", cmd_credits_grant },
	{ "credits", "revoke", cmd_credits_revoke },
	{ "links", "add", cmd_links_add },
	{ "links", "remove", cmd_links_remove },
	{ "events", "list", cmd_events_list },
	{ "events", "show", cmd_events_show },
	{ "events", "replay", cmd_events_replay },
	{ "apple", "status", cmd_apple_status },
	{ "apple", "missed", cmd_apple_missed },
	{ "google", "status", cmd_google_status },
	{ "revenuecat", "sync", cmd_revenuecat_sync },
	{ "checkout", NULL, cmd_checkout },
	{ "orders", "show", cmd_orders_show },
	{ "telegram", "refund", cmd_telegram_refund },
	{ "razorpay", "verify", cmd_razorpay_verify },
	{ "user", "history", cmd_user_history },
	{ "subscription", "set", cmd_subscription_set },
	{ "promo", NULL, cmd_promo },
	{ "outbox", "list", cmd_outbox_list },
	{ "outbox", "retry", cmd_outbox_retry },
	{ "tasks", NULL, cmd_tasks },
	{ "export", "ledger", cmd_export_ledger },
	{ "rebuild", NULL, cmd_rebuild },
	{ "metrics", NULL, cmd_metrics },
	{ "keys", "create", cmd_keys_create },
	{ "keys", "list", cmd_keys_list },
	{ "keys", "revoke", cmd_keys_revoke },
	{ "admin", "create", cmd_admin_create },
	{ "admin", "passwd", cmd_admin_passwd },
	{ NULL, NULL, NULL },
};

int
main(int argc, char **argv)
{
	const struct command *k;
	struct cli c;
	const char *cmd, *sub;
	int rc;

	/* Before anything is opened: the database, its files and backups are owner-only (store.h). */
	store_umask();
	memset(&c, 0, sizeof(c));
	crypto_init();
	httpc_init();
	log_init("tally");
	if (getenv("TALLY_LOG_LEVEL") == NULL)
		log_set_level(LOG_WARN);
	c.now = tm_now_ms();
	if (argc < 2)
		return cli_usage();
	if (is_help(argv[1]) || strcmp(argv[1], "help") == 0)
		return help();
	cmd = argv[1];
	sub = argc > 2 ? argv[2] : "";
	for (k = commands; k->cmd != NULL; k++)
		if (strcmp(k->cmd, cmd) == 0 && (k->sub == NULL || strcmp(k->sub, sub) == 0))
			break;
	if (k->cmd == NULL) {
		/* "tally keys --help": a command word, then a request for help. */
		for (k = commands; k->cmd != NULL && strcmp(k->cmd, cmd) != 0; k++)
			;
		return k->cmd != NULL && is_help(sub) ? help() : cli_usage();
	}
	if (parse_args(&c, argc, argv, k->sub == NULL ? 2 : 3) != 0)
		return cli_usage();
	if (c.help)
		return help();
	rc = k->fn(&c);
	store_close(c.s);
	cfg_release(&c.cfg);
	fflush(stdout);
	return rc;
}
