/*
 * The provider-neutral billing event ("bev" in names: billing event). A
 * handler (or a job, or the CLI) turns what a provider said into one struct bev; apply() knows only this
 * struct and never a provider's wire format.
 *
 * An event is made of aspects (bit flags in bev.aspects), each optional:
 *   BEV_SUB     the state of a subscription as of bev.at
 *   BEV_PAY     money received (a grant follows from the product and policy)
 *   BEV_REFUND  money returned or disputed (what it granted is revoked)
 *   BEV_ALIAS   more business keys for a payment already known
 *   BEV_NOTICE  a message for the user or the app (outbox), no state change
 *   BEV_CREDIT  a direct credit grant or revoke (operator, job)
 *   BEV_LINKONLY nothing but the user and the links it carries
 * and the aspects of tally's own events (op.h: operator, app, job):
 *   BEV_ORDER    money for an order tally issued, checked against the order
 *   BEV_ORDER_NEW an order issued, BEV_REGISTER a user registered (free tier),
 *   BEV_SPEND    credits spent (idempotent, answered), BEV_ENTITLE a promotional
 *   entitlement, BEV_REFERRER a referrer set, BEV_SUBSET an operator's or a
 *   job's subscription state, BEV_TRIAL the app-managed trial, BEV_RESET a credit
 *   period, BEV_ALLOWANCE the free allowance, BEV_EXPIRE expired grants,
 *   BEV_BUY a plan bought or renewed from the credit balance
 * plus links: the provider's ids for the user, recorded when the event
 * names the user and used to find the user when it does not.
 *
 * All strings are NUL-terminated copies (no pointers into the request), so a
 * bev outlives the request that produced it. Times are ms since the epoch.
 */
#ifndef TALLY_EVENT_H
#define TALLY_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "base/tally_limits.h"

#define PROVIDER_MAX  16
#define KIND_MAX      24
#define TYPE_MAX      96
#define CURRENCY_MAX  8
#define BEV_LINKS_MAX 8
#define ACTOR_MAX     (PROVIDER_MAX + ID_MAX + 16) /* "stripe:evt_...", "operator:alice" */

enum sub_state {
	SUB_NONE = 0,   /* the event does not say */
	SUB_INCOMPLETE, /* created, first payment not made: no access */
	SUB_TRIALING,   /* free trial: access until the trial ends */
	SUB_ACTIVE,     /* paid: access until the period ends */
	SUB_CANCELED,   /* auto-renew off: access until the period ends, then expired */
	SUB_PAST_DUE,   /* renewal failed, provider retrying: access until grace ends */
	SUB_PAUSED,     /* no access until resumed */
	SUB_EXPIRED,    /* ended: no access */
	SUB_REVOKED,    /* taken away (dispute, family sharing revoked, operator): no access */
	SUB_REFUNDED,   /* money returned: no access */
	SUB__MAX
};

enum pay_kind {
	PAY_INITIAL, /* first payment of a subscription: credits SET */
	PAY_RENEWAL, /* a new period: credits RESET */
	PAY_CHANGE,  /* plan change (proration): credits follow the product change */
	PAY_OTHER,   /* other invoices of a subscription: recorded, no credits */
	PAY_ONE_OFF, /* a pack: credits ADD */
	PAY__MAX
};

enum refund_kind {
	REFUND_FULL,    /* all money returned: revoke what the payment granted */
	REFUND_PARTIAL, /* part returned: recorded and alerted, nothing revoked */
	REFUND_DISPUTE, /* chargeback opened: revoke at once */
	REFUND__MAX
};

enum credit_op { CREDIT_GRANT, CREDIT_REVOKE };

/* Where credits came from (a grant's source). */
enum grant_source {
	GRANT_SUBSCRIPTION,
	GRANT_TRIAL,
	GRANT_PACK,
	GRANT_PROMO,
	GRANT_ADMIN,
	GRANT_FREE,
	GRANT_REFERRAL,
	GRANT__MAX
};

enum {
	BEV_SUB = 1 << 0,
	BEV_PAY = 1 << 1,
	BEV_REFUND = 1 << 2,
	BEV_ALIAS = 1 << 3,
	BEV_NOTICE = 1 << 4,
	BEV_CREDIT = 1 << 5,
	BEV_LINKONLY = 1 << 6,  /* only the user and links matter (a checkout of a subscription) */
	BEV_UNLINK = 1 << 7,    /* remove the links (operator) */
	BEV_REINSTATE = 1 << 8, /* a refund or dispute reversed: what it revoked comes back */
	BEV_TRANSFER =
	    1 << 9, /* subscriptions (and maybe packs) move from other users to this one */
	BEV_ORDER = 1 << 10,
	BEV_ORDER_NEW = 1 << 11,
	BEV_REGISTER = 1 << 12,
	BEV_SPEND = 1 << 13,
	BEV_ENTITLE = 1 << 14,
	BEV_REFERRER = 1 << 15,
	BEV_SUBSET = 1 << 16,
	BEV_TRIAL = 1 << 17,
	BEV_RESET = 1 << 18,
	BEV_ALLOWANCE = 1 << 19,
	BEV_EXPIRE = 1 << 20,
	BEV_BUY = 1 << 21,
	BEV_TASK = 1 << 22, /* work owed to the provider once the event commits (struct bev_task) */
};

