/*
 * Every SQL statement of tally, in one table indexed by enum stmt
 * (store_sql.h). Parameters are always bound (?N), never formatted in.
 */
#include <stddef.h>

#include "store/store_sql.h"

#define INBOX_COLS                                                                                 \
	"id, provider, event_id, type, live, event_at, received_at, updated_at, state, reason, "   \
	"user_id, orphan_kind, orphan_id, attempts"
#define SUB_COLS                                                                                   \
	"id, provider, ext_id, user_id, product_id, state, live, period_start, period_end, "       \
	"trial_end, grace_until, cancel_at_period_end, credits_through, state_at, state_rank, "    \
	"created_at, updated_at, store, credits_next_at"
#define ENT_COLS "id, user_id, name, source, subscription_id, active, ends_at, updated_at"
#define PAY_COLS                                                                                   \
	"p.id, p.provider, p.user_id, p.product_id, p.subscription_id, p.kind, p.amount, "         \
	"p.currency, p.live, p.state, p.inbox_id, p.created_at"
#define GRANT_COLS                                                                                 \
	"id, user_id, source, subscription_id, payment_id, product_id, amount, remaining, "        \
	"expires_at, created_at"
#define ORDER_COLS                                                                                 \
	"id, provider, user_id, product_id, amount, currency, state, live, provider_ref, "         \
	"charge_id, payment_id, expires_at, created_at, updated_at"
#define KEY_COLS    "id, secret_hash, name, scopes, created_at, created_by, revoked_at, last_used_at"
#define LEDGER_COLS "id, user_id, grant_id, amount, kind, reason, actor, inbox_id, created_at"
#define AUDIT_COLS  "id, at, actor, user_id, action, object, detail, reason, inbox_id"
#define TASK_COLS                                                                                  \
	"id, provider, kind, key, arg, user_id, inbox_id, deadline, near_at, created_at, due_at, " \
	"attempts, state, last_error, last_try_at, done_at, near_alerted_at, late_alerted_at"

/* The figures of kpi_daily, in enum kpi_col's order (store_kpi.h). */
#define KPI_COLS                                                                                   \
	"mrr, paying, trials, new_subs, trial_starts, conversions, converted, churn_voluntary, "   \
	"churn_billing, reactivations, payments, revenue, refunds, refunded, credits_granted, "    \
	"credits_spent, credits_expired, credits_revoked"
#define KPI_SUMS                                                                                   \
	"SUM(mrr) AS mrr, SUM(paying) AS paying, SUM(trials) AS trials, SUM(new_subs) AS "         \
	"new_subs, SUM(trial_starts) AS trial_starts, SUM(conversions) AS conversions, "           \
	"SUM(converted) AS converted, SUM(churn_voluntary) AS churn_voluntary, "                   \
	"SUM(churn_billing) AS churn_billing, SUM(reactivations) AS reactivations, "               \
	"SUM(payments) AS payments, SUM(revenue) AS revenue, SUM(refunds) AS refunds, "            \
	"SUM(refunded) AS refunded, SUM(credits_granted) AS credits_granted, "                     \
	"SUM(credits_spent) AS credits_spent, SUM(credits_expired) AS credits_expired, "           \
	"SUM(credits_revoked) AS credits_revoked"
/* A row of figures that are all zero says nothing (a change and its undoing on one day). */
#define KPI_NONZERO                                                                                \
	"(mrr != 0 OR paying != 0 OR trials != 0 OR new_subs != 0 OR trial_starts != 0 OR "        \
	"conversions != 0 OR converted != 0 OR churn_voluntary != 0 OR churn_billing != 0 OR "     \
	"reactivations != 0 OR payments != 0 OR revenue != 0 OR refunds != 0 OR refunded != 0 OR " \
	"credits_granted != 0 OR credits_spent != 0 OR credits_expired != 0 OR "                   \
	"credits_revoked != 0)"
/* The time of the event of inbox row X (its own time, else when it arrived), as the triggers take it. */
#define KPI_EVENT_TIME(X)                                                                          \
	"(SELECT CASE WHEN i.event_at > 0 THEN i.event_at ELSE i.received_at END FROM inbox i "    \
	"WHERE i.id = " X ")"
/*
 * kpi_daily as the sums of its four histories (migrations/0007_metrics.sql):
 * what the triggers added row by row, computed again at once. tally verify
 * compares the two; tally rebuild --metrics writes this.
 */
#define KPI_RECOMPUTED                                                                             \
	"SELECT live, day, provider, product_id, currency, " KPI_SUMS                              \
	" FROM (" KPI_FROM_HISTORY KPI_FROM_PAYMENTS KPI_FROM_REFUNDS KPI_FROM_LEDGER              \
	") AS h GROUP BY live, day, provider, "                                                    \
	"product_id, currency"
#define KPI_FROM_HISTORY                                                                           \
	"SELECT live, at / 86400000 AS day, provider, product_id, currency, mrr, paying, trials, " \
	"new_subs, trial_starts, conversions, converted, churn_voluntary, churn_billing, "         \
	"reactivations, 0 AS payments, 0 AS revenue, 0 AS refunds, 0 AS refunded, "                \
	"0 AS credits_granted, 0 AS credits_spent, 0 AS credits_expired, 0 AS credits_revoked "    \
	"FROM sub_history "
#define KPI_FROM_PAYMENTS                                                                          \
	"UNION ALL SELECT p.live, COALESCE(" KPI_EVENT_TIME(                                       \
	    "p.inbox_id") ", p.created_at) / "                                                     \
			  "86400000, p.provider, COALESCE(p.product_id, ''), upper(p.currency), "  \
			  "0, 0, 0, 0, 0, 0, "                                                     \
			  "0, 0, 0, 0, CASE WHEN p.amount > 0 THEN 1 ELSE 0 END, p.amount, 0, 0, " \
			  "0, 0, 0, 0 "                                                            \
			  "FROM payments p "
#define KPI_FROM_REFUNDS                                                                           \
	"UNION ALL SELECT p.live, r.at / 86400000, p.provider, COALESCE(p.product_id, ''), "       \
	"upper(p.currency), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, r.count, r.amount, 0, 0, 0, 0 "    \
	"FROM refunds r JOIN payments p ON p.id = r.payment_id "
#define KPI_FROM_LEDGER                                                                            \
	"UNION ALL SELECT COALESCE(s.live, p.live, 1), COALESCE(" KPI_EVENT_TIME(                  \
	    "l.inbox_id") ", l.created_at) / 86400000, COALESCE(s.provider, p.provider, ''), "     \
			  "COALESCE(g.product_id, ''), '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "   \
			  "0, 0, "                                                                 \
			  "CASE WHEN l.kind = 'grant' THEN l.amount ELSE 0 END, "                  \
			  "CASE WHEN l.kind = 'spend' THEN -l.amount ELSE 0 END, "                 \
			  "CASE WHEN l.kind = 'expire' OR l.kind = 'reset' THEN -l.amount ELSE 0 " \
			  "END, "                                                                  \
			  "CASE WHEN l.kind = 'revoke' OR l.kind = 'clawback' THEN -l.amount "     \
			  "ELSE 0 END "                                                            \
			  "FROM ledger l JOIN grants g ON g.id = l.grant_id LEFT JOIN "            \
			  "subscriptions s "                                                       \
			  "ON s.id = g.subscription_id LEFT JOIN payments p ON p.id = "            \
			  "g.payment_id"
