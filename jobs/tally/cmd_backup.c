/*
 * bin/tally: backup DEST [--force] [--json] — an online backup of the live
 * database while handlers keep writing (lib/store/store_backup.h): one consistent
 * snapshot, checked with PRAGMA integrity_check, renamed into place only when
 * intact. Reads TALLY_DB only: no config needed, any schema version copied.
 *
 * Restore (docs/deployment.md): stop the handlers and jobs, copy
 * the backup over TALLY_DB, remove TALLY_DB-wal and TALLY_DB-shm, start.
 *
 * Exit: 0 written and intact; 1 failed (DEST exists without --force, I/O,
 * SQLite, integrity), DEST unchanged; 2 usage.
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/tally_limits.h"
#include "base/tm.h"
#include "cli.h"

int
cmd_backup(struct cli *c)
{
	struct store_backup_stats st;
	struct buf b;
	struct jw w;
	char why[512];
	int64_t t0;
	const char *dest;

	if (c->npos != 1)
		return cli_usage();
	dest = c->pos[0];
	if (*dest == '\0' || strlen(dest) >= CFG_PATH_MAX)
		return cli_bad_arg("DEST must be a path shorter than 1024 bytes", NULL);
	if (cfg_load_env(&c->cfg, why, sizeof(why)) != TERR_OK)
		return cli_fail("configuration invalid", why);
	if (store_backup_open(&c->s, c->cfg.db_path) != TERR_OK) {
		char db[PG_URI_MAX];
		store_db_shown(c->cfg.db_path, db, sizeof(db));
		return cli_fail("cannot open the database", db);
	}
	t0 = tm_now_ms();
	if (store_backup(c->s, dest, cli_flag(c, "force"), &st, why, sizeof(why)) != TERR_OK)
		return cli_fail("backup failed", why);
	if (!c->json) {
		fputs("backup of ", stdout);
		cli_out(c->cfg.db_path, strlen(c->cfg.db_path));
		fputs(" written to ", stdout);
		cli_out(dest, strlen(dest));
		printf(": %lld pages, %lld bytes, integrity ok\n", (long long)st.pages,
		    (long long)st.bytes);
		return 0;
	}
	buf_init(&b, 4096 + 2 * CFG_PATH_MAX);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "db", c->cfg.db_path);
	jw_kstr(&w, "dest", dest);
	jw_kint(&w, "pages", st.pages);
	jw_kint(&w, "bytes", st.bytes);
	jw_kint(&w, "steps", st.steps);
	jw_kint(&w, "restarts", st.restarts);
	jw_kint(&w, "ms", tm_now_ms() - t0);
	jw_kstr(&w, "integrity", "ok");
	jw_end(&w);
	buf_putc(&b, '\n');
	cli_outb(&b);
	buf_release(&b);
	return 0;
}
