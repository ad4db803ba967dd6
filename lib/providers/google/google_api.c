/*
 * The Android Publisher client (google_api.h). Two locks, as in
 * google_keys.c: mu guards the held access token and is held only for
 * moments; token_mu serialises exchanges, so threads that find the token
 * due together wait for one exchange and then use its result.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "crypto/crypto.h"
#include "http/httpc.h"
#include "providers/google/google_api.h"
#include "providers/google/google_sa.h"
#include "providers/papi.h"

#define WHO "Google Play"

struct google_api {
	struct cfg_http http;
	char package[sizeof(((struct cfg_google *)0)->package_name)];
	char api_base[URL_MAX];
	char token_url[URL_MAX];
	struct google_sa sa; /* the key, read once at google_api_new */
	pthread_mutex_t mu;
	pthread_mutex_t token_mu;
	char token[GOOGLE_ACCESS_TOKEN_MAX]; /* "" when none is held */
	int64_t expires;                     /* ms: the held token expires then */
	uint64_t gen;                        /* counts the tokens held (see drop_token) */
	uint64_t exchanges;                  /* begun */
	uint64_t exchanged;                  /* ended */
	enum terr last_rc;                   /* how the last exchange ended, and why: */
	char last_why[256];                  /* threads that waited for it share its failure */
};

/*
 * Read the key file at path into b (empty, bounded by its max) straight from
 * the descriptor into one allocation made first, so that no copy of the key
 * is left elsewhere (a growing buffer would leave one in each block it
 * outgrew). TERR_CONFIG when it cannot be read, TERR_TOOBIG past b's max.
 */
static enum terr
read_key_file(const char *path, struct buf *b, char *why, size_t whysize)
{
	struct stat st;
	ssize_t r = 0;
	size_t room;
	char probe;
	int fd, over = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		snprintf(why, whysize, "GOOGLE_SERVICE_ACCOUNT_FILE cannot be read: %s",
		    strerror(errno));
		return TERR_CONFIG;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		snprintf(why, whysize, "GOOGLE_SERVICE_ACCOUNT_FILE is not a regular file");
		return TERR_CONFIG;
	}
	if (buf_reserve(b, b->max) == NULL) {
		close(fd);
		snprintf(why, whysize, "out of memory");
		return TERR_NOMEM;
	}
	for (;;) {
		if ((room = b->max - b->len) == 0) {
			/* Full: one more byte tells a file of exactly max bytes from a larger one. */
			while ((r = read(fd, &probe, 1)) < 0 && errno == EINTR)
				;
			over = r > 0;
			crypto_wipe(&probe, 1);
			break;
		}
		r = read(fd, b->p + b->len, room);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		buf_commit(b, (size_t)r);
	}
	close(fd);
	if (r < 0) {
		snprintf(why, whysize, "GOOGLE_SERVICE_ACCOUNT_FILE cannot be read: %s",
		    strerror(errno));
		return TERR_CONFIG;
	}
	if (over) {
		snprintf(why, whysize,
		    "GOOGLE_SERVICE_ACCOUNT_FILE is larger than a service account key file (%zu "
		    "bytes)",
		    b->max);
		return TERR_TOOBIG;
	}
	return TERR_OK;
}

