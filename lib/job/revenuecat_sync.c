/*
 * `tally revenuecat sync`: RevenueCat's view of one customer (GET
 * /v1/subscribers) against tally's, and the events that bring tally to it.
 *
 * Each difference becomes a synthetic event in RevenueCat's own webhook shape
 * (so it is stored, replayed and audited like a delivered one) with a
 * deterministic id "sync:<user>:<store transaction>:<what>[:<ms>]": a second
 * sync finds it in the inbox and applies nothing twice. Its time is
 * RevenueCat's request_date_ms, so a webhook generated before the sync is
 * older and never rolls back what the sync set (invariant 3). Payments are
 * keyed on the store transaction like the webhooks', so a renewal that both
 * a webhook and a sync report grants once (invariant 2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/text.h"
#include "core/apply.h"
#include "core/sub.h"
#include "crypto/crypto.h"
#include "job/revenuecat_sync.h"
#include "providers/revenuecat/revenuecat.h"
#include "store/store_rows.h"

#define SYNC_SUBS_MAX 64
#define SYNC_ENTS_MAX 64

struct sctx {
	struct store *s;
	const struct cfg *c;
	const struct rc_subscriber *rc;
	const char *asked; /* the app user id RevenueCat was asked about */
	const char *operator_;
	struct rc_sync *out;
	struct sub_row subs[SYNC_SUBS_MAX]; /* the user's subscriptions in tally */
	size_t nsubs;
};

/* What a synthetic event says besides its type. */
struct synth {
	const char *type;
	const char *what; /* the id's suffix: "purchase", "renewal", "expired" ... */
	int64_t what_ms;  /* appended to the id when not 0 */
	const char *product;
	const char *store;
	int sandbox;
	const char *period_type; /* "TRIAL", "NORMAL" */
	int64_t purchased, expires, grace;
	const char *txn, *original;
	double price;
	const char *currency;
	int has_price;
	const char *cancel_reason;
};

static const char *
state_name(enum sub_state st)
{
	return st == SUB_NONE ? "missing" : sub_state_str(st);
}

/*
 * The id of a synthetic event: "sync", the user, the transaction, what and
 * its time as parts of one text_key, so that no user's event is another's
 * (user "a:b" with transaction "c", user "a" with transaction "b:c"); past
 * size, "sync:" and a digest of that key (one part after "sync": never a key
 * of parts). TERR_INTERNAL if the key does not fit full, which its bounded
 * parts (user, transaction) cannot make happen.
 */
static enum terr
event_id(const struct sctx *x, const struct synth *y, char *out, size_t size)
{
	unsigned char d[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1], num[24], full[3 * (USER_ID_MAX + 2 * ID_MAX) + 64];

	snprintf(num, sizeof(num), "%lld", (long long)y->what_ms);
	if (text_key(full, sizeof(full), "sync", x->out->user, y->txn, y->what,
		y->what_ms != 0 ? num : NULL, NULL) != TERR_OK)
		return TERR_INTERNAL;
	if (strlen(full) < size && text_id_valid(full, size - 1))
		return text_copy(out, size, full);
	crypto_sha256(full, strlen(full), d);
	text_hex(d, 16, hex);
	snprintf(out, size, "sync:%s", hex);
	return TERR_OK;
}

static void
kint_or_null(struct jw *w, const char *k, int64_t v)
{
	jw_key(w, k);
	if (v != 0)
		jw_int(w, v);
	else
		jw_null(w);
}

