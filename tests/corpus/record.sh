#!/usr/bin/env bash
# tests/corpus/record.sh SCENARIO OUTDIR: run one corpus scenario under `cidtrace record --raw`
# and leave its capture in OUTDIR/SCENARIO.raw.
# `tests/corpus/record.sh --list vm|vm-late|host` prints the scenarios of one kind.
#
# Needs root, ./cidtrace and the fixtures (make && make fixtures). The vm scenarios need
# /dev/vhost-vsock: run them inside tests/vm/vm.sh (with vhost_vsock loaded; vm-late: booted
# with --no-vsock); the host scenarios need /dev/kvm. tests/corpus/make-corpus.sh (make
# corpus) runs them all.
#
# A capture is accepted only if `cidtrace replay` gives back the live report and live lines
# byte for byte and the report shows the scenario's key fact (tests/corpus/facts.bash).
#
# Host captures: the host runs other things, and a capture holds the argv of every process
# it saw. They are recorded with --pid $$ (the report keeps only this script's descendants,
# and their ancestors) and then scrubbed (scrub.py): the argv, cwd and executable of every
# process outside this script's tree are blanked. The scrubbed capture must replay to the
# live report but for those processes (this script's ancestors), and to the same live lines.
#
# Only processes this script started are ever signalled, by pid.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CIDTRACE=$ROOT/cidtrace
FIX=$ROOT/build/fixtures
WAIT=$ROOT/tests/vm/vsock-wait.sh
# shellcheck source=tests/corpus/facts.bash
. "$ROOT/tests/corpus/facts.bash"

VM_SCENARIOS=(live_duplicate prebound teardown_race inherited_fd inherited_fd_tracepoint
	scm_rights orphan_holder rebind invalid_cid spinning_threads busy_pager_alive_threads)
VM_LATE_SCENARIOS=(late_load)
HOST_SCENARIOS=(spinning stalled stalled_no_fentry restarted_pager busy_pager_alive
	unregistered_then_pager_exit vmm_exit_first pid_filter_guest_exits)

die() {
	echo "record.sh: $*" >&2
	exit 1
}

if [ "${1:-}" = --list ]; then
	case "${2:-}" in
	vm) printf '%s\n' "${VM_SCENARIOS[@]}" ;;
	vm-late) printf '%s\n' "${VM_LATE_SCENARIOS[@]}" ;;
	host) printf '%s\n' "${HOST_SCENARIOS[@]}" ;;
	*) die "--list vm|vm-late|host" ;;
	esac
	exit 0
fi
[ $# -eq 2 ] || die "usage: record.sh SCENARIO OUTDIR | --list vm|vm-late|host"
SCENARIO=$1
OUT=$2
KIND=""
for s in "${VM_SCENARIOS[@]}"; do [ "$s" = "$SCENARIO" ] && KIND=vm; done
for s in "${VM_LATE_SCENARIOS[@]}"; do [ "$s" = "$SCENARIO" ] && KIND=vm-late; done
for s in "${HOST_SCENARIOS[@]}"; do [ "$s" = "$SCENARIO" ] && KIND=host; done
[ -n "$KIND" ] || die "unknown scenario '$SCENARIO' (--list vm|vm-late|host)"
[ "$(id -u)" -eq 0 ] || die "needs root"
[ -x "$CIDTRACE" ] || die "no $CIDTRACE: run make"
if [ ! -x "$FIX/vsock_holder" ] || [ ! -x "$FIX/uffd_vmm" ]; then
	die "no fixtures: run make fixtures"
fi
case $KIND in
vm) if [ ! -c /dev/vhost-vsock ] || [ ! -e /sys/module/vhost_vsock ]; then
	die "$SCENARIO needs vhost_vsock loaded (run inside tests/vm/vm.sh)"
fi ;;
vm-late) if [ ! -c /dev/vhost-vsock ] || [ -e /sys/module/vhost_vsock ]; then
	die "$SCENARIO needs /dev/vhost-vsock with vhost_vsock not loaded (vm.sh run --no-vsock)"
fi ;;
host) [ -c /dev/kvm ] || die "$SCENARIO needs /dev/kvm" ;;
esac
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

