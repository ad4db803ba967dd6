/*
 * Razorpay's REST API (razorpay_api.c), https://api.razorpay.com/v1, Basic
 * key_id:key_secret. For the checkout and reconciliation; a handler does not
 * link it.
 */
#ifndef TALLY_RAZORPAY_API_H
#define TALLY_RAZORPAY_API_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "cfg/cfg.h"
#include "providers/razorpay/razorpay.h"

/*
 * What Razorpay answered. TERR_OK with out holding the entity's JSON
 * (create and fetch); TERR_CONFIG (no key id or secret); TERR_IO (no
 * answer, a timeout, 429 or 5xx: Razorpay is down, retry later); TERR_AUTH
 * (401); TERR_INVAL (400: Razorpay refused the request, e.g. an unknown id;
 * its description in why); TERR_NOTFOUND (404); TERR_TOOBIG. why never
 * holds a secret.
 */

/* POST /v1/orders {amount, currency, receipt: order_id, notes {tally_order, user_id}}. */
enum terr razorpay_order_create(const struct cfg *c, const char *order_id, const char *user,
    int64_t amount, const char *currency, struct buf *out, char *why, size_t whysize);
/* POST /v1/subscriptions {plan_id, total_count, quantity 1, notes {tally_order, user_id}}. */
enum terr razorpay_subscription_create(const struct cfg *c, const char *plan_id,
    const char *order_id, const char *user, struct buf *out, char *why, size_t whysize);
/* GET /v1/<what>/<id>: what is "orders", "payments" or "subscriptions". */
enum terr razorpay_fetch(const struct cfg *c, const char *what, const char *id, struct buf *out,
    char *why, size_t whysize);
/*
 * GET /v1/orders/<order_id>/payments (api/orders/fetch-payments.md): the
 * collection {"entity":"collection","count":N,"items":[payment...]}; TERR_INVAL
 * when the answer is not one.
 */
enum terr razorpay_order_payments(const struct cfg *c, const char *order_id, struct buf *out,
    char *why, size_t whysize);

#endif
