/*
 * JOSE: compact JWS/JWT (RFC 7515, RFC 7519) with the two algorithms tally
 * uses, pinned by the caller: ES256 (RFC 7518 3.4: ECDSA P-256 SHA-256,
 * the signature is the raw 64-byte r||s, not DER) and HS256 (3.2). The
 * algorithm is never taken from the token: a token whose "alg" is not the
 * pinned one is refused before any key is used.
 */
#ifndef TALLY_JOSE_H
#define TALLY_JOSE_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/* The largest token tally reads: Apple's notifications with three certificate chains. */
#define JOSE_TOKEN_MAX (512 * 1024)

/* The three parts of a compact token, pointing into it. */
struct jose_parts {
	const char *header; /* base64url */
	size_t header_len;
	const char *payload; /* base64url */
	size_t payload_len;
	const char *sig; /* base64url */
	size_t sig_len;
	size_t signing_len; /* bytes of "header.payload", the signing input from the start */
};

/* Split token[0..n) at its two dots. TERR_INVAL unless exactly three non-empty parts. */
enum terr jose_split(const char *token, size_t n, struct jose_parts *out);

/* Decode a base64url part into out (cleared first), NUL-terminated for JSON parsing. */
enum terr jose_decode(const char *p, size_t n, struct buf *out);

/*
 * Verify an ES256 signature (raw r||s, 64 bytes) over msg[0..n) with pkey
 * (an EVP_PKEY* of a P-256 key). TERR_OK or TERR_AUTH.
 */
enum terr jose_es256_verify(void *pkey, const void *msg, size_t n, const unsigned char *sig,
    size_t siglen);

/*
 * Sign msg[0..n) with the P-256 private key pkey; sig[64] gets raw r||s.
 * TERR_INTERNAL when OpenSSL fails.
 */
enum terr jose_es256_sign(void *pkey, const void *msg, size_t n, unsigned char sig[64]);

/*
 * A compact ES256 JWT: base64url(header JSON).base64url(claims JSON).sig,
 * appended to out. header and claims are JSON texts.
 */
enum terr jose_es256_token(void *pkey, const char *header, const char *claims, struct buf *out);

/* Load a PEM private key (PKCS#8, "-----BEGIN PRIVATE KEY-----") of P-256. Free with jose_key_free. */
enum terr jose_load_ec_key(const char *pem, void **pkey);
void jose_key_free(void *pkey);

/*
 * Verify an HS256 JWT with key and return its claims JSON in claims. The
 * header must say {"alg":"HS256"} (typ optional, JWT); anything else,
 * including "none", is TERR_AUTH. The signature is compared in constant time.
 */
enum terr jose_hs256_verify(const char *token, size_t n, const void *key, size_t keylen,
    struct buf *claims, const char **why);

#endif
