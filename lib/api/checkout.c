/*
 * Checkout through the direct providers: orders first, then the provider,
 * then the provider's ref or a cancellation (checkout.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "api/checkout.h"
#include "base/json.h"
#include "base/money.h"
#include "base/tally_limits.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "providers/cryptobot/cryptobot_api.h"
#include "providers/razorpay/razorpay_api.h"
#include "providers/razorpay/razorpay_sync.h"
#include "providers/telegram/telegram.h"
#include "providers/telegram/telegram_api.h"
#include "store/store_orders.h"

#define DAY_MS (86400LL * 1000)

static enum terr fail(char *why, size_t whysize, enum terr rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum terr
fail(char *why, size_t whysize, enum terr rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whysize, fmt, ap);
	va_end(ap);
	return rc;
}

static int
is_crypto(const char *currency)
{
	return money_exponent(currency) == 8;
}

/* The product's price in want, else the first price accepted by ok(), else NULL. */
static const struct product_price *
price_in(const struct product *p, const char *want, int (*ok)(const char *))
{
	size_t i;

	for (i = 0; i < p->nprices; i++)
		if (want != NULL && strcmp(p->prices[i].currency, want) == 0)
			return &p->prices[i];
	for (i = 0; ok != NULL && i < p->nprices; i++)
		if (ok(p->prices[i].currency))
			return &p->prices[i];
	return NULL;
}

/* A fiat currency (ISO 4217): neither Stars nor a crypto asset. */
static int
is_fiat(const char *currency)
{
	return strcmp(currency, "XTR") != 0 && !is_crypto(currency);
}

/* The plan a subscription product names under match.razorpay, or NULL. */
static const char *
razorpay_plan(const struct product *p)
{
	size_t i;

	if (p->kind != PRODUCT_SUBSCRIPTION)
		return NULL;
	for (i = 0; i < p->nmatch; i++)
		if (strcmp(p->match[i].provider, "razorpay") == 0 &&
		    strncmp(p->match[i].id, "plan_", 5) == 0)
			return p->match[i].id;
	return NULL;
}

/* A period of 30 days or one month: what a Telegram Stars subscription renews by. */
static int
stars_period(const struct product *p)
{
	return p->kind == PRODUCT_SUBSCRIPTION &&
	    ((p->period.months == 1 && p->period.ms == 0) ||
		(p->period.months == 0 && p->period.ms == 30 * DAY_MS));
}

/* Apply order.create (ref NULL: pending; else the provider's ref) or order.cancel. */
static enum terr
apply_order(struct checkout_ctx *x, const char *action, const char *idprefix,
    const struct checkout_result *o, const char *user, const char *ref, int64_t now, char *why,
    size_t whysize)
{
	struct op_order ord;
	struct op_action a;
	struct apply_result res;
	char id[ID_MAX + 32];
	enum terr rc;

	memset(&ord, 0, sizeof(ord));
	ord.id = o->order_id;
	ord.provider = o->provider;
	ord.product = o->product;
	ord.amount = o->amount;
	ord.currency = o->currency;
	ord.expires_at = o->expires_at;
	ord.provider_ref = ref;
	/* Unambiguous whatever the order id holds (text_key); tally's ids give "order.create:ord_...". */
	if ((rc = text_key(id, sizeof(id), idprefix, o->order_id, NULL)) != TERR_OK)
		return fail(why, whysize, TERR_INVAL, "%s of %s: the order id is too long", action,
		    o->order_id);
	memset(&a, 0, sizeof(a));
	a.source = x->source;
	a.id = id;
	a.action = action;
	a.user = user;
	a.reason = "checkout";
	a.operator_ = x->who;
	a.at = now;
	a.order = &ord;
	memset(&res, 0, sizeof(res));
	if ((rc = x->apply(x->arg, &a, &res)) != TERR_OK)
		return fail(why, whysize, rc, "%s of %s not committed: %s", action, o->order_id,
		    err_str(rc));
	if (res.err != TERR_OK)
		return fail(why, whysize, res.err, "%s of %s not committed: %s", action,
		    o->order_id, err_str(res.err));
	if (res.state != INBOX_APPLIED)
		return fail(why, whysize, TERR_CONFLICT, "%s of %s refused: %s", action,
		    o->order_id, res.reason);
	return TERR_OK;
}

