#!/usr/bin/env bats
# Orphaned userfaultfd guests, with a real KVM "firecracker" whose guest memory is registered
# with a real userfaultfd and a real pager serving it over SCM_RIGHTS. CIDTRACE_UFFD_THREADS=1
# runs the same scenarios with plain threads instead of vCPUs (the test VMs have no KVM): a
# userspace fault takes the same handle_userfault() path.

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"

setup_file() {
	if [ -z "${CIDTRACE_UFFD_THREADS:-}" ] && ! [ -c /dev/kvm ]; then
		export UFFD_SKIP="no /dev/kvm on this machine: the KVM guest scenarios cannot run"
	fi
}

setup() {
	[ -z "${UFFD_SKIP:-}" ] || skip "$UFFD_SKIP"
	T=$(mktemp -d /tmp/cidtrace-bats.XXXXXX)
	D="$T/TestSnapRestore77/001"
	mkdir -p "$D"
	R="$T/report.json"
	cp "$FIX/uffd_vmm" "$D/firecracker"
	cp "$FIX/uffd_pager" "$D/hypeman-uffd-pager"
	MODE=()
	if [ -n "${CIDTRACE_UFFD_THREADS:-}" ]; then
		MODE=(--threads)
	fi
}

# The live NDJSON goes to $T/live.ndjson; checkpoints every 0.2 s for wait_report. Scoped to
# the test's dir: other guests on the host (parallel jobs) are not this test's.
record() {
	"$CIDTRACE" record --json -o "$R" --ready-file "$T/ready" --scratch-root "$T" \
		--scope "$D" --checkpoint 0.2 "$@" >"$T/live.ndjson" 2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
}

start_pager() { # $1: socket name
	"$D/hypeman-uffd-pager" --sock "$D/$1" --ready "$D/$1.listening" >/dev/null 2>&1 3>&- &
	PAGER=$!
	wait_file "$D/$1.listening"
}

start_guest() { # extra fixture options
	start_pager uffd.sock
	"$D/firecracker" --sock "$D/uffd.sock" --ready "$D/guest.ready" "${MODE[@]}" "$@" \
		>/dev/null 2>&1 3>&- &
	VMM=$!
	wait_file "$D/guest.ready"
}

# A guest that is already running, traced for spin window + 2 s: the longest a spinning orphan
# takes to be flagged (a full window of samples, then a watch and a scan). --spin-window keeps
# that short. The trace ends by itself (--duration), so what it did not flag, it did not flag
# in all that time.
OBSERVE_S=2.5
observe() {
	"$CIDTRACE" record --json -o "$R" --ready-file "$T/ready" --scratch-root "$T" \
		--scope "$D" --checkpoint 0.2 --spin-window 0.5 --duration "$OBSERVE_S" "$@" \
		>"$T/live.ndjson" 2>"$T/record.err" 3>&-
}

# Report times are UTC strings with microseconds; t makes one seconds.
JQ_T='def t: (sub("\\.[0-9]+Z$"; "Z") | fromdate) + (capture("(?<f>\\.[0-9]+)Z$").f | tonumber);'

# The trace behind $R ran to its end and covered at least $1 seconds.
traced_for() {
	rq --argjson s "$1" "$JQ_T"' .trace.final and (.trace.ended_at | t) - (.trace.started_at | t) >= $s'
}

# The one uffd_orphan finding; on failure the finding is shown.
orphan() {
	jq -e '[.findings[] | select(.kind == "uffd_orphan")] | length == 1' "$R" >/dev/null
	jq -e '.findings[] | select(.kind == "uffd_orphan")' "$R" | tee "$T/orphan.json"
}

# Assert a jq expression on the finding (args as for jq); show the finding when it fails.
orphan_is() {
	orphan >/dev/null || return 1
	jq -e "$@" "$T/orphan.json" >/dev/null || { jq -c . "$T/orphan.json" >&2; return 1; }
}

