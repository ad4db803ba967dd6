/*
 * tally-reconcile's shared report lines and stale walk, and the direct
 * providers' reconciliation: see reconcile_direct.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "cryptobot.h"
#include "cryptobot_sync.h"
#include "money.h"
#include "provider.h"
#include "razorpay.h"
#include "reconcile_direct.h"
#include "store_jobs.h"
#include "telegram.h"
#include "telegram_sync.h"
#include "text.h"
#include "tm.h"

void
reconcile_say(struct job *j, const struct job_item *it, const char *what)
{
	char name[48];

	job_report(j, it);
	snprintf(name, sizeof(name), "%s.%s", it->provider, what);
	job_count(j, name, 1);
}

void
reconcile_result(struct job *j, const char *provider, const char *why)
{
	const char *result = why == NULL ? "ok" : "error";
	struct job_item it = { .action = "provider",
		.subject = provider,
		.provider = provider,
		.result = result,
		.reason = why };

	reconcile_say(j, &it, result);
	if (why != NULL)
		job_fail(j, "%s: %s", provider, why);
}

void
reconcile_drift(struct job *j, const char *provider, const char *subject, const char *user,
    const char *tally, const char *theirs, const char *result, const char *reason)
{
	struct job_item it = { .action = "drift",
		.subject = subject,
		.user = user,
		.provider = provider,
		.tally = tally,
		.theirs = theirs,
		.result = result,
		.reason = reason };

	reconcile_say(j, &it, "drift");
}

void
reconcile_describe(enum sub_state st, int64_t end, int cancel, char *out, size_t size)
{
	char when[TM_ISO_SIZE];

	tm_iso(end, when);
	snprintf(out, size, "%s%s until %s", sub_state_str(st), cancel > 0 ? " (ends)" : "",
	    end != 0 ? when : "?");
}

int
reconcile_differs(const struct sub_row *row, const struct bev *e)
{
	return e->sub.state != row->state ||
	    (e->sub.period_end != 0 && e->sub.period_end != row->period_end) ||
	    (e->sub.cancel_at_period_end >= 0 &&
		e->sub.cancel_at_period_end != row->cancel_at_period_end);
}

/* ------------------------------------------------------ stale subscriptions */

static int
take_stale(struct job *j, const struct sub_row *r, void *arg)
{
	struct reconcile_stale *st = arg;
	size_t i;

	(void)j;
	if (strcmp(r->provider, st->provider) != 0 || st->n == st->max)
		return 0;
	for (i = 0; i < st->n; i++)
		if (st->rows[i].id == r->id)
			return 0;
	st->rows[st->n++] = *r;
	return 0;
}

int
reconcile_stale_subs(struct job *j, struct reconcile_stale *st)
{
	struct store_pos start = STORE_POS_START;
	int64_t room = j->limit - j->done;
	size_t k, n;
	struct sub_row *v;

	st->max = room < RECONCILE_STALE_MAX ? (size_t)(room > 0 ? room : 0) : RECONCILE_STALE_MAX;
	if (st->max == 0 || (st->rows = calloc(st->max, sizeof(*st->rows))) == NULL)
		return st->max == 0 ? 0 : -1;
	/* The walk's own visits count nothing against the limit: only the checks do. */
	n = 0;
	if (job_walk_subs(j, DUE_PERIOD, start, j->now - j->cfg.policy.leeway, take_stale, st) !=
		0 ||
	    job_walk_subs(j, DUE_GRACE, start, j->now, take_stale, st) != 0 ||
	    job_walk_subs(j, DUE_TRIAL, start, j->now, take_stale, st) != 0)
		return -1;
	/* Only those whose access has ended (a past_due's grace may run from state_at still). */
	for (k = 0, v = st->rows; k < st->n; k++)
		if (!sub_has_access(&v[k], &j->cfg.policy, j->now))
			v[n++] = v[k];
	st->n = n;
	return 0;
}

/* The provider's error line, its reason naming it (who: "Razorpay") when the cause did not. */
static void
failed(struct job *j, const char *provider, const char *who, const char *why)
{
	char reason[600];

	if (strstr(why, who) != NULL)
		text_copy(reason, sizeof(reason), why);
	else
		snprintf(reason, sizeof(reason), "%s: %.500s", who, why);
	reconcile_result(j, provider, reason);
}

