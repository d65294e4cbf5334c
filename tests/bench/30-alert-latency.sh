#!/bin/bash
# Alert to capture: the time from posting a webhook alert until alertcapd
# has answered 202 with the capture running (the answer comes after the
# capture is active, so this bounds the alert-to-capture time from above),
# over 1,000 distinct alerts on one keep-alive connection. The interface
# is opened once, by the first capture, which is reported apart.
. "$(dirname "$0")/lib.sh"
need_cmd curl jq
N=${ALERTS:-1000}
mkdir -p "$T_DIR/rules"
cat > "$T_DIR/rules/r.json" <<'JSON'
{"name": "lat", "match": {"alert": "Lat*"},
 "capture": {"name": "lat-${labels.n}", "target": {"interface": "lo"},
             "time_limit_s": 2, "max_bytes_per_session": 1048576},
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
	printf 'silent\nurl = "%s/v1/alerts/generic"\noutput = "/dev/null"\n' "$URL"
	printf 'write-out = "%%{time_total} %%{http_code}\\n"\n'
	printf 'data-binary = "{\\"name\\": \\"Lat\\", \\"status\\": \\"firing\\", \\"labels\\": {\\"n\\": \\"%d\\"}}"\n' "$i"
done > "$T_DIR/curl.cfg"
curl -K "$T_DIR/curl.cfg" > "$T_DIR/times"
started=$(curl -s "$URL/metrics" | sed -n 's/^alertcap_captures_started_total //p')
sort -n "$T_DIR/times" | awk -v n="$N" -v first="$first" -v started="$started" '
	{t[NR] = $1 * 1000; if ($2 != 202) bad++}
	END {
		p50 = t[int(NR * 0.50)]; p99 = t[int(NR * 0.99)]; max = t[NR]
		printf "alerts %d, answered 202: %d, captures started: %d\n", NR, NR - bad, started
		printf "first capture on the interface (opens its ring): %.2f ms\n", first * 1000
		printf "alert -> capture running: p50 %.3f ms, p99 %.3f ms, max %.3f ms (targets: p50 <= 1, p99 <= 5)\n", p50, p99, max
		printf "{\"bench\":\"alert-latency\",\"alerts\":%d,\"first_ms\":%.3f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"max_ms\":%.3f}\n", NR, first * 1000, p50, p99, max > "/dev/stderr"
	}' 2> "$JSON"
echo "figures: $JSON"
