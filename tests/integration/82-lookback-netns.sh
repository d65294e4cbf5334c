#!/bin/bash
# Lookback with real traffic: a ring on the veth interface of a namespace
# while numbered datagrams cross it; captures with lookback_s, with from,
# and from an Alertmanager alert whose startsAt is seconds back, each hold
# every datagram of their span exactly once, past and live, with their own
# filter and snap length; kill -9 mid-capture leaves an Interrupted,
# readable capture; SIGHUP resizes the ring; bad rings are refused.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip tshark capinfos jq curl
SEQSEND=$builddir/tests/tools/seqsend

make_netns || skip_all "cannot create network namespaces"
RULES=$T_DIR/rules
mkdir -p "$RULES"
cat > "$RULES/onset.json" <<'JSON'
{"name": "onset",
 "match": {"format": "alertmanager", "alert": "UdpLoss"},
 "capture": {"name": "${rule}-${labels.n}",
             "target": {"interface": "veth-a"},
             "filters": [{"protocol": "UDP", "local_port": "7000"}],
             "from": "${alert.starts_at}", "time_limit_s": 1}}
JSON
LB='"lookback": {"max_s": 600, "interfaces": {"veth-a": {"memory_bytes": 1048576, "snaplen": 128,
    "disk_bytes": 16777216, "disk_file_bytes": 1048576},
    "lo": {"memory_bytes": 1048576, "snaplen": 128, "bpf": "udp port 7100"}}}'
start_daemon lb "$NS_A" "\"rules\": {\"dir\": \"$RULES\"}, $LB" || exit 1
API_NS=$NS_A

# Numbered streams for the whole test: 500/s on 7000 and 7001, and
# 3,000/s on 7002, enough to fill 1 MiB of memory in two seconds.
ip netns exec "$NS_B" "$SEQSEND" 10.77.0.1 7000 500 40 200 &
S1=$!
ip netns exec "$NS_B" "$SEQSEND" 10.77.0.1 7001 500 40 200 &
S2=$!
ip netns exec "$NS_B" "$SEQSEND" 10.77.0.1 7002 3000 40 200 &
S3=$!
T_PIDS+=("$S1" "$S2" "$S3")
sleep 3

