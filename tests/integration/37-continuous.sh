#!/bin/bash
# Continuous capture: a ring of files under traffic. It rotates, keeps at
# most file_count complete files, each within file_size_bytes, complete
# (its own section header and statistics block) and hashed as recorded;
# the record lists every file, deleted ones marked; each closed file goes
# to Azurite and s3rver while the capture runs, byte for byte; a pending
# upload holds its file past file_count; GET ?seq=N and alertcap download
# --seq / --all fetch them; a kill -9 leaves every file readable and
# listed; bad values are 400 naming the field, and file:line:col in rules.
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd node curl jq tshark capinfos
. "$(dirname "$0")/storage.sh"
have_storage_servers ||
    skip_all "npm packages missing: (cd tests/storage && npm install)"
ISB="python3 $srcdir/tests/tools/pcapng-isb.py"

start_azurite
start_s3rver
wait_ports "$AZ_PORT" "$S3_PORT"
printf '%s' "$KEY" > "$T_DIR/azkey"
printf 'S3RVER' > "$T_DIR/s3secret"
DEAD=$(free_port)	# nothing listens there: uploads stay pending
start_daemon ring "" "\"storage\": {
  \"archive\": {\"type\": \"azure-blob\", \"endpoint\": \"http://127.0.0.1:$AZ_PORT/$ACCT\", \"account\": \"$ACCT\",
              \"container\": \"captures\", \"key_file\": \"$T_DIR/azkey\"},
  \"s3\": {\"type\": \"s3\", \"endpoint\": \"http://127.0.0.1:$S3_PORT\", \"bucket\": \"captures\", \"region\": \"us-east-1\",
          \"access_key_id\": \"S3RVER\", \"secret_access_key_file\": \"$T_DIR/s3secret\", \"path_style\": true},
  \"dead\": {\"type\": \"http-put\", \"url\": \"http://127.0.0.1:$DEAD/{name}\"}}" || exit 1

# Bad values: 400 naming the field.
bad() { refused "{\"target\": {\"interface\": \"lo\"}, $1}" "$2" "$3"; }	# bad JSON-MEMBERS WANT WHAT
bad '"continuous": {"file_count": 0}' "continuous.file_count: 0 is out of range 1..10000" "file_count 0"
bad '"continuous": {"file_count": 10001}' "continuous.file_count: 10001 is out of range" "file_count 10001"
bad '"continuous": {"file_size_bytes": 4294967297}' "continuous.file_size_bytes: 4294967297 is out of range 1024..4294967296" "file_size_bytes over 4 GiB"
bad '"continuous": {"files": 3}' "continuous.files: unknown" "an unknown key"
bad '"continuous": 10' "continuous: must be an object" "not an object"
bad '"continuous": {"file_count": 2}, "time_limit_s": 604801' "time_limit_s: 604801 is out of range 1..604800" "past continuous_time_limit_s"
bad '"time_limit_s": 86400' "time_limit_s: 86400 is out of range 1..18000" "a day without continuous"
mkdir -p "$T_DIR/rules"
printf '[{"name": "r", "match": {"alert": "X"},\n  "capture": {"name": "x", "target": {"interface": "eth0"},\n    "continuous": {"file_count": 0}}}]\n' > "$T_DIR/rules/r.json"
like "$("$ALERTCAP" rules check "$T_DIR/rules" 2>&1)" "r.json:3:20: [0].capture.continuous.file_count: 0 is out of range" "a rule's bad file_count at file:line:col"

# A ring of 3 files of 8 KiB under traffic, uploaded as it goes.
r=$(api PUT /v1/captures/cc '{"target": {"interface": "lo"}, "bpf": "icmp", "time_limit_s": 86400,
    "continuous": {"file_count": 3, "file_size_bytes": 8192},
    "storage": {"file": true, "accounts": ["archive", "s3"]}}')
