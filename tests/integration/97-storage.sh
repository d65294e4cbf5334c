#!/bin/bash
# Uploads against real servers: Azurite (shared key and an account SAS),
# s3rver (Signature V4, multipart) and an HTTP PUT sink. Each object is
# fetched back and compared by sha256; files larger than the block size go
# up in blocks/parts; a server that is down when the upload starts gets it
# after retries; a daemon killed mid-upload finishes after restart without
# re-sending blocks; a wrong key ends Failed with the service's message and
# StorageFailed, keeping the file; accounts-only captures lose the local
# file only once every upload succeeded.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd node curl jq openssl ping
. "$(dirname "$0")/storage.sh"
have_storage_servers ||
    skip_all "npm packages missing: (cd tests/storage && npm install)"

PUT_PORT=$(free_port)
mkdir -p "$T_DIR/put"
start_putsink() {
	"$builddir/tests/tools/putsink" "$PUT_PORT" "$T_DIR/put" -H "X-Upload-Token: sesame" &
	PUT_PID=$!; T_PIDS+=("$PUT_PID")
}
start_azurite
start_s3rver
start_putsink
wait_ports "$AZ_PORT" "$S3_PORT" "$PUT_PORT"

printf '%s' "$KEY" > "$T_DIR/azkey"
printf '%s' "d3JvbmcgLSBub3QgdGhlIGtleSBhdCBhbGwgLSB3cm9uZyB3cm9uZyB3cm9uZyE=" > "$T_DIR/badkey"
printf 'S3RVER' > "$T_DIR/s3secret"
az_account_sas > "$T_DIR/sas"
sed 's/sig=[^&]*/sig=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA%3D/' "$T_DIR/sas" > "$T_DIR/badsas"

AZ="\"type\": \"azure-blob\", \"endpoint\": \"http://127.0.0.1:$AZ_PORT/$ACCT\", \"account\": \"$ACCT\", \"container\": \"captures\""
start_daemon st "" "\"storage\": {
  \"archive\": {$AZ, \"key_file\": \"$T_DIR/azkey\", \"block_size\": 65536},
  \"badkey\": {$AZ, \"key_file\": \"$T_DIR/badkey\"},
  \"sasbox\": {\"type\": \"azure-blob\", \"container_url\": \"http://127.0.0.1:$AZ_PORT/$ACCT/captures\", \"sas_token_file\": \"$T_DIR/sas\", \"block_size\": 65536},
  \"s3\": {\"type\": \"s3\", \"endpoint\": \"http://127.0.0.1:$S3_PORT\", \"bucket\": \"captures\", \"region\": \"us-east-1\",
          \"access_key_id\": \"S3RVER\", \"secret_access_key_file\": \"$T_DIR/s3secret\", \"path_style\": true, \"block_size\": 65536},
  \"web\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$PUT_PORT/up/{name}.pcap\", \"headers\": [\"X-Upload-Token: sesame\"]},
  \"late\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$PUT_PORT/late/{name}.pcap\", \"headers\": [\"X-Upload-Token: sesame\"]},
  \"badweb\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$PUT_PORT/up/{name}.pcap\", \"headers\": [\"X-Upload-Token: wrong\"]},
  \"bads3\": {\"type\": \"s3\", \"endpoint\": \"http://127.0.0.1:$S3_PORT\", \"bucket\": \"captures\", \"region\": \"us-east-1\",
          \"access_key_id\": \"NOTAKEY\", \"secret_access_key_file\": \"$T_DIR/s3secret\", \"path_style\": true},
  \"badsas\": {\"type\": \"azure-blob\", \"container_url\": \"http://127.0.0.1:$AZ_PORT/$ACCT/captures\", \"sas_token_file\": \"$T_DIR/badsas\"}},
  \"uploads\": {\"concurrency\": 4}" || exit 1

