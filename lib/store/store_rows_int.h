/*
 * Private to storage: the row readers of SUB_COLS and INBOX_COLS
 * (store_rows.c), shared with store_jobs.c and store_console.c.
 */
#ifndef TALLY_STORE_ROWS_INT_H
#define TALLY_STORE_ROWS_INT_H

#include "store/store_int.h"

void store_read_sub(const struct store_row *row, void *out);
void store_read_inbox(const struct store_row *row, void *out);

#endif
