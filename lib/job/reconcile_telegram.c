/*
 * tally-reconcile: Telegram Stars payments of pending orders, and renewals of
 * stale Stars subscriptions whose webhook was missed (reconcile.h). A Stars
 * subscription is its order's (ext_id "order:<order id>", apply_order.c);
 * each renewal is an incoming StarTransaction of a user with that order id
 * as its invoice_payload, a subscription_period, and its own charge id.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/money.h"
#include "base/tm.h"
#include "job/reconcile.h"
#include "job/reconcile_int.h"
#include "job/reconcile_telegram.h"
#include "providers/telegram/telegram.h"
#include "providers/telegram/telegram_api.h"
#include "providers/telegram/telegram_sync.h"
#include "store/store.h"
#include "store/store_rows.h"

/* ----------------------------------------------------------------- telegram */

/* Star transactions kept in a run (payments of pending orders, renewals, refunds), at most. */
#define TG_KEPT_MAX          (2 * RECONCILE_STALE_MAX)
/* A transaction this much older than the oldest pending order (or stale subscription's period
 * end) cannot pay it (renew it); clocks differ. */
#define TG_SLACK_MS          (3600LL * 1000)
/* A Stars subscription's ext_id: its order's id after this (apply_order.c). */
#define STARS_SUB_PREFIX     "order:"
#define STARS_SUB_PREFIX_LEN (sizeof(STARS_SUB_PREFIX) - 1)

/* The pending Stars order (of o[0..n)) whose id is t's invoice_payload, or NULL. */
static const struct order_row *
stars_order(const struct order_row *o, size_t n, const struct tg_star_tx *t)
{
	size_t i;

	for (i = 0; t->payload[0] != '\0' && i < n; i++)
		if (strcmp(o[i].id, t->payload) == 0)
			return &o[i];
	return NULL;
}

/* The stale Stars subscription (of st) whose order's id is t's invoice_payload, or NULL. */
static const struct sub_row *
stars_sub(const struct reconcile_stale *st, const struct tg_star_tx *t)
{
	size_t i;

	for (i = 0; t->payload[0] != '\0' && i < st->n; i++)
		if (strcmp(st->rows[i].ext_id + STARS_SUB_PREFIX_LEN, t->payload) == 0)
			return &st->rows[i];
	return NULL;
}

/*
 * 1 when incoming t may be a missed renewal of stale subscription r: it has a
 * subscription_period, is dated after r's period start, and its charge is
 * not a payment tally recorded (the business key). 0; -1 (storage).
 */
static int
renewal_due(struct job *j, const struct sub_row *r, const struct tg_star_tx *t)
{
	struct pay_row pr;
	enum terr rc;

	if (t->period <= 0 || t->date <= r->period_start)
		return 0;
	rc = store_pay_find_key(j->s, "telegram", t->id, &pr);
	if (rc == TERR_OK)
		return 0;
	if (rc == TERR_NOTFOUND)
		return 1;
	job_fail(j, "storage failed reading the payment of charge %.64s: %s", t->id, err_str(rc));
	return -1;
}

/* 1 when an outgoing transaction to a user (a refund: "Coincides with the identifier of the
 * original transaction for refund transactions") has t's id. */
static int
refunded(const struct tg_star_tx *v, size_t n, const struct tg_star_tx *t)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!v[i].incoming && strcmp(v[i].id, t->id) == 0)
			return 1;
	return 0;
}

/* The oldest first (the order they were paid in), then by id. */
static int
by_date(const void *a, const void *b)
{
	const struct tg_star_tx *x = a, *y = b;

	if (x->date != y->date)
		return x->date < y->date ? -1 : 1;
	return strcmp(x->id, y->id);
}

/*
 * The drift line of Stars payment t (a first payment, or a renewal); unless
 * refunded since, its successful_payment queued. 0, or -1 (storage).
 */
