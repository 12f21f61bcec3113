# The key fact of each corpus scenario, as a jq expression over its report: what the scenario
# is there to prove. tests/corpus/record.sh refuses a capture whose live report lacks it, and
# tests/bats/corpus.bats asserts it on every replay, so that a golden report regenerated from
# a wrong replay cannot hide a regression. Pids differ from capture to capture: the facts name
# processes by their relations (holder, binder, attempt), comm and argv, never by number.
# Sourced by bash; defines corpus_fact and corpus_fact_check.
# shellcheck disable=SC2016 # jq programs in single quotes

# jq helpers shared by the facts.
CORPUS_JQ_DEFS='
def conflicts: [.findings[] | select(.kind == "cid_conflict")];
def orphans: [.findings[] | select(.kind == "uffd_orphan")];
def proc($pid): [.processes[] | select(.pid == $pid)][0];
def ok: .trace.complete and .trace.events.lost == 0;
'

# corpus_fact SCENARIO: print the scenario's jq expression (empty, status 1: unknown scenario).
corpus_fact() {
	case $1 in
	live_duplicate) echo '
		ok and .trace.attach.vsock == "fexit" and (conflicts[0].holder[0].pid) as $h |
		(conflicts | length == 1 and (.[0] |
			.cid == 3201 and .classification == "live_duplicate" and .attempts == 1 and
			.attempt.comm == "vsock_holder" and (.holder | length) == 1 and
			.holder[0].comm == "vsock_holder" and .holder[0].state_at_conflict == "running" and
			.holder[0].orphaned == false and .binder == null and .bound_at != null)) and
		([.cids[] | select(.cid == 3201)] | length == 1 and .[0].binder.pid == $h and
			.[0].released_at == null)' ;;
	prebound) echo '
		ok and
		([.cids[] | select(.cid == 3202)] | length == 1 and .[0].bound_at == null and
			.[0].binder.comm == "vsock_holder") and
		(conflicts | length == 1 and (.[0] |
			.classification == "live_duplicate" and .bound_at == null and .attempts == 1 and
			.holder[0].state_at_conflict == "running"))' ;;
	teardown_race) echo '
		ok and (conflicts[0].holder[0].pid) as $h |
		(conflicts | length == 1 and (.[0] |
			.cid == 3203 and .classification == "teardown_race" and .attempts == 2000 and
			.first_at < .last_at and (.holder | length) == 1 and
			(.holder[0].state_at_conflict | IN("dumping_core", "exiting")) and
			.holder[0].fatal_signals[0].name == "SIGSEGV" and
			.first_at >= .holder[0].fatal_signals[0].at and
			.binder == null and .released_at != null)) and
		proc($h).exit == {code: 0, signal: 11, core_dumped: true} and
		([.cids[] | select(.cid == 3203)] | length == 2 and .[0].binder.pid == $h and
			.[0].released_by.pid == $h and .[1].binder.pid != $h and
			.[1].bound_at >= .[0].released_at)' ;;
	inherited_fd | inherited_fd_tracepoint | scm_rights)
		local cid=3204 mode=fexit orphaned=true
		[ "$1" = inherited_fd_tracepoint ] && cid=3205 mode=tracepoint
		[ "$1" = scm_rights ] && cid=3206 orphaned=false
		echo "
		ok and .trace.attach.vsock == \"$mode\" and
		(conflicts | length == 1 and (.[0] |
			.cid == $cid and .classification == \"inherited_fd\" and .attempts == 1 and
			(.holder | length) == 1 and .holder[0].state_at_conflict == \"running\" and
			.holder[0].orphaned == $orphaned and .binder != null and
			.binder.pid != .holder[0].pid)) and
		(conflicts[0].binder.pid) as \$b |
		proc(\$b).exit.code == 0 and proc(\$b).exited_at != null and
		([.cids[] | select(.cid == $cid)] | length == 1 and .[0].binder.pid == \$b and
			.[0].released_at == null)" ;;
	orphan_holder) echo '
		ok and
		(conflicts | length == 1 and (.[0] |
			.cid == 3207 and .classification == "orphan_holder" and .attempts == 1 and
			.holder[0].orphaned == true and .holder[0].original_ppid != .holder[0].ppid and
			.holder[0].state_at_conflict == "running" and .binder == null)) and
		proc(conflicts[0].holder[0].original_ppid).exit.code == 0' ;;
	rebind) echo '
		ok and (conflicts[0].holder[0].pid) as $h |
		([.cids[] | select(.cid == 3209 and .binder.pid == $h)][0].id) as $second |
		(conflicts | length == 1 and (.[0] |
			.cid == 3209 and .classification == "live_duplicate" and .binding == $second and
			(.holder[0].argv | index("--rebind")) != null)) and
		([.cids[] | select(.binder.pid == $h)] | length == 2 and
			.[0].cid == 3208 and .[0].released_by.pid == $h and
			.[1].cid == 3209 and .[1].bound_at == .[0].released_at and .[1].id != .[0].id) and
		([.cids[] | select(.cid == 3208 and .binder.pid != $h)] | length == 1)' ;;
	invalid_cid) echo '
		ok and conflicts == [] and
		([.findings[] | select(.kind == "invalid_cid")] | length == 1 and (.[0] |
			.cid == 2 and .attempts == 1 and .attempt.comm == "vsock_holder")) and
		([.cids[] | select(.cid == 2)] == [])' ;;
	late_load) echo '
		ok and .trace.attach.vsock == "fexit" and
		.trace.attach.vsock_since > .trace.started_at and
		(.cids | length == 1 and .[0].cid == 3210 and .[0].bound_at != null) and
		.cids[0].binder.pid as $h |
		(conflicts | length == 1 and .[0].classification == "live_duplicate" and
			.[0].attempts == 1 and .[0].holder[0].pid == $h)' ;;
	spinning | spinning_threads)
		local mode='.trace.attach.uffd != "unavailable"'
		[ "$1" = spinning_threads ] && mode='.trace.attach.uffd == "fexit"'
		echo "
		ok and $mode and"'
		(orphans | length == 1 and (.[0] |
			.state == "spinning" and .guest.comm == "firecracker" and
			.pager.comm == "hypeman-uffd-pa" and .pager.exit.signal == 9 and
			.uffd.registered_bytes > 0 and .cpu_pct >= 90 and
			.threads[0].comm == "fc_vcpu 1" and .restarted_pager == null and
			.resolved_at == null and ([.history[].state] == ["pager_lost", "spinning"]))) and
		.uffds[0].state == "spinning"' ;;
	stalled | stalled_no_fentry)
		local mode='.trace.attach.uffd != "unavailable"'
		[ "$1" = stalled_no_fentry ] &&
			mode='.trace.attach.uffd == "iter" and .trace.attach.process == "raw_tp"'
		echo "
		ok and $mode and
		(orphans | length == 1 and (.[0] |
			.state == \"stalled\" and .guest.comm == \"firecracker\" and
			.pager.exit.signal == 9 and .cpu_pct < 10 and .uffd.total >= 1 and
			.resolved_at == null)) and
		.uffds[0].state == \"stalled\"" ;;
	restarted_pager) echo '
		ok and
		(orphans | length == 1 and (.[0] |
			.state == "stalled" and .resolved_at == null and .restarted_pager != null and
			.restarted_pager.pid != .pager.pid and
			.note == "pager restarted (pid \(.restarted_pager.pid)) but never served this guest"))' ;;
	busy_pager_alive) echo '
		ok and orphans == [] and
		(.uffds | length == 1 and (.[0] |
			.state == "served" and .pages_served >= 12 and .handlers[0].holding))' ;;
	busy_pager_alive_threads) echo '
		ok and .trace.attach.uffd == "fexit" and orphans == [] and
		(.uffds | length == 1 and (.[0] |
			.state == "served" and .pages_served_from == "ioctls" and .pages_served >= 12 and
			.handlers[0].holding and .handlers[0].serving_ioctls >= 12 and
			.handlers[0].served_bytes >= 12 * 4096 and .last_served_at != null))' ;;
	unregistered_then_pager_exit) echo '
		ok and orphans == [] and
		(.uffds | length == 1 and (.[0] |
			.registered_bytes == 0 and .handlers[0].holding == false))' ;;
	pid_filter_guest_exits) echo '
		ok and orphans == [] and ([.findings[] | select(.kind == "vmm_leak")] == []) and
		(.uffds | length == 1 and (.[0] |
			.state == "released" and .owner.comm == "firecracker" and
			.handlers[0].comm == "hypeman-uffd-pa" and .handlers[0].exited_at != null))' ;;
	vmm_exit_first) echo '
		ok and orphans == [] and
		(.uffds | length == 1 and .[0].state == "released")' ;;
	*) return 1 ;;
	esac
}

# corpus_fact_check SCENARIO REPORT: jq -e the fact; on failure show what the report says.
corpus_fact_check() {
	local fact
	fact=$(corpus_fact "$1") || {
		echo "no key fact for scenario '$1'" >&2
		return 1
	}
	jq -e "$CORPUS_JQ_DEFS $fact" "$2" >/dev/null && return 0
	echo "$1: $2 lacks the key fact:$fact" >&2
	jq -c '.trace.attach, (.findings[] | del(.summary, .story)), .uffds[]?' "$2" >&2
	return 1
}
