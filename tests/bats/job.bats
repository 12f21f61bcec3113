#!/usr/bin/env bats
# `run`'s job: only what the command started is its vmm_leak or a --reap target; roles after
# exec; a truncated argv; --scope validation; who the command runs as.

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"

alive() { # pid, comm: the same process still runs (a zombie waiting for its parent is dead)
	[ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ] &&
		[ "$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null)" != Z ]
}

# The cgroup v2 directory of a report's trace.job.cgroup.
job_cgroup_dir() {
	echo "$(findmnt -n -t cgroup2 -o TARGET | head -1)$(jq -r .trace.job.cgroup "$R")"
}

# An unrelated shell, as uid 65534 and not a descendant of the job, starts an idle stand-in
# VMM in $O (a dir under the scope it may write) once cidtrace is ready ($T/ready). Its pid
# goes to $O/fc.pid before it execs, its ready file to $O/fc.ready after.
outsider_vmm() {
	O="$D/outsider"
	mkdir -p "$O"
	cp "$FIX/idle" "$O/firecracker"
	chown 65534:65534 "$O"
	chmod 0755 "$T" "$T/TestLifecycle4242" "$D"
	cat >"$O/start.sh" <<-EOF
	while [ ! -e "$T/ready" ]; do sleep 0.01; done
	IDLE_READY="$O/fc.ready" sh -c 'echo \$\$ >"$O/fc.pid"; exec "$O/firecracker" --api-sock "$O/fc.sock"' \
		</dev/null >/dev/null 2>&1 &
	EOF
	setpriv --reuid 65534 --regid 65534 --clear-groups sh "$O/start.sh" 3>&- &
}

# The job: its own VMM through setsid and a double fork (a new session, orphaned at once),
# then it waits for both VMMs.
job_script() {
	cat >"$D/job.sh" <<-EOF
	IDLE_READY="$D/fc.ready" setsid -f sh -c 'echo \$\$ >"$D/fc.pid"; exec "$D/firecracker" --api-sock "$D/fc.sock"' \
		</dev/null >/dev/null 2>&1
	while [ ! -e "$D/fc.ready" ] || [ ! -e "$O/fc.ready" ]; do sleep 0.01; done
	EOF
}

@test "run --reap: another user's VMM in scope survives; the job's, behind setsid and a double fork, is reaped" {
	cp "$FIX/idle" "$D/firecracker"
	outsider_vmm
	job_script
	run ct_run --scope "$D" --reap --ready-file "$T/ready" -- sh "$D/job.sh"
	[ "$status" -eq 0 ]
	out=$(cat "$O/fc.pid") own=$(cat "$D/fc.pid")
	alive "$out" firecracker
	run ! alive "$own" firecracker
	rq '.trace.job.identity == "cgroup" and (.trace.job.cgroup | test("^/.*cidtrace-job\\.[0-9]+$"))'
	rq --argjson o "$own" '[.reaped[] | .pid] == [$o]'
	rq --argjson o "$own" '[.findings[] | select(.kind == "vmm_leak") | .pid] == [$o]'
	proc_json "$out" | jq -e '.role == "vmm" and .in_scope and (.in_job | not)'
	proc_json "$own" | jq -e '.in_job and .orphaned'
	# the job cgroup is gone once the trace ended
	[ ! -e "$(job_cgroup_dir)" ]
}

