/*
 * PostgreSQL through libpq (pg.h): the URI, the connection and its
 * reconnection, placeholders, statements, errors, migrations, transactions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/tally_limits.h"
#include "base/text.h"
#include "base/tm.h"
#include "cfg/cfg.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/store_sql.h"

/* The advisory lock of migrations: "tally" in ASCII, a key no other lock of tally's uses. */
#define MIGRATE_LOCK "499850701945"

struct pg_slot {
	char *sql;    /* the statement rewritten with $N; owned; NULL until first used */
	unsigned gen; /* the connection it was prepared on (pg_db.gen); 0: not prepared */
};

struct pg_db {
	PGconn *conn;
	char where[PG_URI_MAX]; /* the URI redacted, for logs */
	unsigned gen;           /* counts (re)connections: statements prepared before are gone */
	int in_tx;              /* BEGIN sent, no COMMIT or ROLLBACK since */
	struct pg_slot slot[STMT__MAX];
};

int
pg_is_uri(const char *s)
{
	return s != NULL &&
	    (strncmp(s, "postgresql://", 13) == 0 || strncmp(s, "postgres://", 11) == 0);
}

enum terr
pg_uri_env(char *out, size_t size, char *why, size_t whysize)
{
	const char *f = getenv("TALLY_DB_FILE");
	enum terr rc = cfg_secret("TALLY_DB", out, size, why, whysize);

	if (rc != TERR_OK)
		return rc == TERR_NOMEM ? rc : TERR_CONFIG;
	if (pg_is_uri(out))
		return TERR_OK;
	out[0] = '\0';
	if (f != NULL && *f != '\0') {
		/* A file is only for a URI that holds a password; a SQLite path goes in TALLY_DB. */
		snprintf(why, whysize, "TALLY_DB_FILE: %s holds no postgresql:// URI", f);
		return TERR_CONFIG;
	}
	return TERR_NOTFOUND;
}

/* Append p[0..n) to out[size] at *at, truncating; out stays NUL-terminated. */
static void
put(char *out, size_t size, size_t *at, const char *p, size_t n)
{
	if (*at + 1 >= size)
		return;
	if (n > size - 1 - *at)
		n = size - 1 - *at;
	memcpy(out + *at, p, n);
	*at += n;
	out[*at] = '\0';
}

/* 1 when the URI parameter key k[0..n) is "password", percent-encoded or not (libpq decodes keys). */
static int
is_password_key(const char *k, size_t n)
{
	static const char want[] = "password";
	size_t i = 0, j = 0;
	unsigned char c;

	while (i < n) {
		c = (unsigned char)k[i];
		if (c == '%' && i + 2 < n) {
			unsigned char b;
			if (text_unhex(k + i + 1, 2, &b, 1) != TERR_OK)
				return 0;
			c = b;
			i += 3;
		} else {
			i++;
		}
		if (want[j] == '\0' || c != (unsigned char)want[j])
			return 0;
		j++;
	}
	return want[j] == '\0';
}