/*
 * The optional filters of a rollup read, parameters A, B, C (provider,
 * product, currency; the currency's keeping the rows of no currency too).
 * CAST: PostgreSQL cannot infer the type of a parameter only compared with NULL.
 */
#define KPI_FILTER(A, B, C)                                                                        \
	"(CAST(?" A " AS TEXT) IS NULL OR provider = ?" A ") AND (CAST(?" B " AS TEXT) IS NULL "   \
	"OR product_id = ?" B ") AND (CAST(?" C " AS TEXT) IS NULL OR currency = ?" C " OR "       \
	"currency = '')"
/*
 * The check that kpi_daily equals KPI_RECOMPUTED, both ways (rows of figures
 * that are all zero aside), each difference named by its day as DAYTEXT writes it.
 */
#define KPI_ROLLUP_CHECK(DAYTEXT)                                                                  \
	"WITH r AS MATERIALIZED (" KPI_RECOMPUTED "), d AS MATERIALIZED (SELECT live, day, "       \
	"provider, product_id, currency, " KPI_COLS " FROM kpi_daily) SELECT " DAYTEXT " || ' ' "  \
	"|| CASE live WHEN 1 THEN 'live' ELSE 'test' END || ' ' || provider || '/' || "            \
	"product_id || '/' || currency || ': ' || side || ' ' || mrr || ',' || paying || ',' "     \
	"|| trials || ',' || new_subs || ',' || trial_starts || ',' || conversions || ',' || "     \
	"converted || ',' || churn_voluntary || ',' || churn_billing || ',' || reactivations "     \
	"|| ',' || payments || ',' || revenue || ',' || refunds || ',' || refunded || ',' || "     \
	"credits_granted || ',' || credits_spent || ',' || credits_expired || ',' || "             \
	"credits_revoked || ' (" KPI_COLS ")' FROM (SELECT 'the rollup holds' AS side, * "         \
	"FROM (SELECT * FROM d EXCEPT SELECT * FROM r) AS a WHERE " KPI_NONZERO " UNION ALL "      \
	"SELECT 'its history sums to', * FROM (SELECT * FROM r EXCEPT SELECT * FROM d) AS b "      \
	"WHERE " KPI_NONZERO ") AS x ORDER BY day, provider, product_id, currency, side DESC"
#define KPI_SUB_COLS_SQL                                                                           \
	"subscription_id, status, state, product_id, currency, mrr, amount, amount_currency, "     \
	"months, period_ms, amount_at, trial_at, trial_product, paid, churned, at"

/*
 * A page of a walk through due work (store_jobs.c): rows of TABLE meeting
 * COND (the partial index's own condition) after position (?1, ?2) in (KEY,
 * ID) order with KEY <= ?3, at most ?4. Two halves, each an index seek: the
 * rest of the rows at KEY = ?1, then those after it. (A row-value "(KEY, ID)
 * > (?1, ?2)" seeks on KEY alone and rescans every row sharing one due time.)
 */
#define WALK(COLS, TABLE, COND, KEY, ID)                                                           \
	"SELECT * FROM (SELECT " COLS ", " KEY " AS walk_k, " ID " AS walk_i FROM " TABLE          \
	" WHERE " COND " AND " KEY " = ?1 AND " ID " > ?2 AND " KEY " <= ?3 ORDER BY " ID          \
	" LIMIT ?4) AS walk_a UNION ALL SELECT * FROM (SELECT " COLS ", " KEY " AS walk_k, " ID    \
	" AS walk_i FROM " TABLE " WHERE " COND " AND " KEY " > ?1 AND " KEY                       \
	" <= ?3 ORDER BY " KEY ", " ID " LIMIT ?4) AS walk_b ORDER BY walk_k, walk_i LIMIT ?4"

/*
 * Two statements take the larger of two values: SQLite's two-argument
 * max(), PostgreSQL's GREATEST (its max() is the aggregate alone).
 */
#define TASK_FINISH(MAX2)                                                                          \
	"UPDATE tasks SET state = ?3, due_at = ?4, last_error = ?5, done_at = ?6, "                \
	"late_alerted_at = " MAX2 "(late_alerted_at, ?7) "                                         \
	"WHERE id = ?1 AND attempts = ?2 AND state = 'pending'"
/* Per subscription: the day it began (d0) and the day it lost access (d1; -1: has it). */
#define SUBS_SERIES(MAX2)                                                                          \
	"SELECT d0, d1, count(*) FROM (SELECT (" MAX2 "(created_at, ?1) - ?1) / ?2 AS d0, "        \
	"-1 AS d1 FROM subscriptions WHERE state = 'trialing' OR state = 'active' "                \
	"OR state = 'past_due' OR state = 'canceled' UNION ALL "                                   \
	"SELECT (" MAX2 "(created_at, ?1) - ?1) / ?2, (updated_at - ?1) / ?2 FROM subscriptions "  \
	"WHERE (state = 'paused' OR state = 'expired' OR state = 'revoked' OR "                    \
	"state = 'refunded') AND updated_at >= ?1 + ?2) AS series GROUP BY d0, d1"

