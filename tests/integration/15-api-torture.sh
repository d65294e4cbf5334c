#!/bin/bash
# Allocation failures, as curl's torture tests inject them: with a
# --enable-torture build (the sanitizer build), request k fails its k-th
# jansson allocation, and each route is asked until every failure point
# of its first allocations was hit. Every request gets an HTTP answer, the
# daemon never crashes, and no record is lost or left unreadable.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl
grep -q "^#define ENABLE_TORTURE 1" "$builddir/config.h" 2>/dev/null ||
    skip_all "not a --enable-torture build (contrib/dev.sh test --sanitizers is)"

K=${TORTURE_K:-120}
export ALERTCAP_TORTURE=1
CAPTURES_EXTRA=', "max_concurrent": 4096' start_daemon torture || exit 1
unset ALERTCAP_TORTURE
like "$(cat "$DDIR/daemon.log")" "torture: request k fails" "the daemon injects allocation failures"

# hit METHOD PATH [BODY]: one request; its status, 000 if none came.
hit() {
	local args=(-s -o /dev/null -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN")
	[ -n "${3:-}" ] && args+=(--data-binary "$3")
	curl "${args[@]}" "$URL$2"
}
none=0
for k in $(seq "$K"); do
	for req in "GET /healthz" \
	    "PUT /v1/captures/t$k {\"target\":{\"interface\":\"lo\"},\"bpf\":\"udp port 9\",\"time_limit_s\":600,\"filters\":[{\"protocol\":\"UDP\",\"local_port\":\"9\"}]}" \
	    "GET /v1/captures/t$k" "GET /v1/captures?status=Running" \
	    "POST /v1/captures/t$k/stop" "GET /v1/captures/t$k/file" \
	    "POST /v1/alerts/generic {\"name\":\"A$k\",\"status\":\"firing\",\"labels\":{\"x\":\"y\"}}" \
	    "POST /v1/rules/test {\"name\":\"A\",\"status\":\"firing\"}" \
	    "GET /metrics" "GET /v1/rules" "DELETE /v1/captures/t$((k - 1))"; do
		read -r m p b <<<"$req"
		code=$(hit "$m" "$p" "$b")
		[ "$code" = 000 ] && { none=$((none + 1)); echo "# no answer: $m $p"; }
		kill -0 "$DPID" 2>/dev/null || break 2
	done
done
is "$none" 0 "every one of $((K * 11)) requests got an HTTP answer"
ok "$(kill -0 "$DPID"; echo $?)" "the daemon lives through every failure"
sleep 1.5	# the tick stores records a failure kept from the store
n=$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/captures" | jq '.captures | length')
stop_pid "$DPID"
launch_daemon torture || exit 1
is "$(curl -s -H "Authorization: Bearer $TOKEN" "$URL/v1/captures" | jq '.captures | length')" "$n" "after a restart the store holds every record ($n)"
ok "$(grep -q 'unreadable' "$DDIR/daemon.log"; [ $? -ne 0 ]; echo $?)" "and none is unreadable"
done_testing