struct bev_link {
	char kind[KIND_MAX]; /* "customer", "subscription", "app_account_token", ... */
	char id[ID_MAX];
};

struct bev_keys {
	char k[PAY_KEYS_MAX][ID_MAX];
	size_t n;
};

struct bev_sub {
	char id[ID_MAX];      /* provider's subscription id */
	char product[ID_MAX]; /* provider's product or price id; "" when not said */
	enum sub_state state; /* SUB_NONE when not said */
	int64_t period_start;
	int64_t period_end;
	int64_t trial_end;
	int64_t grace_until;      /* end of access while past_due; 0 = policy default */
	int cancel_at_period_end; /* -1 not said, 0, 1 */
	char store[PROVIDER_MAX]; /* where it was bought, when the provider says ("PLAY_STORE") */
	/*
	 * The provider's id of a subscription this one supersedes (Google Play's
	 * linkedPurchaseToken: an upgrade, downgrade or resubscribe): it ends
	 * as of this event, and its user is this one's when the event names none.
	 */
	char replaces[ID_MAX];
};

struct bev_pay {
	enum pay_kind kind;
	struct bev_keys keys; /* business keys: the first is the primary */
	int64_t amount;       /* smallest currency unit */
	char currency[CURRENCY_MAX];
	char product[ID_MAX];   /* provider's product or price id, or a catalog id */
	int product_is_catalog; /* product names a catalog product directly (metadata) */
	int64_t period_start;
	int64_t period_end; /* subscriptions: end of the period paid for */
	int trial;          /* a free trial started (amount 0) */
	int64_t quantity;   /* one-off purchases of several units (consumables); 0 or 1 = one */
};

struct bev_refund {
	enum refund_kind kind;
	struct bev_keys keys;
	int64_t amount;
	/*
	 * amount is what the payment has had returned in all so far (Stripe's
	 * charge.amount_refunded), not this refund's own: the metrics count the
	 * difference from what they counted before.
	 */
	int cumulative;
};

struct bev_credit {
	enum credit_op op;
	int64_t amount;
	int64_t expires_at;       /* grants: 0 = never */
	enum grant_source source; /* grants */
	int partial_ok;           /* revokes: take what there is rather than fail when short */
};

/* BEV_TRANSFER: the users (by provider ids) whose purchases move to the event's user. */
struct bev_transfer {
	struct bev_link from[BEV_LINKS_MAX];
	size_t nfrom;
	int packs; /* purchased packs move too (else they stay with their buyer) */
};

/*
 * BEV_ORDER: a provider says an order tally issued was paid. The order, not
 * the event, says who, what and how much: the event's amount and currency
 * must equal the order's, the money must be captured, the order pending (or
 * already paid by this very charge), and not expired.
 * BEV_ORDER_NEW: the order itself, issued by the API (app event).
 */
struct bev_order {
	char id[ID_MAX];           /* tally's order id, as the provider echoes it back */
	char provider_ref[ID_MAX]; /* the provider's order or invoice id, when the event names it */
	char charge_id[ID_MAX];    /* the provider's id of the payment: a business key */
	/*
	 * What the provider says was paid, in the smallest unit; -1 when what it
	 * sent is no amount of currency (bev.note quotes it): refused as malformed.
	 */
	int64_t amount;
	char currency[16];
	int captured; /* the money is secured (captured, successful_payment, paid) */
	int64_t
	    period_end; /* a plan the provider renews itself: the end it says; 0 = the product's period */
	int recurring; /* a renewal of such a plan (a new charge for the same order) */
	/* BEV_ORDER_NEW */
	char provider[PROVIDER_MAX]; /* where the order's money comes from */
	char product[CFG_NAME_MAX];  /* catalog id */
	int64_t expires_at;          /* a pending order is refused after this */
	int canceled; /* BEV_ORDER_NEW of an existing order: it was never made at the provider */
};

