#!/bin/bash
# Real traffic through a veth pair between two namespaces, captured by
# alertcapd in one of them: exact counts per filter, snap length, the byte,
# packet and time limits, a manual stop, and several sessions on one
# interface at once. Expected counts come from tcpdump -r on the sent file.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd ip tcpreplay tcpdump capinfos tshark jq curl

make_netns || skip_all "cannot create network namespaces"
SENT=$T_DIR/sent.pcap
# Foreign destination MAC: the local stack ignores the frames (no resets),
# the capture still sees them.
"$PKTGEN" "$SENT" "$MAC_B" 02:00:00:00:00:01 200 1000
CAPTURES_EXTRA=', "max_concurrent": 80' start_daemon node-a "$NS_A"
API_NS=$NS_A

# start NAME BODY-MEMBERS: PUT a capture on the veth; prints the status.
start() {
	api PUT "/v1/captures/$1" "{\"target\": {\"interface\": \"$IF_A\"}, $2}" | cut -d' ' -f1
}

# Captures with different filters, all at once on one interface.
is "$(start f-tcp80 '"filters": [{"protocol": "TCP", "local_port": "80"}]')" 201 "create TCP local_port 80"
is "$(start f-udp '"filters": [{"protocol": "UDP", "local_ip": "10.77.0.1", "remote_port": "5353"}]')" 201 "create UDP local_ip+remote_port"
is "$(start f-range '"filters": [{"protocol": "TCP", "local_port": "400-9000"}]')" 201 "create port range"
is "$(start f-list '"filters": [{"local_ip": "10.77.0.9;10.77.0.1", "protocol": "UDP"}]')" 201 "create IP list"
is "$(start f-v6 '"filters": [{"local_ip": "fd77::/64", "protocol": "UDP"}]')" 201 "create IPv6 CIDR"
is "$(start f-or '"filters": [{"protocol": "TCP", "local_port": "22"}, {"protocol": "UDP", "remote_ip": "10.77.0.2-10.77.0.3", "local_port": "9999"}]')" 201 "create two filters ORed"
is "$(start f-bpf '"filters": [{"protocol": "TCP"}], "bpf": "ip6"')" 201 "create filters ANDed with bpf"
is "$(start f-snap '"max_bytes_per_packet": 64, "bpf": "tcp or udp"')" 201 "create snap length 64"
is "$(start f-all '"bpf": "tcp or udp"')" 201 "create all TCP and UDP"
# (the same filter as f-tcp80: it takes that sink's verdict)
is "$(start f-dup '"filters": [{"protocol": "TCP", "local_port": "80"}]')" 201 "create a second TCP local_port 80"
running=$(api GET '/v1/captures?status=Running' | cut -d' ' -f2- | jq '.captures | length')
is "$running" 10 "ten sessions run on one interface"
is "$(grep -c "capture: opened $IF_A" "$DDIR/daemon.log")" 1 "one kernel ring for all of them"

replay "$SENT"
sleep 0.5
for n in f-tcp80 f-udp f-range f-list f-v6 f-or f-bpf f-snap f-all f-dup; do
	api POST "/v1/captures/$n/stop" >/dev/null
done

