#include <string.h>

#include "base/text.h"
#include "core/ledger.h"
#include "store/store_credits.h"

#define CHUNK 32

/* Note that g's user's balance changed by amount (live at op->now unless g had expired). */
static void
touch(const struct ledger_op *op, const struct grant_row *g, int64_t amount)
{
	struct ledger_touched *t = op->touched;
	int live = g->expires_at == 0 || g->expires_at > op->now;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n && strcmp(t->u[i].user, g->user) != 0; i++)
		;
	if (i == t->n) {
		if (t->n == LEDGER_TOUCHED_MAX) {
			t->overflow = 1;
			return;
		}
		text_copy(t->u[i].user, sizeof(t->u[i].user), g->user);
		t->u[i].live_delta = 0;
		t->n++;
	}
	if (live)
		t->u[i].live_delta += amount;
}

static enum terr
entry(struct store *s, const struct ledger_op *op, const struct grant_row *g, int64_t amount,
    const char *kind)
{
	struct ledger_row l;

	memset(&l, 0, sizeof(l));
	text_copy(l.user, sizeof(l.user), g->user);
	l.grant_id = g->id;
	l.amount = amount;
	text_copy(l.kind, sizeof(l.kind), kind);
	text_copy(l.reason, sizeof(l.reason), op->reason != NULL ? op->reason : "");
	text_copy(l.actor, sizeof(l.actor), op->actor);
	l.inbox_id = op->inbox_id;
	l.created_at = op->now;
	touch(op, g, amount);
	return store_ledger_insert(s, &l);
}

enum terr
ledger_grant(struct store *s, const struct ledger_op *op, struct grant_row *g)
{
	enum terr rc;

	if (g->amount <= 0 || g->amount > CREDITS_MAX)
		return TERR_INVAL;
	g->remaining = g->amount;
	g->created_at = op->now;
	if ((rc = store_grant_insert(s, g)) != TERR_OK)
		return rc;
	return entry(s, op, g, g->amount, "grant");
}

enum terr
ledger_zero(struct store *s, const struct ledger_op *op, const char *kind, struct grant_row *g,
    size_t n, int64_t *taken)
{
	size_t i;
	enum terr rc;

	if (taken != NULL)
		*taken = 0;
	for (i = 0; i < n; i++) {
		if (g[i].remaining <= 0)
			continue;
		if ((rc = entry(s, op, &g[i], -g[i].remaining, kind)) != TERR_OK ||
		    (rc = store_grant_set_remaining(s, g[i].id, 0)) != TERR_OK)
			return rc;
		if (taken != NULL)
			*taken += g[i].remaining;
		g[i].remaining = 0;
	}
	return TERR_OK;
}

enum terr
ledger_debit(struct store *s, const struct ledger_op *op, const char *user, int64_t amount,
    const char *kind, int partial_ok, int64_t *taken)
{
	struct grant_row g[CHUNK];
	int64_t left = amount, live, take;
	size_t n, i;
	enum terr rc;

	if (taken != NULL)
		*taken = 0;
	if (amount <= 0 || amount > CREDITS_MAX)
		return TERR_INVAL;
	if ((rc = store_balance_live(s, user, op->now, &live)) != TERR_OK)
		return rc;
	if (live < amount && !partial_ok)
		return TERR_SHORT;
	while (left > 0) {
		if ((rc = store_grants_live(s, user, op->now, g, CHUNK, &n)) != TERR_OK)
			return rc;
		if (n == 0)
			break;
		for (i = 0; i < n && left > 0; i++) {
			take = g[i].remaining < left ? g[i].remaining : left;
			if ((rc = entry(s, op, &g[i], -take, kind)) != TERR_OK ||
			    (rc = store_grant_set_remaining(s, g[i].id, g[i].remaining - take)) !=
				TERR_OK)
				return rc;
			left -= take;
		}
	}
	if (taken != NULL)
		*taken = amount - left;
	return TERR_OK;
}
