#!/usr/bin/env bats
# How record and run stop, and where the report goes: userspace, the same on every kernel, so
# on the host only (tests/vm/run-suite.sh boots with the files that need a kernel's hooks).

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"

# Report times are UTC strings with microseconds; t makes one seconds.
JQ_T='def t: (sub("\\.[0-9]+Z$"; "Z") | fromdate) + (capture("(?<f>\\.[0-9]+)Z$").f | tonumber);'

@test "record stops on SIGINT: exit 0 and a final report" {
	# bash starts a background job with SIGINT ignored, and exec keeps it ignored: give it back
	# its default, as a terminal's record would have
	env --default-signal=INT "$CIDTRACE" record -q -o "$R" --ready-file "$T/ready" \
		--scratch-root "$T" --scope "$D" 2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
	# SIGINT (bit 1 of the mask) is not ignored: the test sends what it says
	(($((16#$(sed -n 's/^SigIgn:[[:space:]]*//p' "/proc/$RPID/status"))) & 2)) && false
	sh -c 'exit 5' "$D" || true
	kill -INT "$RPID"
	st=0
	wait "$RPID" || st=$?
	[ "$st" -eq 0 ]
	[ ! -s "$T/record.err" ]
	rq --arg d "$D" '.trace.final and .trace.ended_at != null and
		(.processes[] | select(.argv[-1] == $d) | .exit.code == 5)'
}

@test "run passes SIGINT on to its command, and exits with the command's status" {
	cp "$FIX/idle" "$D/job"
	env --default-signal=INT "$CIDTRACE" run -q -o "$R" --scratch-root "$T" -- \
		env IDLE_READY="$D/job.ready" "$D/job" 2>"$T/run.err" 3>&- &
	RPID=$!
	wait_file "$D/job.ready"
	kill -INT "$RPID"
	st=0
	wait "$RPID" || st=$?
	# idle dies of SIGINT: 128 + 2, as a shell would say
	[ "$st" -eq 130 ]
	rq --arg j "$D/job" '.trace.final and (.processes[] | select(.argv[0] == $j) | .exit.signal == 2)'
}

@test "record --duration stops by itself once that long has passed" {
	run "$CIDTRACE" record -q --duration 1 -o "$R" --ready-file "$T/ready" --scratch-root "$T" 3>&-
	[ "$status" -eq 0 ]
	[ -e "$T/ready" ]
	rq "$JQ_T"' .trace.final and (.trace.ended_at | t) - (.trace.started_at | t) >= 1'
	# run stops with its command: --duration is record's alone
	run "$CIDTRACE" run --duration 1 -- true
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace run: unknown option --duration (see cidtrace run --help)" ]
}

@test "without -o the report is cidtrace-report.json in the current directory" {
	mkdir "$T/cwd"
	cd "$T/cwd"
	run "$CIDTRACE" run -q --scratch-root "$T" -- sh -c 'exit 0' "$D"
	[ "$status" -eq 0 ]
	[ "$(ls -A "$T/cwd")" = cidtrace-report.json ]
	jq -e --arg d "$D" '.schema == "cidtrace.report/1" and .trace.final and
		any(.processes[]; .argv[-1] == $d)' "$T/cwd/cidtrace-report.json"
}
