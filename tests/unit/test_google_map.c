/*
 * lib/providers/google: a Pub/Sub push read (google_push.c), tally's
 * envelope written and mapped to a billing event (google_map.c, through
 * the row's parser google_parse), every notification code and purchase
 * state, Google's times and money, and the account id an app sets
 * (google.c). Fixtures in Google's field names (android-publisher api-ref
 * v3; rtdn-reference).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "cfg/cfg.h"
#include "providers/google/google.h"
#include "providers/google/google_map.h"
#include "providers/google/google_push.h"
#include "t.h"

#define PKG      "com.example.tally"
#define TOKEN    "tok_1.AO-J1Oabc"
#define T0       1700000000000LL /* 2023-11-14T22:13:20Z: startTime */
#define T0_ISO   "2023-11-14T22:13:20.000Z"
#define EXP      (T0 + 30LL * 86400 * 1000)
#define EXP_ISO  "2023-12-14T22:13:20.000Z"
#define FETCHED  (T0 + 1000)
#define NOTIFIED 1700000000500LL
#define DAY      (86400LL * 1000)

static const char catalog[] =
    "{\"google\":{\"package_name\":\"" PKG "\",\"push_audience\":\"https://b.example/g\","
    "\"push_service_account\":\"push@p.iam.gserviceaccount.com\"},"
    "\"products\":{"
    "\"pro_monthly\":{\"kind\":\"subscription\",\"entitlements\":[\"pro\"],\"credits\":1000,"
    "\"match\":{\"google\":[\"pro_monthly\"]}},"
    "\"pro_yearly\":{\"kind\":\"subscription\",\"entitlements\":[\"pro\"],\"credits\":12000,"
    "\"match\":{\"google\":[\"pro:yearly\"]}},"
    "\"credits_500\":{\"kind\":\"pack\",\"credits\":500,\"match\":{\"google\":[\"credits_500\"]}},"
    "\"lifetime\":{\"kind\":\"subscription\",\"entitlements\":[\"pro\"],"
    "\"match\":{\"google\":[\"lifetime\"]}}}}";

static struct cfg cfg;
static struct bev ev;
static char body[256 * 1024];
static size_t body_n;
static char why[512];

/* --- fixtures --- */

static void
sub_note(char *out, size_t size, int code)
{
	snprintf(out, size,
	    "{\"version\":\"1.0\",\"packageName\":\"" PKG "\",\"eventTimeMillis\":\"%lld\","
	    "\"subscriptionNotification\":{\"version\":\"1.0\",\"notificationType\":%d,"
	    "\"purchaseToken\":\"" TOKEN "\"}}",
	    (long long)NOTIFIED, code);
}

/*
 * A SubscriptionPurchaseV2: state ("ACTIVE"), expiry, order ("" none), ack
 * ("ACKNOWLEDGED", "PENDING"), the offer phase ("basePrice", "freeTrial"),
 * extra top-level members (", ...").
 */
static void
sub_doc(char *out, size_t size, const char *state, const char *expiry, const char *order,
    const char *ack, const char *phase, const char *extra)
{
	char ord[128] = "", top[128] = "";

	if (order[0] != '\0') {
		snprintf(ord, sizeof(ord), ",\"latestSuccessfulOrderId\":\"%s\"", order);
		snprintf(top, sizeof(top), ",\"latestOrderId\":\"%s\"", order);
	}
	snprintf(out, size,
	    "{\"kind\":\"androidpublisher#subscriptionPurchaseV2\",\"regionCode\":\"US\","
	    "\"startTime\":\"" T0_ISO "\",\"subscriptionState\":\"SUBSCRIPTION_STATE_%s\"%s,"
	    "\"acknowledgementState\":\"ACKNOWLEDGEMENT_STATE_%s\","
	    "\"externalAccountIdentifiers\":{\"obfuscatedExternalAccountId\":\"alice\"},"
	    "\"lineItems\":[{\"productId\":\"pro_monthly\",\"expiryTime\":\"%s\","
	    "\"autoRenewingPlan\":{\"autoRenewEnabled\":true,\"recurringPrice\":"
	    "{\"currencyCode\":\"USD\",\"units\":\"9\",\"nanos\":990000000}},"
	    "\"offerDetails\":{\"basePlanId\":\"monthly\",\"offerTags\":[]},"
	    "\"offerPhase\":{\"%s\":{}}%s}]%s}",
	    state, top, ack, expiry, phase, ord, extra);
}

/* Replace the first from in doc[size] by to; 0 when from is not there or it does not fit. */
static int
subst(char *doc, size_t size, const char *from, const char *to)
{
	char *p = strstr(doc, from);
	size_t fl = strlen(from), tl = strlen(to), rest;

	if (p == NULL)
		return 0;
	rest = strlen(p + fl);
	if ((size_t)(p - doc) + tl + rest + 1 > size)
		return 0;
	memmove(p + tl, p + fl, rest + 1);
	memcpy(p, to, tl);
	return 1;
}

static void
active_doc(char *out, size_t size, const char *extra)
{
	sub_doc(out, size, "ACTIVE", EXP_ISO, "GPA.3312-5551-0001-00001", "ACKNOWLEDGED",
	    "basePrice", extra);
}

/* The envelope of (note, purchase) under call and status, parsed into ev. */
static enum terr
envelope(const char *note, const char *purchase, enum google_call call, int status)
{
	struct google_envelope v;
	struct buf b;
	enum terr rc;

	memset(&v, 0, sizeof(v));
	v.message_id = "1234567890";
	v.publish_time = "2023-11-14T22:13:20.600Z";
	v.subscription = "projects/p/subscriptions/play";
	v.fetched_at = FETCHED;
	v.call = call;
	v.status = status;
	v.token = TOKEN;
	v.product = call == GOOGLE_CALL_PRODUCT ? "credits_500" : NULL;
	v.notification = note;
	v.notification_n = note != NULL ? strlen(note) : 0;
	v.purchase = purchase;
	v.purchase_n = purchase != NULL ? strlen(purchase) : 0;
	buf_init_fixed(&b, body, sizeof(body));
	if ((rc = google_envelope_write(&v, &b)) != TERR_OK)
		return rc;
	body_n = b.len;
	return google_parse(&cfg, body, body_n, &ev, why, sizeof(why));
}