void
pg_redact(const char *uri, char *out, size_t size)
{
	const char *p, *rest, *q, *amp, *eq;
	size_t at = 0, n;

	if (size == 0)
		return;
	out[0] = '\0';
	if (!pg_is_uri(uri)) {
		put(out, size, &at, "(not a postgresql:// URI)", 25);
		return;
	}
	p = strstr(uri, "://") + 3;
	put(out, size, &at, uri, (size_t)(p - uri));
	/*
	 * The user part ends at the first '@' before any '/', as libpq reads it
	 * (fe-connect.c, conninfo_uri_parse_options): user[:password]@.
	 */
	n = strcspn(p, "@/");
	if (p[n] == '@') {
		size_t u = strcspn(p, ":@");
		/*
		 * A '?' there means the '@' was meant to be in a parameter's value
		 * (a password= with a raw @): libpq reads a user part all the same,
		 * but what follows may be the rest of a password. Nothing shown.
		 */
		if (memchr(p, '?', n) != NULL) {
			put(out, size, &at, "***", 3);
			return;
		}
		put(out, size, &at, p, u);
		if (p[u] == ':')
			put(out, size, &at, ":***", 4);
		put(out, size, &at, "@", 1);
		p += n + 1;
	}
	/* Hosts and database as given; then the parameters, each password= hidden. */
	if ((q = strchr(p, '?')) == NULL) {
		put(out, size, &at, p, strlen(p));
		return;
	}
	put(out, size, &at, p, (size_t)(q - p) + 1);
	for (rest = q + 1;; rest = amp + 1) {
		amp = strchr(rest, '&');
		n = amp != NULL ? (size_t)(amp - rest) : strlen(rest);
		eq = memchr(rest, '=', n);
		if (eq != NULL && is_password_key(rest, (size_t)(eq - rest))) {
			put(out, size, &at, rest, (size_t)(eq - rest) + 1);
			put(out, size, &at, "***", 3);
		} else {
			put(out, size, &at, rest, n);
		}
		if (amp == NULL)
			break;
		put(out, size, &at, "&", 1);
	}
}

/* Past the quote or comment that starts at s[i]; 0 when it is left open. */
static size_t
skip_quoted(const char *s, size_t i)
{
	char q = s[i];
	const char *e;

	if (q == '\'' || q == '"') {
		/* A doubled quote inside stands for one (SQL's escape, in both dialects). */
		for (i++; s[i] != '\0'; i++)
			if (s[i] == q) {
				if (s[i + 1] != q)
					return i + 1;
				i++;
			}
		return 0;
	}
	if (q == '-') { /* -- to the end of the line (or of the text) */
		e = strchr(s + i, '\n');
		return e != NULL ? (size_t)(e - s) + 1 : strlen(s);
	}
	e = strstr(s + i + 2, "*/"); /* a C-style comment; SQLite's do not nest */
	return e != NULL ? (size_t)(e - s) + 2 : 0;
}

enum terr
pg_placeholders(const char *sql, char *out, size_t size, int *maxp)
{
	size_t len = strlen(sql), i = 0, j;
	int64_t num;

	*maxp = 0;
	if (size == 0 || len >= size)
		return TERR_TOOBIG;
	memcpy(out, sql, len + 1);
	while (i < len) {
		char c = sql[i];
		if (c == '\'' || c == '"' || (c == '-' && sql[i + 1] == '-') ||
		    (c == '/' && sql[i + 1] == '*')) {
			if ((j = skip_quoted(sql, i)) == 0)
				return TERR_INVAL;
			i = j;
			continue;
		}
		if (c == '$')
			return TERR_INVAL;
		if (c != '?') {
			i++;
			continue;
		}
		for (j = i + 1; sql[j] >= '0' && sql[j] <= '9'; j++)
			;
		if (j == i + 1 || j - i - 1 > 5 ||
		    text_i64(sql + i + 1, j - i - 1, 1, PG_PARAMS_MAX, &num) != TERR_OK)
			return TERR_INVAL;
		out[i] = '$';
		if ((int)num > *maxp)
			*maxp = (int)num;
		i = j;
	}
	return TERR_OK;
}

enum terr
pg_state_err(const char *st)
{
	if (st == NULL || strlen(st) != 5)
		return TERR_DB;
	if (strcmp(st, "23505") == 0) /* unique_violation */
		return TERR_DUP;
	if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0) /* serialization, deadlock */
		return TERR_RETRY;
	/* lock_not_available (lock_timeout), query_canceled (statement_timeout), too_many_connections */
	if (strcmp(st, "55P03") == 0 || strcmp(st, "57014") == 0 || strcmp(st, "53300") == 0)
		return TERR_BUSY;
	return TERR_DB;
}

