/*
 * Telegram Stars reconciliation (tally-reconcile): the bot's Star
 * transactions as getStarTransactions answers them, and an incoming
 * payment from a user as the successful_payment update the webhook would
 * have carried, so that it is applied through telegram_parse and the same
 * path: the same charge (StarTransaction.id "Coincides with
 * SuccessfulPayment.telegram_payment_charge_id for successful incoming
 * payments from users"), the same order, amount and currency checks. Its
 * event id is "stars:<charge id>" (telegram.h): a second run is a
 * duplicate; the webhook arriving later (update:<update_id>) finds the
 * order paid by this charge and grants nothing.
 *
 * Sources: Bot API 10.1 (PaulSonOfLars/telegram-bot-api-spec api.json and
 * the SDKs generated from it: getStarTransactions, StarTransactions,
 * StarTransaction, TransactionPartnerUser, SuccessfulPayment).
 */
#ifndef TALLY_TELEGRAM_SYNC_H
#define TALLY_TELEGRAM_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/tally_limits.h"

/* One StarTransaction, what reconciliation reads of it. */
struct tg_star_tx {
	char id[ID_MAX]; /* id: the charge id of an incoming payment, the original's of a refund */
	int64_t amount;  /* amount: whole Stars */
	int64_t date;    /* date, ms */
	int incoming;    /* source present ("Only for incoming transactions") */
	int user;        /* the partner (source or receiver) is a user ("type": "user") */
	int invoice;   /* a user's invoice payment: transaction_type absent or "invoice_payment" */
	char from[24]; /* the user's id */
	char payload[ID_MAX]; /* invoice_payload; "" when absent or longer than tally's order ids */
	int64_t period;       /* subscription_period, s; 0 */
};

/*
 * Read getStarTransactions' result ({"transactions": [StarTransaction...]},
 * as telegram_api.c's call hands it) into out, at most max, *n of them.
 * TERR_INVAL with why when it is not that shape or a transaction lacks its
 * id, amount or date.
 */
enum terr telegram_star_transactions_parse(const char *result, size_t len, struct tg_star_tx *out,
    size_t max, size_t *n, char *why, size_t whysize);

/*
 * The successful_payment update of t (an incoming invoice payment of a user,
 * in XTR) into out (reset here), marked tally_reconcile: message.date and
 * from.id of the transaction; currency XTR, total_amount, invoice_payload,
 * telegram_payment_charge_id = t->id, provider_payment_charge_id "" (Stars);
 * with a subscription_period, subscription_expiration_date = date + period
 * and is_recurring, is_first_recurring: true for a pending order's first
 * payment, false for a renewal (renewal 1: a later payment of a Stars
 * subscription's order, granted as the period renewed). TERR_OK, TERR_INVAL
 * (from is not a user id) or TERR_TOOBIG.
 */
enum terr telegram_sync_update(const struct tg_star_tx *t, int renewal, struct buf *out);

#endif
