/*
 * PostgreSQL through lib/store/pg.c, against a real server: the URI and its
 * redaction, SQLite's placeholders rewritten, migrations from empty and from
 * each version, statements with every kind of parameter, errors as enum
 * terr (duplicate, retry on a deadlock and a serialization failure), a lost
 * connection found and connected again, transactions and savepoints.
 *
 * Needs TALLY_DB naming a database of a server where its user is superuser
 * (and the TALLY_PG_* variables tests/tools/pg.js sets): the runner gives it
 * one (tests/integration/pg.test.js). By hand:
 *	node tests/tools/pg.js exec -- build/release/tests/test_pg
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/tally_limits.h"
#include "store/pg.h"
#include "store/store_int.h"
#include "t.h"

/* The server's URIs as pg.js gives them; copied at start (some tests change the environment). */
static char uri[PG_URI_MAX];        /* TCP with the password */
static char uri_sock[PG_URI_MAX];   /* the unix socket, trusted */
static char uri_nopass[PG_URI_MAX]; /* TCP without a password */
static char password[128];
static char port[16];
static char dbname[64];
static char tmpdir[256];

static int
env_copy(const char *name, char *out, size_t size)
{
	const char *v = getenv(name);

	if (v == NULL || *v == '\0' || strlen(v) >= size)
		return -1;
	memcpy(out, v, strlen(v) + 1);
	return 0;
}

/* uri with ?options=-csearch_path=schema (its tables go there), into out. */
static void
uri_in_schema(const char *schema, char *out, size_t size)
{
	if ((size_t)snprintf(out, size, "%s%soptions=-csearch_path%%3D%s", uri,
		strchr(uri, '?') ? "&" : "?", schema) >= size)
		out[0] = '\0';
}

static struct pg_db *
connect_or_null(const char *u)
{
	struct pg_db *db = NULL;

	return pg_open(&db, u) == TERR_OK ? db : NULL;
}

/* sql run alone, no parameters: TERR_OK or the error. */
static enum terr
run(struct pg_db *db, const char *sql)
{
	return pg_exec(db, -1, sql, "test", NULL, 0, NULL);
}

/* The integer in row 0, column 0 of sql; -999 when it fails. */
static int64_t
one_int(struct pg_db *db, const char *sql)
{
	struct pg_rows r;
	int64_t v = -999;

	if (pg_exec(db, -1, sql, "test", NULL, 0, &r) == TERR_OK && r.n > 0)
		v = pg_col_i64(&r, 0, 0);
	pg_rows_free(&r);
	return v;
}