/*
 * BEV_TASK: work tally owes the provider once the event has committed
 * (Google Play's acknowledge and consume; later the stores' refund
 * answers). Stored in the event's own transaction, keyed (provider, kind,
 * key) so that a duplicate event adds nothing; tried right after the
 * commit, then retried with backoff by the tasks job until done, and
 * alerted well before deadline.
 */
struct bev_task {
	char kind[KIND_MAX]; /* "google_ack_sub", "google_ack_product", "google_consume" */
	char key[ID_MAX];    /* what it is about: the purchase token */
	char arg[ID_MAX];    /* what the call needs besides: the product id */
	int64_t deadline;    /* ms: after this the provider no longer takes it; 0 none */
};

/* tally's own events: what the API, the operator or a job did (op.h). */
struct bev_act {
	int64_t sub_id;       /* BEV_SUBSET, BEV_RESET, BEV_BUY renewals: tally's subscription id */
	enum sub_state state; /* BEV_SUBSET */
	char name[CFG_NAME_MAX]; /* BEV_ENTITLE: the entitlement; BEV_BUY, BEV_TRIAL: the product */
	int64_t ends_at;         /* BEV_ENTITLE: 0 = no end; BEV_RESET: the credit period's start */
	char referrer[USER_ID_MAX + 1]; /* BEV_REFERRER */
	char request_hash[72];          /* BEV_SPEND: hex SHA-256 of the request (idempotency) */
};

struct bev {
	char provider[PROVIDER_MAX]; /* "stripe", "operator", "job" ... */
	char id[ID_MAX];             /* provider's event id: the dedup key */
	char type[TYPE_MAX];         /* provider's event type, for the record */
	int64_t at;                  /* provider's time of the event */
	unsigned rank;               /* orders events of the same ms (lifecycle rank) */
	int live;                    /* 1 livemode/production, 0 test/sandbox */
	char match_provider
	    [PROVIDER_MAX]; /* catalog ids looked up under this name first ("google") */

	char user[USER_ID_MAX + 1]; /* the app's user id when the event names it */
	int user_must_exist;        /* an unknown user fails the event (operator actions) */
	int atomic;                 /* all or nothing: an event that cannot finish is not stored */
	/*
	 * The event's links all name one person (RevenueCat aliases): when they
	 * lead to different users, those are merged into the one named by user
	 * (or found through the first link) instead of failing as a conflict.
	 */
	int merge_links;
	struct bev_link links[BEV_LINKS_MAX];
	size_t nlinks;
	char link_provider[PROVIDER_MAX]; /* whose ids links are; "" = provider (operator links) */

	unsigned aspects;
	struct bev_sub sub;
	struct bev_pay pay;
	struct bev_refund refund;
	struct bev_keys alias; /* BEV_ALIAS: keys[0] known, the rest attached to it */
	struct bev_credit credit;
	struct bev_keys reinstate; /* BEV_REINSTATE: the payment's keys */
	struct bev_transfer transfer;
	char notice[KIND_MAX + 24]; /* BEV_NOTICE: outbox topic ("trial_will_end") */
	char notice_key[ID_MAX];    /* BEV_NOTICE: dedup of the notice when not the event itself */
	struct bev_order order;
	struct bev_act act;
	struct bev_task task;

	char note[REASON_MAX];   /* why nothing applies (no aspects), or context */
	char actor[ACTOR_MAX];   /* audit "who" for operator/job events; provider:id otherwise */
	char reason[REASON_MAX]; /* operator's reason */
	/*
	 * The provider said something authenticated that tally cannot record as
	 * it is (an amount past MONEY_MINOR_MAX): the event is stored failed with
	 * this reason and alerted, nothing applied (invariant 1). "" otherwise.
	 */
	char refusal[REASON_MAX];

	const char *raw; /* the body as received (stored in the inbox) */
	size_t raw_len;
};

void bev_init(struct bev *e);

/* Add a link (kind, id); ignored when id is empty; TERR_TOOBIG past BEV_LINKS_MAX or ID_MAX. */
int bev_link(struct bev *e, const char *kind, const char *id);
/* Add a business key; ignored when empty or already present. */
int bev_key(struct bev_keys *k, const char *key);

const char *sub_state_str(enum sub_state s);
enum sub_state sub_state_parse(const char *s); /* SUB_NONE when unknown */
const char *pay_kind_str(enum pay_kind k);
enum pay_kind pay_kind_parse(const char *s);
const char *refund_kind_str(enum refund_kind k);

/*
 * The lifecycle rank of a state, used to order two events that carry the
 * same timestamp (providers stamp in seconds; a subscription is often
 * created "incomplete" and becomes "active" within one second).
 */
unsigned sub_state_rank(enum sub_state s);

#endif
