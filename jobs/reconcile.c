/*
 * tally-reconcile: what the providers know and tally missed, found through
 * their APIs and applied through the same path as their webhooks, with a
 * drift report (--json: the items). Each configured provider in turn:
 *
 *   stripe      (STRIPE_API_KEY) the events Stripe kept since the window's
 *               start (GET /v1/events, every page first, then oldest first):
 *               those the inbox lacks are applied as the webhook would have
 *               (same ids, so never twice). Then stale subscriptions (access
 *               should have ended and no event said so: active past period
 *               end + leeway, canceled past period end, past_due past grace,
 *               trialing past trial end), oldest first: GET
 *               /v1/subscriptions/{id}; when Stripe's state differs, it is
 *               applied as a customer.subscription.updated event
 *               "reconcile:<sub>:<16 hex of its SHA-256>" (the same state twice
 *               is one event).
 *   apple       (apple.key_id, issuer_id, APPLE_PRIVATE_KEY) Get Notification
 *               History for the window, every page fetched and verified
 *               first; those the inbox lacks applied (as `tally apple
 *               missed`); Sandbox too when apple.sandbox. Then stale Apple
 *               subscriptions, oldest first: Get All Subscription Statuses
 *               of each original transaction (the Sandbox host for a Sandbox
 *               one, when apple.sandbox), every answer fetched and verified
 *               first; the item of that original transaction becomes tally's
 *               status envelope (appstore.h: the status and both JWS as Apple
 *               signed them) and, when its state differs, is applied through
 *               appstore_parse as "status:<original id>:<16 hex of SHA-256>"
 *               (the same answer twice is one event). The "apple" line
 *               covers Production's notifications and every status.
 *   revenuecat  (REVENUECAT_API_KEY) the users of stale RevenueCat
 *               subscriptions, oldest first: GET /v1/subscribers/{app_user_id}
 *               and the differences applied as `tally revenuecat sync` does.
 *   razorpay    (razorpay.key_id, RAZORPAY_KEY_SECRET) tally's pending
 *               Razorpay orders, oldest expiry first: GET /v1/orders/{id} and
 *               /v1/orders/{id}/payments; a captured payment is applied as the
 *               order.paid webhook would have (event "checkout:<payment id>",
 *               the Checkout callback's; the payment id is the business key,
 *               so the webhook arriving later grants nothing; amount and
 *               currency checked against the order by apply). Then stale
 *               Razorpay subscriptions (sub_...): GET /v1/subscriptions/{id};
 *               a status that differs is applied as subscription.<status>,
 *               "reconcile:<sub>:<16 hex of its SHA-256>".
 *   cryptobot   (CRYPTOBOT_TOKEN) tally's pending CryptoBot orders, oldest
 *               expiry first: getInvoices by invoice_ids (100 a call); a paid
 *               invoice is applied as the invoice_paid webhook would have
 *               (the same event id "invoice_paid:<invoice>": a later webhook
 *               or run is a duplicate); an expired one is reported, and the
 *               grace-expiry job expires the order.
 *   telegram    (TELEGRAM_BOT_TOKEN) Stars only: tally's pending XTR orders;
 *               getStarTransactions, newest first, a page of 100 at a time
 *               until past the oldest such order (at most 50 pages), all read
 *               first; an incoming invoice payment of a user naming one of
 *               them is applied as the successful_payment the webhook would
 *               have carried (event "stars:<charge id>"; the charge id, the
 *               transaction's id, is the business key: a later webhook or
 *               run grants nothing); one refunded since is reported. An
 *               ordinary Telegram Payments invoice cannot be reconciled (no
 *               Bot API method says whether it was paid): such orders are
 *               counted in the provider line as not reconcilable.
 *   google      (the google section, GOOGLE_SERVICE_ACCOUNT_FILE) voided
 *               purchases of the last 30 days (voidedpurchases.list, every
 *               page read first) whose payment tally has and has not
 *               refunded, applied as the voidedPurchaseNotification would
 *               have been ("voided:<order>:<voidedTimeMillis>"); then Google
 *               subscriptions whose end (period, grace, trial) is past or
 *               within a day, the oldest first: subscriptionsv2.get into
 *               tally's envelope, applied when it differs
 *               ("reconcile:<token>:<16 hex of SHA-256 of the answer>");
 *               404, 410 and 400 recorded once; 429, 5xx and no answer leave
 *               the rest for the next run; 401 and 403 alert once a day
 *               (lib/job/reconcile_google.h).
 *
 * A provider that cannot be reached (or refuses the key, or rate-limits) is
 * reported with its error and changes nothing more; the others still run;
 * the run exits 1. Events already applied stay applied, each complete.
 *
 *   --provider NAME  only this provider (stripe, apple, revenuecat, razorpay,
 *                    cryptobot, telegram, google)
 *   --since TIME|AGE the window's start (RFC 3339, or an age such as 48h);
 *                    default: the last successful run less an hour (3 days
 *                    when none), at most 30 days back for Stripe (what it
 *                    keeps) and 180 for Apple.
 * --limit bounds the subscriptions, users and orders checked (events of the
 * window are all fetched, at most STRIPE_SYNC_EVENTS_MAX /
 * APPSTORE_API_ITEMS_MAX). Each provider's pass is a file of its own,
 * lib/job/reconcile_<provider>.c (reconcile.h). Exit 0, 1, 2.
 */
