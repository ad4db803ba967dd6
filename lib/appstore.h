/*
 * Apple App Store: Server Notifications V2 (JWS verified to Apple's root)
 * and their mapping to normalized billing events. (Being built: issue
 * "Apple App Store".)
 */
#ifndef TALLY_APPSTORE_H
#define TALLY_APPSTORE_H

#include <stddef.h>

#include "cfg.h"
#include "event.h"

/* Map a verified notification body into e. */
enum terr appstore_parse(const struct cfg *c, const char *body, size_t n, struct bev *e,
    char *why, size_t whysize);

#endif
