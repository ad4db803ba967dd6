/*
 * lib/providers/google/google_oidc.c, google_tokcache.c and google_sa.c:
 * Google's push tokens (RS256 OIDC) against a JWK set, every refusal with
 * its reason, the cache of verified tokens, the key set's cache lifetime,
 * and the service account's assertion. Keys are made
 * fresh for each run and tokens signed here with OpenSSL directly, not with
 * jose.c's signer.
 */
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <pthread.h>
#include <stdlib.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/text.h"
#include "crypto/jose.h"
#include "providers/google/google_oidc.h"
#include "providers/google/google_sa.h"
#include "providers/google/google_tokcache.h"
#include "t.h"

#define NOW   1700000000LL
#define AUD   "https://billing.example.com/webhooks/google"
#define EMAIL "pubsub-push@example-project.iam.gserviceaccount.com"

static EVP_PKEY *key1, *key2, *key_small, *key_other; /* key_other is in no set */
static struct google_keys *keys;
static const struct google_oidc_want want = { AUD, EMAIL };

static void
b64url(struct buf *out, const void *p, size_t n)
{
	char *dst = buf_reserve(out, (n + 2) / 3 * 4 + 1);

	if (dst != NULL)
		buf_commit(out, text_b64enc(p, n, 1, dst, (n + 2) / 3 * 4 + 1));
}

/* A JWK member "name":"<base64url of the key's parameter>". */
static void
jwk_param(struct buf *out, EVP_PKEY *k, const char *name)
{
	BIGNUM *bn = NULL;
	unsigned char bytes[1024];
	int n;

	EVP_PKEY_get_bn_param(k, name, &bn);
	n = BN_bn2bin(bn, bytes);
	buf_printf(out, "\"%s\":\"", name);
	b64url(out, bytes, (size_t)n);
	buf_putc(out, '"');
	BN_free(bn);
}

static void
jwk(struct buf *out, EVP_PKEY *k, const char *kid)
{
	buf_printf(out, "{\"kid\":\"%s\",\"kty\":\"RSA\",\"alg\":\"RS256\",\"use\":\"sig\",", kid);
	jwk_param(out, k, OSSL_PKEY_PARAM_RSA_N);
	buf_putc(out, ',');
	jwk_param(out, k, OSSL_PKEY_PARAM_RSA_E);
	buf_putc(out, '}');
}

/* base64url(header).base64url(claims).RS256 signature, with EVP_DigestSign. */
static void
sign(struct buf *out, EVP_PKEY *k, const char *header, const char *claims)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char sig[1024];
	size_t siglen = sizeof(sig);

	buf_reset(out);
	b64url(out, header, strlen(header));
	buf_putc(out, '.');
	b64url(out, claims, strlen(claims));
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, k) != 1 ||
	    EVP_DigestSign(ctx, sig, &siglen, (const unsigned char *)out->p, out->len) != 1)
		siglen = 0;
	EVP_MD_CTX_free(ctx);
	buf_putc(out, '.');
	b64url(out, sig, siglen);
}

/*
 * Claims of a push token; a NULL string or a negative time leaves the claim
 * out; verified is raw JSON.
 */
static void
claims(char *out, size_t size, const char *iss, const char *aud, const char *email,
    const char *verified, long long exp, long long iat)
{
	struct buf b;

	buf_init_fixed(&b, out, size);
	buf_putc(&b, '{');
	if (iss != NULL)
		buf_printf(&b, "\"iss\":\"%s\",", iss);
	if (aud != NULL)
		buf_printf(&b, "\"aud\":\"%s\",", aud);
	if (email != NULL)
		buf_printf(&b, "\"email\":\"%s\",", email);
	if (verified != NULL)
		buf_printf(&b, "\"email_verified\":%s,", verified);
	if (exp >= 0)
		buf_printf(&b, "\"exp\":%lld,", exp);
	if (iat >= 0)
		buf_printf(&b, "\"iat\":%lld,", iat);
	buf_puts(&b, "\"sub\":\"1234567890\",\"azp\":\"1234567890\"}");
}

#define HDR1 "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}"

/* A token under key k with header hdr and claims as claims() builds them; its verdict. */
static enum terr
verify_claims(EVP_PKEY *k, const char *hdr, const char *iss, const char *aud, const char *email,
    const char *verified, long long exp, long long iat, const char **why)
{
	char c[1024];
	struct buf t;
	enum terr rc;

	claims(c, sizeof(c), iss, aud, email, verified, exp, iat);
	buf_init(&t, 1 << 16);
	sign(&t, k, hdr, c);
	rc = google_oidc_verify(keys, t.p, t.len, &want, NOW, why);
	buf_release(&t);
	return rc;
}

/* The usual good claims with one part changed. */
#define GOOD(...) verify_claims(key1, HDR1, __VA_ARGS__, &why)

