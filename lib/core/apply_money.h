/*
 * apply: money (apply_money.c), for apply.c and apply_order.c: payments
 * found and keyed, what they grant (packs, the referrer's reward), refunds
 * and reversals.
 */
#ifndef TALLY_APPLY_MONEY_H
#define TALLY_APPLY_MONEY_H

#include "core/apply_sub.h"

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
enum terr ap_grant_pack(struct actx *a, struct outcome *o, const struct product *p, int64_t pay_id,
    int64_t quantity);
/* A refund of pay_id: the order it paid is refunded. */
enum terr ap_order_refunded(struct actx *a, int64_t pay_id, struct outcome *o);
/* The referrer's reward for a referred user's new payment (never blocks it). */
enum terr ap_referral_reward(struct actx *a, struct outcome *o, int64_t pay_id);

#endif
