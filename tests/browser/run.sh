#!/usr/bin/env bash
# Open a `cidtrace report --format html` page in headless Chromium, as a person would, and check
# the rendered DOM: the timeline is there, the console stayed quiet, and hostile argv is text.
# Keeps a screenshot in ${CIDTRACE_ARTIFACTS:-/tmp/cidtrace-artifacts}/report.png.
# usage: tests/browser/run.sh PAGE.html    (exit 77: no chromium)
set -euo pipefail

page=$(realpath "$1")
art=${CIDTRACE_ARTIFACTS:-/tmp/cidtrace-artifacts}
command -v chromium >/dev/null || { echo "browser: chromium is not installed"; exit 77; }
mkdir -p "$art"
tmp=$(mktemp -d /tmp/cidtrace-browser.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# A fresh profile and nothing that phones home: the page itself may load nothing (its CSP).
chrome=(timeout 90 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$tmp/profile"
	--no-first-run --no-default-browser-check --disable-extensions --disable-sync
	--disable-background-networking --disable-component-update --disable-default-apps)

fail() {
	echo "browser: $*"
	exit 1
}

"${chrome[@]}" --enable-logging=stderr --v=0 --dump-dom "file://$page" >"$tmp/dom.html" \
	2>"$tmp/console.log" || fail "chromium --dump-dom failed: $(tail -3 "$tmp/console.log")"
for want in 'id="timeline"' 'class="row"' 'class="lifetime"' 'class="marker leak"' \
	'id="findings"' '&lt;script&gt;alert(1)&lt;/script&gt;'; do
	grep -qF "$want" "$tmp/dom.html" || fail "rendered DOM lacks $want"
done
# the page has no script of its own, so any script element came from the report
! grep -qi '<script' "$tmp/dom.html" || fail "a <script> element is live in the DOM"
if grep -E 'CONSOLE|Uncaught|Refused to' "$tmp/console.log"; then
	fail "the console reported errors"
fi

"${chrome[@]}" --hide-scrollbars --window-size=1400,900 --screenshot="$art/report.png" \
	"file://$page" >/dev/null 2>"$tmp/shot.log" || fail "screenshot failed: $(tail -3 "$tmp/shot.log")"
size=$(stat -c %s "$art/report.png")
[ "$size" -gt 20000 ] || fail "screenshot $art/report.png is only $size bytes"
echo "browser: ok, screenshot $art/report.png ($size bytes)"
