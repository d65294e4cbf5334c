#!/bin/bash
# Lookback. (1) The cost of an always-on ring (256 MiB, snap length 256) on
# a veth interface at 50,000 packets/s and at top speed, against dumpcap
# keeping a ring of files (-b filesize -b files) of the same traffic at
# the same snap length: CPU per packet, drops, and the daemon's RSS
# against memory_bytes + the kernel ring + 8 MiB. (2) With the ring full,
# CUTS captures of the whole past: the time until the capture is running
# (the answer to the PUT), and until the past is in its file, in MiB/s,
# against editcap -A cutting the same span from a file. Each cut waits for
# the one before to be written back (sync), so that an answer does not
# measure the page cache flushing 256 MiB of the last one.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip tcpreplay dumpcap editcap jq curl
make_netns || exit 1
ROUNDS=${ROUNDS:-30000}
CUTS=${CUTS:-10}
RING=268435456
SENT=$T_DIR/sent.pcap
"$PKTGEN" "$SENT" "$MAC_B" 02:00:00:00:00:01 "$ROUNDS" 600
PER=$(( ROUNDS * 9 ))
start_daemon ring "$NS_A" "\"lookback\": {\"max_s\": 86400, \"interfaces\": {\"$IF_A\": {\"memory_bytes\": $RING, \"snaplen\": 256}}}" || exit 1
API_NS=$NS_A
JSON=$OUT_DIR/lookback.json
: > "$JSON"

ring() { api GET /v1/interfaces | cut -d' ' -f2- | jq -r ".interfaces[] | select(.name == \"$IF_A\") | .lookback.$1"; }
received() { in_ns "$NS_A" curl -s "$URL/metrics" | sed -n "s/^alertcap_lookback_packets_total{interface=\"$IF_A\"} //p"; }
send() {	# send PPS|top
	if [ "$1" = top ]; then
		ip netns exec "$NS_B" tcpreplay -q -i "$IF_B" --topspeed "$SENT" >/dev/null 2>&1
	else
		ip netns exec "$NS_B" tcpreplay -q -i "$IF_B" --pps="$1" "$SENT" >/dev/null 2>&1
	fi
}

# run_ring RATE -> "packets drops cpu_us"
run_ring() {
	local p0 d0 c0 p1 d1 c1
	p0=$(received); d0=$(ring kernel_drops); c0=$(cpu_us "$DPID")
	send "$1"
	sleep 0.5
	p1=$(received); d1=$(ring kernel_drops); c1=$(cpu_us "$DPID")
	echo "$((p1 - p0)) $((d1 - d0)) $((c1 - c0))"
}

# run_dumpcap RATE -> "packets drops cpu_us"
run_dumpcap() {
	local cpu
	rm -f "$T_DIR"/dc_*
	cpu=$(ref_cpu "$T_DIR/dc.err" "send $1" dumpcap -q -i "$IF_A" -s 256 \
	    -b filesize:65536 -b files:4 -w "$T_DIR/dc.pcapng")
	echo "$(dumpcap_counts "$T_DIR/dc.err") $cpu"
}

printf '%-6s %-9s %10s %10s %8s %10s %11s\n' rate tool sent taken drops cpu_us us/packet
for rate in 50000 top; do
	declare -A cpp=()
	cpp[alertcapd]=""; cpp[dumpcap]=""
	for rep in $(seq "$REPS"); do
		for tool in alertcapd dumpcap; do
			if [ $tool = alertcapd ]; then read -r n drops cpu < <(run_ring "$rate")
			else read -r n drops cpu < <(run_dumpcap "$rate"); fi
			us=$(per_packet "$cpu" "$n")
			cpp[$tool]="${cpp[$tool]} $us"
			printf '%-6s %-9s %10s %10s %8s %10s %11s\n' "$rate" "$tool" "$PER" "$n" "${drops:-?}" "$cpu" "$us"
			json_row "$JSON" bench=lookback-ring rate="$rate" tool="$tool" rep="$rep" sent="$PER" \
			    taken="$n" drops="${drops:-}" cpu_us="$cpu" us_per_packet="$us"
		done
	done
	a=$(median ${cpp[alertcapd]}); d=$(median ${cpp[dumpcap]})
	printf '  -> median CPU per packet: ring %s us, dumpcap %s us, ratio %s\n' "$a" "$d" "$(ratio "$a" "$d")"
	json_row "$JSON" bench=lookback-ring-summary rate="$rate" ring_us="$a" dumpcap_us="$d" ratio="$(ratio "$a" "$d")"
done

# Fill the ring, then read the daemon's memory.
while [ "$(ring bytes)" -lt $((RING - 1048576)) ] && [ "$(ring evicted)" -eq 0 ]; do send top; done
rss=$(rss_kb "$DPID")
pss=$(smaps_kb "$DPID" Pss)
priv=$(smaps_kb "$DPID" Private_Dirty)
limit=$(( (RING + 8388608 + 8388608) / 1024 ))
printf 'ring full: %s bytes held, %s packets; RSS %s KiB, PSS %s KiB, Private_Dirty %s KiB; memory_bytes + kernel ring + 8 MiB = %s KiB\n' \
    "$(ring bytes)" "$(ring packets)" "$rss" "$pss" "$priv" "$limit"
