#!/usr/bin/env bats
# scripts/lint-bats.sh, which `make test` runs over every bats file: it finds the statements
# that cannot fail a test, and only those.

load helper
bats_require_minimum_version 1.5.0

LINT="$BATS_TEST_DIRNAME/../../scripts/lint-bats.sh"

@test "lint-bats: each statement that cannot fail is named with its line" {
	# "%test": bats would take a line starting with the real thing for one of its own tests
	sed 's/^%test/@test/' >"$T/bad.bats" <<-'EOF'
	%test "bad" {
		! grep -q x "$T/f"
		! echo "$output" | grep -q x
		[ "$status" -eq 0 ] && [ -z "$output" ]
		for f in a b; do [ -e "$f" ] && grep -q x "$f"; done
		[ -e a ] &&
			[ -e b ]
		echo "it's" && true; ! false
	}
	EOF
	run "$LINT" "$T/bad.bats"
	[ "$status" -eq 1 ]
	[ "$(printf '%s\n' "${lines[@]}" | cut -d: -f2 | paste -sd' ')" = "2 3 4 5 6 8 8" ]
	[[ "${lines[0]}" == "$T/bad.bats:2: a bare \`! cmd\` cannot fail the test"* ]]
	[[ "${lines[2]}" == "$T/bad.bats:4: \`A && B\` does not fail the test when A fails"* ]]
}

@test "lint-bats: conditions, guards, quoted text and heredocs pass" {
	sed 's/^%test/@test/' >"$T/good.bats" <<-'EOF'
	alive() { kill -0 "$1" && [ -e "/proc/$1" ]; }
	helper() {
		[ -e "$1" ] && return 0
		grep -q x "$1" && echo found
	}
	%test "good" {
		run ! grep -q x "$T/f"
		if ! grep -q x "$T/f"; then :; fi
		while ! [ -e "$T/f" ] && [ -d "$T" ]; do break; done
		[[ -e a && -e b ]]
		(( 1 && 1 ))
		x=$(true && echo y)
		[ a ] && [ b ] || false
		grep -q x "$T/f" && false
		(sleep 1 && true) &
		jq -e '
		! not code && neither' "$T/f" || true
		cat <<-EOT
		! not code
		a && b
		EOT
		echo "a && b; ! c" # ! not code && neither
	}
	EOF
	run "$LINT" "$T/good.bats"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}

@test "lint-bats: the project's own bats files pass" {
	run "$LINT"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
}
