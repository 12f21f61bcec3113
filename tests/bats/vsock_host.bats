#!/usr/bin/env bats
# CID tracking on a kernel where vhost_vsock is not loaded, as `cidtrace doctor` sees it:
# absent (this host: reported unavailable, and none of its hooks attached, so unrelated ioctls
# pay nothing) or loadable (a stock distribution kernel: the ioctl tracepoint watches until
# the module loads). tests/vm/run-suite.sh runs this file in its boot without the module; the
# loaded case is tests/vm/vsock.bats.

load helper
bats_require_minimum_version 1.5.0

setup_file() {
	# absent, loadable or loaded: what cidtrace itself decides from
	VSOCK=$("$CIDTRACE" doctor --json | jq -er '.items[] | select(.item == "vhost_vsock") | .detail')
	export VSOCK
}

need_vsock() { # absent|loadable
	[ "$VSOCK" = "$1" ] || skip "cidtrace doctor says vhost_vsock is $VSOCK here, not $1"
}

# The names of the BPF programs that process $1 holds (through its fds, links included), one
# a line: cidtrace's own, not those of whatever else runs on this host.
progs_of() {
	local ids
	ids=$(sed -n 's/^prog_id:[[:space:]]*//p' "/proc/$1"/fdinfo/* 2>/dev/null | sort -un | paste -sd, -)
	[ -n "$ids" ] || return 1
	bpftool prog show --json | jq -r --argjson ids "[$ids]" '.[] | select(.id | IN($ids[])) | .name'
}

# What doctor says cidtrace attaches for vsock here.
doctor_vsock_hooks() {
	"$CIDTRACE" doctor --json | jq -r '.items[] | select(.item == "hooks: vsock") | .detail'
}

@test "vhost_vsock absent: CID tracking unavailable, no vsock hook attached" {
	need_vsock absent
	start_record
	progs_of "$RPID" >"$T/progs"
	cat "$T/progs"
	grep -qE '^(tp_btf|raw_tp)_sched_pro' "$T/progs" # the process hooks are there...
	run ! grep -qE '^tracepoint__sys' "$T/progs"     # ...the ioctl fallback is not,
	run ! grep -qE '^(fexit|fentry|kprobe|kretprobe)_vhost_vs' "$T/progs" # nor a precise hook
	stop_record
	rq '.trace.attach.vsock == "unavailable" and .trace.attach.vsock_since == null and .cids == []'
	rq '[.findings[] | select(.kind == "cid_conflict" or .kind == "invalid_cid")] | length == 0'
	[ "$(doctor_vsock_hooks)" = unavailable ]
}

@test "vhost_vsock loadable: the ioctl tracepoint watches, and nothing loads the module" {
	need_vsock loadable
	start_record
	progs_of "$RPID" >"$T/progs"
	cat "$T/progs"
	grep -qE '^(tp_btf|raw_tp)_sched_pro' "$T/progs"
	grep -qE '^tracepoint__sys' "$T/progs"  # every ioctl's exit, until the module loads,
	grep -qE '^tp_btf_module_l' "$T/progs"  # which this one watches for
	run ! grep -qE '^(fexit|fentry|kprobe|kretprobe)_vhost_vs' "$T/progs"
	stop_record
	rq '.trace.attach.vsock == "tracepoint" and .trace.attach.vsock_since != null and .cids == []'
	[ "$(doctor_vsock_hooks)" = tracepoint ]
	# neither record nor doctor opened /dev/vhost-vsock, which would have autoloaded it
	[ ! -e /sys/module/vhost_vsock ]
}

@test "cidtrace cids where vhost_vsock is not loaded lists nothing and exits 0" {
	[ "$VSOCK" != loaded ] || skip "vhost_vsock is loaded: tests/vm/vsock.bats lists bound CIDs"
	run "$CIDTRACE" cids
	[ "$status" -eq 0 ]
	[ "$output" = "no vhost-vsock CIDs bound on this host" ]
	run "$CIDTRACE" cids --json
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '. == []'
	[ "$VSOCK" = absent ] || [ ! -e /sys/module/vhost_vsock ]
}
