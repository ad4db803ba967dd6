/*
 * Google Play's webhook calls (google_hook.h): the push's token verified
 * against Google's keys (cached for the process), the purchase it names
 * read from the API into tally's envelope.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "providers/google/google_api.h"
#include "providers/google/google_fetch.h"
#include "providers/google/google_hook.h"
#include "providers/google/google_keys.h"
#include "providers/google/google_tokcache.h"

struct google_hook {
	struct google_keycache *keys;
	struct google_tokcache *tokens; /* verified push tokens (one RSA verify per token) */
	struct google_api *api;
};

void
google_hook_fini(void *state)
{
	struct google_hook *h = state;

	if (h == NULL)
		return;
	google_keycache_free(h->keys);
	google_tokcache_free(h->tokens);
	google_api_free(h->api);
	free(h);
}

enum terr
google_hook_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct google_hook *h;
	enum terr rc;

	*state = NULL;
	if (!c->google.enabled)
		return hook_ready(TERR_OK, 0, "the config's google section", why, whysize);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return TERR_NOMEM;
	*state = h;
	if (google_tokcache_new(&h->tokens) != TERR_OK)
		return TERR_NOMEM;
	if ((rc = google_keycache_new(&c->http, c->google.certs_url, &h->keys)) != TERR_OK) {
		snprintf(why, whysize, "google.certs_url: %s", err_str(rc));
		return rc == TERR_INVAL ? TERR_CONFIG : rc;
	}
	/* No key file: every push is refused 503 (its purchase cannot be read), and logged. */
	if (c->google.sa_file[0] == '\0')
		return hook_ready(TERR_OK, 0, "GOOGLE_SERVICE_ACCOUNT_FILE", why, whysize);
	return google_api_new(c, &h->api, why, whysize);
}

/* The set to verify with; NULL (logged) when none can be had. */
static struct google_keyset *
keyset(struct google_hook *h, int64_t now)
{
	struct google_keyset *ks = NULL;
	char why[256];

	if (google_keycache_get(h->keys, now, &ks, why, sizeof(why)) != TERR_OK)
		log_msg(ks != NULL ? LOG_WARN : LOG_ERROR, "Google's push keys not fetched", why);
	return ks;
}

enum terr
google_hook_verify(void *state, const struct cfg *c, const struct hook_req *q, const char **why)
{
	struct google_hook *h = state;
	const struct google_oidc_want want = { c->google.push_audience,
		c->google.push_service_account };
	struct google_keyset *ks;
	int64_t now = q->now / 1000;
	const char *tok;
	size_t n;
	int fetched = 0;
	char fwhy[256];
	enum terr rc;

	if ((ks = keyset(h, now)) == NULL) {
		*why = "Google's push keys cannot be fetched now";
		return TERR_IO;
	}
	if ((rc = google_oidc_bearer(q->sig, &tok, &n, why)) != TERR_OK) {
		google_keyset_put(ks);
		return rc;
	}
	rc = google_tokcache_verify(h->tokens, google_keyset_keys(ks), tok, n, &want, now, why);
	if (rc == TERR_NOTFOUND) {
		/* Google rotates its keys: a kid not held yet may be new (once per 30 s at most). */
		google_keyset_put(ks);
		ks = NULL;
		if (google_keycache_refresh_on_unknown_kid(h->keys, now, &ks, &fetched, fwhy,
			sizeof(fwhy)) != TERR_OK)
			log_msg(LOG_WARN, "Google's push keys not refetched", fwhy);
		if (ks != NULL && fetched)
			rc = google_tokcache_verify(h->tokens, google_keyset_keys(ks), tok, n,
			    &want, now, why);
		if (rc == TERR_NOTFOUND)
			*why = "the token is signed under a key Google does not publish";
	}
	google_keyset_put(ks);
	return rc;
}

/* A body that google_parse would read as tally's envelope (google_forged_write). */
static int
forged(const char *body, size_t n)
{
	cJSON *root = NULL;
	const char *jwhy;
	int yes;

	yes = json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) == TERR_OK &&
	    google_is_envelope(root);
	cJSON_Delete(root);
	return yes;
}

enum terr
google_prepare(void *state, const struct cfg *c, const struct hook_req *q, const char *id,
    struct buf *out, char *why, size_t whysize)
{
	struct google_hook *h = state;
	struct google_push p;
	enum terr rc;

	buf_reset(out);
	if (google_push_read(&c->google, q->body, q->n, &p, why, whysize) != TERR_OK) {
		/* Authentic but unreadable: kept as it came, failed with the reason (google_parse). */
		google_push_release(&p);
		if (forged(q->body, q->n))
			return google_forged_write(q->body, q->n, out);
		buf_append(out, q->body, q->n);
		return out->err;
	}
	rc = google_envelope_push(h->api, &p, id, q->now, out, why, whysize);
	google_push_release(&p);
	return rc;
}

const struct hook_calls google_hook_calls = {
	.init = google_hook_init,
	.fini = google_hook_fini,
	.verify = google_hook_verify,
	.prepare = google_prepare,
};
