/*
 * tally-reconcile (jobs/reconcile.c): the report lines every provider's
 * reconciliation shares and the walk of stale subscriptions (lib/job/reconcile.c),
 * and each provider's pass, one file each (lib/job/reconcile_stripe.c,
 * reconcile_appstore.c, reconcile_revenuecat.c, reconcile_cryptobot.c,
 * reconcile_razorpay.c, reconcile_telegram.c), each run through the job's
 * batches of provider events (job_apply_raw, or for RevenueCat the sync's
 * own apply), so that what is applied goes through the webhook's own parser
 * and apply path.
 *
 * Every provider's pass first fetches and checks everything it will use;
 * only then is anything applied: a provider that cannot be reached, refuses
 * tally's credentials or answers what cannot be read gets its "provider"
 * line with result error and the reason (the run fails, exit 1) and changes
 * nothing. --limit bounds the orders and subscriptions checked; --dry-run
 * reports and applies nothing (job.h).
 */
#ifndef TALLY_RECONCILE_H
#define TALLY_RECONCILE_H

#include <stddef.h>
#include <stdint.h>

#include "core/sub.h"
#include "job/job.h"

/* A line of the report, counted as "<provider>.<what>". */
void reconcile_say(struct job *j, const struct job_item *it, const char *what);
/* A provider's line: ok (why NULL), or why it could not be reconciled (the run fails). */
void reconcile_result(struct job *j, const char *provider, const char *why);
/* One difference between tally (tally) and the provider (theirs); reason may be NULL. */
void reconcile_drift(struct job *j, const char *provider, const char *subject, const char *user,
    const char *tally, const char *theirs, const char *result, const char *reason);
/* "active until 2026-12-01T00:00:00Z" */
void reconcile_describe(enum sub_state st, int64_t end, int cancel, char *out, size_t size);

/* 1 when the provider's view e of subscription row differs: state, period end, ending. */
int reconcile_differs(const struct sub_row *row, const struct bev *e);

/* Stale subscriptions checked against one provider in a run, at most. */
#define RECONCILE_STALE_MAX 1000

struct reconcile_stale {
	const char *provider;
	struct sub_row *rows; /* calloc'ed: free(rows) */
	size_t n, max;
};

/*
 * The provider's subscriptions whose access should have ended with no event
 * saying so, oldest first (active past period end + leeway, canceled past
 * period end, past_due past grace, trialing past trial end), at most the
 * run's room under --limit. 0, or -1 (the job failed).
 */
int reconcile_stale_subs(struct job *j, struct reconcile_stale *st);

/*
 * When the last successful run of tally-reconcile began (0 when none): the
 * default window of the passes that read a provider's history starts there.
 */
int64_t reconcile_last_ok(struct job *j);

/*
 * Stripe (STRIPE_API_KEY): the events Stripe kept since the window's start
 * (--since, else last_ok less an hour, at most 30 days back): every page
 * fetched first, then those the inbox lacks applied oldest first as their
 * webhook (same ids, so never twice). Then stale stripe subscriptions:
 * GET /v1/subscriptions/{id} of each, every one fetched first; when Stripe's
 * state differs, applied as customer.subscription.updated, id
 * "reconcile:<sub>:<16 hex of SHA-256 of the subscription>".
 */
void reconcile_stripe(struct job *j, int64_t last_ok);

/*
 * Apple (apple.key_id, issuer_id, APPLE_PRIVATE_KEY): Get Notification
 * History for the window (as Stripe's, at most 180 days back), every page
 * fetched and verified first, those the inbox lacks applied; Sandbox too when
 * apple.sandbox. Then stale apple subscriptions: Get All Subscription
 * Statuses of each (Sandbox's for a Sandbox one), every answer fetched and
 * verified first; the item of its original transaction becomes tally's
 * status envelope (appstore.h) and, when its state differs, is applied as
 * "status:<original id>:<16 hex of SHA-256>". The "apple" line covers
 * Production's notifications and every status.
 */
void reconcile_apple(struct job *j, int64_t last_ok);

/*
 * RevenueCat (REVENUECAT_API_KEY): the users of stale revenuecat
 * subscriptions, oldest first: GET /v1/subscribers/{app_user_id} (the
 * user's app_user_id link, else the user id) and the differences applied as
 * `tally revenuecat sync` does (revenuecat_sync_plan, revenuecat_sync_apply).
 */
void reconcile_revenuecat(struct job *j);

/*
 * CryptoBot (CRYPTOBOT_TOKEN): tally's pending cryptobot orders with an
 * invoice, the oldest first; getInvoices by their ids (CB_INVOICES_MAX a
 * call). Paid: applied as the invoice_paid webhook (cryptobot_sync.h).
 * Expired: reported; the grace-expiry job expires the order. Active: in sync.
 */
void reconcile_cryptobot(struct job *j);

/*
 * Razorpay (razorpay.key_id, RAZORPAY_KEY_SECRET): tally's pending razorpay
 * orders (order_...), the oldest first: GET /v1/orders/{id} and
 * /v1/orders/{id}/payments; each captured payment applied as the order.paid
 * webhook, id "checkout:<payment id>" (the Checkout callback's). Then stale
 * razorpay subscriptions (sub_...): GET /v1/subscriptions/{id}; when
 * Razorpay's status differs, applied as subscription.<status>, id
 * "reconcile:<sub>:<16 hex of SHA-256 of the entity>".
 */
void reconcile_razorpay(struct job *j);

/* Pages of getStarTransactions read in a run, at most (TG_STAR_PAGE each). */
#define TG_STAR_PAGES_MAX 50

/*
 * Telegram (TELEGRAM_BOT_TOKEN): tally's pending telegram orders in Stars
 * (XTR); the bot's Star transactions through getStarTransactions, a page of
 * TG_STAR_PAGE at a time, newest first, until past the oldest such order's
 * creation (at most TG_STAR_PAGES_MAX pages). An incoming invoice payment of
 * a user whose invoice_payload names one of the orders is applied as the
 * successful_payment the webhook would have carried (telegram_sync.h: id
 * "stars:<charge id>", the charge the business key), the oldest first; one
 * refunded since (an outgoing transaction with its id) is reported only.
 * Stale telegram subscriptions of a Stars subscription order (ext_id
 * "order:<id>") are read too, the pages then running past the oldest one's
 * period end: an incoming payment naming its order, with a
 * subscription_period, dated after its period start and whose charge has no
 * payment in tally (store_pay_find_key) is a missed renewal, applied the
 * oldest first as the renewal's successful_payment (is_first_recurring
 * false), the same id, through the same path; action "telegram renewal".
 * Orders in other currencies cannot be reconciled (no Bot API method says
 * whether an invoice was paid): counted in the provider line.
 */
void reconcile_telegram(struct job *j);

#endif
