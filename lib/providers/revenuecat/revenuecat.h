/*
 * RevenueCat: webhook authentication, the mapping of RevenueCat events (and
 * through them Google Play's, Amazon's and the other stores') to normalized
 * billing events, the REST API v1 client and the comparison behind
 * `tally revenuecat sync`. Only these files know RevenueCat's wire format:
 *
 *   revenuecat.c       authentication and reading an event (what a handler links)
 *   revenuecat_map.c   what each event type means (the table below)
 *   revenuecat_api.c   GET /v1/subscribers/{app_user_id} over httpc (libcurl)
 *   revenuecat_sync.c  RevenueCat's view of a customer against tally's, as events
 *
 * Sources: RevenueCat/docs @bf39a9c docs/integrations/webhooks.md,
 * docs/integrations/webhooks/event-types-and-fields.mdx, event-flows.md,
 * code_blocks/integrations/webhooks/ (sample events), openapi-spec/api-v1.yaml
 * (PROVIDERS.md section 3).
 *
 * Authentication (webhooks.md "Authorization"): RevenueCat sends the value
 * set in its dashboard verbatim as the Authorization header of every POST;
 * no signature scheme is documented. tally compares the whole header value
 * with REVENUECAT_WEBHOOK_AUTH.
 *
 * Mapping (one event, its aspects; event-types-and-fields.mdx "Event Types"):
 *   INITIAL_PURCHASE      SUB trialing (period_type TRIAL) or active + PAY initial
 *   RENEWAL               SUB active (trialing if TRIAL) + PAY renewal: credits RESET,
 *                         to the product the event names (a deferred PRODUCT_CHANGE
 *                         takes effect here)
 *   CANCELLATION          cancel_reason CUSTOMER_SUPPORT (a refund): REFUND full of
 *                         transaction_id (revokes, claws back); BILLING_ERROR: SUB
 *                         past_due (like BILLING_ISSUE, which RevenueCat sends with
 *                         it); UNSUBSCRIBE, PRICE_INCREASE, DEVELOPER_INITIATED,
 *                         UNKNOWN and any other: SUB canceled, access until
 *                         expiration_at_ms (EXPIRATION ends it)
 *   UNCANCELLATION        SUB active, auto-renew back on
 *   NON_RENEWING_PURCHASE PAY one-off (a pack ADDS credits); with expiration_at_ms, a
 *                         subscription product is a period that will not renew (SUB
 *                         canceled + PAY initial); store PROMOTIONAL: SUB without
 *                         payment (entitlements, no credits)
 *   EXPIRATION            SUB expired (paused when expiration_reason is
 *                         SUBSCRIPTION_PAUSED): access and plan credits end
 *   BILLING_ISSUE         SUB past_due, grace until grace_period_expiration_at_ms (else
 *                         policy.grace_period) + NOTICE billing_issue
 *   PRODUCT_CHANGE        links only: the new product takes effect with the RENEWAL or
 *                         INITIAL_PURCHASE that carries it
 *   SUBSCRIPTION_PAUSED   links only: access continues until EXPIRATION
 *   SUBSCRIPTION_EXTENDED SUB with the new period end, state unchanged, no credits
 *   TRANSFER              TRANSFER from transferred_from to transferred_to
 *   TEMPORARY_ENTITLEMENT_GRANT  SUB canceled until expiration_at_ms (at most 24 h),
 *                         keyed on transaction_id, no payment and so no credits;
 *                         INITIAL_PURCHASE of that transaction replaces it
 *   REFUND_REVERSED       REINSTATE of transaction_id
 *   VIRTUAL_CURRENCY_TRANSACTION  CREDIT: the sum of the adjustments, whatever their
 *                         currency code (refused when one event mixes codes)
 *   SUBSCRIBER_ALIAS      links only (legacy)
 *   TEST, INVOICE_ISSUANCE, EXPERIMENT_ENROLLMENT and unknown types: stored, ignored,
 *                         with the reason
 */
#ifndef TALLY_REVENUECAT_H
#define TALLY_REVENUECAT_H

#include <stddef.h>
#include <stdint.h>

#include "base/event.h"
#include "cfg/cfg.h"
#include "providers/hook.h"
#include "store/store.h"

/* The link kind under which RevenueCat's app user ids (and aliases) find a tally user. */
#define RC_LINK_KIND   "app_user_id"
/* RevenueCat's anonymous ids (SDK "anonymous app user ids"). */
#define RC_ANON_PREFIX "$RCAnonymousID:"