TEST(a_good_token_passes)
{
	const char *why = "unset";

	CHECK_EQ(google_keys_count(keys), 3);
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "true", NOW + 3000, NOW - 600), TERR_OK);
	CHECK(why == NULL);
	CHECK_EQ(GOOD("https://accounts.google.com", AUD, EMAIL, "\"true\"", NOW + 1, NOW),
	    TERR_OK);
	/* The second key of the set serves too. */
	CHECK_EQ(verify_claims(key2, "{\"alg\":\"RS256\",\"kid\":\"k2\"}", "accounts.google.com",
		     AUD, EMAIL, "true", NOW + 3000, NOW - 600, &why),
	    TERR_OK);
	/* Clock skew: issued up to a minute ahead, or an hour and a minute ago. */
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "true", NOW + 3000, NOW + 60), TERR_OK);
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "true", NOW + 1, NOW - 3660), TERR_OK);
}

TEST(a_wrong_signature_or_tampered_payload_is_refused)
{
	const char *why = NULL;
	char c[1024];
	struct buf t, t2;

	/* Signed by a key not in the set, under a kid of the set. */
	CHECK_EQ(verify_claims(key_other, HDR1, "accounts.google.com", AUD, EMAIL, "true",
		     NOW + 3000, NOW, &why),
	    TERR_AUTH);
	CHECK_STR(why, "token signature does not match");
	/* Signed by the set's other key. */
	CHECK_EQ(verify_claims(key2, HDR1, "accounts.google.com", AUD, EMAIL, "true", NOW + 3000,
		     NOW, &why),
	    TERR_AUTH);
	CHECK_STR(why, "token signature does not match");

	/* A good token whose payload is swapped for another email's, signature kept. */
	buf_init(&t, 1 << 16);
	buf_init(&t2, 1 << 16);
	claims(c, sizeof(c), "accounts.google.com", AUD, EMAIL, "true", NOW + 3000, NOW);
	sign(&t, key1, HDR1, c);
	CHECK(google_oidc_verify(keys, t.p, t.len, &want, NOW, &why) == TERR_OK);
	claims(c, sizeof(c), "accounts.google.com", AUD, "evil@example.com", "true", NOW + 3000,
	    NOW);
	buf_append(&t2, t.p, (size_t)(strchr(t.p, '.') - t.p) + 1);
	b64url(&t2, c, strlen(c));
	buf_puts(&t2, strrchr(t.p, '.'));
	CHECK_EQ(google_oidc_verify(keys, t2.p, t2.len, &want, NOW, &why), TERR_AUTH);
	CHECK_STR(why, "token signature does not match");
	/* One bit of the signature flipped. */
	t.p[t.len - 3] = t.p[t.len - 3] == 'A' ? 'B' : 'A';
	CHECK_EQ(google_oidc_verify(keys, t.p, t.len, &want, NOW, &why), TERR_AUTH);
	CHECK_STR(why, "token signature does not match");
	buf_release(&t);
	buf_release(&t2);
}

TEST(every_other_algorithm_is_refused_before_the_key)
{
	static const char *hdrs[] = {
		"{\"alg\":\"none\",\"kid\":\"k1\"}",
		"{\"alg\":\"HS256\",\"kid\":\"k1\"}",
		"{\"alg\":\"ES256\",\"kid\":\"k1\"}",
		"{\"alg\":\"RS512\",\"kid\":\"k1\"}",
		"{\"alg\":\"PS256\",\"kid\":\"k1\"}",
		"{\"alg\":\"rs256\",\"kid\":\"k1\"}",
		"{\"kid\":\"k1\"}",
	};
	const char *why = NULL;
	char c[1024];
	struct buf t;
	size_t i;

	for (i = 0; i < sizeof(hdrs) / sizeof(hdrs[0]); i++) {
		why = NULL;
		CHECK_EQ(verify_claims(key1, hdrs[i], "accounts.google.com", AUD, EMAIL, "true",
			     NOW + 3000, NOW, &why),
		    TERR_AUTH);
		CHECK_STR(why, "token algorithm is not RS256");
	}
	/* An unsigned token (RFC 7519 6.1): "none" with an empty signature. */
	buf_init(&t, 1 << 16);
	claims(c, sizeof(c), "accounts.google.com", AUD, EMAIL, "true", NOW + 3000, NOW);
	b64url(&t, "{\"alg\":\"none\",\"kid\":\"k1\"}", 25);
	buf_putc(&t, '.');
	b64url(&t, c, strlen(c));
	buf_putc(&t, '.');
	CHECK_EQ(google_oidc_verify(keys, t.p, t.len, &want, NOW, &why), TERR_AUTH);
	CHECK_STR(why, "malformed token");
	buf_release(&t);
}