@test "a spinning orphan is flagged with its guest, pager and test dir" {
	record --spin-window 1
	start_guest
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"spinning"'
	stop_record
	grep -qE '"event":"uffd".*"state":"pager_lost"' "$T/live.ndjson"
	orphan_is --argjson g "$VMM" --argjson p "$PAGER" --arg d "$D" '
		.state == "spinning" and .guest.pid == $g and .guest.comm == "firecracker" and
		.guest.test_dir == $d and .pager.pid == $p and .pager.comm == "hypeman-uffd-pa" and
		.pager.exit.signal == 9 and .pager.fatal_signals[0].signal == 9 and
		(.uffd.id | test("^uffd-[0-9]+$")) and .uffd.registered_bytes > 0 and
		.uffd.total >= 1 and .demand_pct >= 90 and .cpu_pct > 0 and
		.threads[0].comm == "fc_vcpu 1" and .threads[0].demand_pct >= 90 and
		.threads[0].cpu_pct > 0 and .restarted_pager == null and .resolved_at == null and
		([.history[].state] == ["pager_lost", "spinning"])'
	# spinning means a whole --spin-window of samples at the threshold, after the loss
	orphan_is "$JQ_T"' (.history[1].at | t) - (.history[0].at | t) >= 1'
	# how soon (--spin-window + 2 s at most) is measured by `make bench`, not asserted here
	rq --argjson g "$VMM" --argjson p "$PAGER" '
		(.processes[] | select(.pid == $g) | .role == "vmm") and
		(.processes[] | select(.pid == $p) | .role == "pager") and
		(.uffds[0].state == "spinning") and (.uffds[0].handlers[0].holding == false)'
	run ! grep -qE 'ffff[0-9a-f]{12}' "$R" "$T/live.ndjson"
}

# A loaded host: nproc busy loops beside the guest, so that a spinning vCPU gets a share of a
# core, not a whole one. Copies under $D: teardown kills them with the rest of the test.
start_load() {
	local i
	cp /usr/bin/yes "$D/busy"
	for ((i = 0; i < $(nproc); i++)); do
		"$D/busy" >/dev/null 2>&1 3>&- &
	done
}

@test "under load, a spinning orphan is judged by the CPU it wants, not what it gets" {
	start_load
	record --spin-window 1
	start_guest
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"spinning"'
	stop_record
	# granted (cpu_pct) is the loaded host's share; demand (run + run-queue wait) a whole core
	orphan_is --argjson g "$VMM" '
		.state == "spinning" and .guest.pid == $g and .demand_pct >= 90 and
		.cpu_pct < .demand_pct and .threads[0].comm == "fc_vcpu 1" and
		.threads[0].demand_pct >= 90 and .threads[0].cpu_pct < .threads[0].demand_pct'
	rq '.trace.attach.spin_basis == "demand"'
	grep -qE '"state":"spinning".*busiest fc_vcpu 1 [0-9]+% \(wants [0-9]+%\)' "$T/live.ndjson"
}

@test "--spin-window: an orphan spinning for less than the window is not spinning yet" {
	# 6 s of trace, most of it with the guest spinning: more than the default window of 3 s,
	# less than the 30 s asked for. (30 %: below what the spinning thread wants, loaded or not.)
	"$CIDTRACE" record --json -o "$R" --ready-file "$T/ready" --scratch-root "$T" \
		--scope "$D" --spin-threshold 30 --spin-window 30 --duration 6 \
		>"$T/live.ndjson" 2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
	start_guest
	kill -9 "$PAGER"
	wait "$RPID" # --duration ends it
	traced_for 6
	orphan_is --argjson g "$VMM" '.guest.pid == $g and .state == "pager_lost" and
		.demand_pct >= 30 and [.history[].state] == ["pager_lost"]'
	run ! grep -q '"state":"spinning"' "$T/live.ndjson"
}

