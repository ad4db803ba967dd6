/*
 * apply: the metrics' part of the write path. A subscription's standing
 * (kpi_subs) against what it counts for after the event; each difference a
 * sub_history row under the (provider, product, currency) it belongs to.
 * docs/metrics.md defines every figure moved here.
 */
#include <string.h>

#include "base/text.h"
#include "core/apply_kpi.h"
#include "core/kpi.h"

/* The rows of one change: at most 9 differ (see ap_kpi_sub). */
#define MOVES_MAX 12

struct move {
	int64_t at;
	char product[CFG_NAME_MAX];
	char currency[CURRENCY_MAX];
	int64_t v[KPI_SUB_COLS];
};

struct moves {
	struct move m[MOVES_MAX];
	size_t n;
};

static void
upper(char *dst, size_t size, const char *src)
{
	size_t i;

	for (i = 0; src[i] != '\0' && i + 1 < size; i++)
		dst[i] = src[i] >= 'a' && src[i] <= 'z' ? (char)(src[i] - 'a' + 'A') : src[i];
	dst[i] = '\0';
}

/* Add v to figure col of the row (at, product, currency). */
static void
add(struct moves *ms, int64_t at, const char *product, const char *currency, enum kpi_col col,
    int64_t v)
{
	size_t i;

	for (i = 0; i < ms->n; i++)
		if (ms->m[i].at == at && strcmp(ms->m[i].product, product) == 0 &&
		    strcmp(ms->m[i].currency, currency) == 0)
			break;
	if (i == ms->n) {
		if (ms->n == MOVES_MAX)
			return; /* cannot happen: one change makes at most 9 */
		memset(&ms->m[i], 0, sizeof(ms->m[i]));
		ms->m[i].at = at;
		text_copy(ms->m[i].product, sizeof(ms->m[i].product), product);
		text_copy(ms->m[i].currency, sizeof(ms->m[i].currency), currency);
		ms->n++;
	}
	ms->m[i].v[col] += v;
}

/* What a standing adds to the stocks, times sign: paying and its MRR, or a trial. */
static void
stocks(struct moves *ms, int64_t at, const struct kpi_sub_row *k, int sign)
{
	if (k->status == KPI_SUB_PAYING) {
		add(ms, at, k->product, k->currency, KPI_PAYING, sign);
		add(ms, at, k->product, k->currency, KPI_MRR, sign * k->mrr);
	} else if (k->status == KPI_SUB_TRIAL)
		add(ms, at, k->product, "", KPI_TRIALS, sign);
}

/* A trial that became paying: on the day it did, and on its cohort's day. */
static void
conversion(struct moves *ms, int64_t at, const struct kpi_sub_row *k)
{
	add(ms, at, k->trial_product, "", KPI_CONVERSIONS, 1);
	add(ms, k->trial_at, k->trial_product, "", KPI_CONVERTED, 1);
}

void
ap_kpi_price(struct kpi_pending *k, const struct product *p, const struct pay_row *pr,
    int64_t start, int64_t end)
{
	k->priced = 1;
	k->amount = pr->amount;
	upper(k->currency, sizeof(k->currency), pr->currency);
	if (p != NULL && (p->period.months > 0 || p->period.ms > 0)) {
		k->months = p->period.months;
		k->period_ms = p->period.months > 0 ? 0 : p->period.ms;
	} else
		kpi_period_of(start, end, &k->months, &k->period_ms);
}

/* Movements between what sub counted for (cur) and counts for now (next), filling next's lifecycle. */
static void
movements(struct moves *ms, int64_t at, const struct kpi_sub_row *cur, struct kpi_sub_row *next,
    int converted)
{
	if (next->status == KPI_SUB_TRIAL && cur->status != KPI_SUB_TRIAL && next->trial_at == 0) {
		next->trial_at = at;
		text_copy(next->trial_product, sizeof(next->trial_product), next->product);
		add(ms, at, next->product, "", KPI_TRIAL_STARTS, 1);
	}
	if (next->status == KPI_SUB_PAYING && cur->status != KPI_SUB_PAYING) {
		if (!next->paid) {
			add(ms, at, next->product, next->currency, KPI_NEW, 1);
			if (next->trial_at != 0)
				conversion(ms, at, next);
			next->paid = 1;
		} else if (next->churned) {
			add(ms, at, next->product, next->currency, KPI_REACTIVATIONS, 1);
			next->churned = 0;
		}
	}
	/* The app-managed trial ends when the user pays elsewhere: its conversion. */
	if (converted && cur->status == KPI_SUB_TRIAL && next->status != KPI_SUB_TRIAL &&
	    !next->paid && next->trial_at != 0)
		conversion(ms, at, next);
	if (cur->status == KPI_SUB_PAYING && next->status == KPI_SUB_NONE) {
		add(ms, at, cur->product, cur->currency,
		    cur->state == SUB_PAST_DUE ? KPI_CHURN_BILLING : KPI_CHURN_VOLUNTARY, 1);
		next->churned = 1;
	}
}

