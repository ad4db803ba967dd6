/*
 * RevenueCat webhooks: authentication, and reading an event: its id, type,
 * time, store and environment here, its users and other fields through
 * revenuecat_read.c, what its type means through revenuecat_map.c. Field
 * names and values cite event-types-and-fields.mdx (RevenueCat/docs
 * @bf39a9c).
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "providers/revenuecat/revenuecat.h"
#include "providers/revenuecat/revenuecat_map.h"
#include "providers/revenuecat/revenuecat_read.h"

enum terr
revenuecat_verify(const struct cfg_revenuecat *c, const char *header, const char **why)
{
	size_t n = strlen(c->auth);

	if (n == 0) {
		*why = "no webhook authorization configured";
		return TERR_CONFIG;
	}
	if (header == NULL || *header == '\0') {
		*why = "missing Authorization header";
		return TERR_AUTH;
	}
	/* Lengths first (only the length can leak), then every byte in constant time. */
	if (strlen(header) != n || !crypto_ct_eq(header, c->auth, n)) {
		*why = "wrong Authorization header";
		return TERR_AUTH;
	}
	return TERR_OK;
}

enum terr
revenuecat_hook_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	*state = NULL;
	return hook_ready(TERR_OK, c->revenuecat.auth[0] != '\0', "REVENUECAT_WEBHOOK_AUTH", why,
	    whysize);
}

enum terr
revenuecat_hook_verify(void *state, const struct cfg *c, const struct hook_req *q, const char **why)
{
	(void)state;
	return revenuecat_verify(&c->revenuecat, q->sig, why);
}

/* --- reading an event --- */

static void
rc_event_users(struct rctx *x, const cJSON *ev)
{
	const char *ids[RC_IDS_MAX + 2];
	const cJSON *v;
	size_t n = 0;

	if ((v = jget(ev, "app_user_id")) != NULL && !cJSON_IsString(v))
		jr_bad(&x->r, "field app_user_id: expected a string");
	else if (v != NULL)
		ids[n++] = v->valuestring;
	if ((v = jget(ev, "original_app_user_id")) != NULL && !cJSON_IsString(v))
		jr_bad(&x->r, "field original_app_user_id: expected a string");
	else if (v != NULL)
		ids[n++] = v->valuestring;
	n += rc_id_array(x, ev, "aliases", ids + n, RC_IDS_MAX);
	rc_users(x, ids, n);
}

/* environment (purchase_environment on virtual currency events): PRODUCTION or SANDBOX. */
static void
environment(struct rctx *x, const cJSON *ev)
{
	char env[16];

	jr_str(&x->r, ev, "environment", env, sizeof(env));
	if (env[0] == '\0')
		jr_str(&x->r, ev, "purchase_environment", env, sizeof(env));
	/* Absent only on types without a store transaction (TEST, EXPERIMENT_ENROLLMENT, ...). */
	if (env[0] == '\0' || strcmp(env, "PRODUCTION") == 0)
		x->e->live = 1;
	else if (strcmp(env, "SANDBOX") == 0)
		x->e->live = 0;
	else
		jr_bad(&x->r, "field environment: expected PRODUCTION or SANDBOX");
}

enum terr
revenuecat_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize)
{
	struct rctx x;
	const struct rc_type *t;
	const cJSON *ev, *v;
	cJSON *root = NULL;
	const char *jwhy;
	enum terr rc;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.e = e;
	jr_init(&x.r, why, whysize);
	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	text_copy(e->provider, sizeof(e->provider), "revenuecat");
	if ((rc = json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy)) != TERR_OK) {
		snprintf(why, whysize, "%s", jwhy);
		return TERR_INVAL;
	}
	/* Body: {"api_version": "1.0", "event": {...}} (webhooks.md "Events Format"). */
	ev = jobj(root, "event");
	if (ev == NULL || ((v = jget(root, "api_version")) != NULL && !cJSON_IsString(v))) {
		snprintf(why, whysize, "not a RevenueCat event: no \"event\" object");
		rc = TERR_INVAL;
		goto out;
	}
	jr_str(&x.r, ev, "id", e->id, sizeof(e->id));
	jr_str(&x.r, ev, "type", e->type, sizeof(e->type));
	e->at = rc_ms(&x, ev, "event_timestamp_ms");
	if (!x.r.bad &&
	    (e->id[0] == '\0' || !text_id_valid(e->id, ID_MAX - 1) || e->type[0] == '\0' ||
		e->at <= 0))
		jr_bad(&x.r, "event without id, type or event_timestamp_ms");
	jr_str(&x.r, ev, "store", x.store, sizeof(x.store));
	jr_str(&x.r, ev, "period_type", x.period_type, sizeof(x.period_type));
	environment(&x, ev);
	if (x.r.bad) {
		rc = TERR_INVAL;
		goto out;
	}
	snprintf(e->sub.store, sizeof(e->sub.store), "%.15s", x.store);
	text_copy(e->match_provider, sizeof(e->match_provider), revenuecat_store_provider(x.store));
	/* `tally revenuecat sync` names its operator; RevenueCat's own ids never start so. */
	if (strncmp(e->id, "sync:", 5) == 0 && (v = jobj(ev, "tally_sync")) != NULL &&
	    jstr(v, "operator") != NULL)
		snprintf(e->reason, sizeof(e->reason), "revenuecat sync by operator %s",
		    jstr(v, "operator"));

	t = rc_type_of(e->type);
	if (t->users)
		rc_event_users(&x, ev);
	if (!x.r.bad)
		t->map(&x, ev);
	rc = x.r.bad ? TERR_INVAL : TERR_OK;
out:
	cJSON_Delete(root);
	return rc;
}
