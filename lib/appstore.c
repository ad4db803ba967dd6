#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appstore.h"
#include "crypto.h"
#include "jose.h"
#include "json.h"
#include "money.h"
#include "tally_limits.h"
#include "text.h"
#include "x5c.h"

/* Apple Root CA - G3 as shipped in certs/ (build/<tree>/gen/certs.c). */
extern const unsigned char apple_root_g3[];
extern const size_t apple_root_g3_len;

/* A decoded notification: the payload and the JWS nested in it. */
struct anote {
	cJSON *root;       /* responseBodyV2DecodedPayload */
	cJSON *tx;         /* JWSTransactionDecodedPayload, or NULL */
	cJSON *rn;         /* JWSRenewalInfoDecodedPayload, or NULL */
	const cJSON *data; /* root.data, or summary / externalPurchaseToken / appData */
};

static void
anote_release(struct anote *a)
{
	cJSON_Delete(a->root);
	cJSON_Delete(a->tx);
	cJSON_Delete(a->rn);
	memset(a, 0, sizeof(*a));
}

/* The payload of a JWS, decoded but not verified, parsed as an object. */
static enum terr
decode_payload(const char *jws, size_t n, cJSON **out)
{
	struct jose_parts parts;
	struct buf b;
	const char *why;
	enum terr rc = TERR_INVAL;

	*out = NULL;
	buf_init(&b, JOSE_TOKEN_MAX);
	if (jose_split(jws, n, &parts) == TERR_OK &&
	    jose_decode(parts.payload, parts.payload_len, &b) == TERR_OK &&
	    json_parse(b.p, b.len, JSON_DEPTH_MAX, out, &why) == TERR_OK) {
		rc = cJSON_IsObject(*out) ? TERR_OK : TERR_INVAL;
		if (rc != TERR_OK) {
			cJSON_Delete(*out);
			*out = NULL;
		}
	}
	buf_release(&b);
	return rc;
}

/* The signedPayload string of a notification body. */
static enum terr
signed_payload(const char *body, size_t n, cJSON **root, const char **jws)
{
	const char *why;

	*jws = NULL;
	if (json_parse(body, n, 4, root, &why) != TERR_OK)
		return TERR_INVAL;
	*jws = jstr(*root, "signedPayload");
	return *jws != NULL && **jws != '\0' ? TERR_OK : TERR_INVAL;
}

static enum terr
decode_note(const char *jws, size_t n, struct anote *a)
{
	const char *t;

	memset(a, 0, sizeof(*a));
	if (decode_payload(jws, n, &a->root) != TERR_OK)
		return TERR_INVAL;
	a->data = jobj(a->root, "data");
	if (a->data == NULL)
		a->data = jobj(a->root, "summary");
	if (a->data == NULL)
		a->data = jobj(a->root, "externalPurchaseToken");
	if (a->data == NULL)
		a->data = jobj(a->root, "appData");
	if ((t = jstr(a->data, "signedTransactionInfo")) != NULL &&
	    decode_payload(t, strlen(t), &a->tx) != TERR_OK)
		return TERR_INVAL;
	if ((t = jstr(a->data, "signedRenewalInfo")) != NULL &&
	    decode_payload(t, strlen(t), &a->rn) != TERR_OK)
		return TERR_INVAL;
	return TERR_OK;
}

/* --- verification --- */

struct appstore_verifier {
	const struct cfg *c;
	struct x5c_verifier *x;
};

