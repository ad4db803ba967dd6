/*
 * Storage: the only module that speaks SQL (no other file includes
 * sqlite3.h). SQLite in WAL mode, synchronous=FULL unless TALLY_SYNCHRONOUS
 * says otherwise, foreign keys on, a busy timeout, BEGIN IMMEDIATE for every
 * write transaction. Statements live in one indexed table (store_sql.c),
 * prepared once per connection and reused.
 *
 * This header: the rows' types, the connection, transactions and checks
 * (store.c). The typed functions are declared by the file that defines
 * them: store_rows.h (users, links, inbox, subscriptions, entitlements,
 * payments), store_credits.h (grants, ledger, audit, outbox), and
 * store_orders.h, store_jobs.h, store_tasks.h, store_access.h,
 * store_console.h, store_backup.h, store_rebuild.h.
 *
 * Every function returns TERR_OK, TERR_NOTFOUND (no row), TERR_DUP (a UNIQUE
 * key exists: a result, not a failure), TERR_BUSY (locked past the busy
 * timeout) or TERR_DB (logged once where it happens). A struct store is one
 * connection: use it from one thread at a time.
 *
 * Row structs hold copies; strings are NUL-terminated and truncated to their
 * field only if the database holds something longer than any writer stores.
 */
#ifndef TALLY_STORE_H
#define TALLY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/event.h"
#include "cfg/cfg.h"

struct store;

enum store_mode {
	STORE_RW,      /* handlers, jobs, CLI: the schema must be current */
	STORE_RO,      /* read-only reports */
	STORE_MIGRATE, /* create the file if missing; the schema may be behind */
};

/* The schema version this build expects (the newest migration). */
int store_schema_latest(void);

/*
 * Make every file this process creates from now on private to its user
 * (umask 077). The database holds password and key hashes, sessions and raw
 * webhook bodies; SQLite creates the -wal and -shm with the database file's
 * own mode, and the lock file and backups are made here too. Every
 * executable (handler_main, job_init, the CLI's main) calls it first, so
 * this holds whatever umask it was started with (a shell's 022, cron's,
 * a unit without UMask=).
 */
void store_umask(void);

/*
 * 1 when db (TALLY_DB, the config's db_path) names a PostgreSQL database (a
 * postgresql:// or postgres:// URI), 0 for a SQLite file's path.
 */
int store_is_postgres(const char *db);
/*
 * db as a log line or a message may show it, into out[size]: a URI with
 * its passwords replaced by "***", a path as it is.
 */
void store_db_shown(const char *db, char *out, size_t size);

/*
 * Open path (a SQLite file; a PostgreSQL URI: docs/postgresql.md). On success *out is the connection (close with store_close).
 * TERR_SCHEMA when mode is not STORE_MIGRATE and the database is not at
 * store_schema_latest(): run `tally migrate`.
 */
enum terr store_open(struct store **out, const char *path, enum store_mode mode);
void store_close(struct store *s);

/* Apply every migration newer than the database, each in its own transaction. */
enum terr store_migrate(struct store *s, int target, int *from, int *to);
/* The version recorded in the database (0 when empty). */
enum terr store_schema_version(struct store *s, int *version);

/*
 * Transactions. begin takes the writer lock file shared by every process
 * (<db>.lock, flock: the next writer wakes at once) and then BEGIN IMMEDIATE;
 * commit and rollback release it.
 */
enum terr store_begin(struct store *s);
enum terr store_commit(struct store *s);
void store_rollback(struct store *s);
/* Savepoints nest inside a transaction; one per event of a batch. */
enum terr store_savepoint(struct store *s);
enum terr store_release(struct store *s);
void store_rollback_to(struct store *s);

/*
 * WAL checkpoint (PASSIVE): never blocks readers or the writer. *left (when
 * not NULL): the frames it could not copy (appended meanwhile, or still read
 * by a reader), -1 when unknown.
 */
enum terr store_checkpoint(struct store *s, int *left);
/*
 * The same between two write transactions: under the writers' lock file
 * (<db>.lock), so no tally writer appends meanwhile and every frame can be
 * copied; the next write transaction then restarts the WAL from its start.
 * Without it a WAL written without pause is never wholly copied at the
 * moment a transaction begins, so it never restarts: it grows by every
 * commit, each write an append that the file system must allocate and zero.
 * Blocks writers for the copy of what a PASSIVE checkpoint just left.
 */
enum terr store_checkpoint_between(struct store *s);
/*
 * Call cb(arg, pages) after each commit of this connection with the WAL's
 * size in pages, instead of checkpointing in the committing thread (SQLite's
 * automatic checkpoint): the writer hands checkpoints to another thread.
 */
void store_wal_watch(struct store *s, void (*cb)(void *arg, int pages), void *arg);

/*
 * Slots: at most n holders at once, on this database's host, of a costly
 * piece of work named kind ("login": a password check, lib/console/console_auth.c),
 * whether they are threads of one process (FastCGI) or processes of their
 * own (CGI: one a request). SQLite: n lock files beside the database,
 * <db>.<kind>-0 .. <db>.<kind>-<n-1> (made 0660, as <db>.lock), each held
 * by an exclusive flock(2) on a descriptor of its own: two open(2)s are two
 * open file descriptions, which exclude each other even in one process, and
 * a process that dies lets go of its slot with its descriptors.
 * PostgreSQL: session advisory locks (key of kind, slot number) on the
 * store's connection, n for every host of the database together.
 *
 * take tries every slot, then again every STORE_SLOT_POLL_MS, for at most
 * wait_ms: TERR_OK with *slot held (give it back with store_slot_give),
 * TERR_BUSY when none came free in time, TERR_IO (logged) when a slot file
 * cannot be opened (nothing is held: the caller refuses the work rather than
 * run it unbounded). give releases and closes it; harmless on a slot not held.
 */
