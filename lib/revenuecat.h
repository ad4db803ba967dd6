/*
 * RevenueCat: webhook authentication and the mapping of RevenueCat events
 * (and through them Google Play's) to normalized billing events.
 * (Being built: issue "RevenueCat webhooks".)
 */
#ifndef TALLY_REVENUECAT_H
#define TALLY_REVENUECAT_H

#include <stddef.h>

#include "cfg.h"
#include "event.h"

/*
 * Map a verified (authenticated) event body into e. TERR_INVAL with why
 * when the body is not a RevenueCat event or a field has the wrong type.
 */
enum terr revenuecat_parse(const struct cfg *c, const char *body, size_t n, struct bev *e,
    char *why, size_t whysize);

#endif