T=$(mktemp -d /tmp/cidtrace-corpus.XXXXXX)
# A Go-style test dir under a scratch root of our own, named after the scenario.
CAMEL=$(sed -E 's/(^|_)([a-z])/\U\2/g' <<<"$SCENARIO")
D="$T/Test$CAMEL/001"
W="$T/w" # ready files and logs: outside the scope, so the report lists only the scenario
mkdir -p "$D" "$W"
R="$T/report.json"
CAP="$T/cap.raw"
LIVE="$T/live.ndjson"
PIDS=() # every process we started or were told about, killed by pid at the end
RPID=""
SAVED_CORE_PATTERN="" SAVED_CORE_PIPE_LIMIT=""

cleanup() {
	local p
	set +e
	[ -n "$RPID" ] && kill -KILL "$RPID" 2>/dev/null
	for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	if [ -n "$SAVED_CORE_PIPE_LIMIT" ]; then
		echo "$SAVED_CORE_PATTERN" >/proc/sys/kernel/core_pattern
		echo "$SAVED_CORE_PIPE_LIMIT" >/proc/sys/kernel/core_pipe_limit
	fi
	wait 2>/dev/null
	if [ -n "${CIDTRACE_CORPUS_KEEP:-}" ]; then
		echo "record.sh: kept $T" >&2
	else
		rm -rf "$T"
	fi
}
trap cleanup EXIT

wait_for() { # SECS file|gone|lines ARGS: tests/vm/vsock-wait.sh
	"$WAIT" "$@"
}

# wait_match FILE REGEX: poll until FILE (the live NDJSON, or the report: its checkpoints
# are compact JSON) matches an extended regex. Pure bash: a poller that forked jq or grep
# would put a process per round in the capture.
exec {NAP}<> <(:)
wait_match() {
	local i text
	for ((i = 0; i < 1200; i++)); do
		text=""
		IFS= read -r -d '' text <"$1" 2>/dev/null || true
		[[ "$text" =~ $2 ]] && return 0
		read -rt 0.05 -u "$NAP" || true
	done
	die "$SCENARIO: timed out waiting for /$2/ in $1"
}

start_record() {
	"$CIDTRACE" record --json -o "$R" --raw "$CAP" --ready-file "$T/ready" \
		--scratch-root "$T" "$@" >"$LIVE" 2>"$T/record.err" &
	RPID=$!
	wait_for 120 file "$T/ready" || die "$SCENARIO: cidtrace never got ready: $(cat "$T/record.err")"
}

stop_record() {
	local st=0
	kill -TERM "$RPID"
	wait "$RPID" || st=$?
	RPID=""
	[ "$st" -eq 0 ] || die "$SCENARIO: cidtrace record exited $st: $(cat "$T/record.err")"
}

bg() { # run a command in the background; remember its pid in BG and PIDS
	"$@" &
	BG=$!
	PIDS+=("$BG")
}

reap() { # PID: wait for a child of ours; sets ST; its pid is no longer ours to kill
	local p keep=()
	ST=0
	wait "$1" || ST=$?
	for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	PIDS=("${keep[@]}")
}

# ---------------------------------------------------------------- vhost-vsock scenarios
# Holders run from a copy under $D (their argv names the test dir). Each scenario has CIDs of
# its own.

H="$D/vsock_holder"

# attempt NAME CID: one --no-hold SET_GUEST_CID attempt; sets ARC (0, 98 EADDRINUSE, 22 EINVAL).
attempt() {
	ARC=0
	"$H" --no-hold --ready "$W/$1.ready" "$2" >"$W/$1.log" 2>&1 || ARC=$?
}

holder() { # NAME CID [options]: a holder in the background; sets HP once it is bound
	local name=$1 cid=$2
	shift 2
	bg "$H" --ready "$W/$name.ready" "$@" "$cid" >"$W/$name.log" 2>&1
	wait_for 60 file "$W/$name.ready" || die "$SCENARIO: holder $name never got ready"
	read -r HP <"$W/$name.ready"
	grep -q "cid=$cid ok" "$W/$name.log" || die "$SCENARIO: holder $name did not bind $cid"
}

