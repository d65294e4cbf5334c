#!/bin/bash
# A full disk, on a tmpfs the test mounts: the capture that hits it ends in
# Error with one LocalFileFailed and a file cut after its last whole
# packet (counted, hashed, readable); the daemon and other captures go on;
# a stop whose record cannot be stored yet is still answered 200, and the
# record reaches the store once there is room. DF_FS=ext4 (as root): on
# an ext4 image instead, where capture files are written with O_DIRECT.
#
# Without root the script runs in a user and mount namespace of its own,
# where it may mount the tmpfs, and lo is replayed.
DF_FS=${DF_FS:-tmpfs}
if [ "$DF_FS" = ext4 ] && [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP needs root to mount an ext4 image"
	exit 0
fi
if [ "$(id -u)" -ne 0 ] && [ -z "${T_USERNS:-}" ]; then
	if ! unshare --user --map-root-user --mount true 2>/dev/null; then
		echo "1..0 # SKIP needs root or unprivileged user namespaces"
		exit 0
	fi
	ALERTCAP_TEST_REPLAY=1 T_USERNS=1 exec unshare --user --map-root-user \
	    --mount bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"
need_capture
need_cmd jq curl capinfos tcpdump mount umount

mkdir -p "$T_DIR/df"
if [ "$DF_FS" = ext4 ]; then
	need_cmd mkfs.ext4 truncate
	truncate -s 8M "$T_DIR/df.img"
	{ mkfs.ext4 -q -m 0 "$T_DIR/df.img" &&
	    mount -o loop "$T_DIR/df.img" "$T_DIR/df"; } ||
	    skip_all "cannot mount an ext4 image"
else
	mount -t tmpfs -o size=3m tmpfs "$T_DIR/df" || skip_all "cannot mount a tmpfs"
fi
trap 't_cleanup; umount -l "$T_DIR/df" 2>/dev/null' EXIT
(umask 077; echo "$TOKEN" > "$T_DIR/df/api.token")
start_daemon df || exit 1

fill() { dd if=/dev/zero of="$T_DIR/df/filler$1" bs=4k 2>/dev/null; sync; }

api PUT /v1/captures/idle '{"target": {"interface": "lo"}, "bpf": "udp port 9"}' >/dev/null
api PUT /v1/captures/big '{"target": {"interface": "lo"}, "bpf": "icmp"}' >/dev/null
# Leave about 600 KiB free, then send more than that.
fill 0
rm -f "$T_DIR/df/filler0"
avail=$(( $(stat -f -c '%a * %S' "$T_DIR/df") ))
dd if=/dev/zero of="$T_DIR/df/filler1" bs=4k count=$(( (avail - 600 * 1024) / 4096 )) 2>/dev/null
send_ping 1200 1400 0.002
wait_status big Error 5
r=$(record big)
is "$(field "$r" .status)" Error "the capture that filled the disk ends in Error"
is "$(field "$r" '[.errors[] | select(.code == "LocalFileFailed")] | length')" 1 "with one LocalFileFailed"
like "$(field "$r" '.errors[0].message')" "No space left on device" "naming the cause"
f=$(field "$r" .file | sed 's|^file://||')
out=$(capinfos "$f" 2>&1)
ok "$(grep -qi 'cut short\|appears to be damaged' <<<"$out"; [ $? -ne 0 ]; echo $?)" "capinfos reads the file whole (no packet cut short)"
is "$(field "$r" .bytes)" "$(stat -c %s "$f")" "bytes on record are the file's size"
is "$(field "$r" .packets)" "$(pcap_count "$f")" "packets on record are the file's"
is "$(field "$r" .sha256)" "$(sha256sum "$f" | cut -d' ' -f1)" "sha256 on record is the file's"
is "$(api GET /healthz | cut -d' ' -f1)" 200 "the daemon goes on"
is "$(field "$(record idle)" .status)" Running "and so does the other capture"

# The state store on the full disk: a stop is done, so it is a 200.
fill 2
r=$(api POST /v1/captures/idle/stop)
is "$(cut -d' ' -f1 <<<"$r")" 200 "stop while the store cannot write: 200, not 503"
is "$(field "${r#* }" .status)" Stopped "and the capture is stopped"
rm -f "$T_DIR/df"/filler*
sleep 1.5	# the tick writes what waited
stop_pid "$DPID"
db=$DDIR/alertcap.db
is "$(sqlite3 "$db" "select status from captures where name = 'idle'")" Stopped "once there is room the record reaches the store"
is "$(sqlite3 "$db" "select json_extract(record, '$.stop_reason') from captures where name = 'idle'")" ManualStop "with its stop reason"
launch_daemon df || exit 1
is "$(field "$(record idle)" .stop_reason)" ManualStop "after a restart the record says ManualStop, not Interrupted"
done_testing
