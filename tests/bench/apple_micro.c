/*
 * In-process benchmark of App Store verification, no HTTP, no database:
 *   jws    one signed transaction (x5c_verify_jws via appstore_verify_jws):
 *          warm chain cache, so one ECDSA verify and the JSON
 *   cold   the same with a new verifier each time: the full chain walk
 *   note   a whole notification (appstore_verify: the outer JWS and the
 *          nested transaction and renewal info, three ECDSA verifies)
 * Usage: apple_micro ROOT_PEM NOTIFICATION_BODY_FILE SECONDS
 * (the body and the root from tests/bench/gen-apple.js).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "providers/appstore/appstore.h"
#include "cfg/cfg.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static char *
slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p;
	long len;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (p = malloc((size_t)len + 1)) == NULL) {
		if (f != NULL)
			fclose(f);
		return NULL;
	}
	*n = fread(p, 1, (size_t)len, f);
	p[*n] = '\0';
	fclose(f);
	while (*n > 0 && (p[*n - 1] == '\n' || p[*n - 1] == '\r'))
		p[--*n] = '\0';
	return p;
}

int
main(int argc, char **argv)
{
	struct cfg *c;
	struct appstore_verifier *v = NULL, *fresh;
	struct buf payload;
	char why[256], *body, *tx;
	const char *w = NULL, *jws;
	cJSON *root = NULL, *note = NULL;
	size_t n;
	double secs, t0, t;
	int64_t now = tm_now_ms(), i;

	if (argc != 4 || (secs = atof(argv[3])) <= 0 || (body = slurp(argv[2], &n)) == NULL)
		return fprintf(stderr, "usage: apple_micro ROOT_PEM BODY_FILE SECONDS\n"), 2;
	crypto_init();
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return 1;
	cfg_defaults(c);
	c->apple.enabled = 1;
	c->apple.app_apple_id = 1234567890;
	c->apple.nroots = 1;
	text_copy(c->apple.roots[0], sizeof(c->apple.roots[0]), argv[1]);
	text_copy(c->apple.bundle_id, sizeof(c->apple.bundle_id), "com.example.tally");
	if (appstore_verifier_new(&v, c, why, sizeof(why)) != TERR_OK)
		return fprintf(stderr, "%s\n", why), 1;
	/* The nested transaction of the notification, for the single-JWS figures. */
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &w) != TERR_OK ||
	    (jws = jstr(root, "signedPayload")) == NULL)
		return fprintf(stderr, "body is not a notification\n"), 1;
	buf_init(&payload, JOSE_TOKEN_MAX);
	if (appstore_verify_jws(v, jws, strlen(jws), now, &payload, &w) != TERR_OK ||
	    json_parse(payload.p, payload.len, JSON_DEPTH_MAX, &note, &w) != TERR_OK ||
	    jstr(jobj(note, "data"), "signedTransactionInfo") == NULL)
		return fprintf(stderr, "notification does not verify: %s\n", w ? w : "?"), 1;
	tx = strdup(jstr(jobj(note, "data"), "signedTransactionInfo"));

	for (i = 0, t0 = now_s(); (t = now_s() - t0) < secs; i++)
		if (appstore_verify_jws(v, tx, strlen(tx), now, &payload, &w) != TERR_OK)
			return fprintf(stderr, "jws: %s\n", w), 1;
	printf("apple verify jws (warm chain cache): %.0f/s\n", i / t);
	for (i = 0, t0 = now_s(); (t = now_s() - t0) < secs; i++) {
		if (appstore_verifier_new(&fresh, c, why, sizeof(why)) != TERR_OK ||
		    appstore_verify_jws(fresh, tx, strlen(tx), now, &payload, &w) != TERR_OK)
			return fprintf(stderr, "cold: %s\n", w ? w : why), 1;
		appstore_verifier_free(fresh);
	}
	printf("apple verify jws (cold: chain walked each time): %.0f/s\n", i / t);
	for (i = 0, t0 = now_s(); (t = now_s() - t0) < secs; i++)
		if (appstore_verify(v, body, n, now, &w) != TERR_OK)
			return fprintf(stderr, "note: %s\n", w), 1;
	printf("apple verify notification (3 JWS, warm): %.0f/s\n", i / t);

	cJSON_Delete(root);
	cJSON_Delete(note);
	buf_release(&payload);
	appstore_verifier_free(v);
	free(tx);
	free(body);
	free(c);
	return 0;
}
