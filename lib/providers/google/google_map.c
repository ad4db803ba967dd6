/*
 * tally's Google Play envelope mapped to a normalized billing event; the
 * decisions are listed in google_map.h. Field names: android-publisher
 * api-ref v3 SubscriptionPurchaseV2, SubscriptionPurchaseLineItem,
 * ProductPurchase, Money; rtdn-reference (PROVIDERS.md 7.3-7.5).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/jread.h"
#include "base/money.h"
#include "base/text.h"
#include "base/tm.h"
#include "providers/google/google_map.h"
#include "providers/google/google_push.h"

#define DAY_MS ((int64_t)86400 * 1000)

struct gmap {
	const struct cfg *c;
	struct bev *e;
	struct jread r; /* a field had the wrong type: r.bad, the reason in why */
	char why[REASON_MAX];
	struct google_note note;
	enum google_call call;
	int64_t status;
	int64_t fetched_at;
	char token[ID_MAX];
	char product[ID_MAX]; /* the product id the envelope's call named */
	const cJSON *purchase;
};

/* Add to e's note ("; " between parts), bounded. */
static void note(struct gmap *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
note(struct gmap *x, const char *fmt, ...)
{
	char *n = x->e->note;
	size_t len = strlen(n);
	va_list ap;

	if (len > 0 && len + 2 < sizeof(x->e->note)) {
		memcpy(n + len, "; ", 3);
		len += 2;
	}
	va_start(ap, fmt);
	vsnprintf(n + len, sizeof(x->e->note) - len, fmt, ap);
	va_end(ap);
}

/* What cannot be applied: the event is stored failed with why (the first reason wins). */
static void refuse(struct gmap *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void
refuse(struct gmap *x, const char *fmt, ...)
{
	va_list ap;

	if (x->e->refusal[0] != '\0')
		return;
	va_start(ap, fmt);
	vsnprintf(x->e->refusal, sizeof(x->e->refusal), fmt, ap);
	va_end(ap);
}

/* An RFC 3339 time field (absent: 0). */
static int64_t
gtime(struct gmap *x, const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);
	int64_t ms = 0;

	if (v != NULL && (!cJSON_IsString(v) || google_time(v->valuestring, &ms) != TERR_OK))
		jr_bad(&x->r, "field %s: expected an RFC 3339 time", key);
	return ms;
}

/* A *Millis field: an int64 as a JSON string (Google's JSON for int64), or a number. */
static int64_t
gmillis(struct gmap *x, const cJSON *o, const char *key)
{
	const cJSON *v = jget(o, key);
	int64_t ms = 0;

	if (v == NULL)
		return 0;
	if (cJSON_IsString(v) ? text_i64s(v->valuestring, 0, INT64_MAX / 2, &ms) != TERR_OK
			      : jint(o, key, &ms) != 1 || ms < 0)
		jr_bad(&x->r, "field %s: expected milliseconds", key);
	return ms;
}

/*
 * Money {currencyCode, units (int64 as a string), nanos} in the currency's
 * smallest unit (finer digits dropped). Past MONEY_MINOR_MAX: refused, not
 * recorded wrong.
 */
static int64_t
gmoney(struct gmap *x, const cJSON *m, char *currency, size_t size)
{
	const cJSON *u = jget(m, "units");
	int64_t units = 0, nanos, scale = 1, drop = 1;
	int exp, i;

	jr_str(&x->r, m, "currencyCode", currency, size);
	nanos = jr_int(&x->r, m, "nanos", 0, 999999999);
	if (u != NULL && cJSON_IsString(u)) {
		if (text_i64s(u->valuestring, 0, MONEY_MINOR_MAX, &units) != TERR_OK)
			jr_bad(&x->r, "field units: expected a whole amount from 0 to 10^15");
	} else
		units = jr_int(&x->r, m, "units", 0, MONEY_MINOR_MAX);
	if (x->r.bad)
		return 0;
	exp = money_exponent(currency);
	for (i = 0; i < exp; i++)
		scale *= 10;
	for (i = exp; i < 9; i++)
		drop *= 10;
	if (units > MONEY_MINOR_MAX / scale) {
		refuse(x,
		    "price %lld %s is past what tally records (10^15 of the currency's smallest "
		    "unit): nothing applied",
		    (long long)units, currency);
		return 0;
	}
	return units * scale + nanos / drop;
}

/* Who: the account id (a link; the user itself under google.identity user_id) and the token. */
static void
who(struct gmap *x, const char *account)
{
	struct bev *e = x->e;

	if (account != NULL && account[0] != '\0') {
		if (!text_id_valid(account, ID_MAX - 1))
			note(x, "obfuscatedExternalAccountId is not an id tally keeps: not linked");
		else {
			bev_link(e, GOOGLE_LINK_ACCOUNT, account);
			if (x->c->google.identity == GOOGLE_IDENTITY_USER_ID &&
			    text_id_valid(account, USER_ID_MAX))
				text_copy(e->user, sizeof(e->user), account);
		}
	}
	bev_link(e, GOOGLE_LINK_TOKEN, x->token);
}

/* "GPA.1234-5678-9012-34567..0": the order of a renewal (7.5: renewals add "..N"). */
static int
renewal_order(const char *order)
{
	const char *dots = strstr(order, "..");
	const char *p;

	if (dots == NULL || dots[2] == '\0')
		return 0;
	for (p = dots + 2; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

/*
 * The catalog's id of a subscription: "<productId>:<basePlanId>" when the
 * catalog lists that under google (RevenueCat's form of Play ids), else
 * productId.
 */
static void
sub_product(struct gmap *x, const char *product, const char *base, char *out, size_t size)
{
	char both[ID_MAX];

	if (base != NULL && base[0] != '\0' &&
	    (size_t)snprintf(both, sizeof(both), "%s:%s", product, base) < sizeof(both) &&
	    cfg_match(x->c, "google", both) != NULL) {
		text_copy(out, size, both);
		return;
	}
	text_copy(out, size, product);
}

static const char *const sub_codes[] = {
	[1] = "SUBSCRIPTION_RECOVERED",
	[2] = "SUBSCRIPTION_RENEWED",
	[3] = "SUBSCRIPTION_CANCELED",
	[4] = "SUBSCRIPTION_PURCHASED",
	[5] = "SUBSCRIPTION_ON_HOLD",
	[6] = "SUBSCRIPTION_IN_GRACE_PERIOD",
	[7] = "SUBSCRIPTION_RESTARTED",
	[8] = "SUBSCRIPTION_PRICE_CHANGE_CONFIRMED",
	[9] = "SUBSCRIPTION_DEFERRED",
	[10] = "SUBSCRIPTION_PAUSED",
	[11] = "SUBSCRIPTION_PAUSE_SCHEDULE_CHANGED",
	[12] = "SUBSCRIPTION_REVOKED",
	[13] = "SUBSCRIPTION_EXPIRED",
	[17] = "SUBSCRIPTION_ITEMS_CHANGED",
	[18] = "SUBSCRIPTION_CANCELLATION_SCHEDULED",
	[19] = "SUBSCRIPTION_PRICE_CHANGE_UPDATED",
	[20] = "SUBSCRIPTION_PENDING_PURCHASE_CANCELED",
	[22] = "SUBSCRIPTION_PRICE_STEP_UP_CONSENT_UPDATED",
};

#define SUB_REVOKED_CODE 12

/* The notification's name ("SUBSCRIPTION_RENEWED"; a code not listed as its number). */
static void
note_name(struct gmap *x, char *out, size_t size)
{
	const struct google_note *n = &x->note;
	const size_t ncodes = sizeof(sub_codes) / sizeof(sub_codes[0]);

	switch (n->kind) {
	case GOOGLE_NOTE_SUB:
		if (n->code > 0 && (size_t)n->code < ncodes && sub_codes[n->code] != NULL)
			snprintf(out, size, "%s", sub_codes[n->code]);
		else
			snprintf(out, size, "SUBSCRIPTION_NOTIFICATION_%lld", (long long)n->code);
		break;
	case GOOGLE_NOTE_PRODUCT:
		if (n->code == 1 || n->code == 2)
			snprintf(out, size, "ONE_TIME_PRODUCT_%s",
			    n->code == 1 ? "PURCHASED" : "CANCELED");
		else
			snprintf(out, size, "ONE_TIME_PRODUCT_NOTIFICATION_%lld",
			    (long long)n->code);
		break;
	case GOOGLE_NOTE_VOIDED: snprintf(out, size, "VOIDED_PURCHASE"); break;
	case GOOGLE_NOTE_REFUND_REVIEW: snprintf(out, size, "PENDING_REFUND_REVIEW"); break;
	case GOOGLE_NOTE_TEST: snprintf(out, size, "TEST_NOTIFICATION"); break;
	default:
		snprintf(out, size, "FETCHED_%s",
		    x->call == GOOGLE_CALL_PRODUCT ? "PRODUCT" : "SUBSCRIPTION");
		break;
	}
}

/* The event's type: the notification's name, "/" and what the purchase said. */
static void
set_type(struct gmap *x, const char *said)
{
	char name[64];

	note_name(x, name, sizeof(name));
	snprintf(x->e->type, sizeof(x->e->type), "%.54s%s%.40s", name, said[0] != '\0' ? "/" : "",
	    said);
}

/* --- subscriptions --- */

struct subread {
	const cJSON *li; /* lineItems[0] */
	char product[ID_MAX];
	char state[64];
	char order[ID_MAX];
	int64_t start, expiry;
	int trial;
};

/* subscriptionState -> the subscription's state, grace and renewal (google_map.h). */
static int
sub_state(struct gmap *x, struct subread *s)
{
	struct bev *e = x->e;
	const char *st = s->state;
	const cJSON *arp = jr_obj(&x->r, s->li, "autoRenewingPlan");

	if (strncmp(st, "SUBSCRIPTION_STATE_", 19) == 0)
		st += 19;
	if (x->note.kind == GOOGLE_NOTE_SUB && x->note.code == SUB_REVOKED_CODE) {
		/* A refund or revocation before expiry: no access from now, whatever the API says. */
		e->sub.state = SUB_REVOKED;
	} else if (strcmp(st, "ACTIVE") == 0) {
		e->sub.state = s->trial ? SUB_TRIALING : SUB_ACTIVE;
		if (s->trial)
			e->sub.trial_end = s->expiry;
		if (arp != NULL)
			e->sub.cancel_at_period_end = !jr_bool(&x->r, arp, "autoRenewEnabled");
		else if (jget(s->li, "prepaidPlan") != NULL)
			e->sub.cancel_at_period_end = 1; /* a prepaid plan does not renew itself */
	} else if (strcmp(st, "IN_GRACE_PERIOD") == 0) {
		e->sub.state = SUB_PAST_DUE;
		e->sub.grace_until = s->expiry;
	} else if (strcmp(st, "ON_HOLD") == 0) {
		/* Account hold: no access while Google retries (Apple's billing retry alike). */
		e->sub.state = SUB_PAST_DUE;
		e->sub.grace_until = s->expiry > 0 && s->expiry < e->at ? s->expiry : e->at;
	} else if (strcmp(st, "PAUSED") == 0) {
		e->sub.state = SUB_PAUSED;
	} else if (strcmp(st, "CANCELED") == 0) {
		e->sub.state = SUB_CANCELED;
		e->sub.cancel_at_period_end = 1;
	} else if (strcmp(st, "EXPIRED") == 0 || strcmp(st, "PENDING_PURCHASE_CANCELED") == 0) {
		e->sub.state = SUB_EXPIRED;
	} else if (strcmp(st, "PENDING") == 0) {
		e->sub.state = SUB_INCOMPLETE;
	} else {
		char q[80];
		text_quote(q, sizeof(q), s->state, 48);
		refuse(x, "subscriptionState %s is not one tally knows: nothing applied", q);
		return 0;
	}
	return 1;
}

/* The latest paid order, in a state with access: a payment, granted once by its order id. */
static void
sub_pay(struct gmap *x, struct subread *s)
{
	struct bev *e = x->e;
	const cJSON *arp = jobj(s->li, "autoRenewingPlan"), *price;
	int paid_state = e->sub.state == SUB_ACTIVE || e->sub.state == SUB_TRIALING ||
	    e->sub.state == SUB_CANCELED ||
	    (e->sub.state == SUB_PAST_DUE && e->sub.grace_until > e->at);

	if (s->order[0] == '\0' || !paid_state)
		return;
	e->aspects |= BEV_PAY;
	e->pay.kind = renewal_order(s->order) ? PAY_RENEWAL : PAY_INITIAL;
	bev_key(&e->pay.keys, s->order);
	text_copy(e->pay.product, sizeof(e->pay.product), e->sub.product);
	e->pay.period_start = e->sub.period_start;
	e->pay.period_end = s->expiry;
	e->pay.trial = s->trial && e->pay.kind == PAY_INITIAL;
	e->pay.quantity = 1;
	if ((price = jr_obj(&x->r, arp, "recurringPrice")) != NULL) {
		int64_t amount = gmoney(x, price, e->pay.currency, sizeof(e->pay.currency));
		e->pay.amount = s->trial ? 0 : amount;
	}
}

/* Tasks owed Google after the grant (7.5): an unacknowledged purchase is refunded after 3 days. */
static void
sub_ack(struct gmap *x, struct subread *s)
{
	struct bev *e = x->e;
	const char *ack = jstr(x->purchase, "acknowledgementState");

	if (ack == NULL || strcmp(ack, "ACKNOWLEDGEMENT_STATE_PENDING") != 0 ||
	    !(e->aspects & BEV_PAY))
		return;
	e->aspects |= BEV_TASK;
	text_copy(e->task.kind, sizeof(e->task.kind), "google_ack_sub");
	text_copy(e->task.key, sizeof(e->task.key), x->token);
	/* The acknowledge call names the subscription id itself, not a catalog id. */
	text_copy(e->task.arg, sizeof(e->task.arg), s->product);
	e->task.deadline = (s->start != 0 ? s->start : x->fetched_at) + GOOGLE_ACK_DAYS * DAY_MS;
}

/* payment_failed for the user, once per failed renewal (the grace and the hold after it). */
static void
sub_notice(struct gmap *x, struct subread *s)
{
	struct bev *e = x->e;

	if (x->note.kind != GOOGLE_NOTE_SUB || (x->note.code != 5 && x->note.code != 6) ||
	    e->sub.state != SUB_PAST_DUE)
		return;
	if (text_key(e->notice_key, sizeof(e->notice_key), "google_payment_failed", x->token,
		s->order, NULL) != TERR_OK)
		e->notice_key[0] = '\0'; /* too long: once per event instead */
	e->aspects |= BEV_NOTICE;
	text_copy(e->notice, sizeof(e->notice), "payment_failed");
}

static void
map_sub(struct gmap *x)
{
	struct bev *e = x->e;
	const cJSON *p = x->purchase, *items, *ids;
	const char *base, *linked, *top;
	char account[ID_MAX];
	struct subread s;

	memset(&s, 0, sizeof(s));
	items = jarr(p, "lineItems");
	s.li = items != NULL ? items->child : NULL;
	if (!cJSON_IsObject(s.li)) {
		jr_bad(&x->r, "a subscription purchase without lineItems");
		return;
	}
	if (cJSON_GetArraySize(items) > 1)
		note(x, "%d line items: only the first is applied", cJSON_GetArraySize(items));
	jr_str(&x->r, s.li, "productId", s.product, sizeof(s.product));
	jr_str(&x->r, p, "subscriptionState", s.state, sizeof(s.state));
	s.expiry = gtime(x, s.li, "expiryTime");
	s.start = gtime(x, p, "startTime");
	s.trial = jobj(jobj(s.li, "offerPhase"), "freeTrial") != NULL;
	jr_str(&x->r, s.li, "latestSuccessfulOrderId", s.order, sizeof(s.order));
	top = jstr(p, "latestOrderId");
	if (s.order[0] == '\0' && top != NULL && text_id_valid(top, ID_MAX - 1))
		text_copy(s.order, sizeof(s.order), top);
	ids = jr_obj(&x->r, p, "externalAccountIdentifiers");
	jr_str(&x->r, ids, "obfuscatedExternalAccountId", account, sizeof(account));
	base = jstr(jobj(s.li, "offerDetails"), "basePlanId");
	if (x->r.bad)
		return;
	if (s.product[0] == '\0') {
		jr_bad(&x->r, "a subscription purchase without lineItems[0].productId");
		return;
	}
	e->aspects |= BEV_SUB;
	text_copy(e->sub.id, sizeof(e->sub.id), x->token);
	sub_product(x, s.product, base, e->sub.product, sizeof(e->sub.product));
	text_copy(e->sub.store, sizeof(e->sub.store), "PLAY_STORE");
	e->live = jget(p, "testPurchase") == NULL;
	if (!sub_state(x, &s) || x->r.bad)
		return;
	e->sub.period_end = s.expiry;
	if (s.order[0] != '\0' && !renewal_order(s.order))
		e->sub.period_start = s.start;
	if ((linked = jstr(p, "linkedPurchaseToken")) != NULL && strcmp(linked, x->token) != 0) {
		if (text_id_valid(linked, ID_MAX - 1))
			text_copy(e->sub.replaces, sizeof(e->sub.replaces), linked);
		else
			note(x, "linkedPurchaseToken is not an id tally keeps: nothing replaced");
	}
	who(x, account);
	if (!(x->note.kind == GOOGLE_NOTE_SUB && x->note.code == SUB_REVOKED_CODE))
		sub_pay(x, &s);
	sub_ack(x, &s);
	sub_notice(x, &s);
	e->rank = sub_state_rank(e->sub.state);
	set_type(x, s.state + (strncmp(s.state, "SUBSCRIPTION_STATE_", 19) == 0 ? 19 : 0));
}

/* SUBSCRIPTION_REVOKED without a purchase to read (404, 410): the token is enough to revoke. */
static void
map_revoked_unread(struct gmap *x)
{
	struct bev *e = x->e;

	e->aspects |= BEV_SUB;
	text_copy(e->sub.id, sizeof(e->sub.id), x->token);
	text_copy(e->sub.store, sizeof(e->sub.store), "PLAY_STORE");
	e->sub.state = SUB_REVOKED;
	e->rank = sub_state_rank(SUB_REVOKED);
	bev_link(e, GOOGLE_LINK_TOKEN, x->token);
	note(x, "Google Play answered %lld for the purchase: revoked by the notification alone",
	    (long long)x->status);
}

/* --- one-time products --- */

static const char *
purchase_state_name(int64_t st)
{
	return st == 0 ? "PURCHASED" : st == 1 ? "CANCELED" : "PENDING";
}

/* Consume a pack after the grant (it can be bought again), else acknowledge (7.5). */
static void
product_task(struct gmap *x, const char *product, int64_t bought)
{
	struct bev *e = x->e;
	const struct product *p = cfg_match(x->c, "google", product);
	int pack = p != NULL && p->kind == PRODUCT_PACK;
	const char *kind = NULL;

	if (pack && jr_int(&x->r, x->purchase, "consumptionState", 0, 1) == 0)
		kind = "google_consume";
	else if (jr_int(&x->r, x->purchase, "acknowledgementState", 0, 1) == 0 &&
	    jget(x->purchase, "acknowledgementState") != NULL)
		kind = "google_ack_product";
	if (kind == NULL)
		return;
	e->aspects |= BEV_TASK;
	text_copy(e->task.kind, sizeof(e->task.kind), kind);
	text_copy(e->task.key, sizeof(e->task.key), x->token);
	text_copy(e->task.arg, sizeof(e->task.arg), product);
	e->task.deadline = (bought != 0 ? bought : x->fetched_at) + GOOGLE_ACK_DAYS * DAY_MS;
}

static void
map_product(struct gmap *x)
{
	struct bev *e = x->e;
	const cJSON *p = x->purchase;
	char product[ID_MAX], order[ID_MAX], account[ID_MAX], tkey[ID_MAX];
	int64_t state, bought, type = -1;

	jr_str(&x->r, p, "productId", product, sizeof(product));
	if (product[0] == '\0')
		text_copy(product, sizeof(product), x->product);
	jr_str(&x->r, p, "orderId", order, sizeof(order));
	jr_str(&x->r, p, "obfuscatedExternalAccountId", account, sizeof(account));
	state = jr_int(&x->r, p, "purchaseState", 0, 2);
	bought = gmillis(x, p, "purchaseTimeMillis");
	if (jget(p, "purchaseType") != NULL)
		type = jr_int(&x->r, p, "purchaseType", 0, 1000);
	if (x->r.bad)
		return;
	if (product[0] == '\0') {
		jr_bad(&x->r, "a one-time purchase without productId");
		return;
	}
	/* purchaseType 0: a license tester's purchase (7.4), as testPurchase for subscriptions. */
	e->live = type != 0;
	set_type(x, purchase_state_name(state));
	who(x, account);
	if (state == 1) {
		note(x, "one-time purchase of %s canceled: nothing granted", product);
		return;
	}
	if (state == 2) {
		note(x, "one-time purchase of %s pending: nothing granted until it is paid",
		    product);
		return;
	}
	e->aspects |= BEV_PAY;
	e->pay.kind = PAY_ONE_OFF;
	/* A promo code's purchase may have no order id (7.5): the token keys it too. */
	bev_key(&e->pay.keys, order);
	if (text_key(tkey, sizeof(tkey), "token", x->token, NULL) == TERR_OK)
		bev_key(&e->pay.keys, tkey);
	if (e->pay.keys.n == 0) {
		refuse(x, "a one-time purchase without orderId whose token is too long to key on");
		return;
	}
	text_copy(e->pay.product, sizeof(e->pay.product), product);
	e->pay.quantity =
	    jget(p, "quantity") != NULL ? jr_int(&x->r, p, "quantity", 1, 1000000) : 1;
	e->pay.period_start = bought;
	product_task(x, product, bought);
}

/* --- voided purchases, refund reviews, tests --- */

static void
map_voided(struct gmap *x)
{
	struct bev *e = x->e;
	const struct google_note *n = &x->note;
	char tkey[ID_MAX];

	set_type(x, n->refund_type == 2 ? "PARTIAL" : "FULL");
	bev_key(&e->refund.keys, n->order);
	/* A one-time product's payment is keyed by its token too (map_product). */
	if (n->product_type == 2 &&
	    text_key(tkey, sizeof(tkey), "token", n->token, NULL) == TERR_OK)
		bev_key(&e->refund.keys, tkey);
	if (e->refund.keys.n == 0) {
		note(x, "voided purchase without orderId: no payment to find");
		return;
	}
	e->aspects |= BEV_REFUND;
	/* refundType 2: a quantity-based partial refund; the notification does not say how much. */
	e->refund.kind = n->refund_type == 2 ? REFUND_PARTIAL : REFUND_FULL;
}

/* --- the envelope --- */

static enum google_call
call_of(struct gmap *x, const char *name)
{
	if (strcmp(name, "subscriptionsv2") == 0)
		return GOOGLE_CALL_SUB;
	if (strcmp(name, "products") == 0)
		return GOOGLE_CALL_PRODUCT;
	if (strcmp(name, "none") != 0)
		jr_bad(&x->r, "tally_google.call: expected subscriptionsv2, products or none");
	return GOOGLE_CALL_NONE;
}

/* The envelope's own fields; 0 when they cannot be read (x->r bad). */
static int
read_meta(struct gmap *x, const cJSON *root)
{
	struct bev *e = x->e;
	const cJSON *meta = jobj(root, "tally_google"), *n;
	char id[ID_MAX], call[24];
	int64_t v;

	v = jr_int(&x->r, meta, "v", 0, 1000);
	jr_str(&x->r, meta, "message_id", id, sizeof(id));
	x->fetched_at = jr_int(&x->r, meta, "fetched_at", 0, INT64_MAX / 2);
	jr_str(&x->r, meta, "call", call, sizeof(call));
	x->status = jr_int(&x->r, meta, "status", 0, 999);
	jr_str(&x->r, meta, "token", x->token, sizeof(x->token));
	jr_str(&x->r, meta, "product", x->product, sizeof(x->product));
	if (x->r.bad)
		return 0;
	if (id[0] != '\0' && text_id_valid(id, ID_MAX - 1))
		text_copy(e->id, sizeof(e->id), id);
	if (v != GOOGLE_ENVELOPE_V || id[0] == '\0' || x->fetched_at <= 0) {
		jr_bad(&x->r, "tally_google: expected v %d, message_id and fetched_at",
		    GOOGLE_ENVELOPE_V);
		return 0;
	}
	x->call = call_of(x, call);
	if ((n = jget(root, "notification")) != NULL) {
		google_note_read(n, x->c->google.package_name, &x->note, &x->r);
		if (x->note.token[0] != '\0')
			text_copy(x->token, sizeof(x->token), x->note.token);
	}
	x->purchase = jobj(root, "purchase");
	if (!x->r.bad && x->call != GOOGLE_CALL_NONE && x->token[0] == '\0')
		jr_bad(&x->r, "tally_google: a call without a token");
	return !x->r.bad;
}

/* A purchase read from the API: the truth as of fetched_at, mapped; or what Google answered. */
static void
map_fetched(struct gmap *x)
{
	char status[8];

	if (x->status == 200 && x->purchase != NULL) {
		if (x->call == GOOGLE_CALL_SUB)
			map_sub(x);
		else
			map_product(x);
		return;
	}
	snprintf(status, sizeof(status), "%lld", (long long)x->status);
	set_type(x, status);
	if (x->note.kind == GOOGLE_NOTE_SUB && x->note.code == SUB_REVOKED_CODE) {
		map_revoked_unread(x);
		return;
	}
	if (x->status == 410)
		note(x,
		    "Google Play no longer keeps this purchase (410: it expired more than 60 days "
		    "ago): nothing applied");
	else if (x->status == 404)
		refuse(x,
		    "Google Play has no purchase with this token for package %s (404): nothing "
		    "applied",
		    x->c->google.package_name);
	else
		refuse(x, "Google Play answered %lld for the purchase: nothing applied",
		    (long long)x->status);
}

void
google_map_envelope(const struct cfg *c, const cJSON *root, struct bev *e)
{
	struct gmap x;
	char when[TM_ISO_SIZE];

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.e = e;
	jr_init(&x.r, x.why, sizeof(x.why));
	e->live = 1;
	if (!read_meta(&x, root))
		goto out;
	e->at = x.fetched_at;
	switch (x.note.kind) {
	case GOOGLE_NOTE_VOIDED:
		e->at = x.note.event_ms > 0 ? x.note.event_ms : x.fetched_at;
		map_voided(&x);
		break;
	case GOOGLE_NOTE_REFUND_REVIEW:
		e->at = x.note.event_ms > 0 ? x.note.event_ms : x.fetched_at;
		set_type(&x, "");
		note(&x, "pending refund review%s%s: stored, nothing applied",
		    x.note.order[0] != '\0' ? " of order " : "", x.note.order);
		break;
	case GOOGLE_NOTE_TEST:
		e->at = x.note.event_ms > 0 ? x.note.event_ms : x.fetched_at;
		set_type(&x, "");
		note(&x, "test notification: stored");
		break;
	default:
		if (x.call == GOOGLE_CALL_NONE)
			jr_bad(&x.r, "tally_google: a purchase notification without its call");
		else
			map_fetched(&x);
		break;
	}
	if (x.note.event_ms > 0 && !x.r.bad) {
		tm_iso(x.note.event_ms, when);
		note(&x, "notified %s", when);
	}
out:
	if (x.r.bad) {
		refuse(&x, "%s", x.why);
		e->aspects = 0;
	}
	if (e->type[0] == '\0')
		snprintf(e->type, sizeof(e->type), "UNREADABLE");
}