@test "serving is counted per handler with the precise hooks, from resident pages without" {
	record
	start_guest --pages 8
	wait_report '.uffds[0].pages_served >= 8'
	stop_record
	if rq '.trace.attach.uffd == "fexit"' >/dev/null; then
		rq --argjson p "$PAGER" '.uffds[0] | .pages_served_from == "ioctls" and
			.handlers[0].pid == $p and .handlers[0].serving_ioctls >= 8 and
			.handlers[0].served_bytes >= 8 * 4096 and .last_served_at != null and
			.registrations == 1'
	else
		rq '.trace.attach.uffd == "iter" and (.uffds[0] | .pages_served_from == "resident" and
			.handlers[0].serving_ioctls == 0 and .last_served_at == null)'
	fi
}

@test "a pager that serves N pages and exits cleanly is counted N through the release" {
	record --raw "$T/cap.raw"
	start_guest --no-spin --pages 12 --unregister-after 12 --unregistered "$D/unregistered"
	wait_file "$D/unregistered"
	# both exit 0 on SIGTERM: the context is released with every page served, so its last
	# counts are read after the release, not at the scan before it
	kill -TERM "$PAGER" "$VMM"
	wait "$PAGER"
	wait "$VMM"
	wait_report '.uffds[0].state == "released"'
	stop_record
	rq '[.findings[] | select(.kind == "uffd_orphan")] == []'
	if ! rq '.trace.attach.uffd == "fexit"' >/dev/null; then
		# iter mode (this host without fentry): no serving ioctl is counted, nothing to read
		# at the release; replay.bats compares live and replayed reports
		rq '.uffds[0] | .state == "released" and .pages_served_from == "resident"'
		return
	fi
	rq --argjson p "$PAGER" '.uffds[0] | .state == "released" and .pages_served == 12 and
		.handlers[0].pid == $p and .handlers[0].serving_ioctls == 12 and
		.handlers[0].served_bytes == 12 * 4096'
	# the final counts are read through the source: a replay reads them back the same
	"$CIDTRACE" replay "$T/cap.raw" -o "$T/replay.json" -q
	diff <(jq -S . "$R") <(jq -S . "$T/replay.json")
	cmp "$R" "$T/replay.json"
}

@test "serves that find the count table full are counted, not sent one record each" {
	# the second pager is still named: a serve that overflows is sent now and then
	# a table of one (context, process) pair: the first guest's pager takes it
	CIDTRACE_UFFD_SERVES_MAX=1 record
	start_guest --no-spin --pages 2
	first=$PAGER
	start_pager second.sock
	"$D/firecracker" --sock "$D/second.sock" --ready "$D/second.ready" --no-spin --pages 8 \
		"${MODE[@]}" >/dev/null 2>&1 3>&- &
	wait_file "$D/second.ready"
	if ! rq '.trace.attach.uffd == "fexit"' >/dev/null; then
		wait_report '.trace.events.uffd_serves_overflow == 0 and (.uffds | length) == 2'
		stop_record
		return 0 # iter mode counts no serves, so none overflow
	fi
	wait_report '.trace.events.uffd_serves_overflow == 8'
	stop_record
	rq --argjson a "$first" --argjson b "$PAGER" '.trace.events.lost == 0 and
		.trace.events.uffd_serves_overflow == 8 and
		([.uffds[].handlers[] | select(.pid == $a) | .serving_ioctls] == [2]) and
		([.uffds[].handlers[] | select(.pid == $b) | .serving_ioctls] == [0]) and
		([.findings[] | select(.kind == "uffd_orphan")] == [])'
}

@test "the iterator alone (--no-fentry) finds the same orphan" {
	record --no-fentry
	start_guest --no-spin
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"stalled"'
	stop_record
	rq '.trace.attach.uffd == "iter"'
	orphan_is --argjson g "$VMM" --argjson p "$PAGER" '.guest.pid == $g and .pager.pid == $p'
}