# Readiness: each account written with its own credentials, each with why.
r=$(curl -s -w '\n%{http_code}' "$URL/readyz")
ready() { sed '$d' <<<"$r" | jq -r --arg c "$1" '.checks[] | select(.check == $c) | "\(.ok) \(.reason)"'; }
is "$(tail -1 <<<"$r")" 503 "GET /readyz, no token: 503 while some accounts cannot be written"
like "$(ready storage.archive)" "true writable: put http://127.0.0.1:$AZ_PORT/$ACCT/captures/alertcap-readyz" "azure-blob with its key: writable"
# (A SAS cannot make the container; the keyed account's probe, which
# makes it, runs beside this one's: asked again, it is there.)
r=$(curl -s -w '\n%{http_code}' "$URL/readyz")
like "$(ready storage.sasbox)" "true writable: put" "azure-blob with a SAS: writable"
like "$(ready storage.s3)" "true writable: put http://127.0.0.1:$S3_PORT/captures/alertcap-readyz" "s3: writable"
like "$(ready storage.web)" "true writable: put http://127.0.0.1:$PUT_PORT/up/alertcap-readyz.pcap" "http-put: writable"
like "$(ready storage.badkey)" "false " "azure-blob with a wrong key: not ready"
like "$(ready storage.badkey)" "403" "and says why"
like "$(ready storage.bads3)" "false " "s3 with an unknown key id: not ready"
like "$(ready storage.badweb)" "false HTTP 401" "http-put refused: not ready, with the answer"
like "$(ready capture)" "true" "the capture permission is checked"
like "$(ready disk)" "true " "and the disk budget"
out=$("$ALERTCAPD" -t --online -c "$DDIR/alertcap.json" 2>&1)
is "$?" 1 "alertcapd -t --online: exit 1 while an account is not ready"
like "$out" "ok   storage.s3: writable: put " "and prints each check (s3 ok)"
like "$out" "FAIL storage.badweb: HTTP 401" "and each failure with its reason"

# capture NAME PINGS SIZE STORAGE: a capture of ICMP on lo, stopped.
capture() {
	api PUT "/v1/captures/$1" "{\"target\": {\"interface\": \"lo\"}, \"bpf\": \"icmp\", \"storage\": $4}" >/dev/null
	send_ping "$2" "$3" 0.002
	sleep 0.1
	api POST "/v1/captures/$1/stop" >/dev/null
}
# uploaded NAME ACCOUNT [SECONDS]: waits for the upload to end; prints state.
uploaded() {
	local st
	for _ in $(seq $((${3:-20} * 10))); do
		st=$(record "$1" | jq -r --arg a "$2" '.uploads[] | select(.account == $a) | .state')
		case "$st" in Uploaded|Failed) break ;; esac
		sleep 0.1
	done
	echo "$st"
}
uri() { record "$1" | jq -r --arg a "$2" '.uploads[] | select(.account == $a) | .uri'; }
sha() { sha256sum | cut -d' ' -f1; }

capture big 60 1400 '{"file": true, "accounts": ["archive", "s3", "web"]}'
file=$(local_file big)
want=$(sha < "$file")
size=$(stat -c %s "$file")
ok "$([ "$size" -gt 150000 ]; echo $?)" "the capture ($size bytes) is larger than the 64 KiB blocks"
is "$(uploaded big archive)" Uploaded "azure-blob (shared key): Uploaded"
is "$(az_get "$(uri big archive)" | sha)" "$want" "azure-blob: the blob is the file, byte for byte"
like "$(az_get "$(uri big archive)" -D - -o /dev/null | tr -d '\r' | grep -i '^content-type:')" "application/x-pcapng" "azure-blob in blocks: the blob's Content-Type is pcapng's"
ok "$([[ $(uri big archive) == *.pcapng ]]; echo $?)" "azure-blob: the default object name ends as the file does ({ext})"
like "$(uri big archive)" "/captures/alertcap/st/" "azure-blob: object named after the default template"
is "$(uploaded big s3)" Uploaded "s3: Uploaded"
is "$(curl -s "$(uri big s3)" | sha)" "$want" "s3 (multipart): the object is the file"
is "$(uploaded big web)" Uploaded "http-put: Uploaded"
is "$(curl -s "$(uri big web)" | sha)" "$want" "http-put: the object is the file"
is "$(record big | jq -r .sha256)" "$want" "the record's sha256 is the objects' too"
req=$(acurl -s "$URL/metrics" | sed -n 's/^alertcap_upload_requests_total //p')
ok "$([ "$req" -ge 10 ]; echo $?)" "large files went up in blocks/parts ($req requests)"
out=$("$ALERTCAP" -u "$URL" show big)
like "$out" "upload:        s3 Uploaded http://" "alertcap show lists the URIs"
"$ALERTCAP" -u "$URL" download big --from s3 -o "$T_DIR/from-s3.pcap" >/dev/null
is "$(sha < "$T_DIR/from-s3.pcap")" "$want" "alertcap download --from s3 fetches the object"
out=$("$ALERTCAP" -u "$URL" download big --from archive -o "$T_DIR/from-az.pcap" 2>&1)
ok "$([ "$(wc -l <<<"$out")" -eq 1 ] && [ ! -e "$T_DIR/from-az.pcap" ]; echo $?)" "download --from a private container: one line, no file"
like "$out" "alertcap: 40" "with the store's status"
like "$out" "archive: " "naming the account, then the store's code and message"

