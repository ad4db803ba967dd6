/*
 * The push tokens' key set, cached for the process (google_keys.h). Two
 * locks: mu guards the fields and is held only for moments; fetch_mu
 * serialises fetches, so threads that find the set expired together wait
 * for one fetch and then see its result instead of fetching again.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "http/httpc.h"
#include "providers/google/google_keys.h"

struct google_keyset {
	struct google_keys *keys;
	unsigned refs; /* atomic; the last put frees */
};

struct google_keycache {
	pthread_mutex_t mu;
	pthread_mutex_t fetch_mu;
	const struct cfg_http *http;
	char url[URL_MAX];
	struct google_keyset *set; /* the held set (one reference), or NULL */
	int64_t expires;           /* the held set is fresh before this */
	int64_t last_fetch;        /* when the last fetch began; 0: never */
	int64_t retry_at;          /* after a failed fetch: no new one before this */
	uint64_t fetches;
};

const struct google_keys *
google_keyset_keys(const struct google_keyset *s)
{
	return s != NULL ? s->keys : NULL;
}

void
google_keyset_put(struct google_keyset *s)
{
	if (s == NULL)
		return;
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		google_keys_free(s->keys);
		free(s);
	}
}

enum terr
google_keycache_new(const struct cfg_http *h, const char *url, struct google_keycache **out)
{
	struct google_keycache *c;

	*out = NULL;
	if (strlen(url) >= URL_MAX)
		return TERR_INVAL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return TERR_NOMEM;
	pthread_mutex_init(&c->mu, NULL);
	pthread_mutex_init(&c->fetch_mu, NULL);
	c->http = h;
	text_copy(c->url, sizeof(c->url), url);
	*out = c;
	return TERR_OK;
}

void
google_keycache_free(struct google_keycache *c)
{
	struct google_keyset *s;

	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	s = c->set;
	c->set = NULL;
	pthread_mutex_unlock(&c->mu);
	google_keyset_put(s);
	pthread_mutex_destroy(&c->fetch_mu);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* Under mu: a new reference to the held set, or NULL. */
static struct google_keyset *
hold(struct google_keycache *c)
{
	if (c->set != NULL)
		__atomic_add_fetch(&c->set->refs, 1, __ATOMIC_RELAXED);
	return c->set;
}

/* GET the key set; on success *out is a new set with one reference (the cache's). */
static enum terr
fetch(struct google_keycache *c, struct google_keyset **out, int64_t *ttl, char *why,
    size_t whysize)
{
	static const char *const headers[] = { "Accept: application/json", NULL };
	struct httpc_req req = { "GET", c->url, headers, NULL, 0, NULL, NULL };
	struct httpc_resp resp;
	struct google_keys *keys = NULL;
	const char *jwhy = NULL;
	enum terr rc;

	*out = NULL;
	httpc_resp_init(&resp, GOOGLE_KEYS_BODY_MAX);
	resp.header_name = "Cache-Control";
	if ((rc = httpc_do(c->http, &req, &resp, why, whysize)) != TERR_OK)
		goto out;
	if (resp.status != 200) {
		snprintf(why, whysize, "Google's key set: answered %ld", resp.status);
		rc = TERR_IO;
		goto out;
	}
	if ((rc = google_keys_parse(resp.body.p != NULL ? resp.body.p : "", resp.body.len, &keys,
		 &jwhy)) != TERR_OK) {
		snprintf(why, whysize, "Google's key set: %s",
		    jwhy != NULL ? jwhy : "not a usable JWK set");
		if (rc != TERR_NOMEM && rc != TERR_TOOBIG)
			rc = TERR_INVAL;
		goto out;
	}
	*ttl = google_cache_max_age(resp.header);
	if (*ttl < GOOGLE_KEYS_TTL_MIN)
		*ttl = GOOGLE_KEYS_TTL_MIN;
	if (*ttl > GOOGLE_KEYS_TTL_MAX)
		*ttl = GOOGLE_KEYS_TTL_MAX;
	if ((*out = calloc(1, sizeof(**out))) == NULL) {
		google_keys_free(keys);
		rc = TERR_NOMEM;
		goto out;
	}
	(*out)->keys = keys;
	(*out)->refs = 1;
out:
	httpc_resp_release(&resp);
	return rc;
}

/*
 * Fetch with fetch_mu held (one fetch at a time), unless a fetch is no
 * longer due once that lock is ours (another thread has just fetched), and
 * hand out the set then held. forced: an unknown kid, due when the last
 * fetch began GOOGLE_KEYS_REFETCH_MIN ago or more; else due when no fresh
 * set is held and no failed fetch asks to wait.
 */
static enum terr
refresh(struct google_keycache *c, int64_t now, int forced, struct google_keyset **out,
    int *fetched, char *why, size_t whysize)
{
	struct google_keyset *fresh = NULL, *old = NULL;
	int64_t ttl = 0;
	int need;
	enum terr rc = TERR_OK;

	*fetched = 0;
	pthread_mutex_lock(&c->fetch_mu);
	pthread_mutex_lock(&c->mu);
	if (forced)
		need = c->last_fetch == 0 || now - c->last_fetch >= GOOGLE_KEYS_REFETCH_MIN;
	else
		need = (c->set == NULL || now >= c->expires) && now >= c->retry_at;
	if (need) {
		c->last_fetch = now;
		c->fetches++;
	}
	pthread_mutex_unlock(&c->mu);
	if (need) {
		*fetched = 1;
		rc = fetch(c, &fresh, &ttl, why, whysize);
	}
	pthread_mutex_lock(&c->mu);
	if (need && rc == TERR_OK) {
		old = c->set;
		c->set = fresh;
		c->expires = now + ttl;
		c->retry_at = 0;
	} else if (need)
		c->retry_at = now + GOOGLE_KEYS_REFETCH_MIN;
	*out = hold(c);
	pthread_mutex_unlock(&c->mu);
	pthread_mutex_unlock(&c->fetch_mu);
	google_keyset_put(old);
	if (rc == TERR_OK && *out == NULL) {
		snprintf(why, whysize, "Google's key set: none yet (the last fetch failed)");
		rc = TERR_IO;
	}
	return rc;
}

enum terr
google_keycache_get(struct google_keycache *c, int64_t now, struct google_keyset **out, char *why,
    size_t whysize)
{
	int fetched;

	pthread_mutex_lock(&c->mu);
	if (c->set != NULL && (now < c->expires || now < c->retry_at)) {
		*out = hold(c);
		pthread_mutex_unlock(&c->mu);
		return TERR_OK;
	}
	pthread_mutex_unlock(&c->mu);
	return refresh(c, now, 0, out, &fetched, why, whysize);
}

enum terr
google_keycache_refresh_on_unknown_kid(struct google_keycache *c, int64_t now,
    struct google_keyset **out, int *fetched, char *why, size_t whysize)
{
	return refresh(c, now, 1, out, fetched, why, whysize);
}

uint64_t
google_keycache_fetches(struct google_keycache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->mu);
	n = c->fetches;
	pthread_mutex_unlock(&c->mu);
	return n;
}