@test "a stalled orphan (no spinning vCPU) is flagged as stalled; --only uffd shows just that" {
	record --only uffd
	start_guest --no-spin
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"stalled"'
	stop_record
	orphan_is --argjson g "$VMM" '.state == "stalled" and .guest.pid == $g and
		.uffd.total >= 1 and .cpu_pct < 10 and .pager.exit.signal == 9'
	# the guest's forks, execs and the pager's death are in the report, not in the live lines
	jq -e -s --argjson g "$VMM" 'all(.event == "uffd" and .pid == $g) and
		[.[].state] == ["pager_lost", "stalled"]' "$T/live.ndjson"
}

@test "a guest whose pager is alive and idle is not flagged" {
	start_guest --pages 3
	run observe
	[ "$status" -eq 0 ]
	traced_for "$OBSERVE_S"
	rq --argjson p "$PAGER" '[.findings[] | select(.kind == "uffd_orphan")] == [] and
		(.uffds | length == 1) and (.uffds[0] | .state == "served" and .seeded and
		.handlers[0].pid == $p and .handlers[0].holding)'
	# not even for a moment: no pager_lost line
	run ! grep -q '"event":"uffd"' "$T/live.ndjson"
}

# A guest that keeps faulting pages in while its pager serves them, observed to the end: no
# orphan, not even a pager_lost line.
busy_guest_not_flagged() {
	start_guest
	run observe
	[ "$status" -eq 0 ]
	traced_for "$OBSERVE_S"
	rq --argjson p "$PAGER" '[.findings[] | select(.kind == "uffd_orphan")] == [] and
		(.uffds | length == 1) and (.uffds[0] | .state == "served" and
		.handlers[0].pid == $p and .handlers[0].holding and .pages_served > 1)'
	run ! grep -q '"event":"uffd"' "$T/live.ndjson"
}

@test "a busy guest whose pager is alive is not flagged" {
	busy_guest_not_flagged
}

@test "under load, a busy guest whose pager is alive is not flagged" {
	start_load
	busy_guest_not_flagged
}

@test "memory unregistered before the pager exits: not an orphan" {
	record
	start_guest --unregister-after 3 --unregistered "$D/unregistered"
	wait_file "$D/unregistered"
	kill -9 "$PAGER"
	wait_report '.uffds[0].handlers[0].holding == false'
	stop_record
	rq '[.findings[] | select(.kind == "uffd_orphan")] == [] and .uffds[0].registered_bytes == 0'
}

# The guest's VMM is killed, then its pager: the uffd is released with nobody to orphan.
vmm_exits_before_pager() {
	kill -9 "$VMM"
	wait_report --argjson g "$VMM" '.processes[] | select(.pid == $g) | .exited_at != null'
	kill -9 "$PAGER"
	wait_report '.uffds[0].state == "released"'
	stop_record
	rq '[.findings[] | select(.kind == "uffd_orphan")] == []'
}

@test "the VMM exiting before its pager: not an orphan" {
	record
	start_guest --no-spin
	vmm_exits_before_pager
}

@test "a restarted pager that never serves the guest does not clear the finding" {
	record
	start_guest --no-spin
	kill -9 "$PAGER"
	old=$PAGER
	wait_line "$T/live.ndjson" '"state":"stalled"'
	start_pager restarted.sock
	wait_report '.findings[] | select(.kind == "uffd_orphan") | .restarted_pager != null'
	stop_record
	orphan_is --argjson old "$old" --argjson new "$PAGER" '
		.pager.pid == $old and .restarted_pager.pid == $new and .resolved_at == null and
		.state == "stalled" and
		.note == "pager restarted (pid \($new)) but never served this guest"'
}