/* Everything written to stderr while fn(arg) runs, into out[size]. */
static void
capture_stderr(void (*fn)(void *), void *arg, char *out, size_t size)
{
	char path[300];
	int fd, saved;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	fn(arg);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	lseek(fd, 0, SEEK_SET);
	n = read(fd, out, size - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* --- the URI --- */

TEST(pg_uri_is_a_postgresql_or_postgres_scheme_only)
{
	CHECK(pg_is_uri("postgresql://h/db"));
	CHECK(pg_is_uri("postgres://u@h/db"));
	CHECK(pg_is_uri("postgresql:///db?host=/run/pg"));
	CHECK(!pg_is_uri("/var/lib/tally/tally.db"));
	CHECK(!pg_is_uri("tally.db"));
	CHECK(!pg_is_uri("host=h dbname=db"));
	CHECK(!pg_is_uri("postgresql:/h/db"));
	CHECK(!pg_is_uri("POSTGRESQL://h/db"));
	CHECK(!pg_is_uri(""));
	CHECK(!pg_is_uri(NULL));
}

struct redact_case {
	const char *in, *want;
};

TEST(pg_redact_hides_every_password_and_keeps_the_rest)
{
	static const struct redact_case cases[] = {
		{ "postgresql://tally:s3cret@127.0.0.1:5432/db",
		    "postgresql://tally:***@127.0.0.1:5432/db" },
		{ "postgres://u:s3cret@h/db?sslmode=require",
		    "postgres://u:***@h/db?sslmode=require" },
		{ "postgresql://u@h/db?password=s3cret&sslmode=verify-full",
		    "postgresql://u@h/db?password=***&sslmode=verify-full" },
		{ "postgresql://u:s3cret@h/db?application_name=x&password=s3cret",
		    "postgresql://u:***@h/db?application_name=x&password=***" },
		/* libpq decodes keys: pass%77ord is password */
		{ "postgresql://h/db?pass%77ord=s3cret", "postgresql://h/db?pass%77ord=***" },
		{ "postgresql://u:s3cret@a:5432,b:5433/db?target_session_attrs=read-write",
		    "postgresql://u:***@a:5432,b:5433/db?target_session_attrs=read-write" },
		/* the user part ends at the first @ before a /, as libpq reads it */
		{ "postgresql://u:s3c:ret@h/db", "postgresql://u:***@h/db" },
		{ "postgresql://u:p%40s3cret@h/db", "postgresql://u:***@h/db" },
		{ "postgresql://u:@h/db", "postgresql://u:***@h/db" },
		/* a ? before that @ (a raw @ in a password= value?): nothing shown after the scheme */
		{ "postgresql://h?password=s3c@ret/db", "postgresql://***" },
		{ "postgresql://u:s3?c@h/db", "postgresql://***" },
		{ "postgresql://h/db?password=s3c@ret", "postgresql://h/db?password=***" },
		{ "postgresql://tally@h:5432/db", "postgresql://tally@h:5432/db" },
		{ "postgresql:///db?host=/run/postgresql",
		    "postgresql:///db?host=/run/postgresql" },
		{ "postgresql://h/db?passfile=/etc/tally/pgpass",
		    "postgresql://h/db?passfile=/etc/tally/pgpass" },
		{ "postgresql://h/db?password", "postgresql://h/db?password" },
		{ "host=h password=s3cret", "(not a postgresql:// URI)" },
	};
	char out[256];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		pg_redact(cases[i].in, out, sizeof(out));
		CHECK_STR(out, cases[i].want);
		CHECK(strstr(out, "s3") == NULL && strstr(out, "ret") == NULL);
	}
	/* Cut short by a small buffer: a prefix of the redacted form, never a byte of the password. */
	for (n = 1; n < 60; n++) {
		pg_redact("postgresql://tally:s3cret@127.0.0.1:5432/db?password=s3cret", out, n);
		CHECK(strlen(out) < n);
		CHECK(strncmp(out, "postgresql://tally:***@127.0.0.1:5432/db?password=***",
			  strlen(out)) == 0);
	}
}

TEST(pg_uri_env_reads_tally_db_or_its_file_and_leaves_paths_to_sqlite)
{
	char out[PG_URI_MAX], why[256], path[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/uri", tmpdir);
	unsetenv("TALLY_DB_FILE");
	setenv("TALLY_DB", "/var/lib/tally/tally.db", 1);
	CHECK_EQ(pg_uri_env(out, sizeof(out), why, sizeof(why)), TERR_NOTFOUND);
	CHECK_STR(out, "");
	unsetenv("TALLY_DB");
	CHECK_EQ(pg_uri_env(out, sizeof(out), why, sizeof(why)), TERR_NOTFOUND);
	setenv("TALLY_DB", "postgres://u:pw@h/db", 1);
	CHECK_EQ(pg_uri_env(out, sizeof(out), why, sizeof(why)), TERR_OK);
	CHECK_STR(out, "postgres://u:pw@h/db");
	/* The file: one line ending stripped. */
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("postgresql://u:pw@h/db\r\n", f);
	fclose(f);
	setenv("TALLY_DB_FILE", path, 1);
	why[0] = '\0';
	CHECK_EQ(pg_uri_env(out, sizeof(out), why, sizeof(why)), TERR_CONFIG);
	CHECK(strstr(why, "both set") != NULL);
	unsetenv("TALLY_DB");
	CHECK_EQ(pg_uri_env(out, sizeof(out), why, sizeof(why)), TERR_OK);
	CHECK_STR(out, "postgresql://u:pw@h/db");
	/* A path in the file is refused: TALLY_DB_FILE is for a URI that holds a password. */
	CHECK((f = fopen(path, "w")) != NULL);
	fputs("/var/lib/tally/tally.db\n", f);
	fclose(f);
	CHECK_EQ(pg_uri_env(out, sizeof(out), why, sizeof(why)), TERR_CONFIG);
	CHECK(strstr(why, "no postgresql:// URI") != NULL);
	CHECK_STR(out, "");
	setenv("TALLY_DB_FILE", "/nonexistent/uri", 1);
	CHECK_EQ(pg_uri_env(out, sizeof(out), why, sizeof(why)), TERR_CONFIG);
	unsetenv("TALLY_DB_FILE");
	setenv("TALLY_DB", uri, 1);
}

/* --- placeholders --- */

struct ph_case {
	const char *in, *want;
	int max;
};

TEST(pg_placeholders_rewrites_numbered_ones_outside_quotes_and_comments)
{
	static const struct ph_case cases[] = {
		{ "SELECT a FROM t WHERE x = ?1 AND y = ?2",
		    "SELECT a FROM t WHERE x = $1 AND y = $2", 2 },
		{ "UPDATE t SET a = ?2 WHERE id = ?1", "UPDATE t SET a = $2 WHERE id = $1", 2 },
		{ "SELECT ?12, ?3", "SELECT $12, $3", 12 },
		{ "SELECT ?1,?1", "SELECT $1,$1", 1 },
		{ "SELECT '?1', ?1", "SELECT '?1', $1", 1 },
		{ "SELECT 'it''s ?2', ?1", "SELECT 'it''s ?2', $1", 1 },
		{ "SELECT \"odd?1name\" FROM t WHERE a = ?1",
		    "SELECT \"odd?1name\" FROM t WHERE a = $1", 1 },
		{ "SELECT 1 -- is ?1 set?\n, ?2", "SELECT 1 -- is ?1 set?\n, $2", 2 },
		{ "SELECT 1 /* ?1 or ?2 */ + ?3", "SELECT 1 /* ?1 or ?2 */ + $3", 3 },
		{ "SELECT 1 -- to the end ?1", "SELECT 1 -- to the end ?1", 0 },
		{ "SELECT x::text FROM t", "SELECT x::text FROM t", 0 },
		{ "SELECT 10 - ?1", "SELECT 10 - $1", 1 },
		{ "", "", 0 },
	};
	static const char *const bad[] = {
		"SELECT ?",            /* SQLite's next-number form: tally numbers them */
		"SELECT ?1, ?",        /* the same, later */
		"SELECT ?0",           /* SQLite's numbers start at 1 */
		"SELECT ?65",          /* past PG_PARAMS_MAX */
		"SELECT ?123456",      /* far past */
		"SELECT $1",           /* PostgreSQL's own: not in the store's statements */
		"SELECT $$a$$",        /* a dollar quote */
		"SELECT 'open ?1",     /* a quote left open */
		"SELECT \"open",       /* a name left open */
		"SELECT 1 /* open ?1", /* a comment left open */
		"SELECT 'a''",         /* an escaped quote is no end */
	};
	char out[128];
	size_t i;
	int max;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_EQ(pg_placeholders(cases[i].in, out, sizeof(out), &max), TERR_OK);
		CHECK_STR(out, cases[i].want);
		CHECK_EQ(max, cases[i].max);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_EQ(pg_placeholders(bad[i], out, sizeof(out), &max), TERR_INVAL);
	CHECK_EQ(pg_placeholders("SELECT ?1", out, 9, &max), TERR_TOOBIG);
	CHECK_EQ(pg_placeholders("SELECT ?1", out, 10, &max), TERR_OK);
	CHECK_EQ(pg_placeholders("SELECT ?64", out, sizeof(out), &max), TERR_OK);
	CHECK_EQ(max, 64);
}

TEST(pg_state_err_maps_sqlstates_to_terr)
{
	CHECK_EQ(pg_state_err("23505"), TERR_DUP);
	CHECK_EQ(pg_state_err("40001"), TERR_RETRY);
	CHECK_EQ(pg_state_err("40P01"), TERR_RETRY);
	CHECK_EQ(pg_state_err("55P03"), TERR_BUSY);
	CHECK_EQ(pg_state_err("57014"), TERR_BUSY);
	CHECK_EQ(pg_state_err("53300"), TERR_BUSY);
	CHECK_EQ(pg_state_err("23503"), TERR_DB); /* foreign key */
	CHECK_EQ(pg_state_err("23514"), TERR_DB); /* check */
	CHECK_EQ(pg_state_err("08006"), TERR_DB);
	CHECK_EQ(pg_state_err("2350"), TERR_DB);
	CHECK_EQ(pg_state_err(""), TERR_DB);
	CHECK_EQ(pg_state_err(NULL), TERR_DB);
}

/* --- connecting --- */

TEST(pg_open_connects_over_tcp_and_the_socket_and_sessions_commit_synchronously)
{
	struct pg_db *a = connect_or_null(uri), *b = connect_or_null(uri_sock);
	struct pg_rows r;

	CHECK(a != NULL && b != NULL);
	CHECK(pg_backend_pid(a) > 0 && pg_backend_pid(a) != pg_backend_pid(b));
	CHECK_EQ(pg_exec(a, -1,
		     "SELECT current_setting('synchronous_commit'), "
		     "current_setting('application_name'), current_database()",
		     "test", NULL, 0, &r),
	    TERR_OK);
	{
		char v[64];
		pg_col_text(&r, 0, 0, v, sizeof(v));
		CHECK_STR(v, "on");
		pg_col_text(&r, 0, 1, v, sizeof(v));
		CHECK_STR(v, "tally");
		pg_col_text(&r, 0, 2, v, sizeof(v));
		CHECK_STR(v, dbname);
	}
	pg_rows_free(&r);
	/* The server's default may say otherwise: each session says on. */
	CHECK_EQ(run(b, "ALTER DATABASE postgres SET synchronous_commit = off"), TERR_OK);
	{
		/* The same server's database postgres, over the socket. */
		struct pg_db *c;
		char u[PG_URI_MAX];
		CHECK(strchr(uri_sock, '?') != NULL);
		snprintf(u, sizeof(u), "postgresql://tally@/postgres?%s",
		    strchr(uri_sock, '?') + 1);
		CHECK((c = connect_or_null(u)) != NULL);
		CHECK_EQ(one_int(c, "SELECT (current_setting('synchronous_commit') = 'on')::int"),
		    1);
		pg_close(c);
	}
	CHECK_EQ(run(b, "ALTER DATABASE postgres RESET synchronous_commit"), TERR_OK);
	pg_close(a);
	pg_close(b);
}

struct open_try {
	const char *uri;
	enum terr rc;
};

static void
try_open(void *arg)
{
	struct open_try *t = arg;
	struct pg_db *db = NULL;

	t->rc = pg_open(&db, t->uri);
	pg_close(db);
}

TEST(pg_open_refused_or_malformed_logs_the_redacted_uri_never_the_password)
{
	char bad[PG_URI_MAX], log[4096];
	struct open_try t;

	/* The right user, a wrong password: refused by the server. */
	snprintf(bad, sizeof(bad), "%s", uri);
	CHECK(strstr(bad, password) != NULL);
	memcpy(strstr(bad, password), "WRONGPASSWORDxyz", 16);
	t.uri = bad;
	capture_stderr(try_open, &t, log, sizeof(log));
	CHECK_EQ(t.rc, TERR_DB);
	CHECK(strstr(log, "cannot connect to PostgreSQL") != NULL);
	CHECK(strstr(log, "password authentication failed") != NULL);
	CHECK(strstr(log, "tally:***@127.0.0.1") != NULL);
	CHECK(strstr(log, "WRONGPASSWORD") == NULL);
	/* A URI libpq cannot read (a bad percent escape next to the password): its message not logged. */
	t.uri = "postgresql://tally:WRONGPASSWORD%zz@127.0.0.1/db";
	capture_stderr(try_open, &t, log, sizeof(log));
	CHECK_EQ(t.rc, TERR_CONFIG);
	CHECK(strstr(log, "not a valid PostgreSQL connection URI") != NULL);
	CHECK(strstr(log, "WRONGPASSWORD") == NULL);
	/* Nothing listens: refused after the connect, quickly. */
	t.uri = "postgresql://tally:WRONGPASSWORD@127.0.0.1:1/db";
	capture_stderr(try_open, &t, log, sizeof(log));
	CHECK_EQ(t.rc, TERR_DB);
	CHECK(strstr(log, "WRONGPASSWORD") == NULL);
	t.uri = "/var/lib/tally/tally.db";
	capture_stderr(try_open, &t, log, sizeof(log));
	CHECK_EQ(t.rc, TERR_CONFIG);
}

TEST(pg_open_takes_the_password_from_pgpassfile_when_the_uri_has_none)
{
	char pass[300], home[300], line[512];
	struct pg_db *db = NULL;
	FILE *f;

	snprintf(pass, sizeof(pass), "%s/pgpass", tmpdir);
	snprintf(home, sizeof(home), "%s/home", tmpdir);
	mkdir(home, 0700);
	/* No ~/.pgpass, no PGPASSWORD: the URI alone has no password. */
	setenv("HOME", home, 1);
	unsetenv("PGPASSWORD");
	unsetenv("PGPASSFILE");
	CHECK_EQ(pg_open(&db, uri_nopass), TERR_DB);
	CHECK(db == NULL);
	/* libpq ignores a password file others may read; 0600 as its documentation asks. */
	snprintf(line, sizeof(line), "127.0.0.1:%s:%s:tally:%s\n", port, dbname, password);
	CHECK((f = fopen(pass, "w")) != NULL);
	fputs(line, f);
	fclose(f);
	chmod(pass, 0600);
	setenv("PGPASSFILE", pass, 1);
	CHECK_EQ(pg_open(&db, uri_nopass), TERR_OK);
	CHECK_EQ(one_int(db, "SELECT 7"), 7);
	pg_close(db);
	unsetenv("PGPASSFILE");
}

/* --- migrations --- */

/* The tables of schema (user tables, not schema_migrations). */
static int64_t
tables_in(struct pg_db *db, const char *schema)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	    "SELECT count(*) FROM pg_tables WHERE schemaname = '%s' AND tablename <> "
	    "'schema_migrations'",
	    schema);
	return one_int(db, sql);
}