static enum terr
sub_event(int code, const char *purchase)
{
	char note[512];

	sub_note(note, sizeof(note), code);
	return envelope(note, purchase, GOOGLE_CALL_SUB, 200);
}

static int
has_link(const char *kind, const char *id)
{
	size_t i;

	for (i = 0; i < ev.nlinks; i++)
		if (strcmp(ev.links[i].kind, kind) == 0 && strcmp(ev.links[i].id, id) == 0)
			return 1;
	return 0;
}

/* --- subscriptions --- */

TEST(google_sub_purchased_active_is_an_initial_payment)
{
	char doc[4096];

	active_doc(doc, sizeof(doc), "");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK_STR(ev.refusal, "");
	CHECK_STR(ev.provider, "google");
	CHECK_STR(ev.match_provider, "google");
	CHECK_STR(ev.id, "1234567890");
	CHECK_STR(ev.type, "SUBSCRIPTION_PURCHASED/ACTIVE");
	CHECK_EQ(ev.at, FETCHED);
	CHECK_EQ(ev.live, 1);
	CHECK_EQ(ev.aspects, BEV_SUB | BEV_PAY);
	CHECK_STR(ev.sub.id, TOKEN);
	CHECK_STR(ev.sub.product, "pro_monthly");
	CHECK_STR(ev.sub.store, "PLAY_STORE");
	CHECK_EQ(ev.sub.state, SUB_ACTIVE);
	CHECK_EQ(ev.sub.cancel_at_period_end, 0);
	CHECK_EQ(ev.sub.period_start, T0);
	CHECK_EQ(ev.sub.period_end, EXP);
	CHECK_STR(ev.sub.replaces, "");
	CHECK_EQ(ev.rank, sub_state_rank(SUB_ACTIVE));
	CHECK_EQ(ev.pay.kind, PAY_INITIAL);
	CHECK_EQ(ev.pay.keys.n, 1);
	CHECK_STR(ev.pay.keys.k[0], "GPA.3312-5551-0001-00001");
	CHECK_EQ(ev.pay.amount, 999);
	CHECK_STR(ev.pay.currency, "USD");
	CHECK_STR(ev.pay.product, "pro_monthly");
	CHECK_EQ(ev.pay.period_end, EXP);
	CHECK_EQ(ev.pay.trial, 0);
	/* google.identity user_id: the account id is the user, and a link; the token a link. */
	CHECK_STR(ev.user, "alice");
	CHECK_STR(ev.links[0].kind, GOOGLE_LINK_ACCOUNT);
	CHECK(has_link(GOOGLE_LINK_ACCOUNT, "alice"));
	CHECK(has_link(GOOGLE_LINK_TOKEN, TOKEN));
	CHECK(strstr(ev.note, "notified 2023-11-14T22:13:20.500Z") != NULL);
	/* The envelope is the raw body: a replay reads the same. */
	CHECK(ev.raw == body && ev.raw_len == body_n);
}

TEST(google_sub_unacknowledged_owes_an_acknowledgement)
{
	char doc[4096];

	sub_doc(doc, sizeof(doc), "ACTIVE", EXP_ISO, "GPA.1", "PENDING", "basePrice", "");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK((ev.aspects & BEV_TASK) != 0);
	CHECK_STR(ev.task.kind, "google_ack_sub");
	CHECK_STR(ev.task.key, TOKEN);
	CHECK_STR(ev.task.arg, "pro_monthly");
	CHECK_EQ(ev.task.deadline, T0 + 3 * DAY);
	/* Acknowledged: nothing owed. */
	active_doc(doc, sizeof(doc), "");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK((ev.aspects & BEV_TASK) == 0);
	/* Pending: never acknowledged while unpaid (7.5). */
	sub_doc(doc, sizeof(doc), "PENDING", EXP_ISO, "", "PENDING", "basePrice", "");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK((ev.aspects & BEV_TASK) == 0);
}

TEST(google_sub_free_trial_is_trialing_without_money)
{
	char doc[4096];

	sub_doc(doc, sizeof(doc), "ACTIVE", EXP_ISO, "GPA.2", "ACKNOWLEDGED", "freeTrial", "");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK_EQ(ev.sub.state, SUB_TRIALING);
	CHECK_EQ(ev.sub.trial_end, EXP);
	CHECK_EQ(ev.pay.kind, PAY_INITIAL);
	CHECK_EQ(ev.pay.trial, 1);
	CHECK_EQ(ev.pay.amount, 0);
}

TEST(google_sub_renewal_order_is_a_renewal)
{
	char doc[4096];

	sub_doc(doc, sizeof(doc), "ACTIVE", EXP_ISO, "GPA.3312-5551-0001-00001..3", "ACKNOWLEDGED",
	    "basePrice", "");
	CHECK_EQ(sub_event(2, doc), TERR_OK);
	CHECK_STR(ev.type, "SUBSCRIPTION_RENEWED/ACTIVE");
	CHECK_EQ(ev.pay.kind, PAY_RENEWAL);
	CHECK_STR(ev.pay.keys.k[0], "GPA.3312-5551-0001-00001..3");
	/* The first period's start is not this one's. */
	CHECK_EQ(ev.sub.period_start, 0);
	/* "..x" is not a renewal's suffix. */
	sub_doc(doc, sizeof(doc), "ACTIVE", EXP_ISO, "GPA.1..x", "ACKNOWLEDGED", "basePrice", "");
	CHECK_EQ(sub_event(2, doc), TERR_OK);
	CHECK_EQ(ev.pay.kind, PAY_INITIAL);
}

