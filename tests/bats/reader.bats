#!/usr/bin/env bats
# `cidtrace report` on input made to cost more than its size: stubs that the reader used to
# fill in, arrays past their limits, deep nesting, long strings, and a 20,000-VMM timeline.
# The reader's peak RSS stays within 10 times the input plus the binary's own; the 1 s target
# for the timeline is measured by bench/bench.sh (BENCH_ONLY=reader), not asserted here.

load helper
bats_require_minimum_version 1.5.0

# What the binary takes before it reads anything (about 1.3 MiB), with room to spare.
BASE_KB=4096

# within_10x FILE [ARGS...]: `cidtrace report FILE ARGS...` into $T/out, its status in
# $status, and its peak RSS checked against 10 x FILE's size + BASE_KB. Without
# /usr/bin/time, the same bound is an address-space limit (prlimit), with more room for what
# is mapped but never touched.
within_10x() {
	local f=$1 size limit rss
	shift
	size=$(stat -c %s "$f")
	limit=$((size * 10 / 1024 + BASE_KB))
	status=0
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$T/rss" "$CIDTRACE" report "$f" -o "$T/out" "$@" \
			2>"$T/err" || status=$?
		rss=$(tail -n 1 "$T/rss")
		echo "# $(basename "$f") $*: $size bytes, peak RSS $rss kB (limit $limit)" >&3
		[ "$rss" -le "$limit" ]
	else
		prlimit --as=$(((limit + 65536) * 1024)) "$CIDTRACE" report "$f" -o "$T/out" "$@" \
			2>"$T/err" || status=$?
	fi
}

# report_of KEY N ELEMENT: a report whose array KEY holds N copies of ELEMENT.
report_of() {
	awk -v key="$1" -v n="$2" -v e="$3" 'BEGIN {
		printf "{\"schema\":\"cidtrace.report/1\",\"%s\":[", key
		for (i = 0; i < n; i++) printf "%s%s", (i ? "," : ""), e
		print "]}" }'
}

# vmm_report N: N VMMs with their own pid and start time, four to a test dir, all started
# and exited within the hour; every 10th leaked (a vmm_leak), every 20th in a cid_conflict
# whose holder is the VMM before it.
vmm_report() {
	awk -v n="$1" 'function t(us) { return sprintf("2026-11-27T%02d:%02d:%02d.%06dZ",
			int(us / 3600e6) % 24, int(us / 60e6) % 60, int(us / 1e6) % 60, us % 1e6) }
	function ref(i) { return sprintf("\"pid\":%d,\"start_ns\":%d,\"comm\":\"qemu-system-x86\"",
			100000 + i, 1e12 + i * 1000) }
	BEGIN {
		printf "{\"schema\":\"cidtrace.report/1\",\"trace\":{\"started_at\":\"%s\",", t(0)
		printf "\"ended_at\":\"%s\",\"final\":true},\"processes\":[\n", t(3600e6)
		for (i = 0; i < n; i++) {
			us = int(i * 3600e6 / n)
			printf "%s{%s,\"role\":\"vmm\",\"test_dir\":\"/ci/TestBoot%d/001\",", \
				(i ? "," : ""), ref(i), int(i / 4)
			printf "\"argv\":[\"qemu-system-x86_64\",\"-name\",\"vm%d\"],", i
			printf "\"started_at\":\"%s\",\"exited_at\":%s}\n", t(us),
				(i % 10 == 9 ? "null" : "\"" t(us + 90e6) "\"")
		}
		printf "],\"findings\":[\n"
		for (i = 9; i < n; i += 10) {
			printf "%s{\"kind\":\"vmm_leak\",%s,\"age_s\":1.5}\n", (i > 9 ? "," : ""), ref(i)
			if (i % 20 == 19)
				printf ",{\"kind\":\"cid_conflict\",\"cid\":%d,\"first_at\":\"%s\"," \
					"\"last_at\":\"%s\",\"attempts\":1,\"attempt\":{%s}," \
					"\"holder\":[{%s}]}\n", i, t(us), t(us), ref(i), ref(i - 1)
		}
		print "]}" }'
}

