/*
 * Who may call the API (lib/api/auth.h): key scopes, and the user tokens
 * tally makes (auth_jwt_mint) read back by the check every request makes
 * (auth_jwt_check): its own user only, until it expires.
 */
#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "base/text.h"
#include "t.h"

#define NOW 1750000000000LL /* ms */

static void
secrets(struct cfg_api *api, const char *first, const char *second)
{
	memset(api, 0, sizeof(*api));
	if (first != NULL)
		text_copy(api->jwt_secrets[api->njwt++], SECRET_MAX, first);
	if (second != NULL)
		text_copy(api->jwt_secrets[api->njwt++], SECRET_MAX, second);
}

/* "Bearer " + token, as the Authorization header carries it. */
static void
bearer(char *out, size_t size, const char *token)
{
	snprintf(out, size, "Bearer %s", token);
}

TEST(scopes_purchase_is_its_own_bit_and_prints_back)
{
	unsigned m = 0;
	char s[64];

	CHECK_EQ(auth_scopes_parse("purchase", &m), TERR_OK);
	CHECK_EQ(m, AUTH_PURCHASE);
	CHECK_EQ(auth_scopes_parse("read,spend,admin,purchase", &m), TERR_OK);
	CHECK_EQ(m, AUTH_READ | AUTH_SPEND | AUTH_ADMIN | AUTH_PURCHASE);
	auth_scopes_str(m, s, sizeof(s));
	CHECK_STR(s, "read,spend,admin,purchase");
	CHECK_EQ(auth_scopes_parse("purchases", &m), TERR_INVAL);
	CHECK_EQ(auth_scopes_parse("", &m), TERR_INVAL);
}

TEST(minted_token_reads_its_user_only_until_it_expires)
{
	struct cfg_api api;
	char tok[AUTH_TOKEN_MAX], h[AUTH_TOKEN_MAX + 16];
	const char *why = NULL;

	secrets(&api, "first-secret-of-thirty-two-bytes-or-more",
	    "second-secret-of-thirty-two-bytes-too");
	CHECK_EQ(auth_jwt_mint(&api, "u:1", NOW, 600, tok, sizeof(tok)), TERR_OK);
	bearer(h, sizeof(h), tok);
	CHECK_EQ(auth_jwt_check(&api, h, "u:1", NOW, &why), TERR_OK);
	CHECK_EQ(auth_jwt_check(&api, h, "u:1", NOW + 599 * 1000, &why), TERR_OK);
	CHECK_EQ(auth_jwt_check(&api, h, "u:1", NOW + 600 * 1000, &why), TERR_AUTH);
	/* A good token of another user: a conflict (403), not a failed credential (401). */
	CHECK_EQ(auth_jwt_check(&api, h, "u", NOW, &why), TERR_CONFLICT);
	CHECK_EQ(auth_jwt_check(&api, h, "u:12", NOW, &why), TERR_CONFLICT);
	/* Signed with the first secret: checked while a second is rolled in, refused once it is gone. */
	secrets(&api, "second-secret-of-thirty-two-bytes-too",
	    "first-secret-of-thirty-two-bytes-or-more");
	CHECK_EQ(auth_jwt_check(&api, h, "u:1", NOW, &why), TERR_OK);
	secrets(&api, "second-secret-of-thirty-two-bytes-too", NULL);
	CHECK_EQ(auth_jwt_check(&api, h, "u:1", NOW, &why), TERR_AUTH);
	/* A changed byte of the token is refused. */
	secrets(&api, "first-secret-of-thirty-two-bytes-or-more", NULL);
	h[strlen(h) - 2] = h[strlen(h) - 2] == 'A' ? 'B' : 'A';
	CHECK_EQ(auth_jwt_check(&api, h, "u:1", NOW, &why), TERR_AUTH);
}

TEST(mint_refuses_without_a_secret_a_ttl_out_of_bounds_or_no_room)
{
	struct cfg_api api;
	char tok[AUTH_TOKEN_MAX];

	secrets(&api, NULL, NULL);
	CHECK_EQ(auth_jwt_mint(&api, "u1", NOW, 600, tok, sizeof(tok)), TERR_CONFIG);
	secrets(&api, "first-secret-of-thirty-two-bytes-or-more", NULL);
	CHECK_EQ(auth_jwt_mint(&api, "u1", NOW, AUTH_TOKEN_TTL_MIN - 1, tok, sizeof(tok)),
	    TERR_INVAL);
	CHECK_EQ(auth_jwt_mint(&api, "u1", NOW, AUTH_TOKEN_TTL_MAX + 1, tok, sizeof(tok)),
	    TERR_INVAL);
	CHECK_EQ(auth_jwt_mint(&api, "", NOW, 600, tok, sizeof(tok)), TERR_INVAL);
	CHECK_EQ(auth_jwt_mint(&api, "u1", NOW, 600, tok, 40), TERR_TOOBIG);
	CHECK_EQ(auth_jwt_mint(&api, "u1", NOW, AUTH_TOKEN_TTL_MAX, tok, sizeof(tok)), TERR_OK);
}

int
main(void)
{
	RUN(scopes_purchase_is_its_own_bit_and_prints_back);
	RUN(minted_token_reads_its_user_only_until_it_expires);
	RUN(mint_refuses_without_a_secret_a_ttl_out_of_bounds_or_no_room);
	return t_done();
}
