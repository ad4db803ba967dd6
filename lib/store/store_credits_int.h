/*
 * Private to storage: the row readers of LEDGER_COLS and AUDIT_COLS
 * (store_credits.c), shared with store_console.c.
 */
#ifndef TALLY_STORE_CREDITS_INT_H
#define TALLY_STORE_CREDITS_INT_H

#include "store/store_int.h"

void store_read_ledger(const struct store_row *row, void *out);
void store_read_audit(const struct store_row *row, void *out);

#endif
