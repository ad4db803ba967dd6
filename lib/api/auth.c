#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "base/json.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"

#define KEY_ID_HEX     16
#define KEY_SECRET_B64 43

/* Bit i of a scope mask is scope_names[i] (AUTH_READ, AUTH_SPEND, AUTH_ADMIN, AUTH_PURCHASE). */
static const char *const scope_names[] = { "read", "spend", "admin", "purchase" };
#define NSCOPES (sizeof(scope_names) / sizeof(scope_names[0]))

enum terr
auth_scopes_parse(const char *s, unsigned *out)
{
	const char *p = s, *comma;
	size_t len, i;

	*out = 0;
	while (*p != '\0') {
		comma = strchr(p, ',');
		len = comma != NULL ? (size_t)(comma - p) : strlen(p);
		for (i = 0; i < NSCOPES; i++)
			if (strlen(scope_names[i]) == len && strncmp(scope_names[i], p, len) == 0)
				break;
		if (i == NSCOPES)
			return TERR_INVAL;
		*out |= 1u << i;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return *out != 0 ? TERR_OK : TERR_INVAL;
}

void
auth_scopes_str(unsigned scopes, char *out, size_t size)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < NSCOPES; i++)
		if (scopes & (1u << i))
			n += (size_t)snprintf(out + (n < size ? n : size), n < size ? size - n : 0,
			    "%s%s", n > 0 ? "," : "", scope_names[i]);
}

enum terr
auth_key_new(unsigned scopes, const char *name, const char *by, int64_t now, struct key_row *row,
    char key[AUTH_KEY_LEN])
{
	unsigned char id[KEY_ID_HEX / 2], secret[32];
	char idhex[KEY_ID_HEX + 1], sec[KEY_SECRET_B64 + 2];

	if (crypto_random_bytes(id, sizeof(id)) != TERR_OK ||
	    crypto_random_bytes(secret, sizeof(secret)) != TERR_OK)
		return TERR_INTERNAL;
	text_hex(id, sizeof(id), idhex);
	text_b64enc(secret, sizeof(secret), 1, sec, sizeof(sec));
	snprintf(key, AUTH_KEY_LEN, "tk_%s_%s", idhex, sec);
	memset(row, 0, sizeof(*row));
	text_copy(row->id, sizeof(row->id), idhex);
	crypto_sha256(key, strlen(key), row->secret_hash);
	text_copy(row->name, sizeof(row->name), name);
	auth_scopes_str(scopes, row->scopes, sizeof(row->scopes));
	row->created_at = now;
	text_copy(row->created_by, sizeof(row->created_by), by);
	crypto_wipe(secret, sizeof(secret));
	crypto_wipe(sec, sizeof(sec));
	return TERR_OK;
}

/* The token after "Bearer ", or NULL. */
static const char *
bearer(const char *authorization)
{
	if (authorization == NULL || strncmp(authorization, "Bearer ", 7) != 0)
		return NULL;
	return authorization + 7;
}

int
auth_is_key(const char *authorization)
{
	const char *t = bearer(authorization);

	return t != NULL && strncmp(t, "tk_", 3) == 0;
}

enum terr
auth_key_check(struct store *s, const char *authorization, struct key_row *row, unsigned *scopes,
    const char **why)
{
	const char *t = bearer(authorization);
	unsigned char h[SHA256_LEN];
	char id[KEY_ID_HEX + 1];
	size_t i;
	enum terr rc;

	*scopes = 0;
	if (t == NULL) {
		*why = "missing credentials (Authorization: Bearer <key>)";
		return TERR_AUTH;
	}
	if (strlen(t) != 3 + KEY_ID_HEX + 1 + KEY_SECRET_B64 || strncmp(t, "tk_", 3) != 0 ||
	    t[3 + KEY_ID_HEX] != '_') {
		*why = "malformed API key";
		return TERR_AUTH;
	}
	for (i = 0; i < KEY_ID_HEX; i++)
		if (!((t[3 + i] >= '0' && t[3 + i] <= '9') ||
			(t[3 + i] >= 'a' && t[3 + i] <= 'f'))) {
			*why = "malformed API key";
			return TERR_AUTH;
		}
	text_copyn(id, sizeof(id), t + 3, KEY_ID_HEX);
	if ((rc = store_key_get(s, id, row)) == TERR_NOTFOUND) {
		*why = "unknown API key";
		return TERR_AUTH;
	}
	if (rc != TERR_OK)
		return rc;
	crypto_sha256(t, strlen(t), h);
	if (!crypto_ct_eq(h, row->secret_hash, SHA256_LEN)) {
		*why = "wrong API key";
		return TERR_AUTH;
	}
	if (row->revoked_at != 0) {
		*why = "revoked API key";
		return TERR_AUTH;
	}
	if (auth_scopes_parse(row->scopes, scopes) != TERR_OK) {
		*why = "API key without scopes";
		return TERR_AUTH;
	}
	return TERR_OK;
}

