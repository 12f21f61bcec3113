#!/bin/sh
# GitHub Actions runner hook, ACTIONS_RUNNER_HOOK_JOB_STARTED=/path/to/job-started.sh: note
# when this job started, for job-completed.sh's slice of the long-running recorder's report.
# README ("One recorder, a slice per job") has the setup; cidtrace-hooks.sh the settings.
set -eu
# shellcheck source=examples/hooks/cidtrace-hooks.sh
. "$(dirname -- "$0")/cidtrace-hooks.sh"

: "${RUNNER_TEMP:?not set: run this as the job-started hook of the runner}"
mkdir -p -- "$RUNNER_TEMP/cidtrace"
ct_now >"$RUNNER_TEMP/cidtrace/started"
