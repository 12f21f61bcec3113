#!/usr/bin/env bats
# The fleet view: examples/prometheus/ (alert rules, Grafana dashboard) checked with promtool
# against the metrics a real `cidtrace record --metrics` writes. promtool comes from Debian's
# prometheus package; scripts/deps.sh (run by `make test`) installs it alone.

load helper
bats_require_minimum_version 1.5.0

FIX="$BATS_TEST_DIRNAME/../../build/fixtures"
EX="$(cd "$BATS_TEST_DIRNAME/../.." && pwd)/examples/prometheus"

setup_file() {
	command -v promtool >/dev/null || {
		echo "promtool is missing: run scripts/deps.sh (as root)" >&2
		return 1
	}
}

# The metric names a file of the text format defines.
defined_names() {
	grep -v '^#' "$1" | sed -E 's/[{ ].*//' | sort -u
}

# Every cidtrace_* name in stdin is defined in metrics file $1; prints the ones that are not.
all_defined() {
	local missing
	missing=$(grep -oE 'cidtrace_[a-z_]+' | sort -u | comm -23 - <(defined_names "$1"))
	[ -z "$missing" ] || { echo "not in cidtrace's metrics: $missing" >&2; return 1; }
}

# The dashboard's queries, Grafana's variables replaced by what they stand for.
dashboard_exprs() {
	jq -r '[.. | objects | .expr? // empty] | .[]' "$EX/grafana-dashboard.json" |
		sed -e 's/\$instance/.*/g' -e 's/\$__range/1h/g' -e 's/\$__rate_interval/5m/g'
}

@test "alerts.yml: promtool check rules" {
	run promtool check rules "$EX/alerts.yml"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"SUCCESS: 8 rules found"* ]]
}

@test "the metrics of a real record pass promtool; every cidtrace_* name the examples use is in them" {
	M="$T/cidtrace.prom"
	start_record --checkpoint 0.2 --metrics "$M"
	stop_record
	run promtool check metrics <"$M"
	echo "$output"
	[ "$status" -eq 0 ]
	[ -z "$output" ]
	for m in cidtrace_checkpoint_timestamp_seconds cidtrace_vmms_orphaned \
		cidtrace_retention_dropped_total cidtrace_findings_total cidtrace_guests; do
		defined_names "$M" | grep -qx "$m"
	done
	for w in processes cids uffds findings reaped; do
		grep -qx "cidtrace_retention_dropped_total{what=\"$w\"} 0" "$M"
	done
	# names in the alert rules (comments aside) and in the dashboard's queries
	grep -v '^[[:space:]]*#' "$EX/alerts.yml" | all_defined "$M"
	dashboard_exprs | all_defined "$M"
	# and neither names nothing: the check above would pass on an empty file
	[ "$(grep -v '^[[:space:]]*#' "$EX/alerts.yml" | grep -oE 'cidtrace_[a-z_]+' | sort -u | wc -l)" -ge 6 ]
	[ "$(dashboard_exprs | grep -oE 'cidtrace_[a-z_]+' | sort -u | wc -l)" -ge 8 ]
}

@test "grafana-dashboard.json: JSON with a schemaVersion, a Prometheus datasource variable, and queries promtool parses" {
	J="$EX/grafana-dashboard.json"
	jq -e '.schemaVersion | type == "number"' "$J"
	jq -e '[.templating.list[] | select(.type == "datasource" and .query == "prometheus")] |
		length == 1' "$J"
	# every panel queries through that variable
	jq -e '[.panels[] | select(.type != "row") | .datasource.uid] | length > 0 and
		all(. == "${datasource}")' "$J"
	# each query, as a recording rule, parses
	{
		echo "groups:"
		echo "  - name: dashboard"
		echo "    rules:"
		i=0
		while IFS= read -r e; do
			i=$((i + 1))
			echo "      - record: dashboard:query_$i"
			echo "        expr: '${e//\'/\'\'}'"
		done < <(dashboard_exprs)
	} >"$T/dashboard-rules.yml"
	run promtool check rules "$T/dashboard-rules.yml"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"SUCCESS: $(dashboard_exprs | wc -l) rules found"* ]]
}

