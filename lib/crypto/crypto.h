/*
 * Cryptographic primitives over OpenSSL 3.0: HMAC-SHA256 with a key prepared
 * once per process, SHA-256, constant-time comparison, random bytes.
 */
#ifndef TALLY_CRYPTO_H
#define TALLY_CRYPTO_H

#include <stddef.h>

#include "base/err.h"

#define SHA256_LEN 32

/* Initialise OpenSSL with only what tally needs; once per process, before any other call. */
void crypto_init(void);

/*
 * A keyed HMAC-SHA256 context, prepared once (the key schedule is computed
 * once) and duplicated for every message, so a warm process pays no setup.
 * Safe to use from several threads at once after hmac_key_init.
 */
struct hmac_key {
	void *ctx; /* EVP_MAC_CTX*, keyed */
};

/* Prepare k from key[0..n). TERR_INTERNAL if OpenSSL fails. Release with hmac_key_release. */
enum terr crypto_hmac_init(struct hmac_key *k, const void *key, size_t n);
void crypto_hmac_release(struct hmac_key *k);

/* One part of a message fed to HMAC in order, without copying the parts together. */
struct iov {
	const void *p;
	size_t n;
};

/* out = HMAC-SHA256(key, concat(parts)). */
enum terr crypto_hmac_sha256(const struct hmac_key *k, const struct iov *parts, size_t nparts,
    unsigned char out[SHA256_LEN]);

/*
 * Verify a MAC: 1 when HMAC-SHA256 over parts under one of the nkeys keys
 * equals one of the nsig MACs in sigs, 0 when none does, -1 when OpenSSL
 * fails. Every comparison is constant-time over SHA256_LEN bytes.
 */
int crypto_hmac_match(const struct hmac_key *keys, size_t nkeys, const struct iov *parts,
    size_t nparts, const unsigned char (*sigs)[SHA256_LEN], size_t nsig);

/*
 * The same for one MAC given as hex text hex[0..hexlen) (lower or upper
 * case; Razorpay, CryptoBot): 0 unless it is exactly 2 * SHA256_LEN hex
 * digits (the decoded length is checked before any comparison).
 */
int crypto_hmac_hex_match(const struct hmac_key *keys, size_t nkeys, const struct iov *parts,
    size_t nparts, const char *hex, size_t hexlen);

/* out = SHA-256(p[0..n)). */
void crypto_sha256(const void *p, size_t n, unsigned char out[SHA256_LEN]);

/*
 * The text_key of first and the parts after it (NULL-ended) into out[size]
 * when it fits; else "<first>:#" and 32 hex digits of SHA-256 of that key,
 * so that parts too long together (a user id of many ':', each escaped to
 * three bytes) still make a key of their own, never a cut one. That form has
 * two parts: callers give at least two parts after first, so no key that
 * fits has its shape. TERR_TOOBIG only when first (escaped) and 34 bytes do
 * not fit in size, or the whole key is past 4 KiB.
 */
enum terr crypto_key(char *out, size_t size, const char *first, ...) __attribute__((sentinel));

/* 1 if a[0..n) equals b[0..n), in time independent of the contents (CRYPTO_memcmp). */
int crypto_ct_eq(const void *a, const void *b, size_t n);

/* Fill p[0..n) from the OS CSPRNG. TERR_INTERNAL if it fails. */
enum terr crypto_random_bytes(void *p, size_t n);

/* Overwrite p[0..n) in a way the compiler cannot remove (OPENSSL_cleanse). */
void crypto_wipe(void *p, size_t n);

#endif