@test "another job's pager of the same name is no restart of this guest's" {
	record
	start_guest --no-spin
	kill -9 "$PAGER"
	old=$PAGER
	wait_line "$T/live.ndjson" '"state":"stalled"'
	# first, a pager of the same name in a sibling job's dir; then this test's own
	mkdir -p "$T/TestOtherJob9/001"
	cp "$D/hypeman-uffd-pager" "$T/TestOtherJob9/001/"
	"$T/TestOtherJob9/001/hypeman-uffd-pager" --sock "$T/TestOtherJob9/001/s" \
		--ready "$T/other.listening" >/dev/null 2>&1 3>&- &
	other=$!
	wait_file "$T/other.listening"
	start_pager restarted.sock
	wait_report '.findings[] | select(.kind == "uffd_orphan") | .restarted_pager != null'
	stop_record
	orphan_is --argjson old "$old" --argjson new "$PAGER" --argjson other "$other" '
		.pager.pid == $old and .restarted_pager.pid == $new and
		.restarted_pager.pid != $other'
}

@test "a guest restored before cidtrace started is still covered" {
	start_guest --no-spin
	record
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"stalled"'
	stop_record
	rq '.uffds[0].seeded == true'
	orphan_is --argjson g "$VMM" --argjson p "$PAGER" '.guest.pid == $g and .pager.pid == $p'
}

@test "a leaked guest's vmm_leak carries its uffd state" {
	record
	start_guest --no-spin
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"stalled"'
	stop_record
	rq --argjson g "$VMM" '.findings[] | select(.kind == "vmm_leak" and .pid == $g) |
		.uffd.state == "stalled" and (.uffd.id | test("^uffd-"))'
}

@test "--kill-orphans stops the orphaned VMM in scope, never its pager nor a guest outside" {
	# a guest of another job, outside --scope: orphaned first, so it was due first too
	O="$T/TestOtherJob9/001"
	mkdir -p "$O"
	cp "$D/firecracker" "$D/hypeman-uffd-pager" "$O/"
	"$O/hypeman-uffd-pager" --sock "$O/s" --ready "$O/listening" >/dev/null 2>&1 3>&- &
	opager=$!
	wait_file "$O/listening"
	"$O/firecracker" --sock "$O/s" --ready "$O/guest.ready" "${MODE[@]}" --no-spin \
		>/dev/null 2>&1 3>&- &
	ovmm=$!
	wait_file "$O/guest.ready"
	record --kill-orphans=1 --spin-window 1 --raw "$T/cap.raw"
	start_guest
	kill -9 "$opager"
	wait "$opager" || true
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"sigterm"'
	# the fixture exits 0 on SIGTERM: not killed by SIGKILL
	wait "$VMM"
	wait_report --argjson g "$VMM" '.reaped[] | select(.pid == $g) | .exited'
	stop_record
	rq --argjson g "$VMM" '(.reaped | length) == 1 and (.reaped[0] | .pid == $g and
		.role == "vmm" and .action == "sigterm" and .reason == "uffd_orphan" and .exited)'
	orphan_is --argjson g "$VMM" '.guest.pid == $g and .resolution == "the guest'"'"'s VMM exited"'
	grep -qE '"event":"uffd".*"state":"sigterm".*pager lost [0-9.]+ s ago: SIGTERM to firecracker' \
		"$T/live.ndjson"
	kill -0 "$ovmm"
	# a replay kills nothing, and tells the same actions and lines
	"$CIDTRACE" replay "$T/cap.raw" -o "$T/replay.json" --json >"$T/replay.ndjson"
	cmp "$R" "$T/replay.json"
	diff "$T/live.ndjson" "$T/replay.ndjson"
}

@test "--kill-orphans leaves alone a guest whose restarted pager takes over within the grace" {
	record --kill-orphans=5
	start_guest --no-spin --resend "$D/restarted.sock"
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"pager_lost"'
	start_pager restarted.sock
	wait_line "$T/live.ndjson" '"state":"resolved"'
	stop_record
	rq '.reaped == []'
	orphan_is '.resolution == "a new pager took over"'
	kill -0 "$VMM"
}

