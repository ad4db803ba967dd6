/*
 * The one path every state change takes (webhooks, jobs, reconciliation,
 * operators). apply_batch applies n normalized events in ONE transaction,
 * each under its own savepoint, so a bad event rolls back alone and the
 * others commit together with one fsync:
 *
 *   inbox row (dedup on provider + event id, raw body kept)
 *   + user resolution (links) + subscription state (never rolled back by an
 *   older event) + payment (dedup on business keys) + ledger entries
 *   + entitlements + audit rows + outbox rows
 *
 * An event that cannot be finished (unknown user, unknown product, a
 * conflict with stored state) is committed with its state and reason and an
 * alert in the outbox, and is replayable. Storage failures abort the whole
 * transaction: every result then carries the error and nothing is committed.
 */
#ifndef TALLY_APPLY_H
#define TALLY_APPLY_H

#include <stddef.h>
#include <stdint.h>

#include "base/event.h"
#include "cfg/cfg.h"
#include "store/store.h"

struct apply_result {
	enum terr err;          /* TERR_OK: committed; else nothing of the batch was */
	int duplicate;          /* the event was already stored: nothing done again */
	enum inbox_state state; /* what became of it */
	int64_t inbox_id;
	char user[USER_ID_MAX + 1];
	char reason[REASON_MAX];
	/*
	 * Why tally's own event was refused, for the caller's answer: "" when it
	 * was not; "unknown_user", "insufficient_credits", "trial_used", ... (the
	 * codes of docs/api.md).
	 */
	char code[32];
};

/*
 * Apply ev[0..n) at time now in one transaction (in chunks of 64 past that).
 * res[i] says what became of ev[i]. Returns TERR_OK when it committed, else
 * the storage error (every res[i].err is then set to it).
 */
enum terr apply_batch(struct store *s, const struct cfg *c, struct bev *ev, size_t n,
    struct apply_result *res, int64_t now);

/* The same over arrays of pointers (the writer's queue), all in one transaction. */
enum terr apply_batchv(struct store *s, const struct cfg *c, struct bev *const *ev,
    struct apply_result *const *res, size_t n, int64_t now);

struct audit_row;

/*
 * Apply a stored event again (its raw body parsed anew), in its own
 * transaction: for events left orphaned, unknown_product or failed once the
 * cause is fixed. An event already applied or ignored is left as it is
 * (res->duplicate). TERR_NOTFOUND when there is no such inbox row.
 *
 * who, when not NULL, is the person replaying it: its actor and reason are
 * kept, and an "event.replay" audit row (object, user, detail "before ->
 * after", inbox_id filled in here; who->id set) is written in the same
 * transaction, so a replay is never applied without its record.
 */
enum terr apply_replay(struct store *s, const struct cfg *c, int64_t inbox_id,
    struct audit_row *who, struct apply_result *res, int64_t now);

struct op_action;

/*
 * Apply one of tally's own actions (op.h) in its own transaction: build,
 * parse and apply, as the CLI and the jobs do. TERR_INVAL (why) when the
 * action cannot be built; else as apply_batch.
 */
enum terr apply_op(struct store *s, const struct cfg *c, const struct op_action *a, int64_t now,
    struct apply_result *res, char *why, size_t whysize);

#endif
