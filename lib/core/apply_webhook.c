/*
 * apply: the app's outbound webhook. When an applied event changed a user's
 * entitlements, subscriptions or balance (outcome.changed), one outbox row of
 * kind webhook and topic "user.updated" is written in the event's own
 * transaction; the deliver job sends it, signed as Standard Webhooks says.
 * Only while deliver.webhook_url is configured: with no receiver, nothing is
 * queued (and the write path pays nothing).
 *
 * The payload follows Standard Webhooks' convention {type, timestamp, data}
 * and carries the user's state after the change, so the app can update from
 * the webhook alone, whatever order retries arrive in (compare timestamps):
 *
 *   {"type":"user.updated","timestamp":"2026-11-22T08:12:45Z",
 *    "data":{"user_id":"alice","inbox_id":42,
 *            "event":{"provider":"stripe","id":"evt_...","type":"invoice.paid"},
 *            "entitlements":[{"name":"pro","ends_at":"2026-12-22T08:12:45Z"}],
 *            "balance":1000}}
 *
 * Dedup key "webhook:inbox:<inbox id>": one per event, however often it is
 * replayed; the deliver job derives the webhook-id from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/json.h"
#include "core/apply_webhook.h"
#include "store/store_credits.h"
#include "store/store_rows.h"

/* Entitlement rows read for one user (active ones are a handful; the rest is history). */
#define WEBHOOK_ENTS_MAX 128

/* The document, listing the active ones of ents[0..n). */
static void
payload(struct actx *a, const struct outcome *o, const struct bev *e, const struct ent_row *ents,
    size_t n, int64_t balance, struct buf *b)
{
	struct jw w;
	int64_t end;
	size_t i, k;

	jw_init(&w, b);
	jw_obj(&w);
	jw_kstr(&w, "type", "user.updated");
	jw_ktime(&w, "timestamp", a->now);
	jw_key(&w, "data");
	jw_obj(&w);
	jw_kstr(&w, "user_id", o->user);
	jw_kint(&w, "inbox_id", o->op.inbox_id);
	jw_key(&w, "event");
	jw_obj(&w);
	jw_kstr(&w, "provider", e->provider);
	jw_kstr(&w, "id", e->id);
	jw_kstr(&w, "type", e->type);
	jw_end(&w);
	/* Each name once (rows are in name order), with its latest end; no end wins. */
	jw_key(&w, "entitlements");
	jw_arr(&w);
	for (i = 0; i < n; i = k) {
		int any = 0;
		end = 0;
		for (k = i; k < n && strcmp(ents[k].name, ents[i].name) == 0; k++) {
			if (!ents[k].active || (ents[k].ends_at != 0 && ents[k].ends_at <= a->now))
				continue;
			if (!any || ents[k].ends_at == 0 || (end != 0 && ents[k].ends_at > end))
				end = ents[k].ends_at;
			any = 1;
		}
		if (!any)
			continue;
		jw_obj(&w);
		jw_kstr(&w, "name", ents[i].name);
		jw_ktime(&w, "ends_at", end);
		jw_end(&w);
	}
	jw_aend(&w);
	jw_kint(&w, "balance", balance);
	jw_end(&w);
	jw_end(&w);
}

enum terr
ap_webhook(struct actx *a, const struct outcome *o, const struct bev *e)
{
	char storage[8192], dedup[64];
	struct ent_row *ents = NULL;
	struct buf b;
	int64_t balance = 0;
	size_t n = 0;
	enum terr rc;

	if (a->c->jobs.webhook_url[0] == '\0' || o->user[0] == '\0')
		return TERR_OK;
	if ((ents = calloc(WEBHOOK_ENTS_MAX, sizeof(*ents))) == NULL)
		return TERR_NOMEM;
	if ((rc = store_ents_of(a->s, o->user, ents, WEBHOOK_ENTS_MAX, &n)) != TERR_OK ||
	    (rc = store_balance_live(a->s, o->user, a->now, &balance)) != TERR_OK)
		goto out;
	buf_init_fixed(&b, storage, sizeof(storage));
	payload(a, o, e, ents, n, balance, &b);
	if (b.err != TERR_OK) {
		/* Too many entitlements to list: the rest of the document still says what changed. */
		buf_reset(&b);
		payload(a, o, e, ents, 0, balance, &b);
	}
	snprintf(dedup, sizeof(dedup), "webhook:inbox:%lld", (long long)o->op.inbox_id);
	rc = ap_outbox(a, OUTBOX_WEBHOOK, "user.updated", o->user, dedup, &b);
out:
	free(ents);
	return rc;
}
