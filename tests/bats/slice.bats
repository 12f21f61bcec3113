#!/usr/bin/env bats
# Per-job slices from one long-running recorder: two jobs run at once in sibling dirs under
# one `cidtrace record` (short processes, one killed by a signal, a double-forked orphan, a
# VMM left running, and in job B a real KVM guest whose uffd pager is killed); each slice of
# the report, in every format, holds its job's processes and findings, all of them and no
# other job's. Then the hook examples, run for real.

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"
HOOKS="$BATS_TEST_DIRNAME/../../examples/hooks"

# One job, in its own dir $1 (its cwd): a short process that exits 3, a sleeper killed by
# SIGKILL, a sleeper double-forked away from its parent, and a VMM (--vmm-comm 'fakevmm*')
# left running. With "uffd", also a guest ("firecracker") whose pager is SIGKILLed while it
# has memory registered: a uffd_orphan; its vCPUs are KVM's, or threads ($4: --threads) on a
# host without /dev/kvm. Each pid goes to a file in the dir.
JOB='j=$1
"$j/short" || true
"$j/sleeper" 300 &
echo $! >"$j/killed.pid"
kill -9 $!
wait $! || true
sh -c "\"$j/sleeper\" 300 >/dev/null 2>&1 3>&- & echo \$! >\"$j/orphan.pid\""
IDLE_READY="$j/vmm.ready" "$j/fakevmm-$2" --disk "$j/disk.img" >/dev/null 2>&1 3>&- &
echo $! >"$j/vmm.pid"
while [ ! -e "$j/vmm.ready" ]; do sleep 0.01; done
if [ "$3" = uffd ]; then
	"$j/hypeman-uffd-pager" --sock "$j/uffd.sock" --ready "$j/pager.ready" >/dev/null 2>&1 3>&- &
	echo $! >"$j/pager.pid"
	while [ ! -e "$j/pager.ready" ]; do sleep 0.01; done
	"$j/firecracker" --sock "$j/uffd.sock" --ready "$j/guest.ready" --no-spin $4 \
		>/dev/null 2>&1 3>&- &
	echo $! >"$j/guest.pid"
	while [ ! -e "$j/guest.ready" ]; do sleep 0.01; done
	kill -9 "$(cat "$j/pager.pid")"
fi
touch "$j/done"'

# Give every pid the jobs left running SIGKILL (by pid: nothing else is touched).
kill_jobs() {
	local f
	for f in "$S"/job?/{orphan,vmm,guest}.pid; do
		if [ -e "$f" ]; then
			kill -KILL "$(cat "$f")" 2>/dev/null || true
		fi
	done
	return 0
}

setup_file() {
	[ -x "$FIX/idle" ] && [ -x "$FIX/uffd_vmm" ] || {
		echo "build the fixtures first: make fixtures" >&2
		return 1
	}
	S=$(mktemp -d /tmp/cidtrace-bats.XXXXXX)
	export S
	for j in A B; do
		mkdir "$S/job$j"
		cp /bin/sleep "$S/job$j/sleeper"
		cp "$FIX/idle" "$S/job$j/fakevmm-$j"
		printf '#!/bin/sh\nexit 3\n' >"$S/job$j/short"
		chmod +x "$S/job$j/short"
	done
	cp "$FIX/uffd_vmm" "$S/jobB/firecracker"
	cp "$FIX/uffd_pager" "$S/jobB/hypeman-uffd-pager"
	printf '%s\n' "$JOB" >"$S/job.sh"

	# one recorder for both, scoped to their parent dir, as on a runner
	"$CIDTRACE" record -q -o "$S/report.json" --ready-file "$S/ready" --scratch-root "$S" \
		--scope "$S" --vmm-comm 'fakevmm*' --checkpoint 0.2 --raw "$S/capture.raw" \
		2>"$S/record.err" 3>&- &
	echo $! >"$S/record.pid"
	wait_file "$S/ready"
	(cd "$S/jobA" && sh "$S/job.sh" "$S/jobA" A) 3>&- &
	(cd "$S/jobB" && sh "$S/job.sh" "$S/jobB" B uffd "$([ -c /dev/kvm ] || echo --threads)") \
		3>&- &
	wait_file "$S/jobA/done"
	wait_file "$S/jobB/done"
	R="$S/report.json" wait_report --argjson g "$(cat "$S/jobB/guest.pid")" \
		'any(.findings[]; .kind == "uffd_orphan" and .guest.pid == $g)'
	kill -TERM "$(cat "$S/record.pid")"
	wait "$(cat "$S/record.pid")"
	kill_jobs
}