TEST(an_unknown_kid_is_its_own_error)
{
	const char *why = NULL;
	char c[1024];
	struct buf t;

	CHECK_EQ(verify_claims(key1, "{\"alg\":\"RS256\",\"kid\":\"k9\"}", "accounts.google.com",
		     AUD, EMAIL, "true", NOW + 3000, NOW, &why),
	    TERR_NOTFOUND);
	CHECK_STR(why, "token key (kid) is not in the key set");
	/* No key set yet: the same, so the caller fetches one. */
	buf_init(&t, 1 << 16);
	claims(c, sizeof(c), "accounts.google.com", AUD, EMAIL, "true", NOW + 3000, NOW);
	sign(&t, key1, HDR1, c);
	CHECK_EQ(google_oidc_verify(NULL, t.p, t.len, &want, NOW, &why), TERR_NOTFOUND);
	buf_release(&t);
	/* No kid at all: a refetch would not help. */
	CHECK_EQ(verify_claims(key1, "{\"alg\":\"RS256\"}", "accounts.google.com", AUD, EMAIL,
		     "true", NOW + 3000, NOW, &why),
	    TERR_AUTH);
	CHECK_STR(why, "token names no key (kid)");
}

TEST(iss_aud_and_email_must_be_googles_and_the_configured_ones)
{
	const char *why = NULL;

	CHECK_EQ(GOOD("https://evil.example.com", AUD, EMAIL, "true", NOW + 3000, NOW), TERR_AUTH);
	CHECK_STR(why, "token issuer is not accounts.google.com");
	CHECK_EQ(GOOD("http://accounts.google.com", AUD, EMAIL, "true", NOW + 3000, NOW),
	    TERR_AUTH);
	CHECK_STR(why, "token issuer is not accounts.google.com");
	CHECK_EQ(GOOD("accounts.google.com", "https://other.example.com/webhooks/google", EMAIL,
		     "true", NOW + 3000, NOW),
	    TERR_AUTH);
	CHECK_STR(why, "token audience is not the configured one");
	CHECK_EQ(GOOD("accounts.google.com", AUD, "someone@example.com", "true", NOW + 3000, NOW),
	    TERR_AUTH);
	CHECK_STR(why, "token email is not the configured push service account");
}

TEST(email_verified_must_be_true)
{
	const char *why = NULL;

	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "false", NOW + 3000, NOW), TERR_AUTH);
	CHECK_STR(why, "token email is not verified");
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "\"false\"", NOW + 3000, NOW), TERR_AUTH);
	CHECK_STR(why, "token email is not verified");
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "1", NOW + 3000, NOW), TERR_AUTH);
	CHECK_STR(why, "token email is not verified");
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, NULL, NOW + 3000, NOW), TERR_AUTH);
	CHECK_STR(why, "token email is not verified");
}

TEST(expired_future_and_too_old_tokens_are_refused)
{
	const char *why = NULL;

	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "true", NOW - 1, NOW - 3000), TERR_STALE);
	CHECK_STR(why, "token has expired");
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "true", NOW, NOW - 3000), TERR_STALE);
	CHECK_STR(why, "token has expired");
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "true", NOW + 7200, NOW + 61), TERR_STALE);
	CHECK_STR(why, "token is issued in the future");
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "true", NOW + 60, NOW - 3661), TERR_STALE);
	CHECK_STR(why, "token is older than an hour");
}

TEST(missing_claims_are_refused)
{
	const char *why = NULL;

	CHECK_EQ(GOOD(NULL, AUD, EMAIL, "true", NOW + 3000, NOW), TERR_AUTH);
	CHECK_STR(why, "token has no iss");
	CHECK_EQ(GOOD("accounts.google.com", NULL, EMAIL, "true", NOW + 3000, NOW), TERR_AUTH);
	CHECK_STR(why, "token has no aud (a string)");
	CHECK_EQ(GOOD("accounts.google.com", AUD, NULL, "true", NOW + 3000, NOW), TERR_AUTH);
	CHECK_STR(why, "token has no email");
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "true", -1, NOW), TERR_AUTH);
	CHECK_STR(why, "token has no exp (a number)");
	CHECK_EQ(GOOD("accounts.google.com", AUD, EMAIL, "true", NOW + 3000, -1), TERR_AUTH);
	CHECK_STR(why, "token has no iat (a number)");
}

TEST(malformed_tokens_are_refused)
{
	static const char *bad[] = {
		"", "abc", "a.b", "a.b.c.d", "eyJhbGciOiJSUzI1NiJ9..c", "!!!.b.c",
		"bm90IGpzb24.eyJ9.c2ln", /* header "not json" */
	};
	const char *why = NULL;
	struct buf t;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		CHECK_EQ(google_oidc_verify(keys, bad[i], strlen(bad[i]), &want, NOW, &why),
		    TERR_AUTH);
		CHECK_STR(why, "malformed token");
	}
	/* Signed claims that are not JSON. */
	buf_init(&t, 1 << 16);
	sign(&t, key1, HDR1, "{\"iss\":");
	CHECK_EQ(google_oidc_verify(keys, t.p, t.len, &want, NOW, &why), TERR_AUTH);
	CHECK_STR(why, "malformed token claims");
	sign(&t, key1, HDR1, "[1,2]");
	CHECK_EQ(google_oidc_verify(keys, t.p, t.len, &want, NOW, &why), TERR_AUTH);
	CHECK_STR(why, "malformed token claims");
	/* A signature that is not base64url. */
	buf_reset(&t);
	b64url(&t, HDR1, strlen(HDR1));
	buf_puts(&t, ".e30.***");
	CHECK_EQ(google_oidc_verify(keys, t.p, t.len, &want, NOW, &why), TERR_AUTH);
	CHECK_STR(why, "malformed token signature");
	buf_release(&t);
}

