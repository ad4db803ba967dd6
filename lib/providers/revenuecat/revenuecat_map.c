/*
 * RevenueCat webhooks: what each event type means for tally, as aspects of
 * struct bev (the decisions are listed in revenuecat.h). Event types and
 * their fields: event-types-and-fields.mdx and event-flows.md
 * (RevenueCat/docs @bf39a9c).
 */
#include <stdio.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "base/tm.h"
#include "providers/revenuecat/revenuecat_ids.h"
#include "providers/revenuecat/revenuecat_map.h"

/* TEMPORARY_ENTITLEMENT_GRANT: "The expiration date ... is always at most 24 hours". */
#define TEMP_GRANT_MS ((int64_t)24 * 3600 * 1000)

static void
map_initial(struct rctx *x, const cJSON *ev)
{
	if (rc_promotional(x)) {
		rc_sub_fields(x, ev, SUB_ACTIVE, 0);
		rc_note(x, "promotional grant: entitlements without payment, no credits");
		return;
	}
	rc_sub_fields(x, ev, rc_trial(x) ? SUB_TRIALING : SUB_ACTIVE, 0);
	rc_pay_fields(x, ev, PAY_INITIAL);
}

static void
map_renewal(struct rctx *x, const cJSON *ev)
{
	/* Auto-renew as it was: a renewal after a late cancellation stays canceled. */
	rc_sub_fields(x, ev, rc_trial(x) ? SUB_TRIALING : SUB_ACTIVE, -1);
	rc_pay_fields(x, ev, PAY_RENEWAL);
}

static void
map_cancellation(struct rctx *x, const cJSON *ev)
{
	struct bev *e = x->e;
	char reason[32], txn[ID_MAX], currency[CURRENCY_MAX];

	jr_str(&x->r, ev, "cancel_reason", reason, sizeof(reason));
	if (strcmp(reason, "CUSTOMER_SUPPORT") == 0) {
		/* "Customer received a refund": the money is gone, so is what it paid for. */
		jr_str(&x->r, ev, "transaction_id", txn, sizeof(txn));
		if (txn[0] == '\0') {
			rc_note(x, "refund without transaction_id: nothing to revoke");
			return;
		}
		bev_key(&e->refund.keys, txn);
		e->refund.kind = REFUND_FULL;
		jr_str(&x->r, ev, "currency", currency, sizeof(currency));
		e->refund.amount = rc_money(x, ev, "price_in_purchased_currency", currency);
		if (e->refund.amount < 0)
			e->refund.amount = -e->refund.amount;
		e->aspects |= BEV_REFUND;
		return;
	}
	if (jget(ev, "expiration_at_ms") == NULL) {
		rc_note(x, "cancellation (%s) of a purchase that does not renew: nothing to do",
		    reason[0] != '\0' ? reason : "no reason");
		return;
	}
	if (strcmp(reason, "BILLING_ERROR") == 0) {
		/* Sent with BILLING_ISSUE (event-flows.md "Billing Issue Flow"): grace, not the end. */
		rc_sub_fields(x, ev, SUB_PAST_DUE, -1);
		return;
	}
	/* UNSUBSCRIBE, PRICE_INCREASE, DEVELOPER_INITIATED, UNKNOWN, new reasons: renewal off. */
	rc_sub_fields(x, ev, SUB_CANCELED, 1);
}

static void
map_uncancellation(struct rctx *x, const cJSON *ev)
{
	rc_sub_fields(x, ev, rc_trial(x) ? SUB_TRIALING : SUB_ACTIVE, 0);
}

static void
map_non_renewing(struct rctx *x, const cJSON *ev)
{
	struct bev *e = x->e;
	char txn[ID_MAX];

	if (jget(ev, "expiration_at_ms") == NULL && !rc_promotional(x)) {
		rc_pay_fields(x, ev, PAY_ONE_OFF);
		return;
	}
	/* A period that does not renew: its own subscription, keyed on its transaction. */
	rc_sub_fields(x, ev,
	    rc_promotional(x) && jget(ev, "expiration_at_ms") == NULL ? SUB_ACTIVE : SUB_CANCELED,
	    1);
	jr_str(&x->r, ev, "transaction_id", txn, sizeof(txn));
	if (txn[0] != '\0')
		text_copy(e->sub.id, sizeof(e->sub.id), txn);
	if (rc_promotional(x)) {
		e->sub.cancel_at_period_end = 0;
		rc_note(x, "promotional grant: entitlements without payment, no credits");
		return;
	}
	/* A pack with an expiration stays a pack: apply sees the product's kind. */
	rc_pay_fields(x, ev, PAY_INITIAL);
}