enum terr
appstore_verifier_new(struct appstore_verifier **out, const struct cfg *c, char *why,
    size_t whysize)
{
	struct appstore_verifier *v;
	struct x5c_cert roots[ROOTS_MAX];
	struct buf files[ROOTS_MAX];
	size_t i, n = 0;
	enum terr rc = TERR_CONFIG;

	*out = NULL;
	if (!c->apple.enabled) {
		snprintf(why, whysize, "apple is not configured (apple.bundle_id)");
		return TERR_CONFIG;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	v->c = c;
	for (i = 0; i < c->apple.nroots; i++)
		buf_init(&files[i], 64 * 1024);
	for (i = 0; i < c->apple.nroots; i++) {
		if (x5c_read_file(c->apple.roots[i], &files[i]) != TERR_OK) {
			snprintf(why, whysize, "apple.roots: cannot read a certificate from %s",
			    c->apple.roots[i]);
			goto out;
		}
		roots[n].der = (const unsigned char *)files[i].p;
		roots[n++].len = files[i].len;
	}
	if (n == 0) {
		roots[0].der = apple_root_g3;
		roots[0].len = apple_root_g3_len;
		n = 1;
	}
	if (x5c_verifier_new(&v->x, roots, n, APPLE_LEAF_OID, APPLE_INTERMEDIATE_OID) != TERR_OK) {
		snprintf(why, whysize, "apple.roots: unusable root certificate");
		goto out;
	}
	*out = v;
	v = NULL;
	rc = TERR_OK;
out:
	for (i = 0; i < c->apple.nroots; i++)
		buf_release(&files[i]);
	appstore_verifier_free(v);
	return rc;
}

void
appstore_verifier_free(struct appstore_verifier *v)
{
	if (v == NULL)
		return;
	x5c_verifier_free(v->x);
	free(v);
}

void
appstore_stats(struct appstore_verifier *v, int64_t *full, int64_t *cached)
{
	x5c_stats(v->x, full, cached);
}

enum terr
appstore_verify_jws(struct appstore_verifier *v, const char *jws, size_t n, int64_t now,
    struct buf *payload, const char **why)
{
	cJSON *root = NULL;
	const char *bundle, *jwhy;
	enum terr rc;

	if ((rc = x5c_verify_jws(v->x, jws, n, "signedDate", now, payload, why)) != TERR_OK)
		return rc;
	if (json_parse(payload->p, payload->len, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK ||
	    !cJSON_IsObject(root)) {
		*why = "malformed payload";
		rc = TERR_INVAL;
	} else if ((bundle = jstr(root, "bundleId")) != NULL &&
	    strcmp(bundle, v->c->apple.bundle_id) != 0) {
		/* Apple's verifyAndDecodeTransaction: INVALID_APP_IDENTIFIER. */
		*why = "signed data of another app (bundleId)";
		rc = TERR_CONFLICT;
	}
	cJSON_Delete(root);
	return rc;
}

/* The nested JWS at key of data, verified; its payload parsed into *out. */
static enum terr
verify_nested(struct appstore_verifier *v, const cJSON *data, const char *key, int64_t now,
    cJSON **out, const char **why)
{
	const char *jws = jstr(data, key), *jwhy;
	struct buf b;
	enum terr rc;

	*out = NULL;
	if (jws == NULL)
		return TERR_OK;
	buf_init(&b, JOSE_TOKEN_MAX);
	rc = x5c_verify_jws(v->x, jws, strlen(jws), "signedDate", now, &b, why);
	if (rc == TERR_OK && json_parse(b.p, b.len, JSON_DEPTH_MAX, out, &jwhy) != TERR_OK) {
		*why = "malformed nested payload";
		rc = TERR_INVAL;
	}
	buf_release(&b);
	return rc;
}

enum terr
appstore_verify_signed(struct appstore_verifier *v, const char *jws, size_t n, int64_t now,
    const char **why)
{
	const struct cfg_apple *ca = &v->c->apple;
	struct anote a;
	struct buf b;
	const char *bundle, *env, *jwhy, *txenv, *txbundle;
	int64_t app_id = 0;
	enum terr rc;

	memset(&a, 0, sizeof(a));
	buf_init(&b, JOSE_TOKEN_MAX);
	if ((rc = x5c_verify_jws(v->x, jws, n, "signedDate", now, &b, why)) != TERR_OK)
		goto out;
	if (json_parse(b.p, b.len, JSON_DEPTH_MAX, &a.root, &jwhy) != TERR_OK) {
		*why = "malformed notification payload";
		rc = TERR_INVAL;
		goto out;
	}
	a.data = jobj(a.root, "data");
	if (a.data == NULL)
		a.data = jobj(a.root, "summary");
	if (a.data == NULL)
		a.data = jobj(a.root, "appData");
	if (a.data == NULL)
		a.data = jobj(a.root, "externalPurchaseToken");
	bundle = jstr(a.data, "bundleId");
	env = jstr(a.data, "environment");
	if (env == NULL && jobj(a.root, "externalPurchaseToken") != NULL) {
		const char *id = jstr(a.data, "externalPurchaseId");
		env = id != NULL && strncmp(id, "SANDBOX", 7) == 0 ? "Sandbox" : "Production";
	}
	/* Addressed to this app (Apple's SignedDataVerifier, INVALID_APP_IDENTIFIER). */
	rc = TERR_CONFLICT;
	if (bundle == NULL || strcmp(bundle, ca->bundle_id) != 0) {
		*why = "notification for another app (bundleId)";
		goto out;
	}
	if (env == NULL || (strcmp(env, "Production") != 0 && strcmp(env, "Sandbox") != 0)) {
		*why = "notification for an environment tally does not serve";
		goto out;
	}
	if (strcmp(env, "Production") == 0) {
		if (ca->app_apple_id == 0) {
			*why = "apple.app_apple_id is not configured: production notifications "
			       "refused";
			goto out;
		}
		if (jint(a.data, "appAppleId", &app_id) != 1 || app_id != ca->app_apple_id) {
			*why = "notification for another app (appAppleId)";
			goto out;
		}
	}
	/* The nested JWS: each verified the same way, of the same app and environment. */
	if ((rc = verify_nested(v, a.data, "signedTransactionInfo", now, &a.tx, why)) != TERR_OK ||
	    (rc = verify_nested(v, a.data, "signedRenewalInfo", now, &a.rn, why)) != TERR_OK)
		goto out;
	rc = TERR_CONFLICT;
	if (a.tx != NULL) {
		txbundle = jstr(a.tx, "bundleId");
		txenv = jstr(a.tx, "environment");
		if (txbundle == NULL || strcmp(txbundle, ca->bundle_id) != 0 || txenv == NULL ||
		    strcmp(txenv, env) != 0) {
			*why = "transaction of another app or environment";
			goto out;
		}
	}
	if (a.rn != NULL && (txenv = jstr(a.rn, "environment")) != NULL &&
	    strcmp(txenv, env) != 0) {
		*why = "renewal info of another environment";
		goto out;
	}
	*why = NULL;
	rc = TERR_OK;
out:
	anote_release(&a);
	buf_release(&b);
	return rc;
}

enum terr
appstore_verify(struct appstore_verifier *v, const char *body, size_t n, int64_t now,
    const char **why)
{
	cJSON *root = NULL;
	const char *jws;
	enum terr rc;

	rc = signed_payload(body, n, &root, &jws);
	/*
	 * tally's own status envelope is made by tally-reconcile from Apple's
	 * answer, never taken from the network: its status is not signed, so
	 * anyone holding an old signed transaction could claim "active".
	 */
	if (jget(root, "tally_status") != NULL) {
		*why = "tally_status is tally's own envelope, not a notification: refused";
		cJSON_Delete(root);
		return TERR_INVAL;
	}
	if (rc != TERR_OK) {
		*why = "body is not {\"signedPayload\": \"...\"}";
		cJSON_Delete(root);
		return TERR_INVAL;
	}
	rc = appstore_verify_signed(v, jws, strlen(jws), now, why);
	cJSON_Delete(root);
	return rc;
}

/* --- mapping --- */

int64_t
appstore_minor_units(int64_t milliunits, const char *currency)
{
	int exp = money_exponent(currency), i;
	int64_t v = milliunits;

	/* Apple's prices are in thousandths of the currency's major unit. */
	for (i = exp; i < 3; i++)
		v /= 10;
	for (i = 3; i < exp; i++)
		v *= 10;
	return v;
}

struct mctx {
	const struct cfg *c;
	struct bev *e;
	struct anote *a;
	char *why;
	size_t whysize;
	int bad;
};

static void
bad(struct mctx *x, const char *fmt, ...)
{
	va_list ap;

	if (x->bad)
		return;
	x->bad = 1;
	va_start(ap, fmt);
	vsnprintf(x->why, x->whysize, fmt, ap);
	va_end(ap);
}

static void
copy(struct mctx *x, const cJSON *o, const char *key, char *out, size_t size)
{
	const cJSON *v = jget(o, key);

	out[0] = '\0';
	if (v == NULL)
		return;
	if (!cJSON_IsString(v) || text_copy(out, size, v->valuestring) != TERR_OK)
		bad(x, "field %s: expected a string", key);
}

static int64_t
ms(struct mctx *x, const cJSON *o, const char *key)
{
	int64_t v = 0;

	if (jint(o, key, &v) < 0 || v < 0)
		bad(x, "field %s: expected a time in ms", key);
	return v;
}

static int64_t
num(struct mctx *x, const cJSON *o, const char *key, int64_t dflt)
{
	int64_t v = dflt;

	if (jint(o, key, &v) < 0)
		bad(x, "field %s: expected an integer", key);
	return v;
}

static void
set_note(struct bev *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->note, sizeof(e->note), fmt, ap);
	va_end(ap);
}

/* The subscription's state from data.status and the renewal info (Apple's status codes). */
static void
state_from_status(struct mctx *x, int64_t status)
{
	struct bev *e = x->e;
	int64_t autorenew = num(x, x->a->rn, "autoRenewStatus", 1);

	switch (status) {
	case 1:
		e->sub.state = autorenew == 0 ? SUB_CANCELED : SUB_ACTIVE;
		e->sub.cancel_at_period_end = autorenew == 0;
		break;
	case 2: e->sub.state = SUB_EXPIRED; break;
	case 3: /* billing retry without a grace period: no access while Apple retries */
		e->sub.state = SUB_PAST_DUE;
		e->sub.grace_until = e->at;
		break;
	case 4:
		e->sub.state = SUB_PAST_DUE;
		e->sub.grace_until = ms(x, x->a->rn, "gracePeriodExpiresDate");
		if (e->sub.grace_until == 0)
			e->sub.grace_until = e->at;
		break;
	case 5: e->sub.state = SUB_REVOKED; break;
	default: e->sub.state = SUB_NONE; break;
	}
}

/* The subscription aspect from the transaction: id, product, period, store. */
static void
sub_from_tx(struct mctx *x)
{
	struct bev *e = x->e;
	const cJSON *tx = x->a->tx;
	int64_t status = 0;

	copy(x, tx, "originalTransactionId", e->sub.id, sizeof(e->sub.id));
	copy(x, tx, "productId", e->sub.product, sizeof(e->sub.product));
	text_copy(e->sub.store, sizeof(e->sub.store), "APP_STORE");
	e->sub.period_start = ms(x, tx, "purchaseDate");
	e->sub.period_end = ms(x, tx, "expiresDate");
	if (e->sub.id[0] == '\0') {
		bad(x, "transaction without originalTransactionId");
		return;
	}
	e->aspects |= BEV_SUB;
	if (jint(x->a->data, "status", &status) == 1)
		state_from_status(x, status);
}

static int
is_trial(struct mctx *x)
{
	const cJSON *tx = x->a->tx;
	const char *disc = jstr(tx, "offerDiscountType");
	int64_t offer = num(x, tx, "offerType", 0), price = num(x, tx, "price", -1);

	/* An introductory offer that is free: FREE_TRIAL, or a price of nothing where older payloads lack the type. */
	return offer == 1 &&
	    ((disc != NULL && strcmp(disc, "FREE_TRIAL") == 0) || (disc == NULL && price == 0));
}

/* Money received with the transaction: its id is the business key. */
static void
pay_from_tx(struct mctx *x, enum pay_kind kind)
{
	struct bev *e = x->e;
	const cJSON *tx = x->a->tx;
	const char *own = jstr(tx, "inAppOwnershipType");
	char id[ID_MAX];
	int64_t price;

	/* Family Sharing: the member paid nothing; access yes, credits (money's) no. */
	if (own != NULL && strcmp(own, "FAMILY_SHARED") == 0) {
		set_note(e, "family-shared purchase: access without credits");
		return;
	}
	copy(x, tx, "transactionId", id, sizeof(id));
	if (id[0] == '\0') {
		bad(x, "transaction without transactionId");
		return;
	}
	e->aspects |= BEV_PAY;
	e->pay.kind = kind;
	bev_key(&e->pay.keys, id);
	copy(x, tx, "productId", e->pay.product, sizeof(e->pay.product));
	copy(x, tx, "currency", e->pay.currency, sizeof(e->pay.currency));
	price = num(x, tx, "price", 0);
	e->pay.amount = appstore_minor_units(price > 0 ? price : 0, e->pay.currency);
	e->pay.period_start = ms(x, tx, "purchaseDate");
	e->pay.period_end = ms(x, tx, "expiresDate");
	e->pay.quantity = num(x, tx, "quantity", 1);
	e->pay.trial = kind == PAY_INITIAL && is_trial(x);
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Who: appAccountToken (the app's user UUID) and the original transaction. */
static void
user_links(struct mctx *x)
{
	struct bev *e = x->e;
	char token[ID_MAX], otid[ID_MAX];

	copy(x, x->a->tx, "appAccountToken", token, sizeof(token));
	if (token[0] == '\0' && x->a->rn != NULL)
		copy(x, x->a->rn, "appAccountToken", token, sizeof(token));
	copy(x, x->a->tx, "originalTransactionId", otid, sizeof(otid));
	if (token[0] != '\0') {
		lower(token);
		if (bev_link(e, "app_account_token", token) != TERR_OK)
			bad(x, "too many ids");
		if (x->c->apple.token_is_user && text_id_valid(token, USER_ID_MAX))
			text_copy(e->user, sizeof(e->user), token);
	}
	if (bev_link(e, "original_transaction_id", otid) != TERR_OK)
		bad(x, "too many ids");
}

static void
map(struct mctx *x, const char *type, const char *subtype)
{
	struct bev *e = x->e;
	const cJSON *tx = x->a->tx;
	int sub = subtype != NULL;
	char id[ID_MAX], next[ID_MAX];

#define IS(t)    (strcmp(type, t) == 0)
#define SUBIS(s) (sub && strcmp(subtype, s) == 0)
	if (IS("TEST")) {
		set_note(e, "test notification: stored");
		return;
	}
	if (tx == NULL) {
		set_note(e, "%s%s%s carries no transaction: stored", type, sub ? "/" : "",
		    sub ? subtype : "");
		return;
	}
	user_links(x);
	if (IS("SUBSCRIBED")) {
		sub_from_tx(x);
		if (e->sub.state == SUB_NONE || e->sub.state == SUB_ACTIVE)
			e->sub.state = is_trial(x) ? SUB_TRIALING : SUB_ACTIVE;
		pay_from_tx(x, PAY_INITIAL);
	} else if (IS("DID_RENEW")) {
		sub_from_tx(x);
		if (e->sub.state == SUB_NONE)
			e->sub.state = SUB_ACTIVE;
		pay_from_tx(x, PAY_RENEWAL);
	} else if (IS("DID_CHANGE_RENEWAL_STATUS")) {
		sub_from_tx(x);
		e->sub.cancel_at_period_end = SUBIS("AUTO_RENEW_DISABLED") ? 1 : 0;
		if (e->sub.state == SUB_NONE || e->sub.state == SUB_ACTIVE ||
		    e->sub.state == SUB_CANCELED)
			e->sub.state = SUBIS("AUTO_RENEW_DISABLED") ? SUB_CANCELED : SUB_ACTIVE;
	} else if ((IS("DID_CHANGE_RENEWAL_PREF") || IS("OFFER_REDEEMED")) && SUBIS("UPGRADE")) {
		/* An upgrade takes effect at once, with a new (prorated) transaction. */
		sub_from_tx(x);
		if (e->sub.state == SUB_NONE)
			e->sub.state = SUB_ACTIVE;
		pay_from_tx(x, PAY_CHANGE);
	} else if (IS("DID_CHANGE_RENEWAL_PREF") || IS("OFFER_REDEEMED")) {
		copy(x, x->a->rn, "autoRenewProductId", next, sizeof(next));
		set_note(e, "%s%s%s: renews as %s at the period end; nothing changes now", type,
		    sub ? "/" : "", sub ? subtype : "", next[0] != '\0' ? next : "(unchanged)");
	} else if (IS("DID_FAIL_TO_RENEW")) {
		sub_from_tx(x);
		e->sub.product[0] = '\0'; /* the failed renewal's product is not a change of plan */
		e->sub.state = SUB_PAST_DUE;
		e->sub.grace_until =
		    SUBIS("GRACE_PERIOD") ? ms(x, x->a->rn, "gracePeriodExpiresDate") : e->at;
		if (e->sub.grace_until == 0)
			e->sub.grace_until = e->at;
		e->sub.period_start = e->sub.period_end = 0;
		e->aspects |= BEV_NOTICE;
		text_copy(e->notice, sizeof(e->notice), "payment_failed");
	} else if (IS("GRACE_PERIOD_EXPIRED") || IS("EXPIRED")) {
		sub_from_tx(x);
		e->sub.state = SUB_EXPIRED;
	} else if (IS("REVOKE")) {
		/* Family Sharing access withdrawn from this member. */
		sub_from_tx(x);
		e->sub.state = SUB_REVOKED;
	} else if (IS("RENEWAL_EXTENDED")) {
		sub_from_tx(x);
		if (e->sub.state == SUB_NONE)
			e->sub.state = SUB_ACTIVE;
	} else if (IS("REFUND")) {
		const char *rt = jstr(tx, "revocationType");
		copy(x, tx, "transactionId", id, sizeof(id));
		e->aspects |= BEV_REFUND;
		bev_key(&e->refund.keys, id);
		e->refund.kind =
		    rt != NULL && strcmp(rt, "REFUND_PRORATED") == 0 ? REFUND_PARTIAL : REFUND_FULL;
	} else if (IS("REFUND_REVERSED")) {
		copy(x, tx, "transactionId", id, sizeof(id));
		e->aspects |= BEV_REINSTATE;
		bev_key(&e->reinstate, id);
	} else if (IS("ONE_TIME_CHARGE")) {
		pay_from_tx(x, PAY_ONE_OFF);
	} else if (IS("REFUND_DECLINED")) {
		set_note(e, "refund request declined: nothing changes");
	} else if (IS("CONSUMPTION_REQUEST")) {
		set_note(e, "Apple asks for consumption information about a refund request");
	} else if (IS("PRICE_INCREASE")) {
		set_note(e, "price increase %s: nothing changes now", sub ? subtype : "");
	} else if (IS("RENEWAL_EXTENSION")) {
		set_note(e,
		    "renewal-date extension %s: each extended subscription has its own "
		    "RENEWAL_EXTENDED",
		    sub ? subtype : "");
	} else
		set_note(e, "notification type %s is not acted on: stored", type);
	if (e->aspects & BEV_SUB)
		e->rank = sub_state_rank(e->sub.state);
#undef IS
#undef SUBIS
}

/* --- tally's status envelope (Get All Subscription Statuses) --- */

/*
 * appstore_parse has no verifier of its own: the envelope's JWS are
 * verified by one made at the first envelope and kept for the process (its
 * chain cache with it), for the configuration it was made with; another
 * configuration replaces it (a process has one).
 */
static pthread_mutex_t status_mu = PTHREAD_MUTEX_INITIALIZER;
static struct appstore_verifier *status_v;
static const struct cfg *status_cfg;

static struct appstore_verifier *
status_verifier(const struct cfg *c, char *why, size_t whysize)
{
	struct appstore_verifier *v;

	pthread_mutex_lock(&status_mu);
	if (status_v != NULL && status_cfg != c) {
		appstore_verifier_free(status_v);
		status_v = NULL;
	}
	if (status_v == NULL && appstore_verifier_new(&status_v, c, why, whysize) == TERR_OK)
		status_cfg = c;
	v = status_v;
	pthread_mutex_unlock(&status_mu);
	return v;
}

static const char *
status_name(int64_t status)
{
	static const char *const names[] = { "UNKNOWN", "ACTIVE", "EXPIRED", "BILLING_RETRY",
		"BILLING_GRACE_PERIOD", "REVOKED" };

	return status >= 1 && status <= 5 ? names[status] : names[0];
}

/*
 * One JWS of the envelope (key of root) verified to the trusted root at its
 * own signedDate (x5c.h: ES256, x5c of three, Apple's OIDs) and parsed into
 * *out; *at its signedDate. Absent: TERR_NOTFOUND.
 */
static enum terr
status_jws(struct appstore_verifier *v, const cJSON *root, const char *key, cJSON **out,
    int64_t *at, char *why, size_t whysize)
{
	const char *jws = jstr(root, key), *vwhy = NULL, *jwhy;
	struct buf b;
	enum terr rc;

	*out = NULL;
	*at = 0;
	if (jws == NULL)
		return jget(root, key) == NULL ? TERR_NOTFOUND : TERR_INVAL;
	buf_init(&b, JOSE_TOKEN_MAX);
	/* now 0: a payload without its signedDate does not verify (no clock in a replay). */
	rc = x5c_verify_jws(v->x, jws, strlen(jws), "signedDate", 0, &b, &vwhy);
	if (rc != TERR_OK)
		snprintf(why, whysize, "%s does not verify: %s", key,
		    vwhy != NULL ? vwhy : terr_str(rc));
	else if (json_parse(b.p, b.len, JSON_DEPTH_MAX, out, &jwhy) != TERR_OK ||
	    !cJSON_IsObject(*out) || jint(*out, "signedDate", at) != 1 || *at <= 0) {
		snprintf(why, whysize, "%s: malformed payload or no signedDate", key);
		rc = TERR_INVAL;
	}
	buf_release(&b);
	return rc;
}

/* A field of a payload equal to want (both present). */
static int
same(const cJSON *o, const char *key, const char *want)
{
	const char *s = jstr(o, key);

	return s != NULL && want != NULL && strcmp(s, want) == 0;
}

/*
 * The envelope {"tally_status": {status, originalTransactionId,
 * environment}, "signedTransactionInfo", "signedRenewalInfo"} (appstore.h):
 * both JWS verified, of this app and the envelope's environment and
 * subscription, mapped as a notification of that status would be.
 */
static void
map_status(struct mctx *x, const cJSON *root)
{
	struct bev *e = x->e;
	struct anote *a = x->a;
	const struct cfg_apple *ca = &x->c->apple;
	struct appstore_verifier *v;
	const char *otid, *env, *txj, *rnj, *tid;
	unsigned char h[SHA256_LEN];
	char hex[2 * 16 + 1], vwhy[160];
	struct buf hb;
	int64_t status = 0, txat = 0, rnat = 0;
	enum terr rc;

	a->data = jobj(root, "tally_status");
	otid = jstr(a->data, "originalTransactionId");
	env = jstr(a->data, "environment");
	if (a->data == NULL || jint(a->data, "status", &status) != 1 || status < 1 || status > 5 ||
	    otid == NULL || otid[0] == '\0' || strlen(otid) > 200 || env == NULL) {
		bad(x, "tally_status without status (1-5), originalTransactionId or environment");
		return;
	}
	if (strcmp(env, "Production") != 0 && strcmp(env, "Sandbox") != 0) {
		bad(x, "tally_status for an environment tally does not serve");
		return;
	}
	/* The notifications' rule (appstore_verify_signed): Production needs app_apple_id. */
	if (strcmp(env, "Production") == 0 && ca->app_apple_id == 0) {
		bad(x, "apple.app_apple_id is not configured: production refused");
		return;
	}
	if ((v = status_verifier(x->c, vwhy, sizeof(vwhy))) == NULL) {
		bad(x, "tally_status cannot be verified: %s", vwhy);
		return;
	}
	rc = status_jws(v, root, "signedTransactionInfo", &a->tx, &txat, vwhy, sizeof(vwhy));
	if (rc == TERR_OK)
		rc = status_jws(v, root, "signedRenewalInfo", &a->rn, &rnat, vwhy, sizeof(vwhy));
	if (rc == TERR_NOTFOUND && a->tx == NULL)
		snprintf(vwhy, sizeof(vwhy), "tally_status without signedTransactionInfo");
	else if (rc == TERR_NOTFOUND)
		rc = TERR_OK; /* a status without renewal info: the transaction alone */
	if (rc != TERR_OK) {
		bad(x, "%s", vwhy);
		return;
	}
	/* Apple's verifyAndDecodeTransaction / RenewalInfo: app and environment. */
	if (!same(a->tx, "bundleId", ca->bundle_id) || !same(a->tx, "environment", env) ||
	    !same(a->tx, "originalTransactionId", otid)) {
		bad(x,
		    "tally_status: the transaction is of another app, environment or "
		    "subscription");
		return;
	}
	if (a->rn != NULL &&
	    (!same(a->rn, "environment", env) || !same(a->rn, "originalTransactionId", otid))) {
		bad(x, "tally_status: the renewal info is of another environment or subscription");
		return;
	}
	/* The same answer twice is one event: its id from the signed texts and the status. */
	txj = jstr(root, "signedTransactionInfo");
	rnj = jstr(root, "signedRenewalInfo");
	buf_init(&hb, BODY_MAX);
	buf_printf(&hb, "%s\n%s\n%lld", txj, rnj != NULL ? rnj : "", (long long)status);
	sha256(hb.p, hb.len, h);
	buf_release(&hb);
	text_hex(h, 16, hex);
	snprintf(e->id, sizeof(e->id), "status:%s:%s", otid, hex);
	snprintf(e->type, sizeof(e->type), "STATUS/%s", status_name(status));
	/* Apple signs an answer when it gives it: the newer date is the answer's. */
	e->at = txat > rnat ? txat : rnat;
	e->live = strcmp(env, "Production") == 0;

	user_links(x);
	sub_from_tx(x); /* the state from tally_status.status (state_from_status) */
	if (x->bad || !(e->aspects & BEV_SUB))
		return;
	if (ms(x, a->tx, "revocationDate") > 0)
		e->sub.state = SUB_REVOKED;
	if (e->sub.state == SUB_ACTIVE && is_trial(x))
		e->sub.state = SUB_TRIALING;
	/* Active: the latest transaction was paid, granted once by its id (as DID_RENEW). */
	if (status == 1 && e->sub.state != SUB_REVOKED) {
		tid = jstr(a->tx, "transactionId");
		pay_from_tx(x, tid != NULL && strcmp(tid, otid) == 0 ? PAY_INITIAL : PAY_RENEWAL);
	}
	e->rank = sub_state_rank(e->sub.state);
}

enum terr
appstore_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize)
{
	struct mctx x = { c, e, NULL, why, whysize, 0 };
	struct anote a;
	cJSON *root = NULL;
	const char *jws, *type, *subtype, *uuid, *env;
	enum terr rc = TERR_INVAL;

	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	text_copy(e->provider, sizeof(e->provider), "apple");
	memset(&a, 0, sizeof(a));
	x.a = &a;
	if (signed_payload(body, n, &root, &jws) != TERR_OK && jget(root, "tally_status") == NULL) {
		snprintf(why, whysize, "body is not {\"signedPayload\": \"...\"}");
		goto out;
	}
	/* tally's status envelope (tally-reconcile; refused by appstore_verify). */
	if (jget(root, "tally_status") != NULL) {
		map_status(&x, root);
		rc = x.bad ? TERR_INVAL : TERR_OK;
		goto out;
	}
	if (decode_note(jws, strlen(jws), &a) != TERR_OK) {
		snprintf(why, whysize, "signedPayload cannot be decoded");
		goto out;
	}
	type = jstr(a.root, "notificationType");
	subtype = jstr(a.root, "subtype");
	uuid = jstr(a.root, "notificationUUID");
	if (type == NULL || uuid == NULL || text_copy(e->id, sizeof(e->id), uuid) != TERR_OK) {
		snprintf(why, whysize, "notification without notificationType or notificationUUID");
		goto out;
	}
	snprintf(e->type, sizeof(e->type), "%s%s%s", type, subtype != NULL ? "/" : "",
	    subtype != NULL ? subtype : "");
	if (jint(a.root, "signedDate", &e->at) != 1 || e->at <= 0) {
		snprintf(why, whysize, "notification without signedDate");
		goto out;
	}
	env = jstr(a.data, "environment");
	e->live = env == NULL || strcmp(env, "Production") == 0;
	map(&x, type, subtype);
	rc = x.bad ? TERR_INVAL : TERR_OK;
out:
	anote_release(&a);
	cJSON_Delete(root);
	return rc;
}
