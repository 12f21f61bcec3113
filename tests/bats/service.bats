#!/usr/bin/env bats
# examples/cidtrace.service: systemd-analyze verify on a copy that runs the built binary, and
# where systemd is PID 1, the unit's settings really run `cidtrace record` (a transient unit).

load helper
bats_require_minimum_version 1.5.0

ROOT="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)"
UNIT="$ROOT/examples/cidtrace.service"
BIN="$ROOT/cidtrace"

# The unit with its continuation lines joined and comments gone, one setting per line.
unit_lines() {
	sed -e '/^[[:space:]]*#/d' -e '/^[[:space:]]*$/d' "$UNIT" |
		sed -e ':a' -e '/\\$/{N;s/\\\n[[:space:]]*/ /;ba}'
}

# The [Service] settings but the commands, as systemd-run -p arguments; $1 replaces
# "cidtrace" in the directories' names.
service_properties() {
	unit_lines | awk -v name="$1" '
		/^\[/ { section = $0; next }
		section == "[Service]" && $0 !~ /^(ExecStart|ExecReload)=/ {
			sub(/^StateDirectory=cidtrace$/, "StateDirectory=" name)
			sub(/^LogsDirectory=cidtrace$/, "LogsDirectory=" name)
			print "-p"; print
		}'
}

@test "cidtrace.service runs the binary where make install puts it" {
	dest=$(make -s -n -C "$ROOT" install PREFIX=/usr/local DESTDIR= |
		grep -oE '[^ ]+/sbin/cidtrace$')
	[ "$dest" = /usr/local/sbin/cidtrace ]
	unit_lines | grep -q "^ExecStart=$dest record "
}

@test "cidtrace.service passes systemd-analyze verify (ExecStart: the built binary)" {
	command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
	sed "s|/usr/local/sbin/cidtrace|$BIN|" "$UNIT" >"$T/cidtrace.service"
	run systemd-analyze verify --man=no "$T/cidtrace.service"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ] # it only warns about unknown or misspelled settings
}

# The unit's command line, cidtrace's files moved to directory $1.
exec_start() {
	unit_lines | sed -n 's/^ExecStart=//p' |
		sed -e "s|/var/log/cidtrace/|$1/|g" -e "s|/var/lib/cidtrace/|$1/|g" \
			-e "s|/var/lib/prometheus/node-exporter/|$1/|g"
}

@test "cidtrace.service's record options parse, and its files are what operators.md says" {
	"$CIDTRACE" record --help | grep -q -- --keep-for ||
		skip "this cidtrace has no --keep-for/--keep-processes yet"
	read -ra argv <<<"$(exec_start "$T")"
	run timeout 60 "$BIN" "${argv[@]:1}" --duration 0.5
	echo "$output"
	[ "$status" -eq 0 ]
	jq -e '.trace.final and .trace.mode == "record"' "$T/report.json"
	[ "$(stat -c %a "$T/cidtrace.prom")" = 644 ]
	[ "$(stat -c %a "$T/live.ndjson")" = 600 ]
}

@test "under systemd, the unit's settings run record and it writes its report" {
	pid1=$(cat /proc/1/comm)
	[ "$pid1" = systemd ] || skip "PID 1 is $pid1, not systemd: no unit can be started here"
	"$CIDTRACE" record --help | grep -q -- --keep-for ||
		skip "this cidtrace has no --keep-for/--keep-processes yet"
	name="cidtrace-bats-$$"
	state="/var/lib/$name"
	# every file in the state directory; the first checkpoint soon
	read -ra argv <<<"$(exec_start "$state" | sed 's/--checkpoint [0-9]*/--checkpoint 0.5/')"
	mapfile -t props < <(service_properties "$name")
	# --collect and RuntimeMaxSec: a failed test leaves no unit behind
	systemd-run --unit="$name" --quiet --collect -p RuntimeMaxSec=60 "${props[@]}" \
		"$BIN" "${argv[@]:1}"
	for ((i = 0; i < 600; i++)); do
		jq -e '.trace.mode == "record"' "$state/report.json" >/dev/null 2>&1 && break
		sleep 0.05
	done
	systemctl is-active --quiet "$name"
	jq -e '.trace.final == false' "$state/report.json"
	[ "$(stat -c %a "$state/cidtrace.prom")" = 644 ]
	[ "$(stat -c %a "$state/live.ndjson")" = 600 ]
	systemctl stop "$name"
	jq -e '.trace.final == true' "$state/report.json"
	rm -rf "$state" "/var/log/$name"
}

