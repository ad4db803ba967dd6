/*
 * Who may call the app-facing API. API keys "tk_<id>_<secret>": 16 hex
 * digits of id, 43 base64url characters of secret (32 random bytes); only
 * the SHA-256 of the whole key is stored, compared in constant time. Each
 * key has scopes: read (GET), spend (POST .../spend, .../token), purchase
 * (POST .../purchases), admin (everything).
 * User tokens: JWTs (HS256 with TALLY_JWT_SECRET, algorithm pinned, "sub"
 * the user, "exp" required), made by the app's backend or by tally
 * (auth_jwt_mint, POST .../token); each may read its one user and hand in
 * that user's purchases, nothing else.
 */
#ifndef TALLY_AUTH_H
#define TALLY_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "cfg/cfg.h"
#include "store/store_access.h"

#define AUTH_READ     1u
#define AUTH_SPEND    2u
#define AUTH_ADMIN    4u
#define AUTH_PURCHASE 8u

/* How long a user token tally makes lasts (s): short, the app asks for another. */
#define AUTH_TOKEN_TTL     3600
#define AUTH_TOKEN_TTL_MIN 60
#define AUTH_TOKEN_TTL_MAX 86400
/* Room for a user token tally makes: header, claims (a user id escaped), signature. */
#define AUTH_TOKEN_MAX     1024

/* A key as shown once: "tk_" + 16 + "_" + 43 (64), the NUL, room. */
#define AUTH_KEY_LEN 72

/* "read,spend,admin,purchase" into a scope mask; TERR_INVAL on an unknown or empty scope. */
enum terr auth_scopes_parse(const char *s, unsigned *out);
/* The mask as "read,spend,admin,purchase". */
void auth_scopes_str(unsigned scopes, char *out, size_t size);

/* A new key: its row to store (hash only) and the key itself, shown once. */
enum terr auth_key_new(unsigned scopes, const char *name, const char *by, int64_t now,
    struct key_row *row, char key[AUTH_KEY_LEN]);

/*
 * The key of an "Authorization: Bearer tk_..." header: TERR_OK with its row
 * and scopes, TERR_AUTH (missing, malformed, unknown, wrong, revoked) with
 * why; storage errors as they are. The key itself is never logged.
 */
enum terr auth_key_check(struct store *s, const char *authorization, struct key_row *row,
    unsigned *scopes, const char **why);

/*
 * A user JWT of an "Authorization: Bearer <jwt>" header, for user: TERR_OK
 * when it verifies with one of the configured secrets, its sub is user and
 * exp is after now (ms). TERR_CONFLICT when it verifies and is live but is
 * another user's (the caller answers 403: it is a credential, not for
 * this); TERR_AUTH with why otherwise (TERR_CONFIG: no secret).
 */
enum terr auth_jwt_check(const struct cfg_api *api, const char *authorization, const char *user,
    int64_t now, const char **why);

/*
 * A user token for user, valid from now (ms) for ttl seconds
 * (AUTH_TOKEN_TTL_MIN..AUTH_TOKEN_TTL_MAX): an HS256 JWT {"sub", "iat",
 * "exp"} signed with the first TALLY_JWT_SECRET, the one auth_jwt_check
 * accepts, into token (NUL-terminated). TERR_CONFIG when no secret is set,
 * TERR_INVAL for a ttl out of bounds, TERR_TOOBIG when it does not fit.
 * The token is a credential: never logged.
 */
enum terr auth_jwt_mint(const struct cfg_api *api, const char *user, int64_t now, int64_t ttl,
    char *token, size_t size);

/* 1 when the Authorization header holds an API key (rather than a JWT). */
int auth_is_key(const char *authorization);

#endif