# seqs FILE [PORT]: the sequence numbers of the datagrams to PORT (7000).
seqs() {
	local h
	tshark -r "$1" -Y "udp.dstport == ${2:-7000}" -T fields -e data.data 2>/dev/null |
	    cut -c1-16 | while read -r h; do echo $((16#$h)); done
}
# contiguous NAME [PORT]: "N contiguous" when the file holds N datagrams
# (to PORT), each once, with no number missing between the first and last.
contiguous() {
	local s n u lo hi
	s=$(seqs "$(local_file "$1")" "${2:-7000}")
	n=$(wc -l <<<"$s")
	u=$(sort -nu <<<"$s" | wc -l)
	lo=$(sort -n <<<"$s" | head -1)
	hi=$(sort -n <<<"$s" | tail -1)
	if [ "$n" -eq "$u" ] && [ $((hi - lo + 1)) -eq "$n" ]; then
		echo "$n contiguous"
	else
		echo "$n datagrams, $u distinct, from $lo to $hi"
	fi
}

r=$(api PUT /v1/captures/back '{"target": {"interface": "veth-a"}, "lookback_s": 2, "time_limit_s": 2,
    "filters": [{"protocol": "UDP", "local_port": "7000"}], "max_bytes_per_packet": 80}')
is "$(cut -d' ' -f1 <<<"$r")" 201 "lookback_s 2: created"
is "$(field "${r#* }" .status)" Running "and Running at once"
wait_status back Stopped 10
r=$(record back)
like "$(contiguous back)" "contiguous" "lookback_s: every datagram of the span once, past and live ($(contiguous back))"
n=$(contiguous back | cut -d' ' -f1)
ok "$([ "$n" -ge 1800 ] && [ "$n" -le 2200 ]; echo $?)" "lookback_s: about 2 s back and 2 s live at 500/s ($n)"
is "$(field "$r" .lookback.gap_s)" 0 "lookback_s: no gap"
ok "$([ "$(field "$r" .lookback.packets)" -ge 900 ]; echo $?)" "lookback_s: about 1000 from the ring ($(field "$r" .lookback.packets))"
f=$(local_file back)
is "$(tshark -r "$f" -Y 'udp.dstport != 7000' 2>/dev/null | wc -l)" 0 "the capture's own filter applies to the past"
is "$(tshark -r "$f" -T fields -e frame.cap_len 2>/dev/null | sort -n | tail -1)" 80 "and its snap length"
first=$(tshark -r "$f" -c 1 -T fields -e frame.time_epoch 2>/dev/null | cut -d. -f1)
created=$(date -d "$(field "$r" .created_at)" +%s)
ok "$([ $((created - first)) -ge 1 ] && [ $((created - first)) -le 3 ]; echo $?)" "the file begins about 2 s before the capture was made"
is "$(tshark -r "$f" -T fields -e frame.time_delta 2>/dev/null | grep -c '^-')" 0 "timestamps never go back"

ms=$(($(date +%s%3N) - 1500))
from=$(date -u -d "@${ms:0:-3}.${ms: -3}" +%Y-%m-%dT%H:%M:%S.%3NZ)
api PUT /v1/captures/since "{\"target\": {\"interface\": \"veth-a\"}, \"from\": \"$from\", \"time_limit_s\": 0,
    \"filters\": [{\"protocol\": \"UDP\", \"local_port\": \"7000\"}]}" >/dev/null
wait_status since Stopped 5
like "$(contiguous since)" "contiguous" "from, as a snapshot: contiguous ($(contiguous since))"
n=$(contiguous since | cut -d' ' -f1)
ok "$([ "$n" -ge 650 ] && [ "$n" -le 850 ]; echo $?)" "from 1.5 s back: about 750 datagrams ($n)"
is "$(field "$(record since)" .stop_reason)" TimeExceeded "time_limit_s 0: stopped when the past is in"

# An alert whose condition began 3 s before it reached us.
starts=$(date -u -d '-3 sec' +%Y-%m-%dT%H:%M:%S.%3NZ)
out=$(in_ns "$NS_A" curl -s -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' --data-binary \
    "{\"version\": \"4\", \"groupKey\": \"g\", \"status\": \"firing\", \"alerts\": [{\"status\": \"firing\",
      \"labels\": {\"alertname\": \"UdpLoss\", \"n\": \"1\"}, \"startsAt\": \"$starts\", \"fingerprint\": \"f1\"}]}" \
    "$URL/v1/alerts/alertmanager")
is "$(field "$out" '.captures[0]')" "onset-1" "the alert starts onset-1"
wait_status onset-1 Stopped 10
r=$(record onset-1)
like "$(contiguous onset-1)" "contiguous" "alert: contiguous from startsAt ($(contiguous onset-1))"
is "$(date -d "$(field "$r" .lookback.requested_from)" +%s)" "$(date -d "$starts" +%s)" "alert: requested_from is the alert's startsAt"
n=$(contiguous onset-1 | cut -d' ' -f1)
ok "$([ "$n" -ge 1800 ] && [ "$n" -le 2200 ]; echo $?)" "alert: 3 s before and 1 s after ($n)"

# A memory ring overflowing under load: 1 MiB on lo holds about 7,000 of
# these datagrams, 1.4 s at 5,000/s; a cut 3 s back reports the rest as
# its gap and holds, contiguous, what the ring still had.
ip netns exec "$NS_A" "$SEQSEND" 127.0.0.1 7100 5000 4 200 &
T_PIDS+=("$!")
sleep 3.5
r=$(api PUT /v1/captures/over '{"target": {"interface": "lo"}, "lookback_s": 3, "time_limit_s": 0,
    "filters": [{"protocol": "UDP", "local_port": "7100"}]}')
wait_status over Stopped 5
r=$(record over)
gap=$(field "$r" .lookback.gap_s)
ok "$(awk -v g="$gap" 'BEGIN { exit !(g > 1 && g < 2.5) }'; echo $?)" "overflow: the ring let go of the oldest, and the cut says so (gap_s $gap)"
s=$(tshark -r "$(local_file over)" -Y 'udp.dstport == 7100' -T fields -e data.data 2>/dev/null | cut -c1-16 |
    while read -r h; do echo $((16#$h)); done)
n=$(wc -l <<<"$s"); lo=$(sort -n <<<"$s" | head -1); hi=$(sort -n <<<"$s" | tail -1)
# At this rate a slow (sanitizer) build may lose a few in the kernel: each
# datagram is in the file once, and any missing one is a kernel drop.
kd=$(api GET /v1/interfaces | cut -d' ' -f2- | jq -r '.interfaces[] | select(.name == "lo") | .lookback.kernel_drops')
is "$(sort -nu <<<"$s" | wc -l)" "$n" "overflow: each datagram the ring held is in the file once ($n from $lo)"
ok "$([ $((hi - lo + 1 - n)) -le "${kd:-0}" ]; echo $?)" "overflow: none missing but what the kernel dropped ($((hi - lo + 1 - n)) missing, $kd dropped)"
ok "$([ "$(api GET /v1/interfaces | cut -d' ' -f2- | jq -r '.interfaces[] | select(.name == "lo") | .lookback.evicted')" -gt 0 ]; echo $?)" "overflow: evictions counted"

# Sessions that come and go with other filters change the kernel's
# filter on the ring's socket; the ring loses nothing meanwhile (libpcap's
# pcap_setfilter drops whatever arrives while it drains the socket).
sleep 2.5	# the overflow's datagrams are older than the cut below
# The cut starts here, however long a loaded machine takes to send.
churn_from=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
ip netns exec "$NS_A" "$SEQSEND" 127.0.0.1 7100 2000 2 100 &
churn=$!
for i in $(seq 20); do
	api PUT "/v1/captures/churn$i" "{\"target\": {\"interface\": \"lo\"}, \"time_limit_s\": 5,
	    \"filters\": [{\"protocol\": \"UDP\", \"local_port\": \"$((9000 + i))\"}]}" >/dev/null
	sleep 0.03
	api DELETE "/v1/captures/churn$i?file=true" >/dev/null
	sleep 0.03
done
wait_pid "$churn" 10
r=$(api PUT /v1/captures/steady "{\"target\": {\"interface\": \"lo\"}, \"from\": \"$churn_from\", \"time_limit_s\": 0,
    \"filters\": [{\"protocol\": \"UDP\", \"local_port\": \"7100\"}]}")
wait_status steady Stopped 5
kd=$(api GET /v1/interfaces | cut -d' ' -f2- | jq -r '.interfaces[] | select(.name == "lo") | .lookback.kernel_drops')
c=$(contiguous steady 7100)
like "$c" "contiguous" "20 sessions attached and detached meanwhile: the ring holds every datagram ($c, $kd kernel drops)"
is "$(cut -d' ' -f1 <<<"$c")" 4000 "all 4,000 sent"

# Further back than the ring has run: answered, on record, counted.
r=$(api PUT /v1/captures/far '{"target": {"interface": "veth-a"}, "lookback_s": 500, "time_limit_s": 0}')
wait_status far Stopped 5
gap=$(field "$(record far)" .lookback.gap_s)
ok "$(awk -v g="$gap" 'BEGIN { exit !(g > 400) }'; echo $?)" "beyond the ring: gap_s on record ($gap)"
like "$(in_ns "$NS_A" curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics")" "alertcap_lookback_gaps_total 2" "and counted (with the overflow's)"
i=$(api GET /v1/interfaces | cut -d' ' -f2-)
is "$(jq -r '.interfaces[] | select(.name == "veth-a") | .lookback.memory_bytes' <<<"$i")" 1048576 "/v1/interfaces shows the ring"
ok "$([ "$(jq -r '.interfaces[] | select(.name == "veth-a") | .lookback.bytes' <<<"$i")" -gt 0 ]; echo $?)" "holding bytes"

# SIGHUP resizes the ring.
sed -i 's/"memory_bytes": 1048576/"memory_bytes": 2097152/' "$DDIR/alertcap.json"
kill -HUP "$DPID"
sleep 0.5
is "$(api GET /v1/interfaces | cut -d' ' -f2- | jq -r '.interfaces[] | select(.name == "veth-a") | .lookback.memory_bytes')" 2097152 "SIGHUP resizes the ring"
sleep 2

# kill -9 while a lookback capture runs: Interrupted, readable, whole.
api PUT /v1/captures/crash '{"target": {"interface": "veth-a"}, "lookback_s": 1, "time_limit_s": 60,
    "filters": [{"protocol": "UDP", "local_port": "7000"}]}' >/dev/null
sleep 1.5
stop_pid "$DPID" KILL
launch_daemon lb "$NS_A" || exit 1
r=$(record crash)
is "$(field "$r" .stop_reason)" Interrupted "kill -9: the capture is Interrupted"
tshark -r "$(local_file crash)" >/dev/null 2>&1
ok $? "and its file is readable"
like "$(contiguous crash)" "contiguous" "and holds its span once ($(contiguous crash))"

# The disk tier: segments past memory, readable, within disk_bytes, and
# kept across the crash; a cut into the earlier run says the daemon was down.
segs=("$DDIR"/captures/.lookback/veth-a/seg-*.pcapng)
ok "$([ ${#segs[@]} -ge 2 ]; echo $?)" "disk tier: segments under captures.root/.lookback/veth-a (${#segs[@]})"
bad=0
for f in "${segs[@]}"; do capinfos "$f" >/dev/null 2>&1 || bad=$((bad + 1)); done
is "$bad" 0 "every segment reads as pcapng"
ok "$([ "$(du -sb "$DDIR/captures/.lookback/veth-a" | cut -f1)" -le 16781312 ]; echo $?)" "within disk_bytes"
sleep 1
api PUT /v1/captures/deep '{"target": {"interface": "veth-a"}, "lookback_s": 15, "time_limit_s": 0,
    "filters": [{"protocol": "UDP", "local_port": "7000"}]}' >/dev/null
wait_status deep Stopped 10
r=$(record deep)
n=$(contiguous deep | cut -d' ' -f1)
# 15 s at 500/s, less what the crash lost: the earlier run's memory
# (about 2 s) and the time the daemon was down.
ok "$([ "$n" -ge 3000 ]; echo $?)" "a cut 15 s back reaches past memory into the disk tier and the earlier run ($n)"
gap=$(field "$r" .lookback.gap_s)
ok "$(awk -v g="$gap" -v n="$n" 'BEGIN { exit !(g > 0 && g < 15 && n + g * 500 >= 7000) }'; echo $?)" "what the crash lost is the gap ($gap s): datagrams and gap add up to the span"

# Bad rings are refused with file:line:col, by -t and at start.
cat > "$T_DIR/bad.json" <<JSON
{"lookback": {"interfaces": {"nosuch0": {"memory_bytes": 8388608}}}}
JSON
out=$(in_ns "$NS_A" "$ALERTCAPD" -t -c "$T_DIR/bad.json" 2>&1)
like "$out" "bad.json:1:" "an unknown interface: file:line:col"
like "$out" "lookback.interfaces.nosuch0: no such interface" "naming it"
printf '{"lookback": {"interfaces": {"veth-a": {"memory_bytes": 137438953472}}}}\n' > "$T_DIR/bad.json"
like "$(in_ns "$NS_A" "$ALERTCAPD" -t -c "$T_DIR/bad.json" 2>&1)" "memory_bytes: 137438953472 is out of range" "a ring above 64 GiB is refused"
printf '{"lookback": {"interfaces": {"veth-a": {"disk_bytes": 2097152, "disk_file_bytes": 4194304}}}}\n' > "$T_DIR/bad.json"
like "$(in_ns "$NS_A" "$ALERTCAPD" -t -c "$T_DIR/bad.json" 2>&1)" "disk_file_bytes: 4194304 is above disk_bytes (2097152)" "segments larger than the disk tier are refused"
done_testing
