/*
 * The key set Google signs its push tokens with (PROVIDERS.md 7.2), fetched
 * from the configured certs_url and shared by a process's worker threads:
 * fetched only when there is none or it has expired (by the answer's
 * Cache-Control max-age, held between GOOGLE_KEYS_TTL_MIN and
 * GOOGLE_KEYS_TTL_MAX), and refetched on a token with an unknown kid at
 * most once per GOOGLE_KEYS_REFETCH_MIN, so that a flood of tokens naming
 * made-up kids never makes tally fetch per request. A failed fetch keeps
 * the set held, and the next attempt waits GOOGLE_KEYS_REFETCH_MIN too.
 * One fetch at a time; a reader holds a counted reference, so a refresh
 * never frees a set under a thread that verifies with it.
 */
#ifndef TALLY_GOOGLE_KEYS_H
#define TALLY_GOOGLE_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "cfg/cfg_types.h"
#include "providers/google/google_oidc.h"

/* A fetched set is kept at least this long (no-store, no max-age) and at most this long. Seconds. */
#define GOOGLE_KEYS_TTL_MIN     60
#define GOOGLE_KEYS_TTL_MAX     86400
/* Fetches on an unknown kid, and after a failed fetch, are at least this far apart. Seconds. */
#define GOOGLE_KEYS_REFETCH_MIN 30
/* The largest key set answer read (Google's is about 1.5 KB). */
#define GOOGLE_KEYS_BODY_MAX    (64 * 1024)

/* A counted reference to one fetched key set. */
struct google_keyset;

/* The keys of s, for google_oidc_verify. */
const struct google_keys *google_keyset_keys(const struct google_keyset *s);
/* Drop a reference (NULL is ignored); the last one frees the set. */
void google_keyset_put(struct google_keyset *s);

/* The cache of one process. */
struct google_keycache;

/*
 * A cache fetching url (copied) over h (which must outlive the cache).
 * TERR_NOMEM, or TERR_INVAL for a url longer than URL_MAX - 1.
 */
enum terr google_keycache_new(const struct cfg_http *h, const char *url,
    struct google_keycache **out);
/* Free the cache; references handed out stay valid until put. */
void google_keycache_free(struct google_keycache *c);

/*
 * The key set to verify with at now (Unix seconds), into *out (put it when
 * done). Fetches when the cache holds none or the held one has expired,
 * unless a fetch failed less than GOOGLE_KEYS_REFETCH_MIN ago (then the
 * held set, expired or not, is the answer). TERR_OK with *out set; when the
 * fetch fails: its error (TERR_IO no answer or a status other than 200,
 * TERR_INVAL a body that is not a usable JWK set, TERR_TOOBIG) with why,
 * and *out the set still held (NULL when none).
 */
enum terr google_keycache_get(struct google_keycache *c, int64_t now, struct google_keyset **out,
    char *why, size_t whysize);

/*
 * A token named a kid the held set lacks: refetch, unless the last fetch
 * (of any kind) was less than GOOGLE_KEYS_REFETCH_MIN ago, and hand out the
 * set then held, as google_keycache_get does. *fetched says whether a fetch
 * was made (a caller verifies again only then).
 */
enum terr google_keycache_refresh_on_unknown_kid(struct google_keycache *c, int64_t now,
    struct google_keyset **out, int *fetched, char *why, size_t whysize);

/* How many fetches were attempted (tests, stats). */
uint64_t google_keycache_fetches(struct google_keycache *c);

#endif