enum terr
auth_jwt_check(const struct cfg_api *api, const char *authorization, const char *user, int64_t now,
    const char **why)
{
	const char *t = bearer(authorization), *sub, *jwhy;
	struct buf claims;
	cJSON *root = NULL;
	int64_t exp = 0;
	size_t i;
	enum terr rc = TERR_AUTH;

	if (api->njwt == 0) {
		*why = "user tokens are not accepted: TALLY_JWT_SECRET is not set";
		return TERR_CONFIG;
	}
	if (t == NULL) {
		*why = "missing credentials (Authorization: Bearer <token>)";
		return TERR_AUTH;
	}
	buf_init(&claims, 8192);
	*why = "user token does not verify";
	for (i = 0; i < api->njwt; i++) {
		buf_reset(&claims);
		if (jose_hs256_verify(t, strlen(t), api->jwt_secrets[i],
			strlen(api->jwt_secrets[i]), &claims, why) == TERR_OK)
			break;
	}
	if (i == api->njwt)
		goto out;
	if (json_parse(claims.p, claims.len, 8, &root, &jwhy) != TERR_OK || !cJSON_IsObject(root)) {
		*why = "user token claims are not a JSON object";
		goto out;
	}
	if (jint(root, "exp", &exp) != 1) {
		*why = "user token without exp";
		goto out;
	}
	if (exp * 1000 <= now) {
		*why = "user token expired";
		goto out;
	}
	if ((sub = jstr(root, "sub")) == NULL) {
		*why = "user token without sub";
		goto out;
	}
	if (strcmp(sub, user) != 0) {
		*why = "user token is for another user";
		rc = TERR_CONFLICT;
		goto out;
	}
	*why = NULL;
	rc = TERR_OK;
out:
	cJSON_Delete(root);
	buf_release(&claims);
	return rc;
}

enum terr
auth_jwt_mint(const struct cfg_api *api, const char *user, int64_t now, int64_t ttl, char *token,
    size_t size)
{
	const char *secret = api->jwt_secrets[0];
	char storage[512];
	struct buf claims, out;
	struct jw w;
	enum terr rc;

	if (api->njwt == 0)
		return TERR_CONFIG;
	if (ttl < AUTH_TOKEN_TTL_MIN || ttl > AUTH_TOKEN_TTL_MAX ||
	    !text_id_valid(user, USER_ID_MAX))
		return TERR_INVAL;
	buf_init_fixed(&claims, storage, sizeof(storage));
	jw_init(&w, &claims);
	jw_obj(&w);
	jw_kstr(&w, "sub", user);
	jw_kint(&w, "iat", now / 1000);
	jw_kint(&w, "exp", now / 1000 + ttl);
	jw_end(&w);
	if (claims.err != TERR_OK)
		return TERR_TOOBIG;
	buf_init(&out, size > 0 ? size - 1 : 0);
	rc = jose_hs256_token(secret, strlen(secret), "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	    buf_cstr(&claims), &out);
	if (rc == TERR_OK && text_copyn(token, size, out.p, out.len) != TERR_OK)
		rc = TERR_TOOBIG;
	if (out.p != NULL)
		crypto_wipe(out.p, out.len);
	buf_release(&out);
	return rc;
}
