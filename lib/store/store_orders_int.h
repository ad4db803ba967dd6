/* Private to storage: the row reader of ORDER_COLS (store_orders.c), shared with store_jobs.c. */
#ifndef TALLY_STORE_ORDERS_INT_H
#define TALLY_STORE_ORDERS_INT_H

#include "store/store_int.h"

void store_read_order(const struct store_row *row, void *out);

#endif
