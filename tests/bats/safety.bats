#!/usr/bin/env bats
# cidtrace runs as root beside untrusted users: private artifacts, no filesystem access driven
# by their argv, signals that never cost the final report, loss that is never silent, and no
# raw bidi or C1 control character in any output.

load helper
bats_require_minimum_version 1.5.0

IDLE="$BATS_TEST_DIRNAME/../../build/fixtures/idle"
RLO=$'\xe2\x80\xae' # U+202E RIGHT-TO-LEFT OVERRIDE
LRI=$'\xe2\x81\xa6' # U+2066 LEFT-TO-RIGHT ISOLATE
NEL=$'\xc2\x85'     # U+0085, a C1 control

mode_owner() {
	stat -c '%a %u:%g' "$1"
}

# No raw bidi or C1 control in file $1; the literal escapes \u202e and \u2066 in it.
escaped_only() {
	run ! env LC_ALL=C grep -qF "$RLO" "$1"
	run ! env LC_ALL=C grep -qF "$LRI" "$1"
	run ! env LC_ALL=C grep -qF "$NEL" "$1"
	grep -qF '\u202e' "$1"
	grep -qF '\u2066' "$1"
}

@test "report, raw capture and ready file are 0600, metrics 0644; under sudo, the sudo user's" {
	umask 022
	echo old >"$R"
	chmod 644 "$R"
	run ct_run --metrics "$T/m.prom" --raw "$T/c.raw" -- true
	[ "$status" -eq 0 ]
	[ "$(mode_owner "$R")" = "600 0:0" ]
	# the metrics hold no user's data, and node_exporter reads them as its own user
	[ "$(mode_owner "$T/m.prom")" = "644 0:0" ]
	[ "$(mode_owner "$T/c.raw")" = "600 0:0" ]
	SUDO_UID=65534 SUDO_GID=65534 start_record --metrics "$T/m.prom" --raw "$T/c.raw" --checkpoint 0.2
	[ "$(mode_owner "$T/ready")" = "600 65534:65534" ]
	stop_record
	rq '.trace.final'
	[ "$(mode_owner "$R")" = "600 65534:65534" ]
	[ "$(mode_owner "$T/m.prom")" = "644 65534:65534" ]
	[ "$(mode_owner "$T/c.raw")" = "600 65534:65534" ]
	# no temp file is left behind
	[ -z "$(find "$T" -maxdepth 1 -name '.*.tmp')" ]
	# the capture replays; its report is private too
	run "$CIDTRACE" replay -q -o "$T/replayed.json" "$T/c.raw"
	[ "$status" -eq 0 ]
	[ "$(mode_owner "$T/replayed.json")" = "600 0:0" ]
}

@test "SIGPIPE: record --json | head -c 100 ends with a final report and exit 0" {
	( "$CIDTRACE" record --json --duration 2 -o "$R" 2>"$T/err"; echo $? >"$T/rc" ) |
		head -c 100 >"$T/head.out" &
	# live lines to fill the pipe past head's 100 bytes, then more after it exits
	for ((i = 0; i < 100; i++)); do
		/bin/true "$D"
		sleep 0.02
	done
	wait_file "$T/rc"
	[ "$(cat "$T/rc")" -eq 0 ]
	[ "$(wc -c <"$T/head.out")" -eq 100 ]
	rq '.trace.final == true and .trace.ended_at != null'
	[ "$(cat "$T/err")" = "cidtrace: live output stopped: Broken pipe; still tracing, the report is written as usual" ]
	# run's command keeps the default SIGPIPE: cidtrace's handler is not inherited
	run "$CIDTRACE" run -q -o "$R" -- grep SigIgn /proc/self/status
	[ "$status" -eq 0 ]
	ign=$(awk '{ print $2 }' <<<"$output")
	(((0x$ign & (1 << 12)) == 0)) # signal 13, SIGPIPE, is bit 12
}

@test "SIGHUP writes a checkpoint now and recording goes on" {
	start_record --scope "$D" --checkpoint 0 --metrics "$T/m.prom"
	before=$(jq -r .trace.updated_at "$R")
	inode=$(stat -c %i "$T/m.prom")
	kill -HUP "$RPID"
	wait_report --arg b "$before" '.trace.updated_at != $b and .trace.final == false'
	kill -0 "$RPID"
	[ "$(stat -c %i "$T/m.prom")" != "$inode" ] # --metrics written anew
	sh -c 'exit 0' "$D/after-hup"
	kill -HUP "$RPID"
	wait_report --arg a "$D/after-hup" '[.processes[] | select(.argv[-1] == $a)] | length == 1'
	stop_record
	rq --arg a "$D/after-hup" '.trace.final and ([.processes[] | select(.argv[-1] == $a)] | length == 1)'
	[ ! -s "$T/record.err" ]
}

