#!/usr/bin/env bats
# Checkpoints: a fork of cidtrace writes each one while the event thread goes on consuming
# records, so a fork storm loses nothing; a SIGKILL never leaves a torn report or a temp file;
# the writer is never one of the traced processes. And the ring buffer's size.

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"

# Start a recorder in a session of its own (its checkpoint writers too, until they exit), with
# its live lines in $T/live; $1 is the round, for its ready file.
start_session() {
	local n=$1
	shift
	setsid "$CIDTRACE" record -o "$R" --ready-file "$T/ready.$n" --scratch-root "$T" "$@" \
		>"$T/live" 2>>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready.$n"
}

# Wait until nothing of the session $1 (a recorder and its writers) runs any more.
session_gone() {
	local i
	for ((i = 0; i < 1000; i++)); do
		[ -z "$(ps -s "$1" -o stat= | grep -v '^Z')" ] && return 0
		sleep 0.01
	done
	echo "session $1 still runs: $(ps -s "$1" -o pid=,stat=,comm= | tr '\n' ' ')" >&2
	return 1
}

@test "a fork storm in scope from uid 65534, a checkpoint every second: nothing lost or missing" {
	chmod 755 "$T" # mktemp -d made it 0700: uid 65534 must reach its copy of the fixture
	cp "$FIX/churn" "$D/churn"
	start_record --scope "$D" --checkpoint 1 -v
	setpriv --reuid 65534 --regid 65534 --clear-groups \
		env -C "$D" "$D/churn" -n 3000 -p /bin/true >"$T/churn.out" &
	CHURN=$!
	# a checkpoint that saw the storm
	wait_report '[.processes[] | select(.in_scope and .comm == "true")] | length > 0'
	wait "$CHURN"
	stop_record
	rq '.trace.events.lost == 0 and .trace.complete == true'
	rq '.trace.checkpoints.written >= 1 and .trace.checkpoints.failed == 0'
	rq '.trace.checkpoints.interval_s == 1 and .trace.checkpoints.max_stall_ms > 0'
	rq '[.processes[] | select(.in_scope and .comm == "true")] | length == 3000'
	# -v: one line per checkpoint, in the form the bench parses
	grep -qE '^cidtrace: checkpoint: stall [0-9]+\.[0-9]{3} ms$' "$T/record.err"
	# processes[]: one object per line; the reader takes the file as it is
	[ "$(grep -c '^    {"pid":' "$R")" -eq "$(jq '.processes | length' "$R")" ]
	"$CIDTRACE" report "$R" >/dev/null
}

# SIGKILL the recorder $RPID once its checkpoint writer has a temp file (bounded wait).
kill_mid_write() {
	local i
	for ((i = 0; i < 500000; i++)); do
		if compgen -G "$T/.report.json.*.tmp" >/dev/null; then
			kill -KILL "$RPID"
			return 0
		fi
	done
	echo "no checkpoint was seen being written" >&2
	return 1
}

@test "a recorder SIGKILLed among its checkpoints leaves a whole report and no temp file" {
	for round in 1 2 3 4 5 6; do
		start_session "$round" -q --scope "$D" --checkpoint 0.05
		if ((round % 2)); then
			# while a writer writes
			env -C "$D" "$FIX/churn" -n 5000 -p /bin/true >/dev/null &
			CHURN=$!
			kill_mid_write
			kill "$CHURN"
			wait "$CHURN" || true
		else
			# at another moment of the writers' cycle each time: after a storm of another
			# length
			env -C "$D" "$FIX/churn" -n $((RANDOM % 1500 + 200)) -p /bin/true >/dev/null
			kill -KILL "$RPID"
		fi
		wait "$RPID" || true
		# the writer dies with the recorder, and takes its temp file with it
		session_gone "$RPID"
		jq -e '.schema == "cidtrace.report/1" and .trace.final == false' "$R"
		[ -z "$(find "$T" -maxdepth 1 -name '.report.json.*.tmp')" ]
	done
	"$CIDTRACE" report "$R" >/dev/null
}

