#!/usr/bin/env bats
# Namespaces and cgroups of the processes a report keeps (issue 13), with real namespaces and
# real cgroup v2 directories on the host kernel: "containers" made with unshare(1), each in a
# cgroup of its own, checked against what the kernel itself shows in /proc.

load helper
bats_require_minimum_version 1.5.0

setup() {
	T=$(mktemp -d /tmp/cidtrace-bats.XXXXXX)
	R="$T/report.json"
	# the VMM stand-in, where the containers see it (/mnt): the checkout may be under the /tmp
	# their own tmpfs hides
	cp "$IDLE" "$T/idle"
	# the cgroup v2 hierarchy: /sys/fs/cgroup/unified on a hybrid host, /sys/fs/cgroup on v2
	CGROOT=$(findmnt -n -t cgroup2 -o TARGET | head -1)
	CGS=()
}

teardown() {
	local cg
	[ -n "${RPID:-}" ] && kill -KILL "$RPID" 2>/dev/null || true
	[ -n "${R2PID:-}" ] && kill -KILL "$R2PID" 2>/dev/null || true
	# outside our cgroups, only what references this test's dir
	pkill -KILL -f "$T/" 2>/dev/null || true
	# every process in our cgroups (the namespaces' init first takes its namespace along),
	# then the cgroups themselves, innermost first, once they are empty
	for cg in "${CGS[@]}"; do
		echo 1 >"$cg/cgroup.kill" 2>/dev/null || true
	done
	for ((i = ${#CGS[@]} - 1; i >= 0; i--)); do
		cg=${CGS[i]}
		for _ in $(seq 500); do
			grep -q '^populated 0' "$cg/cgroup.events" 2>/dev/null && break
			sleep 0.01
		done
		rmdir "$cg" 2>/dev/null || true
	done
	rm -rf "$T"
}

# new_cgroup NAME: a cgroup v2 directory below the root, removed by teardown; its path in $CG.
new_cgroup() {
	CG="$CGROOT/$1"
	mkdir "$CG"
	CGS+=("$CG")
}

# container NAME CGROUP MODE: a "container" in cgroup CGROUP (a directory): new pid, mount
# and network namespaces, a tmpfs of its own on /tmp, and a fake VMM at /tmp/TestX/001 (the
# same path in every container). MODE exec: the VMM is the namespace's init (pid 1); child:
# the init's child. $T is bind-mounted at /mnt inside: the VMM's ready file, NAME.ready, and
# its pid as the container sees it, NAME.inner, come back through it.
container() {
	local vmm='./qemu-system-x86_64 -name guest=$0 -pidfile /tmp/TestX/001/qemu.pid'
	if [ "$3" = exec ]; then
		vmm="echo \$\$ >/mnt/\$0.inner; IDLE_READY=/mnt/\$0.ready exec $vmm"
	else
		vmm="IDLE_READY=/mnt/\$0.ready $vmm & echo \$! >/mnt/\$0.inner; wait"
	fi
	sh -c 'echo $$ >"$1/cgroup.procs" || exit 1; shift
		exec unshare -p -m -n --fork --mount-proc sh -c "$@"' sh "$2" "
		mount --bind '$T' /mnt && mount -t tmpfs tmpfs /tmp || exit 1
		mkdir -p /tmp/TestX/001 && cp /mnt/idle /tmp/TestX/001/qemu-system-x86_64 || exit 1
		cd /tmp/TestX/001 || exit 1
		$vmm" "$1" >/dev/null 2>&1 3>&- &
}

# inode NSLINK: the inode number of a namespace link (/proc/PID/ns/mnt -> "mnt:[4026532249]").
inode() {
	readlink "$1" | tr -dc '0-9'
}

# The report's VMM in cgroup $1 must be what the kernel shows of it: NSpid, the three
# namespaces and the cgroup, and its inner pid must be what the container saw ($2).
check_vmm() {
	local p pid nspid
	p=$(jq -ec --arg cg "$1" '[.processes[] | select(.role == "vmm" and .cgroup == $cg)] |
		select(length == 1) | .[0]' "$R")
	pid=$(jq -r .pid <<<"$p")
	nspid=$(awk '/^NSpid:/ { $1 = ""; print }' "/proc/$pid/status" | jq -sc .)
	jq -e --argjson nspid "$nspid" --argjson inner "$2" \
		--argjson pidns "$(inode "/proc/$pid/ns/pid")" \
		--argjson mntns "$(inode "/proc/$pid/ns/mnt")" \
		--argjson netns "$(inode "/proc/$pid/ns/net")" \
		'.ns.pid == $nspid and .ns.pid[0] == .pid and .ns.pid[-1] == $inner and
		 (.ns.pid | length) == 2 and .ns.pid_truncated == false and .ns.pid_ns == $pidns and
		 .ns.mnt_ns == $mntns and .ns.net_ns == $netns and
		 .test_dir == "/tmp/TestX/001" and .container == null' <<<"$p"
	grep -qx "0::$1" "/proc/$pid/cgroup"
}

@test "two containers' VMMs at the same path: NSpid, namespaces and cgroups as the kernel shows them" {
	[ -n "$CGROOT" ] || skip "no cgroup v2 mount"
	[ -d /mnt ] || skip "no /mnt to bind the test dir to"
	new_cgroup "cidtrace-test-$$-A"
	new_cgroup "cidtrace-test-$$-B"
	start_record --raw "$T/cap.raw"
	container A "$CGROOT/cidtrace-test-$$-A" exec
	container B "$CGROOT/cidtrace-test-$$-B" child
	wait_file "$T/A.ready"
	wait_file "$T/B.ready"
	stop_record
	[ "$(cat "$T/A.inner")" = 1 ]
	[ "$(cat "$T/B.inner")" -ge 2 ]
	check_vmm "/cidtrace-test-$$-A" "$(cat "$T/A.inner")"
	check_vmm "/cidtrace-test-$$-B" "$(cat "$T/B.inner")"
	# one path, two directories: every namespace differs, and none is the host's
	rq --arg a "/cidtrace-test-$$-A" --arg b "/cidtrace-test-$$-B" --argjson host "$(inode /proc/self/ns/mnt)" '
		[.processes[] | select(.role == "vmm" and (.cgroup == $a or .cgroup == $b)) | .ns] |
		length == 2 and .[0].pid_ns != .[1].pid_ns and .[0].mnt_ns != .[1].mnt_ns and
		.[0].net_ns != .[1].net_ns and all(.mnt_ns != $host)'
	# the capture replays to the same report
	"$CIDTRACE" replay "$T/cap.raw" -o "$T/replay.json" -q
	cmp "$R" "$T/replay.json"
	# their ancestors that made them, on the host: a one-level chain
	rq --argjson host "$(inode /proc/self/ns/pid)" '[.processes[] | select(.comm == "unshare")] |
		length == 2 and all(.ns.pid == [.pid] and .ns.pid_ns == $host)'
}

@test "processes already running are snapshotted with their namespaces and cgroup" {
	[ -n "$CGROOT" ] || skip "no cgroup v2 mount"
	[ -d /mnt ] || skip "no /mnt to bind the test dir to"
	new_cgroup "cidtrace-test-$$-S"
	container S "$CG" child
	wait_file "$T/S.ready"
	start_record
	stop_record
	check_vmm "/cidtrace-test-$$-S" "$(cat "$T/S.inner")"
	rq --arg s "/cidtrace-test-$$-S" '[.processes[] | select(.cgroup == $s and .role == "vmm")][0].started_at == null'
}

@test "hostile cgroup names stay inert, and a path too deep or too long is null" {
	[ -n "$CGROOT" ] || skip "no cgroup v2 mount"
	local evil deep long i
	# a delegated subtree's owner names its cgroups as it likes (the kernel only refuses / and
	# newlines): escapes for the terminal, markup for the page, quotes for the JSON
	new_cgroup "cidtrace-test-$$-E"
	new_cgroup "cidtrace-test-$$-E/$(printf 'x\033[31m<b>"q'"'"'\\u0022')"
	evil=$CG
	# 17 levels below the root: one more than is walked
	deep="cidtrace-test-$$-D"
	new_cgroup "$deep"
	for i in $(seq 16); do
		deep="$deep/$i"
		new_cgroup "$deep"
	done
	deep=$CG
	# more than 511 bytes of path, in names of at most 255
	long="cidtrace-test-$$-L"
	new_cgroup "$long"
	for i in 1 2 3; do
		long="$long/$(printf "$i%.0s" $(seq 200))"
		new_cgroup "$long"
	done
	long=$CG
	mkdir -p "$T/TestEvil1/001"
	cp "$IDLE" "$T/TestEvil1/001/qemu-system-x86_64"
	start_record
	vmm_in() {
		sh -c 'echo $$ >"$1/cgroup.procs" || exit 1
			IDLE_READY="$2.ready" exec "$3/qemu-system-x86_64" -name "$2"' sh "$1" "$2" \
			"$T/TestEvil1/001" >/dev/null 2>&1 3>&- &
	}
	vmm_in "$evil" "$T/E"
	vmm_in "$deep" "$T/D"
	vmm_in "$long" "$T/L"
	wait_file "$T/E.ready"
	wait_file "$T/D.ready"
	wait_file "$T/L.ready"
	stop_record
	rq --arg cg "${evil#"$CGROOT"}" --arg t "$T/E" '[.processes[] | select(.cgroup == $cg)] |
		length == 1 and .[0].argv[-1] == $t'
	rq --arg t "$T" '[.processes[] | select(.argv[-1] == ($t + "/D") or .argv[-1] == ($t + "/L"))] |
		length == 2 and all(.cgroup == null and .ns.pid == [.pid])'
	# read back and written again by `report`: the same strings, the same NSpid
	run "$CIDTRACE" report --format json "$R" -o "$T/n.json"
	[ "$status" -eq 0 ]
	jq -e --arg cg "${evil#"$CGROOT"}" '[.processes[] | select(.cgroup == $cg and .ns.pid == [.pid])] |
		length == 1' "$T/n.json"
	run "$CIDTRACE" report "$R" --format html -o "$T/r.html"
	[ "$status" -eq 0 ]
	run ! grep -q '<b>' "$T/r.html"
	run ! grep -q $'\033' "$T/r.html"
}

@test "pid namespaces nested deeper than kept: the outermost 4 pids, marked truncated" {
	# any user who may make user namespaces can nest pid namespaces 32 deep
	mkdir -p "$T/TestDeep1/001"
	cp "$IDLE" "$T/TestDeep1/001/qemu-system-x86_64"
	cat >"$T/nest.sh" <<-'S'
	if [ "$1" -gt 0 ]; then exec unshare -p --fork sh "$0" $(($1 - 1)) "$2"; fi
	IDLE_READY="$2/vmm.ready" exec "$2/qemu-system-x86_64" -name nested
	S
	start_record
	sh "$T/nest.sh" 5 "$T/TestDeep1/001" >/dev/null 2>&1 3>&- &
	wait_file "$T/TestDeep1/001/vmm.ready"
	stop_record
	rq '[.processes[] | select(.argv[-1] == "nested")] | length == 1 and
		(.[0] | (.ns.pid | length) == 4 and .ns.pid[0] == .pid and .ns.pid_truncated == true)'
}

@test "guests, and record's live lines, say where a containerized VMM lives: container and pid inside" {
	[ -n "$CGROOT" ] || skip "no cgroup v2 mount"
	[ -d /mnt ] || skip "no /mnt to bind the test dir to"
	local id inner pid
	id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	new_cgroup "cidtrace-test-$$-G"
	new_cgroup "cidtrace-test-$$-G/docker-$id.scope"
	"$CIDTRACE" record --json --log "$T/live.ndjson" -o "$R" --ready-file "$T/ready" \
		2>"$T/record.err" 3>&- &
	RPID=$!
	wait_file "$T/ready"
	"$CIDTRACE" record --log "$T/live.txt" -o "$T/r2.json" --ready-file "$T/ready2" \
		2>"$T/record2.err" 3>&- &
	R2PID=$!
	wait_file "$T/ready2"
	container G "$CG" child
	wait_file "$T/G.ready"
	inner=$(cat "$T/G.inner")
	[ "$inner" -ge 2 ]
	"$CIDTRACE" guests --json >"$T/guests.json"
	pid=$(jq -e --arg cg "/cidtrace-test-$$-G/docker-$id.scope" '.guests[] |
		select(.cgroup == $cg) | .pid' "$T/guests.json")
	# the JSON: as processes[] has them
	jq -e --argjson p "$pid" --argjson i "$inner" --arg id "$id" '.guests[] | select(.pid == $p) |
		.ns.pid == [$p, $i] and .container == {runtime: "docker", id: $id, pod_uid: null} and
		.test_dir == "/tmp/TestX/001"' "$T/guests.json"
	# the table: the short id and the pid inside, in columns of their own
	run "$CIDTRACE" guests
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == *" PPID  INSIDE CONTAINER "* ]]
	grep -qE "^ *$pid +[0-9]+ +$inner +${id:0:12} +qemu-system-x86 " <<<"$output"
	run ! grep -qF "${id:0:13}" <<<"$output"
	kill -TERM "$RPID" "$R2PID"
	wait "$RPID"
	wait "$R2PID"
	# the live lines that name it: NDJSON with ns and container, text with "(container ...)"
	jq -se --argjson p "$pid" --argjson i "$inner" --arg id "$id" '[.[] | select(.pid == $p and
		.event == "exec")] | length == 1 and all(.ns.pid == [$p, $i] and .container.id == $id and
		.mnt_ns == .ns.mnt_ns)' "$T/live.ndjson"
	grep -qE "^[0-9:.]+ exec +$pid .* \[/tmp/TestX/001\] \(container ${id:0:12}, pid $inner inside\)$" \
		"$T/live.txt"
	# the container's init: its own pid 1
	grep -qE "^[0-9:.]+ exec .* \(container ${id:0:12}, pid 1 inside\)$" "$T/live.txt"
}

# nsproc NAME ACTION: a python process that switches namespaces with unshare(2) or setns(2)
# (ACTION "unshare", or "setns PID" into PID's network namespace), then neither forks nor
# execs; its ready file is $T/NAME.ready.
nsproc() {
	/usr/bin/python3 - "$T/$1.ready" "${@:2}" 3>&- <<-'P' &
	import ctypes, os, sys, time
	libc = ctypes.CDLL(None, use_errno=True)
	NEWNET, NEWNS = 0x40000000, 0x00020000
	if sys.argv[2] == "unshare":
	    ok = libc.unshare(NEWNET | NEWNS) == 0
	else:
	    ok = libc.setns(os.open("/proc/%s/ns/net" % sys.argv[3], os.O_RDONLY), NEWNET) == 0
	if not ok:
	    sys.exit("nsproc: " + os.strerror(ctypes.get_errno()))
	open(sys.argv[1] + ".tmp", "w").close()
	os.rename(sys.argv[1] + ".tmp", sys.argv[1])
	time.sleep(600)
	P
}

@test "--ns-switches: a process that unshares or setns and then neither forks nor execs is read again" {
	local a b host
	host=$(inode /proc/self/ns/net)
	# (argv names $T: in scope, so the report lists them)
	start_record --raw "$T/cap.raw" --scope "$T" --ns-switches
	if grep -q 'ns-switches: no setns' "$T/record.err"; then
		skip "no syscall tracepoints on this kernel"
	fi
	nsproc A unshare
	a=$!
	wait_file "$T/A.ready"
	nsproc B setns "$a"
	b=$!
	wait_file "$T/B.ready"
	[ "$(inode "/proc/$a/ns/net")" != "$host" ]
	stop_record
	rq --argjson a "$a" --argjson net "$(inode "/proc/$a/ns/net")" \
		--argjson mnt "$(inode "/proc/$a/ns/mnt")" '.processes[] | select(.pid == $a) |
		.ns.net_ns == $net and .ns.mnt_ns == $mnt'
	rq --argjson b "$b" --argjson net "$(inode "/proc/$a/ns/net")" \
		--argjson mnt "$(inode /proc/self/ns/mnt)" '.processes[] | select(.pid == $b) |
		.ns.net_ns == $net and .ns.mnt_ns == $mnt'
	# the capture replays to the same report
	"$CIDTRACE" replay "$T/cap.raw" -o "$T/replay.json" -q
	cmp "$R" "$T/replay.json"
}
