/*
 * Private to the app-facing API (lib/api/api*.c): one request, and the
 * largest body the API reads. Below every other file of the API: the routing
 * (api.c), the routes (api_users.c, api_checkout.c, api_metrics.c, api_kpi.c) and what
 * the routes share (api_action.c) all take a struct api_req. api.h includes
 * it for API_BODY_MAX, the body limit handlers/api.c gives the accept loop.
 */
#ifndef TALLY_API_REQ_H
#define TALLY_API_REQ_H

#include "base/buf.h"
#include "base/event.h"
#include "base/json.h"
#include "base/tally_limits.h"
#include "core/apply.h"
#include "serve/handler.h"

/* The largest request body the API reads. */
#define API_BODY_MAX (16 * 1024)

struct google_api;

/* What api_init makes once for the process, shared by its threads (each member thread-safe). */
struct api_state {
	struct google_api *google; /* the Android Publisher client; NULL: google_why says why */
	char google_why[256];
};

/* One request. */
struct api_req {
	const struct api_state *st;
	struct svc *sv;
	struct http_req *r;
	const struct cfg *c;
	char user[USER_ID_MAX + 1];
	cJSON *body;
	char who[40]; /* the API key's id: recorded as the event's operator */
	unsigned scopes;
	int user_token;    /* the user's own token, not a key: answers take the user view */
	struct buf evbody; /* the event's body while it is applied */
	struct bev *e;
	struct apply_result res;
	/*
	 * The id this request's event had before the parts of ids were escaped
	 * (text_key), when it differs: the user or the key holds ':' or '%'.
	 */
	char legacy[ID_MAX];
};

#endif
