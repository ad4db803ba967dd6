/*
 * Google Play's push tokens (google_oidc.h) over a fixed JWK set: two RSA
 * keys made once per run ("k1", 2048 bits; "small", 1024 bits, kept and
 * refused) and a key of another type the set skips. The first byte chooses:
 *   0  the rest is a token: google_oidc_verify, and the same as an
 *      Authorization value through google_oidc_verify_bearer;
 *   1  the rest is "HEADER\nCLAIMS" (or CLAIMS under a good header), signed
 *      here under k1, so that the claim checks behind the signature are
 *      reached with any claims and any header;
 *   2  the rest is a JWK set (google_keys_parse), then a Cache-Control value
 *      (google_cache_max_age).
 * A crash reproduces whatever the run's keys: a mutated token never carries
 * a valid signature, and mode 1 signs with the key of the run.
 */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "base/buf.h"
#include "crypto/jose.h"
#include "fuzz.h"
#include "providers/google/google_oidc.h"

#define NOW 1700000000LL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct google_oidc_want want = { "https://billing.example.com/webhooks/google",
	"rtdn-push@tally-test.iam.gserviceaccount.com" };
static EVP_PKEY *k1;
static struct google_keys *keys;

/* A JWK member "name":"<base64url of the key's parameter>". */
static void
jwk_param(struct buf *out, EVP_PKEY *k, const char *name)
{
	unsigned char bytes[512];
	char b64[700];
	BIGNUM *bn = NULL;
	int n;

	if (EVP_PKEY_get_bn_param(k, name, &bn) != 1 || (n = BN_bn2bin(bn, bytes)) <= 0)
		abort();
	BN_free(bn);
	buf_printf(out, "\"%s\":\"", name);
	buf_append(out, b64, text_b64enc(bytes, (size_t)n, 1, b64, sizeof(b64)));
	buf_putc(out, '"');
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

static void
setup(void)
{
	EVP_PKEY *small;
	struct buf set;
	const char *why;

	if ((k1 = EVP_RSA_gen(2048)) == NULL || (small = EVP_RSA_gen(1024)) == NULL)
		abort();
	buf_init(&set, 8192);
	buf_puts(&set, "{\"keys\":[");
	jwk(&set, k1, "k1");
	buf_putc(&set, ',');
	jwk(&set, small, "small");
	buf_puts(&set,
	    ",{\"kid\":\"ec\",\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"AA\",\"y\":\"AA\"}]}");
	if (set.err != TERR_OK || google_keys_parse(set.p, set.len, &keys, &why) != TERR_OK)
		abort();
	buf_release(&set);
	EVP_PKEY_free(small);
}

static void
verify_token(const char *token, size_t n)
{
	const char *why;
	char *bearer;

	(void)google_oidc_verify(keys, token, n, &want, NOW, &why);
	if ((bearer = malloc(n + 8)) == NULL)
		abort();
	memcpy(bearer, "Bearer ", 7);
	memcpy(bearer + 7, token, n);
	bearer[n + 7] = '\0';
	(void)google_oidc_verify_bearer(keys, bearer, &want, NOW, &why);
	free(bearer);
}

/* text is "HEADER\nCLAIMS" or "CLAIMS": signed under k1 and verified. */
static void
signed_claims(char *text)
{
	char *claims = strchr(text, '\n');
	const char *header = "{\"alg\":\"RS256\",\"kid\":\"k1\",\"typ\":\"JWT\"}";
	struct buf token;

	if (claims != NULL) {
		*claims++ = '\0';
		header = text;
	} else
		claims = text;
	buf_init(&token, 3 * GOOGLE_TOKEN_MAX);
	if (jose_rs256_token(k1, header, claims, &token) == TERR_OK && token.err == TERR_OK)
		verify_token(token.p, token.len);
	buf_release(&token);
}

static void
key_set(const char *text, size_t n)
{
	struct google_keys *k = NULL;
	const char *why;
	const char *cc = memchr(text, '\0', n);

	if (google_keys_parse(text, n, &k, &why) == TERR_OK)
		(void)google_keys_count(k);
	google_keys_free(k);
	/* After the set's NUL, if any, a Cache-Control value; else the whole input. */
	(void)google_cache_max_age(cc != NULL ? cc + 1 : text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (keys == NULL)
		setup();
	if (size == 0)
		return 0;
	text = fuzz_text(data + 1, size - 1);
	switch (data[0] % 3) {
	case 0: verify_token(text, size - 1); break;
	case 1: signed_claims(text); break;
	default: key_set(text, size - 1); break;
	}
	free(text);
	return 0;
}