# A guest whose VMM sent its uffd to the pager and closed its own copy (--close): the pager
# holds the only reference. Known to cidtrace (iter mode: once a walk of every process's fds
# found the pager holding it, up to 10 s) with its memory registered, and with at least
# three pages served; the guest tells what it reads in $D/seen.
start_released_guest() { # extra fixture options
	start_guest --no-spin --close --seen "$D/seen" "$@"
	wait_report --argjson p "$PAGER" '.uffds | length == 1 and (.[0] |
		.handlers[0].pid == $p and .handlers[0].holding and .registered_bytes > 0)'
	wait_line "$D/seen" '^pages ([3-9]|[1-9][0-9]+) '
}

@test "a pager holding the uffd's last reference dies: released under a guest that reads zeros" {
	record --raw "$T/cap.raw"
	start_released_guest
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"released"'
	# the guest goes on: the pages the pager never served now come in as zero pages
	wait_line "$D/seen" 'zeros [1-9]'
	stop_record
	orphan_is --argjson g "$VMM" --argjson p "$PAGER" --arg d "$D" '
		.state == "released" and .guest.pid == $g and .guest.comm == "firecracker" and
		.guest.test_dir == $d and .pager.pid == $p and .pager.test_dir == $d and
		.pager.exit.signal == 9 and .uffd.registered_bytes == 256 * 4096 and
		.uffd.never_served_pages > 0 and .uffd.never_served_pages < 256 and
		.uffd.never_served_pages + .uffd.pages_served == 256 and
		.uffd.never_served_from == .uffd.pages_served_from and
		.resolved_at == null and [.history[].state] == ["released"] and
		(.summary | test("reads zeros wherever a page was never served"))'
	# the guest outlived the trace: its vmm_leak tells what its released uffd lost
	rq --argjson g "$VMM" '.findings[] | select(.kind == "vmm_leak" and .pid == $g) | .uffd |
		.state == "released" and .registered_bytes == 256 * 4096 and .released_at != null and
		.never_served_pages > 0 and .never_served_pages < 256 and .never_served_from != null'
	# fexit: from the serving ioctls, exact; iter: from what was resident at the release
	rq --argjson g "$VMM" '.uffds[0].state == "released" and .uffds[0].owner.pid == $g and
		([.findings[] | select(.kind == "uffd_orphan") | .uffd.never_served_from] ==
			[if .trace.attach.uffd == "fexit" then "ioctls" else "resident" end])'
	grep -qE '"event":"uffd".*"state":"released".*firecracker pid [0-9]+ reads zeros there' \
		"$T/live.ndjson"
	"$CIDTRACE" report "$R" >"$T/report.txt"
	grep -q 'reads zeros where pages were never served' "$T/report.txt"
	"$CIDTRACE" report --format html "$R" >"$T/report.html"
	grep -q 'reads zeros where pages were never served' "$T/report.html"
	"$CIDTRACE" replay "$T/cap.raw" -o "$T/replay.json" -q
	cmp "$R" "$T/replay.json"
}

# A flood of uffd owners from uid 65534 (two uffds each), started before the trace so that
# the first walk finds all of it ahead of the real guest: more owners in scope than a walk's
# budget.
FLOOD_N=300
start_flood() {
	chmod 755 "$T" "$T/TestSnapRestore77" "$D" # mktemp -d made $T 0700
	mkdir -m 777 "$D/flood"
	cp "$FIX/uffd_flood" "$D/flood/firecracker"
	setpriv --reuid 65534 --regid 65534 --clear-groups \
		"$D/flood/firecracker" -n "$FLOOD_N" -u 2 --ready "$D/flood/ready" >/dev/null 2>&1 3>&- &
	wait_file "$D/flood/ready"
}