/*
 * Check the Authorization header value (NULL when absent) against the
 * configured value: lengths first, then ct_eq over the bytes. TERR_OK;
 * TERR_AUTH for a missing or wrong value; TERR_CONFIG when none is
 * configured. *why is a static description for the client; neither value is
 * ever copied or logged.
 */
enum terr revenuecat_verify(const struct cfg_revenuecat *c, const char *header, const char **why);

/*
 * The webhook's side for the provider table (hook.h): no state; init says
 * TERR_CONFIG, "REVENUECAT_WEBHOOK_AUTH is not set", when it is not;
 * verify is revenuecat_verify of the request's Authorization.
 */
enum terr revenuecat_hook_init(void **state, const struct cfg *c, char *why, size_t whysize);
enum terr revenuecat_hook_verify(void *state, const struct cfg *c, const struct hook_req *q,
    const char **why);

/*
 * Map a verified (authenticated) event body into e (bev_init'ed here; e->raw
 * points into body). TERR_INVAL with why when the body is not a RevenueCat
 * event or a field has the wrong type. Event types without effects map to an
 * event without aspects and a note (stored, acknowledged).
 */
enum terr revenuecat_parse(const struct cfg *c, const char *body, size_t n, struct bev *e,
    char *why, size_t whysize);

/* The catalog's provider name for a RevenueCat store ("PLAY_STORE" -> "google"), or "". */
const char *revenuecat_store_provider(const char *store);

/*
 * The catalog product of a RevenueCat product id bought in store: its id
 * under match.<store provider>, else under match.revenuecat; a Google Play
 * "<subscription>:<base plan>" id not listed whole falls back to the
 * subscription id. NULL when the catalog has none.
 */
const struct product *revenuecat_product(const struct cfg *c, const char *store,
    const char *product_id);

/* --- REST API v1 (revenuecat_api.c) --- */

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

/* --- sync (revenuecat_sync.c) --- */

#define RC_CHANGES_MAX 96
#define RC_BODY_MAX    2048

/* One difference between RevenueCat's view and tally's, and the event that mends it. */
struct rc_change {
	char what[16];          /* "subscription", "purchase", "entitlement" */
	char product[ID_MAX];   /* RevenueCat's product id, or the entitlement */
	char txn[ID_MAX];       /* store transaction id, "" for entitlements */
	char tally[24];         /* tally's state ("missing" when tally has none) */
	char revenuecat[24];    /* RevenueCat's state */
	char event_type[32];    /* the RevenueCat event type applied; "" = reported only */
	char event_id[ID_MAX];  /* "sync:<user>:<txn>:<what>": a second sync finds it stored */
	char note[160];         /* why, for people */
	char body[RC_BODY_MAX]; /* the synthetic event, in RevenueCat's webhook shape */
	/* After revenuecat_sync_apply: */
	int done;
	int duplicate;
	enum inbox_state state;
	char reason[REASON_MAX];
};

struct rc_sync {
	char user[USER_ID_MAX +
	    1];        /* the tally user compared (the one named, or who it merged into) */
	int64_t as_of; /* RevenueCat's request time: every synthetic event's time */
	struct rc_change changes[RC_CHANGES_MAX];
	size_t n;
	size_t dropped; /* differences past RC_CHANGES_MAX (run sync again) */
};

/*
 * Compare RevenueCat's view rc of app user id user with tally's (read through
 * store, never written) and plan the events that bring tally to RevenueCat's
 * view: missed purchases and renewals, expirations, refunds, cancellations
 * and their reversal, billing issues, packs. Entitlement differences that no
 * event explains are reported only (tally's entitlements follow its catalog).
 * operator_ names who ran it (in each event's reason). Allocate out.
 * Returns only storage errors and TERR_TOOBIG.
 */
enum terr revenuecat_sync_plan(struct store *s, const struct cfg *c, const char *user,
    const struct rc_subscriber *rc, const char *operator_, struct rc_sync *out);

/*
 * Apply the planned events in order, through revenuecat_parse and apply (one
 * transaction), recording what became of each in its change. Returns the
 * storage error when nothing was committed.
 */
enum terr revenuecat_sync_apply(struct store *s, const struct cfg *c, struct rc_sync *plan,
    int64_t now);

#endif
