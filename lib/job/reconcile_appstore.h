/* tally-reconcile's App Store pass (reconcile_appstore.c), for jobs/reconcile.c. */
#ifndef TALLY_RECONCILE_APPSTORE_H
#define TALLY_RECONCILE_APPSTORE_H

#include <stdint.h>

#include "job/job.h"

/*
 * Apple (apple.key_id, issuer_id, APPLE_PRIVATE_KEY): Get Notification
 * History for the window (as Stripe's, at most 180 days back), every page
 * fetched and verified first, those the inbox lacks applied; Sandbox too when
 * apple.sandbox. Then stale apple subscriptions: Get All Subscription
 * Statuses of each (Sandbox's for a Sandbox one), every answer fetched and
 * verified first; the item of its original transaction becomes tally's
 * status envelope (appstore.h) and, when its state differs, is applied as
 * "status:<original id>:<16 hex of SHA-256>". The "apple" line covers
 * Production's notifications and every status.
 */
void reconcile_apple(struct job *j, int64_t last_ok);

#endif
