#!/bin/bash
# Continuous capture at the bed's top rate: tcpreplay at full speed into a
# capture on a veth interface, first as one file, then as a ring of files
# sized to close about once a second (from the first run's bytes per
# second). Figures: packets captured of those sent, kernel drops, files
# rotated, the daemon's CPU per packet, and the loop's responsiveness while
# the traffic runs: GET /healthz answered every 20 ms, p50 and p99 (a file
# closed, fsynced or hashed on the loop would show as a stall there).
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip tcpreplay jq curl
make_netns || exit 1
ROUNDS=${ROUNDS:-30000}
SENT=$T_DIR/sent.pcap
"$PKTGEN" "$SENT" "$MAC_B" 02:00:00:00:00:01 "$ROUNDS" 600
PER=$(( ROUNDS * 9 ))
BLASTS=${BLASTS:-6}
start_daemon ring "$NS_A" || exit 1
API_NS=$NS_A
JSON=$OUT_DIR/continuous.json
: > "$JSON"

# probe OUT: /healthz every 20 ms until $T_DIR/stop exists; seconds per line.
probe() {
	while [ ! -e "$T_DIR/stop" ]; do
		in_ns "$NS_A" curl -s -o /dev/null -w '%{time_total}\n' "$URL/healthz" >> "$1"
		sleep 0.02
	done
}
pct() {	# pct FILE P: the P-th percentile, in ms
	sort -n "$1" | awk -v p="$2" '{a[NR] = $1} END {i = int(NR * p / 100); if (i < 1) i = 1; printf "%.2f", a[i] * 1000}'
}

# run NAME BODY -> "packets drops files cpu_us seconds p50 p99"
run() {
	local t0 t1 c0 c1 r
	rm -f "$T_DIR/stop" "$T_DIR/probe.$1"
	api PUT "/v1/captures/$1" "$2" >/dev/null
	probe "$T_DIR/probe.$1" &
	local pp=$!
	c0=$(cpu_us "$DPID"); t0=$(date +%s.%N)
	for _ in $(seq "$BLASTS"); do
		ip netns exec "$NS_B" tcpreplay -q -i "$IF_B" --topspeed "$SENT" >/dev/null 2>&1
	done
	sleep 0.5
	t1=$(date +%s.%N); c1=$(cpu_us "$DPID")
	touch "$T_DIR/stop"; wait "$pp"
	r=$(api POST "/v1/captures/$1/stop" | cut -d' ' -f2-)
	echo "$(jq -r .packets <<<"$r") $(jq -r .kernel_drops <<<"$r") $(jq -r '.files // [] | length' <<<"$r") $((c1 - c0))" \
	    "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')" \
	    "$(pct "$T_DIR/probe.$1" 50) $(pct "$T_DIR/probe.$1" 99)"
}

printf '%-12s %10s %10s %8s %6s %10s %10s %10s\n' mode sent captured drops files us/packet p50_ms p99_ms
read -r n d f cpu secs p50 p99 < <(run one "{\"target\": {\"interface\": \"$IF_A\"}, \"max_bytes_per_session\": 4294967295}")
printf '%-12s %10s %10s %8s %6s %10s %10s %10s\n' one-file "$((PER * BLASTS))" "$n" "$d" 1 \
    "$(per_packet "$cpu" "$n")" "$p50" "$p99"
json_row "$JSON" bench=continuous mode=one-file sent="$((PER * BLASTS))" captured="$n" drops="$d" \
    cpu_us="$cpu" seconds="$secs" p50_ms="$p50" p99_ms="$p99"
bytes=$(record one | jq .bytes)
size=$(awk -v b="$bytes" -v s="$secs" 'BEGIN {v = int(b / s); if (v < 1048576) v = 1048576; print v}')
api DELETE '/v1/captures/one?file=true' >/dev/null
gone "$DDIR/captures/one_*"
read -r n d f cpu secs p50 p99 < <(run ring "{\"target\": {\"interface\": \"$IF_A\"}, \"continuous\": {\"file_count\": 4, \"file_size_bytes\": $size}}")
printf '%-12s %10s %10s %8s %6s %10s %10s %10s\n' ring "$((PER * BLASTS))" "$n" "$d" "$f" \
    "$(per_packet "$cpu" "$n")" "$p50" "$p99"
json_row "$JSON" bench=continuous mode=ring file_size_bytes="$size" sent="$((PER * BLASTS))" captured="$n" \
    drops="$d" files="$f" cpu_us="$cpu" seconds="$secs" p50_ms="$p50" p99_ms="$p99"
printf '  -> a file of %s bytes every %.2f s on average\n' "$size" "$(awk -v s="$secs" -v f="$f" 'BEGIN {print f ? s / f : 0}')"
echo "figures: $JSON"
