#!/usr/bin/env bats
# `cidtrace report` on real reports of real processes, on damaged ones, and in a browser.

load helper
bats_require_minimum_version 1.5.0

CORPUS="$BATS_TEST_DIRNAME/../fuzz/corpus"

@test "text: one summary line, the leak as a story, no raw control character" {
	make_report
	run "$CIDTRACE" report "$R"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" =~ ^1\ finding\ \(1\ vmm_leak\)\;\ trace\ complete,\ 0\ events\ lost\;\ final\ report,\ ended\ at\ \+[0-9]+\.[0-9]{3}s$ ]]
	esc_dir="$T/TestEvil\\x1b[31m<b>\"q'/001"
	[[ "$output" == *"[vmm_leak] firecracker pid $FC ($esc_dir) started at +"*"s and was still running when tracing ended at +"* ]]
	[[ "$output" == *"what to do next:"*"kill it, and wait for it, in the test's teardown"* ]]
	[[ "$output" != *$'\e'* ]]
}

@test "text: color only on a terminal, and never with --no-color or NO_COLOR" {
	make_report
	run script -qec "'$CIDTRACE' report '$R'" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == *$'\e[1m'* ]]
	# the test dir's own escape sequence is shown, not obeyed, even in color
	[[ "$output" == *'TestEvil\x1b[31m<b>'* ]]
	[[ "$output" != *$'\e[31m<b>'* ]]
	run script -qec "'$CIDTRACE' report --no-color '$R'" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == "1 finding (1 vmm_leak); trace complete"* ]] # the story, only plain
	[[ "$output" == *"[vmm_leak] firecracker pid $FC "* ]]
	[[ "$output" != *$'\e'* ]]
	run env NO_COLOR=1 script -qec "'$CIDTRACE' report '$R'" /dev/null
	[ "$status" -eq 0 ]
	[[ "$output" == "1 finding (1 vmm_leak); trace complete"* ]]
	[[ "$output" == *"[vmm_leak] firecracker pid $FC "* ]]
	[[ "$output" != *$'\e'* ]]
}

@test "html: a self-contained timeline, every report string escaped" {
	make_report
	run "$CIDTRACE" report "$R" --format html -o "$T/r.html"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	grep -q '<svg id="timeline"' "$T/r.html"
	grep -q 'class="row"' "$T/r.html"
	grep -q 'class="lifetime"' "$T/r.html"
	grep -q 'class="marker leak" id="m[0-9]*"' "$T/r.html"
	grep -q 'class="marker signal"' "$T/r.html"
	grep -q '<ol id="findings">' "$T/r.html"
	grep -q '<li id="f0">' "$T/r.html"
	grep -q 'href="#f0"' "$T/r.html"
	grep -q "Content-Security-Policy\" content=\"default-src 'none'" "$T/r.html"
	# the hostile argv and test dir, as text
	grep -qF '&lt;script&gt;alert(1)&lt;/script&gt;' "$T/r.html"
	grep -qF '&quot;quote&#39;' "$T/r.html"
	grep -qF 'esc\x1b[2J' "$T/r.html"
	grep -qF 'new\nline' "$T/r.html"
	grep -qF 'TestEvil\x1b[31m&lt;b&gt;&quot;q&#39;/001' "$T/r.html"
	run ! grep -qF '<script' "$T/r.html"
	run ! grep -q $'\e' "$T/r.html"
	# nothing to fetch: no src, no remote href, no url(), no @import
	run ! grep -qE 'src=|href="[a-z]+:|url\(|@import' "$T/r.html"
}

@test "json: the report normalized, valid, and a fixed point" {
	make_report
	run "$CIDTRACE" report --format json "$R" -o "$T/n.json"
	[ "$status" -eq 0 ]
	jq -e '.schema == "cidtrace.report/1" and (.uffds | type) == "array" and
		(.trace.attach.uffd | IN("fexit", "iter", "unavailable"))' "$T/n.json"
	# what cidtrace wrote survives unchanged: the writer and the reader agree on every field
	diff <(jq -S . "$R") <(jq -S . "$T/n.json")
	"$CIDTRACE" report --format json "$T/n.json" | cmp - "$T/n.json"
}

@test "conflict and userfaultfd findings tell their story" {
	f="$CORPUS/conflict-uffd-all-kinds.json"
	run "$CIDTRACE" report "$f"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "5 findings (1 cid_conflict, 1 invalid_cid, 1 uffd_orphan, 1 vmm_leak, 1 other); trace INCOMPLETE, 17 events lost; final report, ended at +20.000s" ]
	[[ "$output" == *"[cid_conflict] CID 1234: qemu-system-x86 pid 812 (/ci/TestQEMUWarmForkChain30/001) failed to bind at +12.301s (3 attempts since +12.100s); held by qemu-system-x86 pid 640 (/ci/TestQEMUWarmForkChain29/001, bound +3.002s) which got SIGKILL from pid 600 at +12.298s and released the CID at +12.340s → teardown race."* ]]
	[[ "$output" == *"[uffd_orphan] firecracker pid 900 (/ci/TestSnap/001) orphaned at +4.100s: pager hypeman-uffd-pa pid 901 got SIGKILL from pid 1 at +4.099s and exited; guest spinning at 99.2% CPU since +7.200s (busiest thread fc_vcpu 1 98%); 43 faults unresolved, 40 pages served; a new pager hypeman-uffd-pa pid 950 started at +9.000s."* ]]
	[[ "$output" == *"its userfaultfd uffd-1 was spinning (pager pid 901)"* ]]
	[[ "$output" == *"[cosmic_ray] a finding kind from a newer cidtrace"* ]]
	[[ "$output" == *"teardown race: wait for the previous VMM to exit"* ]]
	[[ "$output" == *"kill the VMM (not the pager first)"* ]]
	[[ "$output" == *"17 lost events"* ]]
	run "$CIDTRACE" report "$f" --format html
	[ "$status" -eq 0 ]
	for cls in 'cid-hold' 'marker conflict' 'marker signal' 'marker pager-death' 'spin' 'marker leak'; do
		[[ "$output" == *"class=\"$cls\""* ]]
	done
	[[ "$output" == *'<text class="group" x="4" y="'*'">/ci/TestSnap/001</text>'* ]]
	[[ "$output" == *'<table id="uffds">'*'<td>uffd-1</td><td>spinning</td>'*'hypeman-uffd-pa pid 901 (exited)'* ]]
}