/* Plan one event: the change row and its body in RevenueCat's webhook shape. */
static enum terr
plan(struct sctx *x, const char *what, const char *product, const char *txn, const char *tally,
    const char *rcstate, const struct synth *y, const char *why)
{
	struct rc_change *ch;
	struct inbox_row row;
	struct buf b;
	struct jw w;
	char num[48];
	enum terr rc;

	if (x->out->n == RC_CHANGES_MAX) {
		x->out->dropped++;
		return TERR_OK;
	}
	ch = &x->out->changes[x->out->n];
	memset(ch, 0, sizeof(*ch));
	text_copy(ch->what, sizeof(ch->what), what);
	text_copy(ch->product, sizeof(ch->product), product);
	text_copy(ch->txn, sizeof(ch->txn), txn);
	text_copy(ch->tally, sizeof(ch->tally), tally);
	text_copy(ch->revenuecat, sizeof(ch->revenuecat), rcstate);
	snprintf(ch->note, sizeof(ch->note), "%s", why);
	x->out->n++;
	if (y == NULL)
		return TERR_OK; /* reported only */
	text_copy(ch->event_type, sizeof(ch->event_type), y->type);
	if ((rc = event_id(x, y, ch->event_id, sizeof(ch->event_id))) != TERR_OK)
		return rc;
	/* Already stored by an earlier sync: nothing is applied twice. */
	rc = store_inbox_find(x->s, "revenuecat", ch->event_id, &row);
	if (rc == TERR_OK) {
		ch->done = ch->duplicate = 1;
		ch->state = row.state;
		snprintf(ch->reason, sizeof(ch->reason), "already stored as event #%lld: %.400s",
		    (long long)row.id, row.reason);
	} else if (rc != TERR_NOTFOUND)
		return rc;

	buf_init_fixed(&b, ch->body, sizeof(ch->body));
	jw_init(&w, &b);
	jw_obj(&w);
	jw_kstr(&w, "api_version", "1.0");
	jw_key(&w, "event");
	jw_obj(&w);
	jw_kstr(&w, "id", ch->event_id);
	jw_kstr(&w, "type", y->type);
	jw_kint(&w, "event_timestamp_ms", x->out->as_of);
	jw_kstr(&w, "app_user_id", x->asked);
	jw_kstr(&w, "original_app_user_id",
	    x->rc->original_app_user_id[0] != '\0' ? x->rc->original_app_user_id : x->asked);
	jw_key(&w, "aliases");
	jw_arr(&w);
	jw_str(&w, x->asked);
	if (x->rc->original_app_user_id[0] != '\0')
		jw_str(&w, x->rc->original_app_user_id);
	jw_aend(&w);
	jw_kstr(&w, "product_id", y->product);
	jw_kstr(&w, "period_type", y->period_type != NULL ? y->period_type : "NORMAL");
	kint_or_null(&w, "purchased_at_ms", y->purchased);
	kint_or_null(&w, "expiration_at_ms", y->expires);
	if (y->grace != 0)
		jw_kint(&w, "grace_period_expiration_at_ms", y->grace);
	jw_kstr(&w, "store", y->store);
	jw_kstr(&w, "environment", y->sandbox ? "SANDBOX" : "PRODUCTION");
	jw_kstr(&w, "transaction_id", y->txn);
	jw_kstr(&w, "original_transaction_id", y->original != NULL ? y->original : y->txn);
	if (y->has_price) {
		snprintf(num, sizeof(num), "%.17g", y->price);
		jw_key(&w, "price_in_purchased_currency");
		jw_raw(&w, num);
		jw_kstr(&w, "currency", y->currency);
	}
	if (y->cancel_reason != NULL)
		jw_kstr(&w, "cancel_reason", y->cancel_reason);
	jw_key(&w, "tally_sync");
	jw_obj(&w);
	jw_kstr(&w, "operator", x->operator_);
	jw_end(&w);
	jw_end(&w);
	jw_end(&w);
	if (b.err != TERR_OK) {
		/* Ids and products are bounded well under the body: only a bug gets here. */
		ch->event_type[0] = '\0';
		snprintf(ch->note, sizeof(ch->note), "the event does not fit in %d bytes",
		    RC_BODY_MAX);
		return TERR_OK;
	}
	return TERR_OK;
}

/*
 * RevenueCat's state of a subscription at its request time: refunded,
 * expired (unless still in grace), past_due (billing issue), canceled
 * (unsubscribed), trialing or active.
 */
static enum sub_state
rc_state(const struct rc_subscription *r, int64_t now)
{
	if (r->refunded_at != 0)
		return SUB_REFUNDED;
	if (r->expires != 0 && r->expires <= now)
		return r->grace_expires > now ? SUB_PAST_DUE : SUB_EXPIRED;
	if (r->billing_issue_at != 0)
		return SUB_PAST_DUE;
	if (r->unsubscribe_at != 0)
		return SUB_CANCELED;
	return strcmp(r->period_type, "trial") == 0 ? SUB_TRIALING : SUB_ACTIVE;
}

/* A Google Play renewal's order id is "<original>..<n>": its subscription is the original. */
static void
original_of(const struct rc_subscription *r, char *out, size_t size)
{
	const char *dots = strstr(r->txn, "..");

	if (strcmp(r->store, "PLAY_STORE") == 0 && dots != NULL && dots > r->txn)
		text_copyn(out, size, r->txn, (size_t)(dots - r->txn));
	else
		text_copy(out, size, r->txn);
}

