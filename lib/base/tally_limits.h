/*
 * Every limit tally enforces on input from outside, with the reason for its
 * value. Named tally_limits.h so it never shadows the system <limits.h>.
 * A change here is a change of the public contract: docs/limits.md lists them.
 */
#ifndef TALLY_LIMITS_H
#define TALLY_LIMITS_H

/*
 * Largest request body a webhook handler reads. Stripe events for invoices
 * with many lines reach tens of KB; Apple's signedPayload with three
 * certificate chains is about 15 KB. 1 MiB is far above both and small enough
 * that a flood of maximal bodies cannot exhaust memory. Past it: 413.
 * The web server's own limit (deploy/nginx.conf) is set above this one so
 * that tally, not the server, answers with a JSON error.
 */
#define BODY_MAX (1024 * 1024)

/* One HTTP header value we read (Stripe-Signature with several v1 entries is ~250 bytes). */
#define HEADER_MAX 4096

/* Provider ids (evt_..., sub_..., Apple transaction ids, user ids). Stripe's are < 255 (its docs). */
#define ID_MAX 256

/* A user id given by the app: printable, no control characters. */
#define USER_ID_MAX 128

/* Reasons typed by operators or recorded by the core. */
#define REASON_MAX 512

/* Nesting depth of JSON we accept. Stripe events nest about 8 deep. */
#define JSON_DEPTH_MAX 32

/* v1 signatures in one Stripe-Signature header (several appear while a secret rolls). */
#define STRIPE_SIG_MAX 8

/* Webhook secrets configured at once for one provider (rotation: old + new). */
#define SECRETS_MAX 4

/* Products in the catalog, provider ids per product, entitlements per product. */
#define PRODUCTS_MAX      256
#define PRODUCT_MATCH_MAX 16
#define PRODUCT_ENT_MAX   16

/* The config file: a catalog of a few hundred products is tens of KB. */
#define CONFIG_MAX (1024 * 1024)

/* Business keys of one payment (invoice, payment intent, charge, session). */
#define PAY_KEYS_MAX 4

/* Orphans replayed in one go when a link or payment makes them resolvable. */
#define ORPHAN_REPLAY_MAX 64

/* Largest credit amount in one operation: keeps every sum far inside int64. */
#define CREDITS_MAX 1000000000LL

/* SQLite busy timeout: a writer of another process holds the lock at most this long. */
#define DB_BUSY_MS 5000

/*
 * A PostgreSQL connection URI (TALLY_DB or the file TALLY_DB_FILE names):
 * several hosts for failover, options and a password fit in far less.
 */
#define PG_URI_MAX           2048
/* Parameters of one statement (tally's largest binds about twenty). */
#define PG_PARAMS_MAX        64
/* Seconds libpq waits for a connection when neither the URI nor PGCONNECT_TIMEOUT says. */
#define PG_CONNECT_TIMEOUT_S 10

/* Stripe's default signature tolerance (stripe-node/python DEFAULT_TOLERANCE). */
#define STRIPE_TOLERANCE_DEFAULT 300

/* Rows of ledger and audit shown by `tally user show`. */
#define SHOW_RECENT 20

/* Catalog ids, entitlement names and other names of the config (bytes, with the NUL). */
#define CFG_NAME_MAX 64

#endif
