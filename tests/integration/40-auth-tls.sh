#!/bin/bash
# Bearer tokens (401 without, constant-time compare, several tokens), the
# refusal to listen beyond loopback without tokens, and TLS listeners with
# and without client certificates, made here with the openssl command.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd jq curl openssl

plan 17

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
out=$(ALERTCAP_URL=$URL "$ALERTCAP" list 2>&1)
like "$out" "401 Unauthorized" "CLI without a token shows the 401"

# Not loopback and no tokens: refuse to start.
mkdir -p "$T_DIR/open"
cat > "$T_DIR/open/alertcap.json" <<JSON
{"listen": [{"address": "0.0.0.0", "port": $(free_port)}],
 "captures": {"root": "$T_DIR/open/c"}, "state": {"path": "$T_DIR/open/db"}}
JSON
out=$("$ALERTCAPD" -f -c "$T_DIR/open/alertcap.json" 2>&1)
ok "$([ $? -ne 0 ]; echo $?)" "non-loopback listener without tokens: refuses to start"
like "$out" "listen[0].address: 0.0.0.0 is not loopback, so auth.api_tokens_file is required" "and says why"

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
is "$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem "https://127.0.0.1:$tlsport/v1/captures")" 200 "TLS listener answers over HTTPS"
curl -s -o /dev/null "http://127.0.0.1:$tlsport/healthz"
ok "$([ $? -ne 0 ]; echo $?)" "TLS listener refuses plain HTTP"
out=$("$ALERTCAP" -u "https://127.0.0.1:$tlsport" --cacert ca.pem list 2>&1)
like "$out" "NAME" "CLI over HTTPS with --cacert"
curl -s -o /dev/null --cacert ca.pem "https://127.0.0.1:$mtlsport/healthz"
ok "$([ $? -ne 0 ]; echo $?)" "client-certificate listener refuses a client without one"
is "$(curl -s -o /dev/null -w '%{http_code}' --cacert ca.pem --cert cli.pem --key cli.key "https://127.0.0.1:$mtlsport/healthz")" 200 "client certificate signed by the CA: 200"
