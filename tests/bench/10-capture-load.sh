#!/bin/bash
# Capture under load: tcpreplay at full speed from one namespace (one
# sender, then two at once) into a capture in the other, with and without
# a filter, snap length 128 and whole packets. alertcapd (its defaults)
# and `tcpdump -w` with the same filter and snap length run alternately on
# the same traffic; so does a second alertcapd with captures.sha256 off
# (alertcapd-nohash), to show what hashing each file costs, and that one
# writing classic pcap (alertcapd-pcap), against which its pcapng writer
# is measured (both unhashed: the hash would hide the writers). Figures:
# packets captured of those sent, kernel drops, and CPU per captured
# packet of the capturing process. Each case runs unpinned (senders and
# capturer share both cores, as on a loaded host) and pinned (senders on
# CPU 0, the capturer and all its threads on CPU 1); BENCH_PIN=off or on
# runs one of the two. Then a curve: CPU per packet against the rate,
# against tcpdump and dumpcap (BENCH_CURVE=off: without; only: it alone).
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip tcpreplay tcpdump dumpcap jq taskset
make_netns || exit 1
with_ring "$IF_A"
ROUNDS=${ROUNDS:-30000}
# BENCH_TOOLS: a subset to run (e.g. the two writers, many times over).
TOOLS=${BENCH_TOOLS:-alertcapd alertcapd-nohash alertcapd-pcap tcpdump}
SENT=$T_DIR/sent.pcap
"$PKTGEN" "$SENT" "$MAC_B" 02:00:00:00:00:01 "$ROUNDS" 600
PER=$(( ROUNDS * 9 ))
CAPTURES_EXTRA=', "sha256": false' start_daemon nohash "$NS_A" || exit 1
NH_URL=$URL NH_PID=$DPID NH_DIR=$DDIR
start_daemon bench "$NS_A" || exit 1
AC_URL=$URL AC_PID=$DPID AC_DIR=$DDIR
API_NS=$NS_A
JSON=$OUT_DIR/capture-load.json
: > "$JSON"

