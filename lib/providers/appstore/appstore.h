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
 *
 * tally's purchase envelope, made by appstore_purchase from a signed
 * transaction the app hands in (POST /v1/users/{id}/purchases) and stored in
 * the inbox like a notification:
 *   {"tally_purchase": {"user": "<the user it was handed in for>",
 *    "by": "<the API key's id, or \"user\" for a user token>"},
 *    "signedTransactionInfo": "<JWS>"}
 * The user is not signed, so appstore_verify refuses it too; appstore_parse
 * verifies the JWS each time it reads one.
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
 * One StoreKit 2 signed transaction (jws[0..n): JWSTransactionDecodedPayload)
 * the app hands in for user, by the caller by (recorded): tally's purchase
 * envelope written into body (buf_init'ed by the caller, kept until e is
 * applied; e->raw points into it) and mapped into e as appstore_parse maps
 * it when it is read again (replay, rebuild):
 *
 * verified as the notifications' transactions are: to the trusted root at
 * its signedDate (ES256, x5c of three, Apple's marker OIDs), bundleId the
 * configured one, environment Production (only with apple.app_apple_id) or
 * Sandbox; e->live says which, and the caller refuses a Sandbox one while
 * apple.sandbox is off. Event id "purchase:<transactionId>" (the same
 * transaction handed in again is a duplicate), time its signedDate, links
 * app_account_token and original_transaction_id as a notification's. An
 * auto-renewable subscription: the subscription (revoked with a
 * revocationDate, expired when expiresDate is not after signedDate, else
 * trialing or active) and, while it is not over, its payment keyed by
 * transactionId (initial when it is the original transaction, else a
 * renewal); any other type: a one-off payment keyed by transactionId, none
 * when revoked. A webhook about the same transaction later is a duplicate
 * of that payment, never a second grant.
 *
 * e->user: the user the transaction names (its appAccountToken, when
 * apple.account_token_is_user_id and it is a user id), else user. The
 * caller refuses a transaction that names another user.
 *
 * TERR_OK; TERR_CONFIG (apple not configured, a root unreadable, Production
 * without apple.app_apple_id), TERR_INVAL (not a signed transaction tally
 * can read), TERR_AUTH (forged or tampered: algorithm, chain, OIDs,
 * signature), TERR_STALE (the chain is not valid at its signedDate),
 * TERR_CONFLICT (another app's, or an environment tally does not serve),
 * TERR_TOOBIG (past body's bound); why says which.
 */
enum terr appstore_purchase(const struct cfg *c, const char *user, const char *by, const char *jws,
    size_t n, struct buf *body, struct bev *e, char *why, size_t whysize);

/*
 * Apple's price (JWSTransactionDecodedPayload.price: milliunits of currency)
 * in the currency's smallest unit (ISO 4217 exponent), into *minor.
 * TERR_INVAL when negative or past MONEY_MINOR_MAX (money_rescale), *minor
 * untouched and *max_milli the largest price that would fit.
 */
enum terr appstore_minor_units(int64_t milliunits, const char *currency, int64_t *minor,
    int64_t *max_milli);

#endif