static int
telegram_apply(struct job *j, const struct tg_star_tx *t, int renewal, int refund,
    const char *subject, const char *user, const char *tally, const char *theirs, struct buf *body)
{
	if (refund) {
		reconcile_drift(j, "telegram", subject, user, tally, theirs, "reported",
		    "refunded at Telegram: nothing to grant");
		return 0;
	}
	reconcile_drift(j, "telegram", subject, user, tally, theirs, "found", NULL);
	if (telegram_sync_update(t, renewal, body) != TERR_OK) {
		job_fail(j, "telegram %s: the update does not fit", subject);
		return 0;
	}
	return job_apply_raw(j, "telegram", buf_cstr(body), body->len,
	    renewal ? "telegram renewal" : "telegram payment", subject);
}

/* A Stars payment t of pending order o, reported and queued. 0, or -1 (storage). */
static int
telegram_payment(struct job *j, const struct order_row *o, const struct tg_star_tx *t, int refund,
    struct buf *body)
{
	char subject[ID_MAX * 2 + 32], tally[64], theirs[128], when[TM_ISO_SIZE];
	char stars[MONEY_TEXT_SIZE];

	snprintf(subject, sizeof(subject), "order %.64s (charge %.64s)", o->id, t->id);
	tm_iso(o->expires_at, when);
	snprintf(tally, sizeof(tally), "pending until %s", when);
	money_text(t->amount, "XTR", stars, sizeof(stars));
	snprintf(theirs, sizeof(theirs), "paid %s by user %.24s%s", stars, t->from,
	    refund ? ", refunded" : "");
	return telegram_apply(j, t, 0, refund, subject, o->user, tally, theirs, body);
}

/* A missed renewal t of stale Stars subscription r, reported and queued. 0, or -1 (storage). */
static int
telegram_renewal(struct job *j, const struct sub_row *r, const struct tg_star_tx *t, int refund,
    struct buf *body)
{
	char subject[ID_MAX * 2 + 64], tally[64], theirs[160], when[TM_ISO_SIZE];
	char stars[MONEY_TEXT_SIZE];

	snprintf(subject, sizeof(subject), "subscription %lld (order %.64s, charge %.64s)",
	    (long long)r->id, t->payload, t->id);
	reconcile_describe(r->state, r->period_end, r->cancel_at_period_end, tally, sizeof(tally));
	tm_iso(t->date, when);
	money_text(t->amount, "XTR", stars, sizeof(stars));
	snprintf(theirs, sizeof(theirs), "renewed %s: paid %s by user %.24s%s", when, stars,
	    t->from, refund ? ", refunded" : "");
	return telegram_apply(j, t, 1, refund, subject, r->user, tally, theirs, body);
}

