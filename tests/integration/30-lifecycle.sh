#!/bin/bash
# The daemon's own life: SIGTERM stops every capture with Shutdown and
# exits 0; kill -9 mid-capture leaves a record that the next start turns
# into Stopped/Interrupted with a readable file; SIGHUP reloads limits and
# keeps the old configuration when the new one is broken; -t checks config.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl tshark capinfos


# -t: every error as file:line:col, non-zero exit.
cat > "$T_DIR/bad.json" <<'JSON'
{
  "captures": {"max_concurent": 4,
               "ring_bytes": 10},
  "listen": [{"port": "80"}]
}
JSON
out=$("$ALERTCAPD" -t -c "$T_DIR/bad.json" 2>&1)
ok "$([ $? -ne 0 ]; echo $?)" "-t fails on a bad config"
like "$out" "$T_DIR/bad.json:2:16: captures.max_concurent: unknown key" "-t names file:line:col and the key"
like "$out" "$T_DIR/bad.json:3:16: captures.ring_bytes: 10 is out of range" "-t reports every error (bounds)"
like "$out" "$T_DIR/bad.json:4:15: listen[0].port: must be an integer" "-t reports every error (type)"
echo '{"node": "ok-node"}' > "$T_DIR/good.json"
"$ALERTCAPD" -t -c "$T_DIR/good.json" >/dev/null 2>&1
ok $? "-t passes a good config"
out=$("$ALERTCAPD" -t -c "$T_DIR/missing.json" 2>&1)
like "$out" "$T_DIR/missing.json: No such file" "-t names a missing file"

# SIGTERM: Shutdown.
start_daemon life || exit 1
api PUT /v1/captures/s1 '{"target": {"interface": "lo"}}' >/dev/null
api PUT /v1/captures/s2 '{"target": {"interface": "lo"}, "filters": [{"protocol": "UDP"}]}' >/dev/null
curl -s "$URL/healthz" >/dev/null
stop_pid "$DPID"
is "$?" 0 "SIGTERM: exit status 0"
db=$DDIR/alertcap.db
is "$(sqlite3 "$db" "select count(*) from captures where status = 'Stopped' and json_extract(record, '$.stop_reason') = 'Shutdown'")" 2 "SIGTERM: both captures Stopped/Shutdown on record"
f=$(sqlite3 "$db" "select json_extract(record, '$.file') from captures where name = 's1'" | sed 's|^file://||')
capinfos "$f" >/dev/null 2>&1
ok $? "SIGTERM: the file is whole and final"

# A long list (more than 250 records) is sent a part at a time: every
# record once, in one JSON document, over HTTP/1.1 (chunked) and 1.0, and
# with a status filter. The records are s1's, copied under other names.
sqlite3 "$db" "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM k WHERE i < 1500)
    INSERT INTO captures (name, status, rule, record)
    SELECT 'many-' || i, status, rule, replace(record, '\"name\":\"s1\"', '\"name\":\"many-' || i || '\"')
    FROM captures, k WHERE name = 's1';"
want=$(sqlite3 "$db" "select count(*) from captures")
stopped=$(sqlite3 "$db" "select count(*) from captures where status = 'Stopped'")
launch_daemon life || exit 1
list=$(curl -s -D "$T_DIR/list.h" -H "Authorization: Bearer $TOKEN" "$URL/v1/captures")
is "$(jq '.captures | length' <<<"$list")" "$want" "a list of $want records sent in parts holds every one"
is "$(jq -r '.captures[].name' <<<"$list" | sort -u | wc -l)" "$want" "each once"
is "$(jq -r '.captures[] | select(.name == "many-700") | .packets' <<<"$list")" \
    "$(jq -r '.captures[] | select(.name == "s1") | .packets' <<<"$list")" "whole records, as they are on file"
like "$(tr -d '\r' < "$T_DIR/list.h")" "Transfer-Encoding: chunked" "sent chunked over HTTP/1.1"
is "$(curl -s --http1.0 -H "Authorization: Bearer $TOKEN" "$URL/v1/captures" | jq '.captures | length')" "$want" "and whole over HTTP/1.0"
is "$(api GET '/v1/captures?status=Stopped' | cut -d' ' -f2- | jq '.captures | length')" \
    "$stopped" "a long list filtered by status"
is "$(api GET '/v1/captures?status=Gone' | cut -d' ' -f1)" 400 "an unknown status is still refused"
stop_pid "$DPID"
sqlite3 "$db" "DELETE FROM captures WHERE name LIKE 'many-%'; VACUUM"

