/*
 * tally's Google Play envelope (google_push.h) as a normalized billing
 * event: the purchase as the Android Publisher API answered, read as the
 * notification it came with says. Sources: developers.google.com
 * android-publisher api-ref v3 (SubscriptionPurchaseV2, ProductPurchase),
 * Play Billing's rtdn-reference (PROVIDERS.md 7.3-7.5).
 *
 * The event: id the envelope's message_id; provider and match_provider
 * "google"; type the notification's name and what the purchase said
 * ("SUBSCRIPTION_RENEWED/ACTIVE", "ONE_TIME_PRODUCT_PURCHASED/PURCHASED",
 * "VOIDED_PURCHASE"; "FETCHED_SUBSCRIPTION/..." without a notification);
 * time fetched_at for a purchase read from the API (the truth as of then:
 * newer reads win), eventTimeMillis for a voided purchase, a refund review
 * and a test; live unless the purchase is a license tester's (testPurchase,
 * purchaseType 0), which google.test_mode accepts as apple.sandbox does.
 * Who: the link "google_account" (obfuscatedExternalAccountId), the user
 * itself when google.identity is user_id, and the link "purchase_token".
 *
 * Subscriptions (subscriptionsv2; lineItems[0]):
 *   sub.id the purchase token; sub.product lineItems[0].productId, or
 *   "<productId>:<basePlanId>" when the catalog lists that under google;
 *   period_end expiryTime, period_start startTime for the first order;
 *   sub.replaces linkedPurchaseToken (an upgrade, downgrade or resubscribe:
 *   the old token's subscription ends, its user carries over)
 *   subscriptionState  ACTIVE -> active (trialing in offerPhase.freeTrial,
 *     trial_end expiryTime), cancel_at_period_end = !autoRenewEnabled (a
 *     prepaid plan: 1); IN_GRACE_PERIOD -> past_due, grace until expiryTime;
 *     ON_HOLD -> past_due whose grace has ended (no access: expiryTime, at
 *     the latest now); PAUSED -> paused; CANCELED -> canceled (access until
 *     expiryTime); EXPIRED and PENDING_PURCHASE_CANCELED -> expired;
 *     PENDING -> incomplete; any other: stored failed
 *   notification 12 (REVOKED) -> revoked now, whatever the API says (even
 *     404 or 410); 5 and 6 (ON_HOLD, IN_GRACE_PERIOD) also notify
 *     payment_failed, once per failed renewal
 *   payment: the order lineItems[0].latestSuccessfulOrderId (else
 *     latestOrderId) in a state with access (active, trialing, canceled,
 *     grace), not for 12: keyed by the order id (a second notification
 *     about one order grants nothing), a renewal when it ends in "..N",
 *     else initial; autoRenewingPlan.recurringPrice (0 in a free trial)
 *   acknowledgementState PENDING, once paid -> task google_ack_sub (token,
 *     the subscription id, deadline startTime + 3 days)
 * One-time products (products):
 *   purchaseState 0 -> a one-off payment of productId, keyed by orderId and
 *   "token:<purchaseToken>", quantity; a pack of the catalog -> task
 *   google_consume while consumptionState is 0, else google_ack_product
 *   while acknowledgementState is 0 (deadline purchaseTimeMillis + 3 days);
 *   1 canceled, 2 pending -> nothing, with the reason
 * Voided purchases: a refund of orderId (a one-time product's also keyed
 *   "token:<purchaseToken>"), full (refundType 1) or partial (2, quantity
 *   based: recorded and alerted, as the core takes a partial refund).
 * A pending refund review and a test: stored, nothing applied.
 * The API's 404 and 400: stored failed with the reason (alerted); 410 (a
 * purchase expired more than 60 days ago): stored, nothing applied.
 *
 * Anything that cannot be read is not an error: e->refusal says why, and
 * the event is stored failed and alerted (Pub/Sub would resend a refused
 * push until its retention ends).
 */
#ifndef TALLY_GOOGLE_MAP_H
#define TALLY_GOOGLE_MAP_H

#include <stddef.h>

#include "base/event.h"
#include "base/json.h"
#include "cfg/cfg.h"

/* The links tally keeps of a Google Play purchase. */
#define GOOGLE_LINK_ACCOUNT "google_account" /* obfuscatedExternalAccountId */
#define GOOGLE_LINK_TOKEN   "purchase_token"
/* A purchase must be acknowledged this long after it was bought, or Google refunds it (7.5). */
#define GOOGLE_ACK_DAYS     3

/*
 * Map the envelope root (parsed; e bev_init'ed by the caller, raw set) into
 * e. What cannot be read or applied is e->refusal, with e->id the envelope's
 * message_id when it has one (else left as the caller set it).
 */
void google_map_envelope(const struct cfg *c, const cJSON *root, struct bev *e);

#endif