teardown_file() {
	[ -n "${S:-}" ] || return 0
	kill_jobs
	rm -rf "$S"
}

# The (pid, start_ns) of the processes of report $1 whose argv or cwd names dir $2, sorted.
procs_of() {
	jq -c --arg d "$2" '[.processes[] | select(((.cwd // "") | startswith($d)) or
		any(.argv[]; contains($d))) | [.pid, .start_ns]] | sort' "$1"
}

# The findings of report $1 about a process of dir $2: kind and subject pid, sorted.
findings_of() {
	jq -c --arg d "$2" '
		[.processes[] | select(((.cwd // "") | startswith($d)) or any(.argv[]; contains($d)))
			| .pid] as $p |
		[.findings[] | select([.pid, .guest.pid, .attempt.pid] | any(. as $x | $p | index($x)))
			| [.kind, (.pid // .guest.pid // .attempt.pid)]] | sort' "$1"
}

@test "json: each job's slice holds all of its processes and findings, and no other job's" {
	R="$S/report.json"
	for j in A B; do
		o=$([ "$j" = A ] && echo B || echo A)
		run "$CIDTRACE" report "$R" --scope "$S/job$j" --format json -o "$T/$j.json"
		[ "$status" -eq 0 ]
		# all of the job's processes, none of the other's
		[ "$(procs_of "$T/$j.json" "$S/job$j")" = "$(procs_of "$R" "$S/job$j")" ]
		echo "# $j: $(procs_of "$R" "$S/job$j" | jq length) procs, findings $(findings_of "$R" "$S/job$j")" >&3
		[ "$(procs_of "$T/$j.json" "$S/job$o")" = "[]" ]
		# and its findings, all of them: a leaked VMM each, job B's orphaned guest
		[ "$(findings_of "$T/$j.json" "$S/job$j")" = "$(findings_of "$R" "$S/job$j")" ]
		jq -e --arg o "$S/job$o" '[.findings[] | tostring | select(contains($o))] == []' \
			"$T/$j.json"
		jq -e --arg d "$S/job$j" '.schema == "cidtrace.report/1" and .trace.slice ==
			{scope: $d, cgroup: null, container: null, since: null, until: null} and
			.trace.final' "$T/$j.json"
		# the processes the jobs were written to leave: signalled, orphaned, the VMM
		jq -e --argjson k "$(cat "$S/job$j/killed.pid")" \
			--argjson orphan "$(cat "$S/job$j/orphan.pid")" \
			--argjson vmm "$(cat "$S/job$j/vmm.pid")" '
			any(.processes[]; .comm == "short" and .exit.code == 3) and
			any(.processes[]; .pid == $k and .exit.signal == 9) and
			any(.processes[]; .pid == $orphan and .orphaned and .exited_at == null) and
			any(.processes[]; .pid == $vmm and .role == "vmm") and
			any(.findings[]; .kind == "vmm_leak" and .pid == $vmm)' "$T/$j.json"
	done
	jq -e '.uffds == [] and ([.findings[].kind] | sort) == ["vmm_leak"]' "$T/A.json"
	jq -e --argjson g "$(cat "$S/jobB/guest.pid")" '
		(.uffds | length) == 1 and .uffds[0].owner.pid == $g and
		any(.findings[]; .kind == "uffd_orphan" and .guest.pid == $g) and
		any(.findings[]; .kind == "vmm_leak" and .pid == $g)' "$T/B.json"
	# a sibling that starts like a job's dir is not that job
	run "$CIDTRACE" report "$R" --scope "$S/job" --format json
	[ "$status" -eq 0 ]
	jq -e '.processes == [] and .findings == []' <<<"$output"
}

@test "text and html say they show a slice, and show only that job" {
	R="$S/report.json"
	run "$CIDTRACE" report "$R" --scope "$S/jobA"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "1 finding (1 vmm_leak); trace "*"; final report, ended at +"* ]]
	[ "${lines[1]}" = "slice of $S/jobA, from the trace's start to its end: only its processes (and their ancestors), CIDs, userfaultfds and findings" ]
	[[ "$output" == *"[vmm_leak] fakevmm-A pid $(cat "$S/jobA/vmm.pid") "* ]]
	[[ "$output" != *fakevmm-B* && "$output" != *firecracker* && "$output" != *jobB* ]]
	run "$CIDTRACE" report "$R" --scope "$S/jobB" --no-color
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "3 findings ("*"1 uffd_orphan, 2 vmm_leak); "* ]]
	[[ "$output" == *"[uffd_orphan] firecracker pid $(cat "$S/jobB/guest.pid") "* ]]
	[[ "$output" != *fakevmm-A* && "$output" != *jobA* ]]

	run "$CIDTRACE" report "$R" --scope "$S/jobB" --format html -o "$T/B.html"
	[ "$status" -eq 0 ]
	grep -qF '<title>cidtrace report (slice)</title>' "$T/B.html"
	grep -qF "<p class=\"slice\">slice of $S/jobB, from" "$T/B.html"
	grep -qF ">firecracker pid $(cat "$S/jobB/guest.pid")</text>" "$T/B.html"
	grep -qF ">fakevmm-B pid $(cat "$S/jobB/vmm.pid")</text>" "$T/B.html"
	grep -q 'class="marker pager-death"' "$T/B.html"
	grep -q '<table id="uffds">' "$T/B.html"
	run ! grep -qE 'fakevmm-A|jobA' "$T/B.html"
}

@test "--since and --until narrow a slice to the processes alive in the window" {
	R="$S/report.json"
	vmm=$(cat "$S/jobA/vmm.pid")
	killed=$(cat "$S/jobA/killed.pid")
	vmm_start=$(jq -r --argjson p "$vmm" '.processes[] | select(.pid == $p) | .started_at' "$R")
	killed_exit=$(jq -r --argjson p "$killed" '.processes[] | select(.pid == $p) | .exited_at' "$R")
	# from the VMM's start on: the short process and the killed sleeper had exited by then
	run "$CIDTRACE" report "$R" --scope "$S/jobA" --since "$vmm_start" --format json
	[ "$status" -eq 0 ]
	jq -e --argjson v "$vmm" --argjson k "$killed" --arg t "$vmm_start" '
		any(.processes[]; .pid == $v) and all(.processes[]; .pid != $k) and
		all(.processes[]; .comm != "short") and .trace.slice.since == $t and
		any(.findings[]; .kind == "vmm_leak")' <<<"$output"
	# until the killed sleeper's exit, written with a numeric offset: no VMM, no leak
	run "$CIDTRACE" report "$R" --scope "$S/jobA" --until "${killed_exit%Z}+00:00" \
		--format json
	[ "$status" -eq 0 ]
	jq -e --argjson v "$vmm" --argjson k "$killed" --arg t "$killed_exit" '
		any(.processes[]; .pid == $k) and any(.processes[]; .comm == "short") and
		all(.processes[]; .pid != $v) and .findings == [] and .trace.slice.until == $t' \
		<<<"$output"
	# @SECONDS: a window past the whole trace holds what was still running at its end
	run "$CIDTRACE" report "$R" --scope "$S/jobA" --since "@$(($(date +%s) + 3600))" \
		--format json
	[ "$status" -eq 0 ]
	jq -e --argjson v "$vmm" --argjson k "$killed" '
		any(.processes[]; .pid == $v) and all(.processes[]; .pid != $k) and
		all(.processes[]; .comm != "short")' <<<"$output"
}

@test "a slice is a report: sliced again it is the same, read back it renders the same" {
	R="$S/report.json"
	"$CIDTRACE" report "$R" --scope "$S/jobB" --format json -o "$T/B.json"
	"$CIDTRACE" report "$T/B.json" --scope "$S/jobB" --format json | cmp - "$T/B.json"
	"$CIDTRACE" report "$T/B.json" --format json | cmp - "$T/B.json"
	diff <("$CIDTRACE" report "$R" --scope "$S/jobB") <("$CIDTRACE" report "$T/B.json")
	cmp <("$CIDTRACE" report "$R" --scope "$S/jobB" --format html) \
		<("$CIDTRACE" report "$T/B.json" --format html)
	# slicing job B's slice by job A's dir leaves nothing of either job
	run "$CIDTRACE" report "$T/B.json" --scope "$S/jobA" --format json
	[ "$status" -eq 0 ]
	[ "$(procs_of /dev/stdin "$S/job" <<<"$output")" = "[]" ]
}

@test "replay --scope writes the same slice from the raw capture, and never the whole report" {
	R="$S/report.json"
	mkdir "$T/out"
	run "$CIDTRACE" replay "$S/capture.raw" -q --scope "$S/jobA" -o "$T/out/ra.json"
	[ "$status" -eq 0 ]
	"$CIDTRACE" report "$R" --scope "$S/jobA" --format json | cmp - "$T/out/ra.json"
	# the whole report went to a private dir beside -o, removed after
	[ "$(ls -A "$T/out")" = "ra.json" ]
	[ "$(stat -c %a "$T/out/ra.json")" = 600 ]
}

@test "bad --since, --until or --scope: exit 2, one line, nothing written" {
	R="$S/report.json"
	for bad in 2026-13-01T00:00:00Z yesterday @-5 "2026-01-01T00:00:00+2400" ""; do
		run "$CIDTRACE" report "$R" --scope "$S/jobA" --since "$bad" -o "$T/out"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "${lines[0]}" == "cidtrace report: --since '$bad' is no time: give RFC 3339 "* ]]
	done
	run "$CIDTRACE" report "$R" --since @200 --until @100
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace report: --since is after --until (see cidtrace report --help)" ]
	run "$CIDTRACE" report "$R" --scope /
	[ "$status" -eq 2 ]
	[[ "$output" == "cidtrace report: --scope '/' resolves to /, "* ]]
	run "$CIDTRACE" report "$R" --scope "$R"
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace report: --scope '$R': not a directory (see cidtrace report --help)" ]
	run "$CIDTRACE" replay "$S/capture.raw" --until tomorrow -o "$T/r.json"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e "$T/out" ]
	[ ! -e "$T/r.json" ]
}

