#!/bin/bash
# The rules shipped in rules/ pass alertcapd -t and alertcap rules check,
# and every alert fixture gets the rule outcomes recorded next to it
# (tests/fixtures/alerts/NAME.outcomes.json) in a dry run against them.
. "$(dirname "$0")/lib.sh"
need_cmd jq curl

fixtures=(alertmanager-firing alertmanager-resolved grafana-firing grafana-mqtt azure-common
	azure-metric-alert generic-array)
plan $((3 + ${#fixtures[@]}))
mkdir -p "$T_DIR/t"
echo "{\"rules\": {\"dir\": \"$srcdir/rules\"}}" > "$T_DIR/t/c.json"
out=$("$ALERTCAPD" -t -c "$T_DIR/t/c.json" 2>&1)
ok $? "alertcapd -t accepts rules/"
like "$out" "5 rules" "all five shipped rules load"
"$ALERTCAP" rules check "$srcdir/rules" >/dev/null 2>&1
ok $? "alertcap rules check accepts rules/"

start_daemon shipped "" "\"rules\": {\"dir\": \"$srcdir/rules\"}" || exit 1
for f in "${fixtures[@]}"; do
	r=$(api POST /v1/rules/test "$(cat "$srcdir/tests/fixtures/alerts/$f.json")")
	got=$(jq -c '[.matched[] | [.rule, .outcome, (.reason // "" | sub(" [0-9]{8}T[0-9]{6}Z"; ""))]]' <<<"${r#* }")
	[ -n "${ALERTCAP_REGEN:-}" ] && echo "$got" > "$srcdir/tests/fixtures/alerts/$f.outcomes.json"
	is "$got" "$(cat "$srcdir/tests/fixtures/alerts/$f.outcomes.json" 2>/dev/null)" "$f: rule outcomes as recorded"
done
