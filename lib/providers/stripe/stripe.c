#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/jread.h"
#include "base/json.h"
#include "base/text.h"
#include "providers/stripe/stripe.h"

enum terr
stripe_verifier_init(struct stripe_verifier *v, const struct cfg_stripe *c)
{
	size_t i;
	enum terr rc;

	memset(v, 0, sizeof(*v));
	v->tolerance = c->tolerance;
	for (i = 0; i < c->nsecrets; i++) {
		/* The key is the secret string itself, whsec_ prefix included (Stripe docs). */
		if ((rc = crypto_hmac_init(&v->keys[i], c->secrets[i], strlen(c->secrets[i]))) !=
		    TERR_OK) {
			stripe_verifier_release(v);
			return rc;
		}
		v->n++;
	}
	return TERR_OK;
}

void
stripe_verifier_release(struct stripe_verifier *v)
{
	size_t i;

	for (i = 0; i < v->n; i++)
		crypto_hmac_release(&v->keys[i]);
	v->n = 0;
}

enum terr
stripe_verify(const struct stripe_verifier *v, const char *header, const char *body, size_t n,
    int64_t now, const char **why)
{
	unsigned char sigs[STRIPE_SIG_MAX][SHA256_LEN];
	const char *p, *item, *eq, *end;
	char tbuf[24];
	size_t nsig = 0, len;
	int64_t t = -1;
	struct iov parts[3];

	if (header == NULL || *header == '\0') {
		*why = "missing Stripe-Signature header";
		return TERR_AUTH;
	}
	if (strlen(header) > HEADER_MAX) {
		*why = "Stripe-Signature header too long";
		return TERR_INVAL;
	}
	for (p = header; *p != '\0'; p = *end == ',' ? end + 1 : end) {
		end = strchr(p, ',');
		if (end == NULL)
			end = p + strlen(p);
		item = p;
		while (item < end && *item == ' ')
			item++;
		len = (size_t)(end - item);
		while (len > 0 && item[len - 1] == ' ')
			len--;
		if (len == 0)
			continue;
		eq = memchr(item, '=', len);
		if (eq == NULL) {
			*why = "malformed Stripe-Signature header";
			return TERR_INVAL;
		}
		if (eq - item == 1 && item[0] == 't') {
			if (t >= 0 ||
			    text_i64(eq + 1, (size_t)(item + len - eq - 1), 0, INT64_MAX / 1000,
				&t) != TERR_OK) {
				*why = "malformed timestamp in Stripe-Signature header";
				return TERR_INVAL;
			}
		} else if (eq - item == 2 && item[0] == 'v' && item[1] == '1') {
			/* A v1 that is not 64 hex digits can match nothing: skip it. */
			if ((size_t)(item + len - eq - 1) == 2 * SHA256_LEN &&
			    nsig < STRIPE_SIG_MAX &&
			    text_unhex(eq + 1, 2 * SHA256_LEN, sigs[nsig], SHA256_LEN) == TERR_OK)
				nsig++;
		}
		/* Every other scheme (v0 in test mode) is ignored: downgrade protection. */
	}
	if (t < 0) {
		*why = "no timestamp in Stripe-Signature header";
		return TERR_INVAL;
	}
	if (nsig == 0) {
		*why = "no v1 signature in Stripe-Signature header";
		return TERR_AUTH;
	}
	if (v->n == 0) {
		*why = "no webhook secret configured";
		return TERR_CONFIG;
	}
	snprintf(tbuf, sizeof(tbuf), "%lld", (long long)t);
	parts[0].p = tbuf;
	parts[0].n = strlen(tbuf);
	parts[1].p = ".";
	parts[1].n = 1;
	parts[2].p = body;
	parts[2].n = n;
	switch (crypto_hmac_match(v->keys, v->n, parts, 3, (const unsigned char(*)[SHA256_LEN])sigs,
	    nsig)) {
	case -1: *why = "signature computation failed"; return TERR_INTERNAL;
	case 0: *why = "no signature matches the body"; return TERR_AUTH;
	default: break;
	}
	/* The signature is checked first, so a forged timestamp is never reported as stale. */
	if (t * 1000 < now - v->tolerance || t * 1000 > now + v->tolerance) {
		*why = "timestamp outside the tolerance window";
		return TERR_STALE;
	}
	return TERR_OK;
}

