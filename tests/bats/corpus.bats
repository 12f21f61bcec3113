#!/usr/bin/env bats
# The replay regression corpus (tests/corpus/README.md): raw captures of the VM scenarios on
# Debian 6.1 and 6.12 and of the KVM/uffd scenarios on the CI host, replayed offline. Every
# capture must give back its golden report byte for byte (after jq -S) and show its scenario's
# key fact (tests/corpus/facts.bash), so every CID classification and uffd state the corpus
# holds is checked without booting a VM. No root, no BPF: fast.

bats_require_minimum_version 1.5.0

CORPUS="$BATS_TEST_DIRNAME/../corpus"
CIDTRACE="$BATS_TEST_DIRNAME/../../cidtrace"

setup_file() {
	[ "$(getconf PAGESIZE)" = 4096 ] || return 0 # each test skips
	local f name rc
	# Each capture replayed once, for every test: $BATS_FILE_TMPDIR/DIR/NAME.{json,ndjson,err,rc}
	for f in "$CORPUS"/*/*.raw.gz; do
		name=${f#"$CORPUS/"}
		name=${name%.raw.gz}
		mkdir -p "$BATS_FILE_TMPDIR/${name%/*}"
		gzip -dc "$f" >"$BATS_FILE_TMPDIR/$name.raw"
		rc=0
		"$CIDTRACE" replay "$BATS_FILE_TMPDIR/$name.raw" -o "$BATS_FILE_TMPDIR/$name.json" --json \
			>"$BATS_FILE_TMPDIR/$name.ndjson" 2>"$BATS_FILE_TMPDIR/$name.err" || rc=$?
		echo "$rc" >"$BATS_FILE_TMPDIR/$name.rc"
	done
}

setup() {
	[ "$(getconf PAGESIZE)" = 4096 ] || skip "the captures are of a 4 KiB page host"
	. "$CORPUS/facts.bash"
}

# The MANIFEST's lines: "scenario | kernels | expect | proves", comments and blanks left out.
manifest() {
	grep -v -e '^#' -e '^[[:space:]]*$' "$CORPUS/MANIFEST"
}

# kernels NAME: the directories the MANIFEST lists for a scenario.
kernels() {
	manifest | awk -F' *[|] *' -v s="$1" '$1 == s { print $2 }'
}

# facts NAME: the scenario's key fact holds on the replay of each of its captures.
facts() {
	local k n=0
	for k in $(kernels "$1"); do
		corpus_fact_check "$1" "$BATS_FILE_TMPDIR/$k/$1.json" || return 1
		n=$((n + 1))
	done
	[ "$n" -gt 0 ] || {
		echo "no capture of $1 in the MANIFEST" >&2
		return 1
	}
}

@test "the MANIFEST lists every capture, each capture has its golden report" {
	local listed found s k
	listed=$(manifest | awk -F' *[|] *' '{ n = split($2, k, " "); for (i = 1; i <= n; i++) print k[i] "/" $1 }' | sort)
	found=$(cd "$CORPUS" && ls -1 */*.raw.gz | sed 's/\.raw\.gz$//' | sort)
	diff <(echo "$listed") <(echo "$found")
	for s in $found; do
		[ -s "$CORPUS/$s.json" ] || {
			echo "no golden report $s.json" >&2
			return 1
		}
	done
	[ "$(cd "$CORPUS" && ls -1 */*.json | wc -l)" -eq "$(echo "$found" | wc -l)" ]
	# every scenario has a key fact
	for s in $(manifest | awk -F' *[|] *' '{ print $1 }'); do
		corpus_fact "$s" >/dev/null
	done
}

