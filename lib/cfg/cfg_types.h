/*
 * The configuration as read (cfg.h): what every section of the config file
 * fills and the rest of tally reads. Apart from cfg.h so that the sections'
 * parsers (cfg_catalog.c, cfg_providers.c ...) see the types without the
 * loader that calls them.
 */
#ifndef TALLY_CFG_TYPES_H
#define TALLY_CFG_TYPES_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "base/tally_limits.h"
#include "base/tm.h"

#define CFG_PATH_MAX 1024
#define SECRET_MAX   512

enum product_kind {
	PRODUCT_SUBSCRIPTION, /* recurring: entitlements while access lasts, credits per period */
	PRODUCT_PACK,         /* one-off: credits added */
};

enum credit_policy {
	/*
	 * The default, what customers ask for: a new subscription SETS the
	 * subscription credits to the plan's amount, each renewal RESETS them
	 * (unused credits do not carry over), a plan change RESETS them to the
	 * new plan's amount at once, a cancellation keeps them until access ends.
	 */
	CREDIT_RESET,
	/* Each paid period ADDS the plan's amount, and they never expire (rollover). */
	CREDIT_ACCUMULATE,
};

struct product_match {
	char provider[16];
	char id[ID_MAX];
};

#define PRICES_MAX 8
#define URL_MAX    512
#define ROOTS_MAX  4

/* What tally charges for a product where tally sets the price ("direct" providers: Razorpay,
 * Telegram, CryptoBot, paid through tally's own checkout rather than a store). */
struct product_price {
	char currency[16]; /* ISO 4217, XTR (Telegram Stars) or a crypto asset (money.h) */
	int64_t amount;    /* in the currency's smallest unit, > 0 */
};

/*
 * A low-balance threshold (balance_alerts.low, products.<id>.balance_low):
 * a number of credits, or a percentage of the user's allowance for the
 * period (lib/core/apply_balance.c says which). Both 0: none set.
 */
struct cfg_threshold {
	int64_t credits; /* 1..CREDITS_MAX, or 0 */
	int64_t percent; /* 1..100, or 0 */
};

struct product {
	char id[CFG_NAME_MAX];
	enum product_kind kind;
	enum credit_policy policy;
	int64_t credits;        /* per paid period (subscription) or per purchase (pack) */
	int64_t trial_credits;  /* during a free trial; defaults to credits */
	int64_t credits_expire; /* packs: ms after purchase the credits expire; 0 = never */
	char ents[PRODUCT_ENT_MAX][CFG_NAME_MAX];
	size_t nents;
	struct product_match match[PRODUCT_MATCH_MAX];
	size_t nmatch;
	struct product_price prices[PRICES_MAX]; /* products.<id>.prices */
	size_t nprices;
	/* A subscription sold by tally itself (direct providers, the credit balance): one purchase lasts this long. */
	struct tm_period period; /* products.<id>.period; zero: not sold so */
	/* Credits reset this often within a longer paid period (a yearly plan with monthly credits). */
	struct tm_period
	    credit_period;     /* products.<id>.credit_period; zero: once per paid period */
	int64_t price_credits; /* bought from the credit balance for this many; 0: not sold so */
	char stripe_price[ID_MAX];        /* the Stripe price a checkout of this product uses */
	struct cfg_threshold balance_low; /* products.<id>.balance_low; none: balance_alerts.low */
};

struct cfg_stripe {
	char secrets[SECRETS_MAX]
		    [SECRET_MAX]; /* STRIPE_WEBHOOK_SECRET, comma-separated for rotation */
	size_t nsecrets;
	int test_mode;            /* accept livemode=false events (stripe.test_mode) */
	int64_t tolerance;        /* ms (stripe.tolerance) */
	char api_key[SECRET_MAX]; /* STRIPE_API_KEY: secret key for Checkout and reconciliation */
	char api_base[URL_MAX];   /* stripe.api_base */
	char user_key
	    [CFG_NAME_MAX]; /* metadata key naming the app's user (stripe.user_metadata_key) */
	char product_key
	    [CFG_NAME_MAX]; /* metadata key naming the product (stripe.product_metadata_key) */
	/* stripe.portal_login_url: the customer portal's login link, shown as where to manage */
	char portal_login_url[URL_MAX];
};

struct cfg_policy {
	int64_t
	    grace; /* ms of access kept after a failed renewal when the provider gives no date */
	int64_t leeway; /* ms of access kept past a period end while the renewal is on its way */
};

/* Outbound HTTP (libcurl): the proxy comes from here only, never from the environment. */
struct cfg_http {
	char proxy[URL_MAX];     /* http.proxy; "" = none */
	int64_t timeout;         /* ms, http.timeout */
	int64_t connect_timeout; /* ms, http.connect_timeout */
};

