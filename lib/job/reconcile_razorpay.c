/*
 * tally-reconcile: Razorpay's pending orders and stale subscriptions
 * (reconcile.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/money.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "job/reconcile.h"
#include "job/reconcile_int.h"
#include "job/reconcile_razorpay.h"
#include "providers/razorpay/razorpay_api.h"
#include "providers/razorpay/razorpay_sync.h"

/* ----------------------------------------------------------------- razorpay */

/*
 * The event of item i of an order's payments (pays), fetched with the order
 * (ent), into body and e: 1 when it is a captured payment of the order, 0
 * when not (another status, a subscription's charge), -1 when it cannot be
 * read, -2 past the last item.
 */
static int
razorpay_payment_event(struct job *j, const struct buf *ent, const struct buf *pays, size_t i,
    struct buf *pay, struct buf *body, struct bev *e)
{
	char id[ID_MAX + 16], pid[ID_MAX], why[REASON_MAX];
	enum terr rc;

	if ((rc = razorpay_collection_item(buf_cstr(pays), pays->len, i, pay)) == TERR_NOTFOUND)
		return -2;
	if (rc != TERR_OK)
		return -1;
	if (razorpay_entity_fields(buf_cstr(pay), pay->len, pid, sizeof(pid), why, sizeof(why)) !=
		TERR_OK ||
	    pid[0] == '\0')
		return -1;
	if (strcmp(why, "captured") != 0)
		return 0;
	/* The Checkout callback's event of the same payment: one event, whoever made it first. */
	snprintf(id, sizeof(id), "checkout:%.240s", pid);
	razorpay_fetched_event(body, id, "order.paid", buf_cstr(pay), "order", buf_cstr(ent),
	    j->now);
	if (body->err != TERR_OK ||
	    razorpay_parse(&j->cfg, NULL, buf_cstr(body), body->len, e, why, sizeof(why)) !=
		TERR_OK)
		return -1;
	return (e->aspects & BEV_ORDER) != 0;
}

/* An order's captured payments, compared and queued. 0, or -1 (storage). */
static int
razorpay_order(struct job *j, const struct order_row *o, const struct buf *ent,
    const struct buf *pays, struct buf *pay, struct buf *body, struct bev *e)
{
	char subject[ID_MAX * 2 + 32], tally[64], theirs[160], amount[MONEY_TEXT_SIZE];
	size_t i;
	int r, found = 0;

	reconcile_order_words(o, "razorpay", subject, sizeof(subject), tally, sizeof(tally));
	if (ent->len == 0) {
		reconcile_drift(j, "razorpay", subject, o->user, tally, "no such order", "reported",
		    NULL);
		return 0;
	}
	for (i = 0; (r = razorpay_payment_event(j, ent, pays, i, pay, body, e)) != -2; i++) {
		if (r <= 0)
			continue; /* -1 cannot happen: every item was read before */
		found = 1;
		money_text(e->order.amount, e->order.currency, amount, sizeof(amount));
		snprintf(theirs, sizeof(theirs), "paid %s (payment %.64s)", amount,
		    e->order.charge_id);
		reconcile_drift(j, "razorpay", subject, o->user, tally, theirs, "found", NULL);
		if (job_apply_raw(j, "razorpay", buf_cstr(body), body->len, "razorpay payment",
			subject) != 0)
			return -1;
	}
	if (!found)
		job_count(j, "razorpay.in_sync", 1);
	return 0;
}

/* A fetched subscription compared with tally's row; applied when they differ. 0, or -1. */
static int
razorpay_sub(struct job *j, const struct sub_row *row, const struct buf *sub, struct buf *body,
    struct bev *e, int apply)
{
	unsigned char h[SHA256_LEN];
	char id[ID_MAX + 64], hex[33], why[REASON_MAX], status[24], type[48], tally[96], theirs[96],
	    subject[ID_MAX + 32];
	int differs;

	snprintf(subject, sizeof(subject), "subscription %lld (%s)", (long long)row->id,
	    row->ext_id);
	if (sub->len == 0) {
		if (apply) {
			reconcile_describe(row->state, row->period_end, row->cancel_at_period_end,
			    tally, sizeof(tally));
			reconcile_drift(j, "razorpay", subject, row->user, tally,
			    "no such subscription", "reported", NULL);
		}
		return 0;
	}
	/* The same state twice is one event (as Stripe's, jobs/reconcile.c). */
	crypto_sha256(buf_cstr(sub), sub->len, h);
	text_hex(h, 16, hex);
	snprintf(id, sizeof(id), "reconcile:%.200s:%s", row->ext_id, hex);
	if (razorpay_entity_fields(buf_cstr(sub), sub->len, NULL, 0, status, sizeof(status)) !=
		TERR_OK ||
	    status[0] == '\0')
		return -1;
	snprintf(type, sizeof(type), "subscription.%s", status);
	razorpay_fetched_event(body, id, type, NULL, "subscription", buf_cstr(sub), j->now);
	if (body->err != TERR_OK ||
	    razorpay_parse(&j->cfg, NULL, buf_cstr(body), body->len, e, why, sizeof(why)) !=
		TERR_OK ||
	    strcmp(e->sub.id, row->ext_id) != 0)
		return -1;
	if (!apply)
		return 0;
	reconcile_describe(row->state, row->period_end, row->cancel_at_period_end, tally,
	    sizeof(tally));
	if (!(e->aspects & BEV_SUB)) {
		snprintf(theirs, sizeof(theirs), "status %s", status);
		reconcile_drift(j, "razorpay", subject, row->user, tally, theirs, "reported",
		    e->note);
		return 0;
	}
	reconcile_describe(e->sub.state, e->sub.period_end, e->sub.cancel_at_period_end, theirs,
	    sizeof(theirs));
	differs = reconcile_differs(row, e);
	if (!differs) {
		job_count(j, "razorpay.in_sync", 1);
		return 0;
	}
	reconcile_drift(j, "razorpay", subject, row->user, tally, theirs, "found", NULL);
	return job_apply_raw(j, "razorpay", buf_cstr(body), body->len, "razorpay subscription",
	    subject);
}