@test "every capture replays completely to its golden report, byte for byte" {
	local f name
	for f in "$CORPUS"/*/*.raw.gz; do
		name=${f#"$CORPUS/"}
		name=${name%.raw.gz}
		[ "$(cat "$BATS_FILE_TMPDIR/$name.rc")" -eq 0 ] || {
			echo "$name: replay exited $(cat "$BATS_FILE_TMPDIR/$name.rc")" >&2
			cat "$BATS_FILE_TMPDIR/$name.err" >&2
			return 1
		}
		[ ! -s "$BATS_FILE_TMPDIR/$name.err" ]
		jq -e '.trace.final and .trace.complete and .trace.raw.complete' \
			"$BATS_FILE_TMPDIR/$name.json" >/dev/null
		jq -S . "$BATS_FILE_TMPDIR/$name.json" | cmp - "$CORPUS/$name.json" || {
			echo "$name: the replay differs from the golden report:" >&2
			diff <(jq -S . "$BATS_FILE_TMPDIR/$name.json") "$CORPUS/$name.json" | head -40 >&2
			return 1
		}
		# the live lines: one JSON object a line, each an event (none with --pid elsewhere)
		jq -e -s 'all(.[]; .event | type == "string")' \
			"$BATS_FILE_TMPDIR/$name.ndjson" >/dev/null
	done
}

@test "each capture is of the kernel its directory names" {
	local f name k rel
	for f in "$CORPUS"/*/*.json; do
		name=${f#"$CORPUS/"}
		k=${name%%/*}
		rel=$(jq -r .host.kernel "$f")
		case $k in
		host) [ -n "$rel" ] && [[ "$rel" != 6.1.* && "$rel" != 6.12.* ]] || false ;;
		*) [[ "$rel" == "$k".* || "$rel" == "$k"-* || "$rel" == "$k"+* ]] ;;
		esac || {
			echo "$name: kernel $rel" >&2
			return 1
		}
	done
}

@test "every MANIFEST expectation holds on the replays" {
	local line s ks expect k f kind want
	while IFS= read -r line; do
		s=$(awk -F' *[|] *' '{ print $1 }' <<<"$line")
		ks=$(awk -F' *[|] *' '{ print $2 }' <<<"$line")
		expect=$(awk -F' *[|] *' '{ print $3 }' <<<"$line")
		kind=${expect%%=*} want=${expect#*=}
		for k in $ks; do
			f="$BATS_FILE_TMPDIR/$k/$s.json"
			case $kind in
			cid_conflict) jq -e --arg w "$want" '[.findings[] | select(.kind == "cid_conflict") |
				.classification] == [$w]' "$f" ;;
			invalid_cid) jq -e '([.findings[] | select(.kind == "invalid_cid")] | length == 1) and
				([.findings[] | select(.kind == "cid_conflict")] == [])' "$f" ;;
			uffd_orphan) jq -e --arg w "$want" '[.findings[] | select(.kind == "uffd_orphan") |
				.state] == [$w] and .uffds[0].state == $w' "$f" ;;
			uffd) jq -e --arg w "$want" '[.findings[] | select(.kind == "uffd_orphan")] == [] and
				(.uffds | length == 1) and .uffds[0].state == $w' "$f" ;;
			*) false ;;
			esac >/dev/null || {
				echo "$k/$s: not $expect" >&2
				jq -c '.findings[] | del(.summary, .story)' "$f" >&2
				return 1
			}
		done
	done < <(manifest)
}

@test "the corpus covers every CID classification and orphan state real kernels gave it" {
	local all
	all=$(cat "$BATS_FILE_TMPDIR"/*/*.json | jq -s -c '
		{classes: ([.[].findings[] | select(.kind == "cid_conflict") | .classification] | unique),
		 invalid: ([.[].findings[] | select(.kind == "invalid_cid")] | length > 0),
		 orphans: ([.[].findings[] | select(.kind == "uffd_orphan") | .history[].state] | unique),
		 contexts: ([.[].uffds[].state] | unique)}')
	echo "$all"
	jq -e '
		.classes == ["inherited_fd", "live_duplicate", "orphan_holder", "teardown_race"] and
		.invalid and .orphans == ["pager_lost", "spinning", "stalled"] and
		.contexts == ["released", "served", "spinning", "stalled"]' <<<"$all" >/dev/null
}

@test "no capture holds a kernel address" {
	run /usr/bin/python3 "$CORPUS/check-addrs.py" "$CORPUS"/*/*.raw.gz
	echo "$output"
	[ "$status" -eq 0 ]
}

@test "live_duplicate (6.1, 6.12): the running holder is named" {
	facts live_duplicate
}

@test "prebound (6.1, 6.12): a CID bound before the trace, from the holder scan" {
	facts prebound
}

@test "teardown_race (6.1, 6.12): 2,000 attempts against a holder dumping core, one finding" {
	facts teardown_race
}

@test "inherited_fd (6.1, 6.12): a forked child holds the exited binder's fd" {
	facts inherited_fd
}

@test "inherited_fd_tracepoint (6.1, 6.12): the same story with --no-fentry" {
	facts inherited_fd_tracepoint
}

@test "scm_rights (6.1, 6.12): the receiver of an SCM_RIGHTS fd is the holder" {
	facts scm_rights
}

@test "orphan_holder (6.1, 6.12): a reparented holder" {
	facts orphan_holder
}

@test "rebind (6.1, 6.12): a second CID on the same fd releases the first" {
	facts rebind
}

@test "invalid_cid (6.1, 6.12): EINVAL is an invalid_cid finding" {
	facts invalid_cid
}

@test "late_load (6.1, 6.12): vhost_vsock loaded after the start, the first bind not missed" {
	facts late_load
}

@test "spinning_threads (6.1, 6.12): pager lost, then spinning, with fexit uffd hooks" {
	facts spinning_threads
}

@test "busy_pager_alive_threads (6.1, 6.12): served pages counted from ioctls, no finding" {
	facts busy_pager_alive_threads
}

@test "spinning (host, KVM): pager lost, then spinning" {
	facts spinning
}

@test "stalled (host, KVM): an idle guest without its pager is stalled" {
	facts stalled
}

@test "stalled_no_fentry (host, KVM): raw_tp and the uffd iterator find the orphan" {
	facts stalled_no_fentry
}

@test "restarted_pager (host, KVM): a new pager that never serves does not resolve it" {
	facts restarted_pager
}

@test "busy_pager_alive (host, KVM): a busy guest with its pager alive is not flagged" {
	facts busy_pager_alive
}

@test "unregistered_then_pager_exit (host, KVM): unregistered memory, then the pager exits" {
	facts unregistered_then_pager_exit
}

@test "vmm_exit_first (host, KVM): the VMM exits before its pager, no orphan" {
	facts vmm_exit_first
}

@test "pid_filter_guest_exits (host, KVM): a watched guest outside --pid exits" {
	facts pid_filter_guest_exits
}
