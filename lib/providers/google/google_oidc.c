#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/text.h"
#include "crypto/jose.h"
#include "providers/google/google_oidc.h"

struct google_key {
	char kid[GOOGLE_KID_MAX];
	void *pkey; /* EVP_PKEY*, public */
};

struct google_keys {
	size_t n;
	struct google_key k[GOOGLE_KEYS_MAX];
};

void
google_keys_free(struct google_keys *ks)
{
	size_t i;

	if (ks == NULL)
		return;
	for (i = 0; i < ks->n; i++)
		jose_key_free(ks->k[i].pkey);
	free(ks);
}

size_t
google_keys_count(const struct google_keys *ks)
{
	return ks == NULL ? 0 : ks->n;
}

static void *
key_find(const struct google_keys *ks, const char *kid)
{
	size_t i;

	for (i = 0; ks != NULL && i < ks->n; i++)
		if (strcmp(ks->k[i].kid, kid) == 0)
			return ks->k[i].pkey;
	return NULL;
}

/* One RSA signing key of the set (RFC 7518 6.3.1: n and e base64url, big-endian) added to ks. */
static enum terr
key_read(const cJSON *jwk, struct google_keys *ks, const char **why)
{
	unsigned char nb[JOSE_RSA_BYTES_MAX + 4], eb[16];
	const char *kid = jstr(jwk, "kid"), *n = jstr(jwk, "n"), *e = jstr(jwk, "e");
	size_t nlen, elen;
	enum terr rc;

	if (kid == NULL || kid[0] == '\0' || strlen(kid) >= GOOGLE_KID_MAX) {
		*why = "key set entry has no usable kid";
		return TERR_INVAL;
	}
	if (key_find(ks, kid) != NULL) {
		*why = "key set names one kid twice";
		return TERR_INVAL;
	}
	if (n == NULL || e == NULL ||
	    text_b64dec(n, strlen(n), 1, nb, sizeof(nb), &nlen) != TERR_OK ||
	    text_b64dec(e, strlen(e), 1, eb, sizeof(eb), &elen) != TERR_OK) {
		*why = "key set entry has a malformed n or e";
		return TERR_INVAL;
	}
	if ((rc = jose_rsa_public(nb, nlen, eb, elen, &ks->k[ks->n].pkey)) != TERR_OK) {
		*why = rc == TERR_INVAL ? "key set entry is not a valid RSA public key"
					: "key set entry could not be loaded";
		return rc;
	}
	text_copy(ks->k[ks->n].kid, sizeof(ks->k[ks->n].kid), kid);
	ks->n++;
	return TERR_OK;
}

enum terr
google_keys_parse(const char *json, size_t n, struct google_keys **out, const char **why)
{
	struct google_keys *ks = NULL;
	cJSON *root = NULL;
	const cJSON *arr, *jwk;
	const char *kty, *alg, *use, *jwhy;
	enum terr rc = TERR_INVAL;

	*out = NULL;
	*why = NULL;
	if (json_parse(json, n, 8, &root, &jwhy) != TERR_OK || !cJSON_IsObject(root)) {
		*why = "key set is not a JSON object";
		goto out;
	}
	if ((arr = jarr(root, "keys")) == NULL) {
		*why = "key set has no keys array";
		goto out;
	}
	if ((ks = calloc(1, sizeof(*ks))) == NULL) {
		rc = TERR_NOMEM;
		*why = "out of memory";
		goto out;
	}
	cJSON_ArrayForEach (jwk, arr) {
		if (!cJSON_IsObject(jwk)) {
			*why = "key set entry is not an object";
			goto out;
		}
		/* RFC 7517 4.1-4.4: only RSA keys for signatures with RS256 (or no alg) serve here. */
		kty = jstr(jwk, "kty");
		alg = jstr(jwk, "alg");
		use = jstr(jwk, "use");
		if (kty == NULL || strcmp(kty, "RSA") != 0 ||
		    (alg != NULL && strcmp(alg, "RS256") != 0) ||
		    (use != NULL && strcmp(use, "sig") != 0))
			continue;
		if (ks->n == GOOGLE_KEYS_MAX) {
			rc = TERR_TOOBIG;
			*why = "key set has too many keys";
			goto out;
		}
		if ((rc = key_read(jwk, ks, why)) != TERR_OK)
			goto out;
	}
	if (ks->n == 0) {
		rc = TERR_INVAL;
		*why = "key set has no RS256 key";
		goto out;
	}
	*out = ks;
	ks = NULL;
	rc = TERR_OK;
out:
	google_keys_free(ks);
	cJSON_Delete(root);
	return rc;
}

