/*
 * App Store Server API client: see appstore_api.h. Apple's endpoints and
 * answers as in its app-store-server-library (AppStoreServerAPIClient,
 * models StatusResponse, HistoryResponse, NotificationHistoryResponse).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "crypto/jose.h"
#include "http/httpc.h"
#include "providers/appstore/appstore_api.h"

/* Apple's tokens may live 60 minutes; a short one limits what a leaked log line is worth. */
#define TOKEN_TTL_S 300

struct appstore_api {
	const struct cfg *c;
	void *key; /* EVP_PKEY of the In-App Purchase key */
	struct appstore_verifier *v;
	int sandbox;
	const char *base;
};

enum terr
appstore_api_new(struct appstore_api **out, const struct cfg *c, int sandbox, char *why,
    size_t whysize)
{
	const struct cfg_apple *ca = &c->apple;
	struct appstore_api *a;
	enum terr rc;

	*out = NULL;
	if (!ca->enabled) {
		snprintf(why, whysize, "apple is not configured (apple.bundle_id)");
		return TERR_CONFIG;
	}
	if (ca->key_id[0] == '\0' || ca->issuer_id[0] == '\0' || ca->private_key[0] == '\0') {
		snprintf(why, whysize,
		    "the App Store Server API needs apple.key_id, apple.issuer_id and "
		    "APPLE_PRIVATE_KEY (or APPLE_PRIVATE_KEY_FILE)");
		return TERR_CONFIG;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return TERR_NOMEM;
	a->c = c;
	a->sandbox = sandbox;
	a->base = sandbox ? ca->api_sandbox_base : ca->api_base;
	if (jose_load_ec_key(ca->private_key, &a->key) != TERR_OK) {
		snprintf(why, whysize,
		    "APPLE_PRIVATE_KEY is not a PEM P-256 private key (the .p8 file from App Store "
		    "Connect)");
		appstore_api_free(a);
		return TERR_CONFIG;
	}
	if ((rc = appstore_verifier_new(&a->v, c, why, whysize)) != TERR_OK) {
		appstore_api_free(a);
		return rc;
	}
	*out = a;
	return TERR_OK;
}

void
appstore_api_free(struct appstore_api *a)
{
	if (a == NULL)
		return;
	jose_key_free(a->key);
	appstore_verifier_free(a->v);
	free(a);
}

void
appstore_list_release(struct appstore_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static enum terr
list_add(struct appstore_list *l, const char *p, size_t n)
{
	char **nv, *s;

	if (l->n >= APPSTORE_API_ITEMS_MAX)
		return TERR_TOOBIG;
	if (l->n == l->cap) {
		size_t cap = l->cap == 0 ? 32 : l->cap * 2;
		if ((nv = realloc(l->v, cap * sizeof(*nv))) == NULL)
			return TERR_NOMEM;
		l->v = nv;
		l->cap = cap;
	}
	if ((s = malloc(n + 1)) == NULL)
		return TERR_NOMEM;
	memcpy(s, p, n);
	s[n] = '\0';
	l->v[l->n++] = s;
	return TERR_OK;
}

enum terr
appstore_api_token(struct appstore_api *a, int64_t now, struct buf *out)
{
	const struct cfg_apple *ca = &a->c->apple;
	struct buf hb, cb;
	struct jw w;
	int64_t iat = now / 1000;
	enum terr rc;

	buf_init(&hb, 1024);
	buf_init(&cb, 1024);
	jw_init(&w, &hb);
	jw_obj(&w);
	jw_kstr(&w, "alg", "ES256");
	jw_kstr(&w, "kid", ca->key_id);
	jw_kstr(&w, "typ", "JWT");
	jw_end(&w);
	jw_init(&w, &cb);
	jw_obj(&w);
	jw_kstr(&w, "iss", ca->issuer_id);
	jw_kint(&w, "iat", iat);
	jw_kint(&w, "exp", iat + TOKEN_TTL_S);
	jw_kstr(&w, "aud", "appstoreconnect-v1");
	jw_kstr(&w, "bid", ca->bundle_id);
	jw_end(&w);
	rc = hb.err != TERR_OK ? hb.err : cb.err;
	if (rc == TERR_OK)
		rc = jose_es256_token(a->key, buf_cstr(&hb), buf_cstr(&cb), out);
	buf_release(&hb);
	buf_release(&cb);
	return rc;
}

/* Apple's error answer {"errorCode": 4040010, "errorMessage": "..."}, when it sent one. */
static void
apple_error(const struct buf *body, char *out, size_t size)
{
	cJSON *root = NULL;
	const char *jwhy, *msg;
	int64_t code = 0;

	out[0] = '\0';
	if (body->len == 0 || json_parse(body->p, body->len, 4, &root, &jwhy) != TERR_OK)
		return;
	msg = jstr(root, "errorMessage");
	if (jint(root, "errorCode", &code) == 1 || msg != NULL)
		snprintf(out, size, ": errorCode %lld, %.200s", (long long)code,
		    msg != NULL ? msg : "(no message)");
	cJSON_Delete(root);
}

/*
 * One authenticated request to path (with its query) of the configured base;
 * a 200's body in out. Every other answer becomes an error with why.
 */
static enum terr
call(struct appstore_api *a, const char *method, const char *path, const char *body, int64_t now,
    struct buf *out, char *why, size_t whysize)
{
	struct httpc_resp r;
	struct httpc_req req;
	struct buf url, auth, token;
	const char *headers[4];
	char detail[256];
	enum terr rc;

	buf_init(&url, URL_MAX * 2);
	buf_init(&auth, 4096);
	buf_init(&token, 4096);
	httpc_resp_init(&r, HTTPC_BODY_MAX);
	buf_printf(&url, "%s%s", a->base, path);
	if ((rc = appstore_api_token(a, now, &token)) != TERR_OK) {
		snprintf(why, whysize, "cannot sign the API token");
		goto out;
	}
	buf_printf(&auth, "Authorization: Bearer %s", buf_cstr(&token));
	if ((rc = url.err != TERR_OK ? url.err : auth.err) != TERR_OK) {
		snprintf(why, whysize, "request too large");
		goto out;
	}
	headers[0] = buf_cstr(&auth);
	headers[1] = "Accept: application/json";
	headers[2] = body != NULL ? "Content-Type: application/json" : NULL;
	headers[3] = NULL;
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = buf_cstr(&url);
	req.headers = headers;
	req.body = body;
	req.body_len = body != NULL ? strlen(body) : 0;
	if ((rc = httpc_do(&a->c->http, &req, &r, why, whysize)) != TERR_OK) {
		char reason[200];
		text_copy(reason, sizeof(reason), why);
		snprintf(why, whysize, "App Store Server API (%s): no answer: %s",
		    a->sandbox ? "sandbox" : "production", reason);
		goto out;
	}
	apple_error(&r.body, detail, sizeof(detail));
	switch (r.status) {
	case 200:
		buf_append(out, r.body.p, r.body.len);
		rc = out->err;
		if (rc != TERR_OK)
			snprintf(why, whysize, "answer too large");
		goto out;
	case 401:
		rc = TERR_AUTH;
		snprintf(why, whysize,
		    "Apple refused the API key (401): check apple.key_id, apple.issuer_id, "
		    "apple.bundle_id and APPLE_PRIVATE_KEY%s",
		    detail);
		break;
	case 404:
		rc = TERR_NOTFOUND;
		snprintf(why, whysize, "Apple does not know it (404)%s", detail);
		break;
	case 429:
		rc = TERR_BUSY;
		if (r.retry_after >= 0)
			snprintf(why, whysize, "rate limited by Apple (429): retry after %ld s%s",
			    r.retry_after, detail);
		else
			snprintf(why, whysize, "rate limited by Apple (429): retry later%s",
			    detail);
		break;
	default:
		rc = r.status >= 500 ? TERR_IO : TERR_INVAL;
		snprintf(why, whysize, "App Store Server API answered %ld%s%s", r.status, detail,
		    r.status >= 500 ? " (Apple's side; retry later)" : "");
		break;
	}
out:
	httpc_resp_release(&r);
	buf_release(&url);
	buf_release(&auth);
	buf_release(&token);
	return rc;
}

/* Parse an answer of at most HTTPC_BODY_MAX bytes. */
static enum terr
parse(const struct buf *b, cJSON **root, char *why, size_t whysize)
{
	const char *jwhy = NULL;

	if (json_parse(b->p, b->len, JSON_DEPTH_MAX, root, &jwhy) != TERR_OK ||
	    !cJSON_IsObject(*root)) {
		snprintf(why, whysize, "App Store Server API answer is not a JSON object: %s",
		    jwhy != NULL ? jwhy : "not an object");
		return TERR_INVAL;
	}
	return TERR_OK;
}

/* An answer's bundleId and environment must be this app's and the one asked. */
static enum terr
check_app(struct appstore_api *a, const cJSON *root, char *why, size_t whysize)
{
	const char *bundle = jstr(root, "bundleId"), *env = jstr(root, "environment");
	const char *want = a->sandbox ? "Sandbox" : "Production";

	if ((bundle != NULL && strcmp(bundle, a->c->apple.bundle_id) != 0) ||
	    (env != NULL && strcmp(env, want) != 0)) {
		snprintf(why, whysize, "answer for another app or environment (%s, %s)",
		    bundle != NULL ? bundle : "?", env != NULL ? env : "?");
		return TERR_CONFLICT;
	}
	return TERR_OK;
}

static enum terr
verify_into(struct appstore_api *a, const char *jws, int64_t now, struct buf *payload, char *why,
    size_t whysize)
{
	const char *vwhy = NULL;
	enum terr rc;

	buf_reset(payload);
	rc = appstore_verify_jws(a->v, jws, strlen(jws), now, payload, &vwhy);
	if (rc != TERR_OK)
		snprintf(why, whysize, "signed data in Apple's answer does not verify: %s",
		    vwhy != NULL ? vwhy : err_str(rc));
	return rc;
}

enum terr
appstore_api_notifications(struct appstore_api *a, int64_t since, int64_t until, int only_failures,
    int64_t now, struct appstore_list *out, char *why, size_t whysize)
{
	struct buf req, resp, path;
	struct jw w;
	cJSON *root = NULL;
	const cJSON *hist, *item;
	const char *token, *vwhy;
	char next[1024] = "";
	int more = 1, pages = 0;
	enum terr rc = TERR_OK;

	buf_init(&req, 4096);
	buf_init(&resp, HTTPC_BODY_MAX);
	buf_init(&path, 2048);
	jw_init(&w, &req);
	jw_obj(&w);
	jw_kint(&w, "startDate", since);
	jw_kint(&w, "endDate", until);
	if (only_failures)
		jw_kbool(&w, "onlyFailures", 1);
	jw_end(&w);
	while (more && rc == TERR_OK) {
		if (++pages > APPSTORE_API_PAGES_MAX) {
			snprintf(why, whysize, "more than %d pages: narrow the window",
			    APPSTORE_API_PAGES_MAX);
			rc = TERR_TOOBIG;
			break;
		}
		buf_reset(&path);
		buf_reset(&resp);
		buf_puts(&path, "/inApps/v1/notifications/history");
		if (next[0] != '\0') {
			buf_puts(&path, "?paginationToken=");
			httpc_escape(&path, next);
		}
		if ((rc = call(a, "POST", buf_cstr(&path), buf_cstr(&req), now, &resp, why,
			 whysize)) != TERR_OK ||
		    (rc = parse(&resp, &root, why, whysize)) != TERR_OK)
			break;
		more = 0;
		/* Apple always sends both; an answer without them is not Apple's. */
		if (jbool(root, "hasMore", &more) != 1 ||
		    (hist = jarr(root, "notificationHistory")) == NULL) {
			snprintf(why, whysize, "notification history answer malformed");
			rc = TERR_INVAL;
			break;
		}
		cJSON_ArrayForEach (item, hist) {
			const char *jws = jstr(item, "signedPayload");
			if (jws == NULL) {
				snprintf(why, whysize,
				    "notification history item without signedPayload");
				rc = TERR_INVAL;
				break;
			}
			vwhy = NULL;
			if ((rc = appstore_verify_signed(a->v, jws, strlen(jws), now, &vwhy)) !=
			    TERR_OK) {
				snprintf(why, whysize,
				    "a notification in Apple's answer does not verify: %s",
				    vwhy != NULL ? vwhy : err_str(rc));
				break;
			}
			if ((rc = list_add(out, jws, strlen(jws))) != TERR_OK) {
				snprintf(why, whysize,
				    "more than %d notifications: narrow the window",
				    APPSTORE_API_ITEMS_MAX);
				break;
			}
		}
		token = jstr(root, "paginationToken");
		if (rc == TERR_OK && more) {
			if (token == NULL || token[0] == '\0' ||
			    text_copy(next, sizeof(next), token) != TERR_OK) {
				snprintf(why, whysize, "hasMore without a usable paginationToken");
				rc = TERR_INVAL;
			}
		}
		cJSON_Delete(root);
		root = NULL;
	}
	cJSON_Delete(root);
	if (rc != TERR_OK)
		appstore_list_release(out);
	buf_release(&req);
	buf_release(&resp);
	buf_release(&path);
	return rc;
}

const char *
appstore_status_str(int status)
{
	static const char *const names[] = { "UNKNOWN", "ACTIVE", "EXPIRED", "BILLING_RETRY",
		"BILLING_GRACE_PERIOD", "REVOKED" };

	return status >= 1 && status <= 5 ? names[status] : names[0];
}

/* One lastTransactions item: its signed parts verified and read into st, and kept. */
static enum terr
read_status(struct appstore_api *a, const cJSON *item, int64_t now, struct appstore_status *st,
    char *why, size_t whysize)
{
	const char *txj = jstr(item, "signedTransactionInfo"),
		   *rnj = jstr(item, "signedRenewalInfo");
	struct buf p;
	cJSON *tx = NULL, *rn = NULL;
	char *keep_tx = NULL, *keep_rn = NULL;
	const char *jwhy, *s;
	int64_t v;
	enum terr rc;

	if (jint(item, "status", &v) != 1 || txj == NULL) {
		snprintf(why, whysize, "status without status or signedTransactionInfo");
		return TERR_INVAL;
	}
	/* Each JWS is kept whole (tally's status envelope, appstore.h): bounded as any token. */
	if (strlen(txj) > JOSE_TOKEN_MAX || (rnj != NULL && strlen(rnj) > JOSE_TOKEN_MAX)) {
		snprintf(why, whysize, "signed data in Apple's answer larger than %d bytes",
		    JOSE_TOKEN_MAX);
		return TERR_TOOBIG;
	}
	st->status = (int)(v >= 1 && v <= 5 ? v : 0);
	st->auto_renew = -1;
	text_copy(st->environment, sizeof(st->environment), a->sandbox ? "Sandbox" : "Production");
	buf_init(&p, JOSE_TOKEN_MAX);
	if ((rc = verify_into(a, txj, now, &p, why, whysize)) != TERR_OK)
		goto out;
	if (json_parse(p.p, p.len, JSON_DEPTH_MAX, &tx, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "transaction payload malformed");
		rc = TERR_INVAL;
		goto out;
	}
	if ((s = jstr(tx, "bundleId")) == NULL || strcmp(s, a->c->apple.bundle_id) != 0) {
		snprintf(why, whysize, "transaction of another app");
		rc = TERR_CONFLICT;
		goto out;
	}
	text_copy(st->original_id, sizeof(st->original_id),
	    jstr(tx, "originalTransactionId") != NULL ? jstr(tx, "originalTransactionId") : "");
	text_copy(st->product, sizeof(st->product),
	    jstr(tx, "productId") != NULL ? jstr(tx, "productId") : "");
	if (jint(tx, "expiresDate", &v) == 1)
		st->expires = v;
	if (rnj != NULL) {
		if ((rc = verify_into(a, rnj, now, &p, why, whysize)) != TERR_OK)
			goto out;
		if (json_parse(p.p, p.len, JSON_DEPTH_MAX, &rn, &jwhy) != TERR_OK) {
			snprintf(why, whysize, "renewal info payload malformed");
			rc = TERR_INVAL;
			goto out;
		}
		if (jint(rn, "autoRenewStatus", &v) == 1)
			st->auto_renew = v != 0;
		if ((s = jstr(rn, "autoRenewProductId")) != NULL)
			text_copy(st->next_product, sizeof(st->next_product), s);
		if (jint(rn, "gracePeriodExpiresDate", &v) == 1)
			st->grace_until = v;
	}
	if ((keep_tx = strdup(txj)) == NULL || (rnj != NULL && (keep_rn = strdup(rnj)) == NULL)) {
		snprintf(why, whysize, "out of memory");
		rc = TERR_NOMEM;
		goto out;
	}
	st->signed_tx = keep_tx;
	st->signed_renewal = keep_rn;
	keep_tx = keep_rn = NULL;
	rc = TERR_OK;
out:
	free(keep_tx);
	free(keep_rn);
	cJSON_Delete(tx);
	cJSON_Delete(rn);
	buf_release(&p);
	return rc;
}

void
appstore_statuses_release(struct appstore_status *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].signed_tx);
		free(v[i].signed_renewal);
		v[i].signed_tx = v[i].signed_renewal = NULL;
	}
}

