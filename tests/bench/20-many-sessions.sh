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

# The same kind of load with Network Watcher's structured filters, which
# alertcapd tests by compares (the packet's addresses and ports read once
# for every session); the tcpdumps get the expressions they translate to.
SFILTERS=('{"protocol": "TCP", "local_port": "80"}' '{"protocol": "UDP", "local_port": "53"}'
	'{"protocol": "TCP", "local_port": "443"}' '{"protocol": "TCP", "local_port": "8080"}'
	'{"protocol": "UDP", "local_port": "9999"}' '{"local_ip": "fd77::/64"}'
	'{"protocol": "TCP"}' '{"protocol": "UDP"}' '{"local_ip": "10.77.0.9"}'
	'{"protocol": "TCP", "remote_port": "22"}' '{"protocol": "UDP", "local_ip": "fd77::1"}'
	'{"protocol": "TCP", "remote_ip": "10.77.0.2-10.77.0.3"}'
	'{"local_ip": "10.77.0.1", "remote_port": "1024-65535"}'
	'{"protocol": "UDP", "local_port": "5353;5354"}'
	'{"protocol": "TCP", "local_port": "80", "remote_ip": "10.77.0.2"}'
	'{"local_port": "7000-7100"}')
# Beyond the 16: for the curve's 64 structured sessions, filters on the
# traffic's ports and addresses in other combinations (every one takes
# some of it, none all).
PORTS=(80 443 8080 53 9999 22 5353)
for i in $(seq 16 63); do
	p=${PORTS[$((i % 7))]}
	case $((i % 4)) in
	0) SFILTERS[$i]="{\"local_port\": \"$p\", \"remote_ip\": \"10.77.0.2\"}" ;;
	1) SFILTERS[$i]="{\"protocol\": \"$( [ $((i % 8)) = 1 ] && echo TCP || echo UDP)\", \"remote_port\": \"$p\"}" ;;
	2) SFILTERS[$i]="{\"local_ip\": \"10.77.0.1;fd77::1\", \"local_port\": \"$p;$((40000 + i % 5))\"}" ;;
	3) SFILTERS[$i]="{\"remote_ip\": \"10.77.0.0/24;fd77::/64\", \"remote_port\": \"$((40000 + i % 5))-$((50000 + i % 2))\"}" ;;
	esac
done
# Sessions counts to run: BPF expressions up to 16 (the list above), the
# structured filters up to 64 as well.
SESSIONS=${BENCH_SESSIONS:-1 4 16 64}
KIND=${KIND:-both}	# bpf, structured, both, or classify (that alone)

# expression_of FILTER-JSON: what alertcapd translates it to.
expression_of() {
	api PUT /v1/captures/xlate "{\"target\": {\"interface\": \"$IF_A\"}, \"filters\": [$1]}" >/dev/null
	record xlate | jq -r .expression
	api POST /v1/captures/xlate/stop >/dev/null
	wait_status xlate Stopped 5 >/dev/null
	api DELETE "/v1/captures/xlate?file=true" >/dev/null
}

replay_pps() { ip netns exec "$NS_B" tcpreplay -q -i "$IF_B" --pps="$PPS" "$SENT" >/dev/null 2>&1; }

