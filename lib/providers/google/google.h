/*
 * Google Play directly (PROVIDERS.md 7; docs/google.md): the webhook
 * POST /webhooks/google (bin/tally-google) as the provider table runs it,
 * the parser of what it stores, and the account id an app sets on a
 * purchase. The folder:
 *
 *   google_oidc.c   a push's OIDC token verified against Google's keys (pure)
 *   google_keys.c   Google's key set, fetched and cached once per process
 *   google_sa.c     the service account's assertion for the API (pure)
 *   google_api.c    the Android Publisher client (google_api.h)
 *   google_push.c   a push read, tally's envelope written (calls nothing)
 *   google_fetch.c  a purchase read from the API into an envelope
 *   google_map.c    the envelope as a billing event (the mapping's table)
 *   google_hook.c   the webhook's calls (they call out: google_hook.h)
 *   google.c        this header: the parser of the stored body, identity
 *
 * A request, as lib/serve/handler.c runs the "google" row and the calls
 * bin/tally-google names (google_hook.h): verify (the
 * Bearer token: RS256 under a key Google publishes, audience and service
 * account as configured; 401 and nothing stored otherwise), the event id
 * (google_push_event_id: a push already stored is answered as a duplicate
 * before anything is fetched), prepare (the purchase fetched from the API
 * and the envelope made; the API refusing tally's credentials or not
 * answering: 503, nothing stored, Pub/Sub redelivers), parse (google_map.h),
 * apply. An authentic push that cannot be read (not wrapped, bad base64 or
 * JSON, another package) is stored as it came, failed with its reason and
 * alerted, and answered 200: any other answer makes Pub/Sub resend it until
 * its retention ends (7.5).
 */
#ifndef TALLY_GOOGLE_H
#define TALLY_GOOGLE_H

#include <stddef.h>

#include "base/event.h"
#include "cfg/cfg.h"

/* Google's limit on obfuscatedAccountId (BillingFlowParams: 64 characters). */
#define GOOGLE_ACCOUNT_ID_MAX 64

/*
 * A stored body into e (bev_init'ed here; e->raw points into body): an
 * envelope through google_map_envelope; anything else (a push that could
 * not be read) as an event failed with the reason (e->refusal), under the
 * push's event id. Always TERR_OK: nothing authentic is refused.
 */
enum terr google_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize);

/*
 * The obfuscatedExternalAccountId the app sets for user (BillingFlowParams
 * setObfuscatedAccountId), as google.identity says: the user id itself
 * (TERR_TOOBIG past GOOGLE_ACCOUNT_ID_MAX characters), or the lowercase hex
 * HMAC-SHA256 of the user id under GOOGLE_IDENTITY_KEY (64 characters).
 * Into out[size] (at least GOOGLE_ACCOUNT_ID_MAX + 1). TERR_INVAL for a user
 * id that is not one; TERR_CONFIG for hmac without a key.
 *
 * Under hmac, tally finds the user of a purchase by the link (provider
 * "google", kind "google_account", this value): whoever computes the value
 * for a user records that link in the same breath, through the apply path
 * (op.h links.add, source app). The API does this (the purchases the app
 * hands in, and GET /v1/users/{id}, which tells the app the value to set).
 */
enum terr google_account_id(const struct cfg_google *g, const char *user, char *out, size_t size);

#endif
