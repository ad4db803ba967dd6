/*
 * RevenueCat's names for users, stores and products, and what they are in
 * tally: the link kind of its app user ids, its anonymous ids, the catalog
 * provider of each store, the catalog product of a product id.
 */
#ifndef TALLY_REVENUECAT_IDS_H
#define TALLY_REVENUECAT_IDS_H

#include <stddef.h>

#include "cfg/cfg.h"

/* The link kind under which RevenueCat's app user ids (and aliases) find a tally user. */
#define RC_LINK_KIND   "app_user_id"
/* RevenueCat's anonymous ids (SDK "anonymous app user ids"). */
#define RC_ANON_PREFIX "$RCAnonymousID:"

/* The catalog's provider name for a RevenueCat store ("PLAY_STORE" -> "google"), or "". */
const char *revenuecat_store_provider(const char *store);

/*
 * A Google Play id "<subscription>:<base plan>" that the catalog lists under
 * neither "google" nor "revenuecat" but whose subscription id it lists: that
 * subscription id, written into sub[size]; else id itself.
 */
const char *revenuecat_play_id(const struct cfg *c, const char *store, const char *id, char *sub,
    size_t size);

/*
 * The catalog product of a RevenueCat product id bought in store: its id
 * under match.<store provider>, else under match.revenuecat; a Google Play
 * "<subscription>:<base plan>" id not listed whole falls back to the
 * subscription id. NULL when the catalog has none.
 */
const struct product *revenuecat_product(const struct cfg *c, const char *store,
    const char *product_id);

#endif
