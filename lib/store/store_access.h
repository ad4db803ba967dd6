/*
 * Storage of the app-facing API's and the jobs' own records: API keys
 * (only the SHA-256 of a key is kept), the first answers of idempotent
 * requests, the counters /metrics reports, and each job's lease.
 */
#ifndef TALLY_STORE_ACCESS_H
#define TALLY_STORE_ACCESS_H

#include <stdint.h>

#include "base/buf.h"
#include "crypto/crypto.h"
#include "store/store.h"

/* --- API keys --- */

struct key_row {
	char id[32];
	unsigned char secret_hash[SHA256_LEN];
	char name[CFG_NAME_MAX];
	char scopes[48]; /* "read,spend,admin" */
	int64_t created_at;
	char created_by[CFG_NAME_MAX];
	int64_t revoked_at; /* 0: live */
	int64_t last_used_at;
};

enum terr store_key_insert(struct store *s, const struct key_row *r);
enum terr store_key_get(struct store *s, const char *id, struct key_row *out);
/* TERR_NOTFOUND when there is no such live key. */
enum terr store_key_revoke(struct store *s, const char *id, int64_t at);
enum terr store_keys_list(struct store *s, struct key_row *out, size_t max, size_t *n);

/* --- answers of idempotent requests --- */

/* The answer stored for inbox_id: its request hash, status and body; TERR_NOTFOUND when none. */
enum terr store_answer_get(struct store *s, int64_t inbox_id, char hash[72], int *status,
    struct buf *body);
enum terr store_answer_insert(struct store *s, int64_t inbox_id, const char *hash, int status,
    const char *body);

/* --- metrics --- */

/* Add delta to the counter (name, labels); labels in Prometheus form ('provider="stripe"'). */
enum terr store_metric_add(struct store *s, const char *name, const char *labels, int64_t delta);
/* Call fn for every counter, in name order. */
enum terr store_metrics_each(struct store *s,
    void (*fn)(void *arg, const char *name, const char *labels, int64_t value), void *arg);

/*
 * Gauges read at scrape time: events needing attention by provider and
 * state, and outbox rows pending and dead by kind. fn(arg, gauge, a, b, n)
 * with gauge "inbox" (a provider, b state) or "outbox" (a kind, b state).
 */
enum terr store_gauges(struct store *s,
    void (*fn)(void *arg, const char *gauge, const char *a, const char *b, int64_t n), void *arg);

/* --- the outbox, as the operator sees it --- */

struct outbox_item {
	int64_t id;
	char kind[16];
	char topic[64];
	char user[USER_ID_MAX + 1];
	char dedup_key[2 * ID_MAX];
	char payload[4096];
	char state[16];
	int64_t attempts;
	int64_t next_at;
	char last_error[REASON_MAX];
	int64_t created_at;
};

/* Rows after after_id in id order, of one state ("pending", "sent", "dead") or all (NULL). */
enum terr store_outbox_list(struct store *s, const char *state, int64_t after_id,
    struct outbox_item *out, size_t max, size_t *n);
/* A dead row back to pending, due now, its attempts reset; TERR_NOTFOUND when not dead. */
enum terr store_outbox_retry(struct store *s, int64_t id, int64_t now);

/* --- job leases --- */

struct job_row {
	char name[CFG_NAME_MAX];
	char lease_owner[64];
	int64_t lease_until;
	int64_t last_started_at;
	int64_t last_success_at;
	char last_result[REASON_MAX];
};

/*
 * Take the lease of job name for owner until now + ttl (in its own
 * transaction). *got = 1 when taken (or already owner's); 0 when another
 * holds it unexpired.
 */
enum terr store_job_lease(struct store *s, const char *name, const char *owner, int64_t now,
    int64_t ttl, int *got);
/* Extend owner's lease; TERR_CONFLICT when it is no longer owner's. */
enum terr store_job_renew(struct store *s, const char *name, const char *owner, int64_t until);
/* Give the lease back, recording the run: ok sets last_success_at = now. */
enum terr store_job_release(struct store *s, const char *name, const char *owner, int64_t now,
    int ok, const char *result);
enum terr store_jobs_list(struct store *s, struct job_row *out, size_t max, size_t *n);

#endif
