#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# bench/bench.sh CIDTRACE_BINARY - overhead benchmarks for cidtrace (run as root).
#
# Every ratio is measured within this one run (baseline and traced runs alternate), so numbers
# from different machines or different days are never compared with each other.
#
# Environment:
#   BENCH_CHURN_N=20000       processes per churn run
#   BENCH_REPEAT=3            churn runs per side (baseline, traced); medians are reported
#   BENCH_READY_REPEAT=5      start->ready runs per tracer
#   BENCH_BPFTRACE_CHURN=0    1: also one churn run under bpftrace, as a reference
#   BENCH_KEEP=0              1: keep the temp dir (tracer logs, reports)
#
# Exit status is 0 whenever everything could be measured, whether or not targets are met:
# benchmarks are measured, not asserted. It is 1 when a run broke (tracer crashed, never became
# ready, hung on SIGTERM, wrote no report) and 2 for usage or setup errors.
set -euo pipefail

readonly TARGET_SLOWDOWN_PCT=5
readonly TARGET_READY_MS=150
readonly TARGET_RSS_KB=$((10 * 1024))
# cidtrace -v, on its final report write; the groups are bytes, processes, milliseconds.
readonly WRITTEN_RE='cidtrace: report written: ([0-9]+) bytes, ([0-9]+) processes, ([0-9.]+) ms'
# The bpftrace counterpart of cidtrace's exec and exit hooks, kept as small as bpftrace allows.
readonly BPFTRACE_SCRIPT='tracepoint:sched:sched_process_exec,tracepoint:sched:sched_process_exit
	{ @[comm] = count(); }'

N=${BENCH_CHURN_N:-20000}
REPEAT=${BENCH_REPEAT:-3}
READY_REPEAT=${BENCH_READY_REPEAT:-5}
BPFTRACE_CHURN=${BENCH_BPFTRACE_CHURN:-0}
KEEP=${BENCH_KEEP:-0}

die() {
	echo "bench: $*" >&2
	exit 2
}

