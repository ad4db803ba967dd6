/* tally-reconcile's Telegram pass (reconcile_telegram.c), for jobs/reconcile.c. */
#ifndef TALLY_RECONCILE_TELEGRAM_H
#define TALLY_RECONCILE_TELEGRAM_H

#include "job/job.h"

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
