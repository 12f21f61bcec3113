# Shared setup for the integration tests: real processes, the host kernel, real BPF.
# Every test has a timeout (BATS_TEST_TIMEOUT, set by tests/run.sh) and synchronizes on ready
# files, never on sleeps.

CIDTRACE="$BATS_TEST_DIRNAME/../../cidtrace"

# Under `sudo make test`, `cidtrace run` would run each test's command as the user who ran
# sudo, who cannot write the tests' root-owned dirs; job.bats sets these itself where it
# tests that.
unset SUDO_UID SUDO_GID SUDO_USER

setup() {
	T=$(mktemp -d /tmp/cidtrace-bats.XXXXXX)
	# Go's t.TempDir() layout under a scratch root of our own: $T/TestName123/001
	D="$T/TestLifecycle4242/001"
	mkdir -p "$D"
	R="$T/report.json"
}

teardown() {
	# Only processes that reference this test's dir: never touch anything else. Long-lived
	# helpers are started from copies under $D so that this finds them.
	pkill -KILL -f "$T/" 2>/dev/null || true
	[ -n "${RPID:-}" ] && kill -KILL "$RPID" 2>/dev/null || true
	rm -rf "$T"
}

# A real KVM guest ($D/firecracker, a copy of tests/fixtures/uffd_vmm) whose memory its pager
# ($D/hypeman-uffd-pager, of uffd_pager) serves over $D/uffd.sock, once both are ready: PAGER
# and VMM are their pids. Arguments go to the guest (--no-spin, ...).
start_kvm_guest() {
	"$D/hypeman-uffd-pager" --sock "$D/uffd.sock" --ready "$D/listening" >/dev/null 2>&1 3>&- &
	PAGER=$!
	wait_file "$D/listening"
	"$D/firecracker" --sock "$D/uffd.sock" --ready "$D/guest.ready" "$@" >/dev/null 2>&1 3>&- &
	VMM=$!
	wait_file "$D/guest.ready"
}

# Append to the job script $1 (created if absent) what starts the guest ($D/firecracker) once
# its pager listens on $D/uffd.sock, notes its pid in $D/vmm.pid, and leaves once a checkpoint
# of $R shows the pager holding the guest's uffd (status 1 if none does in 30 s).
guest_job() {
	cat >>"$1" <<-EOF
	while [ ! -e "$D/listening" ]; do sleep 0.01; done
	"$D/firecracker" --sock "$D/uffd.sock" --ready "$D/guest.ready" --no-spin >/dev/null 2>&1 &
	echo \$! >"$D/vmm.pid"
	for i in \$(seq 600); do
		jq -e '.uffds[0].handlers[0].holding' "$R" >/dev/null 2>&1 && exit 0
		sleep 0.05
	done
	exit 1
	EOF
}

# Poll for a file the code under test creates; bounded, so a missing file fails the test.
wait_file() {
	local i
	for ((i = 0; i < 1000; i++)); do
		[ -e "$1" ] && return 0
		sleep 0.01
	done
	echo "timed out waiting for $1" >&2
	return 1
}

# Start `cidtrace record` in the background and return once its probes are attached.
start_record() {
	"$CIDTRACE" record -q -o "$R" --ready-file "$T/ready" --scratch-root "$T" "$@" \
		2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
}

stop_record() {
	kill -TERM "$RPID"
	wait "$RPID"
}

ct_run() {
	"$CIDTRACE" run -q -o "$R" --scratch-root "$T" "$@"
}

# jq over the report; fails the test when jq finds the document invalid.
rq() {
	jq -e "$@" "$R"
}

# The report's entry for pid $1 (exits non-zero if absent).
proc_json() {
	jq -e --argjson pid "$1" '.processes[] | select(.pid == $pid)' "$R"
}

# Poll until the report (a checkpoint, with --checkpoint small) satisfies a jq expression.
wait_report() {
	local i
	for ((i = 0; i < 600; i++)); do
		jq -e "$@" "$R" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "timed out waiting for the report to satisfy: $*" >&2
	return 1
}

# Poll until a file has a line matching an extended regex.
wait_line() {
	local i
	for ((i = 0; i < 600; i++)); do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "timed out waiting for /$2/ in $1" >&2
	return 1
}

# report.bats and slice.bats: a real report of hostile argv.
IDLE="$BATS_TEST_DIRNAME/../../build/fixtures/idle"

# A test dir whose name and a VMM whose argv try to reach the terminal and the page.
evil_dir() {
	printf '%s/TestEvil\033[31m<b>"q'"'"'/001' "$T"
}

# A real report: a firecracker left running (a vmm_leak) with hostile argv, and a qemu killed
# with SIGKILL, both started from the hostile test dir.
make_report() {
	[ -x "$IDLE" ] || { echo "build the fixtures first: make fixtures" >&2; return 1; }
	H=$(evil_dir)
	mkdir -p "$H"
	cp "$IDLE" "$H/firecracker"
	cp "$IDLE" "$H/qemu-system-x86_64"
	cat >"$T/job.sh" <<-'S'
	h=$1
	IDLE_READY="$h/fc.ready" "$h/firecracker" --api-sock "$h/fc.sock" '<script>alert(1)</script>' \
		"\"quote'" "$(printf 'esc\033[2J')" 'new
	line' >/dev/null 2>&1 3>&- &
	echo $! >"$h/fc.pid"
	IDLE_READY="$h/q.ready" "$h/qemu-system-x86_64" -name victim -pidfile "$h/q.pid" 3>&- &
	q=$!
	while [ ! -e "$h/fc.ready" ] || [ ! -e "$h/q.ready" ]; do sleep 0.01; done
	kill -9 $q
	wait $q
	exit 0
	S
	ct_run --scope "$T" -- sh "$T/job.sh" "$H"
	FC=$(cat "$H/fc.pid")
}
