/*
 * The API's user routes under /v1/users/{id}: the user document (GET), and
 * what the app does for the user (POST): register, spend, trial, promotions,
 * links, referrer, plans. Each reads its fields, names its event and applies
 * it (api_action.h), then answers with the user document; spend answers with
 * its stored answer instead. token makes a user token and changes nothing.
 * docs/api.md gives each route's scope and answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_action.h"
#include "api/api_users.h"
#include "api/auth.h"
#include "base/json.h"
#include "base/text.h"
#include "core/op.h"
#include "crypto/crypto.h"
#include "providers/google/google.h"
#include "store/store_access.h"
#include "store/store_rows.h"

/*
 * Under google.identity hmac, Google's purchases name the user by a value
 * tally cannot invert: the link from it to the user is recorded the first
 * time the app reads the user (to learn the value it passes to Play
 * Billing), so that the pushes of the purchase made next find the user,
 * and a purchase orphaned before is replayed (links.add). 0 when nothing
 * was to be recorded or it was; else the error was answered.
 */
static int
google_link(struct api_req *q)
{
	struct store *s = svc_store(q->sv);
	struct op_action a;
	char id[GOOGLE_ACCOUNT_ID_MAX + 1], owner[USER_ID_MAX + 1];
	enum terr rc;

	if (!q->c->google.enabled || q->c->google.identity != GOOGLE_IDENTITY_HMAC || s == NULL ||
	    google_account_id(&q->c->google, q->user, id, sizeof(id)) != TERR_OK ||
	    store_user_exists(s, q->user) != TERR_OK)
		return 0;
	if ((rc = store_link_find(s, "google", "google_account", id, owner)) != TERR_NOTFOUND)
		return 0; /* recorded already (or unreadable now: api_reply_user says so) */
	/* A GET has no event of its own: made here, released by the accept loop as a POST's. */
	if (q->e == NULL) {
		if ((q->e = malloc(sizeof(*q->e))) == NULL) {
			http_error(q->r, 503, "out_of_memory", "retry");
			return 1;
		}
		buf_init(&q->evbody, API_BODY_MAX + 4096);
	}
	memset(&a, 0, sizeof(a));
	a.action = "links.add";
	a.link_provider = "google";
	a.link_kind = "google_account";
	a.link_id = id;
	return api_apply_action(q, &a);
}

void
api_route_get_user(struct api_req *q)
{
	if (google_link(q) == 0)
		api_reply_user(q, 200);
}

void
api_route_register(struct api_req *q)
{
	struct op_action a;
	char id[ID_MAX];

	memset(&a, 0, sizeof(a));
	snprintf(id, sizeof(id), "register:%s", q->user);
	a.id = id;
	a.action = "user.register";
	if (api_apply_action(q, &a) == 0)
		api_reply_user(q, 200);
}

