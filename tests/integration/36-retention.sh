#!/bin/bash
# Retention and the disk budget. Past captures.retention.max_bytes the
# oldest finished files go first; never a running capture's, never one
# whose upload is pending; each record says file_state deleted, when and
# why; /metrics counts them. DELETE forgets the record but keeps counting
# its file (across a restart) until retention deletes it; DELETE
# ?file=true (alertcap delete --file) takes the file too. /healthz shows
# the budget. Bad values are refused at file:line:col.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl

# -t: bad retention values name the field.
cat > "$T_DIR/bad.json" <<'JSON'
{
  "captures": {"retention": {"max_bytes": -5,
                             "max_age": 60}}
}
JSON
out=$("$ALERTCAPD" -t -c "$T_DIR/bad.json" 2>&1)
like "$out" "$T_DIR/bad.json:2:30: captures.retention.max_bytes: -5 is out of range" "-t: a negative max_bytes, at file:line:col"
like "$out" "$T_DIR/bad.json:3:30: captures.retention.max_age: unknown key" "-t: an unknown retention key"

DEAD=$(free_port)	# nothing listens: the upload stays pending
CAPTURES_EXTRA=', "retention": {"max_bytes": 0}' start_daemon ret "" \
    "\"storage\": {\"dead\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$DEAD/{name}\"}}" || exit 1
cfg=$DDIR/alertcap.json

# capture NAME [STORAGE]: a finished capture of some pings.
capture() {
	api PUT "/v1/captures/$1" "{\"target\": {\"interface\": \"lo\"}, \"bpf\": \"icmp\"${2:+, \"storage\": $2}}" >/dev/null
	send_ping 10 300
	sleep 0.3
	api POST "/v1/captures/$1/stop" >/dev/null
	wait_status "$1" Stopped 10
}
bytes() { field "$(record "$1")" .bytes; }
disk() { curl -s "$URL/healthz" | jq -r ".disk.$1"; }

capture pinned '{"file": true, "accounts": ["dead"]}'
capture a1
capture a2
capture a3
api PUT /v1/captures/live '{"target": {"interface": "lo"}, "bpf": "icmp", "max_bytes_per_session": 1048576}' >/dev/null
send_ping 5 300
is "$(field "$(record pinned)" '.uploads[0].state' | grep -cE 'Pending|Uploading')" 1 "the pinned capture's upload is pending"
kept=$(( $(bytes pinned) + $(bytes a1) + $(bytes a2) + $(bytes a3) ))
is "$(disk kept_bytes)" "$kept" "/healthz: kept_bytes counts the finished files"
is "$(disk reserved_bytes)" 1048576 "/healthz: reserved_bytes is the running capture's limit"
is "$(disk free_bytes)" "$(( $(disk max_total_bytes) - kept - 1048576 ))" "/healthz: free_bytes is what is left"
f1=$(local_file a1); f2=$(local_file a2); f3=$(local_file a3); fp=$(local_file pinned)

# Room for the newest and the pinned one: a1 and a2 go, oldest first.
limit=$(( $(bytes a3) + $(bytes pinned) + 10 ))
jq --argjson m "$limit" '.captures.retention.max_bytes = $m' "$cfg" > "$cfg.new" && mv "$cfg.new" "$cfg"
kill -HUP "$DPID"
for _ in $(seq 60); do [ "$(field "$(record a2)" .file_state)" = deleted ] && break; sleep 0.1; done
r1=$(record a1)
is "$(field "$r1" .file_state)" deleted "max_bytes: the oldest file is deleted"
is "$(field "$(record a2)" .file_state)" deleted "max_bytes: and the next oldest"
like "$(field "$r1" .file_deleted.reason)" "retention.max_bytes" "the record says why"
ok "$([ -n "$(field "$r1" .file_deleted.at)" ] && [ "$(field "$r1" .file_deleted.at)" != null ]; echo $?)" "and when"
is "$(field "$r1" .file)" null "its file URI is gone"
like "$(field "$r1" '.events[-1].message')" "retention.max_bytes" "an event says so"
sleep 0.3	# the worker unlinks
ok "$([ ! -e "$f1" ] && [ ! -e "$f2" ]; echo $?)" "both files are gone from the disk"
is "$(field "$(record a3)" .file_state)" local "the newest stays"
is "$(field "$(record pinned)" .file_state)" local "the oldest stays: its upload is pending"
ok "$([ -e "$f3" ] && [ -e "$fp" ]; echo $?)" "their files are there"
is "$(field "$(record live)" .status)" Running "the running capture runs on"
ok "$(ls "$DDIR"/captures/live_*.part >/dev/null 2>&1; echo $?)" "its file is still being written"
m=$(acurl -s "$URL/metrics")
like "$m" 'alertcap_capture_files_deleted_total{reason="max_bytes"} 2' "/metrics: two files deleted for max_bytes"
like "$m" "alertcap_capture_files_held_bytes $(( $(bytes a3) + $(bytes pinned) ))" "/metrics: the bytes held"

