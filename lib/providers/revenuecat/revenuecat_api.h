/*
 * RevenueCat's REST API v1 (revenuecat_api.c): what it knows of one customer
 * (openapi-spec/api-v1.yaml, RevenueCat/docs @bf39a9c; PROVIDERS.md
 * section 3). Read by `tally revenuecat sync` and tally-reconcile.
 */
#ifndef TALLY_REVENUECAT_API_H
#define TALLY_REVENUECAT_API_H

#include <stddef.h>
#include <stdint.h>

#include "base/event.h"
#include "cfg/cfg.h"

#define RC_NAME_MAX      64
#define RC_SUBS_MAX      64
#define RC_PURCHASES_MAX 256
#define RC_ENTS_MAX      64

/* subscriber.subscriptions.<product_id> */
struct rc_subscription {
	char product[ID_MAX];
	char store[PROVIDER_MAX];    /* upper case, as in webhooks: "APP_STORE", "PLAY_STORE" */
	char txn[ID_MAX];            /* store_transaction_id: the latest transaction */
	char period_type[16];        /* "normal", "trial", "intro" */
	int sandbox;                 /* is_sandbox */
	int64_t purchased;           /* purchase_date: start of the latest period */
	int64_t expires;             /* expires_date; 0 = none */
	int64_t grace_expires;       /* grace_period_expires_date; 0 = none */
	int64_t unsubscribe_at;      /* unsubscribe_detected_at; 0 = none */
	int64_t billing_issue_at;    /* billing_issues_detected_at; 0 = none */
	int64_t refunded_at;         /* refunded_at; 0 = none */
	double price;                /* price.amount, in the currency purchased in */
	char currency[CURRENCY_MAX]; /* price.currency */
};

/* One element of subscriber.non_subscriptions.<product_id>[] */
struct rc_purchase {
	char product[ID_MAX];
	char id[ID_MAX];  /* RevenueCat's id of the purchase */
	char txn[ID_MAX]; /* store_transaction_id ("" when absent: id is used) */
	char store[PROVIDER_MAX];
	int sandbox;
	int64_t purchased;
	double price;
	char currency[CURRENCY_MAX];
};

/* subscriber.entitlements.<id> */
struct rc_entitlement {
	char id[RC_NAME_MAX];
	char product[ID_MAX];
	int64_t expires; /* 0 = lifetime (expires_date null) */
	int64_t grace_expires;
};

/* What RevenueCat knows of one customer, as of request_ms. */
struct rc_subscriber {
	int64_t request_ms; /* request_date_ms */
	int created;        /* 201: RevenueCat created the customer on this request */
	char original_app_user_id[ID_MAX];
	struct rc_subscription subs[RC_SUBS_MAX];
	size_t nsubs;
	struct rc_purchase purchases[RC_PURCHASES_MAX];
	size_t npurchases;
	struct rc_entitlement ents[RC_ENTS_MAX];
	size_t nents;
	size_t dropped; /* entries past the bounds above, not read */
};

/*
 * GET {revenuecat.api_base}/v1/subscribers/{app_user_id} with
 * "Authorization: Bearer REVENUECAT_API_KEY" (the secret key; no X-Platform:
 * this is an informational read). Note that RevenueCat creates a customer it
 * does not know (201). Fills out (large: allocate it). Returns TERR_OK;
 * TERR_CONFIG (no API key); TERR_NOTFOUND (404); TERR_BUSY (429, with
 * *retry_after the seconds of its Retry-After or -1); TERR_AUTH (401, 403);
 * TERR_IO (no answer, timeout, or another status); TERR_INVAL (an answer that
 * is not a subscriber document); TERR_TOOBIG. why says which, never with the
 * key.
 */
enum terr revenuecat_subscriber(const struct cfg *c, const char *app_user_id,
    struct rc_subscriber *out, long *retry_after, char *why, size_t whysize);

/* Parse a GET /v1/subscribers response body into out (tests, fuzzing). TERR_INVAL with why. */
enum terr revenuecat_subscriber_parse(const char *body, size_t n, struct rc_subscriber *out,
    char *why, size_t whysize);

#endif