expect_rc() { # WHAT GOT WANT
	[ "$2" -eq "$3" ] || die "$SCENARIO: $1 exited $2, expected $3"
}

sc_live_duplicate() {
	start_record --scope "$D"
	holder h 3201
	attempt a 3201
	expect_rc attempt "$ARC" 98
	stop_record
}

sc_prebound() {
	holder h 3202
	start_record --scope "$D"
	attempt a 3202
	expect_rc attempt "$ARC" 98
	stop_record
}

# The holder is dumping core (a pipe core_pattern whose helper waits for our word) while a
# retrier fails exactly 2,000 times; then the dump ends, the CID is freed, and a probe binds it.
sc_teardown_race() {
	local cid=3203
	SAVED_CORE_PATTERN=$(cat /proc/sys/kernel/core_pattern)
	SAVED_CORE_PIPE_LIMIT=$(cat /proc/sys/kernel/core_pipe_limit)
	cat >"$T/core.sh" <<-EOF
		#!/bin/sh
		echo "\$1" >"$T/core.start.tmp" && mv "$T/core.start.tmp" "$T/core.start"
		i=0
		while [ ! -e "$T/core.release" ] && [ \$i -lt 6000 ]; do sleep 0.02; i=\$((i + 1)); done
		cat >/dev/null
		touch "$T/core.end"
	EOF
	chmod +x "$T/core.sh"
	echo "|$T/core.sh %p" >/proc/sys/kernel/core_pattern
	echo 0 >/proc/sys/kernel/core_pipe_limit

	start_record --scope "$D"
	bg sh -c 'ulimit -c unlimited && exec "$@"' sh "$H" --ready "$W/h.ready" $cid >"$W/h.log" 2>&1
	local hp=$BG
	wait_for 60 file "$W/h.ready" || die "holder never got ready"
	kill -SEGV "$hp"
	wait_for 60 file "$T/core.start" || die "the core helper never started"
	ARC=0
	"$H" --no-hold --retry 1999 --interval-us 500 --ready "$W/r.ready" $cid >"$W/r.log" 2>&1 ||
		ARC=$?
	expect_rc retrier "$ARC" 98
	[ "$(grep -c "cid=$cid errno=EADDRINUSE" "$W/r.log")" -eq 2000 ] || die "not 2000 failures"
	touch "$T/core.release"
	reap "$hp"
	expect_rc "the dumping holder" "$ST" 139
	wait_for 60 file "$T/core.end" || die "the core helper never ended"
	attempt p $cid
	expect_rc "the probe after the dump" "$ARC" 0
	stop_record
}

inherited_fd() { # CID [record options]
	local cid=$1
	shift
	start_record --scope "$D" "$@"
	"$H" --fork-child --ready "$W/fc.ready" "$cid" >"$W/fc.log" 2>&1
	read -r HP <"$W/fc.ready"
	PIDS+=("$HP")
	attempt a "$cid"
	expect_rc attempt "$ARC" 98
	stop_record
}

sc_inherited_fd() { inherited_fd 3204; }
sc_inherited_fd_tracepoint() { inherited_fd 3205 --no-fentry; }

# The binder hands its fd to a receiver over SCM_RIGHTS and exits; the receiver holds the CID.
sc_scm_rights() {
	local cid=3206
	start_record --scope "$D"
	bg "$H" --recv "$W/pass.sock" --ready "$W/recv.ready" >"$W/recv.log" 2>&1
	local rp=$BG
	"$H" --send "$W/pass.sock" --ready "$W/send.ready" $cid >"$W/send.log" 2>&1
	wait_for 60 file "$W/recv.ready" || die "the receiver never got the fd"
	attempt a $cid
	expect_rc attempt "$ARC" 98
	[ -e "/proc/$rp" ] || die "the receiver is gone"
	stop_record
}

