/*
 * bin/tally: the direct providers (checkout, orders show, telegram refund,
 * razorpay verify).
 *
 *   tally checkout USER PROVIDER PRODUCT     an operator starts a purchase for a
 *                                            user (lib/api/checkout.h): the link or
 *                                            the fields the user pays with
 *   tally orders show ORDER_ID               one order as stored
 *   tally telegram refund CHARGE_ID --reason TEXT [--telegram-user ID]
 *                                            refundStarPayment, then the refund
 *                                            applied at once (telegram.h)
 *   tally razorpay verify USER ORDER_OR_SUBSCRIPTION_ID PAYMENT_ID SIGNATURE
 *                                            Razorpay Checkout's callback, checked
 *                                            and applied (checkout_razorpay_verify)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/checkout.h"
#include "base/json.h"
#include "base/money.h"
#include "base/text.h"
#include "base/tm.h"
#include "cli.h"
#include "core/apply.h"
#include "providers/telegram/telegram.h"
#include "providers/telegram/telegram_api.h"

/* The CLI's apply: one operator action in its own transaction. */
static enum terr
cli_apply(void *arg, const struct op_action *a, struct apply_result *res)
{
	struct cli *c = arg;
	char why[256];
	enum terr rc;

	rc = apply_op(c->s, &c->cfg, a, c->now, res, why, sizeof(why));
	if (rc == TERR_INVAL) {
		/* The action could not be built: a refusal, with its reason. */
		res->state = INBOX_FAILED;
		snprintf(res->reason, sizeof(res->reason), "%s", why);
		return TERR_OK;
	}
	return rc;
}

/* The checkout library as the CLI uses it: this connection, operator events. */
static void
cli_checkout_ctx(struct cli *c, struct checkout_ctx *x)
{
	memset(x, 0, sizeof(*x));
	x->cfg = &c->cfg;
	x->store = c->s;
	x->source = OP_OPERATOR;
	x->who = cli_operator(c);
	x->apply = cli_apply;
	x->arg = c;
}

int
cmd_checkout(struct cli *c)
{
	struct checkout_ctx x;
	struct checkout_result r;
	char why[512], amount[MONEY_TEXT_SIZE], until[TM_ISO_SIZE];
	struct buf b;
	struct jw w;
	enum terr rc;

	if (c->npos != 3)
		return cli_usage();
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	cli_checkout_ctx(c, &x);
	rc = checkout_start(&x, c->pos[1], c->pos[0], c->pos[2], c->now, &r, why, sizeof(why));
	if ((rc == TERR_INVAL || rc == TERR_NOTFOUND) && !r.provider_failed)
		return cli_bad_arg("cannot start the checkout", why);
	if (rc != TERR_OK)
		return cli_fail("checkout failed", why);
	money_text(r.amount, r.currency, amount, sizeof(amount));
	tm_iso(r.expires_at, until);
	if (c->json) {
		buf_init(&b, 8192);
		jw_init(&w, &b);
		jw_obj(&w);
		jw_kstr(&w, "order_id", r.order_id);
		jw_kstr(&w, "user_id", c->pos[0]);
		jw_kstr(&w, "provider", r.provider);
		jw_kstr(&w, "product", r.product);
		jw_kint(&w, "amount", r.amount);
		jw_kstr(&w, "currency", r.currency);
		jw_ktime(&w, "expires_at", r.expires_at);
		jw_kstr(&w, "provider_ref", r.provider_ref[0] != '\0' ? r.provider_ref : NULL);
		jw_kbool(&w, "subscription", r.subscription);
		jw_kstr(&w, "url", r.url[0] != '\0' ? r.url : NULL);
		jw_kstr(&w, "key_id", r.key_id[0] != '\0' ? r.key_id : NULL);
		jw_end(&w);
		buf_putc(&b, '\n');
		cli_outb(&b);
		buf_release(&b);
		return 0;
	}
	printf("order %s: %s for user %s, %s through %s, pending until %s\n", r.order_id, r.product,
	    c->pos[0], amount, r.provider, until);
	if (r.provider_ref[0] != '\0')
		printf("%s %s: %s\n", r.provider,
		    r.subscription                            ? "subscription"
			: strcmp(r.provider, "razorpay") == 0 ? "order"
							      : "invoice",
		    r.provider_ref);
	/* What was made: a subscription the provider renews, or one payment (a plan then lasts one period). */
	if (r.subscription)
		printf("kind: subscription (%s renews it each period)\n", r.provider);
	else
		printf("kind: one payment (%s does not renew it)\n", r.provider);
	if (r.key_id[0] != '\0')
		printf("checkout key: %s\n", r.key_id);
	if (r.url[0] != '\0')
		printf("pay at: %s\n", r.url);
	return 0;
}