@test "--log: live lines go to FILE (0600), not stdout; after a rename, SIGHUP reopens it" {
	L="$T/live.ndjson"
	start_record --json --log "$L" --scope "$D" >"$T/stdout"
	sh -c 'exit 0' "$D/before"
	wait_line "$L" "\"$D/before\""
	# logrotate renames the file: lines go on to the renamed one until SIGHUP
	mv "$L" "$L.1"
	kill -HUP "$RPID"
	wait_file "$L"
	sh -c 'exit 0' "$D/after"
	wait_line "$L" "\"$D/after\""
	stop_record
	# the old file has the earlier lines, whole, and none of the later ones
	jq -e -s --arg b "$D/before" 'length > 0 and any(.argv[-1]? == $b)' "$L.1"
	run ! grep -q "$D/after" "$L.1"
	jq -e -s --arg a "$D/after" 'any(.argv[-1]? == $a)' "$L"
	[ "$(stat -c %a "$L")" = 600 ]
	[ "$(stat -c %a "$L.1")" = 600 ]
	[ ! -s "$T/stdout" ]
	[ ! -s "$T/record.err" ]
}

@test "--log in text: each new file starts with the column header, an appended one does not" {
	L="$T/live.txt"
	# start_record's -q would leave --log nothing to write
	text_record() {
		"$CIDTRACE" record -o "$R" --ready-file "$T/ready" --log "$L" --scope "$D" \
			2>"$T/record.err" 3>&- &
		RPID=$!
		wait_file "$T/ready"
	}
	text_record
	sh -c 'exit 0' "$D/one"
	wait_line "$L" "$D/one"
	stop_record
	rm "$T/ready"
	# a second recorder appends
	text_record
	sh -c 'exit 0' "$D/two"
	wait_line "$L" "$D/two"
	[ "$(grep -c '^TIME(UTC) ' "$L")" -eq 1 ]
	# a rotated file gets the header again
	mv "$L" "$L.1"
	kill -HUP "$RPID"
	wait_file "$L"
	sh -c 'exit 0' "$D/three"
	wait_line "$L" "$D/three"
	stop_record
	[ "$(head -n1 "$L" | cut -d' ' -f1)" = "TIME(UTC)" ]
	grep -qE "^[0-9:.]+ exec .*$D/three" "$L"
	# `run`: its live lines go to the log, the command's own output stays on stdout
	run "$CIDTRACE" run -o "$R" --log "$L" -- sh -c 'echo out' "$D/four"
	[ "$status" -eq 0 ]
	[ "$output" = out ]
	grep -qE "^[0-9:.]+ exec .*$D/four" "$L"
}

