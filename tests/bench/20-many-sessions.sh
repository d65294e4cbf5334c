#!/bin/bash
# Many sessions on one interface: 1, 4 and 16 concurrent captures with
# different filters at 50k packets/s, against as many tcpdump processes.
# Figures: CPU of alertcapd (one kernel ring feeding every session) and of
# all the tcpdumps together, and whether each file is exact (its count
# equals tcpdump -r with the session's filter on the sent pcap).
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip tcpreplay tcpdump jq
make_netns || exit 1
ROUNDS=${ROUNDS:-20000}
PPS=${PPS:-50000}
SENT=$T_DIR/sent.pcap
"$PKTGEN" "$SENT" "$MAC_B" 02:00:00:00:00:01 "$ROUNDS" 400
CAPTURES_EXTRA=', "max_concurrent": 64, "max_total_bytes": 1125899906842624' \
    start_daemon bench "$NS_A" || exit 1
API_NS=$NS_A
JSON=$OUT_DIR/many-sessions.json
: > "$JSON"
FILTERS=("tcp port 80" "udp port 53" "tcp port 443" "tcp port 8080" "udp port 9999"
	"ip6" "tcp" "udp" "host 10.77.0.9" "tcp port 22" "udp and ip6" "tcp and ip6"
	"src host 10.77.0.1" "dst host 10.77.0.1" "ip" "udp port 5353")

replay_pps() { ip netns exec "$NS_B" tcpreplay -q -i "$IF_B" --pps="$PPS" "$SENT" >/dev/null 2>&1; }

run_alertcap() {	# N -> "cpu_us exact bytes"
	local n=$1 i cpu0 cpu1 exact=0 got want bytes=0
	for i in $(seq 0 $((n - 1))); do
		api PUT "/v1/captures/s$i" "{\"target\": {\"interface\": \"$IF_A\"}, \"bpf\": \"${FILTERS[$i]}\"}" >/dev/null
	done
	# The packet path only: creating and stopping are not counted.
	cpu0=$(cpu_us "$DPID")
	replay_pps
	sleep 0.5
	cpu1=$(cpu_us "$DPID")
	for i in $(seq 0 $((n - 1))); do api POST "/v1/captures/s$i/stop" >/dev/null; done
	for i in $(seq 0 $((n - 1))); do
		got=$(record "s$i" | jq .packets)
		bytes=$((bytes + $(record "s$i" | jq .bytes)))
		want=$(pcap_count "$SENT" "${FILTERS[$i]}")
		[ "$got" = "$want" ] && exact=$((exact + 1))
		api DELETE "/v1/captures/s$i?file=true" >/dev/null
	done
	gone "$DDIR/captures/s*_*"
	echo "$((cpu1 - cpu0)) $exact $bytes"
}

run_tcpdump() {	# N -> "cpu_us exact"
	local n=$1 i pids=() cpu=0 exact=0
	for i in $(seq 0 $((n - 1))); do
		ip netns exec "$NS_A" tcpdump -i "$IF_A" -p -w "$T_DIR/td$i.pcap" "${FILTERS[$i]}" 2>/dev/null &
		pids+=($!)
	done
	sleep 1
	replay_pps
	sleep 1.5
	for i in $(seq 0 $((n - 1))); do
		cpu=$((cpu + $(cpu_us "${pids[$i]}")))
	done
	kill -INT "${pids[@]}"; wait "${pids[@]}" 2>/dev/null
	for i in $(seq 0 $((n - 1))); do
		[ "$(pcap_count "$T_DIR/td$i.pcap")" = "$(pcap_count "$SENT" "${FILTERS[$i]}")" ] && exact=$((exact + 1))
	done
	echo "$cpu $exact $(cat "$T_DIR"/td*.pcap | wc -c)"
	rm -f "$T_DIR"/td*.pcap
}

# (bytes: what the sessions wrote in all; the work grows with it)
printf '%-9s %-10s %8s %8s %12s\n' sessions tool cpu_us exact bytes
declare -A med
for n in 1 4 16; do
	for tool in alertcapd tcpdump; do
		vals=()
		for rep in $(seq "$REPS"); do
			read -r cpu exact bytes < <(run_$( [ $tool = alertcapd ] && echo alertcap || echo tcpdump) "$n")
			vals+=("$cpu")
			printf '%-9s %-10s %8s %8s %12s\n' "$n" "$tool" "$cpu" "$exact/$n" "$bytes"
			json_row "$JSON" bench=many-sessions sessions="$n" tool="$tool" rep="$rep" cpu_us="$cpu" exact="$exact" bytes="$bytes"
		done
		med[$tool$n]=$(median "${vals[@]}")
	done
done
for tool in alertcapd tcpdump; do
	printf '%s: CPU of 16 sessions / 1 session = %s (medians %s / %s us)\n' "$tool" \
	    "$(ratio "${med[${tool}16]}" "${med[${tool}1]}")" "${med[${tool}16]}" "${med[${tool}1]}"
	json_row "$JSON" bench=many-sessions-summary tool="$tool" cpu16_over_cpu1="$(ratio "${med[${tool}16]}" "${med[${tool}1]}")"
done
printf 'alertcapd/tcpdump CPU at 16 sessions: %s\n' "$(ratio "${med[alertcapd16]}" "${med[tcpdump16]}")"
echo "figures: $JSON"