/*
 * Every statement of store_sql.c (or its PostgreSQL text, store_sql_pg) is
 * accepted by PostgreSQL on the newest schema, and by SQLite as before:
 * the dialects' tables are whole.
 */
TEST(store_every_statement_prepares_on_both_engines)
{
	struct pg_db *admin = connect_or_null(uri);
	struct store *s = NULL;
	char u[PG_URI_MAX], path[300];
	int from, to, failed = -1;

	CHECK(admin != NULL);
	CHECK_EQ(run(admin, "CREATE SCHEMA m_stmts"), TERR_OK);
	pg_close(admin);
	uri_in_schema("m_stmts", u, sizeof(u));
	CHECK_EQ(store_open(&s, u, STORE_MIGRATE), TERR_OK);
	CHECK_EQ(store_migrate(s, 0, &from, &to), TERR_OK);
	CHECK_EQ(to, store_schema_latest());
	CHECK_EQ(store_prepare_all(s, &failed), TERR_OK);
	CHECK_EQ(failed, 0);
	store_close(s);
	/* The schema current, a store opens for writing without migrating. */
	CHECK_EQ(store_open(&s, u, STORE_RW), TERR_OK);
	store_close(s);

	snprintf(path, sizeof(path), "%s/stmts.db", tmpdir);
	CHECK_EQ(store_open(&s, path, STORE_MIGRATE), TERR_OK);
	CHECK_EQ(store_migrate(s, 0, &from, &to), TERR_OK);
	failed = -1;
	CHECK_EQ(store_prepare_all(s, &failed), TERR_OK);
	CHECK_EQ(failed, 0);
	store_close(s);
	unlink(path);
	snprintf(path, sizeof(path), "%s/stmts.db-wal", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/stmts.db-shm", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/stmts.db.lock", tmpdir);
	unlink(path);
}

