#!/bin/bash
# The web console. Over HTTP: the page and its files are served without a
# token, with their ETag (304 on a match), gzipped when asked, under a
# strict Content-Security-Policy and the other headers; JSON answers carry
# an ETag too, which is what the page polls with. In a real headless
# Chromium (tests/tools/console.py): sign in, add a capture through the
# form, watch it run and stop, stop and delete by hand, download, see the
# API's error at its field, an alert's capture, the rules' dry run, the
# nodes, and a capture added on another node of the fleet (a real
# mosquitto between them); no console error and no CSP violation. Screenshots of each view
# are kept beside this script's log.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl python3 gzip
for c in chromium chromedriver; do
	command -v "$c" >/dev/null || skip_all "$c is not installed"
done
PY=/usr/bin/python3
"$PY" -c 'import selenium' 2>/dev/null || skip_all "python3-selenium is not installed"

mkdir -p "$T_DIR/rules"
cat > "$T_DIR/rules/ctr-loss.json" <<'JSON'
{"name": "ctr-loss", "match": {"alert": "ContainerLoss"},
 "capture": {"name": "al-${labels.pod}", "target": {"interface": "lo"}, "time_limit_s": 600,
             "context": false}}
JSON
# A fleet of two on a real mosquitto: the page adds a capture on "edge"
# through "web"'s /v1/nodes/edge/....
need_cmd mosquitto mosquitto_pub
broker_conf
start_broker || skip_all "mosquitto did not start"
MQTT="\"mqtt\": {\"port\": $BPORT, \"keepalive_s\": 5, \"reconnect_max_s\": 2}"
start_daemon edge "" "$MQTT" || exit 1
start_daemon web "" "\"rules\": {\"dir\": \"$T_DIR/rules\"}, $MQTT" || exit 1
for _ in $(seq 50); do
	[ "$(api GET /v1/nodes | cut -d' ' -f2- | jq '.nodes | length')" = 2 ] && break
	sleep 0.1
done

# The files, over HTTP.
hdr() { curl -s -D - -o "$T_DIR/body" "$@" | tr -d '\r'; }
h=$(hdr "$URL/")
like "$h" "HTTP/1.1 200" "GET / without a token: 200"
like "$h" "Content-Type: text/html; charset=utf-8" "as HTML"
like "$(cat "$T_DIR/body")" '<script src="/ui/app.js" defer></script>' "the page loads its script from here"
ok "$(grep -c '<script>\|style=' "$T_DIR/body" | grep -qx 0; echo $?)" "no inline script or style in the page"
like "$h" "Content-Security-Policy: default-src 'self'; script-src 'self'; style-src 'self';" "a strict CSP"
like "$h" "frame-ancestors 'none'" "no framing"
like "$h" "X-Content-Type-Options: nosniff" "nosniff"
like "$h" "Referrer-Policy: no-referrer" "no referrer"
like "$h" "Cache-Control: no-cache" "revalidated each time"
tag=$(sed -n 's/^ETag: //p' <<<"$h")
ok "$([[ $tag =~ ^\"[0-9a-f]{16}\"$ ]]; echo $?)" "an ETag ($tag)"
is "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "If-None-Match: $tag" "$URL/")" "304 0" "If-None-Match with it: 304, no body"
is "$(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "0000000000000000"' "$URL/")" 200 "another tag: 200"
h=$(hdr -H 'Accept-Encoding: gzip, deflate' "$URL/ui/app.js")
like "$h" "Content-Encoding: gzip" "gzip when the client takes it"
like "$h" "Content-Type: text/javascript" "the script's type"
cmp -s <(gzip -dc "$T_DIR/body") "$srcdir/src/ui/app.js"
ok $? "the gzipped script is the source's bytes"
h=$(hdr -H 'Accept-Encoding: gzip;q=0, identity' "$URL/ui/app.js")
ok "$(grep -qi '^Content-Encoding' <<<"$h"; [ $? = 1 ]; echo $?)" "gzip;q=0: sent plain"
cmp -s "$T_DIR/body" "$srcdir/src/ui/app.js"
ok $? "and the plain bytes are the source's"
like "$(hdr "$URL/ui/app.css")" "Content-Type: text/css" "the style sheet"
like "$(hdr "$URL/ui/favicon.svg")" "Content-Type: image/svg+xml" "the icon"
like "$(hdr -I "$URL/")" "HTTP/1.1 200" "HEAD / too"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/ui/nothing.js")" 404 "an unknown file: 404"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/")" 405 "POST /: 405"
is "$(curl -s -o /dev/null -w '%{http_code}' "$URL/v1/captures")" 401 "the API still asks the token"
h=$(acurl -s -D - -o /dev/null "$URL/v1/captures" | tr -d '\r')
tag=$(sed -n 's/^ETag: //p' <<<"$h")
ok "$([ -n "$tag" ]; echo $?)" "GET /v1/captures has an ETag"
is "$(acurl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $tag" "$URL/v1/captures")" 304 "and answers 304 while nothing changed"
api PUT /v1/captures/probe '{"target": {"interface": "lo"}, "time_limit_s": 1}' >/dev/null
is "$(acurl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $tag" "$URL/v1/captures")" 200 "and 200 once a capture is added"
wait_status probe Stopped 10
api DELETE /v1/captures/probe?file=true >/dev/null

# The alert whose capture the page shows, and traffic meanwhile.
alert() {	# alert POD: ContainerLoss of that pod
	echo '{"version": "4", "status": "firing", "receiver": "alertcap", "groupKey": "g",
 "alerts": [{"status": "firing", "labels": {"alertname": "ContainerLoss", "severity": "critical", "pod": "'"$1"'"},
   "startsAt": "2026-12-01T00:00:00Z", "fingerprint": "'"$1"'"}]}'
}
is "$(api POST /v1/alerts/alertmanager "$(alert p1)" | cut -d' ' -f1)" 202 "the alert is taken"
wait_status al-p1 Running 5
alert p2 > "$T_DIR/alert.json"	# the dry run's: another pod
(for _ in $(seq 120); do send_ping 2; sleep 0.25; done) &
T_PIDS+=("$!")

shots=${builddir:-.}/tests/integration/75-web-console.shots
rm -rf "$shots"
mkdir -p "$shots"
while IFS= read -r line; do
	case "$line" in
	"ok "*) ok 0 "${line#ok }" ;;
	"not ok "*) ok 1 "${line#not ok }" ;;
	*) echo "# $line" ;;
	esac
done < <(timeout -k 5 240 "$PY" "$srcdir/tests/tools/console.py" "$URL" \
    "$TOKEN" "$shots" al-p1 ctr-loss "$T_DIR/alert.json" edge 2>&1)
ok "$(ls "$shots"/*.png 2>/dev/null | wc -l | grep -qx 10; echo $?)" "a screenshot of each view ($shots)"
api POST /v1/captures/al-p1/stop >/dev/null
done_testing
