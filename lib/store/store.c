/*
 * Storage: the connection, its pragmas, migrations, transactions and the
 * statement cache. Typed row functions are in store_rows.c and
 * store_credits.c; the SQL itself in store_sql.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/text.h"
#include "base/tm.h"
#include "store/migrations.h"
#include "store/store_int.h"

int
store_schema_latest(void)
{
	return tally_nmigrations > 0 ? tally_migrations[tally_nmigrations - 1].version : 0;
}

int
store_is_postgres(const char *db)
{
	return pg_is_uri(db);
}

void
store_db_shown(const char *db, char *out, size_t size)
{
	if (pg_is_uri(db))
		pg_redact(db, out, size);
	else
		text_copy(out, size, db);
}

void
store_umask(void)
{
	umask(S_IRWXG | S_IRWXO);
}

enum terr
store_err(struct store *s, int rc, const char *what)
{
	struct logline l;

	switch (rc) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW: return TERR_OK;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY: return TERR_DUP;
	default: break;
	}
	log_begin(&l, LOG_ERROR, "storage error");
	log_str(&l, "op", what);
	log_int(&l, "sqlite_code", rc);
	log_str(&l, "error",
	    s != NULL && s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
	log_end(&l);
	if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)
		return TERR_BUSY;
	return TERR_DB;
}

sqlite3_stmt *
store_stmt(struct store *s, enum stmt i)
{
	int rc;

	if (s->st[i] != NULL)
		return s->st[i];
	rc =
	    sqlite3_prepare_v3(s->db, store_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL);
	if (rc != SQLITE_OK) {
		store_err(s, rc, store_sql[i]);
		s->st[i] = NULL;
	}
	return s->st[i];
}

void
store_stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Step st expecting no row, then reset it. */
static enum terr
step_done(struct store *s, sqlite3_stmt *st, const char *what)
{
	int rc = sqlite3_step(st);

	store_stmt_done(st);
	if (rc == SQLITE_DONE)
		return TERR_OK;
	return store_err(s, rc, what);
}

static int
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
}

static int
bind_one(sqlite3_stmt *st, int i, const struct store_param *p)
{
	switch (p->kind) {
	case SP_KIND_TEXT: return bind_text(st, i, p->text);
	case SP_KIND_OPT:
		return bind_text(st, i, p->text != NULL && *p->text != '\0' ? p->text : NULL);
	case SP_KIND_I64: return sqlite3_bind_int64(st, i, p->v);
	case SP_KIND_ID:
		return p->v != 0 ? sqlite3_bind_int64(st, i, p->v) : sqlite3_bind_null(st, i);
	case SP_KIND_BLOB:
		return sqlite3_bind_blob64(st, i, p->blob != NULL ? p->blob : "",
		    (sqlite3_uint64)p->v, SQLITE_STATIC);
	}
	return SQLITE_MISUSE;
}

/* Statement i with p[0..n) bound; NULL (logged) when it cannot be prepared or bound. */
static sqlite3_stmt *
bound(struct store *s, enum stmt i, const char *what, const struct store_param *p, size_t n)
{
	sqlite3_stmt *st = store_stmt(s, i);
	size_t k;
	int rc;

	if (st == NULL)
		return NULL;
	for (k = 0; k < n; k++)
		if ((rc = bind_one(st, (int)k + 1, &p[k])) != SQLITE_OK) {
			store_err(s, rc, what);
			store_stmt_done(st);
			return NULL;
		}
	return st;
}

/*
 * The inserts whose new id the store reads back (store_run_insert's *id).
 * On PostgreSQL they say RETURNING id, appended to their text (there is no
 * last_insert_rowid); on SQLite they do not (SQLite builds a temporary
 * table for RETURNING).
 */
static const enum stmt returning_id[] = { STMT_INBOX_INSERT, STMT_SUB_INSERT, STMT_PAY_INSERT,
	STMT_GRANT_INSERT, STMT_LEDGER_INSERT, STMT_AUDIT_INSERT, STMT_OUTBOX_INSERT,
	STMT_TASK_INSERT };

/* Statement i's text on PostgreSQL: store_sql_pg's where the dialects differ, else store_sql's. */
static const char *pg_sql[STMT__MAX];
static char *pg_sql_own[STMT__MAX];

static void
pg_sql_setup(void)
{
	size_t k, len;
	int i;

	for (i = 0; i < STMT__MAX; i++)
		pg_sql[i] = store_sql_pg[i] != NULL ? store_sql_pg[i] : store_sql[i];
	for (k = 0; k < sizeof(returning_id) / sizeof(returning_id[0]); k++) {
		i = (int)returning_id[k];
		if (strstr(pg_sql[i], "RETURNING") != NULL)
			continue;
		len = strlen(pg_sql[i]) + sizeof(" RETURNING id");
		if ((pg_sql_own[i] = malloc(len)) == NULL)
			continue; /* store_run_insert then answers TERR_DB for want of the id */
		snprintf(pg_sql_own[i], len, "%s RETURNING id", pg_sql[i]);
		pg_sql[i] = pg_sql_own[i];
	}
}

