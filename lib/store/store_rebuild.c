/*
 * The comparison behind `tally rebuild`: the logical content of this
 * database against another (a rebuild from the same events), table by
 * table, ignoring what differs by nature (row ids, update times, delivery
 * states of the outbox). The SQL is fixed text with no input in it; the
 * other database is attached by a bound file name.
 */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "store/store_int.h"
#include "store/store_rebuild.h"

/* One table: the columns compared (as one quoted text) and the FROM clause ("%s" = schema). */
static const struct spec {
	const char *table;
	const char *row;
	const char *from;
} specs[] = {
	{ "users",
	    "quote(id)||','||quote(created_at)||','||quote(merged_into)||','||quote(referrer_id)||'"
	    ",'"
	    "||quote(registered_at)||','||quote(trial_used_at)||','||quote(free_next_at)",
	    "%s.users" },
	{ "links", "quote(provider)||','||quote(kind)||','||quote(ext_id)||','||quote(user_id)",
	    "%s.links" },
	{ "inbox",
	    "quote(provider)||','||quote(event_id)||','||quote(type)||','||quote(live)||','||"
	    "quote(state)||','||quote(user_id)",
	    "%s.inbox" },
	{ "subscriptions",
	    "quote(provider)||','||quote(ext_id)||','||quote(user_id)||','||quote(product_id)||','|"
	    "|"
	    "quote(state)||','||quote(live)||','||quote(period_start)||','||quote(period_end)||','|"
	    "|"
	    "quote(trial_end)||','||quote(grace_until)||','||quote(cancel_at_period_end)||','||"
	    "quote(credits_through)||','||quote(state_at)||','||quote(store)||','||"
	    "quote(credits_next_at)",
	    "%s.subscriptions" },
	{ "entitlements",
	    "quote(user_id)||','||quote(name)||','||quote(active)||','||quote(ends_at)",
	    "%s.entitlements" },
	{ "payments",
	    "quote(provider)||','||quote(user_id)||','||quote(product_id)||','||quote(kind)||','||"
	    "quote(amount)||','||quote(currency)||','||quote(live)||','||quote(state)",
	    "%s.payments" },
	{ "payment_keys", "quote(provider)||','||quote(key)", "%s.payment_keys" },
	{ "grants",
	    "quote(user_id)||','||quote(source)||','||quote(product_id)||','||quote(amount)||','||"
	    "quote(remaining)||','||quote(expires_at)||','||quote(created_at)",
	    "%s.grants" },
	{ "ledger",
	    "quote(user_id)||','||quote(amount)||','||quote(kind)||','||quote(actor)||','||"
	    "quote(created_at)",
	    "%s.ledger" },
	{ "orders",
	    "quote(id)||','||quote(provider)||','||quote(user_id)||','||quote(product_id)||','||"
	    "quote(amount)||','||quote(currency)||','||quote(state)||','||quote(provider_ref)||','"
	    "||quote(charge_id)||','||quote(expires_at)",
	    "%s.orders" },
	{ "referral_rewards",
	    "quote(buyer_id)||','||quote(referrer_id)||','||quote(percent)||','||quote(credits)",
	    "%s.referral_rewards" },
	{ "answers",
	    "quote(i.provider)||','||quote(i.event_id)||','||quote(a.request_hash)||','||"
	    "quote(a.status)||','||quote(a.body)",
	    "%s.answers a JOIN %s.inbox i ON i.id = a.inbox_id" },
	/* Where each balance stands against the alert thresholds (the ids and times are not compared). */
	{ "balance_alerts",
	    "quote(user_id)||','||quote(state)||','||quote(balance)||','||quote(threshold)",
	    "%s.balance_alerts" },
	/* The tasks' alerts come of the providers' answers to their tries, not of events. */
	{ "outbox", "quote(kind)||','||quote(topic)||','||quote(user_id)||','||quote(dedup_key)",
	    "%s.outbox WHERE dedup_key NOT LIKE 'alert:task:%'" },
	/*
	 * What is owed and which event owed it; not how far its tries got
	 * (attempts, state, alerts: the providers' answers, in no event).
	 */
	{ "tasks",
	    "quote(t.provider)||','||quote(t.kind)||','||quote(t.key)||','||quote(t.arg)||','||"
	    "quote(t.user_id)||','||quote(t.deadline)||','||quote(i.provider)||','||"
	    "quote(i.event_id)",
	    "%s.tasks t LEFT JOIN %s.inbox i ON i.id = t.inbox_id" },
	/* The metrics (migrations/0007): each subscription's standing and history, refunds, rollups. */
	{ "kpi_subs",
	    "quote(s.provider)||','||quote(s.ext_id)||','||quote(k.status)||','||quote(k.state)||',"
	    "'"
	    "||quote(k.product_id)||','||quote(k.currency)||','||quote(k.mrr)||','||quote(k.amount)"
	    "||','||quote(k.amount_currency)||','||quote(k.months)||','||quote(k.period_ms)||','||"
	    "quote(k.amount_at)||','||quote(k.trial_at)||','||quote(k.trial_product)||','||"
	    "quote(k.paid)||','||quote(k.churned)||','||quote(k.at)",
	    "%s.kpi_subs k JOIN %s.subscriptions s ON s.id = k.subscription_id" },
	{ "sub_history",
	    "quote(s.provider)||','||quote(s.ext_id)||','||quote(h.at)||','||quote(h.live)||','||"
	    "quote(h.product_id)||','||quote(h.currency)||','||quote(h.status)||','||quote(h.mrr)||"
	    "','||quote(h.paying)||','||quote(h.trials)||','||quote(h.new_subs)||','||"
	    "quote(h.trial_starts)||','||quote(h.conversions)||','||quote(h.converted)||','||"
	    "quote(h.churn_voluntary)||','||quote(h.churn_billing)||','||quote(h.reactivations)",
	    "%s.sub_history h JOIN %s.subscriptions s ON s.id = h.subscription_id" },
	{ "refunds",
	    "quote(p.provider)||','||quote(p.user_id)||','||quote(p.amount)||','||quote(p.currency)"
	    "||','||quote(r.at)||','||quote(r.kind)||','||quote(r.amount)||','||quote(r.count)",
	    "%s.refunds r JOIN %s.payments p ON p.id = r.payment_id" },
	{ "kpi_daily",
	    "quote(live)||','||quote(day)||','||quote(provider)||','||quote(product_id)||','||"
	    "quote(currency)||','||mrr||','||paying||','||trials||','||new_subs||','||trial_starts"
	    "||','||conversions||','||converted||','||churn_voluntary||','||churn_billing||','||"
	    "reactivations||','||payments||','||revenue||','||refunds||','||refunded||','||"
	    "credits_granted||','||credits_spent||','||credits_expired||','||credits_revoked",
	    "%s.kpi_daily" },
	{ "kpi_levels",
	    "quote(live)||','||quote(provider)||','||quote(product_id)||','||quote(currency)||','||"
	    "mrr||','||paying||','||trials",
	    "%s.kpi_levels" },
	/* API keys are made outside the event history: their audit rows are not rebuilt. */
	{ "audit", "quote(actor)||','||quote(user_id)||','||quote(action)",
	    "%s.audit WHERE object NOT LIKE 'api\\_key:%' ESCAPE '\\'" },
};

