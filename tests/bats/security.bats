#!/usr/bin/env bats
# What an unprivileged user of a shared CI host can make a root cidtrace do (issue 10).

load helper
bats_require_minimum_version 1.5.0

SIGFLOOD="$BATS_TEST_DIRNAME/../../build/fixtures/sigflood"

# as_nobody CMD...: CMD as uid and gid 65534, with no supplementary groups.
as_nobody() {
	setpriv --reuid 65534 --regid 65534 --clear-groups "$@"
}

# hwm PID: VmHWM of PID, in kB.
hwm() {
	awk '/^VmHWM:/ { print $2 }' "/proc/$1/status"
}

# field KEY OUTPUT: the value of KEY=value in sigflood's line.
field() {
	sed -n "s/.* $1=\([0-9.]*\).*/\1/p" <<<" $2"
}

@test "a signal flood from uid 65534 is no fatal signal and no growth; a real SIGKILL still is" {
	[ -x "$SIGFLOOD" ] || { echo "build the fixtures first: make fixtures" >&2; return 1; }
	chmod 755 "$T" # mktemp -d made it 0700: uid 65534 must reach its copy of the fixture
	cp "$SIGFLOOD" "$D/sigflood"
	cp /bin/sleep "$D/sleeper"
	cat >"$D/victim.sh" <<-'S'
	touch "$(dirname "$0")/victim.ready"
	exec "$(dirname "$0")/sleeper" 300
	S
	start_record --checkpoint 0.2 --scope "$D"
	# The start-up peak (BTF parsing) is far above the steady state and would hide any growth:
	# reset VmHWM to the current RSS (clear_refs 5, proc(5)) and measure from there.
	echo 5 >"/proc/$RPID/clear_refs"
	before=$(hwm "$RPID")

	# SIGUSR1 (default action: terminate), blocked and collected with sigwait(): sent to
	# itself while it runs, then (-p) by a parent to a child asleep in sigwait()
	run as_nobody "$D/sigflood" -n 200000
	[ "$status" -eq 0 ]
	self=$(field pid "$output")
	run as_nobody "$D/sigflood" -n 20000 -p
	[ "$status" -eq 0 ]
	parent=$(field pid "$output")
	child=$(field target "$output")
	[ -n "$self" ]
	[ -n "$child" ]
	[ "$child" != "$parent" ]

	# and a signal that does kill, in the same recording
	bash -c "echo \$\$ >'$D/sender.pid'; sh '$D/victim.sh' >/dev/null 2>&1 & v=\$!
		while [ ! -e '$D/victim.ready' ]; do sleep 0.01; done
		echo \$v >'$D/victim.pid'; kill -9 \$v; wait \$v; exit 0"
	victim=$(cat "$D/victim.pid")
	sender=$(cat "$D/sender.pid")
	# A checkpoint that holds the kill: every record sent before it has been handled.
	wait_report --argjson v "$victim" '.processes[] | select(.pid == $v) | .exit.signal == 9 and (.fatal_signals | length) == 1'
	after=$(hwm "$RPID")
	stop_record
	echo "# recorder VmHWM: $before kB before the flood, $after kB after" >&3
	((after - before < 8 * 1024))

	for p in "$self" "$parent" "$child"; do
		proc_json "$p" | jq -e '.exit == {code: 0, signal: 0, core_dumped: false} and .fatal_signals == [] and .fatal_signals_total == 0'
	done
	proc_json "$victim" | jq -e --argjson s "$sender" '.exit.signal == 9 and .fatal_signals_total == 1 and (.fatal_signals | length == 1 and .[0].signal == 9 and .[0].sender_pid == $s and .[0].sender_comm == "bash")'
	rq '.processes | all(has("fatal_signals_total") and .fatal_signals_total >= (.fatal_signals | length) and (.fatal_signals | length) <= 8)'
}
