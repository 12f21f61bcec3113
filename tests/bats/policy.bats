#!/usr/bin/env bats
# CI policy: --fail-on exit codes, --reap of leaked VMMs, --metrics, --pid and --only filters.

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"

# Start an idle VMM stand-in at $1/firecracker from a job; its pid goes to $1/fc.pid.
leak_vmm_cmd() {
	echo "IDLE_READY='$1/fc.ready' '$1/firecracker' --api-sock '$1/fc.sock' >/dev/null 2>&1 &
		echo \$! >'$1/fc.pid'; while [ ! -e '$1/fc.ready' ]; do sleep 0.01; done"
}

alive() { # pid, comm: the same process still runs (a zombie has exited: it is not alive)
	local st comm
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) } # comm may hold spaces and parens
	[ "${st%% *}" != Z ] || return 1
	comm=$(cat "/proc/$1/comm" 2>/dev/null) || return 1
	[ "$comm" = "$2" ]
}

@test "--fail-on: exit 10 naming the kinds found; the command's own failure wins" {
	cp "$FIX/idle" "$D/firecracker"
	run ct_run --scope "$D" --fail-on vmm_leak,cid_conflict -- sh -c "$(leak_vmm_cmd "$D")"
	[ "$status" -eq 10 ]
	[ "$output" = "cidtrace: --fail-on: vmm_leak 1" ]
	rq '[.findings[] | select(.kind == "vmm_leak")] | length == 1'
	kill "$(cat "$D/fc.pid")"
	# a failed command keeps its status, findings or not
	rm "$D/fc.ready"
	run ct_run --scope "$D" --fail-on vmm_leak -- sh -c "$(leak_vmm_cmd "$D"); exit 3"
	[ "$status" -eq 3 ]
	kill "$(cat "$D/fc.pid")"
	# kinds not listed, or no findings: 0
	rm "$D/fc.ready"
	run ct_run --scope "$D" --fail-on cid_conflict,uffd_orphan,lost_events -- sh -c "$(leak_vmm_cmd "$D")"
	[ "$status" -eq 0 ]
	run ct_run --scope "$D" --fail-on vmm_leak -- true "$D"
	[ "$status" -eq 0 ]
}

@test "--fail-on, --only, --reap and --kill-orphans usage errors exit 2 with one line" {
	run "$CIDTRACE" run --fail-on vmm_leak,bogus -- true
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "cidtrace run: --fail-on: unknown kind 'bogus' (see cidtrace run --help)" ]
	run "$CIDTRACE" run --only exec,nope -- true
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	run "$CIDTRACE" run --reap -- true
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "cidtrace run: --reap needs --scope, --scope-cgroup or --scope-container (see cidtrace run --help)" ]
	run "$CIDTRACE" run --reap=later --scope "$D" -- true
	[ "$status" -eq 2 ]
	run "$CIDTRACE" record --reap --scope "$D"
	[ "$status" -eq 2 ]
	run "$CIDTRACE" record --kill-orphans
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "cidtrace record: --kill-orphans needs --scope, --scope-cgroup or --scope-container (see cidtrace record --help)" ]
	run "$CIDTRACE" run --kill-orphans=3 -- true
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace run: --kill-orphans needs --scope, --scope-cgroup or --scope-container (see cidtrace run --help)" ]
	for grace in x -1 0 "" 2s 0.05; do
		run "$CIDTRACE" record --scope "$D" --kill-orphans="$grace"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
	done
	run "$CIDTRACE" run --metrics /nonexistent-dir/m.prom -- true
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace: cannot write metrics '/nonexistent-dir/m.prom': No such file or directory" ]
}