/* Every subscription code reads the purchase's state; 12 revokes whatever it says. */
TEST(google_sub_every_code_applies_the_fetched_state)
{
	static const struct {
		int code;
		const char *name;
	} codes[] = { { 1, "SUBSCRIPTION_RECOVERED" }, { 2, "SUBSCRIPTION_RENEWED" },
		{ 3, "SUBSCRIPTION_CANCELED" }, { 4, "SUBSCRIPTION_PURCHASED" },
		{ 5, "SUBSCRIPTION_ON_HOLD" }, { 6, "SUBSCRIPTION_IN_GRACE_PERIOD" },
		{ 7, "SUBSCRIPTION_RESTARTED" }, { 8, "SUBSCRIPTION_PRICE_CHANGE_CONFIRMED" },
		{ 9, "SUBSCRIPTION_DEFERRED" }, { 10, "SUBSCRIPTION_PAUSED" },
		{ 11, "SUBSCRIPTION_PAUSE_SCHEDULE_CHANGED" }, { 12, "SUBSCRIPTION_REVOKED" },
		{ 13, "SUBSCRIPTION_EXPIRED" }, { 17, "SUBSCRIPTION_ITEMS_CHANGED" },
		{ 18, "SUBSCRIPTION_CANCELLATION_SCHEDULED" },
		{ 19, "SUBSCRIPTION_PRICE_CHANGE_UPDATED" },
		{ 20, "SUBSCRIPTION_PENDING_PURCHASE_CANCELED" },
		{ 22, "SUBSCRIPTION_PRICE_STEP_UP_CONSENT_UPDATED" },
		{ 21, "SUBSCRIPTION_NOTIFICATION_21" } };
	char doc[4096], type[128];
	size_t i;

	active_doc(doc, sizeof(doc), "");
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		CHECK_EQ(sub_event(codes[i].code, doc), TERR_OK);
		CHECK_STR(ev.refusal, "");
		snprintf(type, sizeof(type), "%s/ACTIVE", codes[i].name);
		CHECK_STR(ev.type, type);
		CHECK((ev.aspects & BEV_SUB) != 0);
		CHECK_STR(ev.sub.id, TOKEN);
		if (codes[i].code == 12) {
			CHECK_EQ(ev.sub.state, SUB_REVOKED);
			CHECK((ev.aspects & BEV_PAY) == 0);
		} else {
			CHECK_EQ(ev.sub.state, SUB_ACTIVE);
			CHECK((ev.aspects & BEV_PAY) != 0);
		}
	}
}

TEST(google_sub_states_map_to_tallys)
{
	char doc[4096];

	/* Grace: access until expiryTime, the last order still paid. */
	sub_doc(doc, sizeof(doc), "IN_GRACE_PERIOD", EXP_ISO, "GPA.4", "ACKNOWLEDGED", "basePrice",
	    "");
	CHECK_EQ(sub_event(6, doc), TERR_OK);
	CHECK_EQ(ev.sub.state, SUB_PAST_DUE);
	CHECK_EQ(ev.sub.grace_until, EXP);
	CHECK((ev.aspects & BEV_PAY) != 0);
	CHECK((ev.aspects & BEV_NOTICE) != 0);
	CHECK_STR(ev.notice, "payment_failed");
	CHECK_STR(ev.notice_key, "google_payment_failed:" TOKEN ":GPA.4");
	/* Hold: no access (grace over by expiryTime, at the latest now), the same notice key. */
	sub_doc(doc, sizeof(doc), "ON_HOLD", "2023-11-14T00:00:00Z", "GPA.4", "ACKNOWLEDGED",
	    "basePrice", "");
	CHECK_EQ(sub_event(5, doc), TERR_OK);
	CHECK_EQ(ev.sub.state, SUB_PAST_DUE);
	CHECK(ev.sub.grace_until > 0 && ev.sub.grace_until <= FETCHED);
	CHECK((ev.aspects & BEV_PAY) == 0);
	CHECK_STR(ev.notice_key, "google_payment_failed:" TOKEN ":GPA.4");
	sub_doc(doc, sizeof(doc), "ON_HOLD", EXP_ISO, "GPA.4", "ACKNOWLEDGED", "basePrice", "");
	CHECK_EQ(sub_event(5, doc), TERR_OK);
	CHECK_EQ(ev.sub.grace_until, FETCHED);
	/* Another code in that state notifies nothing. */
	CHECK_EQ(sub_event(1, doc), TERR_OK);
	CHECK((ev.aspects & BEV_NOTICE) == 0);
	sub_doc(doc, sizeof(doc), "PAUSED", EXP_ISO, "GPA.4", "ACKNOWLEDGED", "basePrice", "");
	CHECK_EQ(sub_event(10, doc), TERR_OK);
	CHECK_EQ(ev.sub.state, SUB_PAUSED);
	CHECK((ev.aspects & BEV_PAY) == 0);
	sub_doc(doc, sizeof(doc), "CANCELED", EXP_ISO, "GPA.4", "ACKNOWLEDGED", "basePrice", "");
	CHECK_EQ(sub_event(3, doc), TERR_OK);
	CHECK_EQ(ev.sub.state, SUB_CANCELED);
	CHECK_EQ(ev.sub.cancel_at_period_end, 1);
	CHECK_EQ(ev.sub.period_end, EXP);
	CHECK((ev.aspects & BEV_PAY) != 0);
	sub_doc(doc, sizeof(doc), "EXPIRED", EXP_ISO, "GPA.4", "ACKNOWLEDGED", "basePrice", "");
	CHECK_EQ(sub_event(13, doc), TERR_OK);
	CHECK_EQ(ev.sub.state, SUB_EXPIRED);
	CHECK((ev.aspects & BEV_PAY) == 0);
	sub_doc(doc, sizeof(doc), "PENDING", EXP_ISO, "", "PENDING", "basePrice", "");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK_EQ(ev.sub.state, SUB_INCOMPLETE);
	CHECK(ev.aspects == BEV_SUB);
	sub_doc(doc, sizeof(doc), "PENDING_PURCHASE_CANCELED", EXP_ISO, "", "PENDING", "basePrice",
	    "");
	CHECK_EQ(sub_event(20, doc), TERR_OK);
	CHECK_EQ(ev.sub.state, SUB_EXPIRED);
	CHECK(ev.aspects == BEV_SUB);
	/* Auto-renew off while active: canceled at the period's end. */
	active_doc(doc, sizeof(doc), "");
	CHECK(subst(doc, sizeof(doc), "\"autoRenewEnabled\":true", "\"autoRenewEnabled\":false"));
	CHECK_EQ(sub_event(3, doc), TERR_OK);
	CHECK_EQ(ev.sub.state, SUB_ACTIVE);
	CHECK_EQ(ev.sub.cancel_at_period_end, 1);
}