enum terr
stripe_hook_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	struct stripe_verifier *v;
	enum terr rc;

	if ((*state = v = calloc(1, sizeof(*v))) == NULL)
		return TERR_NOMEM;
	rc = stripe_verifier_init(v, &c->stripe);
	return hook_ready(rc, v->n > 0, "STRIPE_WEBHOOK_SECRET", why, whysize);
}

void
stripe_hook_fini(void *state)
{
	stripe_verifier_release(state);
	free(state);
}

enum terr
stripe_hook_verify(void *state, const struct cfg *c, const struct hook_req *q, const char **why)
{
	(void)c;
	return stripe_verify(state, q->sig, q->body, q->n, q->now, why);
}

/* --- mapping --- */

/* The largest amount a field may carry (smallest units of its currency). */
#define AMOUNT_MAX ((int64_t)1 << 50)

struct sctx {
	const struct cfg *c;
	struct bev *e;
	struct jread r; /* a field had the wrong type: r.bad, the first reason in why */
};

/* An id field that Stripe may also send expanded as an object with "id". */
static void
ref(struct sctx *x, const cJSON *o, const char *key, char *out, size_t size)
{
	const cJSON *v = jget(o, key);

	out[0] = '\0';
	if (v != NULL && cJSON_IsObject(v))
		jr_str(&x->r, v, "id", out, size);
	else
		jr_str(&x->r, o, key, out, size);
}

/* The app's user id from metadata[user_metadata_key] of o, if any. */
static void
meta_user(struct sctx *x, const cJSON *o)
{
	const cJSON *m = jobj(o, "metadata");

	if (x->e->user[0] != '\0' || m == NULL)
		return;
	jr_str(&x->r, m, x->c->stripe.user_key, x->e->user, sizeof(x->e->user));
}

static void
link_customer(struct sctx *x, const cJSON *o)
{
	char cus[ID_MAX];

	ref(x, o, "customer", cus, sizeof(cus));
	if (bev_link(x->e, "customer", cus) != TERR_OK)
		jr_bad(&x->r, "too many ids");
}

static void
key(struct sctx *x, struct bev_keys *k, const char *v)
{
	if (bev_key(k, v) != TERR_OK)
		jr_bad(&x->r, "too many or too long payment keys");
}

static void
keyref(struct sctx *x, struct bev_keys *k, const cJSON *o, const char *field)
{
	char id[ID_MAX];

	ref(x, o, field, id, sizeof(id));
	key(x, k, id);
}

/*
 * A subscription object: status, plan, period, cancellation. Period fields
 * are on the subscription before 2025-03-31.basil and on its items since.
 */
static void
map_subscription(struct sctx *x, const cJSON *sub, int deleted)
{
	struct bev *e = x->e;
	const cJSON *items = jpath(sub, "items.data"), *item = NULL;
	char status[32];
	int64_t cancel_at;

	jr_str(&x->r, sub, "id", e->sub.id, sizeof(e->sub.id));
	jr_str(&x->r, sub, "status", status, sizeof(status));
	if (cJSON_IsArray(items))
		item = cJSON_GetArrayItem(items, 0);
	if (item != NULL) {
		const cJSON *price = jobj(item, "price");
		if (price != NULL)
			jr_str(&x->r, price, "id", e->sub.product, sizeof(e->sub.product));
		else
			ref(x, item, "plan", e->sub.product, sizeof(e->sub.product));
	}
	e->sub.period_start = jr_secs(&x->r, sub, "current_period_start");
	e->sub.period_end = jr_secs(&x->r, sub, "current_period_end");
	if (e->sub.period_end == 0 && item != NULL) {
		e->sub.period_start = jr_secs(&x->r, item, "current_period_start");
		e->sub.period_end = jr_secs(&x->r, item, "current_period_end");
	}
	e->sub.trial_end = jr_secs(&x->r, sub, "trial_end");
	cancel_at = jr_secs(&x->r, sub, "cancel_at");
	e->sub.cancel_at_period_end = jr_bool(&x->r, sub, "cancel_at_period_end") || cancel_at != 0;
	if (cancel_at != 0 && (e->sub.period_end == 0 || cancel_at < e->sub.period_end))
		e->sub.period_end = cancel_at;

	if (deleted || strcmp(status, "canceled") == 0 ||
	    strcmp(status, "incomplete_expired") == 0 || strcmp(status, "unpaid") == 0)
		e->sub.state = SUB_EXPIRED;
	else if (strcmp(status, "incomplete") == 0)
		e->sub.state = SUB_INCOMPLETE;
	else if (strcmp(status, "past_due") == 0)
		e->sub.state = SUB_PAST_DUE;
	else if (strcmp(status, "paused") == 0)
		e->sub.state = SUB_PAUSED;
	else if (strcmp(status, "trialing") == 0 || strcmp(status, "active") == 0) {
		e->sub.state = strcmp(status, "trialing") == 0 ? SUB_TRIALING : SUB_ACTIVE;
		if (e->sub.cancel_at_period_end)
			e->sub.state = SUB_CANCELED;
	} else {
		jr_bad(&x->r, "unknown subscription status");
		return;
	}
	if (e->sub.state == SUB_EXPIRED)
		e->sub.cancel_at_period_end = -1;
	e->rank = sub_state_rank(e->sub.state);
	e->aspects |= BEV_SUB;
	meta_user(x, sub);
	link_customer(x, sub);
}