@test "run without a job cgroup (read-only cgroupfs): the job is told by ancestry" {
	mnt=$(findmnt -n -t cgroup2 -o TARGET | head -1)
	[ -n "$mnt" ] || skip "no cgroup v2 mount"
	cp "$FIX/idle" "$D/firecracker"
	outsider_vmm
	job_script
	# a mount namespace of its own, where the cgroup v2 mount is read-only
	run unshare -m sh -c "mount -o remount,bind,ro '$mnt' &&
		exec '$CIDTRACE' run -q -o '$R' --scratch-root '$T' --scope '$D' --reap \
			--ready-file '$T/ready' -- sh '$D/job.sh'"
	[ "$status" -eq 0 ]
	out=$(cat "$O/fc.pid") own=$(cat "$D/fc.pid")
	alive "$out" firecracker
	run ! alive "$own" firecracker
	rq '.trace.job.identity == "ancestry" and .trace.job.cgroup == null'
	rq --argjson o "$own" '[.reaped[] | .pid] == [$o]'
	rq --argjson o "$own" '[.findings[] | select(.kind == "vmm_leak") | .pid] == [$o]'
}

@test "plain run: a VMM started meanwhile from another shell is not this job's vmm_leak" {
	cp "$FIX/idle" "$D/firecracker"
	outsider_vmm
	run ct_run --ready-file "$T/ready" -- sh -c "while [ ! -e '$O/fc.ready' ]; do sleep 0.01; done"
	[ "$status" -eq 0 ]
	out=$(cat "$O/fc.pid")
	alive "$out" firecracker
	proc_json "$out" | jq -e '.role == "vmm" and (.in_job | not) and .started_at != null'
	rq '[.findings[] | select(.kind == "vmm_leak")] == []'
	rq '.trace.mode == "run" and .trace.job.pid > 0'
}

@test "a VMM's forked child that execs something else is no VMM, and is not reaped" {
	# a shell named firecracker forks and execs a stand-in "sleep" (the idle fixture)
	cp /bin/bash "$D/firecracker"
	cp "$FIX/idle" "$D/sleep"
	cat >"$D/vmm.sh" <<-EOF
	echo \$\$ >"$D/fc.pid"
	IDLE_READY="$D/sleep.ready" "$D/sleep" 300 &
	echo \$! >"$D/sleep.pid"
	wait
	EOF
	run ct_run --scope "$D" --reap -- sh -c "
		'$D/firecracker' '$D/vmm.sh' </dev/null >/dev/null 2>&1 &
		while [ ! -e '$D/sleep.ready' ] || [ ! -s '$D/sleep.pid' ]; do sleep 0.01; done"
	[ "$status" -eq 0 ]
	fc=$(cat "$D/fc.pid") sl=$(cat "$D/sleep.pid")
	alive "$sl" sleep
	run ! alive "$fc" firecracker
	proc_json "$sl" | jq -e '.role == null and .comm == "sleep" and .in_job'
	rq --argjson f "$fc" '[.reaped[] | .pid] == [$f]'
	rq --argjson f "$fc" '[.findings[] | select(.kind == "vmm_leak") | .pid] == [$f]'
}

@test "run --reap: a pager outside the job is not touched, the job's VMM is" {
	[ -c /dev/kvm ] || skip "no /dev/kvm"
	cp "$FIX/uffd_vmm" "$D/firecracker"
	cp "$FIX/uffd_pager" "$D/hypeman-uffd-pager"
	# the pager: started once cidtrace is ready, by a shell that is not the job's
	cat >"$D/pager.sh" <<-EOF
	while [ ! -e "$T/ready" ]; do sleep 0.01; done
	sh -c 'echo \$\$ >"$D/pager.pid"; exec "$D/hypeman-uffd-pager" --sock "$D/uffd.sock" --ready "$D/listening"' \
		</dev/null >/dev/null 2>&1 &
	EOF
	sh "$D/pager.sh" 3>&- &
	# the job: a guest served by that pager; it leaves once a checkpoint shows it held
	guest_job "$D/job.sh"
	run ct_run --scope "$D" --checkpoint 0.1 --reap --ready-file "$T/ready" -- sh "$D/job.sh"
	[ "$status" -eq 0 ]
	vmm=$(cat "$D/vmm.pid") pager=$(cat "$D/pager.pid")
	run ! alive "$vmm" firecracker
	alive "$pager" hypeman-uffd-pa
	rq --argjson v "$vmm" '[.reaped[] | .pid] == [$v]'
	proc_json "$pager" | jq -e '.role == "pager" and (.in_job | not)'
}