/*
 * tally's subscription for r: the one its latest transaction paid for, else
 * one of the user's RevenueCat subscriptions of the same catalog product
 * (access first, then the latest). NULL when tally has none.
 */
static enum terr
find_sub(struct sctx *x, const struct rc_subscription *r, struct sub_row *out, int *found)
{
	const struct product *p = revenuecat_product(x->c, r->store, r->product);
	const struct sub_row *best = NULL;
	struct pay_row pr;
	size_t i;
	enum terr rc;

	*found = 0;
	rc =
	    r->txn[0] != '\0' ? store_pay_find_key(x->s, "revenuecat", r->txn, &pr) : TERR_NOTFOUND;
	if (rc == TERR_OK && pr.sub_id != 0 &&
	    (rc = store_sub_get(x->s, pr.sub_id, out)) == TERR_OK &&
	    strcmp(out->user, x->out->user) == 0) {
		*found = 1;
		return TERR_OK;
	}
	if (rc != TERR_OK && rc != TERR_NOTFOUND)
		return rc;
	for (i = 0; p != NULL && i < x->nsubs; i++) {
		const struct sub_row *t = &x->subs[i];
		if (strcmp(t->provider, "revenuecat") != 0 || strcmp(t->product, p->id) != 0 ||
		    t->live == r->sandbox)
			continue;
		if (best == NULL ||
		    sub_state_grants_access(t->state) > sub_state_grants_access(best->state) ||
		    (sub_state_grants_access(t->state) == sub_state_grants_access(best->state) &&
			t->state_at > best->state_at))
			best = t;
	}
	if (best != NULL) {
		*out = *best;
		*found = 1;
	}
	return TERR_OK;
}

static enum terr
sync_sub(struct sctx *x, const struct rc_subscription *r)
{
	const struct product *p = revenuecat_product(x->c, r->store, r->product);
	enum sub_state rs = rc_state(r, x->out->as_of), ts;
	struct synth y;
	struct sub_row t;
	struct pay_row pr;
	char original[ID_MAX], why[160];
	const char *rsn = state_name(rs), *tsn;
	int found, renew;
	enum terr rc;

	if (r->sandbox && !x->c->revenuecat.sandbox)
		return TERR_OK; /* sandbox purchases are not tally's while revenuecat.sandbox is off */
	if ((rc = find_sub(x, r, &t, &found)) != TERR_OK)
		return rc;
	ts = found ? t.state : SUB_NONE;
	tsn = state_name(ts);
	original_of(r, original, sizeof(original));
	memset(&y, 0, sizeof(y));
	y.product = r->product;
	y.store = r->store;
	y.sandbox = r->sandbox;
	y.period_type = strcmp(r->period_type, "trial") == 0 ? "TRIAL" : "NORMAL";
	y.purchased = r->purchased;
	y.expires = r->expires;
	y.txn = r->txn;
	y.original = found ? t.ext_id : original;
	y.price = r->price;
	y.currency = r->currency;
	y.has_price = r->currency[0] != '\0';
	if (r->txn[0] == '\0')
		return plan(x, "subscription", r->product, r->txn, tsn, rsn, NULL,
		    "no store transaction id: not synced");

	if (rs == SUB_REFUNDED || rs == SUB_EXPIRED) {
		if (!found)
			return plan(x, "subscription", r->product, r->txn, tsn, rsn, NULL,
			    "ended at RevenueCat and unknown to tally: nothing to apply");
		if (!sub_state_grants_access(ts))
			return TERR_OK;
		rc = store_pay_find_key(x->s, "revenuecat", r->txn, &pr);
		if (rc != TERR_OK && rc != TERR_NOTFOUND)
			return rc;
		if (rs == SUB_REFUNDED && rc == TERR_OK && pr.state == PAY_PAID) {
			y.type = "CANCELLATION";
			y.what = "refunded";
			y.cancel_reason = "CUSTOMER_SUPPORT";
			return plan(x, "subscription", r->product, r->txn, tsn, rsn, &y,
			    "refunded at RevenueCat");
		}
		y.type = "EXPIRATION";
		y.what = "expired";
		return plan(x, "subscription", r->product, r->txn, tsn, rsn, &y,
		    rs == SUB_REFUNDED
			? "refunded at RevenueCat (a transaction tally does not know)"
			: "expired at RevenueCat");
	}
	if (!found) {
		y.type = "INITIAL_PURCHASE";
		y.what = "purchase";
		if ((rc = plan(x, "subscription", r->product, r->txn, tsn, rsn, &y,
			 "active at RevenueCat, unknown to tally")) != TERR_OK)
			return rc;
	} else {
		renew = r->expires > t.period_end || !sub_state_grants_access(ts) ||
		    ts == SUB_PAST_DUE || (p != NULL && strcmp(p->id, t.product) != 0);
		if (renew && !(rs == SUB_PAST_DUE && ts == SUB_PAST_DUE)) {
			snprintf(why, sizeof(why), "RevenueCat's period ends later or differs%s",
			    p != NULL && strcmp(p->id, t.product) != 0 ? " (another product)" : "");
			y.type = "RENEWAL";
			y.what = "renewal";
			if ((rc = plan(x, "subscription", r->product, r->txn, tsn, rsn, &y, why)) !=
			    TERR_OK)
				return rc;
		}
	}
	y.has_price = 0;
	if (rs == SUB_CANCELED && ts != SUB_CANCELED) {
		y.type = "CANCELLATION";
		y.what = "canceled";
		y.what_ms = r->unsubscribe_at;
		y.cancel_reason = "UNSUBSCRIBE";
		return plan(x, "subscription", r->product, r->txn, tsn, rsn, &y,
		    "auto-renew off at RevenueCat");
	}
	if (rs == SUB_PAST_DUE && ts != SUB_PAST_DUE) {
		y.type = "BILLING_ISSUE";
		y.what = "billing_issue";
		y.what_ms = r->billing_issue_at != 0 ? r->billing_issue_at : r->expires;
		y.grace = r->grace_expires;
		return plan(x, "subscription", r->product, r->txn, tsn, rsn, &y,
		    "billing issue at RevenueCat");
	}
	if ((rs == SUB_ACTIVE || rs == SUB_TRIALING) && found &&
	    (ts == SUB_CANCELED || t.cancel_at_period_end)) {
		y.type = "UNCANCELLATION";
		y.what = "uncanceled";
		y.what_ms = t.state_at;
		return plan(x, "subscription", r->product, r->txn, tsn, rsn, &y,
		    "auto-renew on again at RevenueCat");
	}
	return TERR_OK;
}

