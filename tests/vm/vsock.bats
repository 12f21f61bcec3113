#!/usr/bin/env bats
# vhost-vsock CID conflicts as the report records them, with real QEMUs and the vsock_holder
# fixture. Runs INSIDE a tests/vm VM (root, a kernel with vhost_vsock), e.g.
#
#   tests/vm/vm.sh run 6.12 -- bats --tap tests/vm/vsock.bats
#
# and skips elsewhere. Needs ./cidtrace and the fixtures (make && make fixtures).
#
# Every test uses CIDs of its own (31xx), so that a holder outliving its test by a moment
# cannot disturb the next. Under TCG a QEMU takes seconds to start and every shell command of
# a bats test costs a few hundred ms (bats' DEBUG trap), so only the scenarios about a real VMM
# use QEMU, polling happens in vsock-wait.sh, and each test asserts with few jq calls. When a
# test fails, stop_record has printed the report's cids and findings, and with CIDTRACE_VM_OUT
# set the test's whole directory is copied there.

load ../bats/helper
bats_require_minimum_version 1.5.0

# QEMU starts and BPF loads are slow under TCG; a hung test must still end.
: "${BATS_TEST_TIMEOUT:=180}"

HOLDER_BIN="$BATS_TEST_DIRNAME/../../build/fixtures/vsock_holder"
WAIT="$BATS_TEST_DIRNAME/vsock-wait.sh"
QEMU=$(command -v qemu-system-x86_64 || true)

# Keep the shared helpers under other names and wrap them.
eval "bats_helper_$(declare -f setup)"
eval "bats_helper_$(declare -f teardown)"
eval "bats_helper_$(declare -f stop_record)"

setup() {
	[ -c /dev/vhost-vsock ] || skip "no /dev/vhost-vsock (run inside tests/vm/vm.sh)"
	[ "$(id -u)" -eq 0 ] || skip "needs root"
	if [ ! -x "$HOLDER_BIN" ]; then
		echo "missing $HOLDER_BIN: run 'make fixtures'" >&2
		return 1
	fi
	bats_helper_setup
	# The test's shell: the parent of what it starts with &, the sender of its kill.
	# ($BASHPID inside a pipeline would name the pipeline's subshell.)
	ME=$BASHPID
	# Started from a copy under $D: the teardown finds it by path, and its argv names $D.
	H="$D/vsock_holder"
	cp "$HOLDER_BIN" "$H"
}

teardown() {
	# Skipped in setup: nothing was started, and an empty $T must never reach pkill.
	[ -n "${T:-}" ] || return 0
	if [ -n "${CIDTRACE_VM_OUT:-}" ] && [ -z "${BATS_TEST_COMPLETED:-}" ] &&
		[ -z "${BATS_TEST_SKIPPED:-}" ]; then
		local keep
		keep="$CIDTRACE_VM_OUT/vsock-$(uname -r)-$BATS_TEST_NUMBER"
		rm -rf "$keep"
		mkdir -p "$keep"
		cp -r "$T"/. "$keep"/ 2>/dev/null || true
	fi
	if [ -n "${SAVED_CORE_PIPE_LIMIT:-}" ]; then
		echo "$SAVED_CORE_PATTERN" >/proc/sys/kernel/core_pattern
		echo "$SAVED_CORE_PIPE_LIMIT" >/proc/sys/kernel/core_pipe_limit
	fi
	# Kills everything whose argv names $T: QEMUs, holders, the core helper, cidtrace. Quiet,
	# or bash's "Killed" notices for our background jobs land between the TAP lines.
	bats_helper_teardown 2>/dev/null
}

# The shared start_record waits through wait_file; poll outside bats' DEBUG trap.
wait_file() {
	"$WAIT" 60 file "$1"
}

# Stop, and show what the report says about CIDs (bats prints it only if the test fails).
stop_record() {
	bats_helper_stop_record
	jq -c '.trace.attach, .trace.events, (.cids[]), (.findings[] | select(.kind != "vmm_leak"))' "$R"
}

