/*
 * Apple App Store notifications (and tally's status envelope) mapped to
 * normalized billing events: appstore.h. Verification to Apple's root is
 * lib/providers/appstore/appstore_verify.c; what it offers this file is
 * appstore_verify_int.h.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jread.h"
#include "base/json.h"
#include "base/money.h"
#include "base/tally_limits.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "crypto/jose.h"
#include "crypto/x5c.h"
#include "providers/appstore/appstore.h"
#include "providers/appstore/appstore_verify_int.h"

/* --- mapping --- */

enum terr
appstore_minor_units(int64_t milliunits, const char *currency, int64_t *minor, int64_t *max_milli)
{
	/* Apple's prices are in thousandths of the currency's major unit. */
	return money_rescale(milliunits, 3, currency, minor, max_milli);
}

struct mctx {
	const struct cfg *c;
	struct bev *e;
	struct anote *a;
	struct jread r; /* a field had the wrong type: r.bad, the first reason in why */
};

/* A time in ms since the epoch (absent: 0). */
static int64_t
ms(struct mctx *x, const cJSON *o, const char *key)
{
	return jr_int(&x->r, o, key, 0, INT64_MAX);
}

/* An integer; absent: dflt. */
static int64_t
num(struct mctx *x, const cJSON *o, const char *key, int64_t dflt)
{
	return jget(o, key) == NULL ? dflt : jr_int(&x->r, o, key, INT64_MIN, INT64_MAX);
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

	jr_str(&x->r, tx, "originalTransactionId", e->sub.id, sizeof(e->sub.id));
	jr_str(&x->r, tx, "productId", e->sub.product, sizeof(e->sub.product));
	text_copy(e->sub.store, sizeof(e->sub.store), "APP_STORE");
	e->sub.period_start = ms(x, tx, "purchaseDate");
	e->sub.period_end = ms(x, tx, "expiresDate");
	if (e->sub.id[0] == '\0') {
		jr_bad(&x->r, "transaction without originalTransactionId");
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
	int64_t price, max = 0;

	/* Family Sharing: the member paid nothing; access yes, credits (money's) no. */
	if (own != NULL && strcmp(own, "FAMILY_SHARED") == 0) {
		set_note(e, "family-shared purchase: access without credits");
		return;
	}
	jr_str(&x->r, tx, "transactionId", id, sizeof(id));
	if (id[0] == '\0') {
		jr_bad(&x->r, "transaction without transactionId");
		return;
	}
	e->aspects |= BEV_PAY;
	e->pay.kind = kind;
	bev_key(&e->pay.keys, id);
	jr_str(&x->r, tx, "productId", e->pay.product, sizeof(e->pay.product));
	jr_str(&x->r, tx, "currency", e->pay.currency, sizeof(e->pay.currency));
	price = num(x, tx, "price", 0);
	if (price < 0)
		price = 0;
	/*
	 * Signed by Apple, so kept (invariant 1), but an amount tally cannot
	 * record is not recorded wrong: the event is stored failed with what
	 * was received and what fits.
	 */
	if (appstore_minor_units(price, e->pay.currency, &e->pay.amount, &max) != TERR_OK)
		snprintf(e->refusal, sizeof(e->refusal),
		    "transaction %s: price %lld milliunits of %s is past what tally records: "
		    "expected at most %lld milliunits (10^15 of the currency's smallest unit); "
		    "nothing applied",
		    id, (long long)price, e->pay.currency[0] != '\0' ? e->pay.currency : "(none)",
		    (long long)max);
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

	jr_str(&x->r, x->a->tx, "appAccountToken", token, sizeof(token));
	if (token[0] == '\0' && x->a->rn != NULL)
		jr_str(&x->r, x->a->rn, "appAccountToken", token, sizeof(token));
	jr_str(&x->r, x->a->tx, "originalTransactionId", otid, sizeof(otid));
	if (token[0] != '\0') {
		lower(token);
		if (bev_link(e, "app_account_token", token) != TERR_OK)
			jr_bad(&x->r, "too many ids");
		if (x->c->apple.token_is_user && text_id_valid(token, USER_ID_MAX))
			text_copy(e->user, sizeof(e->user), token);
	}
	if (bev_link(e, "original_transaction_id", otid) != TERR_OK)
		jr_bad(&x->r, "too many ids");
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
		jr_str(&x->r, x->a->rn, "autoRenewProductId", next, sizeof(next));
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
		jr_str(&x->r, tx, "transactionId", id, sizeof(id));
		e->aspects |= BEV_REFUND;
		bev_key(&e->refund.keys, id);
		e->refund.kind =
		    rt != NULL && strcmp(rt, "REFUND_PRORATED") == 0 ? REFUND_PARTIAL : REFUND_FULL;
	} else if (IS("REFUND_REVERSED")) {
		jr_str(&x->r, tx, "transactionId", id, sizeof(id));
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
 * appstore_parse has no verifier of its own: the JWS of tally's envelopes
 * (the status and the purchase the app hands in) are verified by one made
 * at the first envelope and kept for the process (its chain cache with it),
 * for the configuration it was made with; another configuration replaces it
 * (a process has one).
 */
static pthread_mutex_t envelope_mu = PTHREAD_MUTEX_INITIALIZER;
static struct appstore_verifier *envelope_v;
static const struct cfg *envelope_cfg;

static struct appstore_verifier *
envelope_verifier(const struct cfg *c, char *why, size_t whysize)
{
	struct appstore_verifier *v;

	pthread_mutex_lock(&envelope_mu);
	if (envelope_v != NULL && envelope_cfg != c) {
		appstore_verifier_free(envelope_v);
		envelope_v = NULL;
	}
	if (envelope_v == NULL && appstore_verifier_new(&envelope_v, c, why, whysize) == TERR_OK)
		envelope_cfg = c;
	v = envelope_v;
	pthread_mutex_unlock(&envelope_mu);
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
		    vwhy != NULL ? vwhy : err_str(rc));
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
		jr_bad(&x->r,
		    "tally_status without status (1-5), originalTransactionId or environment");
		return;
	}
	if (strcmp(env, "Production") != 0 && strcmp(env, "Sandbox") != 0) {
		jr_bad(&x->r, "tally_status for an environment tally does not serve");
		return;
	}
	/* The notifications' rule (appstore_verify_signed): Production needs app_apple_id. */
	if (strcmp(env, "Production") == 0 && ca->app_apple_id == 0) {
		jr_bad(&x->r, "apple.app_apple_id is not configured: production refused");
		return;
	}
	if ((v = envelope_verifier(x->c, vwhy, sizeof(vwhy))) == NULL) {
		jr_bad(&x->r, "tally_status cannot be verified: %s", vwhy);
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
		jr_bad(&x->r, "%s", vwhy);
		return;
	}
	/* Apple's verifyAndDecodeTransaction / RenewalInfo: app and environment. */
	if (!same(a->tx, "bundleId", ca->bundle_id) || !same(a->tx, "environment", env) ||
	    !same(a->tx, "originalTransactionId", otid)) {
		jr_bad(&x->r,
		    "tally_status: the transaction is of another app, environment or "
		    "subscription");
		return;
	}
	if (a->rn != NULL &&
	    (!same(a->rn, "environment", env) || !same(a->rn, "originalTransactionId", otid))) {
		jr_bad(&x->r,
		    "tally_status: the renewal info is of another environment or subscription");
		return;
	}
	/* The same answer twice is one event: its id from the signed texts and the status. */
	txj = jstr(root, "signedTransactionInfo");
	rnj = jstr(root, "signedRenewalInfo");
	buf_init(&hb, BODY_MAX);
	buf_printf(&hb, "%s\n%s\n%lld", txj, rnj != NULL ? rnj : "", (long long)status);
	crypto_sha256(hb.p, hb.len, h);
	buf_release(&hb);
	text_hex(h, 16, hex);
	/* Parts of a text_key: Apple's digits give "status:<otid>:<hex>", as before. */
	if (text_key(e->id, sizeof(e->id), "status", otid, hex, NULL) != TERR_OK) {
		jr_bad(&x->r, "tally_status: originalTransactionId too long for an event id");
		return;
	}
	snprintf(e->type, sizeof(e->type), "STATUS/%s", status_name(status));
	/* Apple signs an answer when it gives it: the newer date is the answer's. */
	e->at = txat > rnat ? txat : rnat;
	e->live = strcmp(env, "Production") == 0;

	user_links(x);
	sub_from_tx(x); /* the state from tally_status.status (state_from_status) */
	if (x->r.bad || !(e->aspects & BEV_SUB))
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

/* --- tally's purchase envelope (what the app hands in) --- */

/*
 * The envelope {"tally_purchase": {"user", "by"}, "signedTransactionInfo"}
 * (appstore.h): the transaction verified to the trusted root at its own
 * signedDate, of this app and of an environment tally serves, then mapped
 * as the notifications map a transaction of its kind: an auto-renewable
 * subscription as SUBSCRIBED (its first transaction) or DID_RENEW (a later
 * one) would, anything else as ONE_TIME_CHARGE. TERR_OK, or the refusal
 * with why: TERR_INVAL, TERR_AUTH, TERR_STALE, TERR_CONFLICT (another app,
 * an environment tally does not serve), TERR_CONFIG.
 */
static enum terr
map_purchase(struct mctx *x, const cJSON *root, char *why, size_t whysize)
{
	struct bev *e = x->e;
	struct anote *a = x->a;
	const struct cfg_apple *ca = &x->c->apple;
	struct appstore_verifier *v;
	const char *user, *env, *type, *tid, *otid;
	char vwhy[160];
	int64_t at = 0, expires, revoked;
	enum terr rc;

	a->data = jobj(root, "tally_purchase");
	if ((user = jstr(a->data, "user")) == NULL || !text_id_valid(user, USER_ID_MAX)) {
		snprintf(why, whysize, "tally_purchase without a valid user");
		return TERR_INVAL;
	}
	if ((v = envelope_verifier(x->c, vwhy, sizeof(vwhy))) == NULL) {
		snprintf(why, whysize, "the transaction cannot be verified: %s", vwhy);
		return TERR_CONFIG;
	}
	rc = status_jws(v, root, "signedTransactionInfo", &a->tx, &at, why, whysize);
	if (rc == TERR_NOTFOUND)
		snprintf(why, whysize, "tally_purchase without signedTransactionInfo");
	if (rc != TERR_OK)
		return rc == TERR_NOTFOUND ? TERR_INVAL : rc;
	/* Apple's verifyAndDecodeTransaction: this app's, of an environment tally serves. */
	env = jstr(a->tx, "environment");
	if (!same(a->tx, "bundleId", ca->bundle_id)) {
		snprintf(why, whysize, "a transaction of another app (bundleId)");
		return TERR_CONFLICT;
	}
	if (env == NULL || (strcmp(env, "Production") != 0 && strcmp(env, "Sandbox") != 0)) {
		snprintf(why, whysize, "a transaction of an environment tally does not serve");
		return TERR_CONFLICT;
	}
	/* The notifications' rule (appstore_verify_signed): Production needs app_apple_id. */
	if (strcmp(env, "Production") == 0 && ca->app_apple_id == 0) {
		snprintf(why, whysize, "apple.app_apple_id is not configured: production refused");
		return TERR_CONFIG;
	}
	tid = jstr(a->tx, "transactionId");
	otid = jstr(a->tx, "originalTransactionId");
	if (tid == NULL || tid[0] == '\0' || otid == NULL || otid[0] == '\0') {
		snprintf(why, whysize,
		    "transaction without transactionId or originalTransactionId");
		return TERR_INVAL;
	}
	/* One event per transaction: the same one handed in again is a duplicate. */
	if (text_key(e->id, sizeof(e->id), "purchase", tid, NULL) != TERR_OK) {
		snprintf(why, whysize, "transactionId too long for an event id");
		return TERR_INVAL;
	}
	text_copy(e->type, sizeof(e->type), "PURCHASE");
	e->at = at;
	e->live = strcmp(env, "Production") == 0;

	/* The user its appAccountToken names (when that is a user id); else the one it was for. */
	user_links(x);
	if (e->user[0] == '\0')
		text_copy(e->user, sizeof(e->user), user);
	type = jstr(a->tx, "type");
	expires = ms(x, a->tx, "expiresDate");
	revoked = ms(x, a->tx, "revocationDate");
	if (type != NULL && strcmp(type, "Auto-Renewable Subscription") == 0) {
		sub_from_tx(x);
		e->sub.state = revoked > 0         ? SUB_REVOKED
		    : expires > 0 && expires <= at ? SUB_EXPIRED
		    : is_trial(x)                  ? SUB_TRIALING
						   : SUB_ACTIVE;
		e->rank = sub_state_rank(e->sub.state);
		/* Paid for a period not over: granted once, by its transactionId (as map_status). */
		if (e->sub.state == SUB_ACTIVE || e->sub.state == SUB_TRIALING)
			pay_from_tx(x, strcmp(tid, otid) == 0 ? PAY_INITIAL : PAY_RENEWAL);
		else
			set_note(e, "transaction %s is %s: nothing granted", tid,
			    revoked > 0 ? "revoked" : "expired");
	} else if (revoked > 0)
		set_note(e, "transaction %s was revoked: nothing granted", tid);
	else
		pay_from_tx(x, PAY_ONE_OFF);
	return x->r.bad ? TERR_INVAL : TERR_OK;
}

/*
 * A notification body, or one of tally's envelopes, into e (appstore_parse).
 * TERR_OK, or TERR_INVAL with why; a purchase envelope answers the refusal
 * of map_purchase as it is.
 */
static enum terr
parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why, size_t whysize)
{
	struct mctx x = { c, e, NULL, { 0 } };
	struct anote a;
	cJSON *root = NULL;
	const char *jws, *type, *subtype, *uuid, *dwhy = NULL;
	int status, purchase;
	enum terr rc = TERR_INVAL;

	/* A field's reason goes to why: a refusal never says nothing (the 400's message, the log). */
	jr_init(&x.r, why, whysize);
	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	text_copy(e->provider, sizeof(e->provider), "apple");
	memset(&a, 0, sizeof(a));
	x.a = &a;
	rc = appstore_signed_payload(body, n, &root, &jws);
	status = jget(root, "tally_status") != NULL;
	purchase = jget(root, "tally_purchase") != NULL;
	if ((rc != TERR_OK && !status && !purchase) || status + purchase + (rc == TERR_OK) > 1) {
		snprintf(why, whysize, "body is not {\"signedPayload\": \"...\"}");
		rc = TERR_INVAL;
		goto out;
	}
	rc = TERR_INVAL;
	/* tally's envelopes (tally-reconcile's status, the app's purchase; refused by appstore_verify). */
	if (status) {
		map_status(&x, root);
		rc = x.r.bad ? TERR_INVAL : TERR_OK;
		goto out;
	}
	if (purchase) {
		rc = map_purchase(&x, root, why, whysize);
		goto out;
	}
	if (appstore_decode_note(jws, strlen(jws), &a, &dwhy) != TERR_OK) {
		snprintf(why, whysize, "%s", dwhy);
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
	e->live = a.env == NULL || strcmp(a.env, "Production") == 0;
	map(&x, type, subtype);
	rc = x.r.bad ? TERR_INVAL : TERR_OK;
out:
	appstore_note_release(&a);
	cJSON_Delete(root);
	return rc;
}

enum terr
appstore_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize)
{
	return parse(c, body, n, e, why, whysize) == TERR_OK ? TERR_OK : TERR_INVAL;
}

enum terr
appstore_purchase(const struct cfg *c, const char *user, const char *by, const char *jws, size_t n,
    struct buf *body, struct bev *e, char *why, size_t whysize)
{
	struct jw w;

	if (!c->apple.enabled) {
		snprintf(why, whysize, "apple is not configured (apple.bundle_id)");
		return TERR_CONFIG;
	}
	buf_reset(body);
	jw_init(&w, body);
	jw_obj(&w);
	jw_key(&w, "tally_purchase");
	jw_obj(&w);
	jw_kstr(&w, "user", user);
	jw_kstr(&w, "by", by);
	jw_end(&w);
	jw_key(&w, "signedTransactionInfo");
	jw_strn(&w, jws, n);
	jw_end(&w);
	if (body->err != TERR_OK) {
		snprintf(why, whysize, "the signed transaction is too long");
		return TERR_TOOBIG;
	}
	return parse(c, buf_cstr(body), body->len, e, why, whysize);
}
