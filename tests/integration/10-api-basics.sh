#!/bin/bash
# The REST API on loopback: the capture verbs, listing and filtering, the
# file download, and every error answer (400 404 405 409 413 429) with the
# field it names. Paths that try to leave captures.root are refused.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl tshark promtool

CAPTURES_EXTRA=', "max_concurrent": 3, "max_total_bytes": 3000000, "defaults": {"max_bytes_per_session": 100000}' \
    start_daemon api "" '"http": {"max_connections": 6}' || exit 1

r=$(api GET /healthz)
is "$(cut -d' ' -f1 <<<"$r")" 200 "healthz answers 200"
is "$(field "${r#* }" .node)" api "healthz names the node"

# Create, read, list, stop, download, delete.
r=$(api PUT /v1/captures/c1 '{"target": {"interface": "lo"}, "time_limit_s": 60, "filters": [{"protocol": "TCP", "local_port": "1"}]}')
is "$(cut -d' ' -f1 <<<"$r")" 201 "PUT creates: 201"
body=${r#* }
is "$(field "$body" .status)" Running "the answer is the record, Running"
is "$(field "$body" .trigger.kind)" manual "trigger is manual"
is "$(field "$body" .max_bytes_per_session)" 100000 "defaults filled in"
is "$(field "$body" .time_limit_s)" 60 "time limit as asked"
is "$(api PUT /v1/captures/c1 '{"target": {"interface": "lo"}}' | cut -d' ' -f1)" 409 "same name again: 409"
is "$(api GET /v1/captures/c1 | cut -d' ' -f1)" 200 "GET one: 200"
is "$(api GET /v1/captures/nope | cut -d' ' -f1)" 404 "GET unknown: 404"
r=$(api GET '/v1/captures?status=Running')
is "$(field "${r#* }" '.captures | length')" 1 "list ?status=Running"
r=$(api GET '/v1/captures?status=Stopped')
is "$(field "${r#* }" '.captures | length')" 0 "list ?status=Stopped"
is "$(api GET '/v1/captures?status=Sleeping' | cut -d' ' -f1)" 400 "list with an unknown status: 400"
is "$(api GET '/v1/captures?rule=x' | cut -d' ' -f2- | jq '.captures | length')" 0 "list ?rule= filters by rule"
is "$(api GET /v1/captures/c1/file | cut -d' ' -f1)" 409 "file of a running capture: 409"
r=$(api POST /v1/captures/c1/stop)
is "$(cut -d' ' -f1 <<<"$r")" 200 "stop: 200"
is "$(field "${r#* }" .stop_reason)" ManualStop "stop: ManualStop"
is "$(api POST /v1/captures/c1/stop | cut -d' ' -f1)" 409 "stop again: 409"
code=$(acurl -s -o "$T_DIR/c1.pcap" -D "$T_DIR/h" -w '%{http_code}' "$URL/v1/captures/c1/file")
is "$code" 200 "download: 200"
like "$(cat "$T_DIR/h")" "application/x-pcapng" "download: pcapng's content type (the default format)"
like "$(cat "$T_DIR/h")" 'filename="c1.pcapng"' "download: the file name says pcapng"
cmp -s "$T_DIR/c1.pcap" "$(local_file c1)"
ok $? "download: the same bytes as the file"
file=$(local_file c1)
is "$(api DELETE /v1/captures/c1 | cut -d' ' -f1)" 204 "delete: 204"
is "$(api GET /v1/captures/c1 | cut -d' ' -f1)" 404 "deleted record is gone"
ok "$([ -f "$file" ]; echo $?)" "delete keeps the file"
is "$(api DELETE /v1/captures/c1 | cut -d' ' -f1)" 404 "delete unknown: 404"

# Bad input names the field.
err() { api "$@" | cut -d' ' -f2- | jq -r '.error.code + ": " + .error.message'; }
like "$(err PUT /v1/captures/b '{"target": ')" "InvalidRequest: body:1:" "truncated JSON: 400 with position"
like "$(err PUT /v1/captures/b '')" "body: empty" "empty body: 400"
like "$(err PUT /v1/captures/b '{"target": {"interface": "lo"}, "filters": [{}, {"remote_port": "99999"}]}')" "filters[1].remote_port:" "bad port names filters[1].remote_port"
like "$(err PUT /v1/captures/b '{"target": {"interface": "lo"}, "bpf": "tcp port"}')" "bpf: " "bad bpf names bpf with libpcap's message"
like "$(err PUT /v1/captures/b '{"target": {"interface": "no-such0"}}')" "target.interface: no-such0: no such interface" "unknown interface: 400"
like "$(err PUT /v1/captures/b '{"target": {"interface": "lo"}, "time_limit": 5}')" "time_limit: unknown key" "typo in a key: 400"
like "$(err PUT /v1/captures/b%20c '{"target": {"interface": "lo"}}')" "name: 'b c' must match" "bad name: 400"
like "$(err PUT /v1/captures/b '{"target": {"interface": "lo"}, "storage": {"file": "../escape.pcap"}}')" "storage.file: must be" "'..' in storage.file: 400"
mkdir -p "$T_DIR/outside"
ln -s "$T_DIR/outside" "$DDIR/captures/link"
like "$(err PUT /v1/captures/b '{"target": {"interface": "lo"}, "storage": {"file": "link/x.pcap"}}')" "symlink" "symlink escape: refused"
ok "$([ -z "$(ls "$T_DIR/outside")" ]; echo $?)" "nothing was written outside captures.root"
is "$(api GET /v1/captures/b | cut -d' ' -f1)" 404 "a refused capture leaves no record"
# A file's name taken. Asked for in storage.file: refused at once. Made
# up ({name}_{created}): the file is named off the loop, after the answer,
# so the capture ends in Error naming the file; the file there is kept.
echo keep > "$DDIR/captures/taken.pcapng"
like "$(err PUT /v1/captures/t1 '{"target": {"interface": "lo"}, "storage": {"file": "taken.pcapng"}}')" \
    "Conflict: storage.file: 'taken.pcapng' exists already" "storage.file taken: 409 naming it"
now=$(date -u +%s)
for k in 0 1 2 3 4 5; do
	echo keep > "$DDIR/captures/t2_$(date -u -d "@$((now + k))" +%Y%m%dT%H%M%SZ).pcapng"
done
is "$(api PUT /v1/captures/t2 '{"target": {"interface": "lo"}}' | cut -d' ' -f1)" 201 \
    "a made-up name taken: answered before the file is named"
wait_status t2 Error 5
is "$?" 0 "a made-up name taken: the capture ends in Error"
is "$(record t2 | jq -r '.errors[] | .code + ": " + .message' | sed 's/t2_[0-9]*T[0-9]*Z/t2_CREATED/')" \
    "LocalFileFailed: storage.file: t2_CREATED.pcapng: File exists" "the record's error names the file"
is "$(cat "$DDIR"/captures/t2_*.pcapng | sort -u)" keep "the file that held the name is as it was"
is "$(ls "$DDIR/captures" | grep -c '^t2_.*\.part$')" 0 "no .part is left of it"
api DELETE /v1/captures/t2 >/dev/null
rm -f "$DDIR/captures/taken.pcapng" "$DDIR"/captures/t2_*.pcapng
like "$(err PUT /v1/captures/b '{"target": {"interface": "lo", "node": "elsewhere"}}')" "target.node: 'elsewhere' is not this node" "another node's capture: 400"
# Malformed bodies of every kind: each a 400, and the daemon lives on.
bad=0
deep=$(printf '[%.0s' $(seq 5000))
for body in '{' '[]' 'null' '"x"' '{"target": null}' '{"target": {"interface": 5}}' \
    '{"target": {"interface": "lo"}, "time_limit_s": 1e999}' \
    '{"target": {"interface": "lo"}, "max_packets": -5}' \
    '{"target": {"interface": "lo"}, "filters": {}}' \
    '{"target": {"interface": "lo"}, "filters": [null]}' \
    '{"target": {"interface": "lo"}, "filters": [{"local_ip": "\u0000"}]}' \
    '{"target": {"interface": "lo"}, "bpf": "\u00e9\u00e9"}' \
    '{"target": {"interface": "lo"}, "storage": {"file": ""}}' \
    '{"target": {"interface": "lo"}, "storage": []}' \
    "$deep" $'\xff\xfe{}' '{"a": 1, "a": 2}'; do
	code=$(api PUT /v1/captures/m "$body" | cut -d' ' -f1)
	[ "$code" = 400 ] || { bad=$((bad + 1)); echo "# $code for: ${body:0:60}"; }
done
is "$bad" 0 "every malformed body is a 400"
is "$(api GET /healthz | cut -d' ' -f1)" 200 "the daemon lives on"
is "$(api GET /v1/captures/m | cut -d' ' -f1)" 404 "and recorded none of them"
is "$(api PATCH /v1/captures/x | cut -d' ' -f1)" 405 "unsupported method: 405"
is "$(api POST /v1/captures | cut -d' ' -f1)" 405 "POST to the list: 405"
is "$(api GET /v2/whatever | cut -d' ' -f1)" 404 "unknown path: 404"
like "$(acurl -s -D - -o /dev/null -X PATCH "$URL/v1/captures/x" | tr -d '\r')" "Allow: PUT, GET, DELETE" "405 names the methods the resource takes (Allow)"

# Hostile paths: a name that is not UTF-8, a NUL, on every route; each a
# 400 naming the rule, with or without a token, and the daemon lives on.
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/captures/%E9/file")
is "$code" 401 "GET /v1/captures/%E9/file without a token: 401"
r=$(api GET /v1/captures/%E9/file)
is "$(cut -d' ' -f1 <<<"$r")" 400 "GET /v1/captures/%E9/file: 400"
like "$(field "${r#* }" .error.message)" "name: '\\xE9' must match" "the message shows the byte, escaped, as valid JSON"
for route in "GET /v1/captures/%E9" "DELETE /v1/captures/%FF%FE" "POST /v1/captures/%C3%28/stop" \
    "PUT /v1/captures/..%2F..%2Fetc" "GET /v1/nodes/%E9/captures" "GET /v1/nodes/n1/captures/%E9/file"; do
	code=$(api $route '{"target": {"interface": "lo"}}' | cut -d' ' -f1)
	[ "$code" = 400 ] || { echo "# $route: $code"; bad=$((bad + 1)); }
done
is "$bad" 0 "every route checks the names in its path: 400"
r=$(api PUT '/v1/captures/a%00b' '{"target": {"interface": "lo"}}')
is "$(cut -d' ' -f1 <<<"$r")" 400 "PUT /v1/captures/a%00b: 400"
like "$r" "path: holds a NUL byte" "and says why"
is "$(api GET /v1/captures/a | cut -d' ' -f1)" 404 "and no capture 'a' was made"
api PUT /v1/captures/a '{"target": {"interface": "lo"}, "bpf": "udp port 9", "time_limit_s": 60}' >/dev/null
is "$(api GET '/v1/captures/a%00x' | cut -d' ' -f1)/$(api POST '/v1/captures/a%00x/stop' | cut -d' ' -f1)/$(api DELETE '/v1/captures/a%00x' | cut -d' ' -f1)" 400/400/400 "GET, stop and DELETE of a%00x: 400, not acting on 'a'"
is "$(field "$(record a)" .status)" Running "'a' runs on"
api DELETE /v1/captures/a >/dev/null
# Headers: too many bytes (8 MiB), too many of them (100,000 and 200).
raw() { exec 3<>"/dev/tcp/127.0.0.1/$PORT"; cat >&3; timeout 5 head -1 <&3 | tr -d '\r'; exec 3>&-; }
like "$( { printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: '; head -c 8388608 /dev/zero | tr '\0' a; printf '\r\n\r\n'; } 2>/dev/null | raw 2>/dev/null)" "HTTP/1.1 400" "an 8 MiB header: 400 and closed"
like "$( { printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n'; for i in $(seq 100000); do printf 'X-%d: a\r\n' "$i"; done; printf '\r\n'; } 2>/dev/null | raw 2>/dev/null)" "HTTP/1.1 400" "100,000 headers: 400 and closed"
like "$( { printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n'; for i in $(seq 200); do printf 'X-%d: a\r\n' "$i"; done; printf '\r\n'; } | raw)" "HTTP/1.1 431" "200 headers (over http.max_headers): 431"
is "$(api GET /healthz | cut -d' ' -f1)" 200 "the daemon lives on"
# Open connections: six kept alive, the seventh is refused, and closing
# them makes room again.
for fd in 10 11 12 13 14 15; do
	eval "exec $fd<>/dev/tcp/127.0.0.1/$PORT"
	printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >&$fd
	timeout 5 head -1 <&$fd >/dev/null
done
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 503 "a connection past http.max_connections: 503"
for fd in 10 11 12 13 14 15; do eval "exec $fd>&-"; done
sleep 0.2
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200 "closed connections make room again"

head -c 2000000 /dev/zero | tr '\0' 'a' > "$T_DIR/big"
code=$(acurl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary @"$T_DIR/big" "$URL/v1/captures/big")
is "$code" 413 "body over http.max_body_bytes: 413"

# Limits: max_concurrent 3, max_total_bytes 3000000.
for n in l1 l2; do
	api PUT /v1/captures/$n '{"target": {"interface": "lo"}, "max_bytes_per_session": 1000000}' >/dev/null
done
like "$(err PUT /v1/captures/l3 '{"target": {"interface": "lo"}, "max_bytes_per_session": 1500000}')" "LimitExceeded: captures.max_total_bytes" "over max_total_bytes: 429"
is "$(api PUT /v1/captures/l3 '{"target": {"interface": "lo"}, "max_bytes_per_session": 900000}' | cut -d' ' -f1)" 201 "within max_total_bytes: 201"
like "$(err PUT /v1/captures/l4 '{"target": {"interface": "lo"}, "max_bytes_per_session": 1024}')" "LimitExceeded: captures.max_concurrent" "over max_concurrent: 429"
m=$(acurl -s "$URL/metrics")
like "$m" 'alertcap_captures{status="Running"} 3' "metrics: captures by status"
like "$m" 'alertcap_captures_refused_total{reason="limited"} 2' "metrics: refusals counted"
out=$(printf '%s\n' "$m" | promtool check metrics 2>&1)
is "$?:$out" "0:" "metrics: promtool check metrics finds nothing to fault"
done_testing
