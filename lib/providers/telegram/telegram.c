/*
 * Telegram webhooks: the secret token, the kinds of updates and the mapping
 * of payments (telegram.h has the table). Field names cite the Bot API 10.1
 * (telegram-bot-api-spec api.json).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/jread.h"
#include "base/json.h"
#include "base/text.h"
#include "crypto/crypto.h"
#include "providers/telegram/telegram.h"

enum terr
telegram_verify(const struct cfg_telegram *c, const char *header, const char **why)
{
	size_t n = strlen(c->webhook_secret);

	if (n == 0) {
		*why = "no webhook secret token configured";
		return TERR_CONFIG;
	}
	if (header == NULL || *header == '\0') {
		*why = "missing X-Telegram-Bot-Api-Secret-Token header";
		return TERR_AUTH;
	}
	/* Lengths first (only the length can leak), then every byte in constant time. */
	if (strlen(header) != n || !crypto_ct_eq(header, c->webhook_secret, n)) {
		*why = "wrong X-Telegram-Bot-Api-Secret-Token header";
		return TERR_AUTH;
	}
	return TERR_OK;
}

enum terr
telegram_hook_init(void **state, const struct cfg *c, char *why, size_t whysize)
{
	enum terr rc;

	*state = NULL;
	rc = hook_ready(TERR_OK, c->telegram.webhook_secret[0] != '\0', "TELEGRAM_WEBHOOK_SECRET",
	    why, whysize);
	if (rc != TERR_OK)
		return rc;
	/* Without the token no pre-checkout query can be answered: no purchase could finish. */
	return hook_ready(TERR_OK, c->telegram.bot_token[0] != '\0', "TELEGRAM_BOT_TOKEN", why,
	    whysize);
}

enum terr
telegram_hook_verify(void *state, const struct cfg *c, const struct hook_req *q, const char **why)
{
	(void)state;
	return telegram_verify(&c->telegram, q->sig, why);
}

/* The update's one optional field (Update: "At most one of the optional parameters"). */
static const cJSON *
update_field(const cJSON *root, const char **name)
{
	const cJSON *f;

	*name = "";
	for (f = root->child; f != NULL; f = f->next)
		if (strcmp(f->string, "update_id") != 0 && !cJSON_IsNull(f)) {
			*name = f->string;
			return f;
		}
	return NULL;
}

static void
read_precheckout(struct jread *r, const cJSON *q, struct hook_precheck *out)
{
	memset(out, 0, sizeof(*out));
	jr_str(r, q, "id", out->id, sizeof(out->id));
	jr_id(r, jr_obj(r, q, "from"), "id", out->from, sizeof(out->from));
	jr_str(r, q, "currency", out->currency, sizeof(out->currency));
	out->amount = jr_int(r, q, "total_amount", 0, (int64_t)1 << 50);
	jr_str(r, q, "invoice_payload", out->order, sizeof(out->order));
	if (!r->bad && (out->id[0] == '\0' || !text_id_valid(out->id, ID_MAX - 1)))
		jr_bad(r, "pre_checkout_query without id");
}

enum terr
telegram_classify(const char *body, size_t n, struct hook_update *u, char *why, size_t whysize)
{
	struct jread r;
	cJSON *root = NULL;
	const cJSON *f;
	const char *jwhy, *name;
	int64_t update_id;

	jr_init(&r, why, whysize);
	memset(u, 0, sizeof(*u));
	u->kind = HOOK_OTHER;
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "%s", jwhy);
		return TERR_INVAL;
	}
	if (!cJSON_IsObject(root) || jget(root, "tally_refund") != NULL ||
	    jget(root, "tally_reconcile") != NULL) {
		jr_bad(&r, "not a Telegram update");
		goto out;
	}
	update_id = jr_int(&r, root, "update_id", 0, INT64_MAX);
	if (!r.bad && jget(root, "update_id") == NULL)
		jr_bad(&r, "update without update_id");
	snprintf(u->id, sizeof(u->id), "update:%lld", (long long)update_id);
	f = update_field(root, &name);
	snprintf(u->what, sizeof(u->what), "%s", name[0] != '\0' ? name : "update");
	if (r.bad || f == NULL)
		goto out;
	if (strcmp(name, "pre_checkout_query") == 0) {
		u->kind = HOOK_PRECHECK;
		read_precheckout(&r, f, &u->q);
		snprintf(u->id, sizeof(u->id), "pre_checkout_query:%.200s", u->q.id);
	} else if (strcmp(name, "message") == 0 &&
	    (jget(f, "successful_payment") != NULL || jget(f, "refunded_payment") != NULL))
		u->kind = HOOK_EVENT;
