/*
 * Google Play's push tokens already verified, kept so that the pushes of one
 * push subscription, which all carry the same OIDC token for up to an hour,
 * cost one RSA verification rather than one each. An entry is the SHA-256
 * of the whole token string (the token itself is never kept), the kid it
 * was signed under and its exp and iat. A hit skips only what cannot change
 * for the same bytes: the signature and the claims compared with the
 * configuration (iss, aud, email, email_verified). What time changes is
 * checked again on every hit (exp, iat not in the future, not older than an
 * hour), and a hit whose kid the current key set no longer holds is dropped
 * and verified in full (the key was withdrawn). Only tokens that verified
 * are put; a refusal is never kept. One cache serves one want (the
 * configuration of its process); shared by worker threads under a mutex.
 *
 * The lookup compares digests with memcmp, not in constant time: what its
 * timing could tell is how many leading bytes of the SHA-256 of a string the
 * caller chose match a held digest, which neither reveals a held token nor
 * helps to make one (that would take a preimage of SHA-256), and a token
 * whose digest is not held is verified in full anyway.
 */
#ifndef TALLY_GOOGLE_TOKCACHE_H
#define TALLY_GOOGLE_TOKCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "providers/google/google_oidc.h"

/* Tokens held: a push subscription has one at a time (two while Google rotates it). */
#define GOOGLE_TOKCACHE_MAX 64

struct google_tokcache;

/* An empty cache into *out; TERR_NOMEM. */
enum terr google_tokcache_new(struct google_tokcache **out);
void google_tokcache_free(struct google_tokcache *c);

/*
 * token[0..n) verified against keys and want at now (Unix seconds), as
 * google_oidc_verify says (same results, same reasons), through the cache:
 * a held token is checked against the clock and keys' kids only; one not
 * held is verified in full and, when it passes, held. c may be NULL (no
 * cache: a full verification).
 */
enum terr google_tokcache_verify(struct google_tokcache *c, const struct google_keys *keys,
    const char *token, size_t n, const struct google_oidc_want *want, int64_t now,
    const char **why);

/* Hits and entries held (tests, stats). */
uint64_t google_tokcache_hits(struct google_tokcache *c);
size_t google_tokcache_count(struct google_tokcache *c);

#endif
