#!/bin/bash
# Files that carry their evidence. A capture started by an Alertmanager
# alert is pcapng: its section comment holds the trigger (rule, alert,
# severity, labels, fingerprint, starts_at) and the parameters as the
# record has them, its interface block the interface and the filter as
# compiled, nanosecond stamps, and its statistics block the record's drop
# counts and times. Read back by tshark, capinfos, tcpdump and editcap,
# and for the statistics block by tests/tools/pcapng-isb.py. Classic pcap
# stays available; the byte limit holds for pcapng; bad formats are
# refused naming the field.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl tshark capinfos editcap tcpdump python3

ISB="python3 $srcdir/tests/tools/pcapng-isb.py"
mkdir -p "$T_DIR/rules"
cat > "$T_DIR/rules/evidence.json" <<'JSON'
{"name": "evidence", "match": {"alert": "LinkFlap"},
 "capture": {"name": "ev", "target": {"interface": "lo"}, "time_limit_s": 60,
             "filters": [{"protocol": "Any", "remote_ip": "127.0.0.1"}],
             "bpf": "icmp"}}
JSON
start_daemon ff "" "\"rules\": {\"dir\": \"$T_DIR/rules\"}" || exit 1

# iso_ns TIME: an RFC 3339 instant in nanoseconds since the epoch.
iso_ns() { date -u -d "$1" +%s%N; }
# file_type FILE: what capinfos calls it.
file_type() { capinfos -t "$1" | sed -n 's/^File type: *//p'; }
# readers FILE WHAT: every reader opens FILE.
readers() {
	tcpdump -nn -r "$1" >/dev/null 2>&1 && tshark -r "$1" >/dev/null 2>&1 &&
	    capinfos "$1" >/dev/null 2>&1 &&
	    editcap "$1" "$T_DIR/edited" >/dev/null 2>&1
	ok $? "$2: tcpdump, tshark, capinfos and editcap read it"
}

starts=$(date -u -d '-5 seconds' +%Y-%m-%dT%H:%M:%S.123456Z)
cat > "$T_DIR/alert.json" <<JSON
{"version": "4", "status": "firing", "receiver": "alertcap",
 "alerts": [{"status": "firing",
   "labels": {"alertname": "LinkFlap", "severity": "warning", "instance": "db-7", "team": "net"},
   "annotations": {"summary": "eth0 flapping"},
   "startsAt": "$starts", "endsAt": "0001-01-01T00:00:00Z",
   "fingerprint": "feedc0de12345678"}]}
JSON
r=$(api POST /v1/alerts/alertmanager "$(cat "$T_DIR/alert.json")")
is "$(cut -d' ' -f1 <<<"$r")" 202 "the alert is taken"
wait_status ev Running 5
send_ping 8 100
sleep 0.5
api POST /v1/captures/ev/stop >/dev/null
wait_status ev Stopped 10
rec=$(record ev)
f=$(local_file ev)
ok "$([[ $f == *.pcapng ]]; echo $?)" "the file is named .pcapng ($f)"
is "$(file_type "$f")" "Wireshark/... - pcapng" "capinfos: pcapng"
readers "$f" "the alert's capture"
is "$(pcap_count "$f")" "$(field "$rec" .packets)" "its packets are the record's"

# The section: who wrote it, and the comment with the trigger.
info=$(capinfos "$f")
like "$info" "Capture application: alertcapd " "shb_userappl names alertcapd"
like "$info" "Capture oper-sys:    Linux" "shb_os names the OS"
like "$info" "Capture hardware:    $(uname -m)" "shb_hardware names the machine"
comment=$(capinfos -k "$f" | sed -n 's/^Capture comment: *//p')
like "$comment" "alertcap capture ev on node ff" "the comment names the capture and the node"
trig=$(sed -n 's/.*trigger: \({.*}\) parameters: .*/\1/p' <<<"$comment")
is "$(jq -S -c . <<<"$trig")" "$(field "$rec" '.trigger' | jq -S -c .)" "the comment's trigger is the record's"
is "$(jq -r '[.rule, .alert, .severity, .fingerprint, .labels.instance, .labels.team] | join(" ")' <<<"$trig")" \
    "evidence LinkFlap warning feedc0de12345678 db-7 net" "rule, alert, severity, fingerprint and labels"
is "$(iso_ns "$(jq -r .starts_at <<<"$trig")")" "$(iso_ns "$starts")" "starts_at is the alert's"
params=$(sed -n 's/.* parameters: \({.*}\)$/\1/p' <<<"$comment")
is "$(jq -S -c --argjson r "$rec" 'with_entries(.value = $r[.key])' <<<"$params")" \
    "$(jq -S -c . <<<"$params")" "the comment's parameters are the record's"

# The interface: name, description, the filter as compiled, nanoseconds.
is "$(tshark -r "$f" -c 1 -T fields -e frame.interface_name 2>/dev/null)" lo "if_name: lo"
is "$(tshark -r "$f" -c 1 -T fields -e frame.interface_description 2>/dev/null)" "lo on node ff" "if_description"
filter=$(sed -n 's/^ *Filter string = //p' <<<"$info")
is "$filter" "$(field "$rec" .expression)" "if_filter is the record's expression, as compiled"
like "$filter" "icmp" "it holds the bpf"
like "$filter" "127.0.0.1" "and the filters, ANDed ($filter)"
like "$info" "File timestamp precision:  nanoseconds (9)" "if_tsresol: nanoseconds"
if [ -z "$T_REPLAY" ]; then
	# The kernel's stamps, whole: not all of them whole microseconds.
	sub=$(tshark -r "$f" -T fields -e frame.time_epoch 2>/dev/null | grep -vc '000$')
	ok "$([ "$sub" -gt 0 ]; echo $?)" "stamps keep their nanoseconds ($sub of $(field "$rec" .packets))"
