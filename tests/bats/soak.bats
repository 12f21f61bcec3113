#!/usr/bin/env bats
# Always-on recording under load: one recorder, 200,000 short processes (20,000 of them in
# scope with a VMM's name, some killed by signals, some orphaned) and a real KVM guest whose
# userfaultfd pager dies, with --keep-processes 5000 --checkpoint 1. Sized for 2 cores: the
# fixture forks without exec, one child at a time.

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"
# the soak alone takes about a minute on 2 cores
BATS_TEST_TIMEOUT=600

setup_file() {
	[ -c /dev/kvm ] || export SOAK_SKIP="no /dev/kvm on this machine: the spinning guest cannot run"
}

setup() {
	[ -z "${SOAK_SKIP:-}" ] || skip "$SOAK_SKIP"
	T=$(mktemp -d /tmp/cidtrace-bats.XXXXXX)
	D="$T/TestSoak1/001"
	mkdir -p "$D"
	R="$T/report.json"
	cp "$FIX/uffd_vmm" "$D/firecracker"
	cp "$FIX/uffd_pager" "$D/hypeman-uffd-pager"
	# in scope from its own path; the out-of-scope copy outside $D (teardown finds both)
	cp "$FIX/soak" "$D/soak"
	mkdir "$T/bin"
	cp "$FIX/soak" "$T/bin/soak"
}

# wait_file with a bound in seconds, for what takes longer than 10 s.
wait_long() { # FILE SECONDS
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.05
	done
	echo "timed out after $2 s waiting for $1" >&2
	return 1
}

# The job: a shell that waits for "go" on a FIFO, runs the in-scope soak (VMM-named
# children), then the out-of-scope one, and waits for "stop". The shell names $D, so both
# soak processes are kept (forked from it in scope); the second one's children are not. Only builtins besides the two
# soaks, so the shell forks nothing else that cidtrace would count.
start_job() {
	mkfifo "$T/go" "$T/stop"
	bash -c '
		read -r _ <"$1/go"
		"$2/soak" -n 20000 -c qemu-system-x86 -o 1000 "$2" >"$1/soak-in.out"
		"$1/bin/soak" -n 180000 -k 500 -o 700 -p "$1/progress" >"$1/soak-out.out"
		: >"$1/done"
		read -r _ <"$1/stop"
	' job "$T" "$D" 3>&- &
	JOB=$!
}

@test "soak: 200,000 processes, --keep-processes 5000 --checkpoint 1: 0 lost, capped, counted" {
	start_kvm_guest
	start_job
	# --pid: the job and the guest only, so every count below is exact
	"$CIDTRACE" record -q -o "$R" --ready-file "$T/ready" --scratch-root "$T" --scope "$D" \
		--pid "$JOB" --pid "$VMM" --pid "$PAGER" --spin-window 1 \
		--keep-processes 5000 --checkpoint 1 2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
	kill -9 "$PAGER"
	echo go >"$T/go"
	wait_long "$T/done" 400
	wait_report '.findings[] | select(.kind == "uffd_orphan" and .state == "spinning")'
	stop_record
	echo stop >"$T/stop"
	wait "$JOB"
	cat "$T/soak-in.out" "$T/soak-out.out"
	jq -c .trace "$R"
	rq '.trace.final and .trace.events.lost == 0'
	# the findings: the spinning guest, nothing else (every soak VMM exited)
	rq --argjson g "$VMM" '[.findings[] | {kind, pid: (.guest.pid // .pid)}] ==
		[{kind: "uffd_orphan", pid: $g}]'
	# context: at most 5,000 exited processes beyond those a finding names (the pager),
	# the ancestors of kept ones included
	rq --argjson p "$PAGER" '[.processes[] | select(.exited_at != null and .pid != $p)] |
		length <= 5000'
	# the counts add up: every context process the job made is in the report or dropped
	local in_orphans out_kept out_orphans made
	in_orphans=$(sed -n 's/.* orphans=\([0-9]*\).*/\1/p' "$T/soak-in.out")
	out_kept=$(sed -n 's/.* kept=\([0-9]*\).*/\1/p' "$T/soak-out.out")
	# the two soak processes themselves, in-scope children and their orphans, the
	# out-of-scope children that were killed or left orphans, and the orphans' dead parents
	# (listed as their ancestors)
	out_orphans=$(sed -n 's/.* orphans=\([0-9]*\).*/\1/p' "$T/soak-out.out")
	made=$((2 + 20000 + in_orphans + out_kept + out_orphans))
	rq --argjson made "$made" --argjson p "$PAGER" '
		([.processes[] | select(.exited_at != null and .pid != $p)] | length) +
		.trace.retention.dropped_processes == $made'
	rq '.trace.retention.dropped_findings == 0 and .trace.retention.since != null'
	rq --argjson g "$VMM" '.uffds[] | select(.owner.pid == $g) | .state == "spinning"'
}

@test "soak: the report parses after a SIGKILL at a random moment of checkpointing" {
	mkfifo "$T/go"
	bash -c 'read -r _ <"$1/go"; exec "$2/soak" -n 100000 -p "$1/progress" "$2"' job "$T" "$D" \
		3>&- &
	JOB=$!
	start_record --scope "$D" --keep-processes 5000 --checkpoint 0.2
	echo go >"$T/go"
	# a random moment: once the fixture has made between 10,000 and 90,000 children
	local at=$(((RANDOM % 9 + 1) * 10000)) n=0 i
	for ((i = 0; i < 6000 && n < at; i++)); do
		n=$(cat "$T/progress" 2>/dev/null || echo 0)
		sleep 0.02
	done
	[ "$n" -ge "$at" ]
	kill -KILL "$RPID"
	wait "$RPID" || true
	kill "$JOB" 2>/dev/null || true
	# the last complete checkpoint, whole: valid JSON with a trace and processes
	rq '.schema == "cidtrace.report/1" and (.processes | type == "array") and
		(.trace.final == false)'
	# at most the one checkpoint the kill interrupted left its temp file
	run -0 find "$T" -maxdepth 1 -name '.report.json.*.tmp'
	[ "${#lines[@]}" -le 1 ]
}