# DELETE forgets the record; the file stays, counted, across a restart.
# (Retention off first: live's file, once finished, would push a3 out.)
jq '.captures.retention.max_bytes = 0' "$cfg" > "$cfg.new" && mv "$cfg.new" "$cfg"
n0=$(grep -c reloading "$DDIR/daemon.log")
kill -HUP "$DPID"
for _ in $(seq 50); do [ "$(grep -c reloading "$DDIR/daemon.log")" -gt "$n0" ] && break; sleep 0.05; done
sleep 0.2
api POST /v1/captures/live/stop >/dev/null
wait_status live Stopped 10
fl=$(local_file live)
is "$(api DELETE '/v1/captures/live?file=true' | cut -d' ' -f1)" 204 "DELETE ?file=true: 204"
sleep 0.3
ok "$([ ! -e "$fl" ]; echo $?)" "DELETE ?file=true: the file is gone"
like "$(acurl -s "$URL/metrics")" 'alertcap_capture_files_deleted_total{reason="deleted"} 1' "/metrics: counted as deleted"
b3=$(bytes a3)
held=$(disk kept_bytes)
is "$(api DELETE /v1/captures/a3 | cut -d' ' -f1)" 204 "DELETE: 204"
ok "$([ -e "$f3" ]; echo $?)" "DELETE: the file stays"
is "$(disk kept_bytes)" "$held" "DELETE: it is still counted"
stop_pid "$DPID"
launch_daemon ret || exit 1
is "$(disk kept_bytes)" "$held" "restart: the forgotten file is still counted"
is "$(api DELETE '/v1/captures/pinned?file=maybe' | cut -d' ' -f1)" 400 "DELETE ?file=maybe: 400"
(cd "$DDIR" && "$ALERTCAP" -u "$URL" delete --file pinned >/dev/null)
ok $? "alertcap delete --file"
sleep 0.3
ok "$([ ! -e "$fp" ]; echo $?)" "delete --file: the file is gone"
is "$(disk kept_bytes)" "$b3" "and no longer counted"

# max_age_s: the forgotten file goes too, once old enough.
api PUT /v1/captures/live2 '{"target": {"interface": "lo"}, "bpf": "icmp"}' >/dev/null
jq '.captures.retention = {"max_age_s": 1, "max_bytes": 0}' "$cfg" > "$cfg.new" && mv "$cfg.new" "$cfg"
kill -HUP "$DPID"
for _ in $(seq 50); do [ ! -e "$f3" ] && break; sleep 0.1; done
ok "$([ ! -e "$f3" ]; echo $?)" "max_age_s: the forgotten capture's old file is deleted"
is "$(disk kept_bytes)" 0 "nothing is held now"
like "$(acurl -s "$URL/metrics")" 'alertcap_capture_files_deleted_total{reason="max_age"} 1' "/metrics: one file deleted for max_age"
is "$(field "$(record live2)" .status)" Running "a running capture's file is never deleted"
ok "$(ls "$DDIR"/captures/live2_*.part >/dev/null 2>&1; echo $?)" "its file is still being written"
done_testing
