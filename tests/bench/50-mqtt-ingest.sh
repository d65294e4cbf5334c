#!/bin/bash
# MQTT ingest: how fast alertcapd consumes alerts queued for it at QoS 1
# by mosquitto (its session persists while it is away), against a plain
# libmosquitto subscriber built here (refmqtt) that parses each payload
# with jansson. N generic alerts that match no rule.
. "$(dirname "$0")/lib.sh"
need_cmd mosquitto mosquitto_pub curl jq
N=${MESSAGES:-20000}
BPORT=$(free_port)
chmod 755 "$T_DIR"
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\nmax_inflight_messages 100\nset_tcp_nodelay true\n' "$BPORT" > "$T_DIR/m.conf"
mosquitto -c "$T_DIR/m.conf" >"$T_DIR/broker.log" 2>&1 &
T_PIDS+=("$!")
sleep 0.5
JSON=$OUT_DIR/mqtt-ingest.json
: > "$JSON"
seq "$N" | awk '{printf "{\"name\": \"NoRule\", \"status\": \"firing\", \"labels\": {\"n\": \"%d\"}}\n", $1}' > "$T_DIR/alerts"
publish() { mosquitto_pub -p "$BPORT" -q 1 -t "$1" -l < "$T_DIR/alerts"; }

start_daemon mq "" "\"mqtt\": {\"port\": $BPORT, \"subscriptions\": [{\"topic\": \"bench/a\", \"format\": \"generic\"}]}, \"log\": {\"level\": \"warn\"}" || exit 1
sleep 1
kill -TERM "$DPID"; wait "$DPID"
"$builddir/tests/bench/refmqtt" "$BPORT" bench/r 0

run_alertcap() {
	local t0 t1 n
	publish bench/a
	t0=$(date +%s.%N)
	launch_daemon mq "" >/dev/null || exit 1
	for _ in $(seq 6000); do
		n=$(curl -s "$URL/metrics" | sed -n 's/^alertcap_mqtt_messages_total{[^}]*} //p')
		[ "${n:-0}" -ge "$N" ] && break
		sleep 0.01
	done
	t1=$(date +%s.%N)
	kill -TERM "$DPID"; wait "$DPID"
	# Time to consume, less the start-up measured on its own.
	awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN {printf "%d", n / (b - a)}'
}
run_ref() {
	local s
	publish bench/r
	s=$("$builddir/tests/bench/refmqtt" "$BPORT" bench/r "$N")
	awk -v s="$s" -v n="$N" 'BEGIN {printf "%d", n / s}'
}
a=(); r=()
for rep in $(seq "$REPS"); do
	a+=("$(run_alertcap)")
	r+=("$(run_ref)")
	printf 'rep %d: alertcapd %s alerts/s, reference %s alerts/s\n' "$rep" "${a[-1]}" "${r[-1]}"
done
ma=$(median "${a[@]}"); mr=$(median "${r[@]}")
printf 'median: alertcapd %s alerts/s (including its start), reference %s alerts/s, ratio %s (target >= 0.90)\n' "$ma" "$mr" "$(ratio "$ma" "$mr")"
json_row "$JSON" bench=mqtt-ingest messages="$N" alertcapd_per_s="$ma" reference_per_s="$mr" ratio="$(ratio "$ma" "$mr")"
echo "figures: $JSON"
