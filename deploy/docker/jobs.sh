#!/usr/bin/env bash
# The container's job runner, in place of cron (which needs root to run jobs
# as another user): once a minute, start every job of deploy/schedules whose
# bin/tally-NAME exists and whose period divides the minutes since the epoch,
# the times cron would pick in UTC. A job still running from its previous turn
# is not started again (and each job takes its own lease anyway). Job logs
# (JSON lines) go to this script's stderr, i.e. the container's log.
#
#   deploy/docker/jobs.sh [--bin DIR] [--schedules FILE] [--once EPOCH_SECONDS]
# --once runs the jobs due at that minute, waits for them and exits (tests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=deploy/lib.sh
. "$here/../lib.sh"

bin=/opt/tally/bin schedules="$here/../schedules" once=''
render_options "bin schedules once" "$@" || render_usage "$0"
[[ -z $once || $once =~ ^[0-9]+$ ]] || render_usage "$0"

declare -A running=()

# Start the jobs due at minute number $1 (minutes since the epoch).
run_due() {
	local minute=$1 name minutes args pid list
	local -a argv
	list=$(schedule_read "$schedules" "$bin") || return
	while read -r name minutes args; do
		[[ -n $name ]] || continue
		((minute % minutes == 0)) || continue
		pid=${running[$name]:-}
		if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
			echo "{\"prog\":\"jobs.sh\",\"msg\":\"still running, not started again\",\"job\":\"$name\"}" >&2
			continue
		fi
		read -r -a argv <<<"$args"
		"$bin/tally-$name" "${argv[@]+"${argv[@]}"}" &
		running[$name]=$!
	done <<<"$list"
}

if [[ -n $once ]]; then
	run_due $((once / 60))
	rc=0
	for pid in "${running[@]}"; do wait "$pid" || rc=1; done
	exit "$rc"
fi

sleeper=''
trap 'kill ${sleeper:+"$sleeper"} "${running[@]}" 2>/dev/null; exit 0' TERM INT
# Check the table is well formed before the first minute comes.
schedule_read "$schedules" "$bin" >/dev/null
last=$(($(date +%s) / 60))
while :; do
	# Sleep to the next minute boundary (in the background, so TERM is taken at once).
	sleep $((60 - $(date +%s) % 60)) &
	sleeper=$!
	wait "$sleeper" || true
	now=$(($(date +%s) / 60))
	((now > last)) || continue
	last=$now
	run_due "$now"
done