int
cmd_orders_show(struct cli *c)
{
	struct order_row o;
	char amount[MONEY_TEXT_SIZE], t1[TM_ISO_SIZE], t2[TM_ISO_SIZE], t3[TM_ISO_SIZE];
	struct buf b;
	struct jw w;
	enum terr rc;

	if (c->npos != 1)
		return cli_usage();
	if (cli_open(c, STORE_RO) != 0)
		return 1;
	if ((rc = store_order_get(c->s, c->pos[0], &o)) == TERR_NOTFOUND)
		return cli_fail("no such order", c->pos[0]);
	if (rc != TERR_OK)
		return cli_fail("cannot read the order", err_str(rc));
	if (c->json) {
		buf_init(&b, 8192);
		jw_init(&w, &b);
		jw_obj(&w);
		jw_kstr(&w, "order_id", o.id);
		jw_kstr(&w, "provider", o.provider);
		jw_kstr(&w, "user_id", o.user);
		jw_kstr(&w, "product", o.product);
		jw_kint(&w, "amount", o.amount);
		jw_kstr(&w, "currency", o.currency);
		jw_kstr(&w, "state", order_state_str(o.state));
		jw_kbool(&w, "live", o.live);
		jw_kstr(&w, "provider_ref", o.provider_ref[0] != '\0' ? o.provider_ref : NULL);
		jw_kstr(&w, "charge_id", o.charge_id[0] != '\0' ? o.charge_id : NULL);
		if (o.pay_id != 0)
			jw_kint(&w, "payment_id", o.pay_id);
		else {
			jw_key(&w, "payment_id");
			jw_null(&w);
		}
		jw_ktime(&w, "expires_at", o.expires_at);
		jw_ktime(&w, "created_at", o.created_at);
		jw_ktime(&w, "updated_at", o.updated_at);
		jw_end(&w);
		buf_putc(&b, '\n');
		cli_outb(&b);
		buf_release(&b);
		return 0;
	}
	money_text(o.amount, o.currency, amount, sizeof(amount));
	tm_iso(o.expires_at, t1);
	tm_iso(o.created_at, t2);
	tm_iso(o.updated_at, t3);
	buf_init(&b, 8192);
	buf_printf(&b,
	    "order %s (%s)\n  user %s, product %s, %s through %s%s\n  provider ref %s, "
	    "charge %s\n  created %s, expires %s, updated %s\n",
	    o.id, order_state_str(o.state), o.user, o.product, amount, o.provider,
	    o.live ? "" : " (test)", o.provider_ref[0] != '\0' ? o.provider_ref : "-",
	    o.charge_id[0] != '\0' ? o.charge_id : "-", t2, t1, t3);
	cli_outb(&b);
	buf_release(&b);
	return 0;
}

/*
 * The Telegram user who paid charge: from the payment's own event (its
 * message.from.id), as recorded when it arrived.
 */
