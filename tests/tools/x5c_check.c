/*
 * Test tool: verify a certificate chain the way tally verifies App Store
 * signed data, for tests that feed it Apple's published vectors.
 *   x5c_check ROOT_B64|- LEAF_B64 INTERMEDIATE_B64 TIME_MS
 * (ROOT "-" uses Apple Root CA - G3 shipped with tally.) Prints "ok <leaf
 * public key, DER, base64>" or "fail <status> <why>" and exits 0 either way;
 * exits 2 on a usage error.
 *   x5c_check jws ROOT_FILE BUNDLE_ID JWS_FILE NOW_MS
 * verifies one signed transaction or renewal info as the API client does
 * (appstore_verify_jws) and prints "ok <payload>" or "fail <error> <why>".
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/appstore/appstore.h"
#include "cfg/cfg.h"
#include "crypto/jose.h"
#include "base/text.h"
#include "crypto/x5c.h"

extern const unsigned char apple_root_g3[];
extern const size_t apple_root_g3_len;

static int
b64(const char *s, unsigned char **out, size_t *len)
{
	size_t n = strlen(s);

	*out = malloc(n + 1);
	return *out != NULL && text_b64dec(s, n, 0, *out, n, len) == TERR_OK;
}

static int
jws_mode(char **argv)
{
	struct appstore_verifier *v = NULL;
	struct cfg *c;
	struct buf jws, payload;
	const char *why = "";
	char err[256], chunk[4096];
	int64_t now;
	FILE *f;
	size_t k;
	enum terr rc;

	if (text_i64s(argv[5], 0, INT64_MAX, &now) != TERR_OK || (c = calloc(1, sizeof(*c))) == NULL)
		return 2;
	c->apple.enabled = 1;
	c->apple.nroots = 1;
	text_copy(c->apple.roots[0], sizeof(c->apple.roots[0]), argv[2]);
	text_copy(c->apple.bundle_id, sizeof(c->apple.bundle_id), argv[3]);
	buf_init(&jws, JOSE_TOKEN_MAX);
	buf_init(&payload, JOSE_TOKEN_MAX);
	if ((f = fopen(argv[4], "rb")) == NULL) {
		free(c);
		return 2;
	}
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&jws, chunk, k);
	fclose(f);
	while (jws.len > 0 && (jws.p[jws.len - 1] == '\n' || jws.p[jws.len - 1] == '\r'))
		jws.len--;
	if (appstore_verifier_new(&v, c, err, sizeof(err)) != TERR_OK)
		printf("fail %s %s\n", err_str(TERR_CONFIG), err);
	else if ((rc = appstore_verify_jws(v, jws.p, jws.len, now, &payload, &why)) != TERR_OK)
		printf("fail %s %s\n", err_str(rc), why != NULL ? why : "");
	else
		printf("ok %s\n", buf_cstr(&payload));
	appstore_verifier_free(v);
	buf_release(&jws);
	buf_release(&payload);
	free(c);
	return 0;
}

int
main(int argc, char **argv)
{
	struct x5c_verifier *v = NULL;
	struct x5c_cert root, leaf, inter;
	unsigned char *rb = NULL, *lb = NULL, *ib = NULL, *der = NULL;
	size_t rl = 0, ll = 0, il = 0;
	int64_t at;
	void *pkey = NULL;
	const char *why = "";
	char out[512];
	int derlen;
	enum terr rc;

	if (argc == 6 && strcmp(argv[1], "jws") == 0)
		return jws_mode(argv);
	if (argc != 5 || text_i64s(argv[4], 0, INT64_MAX, &at) != TERR_OK)
		return 2;
	if (strcmp(argv[1], "-") == 0) {
		root.der = apple_root_g3;
		root.len = apple_root_g3_len;
	} else if (!b64(argv[1], &rb, &rl)) {
		/* An unreadable root: the verifier cannot be made (Apple: an invalid root fails). */
		printf("fail VERIFICATION_FAILURE unreadable root\n");
		return 0;
	} else {
		root.der = rb;
		root.len = rl;
	}
	if (!b64(argv[2], &lb, &ll) || !b64(argv[3], &ib, &il))
		return 2;
	leaf.der = lb;
	leaf.len = ll;
	inter.der = ib;
	inter.len = il;
	if (x5c_verifier_new(&v, &root, 1, APPLE_LEAF_OID, APPLE_INTERMEDIATE_OID) != TERR_OK) {
		printf("fail VERIFICATION_FAILURE unusable root\n");
		goto done;
	}
	rc = x5c_verify_chain(v, leaf, inter, at, &pkey, &why);
	if (rc == TERR_OK && (derlen = i2d_PUBKEY(pkey, &der)) > 0) {
		text_b64enc(der, (size_t)derlen, 0, out, sizeof(out));
		printf("ok %s\n", out);
	} else
		printf("fail %s %s\n",
		    rc == TERR_STALE ? "INVALID_CERTIFICATE" : "VERIFICATION_FAILURE",
		    why != NULL ? why : "");
done:
	OPENSSL_free(der);
	jose_key_free(pkey);
	x5c_verifier_free(v);
	free(rb);
	free(lb);
	free(ib);
	return 0;
}
