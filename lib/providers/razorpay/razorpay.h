/*
 * Razorpay: webhook signatures, the mapping of Razorpay events to normalized
 * billing events, Checkout's callback signatures, the REST API client
 * (razorpay_api.c, razorpay_api.h) and fetched entities as events
 * (razorpay_sync.c, razorpay_sync.h). Only these files know Razorpay's wire
 * format.
 *
 * Sources: razorpay/markdown-docs @ab3bda5 webhooks/{validate-test,
 * best-practices,payments,orders,refunds,subscriptions}.md,
 * payments/subscriptions/states.md, api/orders/, api/payments/,
 * api/payments/subscriptions/create-subscription.md; razorpay-python
 * utility.py; the razorpay npm package's validateWebhookSignature
 * (PROVIDERS.md section 4).
 *
 * Webhook signature (webhooks/validate-test.md): X-Razorpay-Signature is the
 * lowercase hex HMAC-SHA256 of the raw body keyed with the webhook secret as
 * set in the Dashboard; events retried after a rotation are signed with the
 * old secret, so several secrets may be configured. There is no timestamp:
 * X-Razorpay-Event-Id is the dedup key (best-practices.md).
 *
 * Mapping (one event, its aspects):
 *   payment.captured     ORDER: the payment of the Razorpay order (provider_ref
 *                        order_id; tally's id from the payment's notes.tally_order
 *                        when there), charge = payment id, captured by status.
 *                        A payment of a subscription invoice (invoice_id set) or
 *                        without an order is not one tally issued: stored, ignored
 *   order.paid           ORDER: tally's id from the order's notes.tally_order, else
 *                        its receipt; the payment entity says what was paid
 *   payment.authorized, payment.failed, refund.created, refund.failed,
 *   refund.speed_changed stored, ignored with the reason
 *   refund.processed     REFUND of the payment: full when the payment says
 *                        refund_status "full" (or amount_refunded >= amount), else
 *                        partial
 *   payment.dispute.created  REFUND dispute of the payment
 *   payment.dispute.won  REINSTATE of the payment
 *   subscription.*       SUB from the subscription entity (below); .charged adds
 *                        PAY keyed on the payment id: initial when paid_count <= 1,
 *                        else renewal
 *   any other            stored, ignored with the reason
 * Subscription status (payments/subscriptions/states.md): created incomplete;
 * authenticated trialing until start_at when that is ahead, else incomplete;
 * active active; pending past_due (Razorpay retries); halted past_due with
 * grace ending at once (retries exhausted: no access, but it can come back);
 * cancelled, completed, expired: canceled (access to current_end) while
 * current_end is ahead, else expired; paused paused. Period from current_start
 * and current_end (Unix s). The user is notes.user_id of the subscription,
 * else the user its customer_id or id is linked to.
 *
 * Test or live: Razorpay's events do not say; the key pair does
 * (api/authentication.md: rzp_test_ keys are test mode). Events are live
 * unless razorpay.key_id is a test key; razorpay.test_mode accepts them.
 */
#ifndef TALLY_RAZORPAY_H
#define TALLY_RAZORPAY_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/event.h"
#include "cfg/cfg.h"
#include "crypto/crypto.h"
#include "providers/hook.h"

/* Keys of the notes tally sets on orders and subscriptions it creates. */
#define RZP_NOTE_ORDER "tally_order"
#define RZP_NOTE_USER  "user_id"

struct razorpay_verifier {
	struct hmac_key keys[SECRETS_MAX];
	size_t n;
};

/* One HMAC key per configured webhook secret; n == 0 when none is configured. */
enum terr razorpay_verifier_init(struct razorpay_verifier *v, const struct cfg_razorpay *c);
void razorpay_verifier_release(struct razorpay_verifier *v);

/*
 * Verify header (X-Razorpay-Signature, NULL when absent) over body[0..n).
 * TERR_OK; TERR_AUTH (missing, not 64 hex digits, or no secret matches);
 * TERR_CONFIG (no secret configured); TERR_INTERNAL. *why is static.
 */
enum terr razorpay_verify(const struct razorpay_verifier *v, const char *header, const char *body,
    size_t n, const char **why);

/*
 * The webhook's side for the provider table (hook.h): init prepares a
 * razorpay_verifier of the configured secrets (TERR_CONFIG,
 * "RAZORPAY_WEBHOOK_SECRET is not set", when none is), fini frees it, verify
 * is razorpay_verify over the request's X-Razorpay-Signature and body.
 */
enum terr razorpay_hook_init(void **state, const struct cfg *c, char *why, size_t whysize);
void razorpay_hook_fini(void *state);
enum terr razorpay_hook_verify(void *state, const struct cfg *c, const struct hook_req *q,
    const char **why);

/*
 * Map a verified event body into e (bev_init'ed here; e->raw points into
 * body). event_id is X-Razorpay-Event-Id; NULL (a replay) takes the body's
 * own "id", which only tally's synthetic events (checkout.c) carry.
 * TERR_INVAL with why when the body is not a Razorpay event or a field has
 * the wrong type. Types without effects map to an event without aspects
 * and a note (stored, acknowledged).
 */
enum terr razorpay_parse(const struct cfg *c, const char *event_id, const char *body, size_t n,
    struct bev *e, char *why, size_t whysize);

/*
 * Checkout's callback signature (PROVIDERS.md 4.4, razorpay-python
 * verify_payment_signature / verify_subscription_payment_signature): hex
 * HMAC-SHA256 keyed with the API key secret of "<a>|<b>": order_id|payment_id
 * for orders, payment_id|subscription_id for subscriptions. TERR_OK,
 * TERR_AUTH, TERR_CONFIG (no key secret), TERR_INTERNAL.
 */
enum terr razorpay_checkout_verify(const struct cfg_razorpay *c, const char *a, const char *b,
    const char *signature);

#endif
