/*
 * Private to storage: PostgreSQL through libpq, the engine beside SQLite for
 * tally on several hosts (docs/postgresql.md: how store.c will dispatch to
 * it). Only lib/store includes this file or libpq-fe.h.
 *
 * What it gives the store, in SQLite's terms so the same statements and the
 * same struct store_param lists serve both engines:
 *  - a connection from a postgresql:// or postgres:// URI (libpq's, with
 *    sslmode, several hosts and the rest), given in TALLY_DB or in the file
 *    TALLY_DB_FILE names; a password may also come from libpq's own
 *    PGPASSFILE (~/.pgpass). The URI is printed only redacted (pg_redact).
 *  - the migrations of migrations/pg/, forward-only, all pending ones in one
 *    transaction, recorded in schema_migrations as SQLite's store does;
 *  - statements written with SQLite's ?1 ?2 placeholders, rewritten to
 *    $1 $2 once and prepared once per connection, parameters bound from
 *    struct store_param (text, int8, bytea), rows read by column as text;
 *  - errors as enum terr: a unique violation is TERR_DUP; a serialization
 *    failure (40001) or a deadlock (40P01) TERR_RETRY (the transaction was
 *    rolled back: run it again); a lock or statement timeout or too many
 *    connections TERR_BUSY; anything else TERR_DB (logged). A connection
 *    lost answers TERR_DB; the next call outside a transaction connects
 *    again (a transaction that was open is gone: roll it back first).
 *
 * Unlike SQLite, a failed statement inside a transaction aborts the whole
 * transaction: every later statement answers TERR_DB until pg_rollback (or
 * pg_rollback_to, to a savepoint taken before). So a statement that may meet
 * a UNIQUE key inside a transaction says ON CONFLICT DO NOTHING and reads
 * its changed rows (docs/postgresql.md).
 *
 * A struct pg_db is one connection: use it from one thread at a time.
 */
#ifndef TALLY_STORE_PG_H
#define TALLY_STORE_PG_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "base/err.h"
#include "store/store_param.h"

struct pg_db;

/* Type oids (PostgreSQL's src/include/catalog/pg_type.dat), which libpq-fe.h does not define. */
#define PG_OID_BYTEA 17
#define PG_OID_INT8  20
#define PG_OID_TEXT  25

/* 1 when s names a PostgreSQL database (a postgresql:// or postgres:// URI), else 0. */
int pg_is_uri(const char *s);

/*
 * The PostgreSQL URI tally is given: TALLY_DB, or the content of the file
 * TALLY_DB_FILE names (one trailing line ending stripped), into out[size]
 * (PG_URI_MAX). TERR_OK with the URI; TERR_NOTFOUND when TALLY_DB is unset
 * or a path (SQLite's); TERR_CONFIG with why when both are set, the file
 * cannot be read or is too long, or it holds no postgresql:// URI. The
 * caller wipes out (crypto_wipe) when done: it may hold a password.
 */
enum terr pg_uri_env(char *out, size_t size, char *why, size_t whysize);

/*
 * uri for a log line or a message, into out[size] (truncated to fit): the
 * password of its user part (user:PASSWORD@, read as libpq reads it) and
 * every password= parameter replaced by "***", the rest as given. When a
 * '?' comes before that '@' (a password= value with a raw '@' in it?) all
 * after the scheme is "***". Something that is not a URI gives
 * "(not a postgresql:// URI)" and nothing of it.
 */
void pg_redact(const char *uri, char *out, size_t size);

/*
 * sql with SQLite's numbered placeholders ?1 ?2 ... rewritten as
 * PostgreSQL's $1 $2 ... into out[size] (as long as sql: size > strlen(sql)
 * suffices), left alone inside '...' strings, "..." names, -- comments and
 * C-style comments. *maxp: the largest number used (0: none). TERR_INVAL
 * for a ? without a number, a ?0, a number past PG_PARAMS_MAX, a $ outside
 * quotes (PostgreSQL would read a parameter or a dollar quote there), or a
 * quote or comment left open; TERR_TOOBIG when out is too small.
 */
enum terr pg_placeholders(const char *sql, char *out, size_t size, int *maxp);

/*
 * The enum terr of a SQLSTATE (PG_DIAG_SQLSTATE, five characters; NULL or
 * "" for none): 23505 TERR_DUP; 40001 and 40P01 TERR_RETRY; 55P03, 57014
 * and 53300 TERR_BUSY; everything else TERR_DB.
 */
