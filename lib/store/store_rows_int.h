/*
 * Private to storage: the row readers of SUB_COLS and INBOX_COLS
 * (store_rows.c), shared with store_jobs.c and store_console.c.
 */
#ifndef TALLY_STORE_ROWS_INT_H
#define TALLY_STORE_ROWS_INT_H

#include <sqlite3.h>

void store_read_sub(sqlite3_stmt *st, void *out);
void store_read_inbox(sqlite3_stmt *st, void *out);

#endif
