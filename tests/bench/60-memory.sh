#!/bin/bash
# Memory: alertcapd's RSS idle (no capture, so no ring), with one running
# capture (its interface's ring mapped), and per further session on the
# same interface.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd curl jq
CAPTURES_EXTRA=', "max_concurrent": 64' start_daemon mem || exit 1
JSON=$OUT_DIR/memory.json
: > "$JSON"
sleep 0.5
idle=$(rss_kb "$DPID")
api PUT /v1/captures/m0 '{"target": {"interface": "lo"}, "bpf": "udp port 9"}' >/dev/null
one=$(rss_kb "$DPID")
for i in $(seq 1 16); do
	api PUT "/v1/captures/m$i" "{\"target\": {\"interface\": \"lo\"}, \"bpf\": \"udp port $((i + 10))\"}" >/dev/null
done
seventeen=$(rss_kb "$DPID")
per=$(( (seventeen - one) / 16 ))
printf 'idle RSS: %d KiB (target <= 8192)\n' "$idle"
printf 'one running capture (ring of %s on lo): %d KiB\n' "64 MiB" "$one"
printf 'each further session on the interface: %d KiB\n' "$per"
json_row "$JSON" bench=memory idle_kb="$idle" one_capture_kb="$one" per_session_kb="$per"
echo "figures: $JSON"
