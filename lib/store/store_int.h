/*
 * Private to the storage module (store*.c): the connection struct (its
 * statements indexed by store_sql.h's enum stmt), and binding helpers.
 * Nothing outside lib/store*.c includes this file or sqlite3.h.
 */
#ifndef TALLY_STORE_INT_H
#define TALLY_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sql.h"

struct store {
	sqlite3 *db;
	sqlite3_stmt *st[STMT__MAX];
	char path[CFG_PATH_MAX];
	int lockfd; /* <db>.lock: writers of every process take turns on it; -1 when none */
	int locked; /* this connection holds it */
	void (*wal_cb)(void *arg, int pages);
	void *wal_arg;
};

/*
 * The prepared statement i, reset and with bindings cleared, ready to bind.
 * NULL (error logged) when it cannot be prepared.
 */
sqlite3_stmt *store_stmt(struct store *s, enum stmt i);
/* Reset st after use (keeps it prepared). */
void store_stmt_done(sqlite3_stmt *st);

/* Map a SQLite result code; logs TERR_DB failures with the statement's name. */
enum terr store_err(struct store *s, int rc, const char *what);

/* Step st expecting no row (INSERT/UPDATE/DELETE), then reset it. */
enum terr store_step_done(struct store *s, sqlite3_stmt *st, const char *what);

/* Step st expecting at most one row, read with fn; TERR_NOTFOUND when none. Resets st. */
enum terr store_one_row(struct store *s, sqlite3_stmt *st, void (*fn)(sqlite3_stmt *, void *),
    void *out, const char *what);
/* Step st reading up to max rows of size sz into out with fn; *n rows read. Resets st. */
enum terr store_many_rows(struct store *s, sqlite3_stmt *st, void (*fn)(sqlite3_stmt *, void *),
    void *out, size_t sz, size_t max, size_t *n, const char *what);

/* Bind helpers: text (NULL binds NULL), text or NULL when empty, int64. */
int store_bind_text(sqlite3_stmt *st, int i, const char *v);
int store_bind_opt(sqlite3_stmt *st, int i, const char *v);
int store_bind_i64(sqlite3_stmt *st, int i, int64_t v);

/* Copy column i as text into out[size] ("" for NULL). */
void store_col_text(sqlite3_stmt *st, int i, char *out, size_t size);

#endif
