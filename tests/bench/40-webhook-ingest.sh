#!/bin/bash
# Webhook ingest: wrk posting an Alertmanager payload that matches none of
# 1,000 loaded rules, with keep-alive, against alertcapd and against a bare
# evhttp + jansson server built here (refhttp), alternately. wrk runs on
# CPU 0 and the servers on CPU 1, so that neither server shares its core
# with the load (unpinned, the ratio moved between 0.73 and 0.90).
. "$(dirname "$0")/lib.sh"
need_cmd wrk taskset curl jq
DUR=${DURATION:-5}
mkdir -p "$T_DIR/rules"
for i in $(seq 1000); do
	printf '{"name": "r%d", "match": {"alert": "Rule%dHigh", "labels": {"instance": "~^10\\\\.%d\\\\."}}, "capture": {"name": "r%d-${alert.fingerprint}", "target": {"interface": "lo"}}}\n' "$i" "$i" "$((i % 250))" "$i" > "$T_DIR/rules/r$i.json"
done
start_daemon ingest "" "\"rules\": {\"dir\": \"$T_DIR/rules\"}, \"log\": {\"level\": \"warn\"}" || exit 1
REF_PORT=$(free_port)
taskset -a -p -c 1 "$DPID" >/dev/null
taskset -c 1 "$builddir/tests/bench/refhttp" "$REF_PORT" &
T_PIDS+=("$!")
wait_http "http://127.0.0.1:$REF_PORT/x"
BODY=$(jq -c . "$srcdir/tests/fixtures/alerts/alertmanager-firing.json" | sed 's/TcpRetransmitsHigh/NoSuchAlert/g')
cat > "$T_DIR/post.lua" <<LUA
wrk.method = "POST"
wrk.body = [[$BODY]]
wrk.headers["Content-Type"] = "application/json"
LUA
JSON=$OUT_DIR/webhook-ingest.json
: > "$JSON"
rps() { taskset -c 0 wrk -t2 -c16 -d"${DUR}s" -s "$T_DIR/post.lua" "$1" 2>/dev/null | awk '/^Requests\/sec/ {print int($2)}'; }
a=(); r=()
for rep in $(seq "$REPS"); do
	a+=("$(rps "$URL/v1/alerts/alertmanager")")
	r+=("$(rps "http://127.0.0.1:$REF_PORT/v1/alerts")")
	printf 'rep %d: alertcapd %s req/s, reference %s req/s\n' "$rep" "${a[-1]}" "${r[-1]}"
done
ma=$(median "${a[@]}"); mr=$(median "${r[@]}")
printf 'median: alertcapd %s req/s, reference %s req/s, ratio %s (target >= 0.80)\n' "$ma" "$mr" "$(ratio "$ma" "$mr")"
json_row "$JSON" bench=webhook-ingest rules=1000 alertcapd_rps="$ma" reference_rps="$mr" ratio="$(ratio "$ma" "$mr")"
echo "figures: $JSON"