static enum terr
sync_purchase(struct sctx *x, const struct rc_purchase *r)
{
	struct pay_row pr;
	struct synth y;
	enum terr rc;

	if (r->sandbox && !x->c->revenuecat.sandbox)
		return TERR_OK;
	if ((rc = store_pay_find_key(x->s, "revenuecat", r->txn, &pr)) != TERR_NOTFOUND)
		return rc; /* known (TERR_OK), or a storage error */
	memset(&y, 0, sizeof(y));
	y.type = "NON_RENEWING_PURCHASE";
	y.what = "purchase";
	y.product = r->product;
	y.store = r->store;
	y.sandbox = r->sandbox;
	y.purchased = r->purchased;
	y.txn = r->txn;
	y.price = r->price;
	y.currency = r->currency;
	y.has_price = r->currency[0] != '\0';
	return plan(x, "purchase", r->product, r->txn, "missing", "purchased", &y,
	    "bought at RevenueCat, not recorded in tally");
}

/*
 * Entitlements active at RevenueCat that tally's user lacks, when tally's
 * catalog knows the name and no planned event is about their product:
 * reported only (tally's entitlements follow its own products).
 */
static enum terr
sync_entitlements(struct sctx *x)
{
	struct ent_row *ents = NULL;
	size_t n = 0, i, j, k;
	int known, have, planned;
	enum terr rc;

	if ((ents = calloc(SYNC_ENTS_MAX, sizeof(*ents))) == NULL)
		return TERR_NOMEM;
	if ((rc = store_ents_of(x->s, x->out->user, ents, SYNC_ENTS_MAX, &n)) != TERR_OK)
		goto out;
	for (i = 0; i < x->rc->nents; i++) {
		const struct rc_entitlement *e = &x->rc->ents[i];
		if (e->expires != 0 && e->expires <= x->out->as_of &&
		    e->grace_expires <= x->out->as_of)
			continue;
		for (j = 0, known = 0; j < x->c->nproducts && !known; j++)
			for (k = 0; k < x->c->products[j].nents; k++)
				known |= strcmp(x->c->products[j].ents[k], e->id) == 0;
		for (j = 0, have = 0; j < n; j++)
			have |= strcmp(ents[j].name, e->id) == 0 && ents[j].active &&
			    (ents[j].ends_at == 0 || ents[j].ends_at > x->out->as_of);
		for (j = 0, planned = 0; j < x->out->n; j++)
			planned |= strcmp(x->out->changes[j].product, e->product) == 0;
		if (!known || have || planned)
			continue;
		if (x->out->n == RC_CHANGES_MAX) {
			x->out->dropped++;
			continue;
		}
		memset(&x->out->changes[x->out->n], 0, sizeof(x->out->changes[0]));
		text_copy(x->out->changes[x->out->n].what, sizeof(x->out->changes[0].what),
		    "entitlement");
		text_copy(x->out->changes[x->out->n].product, ID_MAX, e->id);
		text_copy(x->out->changes[x->out->n].tally, 24, "none");
		text_copy(x->out->changes[x->out->n].revenuecat, 24, "active");
		snprintf(x->out->changes[x->out->n].note, sizeof(x->out->changes[0].note),
		    "granted at RevenueCat by %.64s; no tally product explains it: reported only",
		    e->product);
		x->out->n++;
	}
out:
	free(ents);
	return rc;
}

