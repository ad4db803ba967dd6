/*
 * Private to the RevenueCat event reader: what each event type means
 * (revenuecat_map.c), for revenuecat_parse.
 */
#ifndef TALLY_REVENUECAT_MAP_H
#define TALLY_REVENUECAT_MAP_H

#include "providers/revenuecat/revenuecat_read.h"

/* One event type and its mapping. */
struct rc_type {
	const char *type; /* NULL: every type not listed (stored, ignored) */
	void (*map)(struct rctx *, const cJSON *);
	int users; /* the event names its user with app_user_id and aliases */
};

/* The mapping of type (never NULL). */
const struct rc_type *rc_type_of(const char *type);

#endif