#define STORE_SLOT_POLL_MS 20
struct store_slot {
	int fd;  /* the held lock file; -1 when none (PostgreSQL: the slot's number) */
	int key; /* PostgreSQL: the first key of its advisory lock */
};
enum terr store_slot_take(struct store *s, const char *kind, int n, int64_t wait_ms,
    struct store_slot *slot);
void store_slot_give(struct store *s, struct store_slot *slot);

/* --- users and links --- */

struct link_row {
	char provider[PROVIDER_MAX];
	char kind[KIND_MAX];
	char ext_id[ID_MAX];
	char user[USER_ID_MAX + 1];
	int64_t created_at;
};

/* --- inbox --- */

enum inbox_state {
	INBOX_APPLIED,
	INBOX_IGNORED,
	INBOX_ORPHANED,
	INBOX_UNKNOWN_PRODUCT,
	INBOX_FAILED,
	INBOX__MAX
};

struct inbox_row {
	int64_t id;
	char provider[PROVIDER_MAX];
	char event_id[ID_MAX];
	char type[TYPE_MAX];
	int live;
	int64_t event_at;
	int64_t received_at;
	int64_t updated_at;
	enum inbox_state state;
	char reason[REASON_MAX];
	char user[USER_ID_MAX + 1];
	char orphan_kind[KIND_MAX];
	char orphan_id[ID_MAX];
	int64_t attempts;
};

/* --- subscriptions --- */

struct sub_row {
	int64_t id;
	char provider[PROVIDER_MAX];
	char ext_id[ID_MAX];
	char user[USER_ID_MAX + 1];
	char product[CFG_NAME_MAX];
	enum sub_state state;
	int live;
	int64_t period_start;
	int64_t period_end;
	int64_t trial_end;
	int64_t grace_until;
	int cancel_at_period_end;
	int64_t credits_through;
	int64_t state_at;
	unsigned state_rank;
	int64_t created_at;
	int64_t updated_at;
	char store[PROVIDER_MAX]; /* where it was bought, when the provider said */
	int64_t credits_next_at;  /* the next credit reset inside a longer paid period; 0 = none */
};

/* --- entitlements --- */

struct ent_row {
	int64_t id;
	char user[USER_ID_MAX + 1];
	char name[CFG_NAME_MAX];
	char source[48];
	int64_t sub_id; /* 0 when not from a subscription */
	int active;
	int64_t ends_at; /* 0: no end */
	int64_t updated_at;
};

/* --- payments --- */

enum pay_state { PAY_PAID, PAY_REFUNDED, PAY_DISPUTED };

struct pay_row {
	int64_t id;
	char provider[PROVIDER_MAX];
	char user[USER_ID_MAX + 1];
	char product[CFG_NAME_MAX];
	int64_t sub_id;
	enum pay_kind kind;
	int64_t amount;
	char currency[CURRENCY_MAX];
	int live;
	enum pay_state state;
	int64_t inbox_id;
	int64_t created_at;
};

/* --- credits --- */

struct grant_row {
	int64_t id;
	char user[USER_ID_MAX + 1];
	enum grant_source source;
	int64_t sub_id;
	int64_t pay_id;
	char product[CFG_NAME_MAX];
	int64_t amount;
	int64_t remaining;
	int64_t expires_at; /* 0: never */
	int64_t created_at;
};

struct ledger_row {
	int64_t id;
	char user[USER_ID_MAX + 1];
	int64_t grant_id;
	int64_t amount;
	char kind[16];
	char reason[REASON_MAX];
	char actor[ACTOR_MAX];
	int64_t inbox_id;
	int64_t created_at;
};

/*
 * An entry with what it drew on: the source of its grant and the kind of
 * the payment behind that grant (-1 when none). The user view of the user
 * document (report.h) names each entry from these.
 */
struct ledger_line {
	struct ledger_row row;
	enum grant_source source;
	int pay_kind; /* enum pay_kind, or -1 */
};

/* --- audit and outbox --- */

struct audit_row {
	int64_t id;
	int64_t at;
	char actor[ACTOR_MAX];
	char user[USER_ID_MAX + 1];
	char action[48];
	char object[64];
	char detail[REASON_MAX];
	char reason[REASON_MAX];
	int64_t inbox_id;
};

enum outbox_kind { OUTBOX_WEBHOOK, OUTBOX_NOTIFY, OUTBOX_ALERT };

struct outbox_row {
	int64_t id;
	enum outbox_kind kind;
	char topic[64];
	char user[USER_ID_MAX + 1];
	char dedup_key[2 * ID_MAX];
	const char *payload; /* JSON text; not owned */
	int64_t next_at;
	int64_t created_at;
};

/* --- checks for tally verify --- */

/*
 * Run every consistency check; cb is called once per violation with the
 * check's name and a description. *violations counts them.
 */
enum terr store_verify(struct store *s,
    void (*cb)(void *arg, const char *check, const char *detail), void *arg, int64_t *violations);

#endif
