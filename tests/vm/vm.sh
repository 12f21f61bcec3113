#!/usr/bin/env bash
# tests/vm/vm.sh - boot Debian kernels under QEMU (TCG) and run a command inside.
#
# Why this exists: cidtrace traces vhost-vsock, but the host/CI kernel has no
# vhost_vsock module. So tests run inside small VMs that boot stock Debian
# kernels (6.1 = bookworm, 6.12 = bookworm security/backports) with this
# machine's root filesystem mounted read-only over virtio-9p. Host binaries
# (bash, qemu, bats, bpftool, bpftrace, the repo's build) run inside unchanged.
#
# Usage:
#   vm.sh fetch                     download + unpack the newest 6.1 and 6.12
#                                   kernels into the cache (idempotent); where
#                                   that fails, a cached kernel of the series
#                                   will do; exits non-zero if a series has none
#   vm.sh kernels                   print cached kernel releases, one per line
#   vm.sh run KVER_PREFIX [--no-vsock] [--mem MB] [--timeout SEC] -- CMD [ARGS...]
#                                   boot the cached kernel whose release starts
#                                   with KVER_PREFIX (e.g. 6.1, 6.12), run CMD as
#                                   root in $PWD, relay its stdout+stderr to our
#                                   stdout and exit with its status (124 if the
#                                   VM hit --timeout, 125 if the VM itself failed).
#
# Environment:
#   CIDTRACE_VM_CACHE  cache directory (default /var/cache/cidtrace-vm); kept
#                      outside the repo so fresh clones reuse downloads.
#   CIDTRACE_VM_OUT    optional host directory shared read-write at the same
#                      path inside the VM (for reports the host reads back).
#   CIDTRACE_VM_KEEP   if set, keep the per-run directory (console.log with the
#                      guest's uptime at command start/exit, qemu.log, out).
#   CIDTRACE_VM_APPEND extra kernel command line (e.g. "loglevel=7" to debug boot).
#   CIDTRACE_VM_VERBOSE  if set, report the VM's wall time on stderr.
#   CIDTRACE_*, PATH   passed through to CMD inside the VM (where CIDTRACE_VM=1
#                      and CIDTRACE_VM_KERNEL=<release> are also set).
#
# Cache layout:
#   kernels/<release>/vmlinuz, config, lib/modules/<release>/...
#   kernels/<release>/.complete      "package version" once fully unpacked
#   initramfs/<release>-<hash>.cpio  hash = sha256 of this script (rebuilt on edit)

set -euo pipefail

SCRIPT_PATH="$(readlink -f "${BASH_SOURCE[0]}")"
readonly SCRIPT_PATH
readonly CACHE="${CIDTRACE_VM_CACHE:-/var/cache/cidtrace-vm}"
readonly KCACHE="$CACHE/kernels"
readonly ICACHE="$CACHE/initramfs"
# Kernel series we test on; each maps to an apt-cache name regex (see pkg_regex).
readonly SERIES=(6.1 6.12)
# 9p transport options shared by every mount. 512 KiB is the largest msize the
# virtio transport accepts on these kernels and makes big reads much cheaper.
readonly P9OPTS="trans=virtio,version=9p2000.L,msize=512000"

log() { printf 'vm.sh: %s\n' "$*" >&2; }
die() {
	log "$*"
	exit 1
}

usage() {
	sed -n '2,/^$/{s/^# \{0,1\}//;p}' "$SCRIPT_PATH" >&2
	exit 2
}

# --------------------------------------------------------------------------
# Host prerequisites
# --------------------------------------------------------------------------

apt_updated=0
apt_update() {
	# apt-cache knows nothing about packages until the lists exist; only
	# refresh once per invocation.
	if ((apt_updated == 0)); then
		log "running apt-get update"
		apt-get update -qq >&2
		apt_updated=1
	fi
}

