/* apply: what tally sells itself (apply_order.c), for apply.c. */
#ifndef TALLY_APPLY_ORDER_H
#define TALLY_APPLY_ORDER_H

#include "core/apply_sub.h"

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
/*
 * Start or extend a plan tally runs (provider, ext): active to end (0: one
 * product period from now, or from the end of the period running).
 * *fresh = 1 when it gave no access before (its credits are SET, not RESET).
 */
enum terr ap_run_plan(struct actx *a, const struct bev *e, struct outcome *o, const char *provider,
    const char *ext, const struct product *p, int64_t end, struct subst *ss, int *fresh);
enum terr ap_plan_credits(struct actx *a, struct outcome *o, struct subst *ss,
    const struct product *p, int64_t pay_id, int fresh);

#endif