TEST(pg_migrate_from_empty_applies_every_version_once_and_records_each)
{
	struct pg_db *db, *admin = connect_or_null(uri);
	char u[PG_URI_MAX];
	struct pg_rows r;
	int from = -1, to = -1, v = -1, i;

	CHECK(admin != NULL);
	CHECK(pg_schema_latest() >= 4);
	CHECK_EQ(run(admin, "CREATE SCHEMA m_empty"), TERR_OK);
	uri_in_schema("m_empty", u, sizeof(u));
	CHECK((db = connect_or_null(u)) != NULL);
	CHECK_EQ(pg_schema_version(db, &v), TERR_OK);
	CHECK_EQ(v, 0);
	CHECK_EQ(pg_migrate(db, 0, &from, &to), TERR_OK);
	CHECK_EQ(from, 0);
	CHECK_EQ(to, pg_schema_latest());
	CHECK_EQ(pg_schema_version(db, &v), TERR_OK);
	CHECK_EQ(v, pg_schema_latest());
	CHECK(tables_in(admin, "m_empty") >= 19);
	CHECK_EQ(pg_exec(db, -1,
		     "SELECT version, name, applied_at FROM schema_migrations ORDER BY 1", "test",
		     NULL, 0, &r),
	    TERR_OK);
	CHECK_EQ(r.n, pg_schema_latest());
	for (i = 0; i < r.n; i++) {
		char name[64];
		CHECK_EQ(pg_col_i64(&r, i, 0), i + 1);
		pg_col_text(&r, i, 1, name, sizeof(name));
		CHECK(strncmp(name, "000", 3) == 0 && strlen(name) > 5);
		CHECK(pg_col_i64(&r, i, 2) > 1600000000000LL);
	}
	pg_col_text(&r, 0, 1, u, sizeof(u));
	CHECK_STR(u, "0001_init");
	pg_rows_free(&r);
	/* Again: nothing to do. */
	CHECK_EQ(pg_migrate(db, 0, &from, &to), TERR_OK);
	CHECK_EQ(from, pg_schema_latest());
	CHECK_EQ(to, pg_schema_latest());
	CHECK_EQ(one_int(db, "SELECT count(*) FROM schema_migrations"), pg_schema_latest());
	pg_close(db);
	pg_close(admin);
}

TEST(pg_migrate_from_each_version_reaches_the_newest)
{
	struct pg_db *db, *admin = connect_or_null(uri);
	char u[PG_URI_MAX], schema[32], sql[64];
	int v, from, to, latest = pg_schema_latest();
	int64_t tables_latest = -1;

	CHECK(admin != NULL);
	for (v = 1; v <= latest; v++) {
		snprintf(schema, sizeof(schema), "m_from_%d", v);
		snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", schema);
		CHECK_EQ(run(admin, sql), TERR_OK);
		uri_in_schema(schema, u, sizeof(u));
		CHECK((db = connect_or_null(u)) != NULL);
		CHECK_EQ(pg_migrate(db, v, &from, &to), TERR_OK);
		CHECK_EQ(from, 0);
		CHECK_EQ(to, v);
		CHECK_EQ(pg_migrate(db, 0, &from, &to), TERR_OK);
		CHECK_EQ(from, v);
		CHECK_EQ(to, latest);
		CHECK_EQ(one_int(db, "SELECT count(*) FROM schema_migrations"), latest);
		pg_close(db);
		if (tables_latest < 0)
			tables_latest = tables_in(admin, schema);
		CHECK_EQ(tables_in(admin, schema), tables_latest);
	}
	pg_close(admin);
}

TEST(pg_migrate_refuses_a_database_newer_than_the_build_and_changes_nothing)
{
	struct pg_db *db, *admin = connect_or_null(uri);
	char u[PG_URI_MAX];
	int from, to;

	CHECK(admin != NULL);
	CHECK_EQ(run(admin, "CREATE SCHEMA m_newer"), TERR_OK);
	CHECK_EQ(run(admin,
		     "CREATE TABLE m_newer.schema_migrations (version bigint PRIMARY KEY, "
		     "name text NOT NULL, applied_at bigint NOT NULL)"),
	    TERR_OK);
	CHECK_EQ(run(admin, "INSERT INTO m_newer.schema_migrations VALUES (999, '0999_future', 1)"),
	    TERR_OK);
	uri_in_schema("m_newer", u, sizeof(u));
	CHECK((db = connect_or_null(u)) != NULL);
	CHECK_EQ(pg_migrate(db, 0, &from, &to), TERR_SCHEMA);
	CHECK_EQ(from, 999);
	CHECK_EQ(to, 999);
	CHECK_EQ(tables_in(admin, "m_newer"), 0);
	/* The connection is usable after (the transaction was rolled back). */
	CHECK_EQ(one_int(db, "SELECT 1"), 1);
	pg_close(db);
	pg_close(admin);
}