/* Copy a string field of JSON text into out ("" when absent). */
static void
json_field(const struct buf *b, const char *key, char *out, size_t size)
{
	cJSON *root = NULL;
	const char *jwhy, *v;

	out[0] = '\0';
	if (json_parse(buf_cstr(b), b->len, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK)
		return;
	if ((v = jstr(root, key)) != NULL && text_id_valid(v, size - 1))
		text_copy(out, size, v);
	cJSON_Delete(root);
}

static enum terr
call_razorpay(struct checkout_ctx *x, const struct product *p, const char *user,
    struct checkout_result *o, char *why, size_t whysize)
{
	const char *plan = razorpay_plan(p);
	struct buf b;
	enum terr rc;

	buf_init(&b, 64 * 1024);
	if (plan != NULL)
		rc =
		    razorpay_subscription_create(x->cfg, plan, o->order_id, user, &b, why, whysize);
	else
		rc = razorpay_order_create(x->cfg, o->order_id, user, o->amount, o->currency, &b,
		    why, whysize);
	if (rc == TERR_OK) {
		json_field(&b, "id", o->provider_ref, sizeof(o->provider_ref));
		if (plan != NULL) {
			json_field(&b, "short_url", o->url, sizeof(o->url));
			o->subscription = 1;
		}
		text_copy(o->key_id, sizeof(o->key_id), x->cfg->razorpay.key_id);
	}
	buf_release(&b);
	return rc;
}

/* A Telegram invoice's title: the product id, cut to 32 bytes on a character boundary. */
static void
title_of(const struct product *p, char *out, size_t size)
{
	size_t n = strlen(p->id);

	if (n > 32) {
		n = 32;
		while (n > 0 && ((unsigned char)p->id[n] & 0xc0) == 0x80)
			n--;
	}
	text_copyn(out, size, p->id, n);
}

static enum terr
call_telegram(struct checkout_ctx *x, const struct product *p, struct checkout_result *o, char *why,
    size_t whysize)
{
	struct tg_invoice inv;
	char title[40], desc[128];

	title_of(p, title, sizeof(title));
	if (p->kind == PRODUCT_PACK)
		snprintf(desc, sizeof(desc), "%lld credits", (long long)p->credits);
	else
		snprintf(desc, sizeof(desc), "Subscription %.64s", p->id);
	memset(&inv, 0, sizeof(inv));
	inv.title = title;
	inv.description = desc;
	inv.payload = o->order_id;
	inv.currency = o->currency;
	inv.amount = o->amount;
	inv.subscription = strcmp(o->currency, "XTR") == 0 && stars_period(p);
	/* The answer says what was made: a Stars subscription (subscription_period) renews. */
	o->subscription = inv.subscription;
	return telegram_create_invoice_link(x->cfg, &inv, o->url, sizeof(o->url), why, whysize);
}

static enum terr
call_cryptobot(struct checkout_ctx *x, const struct product *p, struct checkout_result *o,
    int64_t now, char *why, size_t whysize)
{
	struct cb_invoice inv;
	enum terr rc;

	/* The invoice expires with the order: it cannot be paid once the order is refused. */
	rc = cryptobot_create_invoice(x->cfg, o->currency, o->amount, o->order_id, p->id,
	    (o->expires_at - now) / 1000, &inv, why, whysize);
	if (rc == TERR_OK) {
		text_copy(o->provider_ref, sizeof(o->provider_ref), inv.invoice_id);
		text_copy(o->url, sizeof(o->url), inv.url);
	}
	return rc;
}

/* The price, ttl and credentials of provider for p; TERR_OK or a refusal in why. */
static enum terr
plan_checkout(const struct cfg *c, const char *provider, const struct product *p,
    const struct product_price **price, int64_t *ttl, char *why, size_t whysize)
{
	if (strcmp(provider, "razorpay") == 0) {
		*price = price_in(p, "INR", is_fiat);
		*ttl = c->razorpay.order_ttl;
		if (c->razorpay.key_id[0] == '\0' || c->razorpay.key_secret[0] == '\0')
			return fail(why, whysize, TERR_CONFIG,
			    "razorpay.key_id and RAZORPAY_KEY_SECRET are not set");
		if (*price != NULL && razorpay_plan(p) != NULL)
			return TERR_OK;
	} else if (strcmp(provider, "telegram") == 0) {
		*price = price_in(p, "XTR", is_fiat);
		*ttl = c->telegram.invoice_ttl;
		if (c->telegram.bot_token[0] == '\0')
			return fail(why, whysize, TERR_CONFIG, "TELEGRAM_BOT_TOKEN is not set");
		if (*price != NULL && strcmp((*price)->currency, "XTR") != 0 &&
		    c->telegram.provider_token[0] == '\0')
			return fail(why, whysize, TERR_CONFIG,
			    "TELEGRAM_PROVIDER_TOKEN is not set: %s is sold in %s, not in Stars",
			    p->id, (*price)->currency);
		if (*price != NULL && strcmp((*price)->currency, "XTR") == 0 && stars_period(p))
			return TERR_OK;
	} else if (strcmp(provider, "cryptobot") == 0) {
		*price = price_in(p, NULL, is_crypto);
		*ttl = c->cryptobot.invoice_ttl;
		if (c->cryptobot.token[0] == '\0')
			return fail(why, whysize, TERR_CONFIG, "CRYPTOBOT_TOKEN is not set");
	} else
		return fail(why, whysize, TERR_INVAL,
		    "unknown provider %.32s: razorpay, telegram or cryptobot", provider);
	if (*price == NULL)
		return fail(why, whysize, TERR_INVAL, "product %s has no price %s takes", p->id,
		    provider);
	/* Bought once, a plan lasts its period: without one there is nothing to sell. */
	if (p->kind == PRODUCT_SUBSCRIPTION && p->period.months == 0 && p->period.ms == 0)
		return fail(why, whysize, TERR_INVAL,
		    "product %s has no period: it cannot be sold through %s", p->id, provider);
	return TERR_OK;
}

enum terr
checkout_start(struct checkout_ctx *x, const char *provider, const char *user, const char *product,
    int64_t now, struct checkout_result *out, char *why, size_t whysize)
{
	const struct product *p;
	const struct product_price *price = NULL;
	unsigned char rnd[12];
	char pwhy[256], cwhy[256];
	int64_t ttl = 0;
	enum terr rc, crc;

	memset(out, 0, sizeof(*out));
	why[0] = '\0';
	if (!text_id_valid(user, USER_ID_MAX))
		return fail(why, whysize, TERR_INVAL, "invalid user id");
	if ((p = cfg_product(x->cfg, product)) == NULL)
		return fail(why, whysize, TERR_NOTFOUND, "no product %.64s in the catalog",
		    product);
	if ((rc = plan_checkout(x->cfg, provider, p, &price, &ttl, why, whysize)) != TERR_OK)
		return rc;
	if (crypto_random_bytes(rnd, sizeof(rnd)) != TERR_OK)
		return fail(why, whysize, TERR_INTERNAL, "no random bytes for the order id");
	memcpy(out->order_id, "ord_", 4);
	text_hex(rnd, sizeof(rnd), out->order_id + 4);
	text_copy(out->provider, sizeof(out->provider), provider);
	text_copy(out->product, sizeof(out->product), p->id);
	text_copy(out->currency, sizeof(out->currency), price->currency);
	out->amount = price->amount;
	out->expires_at = now + ttl;

	/* 1. The order, before the provider hears of it. */
	if ((rc = apply_order(x, "order.create", "order.create", out, user, NULL, now, why,
		 whysize)) != TERR_OK)
		return rc;
	/* 2. The provider. */
	pwhy[0] = '\0';
	if (strcmp(provider, "razorpay") == 0)
		rc = call_razorpay(x, p, user, out, pwhy, sizeof(pwhy));
	else if (strcmp(provider, "telegram") == 0)
		rc = call_telegram(x, p, out, pwhy, sizeof(pwhy));
	else
		rc = call_cryptobot(x, p, out, now, pwhy, sizeof(pwhy));
	if (rc == TERR_OK && out->provider_ref[0] == '\0' && strcmp(provider, "telegram") != 0) {
		rc = TERR_INVAL;
		snprintf(pwhy, sizeof(pwhy), "%s answered without an id", provider);
	}
	if (rc != TERR_OK) {
		/* 3b. Never made at the provider: canceled, so nothing can pay it. */
		out->provider_failed = 1;
		crc = apply_order(x, "order.cancel", "order.cancel", out, user, NULL, now, cwhy,
		    sizeof(cwhy));
		snprintf(why, whysize, "%s: %s%s%s", provider, pwhy,
		    crc != TERR_OK ? "; and the order could not be canceled: " : "",
		    crc != TERR_OK ? cwhy : "");
		return rc;
	}
	/* 3a. The provider's ref, so its events find the order. */
	if (out->provider_ref[0] != '\0')
		return apply_order(x, "order.create", "order.ref", out, user, out->provider_ref,
		    now, why, whysize);
	return TERR_OK;
}

/* --- Razorpay Checkout's callback --- */

static enum terr refuse(struct checkout_refusal *ref, enum terr rc, int status, const char *code,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static enum terr
refuse(struct checkout_refusal *ref, enum terr rc, int status, const char *code, const char *fmt,
    ...)
{
	va_list ap;

	ref->status = status;
	ref->code = code;
	va_start(ap, fmt);
	vsnprintf(ref->message, sizeof(ref->message), fmt, ap);
	va_end(ap);
	return rc;
}

/* A Razorpay API failure as the API answers it. */
static enum terr
api_refusal(struct checkout_refusal *ref, enum terr rc, const char *why)
{
	if (rc == TERR_IO)
		return refuse(ref, rc, 503, "provider_unavailable", "%s", why);
	if (rc == TERR_CONFIG)
		return refuse(ref, rc, 503, "not_configured", "%s", why);
	return refuse(ref, TERR_IO, 502, "provider_error", "%s", why);
}

static int
id_ok(const char *id, const char *prefix)
{
	return id != NULL && text_id_valid(id, ID_MAX - 1) &&
	    strncmp(id, prefix, strlen(prefix)) == 0;
}

/* What the fetched payment and order must say of tally's order ord. */
static enum terr
check_order_event(const struct bev *e, const struct checkout_rzp_callback *cb,
    const struct order_row *ord, struct checkout_refusal *ref)
{
	char paid[MONEY_TEXT_SIZE], want[MONEY_TEXT_SIZE];

	if (!(e->aspects & BEV_ORDER) || strcmp(e->order.charge_id, cb->payment_id) != 0 ||
	    strcmp(e->order.provider_ref, cb->order_id) != 0)
		return refuse(ref, TERR_INVAL, 400, "malformed",
		    "payment %.64s is not a payment of order %.64s", cb->payment_id, cb->order_id);
	if (strcmp(e->order.id, ord->id) != 0)
		return refuse(ref, TERR_CONFLICT, 409, "order_mismatch",
		    "Razorpay's order %.64s is not tally's order %.64s", cb->order_id, ord->id);
	if (!e->order.captured)
		return refuse(ref, TERR_CONFLICT, 402, "not_captured",
		    "payment %.64s is not captured", cb->payment_id);
	if (e->order.amount != ord->amount || strcmp(e->order.currency, ord->currency) != 0) {
		money_text(e->order.amount, e->order.currency, paid, sizeof(paid));
		money_text(ord->amount, ord->currency, want, sizeof(want));
		return refuse(ref, TERR_CONFLICT, 402, "amount_mismatch",
		    "paid %s, the order is %s", paid, want);
	}
	return TERR_OK;
}

/* What the fetched payment and subscription must say of tally's order ord. */
static enum terr
check_sub_event(const struct cfg *c, struct bev *e, const char *user,
    const struct checkout_rzp_callback *cb, const struct order_row *ord,
    struct checkout_refusal *ref)
{
	const struct product *p = cfg_match(c, "razorpay", e->sub.product);

	if (!(e->aspects & BEV_SUB) || strcmp(e->sub.id, cb->subscription_id) != 0)
		return refuse(ref, TERR_INVAL, 400, "malformed", "not subscription %.64s",
		    cb->subscription_id);
	if (e->user[0] != '\0' && strcmp(e->user, user) != 0)
		return refuse(ref, TERR_AUTH, 403, "not_your_order",
		    "subscription %.64s is another user's", cb->subscription_id);
	if (!(e->aspects & BEV_PAY) || e->pay.keys.n == 0 ||
	    strcmp(e->pay.keys.k[0], cb->payment_id) != 0)
		return refuse(ref, TERR_CONFLICT, 402, "not_captured",
		    "payment %.64s is not a captured payment of the subscription", cb->payment_id);
	if (p == NULL || strcmp(p->id, ord->product) != 0)
		return refuse(ref, TERR_CONFLICT, 402, "amount_mismatch",
		    "subscription %.64s is of plan %.64s, not of product %.64s",
		    cb->subscription_id, e->sub.product, ord->product);
	text_copy(e->user, sizeof(e->user), user);
	return TERR_OK;
}

enum terr
checkout_razorpay_verify(struct checkout_ctx *x, const char *user,
    const struct checkout_rzp_callback *cb, int64_t now, struct buf *body, struct bev *e,
    struct checkout_refusal *ref)
{
	const struct cfg *c = x->cfg;
	const char *ref_id, *what;
	struct order_row ord;
	struct buf pay, ent;
	char why[256], id[ID_MAX + 16];
	int sub;
	enum terr rc;

	memset(ref, 0, sizeof(*ref));
	sub = cb->subscription_id != NULL && cb->subscription_id[0] != '\0';
	if (!text_id_valid(user, USER_ID_MAX) || !id_ok(cb->payment_id, "pay_") ||
	    cb->signature == NULL || cb->signature[0] == '\0' ||
	    (sub ? (cb->order_id != NULL && cb->order_id[0] != '\0') ||
			!id_ok(cb->subscription_id, "sub_")
		 : !id_ok(cb->order_id, "order_")))
		return refuse(ref, TERR_INVAL, 400, "malformed",
		    "expected razorpay_payment_id, razorpay_signature and one of "
		    "razorpay_order_id, razorpay_subscription_id");
	ref_id = sub ? cb->subscription_id : cb->order_id;
	/* PROVIDERS.md 4.4: order_id|payment_id, or payment_id|subscription_id (payment first). */
	rc = sub
	    ? razorpay_checkout_verify(&c->razorpay, cb->payment_id, cb->subscription_id,
		  cb->signature)
	    : razorpay_checkout_verify(&c->razorpay, cb->order_id, cb->payment_id, cb->signature);
	if (rc == TERR_CONFIG)
		return refuse(ref, rc, 503, "not_configured", "RAZORPAY_KEY_SECRET is not set");
	if (rc != TERR_OK)
		return refuse(ref, TERR_AUTH, 401, "bad_signature",
		    "razorpay_signature does not match");
	if (x->store == NULL)
		return refuse(ref, TERR_DB, 503, "storage_unavailable", "no database connection");
	if ((rc = store_order_find_ref(x->store, "razorpay", ref_id, &ord)) == TERR_NOTFOUND)
		return refuse(ref, rc, 404, "unknown_order", "no order of tally is %.64s", ref_id);
	if (rc != TERR_OK)
		return refuse(ref, rc, 503, "storage_unavailable", "the order could not be read");
	if (strcmp(ord.user, user) != 0)
		return refuse(ref, TERR_AUTH, 403, "not_your_order", "order %.64s is not yours",
		    ord.id);
	if (ord.state == ORDER_PAID && strcmp(ord.charge_id, cb->payment_id) != 0)
		return refuse(ref, TERR_CONFLICT, 409, "already_paid",
		    "order %.64s was paid by another payment", ord.id);

	buf_init(&pay, 256 * 1024);
	buf_init(&ent, 256 * 1024);
	what = sub ? "subscription" : "order";
	if ((rc = razorpay_fetch(c, "payments", cb->payment_id, &pay, why, sizeof(why))) !=
		TERR_OK ||
	    (rc = razorpay_fetch(c, sub ? "subscriptions" : "orders", ref_id, &ent, why,
		 sizeof(why))) != TERR_OK) {
		rc = api_refusal(ref, rc, why);
		goto out;
	}
	/* "checkout:<payment id>": reconcile makes the same event of the same payment. */
	snprintf(id, sizeof(id), "checkout:%.240s", cb->payment_id);
	razorpay_fetched_event(body, id, sub ? "subscription.charged" : "order.paid",
	    buf_cstr(&pay), what, buf_cstr(&ent), now);
	if (body->err != TERR_OK ||
	    razorpay_parse(c, NULL, buf_cstr(body), body->len, e, why, sizeof(why)) != TERR_OK) {
		rc = refuse(ref, TERR_IO, 502, "provider_error",
		    "Razorpay's answer cannot be read: %s",
		    body->err != TERR_OK ? err_str(body->err) : why);
		goto out;
	}
	rc = sub ? check_sub_event(c, e, user, cb, &ord, ref) : check_order_event(e, cb, &ord, ref);
out:
	buf_release(&pay);
	buf_release(&ent);
	return rc;
}
