/*
 * Google's push tokens verified once (google_tokcache.h).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "crypto/crypto.h"
#include "providers/google/google_tokcache.h"

struct entry {
	int used;
	unsigned char h[SHA256_LEN]; /* of the whole token */
	char kid[GOOGLE_KID_MAX];
	int64_t exp, iat;
};

struct google_tokcache {
	pthread_mutex_t mu;
	uint64_t hits;
	struct entry e[GOOGLE_TOKCACHE_MAX];
};

enum terr
google_tokcache_new(struct google_tokcache **out)
{
	struct google_tokcache *c;

	if ((*out = c = calloc(1, sizeof(*c))) == NULL)
		return TERR_NOMEM;
	pthread_mutex_init(&c->mu, NULL);
	return TERR_OK;
}

void
google_tokcache_free(struct google_tokcache *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c);
}

/* The entry of digest h, or NULL. Under c->mu. */
static struct entry *
find(struct google_tokcache *c, const unsigned char *h)
{
	size_t i;

	for (i = 0; i < GOOGLE_TOKCACHE_MAX; i++)
		if (c->e[i].used && memcmp(c->e[i].h, h, SHA256_LEN) == 0)
			return &c->e[i];
	return NULL;
}

/*
 * A held token's verdict at now: 1 with *rc (TERR_OK, or TERR_STALE and
 * *why) when it is held and its key still published; 0 when it must be
 * verified in full. An entry found stale or under a withdrawn key is
 * dropped.
 */
static int
lookup(struct google_tokcache *c, const unsigned char *h, const struct google_keys *keys,
    int64_t now, enum terr *rc, const char **why)
{
	struct entry *e;
	int hit = 0;

	pthread_mutex_lock(&c->mu);
	if ((e = find(c, h)) != NULL) {
		if (!google_keys_has(keys, e->kid)) {
			e->used = 0;
		} else {
			*rc = google_oidc_times(e->exp, e->iat, now, why);
			if (*rc == TERR_OK)
				c->hits++;
			else
				e->used = 0;
			hit = 1;
		}
	}
	pthread_mutex_unlock(&c->mu);
	return hit;
}

/* Hold a verified token: in a free slot, else in place of the one expiring first. */
static void
put(struct google_tokcache *c, const unsigned char *h, const struct google_oidc_seen *s)
{
	struct entry *e, *slot = NULL;
	size_t i;

	pthread_mutex_lock(&c->mu);
	if ((e = find(c, h)) != NULL)
		slot = e; /* two threads verified it at once */
	for (i = 0; slot == NULL && i < GOOGLE_TOKCACHE_MAX; i++)
		if (!c->e[i].used)
			slot = &c->e[i];
	if (slot == NULL) {
		slot = &c->e[0];
		for (i = 1; i < GOOGLE_TOKCACHE_MAX; i++)
			if (c->e[i].exp < slot->exp)
				slot = &c->e[i];
	}
	slot->used = 1;
	memcpy(slot->h, h, SHA256_LEN);
	text_copy(slot->kid, sizeof(slot->kid), s->kid);
	slot->exp = s->exp;
	slot->iat = s->iat;
	pthread_mutex_unlock(&c->mu);
}

enum terr
google_tokcache_verify(struct google_tokcache *c, const struct google_keys *keys, const char *token,
    size_t n, const struct google_oidc_want *want, int64_t now, const char **why)
{
	unsigned char h[SHA256_LEN];
	struct google_oidc_seen seen;
	enum terr rc;

	if (c == NULL || n > GOOGLE_TOKEN_MAX)
		return google_oidc_verify(keys, token, n, want, now, why);
	crypto_sha256(token, n, h);
	if (lookup(c, h, keys, now, &rc, why)) {
		if (rc == TERR_OK)
			*why = NULL;
		return rc;
	}
	if ((rc = google_oidc_verify_seen(keys, token, n, want, now, &seen, why)) == TERR_OK)
		put(c, h, &seen);
	return rc;
}

uint64_t
google_tokcache_hits(struct google_tokcache *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->mu);
	n = c->hits;
	pthread_mutex_unlock(&c->mu);
	return n;
}

size_t
google_tokcache_count(struct google_tokcache *c)
{
	size_t i, n = 0;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < GOOGLE_TOKCACHE_MAX; i++)
		n += c->e[i].used != 0;
	pthread_mutex_unlock(&c->mu);
	return n;
}
