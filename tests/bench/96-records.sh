#!/bin/bash
# Records on file, as a curve: with COUNTS (1,000 and 100,000) finished
# captures on record, the daemon's start-up (from exec to /healthz), its
# memory (Private_Dirty and RSS, and per 1,000 records), GET
# /v1/captures (the whole list: time and size, and the slowest /healthz
# answered while it is sent), a filtered list, one
# record by name, and creating a capture (PUT, median of 20). The records
# are one real capture's, copied in the state store with sqlite3 under
# other names while the daemon is stopped.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd sqlite3 curl jq
COUNTS=${COUNTS:-"1000 100000"}
JSON=$OUT_DIR/records.json
: > "$JSON"
start_daemon rec || exit 1
DB=$DDIR/alertcap.db
api PUT /v1/captures/seed '{"target": {"interface": "lo"}, "bpf": "udp port 9", "time_limit_s": 1}' >/dev/null
wait_status seed Stopped 10 >/dev/null || { echo "the seed capture did not stop"; exit 1; }
stop_pid "$DPID"

# start_rec: starts the daemon on the existing directory (DPID); START
# is the milliseconds until /healthz answers (60 s at most).
start_rec() {
	local t0=$(date +%s%N) i
	(cd "$DDIR" && exec "$ALERTCAPD" -f -c "$DDIR/alertcap.json") >>"$DDIR/daemon.log" 2>&1 &
	DPID=$!
	T_PIDS+=("$DPID")
	for ((i = 0; i < 6000; i++)); do
		curl -fs -o /dev/null "$URL/healthz" && break
		sleep 0.01
	done
	START=$(( ($(date +%s%N) - t0) / 1000000 ))
}
# ms CURL-ARGS...: curl's total time in milliseconds and bytes received.
ms() { curl -s -o /dev/null -w '%{time_total} %{size_download}\n' "$@" | awk '{printf "%.2f %d\n", $1 * 1000, $2}'; }

printf '%9s %10s %12s %10s %12s %12s %13s %10s %10s %10s\n' records start_ms private_kb rss_kb list_ms list_bytes healthz_max_ms status_ms one_ms put_ms
for n in $COUNTS; do
	stop_pid "$DPID"
	sqlite3 "$DB" "DELETE FROM captures WHERE name != 'seed';
	    WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < $n - 1)
	    INSERT INTO captures (name, status, rule, record)
	    SELECT 'rec-' || i, status, rule, replace(record, '\"name\":\"seed\"', '\"name\":\"rec-' || i || '\"')
	    FROM captures, k WHERE name = 'seed';"
	have=$(sqlite3 "$DB" "SELECT count(*) FROM captures")
	start_rec
	start=$START
	on=$(curl -s "$URL/healthz" | jq .status)
	[ "$on" = '"ok"' ] || { echo "the daemon did not start with $n records"; exit 1; }
	priv=$(smaps_kb "$DPID" Private_Dirty); rss=$(rss_kb "$DPID")
	l=(); for _ in 1 2 3; do l+=("$(ms "$URL/v1/captures" | cut -d' ' -f1)"); done
	lbytes=$(ms "$URL/v1/captures" | cut -d' ' -f2)
	# The loop while the whole list goes out: /healthz meanwhile.
	curl -s -o /dev/null "$URL/v1/captures" &
	lpid=$!
	hz=()
	while kill -0 "$lpid" 2>/dev/null; do hz+=("$(ms "$URL/healthz" | cut -d' ' -f1)"); done
	wait "$lpid"
	hzmax=$(printf '%s\n' "${hz[@]}" | sort -n | tail -1)
	st=(); for _ in 1 2 3; do st+=("$(ms "$URL/v1/captures?status=Running" | cut -d' ' -f1)"); done
	one=(); for _ in 1 2 3; do one+=("$(ms "$URL/v1/captures/rec-$((n / 2))" | cut -d' ' -f1)"); done
	put=()
	for i in $(seq 20); do
		put+=("$(ms -X PUT -H 'Content-Type: application/json' --data-binary \
		    '{"target": {"interface": "lo"}, "bpf": "udp port 9", "time_limit_s": 1}' \
		    "$URL/v1/captures/new-$n-$i" | cut -d' ' -f1)")
	done
	printf '%9s %10s %12s %10s %12s %12s %13s %10s %10s %10s\n' "$have" "$start" "$priv" "$rss" \
	    "$(median "${l[@]}")" "$lbytes" "$hzmax" "$(median "${st[@]}")" "$(median "${one[@]}")" "$(median "${put[@]}")"
	json_row "$JSON" bench=records records="$have" start_ms="$start" private_dirty_kb="$priv" rss_kb="$rss" \
	    list_ms="$(median "${l[@]}")" list_bytes="$lbytes" healthz_max_during_list_ms="$hzmax" status_ms="$(median "${st[@]}")" \
	    one_ms="$(median "${one[@]}")" put_ms="$(median "${put[@]}")"
	sleep 1.5	# the new captures stop before the next count
done
echo "figures: $JSON"
