#!/usr/bin/env bash
# How fast the metrics answer on a large database: a database of
# METRICS_SUBS subscriptions (1 000 000 by default) over three years is made
# straight in SQL (users, subscriptions, their standing and history, three
# payments and a grant each; the triggers of migrations/0007 roll them up as
# the write path's rows would be), then each kind of question is timed:
# `tally metrics` by day, week and month, grouped and filtered, as text, JSON
# and CSV; GET /v1/metrics and GET /metrics through tally-api as CGI; and in
# process (tests/bench/metrics_micro.c) the console's overview and three
# years of each period. Prints the wall time of each, best
# of METRICS_RUNS (3), with the process start; tally verify once (it reads
# everything). The shapes are spread on purpose: 5 providers, 8 products,
# 5 currencies, every combination sold every day, the worst case for the
# rollups' size.
#   METRICS_SUBS (1000000)  METRICS_RUNS (3)  METRICS_DB (a path to keep the database;
#   made only when missing)  METRICS_VERIFY (1: also time tally verify)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
N=${METRICS_SUBS:-1000000}
RUNS=${METRICS_RUNS:-3}
work=$(mktemp -d /tmp/tally-metrics-XXXXXX)
trap 'rm -rf "$work"' EXIT
db=${METRICS_DB:-$work/tally.db}
export TALLY_DB=$db TALLY_CONFIG=$work/tally.json TALLY_LOG_LEVEL=
cat >"$TALLY_CONFIG" <<'EOF'
{
  "metrics": {"currency": "USD", "rates": {
    "EUR": {"2020-01-01": "1.08"}, "JPY": {"2020-01-01": "0.0067"},
    "KWD": {"2020-01-01": "3.25"}, "INR": {"2020-01-01": "0.012"}}},
  "products": {
    "plan_0": {"kind": "subscription", "entitlements": ["pro"], "credits": 1000},
    "plan_1": {"kind": "subscription", "entitlements": ["pro"], "credits": 1000},
    "plan_2": {"kind": "subscription", "entitlements": ["pro"], "credits": 1000},
    "plan_3": {"kind": "subscription", "entitlements": ["pro"], "credits": 1000},
    "plan_4": {"kind": "subscription", "entitlements": ["pro"], "credits": 1000},
    "plan_5": {"kind": "subscription", "entitlements": ["pro"], "credits": 1000},
    "plan_6": {"kind": "subscription", "entitlements": ["pro"], "credits": 1000},
    "plan_7": {"kind": "subscription", "entitlements": ["pro"], "credits": 1000}
  }
}
EOF
log() { printf '%s\n' "$*" >&2; }

# Day numbers: three years ending today.
today=$(($(date +%s) / 86400))
d0=$((today - 1095))

if [[ ! -f $db ]]; then
	log "metrics bench: making $N subscriptions in $db"
	t0=$(date +%s.%N)
	bin/tally migrate >/dev/null
	# Per subscription i, from a hash of i: provider, product, currency, start day, price,
	# a trial (1 in 5; 6 in 10 of them convert), how long it pays, and a churn (billing 1 in 4)
	# if that ends before today. Times at 01:00 UTC of their day.
	sqlite3 "$db" <<EOF
PRAGMA journal_mode = WAL;
PRAGMA synchronous = OFF;
PRAGMA foreign_keys = OFF;
BEGIN;
CREATE TEMP TABLE g AS
WITH RECURSIVE k(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM k WHERE i + 1 < $N)
SELECT i, (i * 2654435761) % 4294967296 AS h FROM k;
CREATE TEMP TABLE s AS SELECT i,
	CASE i % 5 WHEN 0 THEN 'stripe' WHEN 1 THEN 'apple' WHEN 2 THEN 'revenuecat'
		WHEN 3 THEN 'razorpay' ELSE 'telegram' END AS provider,
	'plan_' || ((i / 5) % 8) AS product,
	CASE (i / 40) % 5 WHEN 0 THEN 'USD' WHEN 1 THEN 'EUR' WHEN 2 THEN 'JPY' WHEN 3 THEN 'KWD'
		ELSE 'INR' END AS currency,
	$d0 + h % 1095 AS sd,
	(h / 1095) % 5 = 0 AS trial,
	(h / 5475) % 10 < 6 AS converts,
	30 + (h / 54750) % 900 AS len,
	(h / 49275000) % 4 = 0 AS billing,
	((i / 5) % 8) = 7 AS yearly,
	500 + ((h / 7) % 20) * 100 AS price
FROM g;
CREATE TEMP TABLE t AS SELECT *,
	NOT trial OR converts AS pays,
	sd + CASE WHEN trial THEN 7 ELSE 0 END AS pd,
	sd + CASE WHEN trial THEN 7 ELSE 0 END + len AS ed,
	CASE WHEN yearly THEN price * 10 ELSE price END AS amount,
	CASE WHEN yearly THEN (price * 10 * 2 + 12) / 24 ELSE price END AS mrr