/* Statement i run on PostgreSQL; rows (may be NULL) as pg_exec's, freed by the caller. */
static pthread_once_t pg_sql_once = PTHREAD_ONCE_INIT;

static enum terr
pg_run(struct store *s, enum stmt i, const char *what, const struct store_param *p, size_t n,
    struct pg_rows *rows)
{
	pthread_once(&pg_sql_once, pg_sql_setup);
	return pg_exec(s->pg, (int)i, pg_sql[i], what, p, n, rows);
}

enum terr
store_prepare_all(struct store *s, int *failed)
{
	char what[32];
	int i, bad;

	*failed = 0;
	pthread_once(&pg_sql_once, pg_sql_setup);
	for (i = 0; i < STMT__MAX; i++) {
		snprintf(what, sizeof(what), "statement %d", i);
		if (s->pg != NULL)
			bad = pg_prepare(s->pg, i, pg_sql[i], what) != TERR_OK;
		else
			bad = store_stmt(s, (enum stmt)i) == NULL;
		if (bad) {
			struct logline l;
			log_begin(&l, LOG_ERROR, "statement refused");
			log_int(&l, "stmt", i);
			log_end(&l);
			(*failed)++;
		}
	}
	return TERR_OK;
}

enum terr
store_run(struct store *s, enum stmt i, const char *what, const struct store_param *p, size_t n)
{
	sqlite3_stmt *st;

	if (s->pg != NULL) {
		struct pg_rows r;
		enum terr rc = pg_run(s, i, what, p, n, &r);
		s->changed = rc == TERR_OK ? r.changed : 0;
		pg_rows_free(&r);
		return rc;
	}
	st = bound(s, i, what, p, n);
	return st != NULL ? step_done(s, st, what) : TERR_DB;
}

enum terr
store_run_changed(struct store *s, enum stmt i, enum terr none, const char *what,
    const struct store_param *p, size_t n)
{
	enum terr rc = store_run(s, i, what, p, n);

	if (rc != TERR_OK)
		return rc;
	return (s->pg != NULL ? s->changed : sqlite3_changes(s->db)) == 0 ? none : rc;
}

enum terr
store_run_insert(struct store *s, enum stmt i, int64_t *id, const char *what,
    const struct store_param *p, size_t n)
{
	enum terr rc;

	if (s->pg != NULL) {
		struct pg_rows r;
		if ((rc = pg_run(s, i, what, p, n, &r)) == TERR_OK) {
			if (r.changed == 0)
				rc = TERR_DUP;
			else if (id != NULL && r.n > 0)
				*id = pg_col_i64(&r, 0, 0);
			else if (id != NULL)
				rc = TERR_INTERNAL; /* no RETURNING id: see returning_id */
		}
		pg_rows_free(&r);
		return rc;
	}
	/*
	 * ON CONFLICT DO NOTHING: one row changed means inserted, none a
	 * duplicate. (Not RETURNING: SQLite builds a temporary table for it.)
	 */
	rc = store_run_changed(s, i, TERR_DUP, what, p, n);
	if (rc == TERR_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(s->db);
	return rc;
}

enum terr
store_run_alone(struct store *s, enum stmt i, enum terr none, const char *what,
    const struct store_param *p, size_t n)
{
	enum terr rc;

	if ((rc = store_begin(s)) != TERR_OK)
		return rc;
	rc = store_run_changed(s, i, none, what, p, n);
	if (rc == TERR_OK && (rc = store_commit(s)) == TERR_OK)
		return TERR_OK;
	store_rollback(s);
	return rc;
}

int
store_name_find(const char *const *names, int n, const char *name)
{
	int i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(names[i], name) == 0)
			return i;
	return -1;
}

int64_t
store_col_i64(const struct store_row *row, int col)
{
	if (row->r != NULL)
		return pg_col_i64(row->r, row->i, col);
	return sqlite3_column_int64(row->st, col);
}

int
store_col_null(const struct store_row *row, int col)
{
	if (row->r != NULL)
		return pg_col_null(row->r, row->i, col);
	return sqlite3_column_type(row->st, col) == SQLITE_NULL;
}

void
store_col_text(const struct store_row *row, int col, char *out, size_t size)
{
	const unsigned char *t;
	int n;

	if (row->r != NULL) {
		pg_col_text(row->r, row->i, col, out, size);
		return;
	}
	t = sqlite3_column_text(row->st, col);
	n = sqlite3_column_bytes(row->st, col);
	if (t == NULL || n <= 0) {
		out[0] = '\0';
		return;
	}
	if ((size_t)n >= size)
		n = (int)size - 1;
	memcpy(out, t, (size_t)n);
	out[n] = '\0';
}