@test "stub processes: a 1 MB array of {} is read within 10x its size, in every format" {
	report_of processes 349000 '{}' >"$T/r.json"
	for fmt in text html json; do
		within_10x "$T/r.json" --format "$fmt"
		[ "$status" -eq 0 ]
	done
	# every process, every field, and no object made up: exit is null, not {code: 0, ...}
	[ "$(grep -c '^      "pid":0,$' "$T/out")" -eq 349000 ]
	[ "$(grep -c '^      "exit":null,$' "$T/out")" -eq 349000 ]
	head -c 2000 "$T/out" | grep -q '"trace":null'
}

@test "stub findings of each kind stay within 10x, and tell what they can" {
	for kind in cid_conflict invalid_cid vmm_leak uffd_orphan cosmic_ray; do
		report_of findings 40000 "{\"kind\":\"$kind\"}" >"$T/r.json"
		for fmt in text html json; do
			within_10x "$T/r.json" --format "$fmt"
			[ "$status" -eq 0 ]
		done
		jq -e --arg k "$kind" '(.findings | length) == 40000 and
			(.findings[0].kind == $k)' "$T/out" >/dev/null
	done
	# a stub conflict has no attempt and no holder: it says so instead of making them up
	report_of findings 1 '{"kind":"cid_conflict"}' >"$T/r.json"
	run "$CIDTRACE" report "$T/r.json"
	[ "$status" -eq 0 ]
	[[ "$output" == *"[cid_conflict] CID 0: ? pid 0 failed to bind at ? (0 attempts); no holder was found."* ]]
	run "$CIDTRACE" report --format json "$T/r.json"
	jq -e '.findings[0] | .attempt == null and .holder == [] and .binder == null' <<<"$output"
}

@test "nested references, deep nesting and long strings stay within 10x" {
	# 87,000 holders of one conflict: a timeline row each
	awk 'BEGIN { printf "{\"schema\":\"cidtrace.report/1\",\"findings\":[{\"kind\":" \
		"\"cid_conflict\",\"attempt\":{\"pid\":1},\"first_at\":\"2026-01-01T00:00:00Z\"," \
		"\"last_at\":\"2026-01-01T00:00:01Z\",\"holder\":["
		for (i = 2; i < 87000; i++) printf "%s{\"pid\":%d}", (i > 2 ? "," : ""), i
		print "]}]}" }' >"$T/r.json"
	within_10x "$T/r.json" --format html
	[ "$status" -eq 0 ]
	[ "$(grep -c '<g class="row"' "$T/out")" -eq 86999 ]
	# 1 MB of brackets: refused at the 33rd level, as json-c refused it
	{
		printf '{"schema":"cidtrace.report/1","x":'
		head -c 1000000 /dev/zero | tr '\0' '['
	} >"$T/r.json"
	within_10x "$T/r.json"
	[ "$status" -eq 4 ]
	grep -q 'nesting too deep' "$T/err"
	# 1 MB strings of what escaping makes longest: markup, invalid bytes, control characters
	for s in '<' $'\xff' $'\x01' '\u0001'; do
		{
			printf '{"schema":"cidtrace.report/1","processes":[{"pid":1,"role":"vmm","comm":"'
			yes -- "$s" | head -n $((1000000 / ${#s})) | tr -d '\n'
			printf '","argv":["%s"]}],"findings":[{"kind":"x","summary":"' "$s$s$s"
			head -c 100000 /dev/zero | tr '\0' 'x'
			printf '"}]}'
		} >"$T/r.json"
		for fmt in text html json; do
			within_10x "$T/r.json" --format "$fmt"
			[ "$status" -eq 0 ]
		done
	done
	# on the page a string is cut at 64 KiB, whole in the JSON
	within_10x "$T/r.json" --format html
	grep -q 'x…' "$T/out"
	run ! grep -q "$(printf 'x%.0s' {1..70000})" "$T/out"
}

@test "limits: an array past its limit is refused with exit 4 and one line" {
	report_of processes 1000001 '{}' >"$T/r.json"
	run "$CIDTRACE" report "$T/r.json" -o "$T/out"
	[ "$status" -eq 4 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "cidtrace: report '$T/r.json': processes[] has more than 1000000 elements: larger than any report cidtrace writes" ]
	[ ! -e "$T/out" ]
	report_of findings 100001 '7' >"$T/r.json"
	run "$CIDTRACE" report "$T/r.json"
	[ "$status" -eq 4 ]
	[ "$output" = "cidtrace: report '$T/r.json': findings[] has more than 100000 elements: larger than any report cidtrace writes" ]
	awk 'BEGIN { printf "{\"schema\":\"cidtrace.report/1\",\"processes\":[{\"argv\":["
		for (i = 0; i <= 100000; i++) printf "%s\"\"", (i ? "," : "")
		print "]}]}" }' >"$T/r.json"
	run "$CIDTRACE" report "$T/r.json"
	[ "$status" -eq 4 ]
	[[ "$output" == *"processes[].argv[] has more than 100000 elements"* ]]
	# at the limit, read
	report_of findings 100000 '{}' >"$T/r.json"
	run "$CIDTRACE" report "$T/r.json"
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == "100000 findings (100000 other);"* ]]
}