FROM s;
CREATE TEMP TABLE u AS SELECT *,
	pays AND ed < $today AS churned,
	CASE WHEN NOT pays THEN CASE WHEN pd <= $today THEN 'expired' ELSE 'trialing' END
		WHEN pd > $today THEN 'trialing'
		WHEN ed < $today THEN 'expired' ELSE 'active' END AS state
FROM t;
INSERT INTO users (id, created_at) SELECT 'u' || i, sd * 86400000 + 3600000 FROM u;
INSERT INTO subscriptions (id, provider, ext_id, user_id, product_id, state, live, period_start,
	period_end, trial_end, state_at, state_rank, created_at, updated_at)
SELECT i + 1, provider, 'sub_' || i, 'u' || i, product, state, 1,
	pd * 86400000 + 3600000, (pd + CASE WHEN yearly THEN 365 ELSE 30 END) * 86400000 + 3600000,
	CASE WHEN trial THEN pd * 86400000 + 3600000 ELSE 0 END,
	sd * 86400000 + 3600000, 3, sd * 86400000 + 3600000, sd * 86400000 + 3600000 FROM u;
INSERT INTO kpi_subs (subscription_id, status, state, product_id, currency, mrr, amount,
	amount_currency, months, amount_at, trial_at, trial_product, paid, churned, at)
SELECT i + 1, CASE state WHEN 'trialing' THEN 'trial' WHEN 'active' THEN 'paying' ELSE 'none' END,
	state, product, CASE WHEN state = 'active' THEN currency ELSE '' END,
	CASE WHEN state = 'active' THEN mrr ELSE 0 END,
	CASE WHEN pays AND pd <= $today THEN amount ELSE 0 END,
	CASE WHEN pays AND pd <= $today THEN currency ELSE '' END,
	CASE WHEN yearly THEN 12 ELSE 1 END, pd * 86400000 + 3600000,
	CASE WHEN trial THEN sd * 86400000 + 3600000 ELSE 0 END, CASE WHEN trial THEN product ELSE '' END,
	pays AND pd <= $today, churned, sd * 86400000 + 3600000 FROM u;
