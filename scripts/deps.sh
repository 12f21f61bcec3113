#!/usr/bin/env bash
# Install every Debian package cidtrace needs to build, test and benchmark. Idempotent: only
# what is missing is installed, and apt's lists are refreshed only then.
set -euo pipefail

pkgs=(
	make gcc clang llvm bpftool libbpf-dev libelf-dev zlib1g-dev libjson-c-dev # build
	bats jq util-linux procps python3-minimal groff-base bsdextrautils strace time logrotate # tests
	chromium                                                                  # HTML report test
	systemd-container                                                         # a real container runtime (nspawn)
	qemu-system-x86 busybox-static cpio kmod xz-utils zstd                    # VM kernels
	bpftrace                                                                  # bench baseline
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# tests/bats/fleet.bats checks examples/prometheus/ with promtool, which only Debian's
# `prometheus` package has. Installing that package would also install and start a Prometheus
# server wherever systemd runs (a service, a listening port, a data directory), so only
# promtool is taken from it: the .deb is downloaded and unpacked aside, never installed.
# promtool is a static Go binary that needs nothing but libc.
need_promtool=false
command -v promtool >/dev/null || need_promtool=true
if [ ${#missing[@]} -eq 0 ] && ! $need_promtool; then
	echo "deps: all installed"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing ${missing[*]}$($need_promtool && echo " promtool"); run: sudo $0" >&2
	exit 3
fi
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if $need_promtool; then
	echo "deps: installing promtool (from the prometheus package, unpacked aside)"
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	# apt downloads as the unprivileged _apt user, which must be able to write there
	chown _apt "$tmp" 2>/dev/null || true # else it downloads as root, with a warning
	(cd "$tmp" && apt-get download -qq prometheus) ||
		{ apt-get update -qq && (cd "$tmp" && apt-get download -qq prometheus); }
	dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
	install -D -m 0755 "$tmp/root/usr/bin/promtool" /usr/local/bin/promtool
	promtool --version | head -1
fi
