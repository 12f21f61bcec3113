#!/usr/bin/env bats
# make install, the man page and bash completion.

load helper

@test "make install PREFIX=... installs the binary, cidtrace(8) and the completion" {
	run make -s -C "$BATS_TEST_DIRNAME/../.." install DESTDIR="$T/root" PREFIX=/opt/ct
	[ "$status" -eq 0 ]
	[ -x "$T/root/opt/ct/sbin/cidtrace" ]
	"$T/root/opt/ct/sbin/cidtrace" --version | grep -q '^cidtrace [0-9]'
	[ -s "$T/root/opt/ct/share/man/man8/cidtrace.8" ]
	[ -s "$T/root/opt/ct/share/bash-completion/completions/cidtrace" ]
}

@test "the man page renders with every required section" {
	command -v groff >/dev/null || skip "groff is not installed"
	page="$BATS_TEST_DIRNAME/../../docs/cidtrace.8"
	run groff -man -Tutf8 -ww -z "$page"
	[ "$status" -eq 0 ]
	[ -z "$output" ] # no warnings
	text=$(groff -man -Tascii "$page" | col -b)
	for s in NAME SYNOPSIS COMMANDS OPTIONS "EXIT STATUS" "REPORT FORMAT" EXAMPLES OVERHEAD; do
		grep -q "^$s" <<<"$text"
	done
}

@test "bash completion offers commands, options and option values" {
	comp="$BATS_TEST_DIRNAME/../../scripts/cidtrace.bash-completion"
	complete_words() { # words...; completes the last one
		bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cidtrace
			printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
	}
	run complete_words cidtrace r
	[[ "$output" == *record* && "$output" == *run* && "$output" == *report* ]]
	run complete_words cidtrace run --sp
	[[ "$output" == *--spin-threshold* && "$output" == *--spin-window* ]]
	run complete_words cidtrace run --fail-on u
	[ "$output" = uffd_orphan ]
	run complete_words cidtrace report --format h
	[ "$output" = html ]
}

@test "bash completion offers each command its own options only" {
	comp="$BATS_TEST_DIRNAME/../../scripts/cidtrace.bash-completion"
	complete_words() { # words...; completes the last one
		bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _cidtrace
			printf "%s\n" "${COMPREPLY[@]}"' _ "$comp" "$@"
	}
	run complete_words cidtrace guests --sp
	[ "$output" = --spin-threshold ]
	run complete_words cidtrace cids --
	[[ "$output" == *--json* && "$output" == *--test-dir-depth* && "$output" != *--duration* ]]
	run complete_words cidtrace doctor --
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "--help --json " ]
	run complete_words cidtrace record --re
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "--ready-file --reap-grace " ]
	run complete_words cidtrace record --ki
	[ "$output" = --kill-orphans ]
	run complete_words cidtrace run --re
	[[ "$output" == *--reap* && "$output" == *--reap-grace* && "$output" == *--ready-file* ]]
	run complete_words cidtrace run --du
	[ -z "$output" ]
	run complete_words cidtrace report --no
	[ "$output" = --no-color ]
	run complete_words cidtrace record --ra
	[ "$output" = --raw ]
	run complete_words cidtrace replay --
	[[ "$output" == *--json* && "$output" != *--raw* && "$output" != *--format* ]]
	# every option offered is one the command accepts: its --help lists it
	for c in record run cids guests doctor report replay; do
		for o in $(complete_words cidtrace "$c" -); do
			"$CIDTRACE" "$c" --help | grep -qe "$o\b" || { echo "$c: $o" >&2; return 1; }
		done
	done
}