void
reconcile_telegram(struct job *j)
{
	struct reconcile_stale st = { "telegram", NULL, 0, 0 };
	struct order_row *o = NULL;
	struct tg_star_tx *page = NULL, *kept = NULL;
	struct job_item it = { .action = "provider",
		.subject = "telegram",
		.provider = "telegram",
		.result = "ok" };
	struct buf body;
	char why[512], note[300];
	size_t n = 0, k = 0, other, got = 0, nk = 0, pages = 0, i;
	int64_t oldest = INT64_MAX, offset = 0, prev = INT64_MAX;
	int desc = 1, end = 0, cut = 0, due;
	enum terr rc;

	buf_init(&body, BODY_MAX / 4);
	if (reconcile_pending_orders(j, "telegram", 0, NULL, &o, &n) != 0)
		goto out;
	/* Only Stars can be checked; the others stay to the grace-expiry job. */
	for (i = 0; i < n; i++)
		if (strcmp(o[i].currency, "XTR") == 0) {
			oldest = o[i].created_at < oldest ? o[i].created_at : oldest;
			o[k++] = o[i];
		}
	other = n - k;
	n = k;
	j->done += (int64_t)n;
	/* Stale subscriptions next (after the orders, under --limit): only Stars ones (order:). */
	if (reconcile_stale_subs(j, &st) != 0) {
		if (!j->stop)
			job_fail(j, "out of memory");
		goto out;
	}
	for (i = k = 0; i < st.n; i++)
		if (strncmp(st.rows[i].ext_id, STARS_SUB_PREFIX, STARS_SUB_PREFIX_LEN) == 0) {
			/* A renewal comes at the period's end: older transactions are not one. */
			if (st.rows[i].period_end < oldest)
				oldest = st.rows[i].period_end;
			st.rows[k++] = st.rows[i];
		}
	st.n = k;
	j->done += (int64_t)st.n;
	if ((n > 0 || st.n > 0) &&
	    ((page = calloc(TG_STAR_PAGE, sizeof(*page))) == NULL ||
		(kept = calloc(TG_KEPT_MAX, sizeof(*kept))) == NULL)) {
		job_fail(j, "out of memory");
		goto out;
	}
	/*
	 * Every page read before anything is applied. The Bot API gives the
	 * transactions "in chronological order" without saying which way: newest
	 * first (what Telegram answers), the pages stop once past the oldest
	 * pending order and the oldest stale subscription's period end; else at
	 * the last page, or TG_STAR_PAGES_MAX.
	 */
	while ((n > 0 || st.n > 0) && !end && pages < TG_STAR_PAGES_MAX) {
		rc = telegram_star_transactions(&j->cfg, offset, TG_STAR_PAGE, page, TG_STAR_PAGE,
		    &got, why, sizeof(why));
		if (rc != TERR_OK) {
			reconcile_failed(j, "telegram", "Telegram", why);
			goto out;
		}
		pages++;
		offset += (int64_t)got;
		if (job_tick(j) != 0)
			goto out;
		for (i = 0; i < got; i++) {
			const struct tg_star_tx *t = &page[i];
			const struct sub_row *sub;
			if (t->date > prev)
				desc = 0;
			prev = t->date;
			/*
			 * A user's invoice payment naming a pending order or renewing a
			 * stale Stars subscription, or a refund to a user.
			 */
			if (!t->user || (t->incoming && !t->invoice))
				continue;
			sub = stars_order(o, n, t) == NULL ? stars_sub(&st, t) : NULL;
			if (t->incoming && stars_order(o, n, t) == NULL) {
				if (sub == NULL)
					continue;
				if ((due = renewal_due(j, sub, t)) < 0)
					goto out;
				if (!due)
					continue;
			}
			if (!t->incoming && t->payload[0] != '\0' && stars_order(o, n, t) == NULL &&
			    sub == NULL)
				continue;
			if (nk == TG_KEPT_MAX) {
				cut = 1;
				continue;
			}
			kept[nk++] = *t;
		}
		end = got < TG_STAR_PAGE || (desc && prev < oldest - TG_SLACK_MS);
	}
	if ((n > 0 || st.n > 0) && !end)
		cut = 1;
	job_count(j, "telegram.fetched", offset);
	if (nk > 0)
		qsort(kept, nk, sizeof(*kept), by_date);
	/* Oldest first: a subscription's renewals in the order they were paid. */
	for (i = 0; i < nk && !j->stop; i++) {
		const struct order_row *ord = stars_order(o, n, &kept[i]);
		const struct sub_row *sub = ord == NULL ? stars_sub(&st, &kept[i]) : NULL;
		int refund = refunded(kept, nk, &kept[i]);
		if (!kept[i].incoming)
			continue;
		if (ord != NULL && telegram_payment(j, ord, &kept[i], refund, &body) != 0)
			goto out;
		if (sub != NULL && telegram_renewal(j, sub, &kept[i], refund, &body) != 0)
			goto out;
	}
	if (job_flush(j) != 0 || j->stop)
		goto out;
	note[0] = '\0';
	if (other > 0)
		snprintf(note, sizeof(note),
		    "%zu pending order%s not in Stars: not reconcilable (no Bot API method says "
		    "whether an invoice was paid)",
		    other, other == 1 ? "" : "s");
	if (cut)
		snprintf(note + strlen(note), sizeof(note) - strlen(note),
		    "%sonly the first %lld Star transactions were read",
		    note[0] != '\0' ? "; " : "", (long long)offset);
	it.reason = note[0] != '\0' ? note : NULL;
	if (other > 0)
		job_count(j, "telegram.not_reconcilable", (int64_t)other);
	reconcile_say(j, &it, "ok");
out:
	free(o);
	free(st.rows);
	free(page);
	free(kept);
	buf_release(&body);
}