TEST(google_sub_unknown_state_is_refused_not_guessed)
{
	char doc[4096];

	sub_doc(doc, sizeof(doc), "FROZEN", EXP_ISO, "GPA.5", "ACKNOWLEDGED", "basePrice", "");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK(strstr(ev.refusal, "SUBSCRIPTION_STATE_FROZEN") != NULL);
	CHECK_STR(ev.id, "1234567890");
}

TEST(google_sub_test_purchase_is_not_live)
{
	char doc[4096];

	active_doc(doc, sizeof(doc), ",\"testPurchase\":{}");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK_EQ(ev.live, 0);
	CHECK_EQ(ev.sub.state, SUB_ACTIVE);
}

TEST(google_sub_linked_token_replaces)
{
	char doc[4096];

	active_doc(doc, sizeof(doc), ",\"linkedPurchaseToken\":\"tok_0.old\"");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK_STR(ev.sub.replaces, "tok_0.old");
	/* Naming itself replaces nothing. */
	active_doc(doc, sizeof(doc), ",\"linkedPurchaseToken\":\"" TOKEN "\"");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK_STR(ev.sub.replaces, "");
}

TEST(google_sub_base_plan_id_when_the_catalog_lists_it)
{
	char doc[4096];

	/* "pro:yearly" is in the catalog; "pro" alone is not. */
	sub_doc(doc, sizeof(doc), "ACTIVE", EXP_ISO, "GPA.6", "PENDING", "basePrice", "");
	CHECK(subst(doc, sizeof(doc), "\"pro_monthly\"", "\"pro\""));
	CHECK(subst(doc, sizeof(doc), "\"monthly\"", "\"yearly\""));
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK_STR(ev.sub.product, "pro:yearly");
	CHECK_STR(ev.pay.product, "pro:yearly");
	/* The acknowledgement names Google's own id. */
	CHECK_STR(ev.task.arg, "pro");
	/* A base plan the catalog does not list whole: the product id alone. */
	CHECK(subst(doc, sizeof(doc), "\"yearly\"", "\"weekly\""));
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK_STR(ev.sub.product, "pro");
}

TEST(google_sub_hmac_identity_links_the_account_only)
{
	char doc[4096];

	cfg.google.identity = GOOGLE_IDENTITY_HMAC;
	active_doc(doc, sizeof(doc), "");
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	cfg.google.identity = GOOGLE_IDENTITY_USER_ID;
	CHECK_STR(ev.user, "");
	CHECK(has_link(GOOGLE_LINK_ACCOUNT, "alice"));
	CHECK(has_link(GOOGLE_LINK_TOKEN, TOKEN));
}

TEST(google_sub_without_line_items_is_refused)
{
	CHECK_EQ(sub_event(4, "{\"subscriptionState\":\"SUBSCRIPTION_STATE_ACTIVE\"}"), TERR_OK);
	CHECK(strstr(ev.refusal, "lineItems") != NULL);
	CHECK_EQ(ev.aspects, 0);
	CHECK_EQ(sub_event(4, "{\"subscriptionState\":7,\"lineItems\":[{\"productId\":\"x\"}]}"),
	    TERR_OK);
	CHECK(strstr(ev.refusal, "subscriptionState") != NULL);
}

TEST(google_sub_price_past_what_tally_records_is_refused)
{
	char doc[4096];

	active_doc(doc, sizeof(doc), "");
	CHECK(subst(doc, sizeof(doc), "\"units\":\"9\"", "\"units\":\"90000000000000\""));
	CHECK_EQ(sub_event(4, doc), TERR_OK);
	CHECK(strstr(ev.refusal, "past what tally records") != NULL);
}

TEST(google_revoked_without_a_purchase_to_read_still_revokes)
{
	char note[512];

	sub_note(note, sizeof(note), 12);
	CHECK_EQ(envelope(note, NULL, GOOGLE_CALL_SUB, 410), TERR_OK);
	CHECK_STR(ev.refusal, "");
	CHECK_EQ(ev.aspects, BEV_SUB);
	CHECK_EQ(ev.sub.state, SUB_REVOKED);
	CHECK_STR(ev.sub.id, TOKEN);
	CHECK(has_link(GOOGLE_LINK_TOKEN, TOKEN));
	CHECK_STR(ev.type, "SUBSCRIPTION_REVOKED/410");
}