fi

# The statistics block: the record's drops and times.
isb=$($ISB "$f")
is "$(wc -l <<<"$isb")" 1 "one statistics block, at the end"
is "$(jq .osdrop <<<"$isb")" "$(field "$rec" .kernel_drops)" "isb_osdrop is the record's kernel_drops"
is "$(jq .ifdrop <<<"$isb")" "$(field "$rec" .if_drops)" "isb_ifdrop is the record's if_drops"
is "$(jq .starttime <<<"$isb")" "$(iso_ns "$(field "$rec" .started_at)")" "isb_starttime is started_at"
is "$(jq .endtime <<<"$isb")" "$(iso_ns "$(field "$rec" .stopped_at)")" "isb_endtime is stopped_at"
ok "$([ "$(jq .ifrecv <<<"$isb")" -ge "$(field "$rec" .packets)" ]; echo $?)" "isb_ifrecv counts at least the packets kept"
is "$(stat -c %s "$f")" "$(field "$rec" .bytes)" "the record's bytes are the file's, every block counted"

# Nanoseconds round-trip: replayed stamps keep their spacing to the ns.
python3 - "$T_DIR/ns.pcap" <<'PY'
import struct, sys
pkt = bytes.fromhex("ffffffffffff020000000001080045000020000100004011"
                    "f7c90a0000010a000002303930390000000c0000")
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b23c4d, 2, 4, 0, 0, 65535, 1))
    for sec, nsec in ((1700000000, 1), (1700000000, 2), (1700000000, 123456791)):
        f.write(struct.pack("<IIII", sec, nsec, len(pkt), len(pkt)) + pkt)
PY
T_REPLAY=$T_DIR/nsreplay
mkdir -p "$T_REPLAY"
start_daemon ns || exit 1
api PUT /v1/captures/nsc '{"target": {"interface": "lo"}, "time_limit_s": 60}' >/dev/null
cp "$T_DIR/ns.pcap" "$T_REPLAY/ns/.in" && mv "$T_REPLAY/ns/.in" "$T_REPLAY/ns/in.pcap"
for _ in $(seq 100); do [ "$(field "$(record nsc)" .packets)" = 3 ] && break; sleep 0.05; done
api POST /v1/captures/nsc/stop >/dev/null
wait_status nsc Stopped 10
stamps=$(tshark -r "$(local_file nsc)" -T fields -e frame.time_epoch 2>/dev/null |
    awk -F. 'NR == 1 {s = $1; n = $2} {printf "%d ", ($1 - s) * 1000000000 + $2 - n}')
is "$stamps" "0 1 123456790 " "nanosecond stamps round-trip through the capture"

# Classic pcap on request, microseconds.
api PUT /v1/captures/old '{"target": {"interface": "lo"}, "format": "pcap", "time_limit_s": 60}' >/dev/null
send_ping 4
sleep 0.5
api POST /v1/captures/old/stop >/dev/null
wait_status old Stopped 10
fo=$(local_file old)
ok "$([[ $fo == *.pcap ]]; echo $?)" "format pcap: the file is named .pcap"
is "$(file_type "$fo")" "Wireshark/tcpdump/... - pcap" "format pcap: classic pcap"
is "$(field "$(record old)" .format)" pcap "the record says pcap"
readers "$fo" "the classic file"

# The byte limit counts every block: header, packets and statistics.
api PUT /v1/captures/lim '{"target": {"interface": "lo"}, "max_bytes_per_session": 2048, "time_limit_s": 60}' >/dev/null
send_ping 20 200
wait_status lim Stopped 10
rl=$(record lim)
is "$(field "$rl" .stop_reason)" BytesExceeded "pcapng: the byte limit stops it"
fl=$(local_file lim)
size=$(stat -c %s "$fl")
ok "$([ "$size" -le 2048 ] && [ "$size" -gt 1500 ]; echo $?)" "pcapng: the file ($size bytes) stays within 2048"
is "$size" "$(field "$rl" .bytes)" "pcapng: the record's bytes are the file's"
is "$($ISB "$fl" | wc -l)" 1 "pcapng: the statistics block fits within the limit"
readers "$fl" "the limited file"

# Bad formats: 400 naming the field; the config's at file:line:col.
r=$(api PUT /v1/captures/bad '{"target": {"interface": "lo"}, "format": "pcapng2"}')
is "$(cut -d' ' -f1 <<<"$r")" 400 "format pcapng2: 400"
like "$r" "format: must be one of pcapng, pcap" "and the message names the field"
printf '{\n  "captures": {"format": "ngpcap"}\n}\n' > "$T_DIR/badfmt.json"
out=$("$ALERTCAPD" -t -c "$T_DIR/badfmt.json" 2>&1)
like "$out" "$T_DIR/badfmt.json:2:16: captures.format: 'ngpcap' is not one of pcapng|pcap" "captures.format ngpcap: file:line:col"
done_testing