@test "--reap stops the VMM leaked in scope, never the one in a sibling dir" {
	A="$T/ci/x/001" B="$T/ci/x/0010"
	mkdir -p "$A" "$B"
	cp "$FIX/idle" "$A/firecracker"
	cp "$FIX/idle" "$B/firecracker"
	run ct_run --scope "$A" --reap -- sh -c "$(leak_vmm_cmd "$A"); $(leak_vmm_cmd "$B")"
	[ "$status" -eq 0 ]
	a=$(cat "$A/fc.pid") b=$(cat "$B/fc.pid")
	run ! alive "$a" firecracker
	alive "$b" firecracker
	rq --argjson a "$a" --arg d "$A" '.reaped | length == 1 and .[0].pid == $a and
		.[0].action == "sigterm" and .[0].exited == true and .[0].role == "vmm" and
		.[0].reason == "vmm_leak" and .[0].comm == "firecracker" and (.[0].at | test("Z$"))'
	# the leak happened: reaping it does not hide the finding
	rq --argjson a "$a" '[.findings[] | select(.kind == "vmm_leak") | .pid] == [$a]'
	proc_json "$a" | jq -e '.exit.signal == 15 and .fatal_signals[0].sender_comm == "cidtrace"'
}

@test "--reap=dry-run lists what it would stop and stops nothing" {
	A="$T/ci/x/001" B="$T/ci/x/0010"
	mkdir -p "$A" "$B"
	cp "$FIX/idle" "$A/firecracker"
	cp "$FIX/idle" "$B/firecracker"
	run ct_run --scope "$A" --reap=dry-run -- sh -c "$(leak_vmm_cmd "$A"); $(leak_vmm_cmd "$B")"
	[ "$status" -eq 0 ]
	a=$(cat "$A/fc.pid") b=$(cat "$B/fc.pid")
	alive "$a" firecracker
	alive "$b" firecracker
	rq --argjson a "$a" '.reaped | length == 1 and .[0].pid == $a and
		.[0].action == "would_kill" and .[0].exited == false'
	# without --reap the array is there, empty
	run ct_run --scope "$A" -- true
	rq '.reaped == []'
}

@test "--reap gets SIGKILL to a VMM that ignores SIGTERM after the grace" {
	mkdir -p "$D/bin"
	cp "$FIX/idle" "$D/bin/firecracker"
	# SIGTERM stays ignored across exec; idle's ready file says it runs, exec traced
	run ct_run --scope "$D" --reap --reap-grace 0.5 -- sh -c "
		bash -c \"trap '' TERM; export IDLE_READY='$D/fc.ready'; exec '$D/bin/firecracker'\" >/dev/null 2>&1 &
		echo \$! >'$D/fc.pid'
		while [ ! -e '$D/fc.ready' ]; do sleep 0.01; done"
	[ "$status" -eq 0 ]
	fc=$(cat "$D/fc.pid")
	run ! alive "$fc" firecracker
	rq --argjson p "$fc" '[.reaped[] | select(.pid == $p) | .action] == ["sigterm", "sigkill"]'
	rq --argjson p "$fc" '[.reaped[] | select(.pid == $p)] | .[0].exited == false and .[1].exited == true'
	# the grace was waited out, and not much more
	rq 'def t: (sub("\\.[0-9]+Z$"; "Z") | fromdate) + (capture("(?<f>\\.[0-9]+)Z$").f | tonumber);
		(.reaped[1].at | t) - (.reaped[0].at | t) | . >= 0.45 and . < 2'
}

@test "--reap stops a uffd guest's VMM before its pager" {
	[ -c /dev/kvm ] || skip "no /dev/kvm"
	cp "$FIX/uffd_vmm" "$D/firecracker"
	cp "$FIX/uffd_pager" "$D/hypeman-uffd-pager"
	# the job waits until a checkpoint shows the pager holding the guest's uffd, then leaves
	cat >"$D/job.sh" <<-EOF
	"$D/hypeman-uffd-pager" --sock "$D/uffd.sock" --ready "$D/listening" >/dev/null 2>&1 &
	echo \$! >"$D/pager.pid"
	EOF
	guest_job "$D/job.sh"
	run ct_run --scope "$D" --checkpoint 0.1 --reap -- sh "$D/job.sh"
	[ "$status" -eq 0 ]
	vmm=$(cat "$D/vmm.pid") pager=$(cat "$D/pager.pid")
	run ! alive "$vmm" firecracker
	run ! alive "$pager" hypeman-uffd-pa
	rq --argjson v "$vmm" --argjson p "$pager" '
		([.reaped[] | select(.pid == $v)][0]) as $vr | ([.reaped[] | select(.pid == $p)][0]) as $pr |
		$vr.role == "vmm" and $pr.role == "pager" and $vr.at < $pr.at and
		([.reaped[] | .pid] | index($v)) < ([.reaped[] | .pid] | index($p))'
}