/* libpq's message without its line ending, into out[size]. */
static void
one_line(const char *msg, char *out, size_t size)
{
	size_t n = msg != NULL ? strcspn(msg, "\n") : 0;

	text_copyn(out, size, msg != NULL ? msg : "", n < size ? n : size - 1);
}

/* The result of a failed call as enum terr, logged unless it is TERR_DUP (a result, not a failure). */
static enum terr
failed(struct pg_db *db, PGresult *res, const char *what)
{
	const char *st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res != NULL ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	int lost = PQstatus(db->conn) != CONNECTION_OK;
	enum terr rc = lost ? TERR_DB : pg_state_err(st);
	struct logline l;
	char msg[512];

	if (rc == TERR_DUP)
		return rc;
	/* The primary message names the constraint or the object, never a row's values. */
	one_line(primary != NULL ? primary : PQerrorMessage(db->conn), msg, sizeof(msg));
	log_begin(&l, rc == TERR_RETRY || rc == TERR_BUSY ? LOG_WARN : LOG_ERROR,
	    lost                   ? "storage error: the connection to PostgreSQL is lost"
		: rc == TERR_RETRY ? "storage conflict: the transaction will be run again"
				   : "storage error");
	log_str(&l, "op", what);
	log_str(&l, "sqlstate", st != NULL ? st : "");
	log_str(&l, "error", msg);
	log_str(&l, "db", db->where);
	log_end(&l);
	if (lost) {
		/* The transaction (if any) is gone with its session: the caller rolls back. */
		db->gen++;
	}
	return rc;
}

/* A statement of no parameters and no rows (BEGIN, SET ...) as one round trip. */
static enum terr
command(struct pg_db *db, const char *sql, const char *what)
{
	PGresult *res = PQexec(db->conn, sql);
	enum terr rc = TERR_OK;

	if (res == NULL ||
	    (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK))
		rc = failed(db, res, what);
	PQclear(res);
	return rc;
}

/* The session's settings, sent after each connection. */
static enum terr
session(struct pg_db *db)
{
	/*
	 * synchronous_commit on whatever the server's default: a commit returns
	 * once its WAL is on disk (and on a synchronous standby when one is
	 * named), which is what a 2xx promises. bytea as hex, which pg_col_blob
	 * decodes.
	 */
	return command(db,
	    "SET synchronous_commit = on; SET bytea_output = 'hex'; SET client_encoding = 'UTF8'",
	    "session settings");
}

/*
 * The server's notices (NOTICE, WARNING: "there is no transaction in
 * progress" ...) go to tally's log at debug level, not to libpq's default
 * of a bare line on stderr.
 */
static void
notice(void *arg, const char *msg)
{
	struct logline l;
	char line[512];

	(void)arg;
	one_line(msg, line, sizeof(line));
	log_begin(&l, LOG_DEBUG, "PostgreSQL notice");
	log_str(&l, "notice", line);
	log_end(&l);
}

/* Log a failed connection: libpq's message (it never holds the password) and the redacted URI. */
static void
log_connect(struct pg_db *db, const char *msg)
{
	struct logline l;
	char line[512];

	one_line(PQerrorMessage(db->conn), line, sizeof(line));
	log_begin(&l, LOG_ERROR, msg);
	log_str(&l, "db", db->where);
	log_str(&l, "error", line);
	log_end(&l);
}