@test "a truncated argv's cut-off last piece puts nothing in scope" {
	S="$T/ci/job1"
	mkdir -p "$S" "$T/ci/job10" "$T/bin"
	cp "$FIX/idle" "$T/bin/firecracker"
	exe="$T/bin/firecracker" cut="--disk=$S"
	# 8191 argv bytes are kept: pad so that they end right after "--disk=$T/ci/job1"
	pad=$(head -c $((8191 - ${#exe} - 1 - 1 - ${#cut})) /dev/zero | tr '\0' x)
	run ct_run --scope "$S" --reap=dry-run -- sh -c "
		IDLE_READY='$T/fc.ready' '$exe' '$pad' '--disk=$T/ci/job10/disk.img' \
			</dev/null >/dev/null 2>&1 &
		echo \$! >'$T/fc.pid'
		while [ ! -e '$T/fc.ready' ]; do sleep 0.01; done"
	[ "$status" -eq 0 ]
	fc=$(cat "$T/fc.pid")
	proc_json "$fc" | jq -e --arg c "$cut" --arg s "$S" '.argv_truncated and .argv[-1] == $c and
		(.in_scope | not) and .test_dir != $s'
	rq '.reaped == [] and [.findings[] | select(.kind == "vmm_leak")] == []'
}

@test "--scope that is empty, / or missing: exit 2 with one line" {
	for s in "" / /nonexistent-cidtrace-scope "$T/.."/..; do
		run "$CIDTRACE" run --scope "$s" -o "$R" -- true
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "cidtrace run: --scope "* ]]
	done
	[ ! -e "$R" ]
	# a relative scope is resolved, symlinks too
	ln -s "$D" "$T/link"
	(cd "$T" && ct_run --scope link/. -- true) || false
	rq --arg d "$D" '.trace.scope == [$d]'
}

@test "under sudo, CMD runs as SUDO_UID and SUDO_GID with no capabilities; --as-root keeps root" {
	sudo_env=(env SUDO_UID=65534 SUDO_GID=65534 SUDO_USER=nobody)
	run "${sudo_env[@]}" "$CIDTRACE" run -q -o "$R" -- \
		sh -c 'id -u; id -G; grep -E "^Cap(Eff|Prm|Amb):" /proc/self/status; echo "$USER"'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 65534 ]
	[ "${lines[1]}" = 65534 ]
	[ "${lines[2]}" = "CapPrm:	0000000000000000" ]
	[ "${lines[3]}" = "CapEff:	0000000000000000" ]
	[ "${lines[4]}" = "CapAmb:	0000000000000000" ]
	[ "${lines[5]}" = nobody ]
	rq '.trace.job.pid > 0'
	run "${sudo_env[@]}" "$CIDTRACE" run -q -o "$R" --as-root -- id -u
	[ "$status" -eq 0 ]
	[ "$output" = 0 ]
	# --user, sudo or not; and cidtrace itself stays root: the report is written
	run "$CIDTRACE" run -q -o "$R" --user nobody -- id -un
	[ "$status" -eq 0 ]
	[ "$output" = nobody ]
	rq '.trace.final'
	# a failed exec as that user is the command's failure
	run -127 "${sudo_env[@]}" "$CIDTRACE" run -q -o "$R" -- /nonexistent-cidtrace-cmd
	[ "$status" -eq 127 ]
}

@test "--user and --as-root: usage errors exit 2 with one line" {
	for args in "--user no-such-user-cidtrace" "--user nobody --as-root" "--user"; do
		run "$CIDTRACE" run $args -- true
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
	done
	run env SUDO_UID=nobody SUDO_GID=65534 "$CIDTRACE" run -o "$R" -- true
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ ! -e "$R" ]
}
