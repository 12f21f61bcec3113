#!/usr/bin/env bash
# Install every Debian package cidtrace needs to build, test and benchmark. Idempotent: only
# what is missing is installed, and apt's lists are refreshed only then.
set -euo pipefail

pkgs=(
	make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libjson-c-dev # build
	bats jq util-linux procps python3-minimal groff-base bsdextrautils strace time # tests
	chromium                                                                  # HTML report test
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd                    # VM kernels
	bpftrace                                                                  # bench baseline
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}; run: sudo $0" >&2
	exit 3
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