LOAD_CPUS=0,1 CAP_CPUS=0,1	# set per pinning below
blast() {	# blast SENDERS: replay the file from each sender, at RATE or top speed
	local i pids=() speed=--topspeed
	[ -n "${RATE:-}" ] && speed=--pps=$RATE
	for i in $(seq "$1"); do
		ip netns exec "$NS_B" taskset -c "$LOAD_CPUS" tcpreplay -q -i "$IF_B" "$speed" "$SENT" >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# run_alertcap SENDERS SNAP FILTER -> "captured drops cpu_us"
run_alertcap() {
	URL=$AC_URL DPID=$AC_PID DDIR=$AC_DIR run_daemon "$@"
}
run_alertcap_nohash() {
	URL=$NH_URL DPID=$NH_PID DDIR=$NH_DIR run_daemon "$@"
}
run_alertcap_pcap() {
	URL=$NH_URL DPID=$NH_PID DDIR=$NH_DIR FORMAT=pcap run_daemon "$@"
}
run_daemon() {
	local body cpu0 cpu1 r
	body="{\"target\": {\"interface\": \"$IF_A\"}, \"max_bytes_per_packet\": $2, \"max_bytes_per_session\": 4294967295, \"format\": \"${FORMAT:-pcapng}\""
	[ -n "$3" ] && body="$body, \"bpf\": \"$3\""
	api DELETE '/v1/captures/b?file=true' >/dev/null
	gone "$DDIR/captures/b_*"	# unlinked by the daemon: not in the next run
	api PUT /v1/captures/b "$body}" >/dev/null
	# The window is the reference's (ref_cpu): the load and 0.5 s after,
	# once the last run's unlink is done; not the stop (the last flush,
	# the fsync that makes the file durable), as tcpdump's exit is not.
	settle "$DPID"
	cpu0=$(cpu_us "$DPID")
	blast "$1"
	sleep 0.5
	cpu1=$(cpu_us "$DPID")
	r=$(api POST /v1/captures/b/stop | cut -d' ' -f2-)
	echo "$(jq -r .packets <<<"$r") $(jq -r .kernel_drops <<<"$r") $((cpu1 - cpu0))"
}

# run_tcpdump SENDERS SNAP FILTER -> "captured drops cpu_us"
run_tcpdump() {
	local cpu out snap=$2
	[ "$snap" = 0 ] && snap=262144
	cpu=$(ref_cpu "$T_DIR/td.err" "blast $1" taskset -c "$CAP_CPUS" tcpdump -i "$IF_A" -p -s "$snap" -w "$T_DIR/td.pcap" $3)
	out=$(cat "$T_DIR/td.err")
	local cap drops
	cap=$(sed -n 's/^\([0-9]*\) packets\? captured.*/\1/p' <<<"$out")
	drops=$(sed -n 's/^\([0-9]*\) packets\? dropped by kernel.*/\1/p' <<<"$out")
	if [ -z "$cap" ] || [ -z "$drops" ]; then
		# A reference that did not finish is void, and says why.
		sed 's/^/# tcpdump: /' "$T_DIR/td.err" >&2
		echo "0 - 0"
		return
	fi
	echo "$cap $drops $cpu"
}

# run_dumpcap SENDERS SNAP FILTER -> "captured drops cpu_us"
run_dumpcap() {
	local cpu snap=$2
	[ "$snap" = 0 ] && snap=262144
	cpu=$(ref_cpu "$T_DIR/dc.err" "blast $1" taskset -c "$CAP_CPUS" dumpcap -q -i "$IF_A" -p -s "$snap" -w "$T_DIR/dc.pcapng" ${3:+-f "$3"})
	echo "$(dumpcap_counts "$T_DIR/dc.err") $cpu"
	rm -f "$T_DIR/dc.pcapng"
}

# The curve: one sender at 50k, 100k and 200k packets/s and at top speed,
# snap 128, no filter, pinned; alertcapd (hashed and not) against tcpdump
# and dumpcap at each rate. BENCH_CURVE=off leaves it out, only runs it.
curve() {
	local rate tool rep cap drops cpu us
	LOAD_CPUS=0 CAP_CPUS=1
	taskset -a -p -c 1 "$AC_PID" >/dev/null
	taskset -a -p -c 1 "$NH_PID" >/dev/null
	echo "== the curve: CPU per packet against the packet rate (one sender, snap 128, pinned)"
	printf '%-8s %-17s %10s %10s %8s %9s %10s\n' rate tool sent captured drops cpu_us us/packet
	for rate in 50000 100000 200000 top; do
		declare -A cpp=()
		for rep in $(seq "$REPS"); do
			for tool in alertcapd alertcapd-nohash tcpdump dumpcap; do
				RATE=$rate
				[ "$rate" = top ] && RATE=
				case $tool in
				alertcapd) read -r cap drops cpu < <(run_alertcap 1 128 "") ;;
				alertcapd-nohash) read -r cap drops cpu < <(run_alertcap_nohash 1 128 "") ;;
				tcpdump) read -r cap drops cpu < <(run_tcpdump 1 128 "") ;;
				dumpcap) read -r cap drops cpu < <(run_dumpcap 1 128 "") ;;
				esac
				us=$(per_packet "$cpu" "$cap")
				cpp[$tool]="${cpp[$tool]:-} $us"
				printf '%-8s %-17s %10s %10s %8s %9s %10s\n' "$rate" "$tool" "$PER" "$cap" "${drops:-?}" "$cpu" "$us"
				json_row "$JSON" bench=capture-curve rate="$rate" tool="$tool" rep="$rep" sent="$PER" \
				    captured="$cap" drops="${drops:-}" cpu_us="$cpu" us_per_packet="$us"
			done
		done
		a=$(median ${cpp[alertcapd]}); n=$(median ${cpp[alertcapd-nohash]})
		t=$(median ${cpp[tcpdump]}); d=$(median ${cpp[dumpcap]})
		printf '  -> %s: alertcapd %s us (/tcpdump %s, /dumpcap %s); unhashed %s us (/tcpdump %s, /dumpcap %s)\n' \
		    "$rate" "$a" "$(ratio "$a" "$t")" "$(ratio "$a" "$d")" "$n" "$(ratio "$n" "$t")" "$(ratio "$n" "$d")"
		json_row "$JSON" bench=capture-curve-summary rate="$rate" alertcapd_us="$a" nohash_us="$n" \
		    tcpdump_us="$t" dumpcap_us="$d" over_tcpdump="$(ratio "$a" "$t")" over_dumpcap="$(ratio "$a" "$d")" \
		    nohash_over_tcpdump="$(ratio "$n" "$t")" nohash_over_dumpcap="$(ratio "$n" "$d")"
		unset cpp
	done
	RATE=
}
if [ "${BENCH_CURVE:-on}" = only ]; then
	curve
	echo "figures: $JSON"
	exit 0
