#!/usr/bin/env bats
# Process lifecycle as the report records it, on the host kernel.

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"

@test "exit codes and terminating signals of real children" {
	cat >"$D/exit3.sh" <<-'S'
	exit 3
	S
	cat >"$D/term.sh" <<-'S'
	kill -TERM $$
	S
	run ct_run --scope "$D" -- sh -c "sh '$D/exit3.sh'; sh '$D/term.sh'; exit 0"
	[ "$status" -eq 0 ]
	rq --arg s "$D/exit3.sh" '.processes[] | select(.argv[-1] == $s) | .exit == {code: 3, signal: 0, core_dumped: false}'
	rq --arg s "$D/term.sh" '.processes[] | select(.argv[-1] == $s) | .exit.signal == 15 and .exit.code == 0'
	rq --arg s "$D/term.sh" '.processes[] | select(.argv[-1] == $s) | (.fatal_signals | length) == 1 and .fatal_signals[0].name == "SIGTERM" and .fatal_signals[0].sender_pid == .pid'
	rq --arg d "$D" '[.processes[] | select(.in_scope)] | all(.test_dir == $d)'
}

@test "kill -9 is recorded with its sender" {
	cp /bin/sleep "$D/sleeper"
	cat >"$D/victim.sh" <<-'S'
	touch "$(dirname "$0")/victim.ready"
	"$(dirname "$0")/sleeper" 300
	S
	run ct_run --scope "$D" -- bash -c "echo \$\$ >'$D/sender.pid'; sh '$D/victim.sh' >/dev/null 2>&1 & v=\$!
		while [ ! -e '$D/victim.ready' ]; do sleep 0.01; done
		echo \$v >'$D/victim.pid'; kill -9 \$v; wait \$v; exit 0"
	[ "$status" -eq 0 ]
	victim=$(cat "$D/victim.pid")
	sender=$(cat "$D/sender.pid")
	proc_json "$victim" | jq -e --argjson s "$sender" '.fatal_signals == [.fatal_signals[0]] and .fatal_signals[0].signal == 9 and .fatal_signals[0].sender_pid == $s and .fatal_signals[0].sender_comm == "bash" and (.fatal_signals[0].at | test("^[0-9-]+T[0-9:]+\\.[0-9]{6}Z$"))'
	proc_json "$victim" | jq -e '.exit.signal == 9 and .exited_at != null'
}

@test "a double-forked grandchild is reparented and keeps original_ppid" {
	cp /bin/sleep "$D/sleeper"
	cat >"$D/daemon.sh" <<-'S'
	touch "$(dirname "$0")/daemon.ready"
	"$(dirname "$0")/sleeper" 300
	S
	run ct_run --scope "$D" -- sh -c "sh -c 'echo \$\$ >$D/mid.pid; sh $D/daemon.sh >/dev/null 2>&1 & echo \$! >$D/daemon.pid'
		while [ ! -e '$D/daemon.ready' ]; do sleep 0.01; done"
	[ "$status" -eq 0 ]
	mid=$(cat "$D/mid.pid")
	daemon=$(cat "$D/daemon.pid")
	proc_json "$daemon" | jq -e --argjson mid "$mid" '.orphaned == true and .original_ppid == $mid and .ppid != $mid and .exited_at == null'
	proc_json "$mid" | jq -e '.exit.code == 0 and .orphaned == false and .original_ppid == null'
}

@test "run passes through the command's exit status" {
	run ct_run -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
	rq '.trace.mode == "run" and .trace.command == ["sh", "-c", "exit 7"] and .trace.final == true'
	run ct_run -- sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	run -127 ct_run -- /nonexistent/command
	[ "$status" -eq 127 ]
	[[ "$output" == *"cannot run '/nonexistent/command'"* ]]
}

@test "a VMM left running yields vmm_leak; one that exits does not" {
	cp "$FIX/idle" "$D/firecracker"
	# idle creates its ready file from main(), after the exec the tracer must see: waiting for
	# the comm instead would race with it
	run ct_run --scope "$D" -- sh -c "
		IDLE_READY='$D/gone.ready' '$D/firecracker' >/dev/null 2>&1 & echo \$! >'$D/gone.pid'
		while [ ! -e '$D/gone.ready' ]; do sleep 0.01; done
		kill \$!; wait \$!
		IDLE_READY='$D/fc.ready' '$D/firecracker' >/dev/null 2>&1 & echo \$! >'$D/fc.pid'
		while [ ! -e '$D/fc.ready' ]; do sleep 0.01; done"
	[ "$status" -eq 0 ]
	fc=$(cat "$D/fc.pid") gone=$(cat "$D/gone.pid")
	rq --argjson pid "$fc" --arg d "$D" '[.findings[] | select(.kind == "vmm_leak")] | length == 1 and .[0].pid == $pid and .[0].comm == "firecracker" and .[0].test_dir == $d and .[0].age_s > 0 and (.[0].summary | type) == "string"'
	proc_json "$fc" | jq -e '.role == "vmm" and .started_at != null and .exit == null'
	proc_json "$gone" | jq -e '.role == "vmm" and .started_at != null and .exit.signal == 15'
}