void
api_route_spend(struct api_req *q)
{
	struct op_action a;
	struct store *s;
	struct buf answer;
	unsigned char h[SHA256_LEN];
	char id[ID_MAX], hash[72], old[72], stored[72], num[24];
	char canon[3 * (USER_ID_MAX + REASON_MAX) + 32];
	const char *key, *reason;
	int64_t amount = 0;
	int bad = 0, status = 0;

	key = api_field(q, "idempotency_key", 128, &bad);
	reason = api_field(q, "reason", 256, &bad);
	if (jint(q->body, "amount", &amount) != 1 || amount <= 0 || amount > CREDITS_MAX || bad ||
	    key == NULL) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"amount\": 1..1000000000, \"idempotency_key\": \"...\", "
		    "\"reason\": "
		    "\"...\"}");
		return;
	}
	if (api_key_id(q, "spend", key, 0, id) != TERR_OK) {
		http_error(q->r, 400, "bad_request", "idempotency_key too long");
		return;
	}
	/*
	 * The same key with another request is refused (409): the request is
	 * hashed, the user with it, in a form where no two requests meet.
	 */
	snprintf(num, sizeof(num), "%lld", (long long)amount);
	if (text_key(canon, sizeof(canon), q->user, num, reason != NULL ? reason : "", NULL) !=
	    TERR_OK) {
		http_error(q->r, 400, "bad_request", "reason too long");
		return;
	}
	crypto_sha256(canon, strlen(canon), h);
	text_hex(h, SHA256_LEN, hash);
	/* The hash answers stored before the user was in it (amount, reason) carry. */
	snprintf(canon, sizeof(canon), "%lld\n%s", (long long)amount, reason != NULL ? reason : "");
	crypto_sha256(canon, strlen(canon), h);
	text_hex(h, SHA256_LEN, old);
	memset(&a, 0, sizeof(a));
	a.id = id;
	a.idem_key = key;
	a.action = "credits.spend";
	a.amount = amount;
	a.reason = reason;
	a.request_hash = hash;
	if (api_apply_action(q, &a) != 0)
		return;
	if ((s = svc_store(q->sv)) == NULL) {
		http_error(q->r, 503, "storage_unavailable", "the answer cannot be read; retry");
		return;
	}
	buf_init(&answer, 4096);
	/*
	 * The answer of this request: its own hash; or, for a replay that
	 * api_apply_action found to be the same request (user, amount, reason), the
	 * hash of before.
	 */
	if (store_answer_get(s, q->res.inbox_id, stored, &status, &answer) != TERR_OK)
		http_error(q->r, 503, "storage_unavailable", "the answer cannot be read; retry");
	else if (strcmp(stored, hash) != 0 && !(q->res.duplicate && strcmp(stored, old) == 0))
		http_error(q->r, 409, "idempotency_conflict",
		    "this idempotency_key was used for another request");
	else {
		buf_putc(&answer, '\n');
		http_reply_json(q->r, status, &answer);
	}
	buf_release(&answer);
}

void
api_route_trial(struct api_req *q)
{
	struct op_action a;

	memset(&a, 0, sizeof(a));
	a.action = "trial.start";
	if (api_apply_action(q, &a) == 0)
		api_reply_user(q, 200);
}

void
api_route_promotion(struct api_req *q)
{
	struct op_action a;
	char id[ID_MAX];
	const char *ent, *reason;
	int64_t credits = 0, until;
	int bad = 0, has_credits;

	memset(&a, 0, sizeof(a));
	ent = api_field(q, "entitlement", CFG_NAME_MAX - 1, &bad);
	reason = api_field(q, "reason", 256, &bad);
	has_credits = jget(q->body, "credits") != NULL;
	if (has_credits &&
	    (jint(q->body, "credits", &credits) != 1 || credits <= 0 || credits > CREDITS_MAX))
		bad = 1;
	until = api_time_field(q, ent != NULL ? "ends_at" : "expires_at", &bad);
	a.id = api_idem_id(q, "promo", id, sizeof(id), &a.idem_key, &bad);
	if (bad || reason == NULL || (ent == NULL) == (has_credits == 0) ||
	    (until != 0 && until <= q->sv->now)) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"credits\": N, \"expires_at\": TIME} or {\"entitlement\": NAME, "
		    "\"ends_at\": TIME}, with a \"reason\" (times RFC 3339, after now)");
		return;
	}
	a.reason = reason;
	if (ent != NULL) {
		a.action = "promo.entitlement";
		a.name = ent;
		a.ends_at = until;
	} else {
		a.action = "promo.credits";
		a.amount = credits;
		a.expires_at = until;
	}
	if (api_apply_action(q, &a) == 0)
		api_reply_user(q, 200);
}

void
api_route_links(struct api_req *q)
{
	static const char *const providers[] = { "stripe", "apple", "google", "revenuecat",
		"razorpay", "telegram", "cryptobot", NULL };
	struct op_action a;
	const char *provider, *kind, *id;
	size_t i;
	int bad = 0;

	provider = api_field(q, "provider", PROVIDER_MAX - 1, &bad);
	kind = api_field(q, "kind", KIND_MAX - 1, &bad);
	id = api_field(q, "id", ID_MAX - 1, &bad);
	for (i = 0; provider != NULL && providers[i] != NULL; i++)
		if (strcmp(providers[i], provider) == 0)
			break;
	if (bad || provider == NULL || kind == NULL || id == NULL || providers[i] == NULL) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"provider\": "
		    "\"stripe|apple|google|revenuecat|razorpay|telegram|cryptobot\", "
		    "\"kind\": \"customer|app_account_token|app_user_id|user|...\", \"id\": "
		    "\"...\"}");
		return;
	}
	memset(&a, 0, sizeof(a));
	a.action = "links.add";
	a.link_provider = provider;
	a.link_kind = kind;
	a.link_id = id;
	if (api_apply_action(q, &a) == 0)
		api_reply_user(q, 200);
}

