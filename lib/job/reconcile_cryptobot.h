/* tally-reconcile's CryptoBot pass (reconcile_cryptobot.c), for jobs/reconcile.c. */
#ifndef TALLY_RECONCILE_CRYPTOBOT_H
#define TALLY_RECONCILE_CRYPTOBOT_H

#include "job/job.h"

/*
 * CryptoBot (CRYPTOBOT_TOKEN): tally's pending cryptobot orders with an
 * invoice, the oldest first; getInvoices by their ids (CB_INVOICES_MAX a
 * call). Paid: applied as the invoice_paid webhook (cryptobot_sync.h).
 * Expired: reported; the grace-expiry job expires the order. Active: in sync.
 */
void reconcile_cryptobot(struct job *j);

#endif
