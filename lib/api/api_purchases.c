/*
 * The API's purchases route: POST /v1/users/{id}/purchases. The app has just
 * bought and hands in the store's proof (Apple: the StoreKit 2 signed
 * transaction; Google Play: the purchase token, read from the Android
 * Publisher API now), so that the user is entitled now rather than when the
 * store's webhook arrives. The proof is verified with the store's own rules
 * (the provider folder's functions), becomes that provider's event (provider
 * "apple" or "google", not "app") so that payments, subscriptions and links
 * are the webhook's own: the webhook about the same payment later is a
 * duplicate by its business key, and a proof handed in after the webhook
 * likewise. It is applied at once through the writer, all or nothing
 * (bev.atomic): a proof that names another user, or whose purchase another
 * user holds, is refused (409) and leaves no trace. The answer is the user
 * document after the commit; then what the event owes the store (Google
 * Play's acknowledgement) is tried at once (svc_tasks).
 */
#include <stdio.h>
#include <string.h>

#include "api/api_action.h"
#include "api/api_purchases.h"
#include "base/json.h"
#include "base/log.h"
#include "base/text.h"
#include "core/provider.h"
#include "crypto/crypto.h"
#include "providers/appstore/appstore.h"
#include "providers/google/google.h"
#include "providers/google/google_fetch.h"
#include "providers/google/google_map.h"
#include "serve/svc_tasks.h"
#include "store/store_rows.h"

/*
 * The user q is about, as apply sees it: q->user, or the user it was merged
 * into. 0; or the answer was sent (404 unknown_user, 503).
 */
static int
me(struct api_req *q, char out[USER_ID_MAX + 1])
{
	struct store *s = svc_store(q->sv);
	char merged[USER_ID_MAX + 1] = "";
	enum terr rc = s == NULL ? TERR_DB : store_user_get(s, q->user, NULL, merged);

	if (rc == TERR_NOTFOUND) {
		http_error(q->r, 404, "unknown_user", "no such user");
		return 1;
	}
	if (rc != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return 1;
	}
	text_copy(out, USER_ID_MAX + 1, merged[0] != '\0' ? merged : q->user);
	return 0;
}

/*
 * Whether what e is about belongs to another user than user: an id it
 * carries linked to another (Apple's appAccountToken, originalTransactionId),
 * its subscription (or the one it replaces) or one of its payment's keys
 * held by another. TERR_OK with owner[0] == '\0' when none; the owner and
 * what it holds otherwise; storage errors as they are. apply refuses the
 * same (a link or a payment of another user fails the event); this says so
 * before, with the owner's name kept out of the answer.
 */
static enum terr
owner_check(struct store *s, const struct bev *e, const char *user, char owner[USER_ID_MAX + 1],
    const char **what)
{
	const char *lp = e->link_provider[0] != '\0' ? e->link_provider : e->provider;
	const char *subs[2] = { e->sub.id, e->sub.replaces };
	struct sub_row sr;
	struct pay_row pr;
	size_t i;
	enum terr rc;

	owner[0] = '\0';
	for (i = 0; i < e->nlinks; i++) {
		rc = store_link_find(s, lp, e->links[i].kind, e->links[i].id, owner);
		if (rc == TERR_NOTFOUND)
			continue;
		if (rc != TERR_OK)
			return rc;
		if (strcmp(owner, user) != 0) {
			*what = e->links[i].kind;
			return TERR_OK;
		}
	}
	for (i = 0; i < 2 && (e->aspects & BEV_SUB); i++) {
		if (subs[i][0] == '\0')
			continue;
		if ((rc = store_sub_find(s, e->provider, subs[i], &sr)) == TERR_NOTFOUND)
			continue;
		if (rc != TERR_OK)
			return rc;
		if (strcmp(sr.user, user) != 0) {
			text_copy(owner, USER_ID_MAX + 1, sr.user);
			*what = "subscription";
			return TERR_OK;
		}
	}
	for (i = 0; (e->aspects & BEV_PAY) && i < e->pay.keys.n; i++) {
		if ((rc = store_pay_find_key(s, e->provider, e->pay.keys.k[i], &pr)) ==
		    TERR_NOTFOUND)
			continue;
		if (rc != TERR_OK)
			return rc;
		if (strcmp(pr.user, user) != 0) {
			text_copy(owner, USER_ID_MAX + 1, pr.user);
			*what = "payment";
			return TERR_OK;
		}
	}
	owner[0] = '\0';
	return TERR_OK;
}

