#!/bin/bash
# MQTT against a real mosquitto: feeds start captures; three nodes on one
# broker, where an alert for B starts a capture on B only; a capture made
# on C through A's REST API; retained records and events; alerts queued
# while a node is away and across a broker restart; the will; Telegraf
# metrics that fire and resolve; commands with MQTT 5 response topics;
# malformed feed payloads; TLS.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd mosquitto mosquitto_pub mosquitto_sub jq curl openssl promtool

broker_conf
start_broker || skip_all "mosquitto did not start"

RULES=$T_DIR/rules
mkdir -p "$RULES"
cat > "$RULES/r.json" <<'JSON'
[{"name": "cap",
  "match": {"alert": "Cap*"},
  "capture": {"name": "${rule}-${labels.id}",
              "target": {"node": "${labels.node}", "interface": "lo"},
              "filters": [{"protocol": "UDP", "local_port": "9"}], "time_limit_s": 120}},
 {"name": "drops",
  "match": {"format": "telegraf-json", "alert": "net.drop_in",
            "value": {"op": ">", "threshold": 100}},
  "capture": {"name": "drops-${labels.interface}",
              "target": {"node": "${labels.host}", "interface": "lo"},
              "filters": [{"protocol": "UDP", "local_port": "9"}], "time_limit_s": 120}}]
