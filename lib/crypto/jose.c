#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"

enum terr
jose_split(const char *t, size_t n, struct jose_parts *out)
{
	const char *d1, *d2;

	memset(out, 0, sizeof(*out));
	if (n == 0 || n > JOSE_TOKEN_MAX)
		return TERR_INVAL;
	if ((d1 = memchr(t, '.', n)) == NULL)
		return TERR_INVAL;
	if ((d2 = memchr(d1 + 1, '.', (size_t)(t + n - d1 - 1))) == NULL)
		return TERR_INVAL;
	if (memchr(d2 + 1, '.', (size_t)(t + n - d2 - 1)) != NULL)
		return TERR_INVAL; /* more than three parts (a JWE has five) */
	out->header = t;
	out->header_len = (size_t)(d1 - t);
	out->payload = d1 + 1;
	out->payload_len = (size_t)(d2 - d1 - 1);
	out->sig = d2 + 1;
	out->sig_len = (size_t)(t + n - d2 - 1);
	out->signing_len = (size_t)(d2 - t);
	if (out->header_len == 0 || out->payload_len == 0 || out->sig_len == 0)
		return TERR_INVAL;
	return TERR_OK;
}

enum terr
jose_decode(const char *p, size_t n, struct buf *out)
{
	size_t len;
	char *dst;
	enum terr rc;

	buf_reset(out);
	if ((dst = buf_reserve(out, n)) == NULL)
		return out->err;
	if ((rc = text_b64dec(p, n, 1, (unsigned char *)dst, n, &len)) != TERR_OK)
		return rc;
	buf_commit(out, len);
	return TERR_OK;
}

/* raw r||s (RFC 7518 3.4) to the DER ECDSA-Sig-Value OpenSSL verifies. */
static enum terr
raw_to_der(const unsigned char *sig, unsigned char **der, int *derlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	enum terr rc = TERR_INTERNAL;

	*der = NULL;
	if ((es = ECDSA_SIG_new()) == NULL || (r = BN_bin2bn(sig, 32, NULL)) == NULL ||
	    (s = BN_bin2bn(sig + 32, 32, NULL)) == NULL)
		goto out;
	if (!ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL; /* owned by es now */
	if ((*derlen = i2d_ECDSA_SIG(es, der)) <= 0)
		goto out;
	rc = TERR_OK;
out:
	BN_free(r);
	BN_free(s);
	ECDSA_SIG_free(es);
	return rc;
}

enum terr
jose_es256_verify(void *pkey, const void *msg, size_t n, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *der = NULL;
	int derlen = 0;
	enum terr rc = TERR_AUTH;

	if (siglen != 64 || pkey == NULL)
		return TERR_AUTH;
	if (raw_to_der(sig, &der, &derlen) != TERR_OK)
		return TERR_INTERNAL;
	if ((ctx = EVP_MD_CTX_new()) == NULL) {
		rc = TERR_NOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1)
		goto out;
	if (EVP_DigestVerify(ctx, der, (size_t)derlen, msg, n) == 1)
		rc = TERR_OK;
out:
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	return rc;
}

enum terr
jose_es256_sign(void *pkey, const void *msg, size_t n, unsigned char sig[64])
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char der[128];
	const unsigned char *p = der;
	size_t derlen = sizeof(der);
	ECDSA_SIG *es = NULL;
	const BIGNUM *r, *s;
	enum terr rc = TERR_INTERNAL;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return TERR_NOMEM;
	if (EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, pkey) != 1 ||
	    EVP_DigestSign(ctx, der, &derlen, msg, n) != 1)
		goto out;
	if ((es = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL)
		goto out;
	ECDSA_SIG_get0(es, &r, &s);
	if (BN_bn2binpad(r, sig, 32) != 32 || BN_bn2binpad(s, sig + 32, 32) != 32)
		goto out;
	rc = TERR_OK;
out:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(ctx);
	return rc;
}

static void
b64url_append(struct buf *out, const void *p, size_t n)
{
	char *dst = buf_reserve(out, (n + 2) / 3 * 4 + 1);

	if (dst != NULL)
		buf_commit(out, text_b64enc(p, n, 1, dst, (n + 2) / 3 * 4 + 1));
}

enum terr
jose_es256_token(void *pkey, const char *header, const char *claims, struct buf *out)
{
	unsigned char sig[64];
	size_t start = out->len;
	enum terr rc;

	b64url_append(out, header, strlen(header));
	buf_putc(out, '.');
	b64url_append(out, claims, strlen(claims));
	if (out->err != TERR_OK)
		return out->err;
	if ((rc = jose_es256_sign(pkey, out->p + start, out->len - start, sig)) != TERR_OK)
		return rc;
	buf_putc(out, '.');
	b64url_append(out, sig, sizeof(sig));
	crypto_wipe(sig, sizeof(sig));
	return out->err;
}

enum terr
jose_load_ec_key(const char *pem, void **pkey)
{
	BIO *bio;
	EVP_PKEY *k;

	*pkey = NULL;
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return TERR_NOMEM;
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (k == NULL)
		return TERR_CONFIG;
	if (!EVP_PKEY_is_a(k, "EC") || EVP_PKEY_get_bits(k) != 256) {
		EVP_PKEY_free(k);
		return TERR_CONFIG;
	}
	*pkey = k;
	return TERR_OK;
}

void
jose_key_free(void *pkey)
{
	EVP_PKEY_free(pkey);
}

enum terr
jose_hs256_verify(const char *token, size_t n, const void *key, size_t keylen, struct buf *claims,
    const char **why)
{
	struct jose_parts parts;
	struct hmac_key hk;
	struct iov iov;
	struct buf hdr;
	unsigned char mac[SHA256_LEN], sig[SHA256_LEN + 4];
	size_t siglen;
	cJSON *h = NULL;
	const char *alg, *jwhy;
	enum terr rc = TERR_AUTH;

	*why = "malformed token";
	buf_init(&hdr, 4096);
	if (jose_split(token, n, &parts) != TERR_OK)
		goto out;
	if (jose_decode(parts.header, parts.header_len, &hdr) != TERR_OK ||
	    json_parse(hdr.p, hdr.len, 4, &h, &jwhy) != TERR_OK || !cJSON_IsObject(h))
		goto out;
	/* RFC 8725 3.1: the algorithm is pinned; "none", RS256, ES256 ... are refused here. */
	alg = jstr(h, "alg");
	if (alg == NULL || strcmp(alg, "HS256") != 0) {
		*why = "token algorithm is not HS256";
		goto out;
	}
	if (text_b64dec(parts.sig, parts.sig_len, 1, sig, sizeof(sig), &siglen) != TERR_OK ||
	    siglen != SHA256_LEN) {
		*why = "malformed token signature";
		goto out;
	}
	if (crypto_hmac_init(&hk, key, keylen) != TERR_OK) {
		rc = TERR_INTERNAL;
		goto out;
	}
	iov.p = token;
	iov.n = parts.signing_len;
	rc = crypto_hmac_sha256(&hk, &iov, 1, mac);
	crypto_hmac_release(&hk);
	if (rc != TERR_OK)
		goto out;
	rc = TERR_AUTH;
	if (!crypto_ct_eq(mac, sig, SHA256_LEN)) {
		*why = "token signature does not match";
		goto out;
	}
	if (jose_decode(parts.payload, parts.payload_len, claims) != TERR_OK) {
		*why = "malformed token claims";
		goto out;
	}
	*why = NULL;
	rc = TERR_OK;
out:
	cJSON_Delete(h);
	buf_release(&hdr);
	return rc;
}