/* The price id of an invoice line, in either API shape. */
static void
line_price(struct sctx *x, const cJSON *line, char *out, size_t size)
{
	const cJSON *price = jobj(line, "price"), *pd = jpath(line, "pricing.price_details");

	out[0] = '\0';
	if (price != NULL)
		jr_str(&x->r, price, "id", out, size);
	else if (pd != NULL)
		ref(x, pd, "price", out, size);
	if (out[0] == '\0')
		ref(x, line, "plan", out, size);
}

static int
line_is_proration(struct sctx *x, const cJSON *line)
{
	const cJSON *sd = jpath(line, "parent.subscription_item_details");
	const cJSON *id = jpath(line, "parent.invoice_item_details");

	if (sd != NULL)
		return jr_bool(&x->r, sd, "proration");
	if (id != NULL)
		return jr_bool(&x->r, id, "proration");
	return jr_bool(&x->r, line, "proration");
}

/*
 * The line that says what was bought: a line whose price is in the catalog,
 * preferring non-proration lines with a positive amount, then the latest
 * period end. Writes its price and period into e->pay.
 */
static void
pick_line(struct sctx *x, const cJSON *invoice)
{
	const cJSON *lines = jpath(invoice, "lines.data"), *line, *best = NULL;
	char price[ID_MAX], best_price[ID_MAX] = "";
	int best_score = -1;
	int64_t best_end = 0;

	if (!cJSON_IsArray(lines))
		return;
	cJSON_ArrayForEach (line, lines) {
		int64_t amt = 0, end;
		int score = 0;
		const cJSON *period = jobj(line, "period");
		line_price(x, line, price, sizeof(price));
		if (price[0] == '\0')
			continue;
		if (cfg_match(x->c, "stripe", price) != NULL)
			score += 4;
		if (!line_is_proration(x, line))
			score += 2;
		if (jint(line, "amount", &amt) == 1 && amt > 0)
			score += 1;
		end = period != NULL ? jr_secs(&x->r, period, "end") : 0;
		if (score > best_score || (score == best_score && end > best_end)) {
			best = line;
			best_score = score;
			best_end = end;
			text_copy(best_price, sizeof(best_price), price);
		}
	}
	if (best == NULL)
		return;
	text_copy(x->e->pay.product, sizeof(x->e->pay.product), best_price);
	if (jobj(best, "period") != NULL) {
		x->e->pay.period_start = jr_secs(&x->r, jobj(best, "period"), "start");
		x->e->pay.period_end = jr_secs(&x->r, jobj(best, "period"), "end");
	}
}

/* An invoice's subscription id and subscription metadata, in either API shape. */
static void
invoice_subscription(struct sctx *x, const cJSON *inv, char *sub, size_t size)
{
	const cJSON *details = jpath(inv, "parent.subscription_details");

	ref(x, inv, "subscription", sub, size);
	if (sub[0] == '\0' && details != NULL)
		ref(x, details, "subscription", sub, size);
	if (details == NULL)
		details = jobj(inv, "subscription_details");
	if (details != NULL)
		meta_user(x, details);
	meta_user(x, inv);
}

