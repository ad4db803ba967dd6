/*
 * What lib/providers/appstore/appstore_verify.c (verification) offers
 * lib/providers/appstore/appstore.c (mapping): the decoded notification and
 * the verifier's insides.
 */
#ifndef TALLY_APPSTORE_VERIFY_INT_H
#define TALLY_APPSTORE_VERIFY_INT_H

#include <stddef.h>

#include "base/json.h"
#include "crypto/x5c.h"
#include "providers/appstore/appstore_verify.h"

/* A decoded notification: the payload and the JWS nested in it. */
struct anote {
	cJSON *root;       /* responseBodyV2DecodedPayload */
	cJSON *tx;         /* JWSTransactionDecodedPayload, or NULL */
	cJSON *rn;         /* JWSRenewalInfoDecodedPayload, or NULL */
	const cJSON *data; /* root.data, or summary / externalPurchaseToken / appData */
	/* Set by appstore_note_select, pointing into root: */
	const char *which; /* the name of data's key: "data", "summary" ... */
	const char *env;   /* "Production", "Sandbox", or what data says (NULL: nothing) */
	const char *txjws; /* data.signedTransactionInfo, or NULL */
	const char *rnjws; /* data.signedRenewalInfo, or NULL */
};

void appstore_note_release(struct anote *a);
/*
 * The one rule, for verification and mapping alike, of what a notification
 * payload (a->root) is about: its data object, the environment, and the
 * nested JWS that verification checks and mapping reads. Apple's
 * ResponseBodyV2DecodedPayload carries exactly one of data, summary,
 * externalPurchaseToken and appData (its models: "mutually exclusive. The
 * payload contains only one of these fields"); an externalPurchaseToken
 * names no environment, its externalPurchaseId says SANDBOX (Apple's
 * SignedDataVerifier). None, two, one that is not an object, or a nested
 * JWS that is not a string: TERR_INVAL with *why (static text, or this
 * thread's buffer until the next call).
 */
enum terr appstore_note_select(struct anote *a, const char **why);
/*
 * Decode (not verify) the notification jws[0..n) and the JWS nested in its
 * data (appstore_note_select). TERR_INVAL with *why.
 */
enum terr appstore_decode_note(const char *jws, size_t n, struct anote *a, const char **why);
/* The signedPayload string of a notification body (*root to cJSON_Delete). */
enum terr appstore_signed_payload(const char *body, size_t n, cJSON **root, const char **jws);

struct appstore_verifier {
	const struct cfg *c;
	struct x5c_verifier *x;
};

#endif