JSON
MQTT="\"rules\": {\"dir\": \"$RULES\"}, \"mqtt\": {\"port\": $BPORT, \"keepalive_s\": 5, \"reconnect_max_s\": 2,
  \"subscriptions\": [{\"topic\": \"alerts/#\", \"format\": \"generic\"},
                      {\"topic\": \"metrics/#\", \"format\": \"telegraf-json\"}]}"
start_daemon a "" "${MQTT%\}}, \"request_timeout_s\": 30}" || exit 1
URL_A=$URL; DPID_A=$DPID
start_daemon b "" "$MQTT" || exit 1
URL_B=$URL; DPID_B=$DPID
for _ in $(seq 50); do
	r=$(curl -s "$URL_B/readyz")
	[ "$(jq -r '.checks[] | select(.check == "broker") | .ok' <<<"$r")" = true ] && break
	sleep 0.1
done
like "$(jq -r '.checks[] | select(.check == "broker") | .reason' <<<"$r")" "connected to 127.0.0.1:$BPORT" "GET /readyz: the broker is connected"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL_B/readyz")" 200 "and the node is ready"
start_daemon c "" "$MQTT" || exit 1
URL_C=$URL; DPID_C=$DPID
URL=$URL_A

# wait_for SECONDS CMD...: until CMD succeeds.
wait_for() {
	local secs=$1; shift
	for _ in $(seq $((secs * 10))); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
count() { acurl -s "$1/v1/captures" | jq '.captures | length'; }
has() { acurl -sf -o /dev/null "$1/v1/captures/$2"; }
node_status() { acurl -s "$URL_A/v1/nodes" | jq -r --arg n "$1" '.nodes[] | select(.node == $n) | .status'; }
online3() { [ "$(acurl -s "$URL_A/v1/nodes" | jq '[.nodes[] | select(.status == "online")] | length')" = 3 ]; }
pub() { mosquitto_pub -p "$BPORT" -q 1 "$@"; }

wait_for 10 online3
ok $? "GET /v1/nodes on A lists three nodes online"

pub -t alerts/net -m '{"name": "CapHigh", "status": "firing", "labels": {"id": "1", "node": "b"}}'
wait_for 5 has "$URL_B" cap-1
ok $? "an alert on a shared topic for node b starts a capture on B"
sleep 0.3
is "$(count "$URL_A")/$(count "$URL_C")" "0/0" "and on neither A nor C"
like "$(acurl -s "$URL_B/v1/captures/cap-1" | jq -r .trigger.via)" "mqtt:alerts/net" "via records the topic"

# A webhook alert on A for a rule that targets B is sent to B.
r=$(api POST /v1/alerts/generic '{"name": "CapHigh", "status": "firing", "labels": {"id": "fw", "node": "b"}}')
is "$(field "${r#* }" '[.matched[0].outcome, .matched[0].node] | join(" ")')" "forwarded b" "webhook alert for B's rule on A: forwarded to b"
wait_for 5 has "$URL_B" cap-fw
ok $? "and the capture runs on B, with the alert as its trigger"
r=$(api POST /v1/alerts/generic '{"name": "CapHigh", "status": "firing", "labels": {"id": "fw", "node": "b"}}')
sleep 0.5
is "$(acurl -s "$URL_B/v1/captures?rule=cap" | jq '[.captures[] | select(.name | startswith("cap-fw"))] | length')" 1 "a repeat is a duplicate on B"

# A capture on C through A's REST API, and its lifecycle on the broker.
mosquitto_sub -p "$BPORT" -t alertcap/c/events -v > "$T_DIR/events" 2>/dev/null &
T_PIDS+=("$!")
sleep 0.2
r=$(api PUT /v1/nodes/c/captures/via-a '{"target": {"interface": "lo"}, "time_limit_s": 60}')
is "$(cut -d' ' -f1 <<<"$r")" 201 "PUT /v1/nodes/c/captures/via-a through A: 201"
is "$(field "${r#* }" .node)" c "the record is C's"
has "$URL_C" via-a
ok $? "C has it in its own API"
ret=$(mosquitto_sub -p "$BPORT" -t alertcap/c/captures/via-a -C 1 -W 3 2>/dev/null)
is "$(jq -r .status <<<"$ret")" Running "retained record on alertcap/c/captures/via-a: Running"
out=$(ALERTCAP_URL=$URL_A "$ALERTCAP" --node c list 2>&1)
like "$out" "via-a" "alertcap --node c list, asked of A"
is "$(api POST /v1/nodes/c/captures/via-a/stop | cut -d' ' -f1)" 200 "stop through A"
ret=$(mosquitto_sub -p "$BPORT" -t alertcap/c/captures/via-a -C 1 -W 3 2>/dev/null)
is "$(jq -r .stop_reason <<<"$ret")" ManualStop "retained record republished: ManualStop"
is "$(api DELETE /v1/nodes/c/captures/via-a | cut -d' ' -f1)" 204 "delete through A"
ret=$(mosquitto_sub -p "$BPORT" -t alertcap/c/captures/via-a -C 1 -W 1 2>/dev/null)
is "$ret" "" "the retained record is emptied on delete"
sleep 0.3
is "$(grep -c 'via-a' "$T_DIR/events")" 4 "events: NotStarted, Running, Stopped, Deleted"
is "$(api GET /v1/nodes/c/captures/none | cut -d' ' -f1)" 404 "another node's 404 comes back as 404"
like "$(api PUT /v1/nodes/c/captures/bad '{"target": {"interface": "lo"}, "time_limit_s": 0}')" "time_limit_s: 0 is out of range" "validated on C exactly as its REST API would"

# Commands straight on the topic, with MQTT 5 response topics.
# command NODE PAYLOAD: prints the answer on a fresh response topic.
command() {
	local resp=resp/$RANDOM sp
	mosquitto_sub -V 5 -p "$BPORT" -t "$resp" -C 1 -W 5 > "$T_DIR/resp" 2>/dev/null &
	sp=$!
	sleep 0.3
	mosquitto_pub -V 5 -p "$BPORT" -q 1 -t "alertcap/$1/cmd" -m "$2" \
	    -D publish response-topic "$resp" -D publish correlation-data c1
	wait_pid "$sp" 10
	cat "$T_DIR/resp"
}
like "$(command b '{"op": "reboot"}')" '"status":400' "an unknown op is answered 400 on the response topic"
like "$(command b 'not json')" 'payload:1:' "a payload that is not JSON is answered 400, naming where"
like "$(command b '{"op": "get", "name": "cap-1"}')" '"status":200' "get answers the record"

# Malformed feed payloads: logged, counted, nothing else.
before=$(count "$URL_A")
pub -t alerts/bad -m 'this is not json'
pub -t alerts/bad -m '{"status": "firing"}'
sleep 0.5
like "$(acurl -s "$URL_A/metrics")" 'alertcap_mqtt_malformed_total{topic="alerts/#",format="generic"} 2' "malformed payloads counted"
is "$(count "$URL_A")" "$before" "and they change nothing"

# Telegraf metrics cross the threshold, then fall back.
tg() { pub -t metrics/a/net -m "{\"name\": \"net\", \"tags\": {\"host\": \"a\", \"interface\": \"eth9\"}, \"fields\": {\"drop_in\": $1, \"bytes_recv\": 1}, \"timestamp\": 1764150000}"; }
tg 50
sleep 0.3
has "$URL_A" drops-eth9
ok "$([ $? -ne 0 ]; echo $?)" "telegraf sample under the threshold: no capture"
tg 500
wait_for 5 has "$URL_A" drops-eth9
ok $? "telegraf sample over the threshold starts a capture"
tg 20
wait_for 5 sh -c "curl -s -H 'Authorization: Bearer $TOKEN' $URL_A/v1/captures/drops-eth9 | grep -q AlertResolved"
ok $? "the next sample under it stops the capture with AlertResolved"

# Alerts published while B is away are delivered when it returns.
stop_pid "$DPID_B"
pub -t alerts/net -m '{"name": "CapHigh", "status": "firing", "labels": {"id": "away1", "node": "b"}}'
pub -t alerts/net -m '{"name": "CapHigh", "status": "firing", "labels": {"id": "away2", "node": "b"}}'
PORT=$(curl -s "$URL_B/healthz" >/dev/null 2>&1; echo "${URL_B##*:}")
launch_daemon b "" || exit 1
URL=$URL_A
wait_for 5 has "$URL_B" cap-away2
ok $? "two alerts published while B was stopped reach B when it starts"
has "$URL_B" cap-away1
ok $? "(the first one too)"

# The broker restarts: A reconnects, and an alert published before A is
# back is not lost.
stop_pid "$BPID"
start_broker || exit 1
pub -t alerts/net -m '{"name": "CapHigh", "status": "firing", "labels": {"id": "restart", "node": "a"}}'
wait_for 15 has "$URL_A" cap-restart
ok $? "after a broker restart A reconnects and gets the QoS 1 alert"
m=$(acurl -s "$URL_A/metrics")
like "$m" "alertcap_mqtt_connected 1" "A says it is connected"
out=$(printf '%s\n' "$m" | promtool check metrics 2>&1)
is "$?:$out" "0:" "metrics with MQTT: promtool check metrics finds nothing to fault"

# A frozen node (its socket open) goes offline when the broker's keepalive
# (1.5 x keepalive_s) publishes its will: a command waiting on it is
# answered then (A waits up to 30 s for an answer). All three are back
# from the broker's restart first: each connected again, and A seeing
# them online.
connected() { curl -s -H "Authorization: Bearer $TOKEN" "$1/metrics" | grep -q '^alertcap_mqtt_connected 1'; }
wait_for 15 connected "$URL_B" && wait_for 15 connected "$URL_C" && wait_for 15 online3
ok $? "all three nodes connected and online again after the broker's restart"
kill -STOP "$DPID_C"
t0=$(date +%s%N)
(acurl -s -o "$T_DIR/frozen" -w '%{http_code}' "$URL_A/v1/nodes/c/captures" > "$T_DIR/frozen.code"; date +%s%N > "$T_DIR/frozen.at") &
FROZEN=$!
wait_for 25 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $URL_A/v1/nodes | jq -r '.nodes[] | select(.node == \"c\") | .status')\" = offline ]"
ok $? "a frozen node shows offline when the broker's keepalive ends"
t1=$(date +%s%N)
wait_pid "$FROZEN" 35
echo "# offline after $(( (t1 - t0) / 1000000 )) ms; the pending command answered after $(( ($(cat "$T_DIR/frozen.at") - t0) / 1000000 )) ms"
is "$(cat "$T_DIR/frozen.code")" 503 "a command pending on it is answered 503 when its will arrives"
like "$(cat "$T_DIR/frozen")" "went offline" "saying why"
kill -CONT "$DPID_C"
stop_pid "$DPID_C" KILL
t0=$(date +%s%N)
r=$(api GET /v1/nodes/c/captures)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
is "$(cut -d' ' -f1 <<<"$r")" 503 "a command to a node the broker says is offline is refused with 503"
like "$r" "node 'c' is offline: the broker holds its last will" "naming the node"
[ "$ms" -lt 1000 ]
ok $? "at once ($ms ms), not after request_timeout_s"
URL=$URL_B
is "$(api GET /v1/nodes/ghost/captures | cut -d' ' -f1)" 504 "a command to a node never seen times out with 504"
URL=$URL_A

# TLS: a broker listener with certificates made here.
cd "$T_DIR" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=mq-test-ca" -keyout ca.key -out ca.pem >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout b.key -out b.csr >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in b.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out b.pem >/dev/null 2>&1
chmod 644 ca.pem b.pem b.key
TPORT=$(free_port)
printf 'listener %s 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\n' "$TPORT" "$T_DIR/ca.pem" "$T_DIR/b.pem" "$T_DIR/b.key" >> "$T_DIR/broker/m.conf"
stop_pid "$BPID"
start_broker || exit 1
start_daemon d "" "\"mqtt\": {\"port\": $TPORT, \"tls\": {\"ca_file\": \"$T_DIR/ca.pem\"}}" || exit 1
wait_for 10 sh -c "[ \"\$(curl -s -H 'Authorization: Bearer $TOKEN' $URL_A/v1/nodes | jq -r '.nodes[] | select(.node == \"d\") | .status')\" = online ]"
ok $? "a node on the TLS listener is online"
done_testing
