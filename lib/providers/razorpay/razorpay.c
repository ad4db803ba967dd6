/*
 * Razorpay webhooks: signatures and the mapping of events (razorpay.h has the
 * table). Field names cite razorpay/markdown-docs @ab3bda5 webhooks/ (payments, orders, refunds, subscriptions).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jread.h"
#include "base/text.h"
#include "providers/razorpay/razorpay.h"

enum terr
razorpay_verifier_init(struct razorpay_verifier *v, const struct cfg_razorpay *c)
{
	size_t i;
	enum terr rc;

	memset(v, 0, sizeof(*v));
	for (i = 0; i < c->nsecrets; i++) {
		/* The key is the secret as typed in the Dashboard, UTF-8 (validate-test.md). */
		rc = crypto_hmac_init(&v->keys[v->n], c->secrets[i], strlen(c->secrets[i]));
		if (rc != TERR_OK) {
			razorpay_verifier_release(v);
			return rc;
		}
		v->n++;
	}
	return TERR_OK;
}

void
razorpay_verifier_release(struct razorpay_verifier *v)
{
	while (v->n > 0)
		crypto_hmac_release(&v->keys[--v->n]);
}

enum terr
razorpay_verify(const struct razorpay_verifier *v, const char *header, const char *body, size_t n,
    const char **why)
{
	struct iov part = { body, n };

	if (v->n == 0) {
		*why = "no webhook secret configured";
		return TERR_CONFIG;
	}
	if (header == NULL || *header == '\0') {
		*why = "missing X-Razorpay-Signature header";
		return TERR_AUTH;
	}
	switch (crypto_hmac_hex_match(v->keys, v->n, &part, 1, header, strlen(header))) {
	case 1: return TERR_OK;
	case 0: *why = "the signature does not match the body"; return TERR_AUTH;
	default: *why = "signature computation failed"; return TERR_INTERNAL;
	}
}