# The holder's parent (sh) exits at once: the holder is an orphan when the attempt fails.
sc_orphan_holder() {
	local cid=3207
	start_record --scope "$D"
	sh -c 'd=$1; shift; "$@" >"$d/h.log" 2>&1 & echo $! >"$d/h.pid"' sh "$W" \
		"$H" --ready "$W/h.ready" $cid
	read -r HP <"$W/h.pid"
	PIDS+=("$HP")
	wait_for 60 file "$W/h.ready" || die "holder never got ready"
	attempt a $cid
	expect_rc attempt "$ARC" 98
	stop_record
}

sc_rebind() {
	local c1=3208 c2=3209
	start_record --scope "$D"
	holder h $c1 --rebind $c2
	grep -q "cid=$c2 ok" "$W/h.log" || die "no rebind"
	attempt p1 $c1
	expect_rc "probe of the first CID" "$ARC" 0
	attempt p2 $c2
	expect_rc "probe of the second CID" "$ARC" 98
	kill -TERM "$HP"
	reap "$HP"
	stop_record
}

sc_invalid_cid() {
	start_record --scope "$D"
	attempt a 2
	expect_rc attempt "$ARC" 22
	stop_record
}

# vhost_vsock is not loaded when cidtrace starts; the holder's open autoloads it.
sc_late_load() {
	start_record --scope "$D"
	jq -e '.trace.attach.vsock == "tracepoint"' "$R" >/dev/null || die "not in tracepoint mode"
	holder h 3210
	attempt a 3210
	expect_rc attempt "$ARC" 98
	[ -e /sys/module/vhost_vsock ] || die "vhost_vsock did not load"
	stop_record
}

# ---------------------------------------------------------------- userfaultfd scenarios
# A real KVM "firecracker" whose memory a real pager serves over SCM_RIGHTS (tests/bats/uffd.bats).
# The *_threads scenarios run in the VMs, which have no KVM: the vCPUs are plain threads that
# fault through the same handle_userfault() path (CIDTRACE_UFFD_THREADS in uffd.bats).

GUEST_MODE=()
case $SCENARIO in *_threads) GUEST_MODE=(--threads) ;; esac

PID_FILTER=$$ # host: the report's processes are this script's descendants

start_uffd_record() {
	local only=()
	[ "$KIND" = host ] && only=(--pid "$PID_FILTER")
	cp "$FIX/uffd_vmm" "$D/firecracker"
	cp "$FIX/uffd_pager" "$D/hypeman-uffd-pager"
	start_record "${only[@]}" --scope "$D" --checkpoint 0.2 --spin-window 1 "$@"
}

start_pager() { # SOCKNAME; sets PAGER
	bg "$D/hypeman-uffd-pager" --sock "$D/$1" --ready "$W/$1.listening" >/dev/null 2>&1
	PAGER=$BG
	wait_for 60 file "$W/$1.listening" || die "the pager never listened"
}

start_guest() { # fixture options; sets VMM
	start_pager uffd.sock
	bg "$D/firecracker" --sock "$D/uffd.sock" --ready "$W/guest.ready" "${GUEST_MODE[@]}" "$@" \
		>"$T/vmm.log" 2>&1
	VMM=$BG
	wait_for 60 file "$W/guest.ready" || die "the guest never started: $(cat "$T/vmm.log")"
}

sc_spinning() {
	start_uffd_record
	start_guest
	kill -KILL "$PAGER"
	wait_match "$LIVE" '"state":"spinning"'
	stop_record
}

sc_stalled() {
	start_uffd_record
	start_guest --no-spin
	kill -KILL "$PAGER"
	wait_match "$LIVE" '"state":"stalled"'
	stop_record
}

sc_stalled_no_fentry() {
	start_uffd_record --no-fentry
	start_guest --no-spin
	kill -KILL "$PAGER"
	wait_match "$LIVE" '"state":"stalled"'
	stop_record
}

sc_restarted_pager() {
	start_uffd_record
	start_guest --no-spin
	kill -KILL "$PAGER"
	wait_match "$LIVE" '"state":"stalled"'
	start_pager restarted.sock
	wait_match "$R" '"restarted_pager":\{'
	stop_record
}

sc_spinning_threads() { sc_spinning; }

sc_busy_pager_alive() {
	start_uffd_record
	start_guest
	wait_match "$R" '"pages_served":(1[2-9]|[2-9][0-9]|[0-9]{3,})[,}]'
	stop_record
}

