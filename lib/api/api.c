/*
 * The app-facing API's entry point: the routing table (each route's method,
 * path, scope and whether a user token may call it), credentials, the JSON
 * body, and the request's life. The routes live in api_users.c,
 * api_checkout.c, api_purchases.c, api_metrics.c (GET /metrics) and api_kpi.c
 * (GET /v1/metrics).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_checkout.h"
#include "api/api_kpi.h"
#include "api/api_metrics.h"
#include "api/api_purchases.h"
#include "api/api_req.h"
#include "api/api_users.h"
#include "api/auth.h"
#include "base/json.h"
#include "base/log.h"
#include "base/text.h"
#include "http/httpc.h"
#include "providers/google/google_api.h"
#include "store/store_access.h"

enum terr
api_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct api_state *st;

	(void)why;
	(void)whysize;
	*state = NULL;
	httpc_init(); /* checkout calls Stripe and the direct providers; purchases Google */
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return TERR_NOMEM;
	/*
	 * Google Play's purchases are read from its API: one client for the
	 * process (its access token shared). Without it only that store's
	 * purchases are refused (503), never the rest of the API.
	 */
	if (!c->google.enabled)
		text_copy(st->google_why, sizeof(st->google_why),
		    "google is not configured (the google section)");
	else if (c->google.sa_file[0] == '\0')
		text_copy(st->google_why, sizeof(st->google_why),
		    "GOOGLE_SERVICE_ACCOUNT_FILE is not set");
	else if (google_api_new(c, &st->google, st->google_why, sizeof(st->google_why)) != TERR_OK)
		log_msg(LOG_ERROR, "Google Play's API client cannot be made", st->google_why);
	*state = st;
	return TERR_OK;
}

void
api_fini(void *state)
{
	struct api_state *st = state;

	if (st == NULL)
		return;
	google_api_free(st->google);
	free(st);
}

/* --- routing --- */

static const struct route {
	const char *method;
	const char *action; /* after /v1/users/{id}: "" for the user itself */
	unsigned scope;     /* the key scope it needs (admin has every scope) */
	int jwt;            /* a user token may call it */
	void (*fn)(struct api_req *q);
} routes[] = {
	{ "GET", "", AUTH_READ, 1, api_route_get_user },
	{ "POST", "", AUTH_ADMIN, 0, api_route_register },
	{ "POST", "spend", AUTH_SPEND, 0, api_route_spend },
	{ "POST", "trial", AUTH_ADMIN, 0, api_route_trial },
	{ "POST", "promotions", AUTH_ADMIN, 0, api_route_promotion },
	{ "POST", "links", AUTH_ADMIN, 0, api_route_links },
	{ "POST", "referrer", AUTH_ADMIN, 0, api_route_referrer },
	{ "POST", "plans", AUTH_ADMIN, 0, api_route_plans },
	{ "POST", "checkout", AUTH_ADMIN, 0, api_route_checkout },
	{ "POST", "checkout/verify", AUTH_ADMIN, 0, api_route_checkout_verify },
	{ "POST", "purchases", AUTH_PURCHASE, 1, api_route_purchases },
	{ "POST", "token", AUTH_SPEND, 0, api_route_token },
};

/* Credentials for route (and user): 0, or the answer was sent (401 / 403 / 503). */
static int
authorize(struct api_req *q, unsigned scope, int jwt_ok)
{
	const char *authz = http_header(q->r, "Authorization"), *why = "";
	struct store *s;
	struct key_row k;
	enum terr rc;

	if (jwt_ok && authz != NULL && !auth_is_key(authz)) {
		rc = auth_jwt_check(&q->c->api, authz, q->user, q->sv->now, &why);
		if (rc == TERR_OK) {
			text_copy(q->who, sizeof(q->who), "user");
			q->user_token = 1;
			return 0;
		}
		/* A good token of another user: who it is is known, this is not its user. */
		if (rc == TERR_CONFLICT) {
			http_error(q->r, 403, "forbidden", why);
			log_msg(LOG_WARN, "refused user token", why);
			return 1;
		}
		http_error(q->r, 401, "unauthorized", why);
		log_msg(LOG_WARN, "refused user token", why);
		return 1;
	}
	if ((s = svc_store(q->sv)) == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return 1;
	}
	rc = auth_key_check(s, authz, &k, &q->scopes, &why);
	if (rc == TERR_AUTH) {
		http_error(q->r, 401, "unauthorized", why);
		log_msg(LOG_WARN, "refused API key", why);
		return 1;
	}
	if (rc != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "credentials cannot be checked");
		return 1;
	}
	if (!(q->scopes & (scope | AUTH_ADMIN))) {
		char msg[96], name[48];
		auth_scopes_str(scope, name, sizeof(name));
		snprintf(msg, sizeof(msg), "this key lacks the %s scope", name);
		http_error(q->r, 403, "forbidden", msg);
		log_msg(LOG_WARN, "refused API key: scope", k.id);
		return 1;
	}
	text_copy(q->who, sizeof(q->who), k.id);
	return 0;
}

