#!/usr/bin/env bash
# The cost of a job run with nothing due on a large database: generates (once, cached in
# $DIR) a database of N users with N subscriptions in every state, a grant each, N inbox
# rows and N sent outbox rows, nothing of it due at NOW; then times each job (bin/tally-<job>,
# whole process: start, config, open, lease, walks, release) RUNS times and prints the median
# and the worst in ms. Everything a job walks lies outside its due range, except what a real
# database holds too: active subscriptions whose period ends in the next 3 days, which the
# reminders job reads and skips (they renew by themselves).
#   N=1000000 RUNS=5 tests/bench/jobs_idle.sh [BIN_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-bin}
N=${N:-1000000}
RUNS=${RUNS:-5}
DIR=${DIR:-/tmp/tally-jobs-idle-$N}
DB=$DIR/tally.db
NOW=${NOW:-1800000000000} # 2027-01-15T08:00:00Z, fixed so the cached database stays valid
DAY=86400000
mkdir -p "$DIR"
cat >"$DIR/tally.json" <<EOF
{"free_tier":{"signup_credits":50,"monthly_credits":20,"entitlements":["basic"]},
 "products":{"pro":{"kind":"subscription","credits":1000,"entitlements":["pro"],"match":{"stripe":["price_pro"]}},
             "yearly":{"kind":"subscription","credits":100,"credit_period":"1mo","entitlements":["pro"]},
             "plan":{"kind":"subscription","price_credits":400,"period":"1mo","entitlements":["plus"]}}}
EOF
export TALLY_DB=$DB TALLY_CONFIG=$DIR/tally.json

if [[ ! -f $DIR/done ]]; then
	rm -f "$DB" "$DB"-*
	"$BIN/tally" migrate >/dev/null
	t0=$(date +%s)
	# States by i % 20: 0-13 active, 14-15 canceled, 16-17 trialing, 18 past_due, 19 expired.
	# Due times all after NOW (canceled and trialing past the 3-day reminder window).
	sqlite3 "$DB" <<SQL
PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;
BEGIN;
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < $N)
INSERT INTO users (id, created_at, registered_at, free_next_at)
SELECT 'u' || i, $NOW - 100 * $DAY, CASE WHEN i % 4 = 0 THEN $NOW - 100 * $DAY ELSE 0 END,
  CASE WHEN i % 4 = 0 THEN $NOW + (1 + i % 29) * $DAY ELSE 0 END FROM k;
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < $N)
INSERT INTO subscriptions (provider, ext_id, user_id, product_id, state, live, period_start, period_end,
  trial_end, grace_until, cancel_at_period_end, state_at, state_rank, created_at, updated_at, credits_next_at)
SELECT CASE WHEN i % 50 = 0 THEN 'balance' ELSE 'stripe' END, 'sub_' || i, 'u' || i,
  CASE WHEN i % 10 = 1 THEN 'yearly' ELSE 'pro' END,
  CASE WHEN i % 20 < 14 THEN 'active' WHEN i % 20 < 16 THEN 'canceled' WHEN i % 20 < 18 THEN 'trialing'
       WHEN i % 20 = 18 THEN 'past_due' ELSE 'expired' END, 1,
  $NOW - 10 * $DAY,
  CASE WHEN i % 20 < 14 THEN $NOW + (i % 30) * $DAY + 3600000 ELSE $NOW + (4 + i % 26) * $DAY END,
  CASE WHEN i % 20 IN (16, 17) THEN $NOW + (4 + i % 10) * $DAY ELSE 0 END,
  CASE WHEN i % 20 = 18 THEN $NOW + (1 + i % 6) * $DAY ELSE 0 END,
  CASE WHEN i % 20 IN (14, 15) THEN 1 ELSE 0 END, $NOW - 10 * $DAY, 3, $NOW - 10 * $DAY, $NOW - 10 * $DAY,
  CASE WHEN i % 10 = 1 AND i % 20 < 14 THEN $NOW + (1 + i % 28) * $DAY ELSE 0 END FROM k;
INSERT INTO grants (user_id, source, subscription_id, amount, remaining, expires_at, created_at)
SELECT user_id, 'subscription', id, 1000, 1000 - id % 1000, period_end + $DAY, $NOW - 10 * $DAY FROM subscriptions;
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < $N)
INSERT INTO inbox (provider, event_id, type, live, event_at, received_at, updated_at, state, user_id)
SELECT 'stripe', 'evt_' || i, 'invoice.paid', 1, $NOW - $DAY, $NOW - $DAY, $NOW - $DAY, 'applied', 'u' || i FROM k;
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < $N)
INSERT INTO outbox (kind, topic, user_id, dedup_key, payload, state, attempts, next_at, created_at)
SELECT 'webhook', 'user.updated', 'u' || i, 'webhook:inbox:' || i, '{}', 'sent', 1, $NOW - $DAY, $NOW - $DAY FROM k;
COMMIT;
PRAGMA wal_checkpoint(TRUNCATE);
ANALYZE;
SQL
	touch "$DIR/done"
	echo "generated $N users, subscriptions, grants, inbox and outbox rows in $(($(date +%s) - t0)) s ($(du -h "$DB" | cut -f1))" >&2
fi

now=$(date -u -d "@$((NOW / 1000))" +%Y-%m-%dT%H:%M:%SZ)
printf '%-14s %10s %10s   %s\n' job median_ms worst_ms "counts (must be empty: nothing due)"
for job in renewals reminders grace-expiry retry deliver reconcile; do
	times=()
	for ((r = 0; r < RUNS; r++)); do
		s=$(date +%s%N)
		out=$("$BIN/tally-$job" --now "$now" --json 2>/dev/null) || { echo "tally-$job failed" >&2; exit 1; }
		e=$(date +%s%N)
		times+=($(((e - s) / 1000000)))
	done
	sorted=($(printf '%s\n' "${times[@]}" | sort -n))
	counts=$(printf '%s' "$out" | sed -n 's/.*"counts":\({[^}]*}\).*/\1/p')
	printf '%-14s %10s %10s   %s\n' "$job" "${sorted[$((RUNS / 2))]}" "${sorted[$((RUNS - 1))]}" "$counts"
done