static void
map_expiration(struct rctx *x, const cJSON *ev)
{
	char reason[32];

	jr_str(&x->r, ev, "expiration_reason", reason, sizeof(reason));
	rc_sub_fields(x, ev, strcmp(reason, "SUBSCRIPTION_PAUSED") == 0 ? SUB_PAUSED : SUB_EXPIRED,
	    -1);
}

static void
map_billing_issue(struct rctx *x, const cJSON *ev)
{
	struct bev *e = x->e;

	rc_sub_fields(x, ev, SUB_PAST_DUE, -1);
	e->sub.grace_until = rc_ms(x, ev, "grace_period_expiration_at_ms");
	e->aspects |= BEV_NOTICE;
	text_copy(e->notice, sizeof(e->notice), "billing_issue");
}

static void
map_product_change(struct rctx *x, const cJSON *ev)
{
	char from[ID_MAX], to[ID_MAX];

	jr_str(&x->r, ev, "product_id", from, sizeof(from));
	jr_str(&x->r, ev, "new_product_id", to, sizeof(to));
	x->e->aspects |= BEV_LINKONLY;
	/* event-flows.md "Product Changes": immediate changes come with a RENEWAL or INITIAL_PURCHASE. */
	rc_note(x,
	    "product change %s -> %s noted: it takes effect with the RENEWAL or INITIAL_PURCHASE "
	    "that carries the new product",
	    from, to[0] != '\0' ? to : "(not said)");
}

static void
map_paused(struct rctx *x, const cJSON *ev)
{
	char when[TM_ISO_SIZE] = "-";
	int64_t resume = rc_ms(x, ev, "auto_resume_at_ms");

	if (resume != 0)
		tm_iso(resume, when);
	x->e->aspects |= BEV_LINKONLY;
	rc_note(x, "pause scheduled (auto resume %s): access continues until EXPIRATION", when);
}

static void
map_extended(struct rctx *x, const cJSON *ev)
{
	/* The period end moves; the state is what it was; no money, so no credits. */
	rc_sub_fields(x, ev, SUB_NONE, -1);
	if (x->e->sub.period_end == 0)
		jr_bad(&x->r, "SUBSCRIPTION_EXTENDED without expiration_at_ms");
}

static void
map_transfer(struct rctx *x, const cJSON *ev)
{
	struct bev *e = x->e;
	const char *to[RC_IDS_MAX], *from[RC_IDS_MAX];
	size_t nto, nfrom, i;

	nto = rc_id_array(x, ev, "transferred_to", to, RC_IDS_MAX);
	nfrom = rc_id_array(x, ev, "transferred_from", from, RC_IDS_MAX);
	if (x->r.bad)
		return;
	rc_users(x, to, nto);
	if (e->user[0] == '\0' && e->nlinks == 0) {
		rc_note(x, "transfer without a destination user: nothing to do");
		return;
	}
	for (i = 0; i < nfrom && e->transfer.nfrom < BEV_LINKS_MAX; i++) {
		if (from[i][0] == '\0' || strlen(from[i]) >= ID_MAX)
			continue;
		text_copy(e->transfer.from[e->transfer.nfrom].kind, KIND_MAX, RC_LINK_KIND);
		text_copy(e->transfer.from[e->transfer.nfrom].id, ID_MAX, from[i]);
		e->transfer.nfrom++;
	}
	if (e->transfer.nfrom == 0) {
		rc_note(x, "transfer without a source user: nothing to do");
		return;
	}
	e->transfer.packs = x->c->revenuecat.transfer_packs;
	e->aspects |= BEV_TRANSFER;
}

static void
map_temporary(struct rctx *x, const cJSON *ev)
{
	struct bev *e = x->e;
	char txn[ID_MAX];

	jr_str(&x->r, ev, "transaction_id", txn, sizeof(txn));
	if (txn[0] == '\0' || jget(ev, "product_id") == NULL) {
		rc_note(x,
		    "temporary entitlement grant without transaction_id or product_id: stored");
		return;
	}
	/* Ends by itself (no renewal); INITIAL_PURCHASE of the transaction makes it a purchase. */
	rc_sub_fields(x, ev, SUB_CANCELED, 1);
	text_copy(e->sub.id, sizeof(e->sub.id), txn);
	if (e->sub.period_start == 0)
		e->sub.period_start = e->at;
	if (e->sub.period_end == 0 || e->sub.period_end > e->at + TEMP_GRANT_MS)
		e->sub.period_end = e->at + TEMP_GRANT_MS;
	rc_note(x, "temporary entitlement: no payment, no credits");
}

