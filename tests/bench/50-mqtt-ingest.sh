#!/bin/bash
# MQTT ingest: how fast alertcapd consumes alerts at QoS 1 from
# mosquitto, against a plain libmosquitto subscriber built here (refmqtt)
# that parses each payload with jansson. N generic alerts that match no
# rule. Both are measured the same way: connected and subscribed, the
# consumer is stopped (SIGSTOP), the N alerts are published (the broker
# queues them), and the time runs from SIGCONT until the consumer has
# taken all N: refmqtt exits; alertcapd's last alert (one more, "Done")
# matches a rule and starts a capture, whose line in its log ends the
# clock (followed through inotify: no polling to steal the CPU). The
# broker runs on CPU 0 and the consumer on CPU 1, so neither is timed
# sharing a core with the other (the figures moved by 50% otherwise).
# Also each consumer's CPU time per alert, from the scheduler.
. "$(dirname "$0")/lib.sh"
need_cmd mosquitto taskset curl jq
N=${MESSAGES:-100000}
BPORT=$(free_port)
chmod 755 "$T_DIR"
printf 'listener %s 127.0.0.1\nallow_anonymous true\nmax_queued_messages 1000000\nmax_inflight_messages 100\nset_tcp_nodelay true\n' "$BPORT" > "$T_DIR/m.conf"
taskset -c 0 mosquitto -c "$T_DIR/m.conf" >"$T_DIR/broker.log" 2>&1 &
T_PIDS+=("$!")
sleep 0.5
JSON=$OUT_DIR/mqtt-ingest.json
: > "$JSON"
seq "$N" | awk '{printf "{\"name\": \"NoRule\", \"status\": \"firing\", \"labels\": {\"n\": \"%d\"}}\n", $1}' > "$T_DIR/alerts"
# (refmqtt -p leaves only once the broker has taken every message)
publish() { "$builddir/tests/bench/refmqtt" -p "$BPORT" "$1" "${2:-$T_DIR/alerts}"; }

mkdir -p "$T_DIR/rules"
cat > "$T_DIR/rules/done.json" <<'RULE'
{"name": "done", "match": {"alert": "Done"},
 "capture": {"name": "done-${labels.n}", "target": {"interface": "lo"}, "bpf": "udp port 9",
             "time_limit_s": 1, "max_bytes_per_session": 1048576},
 "policy": {"cooldown_s": 0}}
RULE
CAPTURES_EXTRA=', "ring_linger_s": 3600' start_daemon mq "" "\"mqtt\": {\"port\": $BPORT, \"subscriptions\": [{\"topic\": \"bench/a\", \"format\": \"generic\"}]},
  \"rules\": {\"dir\": \"$T_DIR/rules\"}, \"log\": {\"level\": \"info\"}" || exit 1
for _ in $(seq 100); do
	curl -s "$URL/metrics" | grep -q '^alertcap_mqtt_connected 1' && break
	sleep 0.05
done
taskset -a -p -c 1 "$DPID" >/dev/null

# Each prints "alerts/s CPU-us-per-alert".
run_alertcap() {
	local t0 t1 waiter c0 c1
	printf '{"name": "Done", "status": "firing", "labels": {"n": "%s"}}\n' "$1" > "$T_DIR/done"
	cat "$T_DIR/alerts" "$T_DIR/done" > "$T_DIR/alerts+done"
	kill -STOP "$DPID"
	publish bench/a "$T_DIR/alerts+done"
	timeout 300 tail -n 0 -f "$DDIR/daemon.log" | grep -m1 -q "capture done-$1: " &
	waiter=$!
	sleep 0.2	# tail is following
	c0=$(cpu_us "$DPID")
	kill -CONT "$DPID"
	t0=$(date +%s.%N)
	wait "$waiter"
	t1=$(date +%s.%N)
	c1=$(cpu_us "$DPID")
	awk -v a="$t0" -v b="$t1" -v n="$N" -v c=$((c1 - c0)) 'BEGIN {printf "%d %.2f\n", n / (b - a), c / n}'
}
run_ref() {
	local t0 t1 pid c0 c1 v
	taskset -c 1 "$builddir/tests/bench/refmqtt" "$BPORT" bench/r "$N" >/dev/null &
	pid=$!
	sleep 0.5	# connected and subscribed
	kill -STOP "$pid"
	publish bench/r
	c0=$(cpu_us "$pid")
	c1=$c0
	kill -CONT "$pid"
	t0=$(date +%s.%N)
	# (its CPU is read until it leaves)
	while kill -0 "$pid" 2>/dev/null; do
		v=$(cpu_us "$pid")
		[ "${v:-0}" -gt "$c1" ] && c1=$v
		sleep 0.005
	done
	wait "$pid"
	t1=$(date +%s.%N)
	awk -v a="$t0" -v b="$t1" -v n="$N" -v c=$((c1 - c0)) 'BEGIN {printf "%d %.2f\n", n / (b - a), c / n}'
}
"$builddir/tests/bench/refmqtt" "$BPORT" bench/r 0	# its session: messages queue for it
run_alertcap warm-up >/dev/null	# opens lo's ring for the "Done" captures

a=(); r=(); ac=(); rc=()
for rep in $(seq "$REPS"); do
	read -r x y < <(run_alertcap "$rep"); a+=("$x"); ac+=("$y")
	read -r x y < <(run_ref); r+=("$x"); rc+=("$y")
	printf 'rep %d: alertcapd %s alerts/s (%s us CPU each), reference %s alerts/s (%s us CPU each)\n' \
	    "$rep" "${a[-1]}" "${ac[-1]}" "${r[-1]}" "${rc[-1]}"
done
ma=$(median "${a[@]}"); mr=$(median "${r[@]}"); mac=$(median "${ac[@]}"); mrc=$(median "${rc[@]}")
printf 'median: alertcapd %s alerts/s, reference %s alerts/s, ratio %s (target >= 0.90)\n' "$ma" "$mr" "$(ratio "$ma" "$mr")"
printf 'median CPU per alert: alertcapd %s us, reference %s us, ratio %s\n' "$mac" "$mrc" "$(ratio "$mac" "$mrc")"
json_row "$JSON" bench=mqtt-ingest messages="$N" alertcapd_per_s="$ma" reference_per_s="$mr" ratio="$(ratio "$ma" "$mr")" \
    alertcapd_cpu_us="$mac" reference_cpu_us="$mrc"
echo "figures: $JSON"
