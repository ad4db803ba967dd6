/*
 * What lib/appstore_verify.c (verification) and lib/appstore.c (mapping)
 * share: the decoded notification and the verifier's insides.
 */
#ifndef TALLY_APPSTORE_INT_H
#define TALLY_APPSTORE_INT_H

#include <stddef.h>

#include "appstore.h"
#include "json.h"
#include "x5c.h"

/* A decoded notification: the payload and the JWS nested in it. */
struct anote {
	cJSON *root;       /* responseBodyV2DecodedPayload */
	cJSON *tx;         /* JWSTransactionDecodedPayload, or NULL */
	cJSON *rn;         /* JWSRenewalInfoDecodedPayload, or NULL */
	const cJSON *data; /* root.data, or summary / externalPurchaseToken / appData */
};

void appstore_note_release(struct anote *a);
/* Decode (not verify) the notification jws[0..n) and the JWS nested in its data. */
enum terr appstore_decode_note(const char *jws, size_t n, struct anote *a);
/* The signedPayload string of a notification body (*root to cJSON_Delete). */
enum terr appstore_signed_payload(const char *body, size_t n, cJSON **root, const char **jws);

struct appstore_verifier {
	const struct cfg *c;
	struct x5c_verifier *x;
};

#endif
