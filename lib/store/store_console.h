/*
 * Storage of the support console (bin/tally-console, lib/console*.c): its
 * admins (a slow salted password hash each), sessions (only the SHA-256 of
 * the cookie), failed logins, and the reads its pages make beyond the user
 * document: search by any provider id, a user's events, events needing
 * attention, what an action wrote, and the overview's aggregates. See
 * store.h for the connection, transactions and results.
 *
 * Every read is bounded: lists take a maximum, aggregates go through an
 * index or through id ranges found by binary search (inbox and ledger ids
 * grow with their times and rows are never deleted), except the two over
 * subscriptions, which scan them once (see store_console.c).
 */
#ifndef TALLY_STORE_CONSOLE_H
#define TALLY_STORE_CONSOLE_H

#include <stdint.h>

#include "crypto/crypto.h"
#include "store/store.h"

/* --- admins --- */

/* "$scrypt$ln=15,r=8,p=3$<salt>$<hash>" and room to spare. */
#define ADMIN_HASH_MAX 160

struct admin_row {
	char name[CFG_NAME_MAX];
	char password_hash[ADMIN_HASH_MAX];
	int64_t created_at;
	int64_t updated_at;
};

enum terr store_admin_get(struct store *s, const char *name, struct admin_row *out);
/*
 * In the caller's transaction. create: a new admin (TERR_DUP when the name
 * exists); else a new password for an existing one (TERR_NOTFOUND when it
 * does not), ending every session of that admin.
 */
enum terr store_admin_put(struct store *s, const char *name, const char *hash, int64_t now,
    int create);
/*
 * In the caller's transaction: the same password hashed again with newer
 * parameters (a login that checked old): replaces the hash only while it is
 * still old, so a password set in between is kept; its sessions go on and
 * updated_at (when the password was set) stays. TERR_OK either way.
 */
enum terr store_admin_rehash(struct store *s, const char *name, const char *old, const char *hash);

/* --- sessions --- */

/* A session's CSRF token: 32 random bytes in base64url. */
#define SESSION_CSRF_MAX  48
/* Who a session is: an admin's name, or "key:<id>" for an admin API key. */
#define SESSION_ADMIN_MAX CFG_NAME_MAX

struct session_row {
	unsigned char token_hash[SHA256_LEN];
	char admin[SESSION_ADMIN_MAX];
	char csrf[SESSION_CSRF_MAX];
	int64_t created_at;
	int64_t expires_at;
};

enum terr store_session_insert(struct store *s, const struct session_row *r);
enum terr store_session_get(struct store *s, const unsigned char hash[SHA256_LEN],
    struct session_row *out);
enum terr store_session_delete(struct store *s, const unsigned char hash[SHA256_LEN]);
/* Sessions that expired at or before now. */
enum terr store_sessions_purge(struct store *s, int64_t now);

/*
 * --- login attempts not followed by a success, by "name:<admin>",
 * "key:<key id>" or "addr:<client address>" (the table keeps its first name,
 * login_failures: an attempt is counted before its credential is checked) ---
 *
 * The console reads two counts, decides and adds to both in ONE write
 * transaction (store_begin), so that attempts in flight at once each see the
 * ones counted before them. SQLite gives that by its single writer (the
 * lock file, then BEGIN IMMEDIATE: a get in the transaction reads what no
 * other writer can change before commit); another engine must give it too
 * (e.g. the rows locked by the get, or a serializable transaction).
 */

/* *count and *last_at of who; both 0 when none. */
enum terr store_login_failure_get(struct store *s, const char *who, int64_t *count,
    int64_t *last_at);
/* One more attempt of who at now; a count whose last attempt is before since restarts at 1. */
enum terr store_login_failure_add(struct store *s, const char *who, int64_t now, int64_t since);
enum terr store_login_failure_clear(struct store *s, const char *who);
/* Forget counts whose last attempt is before before. */
enum terr store_login_failures_purge(struct store *s, int64_t before);

/* --- search --- */

enum console_hit_kind {
	HIT_USER,         /* a user id */
	HIT_LINK,         /* a provider's id linked to a user (links) */
	HIT_SUBSCRIPTION, /* a subscription's provider id */
	HIT_PAYMENT,      /* a payment's business key (invoice, transaction, charge ...) */
	HIT_EVENT,        /* a provider's event id (inbox) */
};

struct console_hit {
	enum console_hit_kind kind;
	char provider[PROVIDER_MAX];
	char what[KIND_MAX]; /* the link's kind */
	char user[USER_ID_MAX + 1];
	int64_t id; /* subscription, payment or inbox id */
};

/*
 * Everything q names exactly: a user, a link of any provider and kind, a
 * subscription, a payment key or an event of any provider. Each lookup is a
 * primary-key or unique-index search per (provider[, kind]) present, those
 * walked through the same index; at most max hits. When no payment key is q,
 * a payment of q's order family is ("same order"): Google Play's renewals
 * are the first order's id and "..N", so "GPA.x..3" finds "GPA.x" and
 * "GPA.x" (or an unrecorded "GPA.x..3") a recorded "GPA.x..N".
 */
enum terr store_console_search(struct store *s, const char *q, struct console_hit *out, size_t max,
    size_t *n);

/* --- lists --- */

/* A user's events, newest first, with ids below before (0: from the newest). */
enum terr store_console_user_events(struct store *s, const char *user, int64_t before,
    struct inbox_row *out, size_t max, size_t *n);
/* Events in state (orphaned, unknown_product or failed), newest first, ids below before. */
enum terr store_console_attention(struct store *s, enum inbox_state state, int64_t before,
    struct inbox_row *out, size_t max, size_t *n);
/* What an event wrote for user: its audit rows and its ledger entries, in id order. */
enum terr store_console_audit_of_event(struct store *s, const char *user, int64_t inbox_id,
    struct audit_row *out, size_t max, size_t *n);
enum terr store_console_ledger_of_event(struct store *s, const char *user, int64_t inbox_id,
    struct ledger_row *out, size_t max, size_t *n);
enum terr store_console_audit_get(struct store *s, int64_t id, struct audit_row *out);

/* --- the overview --- */

/* Days of the overview's chart, today included. */
#define CONSOLE_DAYS 90

/*
 * Subscriptions that give access (trialing, active, past_due, canceled) by
 * provider, state and live: fn once per group.
 */
enum terr store_console_subs_by_state(struct store *s,
    void (*fn)(void *arg, const char *provider, const char *state, int live, int64_t n), void *arg);

/*
 * The overview's numbers of the 24 h before now and the chart's series over
 * the CONSOLE_DAYS UTC days ending with today's (index CONSOLE_DAYS - 1).
 */
struct console_stats {
	int64_t events_24h;  /* events received */
	int64_t failed_24h;  /* of those, still failed */
	int64_t granted_24h; /* credits granted */
	int64_t spent_24h;   /* credits spent */
	int64_t day0;        /* ms: the start of the first day */
	int64_t events[CONSOLE_DAYS];
	int64_t failed[CONSOLE_DAYS]; /* of those, still failed */
	int64_t active
	    [CONSOLE_DAYS]; /* subscriptions giving access at the end of the day (now for today) */
};

enum terr store_console_stats(struct store *s, int64_t now, struct console_stats *out);

#endif
