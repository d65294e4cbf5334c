#!/bin/bash
# The fleet: NODES alertcapd nodes (200 by default; distinct ports, state
# dirs and node names) on one mosquitto, each subscribed to a shared alert
# topic with a rule that targets the node an alert names. Figures:
#  - an alert on the shared topic: how many captures it made, and where;
#  - GET /v1/nodes on one node (the fleet as the broker retains it);
#  - CMDS commands (op "list"), one after another, spread over the nodes,
#    each timed from its publish to its answer on an MQTT 5 response topic
#    (fleetrr): p50, p99, max;
#  - the broker restarted (persistence on): how long until every node is
#    online again, and whether one alert per node published at QoS 1
#    before they are back reaches every one (none lost, none twice);
#  - a node frozen with SIGSTOP, its socket open: how long until it shows
#    offline (the broker's keepalive, keepalive_s = KEEPALIVE), and a
#    command to it (the REST API's answer through another node);
#  - each idle node's memory and CPU.
# The broker has CPU 0 to itself and the nodes share CPU 1, as a broker
# on its own host would: 200 busy nodes beside it on both cores left it
# a 200th of the CPU, 10 s behind their keepalives after a restart.
# The captures are on a quiet veth interface of their own: 200 packet sockets
# on lo, where the broker's traffic flows, would make every MQTT packet
# run 200 filters in the broker's sends, which no real fleet (one node a
# host) does.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip mosquitto mosquitto_pub jq curl taskset
NODES=${NODES:-200}
CMDS=${CMDS:-2000}
KEEPALIVE=${KEEPALIVE:-5}
RR=$builddir/tests/bench/fleetrr
[ -x "$RR" ] || make -s -C "$builddir" tests/bench/fleetrr
ulimit -n 65536 2>/dev/null || true
JSON=$OUT_DIR/fleet.json
: > "$JSON"

FLIF=acfl$$
ip link add "$FLIF" type veth peer name "${FLIF}p" && ip link set "$FLIF" up &&
    ip link set "${FLIF}p" up || { echo "cannot make a veth pair"; exit 1; }
fleet_if_del() { ip link del "$FLIF" 2>/dev/null; }
T_AT_EXIT+=(fleet_if_del)
broker_conf
start_broker || { echo "mosquitto did not start"; exit 1; }
taskset -pc 0 "$BPID" >/dev/null
DAEMON_WRAP="taskset -c 1"
mkdir -p "$T_DIR/rules"
cat > "$T_DIR/rules/r.json" <<'JSON'
{"name": "fleet", "match": {"alert": "Fleet*"},
 "capture": {"name": "${rule}-${labels.id}",
             "target": {"node": "${labels.node}", "interface": "@IF@"},
             "filters": [{"protocol": "UDP", "local_port": "9"}], "time_limit_s": 2},
 "policy": {"cooldown_s": 0}}
JSON
sed -i "s/@IF@/$FLIF/" "$T_DIR/rules/r.json"
MQTT="\"rules\": {\"dir\": \"$T_DIR/rules\"}, \"mqtt\": {\"port\": $BPORT, \"keepalive_s\": $KEEPALIVE,
  \"subscriptions\": [{\"topic\": \"alerts/#\", \"format\": \"generic\"}]}"

t0=$(date +%s%N)
: > "$T_DIR/nodes"
declare -A NURL NPID
for i in $(seq "$NODES"); do
	n=$(printf 'node-%03d' "$i")
	start_daemon "$n" "" "$MQTT" >/dev/null || { echo "node $n did not start"; exit 1; }
	NURL[$n]=$URL; NPID[$n]=$DPID
	echo "$n" >> "$T_DIR/nodes"
done
FIRST=node-001
LAST=$(printf 'node-%03d' "$NODES")
U1=${NURL[$FIRST]}
online() { curl -s "$U1/v1/nodes" | jq '[.nodes[] | select(.status == "online")] | length'; }
# wait_online SECONDS: until every node is online; prints the seconds.
wait_online() {
	local t=$(date +%s%N) deadline=$(( $(date +%s) + $1 ))
	while [ "$(online)" != "$NODES" ]; do
		[ "$(date +%s)" -ge "$deadline" ] && { echo "-"; return 1; }
		sleep 0.05
	done
	awk -v n=$(( $(date +%s%N) - t )) 'BEGIN {printf "%.2f", n / 1e9}'
}
up=$(wait_online 60)
printf 'nodes: %d started in %.1f s; all online %s s after the last\n' "$NODES" \
    "$(awk -v n=$(( $(date +%s%N) - t0 )) 'BEGIN {print n / 1e9}')" "$up"

