/*
 * Apple App Store notifications: verification (appstore_verify.h) and the
 * decoding both verification and mapping use (appstore_verify_int.h). The mapping to
 * normalized events is lib/providers/appstore/appstore.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/tally_limits.h"
#include "crypto/jose.h"
#include "crypto/x5c.h"
#include "providers/appstore/appstore_verify.h"
#include "providers/appstore/appstore_verify_int.h"

/* Apple Root CA - G3 as shipped in certs/ (build/<tree>/gen/certs.c). */
extern const unsigned char apple_root_g3[];
extern const size_t apple_root_g3_len;

void
appstore_note_release(struct anote *a)
{
	cJSON_Delete(a->root);
	cJSON_Delete(a->tx);
	cJSON_Delete(a->rn);
	memset(a, 0, sizeof(*a));
}

/* The payload of a JWS, decoded but not verified, parsed as an object. */
static enum terr
decode_payload(const char *jws, size_t n, cJSON **out)
{
	struct jose_parts parts;
	struct buf b;
	const char *why;
	enum terr rc = TERR_INVAL;

	*out = NULL;
	buf_init(&b, JOSE_TOKEN_MAX);
	if (jose_split(jws, n, &parts) == TERR_OK &&
	    jose_decode(parts.payload, parts.payload_len, &b) == TERR_OK &&
	    json_parse(b.p, b.len, JSON_DEPTH_MAX, out, &why) == TERR_OK) {
		rc = cJSON_IsObject(*out) ? TERR_OK : TERR_INVAL;
		if (rc != TERR_OK) {
			cJSON_Delete(*out);
			*out = NULL;
		}
	}
	buf_release(&b);
	return rc;
}

/* The signedPayload string of a notification body. */
enum terr
appstore_signed_payload(const char *body, size_t n, cJSON **root, const char **jws)
{
	const char *why;

	*jws = NULL;
	if (json_parse(body, n, 4, root, &why) != TERR_OK)
		return TERR_INVAL;
	*jws = jstr(*root, "signedPayload");
	return *jws != NULL && **jws != '\0' ? TERR_OK : TERR_INVAL;
}

enum terr
appstore_note_select(struct anote *a, const char **why)
{
	static const char *const keys[] = { "data", "summary", "externalPurchaseToken", "appData" };
	static const char *const nested[] = { "signedTransactionInfo", "signedRenewalInfo" };
	static _Thread_local char msg[160];
	const cJSON *v;
	const char *id;
	size_t i;

	a->data = NULL;
	a->which = a->env = a->txjws = a->rnjws = NULL;
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if ((v = jget(a->root, keys[i])) == NULL)
			continue;
		if (!cJSON_IsObject(v)) {
			snprintf(msg, sizeof(msg), "notification field %s: expected an object",
			    keys[i]);
			*why = msg;
			return TERR_INVAL;
		}
		if (a->data != NULL) {
			/* Which one to believe would be a choice: refuse rather than make it. */
			snprintf(msg, sizeof(msg),
			    "notification carries both %s and %s: Apple sends exactly one of data, "
			    "summary, externalPurchaseToken, appData",
			    a->which, keys[i]);
			*why = msg;
			return TERR_INVAL;
		}
		a->data = v;
		a->which = keys[i];
	}
	if (a->data == NULL) {
		*why = "notification without data, summary, externalPurchaseToken or appData";
		return TERR_INVAL;
	}
	for (i = 0; i < 2; i++) {
		v = jget(a->data, nested[i]);
		if (v != NULL && !cJSON_IsString(v)) {
			snprintf(msg, sizeof(msg),
			    "notification field %s.%s: expected a JWS string", a->which, nested[i]);
			*why = msg;
			return TERR_INVAL;
		}
		if (v != NULL)
			*(i == 0 ? &a->txjws : &a->rnjws) = v->valuestring;
	}
	a->env = jstr(a->data, "environment");
	if (a->env == NULL && strcmp(a->which, "externalPurchaseToken") == 0) {
		id = jstr(a->data, "externalPurchaseId");
		a->env = id != NULL && strncmp(id, "SANDBOX", 7) == 0 ? "Sandbox" : "Production";
	}
	return TERR_OK;
}

