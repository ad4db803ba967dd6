/* tally-reconcile's Stripe pass (reconcile_stripe.c), for jobs/reconcile.c. */
#ifndef TALLY_RECONCILE_STRIPE_H
#define TALLY_RECONCILE_STRIPE_H

#include <stdint.h>

#include "job/job.h"

/*
 * Stripe (STRIPE_API_KEY): the events Stripe kept since the window's start
 * (--since, else last_ok less an hour, at most 30 days back): every page
 * fetched first, then those the inbox lacks applied oldest first as their
 * webhook (same ids, so never twice). Then stale stripe subscriptions:
 * GET /v1/subscriptions/{id} of each, every one fetched first; when Stripe's
 * state differs, applied as customer.subscription.updated, id
 * "reconcile:<sub>:<16 hex of SHA-256 of the subscription>".
 */
void reconcile_stripe(struct job *j, int64_t last_ok);

#endif
