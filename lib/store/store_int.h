/*
 * Private to the storage module (store*.c): the connection struct, the
 * statement table's index, and binding helpers. Nothing outside lib/store*.c
 * includes this file or sqlite3.h.
 */
#ifndef TALLY_STORE_INT_H
#define TALLY_STORE_INT_H

#include <sqlite3.h>

#include "store/store.h"

enum stmt {
	STMT_USER_EXISTS,
	STMT_USER_INSERT,
	STMT_USER_MERGE,
	STMT_LINKS_MOVE,
	STMT_PAYS_MOVE,
	STMT_PAYS_MOVE_SUB,
	STMT_PAY_SET_USER,
	STMT_CLAWBACK_OF_PAY,
	STMT_LINK_FIND,
	STMT_LINK_INSERT,
	STMT_LINK_DELETE,
	STMT_LINKS_OF,
	STMT_INBOX_FIND,
	STMT_INBOX_INSERT,
	STMT_INBOX_BODY_INSERT,
	STMT_INBOX_ANY_ORPHAN,
	STMT_INBOX_UPDATE,
	STMT_INBOX_GET,
	STMT_INBOX_BODY,
	STMT_INBOX_LIST,
	STMT_INBOX_ORPHANS,
	STMT_SUB_FIND,
	STMT_SUB_GET,
	STMT_SUB_INSERT,
	STMT_SUB_UPDATE,
	STMT_SUBS_OF,
	STMT_ENT_GET,
	STMT_ENT_INSERT,
	STMT_ENT_UPDATE,
	STMT_ENTS_OF_SUB,
	STMT_ENTS_OF,
	STMT_PAY_FIND_KEY,
	STMT_PAY_INSERT,
	STMT_PAY_KEY_INSERT,
	STMT_PAY_SET_STATE,
	STMT_GRANT_INSERT,
	STMT_GRANT_SET_REMAINING,
	STMT_GRANT_SET_EXPIRY,
	STMT_GRANTS_LIVE,
	STMT_GRANTS_OF_SUB,
	STMT_GRANTS_OF_PAY,
	STMT_GRANTS_PACKS,
	STMT_GRANTS_PLAN,
	STMT_LEDGER_INSERT,
	STMT_LEDGER_OF,
	STMT_LEDGER_LINES_OF,
	STMT_AUDIT_INSERT,
	STMT_AUDIT_OF,
	STMT_OUTBOX_INSERT,
	STMT_OUTBOX_COUNT,
	STMT_BALANCE_LEDGER,
	STMT_BALANCE_GRANTS,
	STMT_BALANCE_LIVE,
	STMT_PAY_LATEST_OF_SUB,
	/* store_orders.c: orders, referrals, users' access columns */
	STMT_ORDER_INSERT,
	STMT_ORDER_GET,
	STMT_ORDER_FIND_REF,
	STMT_ORDER_UPDATE,
	STMT_ORDER_OF_PAY,
	STMT_USER_ROW,
	STMT_USER_SET_REFERRER,
	STMT_USER_SET_REGISTERED,
	STMT_USER_SET_TRIAL_USED,
	STMT_USER_SET_FREE_NEXT,
	STMT_REFERRAL_INSERT,
	STMT_REFERRAL_STATS,
	STMT_REFERRAL_HAS_BUYER,
	/* store_access.c: API keys, answers, metrics, job leases */
	STMT_KEY_INSERT,
	STMT_KEY_GET,
	STMT_KEY_REVOKE,
	STMT_KEYS_LIST,
	STMT_ANSWER_GET,
	STMT_ANSWER_INSERT,
	STMT_METRIC_ADD,
	STMT_METRICS_ALL,
	STMT_JOB_LEASE,
	STMT_JOB_RENEW,
	STMT_JOB_RELEASE,
	STMT_JOBS_LIST,
	STMT_INBOX_ATTENTION_COUNTS,
	STMT_OUTBOX_STATE_COUNTS,
	/* store_ops.c: the operator's views */
	STMT_OUTBOX_LIST,
	STMT_OUTBOX_DEAD_LIST,
	STMT_OUTBOX_RETRY,
	STMT_LEDGER_SINCE,
	/* store_jobs.c: the jobs' due work through their indexes, deliveries, lease takeover */
	STMT_DUE_CREDITS,
	STMT_DUE_GRACE,
	STMT_DUE_PERIOD,
	STMT_DUE_TRIAL,
	STMT_DUE_ENDING,
	STMT_DUE_FREE,
	STMT_DUE_GRANTS,
	STMT_DUE_ORDERS,
	STMT_PENDING_ORDERS,
	STMT_DUE_OUTBOX,
	STMT_DUE_ATTENTION,
	STMT_OUTBOX_CLAIM,
	STMT_OUTBOX_SENT,
	STMT_OUTBOX_FAILED,
	STMT_JOB_TAKEOVER,
	/* store_console.c: the support console's admins, sessions and views */
	STMT_ADMIN_GET,
	STMT_ADMIN_INSERT,
	STMT_ADMIN_SET_PASSWORD,
	STMT_ADMIN_REHASH,
	STMT_SESSIONS_END_ADMIN,
	STMT_SESSION_INSERT,
	STMT_SESSION_GET,
	STMT_SESSION_DELETE,
	STMT_SESSIONS_PURGE,
	STMT_LOGIN_FAILURE_GET,
	STMT_LOGIN_FAILURE_ADD,
	STMT_LOGIN_FAILURE_CLEAR,
	STMT_LOGIN_FAILURES_PURGE,
	STMT_CONSOLE_NEXT_LINK_KIND,
	STMT_CONSOLE_NEXT_SUB_PROVIDER,
	STMT_CONSOLE_NEXT_PAY_PROVIDER,
	STMT_CONSOLE_NEXT_INBOX_PROVIDER,
	STMT_CONSOLE_USER_EVENTS,
	STMT_CONSOLE_ATTENTION,
	STMT_CONSOLE_AUDIT_OF_EVENT,
	STMT_CONSOLE_LEDGER_OF_EVENT,
	STMT_CONSOLE_AUDIT_GET,
	STMT_CONSOLE_SUBS_BY_STATE,
	STMT_CONSOLE_SUBS_SERIES,
	STMT_CONSOLE_INBOX_MAX_ID,
	STMT_CONSOLE_INBOX_TIME_AT,
	STMT_CONSOLE_FAILED_IN,
	STMT_CONSOLE_LEDGER_MAX_ID,
	STMT_CONSOLE_LEDGER_TIME_AT,
	STMT_CONSOLE_LEDGER_SUMS,
	STMT_BEGIN,
	STMT_COMMIT,
	STMT_ROLLBACK,
	STMT_SAVEPOINT,
	STMT_RELEASE,
	STMT_ROLLBACK_TO,
	STMT__MAX
};

