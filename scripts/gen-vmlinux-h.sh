#!/usr/bin/env bash
# Regenerate vmlinux/x86/vmlinux.h from the running kernel's BTF.
# CO-RE relocations make one header good for every kernel with BTF, so this only needs
# rerunning when cidtrace starts using a type or field the committed header lacks.
set -euo pipefail
cd "$(dirname "$0")/.."
btf=${1:-/sys/kernel/btf/vmlinux}
[ -r "$btf" ] || { echo "gen-vmlinux-h: $btf not readable (kernel without CONFIG_DEBUG_INFO_BTF?)" >&2; exit 3; }
tmp=$(mktemp vmlinux/x86/.vmlinux.h.XXXXXX)
trap 'rm -f "$tmp"' EXIT
bpftool btf dump file "$btf" format c >"$tmp"
mv "$tmp" vmlinux/x86/vmlinux.h
trap - EXIT
echo "wrote vmlinux/x86/vmlinux.h from $btf ($(uname -r))"