struct cfg_apple {
	int enabled; /* the section is present */
	char bundle_id[CFG_NAME_MAX * 2];
	int64_t app_apple_id; /* required to accept Production notifications */
	int sandbox;          /* accept Sandbox notifications (apple.sandbox) */
	int token_is_user; /* appAccountToken is the app's user id (apple.account_token_is_user_id) */
	char roots[ROOTS_MAX]
		  [CFG_PATH_MAX]; /* trusted roots (DER or PEM files); none = Apple Root CA - G3 */
	size_t nroots;
	char api_base[URL_MAX];           /* App Store Server API, production */
	char api_sandbox_base[URL_MAX];   /* and sandbox */
	char key_id[32];                  /* In-App Purchase key id (kid) */
	char issuer_id[64];               /* App Store Connect issuer id (iss) */
	char private_key[SECRET_MAX * 4]; /* APPLE_PRIVATE_KEY(_FILE): the .p8 PEM */
};

struct cfg_revenuecat {
	char auth[SECRET_MAX];    /* REVENUECAT_WEBHOOK_AUTH: the Authorization header value */
	char api_key[SECRET_MAX]; /* REVENUECAT_API_KEY: secret API key for the REST API */
	int sandbox;              /* accept SANDBOX events (revenuecat.sandbox) */
	int transfer_packs;     /* TRANSFER moves purchased packs too (revenuecat.transfer_packs) */
	char api_base[URL_MAX]; /* revenuecat.api_base */
};

/*
 * Google Play (google; docs/google.md): the app's package, what its Pub/Sub
 * pushes must carry (their OIDC token's audience and service account),
 * where Google's keys and APIs are. The service account's key file is a
 * path from GOOGLE_SERVICE_ACCOUNT_FILE, read when the API is called.
 */
#define GOOGLE_CFG_EMAIL_MAX 256 /* an email with its NUL (RFC 5321 4.5.3.1.3) */
/*
 * What a purchase's obfuscatedExternalAccountId holds (google.identity): the
 * app's user id itself, or hex HMAC-SHA256(GOOGLE_IDENTITY_KEY, user id),
 * for an app whose user ids are PII that Google forbids there.
 */
enum google_identity { GOOGLE_IDENTITY_USER_ID, GOOGLE_IDENTITY_HMAC };
struct cfg_google {
	int enabled;                         /* the section is present */
	char package_name[CFG_NAME_MAX * 2]; /* google.package_name */
	char push_audience[URL_MAX];         /* google.push_audience: the token's aud */
	char
	    push_service_account[GOOGLE_CFG_EMAIL_MAX]; /* google.push_service_account: its email */
	char certs_url[URL_MAX];                        /* google.certs_url: the JWK set */
	char api_base[URL_MAX];                         /* google.api_base: Android Publisher API */
	char token_url[URL_MAX];       /* google.token_url: OAuth2 token endpoint */
	int test_mode;                 /* accept license testers' purchases (google.test_mode) */
	char sa_file[CFG_PATH_MAX];    /* GOOGLE_SERVICE_ACCOUNT_FILE: the key file's path */
	enum google_identity identity; /* google.identity */
	char identity_key[SECRET_MAX]; /* GOOGLE_IDENTITY_KEY(_FILE): the HMAC's key (hmac) */
};

/* The free tier (free_tier): what every registered user has without paying. */
struct cfg_free_tier {
	int enabled;
	int64_t signup_credits;  /* granted once at registration */
	int64_t monthly_credits; /* an allowance RESET each month while no paid plan gives access */
	char ents[PRODUCT_ENT_MAX][CFG_NAME_MAX];
	size_t nents;
};

/* The app-managed trial (trial): no card, once per user, ends by itself unless a purchase converts it. */
struct cfg_trial {
	int enabled;
	char product[CFG_NAME_MAX]; /* a subscription product of the catalog */
	int64_t duration;           /* ms */
};

/* Checkout sessions the API starts (checkout). */
struct cfg_checkout {
	char success_url[URL_MAX];
	char cancel_url[URL_MAX];
	char portal_return_url[URL_MAX];
};

/* The app-facing API: user JWTs (TALLY_JWT_SECRET, comma-separated while one is rolled). */
struct cfg_api {
	char jwt_secrets[SECRETS_MAX][SECRET_MAX];
	size_t njwt;
};

/*
 * Razorpay (razorpay; lib/providers/razorpay/razorpay.h): orders and subscriptions through its
 * REST API (Basic auth key_id:key_secret), webhooks signed with the webhook
 * secret, Checkout callbacks signed with the key secret.
 */
struct cfg_razorpay {
	char key_id[CFG_NAME_MAX];   /* razorpay.key_id: rzp_live_... or rzp_test_... */
	char key_secret[SECRET_MAX]; /* RAZORPAY_KEY_SECRET: API auth and Checkout signatures */
	char secrets[SECRETS_MAX]
		    [SECRET_MAX]; /* RAZORPAY_WEBHOOK_SECRET, comma-separated for rotation */
	size_t nsecrets;
	char api_base[URL_MAX];      /* razorpay.api_base */
	int test_mode;               /* accept events of test keys (razorpay.test_mode) */
	int64_t order_ttl;           /* ms a pending order may be paid (razorpay.order_ttl) */
	int64_t subscription_cycles; /* total_count of subscriptions it creates */
};

