/* Private to storage: the row reader of ORDER_COLS (store_orders.c), shared with store_jobs.c. */
#ifndef TALLY_STORE_ORDERS_INT_H
#define TALLY_STORE_ORDERS_INT_H

#include <sqlite3.h>

void store_read_order(sqlite3_stmt *st, void *out);

#endif
