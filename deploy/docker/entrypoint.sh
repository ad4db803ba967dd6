#!/usr/bin/env bash
# The container's processes, under tini: migrate the database, start each
# handler on its socket, nginx in front on TALLY_PORT (8080), and the job
# runner (jobs.sh). When any of them exits, stop the others and exit 1, so
# the container stops and its restart policy starts it again. SIGTERM
# (docker stop) stops them all: handlers answer the requests in flight.
#
# Environment (besides tally's own, docs/configuration.md):
#   TALLY_HANDLERS  handlers to serve, space-separated (default: every one built)
#   TALLY_PORT      nginx's port (8080)        NGINX_WORKERS  worker processes (2)
#   TALLY_MIGRATE   0: do not run `tally migrate` at start (default 1)
#   TALLY_HOME, TALLY_RUN_DIR, NGINX_DIR   /opt/tally, /run/tally, /tmp/tally-nginx
set -euo pipefail
home=${TALLY_HOME:-/opt/tally}
run=${TALLY_RUN_DIR:-/run/tally}
ngdir=${NGINX_DIR:-/tmp/tally-nginx}
port=${TALLY_PORT:-8080}
handlers=${TALLY_HANDLERS:-$(paste -sd ' ' "$home/handlers")}

say() { printf '{"prog":"entrypoint","msg":"%s"}\n' "$*" >&2; }

if [[ ${TALLY_MIGRATE:-1} != 0 ]]; then
	"$home/bin/tally" migrate >&2
fi

pids=()
stop() {
	trap - TERM INT
	((${#pids[@]})) && kill -TERM "${pids[@]}" 2>/dev/null
	wait || true
}
trap 'say "stopping"; stop; exit 0' TERM INT

mkdir -p "$run" "$ngdir"
for h in $handlers; do
	if [[ ! $h =~ ^[a-z0-9-]+$ || ! -x $home/bin/tally-$h ]]; then
		say "no such handler: $h"
		exit 2
	fi
	"$home/bin/tally-$h" --listen "$run/$h.sock" &
	pids+=($!)
done
"$home/deploy/nginx/render.sh" "$run" "$port" "$ngdir" "${NGINX_WORKERS:-2}" >"$ngdir/nginx.conf"
# nginx's log to the container's log.
ln -sf /dev/stderr "$ngdir/error.log"
nginx -p "$ngdir" -c "$ngdir/nginx.conf" -e /dev/stderr &
pids+=($!)
"$home/deploy/docker/jobs.sh" --bin "$home/bin" &
pids+=($!)
say "serving on port $port: $handlers"

# The first to exit ends the container (wait -n returns when one does).
wait -n "${pids[@]}" || true
say "a process exited: stopping the others"
stop
exit 1