const char *
store_col_str(const struct store_row *row, int col)
{
	const char *t;

	if (row->r != NULL)
		t = pg_col_null(row->r, row->i, col) ? NULL : PQgetvalue(row->r->res, row->i, col);
	else
		t = (const char *)sqlite3_column_text(row->st, col);
	return t != NULL ? t : "";
}

size_t
store_col_len(const struct store_row *row, int col)
{
	if (row->r != NULL)
		return pg_col_null(row->r, row->i, col)
		    ? 0
		    : (size_t)PQgetlength(row->r->res, row->i, col);
	return (size_t)sqlite3_column_bytes(row->st, col);
}

enum terr
store_col_blob(const struct store_row *row, int col, void *out, size_t size, size_t *len)
{
	const void *b;
	int n;

	if (row->r != NULL)
		return pg_col_blob(row->r, row->i, col, out, size, len);
	b = sqlite3_column_blob(row->st, col);
	n = sqlite3_column_bytes(row->st, col);
	*len = 0;
	if (b == NULL || n <= 0)
		return TERR_OK;
	if ((size_t)n > size)
		return TERR_TOOBIG;
	memcpy(out, b, (size_t)n);
	*len = (size_t)n;
	return TERR_OK;
}

enum terr
store_col_buf(const struct store_row *row, int col, struct buf *b)
{
	const char *t;
	size_t n;

	if (row->r == NULL) {
		buf_append(b, sqlite3_column_blob(row->st, col),
		    (size_t)sqlite3_column_bytes(row->st, col));
		return TERR_OK;
	}
	if (pg_col_null(row->r, row->i, col))
		return TERR_OK;
	t = PQgetvalue(row->r->res, row->i, col);
	n = (size_t)PQgetlength(row->r->res, row->i, col);
	if (PQftype(row->r->res, col) != PG_OID_BYTEA) {
		buf_append(b, t, n);
		return TERR_OK;
	}
	/* bytea_output = 'hex' (pg.c's session): "\\x", two digits a byte, decoded a piece at a time. */
	if (n < 2 || t[0] != '\\' || t[1] != 'x' || (n - 2) % 2 != 0)
		return TERR_DB;
	for (t += 2, n -= 2; n > 0;) {
		unsigned char piece[512];
		size_t k = n < 2 * sizeof(piece) ? n : 2 * sizeof(piece);
		if (text_unhex(t, k, piece, sizeof(piece)) != TERR_OK)
			return TERR_DB;
		buf_append(b, piece, k / 2);
		t += k;
		n -= k;
	}
	return TERR_OK;
}

/*
 * Statement i on PostgreSQL, fn (when not NULL) called with each of its
 * first max rows, each into out + k * sz (sz 0: out each time); *n (may be
 * NULL) the rows read.
 */
static enum terr
pg_rows_read(struct store *s, enum stmt i, store_read_fn fn, void *out, size_t sz, size_t max,
    size_t *n, const char *what, const struct store_param *p, size_t np)
{
	struct pg_rows r;
	struct store_row row = { NULL, &r, 0 };
	enum terr rc;

	if (n != NULL)
		*n = 0;
	if ((rc = pg_run(s, i, what, p, np, &r)) == TERR_OK) {
		for (row.i = 0; row.i < r.n && (size_t)row.i < max; row.i++)
			if (fn != NULL)
				fn(&row, (char *)out + (size_t)row.i * sz);
		if (n != NULL)
			*n = (size_t)row.i;
	}
	pg_rows_free(&r);
	return rc;
}

enum terr
store_get(struct store *s, enum stmt i, store_read_fn fn, void *out, const char *what,
    const struct store_param *p, size_t n)
{
	sqlite3_stmt *st;
	struct store_row row = { NULL, NULL, 0 };
	enum terr err = TERR_OK;
	size_t got;
	int rc;

	if (s->pg != NULL) {
		err = pg_rows_read(s, i, fn, out, 0, 1, &got, what, p, n);
		return err == TERR_OK && got == 0 ? TERR_NOTFOUND : err;
	}
	if ((st = row.st = bound(s, i, what, p, n)) == NULL)
		return TERR_DB;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		fn(&row, out);
	else if (rc == SQLITE_DONE)
		err = TERR_NOTFOUND;
	else
		err = store_err(s, rc, what);
	store_stmt_done(st);
	return err;
}