@test "--scope of a directory that is gone is resolved as far as it exists" {
	R="$S/report.json"
	ln -s "$S" "$T/link"
	# through a symlink, with a "..", and not there any more: the same slice
	"$CIDTRACE" report "$R" --scope "$S/jobA" --format json -o "$T/a.json"
	run "$CIDTRACE" report "$R" --scope "$T/link/gone/../jobA" --format json
	[ "$status" -eq 0 ]
	cmp - "$T/a.json" <<<"$output"
	mkdir "$T/sub"
	run "$CIDTRACE" report "$R" --scope "$T/sub/../../$(basename "$T")/link/jobX" --format json
	[ "$status" -eq 0 ]
	jq -e --arg d "$S/jobX" '.trace.slice.scope == $d and .processes == []' <<<"$output"
}

@test "a slice of a report with hostile argv and test dir stays inert" {
	make_report
	run "$CIDTRACE" report "$R" --scope "$H"
	[ "$status" -eq 0 ]
	[[ "${lines[1]}" == "slice of $T/TestEvil\\x1b[31m<b>\"q'/001, from"* ]]
	[[ "$output" == *"[vmm_leak] firecracker pid $FC "* ]]
	[[ "$output" != *$'\e'* ]]
	run "$CIDTRACE" report "$R" --scope "$H" --format html -o "$T/r.html"
	[ "$status" -eq 0 ]
	grep -qF '<p class="slice">slice of' "$T/r.html"
	grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/r.html"
	grep -qF 'TestEvil\x1b[31m&lt;b&gt;&quot;q&#39;/001, from' "$T/r.html"
	run ! grep -qF '<script' "$T/r.html"
	run ! grep -q $'\e' "$T/r.html"
	run "$CIDTRACE" report "$R" --scope "$H" --format json -o "$T/r.json"
	[ "$status" -eq 0 ]
	jq -e --arg h "$H" --argjson fc "$FC" '.trace.slice.scope == $h and
		any(.processes[]; .pid == $fc) and any(.findings[]; .pid == $fc)' "$T/r.json"
	run ! grep -q $'\e' "$T/r.json"
}