TEST(google_api_404_fails_and_410_is_ignored)
{
	char note[512];

	sub_note(note, sizeof(note), 2);
	CHECK_EQ(envelope(note, NULL, GOOGLE_CALL_SUB, 404), TERR_OK);
	CHECK(strstr(ev.refusal, "(404)") != NULL);
	CHECK_EQ(ev.aspects, 0);
	CHECK_EQ(envelope(note, NULL, GOOGLE_CALL_SUB, 410), TERR_OK);
	CHECK_STR(ev.refusal, "");
	CHECK_EQ(ev.aspects, 0);
	CHECK(strstr(ev.note, "410") != NULL);
	CHECK_EQ(envelope(note, NULL, GOOGLE_CALL_SUB, 400), TERR_OK);
	CHECK(strstr(ev.refusal, "400") != NULL);
}

/* --- one-time products --- */

static void
product_note(char *out, size_t size, int code)
{
	snprintf(out, size,
	    "{\"version\":\"1.0\",\"packageName\":\"" PKG "\",\"eventTimeMillis\":%lld,"
	    "\"oneTimeProductNotification\":{\"version\":\"1.0\",\"notificationType\":%d,"
	    "\"purchaseToken\":\"" TOKEN "\",\"sku\":\"credits_500\"}}",
	    (long long)NOTIFIED, code);
}

static enum terr
product_event(int code, const char *product, int state, const char *extra)
{
	char note[512], doc[2048];

	product_note(note, sizeof(note), code);
	snprintf(doc, sizeof(doc),
	    "{\"kind\":\"androidpublisher#productPurchase\",\"purchaseTimeMillis\":\"%lld\","
	    "\"purchaseState\":%d,\"consumptionState\":0,\"developerPayload\":\"\","
	    "\"acknowledgementState\":0,\"productId\":\"%s\","
	    "\"obfuscatedExternalAccountId\":\"bob\",\"regionCode\":\"US\"%s}",
	    (long long)T0, state, product, extra);
	return envelope(note, doc, GOOGLE_CALL_PRODUCT, 200);
}

TEST(google_product_purchased_pack_is_consumed)
{
	CHECK_EQ(product_event(1, "credits_500", 0, ",\"orderId\":\"GPA.7\",\"quantity\":3"),
	    TERR_OK);
	CHECK_STR(ev.refusal, "");
	CHECK_STR(ev.type, "ONE_TIME_PRODUCT_PURCHASED/PURCHASED");
	CHECK_EQ(ev.at, FETCHED);
	CHECK_EQ(ev.aspects, BEV_PAY | BEV_TASK);
	CHECK_EQ(ev.pay.kind, PAY_ONE_OFF);
	CHECK_EQ(ev.pay.keys.n, 2);
	CHECK_STR(ev.pay.keys.k[0], "GPA.7");
	CHECK_STR(ev.pay.keys.k[1], "token:" TOKEN);
	CHECK_STR(ev.pay.product, "credits_500");
	CHECK_EQ(ev.pay.quantity, 3);
	CHECK_STR(ev.user, "bob");
	CHECK(has_link(GOOGLE_LINK_TOKEN, TOKEN));
	CHECK_STR(ev.task.kind, "google_consume");
	CHECK_STR(ev.task.key, TOKEN);
	CHECK_STR(ev.task.arg, "credits_500");
	CHECK_EQ(ev.task.deadline, T0 + 3 * DAY);
	CHECK_EQ(ev.live, 1);
}

TEST(google_product_not_a_pack_is_acknowledged)
{
	CHECK_EQ(product_event(1, "lifetime", 0, ",\"orderId\":\"GPA.8\""), TERR_OK);
	CHECK_STR(ev.task.kind, "google_ack_product");
	CHECK_STR(ev.task.arg, "lifetime");
	/* Without an order id (a promo code): the token alone keys it. */
	CHECK_EQ(product_event(1, "credits_500", 0, ""), TERR_OK);
	CHECK_EQ(ev.pay.keys.n, 1);
	CHECK_STR(ev.pay.keys.k[0], "token:" TOKEN);
}

TEST(google_product_canceled_pending_and_test)
{
	CHECK_EQ(product_event(2, "credits_500", 1, ",\"orderId\":\"GPA.9\""), TERR_OK);
	CHECK_STR(ev.type, "ONE_TIME_PRODUCT_CANCELED/CANCELED");
	CHECK_EQ(ev.aspects, 0);
	CHECK(strstr(ev.note, "canceled") != NULL);
	CHECK_EQ(product_event(1, "credits_500", 2, ",\"orderId\":\"GPA.9\""), TERR_OK);
	CHECK_EQ(ev.aspects, 0);
	CHECK(strstr(ev.note, "pending") != NULL);
	CHECK_EQ(product_event(1, "credits_500", 0, ",\"orderId\":\"GPA.9\",\"purchaseType\":0"),
	    TERR_OK);
	CHECK_EQ(ev.live, 0);
	CHECK_EQ(product_event(1, "credits_500", 0, ",\"orderId\":\"GPA.9\",\"purchaseType\":1"),
	    TERR_OK);
	CHECK_EQ(ev.live, 1);
	CHECK_EQ(product_event(1, "credits_500", 5, ""), TERR_OK);
	CHECK(strstr(ev.refusal, "purchaseState") != NULL);
}

/* --- voided, refund review, test --- */

static enum terr
note_event(const char *member)
{
	char note[1024];

	snprintf(note, sizeof(note),
	    "{\"version\":\"1.0\",\"packageName\":\"" PKG "\",\"eventTimeMillis\":\"%lld\",%s}",
	    (long long)NOTIFIED, member);
	return envelope(note, NULL, GOOGLE_CALL_NONE, 0);
}

