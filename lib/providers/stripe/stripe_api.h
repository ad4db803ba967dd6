/*
 * Stripe's REST API, for what the app starts through tally: a Checkout
 * Session for a catalog product (the price from the catalog, the user as
 * client_reference_id and in metadata, so the webhooks that follow find
 * them), and a customer-portal session for a customer already linked.
 * Form-encoded requests with the secret key (STRIPE_API_KEY) over httpc.
 */
#ifndef TALLY_STRIPE_API_H
#define TALLY_STRIPE_API_H

#include <stddef.h>

#include "cfg/cfg.h"

struct stripe_session {
	char id[ID_MAX];
	char url[1024];
	int subscription; /* a Checkout Session in mode subscription (Stripe renews it); 0 else */
};

/*
 * Create a Checkout Session of product p for user (customer: a linked Stripe
 * customer id or NULL). TERR_CONFIG (no key, no price), TERR_IO (no answer,
 * 5xx, 429: retry later), TERR_INVAL (Stripe refused the request), with why.
 */
enum terr stripe_checkout_session(const struct cfg *c, const char *user, const struct product *p,
    const char *customer, struct stripe_session *out, char *why, size_t whysize);

/* A customer-portal session for customer, returning to return_url. Errors as above. */
enum terr stripe_portal_session(const struct cfg *c, const char *customer,
    struct stripe_session *out, char *why, size_t whysize);

/* The Stripe price a product is sold at: stripe_price, else its first match.stripe id; NULL. */
const char *stripe_price_of(const struct product *p);

#endif
