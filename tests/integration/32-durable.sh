#!/bin/bash
# Evidence survives a power cut: a finished capture file is fsynced, moved
# to its final name and its directory fsynced, all on the worker thread,
# off the loop, before the record says Stopped (seen with strace).
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl strace ping

# (LeakSanitizer cannot work under ptrace: off for this daemon.)
DAEMON_WRAP="strace -f -qq -E ASAN_OPTIONS=detect_leaks=0 -e trace=fsync,renameat2 -o $T_DIR/strace.log" \
    start_daemon dur || exit 1
mark=$(wc -l < "$T_DIR/strace.log")
api PUT /v1/captures/d1 '{"target": {"interface": "lo"}, "bpf": "icmp"}' >/dev/null
send_ping 20
r=$(api POST /v1/captures/d1/stop)
is "$(cut -d' ' -f1 <<<"$r")/$(field "${r#* }" .status)" 200/Stopped "stop answers 200 with the Stopped record"
f=$(field "${r#* }" .file | sed 's|^file://||')
ok "$([ -f "$f" ] && [ ! -e "$f.part" ]; echo $?)" "the file has its final name when the answer comes"
# The trace: the loop is the daemon's main thread (its pid).
main=$(cat /proc/$(pgrep -P "$DPID" -x alertcapd)/task/*/stat 2>/dev/null | head -1 | cut -d' ' -f1)
line=$(grep -n "renameat2(.*\"$(basename "$f").part\"" "$T_DIR/strace.log" | head -1)
tid=$(cut -d: -f2 <<<"$line" | awk '{print $1}')
n=$(cut -d: -f1 <<<"$line")
ok "$([ -n "$tid" ] && [ "$tid" != "$main" ]; echo $?)" "the rename runs on the worker thread, not the loop ($tid, loop $main)"
before=$(head -n $((n - 1)) "$T_DIR/strace.log" | awk -v t="$tid" '$1 == t' | tail -1)
like "$before" "fsync(" "the file is fsynced before its rename"
after=$(tail -n +$((n + 1)) "$T_DIR/strace.log" | awk -v t="$tid" '$1 == t' | head -1)
like "$after" "fsync(" "and its directory after"
is "$(tail -n +$((mark + 1)) "$T_DIR/strace.log" | grep -c "^$main fsync")" 0 "from create to stop the loop itself fsyncs nothing"
done_testing
