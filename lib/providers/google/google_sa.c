#include <string.h>

#include "base/buf.h"
#include "base/json.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "providers/google/google_sa.h"

/* The PEM text cJSON copied out of the key file, overwritten before the tree is freed. */
static void
wipe_pem(cJSON *root)
{
	cJSON *pk;

	if (root == NULL || (pk = cJSON_GetObjectItemCaseSensitive(root, "private_key")) == NULL ||
	    !cJSON_IsString(pk) || pk->valuestring == NULL)
		return;
	crypto_wipe(pk->valuestring, strlen(pk->valuestring));
}

enum terr
google_sa_load(struct google_sa *sa, const char *json, size_t n, const char **why)
{
	cJSON *root = NULL;
	const char *type, *email, *kid, *pem, *jwhy;
	enum terr rc = TERR_INVAL;

	memset(sa, 0, sizeof(*sa));
	*why = NULL;
	if (n > GOOGLE_SA_FILE_MAX) {
		*why = "service account key file is too large";
		return TERR_TOOBIG;
	}
	if (json_parse(json, n, 8, &root, &jwhy) != TERR_OK || !cJSON_IsObject(root)) {
		*why = "service account key file is not a JSON object";
		goto out;
	}
	type = jstr(root, "type");
	if (type != NULL && strcmp(type, "service_account") != 0) {
		*why = "key file is not a service account's (type)";
		goto out;
	}
	email = jstr(root, "client_email");
	kid = jstr(root, "private_key_id");
	pem = jstr(root, "private_key");
	if (email == NULL || email[0] == '\0' || strlen(email) >= sizeof(sa->client_email)) {
		*why = "service account key file has no usable client_email";
		goto out;
	}
	if (kid == NULL || kid[0] == '\0' || strlen(kid) >= sizeof(sa->key_id)) {
		*why = "service account key file has no usable private_key_id";
		goto out;
	}
	if (pem == NULL) {
		*why = "service account key file has no private_key";
		goto out;
	}
	if (jose_load_rsa_key(pem, &sa->pkey) != TERR_OK) {
		rc = TERR_CONFIG;
		*why = "service account private_key is not an RSA key of 2048 bits or more";
		goto out;
	}
	text_copy(sa->client_email, sizeof(sa->client_email), email);
	text_copy(sa->key_id, sizeof(sa->key_id), kid);
	rc = TERR_OK;
out:
	wipe_pem(root);
	cJSON_Delete(root);
	if (rc != TERR_OK)
		google_sa_release(sa);
	return rc;
}

void
google_sa_release(struct google_sa *sa)
{
	jose_key_free(sa->pkey);
	crypto_wipe(sa, sizeof(*sa));
	sa->pkey = NULL;
}

enum terr
google_sa_assertion(const struct google_sa *sa, int64_t now, struct buf *jwt)
{
	struct buf hdr, claims;
	struct jw w;
	enum terr rc;

	if (sa->pkey == NULL)
		return TERR_CONFIG;
	buf_init(&hdr, 1024);
	buf_init(&claims, 2048);
	/* PROVIDERS.md 7.4; Google's "Using OAuth 2.0 for Server to Server Applications". */
	jw_init(&w, &hdr);
	jw_obj(&w);
	jw_kstr(&w, "alg", "RS256");
	jw_kstr(&w, "typ", "JWT");
	jw_kstr(&w, "kid", sa->key_id);
	jw_end(&w);
	jw_init(&w, &claims);
	jw_obj(&w);
	jw_kstr(&w, "iss", sa->client_email);
	jw_kstr(&w, "scope", GOOGLE_SA_SCOPE);
	jw_kstr(&w, "aud", GOOGLE_SA_TOKEN_URL);
	jw_kint(&w, "iat", now);
	jw_kint(&w, "exp", now + GOOGLE_SA_LIFETIME);
	jw_end(&w);
	if ((rc = hdr.err) == TERR_OK && (rc = claims.err) == TERR_OK)
		rc = jose_rs256_token(sa->pkey, buf_cstr(&hdr), buf_cstr(&claims), jwt);
	buf_release(&claims);
	buf_release(&hdr);
	return rc;
}

enum terr
google_sa_token_body(const struct google_sa *sa, int64_t now, struct buf *body)
{
	enum terr rc;

	/* RFC 7523 2.1, the grant type percent-encoded (RFC 6749 appendix B). */
	buf_puts(body,
	    "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=");
	if (body->err != TERR_OK)
		return body->err;
	if ((rc = google_sa_assertion(sa, now, body)) != TERR_OK)
		return rc;
	return body->err;
}