#include <stdio.h>
#include <string.h>

#include "base/tm.h"
#include "job/job.h"
#include "job/reconcile.h"
#include "job/reconcile_appstore.h"
#include "job/reconcile_cryptobot.h"
#include "job/reconcile_google.h"
#include "job/reconcile_razorpay.h"
#include "job/reconcile_revenuecat.h"
#include "job/reconcile_stripe.h"
#include "job/reconcile_telegram.h"

#define LIMIT_DEFAULT 500

static const char *const opts[] = { "provider", "since", NULL };

static int
wanted(struct job *j, const char *name)
{
	const char *only = job_opt(j, "provider");

	return only == NULL || strcmp(only, name) == 0;
}

int
main(int argc, char **argv)
{
	struct job j;
	const char *only, *since;
	int64_t last_ok, d, t;
	int r, any = 0;

	if ((r = job_init(&j, "reconcile", argc, argv, opts, LIMIT_DEFAULT)) != JOB_RUN)
		return r;
	only = job_opt(&j, "provider");
	since = job_opt(&j, "since");
	if ((only != NULL && strcmp(only, "stripe") != 0 && strcmp(only, "apple") != 0 &&
		strcmp(only, "revenuecat") != 0 && strcmp(only, "razorpay") != 0 &&
		strcmp(only, "cryptobot") != 0 && strcmp(only, "telegram") != 0 &&
		strcmp(only, "google") != 0) ||
	    (since != NULL && tm_parse(since, &t) != TERR_OK &&
		tm_parse_duration(since, &d) != TERR_OK)) {
		fprintf(stderr,
		    "tally-reconcile: --provider takes stripe, apple, revenuecat, razorpay, "
		    "cryptobot, telegram or google; "
		    "--since a time (2026-11-01T00:00:00Z) or an age (48h)\n");
		job_finish(&j);
		return 2;
	}
	last_ok = reconcile_last_ok(&j);
	if (wanted(&j, "stripe") && j.cfg.stripe.api_key[0] != '\0') {
		any = 1;
		reconcile_stripe(&j, last_ok);
	}
	if (wanted(&j, "apple") && !j.stop && j.cfg.apple.key_id[0] != '\0' &&
	    j.cfg.apple.issuer_id[0] != '\0' && j.cfg.apple.private_key[0] != '\0') {
		any = 1;
		reconcile_apple(&j, last_ok);
	}
	if (wanted(&j, "revenuecat") && !j.stop && j.cfg.revenuecat.api_key[0] != '\0') {
		any = 1;
		reconcile_revenuecat(&j);
	}
	if (wanted(&j, "razorpay") && !j.stop && j.cfg.razorpay.key_id[0] != '\0' &&
	    j.cfg.razorpay.key_secret[0] != '\0') {
		any = 1;
		reconcile_razorpay(&j);
	}
	if (wanted(&j, "cryptobot") && !j.stop && j.cfg.cryptobot.token[0] != '\0') {
		any = 1;
		reconcile_cryptobot(&j);
	}
	if (wanted(&j, "telegram") && !j.stop && j.cfg.telegram.bot_token[0] != '\0') {
		any = 1;
		reconcile_telegram(&j);
	}
	if (wanted(&j, "google") && !j.stop && j.cfg.google.enabled &&
	    j.cfg.google.sa_file[0] != '\0') {
		any = 1;
		reconcile_google(&j);
	}
	if (!any)
		job_count(&j, "providers_configured", 0);
	return job_finish(&j);
}
