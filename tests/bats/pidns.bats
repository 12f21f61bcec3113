#!/usr/bin/env bats
# cidtrace inside a container's PID namespace: BPF reports host pids, /proc shows the
# container's, so a trace there would mistake live VMMs for gone ones. The commands that
# trace or read /proc refuse with exit 3 and one line naming the fix; reading a report works.

load helper

# $1... run in a new pid and mount namespace with its own /proc, as a container does.
in_pidns() {
	unshare -p -m --fork --mount-proc "$@"
}

@test "pidns: record, run, cids and guests refuse in a child pid namespace: exit 3, one line" {
	for cmd in "record -o $R" "run -o $R -- true" cids guests; do
		# shellcheck disable=SC2086 # the command's words
		run in_pidns "$CIDTRACE" $cmd
		echo "$cmd: $status $output"
		[ "$status" -eq 3 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "cidtrace: runs in a child pid namespace: "*"host pid namespace"*"--pid=host"*"hostPID: true"* ]]
	done
	[ ! -e "$R" ]
}

@test "pidns: the host's /proc in a child pid namespace is refused too" {
	# no --mount-proc: /proc is the host's and calls cidtrace by its host pid
	run unshare -p --fork "$CIDTRACE" cids
	[ "$status" -eq 3 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"whose /proc is not its own"*"--pid=host"* ]]
}

@test "pidns: doctor says so, in its lines and its JSON, and exits 3" {
	run "$CIDTRACE" doctor
	[[ "$output" == *$'\n'"OK        pid namespace    the host's"* ]]
	run in_pidns "$CIDTRACE" doctor
	[ "$status" -eq 3 ]
	[[ "$output" == *"missing   pid namespace    a child pid namespace"*"hostPID: true"* ]]
	[[ "$output" == *"recording: will not work"* ]]
	in_pidns "$CIDTRACE" doctor --json >"$T/doctor.json" || [ "$?" -eq 3 ]
	jq -e '.recording == false' "$T/doctor.json"
	jq -e '.items[] | select(.item == "pid namespace") | .state == "missing" and
		(.detail | startswith("a child pid namespace")) and (.fix | contains("--pid=host"))' \
		"$T/doctor.json"
}

@test "pidns: report and replay of a file still work inside one" {
	run "$CIDTRACE" run -o "$R" --raw "$T/cap.raw" --scratch-root "$T" -- true
	[ "$status" -eq 0 ]
	run in_pidns "$CIDTRACE" report "$R"
	[ "$status" -eq 0 ]
	[[ "$output" == *"0 findings; trace complete"* ]]
	run in_pidns "$CIDTRACE" replay "$T/cap.raw" -o "$T/replayed.json"
	[ "$status" -eq 0 ]
	jq -e '.schema == "cidtrace.report/1"' "$T/replayed.json"
}