# kill -9 mid-capture: Interrupted, file repaired, readable.
launch_daemon life || exit 1
api PUT /v1/captures/k1 '{"target": {"interface": "lo"}, "bpf": "icmp"}' >/dev/null
send_ping 30 200
sleep 1.2	# at least one flush reached the file
kill -KILL "$DPID"
wait_pid "$DPID" 10
part=$(ls "$DDIR"/captures/k1_*.pcapng.part 2>/dev/null)
ok "$([ -n "$part" ]; echo $?)" "kill -9: the file is left under its temporary name"
# Cut the last block in half, as a crash mid-write could.
size=$(stat -c %s "$part")
truncate -s $((size - 100)) "$part"
is "$(sqlite3 "$db" "select status from captures where name = 'k1'")" Running "kill -9: the record still says Running"
launch_daemon life || exit 1
r=$(record k1)
is "$(field "$r" .status)" Stopped "restart: Stopped"
is "$(field "$r" .stop_reason)" Interrupted "restart: Interrupted"
f=$(field "$r" .file | sed 's|^file://||')
ok "$([ -f "$f" ] && [ ! -e "$part" ]; echo $?)" "restart: the file has its final name"
tshark -r "$f" >/dev/null 2>&1
ok $? "restart: tshark reads the repaired file"
is "$(pcap_count "$f")" "$(field "$r" .packets)" "restart: packets on record match the file"
ok "$([ "$(field "$r" .packets)" -ge 50 ]; echo $?)" "restart: the packets before the crash are kept ($(field "$r" .packets))"
is "$(field "$r" .sha256)" "$(sha256sum "$f" | cut -d' ' -f1)" "restart: sha256 of the repaired file"
like "$(field "$r" '.events[-1].message')" "found at restart" "restart: the event says why"

# SIGHUP: limits change live; a broken file keeps the old config.
cfg=$DDIR/alertcap.json
cp "$cfg" "$cfg.orig"
jq '.captures.max_concurrent = 1' "$cfg.orig" > "$cfg"
kill -HUP "$DPID"
sleep 0.3
is "$(api PUT /v1/captures/h1 '{"target": {"interface": "lo"}}' | cut -d' ' -f1)" 201 "reload: first capture fits"
is "$(api PUT /v1/captures/h2 '{"target": {"interface": "lo"}}' | cut -d' ' -f1)" 429 "reload: max_concurrent 1 is in force"
echo '{"captures": {"max_concurrent": "many"}}' > "$cfg"
kill -HUP "$DPID"
sleep 0.3
like "$(cat "$DDIR/daemon.log")" "reload failed; keeping the running configuration" "reload of a broken file is refused and logged"
is "$(api PUT /v1/captures/h2 '{"target": {"interface": "lo"}}' | cut -d' ' -f1)" 429 "reload: the old limits stay"
kill -0 "$DPID"
ok $? "the daemon still runs"

# The state store is held: another process can neither lock nor write it,
# and the daemon never waits for it.
start=$(date +%s%N)
out=$(timeout 10 sqlite3 "$db" "BEGIN EXCLUSIVE; DELETE FROM captures; COMMIT;" 2>&1)
like "$out" "locked" "another process cannot lock the state database"
is "$(api PUT /v1/captures/h3 '{"target": {"interface": "lo"}}' | cut -d' ' -f1)" 429 "the daemon answers on at once (still max_concurrent)"
ok "$([ $(( ($(date +%s%N) - start) / 1000000 )) -lt 1000 ]; echo $?)" "no 2 s waits on a lock"
is "$(api GET /v1/captures/k1 | cut -d' ' -f1)" 200 "and lost no record"

# -t runs every check start-up runs, not only the file's syntax.
cp "$cfg.orig" "$T_DIR/t.json"
jq --arg d "$T_DIR" '.storage = {"a": {"type": "http-put", "url": "http://127.0.0.1:1/x", "headers": [], "path": "x"}} | .auth = {"webhooks": {"grafana": {"hmac_secret_file": ($d + "/nope-secret")}}}' "$cfg.orig" > "$T_DIR/t.json"
out=$("$ALERTCAPD" -t -c "$T_DIR/t.json" 2>&1)
ok "$([ $? -ne 0 ]; echo $?)" "-t fails on a secret file that start-up cannot read"
like "$out" "auth.webhooks.grafana: $T_DIR/nope-secret: No such file" "-t names the option and the file"
jq --arg d "$T_DIR" '.mqtt = {"password_file": ($d + "/nope-pw")}' "$cfg.orig" > "$T_DIR/t.json"
like "$("$ALERTCAPD" -t -c "$T_DIR/t.json" 2>&1)" "mqtt.password_file: $T_DIR/nope-pw" "-t checks the MQTT credentials"
touch "$T_DIR/afile"
jq --arg d "$T_DIR" '.captures.root = ($d + "/afile/c")' "$cfg.orig" > "$T_DIR/t.json"
like "$("$ALERTCAPD" -t -c "$T_DIR/t.json" 2>&1)" "captures.root: $T_DIR/afile: not a directory" "-t checks captures.root"
jq --arg d "$T_DIR" '.auth = {"webhooks": {"grafana": {"hmac_secret_file": ($d + "/nope-secret")}}}' "$cfg.orig" > "$cfg"
kill -HUP "$DPID"
sleep 0.3
ok "$(kill -0 "$DPID"; echo $?)" "SIGHUP naming a secret file that is missing: the daemon lives on"
like "$(tail -3 "$DDIR/daemon.log")" "reload failed; keeping the running configuration: auth.webhooks.grafana" "and keeps the running configuration"
cp "$cfg.orig" "$cfg"
"$ALERTCAPD" -t -c "$cfg.orig" >/dev/null 2>&1
ok $? "-t passes the running daemon's own config (its held database is not an error)"

