#!/usr/bin/env bash
# ./build.sh bench: side by side on this machine, loopback only, bounded in
# time, servers stopped by PID. Correctly signed ~2 KB Stripe events with
# unique ids, wrk with 2 threads and 32 connections.
#   (a) ceiling   nginx + a trivial libfcgi "ok" responder (tests/bench/ok.c)
#   (b) tally     nginx + tally-stripe, synchronous=FULL
#   (c) tally     the same with synchronous=NORMAL
#   (d) peer      fastify + stripe constructEvent + better-sqlite3 (tests/bench/peer),
#                 the same schema and rows, FULL and NORMAL, as most teams run it (no nginx)
#   (f) tally x2  two tally-stripe processes writing one database, FULL
#   (g) apple     nginx + tally-appstore, FULL: ~7.5 KB App Store notifications
#                 (three ES256 JWS each), and verifications/s in-process
#   (h) api       nginx + tally-api: GET /v1/users/{id} and POST .../spend, FULL
#   (i) google    nginx + tally-google, FULL: Pub/Sub pushes (unique messageIds and purchase
#                 tokens, one valid OIDC token, Google's keys cached), each read from the fake
#                 Google's subscriptionsv2.get (tests/bench/gen-google.js) before it is applied
# For each: requests/s, p50, p99, CPU per request (server, and nginx; google: the fake API's
# too), peak RSS.
# Then one CGI-mode request's wall time (best and mean of 20).
# Figures, not verdicts: shared, noisy machines; compare the ratios.
#   BENCH_SECONDS (10)  BENCH_CONNS (32)  BENCH_ONLY (regex of case names: ceiling,
#   tally-full, tally-normal, peer-full, peer-normal, tally-full-x2, apple, api, cgi; default all)
#   BENCH_LONG=1        also run tally for ~1 M requests and sample its RSS
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
SECS=${BENCH_SECONDS:-10}
CONNS=${BENCH_CONNS:-32}
THREADS=2
ONLY=${BENCH_ONLY:-.*}

work=$(mktemp -d /tmp/tally-bench-XXXXXX)
pids=()
stop_all() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	pids=()
}
cleanup() {
	stop_all
	rm -rf "$work"
}
trap cleanup EXIT
log() { printf '%s\n' "$*" >&2; }

# --- parts that are not tally: the ceiling responder and the peer
mkdir -p build/bench
if [[ ! -x build/bench/ok || tests/bench/ok.c -nt build/bench/ok ]]; then
	gcc -O2 -Wall -Wextra -Werror tests/bench/ok.c -o build/bench/ok -lfcgi -lpthread
fi
wants() { [[ $1 =~ ^($ONLY)$ ]]; }
# Only what the chosen cases use is prepared (BENCH_ONLY=google needs neither the peer nor
# the Stripe events).
need_stripe=
for c in ceiling tally-full tally-normal peer-full peer-normal tally-full-x2 cgi; do
	wants "$c" && need_stripe=1
done
[[ -n ${BENCH_LONG:-} ]] && need_stripe=1
if { wants peer-full || wants peer-normal; } &&
	{ [[ ! -f tests/bench/peer/node_modules/.tally-lock ]] ||
		! cmp -s tests/bench/peer/package-lock.json tests/bench/peer/node_modules/.tally-lock; }; then
	log "bench: npm ci in tests/bench/peer (better-sqlite3 builds from source: about a minute)"
	# Node's headers from the local installation: no download.
	(cd tests/bench/peer && npm_config_nodedir=/usr npm ci --no-audit --no-fund --loglevel=error >&2)
	cp tests/bench/peer/package-lock.json tests/bench/peer/node_modules/.tally-lock
fi

secret="whsec_bench_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
cat >"$work/tally.json" <<'EOF'
{
  "stripe": {"test_mode": true, "tolerance": "1d"},
  "products": {
    "credits_500": {"kind": "pack", "credits": 500, "match": {"stripe": ["price_credits_500"]}}
  }
}
EOF
export TALLY_CONFIG="$work/tally.json" STRIPE_WEBHOOK_SECRET="$secret"
nev=$((SECS * 20000))
if [[ -n $need_stripe ]]; then
	log "bench: generating $nev signed events (~2 KB each)"
	node tests/bench/gen-stripe.js "$nev" "$secret" >"$work/events.tsv"