@test "--log refuses what it must not append to: exit 2, one line" {
	chmod 755 "$T" # mktemp -d made it 0700: uid 65534 must reach its shared directory
	mkdir -m 1777 "$T/shared"
	echo secret >"$T/victim"
	bad_log() { # path, the message's end
		run "$CIDTRACE" record -o "$R" --log "$1" --duration 0.1
		[ "$status" -eq 2 ]
		[ "$output" = "cidtrace: cannot write log '$1': $2" ]
	}
	bad_log /nonexistent-dir/live.log "No such file or directory"
	bad_log "$T/shared" "Is a directory"
	mkfifo "$T/fifo"
	bad_log "$T/fifo" "Invalid argument"
	# what uid 65534 can plant in a shared directory: a symlink to root's file, a file of
	# its own (which would then get every user's argv)
	setpriv --reuid 65534 --regid 65534 --clear-groups ln -s "$T/victim" "$T/shared/link.log"
	bad_log "$T/shared/link.log" "Too many levels of symbolic links"
	setpriv --reuid 65534 --regid 65534 --clear-groups touch "$T/shared/own.log"
	bad_log "$T/shared/own.log" "Operation not permitted"
	# a hard link to root's file
	ln "$T/victim" "$T/hard.log"
	bad_log "$T/hard.log" "Operation not permitted"
	[ "$(cat "$T/victim")" = secret ]
	run "$CIDTRACE" record -q -o "$R" --log "$T/l.log" --duration 0.1
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace record: --log and -q exclude each other (see cidtrace record --help)" ]
}

@test "logrotate with examples/logrotate.d/cidtrace: the recorder goes on in a new file" {
	command -v logrotate >/dev/null || skip "logrotate is not installed"
	L="$T/live.ndjson"
	start_record --json --log "$L" --scope "$D"
	sh -c 'exit 0' "$D/before"
	wait_line "$L" "\"$D/before\""
	# the example, for this file and this recorder (no systemd here to send the HUP)
	sed -e "s|/var/log/cidtrace/live.ndjson|$L|" \
		-e "s|systemctl kill -s HUP --kill-whom=main cidtrace.service|kill -HUP $RPID|" \
		"$ROOT/examples/logrotate.d/cidtrace" >"$T/logrotate.conf"
	grep -q "kill -HUP $RPID" "$T/logrotate.conf"
	run logrotate -f -s "$T/logrotate.state" "$T/logrotate.conf"
	echo "$output"
	[ "$status" -eq 0 ]
	wait_file "$L"
	sh -c 'exit 0' "$D/after"
	wait_line "$L" "\"$D/after\""
	stop_record
	# delaycompress: the file just rotated is kept as it is
	jq -e -s --arg b "$D/before" 'any(.argv[-1]? == $b)' "$L.1"
	run ! grep -q "$D/after" "$L.1"
	[ "$(stat -c %U "$L")" = root ]
}

@test "a restarted recorder notes the gap: trace.previous is the killed trace's last checkpoint" {
	start_record --checkpoint 0.2
	rq '.trace.previous == null'
	wait_report '.trace.final == false and .trace.updated_at != .trace.started_at'
	kill -KILL "$RPID"
	wait "$RPID" || true
	killed=$(jq -c '.trace | {started_at, updated_at}' "$R")
	rm "$T/ready"
	start_record --checkpoint 0.2
	# in every report of the new trace, from the first one on
	rq --argjson k "$killed" '.trace.previous | .started_at == $k.started_at and
		.updated_at == $k.updated_at and .final == false and .gap_s >= 0'
	stop_record
	rq --argjson k "$killed" '.trace.final and .trace.previous.updated_at == $k.updated_at'
	# gap_s: from that update to this trace's start
	rq '((.trace.started_at | sub("\\.[0-9]+Z$"; "Z") | fromdate) -
		(.trace.previous.updated_at | sub("\\.[0-9]+Z$"; "Z") | fromdate)) as $d |
		.trace.previous.gap_s >= $d - 1 and .trace.previous.gap_s <= $d + 1'
	# the report of a clean stop is final
	rm "$T/ready"
	start_record
	stop_record
	rq '.trace.previous.final == true'
}

@test "trace.previous is null when -o holds no report; -v says why" {
	echo 'not json' >"$R"
	start_record -v
	stop_record
	rq '.trace.previous == null'
	grep -qx "cidtrace: trace.previous: null: '$R' is not a cidtrace report: .*" "$T/record.err"
}