# A corrupt database: refused at start naming the file; with
# state.on_corrupt "move-aside", moved aside and started afresh.
stop_pid "$DPID"
size=$(stat -c %s "$db")
head -c 4096 /dev/urandom | dd of="$db" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
out=$(timeout 10 "$ALERTCAPD" -f -c "$cfg.orig" 2>&1)
ok "$([ $? -ne 0 ]; echo $?)" "a corrupt database: the daemon refuses to start"
like "$out" "state.path: $db: the database is corrupt" "and names the file"
like "$("$ALERTCAPD" -t -c "$cfg.orig" 2>&1)" "$db: the database is corrupt" "-t finds it too"
jq '.state.on_corrupt = "move-aside"' "$cfg.orig" > "$cfg"
launch_daemon life || exit 1
ok "$([ -f "$db.corrupt" ]; echo $?)" "move-aside: the corrupt file is kept as .corrupt"
like "$(cat "$DDIR/daemon.log")" "moved aside as $db.corrupt" "and the log says so"
is "$(api PUT /v1/captures/fresh '{"target": {"interface": "lo"}}' | cut -d' ' -f1)" 201 "and the daemon takes writes again"

# Started without what it needs, it refuses, saying what and how to fix it
# (as root only: the test takes the permissions away with setpriv).
if [ "$(id -u)" -eq 0 ] && [ -z "$T_REPLAY" ]; then
	chmod 755 "$T_DIR"
	mkdir -p "$T_DIR/priv" && chmod 777 "$T_DIR/priv"
	cat > "$T_DIR/priv/c.json" <<JSON
{"listen": [{"address": "127.0.0.1", "port": $(free_port)}],
 "captures": {"root": "$T_DIR/priv/c"}, "state": {"path": "$T_DIR/priv/db"}}
JSON
	out=$(timeout 10 setpriv --reuid=nobody --regid=nogroup --clear-groups \
	    "$ALERTCAPD" -f -c "$T_DIR/priv/c.json" 2>&1)
	ok "$([ $? -eq 1 ]; echo $?)" "without CAP_NET_RAW: alertcapd refuses to start"
	like "$out" "capture: cannot open a capture socket (Operation not permitted): alertcapd needs CAP_NET_RAW and CAP_NET_ADMIN" "and says what it needs"
	like "$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$ALERTCAPD" -t -c "$T_DIR/priv/c.json" 2>&1)" "cannot open a capture socket" "-t says so too"
	mkdir -p "$T_DIR/priv/ro" && chmod 755 "$T_DIR/priv/ro"
	jq --arg p "$T_DIR/priv/ro/sub/db" '.state.path = $p' "$T_DIR/priv/c.json" > "$T_DIR/priv/ro.json"
	caps=(--reuid=nobody --regid=nogroup --clear-groups
	    --inh-caps=+net_raw,+net_admin --ambient-caps=+net_raw,+net_admin)
	out=$(timeout 10 setpriv "${caps[@]}" "$ALERTCAPD" -t -c "$T_DIR/priv/ro.json" 2>&1)
	ok "$([ $? -eq 1 ]; echo $?)" "a state directory it cannot write: -t fails"
	like "$out" "state.path: $T_DIR/priv/ro/sub/db: cannot make it in $T_DIR/priv/ro (Permission denied): the daemon's user (uid 65534) must be able to write there" "naming the directory and the user"
	out=$(timeout 10 setpriv "${caps[@]}" "$ALERTCAPD" -f -c "$T_DIR/priv/ro.json" 2>&1)
	ok "$([ $? -eq 1 ]; echo $?)" "and the daemon refuses to start"
	like "$out" "state.path: $T_DIR/priv/ro/sub/db" "saying which"
fi
done_testing