enum terr
appstore_decode_note(const char *jws, size_t n, struct anote *a, const char **why)
{
	memset(a, 0, sizeof(*a));
	if (decode_payload(jws, n, &a->root) != TERR_OK) {
		*why = "signedPayload cannot be decoded";
		return TERR_INVAL;
	}
	if (appstore_note_select(a, why) != TERR_OK)
		return TERR_INVAL;
	if (a->txjws != NULL && decode_payload(a->txjws, strlen(a->txjws), &a->tx) != TERR_OK) {
		*why = "signedTransactionInfo cannot be decoded";
		return TERR_INVAL;
	}
	if (a->rnjws != NULL && decode_payload(a->rnjws, strlen(a->rnjws), &a->rn) != TERR_OK) {
		*why = "signedRenewalInfo cannot be decoded";
		return TERR_INVAL;
	}
	return TERR_OK;
}

/* --- verification --- */

enum terr
appstore_verifier_new(struct appstore_verifier **out, const struct cfg *c, char *why,
    size_t whysize)
{
	struct appstore_verifier *v;
	struct x5c_cert roots[ROOTS_MAX];
	struct buf files[ROOTS_MAX];
	size_t i, n = 0;
	enum terr rc = TERR_CONFIG;

	*out = NULL;
	if (!c->apple.enabled) {
		snprintf(why, whysize, "apple is not configured (apple.bundle_id)");
		return TERR_CONFIG;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	v->c = c;
	for (i = 0; i < c->apple.nroots; i++)
		buf_init(&files[i], 64 * 1024);
	for (i = 0; i < c->apple.nroots; i++) {
		if (x5c_read_file(c->apple.roots[i], &files[i]) != TERR_OK) {
			snprintf(why, whysize, "apple.roots: cannot read a certificate from %s",
			    c->apple.roots[i]);
			goto out;
		}
		roots[n].der = (const unsigned char *)files[i].p;
		roots[n++].len = files[i].len;
	}
	if (n == 0) {
		roots[0].der = apple_root_g3;
		roots[0].len = apple_root_g3_len;
		n = 1;
	}
	if (x5c_verifier_new(&v->x, roots, n, APPLE_LEAF_OID, APPLE_INTERMEDIATE_OID) != TERR_OK) {
		snprintf(why, whysize, "apple.roots: unusable root certificate");
		goto out;
	}
	*out = v;
	v = NULL;
	rc = TERR_OK;
out:
	for (i = 0; i < c->apple.nroots; i++)
		buf_release(&files[i]);
	appstore_verifier_free(v);
	return rc;
}

void
appstore_verifier_free(struct appstore_verifier *v)
{
	if (v == NULL)
		return;
	x5c_verifier_free(v->x);
	free(v);
}

void
appstore_stats(struct appstore_verifier *v, int64_t *full, int64_t *cached)
{
	x5c_stats(v->x, full, cached);
}

enum terr
appstore_verify_jws(struct appstore_verifier *v, const char *jws, size_t n, int64_t now,
    struct buf *payload, const char **why)
{
	cJSON *root = NULL;
	const char *bundle, *jwhy;
	enum terr rc;

	if ((rc = x5c_verify_jws(v->x, jws, n, "signedDate", now, payload, why)) != TERR_OK)
		return rc;
	if (json_parse(payload->p, payload->len, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK ||
	    !cJSON_IsObject(root)) {
		*why = "malformed payload";
		rc = TERR_INVAL;
	} else if ((bundle = jstr(root, "bundleId")) != NULL &&
	    strcmp(bundle, v->c->apple.bundle_id) != 0) {
		/* Apple's verifyAndDecodeTransaction: INVALID_APP_IDENTIFIER. */
		*why = "signed data of another app (bundleId)";
		rc = TERR_CONFLICT;
	}
	cJSON_Delete(root);
	return rc;
}

/* A nested JWS (NULL: absent) verified; its payload parsed into *out. */
static enum terr
verify_nested(struct appstore_verifier *v, const char *jws, int64_t now, cJSON **out,
    const char **why)
{
	const char *jwhy;
	struct buf b;
	enum terr rc;

	*out = NULL;
	if (jws == NULL)
		return TERR_OK;
	buf_init(&b, JOSE_TOKEN_MAX);
	rc = x5c_verify_jws(v->x, jws, strlen(jws), "signedDate", now, &b, why);
	if (rc == TERR_OK && json_parse(b.p, b.len, JSON_DEPTH_MAX, out, &jwhy) != TERR_OK) {
		*why = "malformed nested payload";
		rc = TERR_INVAL;
	}
	buf_release(&b);
	return rc;
}

enum terr
appstore_verify_signed(struct appstore_verifier *v, const char *jws, size_t n, int64_t now,
    const char **why)
{
	const struct cfg_apple *ca = &v->c->apple;
	struct anote a;
	struct buf b;
	const char *bundle, *env, *jwhy, *txenv, *txbundle;
	int64_t app_id = 0;
	enum terr rc;

	memset(&a, 0, sizeof(a));
	buf_init(&b, JOSE_TOKEN_MAX);
	if ((rc = x5c_verify_jws(v->x, jws, n, "signedDate", now, &b, why)) != TERR_OK)
		goto out;
	if (json_parse(b.p, b.len, JSON_DEPTH_MAX, &a.root, &jwhy) != TERR_OK) {
		*why = "malformed notification payload";
		rc = TERR_INVAL;
		goto out;
	}
	/* The same rule as the mapping's (appstore_decode_note): what is verified is what is read. */
	if ((rc = appstore_note_select(&a, why)) != TERR_OK)
		goto out;
	bundle = jstr(a.data, "bundleId");
	env = a.env;
	/* Addressed to this app (Apple's SignedDataVerifier, INVALID_APP_IDENTIFIER). */
	rc = TERR_CONFLICT;
	if (bundle == NULL || strcmp(bundle, ca->bundle_id) != 0) {
		*why = "notification for another app (bundleId)";
		goto out;
	}
	if (env == NULL || (strcmp(env, "Production") != 0 && strcmp(env, "Sandbox") != 0)) {
		*why = "notification for an environment tally does not serve";
		goto out;
	}
	if (strcmp(env, "Production") == 0) {
		if (ca->app_apple_id == 0) {
			*why = "apple.app_apple_id is not configured: production notifications "
			       "refused";
			goto out;
		}
		if (jint(a.data, "appAppleId", &app_id) != 1 || app_id != ca->app_apple_id) {
			*why = "notification for another app (appAppleId)";
			goto out;
		}
	}
	/* The nested JWS: each verified the same way, of the same app and environment. */
	if ((rc = verify_nested(v, a.txjws, now, &a.tx, why)) != TERR_OK ||
	    (rc = verify_nested(v, a.rnjws, now, &a.rn, why)) != TERR_OK)
		goto out;
	rc = TERR_CONFLICT;
	if (a.tx != NULL) {
		txbundle = jstr(a.tx, "bundleId");
		txenv = jstr(a.tx, "environment");
		if (txbundle == NULL || strcmp(txbundle, ca->bundle_id) != 0 || txenv == NULL ||
		    strcmp(txenv, env) != 0) {
			*why = "transaction of another app or environment";
			goto out;
		}
	}
	if (a.rn != NULL && (txenv = jstr(a.rn, "environment")) != NULL &&
	    strcmp(txenv, env) != 0) {
		*why = "renewal info of another environment";
		goto out;
	}
	*why = NULL;
	rc = TERR_OK;
out:
	appstore_note_release(&a);
	buf_release(&b);
	return rc;
}

enum terr
appstore_verify(struct appstore_verifier *v, const char *body, size_t n, int64_t now,
    const char **why)
{
	cJSON *root = NULL;
	const char *jws;
	enum terr rc;

	rc = appstore_signed_payload(body, n, &root, &jws);
	/*
	 * tally's own envelopes are made by tally-reconcile from Apple's answer
	 * and by the API from what the app hands in, never taken from the
	 * network: the status and the user are not signed, so anyone holding
	 * an old signed transaction could claim "active", or claim it for
	 * another user.
	 */
	if (jget(root, "tally_status") != NULL || jget(root, "tally_purchase") != NULL) {
		*why = jget(root, "tally_status") != NULL
		    ? "tally_status is tally's own envelope, not a notification: refused"
		    : "tally_purchase is tally's own envelope, not a notification: refused";
		cJSON_Delete(root);
		return TERR_INVAL;
	}
	if (rc != TERR_OK) {
		*why = "body is not {\"signedPayload\": \"...\"}";
		cJSON_Delete(root);
		return TERR_INVAL;
	}
	rc = appstore_verify_signed(v, jws, strlen(jws), now, why);
	cJSON_Delete(root);
	return rc;
}

enum terr
appstore_hook_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct appstore_verifier *v = NULL;
	enum terr rc = appstore_verifier_new(&v, c, why, whysize);

	*state = v;
	return rc;
}

void
appstore_hook_fini(void *state)
{
	appstore_verifier_free(state);
}

enum terr
appstore_hook_verify(void *state, const struct cfg *c, const struct hook_req *q, const char **why)
{
	(void)c;
	return appstore_verify(state, q->body, q->n, q->now, why);
}