@test "cidtrace's checkpoint writer is never in scope, in the report or a live line" {
	start_session 1 --json --scope "$D" --checkpoint 0.05
	env -C "$D" "$FIX/churn" -n 500 -p /bin/true >/dev/null
	kill -HUP "$RPID"
	wait_report '.trace.checkpoints.written >= 3'
	kill -TERM "$RPID"
	wait "$RPID"
	rq '.trace.checkpoints.written >= 3'
	# its argv names the scope, as cidtrace's does; it is neither in scope nor listed
	rq --argjson rec "$RPID" '[.processes[] | select(.ppid == $rec)] | length == 0'
	[ -z "$(jq -c --argjson rec "$RPID" 'select(.ppid == $rec)' "$T/live")" ]
	grep -q '"comm":"true"' "$T/live"

	# without --scope every fork, exec and exit has a live line: never the writer's
	start_session 2 --json --checkpoint 0.05
	wait_report '.trace.checkpoints.written >= 3'
	kill -TERM "$RPID"
	wait "$RPID"
	[ -z "$(jq -c --argjson rec "$RPID" 'select(.ppid == $rec)' "$T/live")" ]
	rq --argjson rec "$RPID" '[.processes[] | select(.ppid == $rec)] | length == 0'
}

@test "--ring-buffer-size: bad sizes are usage errors; a good one is rounded up and reported" {
	for bad in 0 abc -1 12KB 2T 1025M 99999999999999999999 ""; do
		for cmd in record run; do
			run --separate-stderr "$CIDTRACE" "$cmd" --ring-buffer-size "$bad" -- true
			[ "$status" -eq 2 ] || { echo "$cmd '$bad': $status" >&2; false; }
			[ "$(echo "$stderr" | wc -l)" -eq 1 ]
			[[ "$stderr" == "cidtrace $cmd: --ring-buffer-size "* ]]
		done
	done
	ct_run --ring-buffer-size 3m -- true
	rq '.trace.ring_buffer_bytes == 4194304'
	ct_run --ring-buffer-size 100 -- true
	rq --argjson page "$(getconf PAGESIZE)" '.trace.ring_buffer_bytes == $page'
	# the default: 1 MiB per possible CPU, a power of two from 2 to 64 MiB
	ct_run -- true
	rq '.trace.ring_buffer_bytes as $b | any(range(21; 27); pow(2; .) == $b)'
	rq '.trace.checkpoints == {interval_s: 5, written: 0, skipped: 0, failed: 0,
		last_stall_ms: 0, max_stall_ms: 0}'
}

# Wait until $T/record.err has $1 checkpoint lines after its first "cannot write" line.
wait_checkpoints_after_failure() {
	local i
	for ((i = 0; i < 600; i++)); do
		(($(awk '/cannot write/ { f = 1 } f && /checkpoint: stall/ { n++ } END { print n + 0 }' \
			"$T/record.err") >= $1)) && return 0
		sleep 0.05
	done
	echo "timed out waiting for $1 checkpoints after a failed one" >&2
	return 1
}

@test "checkpoint writers that cannot write are told once and counted; writing resumes" {
	mkdir "$T/out"
	"$CIDTRACE" record -q -v -o "$T/out/r.json" --metrics "$T/out/m.prom" \
		--ready-file "$T/ready" --scratch-root "$T" --checkpoint 0.05 2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
	rm -r "$T/out"
	# a writer forks only once the last one is reaped: the second after the first failure
	# means that another one failed
	wait_checkpoints_after_failure 2
	mkdir "$T/out"
	wait_file "$T/out/r.json"
	stop_record
	R="$T/out/r.json"
	rq '.trace.checkpoints.failed >= 2 and .trace.checkpoints.written >= 1'
	[ "$(grep -c "^cidtrace: cannot write report '$T/out/r.json': No such file or directory$" \
		"$T/record.err")" -eq 1 ]
	[ "$(grep -c "^cidtrace: cannot write metrics '$T/out/m.prom': " "$T/record.err")" -eq 1 ]
	[ "$(grep -c "cannot write" "$T/record.err")" -eq 2 ]
}
