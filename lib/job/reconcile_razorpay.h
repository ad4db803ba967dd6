/* tally-reconcile's Razorpay pass (reconcile_razorpay.c), for jobs/reconcile.c. */
#ifndef TALLY_RECONCILE_RAZORPAY_H
#define TALLY_RECONCILE_RAZORPAY_H

#include "job/job.h"

/*
 * Razorpay (razorpay.key_id, RAZORPAY_KEY_SECRET): tally's pending razorpay
 * orders (order_...), the oldest first: GET /v1/orders/{id} and
 * /v1/orders/{id}/payments; each captured payment applied as the order.paid
 * webhook, id "checkout:<payment id>" (the Checkout callback's). Then stale
 * razorpay subscriptions (sub_...): GET /v1/subscriptions/{id}; when
 * Razorpay's status differs, applied as subscription.<status>, id
 * "reconcile:<sub>:<16 hex of SHA-256 of the entity>".
 */
void reconcile_razorpay(struct job *j);

#endif
