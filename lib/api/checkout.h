/*
 * The start of a purchase through a direct provider (Razorpay, Telegram,
 * CryptoBot), provider-neutral: what the app-facing API and `tally checkout`
 * call. Money moves only against an order tally issued, for the amount the
 * catalog sets (invariant 4), so a checkout:
 *
 *   1. finds the product and its price in a currency the provider takes
 *      (never an amount from the client): Razorpay INR, else another fiat
 *      price; Telegram XTR (Stars), else a fiat price (with
 *      TELEGRAM_PROVIDER_TOKEN); CryptoBot a crypto asset (money.h);
 *   2. applies order.create (pending, no provider ref) FIRST, so any payment
 *      the provider reports finds its order;
 *   3. asks the provider: a Razorpay order (or a Razorpay subscription for a
 *      subscription product whose match.razorpay names a plan_ id), a Telegram
 *      invoice link (a Stars subscription of 30 days for a subscription
 *      product priced in XTR with a period of 30d or 1mo), a CryptoBot invoice
 *      expiring with the order;
 *   4. on success applies order.create again with the provider's ref (Razorpay
 *      order_/sub_ id, CryptoBot invoice id; Telegram has none); on failure
 *      applies order.cancel: a canceled order is never paid, nothing is
 *      half-made.
 *
 * Order ids are "ord_" + 24 hex digits of random_bytes; the events are
 * "order.create:<id>", "order.ref:<id>", "order.cancel:<id>".
 *
 * checkout_razorpay_verify is the app's post-payment callback of Razorpay
 * Checkout (razorpay_order_id or razorpay_subscription_id,
 * razorpay_payment_id, razorpay_signature): it checks the signature with the
 * key secret, that the order is the caller's and not paid by another
 * payment, fetches the payment and the order (or subscription) from
 * Razorpay's API, checks them, and writes the event the caller applies: the
 * fetched entities in the shape of Razorpay's own order.paid (or
 * subscription.charged) webhook, id "checkout:<payment id>", so the webhook
 * of the same payment and a second callback grant nothing again.
 */
#ifndef TALLY_CHECKOUT_H
#define TALLY_CHECKOUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/event.h"
#include "cfg/cfg.h"
#include "core/apply.h"
#include "core/op.h"
#include "store/store.h"

struct checkout_ctx {
	const struct cfg *cfg;
	/* Read-only lookups (checkout_razorpay_verify): the caller's connection, used by one thread. */
	struct store *store;
	const char *source; /* OP_APP (the API) or OP_OPERATOR (the CLI) */
	const char *who;    /* recorded as the events' operator: an API key's id, an operator */
	/* Apply one of tally's own actions and say what became of it; returns storage errors. */
	enum terr (*apply)(void *arg, const struct op_action *a, struct apply_result *res);
	void *arg;
};

struct checkout_result {
	char order_id[ID_MAX];
	char provider[PROVIDER_MAX];
	char product[CFG_NAME_MAX];
	int64_t amount; /* the catalog's price, smallest unit of currency */
	char currency[16];
	int64_t expires_at;        /* ms: the order is refused after this */
	char provider_ref[ID_MAX]; /* Razorpay order_... or sub_..., CryptoBot invoice id; "" */
	/*
	 * What was made renews at the provider by itself: a Razorpay subscription
	 * (provider_ref sub_...), a Telegram Stars subscription (an invoice link
	 * with subscription_period). 0 for one payment (a Razorpay order, an
	 * ordinary Telegram invoice, a CryptoBot invoice), a plan bought so too.
	 */
	int subscription;
	/* Where the user pays: Telegram's invoice link, CryptoBot's bot_invoice_url, a Razorpay subscription's short_url. */
	char url[URL_MAX];
	char key_id[CFG_NAME_MAX]; /* Razorpay: the key id Checkout opens with */
	int provider_failed; /* the error came from the provider's side (its answer or its absence) */
};

/*
 * Start a purchase of product for user through provider at now. TERR_OK
 * with out filled. Refusals before anything is applied: TERR_NOTFOUND (no
 * such product), TERR_INVAL (unknown provider, an invalid user id, no price
 * the provider takes, a plan without a period to sell), TERR_CONFIG (the
 * provider's credentials are not configured). TERR_CONFLICT when the core
 * refused the order (e.g. an unknown user; why says). After the order is
 * applied, with out->provider_failed set: TERR_IO (the provider is down,
 * timed out or answered 429/5xx), TERR_AUTH (the provider refused tally's
 * credentials), TERR_INVAL, TERR_NOTFOUND or TERR_TOOBIG (the provider
 * refused the request, or answered what cannot be read); the order is
 * canceled in each case. Storage errors as the apply callback returns them.
 * why names the cause, never a secret.
 */
enum terr checkout_start(struct checkout_ctx *x, const char *provider, const char *user,
    const char *product, int64_t now, struct checkout_result *out, char *why, size_t whysize);

/* A refusal of checkout_razorpay_verify, as the API answers it. */
struct checkout_refusal {
	int status;       /* 400 malformed, 401 bad signature, 402 not captured or another amount,
		       403 someone else's order, 404 no such order, 409 paid by another payment,
		       502 Razorpay refused or answered what cannot be read, 503 Razorpay down,
		       not configured or storage */
	const char *code; /* "malformed", "bad_signature", "not_captured", "amount_mismatch",
			     "not_your_order", "unknown_order", "already_paid", "order_mismatch",
			     "provider_error",
			     "provider_unavailable", "not_configured", "storage_unavailable" */
	char message[256];
};

/* Checkout's callback fields; exactly one of order_id and subscription_id. */
struct checkout_rzp_callback {
	const char *order_id;        /* razorpay_order_id */
	const char *subscription_id; /* razorpay_subscription_id */
	const char *payment_id;      /* razorpay_payment_id */
	const char *signature;       /* razorpay_signature */
};

/*
 * Verify the callback of user (the caller) at now. TERR_OK: e is the event
 * to apply (its raw body in body, which the caller keeps until e is
 * applied; body is a buf_init'ed buffer of at least BODY_MAX). Otherwise
 * the refusal in ref and TERR_INVAL (400), TERR_AUTH (401, 403), TERR_NOTFOUND
 * (404), TERR_CONFLICT (402, 409), TERR_IO (502, 503), TERR_CONFIG (503) or a
 * storage error (503). Nothing is applied here.
 */
enum terr checkout_razorpay_verify(struct checkout_ctx *x, const char *user,
    const struct checkout_rzp_callback *cb, int64_t now, struct buf *body, struct bev *e,
    struct checkout_refusal *ref);

#endif
