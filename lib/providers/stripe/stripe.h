/*
 * Stripe: webhook signature verification and the mapping of Stripe events
 * to normalized billing events. Only this module knows Stripe's wire format.
 *
 * Signature (docs.stripe.com/webhooks#verify-manually; stripe-node
 * Webhooks.constructEvent): the Stripe-Signature header is a comma-separated
 * list of key=value items; t is the Unix time of signing; each v1 is the
 * lowercase hex HMAC-SHA256, keyed with the endpoint secret as given
 * ("whsec_..." included), of "<t>.<raw body>". Several v1 items appear while
 * a secret is rolled; any one matching suffices. Every other scheme (v0) is
 * ignored. The timestamp must be within the tolerance of now (300 s by
 * default); unlike Stripe's SDKs we also refuse timestamps that far in the
 * future.
 *
 * API versions: events rendered in any version from 2020-08-27 up to and
 * including 2025-03-31.basil and later basil/clover versions are read. Where
 * basil moved a field (subscription period to items, invoice subscription to
 * parent.subscription_details, line price to pricing.price_details, removal
 * of invoice.payment_intent/charge and charge.invoice), both shapes are read.
 */
#ifndef TALLY_STRIPE_H
#define TALLY_STRIPE_H

#include <stddef.h>
#include <stdint.h>

#include "base/event.h"
#include "cfg/cfg.h"
#include "crypto/crypto.h"
#include "providers/hook.h"

struct stripe_verifier {
	struct hmac_key keys[SECRETS_MAX];
	size_t n;
	int64_t tolerance; /* ms */
};

/* Prepare one HMAC key per configured secret. n == 0 when none is configured. */
enum terr stripe_verifier_init(struct stripe_verifier *v, const struct cfg_stripe *c);
void stripe_verifier_release(struct stripe_verifier *v);

/*
 * Verify header (the Stripe-Signature value, NULL when absent) over
 * body[0..n) at now (ms). TERR_OK; TERR_AUTH (missing header, no v1 entry,
 * or no match); TERR_STALE (timestamp outside tolerance); TERR_INVAL
 * (malformed header). *why is a static description for the client.
 */
enum terr stripe_verify(const struct stripe_verifier *v, const char *header, const char *body,
    size_t n, int64_t now, const char **why);

/*
 * The webhook's side for the provider table (hook.h): init prepares a
 * stripe_verifier of the configured secrets (TERR_CONFIG,
 * "STRIPE_WEBHOOK_SECRET is not set", when none is), fini frees it, verify is
 * stripe_verify over the request's Stripe-Signature and body.
 */
enum terr stripe_hook_init(void **state, const struct cfg *c, char *why, size_t whysize);
void stripe_hook_fini(void *state);
enum terr stripe_hook_verify(void *state, const struct cfg *c, const struct hook_req *q,
    const char **why);

/*
 * Map a verified event body into e. TERR_INVAL with why when the body is not
 * a Stripe event or a field has the wrong type. Event types tally does not
 * act on map to an event without aspects and a note (stored, acknowledged).
 */
enum terr stripe_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize);

#endif
