#!/bin/bash
# Alert to capture: the time from posting a webhook alert until alertcapd
# has answered 202 with the capture running (the answer comes after the
# capture is active, so this bounds the alert-to-capture time from above),
# over 10,000 distinct alerts (ALERTS) on one keep-alive connection. The
# interface is opened once, by the first capture, which is reported apart.
# The rule captures "${FILTER:-udp port 9}" on lo, as a rule names what it
# wants; FILTER= (none) makes the thousands of running captures take the
# benchmark's own HTTP traffic too, which then measures their writing.
# Then, with traffic flowing on lo (20k packets/s replayed), PKT_ALERTS
# alerts each start a capture of one packet: the time from the record's
# creation (the alert's arrival) to the capture running, and to the
# timestamp of the first packet in its file.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd curl jq tcpreplay tcpdump
with_ring lo
N=${ALERTS:-10000}
K=${PKT_ALERTS:-200}
mkdir -p "$T_DIR/rules"
cat > "$T_DIR/rules/r.json" <<'JSON'
{"name": "lat", "match": {"alert": "Lat*"},
 "capture": {"name": "lat-${labels.n}", "target": {"interface": "lo"}, "bpf": "@FILTER@",
             "time_limit_s": 1, "max_bytes_per_session": 1048576},
 "policy": {"cooldown_s": 0}}
JSON
sed -i "s|@FILTER@|${FILTER-udp port 9}|" "$T_DIR/rules/r.json"
cat > "$T_DIR/rules/p.json" <<'JSON'
{"name": "first-packet", "match": {"alert": "Pkt"},
 "capture": {"name": "pkt-${labels.n}", "target": {"interface": "lo"},
             "bpf": "net 10.77.0.0/24", "max_packets": 1, "time_limit_s": 10,
             "max_bytes_per_session": 1048576},
 "policy": {"cooldown_s": 0}}
JSON
CAPTURES_EXTRA=', "max_concurrent": 4096' start_daemon lat "" \
    "\"rules\": {\"dir\": \"$T_DIR/rules\"}" || exit 1
JSON=$OUT_DIR/alert-latency.json
: > "$JSON"
first=$(curl -s -o /dev/null -w '%{time_total}' --data-binary \
    '{"name": "LatFirst", "status": "firing", "labels": {"n": "first"}}' "$URL/v1/alerts/generic")
# One connection, one request after another ("next" resets the options).
for i in $(seq "$N"); do
	[ "$i" -gt 1 ] && echo next
	printf 'silent\nurl = "%s/v1/alerts/generic"\n' "$URL"
	printf 'write-out = "\\n@@ %%{time_total} %%{http_code}\\n"\n'
	printf 'data-binary = "{\\"name\\": \\"Lat\\", \\"status\\": \\"firing\\", \\"labels\\": {\\"n\\": \\"%d\\"}}"\n' "$i"
done > "$T_DIR/curl.cfg"
# Each answer says what its alert did: "started" a capture, or not (the
# captures.max_concurrent limit reached, in a storm faster than captures
# end). The times: seconds, status, and 1 if a capture started.
curl -K "$T_DIR/curl.cfg" | awk '/^@@ / {print $2, $3, s; s = 0; next}
    /"started"/ {s = 1}' > "$T_DIR/times"
[ -n "${KEEP_TIMES:-}" ] && cp "$T_DIR/times" "$KEEP_TIMES"
awk '$3 == 1' "$T_DIR/times" | sort -n > "$T_DIR/times.started"
sort -n "$T_DIR/times" | awk -v first="$first" -v sfile="$T_DIR/times.started" '
	{t[NR] = $1 * 1000; if ($2 != 202) bad++}
	END {
		while ((getline l < sfile) > 0) {split(l, f, " "); s[++ns] = f[1] * 1000}
		p50 = s[int(ns * 0.50)]; p99 = s[int(ns * 0.99)]; max = s[ns]
		printf "alerts %d, answered 202: %d, captures started: %d\n", NR, NR - bad, ns
		printf "first capture on the interface (opens its ring): %.2f ms\n", first * 1000
		printf "alert -> capture running: p50 %.3f ms, p99 %.3f ms, max %.3f ms (targets: p50 <= 1, p99 <= 2, max <= 10)\n", p50, p99, max
		printf "every answer, started or not: p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", t[int(NR * 0.50)], t[int(NR * 0.99)], t[NR]
		printf "{\"bench\":\"alert-latency\",\"alerts\":%d,\"started\":%d,\"first_ms\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n", NR, ns, first * 1000, p50, p99, max > "/dev/stderr"
	}' 2> "$JSON"