enum terr
pg_open(struct pg_db **out, const char *uri)
{
	const char *keys[4], *vals[4];
	char timeout[16];
	PQconninfoOption *opts;
	struct pg_db *db;
	char *err = NULL;
	int k = 0;

	*out = NULL;
	if ((db = calloc(1, sizeof(*db))) == NULL)
		return TERR_NOMEM;
	pg_redact(uri, db->where, sizeof(db->where));
	/*
	 * Parsed first, and its error not logged: libpq's message about a bad
	 * URI may quote the part it could not read, which may be the password.
	 */
	if (!pg_is_uri(uri) || (opts = PQconninfoParse(uri, &err)) == NULL) {
		struct logline l;
		log_begin(&l, LOG_ERROR, "not a valid PostgreSQL connection URI");
		log_str(&l, "db", db->where);
		log_end(&l);
		PQfreemem(err);
		free(db);
		return TERR_CONFIG;
	}
	PQconninfoFree(opts);
	/* Key words before dbname are defaults the URI overrides (PQconnectdbParams, expand_dbname). */
	if (getenv("PGCONNECT_TIMEOUT") == NULL) {
		snprintf(timeout, sizeof(timeout), "%d", PG_CONNECT_TIMEOUT_S);
		keys[k] = "connect_timeout";
		vals[k++] = timeout;
	}
	keys[k] = "dbname";
	vals[k++] = uri;
	keys[k] = "fallback_application_name";
	vals[k++] = "tally";
	keys[k] = NULL;
	vals[k] = NULL;
	db->conn = PQconnectdbParams(keys, vals, 1);
	if (db->conn == NULL) {
		free(db);
		return TERR_NOMEM;
	}
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_connect(db, "cannot connect to PostgreSQL");
		pg_close(db);
		return TERR_DB;
	}
	db->gen = 1;
	/* Kept by PQreset, which reuses the connection object. */
	PQsetNoticeProcessor(db->conn, notice, NULL);
	if (session(db) != TERR_OK) {
		pg_close(db);
		return TERR_DB;
	}
	*out = db;
	return TERR_OK;
}

void
pg_close(struct pg_db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < STMT__MAX; i++)
		free(db->slot[i].sql);
	PQfinish(db->conn);
	free(db);
}

/*
 * The connection, connected again if it was lost and no transaction was
 * open on it. TERR_DB (logged) when it cannot be, or a transaction was
 * open: that one is gone, and the caller must roll back before going on.
 */
static enum terr
ready(struct pg_db *db)
{
	if (PQstatus(db->conn) == CONNECTION_OK)
		return TERR_OK;
	if (db->in_tx)
		return TERR_DB;
	PQreset(db->conn);
	db->gen++;
	if (PQstatus(db->conn) != CONNECTION_OK) {
		log_connect(db, "cannot connect to PostgreSQL again");
		return TERR_DB;
	}
	log_msg(LOG_INFO, "connected to PostgreSQL again", NULL);
	return session(db);
}

/* The rewritten text of slot (or of a one-off statement into *own, freed by the caller). */
static const char *
rewritten(struct pg_db *db, int slot, const char *sql, const char *what, char **own)
{
	size_t len = strlen(sql) + 1;
	char *out;
	int maxp;

	*own = NULL;
	if (slot >= 0 && db->slot[slot].sql != NULL)
		return db->slot[slot].sql;
	if ((out = malloc(len)) == NULL)
		return NULL;
	if (pg_placeholders(sql, out, len, &maxp) != TERR_OK) {
		struct logline l;
		log_begin(&l, LOG_ERROR, "statement with placeholders PostgreSQL cannot take");
		log_str(&l, "op", what);
		log_end(&l);
		free(out);
		return NULL;
	}
	if (slot >= 0)
		db->slot[slot].sql = out;
	else
		*own = out;
	return out;
}