@test "--metrics writes a Prometheus textfile with findings and attach labels" {
	cp "$FIX/idle" "$D/firecracker"
	run ct_run --scope "$D" --metrics "$T/cidtrace.prom" -- sh -c "$(leak_vmm_cmd "$D")"
	[ "$status" -eq 0 ]
	M="$T/cidtrace.prom"
	cat "$M"
	# every sample line parses; HELP and TYPE for every metric
	[ "$(grep -v '^#' "$M" | grep -cvE '^[a-z_]+(\{.*\})? [0-9.e+-]+$')" -eq 0 ]
	grep -qx 'cidtrace_findings_total{kind="vmm_leak"} 1' "$M"
	grep -qx 'cidtrace_findings{kind="vmm_leak",classification=""} 1' "$M"
	grep -qE '^cidtrace_info\{version="[0-9.]+",process="(tp_btf|raw_tp)",snapshot="iter",vsock="[a-z]+",uffd="[a-z]+"\} 1$' "$M"
	grep -qx 'cidtrace_up 1' "$M"
	grep -qx 'cidtrace_trace_complete 1' "$M"
	grep -qE '^cidtrace_events_received_total [1-9][0-9]*$' "$M"
	grep -qx 'cidtrace_guests{uffd_state="spinning"} 0' "$M"
	for m in $(grep -v '^#' "$M" | sed -E 's/[{ ].*//' | sort -u); do
		grep -qx "# TYPE $m \(counter\|gauge\)" "$M"
		grep -q "^# HELP $m " "$M"
	done
	[ -z "$(ls -A "$T" | grep '\.tmp$')" ]
}

@test "--pid keeps only that process tree; --only picks the live line kinds" {
	for n in a b; do
		cat >"$D/$n.sh" <<-EOF
		while [ ! -e "$D/go" ]; do sleep 0.01; done
		sh -c 'exit 3' "$D/$n-child"
		EOF
	done
	sh "$D/a.sh" & a=$!
	sh "$D/b.sh" & b=$!
	"$CIDTRACE" record --json -o "$R" --ready-file "$T/ready" --scratch-root "$T" \
		--scope "$D" --pid "$a" --only exec,exit >"$T/live.ndjson" 2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
	# parsing a comma list leaves cidtrace's own argv, as /proc shows it, untouched
	tr '\0' ' ' <"/proc/$RPID/cmdline" | grep -q -- "--only exec,exit "
	touch "$D/go"
	wait "$a" "$b" || true # each exits with its child's 3
	stop_record
	rq --arg c "$D/a-child" '[.processes[] | select(.argv[-1] == $c)] | length == 1 and .[0].exit.code == 3'
	rq --arg c "$D/b-child" '[.processes[] | select(.argv[-1] == $c)] == []'
	jq -e -s --arg c "$D/a-child" 'any(.argv[-1]? == $c)' "$T/live.ndjson"
	jq -e -s --arg c "$D/b-child" --argjson b "$b" 'all(.pid != $b and .argv[-1]? != $c)' "$T/live.ndjson"
	run "$CIDTRACE" run --json --only exit -o "$R" --scratch-root "$T" -- sh -c "sh -c 'exit 2' '$D'; true"
	[ "$status" -eq 0 ]
	# "exit" is exits and fatal signals; a VMM's are shown whoever runs it, so another job's
	# VMM killed meanwhile adds a signal line
	echo "$output" | jq -e -s --arg d "$D" 'all(.event == "exit" or .event == "signal") and
		any(.event == "exit" and .code == 2 and .test_dir == $d)'
	run "$CIDTRACE" run --only fork,exec -o "$R" --scratch-root "$T" -- sh -c "sh -c 'exit 2' '$D'; true"
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | grep -cE '^[0-9:.]+ (exit|signal) ')" -eq 0 ]
	echo "$output" | grep -qE '^[0-9:.]+ exec '
}