static enum terr
payer_of(struct cli *c, const struct pay_row *pr, char *tg_user, size_t size, char *order_id,
    size_t osize)
{
	struct inbox_row row;
	struct bev *e;
	struct buf body;
	char why[128];
	size_t i;
	enum terr rc;

	tg_user[0] = order_id[0] = '\0';
	if ((e = malloc(sizeof(*e))) == NULL)
		return TERR_NOMEM;
	buf_init(&body, BODY_MAX);
	if ((rc = store_inbox_get(c->s, pr->inbox_id, &row, &body)) == TERR_OK &&
	    (rc = telegram_parse(&c->cfg, buf_cstr(&body), body.len, e, why, sizeof(why))) ==
		TERR_OK) {
		for (i = 0; i < e->nlinks; i++)
			if (strcmp(e->links[i].kind, TG_LINK_USER) == 0)
				text_copy(tg_user, size, e->links[i].id);
		text_copy(order_id, osize, e->order.id);
	}
	buf_release(&body);
	free(e);
	return rc;
}

int
cmd_telegram_refund(struct cli *c)
{
	const char *charge, *given = cli_opt(c, "telegram-user");
	struct pay_row pr;
	struct order_row ord;
	struct apply_result res;
	struct bev *e = NULL;
	struct buf body;
	char tg_user[ID_MAX], order_id[ID_MAX], why[256];
	int ret = 1;
	enum terr rc;

	if (c->npos != 1)
		return cli_usage();
	charge = c->pos[0];
	if (c->reason == NULL || *c->reason == '\0')
		return cli_bad_arg("a reason is required", "--reason TEXT");
	if (strlen(c->reason) >= REASON_MAX)
		return cli_bad_arg("reason too long", NULL);
	if (!text_id_valid(charge, ID_MAX - 1))
		return cli_bad_arg("not a charge id", charge);
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	if ((rc = store_pay_find_key(c->s, "telegram", charge, &pr)) == TERR_NOTFOUND)
		return cli_fail("no Telegram payment with this charge id", charge);
	if (rc != TERR_OK)
		return cli_fail("cannot read the payment", err_str(rc));
	if (pr.state != PAY_PAID) {
		/* Idempotent: refunded before (by this command or by Telegram's update). */
		printf("payment %lld (charge %s) is already %s: nothing to do\n", (long long)pr.id,
		    charge, pay_state_str(pr.state));
		return 0;
	}
	if (payer_of(c, &pr, tg_user, sizeof(tg_user), order_id, sizeof(order_id)) != TERR_OK)
		tg_user[0] = '\0';
	if (order_id[0] == '\0' && store_order_of_pay(c->s, pr.id, &ord) == TERR_OK)
		text_copy(order_id, sizeof(order_id), ord.id);
	if (given != NULL)
		text_copy(tg_user, sizeof(tg_user), given);
	if (tg_user[0] == '\0')
		return cli_bad_arg("the payer's Telegram user id is not known",
		    "give it with --telegram-user ID");

	/* Telegram first: nothing is taken back here unless the money went back. */
	rc = telegram_refund_star_payment(&c->cfg, tg_user, charge, why, sizeof(why));
	if (rc == TERR_DUP)
		printf("Telegram says charge %s was refunded already\n", charge);
	else if (rc != TERR_OK)
		return cli_fail("Telegram refused the refund; nothing changed", why);

	buf_init(&body, BODY_MAX);
	if ((e = malloc(sizeof(*e))) == NULL ||
	    telegram_refund_body(cli_operator(c), c->reason, c->now, tg_user, order_id, charge,
		pr.amount, pr.currency, &body) != TERR_OK ||
	    telegram_parse(&c->cfg, buf_cstr(&body), body.len, e, why, sizeof(why)) != TERR_OK) {
		cli_fail("cannot build the refund event", why);
		goto out;
	}
	if ((rc = apply_batch(c->s, &c->cfg, e, 1, &res, c->now)) != TERR_OK) {
		cli_fail("refunded at Telegram but not recorded (run this command again)",
		    err_str(rc));
		goto out;
	}
	if (c->json) {
		struct buf out;
		struct jw w;
		buf_init(&out, 4096);
		jw_init(&w, &out);
		jw_obj(&w);
		jw_kint(&w, "inbox_id", res.inbox_id);
		jw_kstr(&w, "state", inbox_state_str(res.state));
		jw_kstr(&w, "charge_id", charge);
		jw_kstr(&w, "user_id", pr.user);
		jw_kstr(&w, "reason", res.reason);
		jw_end(&w);
		buf_putc(&out, '\n');
		cli_outb(&out);
		buf_release(&out);
	} else
		printf("refunded charge %s of user %s (event #%lld, %s%s%s)\n", charge, pr.user,
		    (long long)res.inbox_id, inbox_state_str(res.state),
		    res.reason[0] != '\0' ? ": " : "", res.reason);
	ret = res.state == INBOX_APPLIED ? 0 : 1;
out:
	buf_release(&body);
	free(e);
	return ret;
}