TEST(pg_migrate_a_failing_version_leaves_the_database_as_it_was)
{
	struct pg_db *db, *admin = connect_or_null(uri);
	char u[PG_URI_MAX];
	int from, to;

	CHECK(admin != NULL);
	/* A table in the way of migration 1's first CREATE TABLE. */
	CHECK_EQ(run(admin, "CREATE SCHEMA m_fail"), TERR_OK);
	CHECK_EQ(run(admin, "CREATE TABLE m_fail.links (x int)"), TERR_OK);
	uri_in_schema("m_fail", u, sizeof(u));
	CHECK((db = connect_or_null(u)) != NULL);
	CHECK_EQ(pg_migrate(db, 0, &from, &to), TERR_DB);
	CHECK_EQ(from, 0);
	CHECK_EQ(to, 0);
	/* Neither users (made before links) nor schema_migrations is left. */
	CHECK_EQ(one_int(admin, "SELECT count(*) FROM pg_tables WHERE schemaname = 'm_fail'"), 1);
	pg_close(db);
	pg_close(admin);
}

TEST(pg_migrate_in_two_processes_at_once_applies_each_version_once)
{
	struct pg_db *db, *admin = connect_or_null(uri);
	char u[PG_URI_MAX];
	int from, to, status, i, ok = 0;
	pid_t kids[3];

	CHECK(admin != NULL);
	CHECK_EQ(run(admin, "CREATE SCHEMA m_race"), TERR_OK);
	uri_in_schema("m_race", u, sizeof(u));
	fflush(stdout);
	for (i = 0; i < 3; i++) {
		if ((kids[i] = fork()) == 0) {
			struct pg_db *c = connect_or_null(u);
			int f, t;
			_exit(c != NULL && pg_migrate(c, 0, &f, &t) == TERR_OK &&
				    t == pg_schema_latest()
				? 0
				: 1);
		}
		CHECK(kids[i] > 0);
	}
	for (i = 0; i < 3; i++)
		if (waitpid(kids[i], &status, 0) == kids[i] && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0)
			ok++;
	CHECK_EQ(ok, 3);
	CHECK((db = connect_or_null(u)) != NULL);
	CHECK_EQ(one_int(db, "SELECT count(*) FROM schema_migrations"), pg_schema_latest());
	CHECK_EQ(pg_migrate(db, 0, &from, &to), TERR_OK);
	CHECK_EQ(from, pg_schema_latest());
	pg_close(db);
	pg_close(admin);
}

/* --- statements --- */

/* A scratch table for the statement tests, new each time. */
static struct pg_db *
scratch(void)
{
	struct pg_db *db = connect_or_null(uri);

	/* One statement a call: a statement with parameters is never several. */
	if (db == NULL || run(db, "DROP TABLE IF EXISTS scratch") != TERR_OK ||
	    run(db,
		"CREATE TABLE scratch (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
		"k text UNIQUE, o text, n bigint, r bigint REFERENCES scratch(id), b bytea)") !=
		TERR_OK) {
		pg_close(db);
		return NULL;
	}
	return db;
}

enum { S_INSERT, S_GET, S_SET_N, S_COUNT };

static const char *const sql_insert =
    "INSERT INTO scratch (k, o, n, r, b) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id";
static const char *const sql_get = "SELECT k, o, n, r, b, id FROM scratch WHERE k = ?1";
static const char *const sql_set_n = "UPDATE scratch SET n = n + ?2 WHERE k = ?1 OR ?1 = '*'";

static enum terr
insert(struct pg_db *db, const char *k, const char *o, int64_t n, int64_t r, const void *b,
    size_t blen, int64_t *id)
{
	struct pg_rows rows;
	enum terr rc = pg_exec(db, S_INSERT, sql_insert, "insert",
	    STORE_PARAMS(SP_TEXT(k), SP_OPT(o), SP_I64(n), SP_ID(r), SP_BLOB(b, blen)), &rows);

	if (rc == TERR_OK && id != NULL)
		*id = pg_col_i64(&rows, 0, 0);
	pg_rows_free(&rows);
	return rc;
}

TEST(pg_exec_binds_every_kind_of_parameter_and_reads_each_column_back)
{
	static const unsigned char bytes[] = { 0x00, 0xff, 0x27, 0x5c, 0x78, 0x00, 0x01 };
	struct pg_db *db = scratch();
	unsigned char blob[16];
	char text[64];
	struct pg_rows r;
	int64_t id1 = 0, id2 = 0;
	size_t len = 99;

	CHECK(db != NULL);
	CHECK_EQ(insert(db, "a'b\"c?1$", "", INT64_MAX, 0, bytes, sizeof(bytes), &id1), TERR_OK);
	CHECK(id1 > 0);
	CHECK_EQ(insert(db, "utf8 ü €", "opt", INT64_MIN, id1, NULL, 0, &id2), TERR_OK);
	CHECK(id2 > id1);

	CHECK_EQ(pg_exec(db, S_GET, sql_get, "get", STORE_PARAMS(SP_TEXT("a'b\"c?1$")), &r),
	    TERR_OK);
	CHECK_EQ(r.n, 1);
	pg_col_text(&r, 0, 0, text, sizeof(text));
	CHECK_STR(text, "a'b\"c?1$");
	CHECK(pg_col_null(&r, 0, 1)); /* SP_OPT("") binds NULL */
	CHECK_EQ(pg_col_i64(&r, 0, 2), INT64_MAX);
	CHECK(pg_col_null(&r, 0, 3)); /* SP_ID(0) binds NULL */
	CHECK_EQ(pg_col_blob(&r, 0, 4, blob, sizeof(blob), &len), TERR_OK);
	CHECK_EQ(len, sizeof(bytes));
	CHECK(memcmp(blob, bytes, sizeof(bytes)) == 0);
	CHECK_EQ(pg_col_blob(&r, 0, 4, blob, 3, &len), TERR_TOOBIG);
	CHECK_EQ(pg_col_i64(&r, 0, 5), id1);
	/* Out of range: no row, no column. */
	CHECK_EQ(pg_col_i64(&r, 1, 0), 0);
	CHECK_EQ(pg_col_i64(&r, 0, 9), 0);
	CHECK(pg_col_null(&r, 0, -1));
	pg_col_text(&r, 5, 0, text, sizeof(text));
	CHECK_STR(text, "");
	pg_rows_free(&r);

	CHECK_EQ(pg_exec(db, S_GET, sql_get, "get", STORE_PARAMS(SP_TEXT("utf8 ü €")), &r),
	    TERR_OK);
	pg_col_text(&r, 0, 1, text, sizeof(text));
	CHECK_STR(text, "opt");
	CHECK_EQ(pg_col_i64(&r, 0, 2), INT64_MIN);
	CHECK_EQ(pg_col_i64(&r, 0, 3), id1);
	CHECK_EQ(pg_col_blob(&r, 0, 4, blob, sizeof(blob), &len), TERR_OK); /* a NULL blob: empty */
	CHECK_EQ(len, 0);
	pg_col_text(&r, 0, 0, text, 5); /* truncated to fit */
	CHECK_STR(text, "utf8");
	pg_rows_free(&r);

	/* None: no row, which is no error. */
	CHECK_EQ(pg_exec(db, S_GET, sql_get, "get", STORE_PARAMS(SP_TEXT("nobody")), &r), TERR_OK);
	CHECK_EQ(r.n, 0);
	pg_rows_free(&r);
	pg_close(db);
}

