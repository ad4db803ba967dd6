/*
 * Apple App Store: App Store Server Notifications V2 verified to Apple's root
 * (x5c.h) and mapped to normalized billing events. Only this module knows
 * Apple's notification format (PROVIDERS.md section 1; Apple's
 * app-store-server-library models).
 *
 * A notification is {"signedPayload": "<JWS>"}; its payload names the type,
 * subtype, notificationUUID (the dedup key), signedDate, and in data the app
 * (bundleId, appAppleId), the environment and two nested JWS: the
 * transaction (transactionId: the business key of a payment;
 * originalTransactionId: the subscription) and the renewal info.
 *
 * tally's status envelope, made by tally-reconcile from Get All Subscription
 * Statuses (appstore_api.h) and stored in the inbox like a notification:
 *   {"tally_status": {"status": 1..5, "originalTransactionId": "...",
 *    "environment": "Production"|"Sandbox"},
 *    "signedTransactionInfo": "<JWS>", "signedRenewalInfo": "<JWS>"}
 * Apple does not sign the status, so appstore_verify refuses any body
 * carrying tally_status (the webhook answers 400); appstore_parse verifies
 * both JWS each time it reads one (they are what Apple did sign).
 */
#ifndef TALLY_APPSTORE_H
#define TALLY_APPSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/event.h"
#include "cfg/cfg.h"
#include "providers/hook.h"

/* Apple's marker extensions (PROVIDERS.md 1.2, step 4). */
#define APPLE_LEAF_OID         "1.2.840.113635.100.6.11.1"
#define APPLE_INTERMEDIATE_OID "1.2.840.113635.100.6.2.1"

struct appstore_verifier;

/*
 * A verifier trusting the configured roots (apple.roots), or Apple Root CA -
 * G3 shipped with tally. TERR_CONFIG with why when apple is not configured
 * or a root cannot be read. Free with appstore_verifier_free.
 */
enum terr appstore_verifier_new(struct appstore_verifier **out, const struct cfg *c, char *why,
    size_t whysize);
void appstore_verifier_free(struct appstore_verifier *v);

/*
 * Verify a signedPayload and the JWS nested in it, each to the trusted root
 * at its own signedDate, and that it is addressed to this app: bundleId (and
 * appAppleId for Production) equal to the configuration, the transaction of
 * the same app and environment. TERR_INVAL malformed, TERR_AUTH forged or
 * tampered, TERR_STALE a chain not valid at the signed date, TERR_CONFLICT
 * addressed to another app; *why says which.
 */
enum terr appstore_verify_signed(struct appstore_verifier *v, const char *jws, size_t n,
    int64_t now, const char **why);

/* The same for a notification body {"signedPayload": "..."}. */
enum terr appstore_verify(struct appstore_verifier *v, const char *body, size_t n, int64_t now,
    const char **why);

/*
 * The webhook's side for the provider table (hook.h): init is
 * appstore_verifier_new, fini appstore_verifier_free, verify appstore_verify
 * of the request's body at its time.
 */
enum terr appstore_hook_init(void **state, const struct cfg *c, char *why, size_t whysize);
void appstore_hook_fini(void *state);
enum terr appstore_hook_verify(void *state, const struct cfg *c, const struct hook_req *q,
    const char **why);

/*
 * Verify one signed transaction or renewal info (the API's answers) and
 * return its payload; TERR_CONFLICT when it names another app's bundleId.
 */
enum terr appstore_verify_jws(struct appstore_verifier *v, const char *jws, size_t n, int64_t now,
    struct buf *payload, const char **why);

/* Chains verified in full and from the cache. */
void appstore_stats(struct appstore_verifier *v, int64_t *full, int64_t *cached);

/*
 * Map a notification body (verified when it arrived; not verified again)
 * into e. TERR_INVAL with why when it cannot be read.
 *
 * A status envelope is verified here, every time (apply, replay, rebuild):
 * both JWS to the trusted root at their own signedDate (a verifier kept for
 * the process, with its chain cache), the transaction of this bundleId, both
 * of the envelope's environment and originalTransactionId, Production only
 * with apple.app_apple_id (the notifications' rules); then mapped as a
 * notification of that status (state_from_status; a revocationDate revokes;
 * status 1 carries the transaction's payment, keyed by transactionId). Id
 * "status:<originalTransactionId>:<the first 16 bytes of SHA-256 of the two
 * JWS and the status, in hex>", time the newer signedDate. Anything that does not verify:
 * TERR_INVAL with why.
 */
enum terr appstore_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize);

/*
 * Apple's price (JWSTransactionDecodedPayload.price: milliunits of currency)
 * in the currency's smallest unit (ISO 4217 exponent), into *minor.
 * TERR_INVAL when negative or past MONEY_MINOR_MAX (money_rescale), *minor
 * untouched and *max_milli the largest price that would fit.
 */
enum terr appstore_minor_units(int64_t milliunits, const char *currency, int64_t *minor,
    int64_t *max_milli);

#endif