/* The claims of a token whose signature verified, against want at now (PROVIDERS.md 7.2). */
static enum terr
claims_check(const cJSON *c, const struct google_oidc_want *want, int64_t now, int64_t *exp,
    int64_t *iat, const char **why)
{
	const char *s;
	int b;

	if ((s = jstr(c, "iss")) == NULL) {
		*why = "token has no iss";
		return TERR_AUTH;
	}
	if (strcmp(s, GOOGLE_ISS) != 0 && strcmp(s, GOOGLE_ISS_HTTP) != 0) {
		*why = "token issuer is not accounts.google.com";
		return TERR_AUTH;
	}
	/* Google's push tokens carry one audience, as a string. */
	if ((s = jstr(c, "aud")) == NULL) {
		*why = "token has no aud (a string)";
		return TERR_AUTH;
	}
	if (strcmp(s, want->audience) != 0) {
		*why = "token audience is not the configured one";
		return TERR_AUTH;
	}
	if ((s = jstr(c, "email")) == NULL) {
		*why = "token has no email";
		return TERR_AUTH;
	}
	if (strcmp(s, want->email) != 0) {
		*why = "token email is not the configured push service account";
		return TERR_AUTH;
	}
	/* A boolean in Google's tokens; some OIDC issuers write it as a string. */
	if (!(jbool(c, "email_verified", &b) == 1 && b) &&
	    !((s = jstr(c, "email_verified")) != NULL && strcmp(s, "true") == 0)) {
		*why = "token email is not verified";
		return TERR_AUTH;
	}
	if (jint(c, "exp", exp) != 1) {
		*why = "token has no exp (a number)";
		return TERR_AUTH;
	}
	if (jint(c, "iat", iat) != 1) {
		*why = "token has no iat (a number)";
		return TERR_AUTH;
	}
	return google_oidc_times(*exp, *iat, now, why);
}

enum terr
google_oidc_times(int64_t exp, int64_t iat, int64_t now, const char **why)
{
	if (exp <= now) {
		*why = "token has expired";
		return TERR_STALE;
	}
	if (iat > now + GOOGLE_OIDC_LEEWAY) {
		*why = "token is issued in the future";
		return TERR_STALE;
	}
	if (iat < now - GOOGLE_OIDC_MAX_AGE - GOOGLE_OIDC_LEEWAY) {
		*why = "token is older than an hour";
		return TERR_STALE;
	}
	return TERR_OK;
}

int
google_keys_has(const struct google_keys *ks, const char *kid)
{
	return key_find(ks, kid) != NULL;
}

enum terr
google_oidc_verify(const struct google_keys *keys, const char *token, size_t n,
    const struct google_oidc_want *want, int64_t now, const char **why)
{
	return google_oidc_verify_seen(keys, token, n, want, now, NULL, why);
}

enum terr
google_oidc_verify_seen(const struct google_keys *keys, const char *token, size_t n,
    const struct google_oidc_want *want, int64_t now, struct google_oidc_seen *seen,
    const char **why)
{
	struct google_oidc_seen tmp;
	struct buf hdr, claims;
	cJSON *h = NULL, *c = NULL;
	const char *alg, *kid, *jwhy;
	void *pkey;
	enum terr rc = TERR_AUTH;

	*why = "malformed token";
	buf_init(&hdr, 4096);
	buf_init(&claims, GOOGLE_TOKEN_MAX);
	if (want == NULL || want->audience == NULL || want->audience[0] == '\0' ||
	    want->email == NULL || want->email[0] == '\0') {
		rc = TERR_CONFIG;
		*why = "no push audience or service account configured";
		goto out;
	}
	if (n > GOOGLE_TOKEN_MAX) {
		*why = "token is too long";
		goto out;
	}
	if (jose_peek_header(token, n, &hdr) != TERR_OK ||
	    json_parse(hdr.p, hdr.len, 4, &h, &jwhy) != TERR_OK || !cJSON_IsObject(h))
		goto out;
	/* Pinned here before the key is chosen, and again by jose_rs256_verify_token. */
	if ((alg = jstr(h, "alg")) == NULL || strcmp(alg, "RS256") != 0) {
		*why = "token algorithm is not RS256";
		goto out;
	}
	if ((kid = jstr(h, "kid")) == NULL) {
		*why = "token names no key (kid)";
		goto out;
	}
	if ((pkey = key_find(keys, kid)) == NULL) {
		rc = TERR_NOTFOUND;
		*why = "token key (kid) is not in the key set";
		goto out;
	}
	if ((rc = jose_rs256_verify_token(token, n, pkey, &claims, why)) != TERR_OK)
		goto out;
	rc = TERR_AUTH;
	if (json_parse(claims.p, claims.len, 8, &c, &jwhy) != TERR_OK || !cJSON_IsObject(c)) {
		*why = "malformed token claims";
		goto out;
	}
	if (seen == NULL)
		seen = &tmp;
	if ((rc = claims_check(c, want, now, &seen->exp, &seen->iat, why)) == TERR_OK) {
		text_copy(seen->kid, sizeof(seen->kid), kid);
		*why = NULL;
	}
out:
	cJSON_Delete(c);
	cJSON_Delete(h);
	buf_release(&claims);
	buf_release(&hdr);
	return rc;
}