"$ALERTCAP" -u "$URL" start cli-up -i lo --time-limit 1 --bpf icmp --account web >/dev/null
send_ping 3 56 0.05
wait_status cli-up Stopped 5
is "$(uploaded cli-up web)" Uploaded "alertcap start --account: uploaded to that account"

capture sas 60 1400 '{"accounts": ["sasbox"], "file": true}'
is "$(uploaded sas sasbox)" Uploaded "azure-blob with a SAS token, in blocks: Uploaded"
is "$(az_get "$(uri sas sasbox)" | sha)" "$(sha < "$(local_file sas)")" "SAS: the blob is the file"

# A wrong key: Failed with the service's message; StorageFailed; file kept.
capture bad 5 100 '{"accounts": ["badkey"]}'
is "$(uploaded bad badkey)" Failed "wrong key: Failed"
like "$(record bad | jq -r '.uploads[0].last_error')" "AuthorizationFailure" "last_error holds the service's error"
is "$(record bad | jq -r '.errors[0].code')" StorageFailed "StorageFailed on the capture"
f=$(local_file bad)
ok "$([ -f "$f" ]; echo $?)" "the local file stays"
# (s3rver takes any secret for its key id: a wrong key id stands in.)
capture bad2 5 100 '{"accounts": ["bads3", "badsas", "badweb"]}'
is "$(uploaded bad2 bads3)/$(uploaded bad2 badsas)/$(uploaded bad2 badweb)" Failed/Failed/Failed "wrong S3 key, SAS and HTTP token: all Failed"
like "$(record bad2 | jq -r '.uploads[] | select(.account == "bads3") | .last_error')" "InvalidAccessKeyId" "s3: the service's error"
like "$(record bad2 | jq -r '.uploads[] | select(.account == "badsas") | .last_error')" "HTTP 403" "SAS: the service's refusal"
like "$(record bad2 | jq -r '.uploads[] | select(.account == "badweb") | .last_error')" "HTTP 401" "http-put: the server's refusal"
is "$(record bad2 | jq '[.errors[] | select(.code == "StorageFailed")] | length')" 3 "one StorageFailed per account"
ok "$([ -f "$(local_file bad2)" ]; echo $?)" "accounts only, all failed: the local file stays"

# Accounts only: the file goes once the upload succeeded.
capture only 5 100 '{"accounts": ["web"]}'
is "$(uploaded only web)" Uploaded "accounts only: Uploaded"
sleep 0.2
is "$(record only | jq -r .file)" null "the record no longer names a local file"
ok "$(ls "$DDIR"/captures/only_* >/dev/null 2>&1; [ $? -ne 0 ]; echo $?)" "and the file is gone from the node"

# The server is down when the upload starts, and comes back.
stop_pid "$PUT_PID"
capture retry 5 100 '{"accounts": ["late"], "file": true}'
sleep 1.5
r=$(record retry)
is "$(jq -r '.uploads[0].state' <<<"$r")" Pending "server down: the upload waits (Pending)"
like "$(jq -r '.uploads[0].last_error' <<<"$r")" "onnect" "with the connection error on record"
start_putsink
is "$(uploaded retry late 30)" Uploaded "server back: Uploaded after retries"
is "$(record retry | jq -r '.uploads[0].last_error')" null "Uploaded clears the last error of the failed attempts"
ok "$([ "$(record retry | jq '.uploads[0].attempts')" -ge 2 ]; echo $?)" "attempts counted ($(record retry | jq '.uploads[0].attempts'))"

# Azurite and s3rver down when the upload starts, then back.
stop_pid "$AZ_PID"
capture retry2 5 100 '{"accounts": ["archive"], "file": true}'
sleep 1.5
is "$(record retry2 | jq -r '.uploads[0].state')" Pending "Azurite down: Pending"
start_azurite
is "$(uploaded retry2 archive 30)" Uploaded "Azurite back: Uploaded after retries"
is "$(az_get "$(uri retry2 archive)" | sha)" "$(sha < "$(local_file retry2)")" "and the blob is the file"

# kill_mid NAME JQ: kill -9 the daemon once JQ (the parts sent, from the
# capture's upload progress) reaches 5.
kill_mid() {
	for _ in $(seq 200); do
		[ "$(record "$1" | jq "$2")" -ge 5 ] && break
		sleep 0.02
	done
	stop_pid "$DPID" KILL
}

