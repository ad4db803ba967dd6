#!/usr/bin/env bash
# ./build.sh bench: load through nginx with wrk on 127.0.0.1, correctly signed
# Stripe events with unique ids, and the wall time of one request in CGI mode.
# Figures, not verdicts: these machines are shared and noisy; compare ratios.
#   BENCH_SECONDS (10)  BENCH_CONNS (32)  BENCH_PROCS (2)  TALLY_SYNCHRONOUS (full)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-32}
PROCS=${BENCH_PROCS:-2}
THREADS=2

work=$(mktemp -d /tmp/tally-bench-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

secret="whsec_bench_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cat >"$work/tally.json" <<'EOF'
{
  "stripe": {"test_mode": true, "tolerance": "1d"},
  "products": {
    "credits_500": {"kind": "pack", "credits": 500, "match": {"stripe": ["price_credits_500"]}}
  }
}
EOF
export TALLY_DB="$work/tally.db" TALLY_CONFIG="$work/tally.json" STRIPE_WEBHOOK_SECRET="$secret"
bin/tally migrate >/dev/null
mkdir -p "$work/run" "$work/nginx"

# Enough unique events for the run at up to ~15 k/s; past that, wrk repeats (duplicates).
nev=$((SECS * 15000))
echo "bench: generating $nev signed events (~2 KB each)" >&2
node tests/bench/gen-stripe.js "$nev" "$secret" >"$work/events.tsv"

cpu_of() { # user+sys clock ticks of the given pids
	local t=0 p
	for p in "$@"; do
		[[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}

bin/tally-stripe --listen "$work/run/stripe.sock" --processes "$PROCS" 2>"$work/stripe.log" &
pids+=($!)
deploy/nginx/render.sh "$work/run" 0 "$work/nginx" 1 >/dev/null
port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
deploy/nginx/render.sh "$work/run" "$port" "$work/nginx" 1 >"$work/nginx/nginx.conf"
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
nginx_pid=$!
pids+=($nginx_pid)
for _ in $(seq 100); do [[ -S $work/run/stripe.sock ]] && curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.05; done

hpids=$(pgrep -f "tally-stripe --listen $work/run/stripe.sock" | tr '\n' ' ')
npids="$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')"
tick=$(getconf CLK_TCK)
h0=$(cpu_of $hpids)
n0=$(cpu_of $npids)
BENCH_FILE="$work/events.tsv" BENCH_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" --latency \
	-s tests/bench/stripe.lua "http://127.0.0.1:$port/webhooks/stripe" >"$work/wrk.out"
h1=$(cpu_of $hpids)
n1=$(cpu_of $npids)

rps=$(awk '/Requests\/sec/ {print $2}' "$work/wrk.out")
reqs=$(awk '/requests in/ {print $1}' "$work/wrk.out")
p50=$(awk '$1 == "50%" {print $2}' "$work/wrk.out")
p99=$(awk '$1 == "99%" {print $2}' "$work/wrk.out")
non2xx=$(awk '/Non-2xx/ {print $5}' "$work/wrk.out")
applied=$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM inbox")
rss=$(for p in $hpids; do awk '/VmHWM/ {print $2}' /proc/$p/status 2>/dev/null; done | sort -n | tail -1)
cpu_h=$(awk -v a="$h0" -v b="$h1" -v n="$reqs" -v t="$tick" 'BEGIN { printf "%.3f", (b - a) / t * 1000 / n }')
cpu_n=$(awk -v a="$n0" -v b="$n1" -v n="$reqs" -v t="$tick" 'BEGIN { printf "%.3f", (b - a) / t * 1000 / n }')

# One CGI request: process start, config, database open, verify, apply, commit.
# The last events of the file were never sent, so each run applies a new event.
best=999999
for i in $(seq 20); do
	line=$(sed -n "$((nev - i))p" "$work/events.tsv")
	sig=${line%%$'\t'*}
	body=${line#*$'\t'}
	t0=$(date +%s%N)
	printf '%s' "$body" | REQUEST_METHOD=POST CONTENT_LENGTH=${#body} HTTP_STRIPE_SIGNATURE="$sig" \
		bin/tally-stripe >/dev/null 2>&1
	t1=$(date +%s%N)
	us=$(((t1 - t0) / 1000))
	((us < best)) && best=$us
	total=$((${total:-0} + us))
done

cat <<EOF

tally bench ($(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), wrk -t$THREADS -c$CONNS ${SECS}s, synchronous=${TALLY_SYNCHRONOUS:-full}, $PROCS handler processes)
  Stripe events through nginx: $rps events/s   p50 $p50   p99 $p99   non-2xx ${non2xx:-0}   stored $applied
  CPU per event: tally $cpu_h ms, nginx $cpu_n ms   peak handler RSS ${rss:-?} kB
  one CGI-mode request: best $((best / 1000)).$(((best % 1000) / 100)) ms, mean $((total / 20 / 1000)).$(((total / 20 % 1000) / 100)) ms (20 runs, process start to exit)
EOF