const char *const store_sql[STMT__MAX] = {
	[STMT_USER_EXISTS] = "SELECT created_at, merged_into FROM users WHERE id = ?1",
	[STMT_USER_MERGE] = "UPDATE users SET merged_into = ?2 WHERE id = ?1",
	[STMT_LINKS_MOVE] = "UPDATE links SET user_id = ?2 WHERE user_id = ?1",
	[STMT_PAYS_MOVE] = "UPDATE payments SET user_id = ?2 WHERE user_id = ?1",
	[STMT_PAYS_MOVE_SUB] = "UPDATE payments SET user_id = ?2 WHERE subscription_id = ?1",
	[STMT_PAY_SET_USER] = "UPDATE payments SET user_id = ?2 WHERE id = ?1",
	[STMT_CLAWBACK_OF_PAY] =
	    "SELECT COALESCE(-SUM(l.amount), 0) FROM ledger l JOIN grants g "
	    "ON g.id = l.grant_id WHERE g.payment_id = ?1 AND l.kind = 'clawback'",
	[STMT_USER_INSERT] = "INSERT INTO users (id, created_at) VALUES (?1, ?2) "
			     "ON CONFLICT (id) DO NOTHING",

	[STMT_LINK_FIND] =
	    "SELECT user_id FROM links WHERE provider = ?1 AND kind = ?2 AND ext_id = ?3",
	[STMT_LINK_INSERT] = "INSERT INTO links (provider, kind, ext_id, user_id, created_at) "
			     "VALUES (?1, ?2, ?3, ?4, ?5) "
			     "ON CONFLICT DO NOTHING",
	[STMT_LINK_DELETE] = "DELETE FROM links WHERE provider = ?1 AND kind = ?2 AND ext_id = ?3",
	[STMT_LINKS_OF] = "SELECT provider, kind, ext_id, user_id, created_at FROM links "
			  "WHERE user_id = ?1 ORDER BY provider, kind, ext_id LIMIT ?2",

	[STMT_INBOX_FIND] =
	    "SELECT " INBOX_COLS " FROM inbox WHERE provider = ?1 AND event_id = ?2",
	[STMT_INBOX_INSERT] = "INSERT INTO inbox (provider, event_id, type, live, event_at, "
			      "received_at, updated_at, state, reason, user_id, orphan_kind, "
			      "orphan_id, attempts) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13) "
			      "ON CONFLICT (provider, event_id) DO NOTHING",
	[STMT_INBOX_BODY_INSERT] = "INSERT INTO inbox_bodies (inbox_id, body) VALUES (?1, ?2) "
				   "ON CONFLICT DO NOTHING",
	[STMT_INBOX_ANY_ORPHAN] = "SELECT 1 FROM inbox WHERE state = 'orphaned' LIMIT 1",
	[STMT_INBOX_UPDATE] = "UPDATE inbox SET state = ?2, reason = ?3, user_id = ?4, "
			      "orphan_kind = ?5, orphan_id = ?6, attempts = ?7, updated_at = ?8 "
			      "WHERE id = ?1",
	[STMT_INBOX_GET] = "SELECT " INBOX_COLS " FROM inbox WHERE id = ?1",
	[STMT_INBOX_BODY] = "SELECT body FROM inbox_bodies WHERE inbox_id = ?1",
	[STMT_INBOX_LIST] = "SELECT " INBOX_COLS " FROM inbox WHERE id > ?1 "
			    "AND (CAST(?2 AS TEXT) IS NULL OR state = ?2) "
			    "AND (CAST(?3 AS TEXT) IS NULL OR user_id = ?3) "
			    "ORDER BY id LIMIT ?4",
	[STMT_INBOX_ORPHANS] = "SELECT id FROM inbox WHERE state = 'orphaned' AND provider = ?1 "
			       "AND orphan_kind = ?2 AND orphan_id = ?3 ORDER BY id LIMIT ?4",

	[STMT_SUB_FIND] =
	    "SELECT " SUB_COLS " FROM subscriptions WHERE provider = ?1 AND ext_id = ?2",
	[STMT_SUB_GET] = "SELECT " SUB_COLS " FROM subscriptions WHERE id = ?1",
	[STMT_SUB_INSERT] =
	    "INSERT INTO subscriptions (provider, ext_id, user_id, product_id, "
	    "state, live, period_start, period_end, trial_end, grace_until, "
	    "cancel_at_period_end, credits_through, state_at, state_rank, "
	    "created_at, updated_at, store, credits_next_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, "
	    "?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) "
	    "ON CONFLICT DO NOTHING",
	[STMT_SUB_UPDATE] = "UPDATE subscriptions SET product_id = ?2, state = ?3, "
			    "period_start = ?4, period_end = ?5, trial_end = ?6, grace_until = ?7, "
			    "cancel_at_period_end = ?8, credits_through = ?9, state_at = ?10, "
			    "state_rank = ?11, updated_at = ?12, store = ?13, user_id = ?14, "
			    "credits_next_at = ?15 WHERE id = ?1",
	[STMT_SUBS_OF] = "SELECT " SUB_COLS " FROM subscriptions WHERE user_id = ?1 "
			 "ORDER BY id DESC LIMIT ?2",

	[STMT_ENT_GET] = "SELECT " ENT_COLS " FROM entitlements WHERE user_id = ?1 AND name = ?2 "
			 "AND source = ?3",
	[STMT_ENT_INSERT] = "INSERT INTO entitlements (user_id, name, source, subscription_id, "
			    "active, ends_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
			    "ON CONFLICT DO NOTHING",
	[STMT_ENT_UPDATE] = "UPDATE entitlements SET active = ?2, ends_at = ?3, updated_at = ?4 "
			    "WHERE id = ?1",
	[STMT_ENTS_OF_SUB] = "SELECT " ENT_COLS " FROM entitlements WHERE subscription_id = ?1 "
			     "ORDER BY id LIMIT ?2",
	[STMT_ENTS_OF] = "SELECT " ENT_COLS " FROM entitlements WHERE user_id = ?1 "
			 "ORDER BY name, id LIMIT ?2",

	[STMT_PAY_FIND_KEY] = "SELECT " PAY_COLS " FROM payment_keys k JOIN payments p "
			      "ON p.id = k.payment_id WHERE k.provider = ?1 AND k.key = ?2",
	[STMT_PAY_INSERT] = "INSERT INTO payments (provider, user_id, product_id, subscription_id, "
			    "kind, amount, currency, live, state, inbox_id, created_at) "
			    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
			    "ON CONFLICT DO NOTHING",
	[STMT_PAY_KEY_INSERT] = "INSERT INTO payment_keys (provider, key, payment_id) "
				"VALUES (?1, ?2, ?3) "
				"ON CONFLICT DO NOTHING",
	[STMT_PAY_SET_STATE] = "UPDATE payments SET state = ?2 WHERE id = ?1",

	[STMT_GRANT_INSERT] = "INSERT INTO grants (user_id, source, subscription_id, payment_id, "
			      "product_id, amount, remaining, expires_at, created_at) "
			      "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
			      "ON CONFLICT DO NOTHING",
	[STMT_GRANT_SET_REMAINING] = "UPDATE grants SET remaining = ?2 WHERE id = ?1",
	[STMT_GRANT_SET_EXPIRY] = "UPDATE grants SET expires_at = ?2 WHERE id = ?1",
	[STMT_GRANTS_LIVE] = "SELECT " GRANT_COLS " FROM grants WHERE user_id = ?1 "
			     "AND remaining > 0 AND (?2 = 0 OR expires_at = 0 OR expires_at > ?2) "
			     "ORDER BY expires_at = 0, expires_at, id LIMIT ?3",
	[STMT_GRANTS_OF_SUB] = "SELECT " GRANT_COLS " FROM grants WHERE subscription_id = ?1 "
			       "AND remaining > 0 ORDER BY id LIMIT ?2",
	[STMT_GRANTS_OF_PAY] = "SELECT " GRANT_COLS " FROM grants WHERE payment_id = ?1 "
			       "ORDER BY id LIMIT ?2",
	[STMT_GRANTS_PACKS] =
	    "SELECT " GRANT_COLS " FROM grants WHERE user_id = ?1 AND remaining > 0 "
	    "AND source = 'pack' ORDER BY id LIMIT ?2",
	[STMT_GRANTS_PLAN] = "SELECT " GRANT_COLS " FROM grants WHERE user_id = ?1 "
			     "AND remaining > 0 AND expires_at != 0 "
			     "AND (source = 'subscription' OR source = 'trial' OR source = 'free') "
			     "ORDER BY id LIMIT ?2",

	[STMT_LEDGER_INSERT] =
	    "INSERT INTO ledger (user_id, grant_id, amount, kind, reason, actor, "
	    "inbox_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
	    "ON CONFLICT DO NOTHING",
	[STMT_LEDGER_OF] = "SELECT " LEDGER_COLS " FROM ledger WHERE user_id = ?1 "
			   "ORDER BY id DESC LIMIT ?2",
	/* Each grant and payment by its primary key: 20 lookups, whatever the history. */
	[STMT_LEDGER_LINES_OF] =
	    "SELECT l.id, l.user_id, l.grant_id, l.amount, l.kind, l.reason, "
	    "l.actor, l.inbox_id, l.created_at, g.source, p.kind FROM ledger l "
	    "LEFT JOIN grants g ON g.id = l.grant_id LEFT JOIN payments p ON "
	    "p.id = g.payment_id WHERE l.user_id = ?1 ORDER BY l.id DESC LIMIT ?2",

	[STMT_AUDIT_INSERT] = "INSERT INTO audit (at, actor, user_id, action, object, detail, "
			      "reason, inbox_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
			      "ON CONFLICT DO NOTHING",
	[STMT_AUDIT_OF] = "SELECT " AUDIT_COLS " FROM audit WHERE user_id = ?1 "
			  "ORDER BY id DESC LIMIT ?2",

	[STMT_OUTBOX_INSERT] = "INSERT INTO outbox (kind, topic, user_id, dedup_key, payload, "
			       "next_at, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
			       "ON CONFLICT DO NOTHING",
	[STMT_OUTBOX_COUNT] = "SELECT count(*) FROM outbox WHERE "
			      "(CAST(?1 AS TEXT) IS NULL OR kind = ?1) "
			      "AND (CAST(?2 AS TEXT) IS NULL OR topic = ?2)",

	[STMT_BALANCE_LEDGER] = "SELECT COALESCE(SUM(amount), 0) FROM ledger WHERE user_id = ?1",
	[STMT_BALANCE_GRANTS] = "SELECT COALESCE(SUM(remaining), 0) FROM grants WHERE user_id = ?1",
	[STMT_BALANCE_LIVE] = "SELECT COALESCE(SUM(remaining), 0) FROM grants WHERE user_id = ?1 "
			      "AND remaining > 0 AND (expires_at = 0 OR expires_at > ?2)",
	[STMT_PAY_LATEST_OF_SUB] = "SELECT max(id) FROM payments WHERE subscription_id = ?1 "
				   "AND state = 'paid'",

	[STMT_ORDER_INSERT] =
	    "INSERT INTO orders (id, provider, user_id, product_id, amount, currency, state, live, "
	    "provider_ref, charge_id, payment_id, expires_at, created_at, updated_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) "
	    "ON CONFLICT DO NOTHING",
	[STMT_ORDER_GET] = "SELECT " ORDER_COLS " FROM orders WHERE id = ?1",
	[STMT_ORDER_FIND_REF] =
	    "SELECT " ORDER_COLS " FROM orders WHERE provider = ?1 AND provider_ref = ?2",
	[STMT_ORDER_UPDATE] =
	    "UPDATE orders SET state = ?2, provider_ref = ?3, charge_id = ?4, payment_id = ?5, "
	    "updated_at = ?6 WHERE id = ?1",
	[STMT_ORDER_OF_PAY] = "SELECT " ORDER_COLS " FROM orders WHERE payment_id = ?1",
	[STMT_USER_ROW] = "SELECT id, created_at, merged_into, referrer_id, registered_at, "
			  "trial_used_at, free_next_at FROM users WHERE id = ?1",
	[STMT_USER_SET_REFERRER] =
	    "UPDATE users SET referrer_id = ?2 WHERE id = ?1 AND referrer_id IS NULL",
	[STMT_USER_SET_REGISTERED] =
	    "UPDATE users SET registered_at = ?2 WHERE id = ?1 AND registered_at = 0",
	[STMT_USER_SET_TRIAL_USED] =
	    "UPDATE users SET trial_used_at = ?2 WHERE id = ?1 AND trial_used_at = 0",
	[STMT_USER_SET_FREE_NEXT] = "UPDATE users SET free_next_at = ?2 WHERE id = ?1",
	[STMT_REFERRAL_INSERT] =
	    "INSERT INTO referral_rewards (buyer_id, payment_id, referrer_id, percent, credits, "
	    "grant_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
	    "ON CONFLICT DO NOTHING",
	[STMT_REFERRAL_STATS] = "SELECT count(DISTINCT buyer_id), COALESCE(SUM(credits), 0) "
				"FROM referral_rewards WHERE referrer_id = ?1",
	[STMT_REFERRAL_HAS_BUYER] =
	    "SELECT 1 FROM referral_rewards WHERE referrer_id = ?1 AND buyer_id = ?2 LIMIT 1",

	[STMT_KEY_INSERT] = "INSERT INTO api_keys (id, secret_hash, name, scopes, created_at, "
			    "created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
			    "ON CONFLICT DO NOTHING",
	[STMT_KEY_GET] = "SELECT " KEY_COLS " FROM api_keys WHERE id = ?1",
	[STMT_KEY_REVOKE] = "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0",
	[STMT_KEYS_LIST] = "SELECT " KEY_COLS " FROM api_keys ORDER BY created_at, id LIMIT ?1",
	[STMT_ANSWER_GET] = "SELECT request_hash, status, body FROM answers WHERE inbox_id = ?1",
	[STMT_ANSWER_INSERT] = "INSERT INTO answers (inbox_id, request_hash, status, body) "
			       "VALUES (?1, ?2, ?3, ?4) "
			       "ON CONFLICT DO NOTHING",
	[STMT_METRIC_ADD] =
	    "INSERT INTO metrics (name, labels, value) VALUES (?1, ?2, ?3) "
	    "ON CONFLICT (name, labels) DO UPDATE SET value = metrics.value + excluded.value",
	[STMT_METRICS_ALL] = "SELECT name, labels, value FROM metrics ORDER BY name, labels",
	[STMT_JOB_LEASE] =
	    "INSERT INTO jobs (name, lease_owner, lease_until, last_started_at) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name) DO UPDATE SET "
	    "lease_owner = excluded.lease_owner, lease_until = excluded.lease_until, "
	    "last_started_at = excluded.last_started_at "
	    "WHERE jobs.lease_until <= ?4 OR jobs.lease_owner = ?2",
	[STMT_JOB_RENEW] = "UPDATE jobs SET lease_until = ?3 WHERE name = ?1 AND lease_owner = ?2",
	[STMT_JOB_RELEASE] = "UPDATE jobs SET lease_owner = '', lease_until = 0, last_success_at = "
			     "CASE WHEN ?3 != 0 THEN ?4 ELSE last_success_at END, last_result = ?5 "
			     "WHERE name = ?1 AND lease_owner = ?2",
	[STMT_JOBS_LIST] = "SELECT name, lease_owner, lease_until, last_started_at, "
			   "last_success_at, last_result FROM jobs ORDER BY name",

	[STMT_INBOX_ATTENTION_COUNTS] =
	    "SELECT provider, state, count(*) FROM inbox WHERE state = 'orphaned' OR "
	    "state = 'unknown_product' OR state = 'failed' GROUP BY provider, state",
	[STMT_OUTBOX_STATE_COUNTS] =
	    "SELECT kind, 'pending', count(*) FROM outbox WHERE state = 'pending' GROUP BY kind "
	    "UNION ALL SELECT kind, 'dead', count(*) FROM outbox WHERE state = 'dead' GROUP BY "
	    "kind",
	[STMT_OUTBOX_LIST] =
	    "SELECT id, kind, topic, COALESCE(user_id, ''), dedup_key, payload, state, attempts, "
	    "next_at, last_error, created_at FROM outbox WHERE id > ?2 AND "
	    "(CAST(?1 AS TEXT) IS NULL OR state = ?1) ORDER BY id LIMIT ?3",
	/* The same for the dead rows alone, written out so that outbox_dead serves it. */
	[STMT_OUTBOX_DEAD_LIST] =
	    "SELECT id, kind, topic, COALESCE(user_id, ''), dedup_key, payload, state, attempts, "
	    "next_at, last_error, created_at FROM outbox WHERE id > ?2 AND state = 'dead' AND "
	    "?1 = 'dead' ORDER BY id LIMIT ?3",
	[STMT_OUTBOX_RETRY] =
	    "UPDATE outbox SET state = 'pending', attempts = 0, next_at = ?2, last_error = '' "
	    "WHERE id = ?1 AND state = 'dead'",
	[STMT_LEDGER_SINCE] = "SELECT " LEDGER_COLS " FROM ledger WHERE id > ?2 AND "
			      "created_at >= ?1 ORDER BY id LIMIT ?3",

	/*
	 * store_jobs.c. Each walk of due work goes through one partial index of
	 * migrations/0003 in (due time, id) order from a position (?1, ?2) up to
	 * ?3, ?4 rows at a time (WALK); its WHERE repeats the index's own
	 * condition literally so SQLite may use it.
	 */
	[STMT_DUE_CREDITS] =
	    WALK(SUB_COLS, "subscriptions", "credits_next_at > 0", "credits_next_at", "id"),
	[STMT_DUE_GRACE] =
	    WALK(SUB_COLS, "subscriptions", "state = 'past_due'", "grace_until", "id"),
	[STMT_DUE_PERIOD] = WALK(SUB_COLS, "subscriptions",
	    "(state = 'active' OR state = 'canceled')", "period_end", "id"),
	[STMT_DUE_TRIAL] = WALK(SUB_COLS, "subscriptions", "state = 'trialing'", "trial_end", "id"),
	/* Of DUE_PERIOD's rows only those ending by themselves, filtered here, not row by row in C. */
	[STMT_DUE_ENDING] = WALK(SUB_COLS, "subscriptions",
	    "(state = 'active' OR state = 'canceled') AND (state = 'canceled' OR "
	    "cancel_at_period_end = 1 OR (substr(ext_id, 1, 5) = 'plan:' AND provider != "
	    "'balance'))",
	    "period_end", "id"),
	[STMT_DUE_FREE] = WALK("rowid, id, free_next_at", "users",
	    "free_next_at > 0 AND merged_into IS NULL", "free_next_at", "rowid"),
	[STMT_DUE_GRANTS] = WALK("id, user_id, expires_at", "grants",
	    "remaining > 0 AND expires_at > 0", "expires_at", "id"),
	[STMT_DUE_ORDERS] =
	    WALK(ORDER_COLS ", rowid", "orders", "state = 'pending'", "expires_at", "rowid"),
	/* One provider's pending orders (reconcile), through the same index; ?5 the provider. */
	[STMT_PENDING_ORDERS] = WALK(ORDER_COLS ", rowid", "orders",
	    "state = 'pending' AND provider = ?5", "expires_at", "rowid"),
	[STMT_DUE_OUTBOX] = WALK("id, kind, topic, user_id, dedup_key, payload, attempts, next_at, "
				 "created_at",
	    "outbox", "state = 'pending'", "next_at", "id"),
	[STMT_DUE_ATTENTION] =
	    "SELECT " INBOX_COLS " FROM inbox WHERE (state = 'orphaned' OR "
	    "state = 'unknown_product' OR state = 'failed') AND id > ?1 ORDER BY id LIMIT ?2",
	[STMT_OUTBOX_CLAIM] = "UPDATE outbox SET attempts = attempts + 1, next_at = ?3 "
			      "WHERE id = ?1 AND state = 'pending' AND attempts = ?2",
	[STMT_OUTBOX_SENT] =
	    "UPDATE outbox SET state = 'sent', last_error = '' WHERE id = ?1 AND state = 'pending'",
	[STMT_OUTBOX_FAILED] = "UPDATE outbox SET state = ?2, last_error = ?3, next_at = ?4 "
			       "WHERE id = ?1 AND state = 'pending'",
	[STMT_JOB_TAKEOVER] =
	    "UPDATE jobs SET lease_owner = ?3, lease_until = ?4, last_started_at = ?5 "
	    "WHERE name = ?1 AND lease_owner = ?2",

	/*
	 * store_tasks.c: the tasks owed to providers (migrations/0005). The
	 * walks go through tasks_due and tasks_near (their conditions repeated
	 * literally); every change of a try's outcome names the attempt it
	 * claimed, so a runner whose claim another took over writes nothing.
	 */
	[STMT_TASK_INSERT] =
	    "INSERT INTO tasks (provider, kind, key, arg, user_id, inbox_id, deadline, near_at, "
	    "created_at, due_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
	    "ON CONFLICT (provider, kind, key) DO NOTHING",
	[STMT_TASK_GET] = "SELECT " TASK_COLS " FROM tasks WHERE id = ?1",
	[STMT_TASK_FIND] =
	    "SELECT " TASK_COLS " FROM tasks WHERE provider = ?1 AND kind = ?2 AND key = ?3",
	[STMT_TASKS_OF_INBOX] = "SELECT " TASK_COLS " FROM tasks WHERE inbox_id = ?1 AND "
				"state = 'pending' ORDER BY id LIMIT ?2",
	[STMT_DUE_TASKS] = WALK(TASK_COLS, "tasks", "state = 'pending'", "due_at", "id"),
	[STMT_NEAR_TASKS] = WALK(TASK_COLS, "tasks",
	    "state = 'pending' AND near_alerted_at = 0 AND near_at > 0", "near_at", "id"),
	/* ?3 now: only a task due (no other runner's claim running); held until ?4. */
	[STMT_TASK_CLAIM] =
	    "UPDATE tasks SET attempts = attempts + 1, due_at = ?4, last_try_at = ?3 "
	    "WHERE id = ?1 AND state = 'pending' AND attempts = ?2 AND due_at <= ?3",
	[STMT_TASK_FINISH] = TASK_FINISH("max"),
	[STMT_TASK_EXPIRE] = "UPDATE tasks SET state = 'given_up', last_error = ?4, done_at = ?3, "
			     "late_alerted_at = ?3 WHERE id = ?1 AND attempts = ?2 AND "
			     "state = 'pending' AND due_at <= ?3",
	[STMT_TASK_NEAR_ALERTED] = "UPDATE tasks SET near_alerted_at = ?2 WHERE id = ?1 AND "
				   "state = 'pending' AND near_alerted_at = 0",
	[STMT_TASKS_PENDING] = "SELECT " TASK_COLS " FROM tasks WHERE state = 'pending' "
			       "ORDER BY due_at, id LIMIT ?1",
	[STMT_TASKS_ALL] = "SELECT " TASK_COLS " FROM tasks ORDER BY id DESC LIMIT ?1",

	/*
	 * store_console.c: the support console. The walks (NEXT_*) step from
	 * one (provider[, kind]) of a primary key or unique index to the next
	 * (a loose index scan); ATTENTION and FAILED_IN repeat the condition of
	 * the partial index inbox_attention literally so SQLite may use it; the
	 * time lookups read one row by rowid for a binary search.
	 */
	[STMT_ADMIN_GET] =
	    "SELECT name, password_hash, created_at, updated_at FROM admins WHERE name = ?1",
	[STMT_ADMIN_INSERT] = "INSERT INTO admins (name, password_hash, created_at, updated_at) "
			      "VALUES (?1, ?2, ?3, ?3) "
			      "ON CONFLICT DO NOTHING",
	[STMT_ADMIN_SET_PASSWORD] =
	    "UPDATE admins SET password_hash = ?2, updated_at = ?3 WHERE name = ?1",
	/* Only the hash that was checked: a password set meanwhile stays. */
	[STMT_ADMIN_REHASH] =
	    "UPDATE admins SET password_hash = ?3 WHERE name = ?1 AND password_hash = ?2",
	[STMT_SESSIONS_END_ADMIN] = "DELETE FROM sessions WHERE admin = ?1",
	[STMT_SESSION_INSERT] = "INSERT INTO sessions (token_hash, admin, csrf, created_at, "
				"expires_at) VALUES (?1, ?2, ?3, ?4, ?5) "
				"ON CONFLICT DO NOTHING",
	[STMT_SESSION_GET] =
	    "SELECT admin, csrf, created_at, expires_at FROM sessions WHERE token_hash = ?1",
	[STMT_SESSION_DELETE] = "DELETE FROM sessions WHERE token_hash = ?1",
	[STMT_SESSIONS_PURGE] = "DELETE FROM sessions WHERE expires_at <= ?1",
	[STMT_LOGIN_FAILURE_GET] = "SELECT count, last_at FROM login_failures WHERE who = ?1",
	[STMT_LOGIN_FAILURE_ADD] =
	    "INSERT INTO login_failures (who, count, last_at) VALUES (?1, 1, ?2) "
	    "ON CONFLICT (who) DO UPDATE SET count = CASE WHEN login_failures.last_at < ?3 "
	    "THEN 1 ELSE login_failures.count + 1 END, last_at = excluded.last_at",
	[STMT_LOGIN_FAILURE_CLEAR] = "DELETE FROM login_failures WHERE who = ?1",
	[STMT_LOGIN_FAILURES_PURGE] = "DELETE FROM login_failures WHERE last_at < ?1",
	/* Two seeks: the next kind of this provider, else the first of the next provider. */
	[STMT_CONSOLE_NEXT_LINK_KIND] =
	    "SELECT * FROM (SELECT provider, kind FROM links WHERE provider = ?1 AND kind > ?2 "
	    "ORDER BY kind LIMIT 1) AS a UNION ALL SELECT * FROM (SELECT provider, kind FROM links "
	    "WHERE provider > ?1 ORDER BY provider, kind LIMIT 1) AS b LIMIT 1",
	[STMT_CONSOLE_NEXT_SUB_PROVIDER] =
	    "SELECT provider FROM subscriptions WHERE provider > ?1 ORDER BY provider LIMIT 1",
	[STMT_CONSOLE_NEXT_PAY_PROVIDER] =
	    "SELECT provider FROM payment_keys WHERE provider > ?1 ORDER BY provider LIMIT 1",
	[STMT_CONSOLE_NEXT_INBOX_PROVIDER] =
	    "SELECT provider FROM inbox WHERE provider > ?1 ORDER BY provider LIMIT 1",
	/* One seek of the primary key (provider, key): the first key in [?2, ?3). */
	[STMT_CONSOLE_PAY_KEY_RANGE] = "SELECT p.id, p.user_id FROM payment_keys k JOIN "
				       "payments p ON p.id = k.payment_id WHERE k.provider = ?1 "
				       "AND k.key >= ?2 AND k.key < ?3 ORDER BY k.key LIMIT 1",
	[STMT_CONSOLE_USER_EVENTS] = "SELECT " INBOX_COLS " FROM inbox WHERE user_id = ?1 "
				     "AND id < ?2 ORDER BY id DESC LIMIT ?3",
	[STMT_CONSOLE_ATTENTION] =
	    "SELECT " INBOX_COLS " FROM inbox WHERE (state = 'orphaned' OR "
	    "state = 'unknown_product' OR state = 'failed') AND state = ?1 AND id < ?2 "
	    "ORDER BY id DESC LIMIT ?3",
	[STMT_CONSOLE_AUDIT_OF_EVENT] = "SELECT " AUDIT_COLS " FROM audit WHERE user_id = ?1 "
					"AND inbox_id = ?2 ORDER BY id LIMIT ?3",
	[STMT_CONSOLE_LEDGER_OF_EVENT] = "SELECT " LEDGER_COLS " FROM ledger WHERE user_id = ?1 "
					 "AND inbox_id = ?2 ORDER BY id LIMIT ?3",
	[STMT_CONSOLE_AUDIT_GET] = "SELECT " AUDIT_COLS " FROM audit WHERE id = ?1",
	[STMT_CONSOLE_SUBS_BY_STATE] =
	    "SELECT provider, state, live, count(*) FROM subscriptions WHERE state = 'trialing' "
	    "OR state = 'active' OR state = 'past_due' OR state = 'canceled' "
	    "GROUP BY provider, state, live ORDER BY provider, state, live DESC",
	[STMT_CONSOLE_SUBS_SERIES] = SUBS_SERIES("max"),
	[STMT_CONSOLE_INBOX_MAX_ID] = "SELECT COALESCE(max(id), 0) FROM inbox",
	[STMT_CONSOLE_INBOX_TIME_AT] =
	    "SELECT id, received_at FROM inbox WHERE id >= ?1 ORDER BY id LIMIT 1",
	[STMT_CONSOLE_FAILED_IN] =
	    "SELECT count(*) FROM inbox WHERE (state = 'orphaned' OR state = 'unknown_product' "
	    "OR state = 'failed') AND state = 'failed' AND id >= ?1 AND id < ?2",
	[STMT_CONSOLE_LEDGER_MAX_ID] = "SELECT COALESCE(max(id), 0) FROM ledger",
	[STMT_CONSOLE_LEDGER_TIME_AT] =
	    "SELECT id, created_at FROM ledger WHERE id >= ?1 ORDER BY id LIMIT 1",
	[STMT_CONSOLE_LEDGER_SUMS] =
	    "SELECT COALESCE(SUM(CASE WHEN kind = 'grant' THEN amount ELSE 0 END), 0), "
	    "COALESCE(-SUM(CASE WHEN kind = 'spend' THEN amount ELSE 0 END), 0) FROM ledger "
	    "WHERE id >= ?1",

	[STMT_BALANCE_ALERT_GET] =
	    "SELECT user_id, state, balance, threshold, inbox_id, changed_at "
	    "FROM balance_alerts WHERE user_id = ?1",
	[STMT_BALANCE_ALERT_SET] =
	    "INSERT INTO balance_alerts (user_id, state, balance, threshold, inbox_id, changed_at) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (user_id) DO UPDATE SET "
	    "state = excluded.state, balance = excluded.balance, threshold = excluded.threshold, "
	    "inbox_id = excluded.inbox_id, changed_at = excluded.changed_at",
	/* store_kpi.c */
	[STMT_KPI_SUB_GET] = "SELECT " KPI_SUB_COLS_SQL " FROM kpi_subs WHERE subscription_id = ?1",
	[STMT_KPI_SUB_PUT] =
	    "INSERT INTO kpi_subs (" KPI_SUB_COLS_SQL ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
	    "?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) ON CONFLICT (subscription_id) DO UPDATE SET "
	    "status = excluded.status, state = excluded.state, product_id = excluded.product_id, "
	    "currency = excluded.currency, mrr = excluded.mrr, amount = excluded.amount, "
	    "amount_currency = excluded.amount_currency, months = excluded.months, "
	    "period_ms = excluded.period_ms, amount_at = excluded.amount_at, "
	    "trial_at = excluded.trial_at, trial_product = excluded.trial_product, "
	    "paid = excluded.paid, churned = excluded.churned, at = excluded.at",
	[STMT_SUB_HISTORY_INSERT] =
	    "INSERT INTO sub_history (subscription_id, at, live, provider, product_id, currency, "
	    "status, mrr, paying, trials, new_subs, trial_starts, conversions, converted, "
	    "churn_voluntary, churn_billing, reactivations, inbox_id) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
	[STMT_REFUND_INSERT] =
	    "INSERT INTO refunds (payment_id, at, kind, amount, count, inbox_id) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
	[STMT_REFUND_SUMS] =
	    "SELECT COALESCE(SUM(amount), 0), COALESCE((SELECT amount FROM refunds WHERE "
	    "payment_id = ?1 AND (kind = 'full' OR kind = 'dispute') ORDER BY id DESC LIMIT 1), 0) "
	    "FROM refunds WHERE payment_id = ?1",
	[STMT_KPI_DAYS] = "SELECT day, provider, product_id, currency, " KPI_COLS " FROM kpi_daily "
			  "WHERE live = ?1 AND day >= ?2 AND day <= ?3 AND " KPI_FILTER("4", "5",
			      "6") " ORDER BY day",
	/*
	 * The stocks' differences of every day before ?2, summed by the caller: a
	 * walk in the primary key's order, where a GROUP BY here would sort them
	 * (ten times slower on a million subscriptions' rollups).
	 */
	[STMT_KPI_BEFORE] =
	    "SELECT -1, provider, product_id, currency, mrr, paying, trials "
	    "FROM kpi_daily WHERE live = ?1 AND day < ?2 AND " KPI_FILTER("3", "4", "5"),
	/* Two seeks of the primary key (min() and max() together would walk every row). */
	[STMT_KPI_SPAN] =
	    "SELECT COALESCE((SELECT day FROM kpi_daily WHERE live = ?1 ORDER BY day "
	    "LIMIT 1), 0), COALESCE((SELECT day FROM kpi_daily WHERE live = ?1 ORDER BY "
	    "day DESC LIMIT 1), -1)",
	/* The stocks after every day (for the gauges, and ranges that begin late). */
	[STMT_KPI_LEVELS] = "SELECT -1, provider, product_id, currency, mrr, paying, trials "
			    "FROM kpi_levels WHERE live = ?1 AND " KPI_FILTER("2", "3", "4"),
	/* As STMT_KPI_BEFORE, the days from ?2 on. */
	[STMT_KPI_AFTER] =
	    "SELECT -1, provider, product_id, currency, mrr, paying, trials "
	    "FROM kpi_daily WHERE live = ?1 AND day >= ?2 AND " KPI_FILTER("3", "4", "5"),
	[STMT_KPI_CLEAR] = "DELETE FROM kpi_daily",
	[STMT_KPI_RECOMPUTE] =
	    "INSERT INTO kpi_daily (live, day, provider, product_id, currency, " KPI_COLS
	    ") " KPI_RECOMPUTED,
	[STMT_KPI_COUNT] = "SELECT count(*) FROM kpi_daily",
	[STMT_KPI_LEVELS_CLEAR] = "DELETE FROM kpi_levels",
	[STMT_KPI_LEVELS_RECOMPUTE] =
	    "INSERT INTO kpi_levels (live, provider, product_id, currency, mrr, paying, trials) "
	    "SELECT live, provider, product_id, currency, SUM(mrr), SUM(paying), SUM(trials) "
	    "FROM kpi_daily GROUP BY live, provider, product_id, currency",
	[STMT_BEGIN] = "BEGIN IMMEDIATE",
	[STMT_COMMIT] = "COMMIT",
	[STMT_ROLLBACK] = "ROLLBACK",
	[STMT_SAVEPOINT] = "SAVEPOINT ev",
	[STMT_RELEASE] = "RELEASE ev",
	[STMT_ROLLBACK_TO] = "ROLLBACK TO ev",
};

