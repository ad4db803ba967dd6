/*
 * Private to the RevenueCat event reader (revenuecat_read.c, for
 * revenuecat_map.c and revenuecat.c): the parse context and the field
 * readers the per-type mappings share (prefix rc_). Every reader marks the
 * event bad (x->bad, why) on a field of the wrong type instead of returning
 * an error.
 */
#ifndef TALLY_REVENUECAT_READ_H
#define TALLY_REVENUECAT_READ_H

#include <stddef.h>
#include <stdint.h>

#include "base/event.h"
#include "base/jread.h"
#include "base/json.h"
#include "cfg/cfg.h"

/* App user ids read from one event (app_user_id, original, aliases; transfer lists). */
#define RC_IDS_MAX 64

struct rctx {
	const struct cfg *c;
	struct bev *e;
	struct jread r; /* a field had the wrong type: r.bad, the first reason in why */
	char store[32];
	char period_type[16];
};

/* Why an event applies nothing (e->note). */
void rc_note(struct rctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A *_ms field (absent or null: 0). */
int64_t rc_ms(struct rctx *x, const cJSON *o, const char *key);
/* A price in the smallest unit of currency, rounded (absent: 0). */
int64_t rc_money(struct rctx *x, const cJSON *o, const char *key, const char *currency);
/* The array of strings at key: pointers into the tree, at most max. */
size_t rc_id_array(struct rctx *x, const cJSON *o, const char *key, const char **ids, size_t max);
/* ids of one person: the links, the user (identified first), merge_links. */
void rc_users(struct rctx *x, const char *const *ids, size_t n);
/* BEV_SUB from the lifecycle fields, in state st with cancel_at_period_end cancel. */
void rc_sub_fields(struct rctx *x, const cJSON *ev, enum sub_state st, int cancel);
/* BEV_PAY of kind, keyed on transaction_id. */
void rc_pay_fields(struct rctx *x, const cJSON *ev, enum pay_kind kind);
/* period_type TRIAL. */
int rc_trial(struct rctx *x);
/* A promotional grant (store or period_type PROMOTIONAL). */
int rc_promotional(struct rctx *x);

#endif