# captures_of ID: "node:count" for every node holding fleet-ID captures.
captures_of() {
	local n c
	for n in $(cat "$T_DIR/nodes"); do
		c=$(curl -s "${NURL[$n]}/v1/captures" | jq --arg id "fleet-$1" '[.captures[] | select(.name == $id)] | length')
		[ "$c" != 0 ] && echo "$n:$c"
	done
}
target=$(printf 'node-%03d' $(( (NODES + 1) / 2 )))
mosquitto_pub -V 5 -p "$BPORT" -q 1 -t alerts/shared \
    -m "{\"name\": \"FleetOne\", \"status\": \"firing\", \"labels\": {\"node\": \"$target\", \"id\": \"one\"}}"
sleep 1
got=$(captures_of one | tr '\n' ' ')
printf 'an alert on a shared topic for %s: captures on %s\n' "$target" "${got:-no node}"
json_row "$JSON" bench=fleet-shared-alert nodes="$NODES" target="$target" captures="$got"

# GET /v1/nodes on one node.
for _ in $(seq 20); do curl -s -o /dev/null -w '%{time_total}\n' "$U1/v1/nodes"; done > "$T_DIR/nodes_t"
nodes_p50=$(median $(awk '{print $1 * 1000}' "$T_DIR/nodes_t"))
nodes_max=$(sort -n "$T_DIR/nodes_t" | tail -1 | awk '{print $1 * 1000}')
printf 'GET /v1/nodes (%d nodes): median %.2f ms, max %.2f ms of 20 (target <= 20 ms)\n' "$NODES" "$nodes_p50" "$nodes_max"
json_row "$JSON" bench=fleet-nodes nodes="$NODES" median_ms="$nodes_p50" max_ms="$nodes_max"

