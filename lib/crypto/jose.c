#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
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

/* header.claims.signature appended to out; rsa picks RS256 over ES256. */
static enum terr
sign_token(void *pkey, int rsa, const char *header, const char *claims, struct buf *out)
{
	unsigned char sig[JOSE_RSA_BYTES_MAX];
	size_t siglen = 64, start = out->len;
	enum terr rc;

	b64url_append(out, header, strlen(header));
	buf_putc(out, '.');
	b64url_append(out, claims, strlen(claims));
	if (out->err != TERR_OK)
		return out->err;
	if (rsa)
		rc = jose_rs256_sign(pkey, out->p + start, out->len - start, sig, sizeof(sig),
		    &siglen);
	else
		rc = jose_es256_sign(pkey, out->p + start, out->len - start, sig);
	if (rc != TERR_OK)
		return rc;
	buf_putc(out, '.');
	b64url_append(out, sig, siglen);
	crypto_wipe(sig, sizeof(sig));
	return out->err;
}

enum terr
jose_es256_token(void *pkey, const char *header, const char *claims, struct buf *out)
{
	return sign_token(pkey, 0, header, claims, out);
}

enum terr
jose_rs256_token(void *pkey, const char *header, const char *claims, struct buf *out)
{
	return sign_token(pkey, 1, header, claims, out);
}

/* A PEM passphrase prompt must never reach a terminal: an encrypted key is refused. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The private key of pem, or NULL; cb answers a passphrase prompt (NULL: OpenSSL's default). */
static EVP_PKEY *
read_private_key(const char *pem, pem_password_cb *cb)
{
	BIO *bio;
	EVP_PKEY *k;

	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL)
		return NULL;
	k = PEM_read_bio_PrivateKey(bio, NULL, cb, NULL);
	BIO_free(bio);
	return k;
}

enum terr
jose_load_ec_key(const char *pem, void **pkey)
{
	EVP_PKEY *k;

	*pkey = NULL;
	if ((k = read_private_key(pem, NULL)) == NULL)
		return TERR_CONFIG;
	if (!EVP_PKEY_is_a(k, "EC") || EVP_PKEY_get_bits(k) != 256) {
		EVP_PKEY_free(k);
		return TERR_CONFIG;
	}
	*pkey = k;
	return TERR_OK;
}

enum terr
jose_load_rsa_key(const char *pem, void **pkey)
{
	EVP_PKEY *k;

	*pkey = NULL;
	if ((k = read_private_key(pem, no_passphrase)) == NULL)
		return TERR_CONFIG;
	if (jose_rsa_bits(k) < JOSE_RSA_BITS_MIN) {
		EVP_PKEY_free(k);
		return TERR_CONFIG;
	}
	*pkey = k;
	return TERR_OK;
}

int
jose_rsa_bits(void *pkey)
{
	if (pkey == NULL || !EVP_PKEY_is_a(pkey, "RSA"))
		return 0;
	return EVP_PKEY_get_bits(pkey);
}

enum terr
jose_rsa_public(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen,
    void **pkey)
{
	BIGNUM *bn = NULL, *be = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	enum terr rc = TERR_INVAL;

	*pkey = NULL;
	while (nlen > 0 && *n == 0) {
		n++;
		nlen--;
	}
	while (elen > 0 && *e == 0) {
		e++;
		elen--;
	}
	if (nlen == 0 || nlen > JOSE_RSA_BYTES_MAX || elen == 0 || elen > 8)
		return TERR_INVAL;
	rc = TERR_INTERNAL;
	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL ||
	    (be = BN_bin2bn(e, (int)elen, NULL)) == NULL)
		goto out;
	rc = TERR_INVAL;
	/* RFC 8017 3.1: an odd modulus; an odd public exponent of at least 3. */
	if (!BN_is_odd(bn) || !BN_is_odd(be) || BN_is_one(be))
		goto out;
	rc = TERR_INTERNAL;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL)
		goto out;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	*pkey = k;
	rc = TERR_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(be);
	BN_free(bn);
	return rc;
}

