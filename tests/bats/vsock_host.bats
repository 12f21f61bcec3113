#!/usr/bin/env bats
# CID tracking on a kernel without vhost_vsock (this host): reported unavailable, and none of
# its hooks attached, so unrelated ioctls pay nothing. The real thing runs in tests/vm/.

load helper

@test "without vhost_vsock: CID tracking unavailable, no ioctl tracepoint attached" {
	[ ! -e /sys/module/vhost_vsock ] || skip "vhost_vsock is present on this kernel"
	start_record
	run bpftool prog show
	[ "$status" -eq 0 ]
	[[ "$output" == *"tp_btf_sched_pr"* ]] # the process hooks are there...
	[[ "$output" != *"tracepoint__sys"* ]] # ...the ioctl fallback is not
	[[ "$output" != *"fexit_vhost_vso"* ]]
	stop_record
	rq '.trace.attach.vsock == "unavailable" and .trace.attach.vsock_since == null and .cids == []'
	rq '[.findings[] | select(.kind == "cid_conflict" or .kind == "invalid_cid")] | length == 0'
}

@test "cidtrace cids on a host without vhost_vsock lists nothing and exits 0" {
	[ ! -e /sys/module/vhost_vsock ] || skip "vhost_vsock is present on this kernel"
	run "$CIDTRACE" cids
	[ "$status" -eq 0 ]
	[ "$output" = "no vhost-vsock CIDs bound on this host" ]
	run "$CIDTRACE" cids --json
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '. == []'
}