enum terr pg_state_err(const char *sqlstate);

/*
 * Connect to uri (libpq's connection URI). connect_timeout is
 * PG_CONNECT_TIMEOUT_S unless the URI or PGCONNECT_TIMEOUT says; each
 * session commits synchronously (synchronous_commit on: a 2xx means
 * durable), reads bytea as hex and speaks UTF-8. *out is the connection
 * (pg_close) or NULL. TERR_CONFIG when uri is no valid URI; TERR_DB when
 * the server cannot be reached or refuses; both logged with the redacted URI.
 */
enum terr pg_open(struct pg_db **out, const char *uri);
void pg_close(struct pg_db *db);

/* The newest version of migrations/pg/ in this build. */
int pg_schema_latest(void);
/* The version recorded in schema_migrations (0 when there is none yet). */
enum terr pg_schema_version(struct pg_db *db, int *version);
/*
 * Apply every migration newer than the database up to target (<= 0: the
 * newest) in one transaction, each recorded in schema_migrations, under an
 * advisory lock so that processes migrating at once take turns. *from and
 * *to: the versions before and after (equal when nothing was applied or it
 * failed). TERR_SCHEMA when the database is newer than this build.
 */
enum terr pg_migrate(struct pg_db *db, int target, int *from, int *to);

/*
 * The rows of a statement, kept by the caller until pg_rows_free. Columns
 * are read as PostgreSQL's text: integers parsed, bytea decoded from hex.
 */
struct pg_rows {
	PGresult *res;   /* NULL when the statement returns no rows */
	int n;           /* rows */
	int64_t changed; /* rows inserted, updated or deleted */
};

/*
 * Run sql (SQLite's ?N placeholders) with p[0..n) bound to them in order.
 * slot in [0, STMT__MAX): prepared once per connection under that number,
 * sql rewritten once (the same slot must always be given the same sql);
 * -1: run once, unprepared. The kinds of a slot's parameters are those of
 * its first call. rows (may be NULL) receives what it returned; free it
 * with pg_rows_free whatever the result. Errors as above; what names the
 * statement in the log.
 */
enum terr pg_exec(struct pg_db *db, int slot, const char *sql, const char *what,
    const struct store_param *p, size_t n, struct pg_rows *rows);
void pg_rows_free(struct pg_rows *rows);
/*
 * Prepare sql under slot as pg_exec would, without running it, its
 * parameters' types left to the server to infer: TERR_OK when PostgreSQL
 * accepts the statement (for the test that every statement prepares).
 */
enum terr pg_prepare(struct pg_db *db, int slot, const char *sql, const char *what);

/* Column col of row as an integer (0 for NULL or out of range; t/f of a boolean as 1/0). */
int64_t pg_col_i64(const struct pg_rows *rows, int row, int col);
/* 1 when column col of row is NULL (or out of range). */
int pg_col_null(const struct pg_rows *rows, int row, int col);
/* Column col of row as text into out[size] ("" for NULL; truncated to fit). */
void pg_col_text(const struct pg_rows *rows, int row, int col, char *out, size_t size);
/*
 * Column col of row, a bytea, into out[size]; *len its length. TERR_TOOBIG
 * when it is longer than size (nothing copied), TERR_DB when it is no hex bytea.
 */
enum terr pg_col_blob(const struct pg_rows *rows, int row, int col, void *out, size_t size,
    size_t *len);

/*
 * Transactions: READ COMMITTED always (the row locks of docs/postgresql.md
 * rely on it, whatever the server's default). begin connects again first
 * if the connection was lost (nothing is lost with it outside a
 * transaction), once. commit answers TERR_DB when the transaction had
 * failed (PostgreSQL then rolls it back) and TERR_RETRY on a serialization
 * failure at commit; either way the transaction is over. rollback is
 * harmless when none is open.
 */
enum terr pg_begin(struct pg_db *db);
enum terr pg_commit(struct pg_db *db);
void pg_rollback(struct pg_db *db);
/* Savepoints nest inside a transaction, one per event of a batch, as store_savepoint. */
enum terr pg_savepoint(struct pg_db *db);
enum terr pg_release(struct pg_db *db);
void pg_rollback_to(struct pg_db *db);

/* The server's process id of this connection's session (0 when not connected): for tests. */
int pg_backend_pid(struct pg_db *db);

#endif