/* ---------------------------------------------------------- pending orders */

#define PAGE 64

/*
 * The provider's pending orders made there (a provider ref, starting with
 * prefix when not NULL; any when !ref: Telegram's invoices have none), the
 * oldest first, at most the run's room under --limit (RECONCILE_STALE_MAX):
 * *out calloc'ed (free it), *n. 0, or -1.
 */
static int
pending_orders(struct job *j, const char *provider, int ref, const char *prefix,
    struct order_row **out, size_t *n)
{
	struct store_pos pos = STORE_POS_START;
	struct due_order *page = NULL;
	int64_t room = j->limit - j->done;
	size_t max, got, i;
	enum terr rc;
	int ret = -1;

	*out = NULL;
	*n = 0;
	max = room < RECONCILE_STALE_MAX ? (size_t)(room > 0 ? room : 0) : RECONCILE_STALE_MAX;
	if (max == 0)
		return 0;
	if ((*out = calloc(max, sizeof(**out))) == NULL ||
	    (page = calloc(PAGE, sizeof(*page))) == NULL) {
		j->stop = 1;
		job_fail(j, "out of memory");
		goto out;
	}
	while (*n < max) {
		if ((rc = store_pending_orders(j->s, provider, &pos, page, PAGE, &got)) !=
		    TERR_OK) {
			j->stop = 1;
			job_fail(j, "storage failed reading pending orders: %s", terr_str(rc));
			goto out;
		}
		if (got == 0)
			break;
		for (i = 0; i < got && *n < max; i++)
			if (!ref ||
			    (page[i].o.provider_ref[0] != '\0' &&
				(prefix == NULL ||
				    strncmp(page[i].o.provider_ref, prefix, strlen(prefix)) == 0)))
				(*out)[(*n)++] = page[i].o;
	}
	ret = 0;
out:
	free(page);
	return ret;
}

/* "order ord_... (<what> <ref>)" and "pending until <expiry>". */
static void
order_words(const struct order_row *o, const char *what, char *subject, size_t ssize, char *tally,
    size_t tsize)
{
	char when[TM_ISO_SIZE];

	snprintf(subject, ssize, "order %.64s (%s %.64s)", o->id, what, o->provider_ref);
	tm_iso(o->expires_at, when);
	snprintf(tally, tsize, "pending until %s", when);
}

/* ---------------------------------------------------------------- cryptobot */

/* The fetched invoice of order o, or NULL. */
static const struct cb_invoice *
invoice_of(const struct cb_invoice *v, size_t n, const struct order_row *o)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i].invoice_id, o->provider_ref) == 0)
			return &v[i];
	return NULL;
}

/* 1 when id is one of list's comma-separated ids. */
static int
asked(const char *list, const char *id)
{
	size_t k = strlen(id);
	const char *p;

	for (p = list; k > 0 && (p = strstr(p, id)) != NULL; p += k)
		if ((p == list || p[-1] == ',') && (p[k] == ',' || p[k] == '\0'))
			return 1;
	return 0;
}

/* One order compared with its invoice; a paid one queued. 0, or -1 (storage). */
static int
cryptobot_compare(struct job *j, const struct order_row *o, const struct cb_invoice *inv,
    struct buf *body)
{
	char subject[ID_MAX * 2 + 32], tally[64], theirs[96], amount[40];

	order_words(o, "invoice", subject, sizeof(subject), tally, sizeof(tally));
	if (inv == NULL) {
		reconcile_drift(j, "cryptobot", subject, o->user, tally, "no such invoice",
		    "reported", NULL);
		return 0;
	}
	if (strcmp(inv->status, "active") == 0) {
		job_count(j, "cryptobot.in_sync", 1);
		return 0;
	}
	if (strcmp(inv->status, "paid") != 0) {
		/* Expired there: the grace-expiry job expires the order (the one way it is done). */
		reconcile_drift(j, "cryptobot", subject, o->user, tally, inv->status, "reported",
		    strcmp(inv->status, "expired") == 0 ? "the grace-expiry job expires the order"
							: NULL);
		return 0;
	}
	money_format(inv->amount, inv->currency, amount, sizeof(amount));
	snprintf(theirs, sizeof(theirs), "paid %s %.15s", inv->amount >= 0 ? amount : "?",
	    inv->currency);
	reconcile_drift(j, "cryptobot", subject, o->user, tally, theirs, "found", NULL);
	if (cryptobot_sync_update(inv, j->now, body) != TERR_OK) {
		job_fail(j, "cryptobot %s: the update does not fit", subject);
		return 0;
	}
	return job_apply_raw(j, "cryptobot", buf_cstr(body), body->len, "cryptobot invoice",
	    subject);
}