enum terr
google_oidc_verify_bearer(const struct google_keys *keys, const char *value,
    const struct google_oidc_want *want, int64_t now, const char **why)
{
	const char *p;
	size_t n;
	enum terr rc;

	if ((rc = google_oidc_bearer(value, &p, &n, why)) != TERR_OK)
		return rc;
	return google_oidc_verify(keys, p, n, want, now, why);
}

enum terr
google_oidc_bearer(const char *value, const char **token, size_t *len, const char **why)
{
	const char *p;
	size_t n;

	if (value == NULL) {
		*why = "no Authorization header";
		return TERR_AUTH;
	}
	/* RFC 6750 2.1: credentials = "Bearer" 1*SP b64token; the scheme in any case. */
	if (strncasecmp(value, "Bearer", 6) != 0 || value[6] != ' ') {
		*why = "Authorization is not a Bearer token";
		return TERR_AUTH;
	}
	for (p = value + 6; *p == ' '; p++)
		;
	n = strnlen(p, GOOGLE_TOKEN_MAX + 1);
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n == 0) {
		*why = "Authorization has an empty Bearer token";
		return TERR_AUTH;
	}
	*token = p;
	*len = n;
	return TERR_OK;
}

/* RFC 9111 1.2.2: a delta-seconds past 2^31 counts as 2^31. */
#define DELTA_SECONDS_MAX 2147483648LL

/* delta-seconds (RFC 9111 1.2.2: 1*DIGIT) of p[0..n), or -1. */
static int64_t
delta_seconds(const char *p, size_t n)
{
	int64_t v = 0;
	size_t i;

	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') { /* the quoted form, 5.2 */
		p++;
		n -= 2;
	}
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		if (v < DELTA_SECONDS_MAX)
			v = v * 10 + (p[i] - '0');
	}
	return v < DELTA_SECONDS_MAX ? v : DELTA_SECONDS_MAX;
}

int64_t
google_cache_max_age(const char *value)
{
	const char *p = value, *name, *arg;
	size_t nlen, alen;
	int64_t age = -1, v;

	if (value == NULL)
		return 0;
	/* Cache-Control = #cache-directive; cache-directive = token [ "=" ( token / quoted-string ) ] */
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		name = p;
		while (*p != '\0' && *p != '=' && *p != ',' && *p != ' ' && *p != '\t')
			p++;
		nlen = (size_t)(p - name);
		arg = NULL;
		alen = 0;
		if (*p == '=') {
			arg = ++p;
			if (*p == '"') {
				p++;
				while (*p != '\0' && *p != '"')
					p++;
				if (*p == '"')
					p++;
			} else {
				while (*p != '\0' && *p != ',' && *p != ' ' && *p != '\t')
					p++;
			}
			alen = (size_t)(p - arg);
		}
		while (*p != '\0' && *p != ',') /* anything else up to the next directive */
			p++;
		if ((nlen == 8 && strncasecmp(name, "no-store", 8) == 0) ||
		    (nlen == 8 && strncasecmp(name, "no-cache", 8) == 0))
			return 0;
		/* 4.2.1: of several max-age, the first counts; an invalid one means stale. */
		if (nlen == 7 && strncasecmp(name, "max-age", 7) == 0 && age < 0) {
			v = arg == NULL ? -1 : delta_seconds(arg, alen);
			age = v < 0 ? 0 : v;
		}
	}
	return age < 0 ? 0 : age;
}
