/*
 * apply: balance alerts. When an applied event changes a user's balance,
 * the balance live at the event's time is placed against the low threshold
 * (config balance_alerts.low, or products.<id>.balance_low) and zero:
 *
 *   ok     at or above the low threshold (or above zero when there is none)
 *   low    below it, above zero
 *   empty  zero
 *
 * The state is kept per user in balance_alerts and read back at the next
 * change; an event that moves it down sends one outbox row of kind webhook
 * to the app (deliver.webhook_url, signed as Standard Webhooks says):
 *
 *   ok -> low            balance.low
 *   ok or low -> empty   balance.empty (one change from ok to zero sends
 *                        only this one: the balance is out, not low)
 *
 * Every other move (up, or low -> low) sends nothing, so an alert goes
 * once per crossing and again only after the balance went back to the
 * threshold (or above zero, for empty). All of it happens in the event's
 * own transaction, under the writers' lock every write transaction takes
 * (BEGIN IMMEDIATE): two concurrent spends crossing one threshold are two
 * transactions one after the other, and the second reads the state the
 * first wrote. A user without a row yet is placed as the balance stood just
 * before the event (its live balance less what the event changed), so the
 * first change of a user tally already held compares with what was.
 *
 * The low threshold of a user is, in credits:
 *   - the largest products.<id>.balance_low among the products of the
 *     user's subscriptions that give access now, if any of them has one;
 *   - else balance_alerts.low (none: no low alert, only empty).
 * A percentage is of the user's allowance for the period, whichever key it
 * comes from: the credits per period of every subscription giving access
 * now, summed (trial_credits for one in its trial), or, with none, the free
 * tier's monthly_credits when the user receives them; 0 (packs and
 * promotions only) gives no low threshold.
 *
 * Payload ({type, timestamp, data}, Standard Webhooks' convention):
 *   {"type":"balance.low","timestamp":"...","data":{"user_id":"alice",
 *    "balance":80,"threshold":100,"percent":10,"allowance":1000,
 *    "set_by":"products.pro_monthly.balance_low","inbox_id":42,
 *    "event":{"provider":"app","id":"spend:alice:k1","type":"spend"}}}
 * Dedup key: crypto_key("balance.low" | "balance.empty", user, provider,
 * event id): one per crossing, the same when `tally rebuild` replays it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "base/log.h"
#include "base/text.h"
#include "core/apply_balance.h"
#include "core/sub.h"
#include "crypto/crypto.h"
#include "store/store_credits.h"
#include "store/store_orders.h"
#include "store/store_rows.h"

/* Subscriptions read for the allowance: the user's newest. */
#define BALANCE_SUBS_MAX 32

/* A user's low threshold and what set it. */
struct level {
	int64_t threshold; /* credits; 0: none */
	int64_t percent;   /* the rule's percentage; 0 when it is in credits */
	int64_t allowance; /* the period's allowance; -1 when not needed */
	char set_by[CFG_NAME_MAX + 32];
};

static int
is_set(const struct cfg_threshold *t)
{
	return t->credits > 0 || t->percent > 0;
}

static int64_t
resolve(const struct cfg_threshold *t, int64_t allowance)
{
	return t->credits > 0 ? t->credits : allowance * t->percent / 100;
}

/* The allowance for the period and the largest product threshold among subs giving access. */
static enum terr
by_plan(struct actx *a, const char *user, struct level *lv)
{
	const struct cfg_balance_alerts *ba = &a->c->balance_alerts;
	const struct product *p, *own[BALANCE_SUBS_MAX];
	struct sub_row *subs = NULL;
	struct user_row u;
	size_t n = 0, nown = 0, i;
	int64_t t;
	int access = 0;
	enum terr rc;

	if ((subs = calloc(BALANCE_SUBS_MAX, sizeof(*subs))) == NULL)
		return TERR_NOMEM;
	if ((rc = store_subs_of(a->s, user, subs, BALANCE_SUBS_MAX, &n)) != TERR_OK)
		goto out;
	lv->allowance = 0;
	for (i = 0; i < n; i++) {
		if (!sub_has_access(&subs[i], &a->c->policy, a->now) ||
		    (p = cfg_product(a->c, subs[i].product)) == NULL)
			continue;
		access = 1;
		lv->allowance += subs[i].state == SUB_TRIALING ? p->trial_credits : p->credits;
		if (is_set(&p->balance_low))
			own[nown++] = p;
	}
	if (!access && a->c->free_tier.enabled && a->c->free_tier.monthly_credits > 0) {
		if ((rc = store_user_row(a->s, user, &u)) != TERR_OK)
			goto out;
		if (u.free_next_at != 0)
			lv->allowance = a->c->free_tier.monthly_credits;
	}
	for (i = 0; i < nown; i++) {
		t = resolve(&own[i]->balance_low, lv->allowance);
		if (i == 0 || t > lv->threshold) {
			lv->threshold = t;
			lv->percent = own[i]->balance_low.percent;
			snprintf(lv->set_by, sizeof(lv->set_by), "products.%s.balance_low",
			    own[i]->id);
		}
	}
	if (nown == 0 && is_set(&ba->low)) {
		lv->threshold = resolve(&ba->low, lv->allowance);
		lv->percent = ba->low.percent;
		text_copy(lv->set_by, sizeof(lv->set_by), "balance_alerts.low");
	}
	rc = TERR_OK;
out:
	free(subs);
	return rc;
}