enum terr
revenuecat_sync_plan(struct store *s, const struct cfg *c, const char *user,
    const struct rc_subscriber *rc, const char *operator_, struct rc_sync *out)
{
	struct sctx *x;
	char merged[USER_ID_MAX + 1] = "";
	size_t i;
	enum terr err;

	memset(out, 0, sizeof(*out));
	if (text_copy(out->user, sizeof(out->user), user) != TERR_OK)
		return TERR_TOOBIG;
	if ((x = calloc(1, sizeof(*x))) == NULL)
		return TERR_NOMEM;
	x->s = s;
	x->c = c;
	x->rc = rc;
	x->asked = user;
	x->operator_ = operator_;
	x->out = out;
	out->as_of = rc->request_ms;
	/* A user merged into another is that other one now. */
	err = store_user_get(s, user, NULL, merged);
	if (err != TERR_OK && err != TERR_NOTFOUND)
		goto out;
	if (merged[0] != '\0')
		text_copy(out->user, sizeof(out->user), merged);
	if ((err = store_subs_of(s, out->user, x->subs, SYNC_SUBS_MAX, &x->nsubs)) != TERR_OK)
		goto out;
	for (i = 0; i < rc->nsubs; i++)
		if ((err = sync_sub(x, &rc->subs[i])) != TERR_OK)
			goto out;
	for (i = 0; i < rc->npurchases; i++)
		if ((err = sync_purchase(x, &rc->purchases[i])) != TERR_OK)
			goto out;
	err = sync_entitlements(x);
out:
	free(x);
	return err;
}

enum terr
revenuecat_sync_apply(struct store *s, const struct cfg *c, struct rc_sync *plan, int64_t now)
{
	struct bev *ev = NULL;
	struct apply_result *res = NULL;
	size_t idx[RC_CHANGES_MAX], n = 0, i;
	char why[256];
	enum terr rc = TERR_OK;

	if ((ev = calloc(RC_CHANGES_MAX, sizeof(*ev))) == NULL ||
	    (res = calloc(RC_CHANGES_MAX, sizeof(*res))) == NULL) {
		rc = TERR_NOMEM;
		goto out;
	}
	for (i = 0; i < plan->n; i++) {
		struct rc_change *ch = &plan->changes[i];
		if (ch->event_type[0] == '\0' || ch->done)
			continue;
		if (revenuecat_parse(c, ch->body, strlen(ch->body), &ev[n], why, sizeof(why)) !=
		    TERR_OK) {
			/* Our own body: only a bug gets here; say so and apply the rest. */
			ch->done = 1;
			ch->state = INBOX_FAILED;
			snprintf(ch->reason, sizeof(ch->reason), "cannot parse the sync event: %s",
			    why);
			continue;
		}
		idx[n++] = i;
	}
	if (n > 0 && (rc = apply_batch(s, c, ev, n, res, now)) != TERR_OK)
		goto out;
	for (i = 0; i < n; i++) {
		struct rc_change *ch = &plan->changes[idx[i]];
		ch->done = 1;
		ch->duplicate = res[i].duplicate;
		ch->state = res[i].state;
		text_copy(ch->reason, sizeof(ch->reason), res[i].reason);
	}
out:
	free(ev);
	free(res);
	return rc;
}