@test "processes that began before cidtrace are seeded, with started_at null" {
	cp "$FIX/idle" "$D/firecracker"
	IDLE_READY="$D/fc.ready" "$D/firecracker" >/dev/null 2>&1 3>&- &
	fc=$!
	wait_file "$D/fc.ready"
	start_record --scope "$D"
	stop_record
	proc_json "$fc" | jq -e --arg d "$D" '.started_at == null and .role == "vmm" and .test_dir == $d and .comm == "firecracker" and (.start_ns > 0)'
	rq '.trace.attach.snapshot == "iter"'
	# a VMM that was already running is not a leak of this trace
	rq '[.findings[] | select(.kind == "vmm_leak")] | length == 0'
}

@test "a thousand unrelated commands do not bloat the report" {
	# --pid: this test's processes only; the VMMs and signals of other jobs on the host would
	# be kept, and counted, otherwise
	run ct_run --pid "$BASHPID" -- sh -c 'for i in $(seq 1000); do /bin/true; done'
	[ "$status" -eq 0 ]
	rq '.trace.events.received >= 3000 and .trace.events.lost == 0 and .trace.complete == true'
	# the job itself, and not one of its thousand children
	rq '[.processes[] | select(.started_at != null)] | length == 1 and .[0].argv[0] == "sh"'
	rq '[.processes[] | select(.comm == "true")] | length == 0'
}

@test "the fallback raw_tp hooks give the same lifecycle" {
	run ct_run --no-fentry --scope "$D" -- sh -c "sh -c 'kill -TERM \$\$' '$D'; exit 4"
	[ "$status" -eq 4 ]
	rq '.trace.attach.process == "raw_tp"'
	rq --arg d "$D" '.processes[] | select(.argv[-1] == $d) | .exit.signal == 15 and .fatal_signals[0].signal == 15'
}

@test "live lines: text columns, NDJSON with --json" {
	run "$CIDTRACE" run -o "$R" --scratch-root "$T" -- sh -c "sh -c 'exit 2' '$D'; true"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "TIME(UTC)"*"EVENT"*"PID"*"PPID"*"COMM"*"DETAIL"* ]]
	echo "$output" | grep -E "^[0-9:.]+ exec +[0-9]+ +[0-9]+ sh +sh -c exit 2 $D \[$D\]$"
	echo "$output" | grep -E "^[0-9:.]+ exit +[0-9]+ +[0-9]+ sh +code 2 \[$D\]$"
	run "$CIDTRACE" run --json -o "$R" --scratch-root "$T" -- sh -c "sh -c 'exit 2' '$D'; true"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e -s --arg d "$D" 'length >= 4 and all(has("time") and has("event") and has("pid")) and any(.event == "exit" and .code == 2 and .test_dir == $d)'
}

@test "a SIGKILLed record leaves its last checkpoint as a valid report" {
	start_record --checkpoint 0.2 --scope "$D"
	sh -c "exit 9" "$D" || true
	# wait for a checkpoint that includes the process, then kill without warning
	for ((i = 0; i < 500; i++)); do
		jq -e --arg d "$D" '.processes[] | select(.argv[-1] == $d) | .exit.code == 9' "$R" >/dev/null 2>&1 && break
		sleep 0.02
	done
	kill -KILL "$RPID"
	wait "$RPID" || true
	rq --arg d "$D" '.schema == "cidtrace.report/1" and .trace.final == false and .trace.ended_at == null and (.processes[] | select(.argv[-1] == $d) | .exit.code == 9)'
}

@test "the report contract: schema, and every field present even when zero" {
	run ct_run --scope "$D" -- sh -c "true '$D'"
	[ "$status" -eq 0 ]
	rq '.schema == "cidtrace.report/1" and .tool.name == "cidtrace" and (.tool.version | length > 0)'
	rq '.host | has("hostname") and has("kernel")'
	rq '.trace | has("started_at") and has("ended_at") and has("final") and has("complete") and (.attach | has("process") and has("snapshot")) and (.events | has("received") and has("lost"))'
	rq '(.cids | type) == "array" and (.findings | type) == "array"'
	rq '.processes | length > 0 and all(has("pid") and has("ppid") and has("start_ns") and has("comm") and has("exe") and has("argv") and has("argv_truncated") and has("test_dir") and has("role") and has("original_ppid") and has("orphaned") and has("started_at") and has("exited_at") and has("exit") and has("fatal_signals"))'
	rq '.trace.started_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$")'
}

@test "live signal lines: text, and --json with the sender" {
	run "$CIDTRACE" run -o "$R" --scratch-root "$T" -- sh -c "sh -c 'kill -TERM \$\$' '$D'; true"
	[ "$status" -eq 0 ]
	echo "$output" | grep -E "^[0-9:.]+ signal +([0-9]+) +[0-9]+ sh +SIGTERM from \1 \(sh\) \[$D\]$"
	echo "$output" | grep -E "^[0-9:.]+ exit +[0-9]+ +[0-9]+ sh +killed by SIGTERM \[$D\]$"
	# stderr apart: the outer sh says "Terminated" there
	run --separate-stderr "$CIDTRACE" run --json -o "$R" --scratch-root "$T" -- \
		sh -c "sh -c 'kill -TERM \$\$' '$D'; true"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e -s --arg d "$D" '[.[] | select(.event == "signal" and .test_dir == $d)] |
		length == 1 and (.[0] | .signal == 15 and .signal_name == "SIGTERM" and
		.sender_pid == .pid and .sender_comm == "sh" and .comm == "sh" and
		(.time | test("Z$")) and .start_ns > 0)'
}