enum terr
store_list(struct store *s, enum stmt i, store_read_fn fn, void *out, size_t sz, size_t max,
    size_t *n, const char *what, const struct store_param *p, size_t np)
{
	sqlite3_stmt *st;
	struct store_row row = { NULL, NULL, 0 };
	int rc = SQLITE_DONE;

	*n = 0;
	if (s->pg != NULL)
		return pg_rows_read(s, i, fn, out, sz, max, n, what, p, np);
	if ((st = row.st = bound(s, i, what, p, np)) == NULL)
		return TERR_DB;
	while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		fn(&row, (char *)out + *n * sz);
		(*n)++;
	}
	store_stmt_done(st);
	if (*n < max && rc != SQLITE_DONE)
		return store_err(s, rc, what);
	return TERR_OK;
}

enum terr
store_ints(struct store *s, enum stmt i, int64_t *a, int64_t *b, const char *what,
    const struct store_param *p, size_t n)
{
	sqlite3_stmt *st;
	int rc;

	*a = 0;
	if (b != NULL)
		*b = 0;
	if (s->pg != NULL) {
		struct pg_rows r;
		enum terr err = pg_run(s, i, what, p, n, &r);
		if (err == TERR_OK && r.n > 0) {
			*a = pg_col_i64(&r, 0, 0);
			if (b != NULL)
				*b = pg_col_i64(&r, 0, 1);
		}
		pg_rows_free(&r);
		return err;
	}
	if ((st = bound(s, i, what, p, n)) == NULL)
		return TERR_DB;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*a = sqlite3_column_int64(st, 0);
		if (b != NULL)
			*b = sqlite3_column_int64(st, 1);
	}
	store_stmt_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? TERR_OK : store_err(s, rc, what);
}

enum terr
store_exists(struct store *s, enum stmt i, int *yes, const char *what, const struct store_param *p,
    size_t n)
{
	sqlite3_stmt *st;
	size_t got;
	int rc;

	*yes = 0;
	if (s->pg != NULL) {
		enum terr err = pg_rows_read(s, i, NULL, NULL, 0, 1, &got, what, p, n);
		*yes = err == TERR_OK && got > 0;
		return err;
	}
	if ((st = bound(s, i, what, p, n)) == NULL)
		return TERR_DB;
	rc = sqlite3_step(st);
	*yes = rc == SQLITE_ROW;
	store_stmt_done(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? TERR_OK : store_err(s, rc, what);
}

enum terr
store_each(struct store *s, enum stmt i, store_each_fn fn, void *arg, const char *what,
    const struct store_param *p, size_t n)
{
	sqlite3_stmt *st;
	struct store_row row = { NULL, NULL, 0 };
	enum terr err = TERR_OK;
	int rc = SQLITE_DONE;

	if (s->pg != NULL) {
		/* The whole result in memory (one PGresult); a walk of many rows is paged by its caller. */
		struct pg_rows r;
		if ((err = pg_run(s, i, what, p, n, &r)) == TERR_OK) {
			row.r = &r;
			for (row.i = 0; err == TERR_OK && row.i < r.n; row.i++)
				err = fn(&row, arg);
		}
		pg_rows_free(&r);
		return err;
	}
	if ((st = row.st = bound(s, i, what, p, n)) == NULL)
		return TERR_DB;
	while (err == TERR_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
		err = fn(&row, arg);
	store_stmt_done(st);
	if (err != TERR_OK)
		return err;
	return rc == SQLITE_DONE ? TERR_OK : store_err(s, rc, what);
}

static enum terr
exec(struct store *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);

	if (rc != SQLITE_OK) {
		struct logline l;
		log_begin(&l, LOG_ERROR, "storage error");
		log_str(&l, "op", "exec");
		log_int(&l, "sqlite_code", rc);
		log_str(&l, "error", msg != NULL ? msg : sqlite3_errstr(rc));
		log_end(&l);
		sqlite3_free(msg);
		return (rc & 0xff) == SQLITE_BUSY ? TERR_BUSY : TERR_DB;
	}
	return TERR_OK;
}

enum terr
store_schema_version(struct store *s, int *version)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*version = 0;
	if (s->pg != NULL)
		return pg_schema_version(s->pg, version);
	if ((rc = sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL)) != SQLITE_OK)
		return store_err(s, rc, "user_version");
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? TERR_OK : store_err(s, rc, "user_version");
}