TEST(a_key_under_2048_bits_is_refused)
{
	const char *why = NULL;

	CHECK_EQ(verify_claims(key_small, "{\"alg\":\"RS256\",\"kid\":\"small\"}",
		     "accounts.google.com", AUD, EMAIL, "true", NOW + 3000, NOW, &why),
	    TERR_AUTH);
	CHECK_STR(why, "token key is shorter than 2048 bits");
}

TEST(no_configured_audience_or_email_refuses_everything)
{
	const struct google_oidc_want none = { AUD, "" }, none2 = { NULL, EMAIL };
	const char *why = NULL;
	char c[1024];
	struct buf t;

	buf_init(&t, 1 << 16);
	claims(c, sizeof(c), "accounts.google.com", AUD, "", "true", NOW + 3000, NOW);
	sign(&t, key1, HDR1, c);
	CHECK_EQ(google_oidc_verify(keys, t.p, t.len, &none, NOW, &why), TERR_CONFIG);
	CHECK(why != NULL);
	CHECK_EQ(google_oidc_verify(keys, t.p, t.len, &none2, NOW, &why), TERR_CONFIG);
	buf_release(&t);
}

TEST(bearer_header_is_read_as_rfc_6750_says)
{
	const char *why = NULL;
	char c[1024];
	struct buf t, h;

	buf_init(&t, 1 << 16);
	buf_init(&h, 1 << 16);
	claims(c, sizeof(c), "accounts.google.com", AUD, EMAIL, "true", NOW + 3000, NOW);
	sign(&t, key1, HDR1, c);
	buf_printf(&h, "Bearer %s", t.p);
	CHECK_EQ(google_oidc_verify_bearer(keys, h.p, &want, NOW, &why), TERR_OK);
	buf_reset(&h);
	buf_printf(&h, "bearer   %s ", t.p);
	CHECK_EQ(google_oidc_verify_bearer(keys, h.p, &want, NOW, &why), TERR_OK);
	buf_reset(&h);
	buf_printf(&h, "Basic %s", t.p);
	CHECK_EQ(google_oidc_verify_bearer(keys, h.p, &want, NOW, &why), TERR_AUTH);
	CHECK_STR(why, "Authorization is not a Bearer token");
	buf_reset(&h);
	buf_printf(&h, "Bearer%s", t.p);
	CHECK_EQ(google_oidc_verify_bearer(keys, h.p, &want, NOW, &why), TERR_AUTH);
	CHECK_EQ(google_oidc_verify_bearer(keys, "Bearer   ", &want, NOW, &why), TERR_AUTH);
	CHECK_STR(why, "Authorization has an empty Bearer token");
	CHECK_EQ(google_oidc_verify_bearer(keys, NULL, &want, NOW, &why), TERR_AUTH);
	CHECK_STR(why, "no Authorization header");
	buf_release(&t);
	buf_release(&h);
}

static enum terr
keys_parse(const char *json, struct google_keys **ks, const char **why)
{
	return google_keys_parse(json, strlen(json), ks, why);
}

static enum terr
sa_load(struct google_sa *sa, const char *json, const char **why)
{
	return google_sa_load(sa, json, strlen(json), why);
}

TEST(key_set_keeps_rsa_signing_keys_and_refuses_broken_ones)
{
	struct google_keys *ks = NULL;
	struct buf j;
	const char *why = NULL;

	buf_init(&j, 1 << 16);
	/* An EC key, an encryption key and an RS512 key are skipped; the RS256 one is kept. */
	buf_puts(&j,
	    "{\"keys\":[{\"kty\":\"EC\",\"kid\":\"e\",\"crv\":\"P-256\",\"x\":\"AA\","
	    "\"y\":\"AA\"},{\"kty\":\"RSA\",\"kid\":\"enc\",\"use\":\"enc\",\"n\":\"AA\","
	    "\"e\":\"AQAB\"},{\"kty\":\"RSA\",\"kid\":\"r5\",\"alg\":\"RS512\",\"n\":\"AA\","
	    "\"e\":\"AQAB\"},");
	jwk(&j, key1, "k1");
	buf_puts(&j, "]}");
	CHECK_EQ(google_keys_parse(j.p, j.len, &ks, &why), TERR_OK);
	CHECK_EQ(google_keys_count(ks), 1);
	google_keys_free(ks);
	ks = NULL;

	/* The same kid twice. */
	buf_reset(&j);
	buf_puts(&j, "{\"keys\":[");
	jwk(&j, key1, "k1");
	buf_putc(&j, ',');
	jwk(&j, key2, "k1");
	buf_puts(&j, "]}");
	CHECK_EQ(google_keys_parse(j.p, j.len, &ks, &why), TERR_INVAL);
	CHECK_STR(why, "key set names one kid twice");
	CHECK(ks == NULL);

	CHECK_EQ(keys_parse("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"**\","
			    "\"e\":\"AQAB\"}]}",
		     &ks, &why),
	    TERR_INVAL);
	CHECK_STR(why, "key set entry has a malformed n or e");
	CHECK_EQ(keys_parse("{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"a\",\"n\":\"AAAA\","
			    "\"e\":\"AQAB\"}]}",
		     &ks, &why),
	    TERR_INVAL);
	CHECK_STR(why, "key set entry is not a valid RSA public key");
	CHECK_EQ(keys_parse("{\"keys\":[{\"kty\":\"RSA\",\"n\":\"AQAB\",\"e\":\"AQAB\"}]}", &ks,
		     &why),
	    TERR_INVAL);
	CHECK_STR(why, "key set entry has no usable kid");
	CHECK_EQ(keys_parse("{\"keys\":[]}", &ks, &why), TERR_INVAL);
	CHECK_STR(why, "key set has no RS256 key");
	CHECK_EQ(keys_parse("{\"keys\":{}}", &ks, &why), TERR_INVAL);
	CHECK_STR(why, "key set has no keys array");
	CHECK_EQ(keys_parse("{\"keys\":[", &ks, &why), TERR_INVAL);
	CHECK_STR(why, "key set is not a JSON object");
	CHECK_EQ(keys_parse("{\"keys\":[1]}", &ks, &why), TERR_INVAL);
	CHECK_STR(why, "key set entry is not an object");
	CHECK(ks == NULL);
	buf_release(&j);
}