void
api_route_referrer(struct api_req *q)
{
	struct op_action a;
	char id[ID_MAX];
	const char *referrer;
	int bad = 0;

	referrer = api_field(q, "referrer", USER_ID_MAX, &bad);
	if (bad || referrer == NULL) {
		http_error(q->r, 400, "bad_request", "expected {\"referrer\": USER_ID}");
		return;
	}
	memset(&a, 0, sizeof(a));
	/* The same referrer again is a retry; another is refused (set once). */
	if (api_key_id(q, "referrer", referrer, 1, id) != TERR_OK) {
		http_error(q->r, 400, "bad_request", "user id and referrer too long together");
		return;
	}
	a.id = id;
	a.action = "referrer.set";
	a.referrer = referrer;
	if (api_apply_action(q, &a) == 0)
		api_reply_user(q, 200);
}

void
api_route_plans(struct api_req *q)
{
	struct op_action a;
	char id[ID_MAX];
	const char *product;
	int bad = 0;

	memset(&a, 0, sizeof(a));
	product = api_field(q, "product", CFG_NAME_MAX - 1, &bad);
	a.id = api_idem_id(q, "plan", id, sizeof(id), &a.idem_key, &bad);
	if (bad || product == NULL) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"product\": CATALOG_ID, \"idempotency_key\": \"...\"}");
		return;
	}
	a.action = "plan.buy";
	a.name = product;
	if (api_apply_action(q, &a) == 0)
		api_reply_user(q, 200);
}

/* A user token for the app on the user's device: it reads the user and hands in its purchases. */
void
api_route_token(struct api_req *q)
{
	struct store *s = svc_store(q->sv);
	char token[AUTH_TOKEN_MAX];
	struct buf b;
	struct jw w;
	int64_t ttl = AUTH_TOKEN_TTL;
	enum terr rc;

	if (jget(q->body, "ttl") != NULL &&
	    (jint(q->body, "ttl", &ttl) != 1 || ttl < AUTH_TOKEN_TTL_MIN ||
		ttl > AUTH_TOKEN_TTL_MAX)) {
		http_error(q->r, 400, "bad_request",
		    "expected {\"ttl\": 60..86400} (seconds; 3600 when absent)");
		return;
	}
	if (s == NULL || (rc = store_user_exists(s, q->user)) != TERR_OK) {
		if (s != NULL && rc == TERR_NOTFOUND)
			http_error(q->r, 404, "unknown_user", "no such user");
		else
			http_error(q->r, 503, "storage_unavailable", "the database cannot be read");
		return;
	}
	rc = auth_jwt_mint(&q->c->api, q->user, q->sv->now, ttl, token, sizeof(token));
	if (rc == TERR_CONFIG) {
		http_error(q->r, 503, "not_configured",
		    "user tokens are not accepted: TALLY_JWT_SECRET is not set");
		return;
	}
	if (rc != TERR_OK) {
		http_error(q->r, 500, "internal", "the token could not be made");
		return;
	}
	buf_init(&b, 4096);
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "token", token);
	jw_kstr(&w, "token_type", "Bearer");
	jw_kstr(&w, "user_id", q->user);
	jw_ktime(&w, "expires_at", (q->sv->now / 1000 + ttl) * 1000);
	jw_end(&w);
	buf_putc(&b, '\n');
	http_reply_json(q->r, 200, &b);
	/* The token is a credential: nothing of it stays in memory tally frees. */
	if (b.p != NULL)
		crypto_wipe(b.p, b.len);
	buf_release(&b);
	crypto_wipe(token, sizeof(token));
}