enum terr
google_api_new(const struct cfg *c, struct google_api **out, char *why, size_t whysize)
{
	struct google_api *g = NULL;
	const char *swhy = NULL;
	struct buf file;
	enum terr rc;

	*out = NULL;
	if (!c->google.enabled) {
		snprintf(why, whysize, "the configuration has no google section");
		return TERR_CONFIG;
	}
	if (c->google.sa_file[0] == '\0') {
		snprintf(why, whysize, "GOOGLE_SERVICE_ACCOUNT_FILE is not set");
		return TERR_CONFIG;
	}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		snprintf(why, whysize, "out of memory");
		return TERR_NOMEM;
	}
	buf_init(&file, GOOGLE_SA_FILE_MAX);
	rc = read_key_file(c->google.sa_file, &file, why, whysize);
	if (rc == TERR_TOOBIG)
		rc = TERR_INVAL; /* larger than any key file: not one */
	else if (rc == TERR_OK &&
	    (rc = google_sa_load(&g->sa, buf_cstr(&file), file.len, &swhy)) != TERR_OK) {
		snprintf(why, whysize, "GOOGLE_SERVICE_ACCOUNT_FILE: %s",
		    swhy != NULL ? swhy : "not a service account key file");
		/* Read but unusable: not a service account's key (google_api.h). */
		if (rc != TERR_NOMEM)
			rc = TERR_INVAL;
	}
	if (file.p != NULL)
		crypto_wipe(file.p, file.cap);
	buf_release(&file);
	if (rc != TERR_OK) {
		free(g);
		return rc;
	}
	g->http = c->http;
	text_copy(g->package, sizeof(g->package), c->google.package_name);
	text_copy(g->api_base, sizeof(g->api_base), c->google.api_base);
	text_copy(g->token_url, sizeof(g->token_url), c->google.token_url);
	pthread_mutex_init(&g->mu, NULL);
	pthread_mutex_init(&g->token_mu, NULL);
	*out = g;
	return TERR_OK;
}

void
google_api_free(struct google_api *g)
{
	if (g == NULL)
		return;
	google_sa_release(&g->sa);
	pthread_mutex_destroy(&g->token_mu);
	pthread_mutex_destroy(&g->mu);
	crypto_wipe(g, sizeof(*g));
	free(g);
}

uint64_t
google_api_exchanges(struct google_api *g)
{
	uint64_t n;

	pthread_mutex_lock(&g->mu);
	n = g->exchanges;
	pthread_mutex_unlock(&g->mu);
	return n;
}

/* An access token is b64token (RFC 6750 2.1): it goes into a header line as is. */
static int
token_valid(const char *s)
{
	size_t n = strlen(s), i = 0;

	if (n == 0 || n >= GOOGLE_ACCESS_TOKEN_MAX)
		return 0;
	for (; i < n && (isalnum((unsigned char)s[i]) || strchr("-._~+/", s[i]) != NULL); i++)
		;
	for (; i < n && s[i] == '='; i++)
		;
	return i == n;
}

/*
 * Why the token endpoint refused: "<error>: <error_description>" of its
 * answer (RFC 6749 5.2), bounded; never anything else of the answer.
 */
static enum terr
token_refused(const struct httpc_resp *resp, char *why, size_t whysize)
{
	char detail[200] = "";
	cJSON *root = NULL;
	const char *jwhy, *e, *d;

	if (json_parse(buf_cstr(&resp->body), resp->body.len, 4, &root, &jwhy) == TERR_OK &&
	    (e = jstr(root, "error")) != NULL) {
		d = jstr(root, "error_description");
		snprintf(detail, sizeof(detail), ": %.60s%s%.120s", e, d != NULL ? ": " : "",
		    d != NULL ? d : "");
	}
	cJSON_Delete(root);
	snprintf(why, whysize, "Google's token endpoint answered %ld%s", resp->status, detail);
	/* 400 invalid_grant, 401 invalid_client: the key, its account or the clock (7.4). */
	return resp->status >= 400 && resp->status <= 403 ? TERR_AUTH : TERR_IO;
}

/* The string cJSON copied out of an answer, overwritten before the tree is freed. */
static void
wipe_member(cJSON *root, const char *key)
{
	cJSON *v;

	if (root != NULL && (v = cJSON_GetObjectItemCaseSensitive(root, key)) != NULL &&
	    cJSON_IsString(v) && v->valuestring != NULL)
		crypto_wipe(v->valuestring, strlen(v->valuestring));
}

/*
 * The JWT bearer grant at now (ms): an assertion signed now, posted as a form
 * to the token URL (RFC 7523 2.1; PROVIDERS.md 7.4). Its access_token into
 * tok, its expires_in (s, within [1, GOOGLE_TOKEN_TTL_MAX]) into *ttl.
 */
