/*
 * The App Store Server API (PROVIDERS.md 1.7) over httpc: what tally asks
 * Apple when it reconciles. Each request carries a fresh JWT signed ES256
 * with the In-App Purchase key (APPLE_PRIVATE_KEY): kid apple.key_id, iss
 * apple.issuer_id, iat now, exp now + 5 min (Apple allows at most 60), aud
 * "appstoreconnect-v1", bid apple.bundle_id. Base URLs come from
 * apple.api_base and apple.api_sandbox_base so tests can point them at a
 * fake Apple.
 *
 * Everything Apple signs in an answer is verified (appstore.h) before it is
 * returned; an answer for another app or environment is refused. Paginated
 * calls fetch every page before returning anything, so a failure part-way
 * leaves the caller with nothing to apply. Only jobs and the CLI call this:
 * handlers never call out.
 */
#ifndef TALLY_APPSTORE_API_H
#define TALLY_APPSTORE_API_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "cfg/cfg.h"
#include "providers/appstore/appstore.h"

/* At most this many notifications or transactions from one paginated query. */
#define APPSTORE_API_ITEMS_MAX 20000
/* And this many pages (Apple sends up to 20 per page). */
#define APPSTORE_API_PAGES_MAX 2000

struct appstore_api;

/*
 * A client for production or the sandbox. TERR_CONFIG with why when apple
 * is not configured for the API (key_id, issuer_id, APPLE_PRIVATE_KEY).
 */
enum terr appstore_api_new(struct appstore_api **out, const struct cfg *c, int sandbox, char *why,
    size_t whysize);
void appstore_api_free(struct appstore_api *a);

/* JWS texts returned by a query: each verified, owned by the list. */
struct appstore_list {
	char **v;
	size_t n, cap;
};
void appstore_list_release(struct appstore_list *l);

/*
 * Errors of every call: TERR_IO no answer (timeout, connection) or a 5xx;
 * TERR_BUSY 429 (rate limited; why says when to retry); TERR_AUTH 401 (the
 * key was refused) or a signature in the answer that does not verify;
 * TERR_NOTFOUND 404; TERR_INVAL another 4xx or an answer that cannot be
 * read; TERR_CONFLICT an answer about another app or environment;
 * TERR_TOOBIG past APPSTORE_API_ITEMS_MAX. why says which, with Apple's
 * errorCode and errorMessage when it sent them.
 */

/*
 * Get Notification History for [since, until] (ms), every page: each
 * signedPayload (verified) appended to out. only_failures asks for those
 * Apple could not deliver.
 */
enum terr appstore_api_notifications(struct appstore_api *a, int64_t since, int64_t until,
    int only_failures, int64_t now, struct appstore_list *out, char *why, size_t whysize);

/* One subscription's status as Apple reports it (Get All Subscription Statuses). */
struct appstore_status {
	char group[64]; /* subscriptionGroupIdentifier */
	int status;     /* 1 active, 2 expired, 3 billing retry, 4 grace period, 5 revoked */
	char original_id[ID_MAX];
	char product[ID_MAX];
	int64_t expires;           /* expiresDate of the latest transaction, ms */
	int auto_renew;            /* autoRenewStatus of the renewal info; -1 when absent */
	char next_product[ID_MAX]; /* autoRenewProductId */
	int64_t grace_until;       /* gracePeriodExpiresDate */
	char environment[16];      /* "Production" or "Sandbox": the client's, as Apple answered */
	/*
	 * The item's signedTransactionInfo and signedRenewalInfo as Apple sent
	 * them, each verified and at most JOSE_TOKEN_MAX bytes; malloc'ed,
	 * released with appstore_statuses_release (signed_renewal NULL when
	 * Apple sent none).
	 */
	char *signed_tx;
	char *signed_renewal;
};

/* Free the signed strings of v[0..n) (the array itself is the caller's). */
void appstore_statuses_release(struct appstore_status *v, size_t n);

/* Apple's name of a status ("ACTIVE" ...). */
const char *appstore_status_str(int status);

#define APPSTORE_STATUS_MAX 64

/*
 * Get All Subscription Statuses of the subscription (or any transaction)
 * tx_id: each lastTransactions item verified and read into out[0..*n),
 * its signed strings kept (release them with appstore_statuses_release; on
 * an error *n is 0 and nothing is held).
 */
enum terr appstore_api_statuses(struct appstore_api *a, const char *tx_id, int64_t now,
    struct appstore_status *out, size_t max, size_t *n, char *why, size_t whysize);

/*
 * Get Transaction History (v2) of tx_id, oldest first, every page: each
 * verified transaction's payload (JSON text) appended to out.
 */
enum terr appstore_api_history(struct appstore_api *a, const char *tx_id, int64_t now,
    struct appstore_list *out, char *why, size_t whysize);

/* The JWT of one request (exposed for tests): appended to out. */
enum terr appstore_api_token(struct appstore_api *a, int64_t now, struct buf *out);

#endif
