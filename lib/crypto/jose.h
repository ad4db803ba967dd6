/*
 * JOSE: compact JWS/JWT (RFC 7515, RFC 7519) with the three algorithms tally
 * uses, pinned by the caller: ES256 (RFC 7518 3.4: ECDSA P-256 SHA-256,
 * the signature is the raw 64-byte r||s, not DER), HS256 (3.2) and RS256
 * (3.3: RSASSA-PKCS1-v1_5 with SHA-256; Google's push tokens and service
 * account assertions). The algorithm is never taken from the token: a token
 * whose "alg" is not the pinned one is refused before any key is used.
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

/*
 * A compact HS256 JWT (RFC 7518 3.2) with key[0..keylen), as
 * jose_es256_token: base64url(header).base64url(claims).base64url(HMAC)
 * appended to out. TERR_INTERNAL when the MAC cannot be made; out's own
 * error when it does not fit.
 */
enum terr jose_hs256_token(const void *key, size_t keylen, const char *header, const char *claims,
    struct buf *out);

/*
 * RSA keys shorter than this are refused, to verify and to sign: RFC 7518
 * 3.3 requires 2048 bits or more for RS256 (Google's keys are 2048).
 */
#define JOSE_RSA_BITS_MIN  2048
/* The longest RSA key accepted (8192 bits) and so the longest signature, in bytes. */
#define JOSE_RSA_BYTES_MAX 1024

/*
 * Verify an RS256 signature sig[0..siglen) over msg[0..n) with pkey (an
 * EVP_PKEY* of an RSA key). TERR_OK, or TERR_AUTH when the signature does
 * not verify, is not exactly the key's length, or the key is not RSA or
 * shorter than JOSE_RSA_BITS_MIN.
 */
enum terr jose_rs256_verify(void *pkey, const void *msg, size_t n, const unsigned char *sig,
    size_t siglen);

/*
 * Sign msg[0..n) with the RSA private key pkey into sig[0..size); *siglen
 * gets the signature's length (the key's). TERR_TOOBIG when size is short,
 * TERR_CONFIG when the key is not RSA of JOSE_RSA_BITS_MIN or more,
 * TERR_INTERNAL when OpenSSL fails.
 */
enum terr jose_rs256_sign(void *pkey, const void *msg, size_t n, unsigned char *sig, size_t size,
    size_t *siglen);

/* A compact RS256 JWT, as jose_es256_token. */
enum terr jose_rs256_token(void *pkey, const char *header, const char *claims, struct buf *out);

/*
 * Verify a compact RS256 JWS token[0..n) with the RSA public key pkey and
 * return its payload in claims. The header must say "alg":"RS256" exactly
 * ("none", HS256, ES256, RS512 ... are TERR_AUTH before pkey is used).
 * TERR_INVAL malformed, TERR_AUTH refused; *why says which (never a key).
 */
enum terr jose_rs256_verify_token(const char *token, size_t n, void *pkey, struct buf *claims,
    const char **why);

/*
 * The header of token[0..n) decoded into header (JSON text), unverified:
 * to read "kid" and choose the key. TERR_INVAL when malformed.
 */
enum terr jose_peek_header(const char *token, size_t n, struct buf *header);

/*
 * Load a PEM private key (PKCS#8 or PKCS#1) of RSA, JOSE_RSA_BITS_MIN bits
 * or more. TERR_CONFIG otherwise. Free with jose_key_free.
 */
enum terr jose_load_rsa_key(const char *pem, void **pkey);

/*
 * An RSA public key from its big-endian modulus n[0..nlen) and exponent
 * e[0..elen) (a JWK's "n" and "e" decoded, RFC 7518 6.3.1). Leading zero
 * bytes are allowed. TERR_INVAL when the modulus is past JOSE_RSA_BYTES_MAX,
 * the exponent past 8 bytes, even or below 3; TERR_INTERNAL when OpenSSL
 * fails. Keys shorter than JOSE_RSA_BITS_MIN load (so that a key set can be
 * read whole) and are refused by every verification. Free with jose_key_free.
 */
enum terr jose_rsa_public(const unsigned char *n, size_t nlen, const unsigned char *e, size_t elen,
    void **pkey);

/* Bits of an RSA key, 0 when pkey is not RSA. */
int jose_rsa_bits(void *pkey);

#endif
