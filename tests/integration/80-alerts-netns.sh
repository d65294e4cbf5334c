#!/bin/bash
# Alerts end to end: an Alertmanager payload starts a capture on the
# interface its labels name, with the templated filter, and real traffic
# lands in it; repeats are duplicates; the resolution stops it; per-rule
# caps; Grafana's HMAC; dry runs; a broken rule file on SIGHUP.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip tcpreplay tcpdump jq curl openssl

make_netns || skip_all "cannot create network namespaces"
SENT=$T_DIR/sent.pcap
"$PKTGEN" "$SENT" "$MAC_B" 02:00:00:00:00:01 100 600
RULES=$T_DIR/rules
mkdir -p "$RULES"
cat > "$RULES/retrans.json" <<'JSON'
{"name": "retrans",
 "match": {"format": "alertmanager", "alert": "TcpRetransmit*",
           "labels": {"instance": "~^10\\.77\\."}},
 "capture": {"name": "${rule}-${labels.instance|host}",
             "target": {"interface": "${labels.interface|default:eth0}"},
             "filters": [{"protocol": "TCP", "local_ip": "${labels.instance|host}"}],
             "time_limit_s": 60},
 "policy": {"cooldown_s": 300}}
JSON
cat > "$RULES/surge.json" <<'JSON'
[{"name": "surge",
  "match": {"alert": "Surge*", "value": {"op": ">=", "threshold": 10}},
  "capture": {"name": "${rule}-${labels.n}", "target": {"interface": "lo"},
              "filters": [{"protocol": "UDP", "local_port": "9"}]},
  "policy": {"max_concurrent": 5, "dedup_key": "${labels.n}"}},
 {"name": "graf",
  "match": {"format": "grafana"},
  "capture": {"name": "${rule}-${alert.fingerprint|short}", "target": {"interface": "lo"},
              "filters": [{"protocol": "UDP", "local_port": "9"}]}}]
JSON
echo -n "grafana-secret" > "$T_DIR/hmac"
start_daemon alerts "$NS_A" "\"rules\": {\"dir\": \"$RULES\"},
  \"auth\": {\"webhooks\": {\"grafana\": {\"hmac_secret_file\": \"$T_DIR/hmac\"}}}" || exit 1
API_NS=$NS_A

am() {	# am STATUS: an Alertmanager v4 payload for 10.77.0.1 on the veth
	jq -n --arg st "$1" --arg ifc "$IF_A" '{version: "4", groupKey: "g", truncatedAlerts: 0,
	  status: $st, receiver: "alertcap", externalURL: "", groupLabels: {}, commonLabels: {},
	  commonAnnotations: {}, alerts: [{status: $st, labels: {alertname: "TcpRetransmitsHigh",
	  instance: "10.77.0.1:9100", interface: $ifc}, annotations: {},
	  startsAt: "2026-11-26T09:00:00Z", endsAt: "0001-01-01T00:00:00Z", fingerprint: "fp-1"}]}'
}
am firing > "$T_DIR/firing.json"
am resolved > "$T_DIR/resolved.json"

