/*
 * Signed data with its certificate chain in the JWS header (x5c), verified
 * to a configured root the way Apple's App Store Server Library does with
 * online checks off: alg ES256 only; exactly three certificates, of which
 * the third is never trusted; leaf -> intermediate -> one of the trusted
 * roots (OpenSSL's checks), validity at the payload's own signedDate;
 * marker extensions required on the leaf and the intermediate; then the
 * ES256 signature with the leaf's key.
 *
 * Verified chains are cached by the SHA-256 fingerprints of leaf and
 * intermediate for the life of the verifier, with the time window in which
 * the whole chain is valid: a warm process pays one ECDSA verify per JWS.
 * A verifier is safe to use from several threads.
 */
#ifndef TALLY_X5C_H
#define TALLY_X5C_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct x5c_verifier;

/* A certificate given as DER bytes. */
struct x5c_cert {
	const unsigned char *der;
	size_t len;
};

/*
 * A verifier trusting roots[0..n) (n >= 1), requiring the extension
 * leaf_oid on the leaf and inter_oid on the intermediate (dotted OIDs).
 * TERR_INVAL when a root cannot be read. Free with x5c_verifier_free.
 */
enum terr x5c_verifier_new(struct x5c_verifier **out, const struct x5c_cert *roots, size_t n,
    const char *leaf_oid, const char *inter_oid);
void x5c_verifier_free(struct x5c_verifier *v);

/*
 * Verify the chain leaf <- inter <- a trusted root at time at (ms). On
 * success *pkey is the leaf's public key with a reference the caller drops
 * with jose_key_free. TERR_AUTH (unreadable certificate, chain, OID, key
 * type) or TERR_STALE (not valid at that time); *why says which.
 */
enum terr x5c_verify_chain(struct x5c_verifier *v, struct x5c_cert leaf, struct x5c_cert inter,
    int64_t at, void **pkey, const char **why);

/*
 * Verify a compact JWS with an x5c header and return its decoded payload
 * (JSON text) in payload. The chain is checked at the payload's
 * date_field (ms since the epoch; "signedDate"), or at now when absent.
 * TERR_INVAL when the JWS or its payload cannot be read; TERR_AUTH when the
 * algorithm, x5c, chain or signature does not verify; TERR_STALE; *why.
 */
enum terr x5c_verify_jws(struct x5c_verifier *v, const char *jws, size_t n, const char *date_field,
    int64_t now, struct buf *payload, const char **why);

/* Chains verified in full and served from the cache (for tests and benchmarks). */
void x5c_stats(struct x5c_verifier *v, int64_t *full, int64_t *cached);

/* Read a certificate file (DER or PEM) into out (DER). */
enum terr x5c_read_file(const char *path, struct buf *out);

#endif
