#!/bin/bash
# The rules shipped in rules/ pass alertcapd -t and alertcap rules check,
# and every alert fixture gets the rule outcomes recorded next to it
# (tests/fixtures/alerts/NAME.outcomes.json) in a dry run against them.
. "$(dirname "$0")/lib.sh"
need_cmd jq curl

fixtures=(alertmanager-firing alertmanager-resolved grafana-firing grafana-mqtt azure-common
	azure-metric-alert generic-array)
mkdir -p "$T_DIR/t"
echo "{\"rules\": {\"dir\": \"$srcdir/rules\"}}" > "$T_DIR/t/c.json"
out=$("$ALERTCAPD" -t -c "$T_DIR/t/c.json" 2>&1)
ok $? "alertcapd -t accepts rules/"
like "$out" "6 rules" "all six shipped rules load"
"$ALERTCAP" rules check "$srcdir/rules" >/dev/null 2>&1
ok $? "alertcap rules check accepts rules/"

# Literal capture parameters are checked offline, as the API would check
# them once an alert fills the templates; templated values are not.
mkdir -p "$T_DIR/bad"
cat > "$T_DIR/bad/literal.json" <<'JSON'
[{"name": "r1", "match": {"alert": "X"},
  "capture": {"name": "x-${timestamp}", "target": {"interface": "${labels.dev}"},
              "time_limit_s": 0}},
 {"name": "r2", "match": {"alert": "Y"},
  "capture": {"name": "y", "target": {"interface": "eth0"}, "max_bytes_per_packet": 999999}},
 {"name": "r3", "match": {"alert": "Z"},
  "capture": {"name": "z", "target": {"interface": "eth0"},
              "filters": [{"protocol": "ICMP", "local_ip": "${labels.instance|host}"}]}},
 {"name": "r4", "match": {"alert": "W"},
  "capture": {"target": {"interface": "eth0"}}},
 {"name": "r5", "match": {"alert": "V"},
  "capture": {"name": "${rule}", "target": {"interface": "${labels.device}"}, "bpf": "tcp port ${labels.port}",
     "filters": [{"local_port": "${labels.port}"}], "storage": {"accounts": ["${labels.acct}"], "file": false}}},
 {"name": "r6", "match": {"alert": "U"},
  "capture": {"name": "u", "target": {"interface": "eth0"}, "storage": {"accounts": ["nowhere"]}}}]
JSON
out=$("$ALERTCAP" rules check "$T_DIR/bad" 2>&1)
ok "$([ $? -ne 0 ]; echo $?)" "rules check refuses literal parameters out of range"
like "$out" "literal.json:3:15: [0].capture.time_limit_s: 0 is out of range 1..18000" "time_limit_s 0, at file:line:col"
like "$out" "literal.json:5:61: [1].capture.max_bytes_per_packet: 999999 is out of range" "max_bytes_per_packet 999999"
like "$out" "literal.json:8:28: [2].capture.filters[0].protocol: must be TCP, UDP or Any" "protocol ICMP"
like "$out" "literal.json:10:3: [3].capture.name: required" "a missing capture.name"
ok "$(grep -q '\[4\]' <<<"$out"; [ $? -ne 0 ]; echo $?)" "templated values are taken as they will resolve"
echo "{\"rules\": {\"dir\": \"$T_DIR/bad\"}, \"captures\": {\"defaults\": {\"time_limit_s\": 60}, \"maximums\": {\"time_limit_s\": 60}}}" > "$T_DIR/t/bad.json"
out=$("$ALERTCAPD" -t -c "$T_DIR/t/bad.json" 2>&1)
like "$out" "[0].capture.time_limit_s: 0 is out of range 1..60" "alertcapd -t checks them against the node's own maximums"
like "$out" "[5].capture.storage.accounts[0]: no storage account named 'nowhere'" "and its storage accounts"

start_daemon shipped "" "\"rules\": {\"dir\": \"$srcdir/rules\"}" || exit 1
for f in "${fixtures[@]}"; do
	r=$(api POST /v1/rules/test "$(cat "$srcdir/tests/fixtures/alerts/$f.json")")
	got=$(jq -c '[.matched[] | [.rule, .outcome, (.reason // "" | sub(" [0-9]{8}T[0-9]{6}Z"; ""))]]' <<<"${r#* }")
	[ -n "${ALERTCAP_REGEN:-}" ] && echo "$got" > "$srcdir/tests/fixtures/alerts/$f.outcomes.json"
	is "$got" "$(cat "$srcdir/tests/fixtures/alerts/$f.outcomes.json" 2>/dev/null)" "$f: rule outcomes as recorded"
done
done_testing
