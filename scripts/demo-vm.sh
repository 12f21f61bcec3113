#!/usr/bin/env bash
# The second half of `sudo make demo`, run INSIDE a test VM (tests/vm/vm.sh boots a Debian
# kernel that has vhost_vsock): two real QEMUs from two tests ask for the same guest CID.
# The second fails with "Address already in use"; cidtrace names the first as the holder.
set -euo pipefail
cd "$(dirname "$0")/.."

root=$(mktemp -d /tmp/cidtrace-demo-vm.XXXXXX)
trap 'pkill -KILL -f "$root/" 2>/dev/null || true' EXIT
a="$root/TestQEMUVsockBoot4101/001" b="$root/TestQEMUVsockBoot4102/001"
mkdir -p "$a" "$b"
qemu() { # DIR: a QEMU asking for CID 42, its monitor socket in DIR
	qemu-system-x86_64 -accel tcg -S -nodefaults -display none -m 32 \
		-device vhost-vsock-pci,guest-cid=42 \
		-chardev "socket,id=m,path=$1/qemu.sock,server=on,wait=off" -mon chardev=m
}

./cidtrace record -q --scratch-root "$root" -o "$root/report.json" --ready-file "$root/ready" &
tracer=$!
tests/vm/vsock-wait.sh 30 file "$root/ready"
echo "== kernel $(uname -r): first QEMU takes CID 42"
qemu "$a" >"$a/qemu.log" 2>&1 &
tests/vm/vsock-wait.sh 90 monitor "$a/qemu.sock"
echo "== second QEMU asks for CID 42 too"
qemu "$b" 2>&1 | sed 's/^/   qemu: /' || true
kill -TERM "$tracer"
wait "$tracer"
echo
./cidtrace report --no-color "$root/report.json"