-- The history: a trial begins; it lapses, or converts (on its day, and on its cohort's day);
-- it pays from then on; it churns.
INSERT INTO sub_history (subscription_id, at, live, provider, product_id, currency, status, trials,
	trial_starts)
SELECT i + 1, sd * 86400000 + 3600000, 1, provider, product, '', 'trial', 1, 1 FROM u WHERE trial;
INSERT INTO sub_history (subscription_id, at, live, provider, product_id, currency, status, trials,
	conversions)
SELECT i + 1, pd * 86400000 + 3600000, 1, provider, product, '', CASE WHEN pays THEN 'paying' ELSE 'none' END,
	-1, pays FROM u WHERE trial AND pd <= $today;
INSERT INTO sub_history (subscription_id, at, live, provider, product_id, currency, status, converted)
SELECT i + 1, sd * 86400000 + 3600000, 1, provider, product, '', 'paying', 1 FROM u
	WHERE trial AND pays AND pd <= $today;
INSERT INTO sub_history (subscription_id, at, live, provider, product_id, currency, status, mrr,
	paying, new_subs)
SELECT i + 1, pd * 86400000 + 3600000, 1, provider, product, currency, 'paying', mrr, 1, 1 FROM u
	WHERE pays AND pd <= $today;
INSERT INTO sub_history (subscription_id, at, live, provider, product_id, currency, status, mrr,
	paying, churn_voluntary, churn_billing)
SELECT i + 1, ed * 86400000 + 3600000, 1, provider, product, currency, 'none', -mrr, -1,
	NOT billing, billing FROM u WHERE churned;
-- Three payments of each paying subscription (its first, and two more while it pays), a grant.
INSERT INTO payments (provider, user_id, product_id, subscription_id, kind, amount, currency,
	live, state, created_at)
SELECT provider, 'u' || i, product, i + 1, CASE WHEN n = 0 THEN 'initial' ELSE 'renewal' END,
	amount, currency, 1, 'paid', (pd + n * 30) * 86400000 + 3600000
FROM u JOIN (SELECT 0 AS n UNION ALL SELECT 1 UNION ALL SELECT 2) r
WHERE pays AND pd + n * 30 <= min(ed, $today);
INSERT INTO payment_keys (provider, key, payment_id) SELECT provider, 'pay_' || id, id FROM payments;
INSERT INTO grants (user_id, source, subscription_id, product_id, amount, remaining, expires_at,
	created_at)
SELECT 'u' || i, 'subscription', i + 1, product, 1000, 1000, 0, pd * 86400000 + 3600000
FROM u WHERE pays AND pd <= $today;
INSERT INTO ledger (user_id, grant_id, amount, kind, reason, actor, created_at)
SELECT user_id, id, amount, 'grant', 'bench', 'bench', created_at FROM grants;
COMMIT;
ANALYZE;
EOF
	log "metrics bench: made in $(echo "$(date +%s.%N) - $t0" | bc) s; kpi_daily holds $(sqlite3 "$db" 'SELECT count(*) FROM kpi_daily') rows"
fi

# The best wall time and the best CPU time (user + system) of RUNS runs of a command, in
# ms: on a shared machine the wall time includes waiting for a core, the CPU time does not.
best() {
	local bw= bc= i w c u s
	local TIMEFORMAT='%R %U %S'
	for ((i = 0; i < RUNS; i++)); do
		{ time "$@" >"$work/out" 2>"$work/err"; } 2>"$work/time" || {
			cat "$work/err" >&2
			return 1
		}
		read -r w u s <"$work/time"
		w=$(echo "$w * 1000 / 1" | bc)
		c=$(echo "($u + $s) * 1000 / 1" | bc)
		[[ -z $bw || $w -lt $bw ]] && bw=$w
		[[ -z $bc || $c -lt $bc ]] && bc=$c
	done
	echo "$bw ms | $bc ms"
}
row() { printf '| %s | %s | %s |\n' "$1" "$(best "${@:3}")" "$2"; }
# tally-api as one CGI request (the process, the key check, the answer).
key=$(bin/tally keys create --name bench --scopes admin --json | sed -n 's/.*"key":"\([^"]*\)".*/\1/p')
cgi() {
	env REQUEST_METHOD=GET SCRIPT_NAME= PATH_INFO= REQUEST_URI="$1${2:+?$2}" DOCUMENT_URI="$1" \
		QUERY_STRING="$2" HTTP_AUTHORIZATION="Bearer $key" bin/tally-api
}
from1y=$(date -u -d "@$(((today - 364) * 86400))" +%F)
from3y=$(date -u -d "@$((d0 * 86400))" +%F)
to=$(date -u -d "@$((today * 86400))" +%F)
echo "| question ($N subscriptions, $(sqlite3 "$db" 'SELECT count(*) FROM kpi_daily') rollup rows) | wall, best of $RUNS | CPU, best of $RUNS | rows |"
echo "| --- | --- | --- | --- |"
row "tally metrics (last 30 days by day, text)" "$(bin/tally metrics | wc -l)" bin/tally metrics
row "tally metrics --json (last 30 days)" - bin/tally metrics --json
row "tally metrics --by month, 3 years, --group provider,product --json" \
	"$(bin/tally metrics --by month --from "$from3y" --to "$to" --group provider,product --csv | wc -l)" \
	bin/tally metrics --by month --from "$from3y" --to "$to" --group provider,product --json
row "tally metrics --by week, 1 year, --group product --csv" "-" \
	bin/tally metrics --by week --from "$from1y" --to "$to" --group product --csv
row "tally metrics --by day, 3 years, --csv" "$(bin/tally metrics --from "$from3y" --to "$to" --csv | wc -l)" \
	bin/tally metrics --from "$from3y" --to "$to" --csv
row "tally metrics --by day, 1 year, --provider apple --product plan_3 --currency JPY" "-" \
	bin/tally metrics --from "$from1y" --to "$to" --provider apple --product plan_3 --currency JPY --json
row "GET /v1/metrics?by=month&group=provider,product (3 years)" "-" \
	cgi /v1/metrics "by=month&from=$from3y&to=$to&group=provider%2Cproduct"
row "GET /metrics (Prometheus, with the revenue gauges)" "-" cgi /metrics ""
if [[ ${METRICS_VERIFY:-1} == 1 ]]; then
	RUNS=1 row "tally verify (every check, the rollups recomputed)" "-" bin/tally verify
fi
# In process: the console's overview (kpi_overview, its four reports) and three years of each
# period, without a process's start (tests/bench/metrics_micro.c).
mkdir -p build/bench
if [[ ! -x build/bench/metrics_micro || tests/bench/metrics_micro.c -nt build/bench/metrics_micro ||
	lib/libtally.a -nt build/bench/metrics_micro ]]; then
	gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Ilib $(pkg-config --cflags libcjson) \
		tests/bench/metrics_micro.c -o build/bench/metrics_micro lib/libtally.a \
		$(pkg-config --libs libcjson sqlite3 libcurl openssl libpq) -lfcgi -lpthread -lm
fi
echo
echo "in process, best of $RUNS: $(build/bench/metrics_micro "$db" "$TALLY_CONFIG" "$RUNS")"
