/*
 * RevenueCat: the Authorization check, every event type mapped to its
 * aspects (bodies from RevenueCat/docs code_blocks/integrations/webhooks/,
 * some trimmed), and the REST API's subscriber document
 * (openapi-spec/api-v1.yaml's example). JSON is written with ' for " here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/text.h"
#include "cfg/cfg.h"
#include "providers/revenuecat/revenuecat.h"
#include "providers/revenuecat/revenuecat_api.h"
#include "t.h"

static struct cfg cfg;
static char body[16384];
static char why[256];

static const char catalog[] =
    "{'products':{"
    "'pro':{'kind':'subscription','entitlements':['pro'],'credits':1000,"
    "'match':{'apple':['onemonth_no_trial','com.subscription.weekly'],"
    "'google':['com.subscription.yearly','com.revenuecat.myapp.monthly','pro:monthly']}},"
    "'basic':{'kind':'subscription','entitlements':['basic'],'credits':10,"
    "'match':{'google':['basic']}},"
    "'tokens':{'kind':'pack','credits':2100,'match':{'apple':['2100_tokens']}}}}";

/* s with every ' made " (into body). */
static const char *
q(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < sizeof(body); i++)
		body[i] = s[i] == '\'' ? '"' : s[i];
	body[i] = '\0';
	return body;
}

static enum terr
parse(const char *json, struct bev *e)
{
	const char *b = q(json);

	why[0] = '\0';
	return revenuecat_parse(&cfg, b, strlen(b), e, why, sizeof(why));
}

static int
linked(const struct bev *e, const char *id)
{
	size_t i;

	for (i = 0; i < e->nlinks; i++)
		if (strcmp(e->links[i].kind, RC_LINK_KIND) == 0 && strcmp(e->links[i].id, id) == 0)
			return 1;
	return 0;
}

/* event-types-and-fields_1.json */
static const char ev_initial[] =
    "{'api_version':'1.0','event':{'aliases':['yourCustomerAliasedID','yourCustomerAliasedID'],"
    "'app_id':'yourAppID','app_user_id':'yourCustomerAppUserID','commission_percentage':0.3,"
    "'country_code':'US','currency':'USD','entitlement_id':'pro_cat','entitlement_ids':['pro_cat'],"
    "'environment':'PRODUCTION','event_timestamp_ms':1591121855319,'expiration_at_ms':"
    "1591726653000,"
    "'id':'UniqueIdentifierOfEvent','is_family_share':false,'offer_code':'free_month',"
    "'original_app_user_id':'OriginalAppUserID','original_transaction_id':'1530648507000',"
    "'period_type':'NORMAL','presented_offering_id':'OfferingID','price':2.49,"
    "'price_in_purchased_currency':2.49,'product_id':'onemonth_no_trial',"
    "'purchased_at_ms':1591121853000,'store':'APP_STORE','subscriber_attributes':{'$Favorite Cat':"
    "{'updated_at_ms':1581121853000,'value':'Garfield'}},'takehome_percentage':0.7,"
    "'tax_percentage':0.3,'transaction_id':'170000869511114','type':'INITIAL_PURCHASE'}}";

/* A lifecycle event of sample-events_*.json's shape, with the type and extra fields given. */
static const char *
lifecycle(const char *type, const char *store, const char *period, const char *extra)
{
	static char out[4096];

	snprintf(out, sizeof(out),
	    "{'event':{'event_timestamp_ms':1658726378679,'product_id':'com.subscription.weekly',"
	    "'period_type':'%s','purchased_at_ms':1658726374000,'expiration_at_ms':1659331174000,"
	    "'environment':'PRODUCTION','entitlement_id':null,'entitlement_ids':['pro'],"
	    "'presented_offering_id':null,'transaction_id':'123456789012345',"
	    "'original_transaction_id':'123456789012300','is_family_share':false,"
	    "'country_code':'US','app_user_id':'1234567890',"
	    "'aliases':['$RCAnonymousID:8069238d6049ce87cc529853916d624c'],"
	    "'original_app_user_id':'$RCAnonymousID:87c6049c58069238dce29853916d624c',"
	    "'currency':'USD','price':4.99,'price_in_purchased_currency':4.99,"
	    "'subscriber_attributes':{},'store':'%s','takehome_percentage':0.7,"
	    "'tax_percentage':0.0,'commission_percentage':0.3,'offer_code':null,"
	    "'type':'%s','id':'12345678-1234-1234-1234-123456789012','app_id':'1234567890'%s},"
	    "'api_version':'1.0'}",
	    period, store, type, extra);
	return out;
}

TEST(verify_accepts_the_configured_value)
{
	struct cfg_revenuecat c;
	const char *w = NULL;

	memset(&c, 0, sizeof(c));
	text_copy(c.auth, sizeof(c.auth), "Bearer s3cret-value");
	CHECK_EQ(revenuecat_verify(&c, "Bearer s3cret-value", &w), TERR_OK);
}

