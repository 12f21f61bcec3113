#!/usr/bin/env bash
# Build the report fuzzer (libFuzzer with ASan and UBSan, clang) and run it for SECONDS
# (default 60) over a scratch copy of the seed corpus, so that the seeds in git stay small.
# A crash leaves its input in build/fuzz/ and makes this script fail; add it to the corpus
# once fixed.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-60}
make -s build/fuzz/fuzz_report
work=build/fuzz/work
mkdir -p "$work"
exec build/fuzz/fuzz_report -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
	-max_len=65536 -dict=tests/fuzz/report.dict -artifact_prefix=build/fuzz/ \
	-print_final_stats=1 "$work" tests/fuzz/corpus
