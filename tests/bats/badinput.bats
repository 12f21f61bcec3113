#!/usr/bin/env bats
# Bad input and hostile environments: one clear line on stderr, a documented exit code.

load helper

@test "usage errors exit 2 with one line" {
	run "$CIDTRACE" record --no-such-flag
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
	[ "${lines[0]}" = "cidtrace record: unknown option --no-such-flag (see cidtrace record --help)" ]
	run "$CIDTRACE" frobnicate
	[ "$status" -eq 2 ]
	run "$CIDTRACE" run
	[ "$status" -eq 2 ]
	run "$CIDTRACE" record --checkpoint soon
	[ "$status" -eq 2 ]
	run "$CIDTRACE"
	[ "$status" -eq 2 ]
}

@test "--help lists every command, one line each, with examples; --version the version" {
	run "$CIDTRACE" --help
	[ "$status" -eq 0 ]
	[[ "$output" == "usage: cidtrace COMMAND"* ]]
	for c in record run cids guests doctor report replay; do
		[ "$(grep -cE "^  $c +[a-z]" <<<"$output")" -eq 1 ]
	done
	[[ "$output" == *"examples:"* ]]
	[[ "$output" == *"exit codes:"* ]]
	# the usage text is printed as it is, not as a format: one percent sign, not two
	run "$CIDTRACE" record --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"busiest thread wants PCT% of one"* ]]
	[[ "$output" != *"%%"* ]]
	run "$CIDTRACE" --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^cidtrace\ [0-9]+\.[0-9]+\.[0-9]+$ ]]
}

@test "each command's --help and -h: its own usage, options and examples, exit 0" {
	for c in record run cids guests doctor report replay; do
		for h in --help -h; do
			run "$CIDTRACE" "$c" "$h"
			[ "$status" -eq 0 ]
			[[ "${lines[0]}" == "usage: cidtrace $c "* ]]
			[[ "$output" == *"options:"* && "$output" == *"examples:"* ]]
			[[ "$output" == *"exit codes:"* && "$output" != *"%%"* ]]
			# every example is of this command
			[ -z "$(sed -n '/^examples:/,$p' <<<"$output" | sed 1d | grep -vE "cidtrace $c( |\$)")" ]
		done
	done
	# --json says what it means for each command
	run "$CIDTRACE" record --help
	[[ "$output" == *"--json               live events as NDJSON"* ]]
	for c in cids guests doctor; do
		run "$CIDTRACE" "$c" --help
		[[ "$output" == *"--json               print one JSON document"* ]]
	done
}

@test "each command turns away the options of others: exit 2, one line naming both" {
	foreign() { # command option...; the option named is the first
		run "$CIDTRACE" "$@"
		[ "$status" -eq 2 ]
		[ "${#lines[@]}" -eq 1 ]
		[ "${lines[0]}" = "cidtrace $1: unknown option $2 (see cidtrace $1 --help)" ]
	}
	foreign cids --duration 5
	foreign cids --vmm-comm qemu
	foreign guests --duration 5
	foreign guests --spin-window 3
	foreign doctor --scratch-root /tmp
	foreign doctor -o x.json
	foreign report --json "$R"
	foreign record --reap --scope "$T"
	# a start of a name is not the option it begins (getopt_long would take it)
	foreign record --dur 5
	foreign report --form html "$R"
	foreign record --format html
	foreign run --duration 5 -- true
	foreign run --no-color -- true
	foreign replay --format html "$R"
	foreign replay --raw x.raw "$R"
	# a known option with a value it does not take, or without the one it needs
	run "$CIDTRACE" doctor --json=yes
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace doctor: option --json takes no value (see cidtrace doctor --help)" ]
	run "$CIDTRACE" guests --scratch-root
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace guests: option --scratch-root needs a value (see cidtrace guests --help)" ]
	run "$CIDTRACE" record -o
	[ "$status" -eq 2 ]
	[ "$output" = "cidtrace record: option -o needs a value (see cidtrace record --help)" ]
	# an option before any command
	run "$CIDTRACE" --json cids
	[ "$status" -eq 2 ]
	[ "${#lines[@]}" -eq 1 ]
}

@test "cids and guests take the options they use; run's CMD keeps its own" {
	run "$CIDTRACE" cids --json --scratch-root "$T" --test-dir-depth 3
	[ "$status" -eq 0 ]
	echo "$output" | jq -e 'type == "array"'
	run "$CIDTRACE" guests --json --scratch-root "$T" --test-dir-depth 3 --vmm-comm 'x*' \
		--spin-threshold 50
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.schema == "cidtrace.guests/1"'
	run "$CIDTRACE" cids --test-dir-depth 0
	[ "$status" -eq 2 ]
	[[ "$output" == "cidtrace cids: --test-dir-depth needs a number from 1 to 16"* ]]
	# options after CMD are CMD's, --help included
	run "$CIDTRACE" run -q -o "$R" -- sh -c 'echo "$@"' sh --help --duration 5
	[ "$status" -eq 0 ]
	[ "$output" = "--help --duration 5" ]
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