out:
	cJSON_Delete(root);
	return r.bad ? TERR_INVAL : TERR_OK;
}

/* --- payments --- */

struct tgx {
	struct bev *e;
	struct jread r;
};

static void
payment_common(struct tgx *x, const cJSON *msg, const cJSON *pay, char *charge, size_t size)
{
	struct bev *e = x->e;
	char from[24];

	jr_str(&x->r, pay, "telegram_payment_charge_id", charge, size);
	jr_id(&x->r, jr_obj(&x->r, msg, "from"), "id", from, sizeof(from));
	e->at = jr_secs(&x->r, msg, "date");
	if (!x->r.bad && (charge[0] == '\0' || !text_id_valid(charge, size - 1)))
		jr_bad(&x->r, "payment without telegram_payment_charge_id");
	if (bev_link(e, TG_LINK_USER, from) != TERR_OK)
		jr_bad(&x->r, "from.id too long");
}

/* message.successful_payment (SuccessfulPayment). */
static void
map_paid(struct tgx *x, const cJSON *msg, const cJSON *pay)
{
	struct bev_order *o = &x->e->order;
	int recurring, first;

	payment_common(x, msg, pay, o->charge_id, sizeof(o->charge_id));
	jr_str(&x->r, pay, "invoice_payload", o->id, sizeof(o->id));
	jr_str(&x->r, pay, "currency", o->currency, sizeof(o->currency));
	o->amount = jr_int(&x->r, pay, "total_amount", 0, (int64_t)1 << 50);
	o->period_end = jr_secs(&x->r, pay, "subscription_expiration_date");
	recurring = jr_bool(&x->r, pay, "is_recurring");
	first = jr_bool(&x->r, pay, "is_first_recurring");
	/* A renewal: a recurring payment that is not the subscription's first. */
	o->recurring = recurring && !first;
	/* successful_payment is sent once the money is taken. */
	o->captured = 1;
	x->e->aspects |= BEV_ORDER;
}

/* message.refunded_payment (RefundedPayment): Stars are always refunded whole. */
static void
map_refunded(struct tgx *x, const cJSON *msg, const cJSON *pay)
{
	struct bev *e = x->e;
	char charge[ID_MAX];

	payment_common(x, msg, pay, charge, sizeof(charge));
	if (bev_key(&e->refund.keys, charge) != TERR_OK)
		jr_bad(&x->r, "charge id too long");
	e->refund.kind = REFUND_FULL;
	e->refund.amount = jr_int(&x->r, pay, "total_amount", 0, (int64_t)1 << 50);
	e->aspects |= BEV_REFUND;
}

/* An operator's refund, written by telegram_refund_body: who did it, and why. */
static void
operator_refund(struct tgx *x, const cJSON *t)
{
	struct bev *e = x->e;
	char who[65];

	jr_str(&x->r, t, "operator", who, sizeof(who));
	jr_str(&x->r, t, "reason", e->reason, sizeof(e->reason));
	if (!x->r.bad && !text_id_valid(who, 64))
		jr_bad(&x->r, "tally_refund without operator");
	snprintf(e->actor, sizeof(e->actor), "operator:%s", who);
	e->refund.kind = REFUND_FULL;
	if (e->refund.keys.n == 1)
		snprintf(e->id, sizeof(e->id), "refund:%.240s", e->refund.keys.k[0]);
}

