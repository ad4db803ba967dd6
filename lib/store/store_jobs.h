/*
 * Storage of the scheduled jobs (jobs/, lib/job/job.c): walks through due work,
 * the outbox's deliveries, and taking over the lease of a runner that died.
 *
 * Every walk goes through one partial index of migrations/0003 (or 0001's
 * outbox_due and inbox_attention) in (due time, id) order, from a position
 * up to a time, a page at a time: a run with nothing due reads nothing but
 * an empty index range, however large the tables. A walk reads; the jobs
 * change state only through apply (their own events), except the outbox
 * delivery states below, each written in its own short transaction.
 */
#ifndef TALLY_STORE_JOBS_H
#define TALLY_STORE_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "store/store_orders.h"

/* A position in a walk: the rows strictly after (at, id), in (at, id) order. */
struct store_pos {
	int64_t at;
	int64_t id;
};

/* Before every row. */
#define STORE_POS_START                                                                            \
	{                                                                                          \
		INT64_MIN, INT64_MIN                                                               \
	}

/* The subscriptions' walks and the due time each orders by. */
enum due_subs {
	DUE_CREDITS, /* credits_next_at > 0: the next credit reset inside a longer period */
	DUE_GRACE,   /* past_due, by grace_until (0 first: their end is state_at + grace) */
	DUE_PERIOD,  /* active or canceled, by period_end */
	DUE_TRIAL,   /* trialing, by trial_end */
	/*
	 * DUE_PERIOD's rows that end by themselves, by period_end: canceled, set
	 * to end (cancel_at_period_end), a direct provider's plan (ext "plan:...",
	 * not the balance's). Each row in range is still visited (no index of its
	 * own): about the subscriptions renewing in the range.
	 */
	DUE_ENDING,
};

/*
 * Up to max rows after *pos whose due time is at most until, in order;
 * *pos moves past the last one returned (a next call continues). *n == 0:
 * the walk is done.
 */
enum terr store_due_subs(struct store *s, enum due_subs w, struct store_pos *pos, int64_t until,
    struct sub_row *out, size_t max, size_t *n);

/* Users (not merged) whose free allowance is due (users.free_next_at). */
struct due_user {
	char id[USER_ID_MAX + 1];
	int64_t free_next_at;
	int64_t rowid; /* the walk's position */
};
enum terr store_due_free(struct store *s, struct store_pos *pos, int64_t until,
    struct due_user *out, size_t max, size_t *n);

/* Grants with credits left whose expiry has come. */
struct due_grant {
	int64_t id;
	char user[USER_ID_MAX + 1];
	int64_t expires_at;
};
enum terr store_due_grants(struct store *s, struct store_pos *pos, int64_t until,
    struct due_grant *out, size_t max, size_t *n);

/* Pending orders past their expiry. */
struct due_order {
	struct order_row o;
	int64_t rowid; /* the walk's position */
};
enum terr store_due_orders(struct store *s, struct store_pos *pos, int64_t until,
    struct due_order *out, size_t max, size_t *n);
/*
 * The pending orders of provider after *pos, by expiry (the oldest first),
 * whether or not expired (reconcile: what the provider may have been paid).
 */
enum terr store_pending_orders(struct store *s, const char *provider, struct store_pos *pos,
    struct due_order *out, size_t max, size_t *n);

/* A pending outbox row, as the deliver job sends it. */
#define OUTBOX_PAYLOAD_MAX (32 * 1024)
struct outbox_due {
	int64_t id;
	enum outbox_kind kind;
	char topic[64];
	char user[USER_ID_MAX + 1];
	char dedup_key[2 * ID_MAX];
	char payload[OUTBOX_PAYLOAD_MAX];
	int payload_cut; /* the stored payload was longer than OUTBOX_PAYLOAD_MAX - 1 */
	int64_t attempts;
	int64_t next_at;
	int64_t created_at;
};
/* Pending rows due by until (outbox_due), in (next_at, id) order. */
enum terr store_due_outbox(struct store *s, struct store_pos *pos, int64_t until,
    struct outbox_due *out, size_t max, size_t *n);

/* Inbox rows orphaned, unknown_product or failed with id > after_id, oldest first. */
enum terr store_due_attention(struct store *s, int64_t after_id, struct inbox_row *out, size_t max,
    size_t *n);

/*
 * Each in its own transaction. Claim row id for one delivery attempt: its
 * attempts become attempts + 1 and next_at retry_at (when the attempt's
 * outcome is never written, the row is tried again then: sent at least
 * once). TERR_CONFLICT when the row is no longer pending with that count
 * (another runner took it).
 */
enum terr store_outbox_claim(struct store *s, int64_t id, int64_t attempts, int64_t retry_at);
/* The row was delivered (a 2xx). TERR_CONFLICT when it was not pending. */
enum terr store_outbox_sent(struct store *s, int64_t id);
/*
 * The attempt failed with error: pending again at retry_at, or dead. A dead
 * row's alert (NULL: none) is written in the same transaction.
 */
enum terr store_outbox_failed(struct store *s, int64_t id, const char *error, int64_t retry_at,
    int dead, struct outbox_row *alert);

/*
 * Take job name's lease from owner from (a runner known to be gone) for
 * owner to, until until. TERR_CONFLICT when from no longer holds it.
 */
enum terr store_job_takeover(struct store *s, const char *name, const char *from, const char *to,
    int64_t now, int64_t until);

#endif