TEST(cache_control_gives_max_age_or_nothing)
{
	CHECK_EQ(google_cache_max_age("public, max-age=19876, must-revalidate, no-transform"),
	    19876);
	CHECK_EQ(google_cache_max_age("public, max-age=19876, must-revalidate"), 19876);
	CHECK_EQ(google_cache_max_age("MAX-AGE=5"), 5);
	CHECK_EQ(google_cache_max_age("max-age=\"7\""), 7);
	CHECK_EQ(google_cache_max_age("max-age=1, max-age=2"), 1);
	CHECK_EQ(google_cache_max_age("max-age=99999999999999999999"), 2147483648LL);
	CHECK_EQ(google_cache_max_age("no-store"), 0);
	CHECK_EQ(google_cache_max_age("max-age=600, no-store"), 0);
	CHECK_EQ(google_cache_max_age("no-cache, max-age=600"), 0);
	CHECK_EQ(google_cache_max_age("junk"), 0);
	CHECK_EQ(google_cache_max_age("max-age=12x"), 0);
	CHECK_EQ(google_cache_max_age("max-age=-5"), 0);
	CHECK_EQ(google_cache_max_age("max-age="), 0);
	CHECK_EQ(google_cache_max_age("max-age"), 0);
	CHECK_EQ(google_cache_max_age("s-maxage=300"), 0);
	CHECK_EQ(google_cache_max_age(""), 0);
	CHECK_EQ(google_cache_max_age(NULL), 0);
}

/* A service account key file for k, as Google's console writes it. */
static void
key_file(struct buf *out, EVP_PKEY *k, const char *type)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem = NULL;
	long n;
	struct jw w;

	PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL, NULL);
	n = BIO_get_mem_data(bio, &pem);
	jw_init(&w, out);
	jw_obj(&w);
	jw_kstr(&w, "type", type);
	jw_kstr(&w, "project_id", "example-project");
	jw_kstr(&w, "private_key_id", "0123456789abcdef0123456789abcdef01234567");
	jw_key(&w, "private_key");
	jw_strn(&w, pem, (size_t)n);
	jw_kstr(&w, "client_email", "tally-api@example-project.iam.gserviceaccount.com");
	jw_kstr(&w, "client_id", "1234567890");
	jw_kstr(&w, "token_uri", "https://oauth2.googleapis.com/token");
	jw_end(&w);
	BIO_free(bio);
}