@test "cidtrace-job.sh runs a job beside the recorder and writes its slice" {
	start_record --scope "$T" --checkpoint 60
	mkdir "$T/jobC" "$T/jobD"
	printf '#!/bin/sh\nexit 3\n' >"$T/jobC/short"
	cp "$T/jobC/short" "$T/jobD/other"
	chmod +x "$T/jobC/short" "$T/jobD/other"
	"$T/jobD/other" || true # another job's process, at the same time
	run env CIDTRACE="$CIDTRACE" CIDTRACE_REPORT="$R" CIDTRACE_PID="$RPID" CIDTRACE_WAIT=20 \
		"$HOOKS/cidtrace-job.sh" "$T/jobC" "$T/out" sh -c './short; echo $? >status; exit 7'
	[ "$status" -eq 7 ] # the job's own status
	[ "$(cat "$T/jobC/status")" = 3 ]
	# the recorder checkpointed on SIGHUP (its own interval is a minute) and the slice is of it
	jq -e '.trace.final == false' "$R"
	jq -e --arg d "$T/jobC" '.trace.slice.scope == $d and .trace.slice.since != null and
		.trace.slice.until != null and any(.processes[]; .comm == "short" and .exit.code == 3)
		and all(.processes[]; .comm != "other")' "$T/out/cidtrace-slice.json"
	grep -qF "slice of $T/jobC, from" "$T/out/cidtrace-slice.txt"
	grep -qF '<title>cidtrace report (slice)</title>' "$T/out/cidtrace-slice.html"
	# usage
	run "$HOOKS/cidtrace-job.sh" "$T/jobC"
	[ "$status" -eq 2 ]
	[ "$output" = "usage: cidtrace-job.sh JOBDIR OUTDIR COMMAND [ARG...]" ]
}