[[ $# -eq 1 ]] || die "usage: $0 CIDTRACE_BINARY"
for v in N REPEAT READY_REPEAT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, got '${!v}'"
done
[[ -x $1 ]] || die "$1: not an executable (build it first: make)"
CIDTRACE=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
command -v gcc >/dev/null || die "gcc not found (apt-get install gcc)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"
((EUID == 0)) || echo "bench: warning: not root; BPF tracers will most likely fail" >&2

TMP=$(mktemp -d /tmp/cidtrace-bench.XXXXXX)
# shellcheck disable=SC2317 # only reached through the EXIT trap
cleanup() {
	if [[ $KEEP == 1 ]]; then
		echo "bench: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

# Set once any run breaks; the script keeps measuring the rest and reports it at the end.
BROKEN=0

gcc -O2 -Wall -Wextra -o "$TMP/churn" "$HERE/churn.c"
gcc -O2 -Wall -Wextra -o "$TMP/ready_wait" "$HERE/ready_wait.c"
CHURN_CMD=$(printf '%q -n %q' "$TMP/churn" "$N")

HAVE_BPFTRACE=0
if command -v bpftrace >/dev/null; then
	HAVE_BPFTRACE=1
	# bpftrace 0.17 reads tracepoint formats from tracefs and fails without it.
	if ! grep -q ' tracefs ' /proc/mounts; then
		if mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null; then
			echo "bench: mounted tracefs on /sys/kernel/tracing (left mounted)" >&2
		else
			echo "bench: warning: tracefs not mounted and mount failed" >&2
		fi
	fi
fi

# ---- helpers -----------------------------------------------------------------------------

# kv KEY LINE: value of KEY=value in a line of space-separated pairs.
kv() {
	awk -v k="$1" '{ for (i = 1; i <= NF; i++)
		if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' <<<"$2"
}

# median V...: middle value (mean of the middle two for an even count); "n/a" if none.
median() {
	if (($# == 0)); then
		echo n/a
		return
	fi
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# max V... / min V...: extremes; n/a if none.
max() {
	(($#)) || set -- n/a
	printf '%s\n' "$@" | sort -g | tail -n 1
}

min() {
	(($#)) || set -- n/a
	printf '%s\n' "$@" | sort -g | head -n 1
}

# calc DECIMALS EXPR: floating point arithmetic; n/a if any operand is n/a.
calc() {
	local dp=$1
	shift
	case "$*" in *n/a*)
		echo n/a
		return
		;;
	esac
	awk "BEGIN { printf \"%.${dp}f\", $* }"
}

# with V SUFFIX: V followed by its unit, or a bare n/a.
with() {
	if [[ $1 == n/a ]]; then echo n/a; else echo "$1$2"; fi
}

# pct V: signed percentage for the table ("+3.2%", "-0.4%", "n/a").
pct() {
	case "$1" in n/a) echo n/a ;; -*) echo "$1%" ;; *) echo "+$1%" ;; esac
}

# verdict VALUE TARGET: OK if VALUE <= TARGET, MISS otherwise, n/a if unmeasured.
verdict() {
	case "$1" in n/a | "") echo n/a ;; *) awk -v v="$1" -v t="$2" \
		'BEGIN { print (v + 0 <= t + 0) ? "OK" : "MISS" }' ;; esac
}

# Show why a run broke without drowning the output.
show_log() {
	echo "    --- last lines of $1:"
	tail -n 15 "$1" 2>/dev/null | sed 's/^/    | /' || true
}

# ---- header ------------------------------------------------------------------------------

echo "cidtrace benchmark  $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "  binary:  $CIDTRACE"
echo "  kernel:  $(uname -r)   cpus: $(nproc)   $(grep -m1 'model name' /proc/cpuinfo |
	sed 's/.*: //')"
((HAVE_BPFTRACE)) && echo "  bpftrace: $(bpftrace --version 2>&1 | head -n 1)"
echo "  churn:   $N x fork+exec+wait /bin/true; runs per side: $REPEAT, alternating"
read -r load1 _ </proc/loadavg
echo "  load:    $load1 (1 min)"
# Other work on the box (a VM test, a build) moves churn times by more than the 5% target.
if awk -v l="$load1" 'BEGIN { exit !(l > 0.5) }'; then
	echo "  warning: the machine is not idle; churn ratios will be noisy"
fi
echo

# ---- process churn -----------------------------------------------------------------------

# Warm the page cache and the dynamic loader path so run 1 is not the odd one out.
"$TMP/churn" -n $(((N + 9) / 10)) >/dev/null

base_s=() traced_s=() base_cpu=() traced_cpu=()
recv=() lost=() hwm=() startup_hwm=() rss=() maxrss=() wr_ms=() stop_ms=()
wr_bytes=n/a wr_procs=n/a lost_total=0

churn_baseline() {
	local i=$1 out t

	out=$("$TMP/churn" -n "$N") || die "churn failed"
	t=$(kv elapsed_s "$out")
	base_s+=("$t")
	base_cpu+=("$(kv cpu_s "$out")")
	printf '  run %d  baseline  %7.3f s  %5.0f proc/s  cpu %7.3f s\n' "$i" "$t" \
		"$(kv iter_per_s "$out")" "$(kv cpu_s "$out")"
}

churn_traced() {
	local i=$1
	local ready="$TMP/churn.ready" report="$TMP/churn-$i.json" log="$TMP/churn-$i.log"
	local out rc=0 churn_line rw_line t ev r=n/a l=n/a w ms

	rm -f "$ready" "$report"
	out=$("$TMP/ready_wait" -f "$ready" -t 30 -k 60 -o "$log" -x "$CHURN_CMD" -- \
		"$CIDTRACE" record -q -o "$report" --ready-file "$ready" -v \
		2>>"$TMP/ready_wait.err") || rc=$?
	churn_line=$(grep '^churn:' <<<"$out" || true)
	rw_line=$(grep '^ready_wait:' <<<"$out" || true)
	if ((rc != 0)) || [[ -z $churn_line ]]; then
		echo "  run $i  traced    BROKEN (ready_wait exit $rc: $rw_line)"
		show_log "$log"
		show_log "$TMP/ready_wait.err"
		BROKEN=1
		return
	fi
	t=$(kv elapsed_s "$churn_line")
	traced_s+=("$t")
	traced_cpu+=("$(kv cpu_s "$churn_line")")
	hwm+=("$(kv hwm_kb "$rw_line")")
	startup_hwm+=("$(kv startup_hwm_kb "$rw_line")")
	rss+=("$(kv rss_kb "$rw_line")")
	maxrss+=("$(kv maxrss_kb "$rw_line")")
	stop_ms+=("$(kv stop_ms "$rw_line")")

	if [[ -s $report ]] && ev=$(jq -er '.trace.events | "\(.received) \(.lost)"' "$report" \
		2>/dev/null); then
		read -r r l <<<"$ev"
	fi
	if [[ $r =~ ^[0-9]+$ && $l =~ ^[0-9]+$ ]]; then
		recv+=("$r")
		lost+=("$l")
		lost_total=$((lost_total + l))
	else
		echo "  run $i  no integer .trace.events.{received,lost} in $report"
		r=n/a l=n/a
		BROKEN=1
	fi

	# The last such line is the final write; --checkpoint may have written earlier ones.
	w=$(sed -nE "s/.*$WRITTEN_RE.*/\\1 \\2 \\3/p" "$log" | tail -n 1)
	if [[ -n $w ]]; then
		read -r wr_bytes wr_procs ms <<<"$w"
		wr_ms+=("$ms")
	fi
	printf '  run %d  traced    %7.3f s  %5.0f proc/s  cpu %7.3f s  lost %s/%s  VmHWM %s kB\n' \
		"$i" "$t" "$(kv iter_per_s "$churn_line")" "$(kv cpu_s "$churn_line")" "$l" "$r" \
		"$(kv hwm_kb "$rw_line")"
}

echo "Process churn"
# Pairs alternate their order (B T, T B, B T, ...) so that a machine getting steadily faster
# or slower during the benchmark does not favour one side.
for ((i = 1; i <= REPEAT; i++)); do
	if ((i % 2)); then
		churn_baseline "$i"
		churn_traced "$i"
	else
		churn_traced "$i"
		churn_baseline "$i"
	fi
done

base_med=$(calc 3 "$(median "${base_s[@]}")")
traced_med=$(calc 3 "$(median "${traced_s[@]}")")
slowdown=$(calc 1 "($(median "${traced_s[@]}") / $(median "${base_s[@]}") - 1) * 100")
base_cpu_med=$(calc 3 "$(median "${base_cpu[@]}")")
traced_cpu_med=$(calc 3 "$(median "${traced_cpu[@]}")")
cpu_slowdown=$(calc 1 "($(median "${traced_cpu[@]}") / $(median "${base_cpu[@]}") - 1) * 100")
recv_med=$(median "${recv[@]}")
((${#lost[@]})) || lost_total=n/a
per_proc=$(calc 2 "$recv_med / $N")
# The spread says how far apart identical runs land on this machine right now; a slowdown
# smaller than it is not resolved, and the summary says so.
base_spread=$(calc 1 "($(max "${base_s[@]}") - $(min "${base_s[@]}")) / $base_med * 100")
traced_spread=$(calc 1 "($(max "${traced_s[@]}") - $(min "${traced_s[@]}")) / $traced_med * 100")
echo "  median  baseline $(with "$base_med" " s") (spread $(with "$base_spread" %))," \
	"traced $(with "$traced_med" " s") (spread $(with "$traced_spread" %)): $(pct "$slowdown")"
echo

# ---- time to ready -----------------------------------------------------------------------

# ready_once READY_WAIT_ARGS...: prints "READY_MS RC", READY_MS being n/a if it never got
# ready and RC the exit status of ready_wait (3: the tracer did not exit 0 after SIGTERM).
ready_once() {
	local line rc=0 ms

	line=$("$TMP/ready_wait" "$@" 2>>"$TMP/ready_wait.err") || rc=$?
	ms=$(kv ready_ms "$(grep '^ready_wait:' <<<"$line" || true)")
	[[ -n $ms && $ms != -1* ]] || ms=n/a
	echo "$ms $rc"
}

ct_ready=() bt_attaching=() bt_attached=()
echo "Time to ready (start -> ready, ms)"
for ((i = 1; i <= READY_REPEAT; i++)); do
	ready="$TMP/ready.ready" log="$TMP/ready-$i.log"
	rm -f "$ready"
	read -r ms rc < <(ready_once -f "$ready" -t 30 -k 10 -o "$log" -- \
		"$CIDTRACE" record -q -o "$TMP/ready-$i.json" --ready-file "$ready")
	# Stopping right after ready is part of the contract too: SIGTERM must not be lost.
	if [[ $ms == n/a ]] || ((rc != 0)); then
		echo "  run $i  cidtrace BROKEN (ready_wait exit $rc)"
		show_log "$log"
		BROKEN=1
	fi
	[[ $ms == n/a ]] || ct_ready+=("$ms")

	a=n/a b=n/a
	if ((HAVE_BPFTRACE)); then
		# "Attaching N probes..." comes before bpftrace loads and attaches anything; it is
		# what a user sees, but the tracer is not tracing yet.
		# bpftrace 0.17 loses a SIGTERM that lands before its poll loop starts, so it gets
		# a short grace period before SIGKILL; its shutdown is not what is measured here.
		read -r a _ < <(ready_once -l 'Attaching ' -t 30 -k 1 \
			-o "$TMP/bt-attaching-$i.log" -- bpftrace -e "$BPFTRACE_SCRIPT")
		# This marker (bpftrace's own test hook) is printed once every probe is attached:
		# the same point at which cidtrace creates its ready file.
		read -r b _ < <(__BPFTRACE_NOTIFY_PROBES_ATTACHED=1 ready_once \
			-l __BPFTRACE_NOTIFY_PROBES_ATTACHED -t 30 -k 1 \
			-o "$TMP/bt-attached-$i.log" -- bpftrace -e "$BPFTRACE_SCRIPT")
		[[ $a == n/a ]] || bt_attaching+=("$a")
		[[ $b == n/a ]] || bt_attached+=("$b")
	fi
	printf '  run %d  cidtrace %s   bpftrace "Attaching" %s   bpftrace attached %s\n' \
		"$i" "$ms" "$a" "$b"
done
ct_ready_med=$(calc 1 "$(median "${ct_ready[@]}")")
bt_attaching_med=$(calc 1 "$(median "${bt_attaching[@]}")")
bt_attached_med=$(calc 1 "$(median "${bt_attached[@]}")")
echo

# ---- optional reference: churn under bpftrace --------------------------------------------

bt_churn=n/a bt_hwm=n/a
if [[ $BPFTRACE_CHURN == 1 && $HAVE_BPFTRACE == 1 ]]; then
	echo "Process churn under bpftrace (reference, 1 run)"
	out=$("$TMP/ready_wait" -l 'Attaching ' -t 30 -k 10 -o "$TMP/bt-churn.log" \
		-x "$CHURN_CMD" -- bpftrace -e "$BPFTRACE_SCRIPT" 2>>"$TMP/ready_wait.err") || true
	churn_line=$(grep '^churn:' <<<"$out" || true)
	if [[ -n $churn_line ]]; then
		bt_churn=$(calc 3 "$(kv elapsed_s "$churn_line")")
		bt_hwm=$(kv hwm_kb "$(grep '^ready_wait:' <<<"$out")")
		echo "  $bt_churn s, VmHWM $bt_hwm kB"
	else
		echo "  failed"
		show_log "$TMP/bt-churn.log"
	fi
	echo
fi

# ---- summary -----------------------------------------------------------------------------

hwm_max=$(max "${hwm[@]}")
startup_hwm_max=$(max "${startup_hwm[@]}")
rss_max=$(max "${rss[@]}")
maxrss_max=$(max "${maxrss[@]}")
wr_ms_med=$(calc 3 "$(median "${wr_ms[@]}")")
stop_ms_med=$(calc 1 "$(median "${stop_ms[@]}")")
# mb KB: kilobytes as "12.3 MB".
mb() {
	with "$(calc 1 "$1 / 1024")" " MB"
}

bt_hwm_col=-
[[ $bt_hwm == n/a ]] || bt_hwm_col=$(mb "$bt_hwm")

row() {
	printf '%-36s %12s %12s %14s %10s  %s\n' "$@"
}

echo "Summary (medians; churn n=$N x$REPEAT per side, ready x$READY_REPEAT)"
row "metric" "baseline" "cidtrace" "ratio/value" "target" "status"
row "------------------------------------" "------------" "------------" "--------------" \
	"----------" "------"
row "churn time, s (vs untraced)" "$base_med" "$traced_med" "$(pct "$slowdown")" \
	"<= ${TARGET_SLOWDOWN_PCT}%" "$(verdict "$slowdown" $TARGET_SLOWDOWN_PCT)"
row "churn CPU user+sys, s (vs untraced)" "$base_cpu_med" "$traced_cpu_med" \
	"$(pct "$cpu_slowdown")" "-" "info"
row "events lost (sum over runs)" "-" "$lost_total" "$lost_total" "0" \
	"$(verdict "$lost_total" 0)"
row "events received (median run)" "-" "$recv_med" "$(with "$per_proc" /proc)" "-" "info"
row "ready, ms (vs bpftrace Attaching)" "$bt_attaching_med" "$ct_ready_med" \
	"$(with "$(calc 2 "$ct_ready_med / $bt_attaching_med")" x)" "<= $TARGET_READY_MS" \
	"$(verdict "$ct_ready_med" $TARGET_READY_MS)"
row "ready, ms (vs bpftrace attached)" "$bt_attached_med" "$ct_ready_med" \
	"$(with "$(calc 2 "$ct_ready_med / $bt_attached_med")" x)" "<= $TARGET_READY_MS" \
	"$(verdict "$ct_ready_med" $TARGET_READY_MS)"
row "peak RSS at start-up (BTF load)" "-" "$(mb "$startup_hwm_max")" \
	"$(with "$startup_hwm_max" " kB")" "-" "info"
row "peak RSS during churn (VmHWM)" "$bt_hwm_col" "$(mb "$hwm_max")" \
	"$(with "$hwm_max" " kB")" "<= $((TARGET_RSS_KB / 1024)) MB" \
	"$(verdict "$hwm_max" $TARGET_RSS_KB)"
row "RSS at end of churn (VmRSS)" "-" "$(mb "$rss_max")" "$(with "$rss_max" " kB")" "-" "info"
row "peak RSS incl. report (ru_maxrss)" "-" "$(mb "$maxrss_max")" \
	"$(with "$maxrss_max" " kB")" "-" "info"
row "final report write, ms" "-" "$wr_ms_med" "$(with "$wr_bytes" " B")" "-" "info"
row "processes in final report" "-" "$wr_procs" "-" "-" "info"
row "SIGTERM -> exit (incl. write), ms" "-" "$stop_ms_med" "-" "-" "info"
if [[ $bt_churn != n/a ]]; then
	row "churn time, s, under bpftrace (ref)" "$base_med" "$bt_churn" \
		"$(pct "$(calc 1 "($bt_churn / $base_med - 1) * 100")")" "-" "info"
fi

noisy=$(awk -v b="$base_spread" -v c="$traced_spread" -v t="$TARGET_SLOWDOWN_PCT" \
	'BEGIN { print (b != "n/a" && c != "n/a" && (b + 0 > t + 0 || c + 0 > t + 0)) ? 1 : 0 }')
if ((noisy)); then
	echo
	echo "note: runs spread $base_spread% (baseline) and $traced_spread% (traced)," \
		"more than the ${TARGET_SLOWDOWN_PCT}% target,"
	echo "      so the churn ratio is within noise. Rerun on an idle machine or with a larger" \
		"BENCH_REPEAT."
fi

if ((BROKEN)); then
	echo
	echo "bench: some runs broke; see above (BENCH_KEEP=1 keeps the logs)" >&2
	exit 1
fi
exit 0