static void
map_invoice_paid(struct sctx *x, const cJSON *inv)
{
	struct bev *e = x->e;
	char reason[48], sub[ID_MAX], id[ID_MAX];

	jr_str(&x->r, inv, "id", id, sizeof(id));
	jr_str(&x->r, inv, "billing_reason", reason, sizeof(reason));
	invoice_subscription(x, inv, sub, sizeof(sub));
	link_customer(x, inv);
	pick_line(x, inv);
	e->pay.amount = jr_int(&x->r, inv, "amount_paid", 0, AMOUNT_MAX);
	jr_str(&x->r, inv, "currency", e->pay.currency, sizeof(e->pay.currency));
	key(x, &e->pay.keys, id);
	/* Before basil an invoice names its payment intent and charge: refunds name those. */
	keyref(x, &e->pay.keys, inv, "payment_intent");
	keyref(x, &e->pay.keys, inv, "charge");
	e->aspects |= BEV_PAY;
	if (sub[0] == '\0') {
		e->pay.kind = PAY_ONE_OFF;
		return;
	}
	if (strcmp(reason, "subscription_create") == 0)
		e->pay.kind = PAY_INITIAL;
	else if (strcmp(reason, "subscription_cycle") == 0 || strcmp(reason, "subscription") == 0)
		e->pay.kind = PAY_RENEWAL;
	else if (strcmp(reason, "subscription_update") == 0)
		e->pay.kind = PAY_CHANGE;
	else
		e->pay.kind = PAY_OTHER;
	/* A first invoice of nothing is the start of a free trial. */
	e->pay.trial = e->pay.kind == PAY_INITIAL && e->pay.amount == 0;
	text_copy(e->sub.id, sizeof(e->sub.id), sub);
	text_copy(e->sub.product, sizeof(e->sub.product), e->pay.product);
	e->sub.state = e->pay.trial ? SUB_TRIALING : SUB_ACTIVE;
	e->sub.period_start = e->pay.period_start;
	e->sub.period_end = e->pay.period_end;
	if (e->pay.trial)
		e->sub.trial_end = e->pay.period_end;
	e->rank = sub_state_rank(e->sub.state);
	e->aspects |= BEV_SUB;
	if (bev_link(e, "subscription", sub) != TERR_OK)
		jr_bad(&x->r, "too many ids");
}

static void
map_invoice_failed(struct sctx *x, const cJSON *inv)
{
	struct bev *e = x->e;
	char reason[48], sub[ID_MAX];

	jr_str(&x->r, inv, "billing_reason", reason, sizeof(reason));
	invoice_subscription(x, inv, sub, sizeof(sub));
	link_customer(x, inv);
	if (sub[0] == '\0') {
		snprintf(e->note, sizeof(e->note),
		    "payment failed for a one-off invoice: nothing to do");
		return;
	}
	pick_line(x, inv);
	text_copy(e->sub.id, sizeof(e->sub.id), sub);
	text_copy(e->sub.product, sizeof(e->sub.product), e->pay.product);
	e->pay.product[0] = '\0';
	/* A first payment that fails never gave access; a renewal that fails enters grace. */
	e->sub.state = strcmp(reason, "subscription_create") == 0 ? SUB_INCOMPLETE : SUB_PAST_DUE;
	e->rank = sub_state_rank(e->sub.state);
	e->aspects |= BEV_SUB | BEV_NOTICE;
	text_copy(e->notice, sizeof(e->notice), "payment_failed");
	if (bev_link(e, "subscription", sub) != TERR_OK)
		jr_bad(&x->r, "too many ids");
}

