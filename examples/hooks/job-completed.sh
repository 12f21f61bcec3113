#!/bin/sh
# GitHub Actions runner hook, ACTIONS_RUNNER_HOOK_JOB_COMPLETED=/path/to/job-completed.sh:
# this job's slice of the long-running recorder's report, its processes in $GITHUB_WORKSPACE
# from job-started.sh's time to now, as cidtrace-slice.json, .txt and .html in
# $CIDTRACE_OUT (default $RUNNER_TEMP/cidtrace). Also works as a workflow's last step
# (`if: always()`), before a step that uploads the slice as an artifact.
set -eu
# shellcheck source=examples/hooks/cidtrace-hooks.sh
. "$(dirname -- "$0")/cidtrace-hooks.sh"

: "${RUNNER_TEMP:?not set: run this as the job-completed hook of the runner}"
: "${GITHUB_WORKSPACE:?not set: run this as the job-completed hook of the runner}"
state=$RUNNER_TEMP/cidtrace
IFS= read -r since <"$state/started" || {
	ct_say "no start time in $state/started: is job-started.sh the job-started hook?"
	exit 1
}
until=$(ct_now)
ct_checkpoint "$until"
ct_slice "$GITHUB_WORKSPACE" "$since" "$until" "${CIDTRACE_OUT:-$state}"