/* A digest context for RS256 over pkey: SHA-256 with PKCS#1 v1.5 padding, pinned. */
static EVP_MD_CTX *
rs256_ctx(void *pkey, int sign)
{
	EVP_MD_CTX *ctx;
	EVP_PKEY_CTX *pctx = NULL;
	int ok;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (sign)
		ok = EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), NULL, pkey) == 1;
	else
		ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), NULL, pkey) == 1;
	if (!ok || EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

enum terr
jose_rs256_verify(void *pkey, const void *msg, size_t n, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX *ctx;
	enum terr rc = TERR_AUTH;

	if (jose_rsa_bits(pkey) < JOSE_RSA_BITS_MIN || siglen != (size_t)EVP_PKEY_get_size(pkey))
		return TERR_AUTH;
	if ((ctx = rs256_ctx(pkey, 0)) == NULL)
		return TERR_INTERNAL;
	if (EVP_DigestVerify(ctx, sig, siglen, msg, n) == 1)
		rc = TERR_OK;
	EVP_MD_CTX_free(ctx);
	return rc;
}

enum terr
jose_rs256_sign(void *pkey, const void *msg, size_t n, unsigned char *sig, size_t size,
    size_t *siglen)
{
	EVP_MD_CTX *ctx;
	enum terr rc = TERR_INTERNAL;

	*siglen = 0;
	if (jose_rsa_bits(pkey) < JOSE_RSA_BITS_MIN)
		return TERR_CONFIG;
	if (size < (size_t)EVP_PKEY_get_size(pkey))
		return TERR_TOOBIG;
	if ((ctx = rs256_ctx(pkey, 1)) == NULL)
		return TERR_INTERNAL;
	*siglen = size;
	if (EVP_DigestSign(ctx, sig, siglen, msg, n) == 1)
		rc = TERR_OK;
	else
		*siglen = 0;
	EVP_MD_CTX_free(ctx);
	return rc;
}

void
jose_key_free(void *pkey)
{
	EVP_PKEY_free(pkey);
}

enum terr
jose_peek_header(const char *token, size_t n, struct buf *header)
{
	struct jose_parts parts;

	if (jose_split(token, n, &parts) != TERR_OK)
		return TERR_INVAL;
	if (jose_decode(parts.header, parts.header_len, header) != TERR_OK)
		return TERR_INVAL;
	return TERR_OK;
}

/*
 * Split token[0..n) into parts and check that its header is a JSON object
 * whose "alg" is alg. TERR_AUTH with *why otherwise.
 */
static enum terr
pinned_header(const char *token, size_t n, const char *alg, struct jose_parts *parts,
    const char **why)
{
	struct buf hdr;
	cJSON *h = NULL;
	const char *a, *jwhy;
	enum terr rc = TERR_AUTH;

	*why = "malformed token";
	buf_init(&hdr, 4096);
	if (jose_split(token, n, parts) != TERR_OK)
		goto out;
	if (jose_decode(parts->header, parts->header_len, &hdr) != TERR_OK ||
	    json_parse(hdr.p, hdr.len, 4, &h, &jwhy) != TERR_OK || !cJSON_IsObject(h))
		goto out;
	/* RFC 8725 3.1: the algorithm is pinned; "none" and every other one are refused here. */
	a = jstr(h, "alg");
	if (a == NULL || strcmp(a, alg) != 0) {
		*why = strcmp(alg, "HS256") == 0 ? "token algorithm is not HS256"
						 : "token algorithm is not RS256";
		goto out;
	}
	rc = TERR_OK;
out:
	cJSON_Delete(h);
	buf_release(&hdr);
	return rc;
}

enum terr
jose_hs256_token(const void *key, size_t keylen, const char *header, const char *claims,
    struct buf *out)
{
	struct hmac_key hk;
	struct iov iov;
	unsigned char mac[SHA256_LEN];
	size_t start = out->len;
	enum terr rc;

	b64url_append(out, header, strlen(header));
	buf_putc(out, '.');
	b64url_append(out, claims, strlen(claims));
	if (out->err != TERR_OK)
		return out->err;
	if (crypto_hmac_init(&hk, key, keylen) != TERR_OK)
		return TERR_INTERNAL;
	iov.p = out->p + start;
	iov.n = out->len - start;
	rc = crypto_hmac_sha256(&hk, &iov, 1, mac);
	crypto_hmac_release(&hk);
	if (rc != TERR_OK)
		return rc;
	buf_putc(out, '.');
	b64url_append(out, mac, sizeof(mac));
	crypto_wipe(mac, sizeof(mac));
	return out->err;
}

enum terr
jose_hs256_verify(const char *token, size_t n, const void *key, size_t keylen, struct buf *claims,
    const char **why)
{
	struct jose_parts parts;
	struct hmac_key hk;
	struct iov iov;
	unsigned char mac[SHA256_LEN], sig[SHA256_LEN + 4];
	size_t siglen;
	enum terr rc;

	if ((rc = pinned_header(token, n, "HS256", &parts, why)) != TERR_OK)
		return rc;
	if (text_b64dec(parts.sig, parts.sig_len, 1, sig, sizeof(sig), &siglen) != TERR_OK ||
	    siglen != SHA256_LEN) {
		*why = "malformed token signature";
		return TERR_AUTH;
	}
	if (crypto_hmac_init(&hk, key, keylen) != TERR_OK)
		return TERR_INTERNAL;
	iov.p = token;
	iov.n = parts.signing_len;
	rc = crypto_hmac_sha256(&hk, &iov, 1, mac);
	crypto_hmac_release(&hk);
	if (rc != TERR_OK)
		return rc;
	if (!crypto_ct_eq(mac, sig, SHA256_LEN)) {
		*why = "token signature does not match";
		return TERR_AUTH;
	}
	if (jose_decode(parts.payload, parts.payload_len, claims) != TERR_OK) {
		*why = "malformed token claims";
		return TERR_AUTH;
	}
	*why = NULL;
	return TERR_OK;
}

enum terr
jose_rs256_verify_token(const char *token, size_t n, void *pkey, struct buf *claims,
    const char **why)
{
	struct jose_parts parts;
	unsigned char sig[JOSE_RSA_BYTES_MAX + 4];
	size_t siglen;
	int bits;
	enum terr rc;

	if ((rc = pinned_header(token, n, "RS256", &parts, why)) != TERR_OK)
		return rc;
	if (text_b64dec(parts.sig, parts.sig_len, 1, sig, sizeof(sig), &siglen) != TERR_OK) {
		*why = "malformed token signature";
		return TERR_AUTH;
	}
	if ((bits = jose_rsa_bits(pkey)) < JOSE_RSA_BITS_MIN) {
		*why = bits == 0 ? "token key is not an RSA key"
				 : "token key is shorter than 2048 bits";
		return TERR_AUTH;
	}
	if ((rc = jose_rs256_verify(pkey, token, parts.signing_len, sig, siglen)) != TERR_OK) {
		*why = "token signature does not match";
		return rc;
	}
	if (jose_decode(parts.payload, parts.payload_len, claims) != TERR_OK) {
		*why = "malformed token claims";
		return TERR_AUTH;
	}
	*why = NULL;
	return TERR_OK;
}