TEST(pg_exec_counts_changed_rows_and_prepares_each_slot_once_per_connection)
{
	struct pg_db *db = scratch();
	struct pg_rows r;
	int i;

	CHECK(db != NULL);
	for (i = 0; i < 3; i++) {
		char k[16];
		snprintf(k, sizeof(k), "k%d", i);
		CHECK_EQ(insert(db, k, NULL, 10, 0, "x", 1, NULL), TERR_OK);
	}
	CHECK_EQ(pg_exec(db, S_SET_N, sql_set_n, "set", STORE_PARAMS(SP_TEXT("k1"), SP_I64(5)), &r),
	    TERR_OK);
	CHECK_EQ(r.changed, 1);
	CHECK(r.res == NULL);
	pg_rows_free(&r);
	CHECK_EQ(pg_exec(db, S_SET_N, sql_set_n, "set", STORE_PARAMS(SP_TEXT("*"), SP_I64(1)), &r),
	    TERR_OK);
	CHECK_EQ(r.changed, 3);
	pg_rows_free(&r);
	CHECK_EQ(pg_exec(db, S_SET_N, sql_set_n, "set", STORE_PARAMS(SP_TEXT("none"), SP_I64(1)),
		     &r),
	    TERR_OK);
	CHECK_EQ(r.changed, 0);
	pg_rows_free(&r);
	CHECK_EQ(one_int(db, "SELECT sum(n) FROM scratch"), 10 * 3 + 5 + 3);
	/* Three slots used, each prepared once, under its number. */
	CHECK_EQ(one_int(db,
		     "SELECT count(*) FROM pg_prepared_statements WHERE name IN ('s0', "
		     "'s1', 's2')"),
	    2);
	CHECK_EQ(one_int(db, "SELECT count(*) FROM pg_prepared_statements"), 2);
	/* A statement with a placeholder PostgreSQL cannot take: an error, nothing prepared. */
	CHECK_EQ(pg_exec(db, S_COUNT, "SELECT count(*) FROM scratch WHERE k = ?", "bad", NULL, 0,
		     NULL),
	    TERR_DB);
	CHECK_EQ(one_int(db, "SELECT count(*) FROM pg_prepared_statements"), 2);
	/* Quoted placeholders are text. */
	CHECK_EQ(pg_exec(db, -1, "SELECT '?1' || ?1", "test", STORE_PARAMS(SP_TEXT("!")), &r),
	    TERR_OK);
	{
		char t[8];
		pg_col_text(&r, 0, 0, t, sizeof(t));
		CHECK_STR(t, "?1!");
	}
	pg_rows_free(&r);
	pg_close(db);
}

