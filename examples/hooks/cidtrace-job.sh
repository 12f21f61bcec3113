#!/bin/sh
# cidtrace-job.sh JOBDIR OUTDIR COMMAND [ARG...]: run one job's COMMAND in JOBDIR beside a
# long-running `cidtrace record` (its --scope covering JOBDIR), then write the job's slice of
# the recorder's report to OUTDIR: cidtrace-slice.json, .txt and .html. Exits with COMMAND's
# status, or, when COMMAND passed, non-zero if the slice could not be written.
# Settings: cidtrace-hooks.sh.
set -eu
# shellcheck source=examples/hooks/cidtrace-hooks.sh
. "$(dirname -- "$0")/cidtrace-hooks.sh"

if [ "$#" -lt 3 ]; then
	echo "usage: cidtrace-job.sh JOBDIR OUTDIR COMMAND [ARG...]" >&2
	exit 2
fi
jobdir=$1
outdir=$2
shift 2

since=$(ct_now)
job_status=0
(cd -- "$jobdir" && exec "$@") || job_status=$?
until=$(ct_now)
ct_checkpoint "$until"
slice_status=0
ct_slice "$jobdir" "$since" "$until" "$outdir" || slice_status=$?
if [ "$job_status" -eq 0 ]; then
	exit "$slice_status"
fi
exit "$job_status"