enum terr
appstore_api_statuses(struct appstore_api *a, const char *tx_id, int64_t now,
    struct appstore_status *out, size_t max, size_t *n, char *why, size_t whysize)
{
	struct buf path, resp;
	cJSON *root = NULL;
	const cJSON *group, *item;
	enum terr rc;

	*n = 0;
	buf_init(&path, 1024);
	buf_init(&resp, HTTPC_BODY_MAX);
	buf_puts(&path, "/inApps/v1/subscriptions/");
	httpc_escape(&path, tx_id);
	if ((rc = call(a, "GET", buf_cstr(&path), NULL, now, &resp, why, whysize)) != TERR_OK ||
	    (rc = parse(&resp, &root, why, whysize)) != TERR_OK ||
	    (rc = check_app(a, root, why, whysize)) != TERR_OK)
		goto out;
	if (jstr(root, "bundleId") == NULL || jarr(root, "data") == NULL) {
		snprintf(why, whysize, "subscription statuses answer malformed");
		rc = TERR_INVAL;
		goto out;
	}
	cJSON_ArrayForEach (group, jarr(root, "data")) {
		const char *gid = jstr(group, "subscriptionGroupIdentifier");
		cJSON_ArrayForEach (item, jarr(group, "lastTransactions")) {
			if (*n >= max) {
				snprintf(why, whysize, "more than %zu subscriptions", max);
				rc = TERR_TOOBIG;
				goto out;
			}
			memset(&out[*n], 0, sizeof(out[*n]));
			text_copy(out[*n].group, sizeof(out[*n].group), gid != NULL ? gid : "");
			if ((rc = read_status(a, item, now, &out[*n], why, whysize)) != TERR_OK)
				goto out;
			(*n)++;
		}
	}
out:
	if (rc != TERR_OK) {
		appstore_statuses_release(out, *n);
		*n = 0;
	}
	cJSON_Delete(root);
	buf_release(&path);
	buf_release(&resp);
	return rc;
}

