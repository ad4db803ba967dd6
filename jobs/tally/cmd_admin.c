/*
 * bin/tally: the support console's admins. The password is read from
 * standard input (one line) or, on a terminal, typed twice without echo;
 * never from the command line, where other users could see it. It is kept
 * only as a scrypt hash (console.h console_pw_hash). Each change writes an
 * audit row with the operator.
 *
 *   admin create NAME     a new admin
 *   admin passwd NAME     a new password for NAME (its open sessions end)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "base/text.h"
#include "cli.h"
#include "console/console.h"
#include "crypto/crypto.h"

/* Read one line from fd into out[size] (without its line ending); -1 when too long or unreadable. */
static int
read_line(int fd, char *out, size_t size)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || c == '\n')
			break;
		if (n + 1 >= size)
			return -1;
		out[n++] = c;
	}
	if (n > 0 && out[n - 1] == '\r')
		n--;
	out[n] = '\0';
	return r < 0 ? -1 : 0;
}

/* Prompt on the terminal with echo off. */
static int
prompt(int tty, const char *question, char *out, size_t size)
{
	struct termios old, quiet;
	int rc;

	if (write(tty, question, strlen(question)) < 0 || tcgetattr(tty, &old) != 0)
		return -1;
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (tcsetattr(tty, TCSAFLUSH, &quiet) != 0)
		return -1;
	rc = read_line(tty, out, size);
	tcsetattr(tty, TCSAFLUSH, &old);
	if (write(tty, "\n", 1) < 0)
		rc = -1;
	return rc;
}

/* The new password: stdin's first line, or typed twice on the terminal. 0, or 1 (message printed). */
static int
read_password(char *pw, size_t size)
{
	char again[CONSOLE_PW_MAX + 2];
	int tty, rc = 1;

	if (!isatty(STDIN_FILENO)) {
		if (read_line(STDIN_FILENO, pw, size) != 0)
			return cli_fail("cannot read the password from standard input", NULL);
	} else {
		if ((tty = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0)
			return cli_fail("cannot open the terminal", strerror(errno));
		if (prompt(tty, "New password: ", pw, size) != 0 ||
		    prompt(tty, "Again: ", again, sizeof(again)) != 0) {
			close(tty);
			crypto_wipe(again, sizeof(again));
			return cli_fail("cannot read the password", NULL);
		}
		close(tty);
		rc = strcmp(pw, again) != 0;
		crypto_wipe(again, sizeof(again));
		if (rc)
			return cli_fail("the passwords differ", NULL);
	}
	if (strlen(pw) < CONSOLE_PW_MIN || strlen(pw) > CONSOLE_PW_MAX ||
	    !text_utf8_valid(pw, strlen(pw)))
		return cli_fail("a password is 12 to 1024 bytes of text", NULL);
	return 0;
}

/* Admin names: letters, digits and . _ @ + - (an email address fits); "key:..." names API keys. */
static int
name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= CFG_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			c == '.' || c == '_' || c == '@' || c == '+' || c == '-'))
			return 0;
	}
	return 1;
}

static int
admin_put(struct cli *c, int create)
{
	const char *name = c->npos == 1 ? c->pos[0] : NULL;
	char pw[CONSOLE_PW_MAX + 2], hash[ADMIN_HASH_MAX];
	struct audit_row a;
	enum terr rc;
	int ret = 1;

	if (name == NULL || !name_ok(name))
		return cli_bad_arg("admin names are 1 to 63 letters, digits, '.', '_', '@', '+' or "
				   "'-'",
		    name);
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if (read_password(pw, sizeof(pw)) != 0)
		goto out;
	if (console_pw_hash(pw, hash) != TERR_OK) {
		cli_fail("cannot hash the password", NULL);
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.at = c->now;
	snprintf(a.actor, sizeof(a.actor), "operator:%s", cli_operator(c));
	text_copy(a.action, sizeof(a.action), create ? "admin.create" : "admin.passwd");
	snprintf(a.object, sizeof(a.object), "admin:%s", name);
	text_copy(a.reason, sizeof(a.reason), c->reason != NULL ? c->reason : "");
	if ((rc = store_begin(c->s)) != TERR_OK) {
		cli_fail("not committed", err_str(rc));
		goto out;
	}
	if ((rc = store_admin_put(c->s, name, hash, c->now, create)) != TERR_OK ||
	    (rc = store_audit_insert(c->s, &a)) != TERR_OK ||
	    (rc = store_commit(c->s)) != TERR_OK) {
		store_rollback(c->s);
		if (rc == TERR_DUP)
			cli_fail("an admin of that name exists: use tally admin passwd", name);
		else if (rc == TERR_NOTFOUND)
			cli_fail("no such admin: use tally admin create", name);
		else
			cli_fail("not committed", err_str(rc));
		goto out;
	}
	if (create)
		printf("admin %s created\n", name);
	else
		printf("password of %s changed; its sessions ended\n", name);
	ret = 0;
out:
	crypto_wipe(pw, sizeof(pw));
	crypto_wipe(hash, sizeof(hash));
	return ret;
}

int
cmd_admin_create(struct cli *c)
{
	return admin_put(c, 1);
}

int
cmd_admin_passwd(struct cli *c)
{
	return admin_put(c, 0);
}
