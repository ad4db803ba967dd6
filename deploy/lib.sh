# shellcheck shell=bash
# What the scripts of deploy/ share, sourced by each: their usage message and
# options, and the one reader of deploy/schedules, so that systemd/render.sh,
# cron/render.sh and docker/jobs.sh agree on which jobs run and when.

# render_usage SCRIPT: print SCRIPT's comment header (its usage) and exit 2.
render_usage() {
	sed -n '2,/^[^#]/{/^#/p}' "$1" >&2
	exit 2
}

# render_options "NAME..." ARGS...: each --NAME VALUE of ARGS whose NAME is in
# the list sets the variable NAME (dashes as underscores). Status 2 on
# anything else.
render_options() {
	local allowed=" $1 " name
	shift
	while (($#)); do
		name=${1#--}
		[[ $1 == --* && $# -ge 2 && $allowed == *" $name "* ]] || return 2
		printf -v "${name//-/_}" '%s' "$2"
		shift 2
	done
}

# render_paths PATH...: status 2 (message on stderr) unless each is absolute
# and free of spaces and %, which crontab lines and unit files treat specially.
render_paths() {
	local p
	for p in "$@"; do
		if [[ $p != /* || $p == *[[:space:]%]* ]]; then
			echo "$0: $p: paths must be absolute, without spaces or %" >&2
			return 2
		fi
	done
}

# schedule_minutes EVERY: print the period in minutes; status 1 when EVERY is
# not Nm with N dividing 60, Nh with N dividing 24, or 1d.
schedule_minutes() {
	local every=$1 n
	case $every in
	[1-9]m | [1-6][0-9]m) n=${every%m} && ((60 % n == 0)) && echo "$n" ;;
	[1-9]h | 1[0-9]h | 2[0-4]h) n=${every%h} && ((24 % n == 0)) && echo $((n * 60)) ;;
	1d) echo 1440 ;;
	*) return 1 ;;
	esac
}

# schedule_cron MINUTES: the five crontab time fields.
schedule_cron() {
	local m=$1
	if ((m == 1)); then
		echo '* * * * *'
	elif ((m < 60)); then
		echo "*/$m * * * *"
	elif ((m == 60)); then
		echo '0 * * * *'
	elif ((m < 1440)); then
		echo "0 */$((m / 60)) * * *"
	else
		echo '0 0 * * *'
	fi
}

# schedule_calendar MINUTES: the same times as a systemd OnCalendar= value.
schedule_calendar() {
	local m=$1
	if ((m < 60)); then
		printf '*-*-* *:00/%02d:00\n' "$m"
	elif ((m == 60)); then
		echo '*-*-* *:00:00'
	elif ((m < 1440)); then
		printf '*-*-* 00/%02d:00:00\n' $((m / 60))
	else
		echo '*-*-* 00:00:00'
	fi
}

# schedule_read FILE BIN_DIR: print "NAME MINUTES [ARGS...]" for each line of
# FILE whose BIN_DIR/tally-NAME is executable. A malformed line is an error
# (status 2, message on stderr) even when its job is not built.
schedule_read() {
	local file=$1 bin=$2 line name every args n lineno=0
	while IFS= read -r line || [[ -n $line ]]; do
		lineno=$((lineno + 1))
		line=${line%%#*}
		name='' every='' args=''
		read -r name every args <<<"$line" || true
		[[ -n $name ]] || continue
		if [[ ! $name =~ ^[a-z][a-z0-9-]*$ ]] || ! n=$(schedule_minutes "$every") ||
			[[ ! $args =~ ^[A-Za-z0-9_=.,:/\ -]*$ ]]; then
			echo "$file:$lineno: expected \"NAME EVERY [ARGS]\" (EVERY like 15m, 6h, 1d): $line" >&2
			return 2
		fi
		[[ -x $bin/tally-$name ]] || continue
		echo "$name $n${args:+ $args}"
	done <"$file"
}