TEST(pg_exec_answers_dup_on_a_unique_key_and_db_on_other_constraints)
{
	struct pg_db *db = scratch();

	CHECK(db != NULL);
	CHECK_EQ(insert(db, "same", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(insert(db, "same", NULL, 2, 0, NULL, 0, NULL), TERR_DUP);
	/* A foreign key to no row, a NULL into NOT NULL: storage errors. */
	CHECK_EQ(insert(db, "orphan", NULL, 1, 424242, NULL, 0, NULL), TERR_DB);
	CHECK_EQ(run(db, "INSERT INTO scratch (id) VALUES (NULL)"), TERR_DB);
	/* Outside a transaction each statement stands alone: the connection goes on. */
	CHECK_EQ(one_int(db, "SELECT count(*) FROM scratch"), 1);
	CHECK_EQ(one_int(db, "SELECT n FROM scratch WHERE k = 'same'"), 1);
	pg_close(db);
}

/* --- transactions --- */

TEST(pg_transactions_commit_roll_back_and_savepoints_undo_one_part)
{
	struct pg_db *db = scratch();

	CHECK(db != NULL);
	CHECK_EQ(pg_begin(db), TERR_OK);
	CHECK_EQ(pg_begin(db), TERR_INTERNAL); /* one at a time */
	CHECK_EQ(insert(db, "gone", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	pg_rollback(db);
	CHECK_EQ(one_int(db, "SELECT count(*) FROM scratch"), 0);
	pg_rollback(db); /* harmless without one */

	CHECK_EQ(pg_begin(db), TERR_OK);
	CHECK_EQ(insert(db, "kept", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(pg_savepoint(db), TERR_OK);
	CHECK_EQ(insert(db, "undone", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	pg_rollback_to(db);
	CHECK_EQ(pg_release(db), TERR_OK);
	/* A failure inside a savepoint (a duplicate): rolled back to it, the rest goes on. */
	CHECK_EQ(pg_savepoint(db), TERR_OK);
	CHECK_EQ(insert(db, "kept", NULL, 2, 0, NULL, 0, NULL), TERR_DUP);
	pg_rollback_to(db);
	CHECK_EQ(pg_release(db), TERR_OK);
	CHECK_EQ(insert(db, "after", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(pg_commit(db), TERR_OK);
	CHECK_EQ(pg_commit(db), TERR_INTERNAL); /* none open */
	CHECK_EQ(one_int(db, "SELECT count(*) FROM scratch WHERE k IN ('kept', 'after')"), 2);
	CHECK_EQ(one_int(db, "SELECT count(*) FROM scratch"), 2);
	pg_close(db);
}

TEST(pg_a_failure_without_a_savepoint_aborts_the_transaction_and_commit_says_so)
{
	struct pg_db *db = scratch();

	CHECK(db != NULL);
	CHECK_EQ(insert(db, "same", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(pg_begin(db), TERR_OK);
	CHECK_EQ(insert(db, "first", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(insert(db, "same", NULL, 2, 0, NULL, 0, NULL), TERR_DUP);
	/* Unlike SQLite, every later statement fails until the transaction ends ... */
	CHECK_EQ(insert(db, "second", NULL, 1, 0, NULL, 0, NULL), TERR_DB);
	/* ... and its commit is a rollback, answered as a failure. */
	CHECK_EQ(pg_commit(db), TERR_DB);
	CHECK_EQ(one_int(db, "SELECT count(*) FROM scratch"), 1);
	CHECK_EQ(pg_begin(db), TERR_OK);
	CHECK_EQ(insert(db, "third", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(pg_commit(db), TERR_OK);
	CHECK_EQ(one_int(db, "SELECT count(*) FROM scratch"), 2);
	pg_close(db);
}

TEST(pg_a_serialization_failure_answers_retry_and_rolls_back)
{
	struct pg_db *a = scratch(), *b = connect_or_null(uri);

	CHECK(a != NULL && b != NULL);
	CHECK_EQ(insert(a, "row", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(pg_begin(a), TERR_OK);
	/* A stricter level than pg_begin's, as a transaction may ask for itself. */
	CHECK_EQ(run(a, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"), TERR_OK);
	CHECK_EQ(one_int(a, "SELECT n FROM scratch WHERE k = 'row'"), 1);
	CHECK_EQ(run(b, "UPDATE scratch SET n = 2 WHERE k = 'row'"), TERR_OK);
	CHECK_EQ(run(a, "UPDATE scratch SET n = n + 10 WHERE k = 'row'"), TERR_RETRY);
	CHECK_EQ(pg_commit(a), TERR_DB);
	CHECK_EQ(one_int(b, "SELECT n FROM scratch WHERE k = 'row'"), 2);
	pg_close(a);
	pg_close(b);
}

struct locker {
	struct pg_db *db;
	const char *first, *second;
	pthread_barrier_t *both;
	enum terr rc;
};

/* Lock row first, wait for the other thread to lock its own, then lock second. */
static void *
lock_two(void *arg)
{
	struct locker *l = arg;
	char sql[128];

	l->rc = pg_begin(l->db);
	snprintf(sql, sizeof(sql), "UPDATE scratch SET n = n + 1 WHERE k = '%s'", l->first);
	if (l->rc == TERR_OK)
		l->rc = run(l->db, sql);
	pthread_barrier_wait(l->both);
	snprintf(sql, sizeof(sql), "UPDATE scratch SET n = n + 1 WHERE k = '%s'", l->second);
	if (l->rc == TERR_OK)
		l->rc = run(l->db, sql);
	if (l->rc == TERR_OK)
		l->rc = pg_commit(l->db);
	else
		pg_rollback(l->db);
	return NULL;
}

TEST(pg_a_deadlock_answers_retry_to_one_and_lets_the_other_commit)
{
	struct pg_db *s = scratch(), *a = connect_or_null(uri), *b = connect_or_null(uri);
	struct locker la, lb;
	pthread_barrier_t both;
	pthread_t ta, tb;

	CHECK(s != NULL && a != NULL && b != NULL);
	CHECK_EQ(insert(s, "x", NULL, 0, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(insert(s, "y", NULL, 0, 0, NULL, 0, NULL), TERR_OK);
	/* Found in 50 ms rather than PostgreSQL's default second. */
	CHECK_EQ(run(a, "SET deadlock_timeout = '50ms'"), TERR_OK);
	CHECK_EQ(run(b, "SET deadlock_timeout = '50ms'"), TERR_OK);
	pthread_barrier_init(&both, NULL, 2);
	la = (struct locker){ a, "x", "y", &both, TERR_OK };
	lb = (struct locker){ b, "y", "x", &both, TERR_OK };
	CHECK(pthread_create(&ta, NULL, lock_two, &la) == 0);
	CHECK(pthread_create(&tb, NULL, lock_two, &lb) == 0);
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	pthread_barrier_destroy(&both);
	CHECK(
	    (la.rc == TERR_OK && lb.rc == TERR_RETRY) || (la.rc == TERR_RETRY && lb.rc == TERR_OK));
	/* The winner's two updates, none of the loser's. */
	CHECK_EQ(one_int(s, "SELECT sum(n) FROM scratch"), 2);
	/* The loser's connection goes on. */
	CHECK_EQ(one_int(la.rc == TERR_RETRY ? a : b, "SELECT 5"), 5);
	pg_close(s);
	pg_close(a);
	pg_close(b);
}

/* --- a connection lost --- */

/* End db's session from another connection (as a server restart or a proxy would). */
static int
kill_session(struct pg_db *killer, struct pg_db *db)
{
	char sql[96];
	int i;

	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%d)::int", pg_backend_pid(db));
	if (one_int(killer, sql) != 1)
		return -1;
	/* pg_terminate_backend returns before the session is gone: wait until it is. */
	for (i = 0; i < 200; i++) {
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM pg_stat_activity WHERE pid = %d",
		    pg_backend_pid(db));
		if (one_int(killer, sql) == 0)
			return 0;
		usleep(10000);
	}
	return -1;
}

TEST(pg_a_connection_lost_outside_a_transaction_fails_one_call_then_connects_again)
{
	struct pg_db *db = scratch(), *killer = connect_or_null(uri);
	struct pg_rows r;
	int before;

	CHECK(db != NULL && killer != NULL);
	CHECK_EQ(insert(db, "a", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	before = pg_backend_pid(db);
	CHECK_EQ(kill_session(killer, db), 0);
	/* The call that finds it lost fails: it cannot know whether its statement ran. */
	CHECK_EQ(pg_exec(db, S_GET, sql_get, "get", STORE_PARAMS(SP_TEXT("a")), &r), TERR_DB);
	pg_rows_free(&r);
	/* The next one connects again, and prepares its statements again. */
	CHECK_EQ(pg_exec(db, S_GET, sql_get, "get", STORE_PARAMS(SP_TEXT("a")), &r), TERR_OK);
	CHECK_EQ(r.n, 1);
	pg_rows_free(&r);
	CHECK(pg_backend_pid(db) != before && pg_backend_pid(db) > 0);
	CHECK_EQ(insert(db, "b", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(one_int(db, "SELECT (current_setting('synchronous_commit') = 'on')::int"), 1);
	pg_close(db);
	pg_close(killer);
}

TEST(pg_a_connection_lost_while_idle_is_connected_again_by_begin)
{
	struct pg_db *db = scratch(), *killer = connect_or_null(uri);

	CHECK(db != NULL && killer != NULL);
	CHECK_EQ(kill_session(killer, db), 0);
	/* Nothing was open: begin connects again and begins, no failure seen. */
	CHECK_EQ(pg_begin(db), TERR_OK);
	CHECK_EQ(insert(db, "a", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(pg_commit(db), TERR_OK);
	CHECK_EQ(one_int(killer, "SELECT count(*) FROM scratch"), 1);
	pg_close(db);
	pg_close(killer);
}

TEST(pg_a_connection_lost_inside_a_transaction_fails_until_rolled_back)
{
	struct pg_db *db = scratch(), *killer = connect_or_null(uri);

	CHECK(db != NULL && killer != NULL);
	CHECK_EQ(pg_begin(db), TERR_OK);
	CHECK_EQ(insert(db, "lost", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(kill_session(killer, db), 0);
	CHECK_EQ(insert(db, "after", NULL, 1, 0, NULL, 0, NULL), TERR_DB);
	/* Not connected again behind the caller's back: its transaction is gone. */
	CHECK_EQ(insert(db, "after", NULL, 1, 0, NULL, 0, NULL), TERR_DB);
	CHECK_EQ(pg_commit(db), TERR_DB);
	pg_rollback(db);
	CHECK_EQ(one_int(db, "SELECT count(*) FROM scratch"), 0);
	CHECK_EQ(pg_begin(db), TERR_OK);
	CHECK_EQ(insert(db, "new", NULL, 1, 0, NULL, 0, NULL), TERR_OK);
	CHECK_EQ(pg_commit(db), TERR_OK);
	CHECK_EQ(one_int(killer, "SELECT count(*) FROM scratch"), 1);
	pg_close(db);
	pg_close(killer);
}

int
main(void)
{
	const char *tmp = getenv("TMPDIR");

	if (env_copy("TALLY_DB", uri, sizeof(uri)) != 0 || !pg_is_uri(uri) ||
	    env_copy("TALLY_PG_SOCKET_URI", uri_sock, sizeof(uri_sock)) != 0 ||
	    env_copy("TALLY_PG_NOPASS_URI", uri_nopass, sizeof(uri_nopass)) != 0 ||
	    env_copy("TALLY_PG_PASSWORD", password, sizeof(password)) != 0 ||
	    env_copy("TALLY_PG_PORT", port, sizeof(port)) != 0 ||
	    env_copy("TALLY_PG_DB", dbname, sizeof(dbname)) != 0) {
		printf("FAIL setup: TALLY_DB and TALLY_PG_* must name a PostgreSQL server: run "
		       "node tests/tools/pg.js exec -- %s\n",
		    "test_pg");
		return 1;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/tally-test-pg-XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if (mkdtemp(tmpdir) == NULL) {
		printf("FAIL setup: mkdtemp\n");
		return 1;
	}
	RUN(pg_uri_is_a_postgresql_or_postgres_scheme_only);
	RUN(pg_redact_hides_every_password_and_keeps_the_rest);
	RUN(pg_uri_env_reads_tally_db_or_its_file_and_leaves_paths_to_sqlite);
	RUN(pg_placeholders_rewrites_numbered_ones_outside_quotes_and_comments);
	RUN(pg_state_err_maps_sqlstates_to_terr);
	RUN(pg_open_connects_over_tcp_and_the_socket_and_sessions_commit_synchronously);
	RUN(pg_open_refused_or_malformed_logs_the_redacted_uri_never_the_password);
	RUN(pg_open_takes_the_password_from_pgpassfile_when_the_uri_has_none);
	RUN(pg_migrate_from_empty_applies_every_version_once_and_records_each);
	RUN(pg_migrate_from_each_version_reaches_the_newest);
	RUN(pg_migrate_refuses_a_database_newer_than_the_build_and_changes_nothing);
	RUN(pg_migrate_a_failing_version_leaves_the_database_as_it_was);
	RUN(pg_migrate_in_two_processes_at_once_applies_each_version_once);
	RUN(store_every_statement_prepares_on_both_engines);
	RUN(pg_exec_binds_every_kind_of_parameter_and_reads_each_column_back);
	RUN(pg_exec_counts_changed_rows_and_prepares_each_slot_once_per_connection);
	RUN(pg_exec_answers_dup_on_a_unique_key_and_db_on_other_constraints);
	RUN(pg_transactions_commit_roll_back_and_savepoints_undo_one_part);
	RUN(pg_a_failure_without_a_savepoint_aborts_the_transaction_and_commit_says_so);
	RUN(pg_a_serialization_failure_answers_retry_and_rolls_back);
	RUN(pg_a_deadlock_answers_retry_to_one_and_lets_the_other_commit);
	RUN(pg_a_connection_lost_outside_a_transaction_fails_one_call_then_connects_again);
	RUN(pg_a_connection_lost_while_idle_is_connected_again_by_begin);
	RUN(pg_a_connection_lost_inside_a_transaction_fails_until_rolled_back);
	{
		char cmd[300];
		int rc;
		snprintf(cmd, sizeof(cmd), "%s/stderr", tmpdir);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/uri", tmpdir);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/pgpass", tmpdir);
		unlink(cmd);
		snprintf(cmd, sizeof(cmd), "%s/home", tmpdir);
		rmdir(cmd);
		rc = rmdir(tmpdir);
		(void)rc;
	}
	return t_done();
}