static enum terr
pragmas(struct store *s, enum store_mode mode)
{
	const char *sync = getenv("TALLY_SYNCHRONOUS");
	enum terr rc;

	/* Each connection sets these: they are not stored in the file. */
	if ((rc = exec(s, "PRAGMA foreign_keys = ON")) != TERR_OK)
		return rc;
	/*
	 * Statement and savepoint journals in memory: each event of a batch runs
	 * under a savepoint, and a journal file would cost a pwrite per page.
	 */
	if ((rc = exec(s, "PRAGMA temp_store = MEMORY")) != TERR_OK)
		return rc;
	sqlite3_busy_timeout(s->db, DB_BUSY_MS);
	/*
	 * A reader's page cache: 256 KiB, not SQLite's 2 MB. A handler has one
	 * reader a worker thread (32 by default); at 2 MB each the API's
	 * resident set grew to ~50 MB holding copies of pages the kernel's page
	 * cache holds anyway (tests/bench: api cases).
	 */
	if (mode == STORE_RO)
		return exec(s, "PRAGMA cache_size = -256");
	/* journal_mode is stored in the file; setting it again is a cheap no-op. */
	if ((rc = exec(s, "PRAGMA journal_mode = WAL")) != TERR_OK)
		return rc;
	/*
	 * When the WAL starts over it is cut back to 64 MiB if a long reader or
	 * a burst once let it grow past that; a handler's writer starts it over
	 * every few MiB (writer.h), so in steady state it is reused in place.
	 */
	if ((rc = exec(s, "PRAGMA journal_size_limit = 67108864")) != TERR_OK)
		return rc;
	/*
	 * FULL: a commit survives power loss, which is what a 2xx promises a
	 * provider. NORMAL only for benchmarks that measure what it costs.
	 */
	if (sync != NULL && strcmp(sync, "normal") == 0)
		return exec(s, "PRAGMA synchronous = NORMAL");
	return exec(s, "PRAGMA synchronous = FULL");
}

/*
 * Once per process, before SQLite initializes: no memory statistics. With
 * them on (SQLite's default) every sqlite3_malloc and free takes a global
 * mutex and updates counters nobody here reads; off, apply costs about 12 %
 * fewer instructions an event (callgrind, tests/bench/micro.c).
 */
static void
sqlite_setup(void)
{
	sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
	sqlite3_initialize();
}

/* The database's schema is this build's (store_open but for migrations). */
static enum terr
schema_current(struct store *s, const char *path)
{
	char where[PG_URI_MAX];
	enum terr err;
	int version, latest = s->pg != NULL ? pg_schema_latest() : store_schema_latest();

	if ((err = store_schema_version(s, &version)) != TERR_OK)
		return err;
	if (version != latest) {
		struct logline l;
		pg_redact(path, where, sizeof(where));
		log_begin(&l, LOG_ERROR, "database schema is not current: run tally migrate");
		log_str(&l, "path", s->pg != NULL ? where : path);
		log_int(&l, "schema_version", version);
		log_int(&l, "expected", latest);
		log_end(&l);
		return TERR_SCHEMA;
	}
	return TERR_OK;
}

/*
 * store_open on PostgreSQL: one connection, whatever the mode (a reader is
 * a connection too; PostgreSQL's MVCC gives it a snapshot per statement).
 * None of SQLite's file mechanisms: no writers' lock file (the server
 * orders writers), no pragmas, no WAL hook.
 */
static enum terr
open_pg(struct store **out, const char *uri, enum store_mode mode)
{
	struct store *s;
	enum terr err;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TERR_NOMEM;
	s->lockfd = -1;
	/* The path of slot files and logs: never the URI, which may hold a password. */
	pg_redact(uri, s->path, sizeof(s->path));
	if ((err = pg_open(&s->pg, uri)) != TERR_OK) {
		free(s);
		return err;
	}
	if (mode != STORE_MIGRATE && (err = schema_current(s, uri)) != TERR_OK) {
		store_close(s);
		return err;
	}
	*out = s;
	return TERR_OK;
}