static void
map_refund_reversed(struct rctx *x, const cJSON *ev)
{
	char txn[ID_MAX];

	jr_str(&x->r, ev, "transaction_id", txn, sizeof(txn));
	if (txn[0] == '\0') {
		rc_note(x, "refund reversal without transaction_id: nothing to reinstate");
		return;
	}
	bev_key(&x->e->reinstate, txn);
	x->e->aspects |= BEV_REINSTATE;
}

/*
 * Virtual currency adjustments are tally credits, whatever their currency
 * code: an app keeps one credit balance in tally. An event that adjusts
 * several currencies at once is not guessed at: stored with the reason.
 */
static void
map_virtual_currency(struct rctx *x, const cJSON *ev)
{
	struct bev *e = x->e;
	const cJSON *adj = jget(ev, "adjustments"), *a;
	char code[32] = "", c[32], vctx[ID_MAX], source[32];
	int64_t sum = 0, amount;

	if (adj != NULL && !cJSON_IsArray(adj)) {
		jr_bad(&x->r, "field adjustments: expected an array");
		return;
	}
	cJSON_ArrayForEach (a, adj) {
		if (!cJSON_IsObject(a) || jint(a, "amount", &amount) != 1 || amount > CREDITS_MAX ||
		    amount < -CREDITS_MAX) {
			jr_bad(&x->r, "field adjustments: expected objects with an integer amount");
			return;
		}
		jr_str(&x->r, jobj(a, "currency"), "code", c, sizeof(c));
		if (code[0] == '\0')
			text_copy(code, sizeof(code), c);
		else if (strcmp(code, c) != 0) {
			rc_note(x,
			    "adjustments in several virtual currencies (%s, %s): tally keeps one "
			    "credit balance; adjust by hand",
			    code, c);
			return;
		}
		sum += amount;
	}
	jr_str(&x->r, ev, "virtual_currency_transaction_id", vctx, sizeof(vctx));
	jr_str(&x->r, ev, "source", source, sizeof(source));
	if (sum == 0) {
		rc_note(x, "virtual currency transaction %s adjusts nothing", vctx);
		return;
	}
	e->aspects |= BEV_CREDIT;
	e->credit.op = sum > 0 ? CREDIT_GRANT : CREDIT_REVOKE;
	e->credit.amount = sum > 0 ? sum : -sum;
	e->credit.source = GRANT_PACK;
	/* A refund takes back what is left of it, never more than the balance. */
	e->credit.partial_ok = 1;
	snprintf(e->reason, sizeof(e->reason), "RevenueCat virtual currency %s %s%lld (%s %s)",
	    code[0] != '\0' ? code : "?", sum > 0 ? "+" : "", (long long)sum,
	    source[0] != '\0' ? source : "?", vctx);
}

static void
map_alias(struct rctx *x, const cJSON *ev)
{
	(void)ev;
	x->e->aspects |= BEV_LINKONLY;
}

static void
map_stored(struct rctx *x, const cJSON *ev)
{
	(void)ev;
	if (strcmp(x->e->type, "TEST") == 0)
		rc_note(x, "RevenueCat test event: nothing to apply");
	else if (strcmp(x->e->type, "INVOICE_ISSUANCE") == 0)
		rc_note(x, "invoice issued, not paid (Web Billing): the purchase event grants");
	else
		rc_note(x, "event type %s is not acted on: stored", x->e->type);
}

static const struct rc_type rc_types[] = {
	{ "INITIAL_PURCHASE", map_initial, 1 },
	{ "RENEWAL", map_renewal, 1 },
	{ "CANCELLATION", map_cancellation, 1 },
	{ "UNCANCELLATION", map_uncancellation, 1 },
	{ "NON_RENEWING_PURCHASE", map_non_renewing, 1 },
	{ "EXPIRATION", map_expiration, 1 },
	{ "BILLING_ISSUE", map_billing_issue, 1 },
	{ "PRODUCT_CHANGE", map_product_change, 1 },
	{ "SUBSCRIPTION_PAUSED", map_paused, 1 },
	{ "SUBSCRIPTION_EXTENDED", map_extended, 1 },
	{ "TRANSFER", map_transfer, 0 },
	{ "TEMPORARY_ENTITLEMENT_GRANT", map_temporary, 1 },
	{ "REFUND_REVERSED", map_refund_reversed, 1 },
	{ "VIRTUAL_CURRENCY_TRANSACTION", map_virtual_currency, 1 },
	{ "SUBSCRIBER_ALIAS", map_alias, 1 },
	{ NULL, map_stored, 0 },
};

const struct rc_type *
rc_type_of(const char *type)
{
	const struct rc_type *t;

	for (t = rc_types; t->type != NULL && strcmp(t->type, type) != 0; t++)
		;
	return t;
}
