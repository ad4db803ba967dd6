/* User tokens (HS256, algorithm pinned) and compact JWS splitting and decoding. */
#include "api/auth.h"
#include "fuzz.h"
#include "crypto/jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg_api api;
	struct jose_parts p;
	struct buf claims, out;
	char *text = fuzz_text(data, size), *authz;
	const char *why;

	if (api.njwt == 0) {
		text_copy(api.jwt_secrets[0], SECRET_MAX, "fuzz-secret-0123456789abcdef0123456789");
		api.njwt = 1;
	}
	buf_init(&claims, 8192);
	buf_init(&out, 64 * 1024);
	(void)jose_hs256_verify(text, size, api.jwt_secrets[0], strlen(api.jwt_secrets[0]), &claims,
	    &why);
	if (jose_split(text, size, &p) == TERR_OK) {
		(void)jose_decode(p.header, p.header_len, &out);
		(void)jose_decode(p.payload, p.payload_len, &out);
	}
	if ((authz = malloc(size + 8)) != NULL) {
		memcpy(authz, "Bearer ", 7);
		memcpy(authz + 7, data, size);
		authz[size + 7] = '\0';
		(void)auth_jwt_check(&api, authz, "u_fuzz", 1700000000000LL, &why);
		free(authz);
	}
	buf_release(&claims);
	buf_release(&out);
	free(text);
	return 0;
}