/*
 * tally razorpay verify USER ORDER_OR_SUBSCRIPTION_ID PAYMENT_ID SIGNATURE:
 * what the API does with Razorpay Checkout's callback, for an operator (a
 * user says they paid and the webhook is late) and for tests.
 */
int
cmd_razorpay_verify(struct cli *c)
{
	struct checkout_ctx x;
	struct checkout_rzp_callback cb;
	struct checkout_refusal ref;
	struct apply_result res;
	struct bev *e = NULL;
	struct buf body, out;
	struct jw w;
	int ret = 1;
	enum terr rc;

	if (c->npos != 4)
		return cli_usage();
	if (cli_open(c, STORE_RW) != 0)
		return 1;
	cli_checkout_ctx(c, &x);
	memset(&cb, 0, sizeof(cb));
	if (strncmp(c->pos[1], "sub_", 4) == 0)
		cb.subscription_id = c->pos[1];
	else
		cb.order_id = c->pos[1];
	cb.payment_id = c->pos[2];
	cb.signature = c->pos[3];
	buf_init(&body, BODY_MAX);
	buf_init(&out, 8192);
	memset(&res, 0, sizeof(res));
	if ((e = malloc(sizeof(*e))) == NULL) {
		cli_fail("out of memory", NULL);
		goto out;
	}
	rc = checkout_razorpay_verify(&x, c->pos[0], &cb, c->now, &body, e, &ref);
	if (rc == TERR_OK && (rc = apply_batch(c->s, &c->cfg, e, 1, &res, c->now)) != TERR_OK) {
		ref.status = 503;
		ref.code = "storage_unavailable";
		snprintf(ref.message, sizeof(ref.message), "not committed: %s", err_str(rc));
	}
	jw_init(&w, &out);
	jw_obj(&w);
	if (rc == TERR_OK) {
		jw_kstr(&w, "event_id", e->id);
		jw_kint(&w, "inbox_id", res.inbox_id);
		jw_kstr(&w, "state", inbox_state_str(res.state));
		jw_kbool(&w, "duplicate", res.duplicate);
		jw_kstr(&w, "reason", res.reason);
		ret = res.state == INBOX_APPLIED ? 0 : 1;
	} else {
		jw_kint(&w, "status", ref.status);
		jw_kstr(&w, "code", ref.code);
		jw_kstr(&w, "message", ref.message);
	}
	jw_end(&w);
	buf_putc(&out, '\n');
	if (c->json)
		cli_outb(&out);
	else if (rc == TERR_OK)
		printf("%s: %s%s%s\n", e->id, inbox_state_str(res.state),
		    res.reason[0] != '\0' ? ": " : "", res.reason);
	else
		fprintf(stderr, "tally: refused (%d %s): %s\n", ref.status, ref.code, ref.message);
out:
	buf_release(&body);
	buf_release(&out);
	free(e);
	return ret;
}