enum terr
razorpay_hook_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct razorpay_verifier *v;
	enum terr rc;

	if ((*state = v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	rc = razorpay_verifier_init(v, &c->razorpay);
	return hook_ready(rc, v->n > 0, "RAZORPAY_WEBHOOK_SECRET", why, whysize);
}

void
razorpay_hook_fini(void *state)
{
	razorpay_verifier_release(state);
	free(state);
}

enum terr
razorpay_hook_verify(void *state, const struct cfg *c, const struct hook_req *q, const char **why)
{
	(void)c;
	return razorpay_verify(state, q->sig, q->body, q->n, why);
}

enum terr
razorpay_checkout_verify(const struct cfg_razorpay *c, const char *a, const char *b,
    const char *signature)
{
	struct hmac_key k;
	struct iov parts[3] = { { a, strlen(a) }, { "|", 1 }, { b, strlen(b) } };
	int m;

	if (c->key_secret[0] == '\0')
		return TERR_CONFIG;
	if (crypto_hmac_init(&k, c->key_secret, strlen(c->key_secret)) != TERR_OK)
		return TERR_INTERNAL;
	m = crypto_hmac_hex_match(&k, 1, parts, 3, signature, strlen(signature));
	crypto_hmac_release(&k);
	return m == 1 ? TERR_OK : m == 0 ? TERR_AUTH : TERR_INTERNAL;
}

/* --- mapping --- */

/* The payment entity's fields tally reads (webhooks/payments.md). */
struct rzp_pay {
	char id[ID_MAX];
	char order_id[ID_MAX];
	char invoice_id[ID_MAX];
	char status[24];
	char currency[16];
	char customer_id[ID_MAX];
	char refund_status[16];
	char note_order[ID_MAX];
	int64_t amount;
	int64_t amount_refunded;
	int have;
};

struct rzx {
	const struct cfg *c;
	struct bev *e;
	struct jread r;
};

#define AMOUNT_MAX ((int64_t)1 << 50)

static void note(struct rzx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
note(struct rzx *x, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(x->e->note, sizeof(x->e->note), fmt, ap);
	va_end(ap);
}

/*
 * A note's value (notes: up to 15 key/value pairs the merchant set). Razorpay
 * sends an empty notes as [] and a value may be any JSON: only a string of
 * the right size counts, nothing else is an error.
 */
static void
note_value(const cJSON *entity, const char *key, char *out, size_t size)
{
	const char *v = jstr(jobj(entity, "notes"), key);

	out[0] = '\0';
	if (v != NULL && text_id_valid(v, size - 1))
		text_copy(out, size, v);
}

/* payload.<name>.entity, or NULL. */
static const cJSON *
entity(struct rzx *x, const cJSON *payload, const char *name)
{
	const cJSON *w = jr_obj(&x->r, payload, name);

	return w != NULL ? jr_obj(&x->r, w, "entity") : NULL;
}

static void
read_payment(struct rzx *x, const cJSON *p, struct rzp_pay *out)
{
	memset(out, 0, sizeof(*out));
	if (p == NULL)
		return;
	out->have = 1;
	jr_str(&x->r, p, "id", out->id, sizeof(out->id));
	jr_str(&x->r, p, "order_id", out->order_id, sizeof(out->order_id));
	jr_str(&x->r, p, "invoice_id", out->invoice_id, sizeof(out->invoice_id));
	jr_str(&x->r, p, "status", out->status, sizeof(out->status));
	jr_str(&x->r, p, "currency", out->currency, sizeof(out->currency));
	jr_str(&x->r, p, "customer_id", out->customer_id, sizeof(out->customer_id));
	jr_str(&x->r, p, "refund_status", out->refund_status, sizeof(out->refund_status));
	out->amount = jr_int(&x->r, p, "amount", 0, AMOUNT_MAX);
	out->amount_refunded = jr_int(&x->r, p, "amount_refunded", 0, AMOUNT_MAX);
	note_value(p, RZP_NOTE_ORDER, out->note_order, sizeof(out->note_order));
	if (out->id[0] == '\0')
		jr_bad(&x->r, "payment without id");
}

static void
link(struct rzx *x, const char *kind, const char *id)
{
	if (bev_link(x->e, kind, id) != TERR_OK)
		jr_bad(&x->r, "id too long: %s", kind);
}

/* The money of a Razorpay order tally issued (payment.captured, order.paid). */
static void
map_order(struct rzx *x, const struct rzp_pay *p, const cJSON *order)
{
	struct bev_order *o = &x->e->order;

	if (!p->have) {
		jr_bad(&x->r, "no payment entity in the payload");
		return;
	}
	if (p->invoice_id[0] != '\0') {
		note(x,
		    "payment %s of invoice %s (a subscription's charge): subscription.charged "
		    "carries it",
		    p->id, p->invoice_id);
		return;
	}
	if (order != NULL) {
		jr_str(&x->r, order, "id", o->provider_ref, sizeof(o->provider_ref));
		note_value(order, RZP_NOTE_ORDER, o->id, sizeof(o->id));
		if (o->id[0] == '\0') {
			const char *receipt = jstr(order, "receipt");
			if (receipt != NULL && text_id_valid(receipt, ID_MAX - 1))
				text_copy(o->id, sizeof(o->id), receipt);
		}
	} else {
		text_copy(o->provider_ref, sizeof(o->provider_ref), p->order_id);
		text_copy(o->id, sizeof(o->id), p->note_order);
	}
	if (o->provider_ref[0] == '\0' && o->id[0] == '\0') {
		note(x, "payment %s without an order: not one tally issued", p->id);
		return;
	}
	text_copy(o->charge_id, sizeof(o->charge_id), p->id);
	o->amount = p->amount;
	text_copy(o->currency, sizeof(o->currency), p->currency);
	/* Money is secured once captured (payments.md "Payment Captured"). */
	o->captured = strcmp(p->status, "captured") == 0;
	link(x, "customer", p->customer_id);
	x->e->aspects |= BEV_ORDER;
}

static void
map_refund(struct rzx *x, const cJSON *payload, int dispute)
{
	struct bev *e = x->e;
	const cJSON *ent = entity(x, payload, dispute ? "dispute" : "refund");
	struct rzp_pay p;
	char pay_id[ID_MAX] = "";

	read_payment(x, entity(x, payload, "payment"), &p);
	if (ent != NULL)
		jr_str(&x->r, ent, "payment_id", pay_id, sizeof(pay_id));
	if (pay_id[0] == '\0')
		text_copy(pay_id, sizeof(pay_id), p.id);
	if (pay_id[0] == '\0') {
		jr_bad(&x->r, "%s without a payment id", dispute ? "dispute" : "refund");
		return;
	}
	if (bev_key(&e->refund.keys, pay_id) != TERR_OK)
		jr_bad(&x->r, "payment id too long");
	e->refund.amount = ent != NULL ? jr_int(&x->r, ent, "amount", 0, AMOUNT_MAX) : 0;
	if (dispute)
		e->refund.kind = REFUND_DISPUTE;
	else if (strcmp(p.refund_status, "full") == 0 ||
	    (p.have && p.amount > 0 && p.amount_refunded >= p.amount))
		e->refund.kind = REFUND_FULL;
	else
		e->refund.kind = REFUND_PARTIAL;
	e->aspects |= BEV_REFUND;
}

/* Subscription status (payments/subscriptions/states.md) as of the event. */
static enum sub_state
sub_state_of(struct rzx *x, const char *status, int64_t start_at, int64_t end)
{
	struct bev *e = x->e;

	if (strcmp(status, "created") == 0)
		return SUB_INCOMPLETE;
	if (strcmp(status, "authenticated") == 0) {
		/* A future start: the customer has access before the first charge (a trial). */
		if (start_at > e->at) {
			e->sub.trial_end = start_at;
			return SUB_TRIALING;
		}
		return SUB_INCOMPLETE;
	}
	if (strcmp(status, "active") == 0)
		return SUB_ACTIVE;
	if (strcmp(status, "pending") == 0)
		return SUB_PAST_DUE;
	if (strcmp(status, "halted") == 0) {
		/* Retries exhausted: no access from now, but a manual charge brings it back. */
		e->sub.grace_until = e->at;
		return SUB_PAST_DUE;
	}
	if (strcmp(status, "paused") == 0)
		return SUB_PAUSED;
	if (strcmp(status, "cancelled") == 0 || strcmp(status, "completed") == 0 ||
	    strcmp(status, "expired") == 0) {
		/* What was paid for is kept until it ends. */
		if (end > e->at) {
			e->sub.cancel_at_period_end = 1;
			return SUB_CANCELED;
		}
		return SUB_EXPIRED;
	}
	return SUB_NONE;
}

static void
map_subscription(struct rzx *x, const cJSON *payload, int charged)
{
	struct bev *e = x->e;
	const cJSON *sub = entity(x, payload, "subscription");
	struct rzp_pay p;
	char status[24], customer[ID_MAX];
	int64_t start_at, paid_count;

	if (sub == NULL) {
		jr_bad(&x->r, "no subscription entity in the payload");
		return;
	}
	read_payment(x, entity(x, payload, "payment"), &p);
	jr_str(&x->r, sub, "id", e->sub.id, sizeof(e->sub.id));
	jr_str(&x->r, sub, "plan_id", e->sub.product, sizeof(e->sub.product));
	jr_str(&x->r, sub, "status", status, sizeof(status));
	jr_str(&x->r, sub, "customer_id", customer, sizeof(customer));
	e->sub.period_start = jr_secs(&x->r, sub, "current_start");
	e->sub.period_end = jr_secs(&x->r, sub, "current_end");
	start_at = jr_secs(&x->r, sub, "start_at");
	paid_count = jr_int(&x->r, sub, "paid_count", 0, 1000000);
	if (x->r.bad)
		return;
	if (e->sub.id[0] == '\0') {
		jr_bad(&x->r, "subscription without id");
		return;
	}
	if ((e->sub.state = sub_state_of(x, status, start_at, e->sub.period_end)) == SUB_NONE) {
		note(x, "subscription %s in status %s, which tally does not know", e->sub.id,
		    status);
		return;
	}
	if (e->sub.state != SUB_CANCELED && e->sub.state != SUB_EXPIRED)
		e->sub.cancel_at_period_end = 0;
	e->rank = sub_state_rank(e->sub.state);
	note_value(sub, RZP_NOTE_USER, e->user, sizeof(e->user));
	link(x, "customer", customer);
	e->aspects |= BEV_SUB;
	if (!charged)
		return;
	if (!p.have || strcmp(p.status, "captured") != 0) {
		note(x, "subscription.charged without a captured payment: no credits");
		return;
	}
	/* Every successful charge is a paid period; the payment id dedups it (subscriptions.md). */
	if (bev_key(&e->pay.keys, p.id) != TERR_OK)
		jr_bad(&x->r, "payment id too long");
	e->pay.kind = paid_count <= 1 ? PAY_INITIAL : PAY_RENEWAL;
	e->pay.amount = p.amount;
	text_copy(e->pay.currency, sizeof(e->pay.currency), p.currency);
	text_copy(e->pay.product, sizeof(e->pay.product), e->sub.product);
	e->pay.period_start = e->sub.period_start;
	e->pay.period_end = e->sub.period_end;
	e->aspects |= BEV_PAY;
}

/* What each event type means (razorpay.h); every other type is stored and ignored. */
static void
map(struct rzx *x, const cJSON *payload)
{
	const char *t = x->e->type;
	struct rzp_pay p;

#define IS(s) (strcmp(t, s) == 0)
	if (IS("payment.captured")) {
		read_payment(x, entity(x, payload, "payment"), &p);
		map_order(x, &p, NULL);
	} else if (IS("order.paid")) {
		const cJSON *order = entity(x, payload, "order");
		read_payment(x, entity(x, payload, "payment"), &p);
		if (order == NULL)
			jr_bad(&x->r, "order.paid without an order entity");
		else
			map_order(x, &p, order);
	} else if (IS("payment.authorized"))
		note(x, "payment authorized, not captured: payment.captured follows");
	else if (IS("payment.failed"))
		note(x, "payment failed: nothing was paid");
	else if (IS("refund.processed"))
		map_refund(x, payload, 0);
	else if (IS("refund.created") || IS("refund.failed") || IS("refund.speed_changed"))
		note(x, "%s: refund.processed says when the money is returned", t);
	else if (IS("payment.dispute.created"))
		map_refund(x, payload, 1);
	else if (IS("payment.dispute.won")) {
		read_payment(x, entity(x, payload, "payment"), &p);
		if (bev_key(&x->e->reinstate, p.id) != TERR_OK || p.id[0] == '\0')
			jr_bad(&x->r, "dispute without a payment id");
		else
			x->e->aspects |= BEV_REINSTATE;
	} else if (strncmp(t, "subscription.", 13) == 0)
		map_subscription(x, payload, IS("subscription.charged"));
	else
		note(x, "event type %s: nothing to apply", t);
#undef IS
}

enum terr
razorpay_parse(const struct cfg *c, const char *event_id, const char *body, size_t n, struct bev *e,
    char *why, size_t whysize)
{
	struct rzx x;
	const cJSON *payload;
	cJSON *root = NULL;
	const char *jwhy, *kind;
	enum terr rc = TERR_INVAL;

	memset(&x, 0, sizeof(x));
	x.c = c;
	x.e = e;
	jr_init(&x.r, why, whysize);
	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	text_copy(e->provider, sizeof(e->provider), "razorpay");
	/* Events of test keys are test events (razorpay.h). */
	e->live = strncmp(c->razorpay.key_id, "rzp_test_", 9) != 0;
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "%s", jwhy);
		return TERR_INVAL;
	}
	/* {"entity":"event","event":...,"payload":{...},"created_at":...} (webhooks/ (payments, orders, refunds, subscriptions)). */
	kind = jstr(root, "entity");
	payload = jobj(root, "payload");
	if (kind == NULL || strcmp(kind, "event") != 0 || payload == NULL) {
		snprintf(why, whysize, "not a Razorpay event: no entity \"event\" with a payload");
		goto out;
	}
	jr_str(&x.r, root, "event", e->type, sizeof(e->type));
	if (event_id != NULL && event_id[0] != '\0') {
		if (!text_id_valid(event_id, ID_MAX - 1))
			jr_bad(&x.r, "X-Razorpay-Event-Id: not a valid id");
		else
			text_copy(e->id, sizeof(e->id), event_id);
	} else
		jr_str(&x.r, root, "id", e->id, sizeof(e->id));
	e->at = jr_secs(&x.r, root, "created_at");
	if (!x.r.bad && (e->type[0] == '\0' || e->at <= 0))
		jr_bad(&x.r, "event without event name or created_at");
	if (x.r.bad)
		goto out;
	map(&x, payload);
	rc = x.r.bad ? TERR_INVAL : TERR_OK;
out:
	cJSON_Delete(root);
	return rc;
}