TEST(service_account_assertion_verifies_and_claims_what_google_wants)
{
	struct google_sa sa;
	struct buf f, jwt, part, body;
	struct jose_parts p;
	unsigned char sig[1024];
	size_t siglen;
	EVP_MD_CTX *ctx;
	const char *why = NULL;
	int ok;
	static const char form[] =
	    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";

	buf_init(&f, 1 << 16);
	buf_init(&jwt, 1 << 16);
	buf_init(&part, 1 << 16);
	buf_init(&body, 1 << 16);
	key_file(&f, key1, "service_account");
	CHECK(f.err == TERR_OK);
	CHECK_EQ(google_sa_load(&sa, f.p, f.len, &why), TERR_OK);
	CHECK_STR(sa.client_email, "tally-api@example-project.iam.gserviceaccount.com");
	CHECK(google_sa_assertion(&sa, NOW, &jwt) == TERR_OK);
	CHECK(jose_split(jwt.p, jwt.len, &p) == TERR_OK);
	CHECK(jose_decode(p.header, p.header_len, &part) == TERR_OK);
	CHECK_STR(buf_cstr(&part),
	    "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":"
	    "\"0123456789abcdef0123456789abcdef01234567\"}");
	CHECK(jose_decode(p.payload, p.payload_len, &part) == TERR_OK);
	CHECK_STR(buf_cstr(&part),
	    "{\"iss\":\"tally-api@example-project.iam.gserviceaccount.com\","
	    "\"scope\":\"https://www.googleapis.com/auth/androidpublisher\","
	    "\"aud\":\"https://oauth2.googleapis.com/token\",\"iat\":1700000000,"
	    "\"exp\":1700003600}");
	/* The signature, checked with OpenSSL directly against the public half. */
	CHECK(text_b64dec(p.sig, p.sig_len, 1, sig, sizeof(sig), &siglen) == TERR_OK);
	CHECK_EQ(siglen, 256);
	ctx = EVP_MD_CTX_new();
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key1) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)jwt.p, p.signing_len) == 1;
	EVP_MD_CTX_free(ctx);
	CHECK(ok);
	/* Not under another key. */
	ctx = EVP_MD_CTX_new();
	ok = EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key2) == 1 &&
	    EVP_DigestVerify(ctx, sig, siglen, (const unsigned char *)jwt.p, p.signing_len) == 1;
	EVP_MD_CTX_free(ctx);
	CHECK(!ok);
	CHECK(google_sa_token_body(&sa, NOW, &body) == TERR_OK);
	CHECK(strncmp(body.p, form, sizeof(form) - 1) == 0);
	CHECK_EQ(body.len, sizeof(form) - 1 + jwt.len);
	CHECK(memcmp(body.p + sizeof(form) - 1, jwt.p, jwt.len) ==
	    0); /* RSA PKCS#1 v1.5 is deterministic */
	google_sa_release(&sa);
	CHECK(sa.pkey == NULL);
	CHECK(sa.client_email[0] == '\0');
	CHECK(google_sa_assertion(&sa, NOW, &jwt) == TERR_CONFIG);
	buf_release(&f);
	buf_release(&jwt);
	buf_release(&part);
	buf_release(&body);
}

TEST(service_account_key_file_is_refused_when_unusable)
{
	struct google_sa sa;
	struct buf f;
	const char *why = NULL;

	buf_init(&f, 1 << 16);
	key_file(&f, key_small, "service_account");
	CHECK_EQ(google_sa_load(&sa, f.p, f.len, &why), TERR_CONFIG);
	CHECK_STR(why, "service account private_key is not an RSA key of 2048 bits or more");
	CHECK(sa.pkey == NULL);
	buf_reset(&f);
	key_file(&f, key1, "authorized_user");
	CHECK_EQ(google_sa_load(&sa, f.p, f.len, &why), TERR_INVAL);
	CHECK_STR(why, "key file is not a service account's (type)");
	CHECK_EQ(sa_load(&sa, "{\"type\":\"service_account\",\"private_key_id\":\"a\"}", &why),
	    TERR_INVAL);
	CHECK_STR(why, "service account key file has no usable client_email");
	CHECK_EQ(sa_load(&sa, "{\"client_email\":\"a@b\",\"private_key_id\":\"a\"}", &why),
	    TERR_INVAL);
	CHECK_STR(why, "service account key file has no private_key");
	CHECK_EQ(sa_load(&sa, "{\"client_email\":\"a@b\",\"private_key\":\"x\"}", &why),
	    TERR_INVAL);
	CHECK_STR(why, "service account key file has no usable private_key_id");
	CHECK_EQ(sa_load(&sa,
		     "{\"client_email\":\"a@b\",\"private_key_id\":\"a\",\"private_key\":\"x\"}",
		     &why),
	    TERR_CONFIG);
	CHECK_EQ(sa_load(&sa, "not json", &why), TERR_INVAL);
	CHECK_STR(why, "service account key file is not a JSON object");
	CHECK(sa.pkey == NULL);
	buf_release(&f);
}

/* A token under k1 with the usual claims but for exp and iat (and aud), into t. */
static void
token(struct buf *t, const char *aud, long long exp, long long iat)
{
	char c[1024];

	claims(c, sizeof(c), "accounts.google.com", aud, EMAIL, "true", exp, iat);
	sign(t, key1, HDR1, c);
}

TEST(a_cached_token_is_checked_against_the_clock_on_every_hit)
{
	struct google_tokcache *tc = NULL;
	const char *why = "unset";
	struct buf t;

	buf_init(&t, 1 << 16);
	CHECK_EQ(google_tokcache_new(&tc), TERR_OK);
	token(&t, AUD, NOW + 100, NOW);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	CHECK(why == NULL);
	CHECK_EQ(google_tokcache_count(tc), 1);
	CHECK_EQ(google_tokcache_hits(tc), 0);
	why = "unset";
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW + 99, &why), TERR_OK);
	CHECK(why == NULL);
	CHECK_EQ(google_tokcache_hits(tc), 1);
	/* Expired: refused from the cache, as a full verification would, and dropped. */
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW + 100, &why), TERR_STALE);
	CHECK_STR(why, "token has expired");
	CHECK_EQ(google_tokcache_count(tc), 0);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW + 100, &why), TERR_STALE);
	CHECK_EQ(google_tokcache_count(tc), 0);
	/* The clock set back: issued in the future again. */
	token(&t, AUD, NOW + 3000, NOW);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW - 61, &why), TERR_STALE);
	CHECK_STR(why, "token is issued in the future");
	CHECK_EQ(google_tokcache_count(tc), 0);
	/* A token living longer than Google's hour is refused once older than it. */
	token(&t, AUD, NOW + 10000, NOW);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW + 3660, &why), TERR_OK);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW + 3661, &why), TERR_STALE);
	CHECK_STR(why, "token is older than an hour");
	google_tokcache_free(tc);
	buf_release(&t);
}

