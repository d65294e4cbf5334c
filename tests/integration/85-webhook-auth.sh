#!/bin/bash
# Webhook credentials per format: bearer token, basic auth (what
# Alertmanager's http_config sends), Grafana's HMAC over timestamp:body
# with a replay window, and an Azure action group's query token; a format
# without its own credentials takes the API tokens.
. "$(dirname "$0")/lib.sh"
need_cmd jq curl openssl base64

printf 'api-token\n' > "$T_DIR/api"
printf 'gen-token' > "$T_DIR/gen"
printf 's3cret' > "$T_DIR/am-pass"
printf 'hmac-key' > "$T_DIR/hmac"
printf 'az-token' > "$T_DIR/az"
start_daemon wh "" "\"auth\": {\"api_tokens_file\": \"$T_DIR/api\", \"webhooks\": {
  \"generic\": {\"bearer_token_file\": \"$T_DIR/gen\"},
  \"alertmanager\": {\"basic_username\": \"am\", \"basic_password_file\": \"$T_DIR/am-pass\"},
  \"grafana\": {\"hmac_secret_file\": \"$T_DIR/hmac\", \"timestamp_header\": \"X-Grafana-Alerting-Signature-Timestamp\", \"max_skew_s\": 60},
  \"azure-monitor\": {\"query_token_file\": \"$T_DIR/az\"}}}" || exit 1

post() {	# post PATH BODY CURL-ARGS...: the status code
	local path=$1 body=$2; shift 2
	curl -s -o /dev/null -w '%{http_code}' "$@" --data-binary "$body" "$URL$path"
}
gen='{"name": "x", "status": "firing"}'
is "$(post /v1/alerts/generic "$gen" -H 'Authorization: Bearer gen-token')" 202 "generic: its bearer token"
is "$(post /v1/alerts/generic "$gen" -H 'Authorization: Bearer api-token')" 401 "generic: the API token is not its token"
am='{"version": "4", "groupKey": "g", "alerts": []}'
is "$(post /v1/alerts/alertmanager "$am" -u am:s3cret)" 202 "alertmanager: basic auth"
is "$(post /v1/alerts/alertmanager "$am" -u am:wrong)" 401 "alertmanager: wrong password"
is "$(post /v1/alerts "$am" -u am:s3cret)" 202 "detected format takes that format's credentials"
g='{"version": "1", "orgId": 1, "alerts": []}'
ts=$(date +%s)
sig=$(printf '%s:%s' "$ts" "$g" | openssl dgst -sha256 -hmac hmac-key | awk '{print $NF}')
is "$(post /v1/alerts/grafana "$g" -H "X-Grafana-Alerting-Signature: $sig" -H "X-Grafana-Alerting-Signature-Timestamp: $ts")" 202 "grafana: HMAC over timestamp:body"
old=$((ts - 3600))
sig=$(printf '%s:%s' "$old" "$g" | openssl dgst -sha256 -hmac hmac-key | awk '{print $NF}')
is "$(post /v1/alerts/grafana "$g" -H "X-Grafana-Alerting-Signature: $sig" -H "X-Grafana-Alerting-Signature-Timestamp: $old")" 401 "grafana: a replayed old signature is refused"
sig=$(printf '%s' "$g" | openssl dgst -sha256 -hmac hmac-key | awk '{print $NF}')
is "$(post /v1/alerts/grafana "$g" -H "X-Grafana-Alerting-Signature: $sig")" 401 "grafana: the timestamp is required when configured"
az=$(cat "$srcdir/tests/fixtures/alerts/azure-common.json")
is "$(post '/v1/alerts/azure-monitor?token=az-token' "$az")" 202 "azure-monitor: query token"
is "$(post '/v1/alerts/azure-monitor?token=nope' "$az")" 401 "azure-monitor: wrong query token"
is "$(post /v1/rules/test "$gen" -H 'Authorization: Bearer api-token')" 200 "dry runs take the API token"
like "$(curl -s -H 'Authorization: Bearer api-token' "$URL/metrics")" "alertcap_webhook_auth_failures_total 5" "auth failures counted"
done_testing
