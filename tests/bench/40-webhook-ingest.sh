#!/bin/bash
# Webhook ingest: wrk posting an Alertmanager payload that matches none of
# the loaded rules (10, 1,000 and 10,000), with keep-alive, against alertcapd and against a bare
# evhttp + jansson server built here (refhttp), alternately. wrk runs on
# CPU 0 and the servers on CPU 1, so that neither server shares its core
# with the load (unpinned, the ratio moved between 0.73 and 0.90).
. "$(dirname "$0")/lib.sh"
need_cmd wrk taskset curl jq
DUR=${DURATION:-5}
REF_PORT=$(free_port)
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
# The curve: 1,000 rules loaded is the figure of record; 10 and 10,000
# show what the rules cost (BENCH_RULES: the counts to run).
for nrules in ${BENCH_RULES:-10 1000 10000}; do
	mkdir -p "$T_DIR/rules$nrules"
	for i in $(seq "$nrules"); do
		printf '{"name": "r%d", "match": {"alert": "Rule%dHigh", "labels": {"instance": "~^10\\\\.%d\\\\."}}, "capture": {"name": "r%d-${alert.fingerprint}", "target": {"interface": "lo"}}}\n' "$i" "$i" "$((i % 250))" "$i" > "$T_DIR/rules$nrules/r$i.json"
	done
	start_daemon "ingest$nrules" "" "\"rules\": {\"dir\": \"$T_DIR/rules$nrules\"}, \"log\": {\"level\": \"warn\"}" || exit 1
	taskset -a -p -c 1 "$DPID" >/dev/null
	echo "== $nrules rules loaded"
	a=(); r=()
	for rep in $(seq "$REPS"); do
		a+=("$(rps "$URL/v1/alerts/alertmanager")")
		r+=("$(rps "http://127.0.0.1:$REF_PORT/v1/alerts")")
		printf 'rep %d: alertcapd %s req/s, reference %s req/s\n' "$rep" "${a[-1]}" "${r[-1]}"
	done
	ma=$(median "${a[@]}"); mr=$(median "${r[@]}")
	printf 'median (%s rules): alertcapd %s req/s, reference %s req/s, ratio %s (target >= 0.95)\n' "$nrules" "$ma" "$mr" "$(ratio "$ma" "$mr")"
	json_row "$JSON" bench=webhook-ingest rules="$nrules" alertcapd_rps="$ma" reference_rps="$mr" ratio="$(ratio "$ma" "$mr")"
	kill "$DPID"
done
echo "figures: $JSON"