TEST(google_voided_full_and_partial)
{
	CHECK_EQ(note_event("\"voidedPurchaseNotification\":{\"purchaseToken\":\"" TOKEN
			    "\",\"orderId\":\"GPA.4..1\",\"productType\":1,\"refundType\":1}"),
	    TERR_OK);
	CHECK_STR(ev.refusal, "");
	CHECK_STR(ev.type, "VOIDED_PURCHASE/FULL");
	CHECK_EQ(ev.at, NOTIFIED);
	CHECK_EQ(ev.aspects, BEV_REFUND);
	CHECK_EQ(ev.refund.kind, REFUND_FULL);
	CHECK_EQ(ev.refund.keys.n, 1);
	CHECK_STR(ev.refund.keys.k[0], "GPA.4..1");
	CHECK_EQ(note_event("\"voidedPurchaseNotification\":{\"purchaseToken\":\"" TOKEN
			    "\",\"orderId\":\"GPA.7\",\"productType\":2,\"refundType\":2}"),
	    TERR_OK);
	CHECK_STR(ev.type, "VOIDED_PURCHASE/PARTIAL");
	CHECK_EQ(ev.refund.kind, REFUND_PARTIAL);
	CHECK_EQ(ev.refund.keys.n, 2);
	CHECK_STR(ev.refund.keys.k[1], "token:" TOKEN);
}

TEST(google_refund_review_and_test_are_stored_only)
{
	CHECK_EQ(note_event("\"pendingRefundReviewNotification\":{\"pendingRefundToken\":\"r1\","
			    "\"orderId\":\"GPA.7\",\"refundReason\":1}"),
	    TERR_OK);
	CHECK_STR(ev.refusal, "");
	CHECK_STR(ev.type, "PENDING_REFUND_REVIEW");
	CHECK_EQ(ev.aspects, 0);
	CHECK(strstr(ev.note, "pending refund review of order GPA.7") != NULL);
	CHECK_EQ(ev.at, NOTIFIED);
	CHECK_EQ(note_event("\"testNotification\":{\"version\":\"1.0\"}"), TERR_OK);
	CHECK_STR(ev.type, "TEST_NOTIFICATION");
	CHECK_EQ(ev.aspects, 0);
	CHECK_EQ(ev.live, 1);
	CHECK(strstr(ev.note, "test notification") != NULL);
}

TEST(google_notification_refusals)
{
	/* Another package, two members, none, a token tally cannot key on. */
	CHECK_EQ(envelope("{\"packageName\":\"com.other\",\"testNotification\":{}}", NULL,
		     GOOGLE_CALL_NONE, 0),
	    TERR_OK);
	CHECK(strstr(ev.refusal, "package") != NULL);
	CHECK_EQ(note_event("\"testNotification\":{},\"voidedPurchaseNotification\":{}"), TERR_OK);
	CHECK(strstr(ev.refusal, "both") != NULL);
	CHECK_EQ(note_event("\"newKindOfNotification\":{}"), TERR_OK);
	CHECK(strstr(ev.refusal, "no notification tally knows") != NULL);
	{
		char member[600], tok[300];
		memset(tok, 'a', 260);
		tok[260] = '\0';
		snprintf(member, sizeof(member),
		    "\"subscriptionNotification\":{\"notificationType\":4,\"purchaseToken\":\"%"
		    "s\"}",
		    tok);
		CHECK_EQ(note_event(member), TERR_OK);
		CHECK(strstr(ev.refusal, "purchaseToken") != NULL);
	}
	CHECK_EQ(note_event("\"subscriptionNotification\":{\"notificationType\":\"4\","
			    "\"purchaseToken\":\"t\"}"),
	    TERR_OK);
	CHECK(strstr(ev.refusal, "notificationType") != NULL);
	/* eventTimeMillis as a number is read too; as text that is no number it is refused. */
	CHECK_EQ(envelope("{\"packageName\":\"" PKG "\",\"eventTimeMillis\":12,"
			  "\"testNotification\":{}}",
		     NULL, GOOGLE_CALL_NONE, 0),
	    TERR_OK);
	CHECK_EQ(ev.at, 12);
	CHECK_EQ(envelope("{\"packageName\":\"" PKG "\",\"eventTimeMillis\":\"12x\","
			  "\"testNotification\":{}}",
		     NULL, GOOGLE_CALL_NONE, 0),
	    TERR_OK);
	CHECK(strstr(ev.refusal, "eventTimeMillis") != NULL);
}

TEST(google_purchase_fetched_without_a_notification)
{
	char doc[4096];

	active_doc(doc, sizeof(doc), "");
	CHECK_EQ(envelope(NULL, doc, GOOGLE_CALL_SUB, 200), TERR_OK);
	CHECK_STR(ev.refusal, "");
	CHECK_STR(ev.type, "FETCHED_SUBSCRIPTION/ACTIVE");
	CHECK_EQ(ev.sub.state, SUB_ACTIVE);
	CHECK_EQ(ev.at, FETCHED);
	CHECK(strstr(ev.note, "notified") == NULL);
	/* A notification without its call cannot be mapped. */
	{
		char note[512];
		sub_note(note, sizeof(note), 4);
		CHECK_EQ(envelope(note, doc, GOOGLE_CALL_NONE, 0), TERR_OK);
		CHECK(ev.refusal[0] != '\0');
	}
}

/* --- what is not an envelope --- */

