#!/usr/bin/env bats
# --raw captures and `cidtrace replay`: the same report and live lines, offline, from real
# scenarios on this host (docs/raw-format.md).

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"

# The fields that may differ between a live report and its replay (docs/raw-format.md): none
# for a complete capture. Kept as a filter so that a documented one has one place to go.
SAME='.'

# Replay $T/cap.raw and compare its report and live lines with the live run's.
replay_matches() {
	run "$CIDTRACE" replay "$T/cap.raw" -o "$T/replay.json" --json "$@"
	[ "$status" -eq 0 ] || { echo "$output" >&2; return 1; }
	[ -z "$(echo "$output" | grep '^cidtrace:')" ]
	cmp "$R" "$T/replay.json" || diff <(jq -S "$SAME" "$R") <(jq -S "$SAME" "$T/replay.json")
	if [ -e "$T/live.ndjson" ]; then
		echo "$output" >"$T/replay.ndjson"
		diff "$T/live.ndjson" "$T/replay.ndjson"
	fi
}

@test "replay of a run: a fake VMM killed with SIGKILL and a leaked one, byte for byte" {
	cp /bin/sleep "$D/firecracker"
	cp /bin/sleep "$D/cloud-hypervisor"
	"$CIDTRACE" run --json -o "$R" --raw "$T/cap.raw" --scratch-root "$T" --scope "$D" -- \
		sh -c "'$D/firecracker' 300 & k=\$!
		'$D/cloud-hypervisor' 300 >/dev/null 2>&1 & echo \$! >'$D/leak.pid'
		while [ \"\$(cat /proc/\$k/comm)\" != firecracker ]; do sleep 0.01; done
		kill -9 \$k; wait \$k
		while [ \"\$(cat /proc/\$(cat '$D/leak.pid')/comm)\" != cloud-hyperviso ]; do sleep 0.01; done
		exit 0" >"$T/live.ndjson" 3>&-
	rq '.trace.raw.complete == true and .trace.raw.dropped == 0 and .trace.raw.records > 0'
	rq '[.findings[] | select(.kind == "vmm_leak")] | length == 1'
	rq '[.processes[] | select(.comm == "firecracker" and .exit.signal == 9)] | length == 1'
	replay_matches
	# a capture never holds a kernel address: the direct map, vmalloc and vmemmap
	# (ffff8880... to ffffeaff...) or the kernel's text and modules (ffffffff8...). Not
	# ffff f...: the initial namespaces' inode numbers (0xeffffffx, PROC_*_INIT_INO) that
	# fork and exec records carry read as such words at some byte offsets.
	run ! bash -c "od -An -tx8 -w8 -v '$T/cap.raw' | grep -qE '^ *(ffff[89a-e]|ffffffff[89a-f])[0-9a-f]{7}'"
}

@test "replay of a record: the real KVM uffd guest whose pager is SIGKILLed, spinning" {
	[ -c /dev/kvm ] || skip "no /dev/kvm"
	D="$T/TestSnapRestore77/001"
	mkdir -p "$D"
	cp "$FIX/uffd_vmm" "$D/firecracker"
	cp "$FIX/uffd_pager" "$D/hypeman-uffd-pager"
	"$CIDTRACE" record --json -o "$R" --raw "$T/cap.raw" --ready-file "$T/ready" \
		--scratch-root "$T" --scope "$D" --checkpoint 0.2 --spin-window 1 \
		>"$T/live.ndjson" 2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
	"$D/hypeman-uffd-pager" --sock "$D/uffd.sock" --ready "$D/l" >/dev/null 2>&1 3>&- &
	PAGER=$!
	wait_file "$D/l"
	"$D/firecracker" --sock "$D/uffd.sock" --ready "$D/guest.ready" >/dev/null 2>&1 3>&- &
	wait_file "$D/guest.ready"
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"spinning"'
	stop_record
	rq '.findings[] | select(.kind == "uffd_orphan") | .state == "spinning"'
	replay_matches
}

@test "replay of an orphan (--no-fentry: iterator scans) and of reaped VMMs" {
	cp /bin/sleep "$D/firecracker"
	cp /bin/sleep "$D/sleeper"
	ct_run --no-fentry --json --raw "$T/cap.raw" --scope "$D" --reap --reap-grace 1 -- \
		sh -c "sh -c '\"$D/sleeper\" 300 >/dev/null 2>&1 & \"$D/firecracker\" 300 >/dev/null 2>&1 &'
		sleep 0.3" >"$T/live.ndjson" 3>&-
	rq '(.reaped | length) >= 1 and ([.processes[] | select(.orphaned)] | length) >= 1'
	replay_matches
}

@test "a truncated capture replays up to its last whole record: exit 4, one line, complete false" {
	cp /bin/sleep "$D/firecracker"
	ct_run --raw "$T/cap.raw" --scope "$D" -- sh -c "'$D/firecracker' 0.2; exit 0"
	size=$(stat -c %s "$T/cap.raw")
	head -c $((size - 7)) "$T/cap.raw" >"$T/cut.raw"
	run --separate-stderr "$CIDTRACE" replay "$T/cut.raw" -o "$T/cut.json" -q
	[ "$status" -eq 4 ]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	[[ "$stderr" == "cidtrace: $T/cut.raw: capture truncated after "*"incomplete" ]]
	jq -e '.trace.complete == false and .trace.raw == null and (.processes | length) > 0' "$T/cut.json"
	# a header alone, and not a capture at all
	head -c 40 "$T/cap.raw" >"$T/head.raw"
	run --separate-stderr "$CIDTRACE" replay "$T/head.raw" -o "$T/h.json" -q
	[ "$status" -eq 4 ]
	[ "$(echo "$stderr" | wc -l)" -eq 1 ]
	run --separate-stderr "$CIDTRACE" replay "$R" -o "$T/x.json" -q
	[ "$status" -eq 4 ] && [[ "$stderr" == *"not a cidtrace raw capture" ]]
}

@test "a capture cut after its META, in the final report's smaps reads, is incomplete too" {
	[ -c /dev/kvm ] || skip "no /dev/kvm"
	D="$T/TestSnapRestore78/001"
	mkdir -p "$D"
	cp "$FIX/uffd_vmm" "$D/firecracker"
	cp "$FIX/uffd_pager" "$D/hypeman-uffd-pager"
	"$CIDTRACE" record -q -o "$R" --raw "$T/cap.raw" --ready-file "$T/ready" \
		--scratch-root "$T" --scope "$D" --checkpoint 0.2 2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
	"$D/hypeman-uffd-pager" --sock "$D/uffd.sock" --ready "$D/l" >/dev/null 2>&1 3>&- &
	wait_file "$D/l"
	"$D/firecracker" --sock "$D/uffd.sock" --ready "$D/guest.ready" >/dev/null 2>&1 3>&- &
	wait_file "$D/guest.ready"
	wait_report '[.uffds[] | select(.state == "served")] | length == 1'
	stop_record
	# a served guest: building the final report re-reads its smaps, after META
	rq '[.uffds[] | select(.state == "served")] | length == 1'
	run "$CIDTRACE" replay "$T/cap.raw" -o "$T/replay.json" -q
	[ "$status" -eq 0 ]
	cmp "$R" "$T/replay.json"
	size=$(stat -c %s "$T/cap.raw")
	head -c $((size - 7)) "$T/cap.raw" >"$T/cut.raw"
	run --separate-stderr "$CIDTRACE" replay "$T/cut.raw" -o "$T/cut.json" -q
	[ "$status" -eq 4 ]
	[[ "$stderr" == "cidtrace: $T/cut.raw: capture truncated after "*"incomplete" ]]
	jq -e '.trace.complete == false and .trace.raw == null' "$T/cut.json"
}

@test "a capture that outgrows its buffer stops, counted: trace.raw.complete false" {
	CIDTRACE_RAW_BUFFER=4096 ct_run --raw "$T/cap.raw" -- sh -c 'for i in 1 2 3 4 5 6 7 8; do true; done'
	rq '.trace.raw.complete == false and .trace.raw.dropped > 0 and .trace.complete == true'
	run "$CIDTRACE" replay "$T/cap.raw" -o "$T/replay.json" -q
	[ "$status" -eq 4 ]
	jq -e '.trace.complete == false' "$T/replay.json"
}
