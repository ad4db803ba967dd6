/*
 * The parsers of every provider, by name, so a stored event can be turned
 * into a struct bev again (replay, orphan resolution, rebuild) without its
 * handler. A body in the inbox was verified when it arrived; it is parsed
 * here, not verified again, with one exception: the App Store status
 * envelope that reconciliation stores (appstore.h) carries Apple's signed
 * JWS, and its parser verifies them each time, at their own signedDate.
 */
#ifndef TALLY_PROVIDER_H
#define TALLY_PROVIDER_H

#include <stddef.h>

#include "base/event.h"
#include "cfg/cfg.h"

/*
 * Parse body[0..n) of provider into e (bev_init'ed here; e->raw points into
 * body, which must outlive e). TERR_INVAL with why when it cannot be parsed,
 * TERR_NOTFOUND when no parser is known for provider.
 */
enum terr provider_parse(const struct cfg *c, const char *provider, const char *body, size_t n,
    struct bev *e, char *why, size_t whysize);

/* 1 if events of provider in test/sandbox mode are accepted by the configuration. */
int provider_test_allowed(const struct cfg *c, const char *provider);
/* The config key that provider_test_allowed reads ("stripe.test_mode"), or "" for none. */
const char *provider_test_setting(const char *provider);

/*
 * What provider calls the id of an order made there (the provider_ref of an
 * order: a Razorpay "order", a CryptoBot "invoice"; "ref" for the others), so
 * that a stored reason names it in the provider's own words. Never NULL.
 */
const char *provider_ref_noun(const char *provider);

#endif
