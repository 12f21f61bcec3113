#!/usr/bin/env bats
# Bad input and hostile environments: one clear line on stderr, a documented exit code.

load helper

@test "usage errors exit 2 with one line" {
	run "$CIDTRACE" record --no-such-flag
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "${lines[0]}" == "cidtrace: unknown or incomplete option '--no-such-flag'"* ]]
	run "$CIDTRACE" frobnicate
	[ "$status" -eq 2 ]
	run "$CIDTRACE" run
	[ "$status" -eq 2 ]
	run "$CIDTRACE" record --checkpoint soon
	[ "$status" -eq 2 ]
	run "$CIDTRACE"
	[ "$status" -eq 2 ]
}

@test "--help shows usage with examples, --version the version" {
	run "$CIDTRACE" --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: cidtrace record"* ]]
	[[ "$output" == *"examples:"* ]]
	[[ "$output" == *"exit codes:"* ]]
	# the usage text is printed as it is, not as a format: one percent sign, not two
	[[ "$output" == *"an orphaned guest using PCT% of one core or more"* ]]
	[[ "$output" != *"%%"* ]]
	run "$CIDTRACE" --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^cidtrace\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "an unwritable -o fails before tracing starts" {
	run "$CIDTRACE" record -o /nonexistent-dir/r.json --ready-file "$T/ready"
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == "cidtrace: cannot write report '/nonexistent-dir/r.json': No such file or directory" ]]
	[ ! -e "$T/ready" ]
	run "$CIDTRACE" run -o "$T" -- true
	[ "$status" -eq 2 ]
	[[ "$output" == *"Is a directory"* ]]
}

@test "a report path that is a symlink is replaced, never followed" {
	echo precious >"$T/target"
	ln -s "$T/target" "$R"
	run ct_run -- true
	[ "$status" -eq 0 ]
	[ "$(cat "$T/target")" = precious ]
	[ ! -L "$R" ]
	rq '.schema == "cidtrace.report/1"'
}

@test "without root privileges: exit 3 naming the cause and the fix" {
	run setpriv --reuid=65534 --regid=65534 --clear-groups "$CIDTRACE" record -o /tmp/x.json
	[ "$status" -eq 3 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"needs root"*"sudo"* ]]
	# uid 0 with every capability dropped is not enough either
	run setpriv --inh-caps=-all --bounding-set=-all "$CIDTRACE" record -o "$R"
	[ "$status" -eq 3 ]
	[[ "$output" == *"CAP_BPF"* ]]
}

@test "a kernel without BTF: exit 3 naming CONFIG_DEBUG_INFO_BTF" {
	run unshare -m sh -c "mount -t tmpfs none /sys/kernel/btf && exec '$CIDTRACE' record -o '$R'"
	[ "$status" -eq 3 ]
	[ "${#lines[@]}" -eq 1 ]
	[[ "$output" == *"BTF"*"CONFIG_DEBUG_INFO_BTF=y"* ]]
}

@test "hostile argv stays valid JSON and cannot forge live lines" {
	big=$(head -c 102400 /dev/zero | tr '\0' A)
	bad=$(printf 'q"uo\\te\nFAKE 00:00:00.000 exec 1 1 evil\x1b[2J\xff\xfe<script>')
	run "$CIDTRACE" run -o "$R" --scratch-root "$T" -- sh -c 'exit 0' "$D" "$bad" "$big"
	[ "$status" -eq 0 ]
	# no line of the live output starts with the forged text, no raw escape reaches it
	[ "$(echo "$output" | grep -c '^FAKE')" -eq 0 ]
	[ "$(echo "$output" | grep -c $'\x1b')" -eq 0 ]
	echo "$output" | grep -qF 'q"uo\\te\nFAKE 00:00:00.000 exec 1 1 evil\x1b[2J\xff\xfe<script>'
	rq --arg d "$D" '.processes[] | select(.argv[3] == $d) | .argv_truncated == true and (.argv[4] | startswith("q\"uo\\te\nFAKE")) and (.argv[4] | contains("\ufffd\ufffd<script>"))'
	run "$CIDTRACE" run --json -o "$R" --scratch-root "$T" -- sh -c 'exit 0' "$D" "$bad"
	[ "$status" -eq 0 ]
	# one JSON object a line, the hostile argv in one of them, intact
	echo "$output" | jq -e -s --arg d "$D" 'length > 0 and
		any(.event == "exec" and .argv[3] == $d and (.argv[4] | startswith("q\"uo\\te\nFAKE")))'
}

@test "exit 1 when the final report cannot be written: its directory went away" {
	mkdir "$T/out"
	# -o is checked, and the first report written, before CMD runs; CMD removes the directory
	run "$CIDTRACE" run -q -o "$T/out/r.json" --scratch-root "$T" -- rm -r "$T/out"
	[ "$status" -eq 1 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "$output" = "cidtrace: cannot write report '$T/out/r.json': No such file or directory" ]
	# a command that failed keeps its own status
	mkdir "$T/out"
	run "$CIDTRACE" run -q -o "$T/out/r.json" --scratch-root "$T" -- sh -c "rm -r '$T/out'; exit 3"
	[ "$status" -eq 3 ]
	[[ "$output" == "cidtrace: cannot write report '$T/out/r.json'"* ]]
}