pkg_installed() {
	[[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

# Install the Debian packages the harness relies on, if missing. kmod matters
# twice: depmod builds modules.dep for the cached trees on the host, and the
# host's modprobe is what runs inside the VM (the VM's root *is* the host's).
ensure_host_tools() {
	local -a want=() pkg
	local p
	for p in qemu-system-x86 busybox-static cpio kmod xz-utils zstd; do
		pkg_installed "$p" || want+=("$p")
	done
	((${#want[@]} == 0)) && return 0
	[[ $EUID -eq 0 ]] || die "missing packages (${want[*]}); run as root to install them"
	log "installing ${want[*]}"
	pkg=("${want[@]}")
	if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkg[@]}" >&2; then
		apt_update
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkg[@]}" >&2
	fi
}

# --------------------------------------------------------------------------
# fetch / kernels
# --------------------------------------------------------------------------

# apt-cache search regex for the generic amd64 image of a series. The
# "-unsigned" packages carry the same kernel as the signed ones, without the
# EFI signature wrapper we do not need.
pkg_regex() {
	case "$1" in
	6.1) echo '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' ;;
	6.12) echo '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
	*) die "unknown series $1" ;;
	esac
}

# Does kernel release $2 belong to series/prefix $1? "6.1" must not match
# "6.12...", so the prefix has to be followed by '.', '-', '+' or the end.
release_matches() {
	local prefix="$1" rel="$2"
	[[ "$rel" == "$prefix" || "$rel" == "$prefix".* || "$rel" == "$prefix"-* || "$rel" == "$prefix"+* ]]
}

cached_releases() {
	local d
	for d in "$KCACHE"/*/; do
		if [[ -f "$d.complete" ]]; then basename "$d"; fi
	done | sort -V
}

# Newest cached release matching a series/prefix, or nothing.
latest_cached() {
	local r best=""
	while read -r r; do
		if release_matches "$1" "$r"; then best="$r"; fi
	done < <(cached_releases)
	echo "$best"
}

# Newest package name for a series, or nothing.
resolve_pkg() {
	apt-cache search --names-only "$(pkg_regex "$1")" 2>/dev/null |
		awk '{print $1}' | sort -V | tail -n 1
}

candidate_version() {
	apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" {print $2}'
}

fetch_series() {
	local series="$1" pkg ver rel kdir tmp deb
	pkg="$(resolve_pkg "$series")"
	if [[ -z "$pkg" ]]; then
		apt_update
		pkg="$(resolve_pkg "$series")"
	fi
	if [[ -z "$pkg" ]]; then
		# No network / no such package: fall back to what is cached.
		rel="$(latest_cached "$series")"
		if [[ -n "$rel" ]]; then
			log "apt knows no package for $series; using cached $rel"
			echo "$series: $rel (cached, $(cat "$KCACHE/$rel/.complete"))"
			return 0
		fi
		log "no package matches $(pkg_regex "$series"); apt-cache policy says:"
		apt-cache policy 2>&1 | sed 's/^/  /' >&2
		die "cannot resolve a $series kernel package"
	fi
	ver="$(candidate_version "$pkg")"
	[[ -n "$ver" && "$ver" != "(none)" ]] || die "$pkg has no installable candidate"
	# Debian names the image package after the kernel release it contains.
	rel="${pkg#linux-image-}"
	rel="${rel%-unsigned}"
	kdir="$KCACHE/$rel"

	if [[ -f "$kdir/.complete" && "$(cat "$kdir/.complete")" == "$pkg $ver" ]]; then
		echo "$series: $rel ($pkg $ver, cached)"
	else
		log "downloading $pkg $ver"
		tmp="$(mktemp -d "$KCACHE/.tmp-$rel.XXXXXX")"
		# Sandbox user root: the cache is root-owned, _apt could not write it.
		if ! (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver" >&2); then
			apt_update # stale lists point at files the mirror no longer has
			(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg=$ver" >&2)
		fi
		deb="$(find "$tmp" -maxdepth 1 -name '*.deb' -print -quit)"
		[[ -n "$deb" ]] || die "apt-get download produced no .deb for $pkg"
		mkdir "$tmp/x"
		dpkg-deb -x "$deb" "$tmp/x"
		[[ -f "$tmp/x/boot/vmlinuz-$rel" && -d "$tmp/x/lib/modules/$rel" ]] ||
			die "$pkg does not contain boot/vmlinuz-$rel and lib/modules/$rel"
		mkdir -p "$tmp/k/lib/modules"
		mv "$tmp/x/boot/vmlinuz-$rel" "$tmp/k/vmlinuz"
		mv "$tmp/x/boot/config-$rel" "$tmp/k/config"
		mv "$tmp/x/lib/modules/$rel" "$tmp/k/lib/modules/$rel"
		# The .deb ships no modules.dep (its postinst runs depmod); generate
		# it so modprobe inside the VM, and --show-depends here, work.
		depmod -a -b "$tmp/k" "$rel"
		rm -rf "$kdir"
		mv "$tmp/k" "$kdir"
		rm -rf "$tmp"
		echo "$pkg $ver" >"$kdir/.complete"
		echo "$series: $rel ($pkg $ver, downloaded)"
	fi

	# Keep one kernel per series so `kernels` (and tests looping over it)
	# see exactly the newest one.
	local old
	while read -r old; do
		if [[ "$old" != "$rel" ]] && release_matches "$series" "$old"; then
			log "removing superseded $old"
			rm -rf "${KCACHE:?}/$old" "$ICACHE/$old"-*.cpio
		fi
	done < <(cached_releases)
}

cmd_fetch() {
	(($# == 0)) || usage
	ensure_host_tools
	mkdir -p "$KCACHE" "$ICACHE"
	# Serialise concurrent fetches (parallel CI jobs sharing the cache).
	exec 9>"$CACHE/.lock"
	flock 9
	rm -rf "$KCACHE"/.tmp-* # leftovers of an interrupted fetch
	local s rel rc missing=()
	for s in "${SERIES[@]}"; do
		# A failed fetch (no network, a mirror that dropped the version we resolved) must
		# not lose a series that is cached: use the cached kernel and say so. The subshell
		# keeps errexit inside fetch_series, which a tested command would switch off.
		set +e
		(
			set -e
			fetch_series "$s"
		)
		rc=$?
		set -e
		((rc == 0)) && continue
		rel="$(latest_cached "$s")"
		if [[ -n "$rel" ]]; then
			log "fetching $s failed; using cached $rel"
			echo "$s: $rel (cached, $(cat "$KCACHE/$rel/.complete"); fetch failed)"
		else
			missing+=("$s")
		fi
	done
	((${#missing[@]} == 0)) || die "no kernel for ${missing[*]}: fetch failed and none is cached"
}

cmd_kernels() {
	(($# == 0)) || usage
	[[ -d "$KCACHE" ]] || return 0
	cached_releases
}

# --------------------------------------------------------------------------
# initramfs
# --------------------------------------------------------------------------

# Stage 1, /init of the initramfs (busybox sh, PID 1). It only does what needs
# a tiny userspace: load virtio/9p modules, mount the host root, give it a
# /lib/modules for this kernel, then switch_root into it and exec stage 2
# (STAGE2 below, delivered per run through the "cidrun" 9p share).
IFS= read -r -d '' INIT_SCRIPT <<'EOF' || true
#!/bin/busybox sh
export PATH=/bin
/bin/busybox --install -s /bin

fail() {
	echo "CIDTRACE-VM-INIT-FAILED: $*" >/dev/console
	poweroff -f
	sleep 5
	echo o >/proc/sysrq-trigger
	sleep 60
}

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

# Debian builds virtio_pci and 9p as modules; they were decompressed and put
# in dependency order at build time (busybox insmod cannot read .ko.xz).
while read -r m; do
	insmod "/lib/modules/$m" || fail "insmod $m"
done </modules.list

P9OPTS=@P9OPTS@
# The 9p devices are probed synchronously by insmod, but be tolerant anyway.
i=0
until mount -t 9p -o "$P9OPTS,ro,cache=loose" hostroot /newroot; do
	i=$((i + 1))
	[ $i -lt 20 ] || fail "cannot mount hostroot"
	sleep 0.1
done
mount -t tmpfs -o mode=0755,nosuid,nodev tmpfs /newroot/run || fail "tmpfs /run"
mkdir -p /newroot/run/cidtrace-vm
mount -t 9p -o "$P9OPTS,cache=mmap" cidrun /newroot/run/cidtrace-vm || fail "cannot mount cidrun"

# /lib/modules/<release> must exist in the new root so modprobe and kernel
# module autoloading work. If the host has a /lib/modules directory, mount the
# cached tree over it; otherwise create one through a tmpfs-backed overlay of
# its parent (the host root is read-only, we cannot mkdir there).
mods=/newroot/lib/modules
if [ ! -d "$mods" ]; then
	parent=$(readlink -f /newroot/lib) # /newroot/usr/lib on merged-/usr hosts
	while read -r m; do
		insmod "/lib/modules/$m" || fail "insmod $m"
	done </modules-overlay.list
	mkdir -p /newroot/run/cidtrace-vm-ovl/upper /newroot/run/cidtrace-vm-ovl/work
	mount -t overlay overlay \
		-o "lowerdir=$parent,upperdir=/newroot/run/cidtrace-vm-ovl/upper,workdir=/newroot/run/cidtrace-vm-ovl/work" \
		"$parent" || fail "overlay on $parent"
	mkdir -p "$parent/modules" || fail "mkdir $parent/modules"
	mods="$parent/modules"
fi
mount -t 9p -o "$P9OPTS,ro,cache=loose" cidmods "$mods" || fail "cannot mount cidmods"

mount -o move /dev /newroot/dev
mount -o move /proc /newroot/proc
mount -o move /sys /newroot/sys
# shellcheck disable=SC2093 # only reached if switch_root fails
exec switch_root /newroot /bin/bash /run/cidtrace-vm/stage2.sh
fail "switch_root"
EOF

# Stage 2 runs as PID 1 in the host root (host bash). Per-run parameters come
# from params.sh on the same share. CMD's output goes to a regular file on the
# share (not a tty: CMD behaves as in CI, and background children that keep
# the fd open cannot block us); the host streams that file.
IFS= read -r -d '' STAGE2_SCRIPT <<'EOF' || true
#!/bin/bash
set -uo pipefail
R=/run/cidtrace-vm
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
exec </dev/null >/dev/console 2>&1

halt_vm() {
	sync
	/bin/busybox poweroff -f
	echo o >/proc/sysrq-trigger # fallback
	sleep 60
}
fail() {
	echo "CIDTRACE-VM-SETUP-FAILED: $*"
	printf '%s\n' "$*" >>"$R/setup-error"
	halt_vm
}

# shellcheck source=/dev/null
. "$R/params.sh" || fail "cannot read params.sh"

mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=0620,ptmxmode=0666 devpts /dev/pts || fail "devpts"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm || fail "tmpfs /dev/shm"
# devtmpfs lacks the fd symlinks udev would add; bash <(...) needs /dev/fd.
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp || fail "tmpfs /tmp"
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /var/tmp || fail "tmpfs /var/tmp"
mkdir -p /run/lock /run/shm
# bpffs is handy for pinning; tracefs is deliberately left unmounted (the
# tool under test mounts it itself).
mount -t bpf -o mode=0700 bpf /sys/fs/bpf || fail "bpffs"
# cgroup v2 where a systemd host has it, for the tests that make cgroups of their own
# (tests/bats/containers.bats); not fatal: the other suites do without.
if ! mountpoint -q /sys/fs/cgroup; then
	mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup ||
		echo "cidtrace-vm: no cgroup2 at /sys/fs/cgroup"
fi
hostname cidtrace-vm 2>/dev/null || true
ip link set lo up 2>/dev/null || true

# The caller's directory lies under one of the tmpfs we just mounted: mount
# the host copy back (read-only) at the same path.
if [[ -n "$VM_PWD_SHARE" ]]; then
	{ mkdir -p "$VM_PWD_SHARE" && mount -t 9p -o "$VM_P9OPTS,ro,cache=loose" cidpwd "$VM_PWD_SHARE"; } ||
		fail "cannot mount $VM_PWD_SHARE"
fi
if [[ -n "$VM_OUT" ]]; then
	{ mkdir -p "$VM_OUT" && mount -t 9p -o "$VM_P9OPTS,cache=mmap" cidout "$VM_OUT"; } ||
		fail "cannot mount output dir $VM_OUT"
fi

# Kernel module autoloading (request_module) runs this binary.
command -v modprobe >/proc/sys/kernel/modprobe || fail "cannot set kernel.modprobe"
[[ -f "/lib/modules/$(uname -r)/modules.dep" ]] || fail "/lib/modules/$(uname -r) missing"

if [[ "$VM_VSOCK" == 1 ]]; then
	modprobe vhost_vsock || fail "modprobe vhost_vsock"
else
	# Leave vhost_vsock unloaded, but provide the node so that the first
	# open() autoloads it via the char-major-10-241 alias (udev's static
	# nodes would do this on a normal system).
	[[ -e /dev/vhost-vsock ]] || mknod -m 0600 /dev/vhost-vsock c 10 241 || fail "mknod /dev/vhost-vsock"
fi
# Same for vhost-net, harmless and sometimes wanted by QEMU-based tests.
[[ -e /dev/vhost-net ]] || mknod -m 0600 /dev/vhost-net c 10 238 || true

cd "$VM_PWD" || fail "cannot cd to $VM_PWD (is it visible in the host root?)"
read -r up _ </proc/uptime
echo "CIDTRACE-VM-CMD-START uptime=${up}s"
env -i "${VM_ENV[@]}" "${VM_CMD[@]}" >>"$R/out" 2>&1 </dev/null
rc=$?
read -r up _ </proc/uptime
echo "CIDTRACE-VM-CMD-EXIT $rc uptime=${up}s"
echo "$rc" >"$R/rc.tmp" && mv "$R/rc.tmp" "$R/rc"
halt_vm
EOF

# Modules the initramfs needs (virtio PCI transport, 9p client) and, only when
# the host lacks /lib/modules, overlayfs.
readonly INITRD_MODULES=(virtio_pci 9pnet_virtio 9p)
readonly INITRD_OVERLAY_MODULES=(overlay)

# Print the .ko paths (dependencies first) needed for the given modules; built-in
# ones are skipped. Uses the cached tree's modules.dep via modprobe -d/-S.
module_closure() {
	local kdir="$1" rel="$2" m
	shift 2
	for m in "$@"; do
		modprobe -d "$kdir" -S "$rel" --show-depends "$m" ||
			die "module $m not found for $rel"
	done | awk '$1 == "insmod" && !seen[$2]++ {print $2}'
}

# Copy modules into the initramfs staging dir, decompressed, and write the
# load-order list file.
stage_modules() {
	local staging="$1" list="$2" f base
	shift 2
	: >"$staging/$list"
	for f in "$@"; do
		base="$(basename "$f")"
		case "$f" in
		*.ko.xz) xz -dc "$f" >"$staging/lib/modules/${base%.xz}" ;;
		*.ko.zst) zstd -qdc "$f" >"$staging/lib/modules/${base%.zst}" ;;
		*.ko.gz) gzip -dc "$f" >"$staging/lib/modules/${base%.gz}" ;;
		*.ko) cp "$f" "$staging/lib/modules/$base" ;;
		*) die "unexpected module file $f" ;;
		esac
		echo "${base%.ko*}.ko" >>"$staging/$list"
	done
}

# Echo the path of the initramfs for a release, building it if needed.
ensure_initramfs() {
	local rel="$1" kdir="$KCACHE/$1" hash out staging
	hash="$(sha256sum "$SCRIPT_PATH" | cut -c1-12)"
	out="$ICACHE/$rel-$hash.cpio"
	if [[ -f "$out" ]]; then
		echo "$out"
		return 0
	fi
	if [[ ! -x /bin/busybox ]] || ldd /bin/busybox >/dev/null 2>&1; then
		die "/bin/busybox missing or not static; run '$0 fetch' (installs busybox-static)"
	fi
	mkdir -p "$ICACHE"
	rm -rf "$ICACHE"/.staging.* # leftovers of an interrupted build (we hold the lock)
	staging="$(mktemp -d "$ICACHE/.staging.XXXXXX")"
	mkdir -p "$staging"/{bin,dev,proc,sys,newroot,lib/modules}
	cp /bin/busybox "$staging/bin/busybox"
	local mods ovl
	# Assignments (not process substitution) so a failure aborts under set -e.
	mods="$(module_closure "$kdir" "$rel" "${INITRD_MODULES[@]}")"
	ovl="$(module_closure "$kdir" "$rel" "${INITRD_OVERLAY_MODULES[@]}")"
	# shellcheck disable=SC2086 # paths from modules.dep contain no spaces
	stage_modules "$staging" modules.list $mods
	# shellcheck disable=SC2086
	stage_modules "$staging" modules-overlay.list $ovl
	printf '%s\n' "${INIT_SCRIPT//@P9OPTS@/$P9OPTS}" >"$staging/init"
	chmod 0755 "$staging/init"
	# Not strictly needed (the kernel's built-in initramfs has it), but init
	# must have a console even if that ever changes.
	mknod -m 0600 "$staging/dev/console" c 5 1 2>/dev/null || true
	(cd "$staging" && find . -print0 | LC_ALL=C sort -z |
		cpio --quiet --null -o -H newc -R 0:0 --reproducible) >"$staging.cpio"
	mv "$staging.cpio" "$out"
	rm -rf "$staging"
	# Drop initramfs images built by older versions of this script.
	find "$ICACHE" -maxdepth 1 -name "$rel-*.cpio" ! -name "$(basename "$out")" -delete
	echo "$out"
}

# --------------------------------------------------------------------------
# run
# --------------------------------------------------------------------------

# If $1 lies under a directory that the VM replaces with a fresh tmpfs, print
# the host directory to share back (the first component below that tmpfs).
masked_share() {
	local p="$1" m rest
	for m in /tmp /var/tmp /run /dev/shm; do
		if [[ "$p" == "$m" ]]; then
			echo "$m"
			return 0
		elif [[ "$p" == "$m"/* ]]; then
			rest="${p#"$m"/}"
			echo "$m/${rest%%/*}"
			return 0
		fi
	done
}

cmd_run() {
	(($# >= 1)) || usage
	local prefix="$1" vsock=1 mem=1024 timeout=300
	shift
	while (($# > 0)); do
		case "$1" in
		--no-vsock) vsock=0 ;;
		--mem)
			mem="${2:?--mem needs MB}"
			shift
			;;
		--timeout)
			timeout="${2:?--timeout needs seconds}"
			shift
			;;
		--)
			shift
			break
			;;
		*)
			log "unknown option: $1"
			usage
			;;
		esac
		shift
	done
	(($# > 0)) || usage
	[[ "$mem" =~ ^[0-9]+$ && "$timeout" =~ ^[0-9]+$ ]] || die "--mem/--timeout take integers"

	local rel
	rel="$(latest_cached "$prefix")"
	[[ -n "$rel" ]] || die "no cached kernel matches '$prefix' (cached: $(cmd_kernels | paste -sd ' ' -)); run '$0 fetch'"
	command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing; run '$0 fetch'"
	command -v modprobe >/dev/null || die "modprobe (kmod) missing on the host; run '$0 fetch'"

	local kdir="$KCACHE/$rel" initrd
	initrd="$(
		exec 9>"$CACHE/.lock"
		flock 9
		ensure_initramfs "$rel"
	)"

	local run
	run="$(mktemp -d "${TMPDIR:-/tmp}/cidtrace-vm.XXXXXX")"
	if [[ -n "${CIDTRACE_VM_KEEP:-}" ]]; then
		log "keeping run directory $run (console.log, qemu.log, out, rc)"
	else
		# shellcheck disable=SC2064 # expand $run now
		trap "rm -rf '$run'" EXIT
	fi

	local cwd out_dir="" pwd_share=""
	cwd="$(pwd -P)"
	pwd_share="$(masked_share "$cwd")"
	if [[ -n "${CIDTRACE_VM_OUT:-}" ]]; then
		mkdir -p "$CIDTRACE_VM_OUT"
		out_dir="$(readlink -f "$CIDTRACE_VM_OUT")"
		export CIDTRACE_VM_OUT="$out_dir"
	fi

	# Environment for CMD: CIDTRACE_* and PATH from the caller, plus sane
	# defaults (no TERM: output is not a terminal).
	local -a envv=(HOME=/root USER=root LOGNAME=root SHELL=/bin/bash LANG=C.UTF-8)
	local path="${PATH:-/usr/bin:/bin}" d name
	for d in /usr/local/sbin /usr/sbin /sbin; do
		[[ ":$path:" == *":$d:"* ]] || path="$path:$d"
	done
	envv+=("PATH=$path" CIDTRACE_VM=1 "CIDTRACE_VM_KERNEL=$rel")
	while read -r name; do
		[[ "$name" == CIDTRACE_VM || "$name" == CIDTRACE_VM_KERNEL ]] && continue
		envv+=("$name=${!name}")
	done < <(compgen -e | grep '^CIDTRACE_' || true)

	{
		printf 'VM_P9OPTS=%q\n' "$P9OPTS"
		printf 'VM_PWD=%q\n' "$cwd"
		printf 'VM_PWD_SHARE=%q\n' "$pwd_share"
		printf 'VM_OUT=%q\n' "$out_dir"
		printf 'VM_VSOCK=%q\n' "$vsock"
		printf 'VM_ENV=('
		printf '%q ' "${envv[@]}"
		printf ')\nVM_CMD=('
		printf '%q ' "$@"
		printf ')\n'
	} >"$run/params.sh"
	printf '%s\n' "$STAGE2_SCRIPT" >"$run/stage2.sh"
	: >"$run/out"

	local -a qemu=(
		qemu-system-x86_64
		-accel tcg -cpu max -smp 2 -m "$mem"
		-nographic -no-reboot -nodefaults
		-kernel "$kdir/vmlinuz" -initrd "$initrd"
		# CMD's output travels over 9p, so the console only carries
		# diagnostics: "quiet" keeps boot silent (and fast: serial output is
		# slow under TCG) while loglevel=4 still shows errors, oopses and
		# panics, which we print if the VM dies. panic=-1: a crashing guest
		# reboots at once, and -no-reboot turns that into QEMU exiting
		# instead of waiting for the timeout.
		-append "console=ttyS0 quiet loglevel=4 panic=-1 rdinit=/init ${CIDTRACE_VM_APPEND:-}"
		# Console (kernel + harness messages) goes to a file, never a TTY.
		-serial "file:$run/console.log"
		-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
		-virtfs "local,path=$kdir/lib/modules,mount_tag=cidmods,security_model=none,readonly=on"
		-virtfs "local,path=$run,mount_tag=cidrun,security_model=none"
	)
	if [[ -n "$pwd_share" ]]; then
		qemu+=(-virtfs "local,path=$pwd_share,mount_tag=cidpwd,security_model=none,readonly=on,multidevs=remap")
	fi
	if [[ -n "$out_dir" ]]; then
		qemu+=(-virtfs "local,path=$out_dir,mount_tag=cidout,security_model=none,multidevs=remap")
	fi

	local start=$SECONDS qpid tpid qrc=0
	timeout --kill-after=10 "$timeout" "${qemu[@]}" </dev/null >"$run/qemu.log" 2>&1 &
	qpid=$!
	# Stream CMD's output live; tail exits once QEMU (timeout) has exited.
	tail -c +1 -s 0.2 -f --pid="$qpid" "$run/out" &
	tpid=$!
	# Interrupted: stop QEMU (timeout forwards the signal), then exit; the
	# EXIT trap removes the run directory.
	# shellcheck disable=SC2064
	trap "kill -TERM $qpid 2>/dev/null; wait $tpid 2>/dev/null; exit 130" INT
	# shellcheck disable=SC2064
	trap "kill -TERM $qpid 2>/dev/null; wait $tpid 2>/dev/null; exit 143" TERM
	wait "$qpid" || qrc=$?
	wait "$tpid" || true
	trap - INT TERM

	if ((qrc == 124 || qrc == 137)); then
		log "timeout: VM ($rel) killed after ${timeout}s"
		exit 124
	fi
	if [[ -f "$run/rc" ]]; then
		[[ -n "${CIDTRACE_VM_VERBOSE:-}" ]] && log "$rel: VM ran $((SECONDS - start))s"
		exit "$(cat "$run/rc")"
	fi
	# No exit status: the VM itself failed. Show why.
	log "VM ($rel) did not run the command (qemu exit $qrc)"
	[[ -s "$run/setup-error" ]] && sed 's/^/vm.sh: setup: /' "$run/setup-error" >&2
	if [[ -s "$run/qemu.log" ]]; then
		sed 's/^/vm.sh: qemu: /' "$run/qemu.log" | tail -n 20 >&2
	fi
	# Strip CRs and SeaBIOS' terminal escapes from the console log.
	sed -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1bc//g' "$run/console.log" |
		grep -v -e '^SeaBIOS' -e '^Booting from ROM' -e '^$' | tail -n 40 | sed 's/^/vm.sh: console: /' >&2
	log "(more detail: CIDTRACE_VM_APPEND=loglevel=7 CIDTRACE_VM_KEEP=1)"
	exit 125
}

main() {
	(($# >= 1)) || usage
	local cmd="$1"
	shift
	case "$cmd" in
	fetch) cmd_fetch "$@" ;;
	kernels) cmd_kernels "$@" ;;
	run) cmd_run "$@" ;;
	-h | --help | help) usage ;;
	*) usage ;;
	esac
}

main "$@"