/* Read and parse a POST's JSON object body; 0, or the answer was sent. */
static int
read_body(struct api_req *q)
{
	const char *jwhy = NULL;
	int status;

	if ((status = http_read_body(q->r, API_BODY_MAX)) != 0) {
		http_error(q->r, status, status == 413 ? "body_too_large" : "bad_body", q->r->why);
		return 1;
	}
	if (q->r->body.len == 0) {
		q->body = cJSON_CreateObject();
		return q->body == NULL;
	}
	if (json_parse(q->r->body.p, q->r->body.len, 8, &q->body, &jwhy) != TERR_OK ||
	    !cJSON_IsObject(q->body)) {
		http_error(q->r, 400, "malformed_json",
		    jwhy != NULL ? jwhy : "expected a JSON object");
		return 1;
	}
	return 0;
}

void
api_serve(void *state, struct svc *sv, struct http_req *r)
{
	struct api_req q;
	char path[512], *rest, *slash;
	const char *method = http_method(r), *action;
	size_t i;
	int method_known = 0;

	memset(&q, 0, sizeof(q));
	q.st = state;
	q.sv = sv;
	q.r = r;
	q.c = sv->cfg;
	http_path(r, path, sizeof(path));
	if (strcmp(path, "/metrics") == 0) {
		text_copy(sv->label, sizeof(sv->label), "metrics");
		if (strcmp(method, "GET") != 0)
			http_error_h(r, 405, "Allow: GET\r\n", "method_not_allowed", "use GET");
		else if (authorize(&q, AUTH_ADMIN, 0) == 0)
			api_route_metrics(&q);
		return;
	}
	if (strcmp(path, "/v1/metrics") == 0) {
		text_copy(sv->label, sizeof(sv->label), "GET v1/metrics");
		if (strcmp(method, "GET") != 0)
			http_error_h(r, 405, "Allow: GET\r\n", "method_not_allowed", "use GET");
		else if (authorize(&q, AUTH_ADMIN, 0) == 0)
			api_route_kpi(&q);
		return;
	}
	if (strncmp(path, "/v1/users/", 10) != 0 || path[10] == '\0') {
		http_error(r, 404, "not_found", "no such endpoint");
		return;
	}
	rest = path + 10;
	if ((slash = strchr(rest, '/')) != NULL) {
		*slash = '\0';
		action = slash + 1;
	} else
		action = "";
	if (!text_id_valid(rest, USER_ID_MAX)) {
		http_error(r, 404, "not_found", "no such endpoint");
		return;
	}
	text_copy(q.user, sizeof(q.user), rest);
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (strcmp(routes[i].action, action) != 0)
			continue;
		method_known = 1;
		if (strcmp(routes[i].method, method) == 0)
			break;
	}
	if (i == sizeof(routes) / sizeof(routes[0])) {
		if (method_known)
			http_error_h(r, 405,
			    action[0] == '\0' ? "Allow: GET, POST\r\n" : "Allow: POST\r\n",
			    "method_not_allowed", "method not allowed here");
		else
			http_error(r, 404, "not_found", "no such endpoint");
		return;
	}
	snprintf(sv->label, sizeof(sv->label), "%s %s", method,
	    action[0] != '\0' ? action : "user");
	if (authorize(&q, routes[i].scope, routes[i].jwt) != 0)
		return;
	if (strcmp(method, "POST") == 0) {
		if (read_body(&q) != 0)
			goto out;
		if ((q.e = malloc(sizeof(*q.e))) == NULL) {
			http_error(r, 503, "out_of_memory", "retry");
			goto out;
		}
		buf_init(&q.evbody, API_BODY_MAX + 4096);
	}
	routes[i].fn(&q);
out:
	cJSON_Delete(q.body);
	if (q.e != NULL)
		buf_release(&q.evbody);
	free(q.e);
}