enum terr
appstore_api_history(struct appstore_api *a, const char *tx_id, int64_t now,
    struct appstore_list *out, char *why, size_t whysize)
{
	struct buf path, resp, payload;
	cJSON *root = NULL;
	const cJSON *item;
	const char *rev;
	char revision[1024] = "";
	int more = 1, pages = 0;
	enum terr rc = TERR_OK;

	buf_init(&path, 2048);
	buf_init(&resp, HTTPC_BODY_MAX);
	buf_init(&payload, JOSE_TOKEN_MAX);
	while (more && rc == TERR_OK) {
		if (++pages > APPSTORE_API_PAGES_MAX) {
			snprintf(why, whysize, "more than %d pages of history",
			    APPSTORE_API_PAGES_MAX);
			rc = TERR_TOOBIG;
			break;
		}
		buf_reset(&path);
		buf_reset(&resp);
		buf_puts(&path, "/inApps/v2/history/");
		httpc_escape(&path, tx_id);
		buf_puts(&path, "?sort=ASCENDING");
		if (revision[0] != '\0') {
			buf_puts(&path, "&revision=");
			httpc_escape(&path, revision);
		}
		if ((rc = call(a, "GET", buf_cstr(&path), NULL, now, &resp, why, whysize)) !=
			TERR_OK ||
		    (rc = parse(&resp, &root, why, whysize)) != TERR_OK ||
		    (rc = check_app(a, root, why, whysize)) != TERR_OK)
			break;
		more = 0;
		if (jbool(root, "hasMore", &more) != 1 || jstr(root, "bundleId") == NULL ||
		    jarr(root, "signedTransactions") == NULL) {
			snprintf(why, whysize, "transaction history answer malformed");
			rc = TERR_INVAL;
			break;
		}
		cJSON_ArrayForEach (item, jarr(root, "signedTransactions")) {
			if (!cJSON_IsString(item)) {
				snprintf(why, whysize, "signedTransactions holds a non-string");
				rc = TERR_INVAL;
				break;
			}
			if ((rc = verify_into(a, item->valuestring, now, &payload, why, whysize)) !=
			    TERR_OK)
				break;
			if ((rc = list_add(out, payload.p, payload.len)) != TERR_OK) {
				snprintf(why, whysize, "more than %d transactions",
				    APPSTORE_API_ITEMS_MAX);
				break;
			}
		}
		rev = jstr(root, "revision");
		if (rc == TERR_OK && more &&
		    (rev == NULL || rev[0] == '\0' ||
			text_copy(revision, sizeof(revision), rev) != TERR_OK)) {
			snprintf(why, whysize, "hasMore without a usable revision");
			rc = TERR_INVAL;
		}
		cJSON_Delete(root);
		root = NULL;
	}
	cJSON_Delete(root);
	if (rc != TERR_OK)
		appstore_list_release(out);
	buf_release(&path);
	buf_release(&resp);
	buf_release(&payload);
	return rc;
}
