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
#include "providers/appstore/appstore_verify.h"

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