const char *const store_sql_pg[STMT__MAX] = {
	/* The writers' lock is the server's: a plain BEGIN (pg.c's, READ COMMITTED). */
	[STMT_BEGIN] = "BEGIN",
	[STMT_TASK_FINISH] = TASK_FINISH("GREATEST"),
	/*
	 * users and orders have no rowid on PostgreSQL (their key is text): the
	 * walks break ties of one due time by the id's hash instead. Two ids
	 * hashing alike at one due time, cut by a page's end, leave the second
	 * to the job's next run. (A text position is the next step's.)
	 */
	[STMT_DUE_FREE] = WALK("hashtext(id)::bigint AS rowid, id, free_next_at", "users",
	    "free_next_at > 0 AND merged_into IS NULL", "free_next_at", "hashtext(id)::bigint"),
	[STMT_DUE_ORDERS] = WALK(ORDER_COLS ", hashtext(id)::bigint", "orders", "state = 'pending'",
	    "expires_at", "hashtext(id)::bigint"),
	[STMT_PENDING_ORDERS] = WALK(ORDER_COLS ", hashtext(id)::bigint", "orders",
	    "state = 'pending' AND provider = ?5", "expires_at", "hashtext(id)::bigint"),
	[STMT_CONSOLE_SUBS_SERIES] = SUBS_SERIES("GREATEST"),
};

