/*
 * apply: the metrics' part of the write path (apply_kpi.c), for the aspects
 * that record money and write subscriptions (apply_sub.c, apply_money.c,
 * apply_order.c, apply_app.c). In the event's transaction, cheaply: after a
 * subscription is written, what it counts for (core/kpi.h) is compared with
 * what it counted for (kpi_subs), and each difference is a sub_history row
 * (its triggers add it to the day's rollups); a refund is a refunds row.
 * Payments and ledger entries need nothing here: triggers roll them up.
 */
#ifndef TALLY_APPLY_KPI_H
#define TALLY_APPLY_KPI_H

#include "core/apply_outcome.h"
#include "store/store_kpi.h"

/* What one event said about a subscription's money, for ap_kpi_sub (held in struct subst). */
struct kpi_pending {
	int priced; /* a payment for a full period was recorded */
	int64_t amount;
	char currency[CURRENCY_MAX]; /* in capitals */
	int months;
	int64_t period_ms;
	int converted; /* the app-managed trial ended because the user paid (ap_end_trial) */
};

/*
 * A payment for a full period (initial or renewal) of a subscription of
 * product p: its amount and the period it pays for (the catalog's
 * products.<id>.period, else start to end, the period the payment or the
 * subscription says), noted in k for ap_kpi_sub.
 */
void ap_kpi_price(struct kpi_pending *k, const struct product *p, const struct pay_row *pr,
    int64_t start, int64_t end);

/*
 * The subscription row as just written: its standing in kpi_subs and the
 * sub_history rows of what changed, at the event's time (o->at).
 */
enum terr ap_kpi_sub(struct actx *a, struct outcome *o, const struct sub_row *row,
    const struct kpi_pending *k);

/*
 * A refund of payment pr (rf: as the event said): partial (its amount; when
 * rf->cumulative, what it adds to what earlier refunds of pr counted), full
 * or a dispute (what earlier refunds left of the payment); a refunds row.
 */
enum terr ap_kpi_refund(struct actx *a, struct outcome *o, const struct pay_row *pr,
    const struct bev_refund *rf);
/* pr's latest full refund or dispute undone (a reversal): a refunds row taking it back. */
enum terr ap_kpi_reversal(struct actx *a, struct outcome *o, const struct pay_row *pr);

#endif