fi

case ${BENCH_PIN:-both} in
off) PINS=unpinned ;; on) PINS=pinned ;; *) PINS="unpinned pinned" ;;
esac
for pin in $PINS; do
if [ "$pin" = pinned ]; then LOAD_CPUS=0 CAP_CPUS=1; else LOAD_CPUS=0,1 CAP_CPUS=0,1; fi
taskset -a -p -c "$CAP_CPUS" "$AC_PID" >/dev/null
taskset -a -p -c "$CAP_CPUS" "$NH_PID" >/dev/null
echo "== $pin (senders on CPU $LOAD_CPUS, the capturer on CPU $CAP_CPUS)"
printf '%-8s %-5s %-12s %-10s %10s %10s %8s %9s %12s\n' senders snap filter tool sent captured drops cpu_us us/packet
for senders in 1 2; do
	for snap in 128 0; do
		for filter in "" "udp or tcp port 80"; do
			declare -A cpp=()
			for tool in alertcapd alertcapd-nohash alertcapd-pcap tcpdump; do cpp[$tool]=""; done
			for rep in $(seq "$REPS"); do
				for tool in $TOOLS; do
					case $tool in
					alertcapd) read -r cap drops cpu < <(run_alertcap "$senders" "$snap" "$filter") ;;
					alertcapd-nohash) read -r cap drops cpu < <(run_alertcap_nohash "$senders" "$snap" "$filter") ;;
					alertcapd-pcap) read -r cap drops cpu < <(run_alertcap_pcap "$senders" "$snap" "$filter") ;;
					tcpdump) read -r cap drops cpu < <(run_tcpdump "$senders" "$snap" "$filter") ;;
					esac
					us=$(per_packet "$cpu" "$cap")
					cpp[$tool]="${cpp[$tool]} $us"
					printf '%-8s %-5s %-12s %-10s %10s %10s %8s %9s %12s\n' "$senders" "$snap" "${filter:-none}" "$tool" \
					    "$((PER * senders))" "$cap" "$drops" "$cpu" "$us"
					json_row "$JSON" bench=capture-load pin="$pin" senders="$senders" snap="$snap" filter="${filter:-none}" \
					    tool="$tool" rep="$rep" sent="$((PER * senders))" captured="$cap" drops="$drops" \
					    cpu_us="$cpu" us_per_packet="$us"
				done
			done
			a=$(median ${cpp[alertcapd]}); n=$(median ${cpp[alertcapd-nohash]}); t=$(median ${cpp[tcpdump]})
			c=$(median ${cpp[alertcapd-pcap]})
			printf '  -> median CPU per packet: alertcapd %s us, tcpdump %s us, ratio %s; without sha256 %s us, ratio %s; pcapng / pcap writer %s\n' \
			    "$a" "$t" "$(ratio "$a" "$t")" "$n" "$(ratio "$n" "$t")" "$(ratio "$n" "$c")"
			json_row "$JSON" bench=capture-load-summary pin="$pin" senders="$senders" snap="$snap" filter="${filter:-none}" \
			    alertcapd_us="$a" tcpdump_us="$t" ratio="$(ratio "$a" "$t")" nohash_us="$n" nohash_ratio="$(ratio "$n" "$t")" \
			    pcap_us="$c" pcapng_over_pcap="$(ratio "$n" "$c")"
		done
	done
done
done
[ "${BENCH_CURVE:-on}" = off ] || curve
echo "figures: $JSON"
