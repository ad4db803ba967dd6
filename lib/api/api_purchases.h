/*
 * The API's purchases route (api_purchases.c): POST /v1/users/{id}/purchases,
 * a purchase the app hands in right after the store made it, for api.c's
 * routing table.
 */
#ifndef TALLY_API_PURCHASES_H
#define TALLY_API_PURCHASES_H

#include "api/api_req.h"

void api_route_purchases(struct api_req *q);

#endif