run_alertcap() {	# N -> "cpu_us exact bytes"
	local n=$1 i cpu0 cpu1 exact=0 got want bytes=0
	for i in $(seq 0 $((n - 1))); do
		if [ "$kind" = structured ]; then
			api PUT "/v1/captures/s$i" "{\"target\": {\"interface\": \"$IF_A\"}, \"filters\": [${SFILTERS[$i]}]}" >/dev/null
		else
			api PUT "/v1/captures/s$i" "{\"target\": {\"interface\": \"$IF_A\"}, \"bpf\": \"${FILTERS[$i]}\"}" >/dev/null
		fi
	done
	# The packet path only: creating and stopping are not counted.
	settle "$DPID"
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
		ip netns exec "$NS_A" tcpdump -i "$IF_A" -p -w "$T_DIR/td$i.pcap" "${FILTERS[$i]}" 2>"$T_DIR/td$i.err" &
		pids+=($!)
	done
	sleep $((1 + n / 16))	# each has its ring and filter set up
	# Their start-up (6-7 ms each) is not counted, as the sessions'
	# creation is not: the packet path only.
	for i in $(seq 0 $((n - 1))); do cpu=$((cpu - $(cpu_us "${pids[$i]}"))); done
	replay_pps
	sleep 1.5
	for i in $(seq 0 $((n - 1))); do
		# A reference that is gone is a failed repetition, not a count.
		if ! kill -0 "${pids[$i]}" 2>/dev/null; then
			echo "tcpdump '${FILTERS[$i]}' exited before the end ($(tail -1 "$T_DIR/td$i.err")): the repetition is void" >&2
			kill -INT "${pids[@]}" 2>/dev/null
			exit 1
		fi
		cpu=$((cpu + $(cpu_us "${pids[$i]}")))
	done
	kill -INT "${pids[@]}"; wait "${pids[@]}" 2>/dev/null
	for i in $(seq 0 $((n - 1))); do
		[ "$(pcap_count "$T_DIR/td$i.pcap")" = "$(pcap_count "$SENT" "${FILTERS[$i]}")" ] && exact=$((exact + 1))
	done
	echo "$cpu $exact $(cat "$T_DIR"/td*.pcap | wc -c)"
	rm -f "$T_DIR"/td*.pcap "$T_DIR"/td*.err
}

# run_set KIND: the table for one kind of filters.
run_set() {
	local kind=$1 n tool rep vals cpu exact bytes
	local -A med
	BPF_FILTERS=("${FILTERS[@]}")
	if [ "$kind" = structured ]; then
		for i in "${!SFILTERS[@]}"; do FILTERS[$i]=$(expression_of "${SFILTERS[$i]}"); done
	fi
	echo "== $kind filters"
	# (bytes: what the sessions wrote in all; the work grows with it)
	printf '%-9s %-10s %8s %8s %12s\n' sessions tool cpu_us exact bytes
	for n in $SESSIONS; do
		[ "$kind" = bpf ] && [ "$n" -gt "${#BPF_FILTERS[@]}" ] && continue
		for tool in alertcapd tcpdump; do
			vals=()
			for rep in $(seq "$REPS"); do
				read -r cpu exact bytes < <(run_$( [ $tool = alertcapd ] && echo alertcap || echo tcpdump) "$n")
				[ -n "$cpu" ] || { echo "a repetition failed" >&2; exit 1; }
				vals+=("$cpu")
				printf '%-9s %-10s %8s %8s %12s\n' "$n" "$tool" "$cpu" "$exact/$n" "$bytes"
				json_row "$JSON" bench=many-sessions kind="$kind" sessions="$n" tool="$tool" rep="$rep" \
				    cpu_us="$cpu" exact="$exact" bytes="$bytes"
			done
			med[$tool$n]=$(median "${vals[@]}")
		done
	done
	for tool in alertcapd tcpdump; do
		printf '%s: CPU of 16 sessions / 1 session = %s (medians %s / %s us)\n' "$tool" \
		    "$(ratio "${med[${tool}16]}" "${med[${tool}1]}")" "${med[${tool}16]}" "${med[${tool}1]}"
		json_row "$JSON" bench=many-sessions-summary kind="$kind" tool="$tool" \
		    cpu16_over_cpu1="$(ratio "${med[${tool}16]}" "${med[${tool}1]}")"
	done
	for n in $SESSIONS; do
		[ -n "${med[alertcapd$n]:-}" ] || continue
		printf 'alertcapd/tcpdump CPU at %s sessions (%s): %s\n' "$n" "$kind" "$(ratio "${med[alertcapd$n]}" "${med[tcpdump$n]}")"
		json_row "$JSON" bench=many-sessions-ratio kind="$kind" sessions="$n" ratio="$(ratio "${med[alertcapd$n]}" "${med[tcpdump$n]}")"
	done
	FILTERS=("${BPF_FILTERS[@]}")
}