fi

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
tick=$(getconf CLK_TCK)

cpu_of() { # user+sys clock ticks of the given pids
	local t=0 p
	for p in "$@"; do
		[[ -r /proc/$p/stat ]] && t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$t"
}
tree_of() { # a pid and its children
	echo "$1 $(pgrep -P "$1" | tr '\n' ' ')"
}
wait_sock() {
	local i
	for i in $(seq 200); do [[ -S $1 ]] && return 0; sleep 0.05; done
	log "bench: $1 never appeared"
	return 1
}
wait_port() {
	local i
	for i in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0; sleep 0.05; done
	return 1
}
start_nginx() {
	mkdir -p "$work/nginx"
	deploy/nginx/render.sh "$work/run" "$port" "$work/nginx" 1 >"$work/nginx/nginx.conf"
	nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -e "$work/nginx/error.log" &
	nginx_pid=$!
	pids+=("$nginx_pid")
	wait_port "$port"
}

RESULTS=()
# measure NAME URL SERVER_PIDS NGINX(0/1) [API_PIDS]: wrk, then one result line (and the
# CPU per request of the provider's fake API the server calls, when API_PIDS are given)
measure() {
	local name=$1 url=$2 spids=$3 use_nginx=$4 apids=${5:-} npids="" s0 s1 n0=0 n1=0 a0=0 a1=0 out
	[[ $use_nginx == 1 ]] && npids=$(tree_of "$nginx_pid")
	out="$work/wrk-$name.out"
	s0=$(cpu_of $spids)
	[[ -n $npids ]] && n0=$(cpu_of $npids)
	[[ -n $apids ]] && a0=$(cpu_of $apids)
	BENCH_FILE="${BENCH_EVENTS:-$work/events.tsv}" BENCH_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNS" -d"${SECS}s" \
		--latency -s "${BENCH_LUA:-tests/bench/stripe.lua}" "$url" >"$out"
	s1=$(cpu_of $spids)
	[[ -n $npids ]] && n1=$(cpu_of $npids)
	[[ -n $apids ]] && a1=$(cpu_of $apids)
	local rps p50 p99 reqs non2xx rss cpu_s cpu_n
	rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$out")
	reqs=$(awk '/requests in/ {print $1}' "$out")
	p50=$(awk '$1 == "50%" {print $2}' "$out")
	p99=$(awk '$1 == "99%" {print $2}' "$out")
	non2xx=$(awk '/Non-2xx/ {print $5}' "$out")
	rss=$(for p in $spids; do awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null; done | sort -n | tail -1)
	cpu_s=$(awk -v a="$s0" -v b="$s1" -v n="$reqs" -v t="$tick" 'BEGIN { printf "%.3f", (b - a) / t * 1000 / n }')
	cpu_n=$(awk -v a="$n0" -v b="$n1" -v n="$reqs" -v t="$tick" 'BEGIN { printf "%.3f", (b - a) / t * 1000 / n }')
	[[ $use_nginx == 1 ]] || cpu_n="-"
	RESULTS+=("$(printf '%-22s %8s %9s %9s %10s %9s %9s %8s' "$name" "$rps" "$p50" "$p99" "$cpu_s" "$cpu_n" "${rss:-?}" "${non2xx:-0}")")
	eval "RPS_${name//[^a-zA-Z0-9]/_}=$rps"
	log "bench: $name $rps req/s p50 $p50 p99 $p99 cpu $cpu_s ms + nginx $cpu_n ms, rss ${rss:-?} kB, non-2xx ${non2xx:-0}"
	if [[ -n $apids ]]; then
		local cpu_a
		cpu_a=$(awk -v a="$a0" -v b="$a1" -v n="$reqs" -v t="$tick" 'BEGIN { printf "%.3f", (b - a) / t * 1000 / n }')
		RESULTS+=("$(printf '  %s: the fake API it calls used %s ms of CPU a request' "$name" "$cpu_a")")
		log "bench: $name fake API cpu $cpu_a ms a request"
	fi
	# Where the memory is now: anonymous (heap, stacks, caches) vs pages of mapped files (libraries).
	local p
	for p in $spids; do
		[[ -r /proc/$p/smaps_rollup ]] || continue
		log "bench: $name pid $p: $(awk '/^Rss:/ {r=$2} /^Anonymous:/ {a=$2} END {printf "rss %d kB = anonymous %d kB + file-backed %d kB", r, a, r - a}' "/proc/$p/smaps_rollup")"
		[[ -n ${BENCH_SMAPS:-} ]] && awk '/^[0-9a-f]+-[0-9a-f]+ / {n = $6 == "" ? "[anon]" : $6} /^Rss:/ {r[n] += $2} END {for (k in r) if (r[k] >= 64) printf "    %6d kB %s\n", r[k], k}' "/proc/$p/smaps" | sort -rn >&2
	done
}