TEST(verify_refuses_missing_wrong_and_other_lengths)
{
	struct cfg_revenuecat c;
	const char *w = NULL;

	memset(&c, 0, sizeof(c));
	text_copy(c.auth, sizeof(c.auth), "Bearer s3cret-value");
	CHECK_EQ(revenuecat_verify(&c, NULL, &w), TERR_AUTH);
	CHECK(strstr(w, "missing") != NULL);
	CHECK_EQ(revenuecat_verify(&c, "", &w), TERR_AUTH);
	CHECK_EQ(revenuecat_verify(&c, "Bearer s3cret-valuf", &w), TERR_AUTH);
	CHECK(strstr(w, "wrong") != NULL);
	CHECK_EQ(revenuecat_verify(&c, "Bearer s3cret-valu", &w), TERR_AUTH);
	CHECK_EQ(revenuecat_verify(&c, "Bearer s3cret-value ", &w), TERR_AUTH);
	CHECK_EQ(revenuecat_verify(&c, "s3cret-value", &w), TERR_AUTH);
}

TEST(verify_without_a_configured_value_refuses_as_config_error)
{
	struct cfg_revenuecat c;
	const char *w = NULL;

	memset(&c, 0, sizeof(c));
	CHECK_EQ(revenuecat_verify(&c, "", &w), TERR_CONFIG);
	CHECK_EQ(revenuecat_verify(&c, "anything", &w), TERR_CONFIG);
}

TEST(initial_purchase_is_sub_active_and_initial_payment)
{
	struct bev e;

	CHECK_EQ(parse(ev_initial, &e), TERR_OK);
	CHECK_STR(e.provider, "revenuecat");
	CHECK_STR(e.id, "UniqueIdentifierOfEvent");
	CHECK_STR(e.type, "INITIAL_PURCHASE");
	CHECK_EQ(e.at, 1591121855319LL);
	CHECK_EQ(e.live, 1);
	CHECK_STR(e.match_provider, "apple");
	CHECK_EQ(e.aspects, BEV_SUB | BEV_PAY);
	CHECK_EQ(e.sub.state, SUB_ACTIVE);
	CHECK_EQ(e.rank, sub_state_rank(SUB_ACTIVE));
	CHECK_STR(e.sub.id, "1530648507000");
	CHECK_STR(e.sub.product, "onemonth_no_trial");
	CHECK_STR(e.sub.store, "APP_STORE");
	CHECK_EQ(e.sub.period_start, 1591121853000LL);
	CHECK_EQ(e.sub.period_end, 1591726653000LL);
	CHECK_EQ(e.sub.cancel_at_period_end, 0);
	CHECK_EQ(e.pay.kind, PAY_INITIAL);
	CHECK_EQ(e.pay.keys.n, 1);
	CHECK_STR(e.pay.keys.k[0], "170000869511114");
	CHECK_EQ(e.pay.amount, 249);
	CHECK_STR(e.pay.currency, "USD");
	CHECK_EQ(e.pay.trial, 0);
	/* The user and every id of theirs (the duplicate alias once). */
	CHECK_STR(e.user, "yourCustomerAppUserID");
	CHECK_EQ(e.merge_links, 1);
	CHECK_EQ(e.nlinks, 3);
	CHECK(linked(&e, "OriginalAppUserID") && linked(&e, "yourCustomerAliasedID"));
	CHECK(e.raw != NULL && e.raw_len > 0);
}

TEST(initial_purchase_trial_on_play_is_trialing_with_trial_payment)
{
	struct bev e;

	/* sample-events_11.json's shape */
	CHECK_EQ(parse(lifecycle("INITIAL_PURCHASE", "PLAY_STORE", "TRIAL", ""), &e), TERR_OK);
	CHECK_EQ(e.sub.state, SUB_TRIALING);
	CHECK_EQ(e.sub.trial_end, 1659331174000LL);
	CHECK_EQ(e.pay.trial, 1);
	CHECK_STR(e.match_provider, "google");
	CHECK_STR(e.sub.store, "PLAY_STORE");
}