enum terr
pg_exec(struct pg_db *db, int slot, const char *sql, const char *what, const struct store_param *p,
    size_t n, struct pg_rows *rows)
{
	const char *vals[PG_PARAMS_MAX];
	char nums[PG_PARAMS_MAX][24];
	int lens[PG_PARAMS_MAX], fmts[PG_PARAMS_MAX];
	Oid types[PG_PARAMS_MAX];
	const char *text;
	char *own = NULL, name[16];
	PGresult *res = NULL;
	ExecStatusType st;
	enum terr rc;
	size_t k;

	if (rows != NULL)
		memset(rows, 0, sizeof(*rows));
	if (slot >= STMT__MAX || slot < -1 || n > PG_PARAMS_MAX)
		return TERR_INTERNAL;
	if ((rc = ready(db)) != TERR_OK)
		return rc;
	if ((text = rewritten(db, slot, sql, what, &own)) == NULL)
		return TERR_DB;
	for (k = 0; k < n; k++) {
		const struct store_param *q = &p[k];
		lens[k] = 0;
		fmts[k] = 0;
		switch (q->kind) {
		case SP_KIND_TEXT:
		case SP_KIND_OPT:
			types[k] = PG_OID_TEXT;
			vals[k] = q->kind == SP_KIND_OPT && q->text != NULL && *q->text == '\0'
			    ? NULL
			    : q->text;
			break;
		case SP_KIND_I64:
		case SP_KIND_ID:
			types[k] = PG_OID_INT8;
			snprintf(nums[k], sizeof(nums[k]), "%lld", (long long)q->v);
			vals[k] = q->kind == SP_KIND_ID && q->v == 0 ? NULL : nums[k];
			break;
		case SP_KIND_BLOB:
			if (q->v < 0 || q->v > INT32_MAX) {
				free(own);
				return TERR_TOOBIG;
			}
			/* Binary: the bytes as they are, no escaping. */
			types[k] = PG_OID_BYTEA;
			fmts[k] = 1;
			vals[k] = q->blob != NULL ? q->blob : "";
			lens[k] = q->blob != NULL ? (int)q->v : 0;
			break;
		default: free(own); return TERR_INTERNAL;
		}
	}
	if (slot < 0) {
		res = PQexecParams(db->conn, text, (int)n, types, vals, lens, fmts, 0);
	} else {
		snprintf(name, sizeof(name), "s%d", slot);
		if (db->slot[slot].gen != db->gen) {
			res = PQprepare(db->conn, name, text, (int)n, types);
			if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
				rc = failed(db, res, what);
				PQclear(res);
				return rc;
			}
			PQclear(res);
			db->slot[slot].gen = db->gen;
		}
		res = PQexecPrepared(db->conn, name, (int)n, vals, lens, fmts, 0);
	}
	free(own);
	st = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		rc = failed(db, res, what);
		PQclear(res);
		return rc;
	}
	if (rows == NULL) {
		PQclear(res);
		return TERR_OK;
	}
	/* PQcmdTuples: the count of INSERT, UPDATE, DELETE (and SELECT); "" for others. */
	if (text_i64s(PQcmdTuples(res), 0, INT64_MAX, &rows->changed) != TERR_OK)
		rows->changed = 0;
	if (st == PGRES_TUPLES_OK) {
		rows->res = res;
		rows->n = PQntuples(res);
	} else {
		PQclear(res);
	}
	return TERR_OK;
}

enum terr
pg_prepare(struct pg_db *db, int slot, const char *sql, const char *what)
{
	PGresult *res;
	const char *text;
	char *own = NULL, name[16];
	enum terr rc = TERR_OK;

	if (slot < 0 || slot >= STMT__MAX)
		return TERR_INTERNAL;
	if ((rc = ready(db)) != TERR_OK)
		return rc;
	if ((text = rewritten(db, slot, sql, what, &own)) == NULL)
		return TERR_DB;
	snprintf(name, sizeof(name), "s%d", slot);
	res = PQprepare(db->conn, name, text, 0, NULL);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK)
		rc = failed(db, res, what);
	else
		db->slot[slot].gen = db->gen;
	PQclear(res);
	return rc;
}

void
pg_rows_free(struct pg_rows *rows)
{
	if (rows == NULL)
		return;
	PQclear(rows->res);
	rows->res = NULL;
	rows->n = 0;
}

