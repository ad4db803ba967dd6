/*
 * Private to storage: the row readers of LEDGER_COLS and AUDIT_COLS
 * (store_credits.c), shared with store_console.c.
 */
#ifndef TALLY_STORE_CREDITS_INT_H
#define TALLY_STORE_CREDITS_INT_H

#include <sqlite3.h>

void store_read_ledger(sqlite3_stmt *st, void *out);
void store_read_audit(sqlite3_stmt *st, void *out);

#endif