is "$(cut -d' ' -f1 <<<"$r")" 201 "a continuous capture of a day starts"
is "$(field "${r#* }" .continuous.file_count)" 3 "the record holds its continuous parameters"
send_ping 120 400 0.005
sleep 0.5
running=$(record cc)
is "$(field "$running" .status)" Running "it runs"
ok "$([ "$(field "$running" '.files | length')" -ge 6 ]; echo $?)" "it rotated ($(field "$running" '.files | length') files so far)"
# A complete file can be fetched while the capture runs.
seq=$(field "$running" '[.files[] | select(.state == "Complete")][0].seq')
code=$(acurl -s -o "$T_DIR/one" -D "$T_DIR/h" -w '%{http_code}' "$URL/v1/captures/cc/file?seq=$seq")
is "$code" 200 "GET ?seq=$seq while running: 200"
like "$(cat "$T_DIR/h")" "filename=\"cc_$(printf %06d "$seq").pcapng\"" "and names the file by its number"
is "$(sha256sum < "$T_DIR/one" | cut -d' ' -f1)" "$(field "$running" ".files[] | select(.seq == $seq) | .sha256")" "that file is the one recorded"
is "$(api GET /v1/captures/cc/file | cut -d' ' -f1)" 400 "GET without ?seq: 400"
is "$(api GET '/v1/captures/cc/file?seq=x' | cut -d' ' -f1)" 400 "GET ?seq=x: 400"
api POST /v1/captures/cc/stop >/dev/null
wait_status cc Stopped 10
for _ in $(seq 100); do
	[ "$(field "$(record cc)" '[.files[] | select(.state == "Complete") | .uploads[] | select(.state != "Uploaded")] | length')" = 0 ] && break
	sleep 0.1
done
rec=$(record cc)
n=$(field "$rec" '.files | length')
is "$(field "$rec" '[.files[].seq] | map(tostring) | join(",")')" "$(seq -s, 1 "$n")" "files are numbered 1..$n"
is "$(field "$rec" '[.files[] | select(.state == "Complete")] | length')" 3 "file_count: three complete files kept"
is "$(field "$rec" '[.files[] | select(.state == "Deleted")] | length')" "$((n - 3))" "the older ones are listed, marked deleted"
like "$(field "$rec" '[.files[] | select(.state == "Deleted")][0].deleted_reason')" "continuous.file_count" "and say why"
is "$(ls "$DDIR"/captures/cc_*.pcapng | wc -l)" 3 "three files are on the disk"
ok "$(ls "$DDIR"/captures/cc_*_0000[0-9][0-9].pcapng >/dev/null; echo $?)" "named NAME_CREATED_SEQ, six digits"
is "$(field "$rec" '[.files[].packets] | add')" "$(field "$rec" .packets)" "the files' packets add up to the record's"
good=0 total=0 upl=0
for row in $(field "$rec" '.files[] | select(.state == "Complete") | "\(.seq),\(.path),\(.sha256),\(.bytes),\(.packets)"'); do
	IFS=, read -r s path sha bytes packets <<<"$row"
	f=$DDIR/captures/$path
	total=$((total + 1))
	size=$(stat -c %s "$f")
	[ "$size" -le 8192 ] && [ "$size" = "$bytes" ] &&
	    [ "$(sha256sum "$f" | cut -d' ' -f1)" = "$sha" ] &&
	    [ "$(pcap_count "$f")" = "$packets" ] &&
	    tshark -r "$f" >/dev/null 2>&1 &&
	    [ "$($ISB "$f" | wc -l)" = 1 ] && good=$((good + 1))
	a=$(field "$rec" ".files[] | select(.seq == $s) | .uploads[] | select(.account == \"archive\") | .uri")
	o=$(field "$rec" ".files[] | select(.seq == $s) | .uploads[] | select(.account == \"s3\") | .uri")
	[ "$(az_get "$a" | sha256sum | cut -d' ' -f1)" = "$sha" ] &&
	    [ "$(curl -s "$o" | sha256sum | cut -d' ' -f1)" = "$sha" ] && upl=$((upl + 1))
done
is "$good" "$total" "each kept file: within 8192 bytes, sha256 and packets as recorded, complete with its statistics block"
is "$upl" "$total" "each kept file is in Azurite and s3rver, byte for byte"
first=$(field "$rec" '.files[0].uploads[] | select(.account == "archive") | .state')
is "$first" Uploaded "a file deleted by the ring was uploaded before it went"
like "$(field "$rec" '.files[0].uploads[0].uri')" "_000001.pcapng" "each object is named after its file"
mkdir -p "$T_DIR/all"
(cd "$DDIR" && "$ALERTCAP" -u "$URL" download cc --all -o "$T_DIR/all" >/dev/null)
ok $? "alertcap download --all"
is "$(ls "$T_DIR/all" | wc -l)" 3 "--all: every kept file"
ok "$(cd "$T_DIR/all" && for f in *; do cmp -s "$f" "$DDIR/captures/$f" || exit 1; done; echo $?)" "--all: byte for byte"
(cd "$DDIR" && "$ALERTCAP" -u "$URL" download cc --seq "$n" >/dev/null)
last=$DDIR/cc_$(printf %06d "$n").pcapng
ok "$([ -s "$last" ] && cmp -s "$last" "$DDIR/captures/$(field "$rec" ".files[] | select(.seq == $n) | .path")"; echo $?)" "alertcap download --seq N writes NAME_SEQ.pcapng, the file itself"

# A pending upload holds its file past file_count.
api PUT /v1/captures/held '{"target": {"interface": "lo"}, "bpf": "icmp",
    "continuous": {"file_count": 2, "file_size_bytes": 8192}, "storage": {"file": true, "accounts": ["dead"]}}' >/dev/null