# Killed in the middle of a many-block upload: finished after restart.
capture huge 100 50000 '{"accounts": ["archive"], "file": true}'
kill_mid huge '.uploads[0].progress.blocks_done // 0'
before=$(sqlite3 "$DDIR/alertcap.db" "select json_extract(record, '$.uploads[0].progress.blocks_done') from captures where name = 'huge'")
total=$(( ($(stat -c %s "$(ls "$DDIR"/captures/huge_*)") + 65535) / 65536 ))
ok "$([ "${before:-0}" -ge 1 ] && [ "${before:-0}" -lt "$total" ]; echo $?)" "killed after $before of $total blocks"
launch_daemon st "" || exit 1
is "$(uploaded huge archive 60)" Uploaded "after restart: Uploaded"
is "$(az_get "$(uri huge archive)" | sha)" "$(sha < "$(local_file huge)")" "the blob is the whole file"
req=$(acurl -s "$URL/metrics" | sed -n 's/^alertcap_upload_requests_total //p')
ok "$([ "$req" -le $((total - before + 2)) ]; echo $?)" "blocks sent before the kill were not sent again ($req requests for $((total - before)) blocks)"

# The same for an S3 multipart upload.
capture huge3 100 50000 '{"accounts": ["s3"], "file": true}'
kill_mid huge3 '.uploads[0].progress.etags // {} | length'
before=$(sqlite3 "$DDIR/alertcap.db" "select count(*) from captures, json_each(json_extract(captures.record, '$.uploads[0].progress.etags')) where name = 'huge3'")
ok "$([ "${before:-0}" -ge 1 ]; echo $?)" "s3: killed after $before parts"
launch_daemon st "" || exit 1
is "$(uploaded huge3 s3 60)" Uploaded "s3: after restart, the multipart upload completes"
is "$(curl -s "$(uri huge3 s3)" | sha)" "$(sha < "$(local_file huge3)")" "s3: the object is the whole file"

# Idle connections are closed once the queue drains: no server that closes
# its side is left waiting on ours (Azurite's shutdown waits for them).
sleep 0.3
is "$(ss -Htnp "( dport = :$AZ_PORT or dport = :$S3_PORT )" | grep -c "pid=$DPID,")" 0 "queue drained: no connection to the storage servers stays open"

# The context file goes with the capture, to each account.
api PUT /v1/captures/ctx '{"target": {"interface": "lo"}, "bpf": "icmp", "context": true,
    "storage": {"file": true, "accounts": ["archive", "s3"]}}' >/dev/null
send_ping 5 100 0.01
sleep 0.3
api POST /v1/captures/ctx/stop >/dev/null
for _ in $(seq 200); do
	[ "$(record ctx | jq '[.snapshots.uploads // [] | .[] | select(.state == "Uploaded")] | length')" = 2 ] && break
	sleep 0.1
done
rc=$(record ctx)
cfile=$DDIR/captures/$(field "$rc" .snapshots.path)
is "$(field "$rc" '[.snapshots.uploads[].state] | join(",")')" "Uploaded,Uploaded" "context: its file is uploaded to both accounts"
is "$(az_get "$(field "$rc" '.snapshots.uploads[] | select(.account == "archive") | .uri')" | sha)" "$(sha < "$cfile")" "context: in Azurite, byte for byte"
is "$(curl -s "$(field "$rc" '.snapshots.uploads[] | select(.account == "s3") | .uri')" | sha)" "$(sha < "$cfile")" "context: in s3rver, byte for byte"
like "$(field "$rc" '.snapshots.uploads[0].uri')" ".context.json" "context: named as the file is"
like "$(az_get "$(field "$rc" '.snapshots.uploads[] | select(.account == "archive") | .uri')" -D - -o /dev/null | tr -d '\r' | grep -i '^content-type:')" "application/json" "context: uploaded as JSON"
# A kept-alive connection the server dropped: libcurl sends the request
# again on a new one, rewinding the body (one upload at a time, so the
# second reuses the first one's connection).
DROP_PORT=$(free_port)
mkdir -p "$T_DIR/drop"
"$builddir/tests/tools/putsink" "$DROP_PORT" "$T_DIR/drop" -r &
T_PIDS+=("$!")
wait_ports "$DROP_PORT"
start_daemon one "" "\"storage\": {
  \"d1\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$DROP_PORT/a/{name}.pcap\"},
  \"d2\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$DROP_PORT/b/{name}.pcap\"}},
  \"uploads\": {\"concurrency\": 1}" || exit 1