# The classification alone: one session takes everything (so that every
# packet reaches user space) and N more have structured filters that take
# none of this traffic, so they write nothing; their CPU beyond the one
# session's is what testing the packets costs. Two sets: "far", ports
# none of the packets has, and "near", the very ports and protocols of
# the traffic with other remote addresses, so that only the addresses
# tell each packet from each filter.
far_filter() { echo "{\"protocol\": \"TCP\", \"local_port\": \"$((20000 + $1))\", \"remote_ip\": \"10.99.0.0/16\"}"; }
near_filter() {
	echo "{\"protocol\": \"$( (($1 % 2)) && echo TCP || echo UDP)\", \"local_port\": \"80;443;53;9999\", \"remote_ip\": \"10.99.$1.0/24;fd99:$1::/32\"}"
}
run_classify() {	# SET N -> cpu_us
	local set=$1 n=$2 i f cpu0 cpu1
	api PUT /v1/captures/all "{\"target\": {\"interface\": \"$IF_A\"}, \"max_bytes_per_packet\": 64}" >/dev/null
	for i in $(seq 1 "$n"); do
		f=$("${set}_filter" "$i")
		api PUT "/v1/captures/c$i" "{\"target\": {\"interface\": \"$IF_A\"}, \"filters\": [$f]}" >/dev/null
	done
	cpu0=$(cpu_us "$DPID")
	replay_pps
	sleep 0.5
	cpu1=$(cpu_us "$DPID")
	for i in all $(seq 1 "$n" | sed 's/^/c/'); do
		api POST "/v1/captures/$i/stop" >/dev/null
		api DELETE "/v1/captures/$i?file=true" >/dev/null
	done
	echo "$((cpu1 - cpu0))"
}

case $KIND in bpf|both) run_set bpf ;; esac
case $KIND in structured|both) run_set structured ;; esac

echo "== classification: one session taking all, and N whose structured filters take nothing"
for set in far near; do
	printf '%-5s %-9s %10s\n' set filters cpu_us
	declare -A cls=() vals=()
	# Alternated, a round of 0, 1 and 16 at a time: the machine's drift
	# falls on all three alike.
	for rep in $(seq "$REPS"); do
		for n in 0 1 16; do
			cpu=$(run_classify "$set" "$n")
			vals[$n]="${vals[$n]:-} $cpu"
			printf '%-5s %-9s %10s\n' "$set" "$n" "$cpu"
			json_row "$JSON" bench=classify set="$set" filters="$n" rep="$rep" cpu_us="$cpu"
		done
	done
	for n in 0 1 16; do cls[$n]=$(median ${vals[$n]}); done
	c1=$(( ${cls[1]} - ${cls[0]} )); c16=$(( ${cls[16]} - ${cls[0]} ))
	printf 'classification CPU (%s), 16 filters / 1 filter: %s (%s / %s us beyond the session that takes all, %s packets)\n' \
	    "$set" "$(ratio "$c16" "$c1")" "$c16" "$c1" "$((ROUNDS * 9))"
	json_row "$JSON" bench=classify-summary set="$set" c1_us="$c1" c16_us="$c16" ratio="$(ratio "$c16" "$c1")"
done

# The same two sets' classification apart from the daemon (classify.c):
# the packets of the traffic held in memory (900 of them: the figure is
# the compares, not the packets' way from memory), 1 to 64 sets, one by
# one and in one table, on CPU 1.
"$PKTGEN" "$T_DIR/few.pcap" "$MAC_B" 02:00:00:00:00:01 100 400
: > "$T_DIR/near.txt"; : > "$T_DIR/far.txt"
for i in $(seq 1 64); do
	echo "[$(near_filter "$i")]" >> "$T_DIR/near.txt"
	echo "[$(far_filter "$i")]" >> "$T_DIR/far.txt"
done
for set in far near; do
	echo "== classification apart ($set), ns a packet"
	taskset -c 1 "$builddir/tests/bench/classify" "$T_DIR/few.pcap" "$T_DIR/$set.txt" 1 4 16 64 | tee "$T_DIR/cls.out"
	awk -v set="$set" 'NF == 4 && $1 ~ /^[0-9]+$/ && $2 ~ /^[0-9.]+$/ {printf "{\"bench\":\"classify-apart\",\"set\":\"%s\",\"sets\":%s,\"parse_ns\":%s,\"one_by_one_ns\":%s,\"table_ns\":%s}\n", set, $1, $2, $3, $4}' "$T_DIR/cls.out" >> "$JSON"
done
echo "figures: $JSON"