need_qemu() {
	[ -n "$QEMU" ] || skip "qemu-system-x86_64 not installed"
	[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 not installed (to wait for the QEMU monitor)"
}

# read_ppid VAR PID: the parent of a live PID, from /proc (comm may hold spaces and parens).
read_ppid() {
	local st
	read -r st <"/proc/$2/stat"
	st=${st##*) }
	st=${st#* }
	printf -v "$1" %s "${st%% *}"
}

# The argv of a QEMU that binds CID $2 and has its monitor socket in test dir $1.
qemu_argv() {
	QEMU_ARGV=("$QEMU" -accel tcg -S -nodefaults -display none -m 32
		-device "vhost-vsock-pci,guest-cid=$2"
		-chardev "socket,id=m,path=$1/qemu.sock,server=on,wait=off" -mon chardev=m)
}

# start_qemu DIR CID: in the background, our child; sets QPID.
start_qemu() {
	qemu_argv "$1" "$2"
	"${QEMU_ARGV[@]}" >"$1/qemu.log" 2>&1 3>&- &
	QPID=$!
}

# refused QB DB QA: the second QEMU, QB (of test dir DB), gives up, refused its CID, while the
# first, QA, runs on; the recorder is stopped once QB is gone.
refused() {
	local st=0
	"$WAIT" 90 gone "$1"
	wait "$1" || st=$?
	stop_record
	cat "$2/qemu.log"
	[ "$st" -ne 0 ]
	grep -q 'unable to set guest cid: Address already in use' "$2/qemu.log"
	[ -e "/proc/$3" ]
}

# attempt NAME CID: one --no-hold SET_GUEST_CID attempt; sets APID (its pid), ARC (its exit
# status: 0 bound, 98 EADDRINUSE, 22 EINVAL).
attempt() {
	ARC=0
	"$H" --no-hold --ready "$D/$1.ready" "$2" >"$D/$1.log" 2>&1 || ARC=$?
	read -r APID <"$D/$1.ready"
}

@test "two QEMUs from two tests on one CID: live_duplicate, attributed to the first QEMU" {
	need_qemu
	local cid=3101 da="$T/TestVsockDupA1111/001" db="$T/TestVsockDupB2222/001"
	mkdir -p "$da" "$db"
	start_record
	start_qemu "$da" $cid
	qa=$QPID
	"$WAIT" 90 monitor "$da/qemu.sock"
	read_ppid qa_ppid "$qa"
	[ "$qa_ppid" -eq "$ME" ]
	start_qemu "$db" $cid
	qb=$QPID
	# what the kernel did: the second QEMU could not set its CID and gave up; the first runs
	refused "$qb" "$db" "$qa"

	rq --argjson cid $cid --argjson qa "$qa" --argjson ppid "$qa_ppid" --argjson qb "$qb" \
		--argjson me "$ME" --arg da "$da" --arg db "$db" '
		[.findings[] | select(.kind == "cid_conflict" and .cid == $cid)] | length == 1 and (.[0] |
		.classification == "live_duplicate" and (.summary | type) == "string" and
		.attempts == 1 and .first_at == .last_at and .at == .last_at and
		.attempt.pid == $qb and .attempt.ppid == $me and .attempt.test_dir == $db and
		.attempt.comm == "qemu-system-x86" and
		(.holder | length) == 1 and .holder[0].pid == $qa and .holder[0].ppid == $ppid and
		.holder[0].test_dir == $da and .holder[0].comm == "qemu-system-x86" and
		.holder[0].state_at_conflict == "running" and .holder[0].orphaned == false and
		.holder[0].exited_at == null and .holder[0].fatal_signals == [] and
		.binder == null and .bound_at != null and .released_at == null)'
	# the binding the finding names: made by the first QEMU, still held; the failed attempt
	# made none
	rq --argjson cid $cid --argjson qa "$qa" --arg da "$da" '
		(.findings[] | select(.kind == "cid_conflict" and .cid == $cid) | .binding) as $b |
		[.cids[] | select(.cid == $cid)] | length == 1 and (.[0] |
		.id == $b and .binder.pid == $qa and .binder.test_dir == $da and
		.binder.comm == "qemu-system-x86" and .bound_at != null and .released_at == null and
		.released_by == null)'
}

@test "netns: two QEMUs in two network namespaces on one CID: a conflict before 7.0, both namespaces named" {
	need_qemu
	local cid=3120 da="$T/TestVsockNetnsA1111/001" db="$T/TestVsockNetnsB2222/001" host na
	mkdir -p "$da" "$db"
	host=$(stat -Lc %i /proc/self/ns/net)
	start_record
	# Each QEMU in a network namespace of its own, as two containers' would be: unshare
	# without --fork execs QEMU in place, so $! is QEMU's pid.
	qemu_argv "$da" $cid
	unshare -n "${QEMU_ARGV[@]}" >"$da/qemu.log" 2>&1 3>&- &
	qa=$!
	"$WAIT" 90 monitor "$da/qemu.sock"
	na=$(stat -Lc %i "/proc/$qa/ns/net")
	[ "$na" -ne "$host" ]
	# cids names the holder's namespace (the file's is only known on 7.0+)
	run "$CIDTRACE" cids --json --scratch-root "$T"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e --argjson cid $cid --argjson qa "$qa" --argjson na "$na" '
		[.[] | select(.cid == $cid)] | length == 1 and (.[0] | .pid == $qa and
		.net_ns == $na and .net_ns_of == "holder" and .ns_mode == "global")'
	qemu_argv "$db" $cid
	unshare -n "${QEMU_ARGV[@]}" >"$db/qemu.log" 2>&1 3>&- &
	qb=$!
	# before Linux 7.0 the namespaces change nothing: the kernel refused the second QEMU
	refused "$qb" "$db" "$qa"

	rq --argjson cid $cid --argjson qa "$qa" --argjson qb "$qb" --argjson na "$na" \
		--argjson host "$host" '
		[.findings[] | select(.kind == "cid_conflict" and .cid == $cid)] | length == 1 and (.[0] |
		.net_ns as $nb | .classification == "live_duplicate" and .attempt.pid == $qb and
		.holder[0].pid == $qa and .holder_net_ns == $na and .net_ns_of == "binder" and
		($nb | type) == "number" and $nb != $na and $nb != $host and
		(.summary | contains("network namespaces net:[\($nb)] and net:[\($na)]")))'
	rq --argjson cid $cid --argjson qa "$qa" --argjson na "$na" '
		[.cids[] | select(.cid == $cid)] | length == 1 and (.[0] | .binder.pid == $qa and
		.net_ns == $na and .net_ns_of == "binder" and .ns_mode == "global")'
}

@test "a retrier against a holder that is dumping core: one teardown_race finding" {
	local cid=3102
	SAVED_CORE_PATTERN=$(cat /proc/sys/kernel/core_pattern)
	SAVED_CORE_PIPE_LIMIT=$(cat /proc/sys/kernel/core_pipe_limit)
	# The kernel splits core_pattern on spaces, hence a script. The dump, and with it the
	# dying holder's fds, lasts until the helper reads the core, which it does only once the
	# test says so: the window is the test's, not a guess. core_pipe_limit=0: the kernel does
	# not wait for the helper after the core is written.
	cat >"$T/vsock-core.sh" <<-EOF
		#!/bin/sh
		echo "\$1" >"$T/core.start.tmp" && mv "$T/core.start.tmp" "$T/core.start"
		i=0
		while [ ! -e "$T/core.release" ] && [ \$i -lt 3000 ]; do sleep 0.02; i=\$((i + 1)); done
		cat >/dev/null
		touch "$T/core.end"
	EOF
	chmod +x "$T/vsock-core.sh"
	echo "|$T/vsock-core.sh %p" >/proc/sys/kernel/core_pattern
	echo 0 >/proc/sys/kernel/core_pipe_limit

	start_record
	(ulimit -c unlimited && exec "$H" --ready "$D/h.ready" $cid >"$D/h.log" 2>&1 3>&-) &
	hp=$!
	"$WAIT" 60 file "$D/h.ready"
	kill -SEGV "$hp"
	# the dump is under way once the helper runs
	"$WAIT" 60 file "$T/core.start"
	"$H" --retry 20000 --interval-us 1000 --ready "$D/r.ready" $cid >"$D/r.log" 2>&1 3>&- &
	rp=$!
	# let it fail a few times against the dying holder, then let the dump finish
	"$WAIT" 60 lines 3 "$D/r.log" "cid=$cid errno=EADDRINUSE"
	touch "$T/core.release"
	st=0
	wait "$hp" || st=$?
	"$WAIT" 60 file "$D/r.ready"
	stop_record
	# what the kernel did: the holder died of SIGSEGV with a core (139) after the helper had
	# started for it; the retrier failed $busy times while it was dumping, then got the CID
	[ "$st" -eq 139 ]
	[ "$(cat "$T/core.start")" -eq "$hp" ]
	[ -e "$T/core.end" ]
	busy=$(grep -c "cid=$cid errno=EADDRINUSE" "$D/r.log")
	[ "$(grep -c "cid=$cid ok" "$D/r.log")" -eq 1 ]
	((busy >= 3))

	rq --argjson cid $cid --argjson rp "$rp" --argjson busy "$busy" --argjson hp "$hp" \
		--argjson me "$ME" --arg mycomm "$(cat "/proc/$ME/comm")" '
		[.findings[] | select(.kind == "cid_conflict" and .cid == $cid)] | length == 1 and (.[0] |
		.classification == "teardown_race" and .attempt.pid == $rp and .attempts == $busy and
		.first_at < .last_at and
		(.holder | length) == 1 and .holder[0].pid == $hp and
		(.holder[0].state_at_conflict | IN("dumping_core", "exiting")) and
		(.holder[0].fatal_signals | length) == 1 and
		(.holder[0].fatal_signals[0] | .signal == 11 and .name == "SIGSEGV" and
			.sender_pid == $me and .sender_comm == $mycomm) and
		.first_at >= .holder[0].fatal_signals[0].at and
		.binder == null and .bound_at != null and .released_at != null)'
	# the holder's binding was released by the holder itself as it died; the retrier then bound
	rq --argjson cid $cid --argjson rp "$rp" --argjson hp "$hp" '
		.trace.events.lost == 0 and
		(.findings[] | select(.kind == "cid_conflict" and .cid == $cid)) as $f |
		[.cids[] | select(.cid == $cid)] | length == 2 and
		(.[0] | .id == $f.binding and .binder.pid == $hp and .bound_at != null and
			.released_at == $f.released_at and .released_by.pid == $hp) and
		.[1].binder.pid == $rp and .[1].bound_at >= .[0].released_at and .[1].released_at == null'
	# the holder's own record: wait(2) said SIGSEGV, core dumped
	proc_json "$hp" | jq -e '.exit == {code: 0, signal: 11, core_dumped: true}'
}

# The parent binds and exits; its forked child keeps the fd; then a conflicting attempt.
# Asserts everything but the attach mode; sets PARENT, CHILD, APID.
inherited_fd_case() {
	local cid=$1
	shift
	start_record "$@"
	"$H" --fork-child --ready "$D/fc.ready" "$cid" >"$D/fc.log" 2>&1 3>&- &
	PARENT=$!
	wait "$PARENT"
	read -r CHILD <"$D/fc.ready"
	[ "$CHILD" -ne "$PARENT" ]
	[ -e "/proc/$CHILD" ]
	attempt a "$cid"
	[ "$ARC" -eq 98 ]
	stop_record

	rq --argjson cid "$cid" --argjson child "$CHILD" --argjson parent "$PARENT" \
		--argjson a "$APID" --arg d "$D" '
		[.findings[] | select(.kind == "cid_conflict" and .cid == $cid)] | length == 1 and (.[0] |
		.classification == "inherited_fd" and .attempt.pid == $a and .attempts == 1 and
		(.holder | length) == 1 and .holder[0].pid == $child and .holder[0].test_dir == $d and
		.holder[0].state_at_conflict == "running" and .holder[0].exited_at == null and
		.holder[0].orphaned == true and .holder[0].original_ppid == $parent and
		.binder.pid == $parent and .binder.test_dir == $d and .bound_at != null)'
	rq --argjson cid "$cid" --argjson parent "$PARENT" '
		(.processes[] | select(.pid == $parent) | .exit.code == 0 and .exited_at != null) and
		(.findings[] | select(.kind == "cid_conflict" and .cid == $cid) | .binding) as $b |
		[.cids[] | select(.cid == $cid)] | length == 1 and (.[0] |
		.id == $b and .binder.pid == $parent and .bound_at != null and .released_at == null)'
}

@test "a CID held through an inherited fd: holder is the child, binder the exited parent" {
	inherited_fd_case 3103
	rq '.trace.attach.vsock == "fexit"'
}

@test "a QEMU whose parent exited holds the CID: orphan_holder" {
	need_qemu
	local cid=3104
	qemu_argv "$D" $cid
	start_record
	# sh starts QEMU in the background and exits at once
	sh -c 'd=$1; shift; echo $$ >"$d/sh.pid"; "$@" >"$d/qemu.log" 2>&1 & echo $! >"$d/qemu.pid"' \
		sh "$D" "${QEMU_ARGV[@]}" 3>&-
	read -r shp <"$D/sh.pid"
	read -r qp <"$D/qemu.pid"
	"$WAIT" 90 monitor "$D/qemu.sock"
	read_ppid qp_ppid "$qp"
	[ "$qp_ppid" -ne "$shp" ]
	attempt a $cid
	[ "$ARC" -eq 98 ]
	stop_record

	rq --argjson cid $cid --argjson qp "$qp" --argjson shp "$shp" --argjson a "$APID" --arg d "$D" '
		[.findings[] | select(.kind == "cid_conflict" and .cid == $cid)] | length == 1 and (.[0] |
		.classification == "orphan_holder" and .attempt.pid == $a and
		(.holder | length) == 1 and .holder[0].pid == $qp and .holder[0].test_dir == $d and
		.holder[0].orphaned == true and .holder[0].original_ppid == $shp and
		.holder[0].ppid != $shp and .holder[0].state_at_conflict == "running" and
		.binder == null and .bound_at != null)'
	rq --argjson cid $cid --argjson qp "$qp" --argjson shp "$shp" '
		(.processes[] | select(.pid == $shp) | .exit.code == 0) and
		([.cids[] | select(.cid == $cid)] | length == 1 and .[0].binder.pid == $qp and
		.[0].bound_at != null)'
}

@test "a CID bound before cidtrace started: bound_at null, the holder still named; cids lists it" {
	local cid=3105
	"$H" --ready "$D/h.ready" $cid >"$D/h.log" 2>&1 3>&- &
	hp=$!
	"$WAIT" 60 file "$D/h.ready"
	# what is bound now, and by whom, without a trace
	run "$CIDTRACE" cids --json --scratch-root "$T"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e --argjson cid $cid --argjson hp "$hp" --argjson me "$ME" --arg d "$D" '
		[.[] | select(.cid == $cid)] | length == 1 and (.[0] | .pid == $hp and .ppid == $me and
		.comm == "vsock_holder" and .test_dir == $d and .state == "running" and
		.source == "iter" and .age_s >= 0)'
	run "$CIDTRACE" cids --scratch-root "$T"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "CID"*"NETNS"*"PID"*"PPID"*"INSIDE"*"CONTAINER"*"COMM"*"STATE"*"AGE"*"TEST_DIR" ]]
	netns=$(stat -Lc %i "/proc/$hp/ns/net")
	echo "$output" |
		grep -E "^$cid +$netns +$hp +$ME +- +- +vsock_holder +running +[0-9]+\.[0-9]s +$D$"
	start_record
	attempt a $cid
	[ "$ARC" -eq 98 ]
	stop_record

	rq --argjson cid $cid --argjson hp "$hp" --arg d "$D" '
		[.cids[] | select(.cid == $cid)] | length == 1 and (.[0] |
		.bound_at == null and .released_at == null and .binder.pid == $hp and
		.binder.test_dir == $d and .binder.comm == "vsock_holder")'
	rq --argjson cid $cid --argjson hp "$hp" --argjson a "$APID" --argjson me "$ME" '
		(.cids[] | select(.cid == $cid) | .id) as $b |
		[.findings[] | select(.kind == "cid_conflict" and .cid == $cid)] | length == 1 and (.[0] |
		.binding == $b and .bound_at == null and .attempt.pid == $a and
		(.holder | length) == 1 and .holder[0].pid == $hp and .holder[0].ppid == $me and
		.holder[0].state_at_conflict == "running" and .binder == null and
		.classification == "live_duplicate")'
}

@test "cids names where a holder lives: its pid inside its pid namespace, and its container" {
	local cid=3106 id cgroot cg="" hp up want='null'
	cgroot=$(findmnt -n -t cgroup2 -o TARGET | head -1)
	id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	if [ -n "$cgroot" ]; then
		cg="$cgroot/docker-$id.scope"
		mkdir "$cg"
		want="{\"runtime\": \"docker\", \"id\": \"$id\", \"pod_uid\": null}"
	fi
	# a pid namespace of its own: the holder is its init, pid 1 inside
	sh -c '[ -z "$1" ] || echo $$ >"$1/cgroup.procs" || exit 1; shift
		exec unshare -p --fork "$@"' sh "$cg" "$H" --ready "$D/h.ready" $cid \
		>"$D/h.log" 2>&1 3>&- &
	up=$!
	"$WAIT" 60 file "$D/h.ready"
	run "$CIDTRACE" cids --json --scratch-root "$T"
	[ "$status" -eq 0 ]
	hp=$(echo "$output" | jq -e --argjson cid $cid '.[] | select(.cid == $cid) | .pid')
	echo "$output" | jq -e --argjson cid $cid --argjson hp "$hp" --argjson ct "$want" '
		[.[] | select(.cid == $cid)] | length == 1 and (.[0] | .ns.pid == [$hp, 1] and
		.ns.pid_truncated == false and .container == $ct)'
	run "$CIDTRACE" cids --scratch-root "$T"
	[ "$status" -eq 0 ]
	if [ -n "$cg" ]; then
		echo "$output" | grep -E "^$cid +[0-9]+ +$hp +[0-9]+ +1 +${id:0:12} +vsock_holder "
	else
		echo "$output" | grep -E "^$cid +[0-9]+ +$hp +[0-9]+ +1 +- +vsock_holder "
	fi
	# the holder, then unshare, which waits for it: the cgroup is empty and can go
	kill -KILL "$hp"
	"$WAIT" 60 gone "$up"
	wait "$up" || true
	[ -z "$cg" ] || rmdir "$cg"
}

@test "an invalid CID is an invalid_cid finding" {
	start_record
	attempt a 2
	[ "$ARC" -eq 22 ]
	grep -q 'cid=2 errno=EINVAL' "$D/a.log"
	stop_record

	rq --argjson a "$APID" --arg d "$D" '
		([.findings[] | select(.kind == "invalid_cid")] | length == 1 and (.[0] |
		.cid == 2 and .attempts == 1 and .attempt.pid == $a and .attempt.test_dir == $d and
		.attempt.comm == "vsock_holder" and .first_at == .last_at and .at == .last_at and
		(.summary | type) == "string")) and
		([.findings[] | select(.kind == "cid_conflict")] | length == 0) and
		([.cids[] | select(.cid == 2)] | length == 0)'
}

@test "fexit and the --no-fentry tracepoints classify an inherited fd alike" {
	inherited_fd_case 3107
	rq '.trace.attach.vsock == "fexit" and .trace.attach.vsock_since != null'
	mv "$R" "$T/fexit.json"
	fexit_child=$CHILD fexit_parent=$PARENT
	kill -KILL "$CHILD"
	"$WAIT" 30 gone "$CHILD"
	rm -f "$T/ready" "$D"/*.ready

	inherited_fd_case 3108 --no-fentry
	rq '.trace.attach.vsock == "tracepoint" and .trace.attach.vsock_since != null'
	# the same story, pid for pid: holder = the child, binder = the parent, same class
	jq -e -n --slurpfile a "$T/fexit.json" --slurpfile b "$R" \
		--argjson ac "$fexit_child" --argjson ap "$fexit_parent" \
		--argjson bc "$CHILD" --argjson bp "$PARENT" '
		def story(r; c; p): [r.findings[] | select(.kind == "cid_conflict") |
			{classification, holder: (.holder | map(.pid == c)), binder: (.binder.pid == p),
			 state: .holder[0].state_at_conflict, orphaned: .holder[0].orphaned,
			 attempts}];
		story($a[0]; $ac; $ap) == story($b[0]; $bc; $bp) and
		story($a[0]; $ac; $ap) == [{classification: "inherited_fd", holder: [true],
			binder: true, state: "running", orphaned: true, attempts: 1}]'
}

@test "--rebind on the same fd releases the first binding and makes a second" {
	local c1=3109 c2=3110
	start_record
	"$H" --ready "$D/h.ready" --rebind $c2 $c1 >"$D/h.log" 2>&1 3>&- &
	hp=$!
	"$WAIT" 60 file "$D/h.ready"
	grep -q "cid=$c1 ok" "$D/h.log"
	grep -q "cid=$c2 ok" "$D/h.log"
	# what the kernel did: the first CID is free again, the second is taken
	attempt p1 $c1
	[ "$ARC" -eq 0 ]
	p1=$APID
	attempt p2 $c2
	[ "$ARC" -eq 98 ]
	p2=$APID
	kill -TERM "$hp"
	wait "$hp" || true
	stop_record

	rq --argjson c1 $c1 --argjson c2 $c2 --argjson hp "$hp" '
		[.cids[] | select(.binder.pid == $hp)] | length == 2 and
		(.[0] | .cid == $c1 and .bound_at != null and .released_at != null and
			.released_by == {pid: $hp, comm: "vsock_holder"}) and
		(.[1] | .cid == $c2 and .released_at != null and .released_by.pid == $hp) and
		.[1].bound_at == .[0].released_at and .[1].id != .[0].id'
	rq --argjson c1 $c1 --argjson c2 $c2 --argjson hp "$hp" --argjson p1 "$p1" --argjson p2 "$p2" '
		[.cids[] | select(.binder.pid == $hp)] as $h |
		# the probe that found the first CID free bound it for itself
		([.cids[] | select(.cid == $c1 and .binder.pid == $p1)] | length) == 1 and
		# the probe on the second CID conflicted with the rebound binding, not the first one
		([.findings[] | select(.kind == "cid_conflict")] | length == 1 and (.[0] |
		.cid == $c2 and .attempt.pid == $p2 and .holder[0].pid == $hp and
		.binding == $h[1].id and .classification == "live_duplicate"))'
}

@test "a retry loop of 20,000 failed attempts is one finding, with no event lost" {
	start_record
	"$H" --ready "$D/holder.ready" 3191 >/dev/null 3>&- &
	"$WAIT" 60 file "$D/holder.ready"
	read -r hp <"$D/holder.ready"
	ARC=0
	"$H" --no-hold --retry 20000 --interval-us 0 --ready "$D/r.ready" 3191 >"$D/r.log" 2>&1 ||
		ARC=$?
	[ "$ARC" -eq 98 ]
	read -r rp <"$D/r.ready"
	[ "$(grep -c 'cid=3191 errno=EADDRINUSE' "$D/r.log")" -eq 20001 ]
	stop_record
	rq --argjson h "$hp" --argjson r "$rp" '
		.trace.events.lost == 0 and
		([.findings[] | select(.kind == "cid_conflict")] | length == 1 and (.[0] |
		.attempts == 20001 and .attempt.pid == $r and .holder[0].pid == $h and
		.classification == "live_duplicate" and .first_at < .last_at))'
}

@test "--json --only conflict: a line for each bind, conflict and release, and nothing else" {
	local cid=3113
	"$CIDTRACE" record --json --only conflict -o "$R" --ready-file "$T/ready" --scratch-root "$T" \
		>"$T/live.ndjson" 2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
	"$H" --ready "$D/h.ready" $cid >"$D/h.log" 2>&1 3>&- &
	hp=$!
	"$WAIT" 60 file "$D/h.ready"
	attempt a $cid
	[ "$ARC" -eq 98 ]
	# the holder's exit releases the CID as its fd closes, before wait returns
	kill -TERM "$hp"
	wait "$hp" || true
	stop_record
	cat "$T/live.ndjson"
	jq -e -s --argjson cid $cid --argjson hp "$hp" --argjson a "$APID" --arg d "$D" '
		map(.event) == ["bind", "conflict", "release"] and all(.cid == $cid and
		.test_dir == $d and .comm == "vsock_holder" and (.detail | type) == "string" and
		(.time | test("Z$"))) and
		.[0].pid == $hp and .[1].pid == $a and .[2].pid == $hp' "$T/live.ndjson"
}

@test "a CID held only by an fd in flight to a socket: no_holder_found" {
	[ -x /usr/bin/python3 ] || skip "/usr/bin/python3 not installed (the listener)"
	local cid=3111
	# a Unix listener that never accepts: what is sent to it waits in its queue, held by no
	# process's fd table, where neither the iterator nor /proc can see it
	/usr/bin/python3 -c 'import signal, socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(1)
open(sys.argv[2], "w").close()
signal.pause()' "$D/inflight.sock" "$D/listening" 3>&- &
	"$WAIT" 60 file "$D/listening"
	# binds, sends the fd, closes its own copy and exits 0: the CID stays bound
	"$H" --send "$D/inflight.sock" $cid >"$D/s.log" 2>&1 3>&-
	grep -q "cid=$cid ok" "$D/s.log"
	run "$CIDTRACE" cids --json --scratch-root "$T"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e --argjson cid $cid 'all(.cid != $cid)'
	start_record
	attempt a $cid
	[ "$ARC" -eq 98 ]
	stop_record
	rq --argjson cid $cid --argjson a "$APID" --arg d "$D" '
		([.findings[] | select(.kind == "cid_conflict" and .cid == $cid)] | length == 1 and (.[0] |
		.classification == "no_holder_found" and .attempt.pid == $a and
		.attempt.test_dir == $d and .attempts == 1 and .holder == [] and
		.binding == null and .binder == null and (.summary | type) == "string")) and
		[.cids[] | select(.cid == $cid)] == []'
}

@test "kprobe mode, where fexit is refused, classifies an inherited fd like fexit" {
	command -v bpftrace >/dev/null || skip "bpftrace not installed (scripts/deps.sh installs it)"
	# A BPF trampoline takes at most 38 fentry/fexit programs: with 38 on
	# vhost_vsock_dev_ioctl, cidtrace's fexit is refused (E2BIG) and it falls back to kprobes.
	# bpftrace needs tracefs, which the VM may leave unmounted (cidtrace never unmounts it).
	# (-o names $T: teardown kills it.)
	local prog="" i
	for ((i = 0; i < 38; i++)); do
		prog+=" kretfunc:vhost_vsock:vhost_vsock_dev_ioctl { @n$i = count(); }"
	done
	unshare -m sh -c 'mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
		exec bpftrace -o "$0" -e "$1"' \
		"$T/bpftrace.out" "$prog" >"$T/bpftrace.log" 2>&1 3>&- &
	# nothing else traces here: wait until its 38 links are there, in one command (polling in
	# the test would cost bats' DEBUG trap per round)
	timeout 120 sh -c 'until [ "$(bpftool link show --json |
		jq "[.[] | select(.type == \"tracing\")] | length")" -ge 38 ]; do sleep 0.1; done' ||
		{ cat "$T/bpftrace.log"; false; }
	inherited_fd_case 3112
	rq '.trace.attach.vsock == "kprobe" and .trace.attach.vsock_since != null'
}
