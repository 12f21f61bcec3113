#!/usr/bin/env bats
# Operator commands on the host as it is now: `cidtrace guests` over real VMM stand-ins (the
# KVM fixtures of uffd.bats, and idle renamed as QEMU), and `cidtrace doctor`.

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"

setup() {
	T=$(mktemp -d /tmp/cidtrace-bats.XXXXXX)
	D="$T/TestGuests31/001"
	mkdir -p "$D"
}

need_kvm() {
	[ -c /dev/kvm ] || skip "no /dev/kvm on this machine: the KVM guest scenarios cannot run"
	cp "$FIX/uffd_vmm" "$D/firecracker"
	cp "$FIX/uffd_pager" "$D/hypeman-uffd-pager"
}

guests_json() {
	"$CIDTRACE" guests --json --scratch-root "$T" >"$T/guests.json"
}

# The entry for pid $1 in the latest guests --json, checked against jq expression $2.
guest_is() {
	jq -e --argjson p "$1" ".guests[] | select(.pid == \$p) | $2" "$T/guests.json" >/dev/null
}

# Poll guests --json until guest $1 satisfies $2: the kernel decides when a fault is pending.
wait_guest() {
	local i
	for ((i = 0; i < 40; i++)); do
		guests_json && guest_is "$1" "$2" && return 0
	done
	jq -c --argjson p "$1" '.guests[] | select(.pid == $p)' "$T/guests.json" >&2
	echo "timed out waiting for guest $1 to satisfy: $2" >&2
	return 1
}

@test "guests: a served guest shows its pager" {
	need_kvm
	start_kvm_guest --no-spin
	wait_guest "$VMM" '.uffd.state == "served"'
	guest_is "$VMM" "$(printf '.uffd.pager_pid == %s and .comm == "firecracker"' "$PAGER")"
	guest_is "$VMM" '.uffd.registered_bytes > 0 and .orphaned == false and .cids == [] and
		.age_s >= 0 and .start_ns > 0 and (.argv | index("--no-spin")) != null'
	guest_is "$VMM" "$(printf '.test_dir == "%s"' "$D")"
	run "$CIDTRACE" guests --scratch-root "$T"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *"PID"*"PPID"*"COMM"*"TEST_DIR"*"CIDS"*"UFFD"*"PAGER"*"CPU%"*"WANT%"*"AGE"*"ORPHANED" ]]
	echo "$output" | grep -E "^ *$VMM .*firecracker .*$D .* served +$PAGER "
	run ! grep -qE 'ffff[0-9a-f]{12}' "$T/guests.json"
}

@test "guests: a guest whose pager was killed and whose vCPUs sleep is stalled" {
	need_kvm
	start_kvm_guest --no-spin
	kill -9 "$PAGER"
	wait_guest "$VMM" '.uffd.state == "stalled"'
	guest_is "$VMM" '.uffd.pager_pid == null and .uffd.total >= 1 and .cpu_pct < 10'
}

@test "guests: a guest whose pager was killed and whose vCPU spins is spinning, first" {
	need_kvm
	start_kvm_guest
	kill -9 "$PAGER"
	# Judged by demand: a spinning vCPU wants a whole core however little of one a busy CI
	# runner gives it, so the default threshold holds.
	wait_guest "$VMM" '.uffd.state == "spinning" and .demand_pct >= 90'
	# worst first: nothing is listed ahead of a spinning guest but other spinning ones
	jq -e '.guests[0].uffd.state == "spinning"' "$T/guests.json"
}

@test "guests: a VMM by name appears with its test dir, and exits at once" {
	cp "$FIX/idle" "$D/qemu-system-x86_64"
	IDLE_READY="$D/idle.ready" "$D/qemu-system-x86_64" -name TestGuests31 3>&- &
	idle=$!
	wait_file "$D/idle.ready"
	start=$(date +%s%N)
	guests_json
	elapsed=$((($(date +%s%N) - start) / 1000000))
	[ "$elapsed" -lt 1000 ]
	guest_is "$idle" "$(printf '.comm == "qemu-system-x86" and .test_dir == "%s" and
		.uffd == null and .cids == [] and .cpu_pct < 50 and .orphaned == false' "$D")"
	jq -e '.schema == "cidtrace.guests/1"' "$T/guests.json"
}