# Time to the first packet, with traffic flowing.
"$PKTGEN" "$T_DIR/flow.pcap" 02:00:00:00:00:02 02:00:00:00:00:01 2000 200
tcpreplay -q -i lo --pps=20000 --loop=0 "$T_DIR/flow.pcap" >/dev/null 2>&1 &
FLOW=$!
T_PIDS+=("$FLOW")
sleep 0.5
for i in $(seq "$K"); do
	[ "$i" -gt 1 ] && echo next
	printf 'silent\nurl = "%s/v1/alerts/generic"\n' "$URL"
	printf 'data-binary = "{\\"name\\": \\"Pkt\\", \\"status\\": \\"firing\\", \\"labels\\": {\\"n\\": \\"%d\\"}}"\n' "$i"
done > "$T_DIR/curl2.cfg"
curl -K "$T_DIR/curl2.cfg" > "$T_DIR/answers"; echo >> "$T_DIR/answers"; grep -v started "$T_DIR/answers" | head -3 >&2
sleep 1
kill "$FLOW"; wait "$FLOW" 2>/dev/null
# us RFC3339: microseconds since the epoch.
to_us() { local s=${1%Z}; echo "$(date -u -d "${s%.*}" +%s)${s#*.}"; }
: > "$T_DIR/pkt"
for i in $(seq "$K"); do
	r=$(record "pkt-$i")
	[ "$(jq -r .status <<<"$r")" = Stopped ] || { echo "pkt-$i: $(jq -c "{status, stop_reason, packets, errors}" <<<"$r")" >&2; continue; }
	c=$(to_us "$(jq -r .created_at <<<"$r")")
	s=$(to_us "$(jq -r .started_at <<<"$r")")
	f=$(tcpdump -tt -nn -c1 -r "$(jq -r .file <<<"$r" | sed 's|^file://||')" 2>/dev/null | awk '{split($1, a, "."); print a[1] a[2]}')
	[ -n "$f" ] && echo "$(( (s - c) )) $(( (f - c) ))" >> "$T_DIR/pkt"
done
awk '{print $1}' "$T_DIR/pkt" | sort -n > "$T_DIR/run"
awk '{print $2}' "$T_DIR/pkt" | sort -n > "$T_DIR/first"
pct() { awk -v q="$2" '{t[NR] = $1} END {i = int(NR * q); if (i < 1) i = 1; printf "%.3f", t[i] / 1000}' "$1"; }
printf 'alert -> capture running (record times, %d captures): p50 %s ms, p99 %s ms\n' \
    "$(wc -l < "$T_DIR/run")" "$(pct "$T_DIR/run" 0.5)" "$(pct "$T_DIR/run" 0.99)"
printf 'alert -> first packet in the file (20k packets/s flowing): p50 %s ms, p99 %s ms, max %s ms\n' \
    "$(pct "$T_DIR/first" 0.5)" "$(pct "$T_DIR/first" 0.99)" "$(pct "$T_DIR/first" 1)"
json_row "$JSON" bench=first-packet captures="$(wc -l < "$T_DIR/first")" \
    run_p50_ms="$(pct "$T_DIR/run" 0.5)" run_p99_ms="$(pct "$T_DIR/run" 0.99)" \
    first_p50_ms="$(pct "$T_DIR/first" 0.5)" first_p99_ms="$(pct "$T_DIR/first" 0.99)" first_max_ms="$(pct "$T_DIR/first" 1)"

# The first capture on an interface named in captures.preopen, whose
# handle and kernel ring were made at start, against the cold one above.
kill "$DPID"; wait "$DPID" 2>/dev/null
CAPTURES_EXTRA=', "preopen": ["lo"]' start_daemon warm "" \
    "\"rules\": {\"dir\": \"$T_DIR/rules\"}" || exit 1
warm=$(curl -s -o /dev/null -w '%{time_total}' --data-binary \
    '{"name": "LatFirst", "status": "firing", "labels": {"n": "warm"}}' "$URL/v1/alerts/generic")
printf 'first capture on an interface in captures.preopen: %.2f ms (cold, above: %.2f ms)\n' \
    "$(awk -v t="$warm" 'BEGIN {print t * 1000}')" "$(awk -v t="$first" 'BEGIN {print t * 1000}')"
json_row "$JSON" bench=first-capture warm_ms="$(awk -v t="$warm" 'BEGIN {printf "%.3f", t * 1000}')" \
    cold_ms="$(awk -v t="$first" 'BEGIN {printf "%.3f", t * 1000}')"
echo "figures: $JSON"