static enum terr
exchange(struct google_api *g, int64_t now, char *tok, int64_t *ttl, char *why, size_t whysize)
{
	static const char *const headers[] = { "Content-Type: application/x-www-form-urlencoded",
		"Accept: application/json", NULL };
	struct httpc_req req = { "POST", g->token_url, headers, NULL, 0, NULL, NULL };
	struct httpc_resp resp;
	struct buf body;
	cJSON *root = NULL;
	const char *jwhy, *at, *type;
	char hwhy[256];
	int64_t in = 0;
	enum terr rc;

	tok[0] = '\0';
	buf_init(&body, GOOGLE_ASSERTION_MAX);
	httpc_resp_init(&resp, GOOGLE_TOKEN_ANSWER_MAX);
	/* Whole at once, so that no outgrown block keeps a piece of the assertion or token. */
	if (buf_reserve(&body, body.max) == NULL ||
	    buf_reserve(&resp.body, resp.body.max) == NULL) {
		snprintf(why, whysize, "out of memory");
		rc = TERR_NOMEM;
		goto out;
	}
	if ((rc = google_sa_token_body(&g->sa, now / 1000, &body)) != TERR_OK) {
		snprintf(why, whysize, "the service account's assertion could not be made (%s)",
		    err_str(rc));
		goto out;
	}
	req.body = buf_cstr(&body);
	req.body_len = body.len;
	if ((rc = httpc_do(&g->http, &req, &resp, hwhy, sizeof(hwhy))) != TERR_OK) {
		snprintf(why, whysize, "Google's token endpoint: %s", hwhy);
		if (rc != TERR_NOMEM)
			rc = TERR_IO;
		goto out;
	}
	if (resp.status != 200) {
		rc = token_refused(&resp, why, whysize);
		goto out;
	}
	rc = TERR_IO;
	if (json_parse(buf_cstr(&resp.body), resp.body.len, 4, &root, &jwhy) != TERR_OK ||
	    (at = jstr(root, "access_token")) == NULL || !token_valid(at) ||
	    jint(root, "expires_in", &in) != 1 || in <= 0 ||
	    ((type = jstr(root, "token_type")) != NULL && strcasecmp(type, "Bearer") != 0)) {
		snprintf(why, whysize,
		    "Google's token endpoint answered 200 without a usable bearer token");
		goto out;
	}
	text_copy(tok, GOOGLE_ACCESS_TOKEN_MAX, at);
	*ttl = in < GOOGLE_TOKEN_TTL_MAX ? in : GOOGLE_TOKEN_TTL_MAX;
	rc = TERR_OK;
out:
	wipe_member(root, "access_token");
	cJSON_Delete(root);
	if (body.p != NULL)
		crypto_wipe(body.p, body.cap);
	if (resp.body.p != NULL)
		crypto_wipe(resp.body.p, resp.body.cap);
	buf_release(&body);
	httpc_resp_release(&resp);
	return rc;
}

/* Under mu: a held token not due for renewal at now (ms), copied into tok. */
static int
held(struct google_api *g, int64_t now, char *tok, uint64_t *gen)
{
	if (g->token[0] == '\0' || now >= g->expires - (int64_t)GOOGLE_TOKEN_MARGIN * 1000)
		return 0;
	memcpy(tok, g->token, sizeof(g->token));
	*gen = g->gen;
	return 1;
}

/*
 * An access token for a call, into tok (GOOGLE_ACCESS_TOKEN_MAX bytes; the
 * caller wipes it), and the generation it belongs to. The held one unless it
 * expires within GOOGLE_TOKEN_MARGIN; else one exchange, under token_mu:
 * threads that waited for it find its token held, or share its failure
 * instead of trying again one after the other. A token whose expires_in is
 * shorter than the margin serves only the call that got it.
 */
