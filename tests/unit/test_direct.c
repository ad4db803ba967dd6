/*
 * lib/providers/razorpay/razorpay.c, lib/providers/telegram/telegram.c, lib/providers/cryptobot/cryptobot.c: signatures (the
 * expected MACs computed here with OpenSSL's one-shot HMAC() and SHA256(),
 * independently of lib/crypto/crypto.c, exactly as each provider documents them),
 * and what each event maps to, with Razorpay's documented sample payloads
 * (markdown-docs webhooks/) cut to the fields that matter.
 */
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <string.h>

#include "base/tm.h"
#include "providers/cryptobot/cryptobot.h"
#include "providers/razorpay/razorpay.h"
#include "providers/telegram/telegram.h"
#include "t.h"

static void
hexmac(const void *key, size_t keylen, const char *msg, size_t n, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, n, md, &mdlen);
	for (i = 0; i < mdlen && i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[2 * i] = '\0';
}

static void
base_cfg(struct cfg *c)
{
	cfg_defaults(c);
	snprintf(c->razorpay.key_id, sizeof(c->razorpay.key_id), "rzp_live_abc");
	snprintf(c->razorpay.key_secret, sizeof(c->razorpay.key_secret), "key_secret_x");
	snprintf(c->razorpay.secrets[0], SECRET_MAX, "whsec_old");
	snprintf(c->razorpay.secrets[1], SECRET_MAX, "whsec_new");
	c->razorpay.nsecrets = 2;
	snprintf(c->telegram.webhook_secret, sizeof(c->telegram.webhook_secret), "tg-secret_1");
	snprintf(c->cryptobot.token, sizeof(c->cryptobot.token), "1234:AAHtoken");
}

/* ------------------------------------------------------------- Razorpay */

static const char rzp_captured[] =
    "{\"entity\":\"event\",\"account_id\":\"acc_BFQ7uQEaa7j2z7\",\"event\":\"payment.captured\","
    "\"contains\":[\"payment\"],\"payload\":{\"payment\":{\"entity\":{\"id\":\"pay_"
    "DESlfW9H8K9uqM\","
    "\"entity\":\"payment\",\"amount\":49900,\"currency\":\"INR\",\"status\":\"captured\","
    "\"order_id\":\"order_DESlLckIVRkHWj\",\"invoice_id\":null,\"amount_refunded\":0,"
    "\"refund_status\":null,\"captured\":true,\"customer_id\":\"cust_1\",\"notes\":[],"
    "\"created_at\":1567674599}}},\"created_at\":1567674606}";

TEST(razorpay_signature_of_either_secret_verifies)
{
	struct cfg c;
	struct razorpay_verifier v;
	const char *why = NULL;
	char sig[65];

	base_cfg(&c);
	CHECK_EQ(razorpay_verifier_init(&v, &c.razorpay), TERR_OK);
	hexmac("whsec_old", 9, rzp_captured, strlen(rzp_captured), sig);
	CHECK_EQ(razorpay_verify(&v, sig, rzp_captured, strlen(rzp_captured), &why), TERR_OK);
	hexmac("whsec_new", 9, rzp_captured, strlen(rzp_captured), sig);
	CHECK_EQ(razorpay_verify(&v, sig, rzp_captured, strlen(rzp_captured), &why), TERR_OK);
	razorpay_verifier_release(&v);
	cfg_release(&c);
}

