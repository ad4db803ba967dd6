#include <stdarg.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "base/text.h"
#include "crypto/crypto.h"

void
crypto_init(void)
{
	/*
	 * Only what tally uses, fetched by name: no configuration file, no
	 * legacy tables of every cipher and digest (most of a one-shot CGI
	 * process's start-up time otherwise).
	 */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG | OPENSSL_INIT_NO_ADD_ALL_CIPHERS |
		OPENSSL_INIT_NO_ADD_ALL_DIGESTS,
	    NULL);
}

enum terr
crypto_hmac_init(struct hmac_key *k, const void *key, size_t n)
{
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	OSSL_PARAM params[2];
	enum terr rc = TERR_INTERNAL;

	k->ctx = NULL;
	if ((mac = EVP_MAC_fetch(NULL, "HMAC", NULL)) == NULL)
		goto out;
	if ((ctx = EVP_MAC_CTX_new(mac)) == NULL)
		goto out;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	if (!EVP_MAC_init(ctx, key, n, params))
		goto out;
	k->ctx = ctx;
	ctx = NULL;
	rc = TERR_OK;
out:
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
	return rc;
}

void
crypto_hmac_release(struct hmac_key *k)
{
	EVP_MAC_CTX_free(k->ctx);
	k->ctx = NULL;
}

enum terr
crypto_hmac_sha256(const struct hmac_key *k, const struct iov *parts, size_t nparts,
    unsigned char out[SHA256_LEN])
{
	EVP_MAC_CTX *ctx;
	size_t i, outl = 0;
	enum terr rc = TERR_INTERNAL;

	if (k->ctx == NULL || (ctx = EVP_MAC_CTX_dup(k->ctx)) == NULL)
		return TERR_INTERNAL;
	for (i = 0; i < nparts; i++)
		if (!EVP_MAC_update(ctx, parts[i].p, parts[i].n))
			goto out;
	if (!EVP_MAC_final(ctx, out, &outl, SHA256_LEN) || outl != SHA256_LEN)
		goto out;
	rc = TERR_OK;
out:
	EVP_MAC_CTX_free(ctx);
	return rc;
}

int
crypto_hmac_match(const struct hmac_key *keys, size_t nkeys, const struct iov *parts, size_t nparts,
    const unsigned char (*sigs)[SHA256_LEN], size_t nsig)
{
	unsigned char mac[SHA256_LEN];
	size_t i, j;
	int found = 0;

	for (i = 0; i < nkeys && !found; i++) {
		if (crypto_hmac_sha256(&keys[i], parts, nparts, mac) != TERR_OK) {
			found = -1;
			break;
		}
		for (j = 0; j < nsig; j++)
			if (crypto_ct_eq(mac, sigs[j], SHA256_LEN))
				found = 1;
	}
	crypto_wipe(mac, sizeof(mac));
	return found;
}

int
crypto_hmac_hex_match(const struct hmac_key *keys, size_t nkeys, const struct iov *parts,
    size_t nparts, const char *hex, size_t hexlen)
{
	unsigned char sig[1][SHA256_LEN];

	if (hex == NULL || hexlen != 2 * SHA256_LEN ||
	    text_unhex(hex, hexlen, sig[0], SHA256_LEN) != TERR_OK)
		return 0;
	return crypto_hmac_match(keys, nkeys, parts, nparts,
	    (const unsigned char(*)[SHA256_LEN])sig, 1);
}

void
crypto_sha256(const void *p, size_t n, unsigned char out[SHA256_LEN])
{
	unsigned int len = 0;

	EVP_Digest(p, n, out, &len, EVP_sha256(), NULL);
}

int
crypto_ct_eq(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

enum terr
crypto_random_bytes(void *p, size_t n)
{
	return RAND_bytes(p, (int)n) == 1 ? TERR_OK : TERR_INTERNAL;
}

void
crypto_wipe(void *p, size_t n)
{
	OPENSSL_cleanse(p, n);
}

enum terr
crypto_key(char *out, size_t size, const char *first, ...)
{
	unsigned char d[SHA256_LEN];
	char full[4096], hex[2 * SHA256_LEN + 1];
	va_list ap;
	enum terr rc;

	va_start(ap, first);
	rc = text_keyv(full, sizeof(full), first, ap);
	va_end(ap);
	if (rc != TERR_OK)
		return rc;
	if (text_copy(out, size, full) == TERR_OK)
		return TERR_OK;
	crypto_sha256(full, strlen(full), d);
	text_hex(d, 16, hex + 1);
	hex[0] = '#';
	return text_key(out, size, first, hex, NULL);
}
