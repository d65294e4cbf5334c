#!/bin/bash
# Logging as an operator's pipeline wants it: log.format json gives one
# JSON object per line ({ts, level, msg}) that jq reads, quotes and
# backslashes escaped; logfmt gives ts= level= msg="..." lines; log.target
# syslog sends them to /dev/log (a listener the test binds there, in a
# mount namespace of its own, as root), tagged alertcapd[PID].
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl python3

DAEMON_EXTRA=', "log": {"format": "json"}' start_daemon js || exit 1
api PUT /v1/captures/q1 '{"target": {"interface": "lo"}, "time_limit_s": 1, "bpf": "port \"x\\\\"}' >/dev/null
api PUT /v1/captures/q2 '{"target": {"interface": "lo"}, "time_limit_s": 1}' >/dev/null
wait_status q2 Stopped 10
kill -TERM "$DPID"; wait_pid "$DPID" 10
log=$DDIR/daemon.log
n=$(wc -l < "$log")
ok "$([ "$n" -gt 3 ]; echo $?)" "json: the daemon logged ($n lines)"
is "$(jq -c 'select((.ts | test("^[0-9-]+T[0-9:.]+Z$")) and (.level | test("^(error|warn|info|debug)$")) and (.msg | type == "string"))' "$log" 2>/dev/null | wc -l)" "$n" "json: every line is an object with ts, level and msg"
like "$(jq -r .msg "$log")" "capture q2: Running -> Stopped TimeExceeded" "json: the messages are the text ones"

DAEMON_EXTRA=', "log": {"format": "logfmt"}' start_daemon lf || exit 1
kill -TERM "$DPID"; wait_pid "$DPID" 10
log=$DDIR/daemon.log
n=$(wc -l < "$log")
is "$(grep -cE '^ts=[0-9-]+T[0-9:.]+Z level=(error|warn|info|debug) msg="([^"\\]|\\.)*"$' "$log")" "$n" "logfmt: every line is ts= level= msg=\"...\" ($n lines)"
like "$(cat "$log")" 'level=info msg="listening on 127.0.0.1:' "logfmt: the listener is logged"

# syslog: a /dev/log of the test's own, in a private mount namespace.
if [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null; then
	mkdir -p "$T_DIR/sl"
	cat > "$T_DIR/sl/alertcap.json" <<JSON
{"listen": [{"address": "127.0.0.1", "port": $(free_port)}],
 "captures": {"root": "$T_DIR/sl/c"}, "state": {"path": "$T_DIR/sl/db"},
 "log": {"target": "syslog", "format": "logfmt"}}
JSON
	cat > "$T_DIR/sl/run" <<SH
set -e
mkdir -p "$T_DIR/sl/dev"
mount --rbind /dev "$T_DIR/sl/dev"
mount -t tmpfs none /dev
for d in null zero random urandom; do
	touch /dev/\$d
	mount --bind "$T_DIR/sl/dev/\$d" /dev/\$d
done
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
s.settimeout(5)
open("$T_DIR/sl/ready", "w").close()
with open("$T_DIR/sl/got", "wb") as f:
    try:
        while True:
            f.write(s.recv(65536) + b"\n")
            f.flush()
    except socket.timeout:
        pass
' &
for _ in \$(seq 50); do [ -e "$T_DIR/sl/ready" ] && break; sleep 0.1; done
timeout -s TERM 2 "$ALERTCAPD" -f -c "$T_DIR/sl/alertcap.json" || true
wait
SH
	timeout -k 5 30 unshare -m --propagation private bash "$T_DIR/sl/run" >"$T_DIR/sl/log" 2>&1
	got=$(tr -d '\0' < "$T_DIR/sl/got" 2>/dev/null)
	like "$got" "alertcapd[" "syslog: lines reach /dev/log, tagged alertcapd[PID]"
	like "$got" 'level=info msg="listening on 127.0.0.1:' "syslog: in the format asked for"
	ok "$(grep -q . "$T_DIR/sl/log"; [ $? -eq 1 ]; echo $?)" "syslog: nothing on stderr"
else
	echo "# syslog: skipped (needs root for a private /dev/log)"
fi
done_testing
