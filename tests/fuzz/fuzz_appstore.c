/*
 * App Store: a notification body through the verifier (JWS, x5c chain to
 * Apple Root CA - G3, nested JWS) and through the mapping as if verified.
 */
#include "providers/appstore/appstore.h"
#include "base/event.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct appstore_verifier *v;
	static struct bev e;
	struct cfg *c = fuzz_cfg();
	char why[256];
	const char *w;

	if (v == NULL && appstore_verifier_new(&v, c, why, sizeof(why)) != TERR_OK)
		abort();
	(void)appstore_verify(v, (const char *)data, size, 1700000000000LL, &w);
	(void)appstore_parse(c, (const char *)data, size, &e, why, sizeof(why));
	return 0;
}