@test "a flood of uffd owners from uid 65534 hides no real guest's release" {
	# The budget under test is the iterator's (iter mode, this host). In the TCG VMs (fexit
	# mode, the registration read at UFFDIO_REGISTER) 600 uffds only stress a slow guest, and
	# one run in six missed the release line there, cause not found: see the issue 12 note.
	[ -z "${CIDTRACE_VM:-}" ] || skip "iter mode's walk budget: a host test"
	start_flood
	record
	start_guest --no-spin --close --seen "$D/seen"
	wait_report --argjson g "$VMM" --argjson p "$PAGER" '[.uffds[] |
		select(.owner.pid == $g and .handlers[0].pid == $p and .registered_bytes > 0)] |
		length == 1'
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"released"'
	stop_record
	orphan_is --argjson g "$VMM" --argjson p "$PAGER" '.state == "released" and
		.guest.pid == $g and .pager.pid == $p and .uffd.registered_bytes == 256 * 4096 and
		.uffd.never_served_pages > 0'
	# the flood was over the budget, and what it deferred is counted
	rq --argjson n "$FLOOD_N" '([.uffds[] | select(.owner.comm == "firecracker")] |
		length > 2 * $n) and .trace.events.uffd_rereads_deferred > 0'
}

@test "released after the guest unregistered its memory: no finding" {
	record
	# the VMM unregisters, then closes its copy: the pager holds the last one
	start_released_guest --unregister-when "$D/unregister" --unregistered "$D/unregistered"
	touch "$D/unregister"
	wait_file "$D/unregistered"
	wait_report '.uffds[0].registered_bytes == 0'
	kill -9 "$PAGER"
	wait_report '.uffds[0].state == "released"'
	stop_record
	rq '[.findings[] | select(.kind == "uffd_orphan")] == []'
}

@test "released after the guest's VMM exited: no finding" {
	record
	start_released_guest
	vmm_exits_before_pager
}

@test "released by a pager that served every page and exited cleanly: no finding" {
	record
	"$D/hypeman-uffd-pager" --sock "$D/uffd.sock" --ready "$D/uffd.sock.listening" \
		--populate >/dev/null 2>&1 3>&- &
	PAGER=$!
	wait_file "$D/uffd.sock.listening"
	"$D/firecracker" --sock "$D/uffd.sock" --ready "$D/guest.ready" "${MODE[@]}" --no-spin \
		--close --pages 4 >/dev/null 2>&1 3>&- &
	VMM=$!
	wait_file "$D/guest.ready"
	wait_report '.uffds[0].handlers[0].holding and .uffds[0].pages_served == 256'
	kill -TERM "$PAGER"
	wait "$PAGER"
	wait_report '.uffds[0].state == "released"'
	stop_record
	rq '[.findings[] | select(.kind == "uffd_orphan")] == []'
	run ! grep -q '"state":"released"' "$T/live.ndjson"
}

@test "an owner with two uffds: losing one pager flags that context alone, with its own bytes" {
	record
	start_pager second.sock
	second=$PAGER
	start_guest --no-spin --sock2 "$D/second.sock"
	wait_report '(.uffds | length) == 2 and all(.uffds[]; .handlers[0].holding)'
	kill -9 "$PAGER"
	wait_line "$T/live.ndjson" '"state":"stalled"'
	stop_record
	# registered per context: 256 pages here, 128 there, never their sum
	orphan_is --argjson p "$PAGER" '.pager.pid == $p and .uffd.registered_bytes == 256 * 4096'
	rq --argjson s "$second" --argjson p "$PAGER" '
		([.uffds[] | select(.handlers[0].pid == $s)] | length == 1 and (.[0] |
			.state == "served" and .registered_bytes == 128 * 4096)) and
		([.uffds[] | select(.handlers[0].pid == $p)] | length == 1 and (.[0] |
			.state == "stalled" and .registered_bytes == 256 * 4096))'
}
