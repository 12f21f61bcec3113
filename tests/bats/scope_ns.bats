#!/usr/bin/env bats
# Containers: two "containers" (unshare -p -m -n --fork --mount-proc, each in a cgroup v2 of
# its own and with its own tmpfs on /tmp) run a stand-in VMM at the same path. A test dir is
# a path in one mount namespace; --scope names the host's; --scope-cgroup picks one job;
# --reap for one never touches the other. And a real runtime: systemd-nspawn, if it runs.

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"

setup() {
	T=$(mktemp -d /tmp/cidtrace-bats.XXXXXX)
	R="$T/report.json"
	CGROOT=$(findmnt -n -t cgroup2 -o TARGET | head -1)
	[ -n "$CGROOT" ] || skip "no cgroup v2 hierarchy mounted"
	# outside /tmp, which each container replaces with a tmpfs of its own: where the
	# containers say they are ready
	X=$(mktemp -d /run/cidtrace-scope.XXXXXX)
	chmod 0755 "$X"
	# and the VMM stand-in the containers copy, since the checkout may be under /tmp too
	cp "$FIX/idle" "$X/idle"
	# the path both containers run their VMM at; it exists on the host too, for --scope
	DIR="$T/TestX/001"
	mkdir -p "$DIR"
	TAG=${T##*.}
	CGS=()
}

# Kill what is left in the test's cgroups (the containers, the outsider, nspawn's payload and
# supervisor children), then remove them, the deepest first. Cgroup files have no size: read.
teardown() {
	local cg p i n
	[ -n "${RPID:-}" ] && kill -KILL "$RPID" 2>/dev/null || true
	pkill -KILL -f "$T/" 2>/dev/null || true
	for ((i = ${#CGS[@]} - 1; i >= 0; i--)); do
		cg=${CGS[i]}
		[ -d "$cg" ] || continue
		for ((n = 0; n < 500; n++)); do
			p=$(find "$cg" -name cgroup.procs -exec cat {} + 2>/dev/null)
			[ -n "$p" ] || break
			kill -KILL $p 2>/dev/null || true
			sleep 0.01
		done
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
	rm -rf "$T" "$X"
}

# $1 under the cgroup v2 mount: made here, removed by teardown.
new_cgroup() {
	mkdir "$CGROOT$1"
	CGS+=("$CGROOT$1")
}

# container_script NAME: $X/NAME.sh CGROUP_DIR READY DIR VMM starts a container in the cgroup
# v2 dir CGROUP_DIR, with its own pid, mount and network namespaces and its own tmpfs on /tmp,
# whose init (a shell) copies VMM to DIR/firecracker, runs it and waits for it; READY appears
# once it runs.
container_script() {
	cat >"$X/$1.sh" <<-'EOF'
	echo $$ >"$1/cgroup.procs" || exit 1
	exec unshare -p -m -n --fork --mount-proc sh -c '
		mount -t tmpfs tmpfs /tmp && mkdir -p "$2" && cp "$3" "$2/firecracker" || exit 1
		IDLE_READY="$1" "$2/firecracker" --api-sock "$2/fc.sock" &
		wait' sh "$2" "$3" "$4"
	EOF
}

# start_container NAME CGROUP: that container in cgroup CGROUP (a path as /proc/PID/cgroup
# shows it, made here), its VMM at $DIR. Returns once the VMM runs; its host pid is then in
# NAME_PID.
start_container() {
	local name=$1 cg=$2
	new_cgroup "$cg"
	container_script "$name"
	setsid -f sh "$X/$name.sh" "$CGROOT$cg" "$X/$name.ready" "$DIR" "$X/idle" \
		</dev/null >/dev/null 2>&1 3>&-
	wait_file "$X/$name.ready"
	printf -v "${name}_PID" '%s' "$(vmm_in "$CGROOT$cg")"
}

# The host pid of the firecracker in cgroup dir $1.
vmm_in() {
	local p
	for p in $(cat "$1/cgroup.procs"); do
		[ "$(cat "/proc/$p/comm" 2>/dev/null)" != firecracker ] || echo "$p"
	done
}

alive() { # pid: still running, not a zombie
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	[ "${st%% *}" != Z ]
}

# The NSpid chain of /proc/PID/status as a JSON array, the host's pid first.
nspid() {
	awk '/^NSpid:/ { $1 = ""; print }' "/proc/$1/status" | jq -sc .
}

mnt_ns_of() {
	stat -Lc %i "/proc/$1/ns/mnt"
}

@test "two containers running the same /tmp path are two test dirs, told apart by mnt_ns" {
	start_record --checkpoint 0
	start_container A "/cidtrace-ctA.$TAG"
	start_container B "/cidtrace-ctB.$TAG"
	stop_record
	ma=$(mnt_ns_of "$A_PID") mb=$(mnt_ns_of "$B_PID") host=$(mnt_ns_of self)
	[ "$ma" != "$mb" ]
	rq --argjson h "$host" '.trace.scope_mnt_ns == $h'
	proc_json "$A_PID" | jq -e --arg d "$DIR" --argjson m "$ma" \
		'.test_dir == $d and .ns.mnt_ns == $m and .role == "vmm" and (has("mnt_ns") | not)'
	proc_json "$B_PID" | jq -e --arg d "$DIR" --argjson m "$mb" \
		'.test_dir == $d and .ns.mnt_ns == $m and .role == "vmm" and (has("mnt_ns") | not)'
	# the same path, two test dirs: (mnt_ns, test_dir) pairs
	rq --arg d "$DIR" '[.processes[] | select(.test_dir == $d and .role == "vmm") |
		[.ns.mnt_ns, .test_dir]] | unique | length == 2'
	# each with its cgroup and its pid chain, host first, as /proc/PID/status says (NSpid)
	proc_json "$A_PID" | jq -e --arg c "/cidtrace-ctA.$TAG" --argjson p "$(nspid "$A_PID")" \
		'.cgroup == $c and .ns.pid == $p and (.ns.pid | length) == 2'
	proc_json "$B_PID" | jq -e --arg c "/cidtrace-ctB.$TAG" --argjson p "$(nspid "$B_PID")" \
		'.cgroup == $c and .ns.pid == $p and (.ns.pid | length) == 2'
	# the HTML groups them apart: the label names the container's mount namespace
	"$CIDTRACE" report --format html "$R" >"$T/r.html"
	grep -qF "(mount namespace $ma)" "$T/r.html"
	grep -qF "(mount namespace $mb)" "$T/r.html"
}

@test "--scope is the host's path: a container's same path is not in it; --scope-cgroup picks one container" {
	start_record --checkpoint 0 --scope "$DIR"
	start_container A "/cidtrace-ctA.$TAG"
	cp "$FIX/idle" "$DIR/firecracker"
	IDLE_READY="$X/host.ready" "$DIR/firecracker" --api-sock "$DIR/fc.sock" 3>&- &
	HOST_PID=$!
	wait_file "$X/host.ready"
	stop_record
	proc_json "$HOST_PID" | jq -e '.in_scope'
	proc_json "$A_PID" | jq -e '.in_scope == false'

	start_record --checkpoint 0 --scope "$DIR" --scope-cgroup "/cidtrace-ctB.$TAG"
	start_container B "/cidtrace-ctB.$TAG"
	start_container C "/cidtrace-ctC.$TAG"
	stop_record
	rq --arg c "/cidtrace-ctB.$TAG" '.trace.scope_cgroups == [$c]'
	# with a cgroup chosen, --scope is the chosen processes' own path
	proc_json "$B_PID" | jq -e '.in_scope'
	proc_json "$C_PID" | jq -e '.in_scope == false'
	proc_json "$HOST_PID" | jq -e '.in_scope == false'
	kill "$HOST_PID"
}

@test "run --scope-cgroup --reap stops job A's VMM; job B's at the same path, and a look-alike cgroup's, live" {
	start_container B "/cidtrace-ctB.$TAG"
	# uid 65534 in a cgroup delegated to it names a child like job A's and runs a VMM
	# there whose argv names the scope dir: in neither A's cgroup nor its mount namespace
	new_cgroup "/cidtrace-evil.$TAG"
	chown 65534 "$CGROOT/cidtrace-evil.$TAG" "$CGROOT/cidtrace-evil.$TAG/cgroup.procs"
	mkdir "$X/evil"
	cp "$FIX/idle" "$X/evil/firecracker"
	chown -R 65534 "$X/evil"
	cat >"$X/evil.sh" <<-EOF
	mkdir "$CGROOT/cidtrace-evil.$TAG/cidtrace-ctA.$TAG" || exit 1
	echo \$\$ >"$CGROOT/cidtrace-evil.$TAG/cidtrace-ctA.$TAG/cgroup.procs" || exit 1
	IDLE_READY="$X/evil/ready" exec "$X/evil/firecracker" --api-sock "$DIR/fc.sock"
	EOF
	CGS+=("$CGROOT/cidtrace-evil.$TAG/cidtrace-ctA.$TAG")
	setsid -f sh -c "echo \$\$ >'$CGROOT/cidtrace-evil.$TAG/cgroup.procs'
		exec setpriv --reuid 65534 --regid 65534 --clear-groups sh '$X/evil.sh'" \
		</dev/null >/dev/null 2>&1 3>&-
	wait_file "$X/evil/ready"
	evil=$(vmm_in "$CGROOT/cidtrace-evil.$TAG/cidtrace-ctA.$TAG")
	[ -n "$evil" ]

	# the job starts container A (a runtime would, outside the job's cgroup) and leaks it
	new_cgroup "/cidtrace-ctA.$TAG"
	container_script A
	run ct_run --scope "$DIR" --scope-cgroup "/cidtrace-ctA.$TAG" --reap --reap-grace 2 -- \
		sh -c "setsid sh '$X/A.sh' '$CGROOT/cidtrace-ctA.$TAG' '$X/A.ready' '$DIR' \
			'$X/idle' </dev/null >/dev/null 2>&1 &
		timeout 60 sh -c 'while [ ! -e "\$1" ]; do sleep 0.01; done' sh '$X/A.ready' || exit 1"
	[ "$status" -eq 0 ]
	# the selected container's VMM: in scope, the job's, though not in the job's own cgroup
	a=$(jq -r '[.processes[] | select(.role == "vmm" and .in_scope)] | map(.pid) | .[]' "$R")
	[ -n "$a" ]
	# A's VMM was reaped, and only it
	rq --argjson a "$a" '[.reaped[] | .pid] == [$a] and .reaped[0].exited'
	rq --argjson a "$a" '[.findings[] | select(.kind == "vmm_leak") | .pid] == [$a]'
	run ! alive "$a"
	# B's, at the same path in another container, and the look-alike, were never touched
	alive "$B_PID"
	alive "$evil"
	proc_json "$B_PID" | jq -e '.in_scope == false and .in_job == false'
	proc_json "$evil" | jq -e '.in_scope == false and .in_job == false'
	rq --argjson b "$B_PID" --argjson e "$evil" \
		'[.reaped[] | select(.pid == $b or .pid == $e)] == []'
}

@test "systemd-nspawn: a real container's machine name is found from its cgroup" {
	command -v systemd-nspawn >/dev/null ||
		skip "systemd-nspawn is not installed (package systemd-container); the parser's unit test covers its cgroup format"
	# A directory tree holding the host's /usr read-only: enough for a shell and the VMM.
	ROOT="$X/root"
	mkdir -p "$ROOT"/{usr,etc,proc,sys,dev,tmp,run,var,ci}
	ln -s usr/bin "$ROOT/bin"
	ln -s usr/lib "$ROOT/lib"
	[ ! -d /usr/lib64 ] || ln -s usr/lib64 "$ROOT/lib64"
	cp /etc/os-release "$ROOT/etc/"
	cp "$FIX/idle" "$ROOT/ci/firecracker"
	# PID 1 is no systemd here: no machined makes the machine's scope. Make it as machined
	# would (machine-NAME.scope, '-' escaped as \x2d) and run nspawn in it, without
	# registering (--register=no) or a unit of its own (--keep-unit).
	NAME="ci-$TAG"
	SCOPE="/machine.slice/machine-${NAME//-/\\x2d}.scope"
	[ -d "$CGROOT/machine.slice" ] || new_cgroup /machine.slice
	new_cgroup "$SCOPE"
	start_record --checkpoint 0 --scope-container "$NAME"
	sh -c "echo \$\$ >'$CGROOT$SCOPE/cgroup.procs'
		exec systemd-nspawn -q -D '$ROOT' --register=no --keep-unit --bind-ro=/usr \
			--bind='$X:/ready' -M '$NAME' /bin/sh -c \
			'IDLE_READY=/ready/nspawn.ready /ci/firecracker --api-sock /ci/fc.sock & wait'" \
		</dev/null >"$X/nspawn.log" 2>&1 3>&- &
	for ((i = 0; i < 1000; i++)); do
		[ ! -e "$X/nspawn.ready" ] || break
		alive $! || skip "systemd-nspawn cannot run a container here: $(head -c 300 "$X/nspawn.log")"
		sleep 0.01
	done
	wait_file "$X/nspawn.ready"
	stop_record
	vmm=$(jq -r '[.processes[] | select(.role == "vmm" and .in_scope)] | map(.pid) | .[]' "$R")
	[ -n "$vmm" ]
	[ "$(cat "/proc/$vmm/comm")" = firecracker ]
	# nspawn puts its payload in a child of the scope
	grep -qxF "0::$SCOPE/payload" "/proc/$vmm/cgroup"
	proc_json "$vmm" | jq -e --arg n "$NAME" --arg c "$SCOPE/payload" \
		'.cgroup == $c and .container.runtime == "systemd-nspawn" and .container.id == $n'
}

@test "--reap reads the cgroup again at kill time: a VMM moved out of the chosen cgroup is left running" {
	new_cgroup "/cidtrace-ctA.$TAG"
	new_cgroup "/cidtrace-moved.$TAG"
	container_script A
	# the job's container VMM leaves the chosen cgroup after its last fork and exec: the
	# trace still has it there, /proc does not
	run ct_run --scope-cgroup "/cidtrace-ctA.$TAG" --reap --reap-grace 2 -- \
		sh -c "setsid -f sh '$X/A.sh' '$CGROOT/cidtrace-ctA.$TAG' '$X/A.ready' '$DIR' \
			'$X/idle' </dev/null >/dev/null 2>&1
		timeout 60 sh -c 'while [ ! -e "\$1" ]; do sleep 0.01; done' sh '$X/A.ready' || exit 1
		for p in \$(cat '$CGROOT/cidtrace-ctA.$TAG/cgroup.procs'); do
			[ \"\$(cat /proc/\$p/comm)\" != firecracker ] ||
				echo \$p >'$CGROOT/cidtrace-moved.$TAG/cgroup.procs'
		done"
	[ "$status" -eq 0 ]
	a=$(vmm_in "$CGROOT/cidtrace-moved.$TAG")
	[ -n "$a" ]
	alive "$a"
	rq --argjson a "$a" '[.findings[] | select(.kind == "vmm_leak") | .pid] == [$a]'
	rq --argjson a "$a" '[.reaped[] | select(.pid == $a)] == []'
	[[ "$output" == *"reap: firecracker pid $a is no longer in the selected cgroup or container; left running"* ]]
}

@test "run: the job's own VMM in a mount namespace of its own is still in --scope, and reaped" {
	cp "$FIX/idle" "$DIR/firecracker"
	# unshare -m: a private mount namespace, in the job's cgroup, the same directories
	run ct_run --scope "$DIR" --reap -- sh -c "
		IDLE_READY='$X/own.ready' setsid -f unshare -m '$DIR/firecracker' --api-sock '$DIR/fc.sock' \
			</dev/null >/dev/null 2>&1
		timeout 60 sh -c 'while [ ! -e "\$1" ]; do sleep 0.01; done' sh '$X/own.ready' || exit 1"
	[ "$status" -eq 0 ]
	# (other VMMs on the host are in the report too, outside the job)
	rq '[.processes[] | select(.role == "vmm" and .in_job)] | length == 1'
	a=$(jq -r '.processes[] | select(.role == "vmm" and .in_job) | .pid' "$R")
	rq --argjson a "$a" '[.reaped[] | .pid] == [$a] and .reaped[0].exited'
	rq --argjson a "$a" '.trace.scope_mnt_ns as $h | .processes[] | select(.pid == $a) |
		.in_job and .in_scope and .ns.mnt_ns != $h'
	run ! alive "$a"
}

@test "bad --scope-cgroup and --scope-container: exit 2 with one line, on record, run and report" {
	run "$CIDTRACE" record --scope-cgroup /
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace record: --scope-cgroup / holds every process: name the job's own cgroup (see cidtrace record --help)" ]
	run "$CIDTRACE" run --scope-cgroup "$CGROOT/x" -- true
	[ "$status" -eq 2 ]
	[[ "$output" == "cidtrace run: --scope-cgroup '$CGROOT/x': give the cgroup v2 path as /proc/PID/cgroup shows it after 0::"* ]]
	run "$CIDTRACE" run --scope-cgroup relative -- true
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	# a name no runtime makes: control characters, a path, too long, empty
	for bad in "$(printf 'ab\033[2Jcd')" ../x "" "$(printf 'a%.0s' {1..65})"; do
		run "$CIDTRACE" record --scope-container "$bad"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "cidtrace record: --scope-container '"* ]]
	done
	echo '{"schema":"cidtrace.report/1"}' >"$R"
	run "$CIDTRACE" report "$R" --scope-cgroup /a --scope-cgroup /b
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace report: --scope-cgroup is given once: a slice is of one job (see cidtrace report --help)" ]
	# --reap and --kill-orphans take a cgroup or a container for a scope
	run "$CIDTRACE" run --reap -- true
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace run: --reap needs --scope, --scope-cgroup or --scope-container (see cidtrace run --help)" ]
}
