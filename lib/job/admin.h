/*
 * The storage the admin CLI (bin/tally, jobs/tally/) uses, named in one
 * place: the connection and its transactions (store.h), the rows of users,
 * the inbox, subscriptions and payments (store_rows.h), the ledger and the
 * audit (store_credits.h), API keys, jobs and the outbox (store_access.h),
 * backups (store_backup.h), the console's admins (store_console.h),
 * direct orders (store_orders.h) and the tasks owed to providers
 * (store_tasks.h). Like the
 * handlers and the jobs, the CLI never includes store/ itself (DESIGN.md,
 * Layout): what it may touch of storage is this list.
 */
#ifndef TALLY_JOB_ADMIN_H
#define TALLY_JOB_ADMIN_H

#include "store/store.h"
#include "store/store_access.h"
#include "store/store_backup.h"
#include "store/store_console.h"
#include "store/store_credits.h"
#include "store/store_orders.h"
#include "store/store_rows.h"
#include "store/store_tasks.h"

#endif