/* 409 not_your_purchase, logged with who holds it (the answer does not name another user). */
static void
not_yours(struct api_req *q, const char *what, const char *owner)
{
	char msg[160], line[PROVIDER_MAX + ID_MAX + KIND_MAX + 2 * USER_ID_MAX + 64];

	snprintf(msg, sizeof(msg), "this purchase (its %s) belongs to another user", what);
	http_error(q->r, 409, "not_your_purchase", msg);
	snprintf(line, sizeof(line), "%s %s: its %s is %s's, handed in for %s", q->e->provider,
	    q->e->id, what, owner, q->user);
	log_msg(LOG_WARN, "refused purchase: another user's", line);
}

/*
 * Apply the verified event q->e for q's user and answer: the user document,
 * or the refusal. Nothing is stored unless it applies (or is the same
 * purchase of the same user again).
 */
static void
purchase_apply(struct api_req *q)
{
	struct bev *e = q->e;
	struct store *s = svc_store(q->sv);
	char self[USER_ID_MAX + 1], owner[USER_ID_MAX + 1] = "", msg[160];
	const char *what = "";
	int status;

	if (!e->live && !provider_test_allowed(q->c, e->provider)) {
		snprintf(msg, sizeof(msg), "a test purchase while %s is false",
		    provider_test_setting(e->provider));
		http_error(q->r, 403, "test_purchase_refused", msg);
		return;
	}
	if (me(q, self) != 0)
		return;
	/* The proof names its user (appAccountToken): it must be this one. */
	if (strcmp(e->user, q->user) != 0 && strcmp(e->user, self) != 0) {
		not_yours(q, "account token", e->user);
		return;
	}
	if (s == NULL || owner_check(s, e, self, owner, &what) != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return;
	}
	if (owner[0] != '\0') {
		not_yours(q, what, owner);
		return;
	}
	e->user_must_exist = 1;
	e->atomic = 1;
	svc_apply(q->sv, e, &q->res);
	if (q->res.err != TERR_OK) {
		http_error(q->r, 503, "storage_unavailable", "not committed; retry");
		return;
	}
	/* Handed in before: the same purchase again is answered as the first, for its user only. */
	if (q->res.duplicate && strcmp(q->res.user, self) != 0 &&
	    strcmp(q->res.user, q->user) != 0) {
		not_yours(q, "transaction", q->res.user);
		return;
	}
	if (q->res.state == INBOX_APPLIED || q->res.state == INBOX_IGNORED) {
		api_reply_user(q, 200);
		/* Owed to the store once committed (Google Play's acknowledge): now, not by the job. */
		svc_tasks(q->sv, &q->res);
		return;
	}
	/* Refused inside the transaction (a race with another user, an unknown product): none kept. */
	status = strcmp(q->res.code, "unknown_user") == 0 ? 404
	    : q->res.state == INBOX_UNKNOWN_PRODUCT       ? 400
							  : 409;
	http_error(q->r, status,
	    status == 404       ? "unknown_user"
		: status == 400 ? "unknown_product"
				: "refused",
	    q->res.reason);
	log_msg(LOG_WARN, "refused purchase", q->res.reason);
}

/* appstore_purchase's refusal as the API answers it. */
static void
refuse_apple(struct api_req *q, enum terr rc, const char *why)
{
	switch (rc) {
	case TERR_INVAL:
	case TERR_TOOBIG: http_error(q->r, 400, "malformed_transaction", why); break;
	case TERR_AUTH: http_error(q->r, 400, "bad_signature", why); break;
	case TERR_STALE: http_error(q->r, 400, "certificate_not_valid", why); break;
	case TERR_CONFLICT: http_error(q->r, 403, "wrong_app", why); break;
	case TERR_CONFIG: http_error(q->r, 503, "not_configured", why); break;
	default: http_error(q->r, 503, "verification_unavailable", why); break;
	}
	log_msg(LOG_WARN, "refused Apple transaction", why);
}

/* {"store": "apple", "signedTransaction": "<JWS>"}: the transaction StoreKit 2 gave the app. */
static void
purchase_apple(struct api_req *q)
{
	const cJSON *v = jget(q->body, "signedTransaction");
	char why[256];
	enum terr rc;

	if (!cJSON_IsString(v) || v->valuestring[0] == '\0') {
		http_error(q->r, 400, "bad_request",
		    "expected {\"store\": \"apple\", \"signedTransaction\": \"<JWS>\"}");
		return;
	}
	rc = appstore_purchase(q->c, q->user, q->who, v->valuestring, strlen(v->valuestring),
	    &q->evbody, q->e, why, sizeof(why));
	if (rc != TERR_OK) {
		refuse_apple(q, rc, why);
		return;
	}
	purchase_apply(q);
}