@test "html: 20,000 VMMs, each a row of its own, with their markers and findings linked" {
	vmm_report 20000 >"$T/r.json"
	within_10x "$T/r.json" --format html
	[ "$status" -eq 0 ]
	[ "$(grep -c '<g class="row" id="row[0-9]*">' "$T/out")" -eq 20000 ]
	[ "$(grep -c '<text class="group"' "$T/out")" -eq 5000 ]
	# 2,000 leaks and 1,000 conflicts, each drawn on its VMM's row and linked both ways
	[ "$(grep -c 'class="marker leak"' "$T/out")" -eq 2000 ]
	[ "$(grep -c 'class="marker conflict"' "$T/out")" -eq 1000 ]
	[ "$(grep -o '<li id="f[0-9]*">' "$T/out" | wc -l)" -eq 3000 ]
	[ "$(grep -c '<li id="f[0-9]*">.*<span class="links">timeline: <a href="#m[0-9]*">' \
		"$T/out")" -eq 3000 ]
	# the rows are in test-dir order: the last group is the last test dir by name
	grep -o '<text class="group" x="4" y="[0-9]*">[^<]*' "$T/out" | tail -n 1 |
		grep -q '/ci/TestBoot999/001$'
}

@test "slices stay within 10x: a 300,000-deep ancestry, one pid reused 300,000 times" {
	# each process the child of the one before: one walk up, through all of them
	awk 'BEGIN { printf "{\"schema\":\"cidtrace.report/1\",\"processes\":["
		for (i = 1; i <= 300000; i++)
			printf "%s{\"pid\":%d,\"ppid\":%d,\"start_ns\":%d,\"cwd\":\"/ci/%s\"}",
				(i > 1 ? "," : ""), i, i - 1, i, (i % 2 ? "a" : "b")
		print "]}" }' >"$T/r.json"
	within_10x "$T/r.json" --scope /ci/a --format json
	[ "$status" -eq 0 ]
	# /ci/a's processes and, as their ancestors, /ci/b's but the last, a leaf
	jq -e '(.processes | length) == 299999 and .processes[-1].pid == 299999' "$T/out"
	# one pid, parent of itself, started 300,000 times: each one's parent is the one before
	awk 'BEGIN { printf "{\"schema\":\"cidtrace.report/1\",\"processes\":["
		for (i = 1; i <= 300000; i++)
			printf "%s{\"pid\":7,\"ppid\":7,\"start_ns\":%d,\"cwd\":\"/ci/%s\"}",
				(i > 1 ? "," : ""), i, (i == 300000 ? "a" : "b")
		printf "],\"findings\":["
		for (i = 1; i <= 1000; i++)
			printf "%s{\"kind\":\"uffd_orphan\",\"guest\":{\"pid\":7,\"start_ns\":%d}}",
				(i > 1 ? "," : ""), 300000 - i
		print "]}" }' >"$T/r.json"
	within_10x "$T/r.json" --scope /ci/a --format json
	[ "$status" -eq 0 ]
	jq -e '(.processes | length) == 300000 and .findings == []' "$T/out"
}
