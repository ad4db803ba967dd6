/*
 * The Android Publisher API (PROVIDERS.md 7.4): the calls tally makes on
 * Google Play, with the service account's OAuth token.
 *
 * Credentials: the service-account key file (GOOGLE_SERVICE_ACCOUNT_FILE,
 * google_sa.h) signs an RS256 assertion; the JWT bearer grant at
 * google.token_url answers an access token, kept by the client until
 * GOOGLE_TOKEN_MARGIN seconds before it expires and shared by the process's
 * threads (one exchange at a time; a 401 from the API drops it, and the
 * call is made once more with a new one).
 *
 * Every call answers what Google's status means, one rule for all:
 *   200           TERR_OK, the answer's JSON in out (calls that answer nothing: out untouched)
 *   404           TERR_NOTFOUND (no such purchase for this package)
 *   410           TERR_STALE (the token expired more than 60 days ago: Google forgot it)
 *   400           TERR_INVAL (Google refused the request as made)
 *   401, 403      TERR_AUTH (tally's credentials, or a Play Console permission missing:
 *                 the operator must act; why says which)
 *   429, 5xx, none TERR_IO (retry later)
 * with why ("Google Play answered 403: <error.message>"); never a token or
 * key in why or a log.
 */
#ifndef TALLY_GOOGLE_API_H
#define TALLY_GOOGLE_API_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"
#include "cfg/cfg.h"

#define GOOGLE_TOKEN_MARGIN       300 /* s: an access token is renewed this long before it expires */
#define GOOGLE_ANSWER_MAX         (256 * 1024) /* the longest answer read */
#define GOOGLE_VOIDED_WINDOW_DAYS 30 /* voidedpurchases.list looks back at most this far */
/*
 * The oldest startTime asked stays this far inside the window: Google reads the
 * request a little later than tally's clock. Seconds.
 */
#define GOOGLE_VOIDED_SLACK       300
#define GOOGLE_VOIDED_PAGE        1000 /* maxResults asked of voidedpurchases.list */
/* The longest access token kept, with its NUL (Google's are a few hundred bytes). */
#define GOOGLE_ACCESS_TOKEN_MAX   4096
/* An expires_in longer than this is held this long (Google's is an hour). Seconds. */
#define GOOGLE_TOKEN_TTL_MAX      86400
/* The token endpoint's longest answer read, and the longest form posted to it. */
#define GOOGLE_TOKEN_ANSWER_MAX   (64 * 1024)
#define GOOGLE_ASSERTION_MAX      (16 * 1024)

struct google_api;

/*
 * A client for c->google (package, api_base, token_url) with the key file
 * c names (read now: TERR_CONFIG with why when there is none or it cannot
 * be read; TERR_INVAL when it is not a service-account key).
 */
enum terr google_api_new(const struct cfg *c, struct google_api **out, char *why, size_t whysize);
void google_api_free(struct google_api *g);
/* How many access token exchanges were attempted (tests, stats). */
uint64_t google_api_exchanges(struct google_api *g);

/* purchases.subscriptionsv2.get: the SubscriptionPurchaseV2 of token, verbatim. */
enum terr google_sub_get(struct google_api *g, const char *token, struct buf *out, char *why,
    size_t whysize);
/* purchases.products.get: the ProductPurchase of (product, token), verbatim. */
enum terr google_product_get(struct google_api *g, const char *product, const char *token,
    struct buf *out, char *why, size_t whysize);
/* purchases.subscriptions.acknowledge of (product: the subscription id, token). */
enum terr google_sub_ack(struct google_api *g, const char *product, const char *token, char *why,
    size_t whysize);
/* purchases.products.acknowledge and purchases.products.consume of (product, token). */
enum terr google_product_ack(struct google_api *g, const char *product, const char *token,
    char *why, size_t whysize);
enum terr google_product_consume(struct google_api *g, const char *product, const char *token,
    char *why, size_t whysize);
/*
 * purchases.voidedpurchases.list, type=1 (subscriptions too), from start_ms
 * (clamped to GOOGLE_VOIDED_WINDOW_DAYS back from now, less GOOGLE_VOIDED_SLACK)
 * to end_ms (clamped to now; 0: now), one page of at most GOOGLE_VOIDED_PAGE,
 * quantity-based partial refunds included (includeQuantityBasedPartialRefund):
 * the answer verbatim in out, the next page's token in next ("" on the last).
 * page: "" or NULL for the first page, else the next of the page before (Google
 * then ignores the times). TERR_INVAL when the clamped window ends before it
 * starts; TERR_TOOBIG when a page token does not fit.
 */
enum terr google_voided_list(struct google_api *g, int64_t start_ms, int64_t end_ms,
    const char *page, struct buf *out, char *next, size_t nextsize, char *why, size_t whysize);

#endif