TEST(google_parse_of_an_unreadable_push_fails_it_with_the_reason)
{
	static const char unwrapped[] =
	    "{\"version\":\"1.0\",\"packageName\":\"" PKG "\",\"testNotification\":{}}";
	static const char badb64[] = "{\"message\":{\"data\":\"!!!\",\"messageId\":\"77\"},"
				     "\"subscription\":\"s\"}";
	char h[8];

	CHECK_EQ(google_parse(&cfg, badb64, strlen(badb64), &ev, why, sizeof(why)), TERR_OK);
	CHECK_STR(ev.id, "77");
	CHECK_STR(ev.provider, "google");
	CHECK_STR(ev.type, "UNREADABLE");
	CHECK(strstr(ev.refusal, "base64") != NULL);
	CHECK_EQ(ev.aspects, 0);
	CHECK_EQ(google_parse(&cfg, unwrapped, strlen(unwrapped), &ev, why, sizeof(why)), TERR_OK);
	CHECK(strncmp(ev.id, "push:", 5) == 0 && strlen(ev.id) == 37);
	CHECK(strstr(ev.refusal, "wrapped") != NULL);
	text_copy(h, sizeof(h), ev.id + 5);
	/* The same id every time (a redelivery is a duplicate), another for other bytes. */
	CHECK_EQ(google_parse(&cfg, unwrapped, strlen(unwrapped) - 1, &ev, why, sizeof(why)),
	    TERR_OK);
	CHECK(strncmp(ev.id + 5, h, 7) != 0);
	CHECK_EQ(google_parse(&cfg, "\xff", 1, &ev, why, sizeof(why)), TERR_OK);
	CHECK(ev.refusal[0] != '\0');
	/* What the webhook keeps of a body shaped like an envelope is not read as one. */
	{
		static const char env[] = "{\"tally_google\":{\"v\":1}}";
		struct buf b;
		buf_init_fixed(&b, body, sizeof(body));
		CHECK_EQ(google_forged_write(env, strlen(env), &b), TERR_OK);
		CHECK_EQ(google_parse(&cfg, b.p, b.len, &ev, why, sizeof(why)), TERR_OK);
		CHECK(strstr(ev.refusal, "shaped like tally's own envelope") != NULL);
		CHECK(strstr(b.p, "eyJ0YWxseV9nb29nbGUiOnsidiI6MX19") != NULL);
	}
	/* A body holding both a message and tally_google is a push, not an envelope. */
	CHECK_EQ(google_parse(&cfg, "{\"message\":{},\"tally_google\":{}}", 32, &ev, why,
		     sizeof(why)),
	    TERR_OK);
	CHECK(ev.refusal[0] != '\0');
	CHECK_EQ(ev.aspects, 0);
}

TEST(google_envelope_of_another_version_is_refused)
{
	static const char env[] =
	    "{\"tally_google\":{\"v\":2,\"message_id\":\"m\",\"fetched_at\":1,"
	    "\"call\":\"none\",\"status\":0},\"notification\":null,"
	    "\"purchase\":null}";

	CHECK_EQ(google_parse(&cfg, env, strlen(env), &ev, why, sizeof(why)), TERR_OK);
	CHECK_STR(ev.id, "m");
	CHECK(strstr(ev.refusal, "expected v 1") != NULL);
}

/* --- the push --- */

static void
push_body(char *out, size_t size, const char *note, const char *mid_key)
{
	char b64[2048];

	text_b64enc((const unsigned char *)note, strlen(note), 0, b64, sizeof(b64));
	snprintf(out, size,
	    "{\"message\":{\"attributes\":{},\"data\":\"%s\",\"%s\":\"9001\","
	    "\"publishTime\":\"2023-11-14T22:13:20.600123Z\"},"
	    "\"subscription\":\"projects/p/subscriptions/play\"}",
	    b64, mid_key);
}

TEST(google_push_read_takes_the_wrapped_format)
{
	struct google_push p;
	char note[512], push[4096], id[ID_MAX];

	sub_note(note, sizeof(note), 4);
	push_body(push, sizeof(push), note, "messageId");
	CHECK_EQ(google_push_read(&cfg.google, push, strlen(push), &p, why, sizeof(why)), TERR_OK);
	CHECK_STR(p.message_id, "9001");
	CHECK_STR(p.publish_time, "2023-11-14T22:13:20.600123Z");
	CHECK_STR(p.subscription, "projects/p/subscriptions/play");
	CHECK_EQ(p.note.kind, GOOGLE_NOTE_SUB);
	CHECK_EQ(p.note.code, 4);
	CHECK_EQ(p.note.event_ms, NOTIFIED);
	CHECK_STR(p.note.token, TOKEN);
	CHECK_EQ(google_note_call(&p.note), GOOGLE_CALL_SUB);
	CHECK(p.data.len == strlen(note) && memcmp(p.data.p, note, p.data.len) == 0);
	google_push_release(&p);
	google_push_event_id(push, strlen(push), id, sizeof(id));
	CHECK_STR(id, "9001");
	/* message_id, the older spelling, alone. */
	push_body(push, sizeof(push), note, "message_id");
	CHECK_EQ(google_push_read(&cfg.google, push, strlen(push), &p, why, sizeof(why)), TERR_OK);
	CHECK_STR(p.message_id, "9001");
	google_push_release(&p);
	/* Another package. */
	CHECK(strstr(note, PKG) != NULL);
	memcpy(strstr(note, PKG), "com.example.other", 17);
	push_body(push, sizeof(push), note, "messageId");
	CHECK_EQ(google_push_read(&cfg.google, push, strlen(push), &p, why, sizeof(why)),
	    TERR_INVAL);
	CHECK(strstr(why, "com.example.other") != NULL);
	google_push_release(&p);
	/* The bare notification (payload unwrapping on) is not the wrapped format. */
	CHECK_EQ(google_push_read(&cfg.google, note, strlen(note), &p, why, sizeof(why)),
	    TERR_INVAL);
	CHECK(strstr(why, "wrapped") != NULL);
	google_push_release(&p);
}