static int
standing_differs(const struct kpi_sub_row *a, const struct kpi_sub_row *b)
{
	return a->status != b->status || a->state != b->state ||
	    strcmp(a->product, b->product) != 0 || strcmp(a->currency, b->currency) != 0 ||
	    a->mrr != b->mrr || a->amount != b->amount ||
	    strcmp(a->amount_currency, b->amount_currency) != 0 || a->months != b->months ||
	    a->period_ms != b->period_ms || a->amount_at != b->amount_at ||
	    a->trial_at != b->trial_at || strcmp(a->trial_product, b->trial_product) != 0 ||
	    a->paid != b->paid || a->churned != b->churned;
}

enum terr
ap_kpi_sub(struct actx *a, struct outcome *o, const struct sub_row *row,
    const struct kpi_pending *k)
{
	struct kpi_sub_row cur, next;
	struct sub_history_row h;
	struct moves ms;
	size_t i;
	int c, fresh = 0;
	enum terr rc;

	if ((rc = store_kpi_sub_get(a->s, row->id, &cur)) == TERR_NOTFOUND) {
		memset(&cur, 0, sizeof(cur));
		cur.sub_id = row->id;
		cur.status = KPI_SUB_NONE;
		cur.state = SUB_NONE;
		text_copy(cur.product, sizeof(cur.product), row->product);
		fresh = 1;
	} else if (rc != TERR_OK)
		return rc;
	next = cur;
	next.state = row->state;
	text_copy(next.product, sizeof(next.product), row->product);
	/* A late payment for an older period does not set the price of a newer one. */
	if (k != NULL && k->priced && o->at >= cur.amount_at) {
		next.amount = k->amount;
		text_copy(next.amount_currency, sizeof(next.amount_currency), k->currency);
		next.months = k->months;
		next.period_ms = k->period_ms;
		next.amount_at = o->at;
	}
	next.status = kpi_status_of(row->state, next.amount);
	next.mrr = next.status == KPI_SUB_PAYING
	    ? kpi_monthly(next.amount, next.months, next.period_ms)
	    : 0;
	text_copy(next.currency, sizeof(next.currency),
	    next.status == KPI_SUB_PAYING ? next.amount_currency : "");

	memset(&ms, 0, sizeof(ms));
	stocks(&ms, o->at, &cur, -1);
	stocks(&ms, o->at, &next, 1);
	movements(&ms, o->at, &cur, &next, k != NULL && k->converted);

	memset(&h, 0, sizeof(h));
	h.sub_id = row->id;
	h.live = row->live;
	text_copy(h.provider, sizeof(h.provider), row->provider);
	h.status = next.status;
	h.inbox_id = o->op.inbox_id;
	for (i = 0; i < ms.n; i++) {
		for (c = 0; c < KPI_SUB_COLS && ms.m[i].v[c] == 0; c++)
			;
		if (c == KPI_SUB_COLS)
			continue; /* what left one side came back on it */
		h.at = ms.m[i].at;
		text_copy(h.product, sizeof(h.product), ms.m[i].product);
		text_copy(h.currency, sizeof(h.currency), ms.m[i].currency);
		memcpy(h.v, ms.m[i].v, sizeof(h.v));
		if ((rc = store_sub_history_insert(a->s, &h)) != TERR_OK)
			return rc;
		next.at = o->at;
	}
	if (!fresh && !standing_differs(&cur, &next))
		return TERR_OK;
	if (fresh && next.at == 0)
		next.at = o->at;
	return store_kpi_sub_put(a->s, &next);
}

enum terr
ap_kpi_refund(struct actx *a, struct outcome *o, const struct pay_row *pr,
    const struct bev_refund *rf)
{
	int64_t all = 0, whole = 0, amount = rf->amount;
	enum terr rc;

	if ((rc = store_refund_sums(a->s, pr->id, &all, &whole)) != TERR_OK)
		return rc;
	/* Full: the rest of the payment (earlier partial refunds counted their part). */
	if (rf->kind != REFUND_PARTIAL)
		amount = pr->amount - all;
	else if (rf->cumulative)
		amount = rf->amount - all;
	if (amount < 0)
		amount = 0;
	return store_refund_insert(a->s, pr->id, o->at,
	    rf->kind == REFUND_PARTIAL       ? "partial"
		: rf->kind == REFUND_DISPUTE ? "dispute"
					     : "full",
	    amount, 1, o->op.inbox_id);
}

enum terr
ap_kpi_reversal(struct actx *a, struct outcome *o, const struct pay_row *pr)
{
	int64_t all = 0, whole = 0;
	enum terr rc;

	if ((rc = store_refund_sums(a->s, pr->id, &all, &whole)) != TERR_OK)
		return rc;
	return store_refund_insert(a->s, pr->id, o->at, "reversal", -whole, -1, o->op.inbox_id);
}