enum terr
store_open(struct store **out, const char *path, enum store_mode mode)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct store *s;
	int flags, rc;
	enum terr err;

	*out = NULL;
	if (pg_is_uri(path))
		return open_pg(out, path, mode);
	pthread_once(&once, sqlite_setup);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return TERR_NOMEM;
	s->lockfd = -1;
	text_copy(s->path, sizeof(s->path), path);
	if (mode != STORE_RO) {
		/*
		 * Writers of every process take turns through a lock file beside the
		 * database: a blocked flock wakes the next writer the moment the lock
		 * is released, where SQLite's busy handler would sleep and poll.
		 */
		char lp[CFG_PATH_MAX + 8];
		snprintf(lp, sizeof(lp), "%s.lock", path);
		/* Owner only, as the database (store_umask): one user runs every tally process. */
		s->lockfd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (s->lockfd < 0) {
			struct logline l;
			log_begin(&l, LOG_WARN,
			    "no writer lock file: writers will poll SQLite's lock");
			log_str(&l, "path", lp);
			log_str(&l, "error", strerror(errno));
			log_end(&l);
		}
	}
	flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
	flags |= mode == STORE_RO ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (mode == STORE_MIGRATE) {
		/*
		 * A new database is made owner-only here, whatever the caller's
		 * umask: SQLite would create it 0644 less the umask, and it gives
		 * the -wal and -shm the database file's mode (os_unix.c,
		 * findCreateFileMode). An existing file keeps its mode.
		 */
		struct stat st;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0) {
			/* One made by an earlier version may be 0644: say so at each upgrade. */
			if (fstat(fd, &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
				struct logline l;
				char m[8];
				snprintf(m, sizeof(m), "%03o", (unsigned)(st.st_mode & 0777));
				log_begin(&l, LOG_WARN,
				    "the database is open to group or others: chmod 600 it, its "
				    "-wal and -shm");
				log_str(&l, "path", path);
				log_str(&l, "mode", m);
				log_end(&l);
			}
			close(fd);
		}
		flags |= SQLITE_OPEN_CREATE;
	}
	if ((rc = sqlite3_open_v2(path, &s->db, flags, NULL)) != SQLITE_OK) {
		struct logline l;
		log_begin(&l, LOG_ERROR, "cannot open database");
		log_str(&l, "path", path);
		log_str(&l, "error", s->db != NULL ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		log_end(&l);
		store_close(s);
		return TERR_DB;
	}
	sqlite3_extended_result_codes(s->db, 1);
	/*
	 * The last connection to close would checkpoint the whole WAL and delete
	 * it: in CGI mode, every request. Checkpoints belong to the writer's
	 * checkpoint thread, to SQLite's automatic checkpoint in one-shot
	 * processes, and to jobs, never to closing.
	 */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
	if ((err = pragmas(s, mode)) != TERR_OK) {
		store_close(s);
		return err;
	}
	if (mode != STORE_MIGRATE && (err = schema_current(s, path)) != TERR_OK) {
		store_close(s);
		return err;
	}
	*out = s;
	return TERR_OK;
}

void
store_close(struct store *s)
{
	size_t i;

	if (s == NULL)
		return;
	if (s->pg != NULL) {
		pg_rollback(s->pg);
		pg_close(s->pg);
		free(s);
		return;
	}
	for (i = 0; i < STMT__MAX; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	if (s->lockfd >= 0)
		close(s->lockfd);
	free(s);
}

static void
writer_lock(struct store *s)
{
	if (s->lockfd < 0 || s->locked)
		return;
	while (flock(s->lockfd, LOCK_EX) != 0)
		if (errno != EINTR)
			return; /* without the lock, SQLite's own locking still holds */
	s->locked = 1;
}

static void
writer_unlock(struct store *s)
{
	if (!s->locked)
		return;
	flock(s->lockfd, LOCK_UN);
	s->locked = 0;
}

/* PRAGMA foreign_key_check finds nothing. */
static enum terr
foreign_keys_hold(struct store *s)
{
	sqlite3_stmt *st = NULL;
	int src;

	if ((src = sqlite3_prepare_v2(s->db, "PRAGMA foreign_key_check", -1, &st, NULL)) !=
	    SQLITE_OK)
		return store_err(s, src, "foreign_key_check");
	src = sqlite3_step(st);
	sqlite3_finalize(st);
	if (src == SQLITE_ROW) {
		log_msg(LOG_ERROR, "migration leaves a row whose foreign key has no parent", NULL);
		return TERR_SCHEMA;
	}
	return src == SQLITE_DONE ? TERR_OK : store_err(s, src, "foreign_key_check");
}

static enum terr
migrate_one(struct store *s, const struct migration *m)
{
	char pragma[64];
	sqlite3_stmt *st = NULL;
	enum terr rc;
	int src;

	/*
	 * A migration may rebuild a table (SQLite cannot alter a CHECK): foreign
	 * keys are off while it runs (the pragma is a no-op inside a transaction)
	 * and checked as a whole before it commits.
	 */
	if ((rc = exec(s, "PRAGMA foreign_keys = OFF")) != TERR_OK)
		return rc;
	writer_lock(s);
	if ((rc = exec(s, "BEGIN IMMEDIATE")) != TERR_OK) {
		writer_unlock(s);
		exec(s, "PRAGMA foreign_keys = ON");
		return rc;
	}
	if ((rc = exec(s,
		 "CREATE TABLE IF NOT EXISTS schema_migrations ("
		 "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
		 "applied_at INTEGER NOT NULL)")) != TERR_OK)
		goto fail;
	if ((rc = exec(s, m->sql)) != TERR_OK)
		goto fail;
	src = sqlite3_prepare_v2(s->db,
	    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)", -1,
	    &st, NULL);
	if (src == SQLITE_OK) {
		sqlite3_bind_int(st, 1, m->version);
		sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, tm_now_ms());
		src = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (src != SQLITE_DONE) {
		rc = store_err(s, src, "record migration");
		goto fail;
	}
	if ((rc = foreign_keys_hold(s)) != TERR_OK)
		goto fail;
	/* user_version is read by every open; it is set inside the same transaction. */
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", m->version);
	if ((rc = exec(s, pragma)) != TERR_OK)
		goto fail;
	if ((rc = exec(s, "COMMIT")) != TERR_OK)
		goto fail;
	writer_unlock(s);
	return exec(s, "PRAGMA foreign_keys = ON");
fail:
	exec(s, "ROLLBACK");
	writer_unlock(s);
	exec(s, "PRAGMA foreign_keys = ON");
	return rc;
}

