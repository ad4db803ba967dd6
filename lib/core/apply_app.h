/*
 * apply: tally's own events (apply_app.c), for apply.c; ap_end_trial for
 * apply_money.c too.
 */
#ifndef TALLY_APPLY_APP_H
#define TALLY_APPLY_APP_H

#include "core/apply_outcome.h"

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

#endif