static enum terr
exec_bound(struct store *s, const char *sql, const char *param, const char *what)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);

	if (rc == SQLITE_OK && param != NULL)
		rc = sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_DONE)
		rc = SQLITE_OK;
	sqlite3_finalize(st);
	return rc == SQLITE_OK ? TERR_OK : store_err(s, rc, what);
}

/* from with each "%s" replaced by schema. */
static void
with_schema(const char *from, const char *schema, char *out, size_t size)
{
	size_t n = 0, k = strlen(schema);

	while (*from != '\0' && n + k + 1 < size) {
		if (from[0] == '%' && from[1] == 's') {
			memcpy(out + n, schema, k);
			n += k;
			from += 2;
		} else
			out[n++] = *from++;
	}
	out[n] = '\0';
}

/* Rows of one side of sp not in the other; fn for the first max, all counted. */
static enum terr
one_side(struct store *s, const struct spec *sp, const char *a, const char *b, const char *label,
    size_t max, void (*fn)(void *, const char *, const char *, const char *), void *arg,
    int64_t *ndiff)
{
	char from_a[160], from_b[160], sql[4096];
	sqlite3_stmt *st = NULL;
	size_t n = 0;
	int rc;

	with_schema(sp->from, a, from_a, sizeof(from_a));
	with_schema(sp->from, b, from_b, sizeof(from_b));
	if ((size_t)snprintf(sql, sizeof(sql), "SELECT %s FROM %s EXCEPT SELECT %s FROM %s",
		sp->row, from_a, sp->row, from_b) >= sizeof(sql))
		return TERR_INTERNAL;
	if ((rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL)) != SQLITE_OK)
		return store_err(s, rc, "rebuild diff");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *row = (const char *)sqlite3_column_text(st, 0);
		if (n++ < max)
			fn(arg, sp->table, label, row != NULL ? row : "NULL");
		(*ndiff)++;
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? TERR_OK : store_err(s, rc, "rebuild diff");
}

enum terr
store_diff(struct store *s, const char *path, size_t max_rows,
    void (*fn)(void *arg, const char *table, const char *only_in, const char *row), void *arg,
    int64_t *ndiff)
{
	size_t i;
	enum terr rc;

	*ndiff = 0;
	if (s->pg != NULL) {
		/* ATTACH is SQLite's: comparing with a rebuild on PostgreSQL is still to be done. */
		log_msg(LOG_ERROR, "tally rebuild cannot compare a PostgreSQL database yet", NULL);
		return TERR_CONFIG;
	}
	if ((rc = exec_bound(s, "ATTACH DATABASE ?1 AS rebuilt", path, "attach")) != TERR_OK)
		return rc;
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		if ((rc = one_side(s, &specs[i], "main", "rebuilt", "live", max_rows, fn, arg,
			 ndiff)) != TERR_OK ||
		    (rc = one_side(s, &specs[i], "rebuilt", "main", "rebuilt", max_rows, fn, arg,
			 ndiff)) != TERR_OK)
			break;
	}
	exec_bound(s, "DETACH DATABASE rebuilt", NULL, "detach");
	return rc;
}

enum terr
store_fast_writes(struct store *s)
{
	return exec_bound(s, "PRAGMA synchronous = OFF", NULL, "synchronous off");
}
