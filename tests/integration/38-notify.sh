#!/bin/bash
# Notifications: a webhook receiver the test starts hears a capture start,
# stop and upload, each with the record, its file URI and the object's
# URI, a text line for people, the configured header, and an HMAC-SHA256
# signature over the body that checks; a capture names the endpoints it
# tells (or an unknown one is refused, naming the field); a receiver that
# is down is retried with backoff, across a restart of the daemon too; an
# upload that fails for good is told as Failed; a Grafana endpoint gets an
# annotation on the panel that alerted; /metrics counts them.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl openssl python3

HOOK_PORT=$(free_port)
PUT_PORT=$(free_port)
SINK="python3 $srcdir/tests/tools/hooksink.py"
start_hook() {	# start_hook DIR [--fail N]
	$SINK "$HOOK_PORT" "$@" &
	HOOK_PID=$!
	T_PIDS+=("$HOOK_PID")
	for _ in $(seq 100); do
		curl -s -o /dev/null "http://127.0.0.1:$HOOK_PORT/" 2>/dev/null &&
		    return 0
		sleep 0.05
	done
	return 1
}
stop_hook() { kill "$HOOK_PID" 2>/dev/null; wait_pid "$HOOK_PID" 5; }
# hook DIR EVENT CAPTURE: the body the receiver kept for that, or "".
hook() {
	local f
	for f in "$1"/*.json; do
		[ -f "$f" ] || continue
		if [ "$(jq -r "select(.event == \"$2\" and .capture.name == \"$3\") | 1" "$f" 2>/dev/null)" = 1 ]; then
			echo "$f"
			return
		fi
	done
}
# wait_hook DIR EVENT CAPTURE [SECONDS]: waits for it; prints the file.
wait_hook() {
	local f i
	for i in $(seq $((${4:-10} * 10))); do
		f=$(hook "$1" "$2" "$3")
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
	done
	return 1
}

LOCK_PORT=$(free_port)
mkdir -p "$T_DIR/put"
"$builddir/tests/tools/putsink" "$PUT_PORT" "$T_DIR/put" &
T_PIDS+=("$!")
# One that refuses every upload (401: no such header is sent).
"$builddir/tests/tools/putsink" "$LOCK_PORT" "$T_DIR/put" -H "X-Key: k" &
T_PIDS+=("$!")
printf 's3cr3t-for-hmac' > "$T_DIR/hmac"
printf 'glsa_token' > "$T_DIR/gtoken"
start_hook "$T_DIR/hook" || skip_all "the receiver did not start"
mkdir -p "$T_DIR/rules"
cat > "$T_DIR/rules/panel.json" <<'JSON'
{"name": "panel", "match": {"alert": "HighLatency"},
 "capture": {"name": "lat", "target": {"interface": "lo"}, "time_limit_s": 1,
             "context": false, "notify": ["grafana"]}}
JSON
NOTIFY="\"rules\": {\"dir\": \"$T_DIR/rules\"},
 \"storage\": {\"web\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$PUT_PORT/up/{name}.pcapng\"},
             \"locked\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$LOCK_PORT/up/{name}.pcapng\"}},
 \"notify\": {\"oncall\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:$HOOK_PORT/hook\",
                        \"events\": [\"Started\", \"Stopped\", \"Uploaded\", \"Failed\"],
                        \"headers\": [\"X-Team: net\"], \"hmac_secret_file\": \"$T_DIR/hmac\"},
            \"tickets\": {\"type\": \"webhook\", \"url\": \"http://127.0.0.1:$HOOK_PORT/tickets\"},
            \"grafana\": {\"type\": \"grafana-annotation\", \"url\": \"http://127.0.0.1:$HOOK_PORT\",
                        \"token_file\": \"$T_DIR/gtoken\", \"events\": [\"Stopped\"]}}"
start_daemon nt "" "$NOTIFY" || exit 1

# Readiness asks each endpoint: a webhook answers, Grafana is healthy.
r=$(curl -s "$URL/readyz")
is "$(jq -r '.checks[] | select(.check == "notify.oncall") | "\(.ok) \(.reason)"' <<<"$r")" "true answers (HTTP 501)" "GET /readyz: the webhook answers"
is "$(jq -r '.checks[] | select(.check == "notify.grafana") | .ok' <<<"$r")" true "and Grafana's /api/health"

# A capture with an upload: Started, Stopped, Uploaded, each with the record.
is "$(api PUT /v1/captures/n1 '{"target": {"interface": "lo"}, "time_limit_s": 1, "storage": {"file": true, "accounts": ["web"]}, "notify": ["oncall"]}' | cut -d' ' -f1)" 201 "a capture that tells oncall"
send_ping 5
f=$(wait_hook "$T_DIR/hook" Started n1) ; ok $? "Started reaches the receiver"
f=$(wait_hook "$T_DIR/hook" Stopped n1); ok $? "Stopped reaches it"
b=$(cat "$f")
rec=$(record n1)
like "$(jq -r .capture.file <<<"$b")" "file://$DDIR/captures/n1_" "with the file's URI"
is "$(jq -r .capture.status <<<"$b")" Stopped "and the record as it stopped"
like "$(jq -r .text <<<"$b")" "alertcap: capture n1 on nt Stopped (TimeExceeded): " "a text line for people (Slack, Teams)"
like "$(jq -r .text <<<"$b")" "; file file://" "naming the file"
h=${f%.json}.headers
is "$(jq -r '."x-team"' "$h")" net "the configured header is sent"
is "$(jq -r '."x-alertcap-event"' "$h")" Stopped "and the event"
want=$(openssl dgst -sha256 -hmac 's3cr3t-for-hmac' -r "$f" | cut -d' ' -f1)
is "$(jq -r '."x-alertcap-signature"' "$h")" "sha256=$want" "the signature is HMAC-SHA256 of the body"
is "$(jq -r '."content-type"' "$h")" application/json "as JSON"
f=$(wait_hook "$T_DIR/hook" Uploaded n1 15); ok $? "Uploaded reaches it"
is "$(jq -r '.capture.uploads[0].uri' "$f")" "$(field "$(record n1)" '.uploads[0].uri')" "with the object's URI"
like "$(jq -r .text "$f")" "; web Uploaded http://127.0.0.1:$PUT_PORT/up/n1" "and the text names it"
sleep 0.5
is "$(ls "$T_DIR/hook"/*.json | wc -l | tr -d ' ')" 3 "only the endpoint the capture named: three notices, once each"

# Every endpoint by default; an unknown one is refused by name.
refused '{"target": {"interface": "lo"}, "notify": ["oncall", "nope"]}' "notify[1]: no notify endpoint named 'nope' on this node" "an unknown endpoint"
is "$(api PUT /v1/captures/n2 '{"target": {"interface": "lo"}, "time_limit_s": 1}' | cut -d' ' -f1)" 201 "a capture that names none"
f=$(wait_hook "$T_DIR/hook" Stopped n2); ok $? "tells oncall"
# stopped_n2: how many endpoints were told n2 stopped.
stopped_n2() { grep -l '"event":"Stopped","capture":{"name":"n2"' "$T_DIR/hook"/*.json | wc -l; }
for _ in $(seq 50); do [ "$(stopped_n2)" -ge 2 ] && break; sleep 0.1; done
is "$(stopped_n2)" 2 "and tickets (its default events: Stopped, Uploaded, Failed): every endpoint"
# told PATH EVENT CAPTURE: how many notices of that came on PATH.
told() {
	local f n=0
	for f in "$T_DIR/hook"/*.json; do
		[ "$(jq -r '.":path"' "${f%.json}.headers")" = "$1" ] &&
		    [ "$(jq -r "select(.event == \"$2\" and .capture.name == \"$3\") | 1" "$f")" = 1 ] &&
		    n=$((n + 1))
	done
	echo $n
}
is "$(told /tickets Stopped n2) $(told /tickets Started n2) $(told /hook Started n2)" "1 0 1" "each only the events it asks for (tickets: Stopped, not Started)"

# An upload that fails for good: Failed, with the error.
api PUT /v1/captures/n3 '{"target": {"interface": "lo"}, "time_limit_s": 1, "storage": {"file": true, "accounts": ["locked"]}, "notify": ["oncall"]}' >/dev/null
f=$(wait_hook "$T_DIR/hook" Failed n3 20); ok $? "a failed upload is told as Failed"
is "$(jq -r '.capture.uploads[0].state' "$f")" Failed "with the upload's state"
like "$(jq -r .text "$f")" "alertcap: capture n3 on nt Failed" "and says so"

# The receiver down: retried with backoff until it answers.
stop_hook
api PUT /v1/captures/n4 '{"target": {"interface": "lo"}, "time_limit_s": 1, "notify": ["oncall"]}' >/dev/null
wait_status n4 Stopped 10
sleep 1.5
m=$(acurl -s "$URL/metrics")
like "$m" "alertcap_notifications_pending 2" "while the receiver is down, two wait (/metrics)"
start_hook "$T_DIR/hook2" --fail 1 || exit 1
f=$(wait_hook "$T_DIR/hook2" Stopped n4 20); ok $? "once it is back (and after one more 503), Stopped arrives"
ok "$(grep -q 'notify oncall: Stopped of n4: attempt [0-9]* failed' "$DDIR/daemon.log"; echo $?)" "each failed attempt is logged"

# Across a restart: a notice still pending goes after it.
stop_hook
api PUT /v1/captures/n5 '{"target": {"interface": "lo"}, "time_limit_s": 1, "notify": ["oncall"]}' >/dev/null
wait_status n5 Stopped 10
sleep 0.5
kill -TERM "$DPID"; wait_pid "$DPID" 10
start_hook "$T_DIR/hook3" || exit 1
launch_daemon nt || exit 1
f=$(wait_hook "$T_DIR/hook3" Stopped n5 20); ok $? "a notice pending at shutdown is sent after the restart"
ok "$(grep -q 'notify oncall: Stopped of n5 again after a restart' "$DDIR/daemon.log"; echo $?)" "and the log says so"
sleep 1
is "$(grep -l '"name":"n1"' "$T_DIR/hook3"/*.json 2>/dev/null | wc -l | tr -d ' ')" 0 "nothing sent before is sent again"

# Grafana: an annotation over the capture, on the panel that alerted.
r=$(api POST /v1/alerts/grafana '{"receiver": "alertcap", "status": "firing", "orgId": 1, "version": "1",
  "groupKey": "g", "alerts": [{"status": "firing", "labels": {"alertname": "HighLatency", "team": "web"},
  "annotations": {"__dashboardUid__": "abc123", "__panelId__": "7"}, "startsAt": "2026-12-01T10:00:00Z",
  "fingerprint": "f1"}]}')
is "$(cut -d' ' -f1 <<<"$r")" 202 "a Grafana alert from a panel"
for _ in $(seq 100); do
	a=$(grep -l '"dashboardUID"' "$T_DIR/hook3"/*.json 2>/dev/null | head -1)
	[ -n "$a" ] && break
	sleep 0.1
done
ok "$([ -n "$a" ]; echo $?)" "its capture's annotation reaches Grafana's API (/api/annotations)"
is "$(jq -r '"\(.dashboardUID) \(.panelId)"' "$a" 2>/dev/null)" "abc123 7" "on the dashboard and panel that alerted"
is "$(jq -r '.tags | join(",")' "$a" 2>/dev/null)" "alertcap,capture:lat,status:Stopped,alertname:HighLatency,team:web" "tagged with the capture and the alert's labels"
ok "$(jq -e '.timeEnd > .time' "$a" >/dev/null 2>&1; echo $?)" "spanning the capture"
is "$(jq -r .authorization "${a%.json}.headers" 2>/dev/null)" "Bearer glsa_token" "with the service account token"
m=$(acurl -s "$URL/metrics")
like "$m" 'alertcap_notifications_total{state="Sent"}' "/metrics counts what was sent"
like "$m" "alertcap_notification_attempts_total" "and every attempt"

# Bad configuration names the field.
cat > "$T_DIR/bad.json" <<JSON
{"notify": {"x": {"type": "webhook", "url": "ftp://h/", "events": ["Stopped", "Nope"]}}}
JSON
out=$("$ALERTCAPD" -t -c "$T_DIR/bad.json" 2>&1)
like "$out" "notify.x: needs url, http:// or https://" "a URL that is not http(s): named"
like "$out" "notify.x.events[1]: 'Nope' is not Started, Stopped, Uploaded or Failed" "an unknown event: named"
done_testing