static void
map_checkout(struct sctx *x, const cJSON *cs)
{
	struct bev *e = x->e;
	const cJSON *meta = jobj(cs, "metadata"), *li;
	char mode[24], status[32], sub[ID_MAX], id[ID_MAX];

	jr_str(&x->r, cs, "id", id, sizeof(id));
	jr_str(&x->r, cs, "mode", mode, sizeof(mode));
	jr_str(&x->r, cs, "payment_status", status, sizeof(status));
	jr_str(&x->r, cs, "client_reference_id", e->user, sizeof(e->user));
	meta_user(x, cs);
	link_customer(x, cs);
	if (strcmp(mode, "subscription") == 0) {
		/*
		 * The session does not carry the plan or the period; the first
		 * invoice's invoice.paid grants, keyed on the invoice, so the two
		 * events of one payment grant once whichever comes first. Here the
		 * customer and the subscription are linked to the user.
		 */
		ref(x, cs, "subscription", sub, sizeof(sub));
		if (bev_link(e, "subscription", sub) != TERR_OK)
			jr_bad(&x->r, "too many ids");
		if (e->nlinks == 0) {
			snprintf(e->note, sizeof(e->note),
			    "subscription checkout without customer");
			return;
		}
		snprintf(e->note, sizeof(e->note),
		    "subscription checkout: ids linked; invoice.paid grants the plan");
		e->aspects |= BEV_LINKONLY;
		return;
	}
	if (strcmp(mode, "payment") != 0) {
		snprintf(e->note, sizeof(e->note), "checkout mode %s grants nothing", mode);
		return;
	}
	/* Invariant 4: only money received grants. */
	if (strcmp(status, "paid") != 0) {
		snprintf(e->note, sizeof(e->note),
		    "checkout not paid (payment_status %s): nothing granted", status);
		return;
	}
	e->aspects |= BEV_PAY;
	e->pay.kind = PAY_ONE_OFF;
	keyref(x, &e->pay.keys, cs, "payment_intent");
	key(x, &e->pay.keys, id);
	e->pay.amount = jr_int(&x->r, cs, "amount_total", 0, AMOUNT_MAX);
	jr_str(&x->r, cs, "currency", e->pay.currency, sizeof(e->pay.currency));
	/* The product: metadata set by whoever created the session, or expanded line items. */
	if (meta != NULL)
		jr_str(&x->r, meta, x->c->stripe.product_key, e->pay.product,
		    sizeof(e->pay.product));
	if (e->pay.product[0] != '\0')
		e->pay.product_is_catalog = cfg_product(x->c, e->pay.product) != NULL;
	else if ((li = jpath(cs, "line_items.data")) != NULL && cJSON_GetArraySize(li) > 0) {
		const cJSON *price = jobj(cJSON_GetArrayItem(li, 0), "price");
		if (price != NULL)
			jr_str(&x->r, price, "id", e->pay.product, sizeof(e->pay.product));
	}
}

static void
map_refund(struct sctx *x, const cJSON *ch)
{
	struct bev *e = x->e;
	int64_t amt, refunded;

	e->aspects |= BEV_REFUND;
	keyref(x, &e->refund.keys, ch, "payment_intent");
	keyref(x, &e->refund.keys, ch, "invoice");
	keyref(x, &e->refund.keys, ch, "id");
	amt = jr_int(&x->r, ch, "amount", 0, AMOUNT_MAX);
	refunded = jr_int(&x->r, ch, "amount_refunded", 0, AMOUNT_MAX);
	e->refund.amount = refunded;
	e->refund.cumulative = 1; /* the charge's total refunded (Stripe API "charge object") */
	e->refund.kind = jr_bool(&x->r, ch, "refunded") || (amt > 0 && refunded >= amt)
	    ? REFUND_FULL
	    : REFUND_PARTIAL;
	meta_user(x, ch);
	link_customer(x, ch);
	if (e->refund.keys.n == 0)
		jr_bad(&x->r, "charge without id");
}

static void
map_dispute(struct sctx *x, const cJSON *dp)
{
	struct bev *e = x->e;

	e->aspects |= BEV_REFUND;
	e->refund.kind = REFUND_DISPUTE;
	keyref(x, &e->refund.keys, dp, "payment_intent");
	keyref(x, &e->refund.keys, dp, "charge");
	e->refund.amount = jr_int(&x->r, dp, "amount", 0, AMOUNT_MAX);
	if (e->refund.keys.n == 0)
		jr_bad(&x->r, "dispute without charge");
}