TEST(renewal_keeps_the_cancel_flag_unsaid_and_resets_credits)
{
	struct bev e;

	CHECK_EQ(parse(lifecycle("RENEWAL", "APP_STORE", "NORMAL", ",'is_trial_conversion':true"),
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB | BEV_PAY);
	CHECK_EQ(e.sub.state, SUB_ACTIVE);
	CHECK_EQ(e.sub.cancel_at_period_end, -1);
	CHECK_EQ(e.pay.kind, PAY_RENEWAL);
	CHECK_STR(e.pay.keys.k[0], "123456789012345");
	CHECK_STR(e.sub.id, "123456789012300");
	CHECK_EQ(e.pay.amount, 499);
}

TEST(cancellation_unsubscribe_keeps_access_until_expiry)
{
	struct bev e;

	CHECK_EQ(parse(lifecycle("CANCELLATION", "APP_STORE", "NORMAL",
			   ",'cancel_reason':'UNSUBSCRIBE'"),
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB);
	CHECK_EQ(e.sub.state, SUB_CANCELED);
	CHECK_EQ(e.sub.cancel_at_period_end, 1);
	CHECK_EQ(e.sub.period_end, 1659331174000LL);
	CHECK_EQ(e.rank, sub_state_rank(SUB_CANCELED));
}

TEST(cancellation_other_reasons)
{
	static const char *const keep[] = { "PRICE_INCREASE", "DEVELOPER_INITIATED", "UNKNOWN",
		"SOMETHING_NEW", NULL };
	char extra[64];
	struct bev e;
	size_t i;

	for (i = 0; keep[i] != NULL; i++) {
		snprintf(extra, sizeof(extra), ",'cancel_reason':'%s'", keep[i]);
		CHECK_EQ(parse(lifecycle("CANCELLATION", "APP_STORE", "NORMAL", extra), &e),
		    TERR_OK);
		CHECK_EQ(e.sub.state, SUB_CANCELED);
	}
	CHECK_EQ(parse(lifecycle("CANCELLATION", "APP_STORE", "NORMAL",
			   ",'cancel_reason':'BILLING_ERROR'"),
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB);
	CHECK_EQ(e.sub.state, SUB_PAST_DUE);
	CHECK_EQ(e.sub.cancel_at_period_end, -1);
}

TEST(cancellation_customer_support_is_a_full_refund_of_the_transaction)
{
	struct bev e;

	/* sample-events_9.json (trimmed) */
	CHECK_EQ(
	    parse("{'event':{'event_timestamp_ms':1601337615995,'product_id':"
		  "'com.revenuecat.myapp.monthly','period_type':'NORMAL','purchased_at_ms':"
		  "1601258901000,'expiration_at_ms':1601336705000,'environment':'PRODUCTION',"
		  "'transaction_id':'100000000000000','original_transaction_id':"
		  "'100000000000000','app_user_id':'$RCAnonymousID:12345678-1234-ABCD-1234-"
		  "123456789123','aliases':['$RCAnonymousID:12345678-1234-1234-1234-"
		  "123456789123','user_1234'],'original_app_user_id':'$RCAnonymousID:12345678-"
		  "1234-1234-1234-123456789123','cancel_reason':'CUSTOMER_SUPPORT','currency':"
		  "'USD','price':-9.99,'price_in_purchased_currency':-9.99,'store':'APP_STORE',"
		  "'type':'CANCELLATION','id':'12345678-1234-1234-1234-12345678912'},"
		  "'api_version':'1.0'}",
		&e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_REFUND);
	CHECK_EQ(e.refund.kind, REFUND_FULL);
	CHECK_EQ(e.refund.keys.n, 1);
	CHECK_STR(e.refund.keys.k[0], "100000000000000");
	CHECK_EQ(e.refund.amount, 999);
	/* The identified alias is the user, though the event came under an anonymous id. */
	CHECK_STR(e.user, "user_1234");
	CHECK_EQ(e.merge_links, 1);
	CHECK_STR(e.links[0].id, "user_1234");
	CHECK_EQ(e.nlinks, 3);
}

TEST(cancellation_of_a_purchase_that_does_not_renew_changes_nothing)
{
	struct bev e;

	CHECK_EQ(parse(lifecycle("CANCELLATION", "APP_STORE", "NORMAL",
			   ",'cancel_reason':'UNSUBSCRIBE'") /* expiration given: a subscription */,
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB);
	/* Without expiration_at_ms: a one-off, cancelled without refund. */
	CHECK_EQ(parse("{'event':{'id':'c1','type':'CANCELLATION','event_timestamp_ms':5,"
		       "'app_user_id':'u1','transaction_id':'t1','cancel_reason':'UNSUBSCRIBE',"
		       "'expiration_at_ms':null,'store':'APP_STORE','environment':'PRODUCTION'}}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, 0);
	CHECK(strstr(e.note, "does not renew") != NULL);
}

TEST(uncancellation_turns_renewal_back_on)
{
	struct bev e;

	CHECK_EQ(parse(lifecycle("UNCANCELLATION", "APP_STORE", "NORMAL", ""), &e), TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB);
	CHECK_EQ(e.sub.state, SUB_ACTIVE);
	CHECK_EQ(e.sub.cancel_at_period_end, 0);
}

TEST(non_renewing_purchase_is_a_one_off_payment)
{
	struct bev e;

	/* sample-events_5.json (trimmed) */
	CHECK_EQ(parse("{'event':{'event_timestamp_ms':1658726522314,'product_id':'2100_tokens',"
		       "'period_type':'NORMAL','purchased_at_ms':1658726519000,'expiration_at_ms':"
		       "null,'environment':'PRODUCTION','transaction_id':'123456789012345',"
		       "'original_transaction_id':'123456789012345','app_user_id':'1234567890',"
		       "'aliases':['$RCAnonymousID:8069238d6049ce87cc529853916d624c'],"
		       "'original_app_user_id':'$RCAnonymousID:87c6049c58069238dce29853916d624c',"
		       "'currency':'CAD','price':25.487,'price_in_purchased_currency':32.99,"
		       "'store':'APP_STORE','type':'NON_RENEWING_PURCHASE','id':'nr1'},"
		       "'api_version':'1.0'}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_PAY);
	CHECK_EQ(e.pay.kind, PAY_ONE_OFF);
	CHECK_STR(e.pay.product, "2100_tokens");
	CHECK_EQ(e.pay.amount, 3299);
	CHECK_STR(e.pay.currency, "CAD");
	CHECK_STR(e.pay.keys.k[0], "123456789012345");
}

TEST(non_renewing_period_and_promotional_grants)
{
	struct bev e;

	/* A period that will not renew: its own subscription, canceled, paid. */
	CHECK_EQ(parse(lifecycle("NON_RENEWING_PURCHASE", "APP_STORE", "NORMAL", ""), &e), TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB | BEV_PAY);
	CHECK_EQ(e.sub.state, SUB_CANCELED);
	CHECK_STR(e.sub.id, "123456789012345");
	CHECK_EQ(e.pay.kind, PAY_INITIAL);
	/* A promotional grant: entitlements, no payment. */
	CHECK_EQ(parse(lifecycle("NON_RENEWING_PURCHASE", "PROMOTIONAL", "PROMOTIONAL", ""), &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB);
	CHECK_EQ(e.sub.cancel_at_period_end, 0);
	CHECK(strstr(e.note, "promotional") != NULL);
}

TEST(expiration_ends_access_and_a_pause_expires_as_paused)
{
	struct bev e;

	CHECK_EQ(parse(lifecycle("EXPIRATION", "APP_STORE", "NORMAL",
			   ",'expiration_reason':'UNSUBSCRIBE'"),
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB);
	CHECK_EQ(e.sub.state, SUB_EXPIRED);
	CHECK_EQ(e.rank, sub_state_rank(SUB_EXPIRED));
	CHECK_EQ(parse(lifecycle("EXPIRATION", "PLAY_STORE", "NORMAL",
			   ",'expiration_reason':'SUBSCRIPTION_PAUSED'"),
		     &e),
	    TERR_OK);
	CHECK_EQ(e.sub.state, SUB_PAUSED);
}

TEST(billing_issue_is_past_due_with_grace_and_a_notice)
{
	struct bev e;

	CHECK_EQ(parse(lifecycle("BILLING_ISSUE", "APP_STORE", "NORMAL",
			   ",'grace_period_expiration_at_ms':1660000000000"),
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB | BEV_NOTICE);
	CHECK_EQ(e.sub.state, SUB_PAST_DUE);
	CHECK_EQ(e.sub.grace_until, 1660000000000LL);
	CHECK_STR(e.notice, "billing_issue");
	CHECK_EQ(parse(lifecycle("BILLING_ISSUE", "APP_STORE", "NORMAL", ""), &e), TERR_OK);
	CHECK_EQ(e.sub.grace_until, 0);
}

TEST(product_change_and_pause_only_link)
{
	struct bev e;

	CHECK_EQ(parse(lifecycle("PRODUCT_CHANGE", "PLAY_STORE", "NORMAL",
			   ",'new_product_id':'com.revenuecat.myapp.yearly'"),
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_LINKONLY);
	CHECK(strstr(e.note, "com.revenuecat.myapp.yearly") != NULL);
	CHECK_EQ(parse(lifecycle("SUBSCRIPTION_PAUSED", "PLAY_STORE", "NORMAL",
			   ",'auto_resume_at_ms':1657951448845"),
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_LINKONLY);
	CHECK(strstr(e.note, "until EXPIRATION") != NULL);
}

TEST(subscription_extended_moves_the_period_only)
{
	struct bev e;

	CHECK_EQ(parse(lifecycle("SUBSCRIPTION_EXTENDED", "APP_STORE", "NORMAL", ""), &e), TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB);
	CHECK_EQ(e.sub.state, SUB_NONE);
	CHECK_EQ(e.sub.period_end, 1659331174000LL);
	CHECK_EQ(e.sub.cancel_at_period_end, -1);
}

TEST(transfer_moves_from_the_sources_to_the_destination)
{
	struct bev e;

	/* sample-events_8.json */
	CHECK_EQ(
	    parse("{'event':{'app_id':'1234567890','event_timestamp_ms':78789789798798,"
		  "'id':'CD489E0E-5D52-4E03-966B-A7F17788E432','store':'APP_STORE',"
		  "'transferred_from':['00005A1C-6091-4F81-BE77-F0A83A271AB6'],"
		  "'transferred_to':['4BEDB450-8EF2-11E9-B475-0800200C9A66'],'type':'TRANSFER',"
		  "'environment':'PRODUCTION'},'api_version':'1.0'}",
		&e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_TRANSFER);
	CHECK_STR(e.user, "4BEDB450-8EF2-11E9-B475-0800200C9A66");
	CHECK_EQ(e.nlinks, 1);
	CHECK(!linked(&e, "00005A1C-6091-4F81-BE77-F0A83A271AB6"));
	CHECK_EQ(e.transfer.nfrom, 1);
	CHECK_STR(e.transfer.from[0].kind, RC_LINK_KIND);
	CHECK_STR(e.transfer.from[0].id, "00005A1C-6091-4F81-BE77-F0A83A271AB6");
	CHECK_EQ(e.transfer.packs, 0);
	cfg.revenuecat.transfer_packs = 1;
	CHECK_EQ(parse("{'event':{'event_timestamp_ms':7,'id':'t2','transferred_from':['a'],"
		       "'transferred_to':['b'],'type':'TRANSFER'}}",
		     &e),
	    TERR_OK);
	cfg.revenuecat.transfer_packs = 0;
	CHECK_EQ(e.transfer.packs, 1);
}

TEST(temporary_entitlement_grant_is_a_period_without_payment)
{
	struct bev e;

	/* sample-event-temporary-entitlement-grant.json lacks the guaranteed fields: stored. */
	CHECK_EQ(parse("{'event':{'event_timestamp_ms':1744824815307,'app_user_id':'41234567890',"
		       "'store':'APP_STORE','type':'TEMPORARY_ENTITLEMENT_GRANT','id':'tg1',"
		       "'app_id':'1234567890'},'api_version':'1.0'}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, 0);
	CHECK(e.note[0] != '\0');
	CHECK_EQ(parse("{'event':{'event_timestamp_ms':1744824815307,'app_user_id':'41234567890',"
		       "'purchased_at_ms':1744824815000,'expiration_at_ms':1744999999999,"
		       "'product_id':'onemonth_no_trial','entitlement_ids':['pro'],'store':"
		       "'APP_STORE','transaction_id':'2000000123','type':"
		       "'TEMPORARY_ENTITLEMENT_GRANT','id':'tg2'},'api_version':'1.0'}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_SUB);
	CHECK_EQ(e.sub.state, SUB_CANCELED);
	CHECK_STR(e.sub.id, "2000000123");
	/* Never past 24 hours from the event, whatever it says. */
	CHECK_EQ(e.sub.period_end, 1744824815307LL + 24 * 3600 * 1000);
}

TEST(refund_reversed_reinstates_the_transaction)
{
	struct bev e;

	CHECK_EQ(parse(lifecycle("REFUND_REVERSED", "APP_STORE", "NORMAL", ""), &e), TERR_OK);
	CHECK_EQ(e.aspects, BEV_REINSTATE);
	CHECK_EQ(e.reinstate.n, 1);
	CHECK_STR(e.reinstate.k[0], "123456789012345");
}

TEST(virtual_currency_adjustments_are_credits)
{
	struct bev e;

	/* sample-events_15.json (trimmed) */
	CHECK_EQ(parse("{'event':{'adjustments':[{'amount':100,'currency':{'code':'CRD',"
		       "'description':'The main currency unit','name':'Credits'}}],"
		       "'aliases':['$RCAnonymousID:8069238d6049ce87cc529853916d624c'],"
		       "'app_user_id':'1234567890','event_timestamp_ms':1658726378679,"
		       "'product_id':'1M_100credits','purchase_environment':'PRODUCTION',"
		       "'source':'in_app_purchase','store':'APP_STORE','transaction_id':"
		       "'123456789012345','virtual_currency_transaction_id':'vatx1',"
		       "'type':'VIRTUAL_CURRENCY_TRANSACTION','id':'vc1'},'api_version':'1.0'}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_CREDIT);
	CHECK_EQ(e.credit.op, CREDIT_GRANT);
	CHECK_EQ(e.credit.amount, 100);
	CHECK_EQ(e.credit.source, GRANT_PACK);
	CHECK(strstr(e.reason, "CRD +100") != NULL);
	CHECK_EQ(parse("{'event':{'adjustments':[{'amount':-40,'currency':{'code':'CRD'}}],"
		       "'app_user_id':'u','event_timestamp_ms':5,'purchase_environment':'SANDBOX',"
		       "'type':'VIRTUAL_CURRENCY_TRANSACTION','id':'vc2'}}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.credit.op, CREDIT_REVOKE);
	CHECK_EQ(e.credit.amount, 40);
	CHECK_EQ(e.credit.partial_ok, 1);
	CHECK_EQ(e.live, 0);
	CHECK_EQ(parse("{'event':{'adjustments':[{'amount':1,'currency':{'code':'A'}},{'amount':2,"
		       "'currency':{'code':'B'}}],'app_user_id':'u','event_timestamp_ms':5,"
		       "'type':'VIRTUAL_CURRENCY_TRANSACTION','id':'vc3'}}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, 0);
	CHECK(strstr(e.note, "several virtual currencies") != NULL);
	CHECK_EQ(parse("{'event':{'adjustments':[{'amount':1.5}],'app_user_id':'u',"
		       "'event_timestamp_ms':5,'type':'VIRTUAL_CURRENCY_TRANSACTION','id':'vc4'}}",
		     &e),
	    TERR_INVAL);
}

TEST(test_invoice_experiment_alias_and_unknown_types)
{
	struct bev e;

	CHECK_EQ(parse("{'event':{'type':'TEST','id':'t1','event_timestamp_ms':5,"
		       "'app_user_id':'u'}}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, 0);
	CHECK(strstr(e.note, "test event") != NULL);
	CHECK_EQ(parse(lifecycle("INVOICE_ISSUANCE", "RC_BILLING", "NORMAL", ""), &e), TERR_OK);
	CHECK_EQ(e.aspects, 0);
	CHECK(strstr(e.note, "invoice") != NULL);
	CHECK_EQ(parse("{'event':{'type':'EXPERIMENT_ENROLLMENT','id':'x1','event_timestamp_ms':5,"
		       "'app_user_id':'u','experiment_id':'e'}}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, 0);
	CHECK_EQ(parse("{'event':{'type':'SUBSCRIBER_ALIAS','id':'a1','event_timestamp_ms':5,"
		       "'app_user_id':'carol','aliases':['$RCAnonymousID:1','carol']}}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.aspects, BEV_LINKONLY);
	CHECK_EQ(e.merge_links, 1);
	CHECK_EQ(e.nlinks, 2);
}

TEST(anonymous_only_events_name_the_anonymous_user_without_merging)
{
	struct bev e;

	CHECK_EQ(parse(lifecycle("BILLING_ISSUE", "APP_STORE", "NORMAL",
			   "") /* app_user_id 1234567890 is identified */,
		     &e),
	    TERR_OK);
	CHECK_STR(e.user, "1234567890");
	CHECK_EQ(parse("{'event':{'type':'RENEWAL','id':'r9','event_timestamp_ms':5,"
		       "'app_user_id':'$RCAnonymousID:ab','original_app_user_id':"
		       "'$RCAnonymousID:cd','aliases':['$RCAnonymousID:ab'],'product_id':'x',"
		       "'transaction_id':'9','expiration_at_ms':10}}",
		     &e),
	    TERR_OK);
	CHECK_STR(e.user, "$RCAnonymousID:ab");
	CHECK_EQ(e.merge_links, 0);
	CHECK_EQ(e.nlinks, 2);
}

TEST(an_app_user_id_too_long_for_a_user_is_only_a_link)
{
	char json[1024], id[200];
	struct bev e;

	memset(id, 'x', 150);
	id[150] = '\0';
	snprintf(json, sizeof(json),
	    "{'event':{'type':'RENEWAL','id':'r1','event_timestamp_ms':5,'app_user_id':'%s',"
	    "'product_id':'x','transaction_id':'9','expiration_at_ms':10}}",
	    id);
	CHECK_EQ(parse(json, &e), TERR_OK);
	CHECK_STR(e.user, "");
	CHECK(linked(&e, id));
}

TEST(play_ids_match_whole_then_by_subscription_id)
{
	struct bev e;
	char json[512];

	snprintf(json, sizeof(json),
	    "{'event':{'type':'RENEWAL','id':'p1','event_timestamp_ms':5,'app_user_id':'u',"
	    "'product_id':'%s','transaction_id':'GPA.1..0','original_transaction_id':'GPA.1',"
	    "'expiration_at_ms':10,'store':'PLAY_STORE'}}",
	    "basic:monthly-autorenew");
	CHECK_EQ(parse(json, &e), TERR_OK);
	CHECK_STR(e.sub.product, "basic");
	CHECK_STR(e.pay.product, "basic");
	CHECK(revenuecat_product(&cfg, "PLAY_STORE", "basic:yearly") == cfg_product(&cfg, "basic"));
	CHECK(revenuecat_product(&cfg, "PLAY_STORE", "pro:monthly") == cfg_product(&cfg, "pro"));
	/* Not on another store, and not when nothing matches. */
	CHECK(revenuecat_product(&cfg, "APP_STORE", "basic:yearly") == NULL);
	CHECK(revenuecat_product(&cfg, "PLAY_STORE", "nope:x") == NULL);
	snprintf(json, sizeof(json),
	    "{'event':{'type':'RENEWAL','id':'p2','event_timestamp_ms':5,'app_user_id':'u',"
	    "'product_id':'pro:monthly','transaction_id':'9','expiration_at_ms':10,"
	    "'store':'PLAY_STORE'}}");
	CHECK_EQ(parse(json, &e), TERR_OK);
	CHECK_STR(e.sub.product, "pro:monthly");
}

TEST(stores_select_the_catalog_name)
{
	CHECK_STR(revenuecat_store_provider("APP_STORE"), "apple");
	CHECK_STR(revenuecat_store_provider("MAC_APP_STORE"), "apple");
	CHECK_STR(revenuecat_store_provider("PLAY_STORE"), "google");
	CHECK_STR(revenuecat_store_provider("STRIPE"), "stripe");
	CHECK_STR(revenuecat_store_provider("AMAZON"), "amazon");
	CHECK_STR(revenuecat_store_provider("RC_BILLING"), "");
	CHECK_STR(revenuecat_store_provider("PROMOTIONAL"), "");
}

TEST(sandbox_environment_is_not_live)
{
	struct bev e;

	CHECK_EQ(parse("{'event':{'type':'RENEWAL','id':'s1','event_timestamp_ms':5,"
		       "'app_user_id':'u','product_id':'x','transaction_id':'9',"
		       "'expiration_at_ms':10,'environment':'SANDBOX'}}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.live, 0);
}

TEST(minor_units_follow_the_currency)
{
	struct bev e;

	CHECK_EQ(parse("{'event':{'type':'NON_RENEWING_PURCHASE','id':'m1','event_timestamp_ms':5,"
		       "'app_user_id':'u','product_id':'x','transaction_id':'9',"
		       "'currency':'JPY','price_in_purchased_currency':1200}}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.pay.amount, 1200);
	CHECK_EQ(parse("{'event':{'type':'NON_RENEWING_PURCHASE','id':'m2','event_timestamp_ms':5,"
		       "'app_user_id':'u','product_id':'x','transaction_id':'9',"
		       "'currency':'KWD','price_in_purchased_currency':1.25}}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.pay.amount, 1250);
	CHECK_EQ(parse("{'event':{'type':'NON_RENEWING_PURCHASE','id':'m3','event_timestamp_ms':5,"
		       "'app_user_id':'u','product_id':'x','transaction_id':'9',"
		       "'currency':'EUR','price_in_purchased_currency':7.99}}",
		     &e),
	    TERR_OK);
	CHECK_EQ(e.pay.amount, 799);
}

TEST(malformed_bodies_are_refused)
{
	struct bev e;

	CHECK_EQ(parse("not json", &e), TERR_INVAL);
	CHECK_EQ(parse("{'api_version':'1.0'}", &e), TERR_INVAL);
	CHECK_EQ(parse("{'event':[]}", &e), TERR_INVAL);
	CHECK_EQ(parse("{'event':{'type':'RENEWAL','event_timestamp_ms':5}}", &e), TERR_INVAL);
	CHECK_EQ(parse("{'event':{'id':'x','event_timestamp_ms':5}}", &e), TERR_INVAL);
	CHECK_EQ(parse("{'event':{'id':'x','type':'RENEWAL','event_timestamp_ms':'5'}}", &e),
	    TERR_INVAL);
	CHECK_EQ(parse("{'event':{'id':'x','type':'RENEWAL','event_timestamp_ms':5,"
		       "'app_user_id':7}}",
		     &e),
	    TERR_INVAL);
	CHECK_EQ(parse("{'event':{'id':'x','type':'RENEWAL','event_timestamp_ms':5,"
		       "'purchased_at_ms':-1}}",
		     &e),
	    TERR_INVAL);
	CHECK_EQ(parse("{'event':{'id':'x','type':'TRANSFER','event_timestamp_ms':5,"
		       "'transferred_to':[1]}}",
		     &e),
	    TERR_INVAL);
	CHECK(why[0] != '\0');
}

TEST(sync_events_carry_their_operator)
{
	struct bev e;

	CHECK_EQ(parse("{'event':{'id':'sync:u:9:renewal','type':'RENEWAL','event_timestamp_ms':5,"
		       "'app_user_id':'u','product_id':'x','transaction_id':'9',"
		       "'expiration_at_ms':10,'tally_sync':{'operator':'ann'}}}",
		     &e),
	    TERR_OK);
	CHECK_STR(e.reason, "revenuecat sync by operator ann");
	/* RevenueCat's own events never get one. */
	CHECK_EQ(parse("{'event':{'id':'evt9','type':'RENEWAL','event_timestamp_ms':5,"
		       "'app_user_id':'u','product_id':'x','transaction_id':'9',"
		       "'expiration_at_ms':10,'tally_sync':{'operator':'ann'}}}",
		     &e),
	    TERR_OK);
	CHECK_STR(e.reason, "");
}

/* openapi-spec/api-v1.yaml components.examples.Subscriber, as JSON, plus a pack's price. */
static const char subscriber_doc[] =
    "{'request_date':'2019-07-26T17:40:10Z','request_date_ms':1564162810884,'subscriber':{"
    "'entitlements':{'pro_cat':{'expires_date':null,'grace_period_expires_date':null,"
    "'product_identifier':'onetime','purchase_date':'2019-04-05T21:52:45Z'}},"
    "'first_seen':'2019-02-21T00:08:41Z','management_url':'https://apps.apple.com/account/"
    "subscriptions','non_subscriptions':{'onetime':[{'id':'cadba0c81b','is_sandbox':true,"
    "'purchase_date':'2019-04-05T21:52:45Z','store':'app_store','price':{'amount':9.99,"
    "'currency':'USD'}}]},'original_app_user_id':'XXX-XXXXX-XXXXX-XX',"
    "'original_application_version':'1.0','original_purchase_date':'2019-01-30T23:54:10Z',"
    "'other_purchases':{},'subscriptions':{'annual':{'auto_resume_date':null,"
    "'billing_issues_detected_at':null,'expires_date':'2019-08-14T21:07:40Z',"
    "'grace_period_expires_date':null,'is_sandbox':true,'original_purchase_date':"
    "'2019-02-21T00:42:05Z','ownership_type':'PURCHASED','period_type':'normal',"
    "'purchase_date':'2019-07-14T20:07:40Z','refunded_at':null,'store':'play_store',"
    "'store_transaction_id':'GPA.6801-7988-0152-76034..5','unsubscribe_detected_at':"
    "'2019-07-17T22:48:38Z'},'onemonth':{'auto_resume_date':null,'billing_issues_detected_at':"
    "null,'expires_date':'2019-06-17T22:47:55.5Z','grace_period_expires_date':null,"
    "'is_sandbox':true,'original_purchase_date':'2019-02-21T00:42:05Z','ownership_type':"
    "'PURCHASED','period_type':'normal','purchase_date':'2019-06-17T22:42:55+00:00',"
    "'refunded_at':null,'store':'app_store','store_transaction_id':'1000000652379790',"
    "'unsubscribe_detected_at':'2019-06-17T22:48:38Z'},'rc_promo_pro_cat_monthly':{"
    "'auto_resume_date':null,'billing_issues_detected_at':null,'expires_date':"
    "'2019-08-26T01:02:16Z','grace_period_expires_date':null,'is_sandbox':false,"
    "'original_purchase_date':'2019-07-26T01:02:16Z','ownership_type':'FAMILY_SHARED',"
    "'period_type':'normal','purchase_date':'2019-07-26T01:02:16Z','refunded_at':null,"
    "'store':'promotional','store_transaction_id':'a42db3af39530cb82b17eaf9c6576393',"
    "'unsubscribe_detected_at':null}}}}";

TEST(subscriber_document_is_read)
{
	struct rc_subscriber *r = calloc(1, sizeof(*r));
	const char *b = q(subscriber_doc);

	CHECK(r != NULL);
	CHECK_EQ(revenuecat_subscriber_parse(b, strlen(b), r, why, sizeof(why)), TERR_OK);
	CHECK_EQ(r->request_ms, 1564162810884LL);
	CHECK_STR(r->original_app_user_id, "XXX-XXXXX-XXXXX-XX");
	CHECK_EQ(r->nsubs, 3);
	CHECK_STR(r->subs[0].product, "annual");
	CHECK_STR(r->subs[0].store, "PLAY_STORE");
	CHECK_STR(r->subs[0].txn, "GPA.6801-7988-0152-76034..5");
	CHECK_EQ(r->subs[0].sandbox, 1);
	CHECK_EQ(r->subs[0].expires, 1565816860000LL);
	CHECK_EQ(r->subs[0].unsubscribe_at, 1563403718000LL);
	CHECK_EQ(r->subs[0].billing_issue_at, 0);
	/* Fractions of any length and +00:00 are read. */
	CHECK_EQ(r->subs[1].expires, 1560811675500LL);
	CHECK_EQ(r->subs[1].purchased, 1560811375000LL);
	CHECK_STR(r->subs[2].store, "PROMOTIONAL");
	CHECK_EQ(r->npurchases, 1);
	CHECK_STR(r->purchases[0].product, "onetime");
	CHECK_STR(r->purchases[0].txn, "cadba0c81b"); /* no store_transaction_id: its id */
	CHECK_STR(r->purchases[0].currency, "USD");
	CHECK_EQ(r->nents, 1);
	CHECK_STR(r->ents[0].id, "pro_cat");
	CHECK_EQ(r->ents[0].expires, 0);
	CHECK_EQ(r->dropped, 0);
	free(r);
}

TEST(subscriber_document_errors)
{
	struct rc_subscriber *r = calloc(1, sizeof(*r));
	const char *b;

	CHECK(r != NULL);
	b = q("{'request_date_ms':1}");
	CHECK_EQ(revenuecat_subscriber_parse(b, strlen(b), r, why, sizeof(why)), TERR_INVAL);
	b = q("{'subscriber':{'subscriptions':[]}}");
	CHECK_EQ(revenuecat_subscriber_parse(b, strlen(b), r, why, sizeof(why)), TERR_INVAL);
	b = q("{'subscriber':{'subscriptions':{'a':{'expires_date':'yesterday'}}}}");
	CHECK_EQ(revenuecat_subscriber_parse(b, strlen(b), r, why, sizeof(why)), TERR_INVAL);
	CHECK(strstr(why, "expires_date") != NULL);
	b = q("{'subscriber':{'non_subscriptions':{'p':{}}}}");
	CHECK_EQ(revenuecat_subscriber_parse(b, strlen(b), r, why, sizeof(why)), TERR_INVAL);
	b = q("{'subscriber':{}}");
	CHECK_EQ(revenuecat_subscriber_parse(b, strlen(b), r, why, sizeof(why)), TERR_OK);
	CHECK_EQ(r->nsubs + r->npurchases + r->nents, 0);
	free(r);
}

TEST(subscriber_without_api_key_is_a_config_error)
{
	struct rc_subscriber *r = calloc(1, sizeof(*r));
	long retry = 0;

	CHECK(r != NULL);
	CHECK_EQ(revenuecat_subscriber(&cfg, "u", r, &retry, why, sizeof(why)), TERR_CONFIG);
	CHECK(strstr(why, "REVENUECAT_API_KEY") != NULL);
	CHECK_EQ(retry, -1);
	free(r);
}

int
main(void)
{
	char w[256];

	cfg_defaults(&cfg);
	if (cfg_parse(&cfg, q(catalog), strlen(q(catalog)), w, sizeof(w)) != TERR_OK) {
		printf("FAIL setup: %s\n", w);
		return 1;
	}
	RUN(verify_accepts_the_configured_value);
	RUN(verify_refuses_missing_wrong_and_other_lengths);
	RUN(verify_without_a_configured_value_refuses_as_config_error);
	RUN(initial_purchase_is_sub_active_and_initial_payment);
	RUN(initial_purchase_trial_on_play_is_trialing_with_trial_payment);
	RUN(renewal_keeps_the_cancel_flag_unsaid_and_resets_credits);
	RUN(cancellation_unsubscribe_keeps_access_until_expiry);
	RUN(cancellation_other_reasons);
	RUN(cancellation_customer_support_is_a_full_refund_of_the_transaction);
	RUN(cancellation_of_a_purchase_that_does_not_renew_changes_nothing);
	RUN(uncancellation_turns_renewal_back_on);
	RUN(non_renewing_purchase_is_a_one_off_payment);
	RUN(non_renewing_period_and_promotional_grants);
	RUN(expiration_ends_access_and_a_pause_expires_as_paused);
	RUN(billing_issue_is_past_due_with_grace_and_a_notice);
	RUN(product_change_and_pause_only_link);
	RUN(subscription_extended_moves_the_period_only);
	RUN(transfer_moves_from_the_sources_to_the_destination);
	RUN(temporary_entitlement_grant_is_a_period_without_payment);
	RUN(refund_reversed_reinstates_the_transaction);
	RUN(virtual_currency_adjustments_are_credits);
	RUN(test_invoice_experiment_alias_and_unknown_types);
	RUN(anonymous_only_events_name_the_anonymous_user_without_merging);
	RUN(an_app_user_id_too_long_for_a_user_is_only_a_link);
	RUN(play_ids_match_whole_then_by_subscription_id);
	RUN(stores_select_the_catalog_name);
	RUN(sandbox_environment_is_not_live);
	RUN(minor_units_follow_the_currency);
	RUN(malformed_bodies_are_refused);
	RUN(sync_events_carry_their_operator);
	RUN(subscriber_document_is_read);
	RUN(subscriber_document_errors);
	RUN(subscriber_without_api_key_is_a_config_error);
	cfg_release(&cfg);
	return t_done();
}