send_ping 60 400 0.005
sleep 0.5
api POST /v1/captures/held/stop >/dev/null
wait_status held Stopped 10
rh=$(record held)
nh=$(field "$rh" '[.files[] | select(.state == "Complete")] | length')
ok "$([ "$nh" -gt 2 ]; echo $?)" "every file waiting for its upload is kept ($nh > file_count 2)"
is "$(field "$rh" '[.files[] | select(.state == "Deleted")] | length')" 0 "none is deleted"
is "$(field "$rh" .files_held)" "$((nh - 2))" "the record counts them as held"
like "$(acurl -s "$URL/metrics")" "alertcap_continuous_files_held $((nh - 2))" "/metrics too"
is "$(ls "$DDIR"/captures/held_*.pcapng | wc -l)" "$nh" "they are on the disk"

# DELETE: a ring's files stay counted; with ?file=true they go.
kept=$(curl -s "$URL/healthz" | jq .disk.kept_bytes)
ringbytes=$(field "$(record cc)" '[.files[] | select(.state == "Complete") | .bytes] | add')
is "$(api DELETE /v1/captures/cc | cut -d' ' -f1)" 204 "DELETE a finished ring: 204"
is "$(curl -s "$URL/healthz" | jq .disk.kept_bytes)" "$kept" "its files still count against the budget"
is "$(ls "$DDIR"/captures/cc_*.pcapng | wc -l)" 3 "and stay on the disk"
is "$(api DELETE '/v1/captures/held?file=true' | cut -d' ' -f1)" 204 "DELETE ?file=true of a ring: 204"
for _ in $(seq 20); do ls "$DDIR"/captures/held_*.pcapng >/dev/null 2>&1 || break; sleep 0.1; done
ok "$(ls "$DDIR"/captures/held_*.pcapng >/dev/null 2>&1; [ $? -ne 0 ]; echo $?)" "every file of the ring is gone"
is "$(curl -s "$URL/healthz" | jq .disk.kept_bytes)" "$ringbytes" "what is counted is the forgotten ring's files"

# kill -9 mid-ring: every file readable and listed after the restart.
api PUT /v1/captures/k9 '{"target": {"interface": "lo"}, "bpf": "icmp",
    "continuous": {"file_count": 50, "file_size_bytes": 8192}}' >/dev/null
send_ping 40 400 0.005
sleep 1.2	# the last file's buffer reached the disk
kill -KILL "$DPID"
wait_pid "$DPID" 10
launch_daemon ring || exit 1
rk=$(record k9)
is "$(field "$rk" .stop_reason)" Interrupted "kill -9: Interrupted"
is "$(field "$rk" '[.files[] | select(.state != "Complete")] | length')" 0 "every file listed is complete"
bad=0
for p in $(field "$rk" '.files[].path'); do
	tshark -r "$DDIR/captures/$p" >/dev/null 2>&1 || bad=$((bad + 1))
done
is "$bad" 0 "and tshark reads each of the $(field "$rk" '.files | length')"
is "$(field "$rk" '[.files[].packets] | add')" "$(field "$rk" .packets)" "their packets add up to the record's"
done_testing