@test "test dirs come from argv strings: cidtrace never stats a path from argv" {
	command -v strace >/dev/null || skip "strace not installed"
	mkdir -p "$T/TestX/001"
	start_record --checkpoint 0.2 --scope "$T/TestX"
	touch "$T/TestX/001/disk.img" "$T/TestX/disk.img"
	strace -f -qq -p "$RPID" -e trace=%file,%stat -o "$T/strace.out" 2>"$T/strace.err" &
	SPID=$!
	# attached to every thread: a checkpoint's file calls show up
	wait_line "$T/strace.out" 'openat|newfstatat'
	# one path exactly test_dir_depth deep (earlier builds stat()ed those), one deeper
	sh -c 'exit 0' "$T/TestX/disk.img" "if=$T/TestX/001/disk.img"
	wait_report --arg d "$T/TestX/001" '[.processes[] | select(.test_dir == $d)] | length >= 1'
	kill "$SPID"
	wait "$SPID" || true
	stop_record
	# the report itself was written, and nothing touched the argv's paths
	grep -q "$(basename "$R")" "$T/strace.out"
	run ! grep -F "$T/TestX" "$T/strace.out"
}

@test "bidi and C1 controls in argv come out escaped: text, HTML, JSON, NDJSON" {
	[ -x "$IDLE" ] || skip "build the fixtures first: make fixtures"
	H="$T/Test${RLO}gpj${NEL}/001"
	mkdir -p "$H"
	cp "$IDLE" "$H/fc${LRI}x"
	# a leaked VMM whose comm, argv and test dir carry the controls
	job="IDLE_READY='$H/ready' '$H/fc${LRI}x' '--name=a${RLO}b${NEL}c' >/dev/null 2>&1 3>&- &
		echo \$! >'$T/fc.pid'; while [ ! -e '$H/ready' ]; do sleep 0.01; done"
	"$CIDTRACE" run -o "$R" --scratch-root "$T" --scope "$T" --vmm-comm 'fc*' -- sh -c "$job" \
		>"$T/live.txt"
	kill "$(cat "$T/fc.pid")"
	rq --arg h "$H" --arg a "--name=a${RLO}b${NEL}c" \
		'[.processes[] | select(.test_dir == $h and .argv[1] == $a and .role == "vmm")] | length == 1'
	rq '[.findings[] | select(.kind == "vmm_leak")] | length == 1'
	escaped_only "$R"
	grep -qF '\u0085' "$R"
	escaped_only "$T/live.txt"
	for f in text html json; do
		run "$CIDTRACE" report "$R" --format "$f" -o "$T/r.$f"
		[ "$status" -eq 0 ]
		escaped_only "$T/r.$f"
	done
	grep -qF '\u0085' "$T/r.json"
	jq -e --arg h "$H" '.processes[] | select(.test_dir == $h)' "$T/r.json" >/dev/null
	# NDJSON live lines: the same job again, under --json
	rm "$H/ready"
	"$CIDTRACE" run -o "$R" --json --scratch-root "$T" --scope "$T" --vmm-comm 'fc*' -- \
		sh -c "$job" >"$T/live.ndjson"
	kill "$(cat "$T/fc.pid")"
	escaped_only "$T/live.ndjson"
	grep -qF '\u0085' "$T/live.ndjson"
	jq -e --arg a "--name=a${RLO}b${NEL}c" 'select(.event == "exec" and .argv[1] == $a)' \
		"$T/live.ndjson" >/dev/null
}

@test "lost events: one stderr line at the end, even with -q" {
	start_record
	# a stopped cidtrace reads nothing: the 1 MiB ring buffer overflows
	kill -STOP "$RPID"
	for ((i = 0; i < 3000; i++)); do /bin/true; done
	kill -CONT "$RPID"
	stop_record
	rq '.trace.events.lost > 0 and .trace.complete == false'
	lost=$(jq .trace.events.lost "$R")
	[ "$(cat "$T/record.err")" = "cidtrace: $lost events lost: the trace is incomplete (trace.events.lost in '$R')" ]
}
