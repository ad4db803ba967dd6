/*
 * Private to apply (apply*.c): the transaction's context, the outcome of
 * one event, and the helpers the aspect files share (prefix ap_).
 */
#ifndef TALLY_APPLY_INT_H
#define TALLY_APPLY_INT_H

#include "apply.h"
#include "ledger.h"
#include "store.h"
#include "tm.h"

#define RESOLVERS_MAX    16
#define REPLAY_DEPTH_MAX 3
#define SUB_GRANTS_MAX   64

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
	int changed; /* entitlements or balance changed */
	char actor[ACTOR_MAX];
	struct ledger_op op;
};

/* The subscription an event speaks of, held in memory until written once. */
struct subst {
	int have; /* row is valid */
	int created;
	int dirty;        /* row differs from the stored one */
	int stale;        /* the event is older than the stored state (invariant 3) */
	int plan_changed; /* product differs from the stored one */
	int granted;      /* a payment of this event granted plan credits */
	struct sub_row row;
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
const char *ap_iso(int64_t ms, char out[TM_ISO_SIZE]);

/* apply_sub.c */
const struct product *ap_product_of(struct actx *a, const struct bev *e, const char *ext,
    int is_catalog);
void ap_sub_detail(char *out, size_t size, const struct sub_row *before,
    const struct sub_row *after);
enum terr ap_apply_sub(struct actx *a, const struct bev *e, const struct product *p,
    struct subst *ss, struct outcome *o);
enum terr ap_grant_plan(struct actx *a, struct outcome *o, struct subst *ss,
    const struct product *p, int64_t pay_id, int trial, int replace_all);
enum terr ap_finish_sub(struct actx *a, struct outcome *o, struct subst *ss);

/* apply_money.c */
enum terr ap_attach_keys(struct actx *a, const struct bev *e, struct outcome *o,
    const struct bev_keys *k, int64_t pay_id);
enum terr ap_find_payment(struct actx *a, const struct bev *e, const struct bev_keys *k,
    struct pay_row *out, struct outcome *o);
enum terr ap_apply_pay(struct actx *a, const struct bev *e, const struct product *p,
    struct subst *ss, struct outcome *o);
enum terr ap_apply_refund(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_alias(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_credit(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_reinstate(struct actx *a, const struct bev *e, struct outcome *o);

/* apply_move.c */
enum terr ap_apply_transfer(struct actx *a, const struct bev *e, struct outcome *o);
/* Everything of user from to into, audited on both sides; from stands merged. */
enum terr ap_merge_users(struct actx *a, struct outcome *o, const char *from, const char *into);

/* apply.c */
enum terr ap_apply_notice(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_unlink(struct actx *a, const struct bev *e, struct outcome *o);

#endif