TEST(razorpay_signature_refusals)
{
	struct cfg c;
	struct razorpay_verifier v;
	const char *why = NULL;
	char sig[65], body[sizeof(rzp_captured)];

	base_cfg(&c);
	CHECK_EQ(razorpay_verifier_init(&v, &c.razorpay), TERR_OK);
	hexmac("whsec_other", 11, rzp_captured, strlen(rzp_captured), sig);
	CHECK_EQ(razorpay_verify(&v, sig, rzp_captured, strlen(rzp_captured), &why), TERR_AUTH);
	CHECK_EQ(razorpay_verify(&v, NULL, rzp_captured, strlen(rzp_captured), &why), TERR_AUTH);
	CHECK_EQ(razorpay_verify(&v, "", rzp_captured, strlen(rzp_captured), &why), TERR_AUTH);
	/* The amount tampered with after signing. */
	hexmac("whsec_new", 9, rzp_captured, strlen(rzp_captured), sig);
	memcpy(body, rzp_captured, sizeof(body));
	memcpy(strstr(body, "49900"), "00001", 5);
	CHECK_EQ(razorpay_verify(&v, sig, body, strlen(body), &why), TERR_AUTH);
	/* A signature cut short, upper-case and lower-case hex both read, junk refused. */
	sig[63] = '\0';
	CHECK_EQ(razorpay_verify(&v, sig, rzp_captured, strlen(rzp_captured), &why), TERR_AUTH);
	CHECK_EQ(razorpay_verify(&v, "zz", rzp_captured, strlen(rzp_captured), &why), TERR_AUTH);
	razorpay_verifier_release(&v);
	c.razorpay.nsecrets = 0;
	CHECK_EQ(razorpay_verifier_init(&v, &c.razorpay), TERR_OK);
	CHECK_EQ(razorpay_verify(&v, sig, rzp_captured, strlen(rzp_captured), &why), TERR_CONFIG);
	cfg_release(&c);
}

TEST(razorpay_payment_captured_is_an_order_payment)
{
	struct cfg c;
	struct bev e;
	char why[256];

	base_cfg(&c);
	CHECK_EQ(razorpay_parse(&c, "evt_1", rzp_captured, strlen(rzp_captured), &e, why,
		     sizeof(why)),
	    TERR_OK);
	CHECK_STR(e.provider, "razorpay");
	CHECK_STR(e.id, "evt_1");
	CHECK_STR(e.type, "payment.captured");
	CHECK_EQ(e.at, 1567674606000LL);
	CHECK_EQ(e.live, 1);
	CHECK_EQ(e.aspects, BEV_ORDER);
	CHECK_STR(e.order.id, "");
	CHECK_STR(e.order.provider_ref, "order_DESlLckIVRkHWj");
	CHECK_STR(e.order.charge_id, "pay_DESlfW9H8K9uqM");
	CHECK_EQ(e.order.amount, 49900);
	CHECK_STR(e.order.currency, "INR");
	CHECK_EQ(e.order.captured, 1);
	CHECK_STR(e.user, "");
	CHECK_EQ(e.nlinks, 1);
	CHECK_STR(e.links[0].kind, "customer");
	CHECK_STR(e.links[0].id, "cust_1");
	cfg_release(&c);
}

