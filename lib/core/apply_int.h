/*
 * Private to apply (apply*.c): the transaction's context, the outcome of
 * one event, and the helpers the aspect files share (prefix ap_).
 */
#ifndef TALLY_APPLY_INT_H
#define TALLY_APPLY_INT_H

#include "base/tm.h"
#include "core/apply.h"
#include "core/ledger.h"
#include "store/store.h"

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
	int changed;   /* entitlements or balance changed */
	char code[32]; /* a refusal's code (apply_result.code) */
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

/* apply_order.c */
/* The user of a BEV_ORDER event is the order's: filled in before the user is resolved. */
enum terr ap_order_user(struct actx *a, struct bev *e);
/*
 * End a BEV_ORDER event whose order cannot be found as it names it, as
 * failed with what it named and what tally has: the order it names never
 * issued, made with another provider ref or for another provider, and whose
 * order that ref is. o->user, when empty, becomes the user of the order it
 * names (else of the order its ref was made for). Returns storage errors.
 */
enum terr ap_order_unmatched(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_order_new(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_order(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_buy(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_grant_pack(struct actx *a, struct outcome *o, const struct product *p, int64_t pay_id,
    int64_t quantity);
/*
 * Start or extend a plan tally runs (provider, ext): active to end (0: one
 * product period from now, or from the end of the period running).
 * *fresh = 1 when it gave no access before (its credits are SET, not RESET).
 */
enum terr ap_run_plan(struct actx *a, const struct bev *e, struct outcome *o, const char *provider,
    const char *ext, const struct product *p, int64_t end, struct subst *ss, int *fresh);
enum terr ap_plan_credits(struct actx *a, struct outcome *o, struct subst *ss,
    const struct product *p, int64_t pay_id, int fresh);
/* A refund of pay_id: the order it paid is refunded. */
enum terr ap_order_refunded(struct actx *a, int64_t pay_id, struct outcome *o);
/* The referrer's reward for a referred user's new payment (never blocks it). */
enum terr ap_referral_reward(struct actx *a, struct outcome *o, int64_t pay_id);

/* apply_app.c */
enum terr ap_apply_register(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_allowance(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_spend(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_entitle(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_referrer(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_subset(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_trial(struct actx *a, const struct bev *e, struct outcome *o);
/* A paid plan of product began: the user's app-managed trial, if running, is converted. */
enum terr ap_end_trial(struct actx *a, struct outcome *o, const char *product);
enum terr ap_apply_reset(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_expire(struct actx *a, const struct bev *e, struct outcome *o);

/* apply.c */
enum terr ap_apply_notice(struct actx *a, const struct bev *e, struct outcome *o);
enum terr ap_apply_unlink(struct actx *a, const struct bev *e, struct outcome *o);
/* A notification for the user about a subscription (outbox), once per (topic, event). */
enum terr ap_notice(struct actx *a, struct outcome *o, const char *topic, int64_t sub_id,
    const char *event_id);
/* apply_webhook.c: the app's webhook row (user.updated) for an applied event that changed something. */
enum terr ap_webhook(struct actx *a, const struct outcome *o, const struct bev *e);
/* End processing as failed with why; returns TERR_OK (an outcome, not an error). */
enum terr ap_fail(struct outcome *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same with a refusal code for the caller (apply_result.code). */
enum terr ap_refuse(struct outcome *o, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
