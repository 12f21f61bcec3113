# shellcheck shell=sh
# What job-started.sh, job-completed.sh and cidtrace-job.sh share: one long-running
# `cidtrace record` (its --scope covering every job's directory), and one slice of its report
# per job. Sourced, not run. POSIX sh with GNU date (%N); jq reads the report's updated_at.
#
# Settings, from the environment:
#   CIDTRACE          the cidtrace binary (default: cidtrace, from PATH)
#   CIDTRACE_REPORT   the recorder's -o (default /var/lib/cidtrace/report.json)
#   CIDTRACE_PID      the recorder's pid, or of the sudo that runs it; else the first line
#                     of CIDTRACE_PIDFILE (default /run/cidtrace.pid); else systemd's
#                     cidtrace.service
#   CIDTRACE_WAIT     seconds to wait for the checkpoint SIGHUP asks for (default 30)
#   CIDTRACE_SUDO     1: signal the recorder, read its report and slice it through `sudo -n`
#                     (a recorder run as root by another user, or by systemd)

CIDTRACE=${CIDTRACE:-cidtrace}
CIDTRACE_REPORT=${CIDTRACE_REPORT:-/var/lib/cidtrace/report.json}

ct_say() {
	printf 'cidtrace hook: %s\n' "$*" >&2
}

# Now, as the report writes times: RFC 3339 UTC with microseconds. Same-format strings
# compare as their times do.
ct_now() {
	date -u +%Y-%m-%dT%H:%M:%S.%6NZ
}

# A command, through `sudo -n` when CIDTRACE_SUDO=1.
ct_priv() {
	if [ "${CIDTRACE_SUDO:-0}" = 1 ]; then
		sudo -n -- "$@"
	else
		"$@"
	fi
}

# The recorder's pid on stdout; fails when none can be told.
ct_recorder_pid() {
	ct_pid=${CIDTRACE_PID:-}
	if [ -z "$ct_pid" ] && [ -r "${CIDTRACE_PIDFILE:-/run/cidtrace.pid}" ]; then
		IFS= read -r ct_pid <"${CIDTRACE_PIDFILE:-/run/cidtrace.pid}" || true
	fi
	if [ -z "$ct_pid" ] && command -v systemctl >/dev/null 2>&1; then
		ct_pid=$(systemctl show --property MainPID --value cidtrace.service 2>/dev/null) || ct_pid=
	fi
	# digits only and above 1: `kill -HUP -1` or `kill -HUP 0` would reach every process
	case $ct_pid in
	'' | 0 | 1 | 0* | *[!0-9]*)
		ct_say "no recorder pid (set CIDTRACE_PID or CIDTRACE_PIDFILE): '$ct_pid'"
		return 1
		;;
	esac
	# a stale pid file must not hang up whatever took the pid over
	ct_comm=$(cat "/proc/$ct_pid/comm" 2>/dev/null) || ct_comm=
	case $ct_comm in
	cidtrace | sudo) printf '%s\n' "$ct_pid" ;;
	*)
		ct_say "pid $ct_pid is not cidtrace but '$ct_comm'"
		return 1
		;;
	esac
}

# The recorder's report has a checkpoint written after $1 (a ct_now time): ask for one with
# SIGHUP, which the recorder answers asynchronously, then wait for it up to CIDTRACE_WAIT
# seconds. Without it (no pid, or the wait ran out) the latest checkpoint is what there is:
# say so and go on.
ct_checkpoint() {
	ct_wait_s=${CIDTRACE_WAIT:-30}
	case $ct_wait_s in
	'' | *[!0-9]*) ct_wait_s=30 ;;
	esac
	if ct_pid=$(ct_recorder_pid); then
		ct_priv kill -HUP "$ct_pid" || ct_say "cannot signal the recorder (pid $ct_pid)"
	fi
	ct_tries=$((ct_wait_s * 5))
	# shellcheck disable=SC2016 # $t is jq's
	until ct_priv jq -e --arg t "$1" '.trace.updated_at > $t' "$CIDTRACE_REPORT" \
		>/dev/null 2>&1; do
		ct_tries=$((ct_tries - 1))
		if [ "$ct_tries" -le 0 ]; then
			ct_say "no checkpoint of $CIDTRACE_REPORT after $1 within $ct_wait_s s: slicing the latest"
			return 0
		fi
		sleep 0.2
	done
}

# The slice of job dir $1 from $2 to $3 (ct_now times) in $4: cidtrace-slice.json (a report
# of its own: `cidtrace report` reads it), .txt and .html.
ct_slice() {
	mkdir -p -- "$4"
	ct_status=0
	for ct_fmt in json text html; do
		case $ct_fmt in
		text) ct_ext=txt ;;
		*) ct_ext=$ct_fmt ;;
		esac
		ct_priv "$CIDTRACE" report "$CIDTRACE_REPORT" --scope "$1" --since "$2" --until "$3" \
			--format "$ct_fmt" -o "$4/cidtrace-slice.$ct_ext" || ct_status=$?
	done
	return "$ct_status"
}