r=$(api POST /v1/alerts "$(cat "$T_DIR/firing.json")")
is "$(cut -d' ' -f1 <<<"$r")" 202 "Alertmanager firing: 202"
is "$(field "${r#* }" '.matched[0].outcome')" started "outcome: started"
is "$(field "${r#* }" '.captures | join(",")')" retrans-10.77.0.1 "the templated capture name"
rec=$(record retrans-10.77.0.1)
is "$(field "$rec" .target.interface)" "$IF_A" "interface from the label"
is "$(field "$rec" '.filters[0].local_ip')" 10.77.0.1 "filter from the label, |host applied"
is "$(field "$rec" '[.trigger.kind, .trigger.rule, .trigger.format, .trigger.alert, .trigger.fingerprint] | join(" ")')" \
    "alert retrans alertmanager TcpRetransmitsHigh fp-1" "trigger on record"

replay "$SENT"
sleep 0.3
# The same payload 1,000 times (webhook retries, repeat_interval).
for i in $(seq 1000); do printf 'url = "%s/v1/alerts"\noutput = "/dev/null"\n' "$URL"; done > "$T_DIR/curl.cfg"
codes=$(ip netns exec "$NS_A" curl -s -H "Authorization: Bearer $TOKEN" -K "$T_DIR/curl.cfg" -H 'Content-Type: application/json' \
    --data-binary @"$T_DIR/firing.json" -w '%{http_code}\n' | sort | uniq -c | awk '{print $2":"$1}')
is "$codes" "202:1000" "1,000 repeats all answered 202"
is "$(api GET '/v1/captures?rule=retrans' | cut -d' ' -f2- | jq '.captures | length')" 1 "and started one capture"
m=$(ip netns exec "$NS_A" curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics")
like "$m" 'alertcap_alert_outcomes_total{outcome="duplicate"} 1000' "1,000 duplicates counted"

r=$(api POST /v1/alerts/alertmanager "$(cat "$T_DIR/resolved.json")")
is "$(field "${r#* }" '.matched[0].outcome')" stopped "resolved: the capture stops"
rec=$(record retrans-10.77.0.1)
is "$(field "$rec" .stop_reason)" AlertResolved "stop reason AlertResolved"
f=$(field "$rec" .file | sed 's|^file://||')
is "$(pcap_count "$f")" "$(pcap_count "$SENT" 'tcp and host 10.77.0.1')" "real traffic in the file, as the filter says"
r=$(api POST /v1/alerts "$(cat "$T_DIR/firing.json")")
is "$(field "${r#* }" '.matched[0].outcome')" cooldown "firing again within cooldown_s: cooldown"

# 200 distinct alerts against max_concurrent 5.
jq -n '[range(200) | {name: "SurgeHigh", status: "firing", value: 50, labels: {n: (. | tostring)}}]' > "$T_DIR/surge.json"
r=$(api POST /v1/alerts/generic "$(cat "$T_DIR/surge.json")")
body=${r#* }
is "$(field "$body" .alerts)" 200 "200 alerts read"
is "$(field "$body" '[.matched[] | select(.outcome == "started")] | length')" 5 "5 started"
is "$(field "$body" '[.matched[] | select(.outcome == "limited")] | length')" 195 "195 limited"
like "$(field "$body" '[.matched[] | select(.outcome == "limited")][0].reason')" "policy.max_concurrent" "limited says why"
r=$(api POST /v1/alerts/generic '{"name": "SurgeHigh", "status": "firing", "value": 5, "labels": {"n": "x"}}')
is "$(field "${r#* }" '.matched | length')" 0 "value below the threshold: no match"

# Grafana's signature.
g='{"version": "1", "orgId": 1, "status": "firing", "state": "alerting", "alerts": [{"status": "firing", "labels": {"alertname": "G1"}, "fingerprint": "abcdef0123456789abc", "values": null}]}'
code=$(ip netns exec "$NS_A" curl -s -o /dev/null -w '%{http_code}' -H 'X-Grafana-Alerting-Signature: 00ff' --data-binary "$g" "$URL/v1/alerts")
is "$code" 401 "wrong HMAC: 401"
is "$(api GET '/v1/captures?rule=graf' | cut -d' ' -f2- | jq '.captures | length')" 0 "and nothing started"
sig=$(printf '%s' "$g" | openssl dgst -sha256 -hmac grafana-secret | awk '{print $NF}')
code=$(ip netns exec "$NS_A" curl -s -o /dev/null -w '%{http_code}' -H "X-Grafana-Alerting-Signature: $sig" --data-binary "$g" "$URL/v1/alerts")
is "$code" 202 "right HMAC: 202"

# Dry run, and the CLI.
r=$(api POST /v1/rules/test "$(jq '.alerts[0].labels.instance = "10.77.0.2:9100" | .alerts[0].fingerprint = "fp-2"' "$T_DIR/firing.json")")
is "$(field "${r#* }" '[.matched[0].reason, .matched[0].capture] | join(" ")')" "dry run: would start retrans-10.77.0.2" "dry run says what would start"
out=$(ip netns exec "$NS_A" env ALERTCAP_URL="$URL" "$ALERTCAP" alert send "$T_DIR/resolved.json" 2>&1)
like "$out" "1 alert(s)" "alertcap alert send posts a payload"

# A broken rule file: -t names it, SIGHUP keeps the old rules.
printf '{\n  "name": "broken",\n  "match": {"alert": 5},\n  "capture": {}\n}\n' > "$RULES/zz-broken.json"
out=$("$ALERTCAPD" -t -c "$DDIR/alertcap.json" 2>&1)
like "$out" "$RULES/zz-broken.json:3:13: match.alert: must be a string" "-t: file:line:col of the broken rule"
kill -HUP "$DPID"
sleep 0.3
is "$(api GET /v1/rules | cut -d' ' -f2- | jq '.rules | length')" 3 "SIGHUP with a broken file keeps the 3 old rules"
r=$(api POST /v1/alerts '{"name": "SurgeHigh", "status": "firing", "value": 50, "labels": {"n": "after"}}')
is "$(field "${r#* }" '.matched[0].rule')" surge "and they still act"

# Dedup keys live in the records: a restart forgets none of them.
stop_pid "$DPID"
rm "$RULES/zz-broken.json"
launch_daemon alerts "$NS_A" || exit 1
r=$(api POST /v1/alerts "$(cat "$T_DIR/firing.json")")
is "$(field "${r#* }" '.matched[0].outcome')" cooldown "after a restart: still cooldown"
r=$(api POST /v1/alerts/generic '{"name": "SurgeHigh", "status": "firing", "value": 50, "labels": {"n": "0"}}')
is "$(field "${r#* }" '.matched[0].outcome')" cooldown "after a restart: a capture ended by Shutdown counts for cooldown"
done_testing
