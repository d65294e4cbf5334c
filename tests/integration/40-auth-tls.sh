#!/bin/bash
# Bearer tokens (401 without, constant-time compare, several tokens), the
# refusal to listen beyond loopback without tokens, and TLS listeners with
# and without client certificates, made here with the openssl command.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl openssl


printf '# operators\nfirst-token\n\nsecond-token\n' > "$T_DIR/tokens"
start_daemon auth "" "\"auth\": {\"api_tokens_file\": \"$T_DIR/tokens\"}" || exit 1
is "$(api GET /v1/captures | cut -d' ' -f1)" 401 "no token: 401"
like "$(api GET /v1/captures)" '"code":"Unauthorized"' "401 is a JSON error"
TOKEN=wrong-token
is "$(api GET /v1/captures | cut -d' ' -f1)" 401 "wrong token: 401"
TOKEN=first
is "$(api GET /v1/captures | cut -d' ' -f1)" 401 "a prefix of a token: 401"
TOKEN=first-token
is "$(api GET /v1/captures | cut -d' ' -f1)" 200 "first token: 200"
TOKEN=second-token
is "$(api GET /metrics | head -1 | cut -d' ' -f1)" 200 "second token, /metrics: 200"
TOKEN=
is "$(api GET /metrics | cut -d' ' -f1)" 401 "metrics without token: 401"
is "$(api GET /healthz | cut -d' ' -f1)" 200 "healthz needs no token"
out=$(ALERTCAP_URL=$URL ALERTCAP_TOKEN=first-token "$ALERTCAP" list 2>&1)
like "$out" "NAME" "CLI sends ALERTCAP_TOKEN"
out=$(ALERTCAP_URL=$URL ALERTCAP_TOKEN= "$ALERTCAP" list 2>&1)
like "$out" "401 Unauthorized" "CLI without a token shows the 401"

# No tokens configured: the daemon makes one, 0600, beside its state, and
# every listener wants it, loopback included.
mkdir -p "$T_DIR/fresh/var"
fport=$(free_port)
cat > "$T_DIR/fresh/alertcap.json" <<JSON
{"listen": [{"address": "127.0.0.1", "port": $fport}],
 "captures": {"root": "$T_DIR/fresh/c"}, "state": {"path": "$T_DIR/fresh/var/alertcap.db"}}
