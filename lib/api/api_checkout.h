/*
 * The API's checkout routes (api_checkout.c), for api.c's routing table:
 * POST checkout (a Stripe session or portal, or a direct provider's order
 * through checkout.h) and POST checkout/verify (Razorpay Checkout's callback).
 */
#ifndef TALLY_API_CHECKOUT_H
#define TALLY_API_CHECKOUT_H

#include "api/api_req.h"

void api_route_checkout(struct api_req *q);
void api_route_checkout_verify(struct api_req *q);

#endif