TEST(a_token_differing_by_one_byte_is_never_a_hit)
{
	struct google_tokcache *tc = NULL;
	const char *why = NULL;
	struct buf t;
	uint64_t hits;
	size_t i;
	char *sig;

	buf_init(&t, 1 << 16);
	CHECK_EQ(google_tokcache_new(&tc), TERR_OK);
	token(&t, AUD, NOW + 3000, NOW);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	hits = google_tokcache_hits(tc);
	CHECK_EQ(hits, 1);
	/* One byte of the signature changed, at its start and in its middle. */
	sig = strrchr(t.p, '.') + 1;
	for (i = 0; i < 2; i++) {
		char *b = i == 0 ? sig : sig + strlen(sig) / 2, keep = *b;

		*b = keep == 'A' ? 'B' : 'A';
		CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_AUTH);
		CHECK_EQ(google_tokcache_hits(tc), hits);
		*b = keep;
	}
	/* A prefix of the token (its signature cut short) is another token too. */
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len - 1, &want, NOW, &why), TERR_AUTH);
	CHECK_EQ(google_tokcache_hits(tc), hits);
	CHECK_EQ(google_tokcache_count(tc), 1);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	CHECK_EQ(google_tokcache_hits(tc), hits + 1);
	google_tokcache_free(tc);
	buf_release(&t);
}