case_ceiling() {
	mkdir -p "$work/run"
	build/bench/ok "$work/run/stripe.sock" 32 &
	pids+=($!)
	local ok=$!
	wait_sock "$work/run/stripe.sock"
	start_nginx
	measure ceiling "http://127.0.0.1:$port/webhooks/stripe" "$ok" 1
	stop_all
}

case_tally() { # NAME SYNC PROCESSES
	local name=$1 sync=$2 procs=$3 tp
	rm -rf "$work/run" "$work/db"
	mkdir -p "$work/run" "$work/db"
	export TALLY_DB="$work/db/tally.db"
	bin/tally migrate >/dev/null
	TALLY_SYNCHRONOUS=$sync bin/tally-stripe --listen "$work/run/stripe.sock" --processes "$procs" \
		2>"$work/$name.log" &
	tp=$!
	pids+=("$tp")
	wait_sock "$work/run/stripe.sock"
	sleep 0.2
	start_nginx
	measure "$name" "http://127.0.0.1:$port/webhooks/stripe" "$(tree_of "$tp")" 1
	stored=$(sqlite3 "$TALLY_DB" "SELECT count(*) FROM inbox")
	stop_all
	log "bench: $name stored $stored events; $(grep -ho '"events":[0-9]*,"transactions":[0-9]*,"events_per_transaction_x100":[0-9]*,"checkpoints":[0-9]*' "$work/$name.log" | tr '\n' ' ')"
}

case_peer() { # NAME SYNC
	local name=$1 sync=$2 pp pport
	rm -rf "$work/db"
	mkdir -p "$work/db"
	pport=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
	node tests/bench/peer/server.js "$pport" "$work/db/peer.db" "$secret" "$sync" &
	pp=$!
	pids+=("$pp")
	wait_port "$pport"
	measure "$name" "http://127.0.0.1:$pport/webhooks/stripe" "$pp" 0
	stop_all
}

# App Store notifications through nginx: ONE_TIME_CHARGE pack purchases (~7.5 KB,
# three ES256 JWS each), unique notification and transaction ids, warm chain cache.
case_apple() {
	local tp napple=$((SECS * 4000))
	log "bench: generating $napple signed App Store notifications (~7.5 KB each)"
	node tests/bench/gen-apple.js "$napple" "$work/apple.jsonl" "$work/apple-root.pem"
	cat >"$work/apple.json" <<EOF2
{
  "apple": {"bundle_id": "com.example.tally", "app_apple_id": 1234567890, "roots": ["$work/apple-root.pem"]},
  "products": {
    "credits_100": {"kind": "pack", "credits": 100, "match": {"apple": ["com.example.credits100"]}}
  }
}
EOF2
	rm -rf "$work/run" "$work/db"
	mkdir -p "$work/run" "$work/db"
	export TALLY_DB="$work/db/tally.db"
	TALLY_CONFIG="$work/apple.json" bin/tally migrate >/dev/null
	TALLY_CONFIG="$work/apple.json" bin/tally-appstore --listen "$work/run/appstore.sock" 2>"$work/apple.log" &
	tp=$!
	pids+=("$tp")
	wait_sock "$work/run/appstore.sock"
	start_nginx
	BENCH_LUA=tests/bench/apple.lua BENCH_EVENTS="$work/apple.jsonl" \
		measure apple "http://127.0.0.1:$port/webhooks/appstore" "$(tree_of "$tp")" 1
	log "bench: apple stored $(sqlite3 "$TALLY_DB" "SELECT count(*) FROM inbox") notifications"
	stop_all
	if [[ ! -x build/bench/apple_micro || tests/bench/apple_micro.c -nt build/bench/apple_micro ||
		lib/libtally.a -nt build/bench/apple_micro ]]; then
		gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Ilib $(pkg-config --cflags libcjson) \
			tests/bench/apple_micro.c -o build/bench/apple_micro lib/libtally.a \
			$(pkg-config --libs libcjson sqlite3 libcurl openssl) -lfcgi -lpthread -lm
	fi
	head -1 "$work/apple.jsonl" >"$work/apple-one.json"
	APPLE_MICRO=$(build/bench/apple_micro "$work/apple-root.pem" "$work/apple-one.json" 2 | tr '\n' ';')
}

