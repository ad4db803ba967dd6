/*
 * Google Play's push authentication (PROVIDERS.md 7.2): a Pub/Sub push
 * carries "Authorization: Bearer <JWT>", an OIDC token Google signs with
 * RS256 under one of the keys it publishes as a JWK set
 * (https://www.googleapis.com/oauth2/v3/certs). This module reads that key
 * set, verifies a token against it and the configured audience and push
 * service account, and says how long the key set may be cached. It is pure:
 * fetching the key set (by URL from the config, cached for the max-age this
 * module computes, refetched once on an unknown kid) is the caller's.
 */
#ifndef TALLY_GOOGLE_OIDC_H
#define TALLY_GOOGLE_OIDC_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* Keys of one JWK set read (Google publishes two or three at a time, rotating). */
#define GOOGLE_KEYS_MAX     16
/* A key id, with its NUL (Google's are 40 hex digits). */
#define GOOGLE_KID_MAX      128
/*
 * Clock skew allowed on "iat" (a token issued up to this far in our future
 * is accepted) and on its age. Seconds.
 */
#define GOOGLE_OIDC_LEEWAY  60
/* Google's push tokens live one hour; an older one is refused (7.2). Seconds. */
#define GOOGLE_OIDC_MAX_AGE 3600
/* The longest Authorization value read (a push token is about 1 KB). */
#define GOOGLE_TOKEN_MAX    8192

/* The issuers Google's OIDC tokens carry, either spelling (7.2). */
#define GOOGLE_ISS      "accounts.google.com"
#define GOOGLE_ISS_HTTP "https://accounts.google.com"

/* A key set: Google's RSA keys by kid. Opaque. */
struct google_keys;

/*
 * Read a JWK set {"keys":[{"kid","kty":"RSA","alg":"RS256","n","e",...}]}
 * (RFC 7517 5; n and e base64url, RFC 7518 6.3.1) from json[0..n). Keys
 * that are not RSA, or name another alg or a use other than "sig", are
 * skipped (a set may hold keys for other purposes); an RSA key for
 * signatures that cannot be read (no kid, bad n or e, a kid twice) refuses
 * the whole set. RSA keys shorter than 2048 bits are kept, and every token
 * under them refused. On success *out (free with google_keys_free) holds at
 * least one key. TERR_INVAL with *why (static text) otherwise; TERR_TOOBIG
 * past GOOGLE_KEYS_MAX keys; TERR_NOMEM.
 */
enum terr google_keys_parse(const char *json, size_t n, struct google_keys **out, const char **why);
void google_keys_free(struct google_keys *k);
size_t google_keys_count(const struct google_keys *k);

/*
 * What a push token must say besides its signature: "aud" equal to
 * audience (the push endpoint's URL unless configured otherwise), "email"
 * equal to the push subscription's service account, verified.
 */
struct google_oidc_want {
	const char *audience;
	const char *email;
};

/*
 * Verify an OIDC token[0..n) at now (Unix seconds): header alg RS256
 * exactly, kid in keys, signature, iss either spelling of
 * accounts.google.com, aud and email as want says, email_verified true (or
 * "true"), exp after now, iat at most GOOGLE_OIDC_LEEWAY in the future and
 * at most GOOGLE_OIDC_MAX_AGE + GOOGLE_OIDC_LEEWAY in the past.
 * TERR_OK; TERR_NOTFOUND when the header's kid is not in keys (the caller
 * refetches the key set once and verifies again); TERR_STALE for exp or iat
 * out of their window; TERR_CONFIG when want has no audience or email;
 * TERR_AUTH for any other refusal. Every refusal sets *why (static text,
 * naming no key, token or claim value). keys may be NULL (no set yet:
 * TERR_NOTFOUND).
 */
enum terr google_oidc_verify(const struct google_keys *keys, const char *token, size_t n,
    const struct google_oidc_want *want, int64_t now, const char **why);

/* What a verified token said that its later checks need (google_tokcache.h). */
struct google_oidc_seen {
	char kid[GOOGLE_KID_MAX];
	int64_t exp, iat;
};

/* google_oidc_verify, and on TERR_OK its kid, exp and iat into *seen (when not NULL). */
enum terr google_oidc_verify_seen(const struct google_keys *keys, const char *token, size_t n,
    const struct google_oidc_want *want, int64_t now, struct google_oidc_seen *seen,
    const char **why);

/*
 * The checks of a token's exp and iat at now, as google_oidc_verify makes
 * them: TERR_OK, or TERR_STALE with *why.
 */
enum terr google_oidc_times(int64_t exp, int64_t iat, int64_t now, const char **why);

/* Whether keys holds a key named kid. */
int google_keys_has(const struct google_keys *k, const char *kid);

/*
 * The token of an Authorization header value: "Bearer" (any case, RFC 7235
 * 2.1), spaces, the token (RFC 6750 2.1), trailing blanks dropped, into
 * token[0..len) (pointing into value). TERR_AUTH with *why when value is
 * NULL or not that.
 */
enum terr google_oidc_bearer(const char *value, const char **token, size_t *len, const char **why);

/*
 * The same for an Authorization header value: "Bearer" (any case, RFC 7235
 * 2.1), spaces, the token (RFC 6750 2.1). TERR_AUTH when value is NULL or
 * not that.
 */
enum terr google_oidc_verify_bearer(const struct google_keys *keys, const char *value,
    const struct google_oidc_want *want, int64_t now, const char **why);

/*
 * How long a key set answered with this Cache-Control value may be kept
 * (RFC 9111 5.2.2.1): its max-age in seconds, capped at 2^31 (RFC 9111
 * 1.2.2). 0 when value is NULL, has no valid max-age, or says no-store or
 * no-cache.
 */
int64_t google_cache_max_age(const char *value);

#endif
