/*
 * `tally revenuecat sync` and tally-reconcile's RevenueCat pass
 * (revenuecat_sync.c): RevenueCat's view of a customer (revenuecat_api.h)
 * against tally's, and the events that bring tally to it. Here and not in
 * lib/providers/revenuecat/ because it reads storage and applies.
 */
#ifndef TALLY_REVENUECAT_SYNC_H
#define TALLY_REVENUECAT_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"
#include "providers/revenuecat/revenuecat_api.h"
#include "store/store.h"

#define RC_CHANGES_MAX 96
#define RC_BODY_MAX    2048

/* One difference between RevenueCat's view and tally's, and the event that mends it. */
struct rc_change {
	char what[16];          /* "subscription", "purchase", "entitlement" */
	char product[ID_MAX];   /* RevenueCat's product id, or the entitlement */
	char txn[ID_MAX];       /* store transaction id, "" for entitlements */
	char tally[24];         /* tally's state ("missing" when tally has none) */
	char revenuecat[24];    /* RevenueCat's state */
	char event_type[32];    /* the RevenueCat event type applied; "" = reported only */
	char event_id[ID_MAX];  /* "sync:<user>:<txn>:<what>": a second sync finds it stored */
	char note[160];         /* why, for people */
	char body[RC_BODY_MAX]; /* the synthetic event, in RevenueCat's webhook shape */
	/* After revenuecat_sync_apply: */
	int done;
	int duplicate;
	enum inbox_state state;
	char reason[REASON_MAX];
};

struct rc_sync {
	char user[USER_ID_MAX +
	    1];        /* the tally user compared (the one named, or who it merged into) */
	int64_t as_of; /* RevenueCat's request time: every synthetic event's time */
	struct rc_change changes[RC_CHANGES_MAX];
	size_t n;
	size_t dropped; /* differences past RC_CHANGES_MAX (run sync again) */
};

/*
 * Compare RevenueCat's view rc of app user id user with tally's (read through
 * store, never written) and plan the events that bring tally to RevenueCat's
 * view: missed purchases and renewals, expirations, refunds, cancellations
 * and their reversal, billing issues, packs. Entitlement differences that no
 * event explains are reported only (tally's entitlements follow its catalog).
 * operator_ names who ran it (in each event's reason). Allocate out.
 * Returns only storage errors and TERR_TOOBIG.
 */
enum terr revenuecat_sync_plan(struct store *s, const struct cfg *c, const char *user,
    const struct rc_subscriber *rc, const char *operator_, struct rc_sync *out);

/*
 * Apply the planned events in order, through revenuecat_parse and apply (one
 * transaction), recording what became of each in its change. Returns the
 * storage error when nothing was committed.
 */
enum terr revenuecat_sync_apply(struct store *s, const struct cfg *c, struct rc_sync *plan,
    int64_t now);

#endif