# Commands, spread over the nodes.
"$RR" "$BPORT" alertcap "$CMDS" "$T_DIR/nodes" > "$T_DIR/rr" || true
lost=$(awk '$2 != 200' "$T_DIR/rr" | wc -l)
read -r p50 p99 max slow < <(sort -n "$T_DIR/rr" | awk '{t[NR] = $1; n[NR] = $3}
    END {i = int(NR * 0.99 + 0.999); if (i > NR) i = NR
         printf "%.3f %.3f %.3f %s\n", t[int((NR + 1) / 2)], t[i], t[NR], n[NR]}')
printf 'command round trip, %d commands over %d nodes: p50 %s ms, p99 %s ms, max %s ms (on %s); not answered 200: %d (targets: p99 <= 5, max <= 20)\n' \
    "$(wc -l < "$T_DIR/rr")" "$NODES" "$p50" "$p99" "$max" "$slow" "$lost"
json_row "$JSON" bench=fleet-commands nodes="$NODES" commands="$CMDS" p50_ms="$p50" p99_ms="$p99" \
    max_ms="$max" not_ok="$lost"

# Idle nodes: memory and CPU.
sleep 2
c0=0; for n in $(cat "$T_DIR/nodes"); do c0=$((c0 + $(cpu_us "${NPID[$n]}"))); done
sleep 10
c1=0; for n in $(cat "$T_DIR/nodes"); do c1=$((c1 + $(cpu_us "${NPID[$n]}"))); done
p=${NPID[$LAST]}
cpu_pct=$(awk -v c=$((c1 - c0)) -v n="$NODES" 'BEGIN {printf "%.3f", c / 1e6 / 10 / n * 100}')
printf 'an idle node: RSS %d KiB, PSS %d KiB, Private_Dirty %d KiB; CPU %s %% each (mean over 10 s)\n' \
    "$(rss_kb "$p")" "$(smaps_kb "$p" Pss)" "$(smaps_kb "$p" Private_Dirty)" "$cpu_pct"
json_row "$JSON" bench=fleet-idle rss_kb="$(rss_kb "$p")" pss_kb="$(smaps_kb "$p" Pss)" \
    private_dirty_kb="$(smaps_kb "$p" Private_Dirty)" cpu_pct="$cpu_pct"

# restart_broker ALERTS: stops the broker (it saves its sessions and
# retained messages), starts it again, with ALERTS=1 publishes one alert
# per node (QoS 1) before they are back, and waits until node-001 sees
# every node online. Prints the seconds from the broker's start, the
# broker's and the nodes' CPU seconds meanwhile, and each node's own
# reconnection (from its log): p50, p90, max.
restart_broker() {
	local tb nc0=0 nc1=0 bc0 up back n t
	kill "$BPID"; wait "$BPID" 2>/dev/null
	start_broker || { echo "mosquitto did not start again" >&2; exit 1; }
	taskset -pc 0 "$BPID" >/dev/null
	tb=$(date +%s%N)
	for n in $(cat "$T_DIR/nodes"); do nc0=$((nc0 + $(cpu_us "${NPID[$n]}"))); done
	bc0=$(cpu_us "$BPID")
	if [ "$1" = 1 ]; then
		for n in $(cat "$T_DIR/nodes"); do
			echo "{\"name\": \"FleetBack\", \"status\": \"firing\", \"labels\": {\"node\": \"$n\", \"id\": \"back-$n\"}}"
		done | mosquitto_pub -V 5 -p "$BPORT" -q 1 -t alerts/shared -l
	fi
	up=$(wait_online 60)
	back=$(awk -v n=$(( $(date +%s%N) - tb )) 'BEGIN {printf "%.2f", n / 1e9}')
	[ "$up" = - ] && back="-"
	for n in $(cat "$T_DIR/nodes"); do nc1=$((nc1 + $(cpu_us "${NPID[$n]}"))); done
	printf '%s %.2f %.2f ' "$back" \
	    "$(awk -v c=$(( $(cpu_us "$BPID") - bc0 )) 'BEGIN {print c / 1e6}')" \
	    "$(awk -v c=$((nc1 - nc0)) 'BEGIN {print c / 1e6}')"
	for n in $(cat "$T_DIR/nodes"); do
		t=$(grep 'mqtt: connected' "$T_DIR/$n/daemon.log" | tail -1 | cut -d' ' -f1)
		echo $(( $(date -d "$t" +%s%N) - tb ))
	done | sort -n | awk '{t[NR] = $1 / 1e9} END {printf "%.2f %.2f %.2f\n", t[int((NR + 1) / 2)], t[int(NR * 0.9)], t[NR]}'
}

# The broker restarted, the fleet idle: how long until all are back.
restart_broker 0 > "$T_DIR/rb"
read -r back bcpu ncpu r50 r90 rmax < "$T_DIR/rb"
printf 'broker restarted, the fleet idle: all %d online %s s after it started (target <= 5 s); each node reconnected after p50 %s s, p90 %s s, max %s s; CPU meanwhile: broker %s s, nodes %s s in all\n' \
    "$NODES" "$back" "$r50" "$r90" "$rmax" "$bcpu" "$ncpu"
json_row "$JSON" bench=fleet-broker-restart nodes="$NODES" online_s="$back" reconnect_p50_s="$r50" \
    reconnect_p90_s="$r90" reconnect_max_s="$rmax" broker_cpu_s="$bcpu" nodes_cpu_s="$ncpu"

# Again, with one alert per node published before they are back: each
# node starts its capture as it reconnects (its kernel ring allocated,
# its context taken), all 200 on the one core.
restart_broker 1 > "$T_DIR/rb"
read -r back bcpu ncpu r50 r90 rmax < "$T_DIR/rb"
sleep 2
have=0; twice=0
for n in $(cat "$T_DIR/nodes"); do
	c=$(curl -s "${NURL[$n]}/v1/captures" | jq --arg id "fleet-back-$n" '[.captures[] | select(.name == $id)] | length')
	[ "$c" -ge 1 ] && have=$((have + 1))
	[ "$c" -gt 1 ] && twice=$((twice + 1))
done
for n in $(cat "$T_DIR/nodes"); do
	curl -s "${NURL[$n]}/v1/captures" | jq -r --arg n "$n" '.captures[] | select(.name | startswith("fleet-back-")) | select(.name != "fleet-back-" + $n) | "\($n) \(.name)"'
done > "$T_DIR/elsewhere"
others=$(wc -l < "$T_DIR/elsewhere")
[ "$others" -gt 0 ] && sed 's/^/  on a node not named: /' "$T_DIR/elsewhere" | head -5
printf 'broker restarted, one alert per node published at QoS 1 before they are back: %d of %d nodes took theirs, %d more than once, %d other captures (target: none lost); all online %s s after the start; each node reconnected after p50 %s s, max %s s; CPU meanwhile: broker %s s, nodes %s s\n' \
    "$have" "$NODES" "$twice" "$others" "$back" "$r50" "$rmax" "$bcpu" "$ncpu"
json_row "$JSON" bench=fleet-broker-restart-alerts nodes="$NODES" delivered="$have" twice="$twice" \
    elsewhere="$others" online_s="$back" reconnect_max_s="$rmax" broker_cpu_s="$bcpu" nodes_cpu_s="$ncpu"

# A node frozen, its socket open.
kill -STOP "${NPID[$LAST]}"
ts=$(date +%s%N)
st=""
for _ in $(seq $(( (KEEPALIVE * 3 + 10) * 10 ))); do
	st=$(curl -s "$U1/v1/nodes" | jq -r --arg n "$LAST" '.nodes[] | select(.node == $n) | .status')
	[ "$st" = offline ] && break
	sleep 0.1
done
off=$(awk -v n=$(( $(date +%s%N) - ts )) 'BEGIN {printf "%.1f", n / 1e9}')
[ "$st" = offline ] || off="- (still $st)"
code=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$U1/v1/nodes/$LAST/captures")
kill -CONT "${NPID[$LAST]}"
printf 'a node frozen with SIGSTOP: offline after %s s (keepalive_s %d); a command to it meanwhile: %s s\n' \
    "$off" "$KEEPALIVE" "$code"
json_row "$JSON" bench=fleet-frozen keepalive_s="$KEEPALIVE" offline_s="$off" command="$code"
echo "figures: $JSON"
