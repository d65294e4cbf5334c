#!/bin/bash
# The Grafana dashboard in contrib/grafana/ is valid JSON, every panel's
# query names only metric families /metrics really exposes (from a daemon
# with every module that has metrics configured), and each family it needs
# to show what an operator asks of it is there.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl
dash=$srcdir/contrib/grafana/alertcap-dashboard.json

jq -e . "$dash" >/dev/null 2>&1
ok $? "the dashboard is JSON"
is "$(jq -r '.uid + " " + (.panels | length | tostring)' "$dash")" "alertcap 16" "uid alertcap, 16 panels"
is "$(jq -r '[.panels[] | select(.gridPos == null or .targets == null or (.targets | length) == 0)] | length' "$dash")" 0 "every panel has a place and a query"

start_daemon dash "" "\"storage\": {\"w\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:9/{name}\"}},
 \"notify\": {\"h\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:9/\"}},
 \"lookback\": {\"interfaces\": {\"lo\": {\"memory_bytes\": 1048576}}},
 \"mqtt\": {\"port\": 9, \"reconnect_max_s\": 60}" || exit 1
have=$(acurl -s "$URL/metrics" | sed -n 's/^# TYPE \([a-z_]*\) .*/\1/p' | sort -u)
used=$(jq -r '.panels[].targets[].expr' "$dash" | grep -o 'alertcap_[a-z_]*' | sort -u)
missing=$(comm -13 <(echo "$have") <(echo "$used") | tr '\n' ' ')
is "$missing" "" "every metric the dashboard queries is one /metrics exposes ($(wc -w <<<"$used") used)"
for m in alertcap_captures alertcap_alert_outcomes_total alertcap_capture_kernel_drops_total \
    alertcap_uploads_running alertcap_notifications_pending alertcap_lookback_bytes; do
	like "$used" "$m" "it shows $m"
done
done_testing