json_row "$JSON" bench=lookback-memory held="$(ring bytes)" rss_kb="$rss" pss_kb="$pss" \
    private_dirty_kb="$priv" limit_kb="$limit"
echo "  the daemon's largest mappings (RSS KiB):"
awk '/^[0-9a-f]+-[0-9a-f]+ /{name = $6 == "" ? "[anon]" : $6} /^Rss:/{r[name] += $2}
    END {for (n in r) if (r[n] >= 256) printf "    %8d %s\n", r[n], n}' "/proc/$DPID/smaps" | sort -rn

# Cuts of the whole past: the answer, then the past in the file.
# answer_ms is the client's whole request, as curl times it; server_ms is
# that less curl's connect. The answer goes to /dev/null: written to a
# file, curl's own open(O_TRUNC) waited 7-14 ms for ext4's journal behind
# the 288 MB the cut was writing, in a third of the runs, and curl counts
# that in its time (strace of curl: answer received 0.7 ms after the
# request, the file opened 7.7 ms later).
printf '%-4s %10s %10s %10s %12s %10s\n' cut answer_ms server_ms packets past_bytes MiB/s
lat=() srv=() rates=()
for i in $(seq "$CUTS"); do
	sync	# the last cut's 256 MiB written back first: each answer alone
	read -r t tc < <(in_ns "$NS_A" curl -s -o /dev/null -w '%{time_total} %{time_connect}' -X PUT -H 'Content-Type: application/json' \
	    --data-binary "{\"target\": {\"interface\": \"$IF_A\"}, \"lookback_s\": 86400, \"time_limit_s\": 0, \"max_bytes_per_session\": 4294967295}" \
	    "$URL/v1/captures/cut$i")
	wait_status "cut$i" Stopped 60 >/dev/null
	r=$(record "cut$i")
	created=$(jq -r .created_at <<<"$r")
	done_at=$(jq -r '[.events[] | select(.message // "" | startswith("lookback:"))][0].at' <<<"$r")
	secs=$(( $(date -d "$done_at" +%s%6N) - $(date -d "$created" +%s%6N) ))
	bytes=$(jq -r .lookback.bytes <<<"$r")
	ms=$(awk -v t="$t" 'BEGIN {printf "%.2f", t * 1000}')
	sms=$(awk -v t="$t" -v c="$tc" 'BEGIN {printf "%.2f", (t - c) * 1000}')
	srv+=("$sms")
	mibs=$(awk -v b="$bytes" -v u="$secs" 'BEGIN {printf "%.0f", u ? b / 1048576 / (u / 1e6) : 0}')
	lat+=("$ms"); rates+=("$mibs")
	printf '%-4s %10s %10s %10s %12s %10s\n' "$i" "$ms" "$sms" "$(jq -r .lookback.packets <<<"$r")" "$bytes" "$mibs"
	json_row "$JSON" bench=lookback-cut cut="$i" answer_ms="$ms" server_ms="$sms" packets="$(jq -r .lookback.packets <<<"$r")" \
	    past_bytes="$bytes" mib_per_s="$mibs"
	if [ "$i" -lt "$CUTS" ]; then
		# Deleted, and its 288 MB gone from the disk (the worker's unlink
		# takes ~50 ms of a core), before the next cut is timed.
		api DELETE "/v1/captures/cut$i?file=true" >/dev/null
		gone "$DDIR/captures/cut${i}_*"
	fi
done
pct99() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {i = int(NR * 0.99 + 0.999); if (i > NR) i = NR; print a[i]}'; }
p99=$(pct99 "${lat[@]}")
sp99=$(pct99 "${srv[@]}")
f=$(local_file "cut$CUTS")
start=$(tshark -r "$f" -c 1 -T fields -e frame.time_epoch 2>/dev/null)
start_s=$(date -u -d "@$start" '+%Y-%m-%d %H:%M:%S')
t0=$(date +%s%6N)
editcap -A "$start_s" "$f" "$T_DIR/edit.pcap" 2>/dev/null
t1=$(date +%s%6N)
esz=$(stat -c %s "$f")
emibs=$(awk -v b="$esz" -v u="$((t1 - t0))" 'BEGIN {printf "%.0f", b / 1048576 / (u / 1e6)}')
m=$(median "${rates[@]}")
printf '  -> answer p99 %s ms (the daemon'"'"'s part %s ms) over %s cuts; past into the file: median %s MiB/s, editcap -A %s MiB/s, ratio %s\n' \
    "$p99" "$sp99" "$CUTS" "$m" "$emibs" "$(ratio "$m" "$emibs")"
json_row "$JSON" bench=lookback-cut-summary answer_p99_ms="$p99" server_p99_ms="$sp99" mib_per_s="$m" editcap_mib_per_s="$emibs" \
    ratio="$(ratio "$m" "$emibs")"
echo "figures: $JSON"