# check NAME EXPR: the file holds exactly what tcpdump -r EXPR finds.
check() {
	local f want got
	f=$(local_file "$1")
	want=$(pcap_count "$SENT" "$2")
	got=$(pcap_count "$f" ${3:+"$3"})
	is "$got" "$want" "$1: $got packets, as tcpdump -r '$2' on the sent file"
}
check f-tcp80 'tcp port 80'
check f-udp 'udp and host 10.77.0.1 and port 5353'
check f-range 'tcp and ((dst host 10.77.0.1 and dst portrange 400-9000) or (src host 10.77.0.1 and src portrange 400-9000))'
check f-list 'udp and (host 10.77.0.9 or host 10.77.0.1)'
check f-v6 'udp and ip6'
check f-or '(tcp and port 22) or (udp and host 10.77.0.2 and port 9999)'
check f-bpf 'tcp and ip6'
check f-all "tcp or udp"
check f-dup 'tcp port 80'
f=$(local_file f-snap)
is "$(pcap_count "$f")" "$(pcap_count "$SENT")" "f-snap: every packet kept"
maxcap=$(tshark -r "$f" -T fields -e frame.cap_len 2>/dev/null | sort -n | tail -1)
maxlen=$(tshark -r "$f" -T fields -e frame.len 2>/dev/null | sort -n | tail -1)
is "$maxcap" 64 "f-snap: no packet longer than 64 bytes in the file"
ok "$([ "$maxlen" -gt 1000 ]; echo $?)" "f-snap: original lengths kept ($maxlen)"
r=$(record f-all)
is "$(field "$r" .stop_reason)" ManualStop "manual stop recorded"
is "$(field "$r" .kernel_drops)" 0 "no kernel drops"
is "$(sha256sum "$(local_file f-all)" | cut -d' ' -f1)" "$(field "$r" .sha256)" "sha256 of the file on record"
is "$(field "$r" .bytes)" "$(stat -c %s "$(local_file f-all)")" "bytes on record = file size"
is "$(field "$r" '[.events[].status] | join(",")')" "NotStarted,Running,Stopped" "events: NotStarted, Running, Stopped"
capinfos "$(local_file f-all)" >/dev/null 2>&1
ok $? "capinfos reads the file"

# More structured filters than one table decides (64): 66 different
# ones that take the same packets, and their files hold them all, whether
# the table or a sink's own compares decided.
made=0
for i in $(seq 1 66); do
	[ "$(api PUT "/v1/captures/t$i" "{\"target\": {\"interface\": \"$IF_A\"}, \"max_bytes_per_session\": 1000000, \"filters\": [{\"protocol\": \"UDP\", \"local_port\": \"53;$((30000 + i))\", \"remote_ip\": \"10.77.0.2;10.99.0.$i\"}]}" | cut -d' ' -f1)" = 201 ] && made=$((made + 1))
done
is "$made" 66 "66 captures with different structured filters run at once"
replay "$SENT"
sleep 0.5
for i in $(seq 1 66); do api POST "/v1/captures/t$i/stop" >/dev/null; done
want=$(pcap_count "$SENT" 'udp and host 10.77.0.2 and port 53')
same=0
for i in $(seq 1 66); do
	wait_status "t$i" Stopped 5 >/dev/null
	[ "$(field "$(record "t$i")" .packets)" = "$want" ] && same=$((same + 1))
done
is "$same" 66 "66 structured filters at once: each took the $want packets tcpdump -r finds"
for i in $(seq 1 66); do api DELETE "/v1/captures/t$i?file=true" >/dev/null; done

# An alert storm's captures share their filter: the first runs it for all
# of them. With that first one stopped and a new one come, every capture
# still running takes every packet of the filter, as a BPF expression and
# as structured filters (which one table decides).
for set in bpf structured; do
	case $set in
	bpf) body='"bpf": "udp and port 53"' ;;
	structured) body='"filters": [{"protocol": "UDP", "remote_port": "53"}]' ;;
	esac
	for i in 1 2 3 4 5; do api PUT "/v1/captures/$set$i" "{\"target\": {\"interface\": \"$IF_A\"}, $body}" >/dev/null; done
	api POST "/v1/captures/${set}1/stop" >/dev/null
	wait_status "${set}1" Stopped 5 >/dev/null
	api POST "/v1/captures/${set}2/stop" >/dev/null
	wait_status "${set}2" Stopped 5 >/dev/null
	api PUT "/v1/captures/${set}6" "{\"target\": {\"interface\": \"$IF_A\"}, $body}" >/dev/null
	replay "$SENT"
	sleep 0.5
	want=$(pcap_count "$SENT" 'udp and port 53')
	same=0
	for i in 3 4 5 6; do
		api POST "/v1/captures/$set$i/stop" >/dev/null
		wait_status "$set$i" Stopped 5 >/dev/null
		[ "$(field "$(record "$set$i")" .packets)" = "$want" ] && same=$((same + 1))
	done
	is "$same" 4 "one filter shared ($set), its first two stopped and one more come: each of the 4 running took the $want packets"
	for i in 1 2 3 4 5 6; do api DELETE "/v1/captures/$set$i?file=true" >/dev/null; done
