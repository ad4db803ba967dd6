/*
 * CryptoBot reconciliation (tally-reconcile): an invoice Crypto Pay's
 * getInvoices says is paid, as the invoice_paid update its webhook would
 * have carried, so that it is applied through cryptobot_parse and the same
 * path: the same event id "invoice_paid:<invoice_id>" and charge (the
 * invoice id), the same amount and asset checks. A webhook that arrives
 * later, or a second run, is a duplicate.
 *
 * Sources: help.crypt.bot/crypto-pay-api ("Webhooks": {update_id,
 * update_type, request_date, payload: Invoice}; Invoice; getInvoices)
 * (PROVIDERS.md section 6).
 */
#ifndef TALLY_CRYPTOBOT_SYNC_H
#define TALLY_CRYPTOBOT_SYNC_H

#include <stdint.h>

#include "base/buf.h"
#include "providers/cryptobot/cryptobot.h"

/*
 * The invoice_paid update of inv (as getInvoices answered it, read by
 * cryptobot_invoices_parse) at now into out (reset here): update_id 0,
 * request_date now, the payload an Invoice with the fields tally reads
 * (invoice_id, status, currency_type crypto, asset, amount as Crypto Pay
 * writes it, payload, paid_at). An amount that could not be read is written
 * "" and read back as 0: refused by the order check, as the webhook's would
 * be. TERR_OK or TERR_TOOBIG.
 */
enum terr cryptobot_sync_update(const struct cb_invoice *inv, int64_t now, struct buf *out);

#endif