# The app-facing API: GET /v1/users/{id} and POST .../spend (1 credit, unique keys)
# over 1000 registered users with 100000 credits each, FULL.
case_api() {
	local tp key users=1000 i
	cat >"$work/api.json" <<'EOF2'
{"free_tier": {"signup_credits": 100000, "entitlements": ["basic"]}, "products": {}}
EOF2
	rm -rf "$work/run" "$work/db"
	mkdir -p "$work/run" "$work/db"
	export TALLY_DB="$work/db/tally.db"
	TALLY_CONFIG="$work/api.json" bin/tally migrate >/dev/null
	key=$(TALLY_CONFIG="$work/api.json" bin/tally keys create --name bench --scopes admin --json |
		sed 's/.*"key":"\([^"]*\)".*/\1/')
	TALLY_CONFIG="$work/api.json" bin/tally-api --listen "$work/run/api.sock" 2>"$work/api.log" &
	tp=$!
	pids+=("$tp")
	wait_sock "$work/run/api.sock"
	start_nginx
	log "bench: registering $users users"
	for ((i = 0; i < users; i++)); do
		curl -s -o /dev/null -d "" -H "Authorization: Bearer $key" \
			"http://127.0.0.1:$port/v1/users/bench_user_$i"
	done
	BENCH_LUA=tests/bench/api.lua BENCH_MODE=get BENCH_KEY=$key BENCH_USERS=$users \
		measure api-get "http://127.0.0.1:$port" "$(tree_of "$tp")" 1
	BENCH_LUA=tests/bench/api.lua BENCH_MODE=spend BENCH_KEY=$key BENCH_USERS=$users \
		measure api-spend "http://127.0.0.1:$port" "$(tree_of "$tp")" 1
	log "bench: api-spend left $(sqlite3 "$TALLY_DB" "SELECT count(*) FROM answers") answers"
	stop_all
}

# Google Play pushes through nginx: each a SUBSCRIPTION_PURCHASED of a new purchase token, the
# OIDC token verified against Google's keys (fetched once, then cached), the purchase read from
# the fake Google's subscriptionsv2.get (a node process of its own), then applied, FULL.
case_google() {
	local tp fp ngoogle=$((SECS * 5000)) i
	rm -rf "$work/run" "$work/db" "$work/google"
	mkdir -p "$work/run" "$work/db" "$work/google"
	log "bench: generating $ngoogle Google Play pushes and starting the fake Google"
	node tests/bench/gen-google.js "$ngoogle" "$work/google" 2>"$work/google-fake.log" &
	fp=$!
	pids+=("$fp")
	for i in $(seq 600); do [[ -s $work/google/ready ]] && break; sleep 0.1; done
	[[ -s $work/google/ready ]] || { log "bench: the fake Google never started"; return 1; }
	export TALLY_DB="$work/db/tally.db"
	TALLY_CONFIG="$work/google/tally.json" bin/tally migrate >/dev/null
	TALLY_CONFIG="$work/google/tally.json" GOOGLE_SERVICE_ACCOUNT_FILE="$work/google/sa.json" \
		bin/tally-google --listen "$work/run/google.sock" 2>"$work/google.log" &
	tp=$!
	pids+=("$tp")
	wait_sock "$work/run/google.sock"
	start_nginx
	BENCH_LUA=tests/bench/google.lua BENCH_EVENTS="$work/google/pushes.jsonl" \
		BENCH_AUTH_FILE="$work/google/auth" \
		measure google "http://127.0.0.1:$port/webhooks/google" "$(tree_of "$tp")" 1 "$fp"
	log "bench: google stored $(sqlite3 "$TALLY_DB" "SELECT count(*) FROM inbox") pushes, $(sqlite3 "$TALLY_DB" "SELECT count(*) FROM inbox WHERE state = 'applied'") applied"
	stop_all
}