/* basil: an invoice's payment names the payment intent a later refund will name. */
static void
map_invoice_payment(struct sctx *x, const cJSON *ip)
{
	const cJSON *pay = jobj(ip, "payment");

	keyref(x, &x->e->alias, ip, "invoice");
	if (x->e->alias.n == 0) {
		snprintf(x->e->note, sizeof(x->e->note), "invoice payment without invoice");
		return;
	}
	if (pay != NULL) {
		keyref(x, &x->e->alias, pay, "payment_intent");
		keyref(x, &x->e->alias, pay, "charge");
	}
	x->e->aspects |= BEV_ALIAS;
}

enum terr
stripe_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize)
{
	struct sctx x = { c, e, { 0 } };
	cJSON *root = NULL;
	const cJSON *obj;
	const char *jwhy, *object;
	int64_t created;
	int live = 0;
	char sub[ID_MAX];
	enum terr rc;

	jr_init(&x.r, why, whysize);
	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	text_copy(e->provider, sizeof(e->provider), "stripe");
	if ((rc = json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy)) != TERR_OK) {
		snprintf(why, whysize, "%s", jwhy);
		return rc == TERR_TOOBIG ? TERR_INVAL : rc;
	}
	object = jstr(root, "object");
	if (object == NULL || strcmp(object, "event") != 0) {
		snprintf(why, whysize,
		    object != NULL && strcmp(object, "v2.core.event") == 0
			? "thin (v2) events are not supported: use a snapshot event destination"
			: "not a Stripe event object");
		rc = TERR_INVAL;
		goto out;
	}
	jr_str(&x.r, root, "id", e->id, sizeof(e->id));
	jr_str(&x.r, root, "type", e->type, sizeof(e->type));
	if (jint(root, "created", &created) != 1 || created <= 0 || created > INT64_MAX / 1000)
		jr_bad(&x.r, "field created: expected a Unix time");
	else
		e->at = created * 1000;
	if (jbool(root, "livemode", &live) != 1)
		jr_bad(&x.r, "field livemode: expected true or false");
	e->live = live;
	obj = jpath(root, "data.object");
	if (!x.r.bad && (e->id[0] == '\0' || e->type[0] == '\0' || !cJSON_IsObject(obj)))
		jr_bad(&x.r, "event without id, type or data.object");
	if (x.r.bad) {
		rc = TERR_INVAL;
		goto out;
	}

	if (strcmp(e->type, "checkout.session.completed") == 0 ||
	    strcmp(e->type, "checkout.session.async_payment_succeeded") == 0)
		map_checkout(&x, obj);
	else if (strcmp(e->type, "invoice.paid") == 0 ||
	    strcmp(e->type, "invoice.payment_succeeded") == 0)
		map_invoice_paid(&x, obj);
	else if (strcmp(e->type, "invoice.payment_failed") == 0)
		map_invoice_failed(&x, obj);
	else if (strcmp(e->type, "customer.subscription.created") == 0 ||
	    strcmp(e->type, "customer.subscription.updated") == 0 ||
	    strcmp(e->type, "customer.subscription.paused") == 0 ||
	    strcmp(e->type, "customer.subscription.resumed") == 0)
		map_subscription(&x, obj, 0);
	else if (strcmp(e->type, "customer.subscription.deleted") == 0)
		map_subscription(&x, obj, 1);
	else if (strcmp(e->type, "customer.subscription.trial_will_end") == 0) {
		jr_str(&x.r, obj, "id", sub, sizeof(sub));
		text_copy(e->sub.id, sizeof(e->sub.id), sub);
		e->sub.trial_end = jr_secs(&x.r, obj, "trial_end");
		meta_user(&x, obj);
		link_customer(&x, obj);
		if (bev_link(e, "subscription", sub) != TERR_OK)
			jr_bad(&x.r, "too many ids");
		e->aspects |= BEV_NOTICE;
		text_copy(e->notice, sizeof(e->notice), "trial_will_end");
	} else if (strcmp(e->type, "charge.refunded") == 0)
		map_refund(&x, obj);
	else if (strcmp(e->type, "charge.dispute.created") == 0)
		map_dispute(&x, obj);
	else if (strcmp(e->type, "invoice_payment.paid") == 0)
		map_invoice_payment(&x, obj);
	else
		snprintf(e->note, sizeof(e->note), "event type %s is not acted on: stored",
		    e->type);
	rc = x.r.bad ? TERR_INVAL : TERR_OK;
out:
	cJSON_Delete(root);
	return rc;
}