@test "--vmm-comm makes another comm a VMM: its role, its leak, --fail-on" {
	cp "$FIX/idle" "$D/my-hypervisor"
	job="IDLE_READY='$D/v.ready' '$D/my-hypervisor' >/dev/null 2>&1 & echo \$! >'$D/v.pid'
		while [ ! -e '$D/v.ready' ]; do sleep 0.01; done"
	# by default it is just a process left running
	run ct_run --scope "$D" --fail-on vmm_leak -- sh -c "$job"
	[ "$status" -eq 0 ]
	v=$(cat "$D/v.pid")
	proc_json "$v" | jq -e '.role == null and .comm == "my-hypervisor"'
	rq '[.findings[] | select(.kind == "vmm_leak")] == []'
	kill "$v"
	rm "$D/v.ready"
	# named with a glob, repeatable next to the defaults
	run ct_run --scope "$D" --vmm-comm 'crosvm-x' --vmm-comm 'my-hyper*' --fail-on vmm_leak -- \
		sh -c "$job"
	[ "$status" -eq 10 ]
	[ "$output" = "cidtrace: --fail-on: vmm_leak 1" ]
	v=$(cat "$D/v.pid")
	proc_json "$v" | jq -e '.role == "vmm"'
	rq --argjson v "$v" '[.findings[] | select(.kind == "vmm_leak") | .pid] == [$v]'
}

@test "--metrics is rewritten at each checkpoint while record runs" {
	M="$T/cidtrace.prom"
	cp "$FIX/idle" "$D/firecracker"
	start_record --scope "$D" --checkpoint 0.2 --metrics "$M"
	# written before the ready file
	grep -qx 'cidtrace_up 1' "$M"
	IDLE_READY="$D/fc.ready" "$D/firecracker" >/dev/null 2>&1 3>&- &
	fc=$!
	wait_file "$D/fc.ready"
	# a checkpoint while tracing (the report says it is not the final one) counts the events
	wait_report --argjson fc "$fc" '.trace.final == false and any(.processes[]; .pid == $fc)'
	wait_line "$M" '^cidtrace_events_received_total [1-9][0-9]*$'
	grep -qx 'cidtrace_trace_complete 1' "$M"
	# a leak is judged when tracing ends, in the report as in the metrics: the final rewrite
	rq '[.findings[] | select(.kind == "vmm_leak")] == []'
	grep -qx 'cidtrace_findings_total{kind="vmm_leak"} 0' "$M"
	stop_record
	grep -qx 'cidtrace_findings_total{kind="vmm_leak"} 1' "$M"
	[ -z "$(ls -A "$T" | grep '\.tmp$')" ]
}

@test "--fail-on with record: exit 10 when stopped with the finding, 0 without" {
	cp "$FIX/idle" "$D/firecracker"
	start_record --scope "$D" --fail-on vmm_leak,uffd_orphan
	IDLE_READY="$D/fc.ready" "$D/firecracker" >/dev/null 2>&1 3>&- &
	fc=$!
	wait_file "$D/fc.ready"
	kill -TERM "$RPID"
	st=0
	wait "$RPID" || st=$?
	[ "$st" -eq 10 ]
	[ "$(cat "$T/record.err")" = "cidtrace: --fail-on: vmm_leak 1" ]
	rq --argjson fc "$fc" '.trace.final and [.findings[] | select(.kind == "vmm_leak") | .pid] == [$fc]'
	# the VMM was there before this trace: not its leak, so 0
	rm "$T/ready"
	start_record --scope "$D" --fail-on vmm_leak
	stop_record
	[ ! -s "$T/record.err" ]
	rq '[.findings[] | select(.kind == "vmm_leak")] == []'
}
