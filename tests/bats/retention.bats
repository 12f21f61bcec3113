#!/usr/bin/env bats
# Retention (--keep-processes, --keep-for, trace.retention) with real processes: the report of
# a long recording is a window, and it says so (issue 11).

load helper
bats_require_minimum_version 1.5.0

# The host runs other jobs, whose orphans and killed processes a recorder keeps too: each test
# records its own processes only (--pid: this test and its descendants).
record() {
	start_record --pid "$BASHPID" --checkpoint 0.2 --scope "$D" "$@"
}

# churn N: N short processes in scope ($D is their cwd and in their argv), one at a time; their
# driver exits last. Sets $driver to its pid. Not in $(...): that subshell would be its parent,
# an exited one the report lists as an ancestor.
churn() {
	bash -c 'cd "$1" && for ((i = 0; i < $2; i++)); do /bin/true; done; echo $$' churn "$D" "$1" \
		>"$T/driver"
	driver=$(cat "$T/driver")
}

# exited_in_scope: the exited processes in scope the report lists.
exited_in_scope() {
	jq '[.processes[] | select(.in_scope and .exited_at != null)] | length' "$R"
}

@test "--keep-processes 50 over 300 short processes in scope: the newest 50 stay, the rest counted" {
	record --keep-processes 50 --raw "$T/cap.raw"
	churn 300
	# the driver exits last: once a checkpoint has its exit, every earlier exit was handled
	wait_report --argjson d "$driver" '.processes[] | select(.pid == $d) | .exited_at != null'
	stop_record
	[ "$(exited_in_scope)" -eq 50 ]
	# and no other exited process: none is listed as the ancestor of one kept
	[ "$(jq '[.processes[] | select(.exited_at != null)] | length' "$R")" -eq 50 ]
	# the 300 and the driver exited: 50 listed, the other 251 counted
	rq '.trace.retention.dropped_processes == 251'
	rq '.trace.retention | .keep_processes == 50 and .keep_for_s == 86400 and .dropped_cids == 0
		and .dropped_uffds == 0 and .dropped_findings == 0'
	# since: the latest exit dropped, before the oldest exit still listed
	rq '.trace.retention.since as $s | $s != null
		and ([.processes[] | select(.in_scope and .exited_at != null) | .exited_at] | min) >= $s'
	# the capture holds the limits: its replay drops the same processes, byte for byte
	"$CIDTRACE" replay "$T/cap.raw" -o "$T/replay.json" -q
	cmp "$R" "$T/replay.json"
}

@test "--keep-for 2s: what exited longer ago leaves the report, counted; a live process stays" {
	cp /bin/sleep "$D/sleeper"
	record --keep-for 2s
	"$D/sleeper" 300 3>&- &
	live=$!
	churn 20
	wait_report --argjson d "$driver" '.processes[] | select(.pid == $d) | .exited_at != null'
	# the 20 and the driver, 2 s after their exits by the recorder's clock, seen in a checkpoint
	wait_report '.trace.retention.dropped_processes == 21'
	[ "$(exited_in_scope)" -eq 0 ]
	proc_json "$live" | jq -e '.in_scope and .exited_at == null'
	rq '.trace.retention | .keep_for_s == 2 and .keep_processes == 10000 and .since != null'
	kill "$live"
	stop_record
}

@test "uid 65534 churning processes in scope cannot push the report past --keep-processes" {
	chmod 755 "$T" # mktemp -d made it 0700: uid 65534 must reach $D
	record --keep-processes 50
	# short processes, orphans and processes killed by a signal: every kind the report keeps
	setpriv --reuid 65534 --regid 65534 --clear-groups bash -c 'cd "$1" &&
		for ((i = 0; i < 400; i++)); do
			/bin/true
			(/bin/true &)
			sh -c "kill -9 \$\$"
		done 2>/dev/null; exit 0' churn "$D"
	# a last in-scope process of ours: its exit in a checkpoint means the churn's were handled
	churn 0
	wait_report --argjson d "$driver" '.processes[] | select(.pid == $d) | .exited_at != null'
	stop_record
	[ "$(exited_in_scope)" -le 50 ]
	# 400 x (true, subshell, orphan, sh), the setpriv'd bash and the marker: listed or counted
	rq '([.processes[] | select(.in_scope and .exited_at != null)] | length)
		+ .trace.retention.dropped_processes == 1602'
}

@test "bad --keep-processes and --keep-for values: one line, exit 2" {
	for bad in -1 5x 1e3 '' 100000001; do
		run -2 "$CIDTRACE" record --keep-processes "$bad" -o "$R"
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "cidtrace record: --keep-processes needs a number"* ]]
	done
	for bad in 2w 1.5 '' s 10ss 3651d -1; do
		run -2 "$CIDTRACE" run --keep-for "$bad" -o "$R" -- true
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "cidtrace run: --keep-for needs a duration"* ]]
	done
	[ ! -e "$R" ]
}