TEST(a_refused_token_is_never_cached)
{
	struct google_tokcache *tc = NULL;
	const char *why = NULL;
	char c[1024];
	struct buf t;
	int i;

	buf_init(&t, 1 << 16);
	CHECK_EQ(google_tokcache_new(&tc), TERR_OK);
	for (i = 0; i < 2; i++) {
		token(&t, "https://other.example.com/push", NOW + 3000, NOW);
		CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_AUTH);
		CHECK_STR(why, "token audience is not the configured one");
		claims(c, sizeof(c), "accounts.google.com", AUD, "someone@example.com", "true",
		    NOW + 3000, NOW);
		sign(&t, key1, HDR1, c);
		CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_AUTH);
		claims(c, sizeof(c), "accounts.google.com", AUD, EMAIL, "false", NOW + 3000, NOW);
		sign(&t, key1, HDR1, c);
		CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_AUTH);
		token(&t, AUD, NOW - 1, NOW - 100);
		CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why),
		    TERR_STALE);
		claims(c, sizeof(c), "accounts.google.com", AUD, EMAIL, "true", NOW + 3000, NOW);
		sign(&t, key_other, HDR1, c); /* a kid of the set, another key */
		CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_AUTH);
		/* The same good token verified against another configuration is refused. */
		token(&t, AUD, NOW + 3000, NOW);
		CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len,
			     &(struct google_oidc_want){ "https://x.example/", EMAIL }, NOW, &why),
		    TERR_AUTH);
	}
	CHECK_EQ(google_tokcache_count(tc), 0);
	CHECK_EQ(google_tokcache_hits(tc), 0);
	/* No cache: a full verification each time. */
	CHECK_EQ(google_tokcache_verify(NULL, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	google_tokcache_free(tc);
	buf_release(&t);
}

TEST(a_cached_token_under_a_withdrawn_key_is_verified_again)
{
	struct google_tokcache *tc = NULL;
	struct google_keys *only2 = NULL;
	const char *why = NULL;
	struct buf j, t;

	buf_init(&j, 1 << 16);
	buf_init(&t, 1 << 16);
	buf_puts(&j, "{\"keys\":[");
	jwk(&j, key2, "k2");
	buf_puts(&j, "]}");
	CHECK_EQ(google_keys_parse(j.p, j.len, &only2, &why), TERR_OK);
	CHECK_EQ(google_tokcache_new(&tc), TERR_OK);
	token(&t, AUD, NOW + 3000, NOW);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	CHECK_EQ(google_tokcache_count(tc), 1);
	/* Google no longer publishes k1: the token is refused as a full verification says. */
	CHECK_EQ(google_tokcache_verify(tc, only2, t.p, t.len, &want, NOW, &why), TERR_NOTFOUND);
	CHECK_EQ(google_tokcache_count(tc), 0);
	CHECK_EQ(google_tokcache_hits(tc), 0);
	google_tokcache_free(tc);
	google_keys_free(only2);
	buf_release(&j);
	buf_release(&t);
}

TEST(the_token_cache_holds_at_most_its_bound_dropping_the_first_to_expire)
{
	struct google_tokcache *tc = NULL;
	const char *why = NULL;
	struct buf t;
	uint64_t hits;
	int i;

	buf_init(&t, 1 << 16);
	CHECK_EQ(google_tokcache_new(&tc), TERR_OK);
	for (i = 0; i < GOOGLE_TOKCACHE_MAX + 8; i++) {
		token(&t, AUD, NOW + 1000 + i, NOW);
		CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	}
	CHECK_EQ(google_tokcache_count(tc), GOOGLE_TOKCACHE_MAX);
	hits = google_tokcache_hits(tc);
	/* The last one is held; the first (expiring first) was dropped. */
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	CHECK_EQ(google_tokcache_hits(tc), hits + 1);
	token(&t, AUD, NOW + 1000, NOW);
	CHECK_EQ(google_tokcache_verify(tc, keys, t.p, t.len, &want, NOW, &why), TERR_OK);
	CHECK_EQ(google_tokcache_hits(tc), hits + 1);
	google_tokcache_free(tc);
	buf_release(&t);
}

struct tc_run {
	struct google_tokcache *tc;
	const struct buf *t;
	int ok;
};

static void *
tc_worker(void *arg)
{
	struct tc_run *r = arg;
	const char *why;
	int i;

	for (i = 0; i < 200; i++)
		r->ok += google_tokcache_verify(r->tc, keys, r->t->p, r->t->len, &want, NOW + i,
			     &why) == TERR_OK;
	return NULL;
}

TEST(the_token_cache_is_shared_by_threads)
{
	struct google_tokcache *tc = NULL;
	struct tc_run runs[4];
	pthread_t th[4];
	struct buf t;
	int i, ok = 0;

	buf_init(&t, 1 << 16);
	CHECK_EQ(google_tokcache_new(&tc), TERR_OK);
	token(&t, AUD, NOW + 3000, NOW);
	for (i = 0; i < 4; i++) {
		runs[i] = (struct tc_run){ tc, &t, 0 };
		pthread_create(&th[i], NULL, tc_worker, &runs[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		ok += runs[i].ok;
	}
	CHECK_EQ(ok, 800);
	CHECK_EQ(google_tokcache_count(tc), 1);
	/* At most one full verification per thread (those racing before the first put). */
	CHECK(google_tokcache_hits(tc) >= 796);
	google_tokcache_free(tc);
	buf_release(&t);
}

int
main(void)
{
	struct buf j;
	const char *why = NULL;
	int rc;

	key1 = EVP_RSA_gen(2048);
	key2 = EVP_RSA_gen(2048);
	key_other = EVP_RSA_gen(2048);
	key_small = EVP_RSA_gen(1024);
	if (key1 == NULL || key2 == NULL || key_other == NULL || key_small == NULL) {
		printf("FAIL setup: RSA key generation\n");
		return 1;
	}
	buf_init(&j, 1 << 16);
	buf_puts(&j, "{\"keys\":[");
	jwk(&j, key1, "k1");
	buf_putc(&j, ',');
	jwk(&j, key2, "k2");
	buf_putc(&j, ',');
	jwk(&j, key_small, "small");
	buf_puts(&j, "]}");
	if (google_keys_parse(j.p, j.len, &keys, &why) != TERR_OK) {
		printf("FAIL setup: key set: %s\n", why);
		return 1;
	}
	buf_release(&j);

	RUN(a_good_token_passes);
	RUN(a_wrong_signature_or_tampered_payload_is_refused);
	RUN(every_other_algorithm_is_refused_before_the_key);
	RUN(an_unknown_kid_is_its_own_error);
	RUN(iss_aud_and_email_must_be_googles_and_the_configured_ones);
	RUN(email_verified_must_be_true);
	RUN(expired_future_and_too_old_tokens_are_refused);
	RUN(missing_claims_are_refused);
	RUN(malformed_tokens_are_refused);
	RUN(a_key_under_2048_bits_is_refused);
	RUN(no_configured_audience_or_email_refuses_everything);
	RUN(bearer_header_is_read_as_rfc_6750_says);
	RUN(key_set_keeps_rsa_signing_keys_and_refuses_broken_ones);
	RUN(a_cached_token_is_checked_against_the_clock_on_every_hit);
	RUN(a_token_differing_by_one_byte_is_never_a_hit);
	RUN(a_refused_token_is_never_cached);
	RUN(a_cached_token_under_a_withdrawn_key_is_verified_again);
	RUN(the_token_cache_holds_at_most_its_bound_dropping_the_first_to_expire);
	RUN(the_token_cache_is_shared_by_threads);
	RUN(cache_control_gives_max_age_or_nothing);
	RUN(service_account_assertion_verifies_and_claims_what_google_wants);
	RUN(service_account_key_file_is_refused_when_unusable);
	rc = t_done();
	google_keys_free(keys);
	EVP_PKEY_free(key1);
	EVP_PKEY_free(key2);
	EVP_PKEY_free(key_other);
	EVP_PKEY_free(key_small);
	return rc;
}