sc_busy_pager_alive_threads() { sc_busy_pager_alive; }

sc_unregistered_then_pager_exit() {
	start_uffd_record
	start_guest --unregister-after 3 --unregistered "$W/unregistered"
	wait_for 60 file "$W/unregistered" || die "the guest never unregistered"
	kill -KILL "$PAGER"
	wait_match "$R" '"holding":false'
	stop_record
}

sc_vmm_exit_first() {
	start_uffd_record
	start_guest --no-spin
	kill -KILL "$VMM"
	wait_match "$LIVE" "\"event\":\"exit\",\"pid\":$VMM,"
	kill -KILL "$PAGER"
	wait_match "$R" '"state":"released"'
	stop_record
}

# --pid names another tree (an idle process): the guest and its pager are outside it. They
# exit while cidtrace watches their context, which the report still lists.
sc_pid_filter_guest_exits() {
	bg sleep 600
	PID_FILTER=$BG
	start_uffd_record
	start_guest --no-spin
	wait_match "$R" '"state":"served"'
	kill -KILL "$VMM"
	kill -KILL "$PAGER"
	wait_match "$R" '"state":"released"'
	stop_record
}

# ---------------------------------------------------------------- the capture

cp "$FIX/vsock_holder" "$H"
"sc_$SCENARIO"

# the live run and its replay agree, byte for byte
"$CIDTRACE" replay "$CAP" -o "$T/replay.json" --json >"$T/replay.ndjson" 2>"$T/replay.err" ||
	die "$SCENARIO: replay failed: $(cat "$T/replay.err")"
cmp "$R" "$T/replay.json" || die "$SCENARIO: the replay's report differs from the live one"
cmp "$LIVE" "$T/replay.ndjson" || die "$SCENARIO: the replay's live lines differ"
jq -e '.trace.complete and .trace.raw.complete and .trace.events.lost == 0' "$R" >/dev/null ||
	die "$SCENARIO: an incomplete trace or capture"
corpus_fact_check "$SCENARIO" "$R" || die "$SCENARIO: the report lacks the scenario's key fact"

# Host: blank what every process outside this script's tree ran. The report must stay the live
# one but for the processes outside the tree it lists: the ancestors of those it keeps (this
# script's callers), whose argv, cwd and exe are not the corpus's business.
if [ "$KIND" = host ]; then
	/usr/bin/python3 "$ROOT/tests/corpus/scrub.py" --keep-tree $$ --tree-out "$T/tree" \
		"$CAP" "$T/scrubbed.raw" || die "$SCENARIO: scrub failed"
	"$CIDTRACE" replay "$T/scrubbed.raw" -o "$T/scrubbed.json" --json >"$T/scrubbed.ndjson" \
		2>"$T/replay.err" ||
		die "$SCENARIO: the scrubbed capture does not replay: $(cat "$T/replay.err")"
	# shellcheck disable=SC2016 # jq variables
	in_tree='.processes |= map(select(.pid as $p | $tree | index($p) != null))'
	tree=$(cat "$T/tree")
	# (a check that compares no process would prove nothing; --pid elsewhere lists none)
	[ "$PID_FILTER" != $$ ] || jq -e --argjson tree "$tree" '.processes |
		map(select(.pid as $p | $tree | index($p) != null)) | length > 0' "$R" >/dev/null ||
		die "$SCENARIO: the report lists no process of the tree"
	cmp <(jq -S --argjson tree "$tree" "$in_tree" "$R") \
		<(jq -S --argjson tree "$tree" "$in_tree" "$T/scrubbed.json") ||
		die "$SCENARIO: the scrubbed capture's report differs from the live one"
	cmp "$LIVE" "$T/scrubbed.ndjson" || die "$SCENARIO: the scrubbed capture's live lines differ"
	mv "$T/scrubbed.raw" "$CAP"
fi
cp "$CAP" "$OUT/$SCENARIO.raw"
echo "record.sh: $SCENARIO: $(stat -c %s "$CAP") bytes on $(uname -r)"