/* The SQL of each statement, indexed by enum stmt (store_sql.c). */
extern const char *const store_sql[STMT__MAX];

/* Consistency checks run by tally verify: name and a query whose rows are violations. */
struct store_check {
	const char *name;
	const char *sql; /* each row: one TEXT column describing the violation */
};
extern const struct store_check store_checks[];

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

/*
 * The parameters of a statement, bound in order as ?1, ?2 ... Written as
 * STORE_PARAMS(SP_TEXT(user), SP_I64(now)), which stands for the two
 * arguments (list, count) every function below takes last. Each of them
 * prepares the statement once per connection (store_stmt), binds, steps and
 * resets it before it returns; text and blobs are bound without a copy
 * (SQLITE_STATIC), which is safe for that reason. A statement that cannot be
 * prepared or bound answers TERR_DB (logged with what).
 */
enum store_param_kind {
	SP_KIND_TEXT, /* text; NULL binds NULL */
	SP_KIND_OPT,  /* text; NULL or "" binds NULL */
	SP_KIND_I64,  /* integer */
	SP_KIND_ID,   /* a row id; 0 (none) binds NULL, as a foreign key wants */
	SP_KIND_BLOB, /* bytes (blob, v of them); a NULL blob binds an empty one */
};

struct store_param {
	enum store_param_kind kind;
	const char *text;
	const void *blob;
	int64_t v;
};

#define SP_TEXT(x)    ((struct store_param){ .kind = SP_KIND_TEXT, .text = (x) })
#define SP_OPT(x)     ((struct store_param){ .kind = SP_KIND_OPT, .text = (x) })
#define SP_I64(x)     ((struct store_param){ .kind = SP_KIND_I64, .v = (int64_t)(x) })
#define SP_ID(x)      ((struct store_param){ .kind = SP_KIND_ID, .v = (int64_t)(x) })
#define SP_BLOB(p, n) ((struct store_param){ .kind = SP_KIND_BLOB, .blob = (p), .v = (int64_t)(n) })
#define STORE_PARAMS(...)                                                                          \
	(const struct store_param[]){ __VA_ARGS__ },                                               \
	    sizeof((const struct store_param[]){ __VA_ARGS__ }) / sizeof(struct store_param)

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
 * store_commit, rolled back on any failure); with alert, that row is
 * inserted in the same transaction (a duplicate alert is no error).
 * none TERR_OK: a step that changes no row commits as well.
 */
enum terr store_run_alone(struct store *s, enum stmt i, enum terr none, struct outbox_row *alert,
    const char *what, const struct store_param *p, size_t n);

/* Statement i bound, its row read with fn into out; TERR_NOTFOUND when none. */
enum terr store_get(struct store *s, enum stmt i, void (*fn)(sqlite3_stmt *, void *), void *out,
    const char *what, const struct store_param *p, size_t n);
/* Statement i bound, up to max rows of sz bytes read with fn into out; *n rows read. */
enum terr store_list(struct store *s, enum stmt i, void (*fn)(sqlite3_stmt *, void *), void *out,
    size_t sz, size_t max, size_t *n, const char *what, const struct store_param *p, size_t np);
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
enum terr store_each(struct store *s, enum stmt i, enum terr (*fn)(sqlite3_stmt *, void *),
    void *arg, const char *what, const struct store_param *p, size_t n);

/* The index of name in the table names[0..n) of an enum's names, or -1. */
int store_name_find(const char *const *names, int n, const char *name);

/* Copy column i as text into out[size] ("" for NULL). */
void store_col_text(sqlite3_stmt *st, int i, char *out, size_t size);

/* Row readers of SUB_COLS, INBOX_COLS and ORDER_COLS (store_rows.c, store_orders.c), shared with store_jobs.c. */
void store_read_sub(sqlite3_stmt *st, void *out);
void store_read_inbox(sqlite3_stmt *st, void *out);
void store_read_order(sqlite3_stmt *st, void *out);
/* Row readers of LEDGER_COLS and AUDIT_COLS (store_credits.c), shared with store_console.c. */
void store_read_ledger(sqlite3_stmt *st, void *out);
void store_read_audit(sqlite3_stmt *st, void *out);

#endif
