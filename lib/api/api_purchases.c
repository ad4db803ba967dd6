/*
 * The API's purchases route: POST /v1/users/{id}/purchases. The app has just
 * bought and hands in the store's proof (Apple: the StoreKit 2 signed
 * transaction), so that the user is entitled now rather than when the
 * store's webhook arrives. The proof is verified with the store's own rules
 * (the provider folder's function), becomes that provider's event (provider
 * "apple", not "app") so that payments, subscriptions and links are the
 * webhook's own: the webhook about the same payment later is a duplicate by
 * its business key, and a proof handed in after the webhook likewise. It is
 * applied at once through the writer, all or nothing (bev.atomic): a proof
 * that names another user, or whose purchase another user holds, is refused
 * (409) and leaves no trace. The answer is the user document after the
 * commit.
 */
#include <stdio.h>
#include <string.h>

#include "api/api_action.h"
#include "api/api_purchases.h"
#include "base/json.h"
#include "base/log.h"
#include "base/text.h"
#include "core/provider.h"
#include "providers/appstore/appstore.h"
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

void
api_route_purchases(struct api_req *q)
{
	int bad = 0;
	const char *store = api_field(q, "store", PROVIDER_MAX - 1, &bad);

	if (!bad && store != NULL && strcmp(store, "apple") == 0)
		purchase_apple(q);
	else
		http_error(q->r, 400, "bad_request",
		    "expected {\"store\": \"apple\", \"signedTransaction\": \"<JWS>\"}");
}