enum terr
telegram_parse(const struct cfg *c, const char *body, size_t n, struct bev *e, char *why,
    size_t whysize)
{
	struct tgx x;
	cJSON *root = NULL;
	const cJSON *msg, *pay, *op, *sync;
	const char *jwhy;
	int64_t uid = -1;
	enum terr rc = TERR_INVAL;

	(void)c;
	memset(&x, 0, sizeof(x));
	x.e = e;
	jr_init(&x.r, why, whysize);
	bev_init(e);
	e->raw = body;
	e->raw_len = n;
	text_copy(e->provider, sizeof(e->provider), "telegram");
	if (json_parse(body, n, JSON_DEPTH_MAX, &root, &jwhy) != TERR_OK) {
		snprintf(why, whysize, "%s", jwhy);
		return TERR_INVAL;
	}
	if (!cJSON_IsObject(root)) {
		jr_bad(&x.r, "not a Telegram update");
		goto out;
	}
	op = jr_obj(&x.r, root, "tally_refund");
	sync = jr_obj(&x.r, root, "tally_reconcile");
	if (op == NULL && sync == NULL) {
		uid = jr_int(&x.r, root, "update_id", 0, INT64_MAX);
		if (!x.r.bad && jget(root, "update_id") == NULL)
			jr_bad(&x.r, "update without update_id");
		snprintf(e->id, sizeof(e->id), "update:%lld", (long long)uid);
	}
	msg = jr_obj(&x.r, root, "message");
	if (x.r.bad)
		goto out;
	if (sync != NULL && (op != NULL || jget(msg, "successful_payment") == NULL)) {
		jr_bad(&x.r, "tally_reconcile without successful_payment");
		goto out;
	}
	if ((pay = jr_obj(&x.r, msg, "successful_payment")) != NULL && op == NULL) {
		text_copy(e->type, sizeof(e->type), "successful_payment");
		map_paid(&x, msg, pay);
		/* Reconciliation's (telegram_sync.h): one event a charge, however many runs. */
		if (sync != NULL)
			snprintf(e->id, sizeof(e->id), "stars:%.240s", e->order.charge_id);
	} else if ((pay = jr_obj(&x.r, msg, "refunded_payment")) != NULL) {
		text_copy(e->type, sizeof(e->type), "refunded_payment");
		map_refunded(&x, msg, pay);
		if (op != NULL)
			operator_refund(&x, op);
	} else if (op != NULL)
		jr_bad(&x.r, "tally_refund without refunded_payment");
	else {
		text_copy(e->type, sizeof(e->type), msg != NULL ? "message" : "update");
		snprintf(e->note, sizeof(e->note), "not a payment: nothing to apply");
	}
	if (!x.r.bad && e->at <= 0 && e->aspects != 0)
		jr_bad(&x.r, "message without date");
	rc = x.r.bad ? TERR_INVAL : TERR_OK;
out:
	cJSON_Delete(root);
	return rc;
}

enum terr
telegram_refund_body(const char *operator_, const char *reason, int64_t at, const char *tg_user,
    const char *order_id, const char *charge_id, int64_t amount, const char *currency,
    struct buf *out)
{
	struct jw w;
	int64_t uid;

	if (text_i64s(tg_user, 0, INT64_MAX, &uid) != TERR_OK)
		return TERR_INVAL;
	buf_reset(out);
	jw_init(&w, out);
	jw_obj(&w);
	jw_key(&w, "tally_refund");
	jw_obj(&w);
	jw_kstr(&w, "operator", operator_);
	jw_kstr(&w, "reason", reason);
	jw_end(&w);
	jw_key(&w, "message");
	jw_obj(&w);
	jw_kint(&w, "date", at / 1000);
	jw_key(&w, "from");
	jw_obj(&w);
	jw_kint(&w, "id", uid);
	jw_end(&w);
	jw_key(&w, "refunded_payment");
	jw_obj(&w);
	jw_kstr(&w, "currency", currency);
	jw_kint(&w, "total_amount", amount);
	jw_kstr(&w, "invoice_payload", order_id);
	jw_kstr(&w, "telegram_payment_charge_id", charge_id);
	jw_end(&w);
	jw_end(&w);
	jw_end(&w);
	return out->err;
}
