#!/bin/bash
# The command-line client against a real daemon: the README's first
# capture, every verb, filters as flags, --json for scripts, and errors.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl tshark

start_daemon cli || exit 1
export ALERTCAP_URL=$URL
A=$ALERTCAP

out=$($A start demo --interface lo --time-limit 2)
is "$out" "demo: Running" "start prints the status"
like "$($A list)" "demo" "list shows the capture"
like "$($A list | grep demo)" "Running" "list: Running"
send_ping 5 56 0.05
sleep 2.3
line=$($A list | grep demo)
like "$line" "Stopped" "list: Stopped after the time limit"
like "$line" "TimeExceeded" "list: TimeExceeded"
f=$($A --json show demo | jq -r .file | sed 's|^file://||')
tshark -r "$f" >/dev/null 2>&1
ok $? "tshark reads the file"
like "$($A show demo)" "status:        Stopped (TimeExceeded)" "show: human form"

out=$($A --json start f1 -i lo --filter 'protocol=UDP,local_ip=127.0.0.1,127.0.0.2,remote_port=53-60' \
    --filter 'protocol=TCP,local_port=22' --max-bytes-per-packet 96 --max-bytes-per-session 100000 \
    --max-packets 1000 --bpf 'not port 1' --file sub/f1.pcap)
is "$(jq -c '.filters' <<<"$out")" '[{"protocol":"UDP","local_ip":"127.0.0.1,127.0.0.2","remote_port":"53-60"},{"protocol":"TCP","local_port":"22"}]' "--filter becomes filters, lists kept"
is "$(jq -r '[.max_bytes_per_packet, .max_bytes_per_session, .max_packets, .bpf, .storage.file] | join(" ")' <<<"$out")" "96 100000 1000 not port 1 sub/f1.pcap" "every parameter flag reaches the record"
is "$($A stop f1)" "f1: Stopped (ManualStop)" "stop"
$A stop f1 2>"$T_DIR/err"
ok "$([ $? -eq 1 ]; echo $?)" "stop again exits 1"
like "$(cat "$T_DIR/err")" "409 Conflict: capture 'f1' is not running" "and says why"
$A download f1 -o "$T_DIR/f1.pcap" >/dev/null
cmp -s "$T_DIR/f1.pcap" "$DDIR/captures/sub/f1.pcap"
ok $? "download -o writes the same bytes"
(cd "$T_DIR" && $A download demo >/dev/null)
ok "$([ -s "$T_DIR/demo.pcapng" ]; echo $?)" "download without -o writes NAME.pcapng (as the file is)"
$A download nope -o "$T_DIR/nope.pcap" 2>/dev/null
ok "$([ $? -ne 0 ] && [ ! -e "$T_DIR/nope.pcap" ]; echo $?)" "download of an unknown capture fails and leaves no file"
is "$($A delete f1)" "f1: deleted (its file stays on the node, counted until retention deletes it)" "delete"
ok "$([ -f "$DDIR/captures/sub/f1.pcap" ]; echo $?)" "the file stays"
out=$($A start bad -i lo --filter 'protocol=ICMP' 2>&1)
like "$out" "400 InvalidRequest: filters[0].protocol: must be TCP, UDP or Any" "bad filter: the server's message"
out=$($A start x -i lo --time-limit soon 2>&1)
like "$out" "--time-limit: 'soon' is not a number" "bad flag value: refused locally"
is "$($A --json list --status Stopped | jq '.captures | length')" 1 "list --status --json"

# What a new user tripped on.
is "$($A --json list --status stopped | jq '.captures | length')" 1 "list --status takes any case, as filter protocols do"
$A start classic --interface lo --time-limit 1 --format pcap >/dev/null
wait_status classic Stopped 5
(cd "$T_DIR" && $A download classic >/dev/null)
ok "$([ -s "$T_DIR/classic.pcap" ]; echo $?)" "start --format pcap: download writes NAME.pcap"
is "$(capinfos -t "$T_DIR/classic.pcap" | sed -n 's/^File type: *//p')" "Wireshark/tcpdump/... - pcap" "and the file is classic pcap"
$A start f2 -i lo --filter 'protocol=UDP,local_ip=127.0.0.1,127.0.0.2,remote_port=53-60' \
    --filter 'protocol=TCP,local_port=22' --max-bytes-per-packet 96 --max-bytes-per-session 100000 \
    --max-packets 1000 --bpf 'not port 1' --file sub/f2.pcap >/dev/null
$A stop f2 >/dev/null
out=$($A show f2)
bad=0
for want in "filter:        UDP local_ip=127.0.0.1,127.0.0.2 remote_port=53-60" "filter:        TCP local_port=22" \
    "bpf:           not port 1" "snap length:   96 bytes per packet" "limits:        18000 s, 100000 bytes, 1000 packets" \
    "trigger:       manual" "if drops:      0" "event:         " "Running" "Stopped ManualStop"; do
	grep -qF -- "$want" <<<"$out" || { echo "# show lacks: $want"; bad=1; }
done
ok "${bad:-0}" "show prints the filters, snap length, limits, trigger, if_drops and events"
$A download f2 -o - > "$T_DIR/stdout.pcap"
cmp -s "$T_DIR/stdout.pcap" "$DDIR/captures/sub/f2.pcap"
ok $? "download -o - writes the file to standard output"
ok "$([ ! -e ./- ] && [ ! -e "$T_DIR/-" ]; echo $?)" "and makes no file named '-'"
touch "$T_DIR/again.pcap.download"
$A download f2 -o "$T_DIR/again.pcap" >/dev/null 2>&1
ok $? "a leftover NAME.pcap.download is not in the way"
out=$($A download nope -o "$T_DIR/nope.pcap" 2>&1)
is "$out" "alertcap: 404 NotFound: no capture named 'nope'" "download errors read like every other command's"
ok "$(ls "$T_DIR" | grep -q 'nope.pcap'; [ $? -ne 0 ]; echo $?)" "and leave no partial file"
bad=0
for cmd in "show b%20c" "stop a/b" "delete ..x" "download é" "start x%00y -i lo"; do
	out=$($A $cmd 2>&1)
	case "$out" in
	*"must match [A-Za-z0-9][A-Za-z0-9._-]{0,79}"*) ;;
	*) echo "# $cmd: $out"; bad=1 ;;
	esac
done
ok "${bad:-0}" "an invalid name is refused with the rule for names, not a URL error or a 404"
done_testing