@test "the GitHub Actions runner hooks slice one job's workspace, from its start" {
	start_record --scope "$T" --checkpoint 60
	mkdir -p "$T/ws" "$T/runner-temp"
	printf '#!/bin/sh\nexit 0\n' >"$T/ws/step"
	chmod +x "$T/ws/step"
	cp "$T/ws/step" "$T/ws/previous-job"
	export CIDTRACE CIDTRACE_REPORT="$R" CIDTRACE_PID="$RPID" CIDTRACE_WAIT=20
	export RUNNER_TEMP="$T/runner-temp" GITHUB_WORKSPACE="$T/ws"
	"$T/ws/previous-job" # the job before, in the same workspace
	"$HOOKS/job-started.sh"
	(cd "$T/ws" && ./step) || false
	"$HOOKS/job-completed.sh"
	# the report has both, the job's slice only its own
	jq -e 'any(.processes[]; .comm == "previous-job") and any(.processes[]; .comm == "step")' "$R"
	jq -e --arg d "$T/ws" --arg since "$(cat "$T/runner-temp/cidtrace/started")" '
		.trace.slice.scope == $d and .trace.slice.since == $since and
		any(.processes[]; .comm == "step") and all(.processes[]; .comm != "previous-job")' \
		"$T/runner-temp/cidtrace/cidtrace-slice.json"
	[ -s "$T/runner-temp/cidtrace/cidtrace-slice.txt" ]
	[ -s "$T/runner-temp/cidtrace/cidtrace-slice.html" ]
	# a pid that is not the recorder's is never signalled
	cp /bin/sleep "$T/not-cidtrace"
	"$T/not-cidtrace" 300 3>&- &
	other=$!
	run env CIDTRACE_PID="$other" CIDTRACE_WAIT=1 "$HOOKS/job-completed.sh"
	kill -0 "$other"
	kill "$other"
	[[ "$output" == *"cidtrace hook: pid $other is not cidtrace but 'not-cidtrace'"* ]]
}

@test "the hook examples are plain, quoted POSIX sh" {
	command -v shellcheck >/dev/null || skip "no shellcheck"
	cd "$HOOKS/../.."
	shellcheck -x examples/hooks/*.sh
	run ! grep -nwE 'eval' examples/hooks/*.sh
	for f in examples/hooks/job-started.sh examples/hooks/job-completed.sh \
		examples/hooks/cidtrace-job.sh; do
		grep -qx 'set -eu' "$f"
	done
}