@test "the alerts fire as documented (promtool test rules)" {
	cat >"$T/alerts_test.yml" <<-EOF
	rule_files:
	  - $EX/alerts.yml
	evaluation_interval: 1m
	tests:
	  - interval: 1m
	    input_series:
	      # ci1: a guest stalls at minute 1; its recorder writes every minute until minute 4
	      - series: 'cidtrace_guests{instance="ci1",job="node",uffd_state="stalled"}'
	        values: '0 1 1 1 1 1 1 1 1 1 1 1'
	      - series: 'cidtrace_checkpoint_timestamp_seconds{instance="ci1",job="node"}'
	        values: '0+60x4 240x10'
	      - series: 'cidtrace_findings_total{instance="ci1",job="node",kind="cid_conflict"}'
	        values: '0 0 2 2 2 2 2 2 2 2 2 2'
	      # a released orphan at minute 2: no gauge counts it, the findings counter does
	      - series: 'cidtrace_findings_total{instance="ci1",job="node",kind="uffd_orphan"}'
	        values: '0 0 1 1 1 1 1 1 1 1 1 1'
	      - series: 'cidtrace_up{instance="ci1",job="node"}'
	        values: '1x15'
	      - series: 'up{instance="ci1",job="node"}'
	        values: '1x15'
	      # ci2: node_exporter up, no cidtrace file
	      - series: 'up{instance="ci2",job="node"}'
	        values: '1x15'
	    alert_rule_test:
	      - eval_time: 1m
	        alertname: CidtraceOrphanedUffdGuest
	        exp_alerts: []
	      - eval_time: 3m
	        alertname: CidtraceOrphanedUffdGuest
	        exp_alerts:
	          - exp_labels: { severity: critical, instance: ci1, uffd_state: stalled }
	            exp_annotations:
	              summary: "1 orphaned userfaultfd guest(s) stalled on ci1"
	              description: "A VMM's userfaultfd pager has exited while guest memory is still registered. Run \`cidtrace guests\` on the host to find the VMM and its test directory, and the recorder's report (uffd_orphan findings) for when and who killed the pager."
	      - eval_time: 3m
	        alertname: CidtraceCidConflicts
	        exp_alerts:
	          - exp_labels: { severity: warning, instance: ci1 }
	            exp_annotations:
	              summary: "2 vhost-vsock CID conflict(s) in the last hour on ci1"
	              description: 'See the cid_conflict findings in the recorder''s report, or cidtrace_findings{kind="cid_conflict"} by classification.'
	      - eval_time: 1m
	        alertname: CidtraceUffdOrphans
	        exp_alerts: []
	      - eval_time: 3m
	        alertname: CidtraceUffdOrphans
	        exp_alerts:
	          - exp_labels: { severity: critical, instance: ci1 }
	            exp_annotations:
	              summary: "1 userfaultfd guest(s) lost their pager in the last hour on ci1"
	              description: 'See the uffd_orphan findings in the recorder''s report: state "released" means the guest reads zeros where its pager never served a page, and no gauge shows it.'
	      - eval_time: 8m
	        alertname: CidtraceRecorderStale
	        exp_alerts: []
	      - eval_time: 10m
	        alertname: CidtraceRecorderStale
	        exp_alerts:
	          - exp_labels: { severity: critical, instance: ci1 }
	            exp_annotations:
	              summary: "cidtrace on ci1 has not written its metrics for 6m 0s"
	              description: "Check \`systemctl status cidtrace\` and \`journalctl -u cidtrace\`."
	      - eval_time: 11m
	        alertname: CidtraceRecorderAbsent
	        exp_alerts:
	          - exp_labels: { severity: critical, instance: ci2, job: node }
	            exp_annotations:
	              summary: "no cidtrace metrics from ci2"
	EOF
	run promtool test rules "$T/alerts_test.yml"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *SUCCESS* ]]
}

@test "cidtrace_vmms_orphaned counts a running VMM whose launcher exited" {
	M="$T/cidtrace.prom"
	cp "$FIX/idle" "$D/firecracker"
	start_record --scope "$D" --checkpoint 0.2 --metrics "$M"
	# a launcher that starts the VMM and exits: the VMM is reparented
	sh -c "IDLE_READY='$D/fc.ready' '$D/firecracker' >/dev/null 2>&1 3>&- &
		echo \$! >'$D/fc.pid'" "$D/launcher"
	wait_file "$D/fc.ready"
	wait_line "$M" '^cidtrace_vmms_orphaned 1$'
	grep -qx 'cidtrace_vmms 1' "$M"
	kill "$(cat "$D/fc.pid")"
	wait_line "$M" '^cidtrace_vmms 0$'
	grep -qx 'cidtrace_vmms_orphaned 0' "$M"
	stop_record
}
