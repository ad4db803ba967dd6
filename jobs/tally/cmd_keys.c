/*
 * bin/tally: the app's API keys. A key is shown once, when it is made; only
 * its SHA-256 is kept. Each change writes an audit row with the operator.
 *
 *   keys create --name NAME --scopes read,spend,admin,purchase [--json]
 *   keys list [--json]
 *   keys revoke KEY_ID [--reason TEXT]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "cli.h"

/* An audit row of a key change, in the open transaction. */
static enum terr
audit_key(struct cli *c, const char *action, const char *id, const char *detail)
{
	struct audit_row a;

	memset(&a, 0, sizeof(a));
	a.at = c->now;
	snprintf(a.actor, sizeof(a.actor), "operator:%s", cli_operator(c));
	text_copy(a.action, sizeof(a.action), action);
	snprintf(a.object, sizeof(a.object), "api_key:%s", id);
	text_copy(a.detail, sizeof(a.detail), detail);
	text_copy(a.reason, sizeof(a.reason), c->reason != NULL ? c->reason : "");
	return store_audit_insert(c->s, &a);
}

int
cmd_keys_create(struct cli *c)
{
	const char *name = cli_opt(c, "name"), *scopes = cli_opt(c, "scopes");
	struct key_row row;
	char key[AUTH_KEY_LEN], detail[128];
	unsigned mask;
	enum terr rc;

	if (c->npos != 0 || name == NULL || !text_id_valid(name, CFG_NAME_MAX - 1) ||
	    scopes == NULL || auth_scopes_parse(scopes, &mask) != TERR_OK)
		return cli_bad_arg(
		    "keys create takes --name NAME --scopes read,spend,admin,purchase", NULL);
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if (auth_key_new(mask, name, cli_operator(c), c->now, &row, key) != TERR_OK)
		return cli_fail("cannot make a key", NULL);
	snprintf(detail, sizeof(detail), "%s: %s", row.name, row.scopes);
	if ((rc = store_begin(c->s)) != TERR_OK)
		return cli_fail("not committed", err_str(rc));
	if ((rc = store_key_insert(c->s, &row)) != TERR_OK ||
	    (rc = audit_key(c, "api_key.create", row.id, detail)) != TERR_OK ||
	    (rc = store_commit(c->s)) != TERR_OK) {
		store_rollback(c->s);
		return cli_fail("not committed", err_str(rc));
	}
	if (c->json)
		printf("{\"id\":\"%s\",\"name\":\"%s\",\"scopes\":\"%s\",\"key\":\"%s\"}\n", row.id,
		    row.name, row.scopes, key);
	else
		printf("key %s (%s, %s) created. It is shown this once:\n%s\n", row.id, row.name,
		    row.scopes, key);
	crypto_wipe(key, sizeof(key));
	return 0;
}

int
cmd_keys_list(struct cli *c)
{
	struct key_row *rows;
	struct buf b;
	struct jw w;
	char when[TM_ISO_SIZE];
	size_t n = 0, i;

	if (c->npos != 0)
		return cli_usage();
	if (cli_open(c, STORE_RO) != 0)
		return 1;
	if ((rows = calloc(1000, sizeof(*rows))) == NULL)
		return cli_fail("out of memory", NULL);
	if (store_keys_list(c->s, rows, 1000, &n) != TERR_OK) {
		free(rows);
		return cli_fail("cannot read the keys", NULL);
	}
	buf_init(&b, OUT_MAX);
	jw_init(&w, &b);
	if (c->json)
		jw_arr(&w);
	for (i = 0; i < n; i++) {
		if (c->json) {
			jw_obj(&w);
			jw_kstr(&w, "id", rows[i].id);
			jw_kstr(&w, "name", rows[i].name);
			jw_kstr(&w, "scopes", rows[i].scopes);
			jw_ktime(&w, "created_at", rows[i].created_at);
			jw_kstr(&w, "created_by", rows[i].created_by);
			jw_ktime(&w, "revoked_at", rows[i].revoked_at);
			jw_end(&w);
		} else {
			tm_iso(rows[i].created_at, when);
			buf_printf(&b, "%s  %-24s %-18s created %s by %s%s\n", rows[i].id,
			    rows[i].name, rows[i].scopes, when, rows[i].created_by,
			    rows[i].revoked_at != 0 ? "  REVOKED" : "");
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
cmd_keys_revoke(struct cli *c)
{
	enum terr rc;

	if (c->npos != 1 || !text_id_valid(c->pos[0], 31))
		return cli_usage();
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if ((rc = store_begin(c->s)) != TERR_OK)
		return cli_fail("not committed", err_str(rc));
	rc = store_key_revoke(c->s, c->pos[0], c->now);
	if (rc == TERR_OK)
		rc = audit_key(c, "api_key.revoke", c->pos[0], "");
	if (rc == TERR_OK)
		rc = store_commit(c->s);
	if (rc != TERR_OK) {
		store_rollback(c->s);
		return rc == TERR_NOTFOUND ? cli_fail("no such live key", c->pos[0])
					   : cli_fail("not committed", err_str(rc));
	}
	printf("key %s revoked\n", c->pos[0]);
	return 0;
}
