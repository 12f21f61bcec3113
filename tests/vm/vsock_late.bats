#!/usr/bin/env bats
# vhost_vsock loads after cidtrace started (its first open autoloads it): cidtrace starts on
# the syscall tracepoints, switches to the precise hooks, and misses nothing in between.
# Needs a boot without the module: tests/vm/vm.sh run <kernel> --no-vsock.

load ../bats/helper

HOLDER="$BATS_TEST_DIRNAME/../../build/fixtures/vsock_holder"

@test "module loaded after the start: precise mode reached, the first bind not missed" {
	[ ! -e /sys/module/vhost_vsock ] || skip "vhost_vsock already loaded (boot with --no-vsock)"
	[ -e /dev/vhost-vsock ] || skip "no /dev/vhost-vsock"
	start_record --scope "$D"
	rq '.trace.attach.vsock == "tracepoint"'
	cp "$HOLDER" "$D/vsock_holder"
	"$D/vsock_holder" --ready "$T/holder.ready" 31 >/dev/null 3>&- &
	wait_file "$T/holder.ready"
	holder=$(cat "$T/holder.ready")
	run "$D/vsock_holder" --no-hold 31
	[ "$status" -eq 98 ]
	stop_record
	[ -e /sys/module/vhost_vsock ]
	rq '.trace.attach.vsock == "fexit" and .trace.attach.vsock_since > .trace.started_at'
	rq --argjson h "$holder" '.cids | length == 1 and .[0].cid == 31 and .[0].binder.pid == $h and .[0].bound_at != null'
	rq --argjson h "$holder" '[.findings[] | select(.kind == "cid_conflict")] | length == 1 and .[0].attempts == 1 and .[0].holder[0].pid == $h and .[0].classification == "live_duplicate"'
}
