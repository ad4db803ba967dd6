/*
 * Online backup of the live database: see store_backup.h for what it
 * guarantees and why it holds a read transaction for the whole copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/tally_limits.h"
#include "base/text.h"
#include "store/store_backup.h"
#include "store/store_int.h"

/* Room for the suffixes SQLite and we put after DEST (".partial-journal"). */
#define SUFFIX_MAX 24

enum terr
store_backup_open(struct store **out, const char *path)
{
	struct store *s;
	int rc;

	*out = NULL;
	if (pg_is_uri(path)) {
		log_msg(LOG_ERROR,
		    "tally backup copies a SQLite database: back up PostgreSQL with pg_dump or a "
		    "base "
		    "backup",
		    NULL);
		return TERR_CONFIG;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TERR_NOMEM;
	s->lockfd = -1;
	if (text_copy(s->path, sizeof(s->path), path) != TERR_OK) {
		free(s);
		return TERR_TOOBIG;
	}
	/* READONLY without CREATE: a wrong TALLY_DB fails here instead of making an empty file. */
	rc = sqlite3_open_v2(path, &s->db,
	    SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		store_err(s, rc, "backup: open");
		store_close(s);
		return TERR_DB;
	}
	sqlite3_busy_timeout(s->db, DB_BUSY_MS);
	*out = s;
	return TERR_OK;
}

static enum terr
fail(char *why, size_t whysize, enum terr rc, const char *what, const char *detail)
{
	snprintf(why, whysize, "%s%s%s", what, detail != NULL ? ": " : "",
	    detail != NULL ? detail : "");
	return rc;
}

/* Run sql on db, which returns no rows that matter. */
static int
exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/*
 * Start the snapshot: a read transaction on the source that stays open until
 * the copy is done. BEGIN alone is deferred; the first read takes the snapshot.
 */
static enum terr
snapshot_begin(struct store *s, char *why, size_t whysize)
{
	sqlite3_stmt *st = NULL;
	enum terr err;
	int rc;

	if ((rc = exec_sql(s->db, "BEGIN")) != SQLITE_OK) {
		fail(why, whysize, TERR_DB, "cannot read the database", sqlite3_errmsg(s->db));
		return store_err(s, rc, "backup: begin");
	}
	rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		fail(why, whysize, TERR_DB, "cannot read the database", sqlite3_errmsg(s->db));
		err = store_err(s, rc, "backup: snapshot");
		sqlite3_finalize(st);
		exec_sql(s->db, "ROLLBACK");
		return err == TERR_OK ? TERR_DB : err;
	}
	sqlite3_finalize(st);
	return TERR_OK;
}

/*
 * Copy every page in steps. A step that finds the source briefly locked
 * (SQLITE_BUSY while another connection recovers the WAL index) is retried
 * for at most DB_BUSY_MS in all, like any other tally connection would wait.
 */
static int
copy_pages(sqlite3_backup *b, struct store_backup_stats *stats)
{
	int rc, remaining, prev = -1, waited = 0;

	for (;;) {
		rc = sqlite3_backup_step(b, BACKUP_STEP_PAGES);
		stats->steps++;
		if (rc == SQLITE_DONE)
			return rc;
		if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
			if (waited >= DB_BUSY_MS)
				return rc;
			sqlite3_sleep(10);
			waited += 10;
			continue;
		}
		if (rc != SQLITE_OK)
			return rc;
		/* Fewer pages left after each step, unless the copy started over. */
		remaining = sqlite3_backup_remaining(b);
		if (prev >= 0 && remaining >= prev)
			stats->restarts++;
		prev = remaining;
	}
}

/* PRAGMA integrity_check on db: 0 when it answers exactly one row "ok"; else its first row. */
static int
integrity_ok(sqlite3 *db, char *first, size_t size)
{
	sqlite3_stmt *st = NULL;
	int rc, rows = 0, ok = 0;

	first[0] = '\0';
	if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) {
		text_copy(first, size, sqlite3_errmsg(db));
		return -1;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 0);
		if (rows++ == 0) {
			snprintf(first, size, "%s", t != NULL ? t : "");
			ok = t != NULL && strcmp(t, "ok") == 0;
		}
	}
	if (rc != SQLITE_DONE) {
		snprintf(first, size, "%s", sqlite3_errmsg(db));
		ok = 0;
	}
	sqlite3_finalize(st);
	return ok && rows == 1 ? 0 : -1;
}

/* fsync the file at path (flags O_RDONLY) or its directory (O_DIRECTORY). */
static int
sync_path(const char *path, int flags)
{
	int fd, rc;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | flags)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

/* The directory part of path into dir[size] ("." when path has none). */
static void
dir_of(const char *path, char *dir, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		text_copy(dir, size, ".");
	else if (slash == path)
		text_copy(dir, size, "/");
	else
		text_copyn(dir, size, path, (size_t)(slash - path));
}