void
reconcile_cryptobot(struct job *j)
{
	struct order_row *o = NULL;
	struct cb_invoice *inv = NULL;
	struct buf ids, body;
	char why[512];
	size_t n = 0, ninv = 0, got, i, k, end;
	enum terr rc;

	buf_init(&ids, 16 * CB_INVOICES_MAX);
	buf_init(&body, BODY_MAX);
	if (pending_orders(j, "cryptobot", 1, NULL, &o, &n) != 0)
		goto out;
	if (n > 0 && (inv = calloc(n, sizeof(*inv))) == NULL) {
		job_fail(j, "out of memory");
		goto out;
	}
	/* Every invoice fetched (CB_INVOICES_MAX a call) before anything is applied. */
	for (i = 0; i < n; i = end) {
		end = i + CB_INVOICES_MAX < n ? i + CB_INVOICES_MAX : n;
		buf_reset(&ids);
		for (k = i; k < end; k++) {
			/* getInvoices' invoice_ids: comma-separated integers. */
			if (strspn(o[k].provider_ref, "0123456789") != strlen(o[k].provider_ref))
				continue;
			buf_printf(&ids, "%s%s", ids.len > 0 ? "," : "", o[k].provider_ref);
		}
		j->done += (int64_t)(end - i);
		if (ids.len == 0)
			continue;
		rc = cryptobot_get_invoices(&j->cfg, buf_cstr(&ids), NULL, 0, CB_INVOICES_MAX,
		    inv + ninv, n - ninv, &got, why, sizeof(why));
		for (k = 0; rc == TERR_OK && k < got; k++)
			if (!asked(buf_cstr(&ids), inv[ninv + k].invoice_id)) {
				snprintf(why, sizeof(why),
				    "Crypto Pay answered invoice %.32s, not one asked for",
				    inv[ninv + k].invoice_id);
				rc = TERR_INVAL;
			}
		if (rc != TERR_OK) {
			failed(j, "cryptobot", "Crypto Pay", why);
			goto out;
		}
		ninv += got;
		if (job_tick(j) != 0)
			goto out;
	}
	job_count(j, "cryptobot.fetched", (int64_t)ninv);
	for (i = 0; i < n && !j->stop; i++)
		if (cryptobot_compare(j, &o[i], invoice_of(inv, ninv, &o[i]), &body) != 0)
			goto out;
	if (job_flush(j) == 0 && !j->stop)
		reconcile_result(j, "cryptobot", NULL);
out:
	free(o);
	free(inv);
	buf_release(&ids);
	buf_release(&body);
}

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
	char subject[ID_MAX * 2 + 32], tally[64], theirs[160], amount[40];
	size_t i;
	int r, found = 0;

	order_words(o, "razorpay", subject, sizeof(subject), tally, sizeof(tally));
	if (ent->len == 0) {
		reconcile_drift(j, "razorpay", subject, o->user, tally, "no such order", "reported",
		    NULL);
		return 0;
	}
	for (i = 0; (r = razorpay_payment_event(j, ent, pays, i, pay, body, e)) != -2; i++) {
		if (r <= 0)
			continue; /* -1 cannot happen: every item was read before */
		found = 1;
		money_format(e->order.amount, e->order.currency, amount, sizeof(amount));
		snprintf(theirs, sizeof(theirs), "paid %s %.15s (payment %.64s)", amount,
		    e->order.currency, e->order.charge_id);
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
	sha256(buf_cstr(sub), sub->len, h);
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
	if (pending_orders(j, "razorpay", 1, "order_", &o, &n) != 0)
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
		failed(j, "razorpay", "Razorpay", why[0] != '\0' ? why : "failed");
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

/* ----------------------------------------------------------------- telegram */

/* Star transactions kept in a run (payments of tally's pending orders, refunds), at most. */
#define TG_KEPT_MAX (2 * RECONCILE_STALE_MAX)
/* A transaction this much older than the oldest pending order cannot pay it (clocks differ). */
#define TG_SLACK_MS (3600LL * 1000)

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

/* A Stars payment t of pending order o, reported and queued. 0, or -1 (storage). */
static int
telegram_payment(struct job *j, const struct order_row *o, const struct tg_star_tx *t, int refund,
    struct buf *body)
{
	char subject[ID_MAX * 2 + 32], tally[64], theirs[96], when[TM_ISO_SIZE];

	snprintf(subject, sizeof(subject), "order %.64s (charge %.64s)", o->id, t->id);
	tm_iso(o->expires_at, when);
	snprintf(tally, sizeof(tally), "pending until %s", when);
	snprintf(theirs, sizeof(theirs), "paid %lld XTR by user %.24s%s", (long long)t->amount,
	    t->from, refund ? ", refunded" : "");
	if (refund) {
		reconcile_drift(j, "telegram", subject, o->user, tally, theirs, "reported",
		    "refunded at Telegram: nothing to grant");
		return 0;
	}
	reconcile_drift(j, "telegram", subject, o->user, tally, theirs, "found", NULL);
	if (telegram_sync_update(t, body) != TERR_OK) {
		job_fail(j, "telegram %s: the update does not fit", subject);
		return 0;
	}
	return job_apply_raw(j, "telegram", buf_cstr(body), body->len, "telegram payment", subject);
}

void
reconcile_telegram(struct job *j)
{
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
	int desc = 1, end = 0, cut = 0;
	enum terr rc;

	buf_init(&body, BODY_MAX / 4);
	if (pending_orders(j, "telegram", 0, NULL, &o, &n) != 0)
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
	if (n > 0 &&
	    ((page = calloc(TG_STAR_PAGE, sizeof(*page))) == NULL ||
		(kept = calloc(TG_KEPT_MAX, sizeof(*kept))) == NULL)) {
		job_fail(j, "out of memory");
		goto out;
	}
	/*
	 * Every page read before anything is applied. The Bot API gives the
	 * transactions "in chronological order" without saying which way: newest
	 * first (what Telegram answers), the pages stop once past the oldest
	 * pending order; else at the last page, or TG_STAR_PAGES_MAX.
	 */
	while (n > 0 && !end && pages < TG_STAR_PAGES_MAX) {
		rc = telegram_star_transactions(&j->cfg, offset, TG_STAR_PAGE, page, TG_STAR_PAGE,
		    &got, why, sizeof(why));
		if (rc != TERR_OK) {
			failed(j, "telegram", "Telegram", why);
			goto out;
		}
		pages++;
		offset += (int64_t)got;
		if (job_tick(j) != 0)
			goto out;
		for (i = 0; i < got; i++) {
			const struct tg_star_tx *t = &page[i];
			if (t->date > prev)
				desc = 0;
			prev = t->date;
			/* A user's invoice payment naming a pending order, or a refund to a user. */
			if (!t->user ||
			    (t->incoming && (!t->invoice || stars_order(o, n, t) == NULL)))
				continue;
			if (!t->incoming && t->payload[0] != '\0' && stars_order(o, n, t) == NULL)
				continue;
			if (nk == TG_KEPT_MAX) {
				cut = 1;
				continue;
			}
			kept[nk++] = *t;
		}
		end = got < TG_STAR_PAGE || (desc && prev < oldest - TG_SLACK_MS);
	}
	if (n > 0 && !end)
		cut = 1;
	job_count(j, "telegram.fetched", offset);
	if (nk > 0)
		qsort(kept, nk, sizeof(*kept), by_date);
	for (i = 0; i < nk && !j->stop; i++) {
		const struct order_row *ord = stars_order(o, n, &kept[i]);
		if (kept[i].incoming && ord != NULL &&
		    telegram_payment(j, ord, &kept[i], refunded(kept, nk, &kept[i]), &body) != 0)
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
	free(page);
	free(kept);
	buf_release(&body);
}