@test "malformed reports: exit 4, one line, no output file" {
	make_report
	: >"$T/empty.json"
	head -c 1000 "$R" >"$T/truncated.json"
	echo 'this is not JSON' >"$T/text.json"
	echo '{"schema":"cidtrace.report/2"}' >"$T/v2.json"
	truncate -s 300M "$T/huge.json"
	for f in empty truncated text v2 huge missing; do
		run "$CIDTRACE" report "$T/$f.json" -o "$T/out.html" --format html
		[ "$status" -eq 4 ]
		[ "${#lines[@]}" -eq 1 ]
		[[ "$output" == "cidtrace: "*"$T/$f.json"* ]]
		[ ! -e "$T/out.html" ]
	done
	run "$CIDTRACE" report "$T/huge.json"
	[[ "$output" == *"larger than 256 MiB"* ]]
	run "$CIDTRACE" report "$T/v2.json"
	[[ "$output" == *"cidtrace.report/2 is not supported"* ]]
	run "$CIDTRACE" report "$T/truncated.json"
	[[ "$output" == *"truncated JSON"* ]]
	# no temp file left behind either
	[ -z "$(find "$T" -maxdepth 1 -name '.*.tmp')" ]
}

@test "-o: unwritable is a usage error; a failure never touches the old file" {
	make_report
	run "$CIDTRACE" report "$R" -o /nonexistent-dir/r.html
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "cidtrace: cannot write output '/nonexistent-dir/r.html': No such file or directory" ]
	run "$CIDTRACE" report "$R" -o "$T"
	[ "$status" -eq 2 ]
	[[ "$output" == *"Is a directory" ]]
	# never renamed over a device: root would replace the node itself
	run "$CIDTRACE" report "$R" -o /dev/null
	[ "$status" -eq 2 ]
	[ -c /dev/null ]
	mkfifo "$T/fifo"
	run "$CIDTRACE" report "$R" -o "$T/fifo"
	[ "$status" -eq 2 ]
	[ -p "$T/fifo" ]
	echo precious >"$T/out.txt"
	echo '{' >"$T/bad.json"
	run "$CIDTRACE" report "$T/bad.json" -o "$T/out.txt"
	[ "$status" -eq 4 ]
	[ "$(cat "$T/out.txt")" = precious ]
	run "$CIDTRACE" report "$R" -o "$T/out.txt"
	[ "$status" -eq 0 ]
	diff "$T/out.txt" <("$CIDTRACE" report "$R")
	run "$CIDTRACE" report "$R" --format pdf
	[ "$status" -eq 2 ]
	run "$CIDTRACE" report
	[ "$status" -eq 2 ]
	run "$CIDTRACE" report "$R" "$R"
	[ "$status" -eq 2 ]
}

@test "the fuzz corpus replays through the release binary with each seed's own exit status" {
	# tests/fuzz/corpus.expect: one line per seed, its name and its exit status
	grep -v '^#' "$CORPUS.expect" >"$T/expect"
	# every seed has its line, every line its seed
	diff <(cut -d' ' -f1 "$T/expect" | sort) <(ls "$CORPUS" | sort)
	while read -r name want; do
		f="$CORPUS/$name"
		[[ "$want" =~ ^(0|4)$ ]] || { echo "$name: expected status '$want' is neither 0 nor 4" >&2; return 1; }
		for fmt in text html json; do
			run "$CIDTRACE" report --format "$fmt" "$f"
			[ "$status" -eq "$want" ] || { echo "$name ($fmt): status $status, not $want" >&2; return 1; }
			if [ "$want" -eq 4 ]; then
				[ "${#lines[@]}" -eq 1 ]
				[[ "$output" == "cidtrace: report '$f': "* ]]
			elif [ "$fmt" = json ]; then
				jq -e '.schema == "cidtrace.report/1"' <<<"$output" >/dev/null
			elif [ "$fmt" = html ]; then
				[[ "$output" == *'<svg id="timeline"'*'</html>' ]]
			else
				[[ "${lines[0]}" =~ ^[0-9]+\ findings?[\ \;] ]] # the summary line
			fi
		done
	done <"$T/expect"
}

@test "browser: Chromium renders the timeline with no console error, argv as text" {
	command -v chromium >/dev/null || skip "chromium is not installed (scripts/deps.sh installs it)"
	make_report
	"$CIDTRACE" report "$R" --format html -o "$T/r.html"
	run "$BATS_TEST_DIRNAME/../browser/run.sh" "$T/r.html"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"browser: ok"* ]]
}
