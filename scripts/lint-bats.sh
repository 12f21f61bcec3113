#!/usr/bin/env bash
# scripts/lint-bats.sh [FILES...]: reject statements in bats tests that cannot fail a test.
#
# bats runs a test under `set -e`, and errexit ignores two kinds of failure:
#   ! cmd        a negated command: `! grep -q x file` passes whether or not x is there
#   A && B       a failed A ends the list quietly, and the test goes on
# Write `run ! cmd` (bats >= 1.5), one condition per line, or `A && B || false`. Allowed:
# conditions (if/elif/while/until); a list ending in return, break, continue, exit or skip (a
# guard, not an assertion) or in false (`cmd && false` fails when cmd succeeds); a list run in
# the background; a list that is the last statement of a function (its status is the
# function's, and a @test's last status fails the test).
#
# Without arguments, checks tests/bats/*.bats, tests/bats/*.bash and tests/vm/*.bats.
# Prints FILE:LINE: reason for each offence; exits 1 if there was one, 0 otherwise.
set -uo pipefail

if (($# == 0)); then
	cd "$(dirname "$0")/.." || exit 2
	set -- tests/bats/*.bats tests/bats/*.bash tests/vm/*.bats
fi

# The awk program turns each file into logical statements: quoted text becomes "S" (a newline
# inside quotes does not end a statement), comments and here-document bodies go, lines ending
# in \, |, && or || are joined with the next. Each statement is then split at top-level ; and &.
exec awk '
function flush(   s, n, i, segs, seg, term, nxt) {
	if (stmt == "")
		return
	s = stmt
	# innermost first: $(...), then [[ ... ]] and (( ... )), whose && are not statements
	while (gsub(/\$\([^()]*\)/, "S", s)) {}
	while (gsub(/\[\[[^][]*\]\]/, "C", s)) {}
	while (gsub(/\(\([^()]*\)\)/, "C", s)) {}
	gsub(/\|\|/, "\001", s) # || and && are not statement separators
	gsub(/&&/, "\002", s)
	gsub(/;;/, ";", s)
	gsub(/>&|&>/, ">", s) # redirections
	n = 0
	while (match(s, /[;&]/)) {
		segs[++n] = substr(s, 1, RSTART - 1)
		term[n] = substr(s, RSTART, 1)
		s = substr(s, RSTART + 1)
	}
	segs[++n] = s
	term[n] = ""
	for (i = 1; i <= n; i++) {
		pending[++npend] = segs[i]
		pterm[npend] = term[i]
		pline[npend] = stmt_line
		pfile[npend] = FILENAME
	}
	stmt = ""
}
function check(seg, t, nextseg, file, line,   s, last) {
	s = seg
	sub(/^[ \t]+/, "", s)
	# block openers in front of the first command
	while (sub(/^(do|then|else|\{|\(|@test S \{|[A-Za-z_][A-Za-z0-9_]*\(\) *\{)[ \t]*/, "", s)) {}
	if (s ~ /^(if|elif|while|until)([ \t]|$)/)
		return
	if (s ~ /^![ \t]/) {
		report(file, line, "a bare `! cmd` cannot fail the test: use `run ! cmd`")
		return
	}
	if (index(s, "\002") == 0 || index(s, "\001") > 0 || t == "&")
		return
	last = s
	sub(/.*\002[ \t]*/, "", last)
	if (last ~ /^(return|break|continue|exit|skip|false)([ \t]|$)/)
		return
	if (nextseg ~ /^[ \t]*\}[ \t]*$/ || nextseg ~ /^[ \t]*\)[ \t]*$/)
		return # the last statement of a function: its status is the function'"'"'s
	report(file, line, "`A && B` does not fail the test when A fails: add `|| false`, or split it")
}
function report(file, line, msg) {
	printf "%s:%d: %s\n", file, line, msg
	bad = 1
}
function drain(   i, j, nxt) {
	for (i = 1; i <= npend; i++) {
		nxt = ""
		for (j = i + 1; j <= npend; j++)
			if (pending[j] !~ /^[ \t]*$/) {
				nxt = pending[j]
				break
			}
		check(pending[i], pterm[i], nxt, pfile[i], pline[i])
	}
	npend = 0
}
FNR == 1 {
	if (NR > 1) { flush(); drain() }
	q = 0; hd = ""; stmt = ""; cont = 0
}
{
	line = $0
	if (hd != "") {
		t = line
		if (hdstrip)
			sub(/^\t+/, "", t)
		if (t == hd)
			hd = ""
		next
	}
	if (q == 0 && !cont) {
		flush()
		stmt_line = FNR
	}
	out = ""
	n = length(line)
	for (i = 1; i <= n; i++) {
		c = substr(line, i, 1)
		if (q == 1) { # single quotes: nothing is special but the closing quote
			if (c == "'"'"'")
				q = 0
			continue
		}
		if (c == "\\") {
			i++
			out = out (q ? "" : "x")
			continue
		}
		if (q == 2) {
			if (c == "\"")
				q = 0
			continue
		}
		if (c == "'"'"'") { q = 1; out = out "S"; continue }
		if (c == "\"") { q = 2; out = out "S"; continue }
		if (c == "#" && (i == 1 || substr(line, i - 1, 1) ~ /[ \t;]/))
			break
		if (c == "<" && substr(line, i, 2) == "<<" && substr(line, i, 3) != "<<<") {
			rest = substr(line, i + 2)
			hdstrip = (substr(rest, 1, 1) == "-")
			if (hdstrip)
				rest = substr(rest, 2)
			sub(/^[ \t]*/, "", rest)
			if (match(rest, /^["'"'"']?[A-Za-z_][A-Za-z0-9_]*/)) {
				w = substr(rest, 1, RLENGTH)
				gsub(/["'"'"']/, "", w)
				hdnext = w
			}
		}
		out = out c
	}
	stmt = stmt (stmt == "" ? "" : " ") out
	t = out
	sub(/[ \t]+$/, "", t)
	cont = (q != 0) || t ~ /(\\|\||&&|\|\|)$/ || substr(line, length(line)) == "\\"
	if (hdnext != "") {
		hd = hdnext
		hdnext = ""
	}
}
END {
	flush()
	drain()
	exit bad
}
' "$@"