static enum terr
level_of(struct actx *a, const char *user, struct level *lv)
{
	const struct cfg_balance_alerts *ba = &a->c->balance_alerts;

	memset(lv, 0, sizeof(*lv));
	lv->allowance = -1;
	if (ba->by_plan)
		return by_plan(a, user, lv);
	if (is_set(&ba->low)) {
		lv->threshold = ba->low.credits;
		text_copy(lv->set_by, sizeof(lv->set_by), "balance_alerts.low");
	}
	return TERR_OK;
}

static enum balance_state
place(int64_t balance, int64_t threshold)
{
	if (balance <= 0)
		return BALANCE_EMPTY;
	return balance < threshold ? BALANCE_LOW : BALANCE_OK;
}

static void
payload(struct actx *a, const struct outcome *o, const struct bev *e, const char *topic,
    const char *user, int64_t balance, const struct level *lv, struct buf *b)
{
	struct jw w;

	jw_init(&w, b);
	jw_obj(&w);
	jw_kstr(&w, "type", topic);
	jw_ktime(&w, "timestamp", a->now);
	jw_key(&w, "data");
	jw_obj(&w);
	jw_kstr(&w, "user_id", user);
	jw_kint(&w, "balance", balance);
	if (strcmp(topic, "balance.low") == 0) {
		jw_kint(&w, "threshold", lv->threshold);
		jw_key(&w, "percent");
		lv->percent > 0 ? jw_int(&w, lv->percent) : jw_null(&w);
		jw_key(&w, "allowance");
		lv->allowance >= 0 ? jw_int(&w, lv->allowance) : jw_null(&w);
		jw_kstr(&w, "set_by", lv->set_by);
	}
	jw_kint(&w, "inbox_id", o->op.inbox_id);
	jw_key(&w, "event");
	jw_obj(&w);
	jw_kstr(&w, "provider", e->provider);
	jw_kstr(&w, "id", e->id);
	jw_kstr(&w, "type", e->type);
	jw_end(&w);
	jw_end(&w);
	jw_end(&w);
}

static enum terr
queue_alert(struct actx *a, const struct outcome *o, const struct bev *e, const char *topic,
    const char *user, int64_t balance, const struct level *lv)
{
	char storage[2048], dedup[2 * ID_MAX];
	struct buf b;
	enum terr rc;

	/* A key of its parts; past its bound, the first part and a digest of the whole. */
	if ((rc = crypto_key(dedup, sizeof(dedup), topic, user, e->provider, e->id, NULL)) !=
	    TERR_OK)
		return rc;
	buf_init_fixed(&b, storage, sizeof(storage));
	payload(a, o, e, topic, user, balance, lv, &b);
	return ap_outbox(a, OUTBOX_WEBHOOK, topic, user, dedup, &b);
}

/* One user whose balance changed by live_delta (live at the event's time). */
static enum terr
check_user(struct actx *a, const struct outcome *o, const struct bev *e, const char *user,
    int64_t live_delta)
{
	struct balance_alert_row r;
	struct level lv;
	char merged[USER_ID_MAX + 1] = "";
	enum balance_state before, now;
	int64_t balance;
	enum terr rc;

	/* A user merged into another stands for it now: the credits moved, nobody ran out. */
	if ((rc = store_user_get(a->s, user, NULL, merged)) != TERR_OK || merged[0] != '\0')
		return rc == TERR_NOTFOUND ? TERR_OK : rc;
	if ((rc = store_balance_live(a->s, user, a->now, &balance)) != TERR_OK ||
	    (rc = level_of(a, user, &lv)) != TERR_OK)
		return rc;
	now = place(balance, lv.threshold);
	rc = store_balance_alert_get(a->s, user, &r);
	if (rc == TERR_OK)
		before = r.state;
	else if (rc == TERR_NOTFOUND)
		before = place(balance - live_delta, lv.threshold);
	else
		return rc;
	if (rc == TERR_OK && before == now)
		return TERR_OK;
	if (now == BALANCE_EMPTY && before != BALANCE_EMPTY)
		rc = queue_alert(a, o, e, "balance.empty", user, balance, &lv);
	else if (now == BALANCE_LOW && before == BALANCE_OK)
		rc = queue_alert(a, o, e, "balance.low", user, balance, &lv);
	else
		rc = TERR_OK;
	if (rc != TERR_OK)
		return rc;
	memset(&r, 0, sizeof(r));
	text_copy(r.user, sizeof(r.user), user);
	r.state = now;
	r.balance = balance;
	r.threshold = lv.threshold;
	r.inbox_id = o->op.inbox_id;
	r.changed_at = a->now;
	return store_balance_alert_set(a->s, &r);
}

enum terr
ap_balance_alerts(struct actx *a, struct outcome *o, const struct bev *e)
{
	size_t i;
	enum terr rc;

	if (!a->c->balance_alerts.enabled)
		return TERR_OK;
	if (o->touched.overflow) {
		/* Those left out are placed at their next change. */
		struct logline l;
		log_begin(&l, LOG_WARN,
		    "balance alerts: more balances changed than one event checks");
		log_int(&l, "inbox_id", o->op.inbox_id);
		log_int(&l, "checked", LEDGER_TOUCHED_MAX);
		log_end(&l);
	}
	for (i = 0; i < o->touched.n; i++)
		if ((rc = check_user(a, o, e, o->touched.u[i].user, o->touched.u[i].live_delta)) !=
		    TERR_OK)
			return rc;
	return TERR_OK;
}
