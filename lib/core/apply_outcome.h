/*
 * Private to apply (apply*.c): the transaction's context, the outcome of
 * one event, and the helpers every aspect shares to record it (prefix ap_):
 * notes and failures, audit rows, outbox rows, alerts and notices. Below the
 * aspects: it calls none of them, and apply.c none of its callers' insides.
 */
#ifndef TALLY_APPLY_OUTCOME_H
#define TALLY_APPLY_OUTCOME_H

#include "base/buf.h"
#include "base/event.h"
#include "base/tm.h"
#include "cfg/cfg.h"
#include "core/ledger.h"
#include "store/store.h"

#define RESOLVERS_MAX 16

struct outcome;

struct actx {
	struct store *s;
	const struct cfg *c;
	int64_t now;
	int depth;            /* nesting of orphan replays */
	size_t replays;       /* orphans replayed in this transaction */
	struct outcome *pool; /* one outcome per replay depth, allocated once per batch */
};

/* Something this event created that may resolve orphans waiting for it. */
struct resolver {
	char provider[PROVIDER_MAX];
	char kind[KIND_MAX];
	char id[ID_MAX];
};

struct outcome {
	enum inbox_state state;
	char reason[REASON_MAX];
	char user[USER_ID_MAX + 1];
	char orphan_kind[KIND_MAX];
	char orphan_id[ID_MAX];
	struct resolver res[RESOLVERS_MAX];
	size_t nres;
	int changed;   /* entitlements or balance changed */
	char code[32]; /* a refusal's code (apply_result.code) */
	char actor[ACTOR_MAX];
	struct ledger_op op;
	struct ledger_touched touched; /* the balances the event changed (op.touched) */
	/*
	 * The event's time for the metrics: its own (inbox.event_at), else when it
	 * arrived; the rollups' triggers take payments and ledger entries at the same.
	 */
	int64_t at;
};

int ap_is_storage_error(enum terr rc);
/* Append a note to the outcome's reason ("; " between notes), bounded. */
void ap_note(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* End processing with a state other than applied, and why. */
void ap_outcome_set(struct outcome *o, enum inbox_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void ap_resolver_add(struct outcome *o, const char *provider, const char *kind, const char *id);
enum terr ap_audit(struct actx *a, struct outcome *o, const char *action, const char *object,
    const char *detail, const char *reason);
/* An outbox row; one with the same dedup key already there is success. */
enum terr ap_outbox(struct actx *a, enum outbox_kind kind, const char *topic, const char *user,
    const char *dedup, const struct buf *payload);
enum terr ap_alert_event(struct actx *a, const struct inbox_row *row);
enum terr ap_alert_text(struct actx *a, struct outcome *o, const char *topic, const char *dedup,
    const char *text);
enum terr ap_ensure_user(struct actx *a, struct outcome *o, const char *user);
/* A notification for the user about a subscription (outbox), once per (topic, event). */
enum terr ap_notice(struct actx *a, struct outcome *o, const char *topic, int64_t sub_id,
    const char *event_id);
/* End processing as failed with why; returns TERR_OK (an outcome, not an error). */
enum terr ap_fail(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a refusal code for the caller (apply_result.code). */
enum terr ap_refuse(struct outcome *o, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