@test "guests: an orphaned VMM says so and is listed before an older one that is not" {
	cp "$FIX/idle" "$D/qemu-system-x86_64"
	IDLE_READY="$D/parented.ready" "$D/qemu-system-x86_64" -name parented 3>&- &
	parented=$!
	wait_file "$D/parented.ready"
	# its launcher exits at once: the kernel reparents it
	sh -c 'IDLE_READY="$1/orphan.ready" "$1/qemu-system-x86_64" -name orphan >/dev/null 2>&1 3>&- &' \
		sh "$D"
	wait_file "$D/orphan.ready"
	guests_json
	orphan=$(jq -e --arg d "$D" '.guests[] | select(.test_dir == $d and .argv[2] == "orphan") |
		.pid' "$T/guests.json")
	guest_is "$orphan" '.ppid == 1' || skip "a subreaper adopted the orphan, not init"
	guest_is "$orphan" '.orphaned == true'
	guest_is "$parented" '.orphaned == false'
	jq -e --argjson o "$orphan" --argjson p "$parented" '[.guests[].pid] |
		index($o) < index($p)' "$T/guests.json"
	run "$CIDTRACE" guests --scratch-root "$T"
	echo "$output" | grep -E "^ *$orphan +1 .* yes$"
	echo "$output" | grep -E "^ *$parented .* no$"
}

@test "guests: hostile argv and test dir names do not reach the terminal raw" {
	evil="$T/TestEvil"$'\e'"[2J"$'\n'"forged7/001"
	mkdir -p "$evil"
	cp "$FIX/idle" "$evil/firecracker"
	IDLE_READY="$T/idle.ready" "$evil/firecracker" $'--x\e]0;pwned\a' $'a\nb' 3>&- &
	idle=$!
	wait_file "$T/idle.ready"
	run "$CIDTRACE" guests --scratch-root "$T"
	[ "$status" -eq 0 ]
	[[ "$output" != *$'\e'* && "$output" != *$'\a'* ]]
	echo "$output" | grep -F "$idle" | grep -F 'TestEvil\x1b[2J\nforged7/001'
	# one line per guest: the newline in the dir name did not forge one
	[ "$(echo "$output" | grep -c 'forged7')" -eq 1 ]
	guests_json
	guest_is "$idle" '.argv[1] == "--x\u001b]0;pwned\u0007" and .argv[2] == "a\nb"'
}

@test "guests: usage and environment errors" {
	run "$CIDTRACE" guests --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"cidtrace guests [--json]"* && "$output" == *"sudo cidtrace guests"* ]]
	run "$CIDTRACE" guests extra
	[ "$status" -eq 2 ]
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$CIDTRACE" guests
	[ "$status" -eq 3 ]
	[[ "$output" == *"needs root"* ]]
}

@test "doctor: every item has a state, and recording works here" {
	run "$CIDTRACE" doctor
	[ "$status" -eq 0 ]
	for item in kernel root BTF tracefs kprobes fentry/fexit "BPF ring buffer" \
		"BPF iterators" "hooks: process" "hooks: snapshot" "hooks: vsock" "hooks: uffd" \
		vhost_vsock /dev/kvm userfaultfd RLIMIT_MEMLOCK; do
		echo "$output" | grep -qE "^(OK|degraded|missing) +$item " ||
			{ echo "no line for $item" >&2; return 1; }
	done
	echo "$output" | grep -qE '^OK +BTF '
	echo "$output" | grep -qE '^OK +root '
	# every line that is not OK says how to fix it
	[ "$(echo "$output" | grep -E '^(degraded|missing) ' | grep -vc '; fix: ')" -eq 0 ]
	run "$CIDTRACE" doctor --json
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.schema == "cidtrace.doctor/1" and .recording and
		all(.items[]; .state | IN("OK", "degraded", "missing"))'
}

@test "doctor: fentry's state matches what the tracer chose for userfaultfd" {
	run "$CIDTRACE" doctor --json
	[ "$status" -eq 0 ]
	# where fentry attaches, uffd gets fexit hooks; where it is refused (EPERM in a
	# Firecracker guest), the iterator alone
	echo "$output" | jq -e '(.items[] | select(.item == "fentry/fexit") | .state) as $f |
		(.items[] | select(.item == "hooks: uffd") | .detail) as $u |
		($f == "OK" and $u == "fexit") or ($f == "degraded" and $u == "iter")'
}

@test "doctor: without root it says so and exits 3" {
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$CIDTRACE" doctor
	[ "$status" -eq 3 ]
	echo "$output" | grep -qE '^missing +root .*fix: run it with sudo'
	echo "$output" | grep -qE '^(OK|degraded|missing) +BTF '
}