static enum terr
get_token(struct google_api *g, char *tok, uint64_t *gen, char *why, size_t whysize)
{
	char fresh[GOOGLE_ACCESS_TOKEN_MAX];
	int64_t now = tm_now_ms(), ttl = 0;
	uint64_t seen;
	enum terr rc = TERR_OK;
	int have, need = 0;

	pthread_mutex_lock(&g->mu);
	have = held(g, now, tok, gen);
	seen = g->exchanged;
	pthread_mutex_unlock(&g->mu);
	if (have)
		return TERR_OK;
	pthread_mutex_lock(&g->token_mu);
	pthread_mutex_lock(&g->mu);
	now = tm_now_ms();
	have = held(g, now, tok, gen);
	if (!have && g->exchanged != seen && g->last_rc != TERR_OK) {
		rc = g->last_rc;
		snprintf(why, whysize, "%s", g->last_why);
	} else if (!have) {
		g->exchanges++;
		need = 1;
	}
	pthread_mutex_unlock(&g->mu);
	if (need) {
		rc = exchange(g, now, fresh, &ttl, why, whysize);
		pthread_mutex_lock(&g->mu);
		if (rc == TERR_OK) {
			memcpy(g->token, fresh, sizeof(g->token));
			g->expires = now + ttl * 1000;
			*gen = ++g->gen;
			memcpy(tok, fresh, sizeof(fresh));
		}
		g->exchanged++;
		g->last_rc = rc;
		snprintf(g->last_why, sizeof(g->last_why), "%s", rc == TERR_OK ? "" : why);
		pthread_mutex_unlock(&g->mu);
		crypto_wipe(fresh, sizeof(fresh));
	}
	pthread_mutex_unlock(&g->token_mu);
	return rc;
}

/*
 * Google refused the token of generation gen (401): drop it, unless another
 * thread has already put a newer one in its place.
 */
static void
drop_token(struct google_api *g, uint64_t gen)
{
	pthread_mutex_lock(&g->mu);
	if (g->gen == gen) {
		crypto_wipe(g->token, sizeof(g->token));
		g->expires = 0;
	}
	pthread_mutex_unlock(&g->mu);
}

/*
 * method on api_base + path with the access token, into resp (initialised by
 * the caller). A 401 drops the token and the call is made once more with a
 * new one. TERR_OK when an answer arrived, whatever its status; the token's
 * errors (TERR_AUTH, TERR_IO) or papi_do's.
 */
static enum terr
call(struct google_api *g, const char *method, const char *path, struct httpc_resp *resp, char *why,
    size_t whysize)
{
	/* Google's front end answers 411 to a POST without Content-Length: send an empty body. */
	static const struct buf empty;
	char tok[GOOGLE_ACCESS_TOKEN_MAX], auth[GOOGLE_ACCESS_TOKEN_MAX + 32], hwhy[256];
	struct papi_req q = { WHO, g->api_base, path, method, NULL, auth, NULL, NULL };
	uint64_t gen = 0;
	enum terr rc;
	int attempt;

	if (strcmp(method, "POST") == 0)
		q.body = &empty;
	for (attempt = 0;; attempt++) {
		if ((rc = get_token(g, tok, &gen, why, whysize)) != TERR_OK)
			return rc;
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		rc = papi_do(&g->http, &q, resp, hwhy, sizeof(hwhy));
		crypto_wipe(auth, sizeof(auth));
		crypto_wipe(tok, sizeof(tok));
		if (rc != TERR_OK) {
			snprintf(why, whysize, WHO ": %s", hwhy);
			return rc;
		}
		if (resp->status != 401 || attempt == 1)
			return TERR_OK;
		drop_token(g, gen);
	}
}

/* What an answer other than 200 means (google_api.h): papi's rule, and 410 TERR_STALE. */
static enum terr
refused(const struct httpc_resp *resp, char *why, size_t whysize)
{
	static const struct papi_req who = { WHO, "", "", "GET", NULL, NULL, NULL, NULL };
	enum terr rc = papi_status(&who, resp, "error.message", why, whysize);

	return resp->status == 410 ? TERR_STALE : rc;
}

/*
 * GET path: the answer, a JSON object, verbatim into out (emptied first);
 * parsed into *root too when root is not NULL (the caller deletes it).
 */