enum terr
store_migrate(struct store *s, int target, int *from, int *to)
{
	int version, i;
	enum terr rc;

	if (s->pg != NULL)
		return pg_migrate(s->pg, target, from, to);
	if ((rc = store_schema_version(s, &version)) != TERR_OK)
		return rc;
	*from = *to = version;
	if (target <= 0 || target > store_schema_latest())
		target = store_schema_latest();
	if (version > store_schema_latest()) {
		log_msg(LOG_ERROR, "database is newer than this build: upgrade tally", NULL);
		return TERR_SCHEMA;
	}
	for (i = 0; i < tally_nmigrations; i++) {
		const struct migration *m = &tally_migrations[i];
		if (m->version <= version || m->version > target)
			continue;
		if ((rc = migrate_one(s, m)) != TERR_OK)
			return rc;
		*to = m->version;
	}
	return TERR_OK;
}

static enum terr
run(struct store *s, enum stmt i, const char *what)
{
	return store_run(s, i, what, NULL, 0);
}

enum terr
store_begin(struct store *s)
{
	enum terr rc;

	if (s->pg != NULL)
		return pg_begin(s->pg);
	writer_lock(s);
	if ((rc = run(s, STMT_BEGIN, "begin")) != TERR_OK)
		writer_unlock(s);
	return rc;
}

enum terr
store_commit(struct store *s)
{
	enum terr rc;

	if (s->pg != NULL)
		return pg_commit(s->pg);
	rc = run(s, STMT_COMMIT, "commit");

	/* A failed COMMIT may leave the transaction open: the caller rolls back, which unlocks. */
	if (rc == TERR_OK || sqlite3_get_autocommit(s->db))
		writer_unlock(s);
	return rc;
}

enum terr
store_savepoint(struct store *s)
{
	if (s->pg != NULL)
		return pg_savepoint(s->pg);
	return run(s, STMT_SAVEPOINT, "savepoint");
}

enum terr
store_release(struct store *s)
{
	if (s->pg != NULL)
		return pg_release(s->pg);
	return run(s, STMT_RELEASE, "release");
}

void
store_rollback(struct store *s)
{
	if (s->pg != NULL) {
		pg_rollback(s->pg);
		return;
	}
	/* Harmless when no transaction is open (SQLite answers an error we ignore). */
	if (sqlite3_get_autocommit(s->db) == 0)
		run(s, STMT_ROLLBACK, "rollback");
	writer_unlock(s);
}

static int
wal_trampoline(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct store *s = arg;

	(void)db;
	(void)name;
	if (s->wal_cb != NULL)
		s->wal_cb(s->wal_arg, pages);
	return SQLITE_OK;
}

void
store_wal_watch(struct store *s, void (*cb)(void *arg, int pages), void *arg)
{
	s->wal_cb = cb;
	s->wal_arg = arg;
	if (s->pg != NULL)
		return; /* no WAL of tally's to watch: PostgreSQL checkpoints its own */
	/* Replaces SQLite's automatic checkpoint on this connection. */
	sqlite3_wal_hook(s->db, wal_trampoline, s);
}

/* A monotonic clock in ms: a slot's wait must not stretch or end with the wall clock. */
static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Slot i of kind held on a new descriptor: 1; busy: 0; its file cannot be opened: -1. */
static int
slot_try(struct store *s, const char *kind, int i, struct store_slot *slot)
{
	char path[CFG_PATH_MAX + 32];
	int fd;

	if ((size_t)snprintf(path, sizeof(path), "%s.%s-%d", s->path, kind, i) >= sizeof(path))
		return -1;
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660)) < 0) {
		struct logline l;
		log_begin(&l, LOG_ERROR, "cannot open a slot file");
		log_str(&l, "path", path);
		log_str(&l, "error", strerror(errno));
		log_end(&l);
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EINTR)
			continue;
		close(fd);
		return 0; /* EWOULDBLOCK: another descriptor holds it */
	}
	slot->fd = fd;
	return 1;
}

/* FNV-1a of kind, the first key of its slots' advisory locks on PostgreSQL. */
static int
slot_key(const char *kind)
{
	uint32_t h = 2166136261u;

	for (; *kind != '\0'; kind++)
		h = (h ^ (unsigned char)*kind) * 16777619u;
	return (int)(h & 0x7fffffff);
}

