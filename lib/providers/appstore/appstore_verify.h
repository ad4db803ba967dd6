/*
 * Apple App Store Server Notifications V2: verification to Apple's root
 * (appstore_verify.c; PROVIDERS.md section 1, x5c.h). Public through
 * appstore.h; the mapping (appstore.c) and the API client (appstore_api.c)
 * verify with it.
 */
#ifndef TALLY_APPSTORE_VERIFY_H
#define TALLY_APPSTORE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "cfg/cfg.h"
#include "providers/hook.h"

/* Apple's marker extensions (PROVIDERS.md 1.2, step 4). */
#define APPLE_LEAF_OID         "1.2.840.113635.100.6.11.1"
#define APPLE_INTERMEDIATE_OID "1.2.840.113635.100.6.2.1"

struct appstore_verifier;

/*
 * A verifier trusting the configured roots (apple.roots), or Apple Root CA -
 * G3 shipped with tally. TERR_CONFIG with why when apple is not configured
 * or a root cannot be read. Free with appstore_verifier_free.
 */
enum terr appstore_verifier_new(struct appstore_verifier **out, const struct cfg *c, char *why,
    size_t whysize);
void appstore_verifier_free(struct appstore_verifier *v);

/*
 * Verify a signedPayload and the JWS nested in it, each to the trusted root
 * at its own signedDate, and that it is addressed to this app: bundleId (and
 * appAppleId for Production) equal to the configuration, the transaction of
 * the same app and environment. TERR_INVAL malformed, TERR_AUTH forged or
 * tampered, TERR_STALE a chain not valid at the signed date, TERR_CONFLICT
 * addressed to another app; *why says which.
 */
enum terr appstore_verify_signed(struct appstore_verifier *v, const char *jws, size_t n,
    int64_t now, const char **why);

/* The same for a notification body {"signedPayload": "..."}. */
enum terr appstore_verify(struct appstore_verifier *v, const char *body, size_t n, int64_t now,
    const char **why);

/*
 * Verify one signed transaction or renewal info (the API's answers) and
 * return its payload; TERR_CONFLICT when it names another app's bundleId.
 */
enum terr appstore_verify_jws(struct appstore_verifier *v, const char *jws, size_t n, int64_t now,
    struct buf *payload, const char **why);

/* Chains verified in full and from the cache. */
void appstore_stats(struct appstore_verifier *v, int64_t *full, int64_t *cached);

/*
 * The webhook's side for the provider table (hook.h): init is
 * appstore_verifier_new, fini appstore_verifier_free, verify appstore_verify
 * of the request's body at its time.
 */
enum terr appstore_hook_init(void **state, const struct cfg *c, char *why, size_t whysize);
void appstore_hook_fini(void *state);
enum terr appstore_hook_verify(void *state, const struct cfg *c, const struct hook_req *q,
    const char **why);

#endif
