/*
 * Google Play: the parser of what its webhook stores, and the account id an
 * app sets (google.h).
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "providers/google/google.h"
#include "providers/google/google_map.h"
#include "providers/google/google_push.h"

/* A body that is not an envelope: an unreadable push, failed with why it is. */
static void
parse_unreadable(const struct cfg *c, const char *body, size_t n, struct bev *e)
{
	struct google_push p;
	char why[REASON_MAX];
	cJSON *root = NULL;
	const char *jwhy, *t;

	memset(&p, 0, sizeof(p));
	google_push_event_id(body, n, e->id, sizeof(e->id));
	snprintf(e->type, sizeof(e->type), "UNREADABLE");
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) == TERR_OK &&
	    jstr(root, GOOGLE_FORGED_KEY) != NULL)
		snprintf(e->refusal, sizeof(e->refusal),
		    "a body shaped like tally's own envelope came with the push: never read as one "
		    "(kept, base64, in " GOOGLE_FORGED_KEY ")");
	else if (google_push_read(&c->google, body, n, &p, why, sizeof(why)) != TERR_OK)
		snprintf(e->refusal, sizeof(e->refusal), "unreadable push: %.480s", why);
	else
		snprintf(e->refusal, sizeof(e->refusal),
		    "a push stored without its purchase: Google will not send it again, and "
		    "the purchase must be read from the API");
	google_push_release(&p);
	/* When Pub/Sub published it, if that can be read. */
	if (root != NULL &&
	    ((t = jstr(jobj(root, "message"), "publishTime")) != NULL ||
		(t = jstr(jobj(root, "message"), "publish_time")) != NULL) &&
	    google_time(t, &e->at) != TERR_OK)
		e->at = 0;
	cJSON_Delete(root);
}

enum terr
google_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize)
{
	cJSON *root = NULL;
	const char *jwhy;

	(void)why;
	(void)whysize;
	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	e->live = 1;
	text_copy(e->provider, sizeof(e->provider), "google");
	text_copy(e->match_provider, sizeof(e->match_provider), "google");
	/* Only tally writes envelopes; a push (which has "message") never is one. */
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) == TERR_OK &&
	    google_is_envelope(root)) {
		google_map_envelope(c, root, e);
		if (e->id[0] == '\0')
			google_push_event_id(body, n, e->id, sizeof(e->id));
	} else
		parse_unreadable(c, body, n, e);
	cJSON_Delete(root);
	return TERR_OK;
}

enum terr
google_account_id(const struct cfg_google *g, const char *user, char *out, size_t size)
{
	struct hmac_key k;
	struct iov part;
	unsigned char mac[SHA256_LEN];
	size_t klen = strlen(g->identity_key);
	enum terr rc;

	if (size < GOOGLE_ACCOUNT_ID_MAX + 1)
		return TERR_TOOBIG;
	out[0] = '\0';
	if (user == NULL || !text_id_valid(user, USER_ID_MAX))
		return TERR_INVAL;
	if (g->identity != GOOGLE_IDENTITY_HMAC) {
		if (strlen(user) > GOOGLE_ACCOUNT_ID_MAX)
			return TERR_TOOBIG;
		return text_copy(out, size, user);
	}
	if (klen == 0)
		return TERR_CONFIG;
	if ((rc = crypto_hmac_init(&k, g->identity_key, klen)) != TERR_OK)
		return rc;
	part.p = user;
	part.n = strlen(user);
	rc = crypto_hmac_sha256(&k, &part, 1, mac);
	crypto_hmac_release(&k);
	if (rc == TERR_OK)
		text_hex(mac, SHA256_LEN, out);
	crypto_wipe(mac, sizeof(mac));
	return rc;
}