/* slot_try on PostgreSQL: a session advisory lock, let go of when the session ends. */
static int
slot_try_pg(struct store *s, const char *kind, int i, struct store_slot *slot)
{
	struct pg_rows r;
	int key = slot_key(kind), got;

	if (pg_exec(s->pg, -1, "SELECT pg_try_advisory_lock(?1::int, ?2::int)", "slot take",
		STORE_PARAMS(SP_I64(key), SP_I64(i)), &r) != TERR_OK) {
		pg_rows_free(&r);
		return -1;
	}
	got = pg_col_i64(&r, 0, 0) == 1;
	pg_rows_free(&r);
	if (got) {
		slot->fd = i;
		slot->key = key;
	}
	return got;
}

enum terr
store_slot_take(struct store *s, const char *kind, int n, int64_t wait_ms, struct store_slot *slot)
{
	struct timespec pause = { 0, STORE_SLOT_POLL_MS * 1000000L };
	int64_t end = mono_ms() + wait_ms;
	int i, got;

	slot->fd = -1;
	for (;;) {
		for (i = 0; i < n; i++)
			if ((got = s->pg != NULL ? slot_try_pg(s, kind, i, slot)
						 : slot_try(s, kind, i, slot)) != 0)
				return got > 0 ? TERR_OK : TERR_IO;
		if (mono_ms() >= end)
			return TERR_BUSY;
		nanosleep(&pause, NULL);
	}
}

void
store_slot_give(struct store *s, struct store_slot *slot)
{
	if (slot->fd < 0)
		return;
	if (s->pg != NULL) {
		pg_exec(s->pg, -1, "SELECT pg_advisory_unlock(?1::int, ?2::int)", "slot give",
		    STORE_PARAMS(SP_I64(slot->key), SP_I64(slot->fd)), NULL);
		slot->fd = -1;
		return;
	}
	/* Closing the last descriptor of the open file description releases its flock. */
	close(slot->fd);
	slot->fd = -1;
}

void
store_rollback_to(struct store *s)
{
	if (s->pg != NULL) {
		pg_rollback_to(s->pg);
		return;
	}
	run(s, STMT_ROLLBACK_TO, "rollback to savepoint");
}

enum terr
store_checkpoint(struct store *s, int *left)
{
	int log = -1, done = -1;
	int rc;

	if (s->pg != NULL) {
		/* PostgreSQL's checkpointer does this on the server: nothing is left for tally. */
		if (left != NULL)
			*left = 0;
		return TERR_OK;
	}
	rc = sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);

	if (left != NULL)
		*left = log >= 0 && done >= 0 ? log - done : -1;
	return rc == SQLITE_OK || rc == SQLITE_BUSY ? TERR_OK : store_err(s, rc, "checkpoint");
}

enum terr
store_checkpoint_between(struct store *s)
{
	enum terr rc;

	writer_lock(s);
	rc = store_checkpoint(s, NULL);
	writer_unlock(s);
	return rc;
}

/* store_verify on PostgreSQL: each check's PostgreSQL text, those without one skipped. */
static enum terr
verify_pg(struct store *s, void (*cb)(void *arg, const char *check, const char *detail), void *arg,
    int64_t *violations)
{
	const struct store_check *c;
	struct pg_rows r;
	enum terr rc;
	int k;

	for (c = store_checks; c->name != NULL; c++) {
		const char *sql = c->sql_pg != NULL ? c->sql_pg : c->sql;
		if (*sql == '\0')
			continue;
		if ((rc = pg_exec(s->pg, -1, sql, c->name, NULL, 0, &r)) != TERR_OK) {
			pg_rows_free(&r);
			return rc;
		}
		for (k = 0; k < r.n; k++) {
			char detail[512];
			pg_col_text(&r, k, 0, detail, sizeof(detail));
			(*violations)++;
			if (cb != NULL)
				cb(arg, c->name, detail);
		}
		pg_rows_free(&r);
	}
	return TERR_OK;
}

enum terr
store_verify(struct store *s, void (*cb)(void *arg, const char *check, const char *detail),
    void *arg, int64_t *violations)
{
	const struct store_check *c;
	sqlite3_stmt *st;
	int rc;

	*violations = 0;
	if (s->pg != NULL)
		return verify_pg(s, cb, arg, violations);
	for (c = store_checks; c->name != NULL; c++) {
		if ((rc = sqlite3_prepare_v2(s->db, c->sql, -1, &st, NULL)) != SQLITE_OK)
			return store_err(s, rc, c->name);
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			const unsigned char *t = sqlite3_column_text(st, 0);
			(*violations)++;
			if (cb != NULL)
				cb(arg, c->name, t != NULL ? (const char *)t : "");
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE)
			return store_err(s, rc, c->name);
	}
	return TERR_OK;
}