static enum terr
get_json(struct google_api *g, const char *path, struct buf *out, cJSON **root, char *why,
    size_t whysize)
{
	struct httpc_resp resp;
	cJSON *doc = NULL;
	const char *jwhy;
	enum terr rc;

	if (root != NULL)
		*root = NULL;
	httpc_resp_init(&resp, GOOGLE_ANSWER_MAX);
	if ((rc = call(g, "GET", path, &resp, why, whysize)) != TERR_OK)
		goto out;
	if (resp.status != 200) {
		rc = refused(&resp, why, whysize);
		goto out;
	}
	/*
	 * The answer is stored inside tally's own JSON (google_push.h's envelope,
	 * one level deeper): it must be JSON itself, and nest one level less. This
	 * is the only parse of it before the envelope's (google_fetch relies on it).
	 */
	if (json_parse(buf_cstr(&resp.body), resp.body.len, JSON_DEPTH_MAX - 1, &doc, &jwhy) !=
		TERR_OK ||
	    !cJSON_IsObject(doc)) {
		snprintf(why, whysize, WHO " answered 200 with a body that is not a JSON object");
		rc = TERR_IO;
		goto out;
	}
	buf_reset(out);
	buf_append(out, buf_cstr(&resp.body), resp.body.len);
	if ((rc = out->err) != TERR_OK) {
		snprintf(why, whysize, WHO "'s answer is larger than %zu bytes", out->max);
		goto out;
	}
	if (root != NULL) {
		*root = doc;
		doc = NULL;
	}
out:
	cJSON_Delete(doc);
	httpc_resp_release(&resp);
	return rc;
}

/* POST path, which answers nothing on success. */
static enum terr
post(struct google_api *g, const char *path, char *why, size_t whysize)
{
	struct httpc_resp resp;
	enum terr rc;

	httpc_resp_init(&resp, GOOGLE_ANSWER_MAX);
	if ((rc = call(g, "POST", path, &resp, why, whysize)) == TERR_OK && resp.status != 200)
		rc = refused(&resp, why, whysize);
	httpc_resp_release(&resp);
	return rc;
}

/*
 * The path of a purchase (the API's resource names: androidpublisher v3
 * purchases.*): /androidpublisher/v3/applications/{package}/purchases/{kind}
 * [/{product}]/tokens/{token}[:{verb}], each segment percent-encoded.
 */
static enum terr
purchase_path(struct buf *p, const struct google_api *g, const char *kind, const char *product,
    const char *token, const char *verb, char *why, size_t whysize)
{
	if (token == NULL || token[0] == '\0' || (product != NULL && product[0] == '\0')) {
		snprintf(why, whysize, "%s",
		    token == NULL || token[0] == '\0' ? "no purchase token to ask Google Play about"
						      : "no product id to ask Google Play about");
		return TERR_INVAL;
	}
	buf_puts(p, "/androidpublisher/v3/applications/");
	httpc_escape(p, g->package);
	buf_printf(p, "/purchases/%s/", kind);
	if (product != NULL) {
		httpc_escape(p, product);
		buf_putc(p, '/');
	}
	buf_puts(p, "tokens/");
	httpc_escape(p, token);
	if (verb != NULL)
		buf_printf(p, ":%s", verb);
	if (p->err != TERR_OK) {
		snprintf(why, whysize, "the purchase token or product id is too long");
		return TERR_TOOBIG;
	}
	return TERR_OK;
}

enum terr
google_sub_get(struct google_api *g, const char *token, struct buf *out, char *why, size_t whysize)
{
	char storage[PAPI_URL_MAX];
	struct buf p;
	enum terr rc;

	buf_init_fixed(&p, storage, sizeof(storage));
	if ((rc = purchase_path(&p, g, "subscriptionsv2", NULL, token, NULL, why, whysize)) !=
	    TERR_OK)
		return rc;
	return get_json(g, buf_cstr(&p), out, NULL, why, whysize);
}

enum terr
google_product_get(struct google_api *g, const char *product, const char *token, struct buf *out,
    char *why, size_t whysize)
{
	char storage[PAPI_URL_MAX];
	struct buf p;
	enum terr rc;

	buf_init_fixed(&p, storage, sizeof(storage));
	if ((rc = purchase_path(&p, g, "products", product, token, NULL, why, whysize)) != TERR_OK)
		return rc;
	return get_json(g, buf_cstr(&p), out, NULL, why, whysize);
}