/* google_envelope_purchase's refusal as the API answers it: the store's fault is never the app's. */
static void
refuse_google(struct api_req *q, enum terr rc, const char *why)
{
	switch (rc) {
	case TERR_INVAL: http_error(q->r, 400, "bad_request", why); break;
	case TERR_CONFIG: http_error(q->r, 503, "not_configured", why); break;
	case TERR_AUTH: http_error(q->r, 502, "provider_refused", why); break;
	case TERR_IO: http_error(q->r, 502, "provider_unavailable", why); break;
	default: http_error(q->r, 502, "provider_error", why); break;
	}
	log_msg(rc == TERR_INVAL ? LOG_WARN : LOG_ERROR, "Google Play purchase not read", why);
}

/*
 * Whether the purchase names another user than q's by its
 * obfuscatedExternalAccountId (the link google_account): the value the app
 * sets for q's user (google_account_id) or nothing. 1 when it names
 * another (the answer sent), 0 otherwise.
 */
static int
google_other_account(struct api_req *q, const struct bev *e)
{
	char mine[GOOGLE_ACCOUNT_ID_MAX + 1];
	size_t i;

	for (i = 0; i < e->nlinks; i++) {
		if (strcmp(e->links[i].kind, GOOGLE_LINK_ACCOUNT) != 0)
			continue;
		/* A user id past Google's 64 characters (user_id) names no account: any is another's. */
		if (google_account_id(&q->c->google, q->user, mine, sizeof(mine)) != TERR_OK)
			mine[0] = '\0';
		if (strlen(mine) != strlen(e->links[i].id) ||
		    !crypto_ct_eq(mine, e->links[i].id, strlen(mine))) {
			not_yours(q, "obfuscatedExternalAccountId", e->links[i].id);
			return 1;
		}
	}
	return 0;
}

/*
 * {"store": "google", "purchaseToken", "productId", "kind": "subscription" |
 * "product"}: the purchase Play Billing gave the app, read now from the
 * Android Publisher API (subscriptionsv2.get, products.get) into tally's
 * envelope as a push's would be (google_fetch.h), under an event id of its
 * own (one per purchase and moment read: the newest read wins).
 */
static void
purchase_google(struct api_req *q)
{
	const char *token, *product, *kind;
	enum google_call call;
	char id[ID_MAX], at[24], why[256];
	int bad = 0;
	enum terr rc;

	token = api_field(q, "purchaseToken", ID_MAX - 1, &bad);
	product = api_field(q, "productId", ID_MAX - 1, &bad);
	kind = api_field(q, "kind", 16, &bad);
	call = kind == NULL                     ? GOOGLE_CALL_NONE
	    : strcmp(kind, "subscription") == 0 ? GOOGLE_CALL_SUB
	    : strcmp(kind, "product") == 0      ? GOOGLE_CALL_PRODUCT
						: GOOGLE_CALL_NONE;
	if (bad || token == NULL || product == NULL || call == GOOGLE_CALL_NONE) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"store\": \"google\", \"purchaseToken\": \"...\", "
		    "\"productId\": \"...\", \"kind\": \"subscription\"|\"product\"}");
		return;
	}
	if (q->st == NULL || q->st->google == NULL) {
		http_error(q->r, 503, "not_configured",
		    q->st != NULL ? q->st->google_why : "Google Play is not configured");
		return;
	}
	snprintf(at, sizeof(at), "%lld", (long long)q->sv->now);
	if (crypto_key(id, sizeof(id), "purchase", token, at, NULL) != TERR_OK) {
		http_error(q->r, 400, "bad_request", "purchaseToken too long");
		return;
	}
	rc = google_envelope_purchase(q->st->google, call, product, token, id, q->sv->now,
	    &q->evbody, why, sizeof(why));
	if (rc != TERR_OK) {
		refuse_google(q, rc, why);
		return;
	}
	google_parse(q->c, buf_cstr(&q->evbody), q->evbody.len, q->e, why, sizeof(why));
	/* Google has no such purchase (404), refused the request, or said what tally cannot record. */
	if (q->e->refusal[0] != '\0') {
		http_error(q->r, 400, "invalid_purchase", q->e->refusal);
		log_msg(LOG_WARN, "refused Google Play purchase", q->e->refusal);
		return;
	}
	if (google_other_account(q, q->e))
		return;
	if (q->e->user[0] == '\0')
		text_copy(q->e->user, sizeof(q->e->user), q->user);
	purchase_apply(q);
}

void
api_route_purchases(struct api_req *q)
{
	int bad = 0;
	const char *store = api_field(q, "store", PROVIDER_MAX - 1, &bad);

	if (!bad && store != NULL && strcmp(store, "apple") == 0)
		purchase_apple(q);
	else if (!bad && store != NULL && strcmp(store, "google") == 0)
		purchase_google(q);
	else
		http_error(q->r, 400, "bad_request",
		    "expected {\"store\": \"apple\", \"signedTransaction\": \"<JWS>\"} or "
		    "{\"store\": \"google\", \"purchaseToken\", \"productId\", \"kind\"}");
}
