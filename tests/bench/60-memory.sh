#!/bin/bash
# Memory: alertcapd's own memory idle (no capture, so no ring), with one
# running capture (its interface's ring mapped), and per further session
# on the same interface: Private_Dirty and PSS from smaps_rollup (pages
# this process alone dirtied; its share of every page it maps), beside
# RSS, which counts shared libraries' pages whole.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd curl jq
CAPTURES_EXTRA=', "max_concurrent": 64' start_daemon mem || exit 1
JSON=$OUT_DIR/memory.json
: > "$JSON"
sleep 0.5
idle=$(rss_kb "$DPID")
idle_pss=$(smaps_kb "$DPID" Pss)
idle_priv=$(smaps_kb "$DPID" Private_Dirty)
api PUT /v1/captures/m0 '{"target": {"interface": "lo"}, "bpf": "udp port 9"}' >/dev/null
one=$(rss_kb "$DPID")
one_priv=$(smaps_kb "$DPID" Private_Dirty)
for i in $(seq 1 16); do
	api PUT "/v1/captures/m$i" "{\"target\": {\"interface\": \"lo\"}, \"bpf\": \"udp port $((i + 10))\"}" >/dev/null
done
seventeen=$(rss_kb "$DPID")
per=$(( (seventeen - one) / 16 ))
printf 'idle: Private_Dirty %d KiB, PSS %d KiB, RSS %d KiB (target <= 8192 of its own)\n' \
    "$idle_priv" "$idle_pss" "$idle"
printf 'one running capture (ring of %s on lo): Private_Dirty %d KiB, RSS %d KiB\n' \
    "64 MiB" "$one_priv" "$one"
printf 'each further session on the interface: %d KiB\n' "$per"
json_row "$JSON" bench=memory idle_kb="$idle" idle_pss_kb="$idle_pss" \
    idle_private_dirty_kb="$idle_priv" one_capture_kb="$one" \
    one_capture_private_dirty_kb="$one_priv" per_session_kb="$per"
# With a storage account, the daemon starts its HTTP helper (alertcap-http,
# libcurl's process): both, idle.
start_daemon memh "" "\"storage\": {\"web\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$(free_port)/{name}\"}}" || exit 1
sleep 0.5
HPID=$(pgrep -P "$DPID" -x alertcap-http | head -1)
printf 'with a storage account: alertcapd Private_Dirty %d KiB, PSS %d KiB, RSS %d KiB; alertcap-http Private_Dirty %d KiB, PSS %d KiB, RSS %d KiB\n' \
    "$(smaps_kb "$DPID" Private_Dirty)" "$(smaps_kb "$DPID" Pss)" "$(rss_kb "$DPID")" \
    "$(smaps_kb "$HPID" Private_Dirty)" "$(smaps_kb "$HPID" Pss)" "$(rss_kb "$HPID")"
json_row "$JSON" bench=memory-helper daemon_private_dirty_kb="$(smaps_kb "$DPID" Private_Dirty)" \
    daemon_kb="$(rss_kb "$DPID")" helper_private_dirty_kb="$(smaps_kb "$HPID" Private_Dirty)" \
    helper_pss_kb="$(smaps_kb "$HPID" Pss)" helper_kb="$(rss_kb "$HPID")"
echo "figures: $JSON"
