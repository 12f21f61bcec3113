#!/usr/bin/env bats
# A process that renames itself without exec (prctl PR_SET_NAME, as restore tools do after a
# fork) is reported by its new comm, and a rename loop costs the recorder almost nothing.

load helper
bats_require_minimum_version 1.5.0

RENAMER="$BATS_TEST_DIRNAME/../../build/fixtures/renamer"

# rename_records RAW PID: how many rename records (CT_EV_RENAME, 13) of PID a capture holds.
rename_records() {
	python3 - "$1" "$2" <<-'P'
	import struct, sys
	data, pid, n = open(sys.argv[1], "rb").read(), int(sys.argv[2]), 0
	off = struct.unpack_from("<H", data, 10)[0]
	while off + 8 <= len(data):
	    rtype, _, ln = struct.unpack_from("<HHI", data, off)
	    body = data[off + 8:off + 8 + ln]
	    off += 8 + ln
	    if rtype == 2 and len(body) >= 8 and struct.unpack_from("<II", body) == (13, pid):
	        n += 1
	print(n)
	P
}

@test "a forked child that renames itself to a VMM name is reported by that name, as a vmm" {
	[ -x "$RENAMER" ] || { echo "build the fixtures first: make fixtures" >&2; return 1; }
	cp "$RENAMER" "$D/restorer"
	start_record --checkpoint 0.2 --scope "$D"
	"$D/restorer" --fork --ready "$D/child.pid" firecracker >/dev/null 2>&1 3>&- &
	parent=$!
	wait_file "$D/child.pid"
	child=$(cat "$D/child.pid")
	wait_report --argjson c "$child" '.processes[] | select(.pid == $c) | .comm == "firecracker"'
	kill -TERM "$child"
	wait "$parent"
	stop_record
	proc_json "$child" | jq -e --arg d "$D" '.comm == "firecracker" and .role == "vmm" and
		.argv[0] == "\($d)/restorer" and .exit.code == 0'
	# the parent did not rename itself
	proc_json "$parent" | jq -e '.comm == "restorer" and .role != "vmm"'
}

@test "uid 65534 renaming itself 100,000 times: a few records, nothing lost, its last name" {
	[ -x "$RENAMER" ] || { echo "build the fixtures first: make fixtures" >&2; return 1; }
	chmod 755 "$T" # mktemp -d made it 0700: uid 65534 must reach its copy of the fixture
	chmod 777 "$D"
	cp "$RENAMER" "$D/renamer"
	"$CIDTRACE" record -q -o "$R" --raw "$T/cap.raw" --ready-file "$T/ready" \
		--scratch-root "$T" --scope "$D" 2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
	setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$D/renamer" --loop 100000 --ready "$D/renamer.pid" last-name >/dev/null 2>&1 3>&- &
	wait_file "$D/renamer.pid"
	pid=$(cat "$D/renamer.pid")
	kill -TERM "$pid"
	wait "$pid"
	stop_record
	rq '.trace.events.lost == 0 and .trace.complete'
	# exits under its last name: a rename held back by the budget is sent before the exit
	proc_json "$pid" | jq -e '.comm == "last-name" and .role != "vmm" and .exit.code == 0'
	n=$(rename_records "$T/cap.raw" "$pid")
	echo "# rename records for 100001 renames: $n" >&3
	((n >= 1 && n < 1000))
	# the capture replays to the same report
	"$CIDTRACE" replay "$T/cap.raw" -o "$T/replay.json" -q
	cmp "$R" "$T/replay.json"
}