/* The text of column col of row, or NULL when it is NULL or out of range. */
static const char *
cell(const struct pg_rows *rows, int row, int col, int *len)
{
	if (rows == NULL || rows->res == NULL || row < 0 || row >= rows->n || col < 0 ||
	    col >= PQnfields(rows->res) || PQgetisnull(rows->res, row, col))
		return NULL;
	*len = PQgetlength(rows->res, row, col);
	return PQgetvalue(rows->res, row, col);
}

int64_t
pg_col_i64(const struct pg_rows *rows, int row, int col)
{
	const char *t;
	int64_t v;
	int len;

	if ((t = cell(rows, row, col, &len)) == NULL)
		return 0;
	if (len == 1 && (t[0] == 't' || t[0] == 'f'))
		return t[0] == 't';
	/* A numeric (SUM of bigint is one) by its integer part. */
	if (text_i64(t, strcspn(t, "."), INT64_MIN, INT64_MAX, &v) != TERR_OK)
		return 0;
	return v;
}

int
pg_col_null(const struct pg_rows *rows, int row, int col)
{
	int len;

	return cell(rows, row, col, &len) == NULL;
}

void
pg_col_text(const struct pg_rows *rows, int row, int col, char *out, size_t size)
{
	const char *t;
	int len;

	if (size == 0)
		return;
	if ((t = cell(rows, row, col, &len)) == NULL) {
		out[0] = '\0';
		return;
	}
	text_copyn(out, size, t, (size_t)len < size ? (size_t)len : size - 1);
}

enum terr
pg_col_blob(const struct pg_rows *rows, int row, int col, void *out, size_t size, size_t *len)
{
	const char *t;
	int n;

	*len = 0;
	if ((t = cell(rows, row, col, &n)) == NULL)
		return TERR_OK;
	/* bytea_output = 'hex' (session): "\x" then two hex digits a byte. */
	if (n < 2 || t[0] != '\\' || t[1] != 'x' || (n - 2) % 2 != 0)
		return TERR_DB;
	if ((size_t)(n - 2) / 2 > size)
		return TERR_TOOBIG;
	if (text_unhex(t + 2, (size_t)(n - 2), out, size) != TERR_OK)
		return TERR_DB;
	*len = (size_t)(n - 2) / 2;
	return TERR_OK;
}

int
pg_schema_latest(void)
{
	return tally_pg_nmigrations > 0 ? tally_pg_migrations[tally_pg_nmigrations - 1].version : 0;
}

enum terr
pg_schema_version(struct pg_db *db, int *version)
{
	struct pg_rows r;
	enum terr rc;

	*version = 0;
	rc = pg_exec(db, -1, "SELECT to_regclass('schema_migrations') IS NOT NULL",
	    "schema version", NULL, 0, &r);
	if (rc == TERR_OK && pg_col_i64(&r, 0, 0) == 1) {
		pg_rows_free(&r);
		rc = pg_exec(db, -1, "SELECT coalesce(max(version), 0) FROM schema_migrations",
		    "schema version", NULL, 0, &r);
		if (rc == TERR_OK)
			*version = (int)pg_col_i64(&r, 0, 0);
	}
	pg_rows_free(&r);
	return rc;
}

/* The migrations after version up to target, in the transaction pg_migrate opened. */
static enum terr
migrate_in(struct pg_db *db, int version, int target, int *to)
{
	const struct migration *m;
	enum terr rc;
	int i;

	for (i = 0; i < tally_pg_nmigrations; i++) {
		m = &tally_pg_migrations[i];
		if (m->version <= version || m->version > target)
			continue;
		/* The simple protocol: the file's statements, one after the other. */
		if ((rc = command(db, m->sql, m->name)) != TERR_OK)
			return rc;
		rc = pg_exec(db, -1,
		    "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
		    "record migration",
		    STORE_PARAMS(SP_I64(m->version), SP_TEXT(m->name), SP_I64(tm_now_ms())), NULL);
		if (rc != TERR_OK)
			return rc;
		*to = m->version;
	}
	return TERR_OK;
}