/* Telegram Payments and Stars (telegram; lib/providers/telegram/telegram.h): the bot's webhook and the Bot API. */
struct cfg_telegram {
	char bot_token[SECRET_MAX];      /* TELEGRAM_BOT_TOKEN: part of every Bot API URL */
	char webhook_secret[SECRET_MAX]; /* TELEGRAM_WEBHOOK_SECRET: setWebhook's secret_token */
	char provider_token[SECRET_MAX]; /* TELEGRAM_PROVIDER_TOKEN: fiat invoices only */
	char api_base[URL_MAX];          /* telegram.api_base */
	int64_t invoice_ttl;             /* ms an invoice may be paid (telegram.invoice_ttl) */
};

/* CryptoBot's Crypto Pay API (cryptobot; lib/providers/cryptobot/cryptobot.h). */
struct cfg_cryptobot {
	char token[SECRET_MAX]; /* CRYPTOBOT_TOKEN: API token and the webhook's HMAC key (hashed) */
	char api_base[URL_MAX]; /* cryptobot.api_base */
	int testnet;            /* the app is a testnet app: its events are test events */
	int64_t tolerance;      /* ms request_date may be from now (cryptobot.tolerance) */
	int64_t invoice_ttl;    /* ms an invoice may be paid (cryptobot.invoice_ttl) */
};

/*
 * Referral rewards (referrals): a referrer with at least levels[i].min_referrals
 * paying referrals earns levels[i].percent of the credits each referred
 * purchase grants, up to cap credits in all (0: no cap). The section is
 * parsed in lib/cfg/cfg_direct.c.
 */
struct cfg_referrals {
	int enabled;
	struct {
		int64_t min_referrals;
		int64_t percent;
	} levels[8];
	size_t nlevels;
	int64_t cap;
};

/*
 * The scheduled jobs (lib/cfg/cfg_jobs.c): reminders before a trial or a plan
 * that does not renew ends (reminders), and where the deliver job sends the
 * outbox (deliver). Offsets are ms before the end, largest first.
 */
#define REMINDER_OFFSETS_MAX 8
struct cfg_jobs {
	int64_t trial_offsets[REMINDER_OFFSETS_MAX]; /* reminders.trial */
	size_t ntrial;
	int64_t expiry_offsets[REMINDER_OFFSETS_MAX]; /* reminders.expiry */
	size_t nexpiry;
	char webhook_url[URL_MAX]; /* deliver.webhook_url: the app's backend (Standard Webhooks) */
	char notify_url[URL_MAX];  /* deliver.notify_url: user notifications */
	char alert_url[URL_MAX];   /* deliver.alert_url: a Slack-compatible incoming webhook */
	int64_t max_attempts;      /* deliver.max_attempts: then the row is dead */
	int64_t timeout;           /* ms, deliver.timeout: one delivery */
};

/*
 * Balance alerts (balance_alerts; lib/cfg/cfg_catalog.c): the balance.low and
 * balance.empty events sent to deliver.webhook_url when a user's balance
 * falls below the low threshold or reaches zero (lib/core/apply_balance.c).
 */
struct cfg_balance_alerts {
	int enabled;              /* the section is present */
	struct cfg_threshold low; /* balance_alerts.low: for users no product's key covers */
	int by_plan; /* a threshold needs the user's plans: a percentage or a product's key */
};

/* The support console (console; lib/cfg/cfg_console.c). */
struct cfg_console {
	int64_t session_ttl; /* ms a session lasts from its login (console.session_ttl) */
	int secure_cookie;   /* always mark the cookie Secure (console.secure_cookie) */
};

/*
 * The reporting currency of the metrics and its exchange rates (metrics;
 * lib/cfg/cfg_metrics.c, docs/metrics.md): from its day on, one major unit
 * of currency is worth num / 10^scale major units of the reporting currency.
 */
#define RATES_MAX 4096
struct cfg_rate {
	char currency[16]; /* in capitals */
	int64_t day;       /* days since 1970-01-01 (UTC): in force from this day on */
	int64_t num;       /* the rate's digits, > 0 */
	int scale;         /* how many of them follow the point */
	char text[24];     /* as the config wrote it ("1.0825") */
};
struct cfg_metrics {
	char currency[16];      /* metrics.currency: the reporting currency; "" none */
	struct cfg_rate *rates; /* metrics.rates, by currency then day; owned */
	size_t nrates;
};

struct cfg {
	char db_path[CFG_PATH_MAX];     /* TALLY_DB */
	char config_path[CFG_PATH_MAX]; /* TALLY_CONFIG */
	struct cfg_stripe stripe;
	struct cfg_policy policy;
	struct cfg_http http;
	struct cfg_apple apple;
	struct cfg_revenuecat revenuecat;
	struct cfg_google google;
	struct cfg_free_tier free_tier;
	struct cfg_trial trial;
	struct cfg_checkout checkout;
	struct cfg_api api;
	struct cfg_razorpay razorpay;
	struct cfg_telegram telegram;
	struct cfg_cryptobot cryptobot;
	struct cfg_referrals referrals;
	struct cfg_console console;
	struct cfg_jobs jobs;
	struct cfg_balance_alerts balance_alerts;
	struct cfg_metrics metrics;
	struct product *products;
	size_t nproducts;
};

#endif