/* POST .../{kind}/{product}/tokens/{token}:{verb}. */
static enum terr
purchase_post(struct google_api *g, const char *kind, const char *product, const char *token,
    const char *verb, char *why, size_t whysize)
{
	char storage[PAPI_URL_MAX];
	struct buf p;
	enum terr rc;

	if (product == NULL) {
		snprintf(why, whysize, "no product id to ask Google Play about");
		return TERR_INVAL;
	}
	buf_init_fixed(&p, storage, sizeof(storage));
	if ((rc = purchase_path(&p, g, kind, product, token, verb, why, whysize)) != TERR_OK)
		return rc;
	return post(g, buf_cstr(&p), why, whysize);
}

enum terr
google_sub_ack(struct google_api *g, const char *product, const char *token, char *why,
    size_t whysize)
{
	return purchase_post(g, "subscriptions", product, token, "acknowledge", why, whysize);
}

enum terr
google_product_ack(struct google_api *g, const char *product, const char *token, char *why,
    size_t whysize)
{
	return purchase_post(g, "products", product, token, "acknowledge", why, whysize);
}

enum terr
google_product_consume(struct google_api *g, const char *product, const char *token, char *why,
    size_t whysize)
{
	return purchase_post(g, "products", product, token, "consume", why, whysize);
}

enum terr
google_voided_list(struct google_api *g, int64_t start_ms, int64_t end_ms, const char *page,
    struct buf *out, char *next, size_t nextsize, char *why, size_t whysize)
{
	char storage[PAPI_URL_MAX];
	int64_t now = tm_now_ms(), oldest;
	const cJSON *tp;
	const char *nt;
	cJSON *root = NULL;
	struct buf p;
	enum terr rc;

	if (nextsize > 0)
		next[0] = '\0';
	/*
	 * Google refuses a startTime older than 30 days and an endTime in the future (7.5);
	 * its clock reads the request a little later than ours.
	 */
	oldest = now - (int64_t)GOOGLE_VOIDED_WINDOW_DAYS * 86400000 +
	    (int64_t)GOOGLE_VOIDED_SLACK * 1000;
	if (start_ms < oldest)
		start_ms = oldest;
	if (end_ms <= 0 || end_ms > now)
		end_ms = now;
	if (start_ms > end_ms) {
		snprintf(why, whysize, "voidedpurchases.list: the window ends before it starts");
		return TERR_INVAL;
	}
	buf_init_fixed(&p, storage, sizeof(storage));
	buf_puts(&p, "/androidpublisher/v3/applications/");
	httpc_escape(&p, g->package);
	/*
	 * type=1: subscriptions too (keyed by orderId); includeQuantityBasedPartialRefund:
	 * the partial refunds of multi-quantity purchases, with their voidedQuantity.
	 */
	buf_printf(&p,
	    "/purchases/voidedpurchases?startTime=%" PRId64 "&endTime=%" PRId64
	    "&type=1&maxResults=%d&includeQuantityBasedPartialRefund=true",
	    start_ms, end_ms, GOOGLE_VOIDED_PAGE);
	if (page != NULL && page[0] != '\0') {
		buf_puts(&p, "&token=");
		httpc_escape(&p, page);
	}
	if (p.err != TERR_OK) {
		snprintf(why, whysize, "voidedpurchases.list: the page token is too long");
		return TERR_TOOBIG;
	}
	if ((rc = get_json(g, buf_cstr(&p), out, &root, why, whysize)) != TERR_OK)
		return rc;
	if ((tp = jobj(root, "tokenPagination")) != NULL &&
	    (nt = jstr(tp, "nextPageToken")) != NULL && text_copy(next, nextsize, nt) != TERR_OK) {
		snprintf(why, whysize, "voidedpurchases.list: the next page's token is too long");
		rc = TERR_TOOBIG;
	}
	cJSON_Delete(root);
	return rc;
}
