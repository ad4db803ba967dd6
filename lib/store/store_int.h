/*
 * Private to the storage module (store*.c): the connection struct (its
 * statements indexed by store_sql.h's enum stmt), and binding helpers.
 * Nothing outside lib/store*.c includes this file or sqlite3.h.
 */
#ifndef TALLY_STORE_INT_H
#define TALLY_STORE_INT_H

#include <sqlite3.h>

#include "base/buf.h"
#include "store/pg.h"
#include "store/store.h"
#include "store/store_param.h"
#include "store/store_sql.h"

struct store {
	struct pg_db *pg; /* PostgreSQL: the connection; NULL on SQLite (docs/postgresql.md) */
	int64_t changed;  /* PostgreSQL: rows changed by the last store_run */
	sqlite3 *db;
	sqlite3_stmt *st[STMT__MAX];
	char path[CFG_PATH_MAX];
	int lockfd; /* <db>.lock: writers of every process take turns on it; -1 when none */
	int locked; /* this connection holds it */
	void (*wal_cb)(void *arg, int pages);
	void *wal_arg;
};

/*
 * One row of a statement's result, read by column whatever the engine: the
 * row readers (store_read_sub ...) take it, so that they serve both.
 */
struct store_row {
	sqlite3_stmt *st;        /* SQLite: the statement, stepped onto this row */
	const struct pg_rows *r; /* PostgreSQL: the result ... */
	int i;                   /* ... and the row's number in it */
};

/* Column col as an integer (0 for NULL). */
int64_t store_col_i64(const struct store_row *row, int col);
/* 1 when column col is NULL. */
int store_col_null(const struct store_row *row, int col);
/* Column col as text into out[size] ("" for NULL; truncated to fit). */
void store_col_text(const struct store_row *row, int col, char *out, size_t size);
/* Column col as text, valid until the next row ("" for NULL). */
const char *store_col_str(const struct store_row *row, int col);
/* The length in bytes of column col's text or blob (0 for NULL). */
size_t store_col_len(const struct store_row *row, int col);
/*
 * Column col, a blob, into out[size]; *len its length (0 for NULL).
 * TERR_TOOBIG when it is longer than size (nothing copied).
 */
enum terr store_col_blob(const struct store_row *row, int col, void *out, size_t size, size_t *len);
/* Column col, a blob or text, appended to b (nothing for NULL). */
enum terr store_col_buf(const struct store_row *row, int col, struct buf *b);

/* What reads one row into out (store_get, store_list), or walks it (store_each). */
typedef void (*store_read_fn)(const struct store_row *row, void *out);
typedef enum terr (*store_each_fn)(const struct store_row *row, void *arg);

/*
 * The prepared statement i, reset and with bindings cleared, ready to bind.
 * NULL (error logged) when it cannot be prepared.
 */
sqlite3_stmt *store_stmt(struct store *s, enum stmt i);
/* Reset st after use (keeps it prepared). */
void store_stmt_done(sqlite3_stmt *st);

/* Map a SQLite result code; logs TERR_DB failures with the statement's name. */
enum terr store_err(struct store *s, int rc, const char *what);

/*
 * The parameters of a statement, bound in order as ?1, ?2 ... Written as
 * STORE_PARAMS(SP_TEXT(user), SP_I64(now)), which stands for the two
 * arguments (list, count) every function below takes last. Each of them
 * prepares the statement once per connection (store_stmt), binds, steps and
 * resets it before it returns; text and blobs are bound without a copy
 * (SQLITE_STATIC), which is safe for that reason. A statement that cannot be
 * prepared or bound answers TERR_DB (logged with what).
 */
/* Statement i (INSERT, UPDATE, DELETE) bound and stepped once; TERR_DUP on a UNIQUE key. */
enum terr store_run(struct store *s, enum stmt i, const char *what, const struct store_param *p,
    size_t n);
/* store_run, answering none (TERR_NOTFOUND, TERR_CONFLICT ...) when it changed no row. */
enum terr store_run_changed(struct store *s, enum stmt i, enum terr none, const char *what,
    const struct store_param *p, size_t n);
/*
 * store_run of an INSERT: *id (may be NULL) is the new row's id; TERR_DUP
 * when it inserted nothing (a UNIQUE key, or ON CONFLICT DO NOTHING).
 */
enum terr store_run_insert(struct store *s, enum stmt i, int64_t *id, const char *what,
    const struct store_param *p, size_t n);
/*
 * store_run_changed alone in a transaction of its own (store_begin ...
 * store_commit, rolled back on any failure). none TERR_OK: a step that changes no row commits as well.
 */
enum terr store_run_alone(struct store *s, enum stmt i, enum terr none, const char *what,
    const struct store_param *p, size_t n);

/* Statement i bound, its row read with fn into out; TERR_NOTFOUND when none. */
enum terr store_get(struct store *s, enum stmt i, store_read_fn fn, void *out, const char *what,
    const struct store_param *p, size_t n);
/* Statement i bound, up to max rows of sz bytes read with fn into out; *n rows read. */
enum terr store_list(struct store *s, enum stmt i, store_read_fn fn, void *out, size_t sz,
    size_t max, size_t *n, const char *what, const struct store_param *p, size_t np);
/*
 * Statement i bound, the integers of its first row's columns 0 and 1 into
 * *a and *b (b may be NULL); both 0 when there is no row, which is no error.
 */
enum terr store_ints(struct store *s, enum stmt i, int64_t *a, int64_t *b, const char *what,
    const struct store_param *p, size_t n);
/* Statement i bound: *yes 1 when it has a row, else 0. */
enum terr store_exists(struct store *s, enum stmt i, int *yes, const char *what,
    const struct store_param *p, size_t n);
/*
 * Statement i bound, fn called with each row until none is left; fn's
 * own failure (not TERR_OK) ends the walk and is answered.
 */
enum terr store_each(struct store *s, enum stmt i, store_each_fn fn, void *arg, const char *what,
    const struct store_param *p, size_t n);

/*
 * Prepare every statement of enum stmt in this engine's text, without
 * running any: *failed those the engine refuses (each logged with its
 * number). For the test that both dialects' tables are whole.
 */
enum terr store_prepare_all(struct store *s, int *failed);

/* The index of name in the table names[0..n) of an enum's names, or -1. */
int store_name_find(const char *const *names, int n, const char *name);

#endif
