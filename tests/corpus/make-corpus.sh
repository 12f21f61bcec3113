#!/usr/bin/env bash
# tests/corpus/make-corpus.sh: regenerate the regression corpus (tests/corpus/README.md).
#
#   make-corpus.sh [CAPTURE...]   capture again (CAPTURE: 6.1/NAME, 6.12/NAME or host/NAME;
#                                 default: every one), then write the golden reports of all
#   make-corpus.sh --golden       only write every golden report again, from the committed
#                                 captures (no VM, no root): after a report or schema change
#   make-corpus.sh --in-vm OUT SCENARIO...   (inside tests/vm/vm.sh) record each SCENARIO
#
# `make corpus` runs the first form after building cidtrace and the fixtures. The 6.1 and 6.12
# captures are taken in tests/vm VMs (two boots per kernel: with vhost_vsock, and without it
# for late_load); the host ones here, with /dev/kvm. Needs root. Nothing in tests/corpus
# changes unless every capture asked for succeeded.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
CORPUS=$ROOT/tests/corpus
RECORD=$CORPUS/record.sh
VM=$ROOT/tests/vm/vm.sh
KERNELS=(6.1 6.12)

say() { echo "make-corpus: $*" >&2; }
die() {
	say "$*"
	exit 1
}

# --in-vm OUT SCENARIO...: every scenario, even after a failure; the status says if any failed.
if [ "${1:-}" = --in-vm ]; then
	out=$2
	shift 2
	rc=0
	for s in "$@"; do
		"$RECORD" "$s" "$out" || {
			say "$(uname -r): $s failed"
			rc=1
		}
	done
	exit $rc
fi

# golden DIR/NAME: the committed capture's replay, pretty-printed with sorted keys.
golden() {
	local raw tmp
	raw="$CORPUS/$1.raw.gz"
	tmp=$(mktemp -d /tmp/cidtrace-golden.XXXXXX)
	gzip -dc "$raw" >"$tmp/cap.raw" &&
		"$ROOT/cidtrace" replay "$tmp/cap.raw" -o "$tmp/report.json" -q &&
		jq -S . "$tmp/report.json" >"$CORPUS/$1.json"
	local rc=$?
	rm -rf "$tmp"
	[ $rc -eq 0 ] || say "$1: the replay of $raw failed"
	return $rc
}

all_goldens() {
	local f rc=0
	for f in "$CORPUS"/*/*.raw.gz; do
		f=${f#"$CORPUS/"}
		golden "${f%.raw.gz}" || rc=1
	done
	return $rc
}

[ -x "$ROOT/cidtrace" ] || die "no ./cidtrace: run make"
if [ "${1:-}" = --golden ]; then
	all_goldens
	exit
fi
[ "$(id -u)" -eq 0 ] || die "needs root (cidtrace record, and the VMs)"

# What to capture: DIR/NAME pairs.
wanted=("$@")
if [ ${#wanted[@]} -eq 0 ]; then
	for k in "${KERNELS[@]}"; do
		for s in $("$RECORD" --list vm) $("$RECORD" --list vm-late); do wanted+=("$k/$s"); done
	done
	for s in $("$RECORD" --list host); do wanted+=("host/$s"); done
fi
vm_list=" $("$RECORD" --list vm | tr '\n' ' ')"
late_list=" $("$RECORD" --list vm-late | tr '\n' ' ')"
host_list=" $("$RECORD" --list host | tr '\n' ' ')"

stage=$(mktemp -d "$ROOT/build/corpus.XXXXXX") || die "cannot make a staging dir under build/"
trap 'rm -rf "$stage"' EXIT
failed=0

# boot KERNEL [--no-vsock] SCENARIO...: one VM, each scenario recorded into $stage/KERNEL.
boot() {
	local k=$1 opts=() rc
	shift
	if [ "${1:-}" = --no-vsock ]; then
		opts=(--no-vsock)
		shift
	fi
	[ $# -gt 0 ] || return 0
	mkdir -p "$stage/$k"
	say "$k: booting ${opts[*]} for $*"
	CIDTRACE_VM_OUT="$stage/$k" "$VM" run "$k" "${opts[@]}" --timeout 1800 -- \
		"$CORPUS/make-corpus.sh" --in-vm "$stage/$k" "$@"
	rc=$?
	# 125: the VM itself failed (a TCG guest now and then oopses while booting): once more,
	# for what it did not capture.
	if [ $rc -eq 125 ]; then
		local again=() s
		for s in "$@"; do [ -e "$stage/$k/$s.raw" ] || again+=("$s"); done
		say "$k: the VM failed; booting again for ${again[*]}"
		CIDTRACE_VM_OUT="$stage/$k" "$VM" run "$k" "${opts[@]}" --timeout 1800 -- \
			"$CORPUS/make-corpus.sh" --in-vm "$stage/$k" "${again[@]}"
		rc=$?
	fi
	[ $rc -eq 0 ] || failed=1
}

for k in "${KERNELS[@]}"; do
	vsock=() late=()
	for w in "${wanted[@]}"; do
		[ "${w%%/*}" = "$k" ] || continue
		s=${w#*/}
		if [[ "$vm_list" == *" $s "* ]]; then
			vsock+=("$s")
		elif [[ "$late_list" == *" $s "* ]]; then
			late+=("$s")
		else
			die "$w: no such VM scenario"
		fi
	done
	boot "$k" "${vsock[@]}"
	boot "$k" --no-vsock "${late[@]}"
done
for w in "${wanted[@]}"; do
	case $w in
	host/*)
		[[ "$host_list" == *" ${w#host/} "* ]] || die "$w: no such host scenario"
		mkdir -p "$stage/host"
		"$RECORD" "${w#host/}" "$stage/host" || failed=1
		;;
	6.1/* | 6.12/*) ;;
	*) die "$w: captures live in 6.1/, 6.12/ or host/" ;;
	esac
done

missing=0
for w in "${wanted[@]}"; do
	[ -s "$stage/$w.raw" ] || {
		say "$w: not captured"
		missing=1
	}
done
if [ $failed -ne 0 ] || [ $missing -ne 0 ]; then
	die "some captures failed; tests/corpus is unchanged"
fi

for w in "${wanted[@]}"; do
	mkdir -p "$CORPUS/${w%%/*}"
	gzip -9n <"$stage/$w.raw" >"$CORPUS/$w.raw.gz" || die "$w: gzip failed"
done
all_goldens || die "a golden report could not be written"
say "done: $(du -sh --apparent-size "$CORPUS" | cut -f1) in tests/corpus; review with git diff --stat"