JSON
(cd "$T_DIR/fresh" && exec "$ALERTCAPD" -f -c alertcap.json) >"$T_DIR/fresh/daemon.log" 2>&1 &
T_PIDS+=("$!")
wait_http "http://127.0.0.1:$fport/healthz"
is "$(stat -c %a "$T_DIR/fresh/var/api.token" 2>&1)" 600 "no tokens file: api.token made beside state.path, mode 0600"
like "$(cat "$T_DIR/fresh/daemon.log")" "made an API token in $T_DIR/fresh/var/api.token" "the log says where it is"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$fport/v1/captures")" 401 "loopback without a token: 401"
ftok=$(cat "$T_DIR/fresh/var/api.token")
is "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $ftok" "http://127.0.0.1:$fport/v1/captures")" 200 "with the made token: 200"
out=$(cd "$T_DIR/fresh" && ALERTCAP_URL=http://127.0.0.1:$fport ALERTCAP_TOKEN= "$ALERTCAP" list 2>&1)
like "$out" "NAME" "the CLI finds the made token (./var/api.token) by itself"
out=$(ALERTCAP_URL=http://127.0.0.1:$fport ALERTCAP_TOKEN= ALERTCAP_TOKEN_FILE="$T_DIR/fresh/var/api.token" "$ALERTCAP" list 2>&1)
like "$out" "NAME" "... or from ALERTCAP_TOKEN_FILE"
is "$(stat -c %a "$T_DIR/fresh/var/alertcap.db"* | sort -u | tr "\\n" " ")" "600 " "the state database and its WAL are 0600"

# auth.anonymous_loopback: the old open loopback, with a warning; and a
# listener beyond loopback then refuses to start.
mkdir -p "$T_DIR/open"
oport=$(free_port)
cat > "$T_DIR/open/alertcap.json" <<JSON
{"listen": [{"address": "127.0.0.1", "port": $oport}], "auth": {"anonymous_loopback": true},
 "captures": {"root": "$T_DIR/open/c"}, "state": {"path": "$T_DIR/open/db"}}
JSON
"$ALERTCAPD" -f -c "$T_DIR/open/alertcap.json" >"$T_DIR/open/daemon.log" 2>&1 &
T_PIDS+=("$!")
wait_http "http://127.0.0.1:$oport/healthz"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$oport/v1/captures")" 200 "anonymous_loopback: no token needed"
like "$(cat "$T_DIR/open/daemon.log")" "warn: auth.anonymous_loopback" "and a warning at start"
ok "$([ ! -e "$T_DIR/open/api.token" ]; echo $?)" "no token file made then"
# The state store is held: a second daemon on it is refused at once.
start=$(date +%s%N)
out=$(sed "s/$oport/$(free_port)/" "$T_DIR/open/alertcap.json" > "$T_DIR/open/second.json"; timeout 10 "$ALERTCAPD" -f -c "$T_DIR/open/second.json" 2>&1)
ok "$([ $? -eq 1 ]; echo $?)" "a second daemon on the same state.path refuses to start"
like "$out" "another process holds the database" "and says the database is held"
ok "$([ $(( ($(date +%s%N) - start) / 1000000 )) -lt 1500 ]; echo $?)" "without waiting on the lock"
stop_pid "${T_PIDS[-1]}"
sed -i "s/127.0.0.1/0.0.0.0/" "$T_DIR/open/alertcap.json"
out=$("$ALERTCAPD" -f -c "$T_DIR/open/alertcap.json" 2>&1)
ok "$([ $? -ne 0 ]; echo $?)" "non-loopback listener without tokens: refuses to start"
like "$out" "listen[0].address: 0.0.0.0 is not loopback, so auth.api_tokens_file is required" "and says why"
out=$("$ALERTCAPD" -t -c "$T_DIR/open/alertcap.json" 2>&1)
ok "$([ $? -ne 0 ]; echo $?)" "-t refuses that configuration too"
like "$out" "listen[0].address: 0.0.0.0 is not loopback" "-t says why, as start-up does"

# TLS, then TLS with client certificates.
cd "$T_DIR" || exit 1
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=alertcap-test-ca" \
    -keyout ca.key -out ca.pem >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout srv.key -out srv.csr >/dev/null 2>&1
printf 'subjectAltName=IP:127.0.0.1\n' > san.ext
openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile san.ext -out srv.pem >/dev/null 2>&1
openssl req -newkey rsa:2048 -nodes -subj "/CN=operator" -keyout cli.key -out cli.csr >/dev/null 2>&1
openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out cli.pem >/dev/null 2>&1
tlsport=$(free_port)
mtlsport=$(free_port)
mkdir -p "$T_DIR/tls2"
cat > "$T_DIR/tls2/alertcap.json" <<JSON
{"listen": [{"address": "127.0.0.1", "port": $tlsport,
             "tls": {"cert_file": "$T_DIR/srv.pem", "key_file": "$T_DIR/srv.key"}},
            {"address": "127.0.0.1", "port": $mtlsport,
             "tls": {"cert_file": "$T_DIR/srv.pem", "key_file": "$T_DIR/srv.key",
                     "client_ca_file": "$T_DIR/ca.pem"}}],
 "captures": {"root": "$T_DIR/tls2/c"}, "state": {"path": "$T_DIR/tls2/db"}}
JSON
"$ALERTCAPD" -f -c "$T_DIR/tls2/alertcap.json" >"$T_DIR/tls2/log" 2>&1 &
T_PIDS+=("$!")
for _ in $(seq 100); do
	curl -fs --cacert ca.pem "https://127.0.0.1:$tlsport/healthz" >/dev/null && break
	sleep 0.05
done
TOKEN=$(cat "$T_DIR/tls2/api.token")
is "$(acurl -s -o /dev/null -w '%{http_code}' --cacert ca.pem "https://127.0.0.1:$tlsport/v1/captures")" 200 "TLS listener answers over HTTPS, with the made token"
curl -s -o /dev/null "http://127.0.0.1:$tlsport/healthz"
ok "$([ $? -ne 0 ]; echo $?)" "TLS listener refuses plain HTTP"
out=$(ALERTCAP_TOKEN=$TOKEN "$ALERTCAP" -u "https://127.0.0.1:$tlsport" --cacert ca.pem list 2>&1)
like "$out" "NAME" "CLI over HTTPS with --cacert"
curl -s -o /dev/null --cacert ca.pem "https://127.0.0.1:$mtlsport/healthz"
ok "$([ $? -ne 0 ]; echo $?)" "client-certificate listener refuses a client without one"
is "$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem --cert cli.pem --key cli.key "https://127.0.0.1:$mtlsport/healthz")" 200 "client certificate signed by the CA: 200"
# The web console is served unchanged over TLS and mutual TLS.
is "$(curl -s -w '%{http_code} %{content_type}' -o "$T_DIR/page" --cacert ca.pem "https://127.0.0.1:$tlsport/")" "200 text/html; charset=utf-8" "the console over TLS"
like "$(curl -s --cacert ca.pem --cert cli.pem --key cli.key "https://127.0.0.1:$mtlsport/ui/app.js")" "sessionStorage" "and its script over mutual TLS"
done_testing
