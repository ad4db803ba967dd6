/*
 * What the providers' reconciliation passes (lib/job/reconcile_*.c) share
 * and the job does not need: see reconcile.c.
 */
#ifndef TALLY_RECONCILE_INT_H
#define TALLY_RECONCILE_INT_H

#include <stddef.h>

#include "job/job.h"
#include "store/store_orders.h"

#define RECONCILE_DAY_MS (86400LL * 1000)

/*
 * The start of the window of a provider's history: --since (a time or an
 * age), else last_ok (reconcile_last_ok) less an hour, or 3 days back when
 * there was no successful run; never more than back before now.
 */
int64_t reconcile_since(struct job *j, int64_t last_ok, int64_t back);

/* The provider's error line, its reason naming it (who: "Razorpay") when the cause did not. */
void reconcile_failed(struct job *j, const char *provider, const char *who, const char *why);

/*
 * The provider's pending orders made there (a provider ref, starting with
 * prefix when not NULL; any when !ref: Telegram's invoices have none), the
 * oldest first, at most the run's room under --limit (RECONCILE_STALE_MAX):
 * *out calloc'ed (free it), *n. 0, or -1.
 */
int reconcile_pending_orders(struct job *j, const char *provider, int ref, const char *prefix,
    struct order_row **out, size_t *n);

/* "order ord_... (<what> <ref>)" and "pending until <expiry>". */
void reconcile_order_words(const struct order_row *o, const char *what, char *subject, size_t ssize,
    char *tally, size_t tsize);

#endif