/*
 * Fetch the entity id (an order_ or a sub_), or an order's payments, into
 * out. One Razorpay does not know (404, or 400 "The id provided does not
 * exist", api/orders/fetch-with-id.md) leaves out empty.
 */
static enum terr
razorpay_get(struct job *j, int payments, const char *id, struct buf *out, char *why,
    size_t whysize)
{
	enum terr rc;

	rc = payments
	    ? razorpay_order_payments(&j->cfg, id, out, why, whysize)
	    : razorpay_fetch(&j->cfg, strncmp(id, "sub_", 4) == 0 ? "subscriptions" : "orders", id,
		  out, why, whysize);
	if (rc == TERR_NOTFOUND ||
	    (rc == TERR_INVAL && strstr(why, "The id provided does not exist") != NULL)) {
		buf_reset(out);
		return TERR_OK;
	}
	if (rc == TERR_OK && job_tick(j) != 0) {
		snprintf(why, whysize, "the job's lease was lost");
		return TERR_INTERNAL;
	}
	return rc;
}

void
reconcile_razorpay(struct job *j)
{
	struct reconcile_stale st = { "razorpay", NULL, 0, 0 };
	struct order_row *o = NULL;
	struct buf *b = NULL, pay, body;
	struct bev *e = NULL;
	char why[512];
	size_t n = 0, i, k, nb = 0;
	int r;
	enum terr rc;

	buf_init(&pay, BODY_MAX / 2);
	buf_init(&body, BODY_MAX);
	why[0] = '\0';
	/* Orders and subscriptions checked count against --limit, the orders first. */
	if (reconcile_pending_orders(j, "razorpay", 1, "order_", &o, &n) != 0)
		goto out;
	j->done += (int64_t)n;
	if (reconcile_stale_subs(j, &st) != 0)
		goto out;
	/* Only Razorpay's own subscriptions: plans tally runs (plan:, order:) are not there. */
	for (i = k = 0; i < st.n; i++)
		if (strncmp(st.rows[i].ext_id, "sub_", 4) == 0)
			st.rows[k++] = st.rows[i];
	st.n = k;
	j->done += (int64_t)st.n;
	nb = 2 * n + st.n;
	if ((nb > 0 && (b = calloc(nb, sizeof(*b))) == NULL) || (e = malloc(sizeof(*e))) == NULL) {
		job_fail(j, "out of memory");
		goto out;
	}
	for (i = 0; i < nb; i++)
		buf_init(&b[i], BODY_MAX / 2);
	/* Everything fetched and read before anything is applied. */
	for (i = 0; i < n; i++) {
		if ((rc = razorpay_get(j, 0, o[i].provider_ref, &b[2 * i], why, sizeof(why))) ==
			TERR_OK &&
		    b[2 * i].len > 0)
			rc = razorpay_get(j, 1, o[i].provider_ref, &b[2 * i + 1], why, sizeof(why));
		if (rc != TERR_OK)
			goto failed;
		for (k = 0; b[2 * i].len > 0; k++) {
			r = razorpay_payment_event(j, &b[2 * i], &b[2 * i + 1], k, &pay, &body, e);
			if (r == -2)
				break;
			if (r == -1) {
				snprintf(why, sizeof(why),
				    "Razorpay's payments of order %.64s cannot be read",
				    o[i].provider_ref);
				goto failed;
			}
		}
	}
	for (i = 0; i < st.n; i++) {
		if ((rc = razorpay_get(j, 0, st.rows[i].ext_id, &b[2 * n + i], why, sizeof(why))) !=
		    TERR_OK)
			goto failed;
		if (razorpay_sub(j, &st.rows[i], &b[2 * n + i], &body, e, 0) != 0) {
			snprintf(why, sizeof(why), "Razorpay's subscription %.64s cannot be read",
			    st.rows[i].ext_id);
			goto failed;
		}
	}
	job_count(j, "razorpay.fetched", (int64_t)(n + st.n));
	for (i = 0; i < n && !j->stop; i++)
		if (razorpay_order(j, &o[i], &b[2 * i], &b[2 * i + 1], &pay, &body, e) != 0)
			goto out;
	if (job_flush(j) != 0)
		goto out;
	for (i = 0; i < st.n && !j->stop; i++)
		if (razorpay_sub(j, &st.rows[i], &b[2 * n + i], &body, e, 1) != 0)
			goto out;
	if (job_flush(j) == 0 && !j->stop)
		reconcile_result(j, "razorpay", NULL);
	goto out;
failed:
	if (!j->stop)
		reconcile_failed(j, "razorpay", "Razorpay", why[0] != '\0' ? why : "failed");
out:
	for (i = 0; b != NULL && i < nb; i++)
		buf_release(&b[i]);
	free(b);
	free(e);
	free(o);
	free(st.rows);
	buf_release(&pay);
	buf_release(&body);
}
