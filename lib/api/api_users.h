/* The API's user routes (api_users.c; prefix api_route_), for api.c's routing table. */
#ifndef TALLY_API_USERS_H
#define TALLY_API_USERS_H

#include "api/api_req.h"

void api_route_get_user(struct api_req *q);
void api_route_register(struct api_req *q);
void api_route_spend(struct api_req *q);
void api_route_trial(struct api_req *q);
void api_route_promotion(struct api_req *q);
void api_route_links(struct api_req *q);
void api_route_referrer(struct api_req *q);
void api_route_plans(struct api_req *q);
void api_route_token(struct api_req *q);

#endif