enum terr
pg_migrate(struct pg_db *db, int target, int *from, int *to)
{
	enum terr rc;
	int version, applied;

	*from = *to = 0;
	if (target <= 0 || target > pg_schema_latest())
		target = pg_schema_latest();
	if ((rc = pg_begin(db)) != TERR_OK)
		return rc;
	/*
	 * Processes migrating at once take turns: the second reads the version
	 * once the first has committed, and has nothing left to do.
	 */
	if ((rc = command(db, "SELECT pg_advisory_xact_lock(" MIGRATE_LOCK ")",
		 "migration lock")) != TERR_OK ||
	    (rc = command(db,
		 "CREATE TABLE IF NOT EXISTS schema_migrations (version bigint PRIMARY KEY, "
		 "name text NOT NULL, applied_at bigint NOT NULL)",
		 "schema_migrations")) != TERR_OK ||
	    (rc = pg_schema_version(db, &version)) != TERR_OK)
		goto fail;
	*from = *to = applied = version;
	if (version > pg_schema_latest()) {
		log_msg(LOG_ERROR, "database is newer than this build: upgrade tally", NULL);
		rc = TERR_SCHEMA;
		goto fail;
	}
	if ((rc = migrate_in(db, version, target, &applied)) != TERR_OK)
		goto fail;
	if ((rc = pg_commit(db)) != TERR_OK)
		return rc;
	*to = applied;
	return TERR_OK;
fail:
	pg_rollback(db);
	return rc;
}

enum terr
pg_begin(struct pg_db *db)
{
	enum terr rc;
	int tries;

	if (db->in_tx) {
		log_msg(LOG_ERROR, "storage error: a transaction is already open", NULL);
		return TERR_INTERNAL;
	}
	/*
	 * A connection lost while idle (the server restarted, a proxy timed it
	 * out) is found here, where nothing is lost with it: connect again and
	 * begin once more.
	 */
	for (tries = 0; tries < 2; tries++) {
		if ((rc = ready(db)) != TERR_OK)
			return rc;
		rc = command(db, "BEGIN ISOLATION LEVEL READ COMMITTED", "begin");
		if (rc == TERR_OK) {
			db->in_tx = 1;
			return TERR_OK;
		}
		if (PQstatus(db->conn) == CONNECTION_OK)
			break;
	}
	return rc;
}

enum terr
pg_commit(struct pg_db *db)
{
	PGresult *res;
	enum terr rc = TERR_OK;

	if (!db->in_tx)
		return TERR_INTERNAL;
	db->in_tx = 0;
	res = PQexec(db->conn, "COMMIT");
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		rc = failed(db, res, "commit");
	} else if (strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		/* COMMIT of a transaction an error had aborted rolls it back, and says so. */
		log_msg(LOG_ERROR, "storage error: the transaction had failed and was rolled back",
		    NULL);
		rc = TERR_DB;
	}
	PQclear(res);
	return rc;
}

void
pg_rollback(struct pg_db *db)
{
	PGresult *res;

	db->in_tx = 0;
	if (PQstatus(db->conn) != CONNECTION_OK || PQtransactionStatus(db->conn) == PQTRANS_IDLE)
		return;
	res = PQexec(db->conn, "ROLLBACK");
	PQclear(res);
}

enum terr
pg_savepoint(struct pg_db *db)
{
	return command(db, "SAVEPOINT ev", "savepoint");
}

enum terr
pg_release(struct pg_db *db)
{
	return command(db, "RELEASE ev", "release");
}

void
pg_rollback_to(struct pg_db *db)
{
	command(db, "ROLLBACK TO ev", "rollback to savepoint");
}

int
pg_backend_pid(struct pg_db *db)
{
	return PQstatus(db->conn) == CONNECTION_OK ? PQbackendPID(db->conn) : 0;
}