/* Remove tmp and anything SQLite may have left beside it. */
static void
remove_partial(const char *tmp)
{
	static const char *const sfx[] = { "", "-journal", "-wal", "-shm" };
	char p[CFG_PATH_MAX + SUFFIX_MAX + 16];
	size_t i;

	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", tmp, sfx[i]);
		unlink(p);
	}
}

enum terr
store_backup(struct store *s, const char *dest, int replace, struct store_backup_stats *stats,
    char *why, size_t whysize)
{
	char tmp[CFG_PATH_MAX + SUFFIX_MAX], wal[CFG_PATH_MAX + 2 * SUFFIX_MAX];
	char dir[CFG_PATH_MAX], first[256];
	struct stat src_st, dst_st;
	sqlite3 *d = NULL;
	sqlite3_backup *b = NULL;
	int fd, rc, created = 0, snapshot = 0;
	enum terr err = TERR_IO;

	memset(stats, 0, sizeof(*stats));
	why[0] = '\0';
	if (strlen(dest) >= CFG_PATH_MAX ||
	    snprintf(tmp, sizeof(tmp), "%s.partial", dest) >= (int)sizeof(tmp))
		return fail(why, whysize, TERR_TOOBIG, "DEST: path too long", NULL);
	if (stat(s->path, &src_st) != 0)
		return fail(why, whysize, TERR_IO, "cannot stat the database", strerror(errno));
	if (stat(dest, &dst_st) == 0) {
		if (dst_st.st_dev == src_st.st_dev && dst_st.st_ino == src_st.st_ino)
			return fail(why, whysize, TERR_INVAL, "DEST is the live database", dest);
		if (!replace)
			return fail(why, whysize, TERR_CONFLICT,
			    "DEST exists (--force replaces it)", dest);
	} else if (errno != ENOENT)
		return fail(why, whysize, TERR_IO, "cannot stat DEST", strerror(errno));

	/* A .partial left by a killed run is ours; created 0600 before SQLite opens it. */
	remove_partial(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		err = fail(why, whysize, TERR_IO, "cannot create the backup file", strerror(errno));
		goto out;
	}
	close(fd);
	created = 1;
	rc = sqlite3_open_v2(tmp, &d,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE, NULL);
	if (rc != SQLITE_OK) {
		err = fail(why, whysize, TERR_DB, "cannot open the backup file",
		    d != NULL ? sqlite3_errmsg(d) : sqlite3_errstr(rc));
		goto out;
	}
	if ((err = snapshot_begin(s, why, whysize)) != TERR_OK)
		goto out;
	snapshot = 1;
	if ((b = sqlite3_backup_init(d, "main", s->db, "main")) == NULL) {
		err = fail(why, whysize, TERR_DB, "cannot start the backup", sqlite3_errmsg(d));
		goto out;
	}
	rc = copy_pages(b, stats);
	stats->pages = sqlite3_backup_pagecount(b);
	if (sqlite3_backup_finish(b) != SQLITE_OK || rc != SQLITE_DONE) {
		if (rc == SQLITE_DONE)
			rc = sqlite3_extended_errcode(d);
		err = fail(why, whysize, TERR_DB, "copy failed", sqlite3_errstr(rc));
		store_err(s, rc, "backup: copy");
		goto out;
	}
	/* The snapshot is copied: the handlers' checkpoints may move past it again. */
	exec_sql(s->db, "COMMIT");
	snapshot = 0;
	if (integrity_ok(d, first, sizeof(first)) != 0) {
		struct logline l;
		log_begin(&l, LOG_ERROR, "backup failed its integrity check");
		log_str(&l, "path", tmp);
		log_str(&l, "integrity_check", first);
		log_end(&l);
		err = fail(why, whysize, TERR_DB, "the copy failed PRAGMA integrity_check", first);
		goto out;
	}
	/*
	 * The copied header says WAL, as the source's does, so reading it opened
	 * a -wal beside it; the last connection's close checkpoints that into
	 * the file and deletes it. A -wal still there would hold part of the backup.
	 */
	rc = sqlite3_close(d);
	d = NULL;
	snprintf(wal, sizeof(wal), "%s-wal", tmp);
	if (rc != SQLITE_OK || access(wal, F_OK) == 0) {
		err = fail(why, whysize, TERR_DB, "cannot close the backup file into one file",
		    sqlite3_errstr(rc));
		goto out;
	}
	/* Durable before it takes DEST's name, and the name durable before we say so. */
	dir_of(dest, dir, sizeof(dir));
	if (sync_path(tmp, 0) != 0 || rename(tmp, dest) != 0 || sync_path(dir, O_DIRECTORY) != 0) {
		err = fail(why, whysize, TERR_IO, "cannot sync or rename the backup into place",
		    strerror(errno));
		goto out;
	}
	created = 0;
	if (stat(dest, &dst_st) == 0)
		stats->bytes = (int64_t)dst_st.st_size;
	err = TERR_OK;
out:
	if (snapshot)
		exec_sql(s->db, "ROLLBACK");
	if (d != NULL)
		sqlite3_close(d);
	if (created)
		remove_partial(tmp);
	return err;
}
