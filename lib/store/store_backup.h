/*
 * Online backup of the live database (`tally backup DEST`) with SQLite's
 * backup API (https://sqlite.org/backup.html), while handlers keep writing.
 *
 * The copy is one consistent snapshot: the source connection holds a read
 * transaction from before the first page is copied until after the last, so
 * in WAL mode writers of other processes go on committing (readers never
 * block a WAL writer) and the copy never starts over. Without that held
 * transaction every sqlite3_backup_step would open a fresh one, see the
 * other processes' commits and restart the copy from page 1: under a steady
 * stream of webhooks a backup of a large database would never finish.
 *
 * The result is written beside DEST as DEST.partial (mode 0600: it holds
 * every user's billing records), checked with PRAGMA integrity_check,
 * closed (which folds its WAL into it: one self-contained file), synced, and
 * only then renamed over DEST. A failure leaves DEST as it was and removes
 * DEST.partial. The copy stays in WAL mode, like the source: restored, it
 * opens as the live database does, and several processes starting on it at
 * once never race to switch its journal mode.
 */
#ifndef TALLY_STORE_BACKUP_H
#define TALLY_STORE_BACKUP_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "store/store.h"

/*
 * Pages per sqlite3_backup_step (1 MiB at SQLite's default 4 KiB page): a
 * step holds the source connection's mutex and does its I/O in one go; small
 * steps keep each one short and let a busy disk serve the handlers' fsyncs
 * between them. The number of steps does not change the result.
 */
#define BACKUP_STEP_PAGES 256

struct store_backup_stats {
	int64_t pages;    /* the database's size in pages in the snapshot copied */
	int64_t bytes;    /* the backup file's size */
	int64_t steps;    /* sqlite3_backup_step calls */
	int64_t restarts; /* times the copy started over: 0 while the snapshot holds */
};

/*
 * Open the database at path read-only, as the source of a backup: no schema
 * check (a backup copies any version, e.g. before `tally migrate` of an
 * upgrade) and no writer lock. The file must exist. Close with store_close.
 * TERR_DB (logged) when it cannot be opened, TERR_TOOBIG for a path too long.
 */
enum terr store_backup_open(struct store **out, const char *path);

/*
 * Copy s's database to dest as described above. replace: an existing dest
 * is replaced (never when it is the live database itself). stats is filled.
 * On failure why[whysize] says what failed, in words for an operator.
 * TERR_OK; TERR_CONFLICT dest exists and replace is 0; TERR_INVAL dest is
 * the live database; TERR_TOOBIG dest too long; TERR_IO a file operation
 * failed; TERR_DB SQLite failed or the copy is not intact (logged).
 */
enum terr store_backup(struct store *s, const char *dest, int replace,
    struct store_backup_stats *stats, char *why, size_t whysize);

#endif