TEST(razorpay_order_paid_names_tallys_order)
{
	static const char body[] =
	    "{\"entity\":\"event\",\"event\":\"order.paid\",\"contains\":[\"payment\",\"order\"],"
	    "\"payload\":{\"payment\":{\"entity\":{\"id\":\"pay_1\",\"amount\":100,\"currency\":"
	    "\"INR\",\"status\":\"authorized\",\"order_id\":\"order_1\",\"notes\":{}}},"
	    "\"order\":{\"entity\":{\"id\":\"order_1\",\"amount\":100,\"currency\":\"INR\","
	    "\"receipt\":\"ord_receipt\",\"status\":\"paid\",\"notes\":{\"tally_order\":"
	    "\"ord_notes\",\"user_id\":\"alice\"}}}},\"created_at\":1700000000}";
	struct cfg c;
	struct bev e;
	char why[256];

	base_cfg(&c);
	snprintf(c.razorpay.key_id, sizeof(c.razorpay.key_id), "rzp_test_1");
	CHECK_EQ(razorpay_parse(&c, "evt_2", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.aspects, BEV_ORDER);
	CHECK_STR(e.order.id, "ord_notes");
	CHECK_STR(e.order.provider_ref, "order_1");
	CHECK_EQ(e.order.captured, 0); /* the payment says authorized */
	CHECK_EQ(e.live, 0);           /* a test key's event */
	cfg_release(&c);
}

TEST(razorpay_subscription_charges_are_not_orders)
{
	static const char body[] =
	    "{\"entity\":\"event\",\"event\":\"payment.captured\",\"payload\":{\"payment\":"
	    "{\"entity\":{\"id\":\"pay_2\",\"amount\":100,\"currency\":\"INR\",\"status\":"
	    "\"captured\",\"order_id\":\"order_x\",\"invoice_id\":\"inv_1\"}}},\"created_at\":1}";
	struct cfg c;
	struct bev e;
	char why[256];

	base_cfg(&c);
	CHECK_EQ(razorpay_parse(&c, "evt_3", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.aspects, 0);
	CHECK(strstr(e.note, "subscription.charged") != NULL);
	cfg_release(&c);
}

TEST(razorpay_refund_processed_full_and_partial)
{
	static const char partial[] =
	    "{\"entity\":\"event\",\"event\":\"refund.processed\",\"payload\":{\"refund\":"
	    "{\"entity\":{\"id\":\"rfnd_1\",\"amount\":50000,\"payment_id\":\"pay_FP\"}},"
	    "\"payment\":{\"entity\":{\"id\":\"pay_FP\",\"amount\":500000,\"amount_refunded\":"
	    "190000,\"refund_status\":\"partial\",\"currency\":\"INR\",\"status\":\"captured\"}}},"
	    "\"created_at\":1597734071}";
	static const char full[] =
	    "{\"entity\":\"event\",\"event\":\"refund.processed\",\"payload\":{\"refund\":"
	    "{\"entity\":{\"id\":\"rfnd_2\",\"amount\":500000,\"payment_id\":\"pay_FP\"}},"
	    "\"payment\":{\"entity\":{\"id\":\"pay_FP\",\"amount\":500000,\"amount_refunded\":"
	    "500000,\"refund_status\":\"full\",\"currency\":\"INR\",\"status\":\"refunded\"}}},"
	    "\"created_at\":1597734071}";
	struct cfg c;
	struct bev e;
	char why[256];

	base_cfg(&c);
	CHECK_EQ(razorpay_parse(&c, "e1", partial, strlen(partial), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.aspects, BEV_REFUND);
	CHECK_EQ(e.refund.kind, REFUND_PARTIAL);
	CHECK_EQ(e.refund.amount, 50000);
	CHECK_STR(e.refund.keys.k[0], "pay_FP");
	CHECK_EQ(razorpay_parse(&c, "e2", full, strlen(full), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.refund.kind, REFUND_FULL);
	cfg_release(&c);
}

/* A subscription event of the sample's shape with status and paid_count. */
static int
sub_event(char *out, size_t size, const char *type, const char *status, int paid, long start,
    long end, int with_payment)
{
	return snprintf(out, size,
	    "{\"entity\":\"event\",\"event\":\"%s\",\"payload\":{\"subscription\":{\"entity\":"
	    "{\"id\":\"sub_DEX6xcJ1HSW4CR\",\"plan_id\":\"plan_BvrFKjSxauOH7N\",\"customer_id\":"
	    "\"cust_C0W\",\"status\":\"%s\",\"current_start\":%ld,\"current_end\":%ld,"
	    "\"start_at\":%ld,\"paid_count\":%d,\"notes\":{\"user_id\":\"bob\"}}}%s},"
	    "\"created_at\":1700000000}",
	    type, status, start, end, start, paid,
	    with_payment ? ",\"payment\":{\"entity\":{\"id\":\"pay_DEXF\",\"amount\":100000,"
			   "\"currency\":\"INR\",\"status\":\"captured\",\"captured\":\"1\","
			   "\"invoice_id\":\"inv_1\",\"notes\":[]}}"
			 : "");
}

TEST(razorpay_subscription_charged_first_and_renewal)
{
	struct cfg c;
	struct bev e;
	char body[2048], why[256];

	base_cfg(&c);
	sub_event(body, sizeof(body), "subscription.charged", "active", 1, 1699990000, 1702590000,
	    1);
	CHECK_EQ(razorpay_parse(&c, "e", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB | BEV_PAY);
	CHECK_STR(e.sub.id, "sub_DEX6xcJ1HSW4CR");
	CHECK_STR(e.sub.product, "plan_BvrFKjSxauOH7N");
	CHECK_EQ(e.sub.state, SUB_ACTIVE);
	CHECK_EQ(e.sub.period_start, 1699990000000LL);
	CHECK_EQ(e.sub.period_end, 1702590000000LL);
	CHECK_STR(e.user, "bob");
	CHECK_EQ(e.pay.kind, PAY_INITIAL);
	CHECK_STR(e.pay.keys.k[0], "pay_DEXF");
	CHECK_EQ(e.pay.amount, 100000);
	CHECK_STR(e.pay.product, "plan_BvrFKjSxauOH7N");
	CHECK_EQ(e.pay.period_end, 1702590000000LL);
	sub_event(body, sizeof(body), "subscription.charged", "active", 2, 1702590000, 1705190000,
	    1);
	CHECK_EQ(razorpay_parse(&c, "e", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.pay.kind, PAY_RENEWAL);
	cfg_release(&c);
}

TEST(razorpay_subscription_states)
{
	struct cfg c;
	struct bev e;
	char body[2048], why[256];

	base_cfg(&c);
	sub_event(body, sizeof(body), "subscription.pending", "pending", 1, 1699990000, 1702590000,
	    0);
	CHECK_EQ(razorpay_parse(&c, "e", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB);
	CHECK_EQ(e.sub.state, SUB_PAST_DUE);
	CHECK_EQ(e.sub.grace_until, 0);
	sub_event(body, sizeof(body), "subscription.halted", "halted", 1, 1699990000, 1702590000,
	    0);
	CHECK_EQ(razorpay_parse(&c, "e", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.sub.state, SUB_PAST_DUE);
	CHECK_EQ(e.sub.grace_until, 1700000000000LL);
	/* Cancelled with time left: access to the period's end; after it: expired. */
	sub_event(body, sizeof(body), "subscription.cancelled", "cancelled", 1, 1699990000,
	    1702590000, 0);
	CHECK_EQ(razorpay_parse(&c, "e", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.sub.state, SUB_CANCELED);
	CHECK_EQ(e.sub.cancel_at_period_end, 1);
	sub_event(body, sizeof(body), "subscription.completed", "completed", 12, 1690000000,
	    1699000000, 0);
	CHECK_EQ(razorpay_parse(&c, "e", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.sub.state, SUB_EXPIRED);
	sub_event(body, sizeof(body), "subscription.paused", "paused", 1, 1699990000, 1702590000,
	    0);
	CHECK_EQ(razorpay_parse(&c, "e", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.sub.state, SUB_PAUSED);
	sub_event(body, sizeof(body), "subscription.resumed", "active", 1, 1699990000, 1702590000,
	    0);
	CHECK_EQ(razorpay_parse(&c, "e", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.sub.state, SUB_ACTIVE);
	sub_event(body, sizeof(body), "subscription.authenticated", "authenticated", 0, 1700900000,
	    0, 0);
	CHECK_EQ(razorpay_parse(&c, "e", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.sub.state, SUB_TRIALING);
	CHECK_EQ(e.sub.trial_end, 1700900000000LL);
	sub_event(body, sizeof(body), "subscription.updated", "mystery", 1, 1, 2, 0);
	CHECK_EQ(razorpay_parse(&c, "e", body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.aspects, 0);
	cfg_release(&c);
}

TEST(razorpay_ignored_and_malformed)
{
	static const char failed[] =
	    "{\"entity\":\"event\",\"event\":\"payment.failed\",\"payload\":{\"payment\":{"
	    "\"entity\":"
	    "{\"id\":\"pay_3\",\"amount\":1,\"currency\":\"INR\",\"status\":\"failed\"}}},"
	    "\"created_at\":1}";
	static const char other[] = "{\"entity\":\"event\",\"event\":\"settlement.processed\","
				    "\"payload\":{},\"created_at\":1}";
	static const char wrong_type[] =
	    "{\"entity\":\"event\",\"event\":\"payment.captured\",\"payload\":{\"payment\":"
	    "{\"entity\":{\"id\":\"pay_4\",\"amount\":\"100\",\"currency\":\"INR\"}}},"
	    "\"created_at\":1}";
	static const char not_event[] = "{\"id\":\"evt_1\",\"object\":\"event\"}";
	struct cfg c;
	struct bev e;
	char why[256];

	base_cfg(&c);
	CHECK_EQ(razorpay_parse(&c, "e", failed, strlen(failed), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.aspects, 0);
	CHECK(e.note[0] != '\0');
	CHECK_EQ(razorpay_parse(&c, "e", other, strlen(other), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.aspects, 0);
	CHECK_EQ(razorpay_parse(&c, "e", wrong_type, strlen(wrong_type), &e, why, sizeof(why)),
	    TERR_INVAL);
	CHECK_EQ(razorpay_parse(&c, "e", not_event, strlen(not_event), &e, why, sizeof(why)),
	    TERR_INVAL);
	cfg_release(&c);
}

TEST(razorpay_checkout_signatures)
{
	struct cfg c;
	char sig[65];

	base_cfg(&c);
	hexmac("key_secret_x", 12, "order_1|pay_1", 13, sig);
	CHECK_EQ(razorpay_checkout_verify(&c.razorpay, "order_1", "pay_1", sig), TERR_OK);
	CHECK_EQ(razorpay_checkout_verify(&c.razorpay, "order_1", "pay_2", sig), TERR_AUTH);
	/* Subscriptions: payment id first (razorpay-python). */
	hexmac("key_secret_x", 12, "pay_1|sub_1", 11, sig);
	CHECK_EQ(razorpay_checkout_verify(&c.razorpay, "pay_1", "sub_1", sig), TERR_OK);
	CHECK_EQ(razorpay_checkout_verify(&c.razorpay, "sub_1", "pay_1", sig), TERR_AUTH);
	/* The webhook secret is not the key secret. */
	hexmac("whsec_new", 9, "order_1|pay_1", 13, sig);
	CHECK_EQ(razorpay_checkout_verify(&c.razorpay, "order_1", "pay_1", sig), TERR_AUTH);
	c.razorpay.key_secret[0] = '\0';
	CHECK_EQ(razorpay_checkout_verify(&c.razorpay, "order_1", "pay_1", sig), TERR_CONFIG);
	cfg_release(&c);
}

/* ------------------------------------------------------------- Telegram */

static const char tg_paid[] =
    "{\"update_id\":10000,\"message\":{\"message_id\":5,\"date\":1700000000,\"chat\":{\"id\":"
    "1111,\"type\":\"private\"},\"from\":{\"id\":1111,\"is_bot\":false,\"first_name\":\"A\"},"
    "\"successful_payment\":{\"currency\":\"XTR\",\"total_amount\":250,\"invoice_payload\":"
    "\"ord_0123\",\"telegram_payment_charge_id\":\"stxAbc\",\"provider_payment_charge_id\":"
    "\"\",\"subscription_expiration_date\":1702592000,\"is_recurring\":true,"
    "\"is_first_recurring\":true}}}";

TEST(telegram_secret_token)
{
	struct cfg c;
	const char *why = NULL;

	base_cfg(&c);
	CHECK_EQ(telegram_verify(&c.telegram, "tg-secret_1", &why), TERR_OK);
	CHECK_EQ(telegram_verify(&c.telegram, "tg-secret_2", &why), TERR_AUTH);
	CHECK_EQ(telegram_verify(&c.telegram, "tg-secret_", &why), TERR_AUTH);
	CHECK_EQ(telegram_verify(&c.telegram, "tg-secret_1x", &why), TERR_AUTH);
	CHECK_EQ(telegram_verify(&c.telegram, NULL, &why), TERR_AUTH);
	c.telegram.webhook_secret[0] = '\0';
	CHECK_EQ(telegram_verify(&c.telegram, "", &why), TERR_CONFIG);
	cfg_release(&c);
}

TEST(telegram_successful_payment_first_of_a_subscription)
{
	struct cfg c;
	struct bev e;
	char why[256];

	base_cfg(&c);
	CHECK_EQ(telegram_parse(&c, tg_paid, strlen(tg_paid), &e, why, sizeof(why)), TERR_OK);
	CHECK_STR(e.id, "update:10000");
	CHECK_STR(e.type, "successful_payment");
	CHECK_EQ(e.at, 1700000000000LL);
	CHECK_EQ(e.aspects, BEV_ORDER);
	CHECK_STR(e.order.id, "ord_0123");
	CHECK_STR(e.order.provider_ref, "");
	CHECK_STR(e.order.charge_id, "stxAbc");
	CHECK_EQ(e.order.amount, 250);
	CHECK_STR(e.order.currency, "XTR");
	CHECK_EQ(e.order.captured, 1);
	CHECK_EQ(e.order.period_end, 1702592000000LL);
	CHECK_EQ(e.order.recurring, 0); /* the first payment is not a renewal */
	CHECK_STR(e.links[0].kind, "user");
	CHECK_STR(e.links[0].id, "1111");
	CHECK_STR(e.user, "");
	cfg_release(&c);
}

TEST(telegram_renewal_is_recurring)
{
	char body[sizeof(tg_paid)];
	struct cfg c;
	struct bev e;
	char why[256], *p;

	base_cfg(&c);
	memcpy(body, tg_paid, sizeof(body));
	p = strstr(body, ",\"is_first_recurring\":true");
	memmove(p, p + strlen(",\"is_first_recurring\":true"),
	    strlen(p + strlen(",\"is_first_recurring\":true")) + 1);
	CHECK_EQ(telegram_parse(&c, body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.order.recurring, 1);
	cfg_release(&c);
}

TEST(telegram_refunded_payment)
{
	static const char body[] =
	    "{\"update_id\":10001,\"message\":{\"date\":1700000100,\"from\":{\"id\":1111},"
	    "\"refunded_payment\":{\"currency\":\"XTR\",\"total_amount\":250,\"invoice_payload\":"
	    "\"ord_0123\",\"telegram_payment_charge_id\":\"stxAbc\"}}}";
	struct cfg c;
	struct bev e;
	char why[256];

	base_cfg(&c);
	CHECK_EQ(telegram_parse(&c, body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.aspects, BEV_REFUND);
	CHECK_EQ(e.refund.kind, REFUND_FULL);
	CHECK_STR(e.refund.keys.k[0], "stxAbc");
	CHECK_EQ(e.refund.amount, 250);
	CHECK_STR(e.actor, "");
	cfg_release(&c);
}

TEST(telegram_operator_refund_body_round_trips)
{
	struct cfg c;
	struct bev e;
	struct buf b;
	char why[256];
	struct hook_update u;

	base_cfg(&c);
	buf_init(&b, 4096);
	CHECK_EQ(telegram_refund_body("ann", "duplicate purchase", 1700000000000LL, "1111",
		     "ord_0123", "stxAbc", 250, "XTR", &b),
	    TERR_OK);
	CHECK_EQ(telegram_parse(&c, buf_cstr(&b), b.len, &e, why, sizeof(why)), TERR_OK);
	CHECK_STR(e.id, "refund:stxAbc");
	CHECK_STR(e.actor, "operator:ann");
	CHECK_STR(e.reason, "duplicate purchase");
	CHECK_EQ(e.aspects, BEV_REFUND);
	CHECK_STR(e.refund.keys.k[0], "stxAbc");
	/* Only tally writes it: the webhook refuses such a body. */
	CHECK_EQ(telegram_classify(buf_cstr(&b), b.len, &u, why, sizeof(why)), TERR_INVAL);
	buf_release(&b);
	cfg_release(&c);
}

TEST(telegram_classify_kinds)
{
	static const char pre[] =
	    "{\"update_id\":7,\"pre_checkout_query\":{\"id\":\"q1\",\"from\":{\"id\":42},"
	    "\"currency\":\"XTR\",\"total_amount\":250,\"invoice_payload\":\"ord_9\"}}";
	static const char chat[] = "{\"update_id\":8,\"message\":{\"date\":1,\"text\":\"hi\"}}";
	static const char noid[] = "{\"message\":{\"date\":1}}";
	struct hook_update u;
	char why[128];

	CHECK_EQ(telegram_classify(pre, strlen(pre), &u, why, sizeof(why)), TERR_OK);
	CHECK_EQ(u.kind, HOOK_PRECHECK);
	CHECK_STR(u.id, "pre_checkout_query:q1");
	CHECK_STR(u.what, "pre_checkout_query");
	CHECK_STR(u.q.id, "q1");
	CHECK_STR(u.q.from, "42");
	CHECK_STR(u.q.order, "ord_9");
	CHECK_STR(u.q.currency, "XTR");
	CHECK_EQ(u.q.amount, 250);
	CHECK_EQ(telegram_classify(chat, strlen(chat), &u, why, sizeof(why)), TERR_OK);
	CHECK_EQ(u.kind, HOOK_OTHER);
	CHECK_STR(u.what, "message");
	CHECK_STR(u.id, "update:8");
	CHECK_EQ(telegram_classify(tg_paid, strlen(tg_paid), &u, why, sizeof(why)), TERR_OK);
	CHECK_EQ(u.kind, HOOK_EVENT);
	CHECK_EQ(telegram_classify(noid, strlen(noid), &u, why, sizeof(why)), TERR_INVAL);
}

/* ------------------------------------------------------------ CryptoBot */

static int
cb_update(char *out, size_t size, const char *request_date, const char *amount, const char *status)
{
	return snprintf(out, size,
	    "{\"update_id\":1,\"update_type\":\"invoice_paid\",\"request_date\":\"%s\","
	    "\"payload\":{\"invoice_id\":528890,\"hash\":\"IVDoTcNBYEfk\",\"currency_type\":"
	    "\"crypto\",\"asset\":\"USDT\",\"amount\":\"%s\",\"bot_invoice_url\":"
	    "\"https://t.me/CryptoBot?start=IVDoTcNBYEfk\",\"status\":\"%s\",\"created_at\":"
	    "\"2023-11-14T22:10:00.000Z\",\"allow_comments\":true,\"allow_anonymous\":true,"
	    "\"paid_at\":\"2023-11-14T22:13:20.123456Z\",\"payload\":\"ord_cb1\",\"fee\":\"0.05\"}"
	    "}",
	    request_date, amount, status);
}

/* hex HMAC-SHA256 keyed with SHA-256(token) ("Verifying webhook updates"). */
static void
cb_sign(const char *token, const char *body, char hex[65])
{
	unsigned char key[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)token, strlen(token), key);
	hexmac(key, sizeof(key), body, strlen(body), hex);
}

#define CB_NOW 1700000000000LL /* 2023-11-14T22:13:20Z */

TEST(cryptobot_signature_and_freshness)
{
	struct cfg c;
	struct cryptobot_verifier v;
	const char *why = NULL;
	char body[2048], sig[65];

	base_cfg(&c);
	CHECK_EQ(cryptobot_verifier_init(&v, &c.cryptobot), TERR_OK);
	cb_update(body, sizeof(body), "2023-11-14T22:13:20.500Z", "4.99", "paid");
	cb_sign("1234:AAHtoken", body, sig);
	CHECK_EQ(cryptobot_verify(&v, sig, body, strlen(body), CB_NOW, &why), TERR_OK);
	/* Keyed with the token itself, not its hash: refused. */
	hexmac("1234:AAHtoken", 13, body, strlen(body), sig);
	CHECK_EQ(cryptobot_verify(&v, sig, body, strlen(body), CB_NOW, &why), TERR_AUTH);
	CHECK_EQ(cryptobot_verify(&v, NULL, body, strlen(body), CB_NOW, &why), TERR_AUTH);
	/* Signed, but an hour and a second old, or as far ahead. */
	cb_sign("1234:AAHtoken", body, sig);
	CHECK_EQ(cryptobot_verify(&v, sig, body, strlen(body), CB_NOW + 3601000, &why), TERR_STALE);
	CHECK_EQ(cryptobot_verify(&v, sig, body, strlen(body), CB_NOW - 3601000, &why), TERR_STALE);
	cb_update(body, sizeof(body), "yesterday", "4.99", "paid");
	cb_sign("1234:AAHtoken", body, sig);
	CHECK_EQ(cryptobot_verify(&v, sig, body, strlen(body), CB_NOW, &why), TERR_INVAL);
	cryptobot_verifier_release(&v);
	c.cryptobot.token[0] = '\0';
	CHECK_EQ(cryptobot_verifier_init(&v, &c.cryptobot), TERR_OK);
	CHECK_EQ(cryptobot_verify(&v, sig, body, strlen(body), CB_NOW, &why), TERR_CONFIG);
	cfg_release(&c);
}

TEST(cryptobot_invoice_paid_is_an_order_payment)
{
	struct cfg c;
	struct bev e;
	char body[2048], why[256];

	base_cfg(&c);
	cb_update(body, sizeof(body), "2023-11-14T22:13:21+00:00", "4.99", "paid");
	CHECK_EQ(cryptobot_parse(&c, body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_STR(e.id, "invoice_paid:528890");
	CHECK_STR(e.type, "invoice_paid");
	CHECK_EQ(e.at, CB_NOW + 123); /* paid_at, to the ms */
	CHECK_EQ(e.aspects, BEV_ORDER);
	CHECK_STR(e.order.id, "ord_cb1");
	CHECK_STR(e.order.provider_ref, "528890");
	CHECK_STR(e.order.charge_id, "528890");
	CHECK_STR(e.order.currency, "USDT");
	CHECK_EQ(e.order.amount, 499000000LL); /* 4.99 in 10^-8 USDT, exactly */
	CHECK_EQ(e.order.captured, 1);
	CHECK_EQ(e.live, 1);
	cfg_release(&c);
}

TEST(cryptobot_amounts_and_statuses)
{
	struct cfg c;
	struct bev e;
	char body[2048], why[256];

	base_cfg(&c);
	c.cryptobot.testnet = 1;
	cb_update(body, sizeof(body), "2023-11-14T22:13:21Z", "0.000000011", "paid");
	CHECK_EQ(cryptobot_parse(&c, body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	/* More digits than exist: no amount, refused as malformed by apply, quoted as sent. */
	CHECK_EQ(e.order.amount, -1);
	CHECK_STR(e.note, "amount \"0.000000011\" has more decimals than USDT's 8");
	CHECK_EQ(e.live, 0);
	cb_update(body, sizeof(body), "2023-11-14T22:13:21Z", "4.99", "active");
	CHECK_EQ(cryptobot_parse(&c, body, strlen(body), &e, why, sizeof(why)), TERR_OK);
	CHECK_EQ(e.order.captured, 0);
	/* An amount as a JSON number is not what Crypto Pay sends. */
	cb_update(body, sizeof(body), "2023-11-14T22:13:21Z", "4.99", "paid");
	memcpy(strstr(body, "\"4.99\""), " 4.99 ", 6);
	CHECK_EQ(cryptobot_parse(&c, body, strlen(body), &e, why, sizeof(why)), TERR_INVAL);
	cfg_release(&c);
}

TEST(cryptobot_get_invoices_answer)
{
	static const char answer[] =
	    "{\"ok\":true,\"result\":{\"items\":[{\"invoice_id\":1,\"status\":\"paid\","
	    "\"currency_type\":\"crypto\",\"asset\":\"TON\",\"amount\":\"1.5\",\"payload\":\"ord_"
	    "a\","
	    "\"bot_invoice_url\":\"https://t.me/CryptoBot?start=IV1\",\"paid_at\":"
	    "\"2023-11-14T22:13:20Z\"},{\"invoice_id\":2,\"status\":\"active\",\"currency_type\":"
	    "\"fiat\",\"fiat\":\"USD\",\"amount\":\"4.99\",\"payload\":\"ord_b\"}]}}";
	struct cb_invoice inv[4];
	char why[128];
	size_t n = 0;

	CHECK_EQ(cryptobot_invoices_parse(answer, strlen(answer), inv, 4, &n, why, sizeof(why)),
	    TERR_OK);
	CHECK_EQ(n, 2);
	CHECK_STR(inv[0].invoice_id, "1");
	CHECK_STR(inv[0].currency, "TON");
	CHECK_EQ(inv[0].amount, 150000000LL);
	CHECK_EQ(inv[0].paid_at, CB_NOW);
	CHECK_STR(inv[1].currency, "USD");
	CHECK_EQ(inv[1].amount, 499);
	CHECK_EQ(inv[1].paid_at, 0);
}

int
main(void)
{
	crypto_init();
	RUN(razorpay_signature_of_either_secret_verifies);
	RUN(razorpay_signature_refusals);
	RUN(razorpay_payment_captured_is_an_order_payment);
	RUN(razorpay_order_paid_names_tallys_order);
	RUN(razorpay_subscription_charges_are_not_orders);
	RUN(razorpay_refund_processed_full_and_partial);
	RUN(razorpay_subscription_charged_first_and_renewal);
	RUN(razorpay_subscription_states);
	RUN(razorpay_ignored_and_malformed);
	RUN(razorpay_checkout_signatures);
	RUN(telegram_secret_token);
	RUN(telegram_successful_payment_first_of_a_subscription);
	RUN(telegram_renewal_is_recurring);
	RUN(telegram_refunded_payment);
	RUN(telegram_operator_refund_body_round_trips);
	RUN(telegram_classify_kinds);
	RUN(cryptobot_signature_and_freshness);
	RUN(cryptobot_invoice_paid_is_an_order_payment);
	RUN(cryptobot_amounts_and_statuses);
	RUN(cryptobot_get_invoices_answer);
	return t_done();
}