run_case() { [[ $1 =~ ^($ONLY)$ ]] && "${@:2}" || true; }
run_case ceiling case_ceiling
run_case tally-full case_tally tally-full full 1
run_case tally-normal case_tally tally-normal normal 1
run_case peer-full case_peer peer-full full
run_case peer-normal case_peer peer-normal normal
run_case tally-full-x2 case_tally tally-full-x2 full 2
run_case apple case_apple
run_case api case_api
run_case google case_google

if [[ -n ${BENCH_LONG:-} ]]; then
	# RSS over a long run: unique events first, then the file again (duplicates
	# take the same request path: parse, verify, the inbox lookup, the answer).
	rm -rf "$work/run" "$work/db"
	mkdir -p "$work/run" "$work/db"
	export TALLY_DB="$work/db/tally.db"
	bin/tally migrate >/dev/null
	bin/tally-stripe --listen "$work/run/stripe.sock" 2>/dev/null &
	tp=$!
	pids+=("$tp")
	wait_sock "$work/run/stripe.sock"
	start_nginx
	total=0
	while ((total < 1000000)); do
		BENCH_FILE="$work/events.tsv" BENCH_THREADS=$THREADS wrk -t"$THREADS" -c"$CONNS" -d20s \
			-s tests/bench/stripe.lua "http://127.0.0.1:$port/webhooks/stripe" >"$work/long.out"
		total=$((total + $(awk '/requests in/ {print $1}' "$work/long.out")))
		log "bench: long run: $total requests, handler RSS $(awk '/VmRSS/ {print $2}' /proc/$tp/status) kB (peak $(awk '/VmHWM/ {print $2}' /proc/$tp/status) kB)"
	done
	RESULTS+=("long run: $total requests, RSS $(awk '/VmRSS/ {print $2}' /proc/$tp/status) kB at the end")
	stop_all
fi

# One CGI-mode request: process start, config, database open, verify, apply, commit.
# The last events of the file are sent nowhere else, so each run applies a new event.
cgi="-"
if [[ cgi =~ ^($ONLY)$ ]]; then
	rm -rf "$work/db"
	mkdir -p "$work/db"
	export TALLY_DB="$work/db/tally.db"
	bin/tally migrate >/dev/null
	best=999999999 total=0
	for i in $(seq 20); do
		line=$(sed -n "$((nev - i))p" "$work/events.tsv")
		printf '%s' "${line#*$'\t'}" >"$work/cgi-body"
		export REQUEST_METHOD=POST CONTENT_LENGTH=$(stat -c %s "$work/cgi-body") HTTP_STRIPE_SIGNATURE="${line%%$'\t'*}"
		t0=$EPOCHREALTIME
		bin/tally-stripe <"$work/cgi-body" >/dev/null 2>&1
		t1=$EPOCHREALTIME
		us=$((${t1/./} - ${t0/./}))
		((us < best)) && best=$us
		total=$((total + us))
	done
	unset REQUEST_METHOD CONTENT_LENGTH HTTP_STRIPE_SIGNATURE
	t0=$EPOCHREALTIME
	/bin/true
	t1=$EPOCHREALTIME
	cgi=$(awk -v b="$best" -v m="$((total / 20))" -v t="$((${t1/./} - ${t0/./}))" \
		'BEGIN { printf "best %.1f ms, mean %.1f ms (fork+exec of /bin/true here: %.1f ms)", b / 1000, m / 1000, t / 1000 }')
fi

ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2f", a / b; else printf "-" }'; }
cat <<EOF

tally bench: $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), wrk -t$THREADS -c$CONNS ${SECS}s, ~2 KB signed Stripe events, unique ids
case                      req/s       p50       p99  cpu ms/req  nginx ms  peak RSS kB  non-2xx
$(printf '%s\n' "${RESULTS[@]}")
ratios: tally-full/ceiling $(ratio "${RPS_tally_full:-}" "${RPS_ceiling:-}")   tally-full/peer-full $(ratio "${RPS_tally_full:-}" "${RPS_peer_full:-}")   tally-full/peer-normal $(ratio "${RPS_tally_full:-}" "${RPS_peer_normal:-}")   tally-full-x2/tally-full $(ratio "${RPS_tally_full_x2:-}" "${RPS_tally_full:-}")
one CGI-mode request: $cgi
App Store verification in-process (tests/bench/apple_micro.c): ${APPLE_MICRO:--}
EOF
