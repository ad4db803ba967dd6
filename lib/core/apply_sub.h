/*
 * apply: subscriptions (apply_sub.c), for apply.c and the aspects above it
 * (apply_app.c, apply_money.c, apply_move.c, apply_order.c).
 */
#ifndef TALLY_APPLY_SUB_H
#define TALLY_APPLY_SUB_H

#include "core/apply_kpi.h"
#include "core/apply_outcome.h"

#define SUB_GRANTS_MAX    64
/*
 * The link that marks a subscription another replaced (bev_sub.replaces):
 * (provider, this kind, its id) -> its user. Written when the replacing
 * event is applied, before the old subscription is known if need be, and
 * read for every event of a subscription: one so marked stays ended.
 */
#define SUB_REPLACED_LINK "replaced_subscription"

/* The subscription an event speaks of, held in memory until written once. */
struct subst {
	int have; /* row is valid */
	int created;
	int dirty;        /* row differs from the stored one */
	int stale;        /* the event is older than the stored state (invariant 3) */
	int plan_changed; /* product differs from the stored one */
	int granted;      /* a payment of this event granted plan credits */
	int replaced;     /* another subscription replaced it: it stays ended, grants nothing */
	struct sub_row row;
	struct kpi_pending kpi; /* what the event said of its money, for the metrics */
};

const struct product *ap_product_of(struct actx *a, const struct bev *e, const char *ext,
    int is_catalog);
const char *ap_iso(int64_t ms, char out[TM_ISO_SIZE]);
void ap_sub_detail(char *out, size_t size, const struct sub_row *before,
    const struct sub_row *after);
enum terr ap_apply_sub(struct actx *a, const struct bev *e, const struct product *p,
    struct subst *ss, struct outcome *o);
enum terr ap_grant_plan(struct actx *a, struct outcome *o, struct subst *ss,
    const struct product *p, int64_t pay_id, int trial, int replace_all);
enum terr ap_finish_sub(struct actx *a, struct outcome *o, struct subst *ss);
/*
 * bev_sub.replaces, once the event's own subscription is applied: the one it
 * replaces (same provider, same user) ends as of the event, as an expiry
 * ends it (access, entitlements and plan credits), and is marked
 * (SUB_REPLACED_LINK) so that no later event of it brings it back.
 */
enum terr ap_apply_replaces(struct actx *a, const struct bev *e, struct outcome *o);

#endif
