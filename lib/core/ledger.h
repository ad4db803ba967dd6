/*
 * The credit ledger. Credits are int64 integers held in grants (lots), each
 * with its own expiry; every change to a grant's remaining amount writes one
 * ledger entry, so a grant's remaining always equals the sum of its entries
 * and a user's balance the sum of theirs (invariant 8). Spending draws the
 * soonest-expiring grant first and never goes below zero.
 *
 * These functions write inside the caller's transaction and never open one.
 */
#ifndef TALLY_LEDGER_H
#define TALLY_LEDGER_H

#include <stdint.h>

#include "store/store.h"

/*
 * The users whose entries one event wrote, each with the net change of its
 * balance live at the event's time (entries on grants already expired then
 * change no live balance): what the balance alerts look at once the event's
 * effects are all written (lib/core/apply_balance.c). Past LEDGER_TOUCHED_MAX
 * users, the rest are not listed and overflow says so.
 */
#define LEDGER_TOUCHED_MAX 16
struct ledger_touched {
	struct {
		char user[USER_ID_MAX + 1];
		int64_t live_delta;
	} u[LEDGER_TOUCHED_MAX];
	size_t n;
	int overflow;
};

/* Who and why, written on every entry. */
struct ledger_op {
	const char *actor;  /* "stripe:evt_...", "operator:alice", "job:renewals" */
	const char *reason; /* free text, "" when none */
	int64_t inbox_id;   /* the event behind it, 0 when none */
	int64_t now;
	struct ledger_touched *touched; /* when not NULL, each entry's user is added to it */
};

/*
 * A new grant of amount (> 0, <= CREDITS_MAX) to g->user with g's source,
 * subscription, payment, product and expiry; g->id is set. A "grant" entry.
 */
enum terr ledger_grant(struct store *s, const struct ledger_op *op, struct grant_row *g);

/*
 * Take the whole remaining amount of each grant in g[0..n) with an entry of
 * kind ("reset", "expire", "revoke", "clawback"). *taken (may be NULL) sums it.
 */
enum terr ledger_zero(struct store *s, const struct ledger_op *op, const char *kind,
    struct grant_row *g, size_t n, int64_t *taken);

/*
 * Draw amount from user's grants live at op->now, soonest-expiring first,
 * with entries of kind ("spend", "revoke", "clawback"). When the live balance
 * is short: with partial_ok, take all there is; otherwise TERR_SHORT and
 * nothing is written. *taken (may be NULL) is what was drawn.
 */
enum terr ledger_debit(struct store *s, const struct ledger_op *op, const char *user,
    int64_t amount, const char *kind, int partial_ok, int64_t *taken);

#endif