const struct store_check store_checks[] = {
	{ "grant_equals_ledger",
	    "SELECT 'grant ' || g.id || ' of user ' || g.user_id || ': remaining ' || g.remaining "
	    "|| ' but its ledger entries sum to ' || COALESCE(l.total, 0) "
	    "FROM grants g LEFT JOIN (SELECT grant_id, SUM(amount) AS total FROM ledger "
	    "GROUP BY grant_id) l ON l.grant_id = g.id WHERE g.remaining != COALESCE(l.total, 0)" },
	{ "grant_has_one_grant_entry",
	    "SELECT 'grant ' || g.id || ': ' || count(l.id) || ' grant entries for amount ' || "
	    "g.amount "
	    "FROM grants g LEFT JOIN ledger l ON l.grant_id = g.id AND l.kind = 'grant' "
	    "AND l.amount = g.amount GROUP BY g.id HAVING count(l.id) != 1" },
	{ "ledger_user_matches_grant",
	    "SELECT 'ledger ' || l.id || ' is for user ' || l.user_id || ' but grant ' || g.id "
	    "|| ' belongs to ' || g.user_id FROM ledger l JOIN grants g ON g.id = l.grant_id "
	    "WHERE l.user_id != g.user_id" },
	{ "ledger_sign",
	    "SELECT 'ledger ' || id || ': kind ' || kind || ' with amount ' || amount FROM ledger "
	    "WHERE (kind = 'grant' AND amount <= 0) OR (kind != 'grant' AND amount >= 0)" },
	{ "payment_has_key",
	    "SELECT 'payment ' || p.id || ' has no business key' FROM payments p "
	    "WHERE NOT EXISTS (SELECT 1 FROM payment_keys k WHERE k.payment_id = p.id)" },
	{ "entitlement_follows_subscription",
	    "SELECT 'entitlement ' || e.id || ' (' || e.name || ' of ' || e.user_id || ') is "
	    "active "
	    "but subscription ' || s.id || ' is ' || s.state FROM entitlements e JOIN "
	    "subscriptions s "
	    "ON s.id = e.subscription_id WHERE e.active = 1 AND s.state IN ('incomplete', "
	    "'paused', "
	    "'expired', 'revoked', 'refunded')" },
	{ "subscription_user_matches_entitlement",
	    "SELECT 'entitlement ' || e.id || ' is for ' || e.user_id || ' but subscription ' || "
	    "s.id "
	    "|| ' belongs to ' || s.user_id FROM entitlements e JOIN subscriptions s "
	    "ON s.id = e.subscription_id WHERE e.active = 1 AND e.user_id != s.user_id" },
	{ "orphan_has_key",
	    "SELECT 'inbox ' || id || ' is orphaned without a key to resolve it' FROM inbox "
	    "WHERE state = 'orphaned' AND (orphan_kind IS NULL OR orphan_id IS NULL)" },
	{ "kpi_rollups_equal_history", KPI_ROLLUP_CHECK("date(day * 86400, 'unixepoch')"),
	    KPI_ROLLUP_CHECK(
		"to_char(to_timestamp(day * 86400) AT TIME ZONE 'UTC', 'YYYY-MM-DD')") },
	{ "kpi_levels_equal_rollups",
	    "WITH r AS (SELECT live, provider, product_id, currency, SUM(mrr) AS mrr, SUM(paying) "
	    "AS paying, SUM(trials) AS trials FROM kpi_daily GROUP BY live, provider, product_id, "
	    "currency), l AS (SELECT live, provider, product_id, currency, mrr, paying, trials "
	    "FROM kpi_levels) SELECT CASE live WHEN 1 THEN 'live ' ELSE 'test ' END || provider || "
	    "'/' || product_id || '/' || currency || ': ' || side || ' mrr ' || mrr || ', paying ' "
	    "|| paying || ', trials ' || trials FROM (SELECT 'the level is' AS side, * FROM "
	    "(SELECT * FROM l EXCEPT SELECT * FROM r) AS a WHERE mrr != 0 OR paying != 0 OR "
	    "trials != 0 UNION ALL SELECT 'the days sum to', * FROM (SELECT * FROM r EXCEPT "
	    "SELECT * FROM l) AS b WHERE mrr != 0 OR paying != 0 OR trials != 0) AS x ORDER BY "
	    "live, provider, product_id, currency, side DESC",
	    NULL },
	{ "kpi_subs_equal_history",
	    "SELECT 'subscription ' || k.subscription_id || ' counts as ' || k.status || ' (mrr ' "
	    "|| k.mrr || ') but its history sums to mrr ' || COALESCE(h.m, 0) || ', paying ' || "
	    "COALESCE(h.p, 0) || ', trials ' || COALESCE(h.t, 0) FROM kpi_subs k LEFT JOIN (SELECT "
	    "subscription_id, SUM(mrr) AS m, SUM(paying) AS p, SUM(trials) AS t FROM sub_history "
	    "GROUP BY subscription_id) h ON h.subscription_id = k.subscription_id WHERE "
	    "COALESCE(h.m, 0) != CASE WHEN k.status = 'paying' THEN k.mrr ELSE 0 END OR "
	    "COALESCE(h.p, 0) != CASE WHEN k.status = 'paying' THEN 1 ELSE 0 END OR "
	    "COALESCE(h.t, 0) != CASE WHEN k.status = 'trial' THEN 1 ELSE 0 END "
	    "UNION ALL SELECT 'subscription ' || h.subscription_id || ' has a history but no "
	    "standing in kpi_subs' FROM (SELECT DISTINCT subscription_id FROM sub_history) h "
	    "WHERE NOT EXISTS (SELECT 1 FROM kpi_subs k WHERE k.subscription_id = "
	    "h.subscription_id)",
	    NULL },
	{ "kpi_subs_follow_subscription",
	    "SELECT 'subscription ' || s.id || ' is ' || s.state || ' (' || s.product_id || ') "
	    "but counts as ' || k.status || ' (' || k.product_id || ')' FROM kpi_subs k JOIN "
	    "subscriptions s ON s.id = k.subscription_id WHERE k.product_id != s.product_id OR "
	    "CASE WHEN s.state = 'trialing' THEN k.status != 'trial' WHEN s.state = 'active' OR "
	    "s.state = 'canceled' OR s.state = 'past_due' THEN k.status != 'paying' AND "
	    "k.status != 'free' ELSE k.status != 'none' END",
	    NULL },
	{
	    "foreign_keys",
	    "SELECT 'table ' || \"table\" || ' row ' || COALESCE(rowid, '?') || ' references a "
	    "missing ' "
	    "|| parent FROM pragma_foreign_key_check",
	    /*
	 * PostgreSQL enforces every foreign key at each statement, and checks
	 * its pages' checksums as it reads them: neither pragma has a meaning there.
	 */
	    "",
	},
	{ "integrity", "SELECT quick_check FROM pragma_quick_check WHERE quick_check != 'ok'", "" },
	{ NULL, NULL, NULL },
};