capture rew 5 1000 '{"accounts": ["d1", "d2"], "file": true}'
is "$(uploaded rew d1)/$(uploaded rew d2)" Uploaded/Uploaded "both uploads over a dropped kept-alive connection: Uploaded"
is "$(record rew | jq '[.uploads[].attempts] | add')" 2 "each at its first attempt: the body was rewound, not failed"
# The HTTP helper: libcurl lives in alertcap-http, not in the daemon; the
# helper holds no capability; killed mid-upload, its request fails, the
# upload is retried through a new helper and completes.
out=$("$builddir/alertcap-http" 2>&1)
is "$?/$out" "1/alertcap-http: this is alertcapd's helper, started by alertcapd only" "run by hand, the helper refuses"
# A server that leaves the first HOLD PUT requests unanswered (the first
# one, then from a second port the first two) and answers 201 after.
stall_server() {	# stall_server PORT HOLD
python3 - "$1" "$2" <<'PY' &
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8)
lock, seen, held = threading.Lock(), [0], []
def serve(c):
    data = b""
    while b"\r\n\r\n" not in data:
        more = c.recv(65536)
        if not more:
            return c.close()
        data += more
    with lock:
        seen[0] += data.startswith(b"PUT ")
        if seen[0] <= int(sys.argv[2]) and data.startswith(b"PUT "):
            return held.append(c)
    head, body = data.split(b"\r\n\r\n", 1)
    want = [int(l.split(b":")[1]) for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
    while want and len(body) < want[0]:
        body += c.recv(65536)
    c.sendall(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    c.close()
while True:
    threading.Thread(target=serve, args=(s.accept()[0],), daemon=True).start()
PY
T_PIDS+=("$!")
for _ in $(seq 100); do ss -ltn "( sport = :$1 )" | grep -q LISTEN && break; sleep 0.05; done
}
STALL_PORT=$(free_port)
stall_server "$STALL_PORT" 1
BLOCKS_PORT=$(free_port)
stall_server "$BLOCKS_PORT" 2
start_daemon hp "" "\"storage\": {
  \"st\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$STALL_PORT/s/{name}.pcap\"},
  \"blocks\": {\"type\": \"azure-blob\", \"endpoint\": \"http://127.0.0.1:$BLOCKS_PORT/$ACCT\", \"account\": \"$ACCT\",
             \"container\": \"captures\", \"key_file\": \"$T_DIR/azkey\", \"block_size\": 65536, \"parallel\": 4}}" || exit 1
ok "$(grep -q libcurl "/proc/$DPID/maps"; [ $? -eq 1 ]; echo $?)" "the daemon has no libcurl mapped"
HPID=$(pgrep -P "$DPID" -x alertcap-http)
ok "$([ -n "$HPID" ]; echo $?)" "its HTTP helper runs as its child"
is "$(awk '/^CapEff:/ {print $2}' "/proc/$HPID/status")/$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$HPID/status")" "0000000000000000/1" \
    "the helper holds no capability and can gain none"
ok "$(grep -q libcurl "/proc/$HPID/maps"; echo $?)" "libcurl is the helper's"
capture stall 3 100 '{"accounts": ["st"], "file": true}'
for _ in $(seq 100); do
	[ "$(record stall | jq -r '.uploads[0].state')" = Uploading ] &&
	    ss -tn state established "( dport = :$STALL_PORT )" | grep -q . && break
	sleep 0.1
done
kill -9 "$HPID"
is "$(uploaded stall st 30)" Uploaded "killed mid-upload: the upload is retried through a new helper and completes"
is "$(record stall | jq -r '.uploads[0].attempts')" 2 "at its second attempt"
like "$(cat "$DDIR/daemon.log")" "the HTTP helper (pid $HPID): it exited; the requests in flight fail" "the daemon says what it lost"
like "$(cat "$DDIR/daemon.log")" "attempt 1 failed (the HTTP helper: it exited)" "and why the attempt failed"
NPID=$(pgrep -P "$DPID" -x alertcap-http)
ok "$([ -n "$NPID" ] && [ "$NPID" != "$HPID" ]; echo $?)" "a new helper serves (pid $NPID)"
# Two of a job's block requests held when the helper dies: both fail at
# once, the first one's retry cancels the other, and the upload completes.
held() { ss -tn state established "( dport = :$BLOCKS_PORT )" | grep -c 127.0.0.1; }
capture blocks 60 1400 '{"accounts": ["blocks"], "file": true}'
for _ in $(seq 100); do
	[ "$(held)" -ge 2 ] && break
	sleep 0.1
done
ok "$([ "$(held)" -ge 2 ]; echo $?)" "two block requests held by the server ($(held))"
kill -9 "$NPID"
is "$(uploaded blocks blocks 30)" Uploaded "killed with two block requests in flight: the upload completes"
is "$(record blocks | jq -r '.uploads[0].attempts')" 2 "at its second attempt"
ok "$(kill -0 "$DPID"; echo $?)" "the daemon lives on"
done_testing