TEST(google_time_reads_googles_precisions)
{
	int64_t ms = 0;

	CHECK_EQ(google_time("2023-11-14T22:13:20Z", &ms), TERR_OK);
	CHECK_EQ(ms, T0);
	CHECK_EQ(google_time("2023-11-14T22:13:20.5Z", &ms), TERR_OK);
	CHECK_EQ(ms, T0 + 500);
	CHECK_EQ(google_time("2023-11-14T22:13:20.123Z", &ms), TERR_OK);
	CHECK_EQ(ms, T0 + 123);
	CHECK_EQ(google_time("2023-11-14T22:13:20.123456789Z", &ms), TERR_OK);
	CHECK_EQ(ms, T0 + 123);
	CHECK_EQ(google_time("2023-11-14T22:13:20.Z", &ms), TERR_INVAL);
	CHECK_EQ(google_time("2023-11-14T22:13:20.1234567890Z", &ms), TERR_INVAL);
	CHECK_EQ(google_time("2023-11-14T22:13:20+00:00", &ms), TERR_INVAL);
	CHECK_EQ(google_time("2023-11-14T22:13:20.12aZ", &ms), TERR_INVAL);
	CHECK_EQ(google_time("2023-11-14", &ms), TERR_INVAL);
}

TEST(google_account_id_user_id_or_hmac)
{
	char out[GOOGLE_ACCOUNT_ID_MAX + 1], user[80];
	struct cfg_google g;

	memset(&g, 0, sizeof(g));
	CHECK_EQ(google_account_id(&g, "alice", out, sizeof(out)), TERR_OK);
	CHECK_STR(out, "alice");
	memset(user, 'u', 65);
	user[65] = '\0';
	CHECK_EQ(google_account_id(&g, user, out, sizeof(out)), TERR_TOOBIG);
	CHECK_EQ(google_account_id(&g, "", out, sizeof(out)), TERR_INVAL);
	g.identity = GOOGLE_IDENTITY_HMAC;
	CHECK_EQ(google_account_id(&g, "alice", out, sizeof(out)), TERR_CONFIG);
	memset(g.identity_key, 'k', 32);
	/* python3: hmac.new(b'k'*32, b'alice', hashlib.sha256).hexdigest() */
	CHECK_EQ(google_account_id(&g, "alice", out, sizeof(out)), TERR_OK);
	CHECK_STR(out, "6664a42048c6d6d7fe3657e39b14155c099246385212db085614c81f5b9c938d");
	CHECK_EQ(google_account_id(&g, user, out, sizeof(out)), TERR_OK);
	CHECK_EQ(strlen(out), 64);
}

TEST(google_cfg_identity)
{
	struct cfg c;
	char text[1024], w[512];
	static const char base[] = "{\"google\":{\"package_name\":\"" PKG "\",\"push_audience\":"
				   "\"a\",\"push_service_account\":\"p@x.iam.example.com\"%s}}";

	snprintf(text, sizeof(text), base, "");
	cfg_defaults(&c);
	CHECK_EQ(cfg_parse(&c, text, strlen(text), w, sizeof(w)), TERR_OK);
	CHECK_EQ(c.google.identity, GOOGLE_IDENTITY_USER_ID);
	cfg_release(&c);
	snprintf(text, sizeof(text), base, ",\"identity\":\"hmac\"");
	cfg_defaults(&c);
	CHECK_EQ(cfg_parse(&c, text, strlen(text), w, sizeof(w)), TERR_CONFIG);
	CHECK(strstr(w, "GOOGLE_IDENTITY_KEY") != NULL);
	cfg_release(&c);
	cfg_defaults(&c);
	memset(c.google.identity_key, 'k', 32);
	CHECK_EQ(cfg_parse(&c, text, strlen(text), w, sizeof(w)), TERR_OK);
	CHECK_EQ(c.google.identity, GOOGLE_IDENTITY_HMAC);
	cfg_release(&c);
	CHECK(c.google.identity_key[0] == '\0');
	snprintf(text, sizeof(text), base, ",\"identity\":\"email\"");
	cfg_defaults(&c);
	CHECK_EQ(cfg_parse(&c, text, strlen(text), w, sizeof(w)), TERR_CONFIG);
	CHECK(strstr(w, "google.identity") != NULL);
	cfg_release(&c);
}

int
main(void)
{
	char w[512];

	cfg_defaults(&cfg);
	if (cfg_parse(&cfg, catalog, sizeof(catalog) - 1, w, sizeof(w)) != TERR_OK) {
		printf("FAIL setup: %s\n", w);
		return 1;
	}
	RUN(google_sub_purchased_active_is_an_initial_payment);
	RUN(google_sub_unacknowledged_owes_an_acknowledgement);
	RUN(google_sub_free_trial_is_trialing_without_money);
	RUN(google_sub_renewal_order_is_a_renewal);
	RUN(google_sub_every_code_applies_the_fetched_state);
	RUN(google_sub_states_map_to_tallys);
	RUN(google_sub_unknown_state_is_refused_not_guessed);
	RUN(google_sub_test_purchase_is_not_live);
	RUN(google_sub_linked_token_replaces);
	RUN(google_sub_base_plan_id_when_the_catalog_lists_it);
	RUN(google_sub_hmac_identity_links_the_account_only);
	RUN(google_sub_without_line_items_is_refused);
	RUN(google_sub_price_past_what_tally_records_is_refused);
	RUN(google_revoked_without_a_purchase_to_read_still_revokes);
	RUN(google_api_404_fails_and_410_is_ignored);
	RUN(google_product_purchased_pack_is_consumed);
	RUN(google_product_not_a_pack_is_acknowledged);
	RUN(google_product_canceled_pending_and_test);
	RUN(google_voided_full_and_partial);
	RUN(google_refund_review_and_test_are_stored_only);
	RUN(google_notification_refusals);
	RUN(google_purchase_fetched_without_a_notification);
	RUN(google_parse_of_an_unreadable_push_fails_it_with_the_reason);
	RUN(google_envelope_of_another_version_is_refused);
	RUN(google_push_read_takes_the_wrapped_format);
	RUN(google_time_reads_googles_precisions);
	RUN(google_account_id_user_id_or_hmac);
	RUN(google_cfg_identity);
	cfg_release(&cfg);
	return t_done();
}
