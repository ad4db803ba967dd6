/* tally-reconcile's RevenueCat pass (reconcile_revenuecat.c), for jobs/reconcile.c. */
#ifndef TALLY_RECONCILE_REVENUECAT_H
#define TALLY_RECONCILE_REVENUECAT_H

#include <stdint.h>

#include "job/job.h"

/*
 * RevenueCat (REVENUECAT_API_KEY): the users of stale revenuecat
 * subscriptions, oldest first: GET /v1/subscribers/{app_user_id} (the
 * user's app_user_id link, else the user id) and the differences applied as
 * `tally revenuecat sync` does (revenuecat_sync_plan, revenuecat_sync_apply).
 */
void reconcile_revenuecat(struct job *j);

#endif