done

# Byte limit: the file never passes it.
is "$(start lim-bytes '"max_bytes_per_session": 20000, "bpf": "tcp or udp"')" 201 "create with a 20000-byte limit"
replay "$SENT"
wait_status lim-bytes Stopped 5
r=$(record lim-bytes)
is "$(field "$r" .stop_reason)" BytesExceeded "byte limit: BytesExceeded"
size=$(stat -c %s "$(local_file lim-bytes)")
ok "$([ "$size" -le 20000 ] && [ "$size" -gt 18000 ]; echo $?)" "byte limit: file is $size <= 20000 bytes"
tshark -r "$(local_file lim-bytes)" >/dev/null 2>&1
ok $? "byte limit: tshark reads the file"

# Packet limit.
is "$(start lim-pkts '"max_packets": 25, "bpf": "udp"')" 201 "create with a 25-packet limit"
replay "$SENT"
wait_status lim-pkts Stopped 5
r=$(record lim-pkts)
is "$(field "$r" .stop_reason)" PacketsExceeded "packet limit: PacketsExceeded"
is "$(pcap_count "$(local_file lim-pkts)")" 25 "packet limit: 25 packets in the file"

# Time limit, within 100 ms.
is "$(start lim-time '"time_limit_s": 1')" 201 "create with a 1 s limit"
wait_status lim-time Stopped 3
r=$(record lim-time)
is "$(field "$r" .stop_reason)" TimeExceeded "time limit: TimeExceeded"
ms=$(jq -r 'def us: (sub("\\.[0-9]+Z$"; "Z") | fromdate) * 1000000 + (capture("\\.(?<f>[0-9]{6})Z$").f | tonumber);
    ((.stopped_at | us) - (.started_at | us)) / 1000 | floor' <<<"$r")
ok "$([ "$ms" -ge 1000 ] && [ "$ms" -le 1100 ]; echo $?)" "time limit: stopped after $ms ms (within 100 ms)"

# captures.preopen: the interface is open from start, taking nothing, and
# stays open after its captures even with ring_linger_s 0; a reload lets
# it go. An unknown one is refused with file:line:col.
handles() { in_ns "$NS_A" curl -s -H "Authorization: Bearer $TOKEN" "$URL/metrics" | sed -n 's/^alertcap_capture_interfaces //p'; }
kill "$DPID"; wait "$DPID" 2>/dev/null
CAPTURES_EXTRA=", \"ring_linger_s\": 0, \"preopen\": [\"$IF_A\"]" start_daemon pre "$NS_A" || exit 1
like "$(cat "$DDIR/daemon.log")" "capture: $IF_A open from start (captures.preopen)" "preopen: the interface is opened at start"
is "$(handles)" 1 "preopen: its handle is open before any capture"
is "$(start pre1 '"bpf": "udp"')" 201 "preopen: a capture on it"
replay "$SENT"
sleep 0.3
api POST /v1/captures/pre1/stop >/dev/null
wait_status pre1 Stopped 5
is "$(field "$(record pre1)" .packets)" "$(tcpdump -r "$SENT" udp 2>/dev/null | wc -l)" "preopen: it takes every packet of its filter"
is "$(grep -c "capture: opened $IF_A" "$DDIR/daemon.log")" 1 "preopen: the capture used the handle opened at start"
sleep 0.3
is "$(handles)" 1 "preopen: the handle stays after the capture (ring_linger_s 0)"
jq '.captures.preopen = []' "$DDIR/alertcap.json" > "$T_DIR/pre.json" && cp "$T_DIR/pre.json" "$DDIR/alertcap.json"
kill -HUP "$DPID"
sleep 0.5
is "$(handles)" 0 "preopen: a reload that drops it closes the handle"
printf '{\n  "captures": {"preopen": ["%s", "nosuch0"]}\n}\n' "$IF_A" > "$T_DIR/bad.json"
out=$(in_ns "$NS_A" "$ALERTCAPD" -t -c "$T_DIR/bad.json" 2>&1)
like "$out" "bad.json:2:" "preopen: an unknown interface is refused with file:line:col"
like "$out" "captures.preopen[1]: no such interface" "naming the entry"
done_testing
