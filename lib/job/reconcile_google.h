/* tally-reconcile's Google Play pass (reconcile_google.c), for jobs/reconcile.c. */
#ifndef TALLY_RECONCILE_GOOGLE_H
#define TALLY_RECONCILE_GOOGLE_H

#include <stdint.h>

#include "job/job.h"

/*
 * A subscription whose end (period end; grace end when past_due, trial end
 * when trialing) is at most this far ahead of the run is read again: the
 * run every 6 h then sees it before grace-expiry ends it on tally's word
 * alone (a restart or a recovery whose push was lost).
 */
#define GOOGLE_RECONCILE_NEAR_MS      (86400LL * 1000)
/* Pages of voidedpurchases.list (GOOGLE_VOIDED_PAGE each) read in one run at most. */
#define GOOGLE_RECONCILE_VOIDED_PAGES 100
/* Voided purchases kept to apply in one run at most (also bounded by --limit). */
#define GOOGLE_RECONCILE_VOIDED_MAX   1000

/*
 * Google Play (google section and GOOGLE_SERVICE_ACCOUNT_FILE):
 *
 * 1. Voided purchases: voidedpurchases.list over the last 30 days (every
 *    page read before anything is applied). Each one whose payment tally
 *    knows (by its orderId, or "token:<purchaseToken>" for a one-time
 *    product) and has not refunded yet is applied as the webhook's
 *    voidedPurchaseNotification would have been: tally's envelope of that
 *    notification (call "none"; the VoidedPurchase as Google listed it under
 *    "purchase"), event id "voided:<orderId>:<voidedTimeMillis>" (crypto_key),
 *    so a second run, or the notification arriving later, revokes nothing
 *    twice.
 *
 * 2. Drift: Google subscriptions that may have changed without a push
 *    tally received: active or canceled whose period ends, past_due whose
 *    grace ends, trialing whose trial ends, at most GOOGLE_RECONCILE_NEAR_MS
 *    after the run's clock, the oldest end first, at most --limit's room
 *    (RECONCILE_STALE_MAX). Each is read again (subscriptionsv2.get) into
 *    tally's envelope (notification null) with id
 *    "reconcile:<token>:<16 hex of SHA-256 of Google's answer>" (the same
 *    answer twice is one event) and, when its state, period end, ending or
 *    latest order differs from tally's, applied (newest wins by the time it
 *    was read; the order's payment is granted once by its key). 404, 410
 *    and 400 are recorded as "reconcile:<token>:<status>" (stored as the
 *    webhook stores them) and the subscription is not read again until its
 *    state changes. Each answer is applied as it comes (one purchase each,
 *    the whole truth of it): 429, 5xx or no answer stop the reading, the
 *    rest is left for the next run; 401 and 403 (tally's credentials or a
 *    Play Console permission) stop it too, with an alert once a day. Either
 *    makes the "google" line an error (the run exits 1).
 */
void reconcile_google(struct job *j);

#endif
