#!/bin/bash
# The Debian package as an operator meets it: installed with apt into a
# fresh Debian 12 chroot (debootstrap), it creates the system user
# alertcap, keeps the configuration and rules as conffiles, enables the
# unit without starting it (no systemd runs in a chroot), and its daemon,
# started as alertcap with only CAP_NET_RAW and CAP_NET_ADMIN (setpriv, as
# the unit's AmbientCapabilities would), captures on lo for the CLI.
#
#	tests/package/chroot-install.sh alertcap_VERSION_ARCH.deb
#
# Needs root, debootstrap and a Debian mirror (DEBIAN_MIRROR, default
# deb.debian.org). Prints TAP; contrib/dev.sh package --test counts it.
deb=$(realpath "${1:?usage: chroot-install.sh PACKAGE.deb}")
builddir=${builddir:-$(dirname "$0")}
. "$(dirname "$0")/../integration/lib.sh"
[ "$(id -u)" -eq 0 ] || skip_all "a chroot needs root"
need_cmd debootstrap capinfos curl jq dpkg-deb ping
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
ROOT=$T_DIR/root

# unmounts: the chroot's virtual file systems, before anything is removed.
unmounts() {
	local m
	for m in "$ROOT/sys" "$ROOT/proc"; do
		mountpoint -q "$m" && umount -l "$m"
	done
	# Nothing below the chroot is mounted any more: safe to remove.
	if ! grep -q " $ROOT/" /proc/mounts; then rm -rf "$ROOT"; fi
}
T_AT_EXIT+=(unmounts)
in_root() { chroot "$ROOT" "$@"; }

timeout -k 10 900 debootstrap --variant=minbase bookworm "$ROOT" "$MIRROR" \
    >"$T_DIR/debootstrap.log" 2>&1
ok $? "debootstrap: a fresh Debian 12" || { tail -20 "$T_DIR/debootstrap.log" | sed 's/^/# /'; exit 1; }
mount -t proc proc "$ROOT/proc"
mount -t sysfs sys "$ROOT/sys"
cp "$deb" "$ROOT/tmp/"
# init-system-helpers stands for what every Debian system has: it is how
# a package enables its unit.
timeout -k 10 600 chroot "$ROOT" env DEBIAN_FRONTEND=noninteractive sh -c \
    "apt-get update -qq && apt-get install -y -qq --no-install-recommends \
    init-system-helpers /tmp/${deb##*/}" >"$T_DIR/apt.log" 2>&1
ok $? "apt-get installs the package and what it depends on" || {
	tail -20 "$T_DIR/apt.log" | sed 's/^/# /'
	exit 1
}

# What the package did.
u=$(in_root getent passwd alertcap)
like "$u" "alertcap:x:" "the system user alertcap exists ($u)"
uid=$(cut -d: -f3 <<<"$u")
ok "$([ -n "$uid" ] && [ "$uid" -lt 1000 ] && [ "$uid" -gt 0 ]; echo $?)" "a system uid ($uid)"
is "$(in_root stat -c '%U %a' /var/lib/alertcap)" "alertcap 750" "/var/lib/alertcap is alertcap's, 0750"
conf=$(in_root dpkg-query -W -f='${Conffiles}' alertcap)
like "$conf" "/etc/alertcap/alertcap.json" "the configuration is a conffile"
like "$conf" "/etc/alertcap/rules.d/tcp-retransmits.json" "and so are the shipped rules"
ok "$([ -L "$ROOT/etc/systemd/system/multi-user.target.wants/alertcapd.service" ]; echo $?)" "the unit is enabled"
# in_chroot: the PIDs of alertcapd processes whose root is the chroot.
in_chroot() {
	local p
	for p in $(pgrep -x alertcapd); do
		[ "$(readlink "/proc/$p/root")" = "$ROOT" ] && echo "$p"
	done
}
is "$(in_chroot)" "" "and not started in a chroot"
like "$(cat "$ROOT/lib/systemd/system/alertcapd.service")" "User=alertcap" "the unit runs it as alertcap"
like "$(in_root /usr/sbin/alertcapd -t -c /etc/alertcap/alertcap.json 2>&1)" "configuration ok; 6 rules in /etc/alertcap/rules.d" "alertcapd -t accepts the installed configuration and rules"
deps=$(dpkg-deb -f "$deb" Depends)
like "$deps" "libcurl4" "Depends names libcurl ($deps)"
is "$(in_root stat -c '%a' /usr/libexec/alertcap/alertcap-http)" 755 "the HTTP helper is installed in /usr/libexec/alertcap"
ok "$(in_root ldd /usr/sbin/alertcapd | grep -q libcurl; [ $? -eq 1 ]; echo $?)" "the daemon does not link libcurl"
ok "$(in_root ldd /usr/libexec/alertcap/alertcap-http | grep -q libcurl; echo $?)" "its helper does"

# Run it as alertcap with the two capabilities only, on a free port.
PORT=$(free_port)
jq ".listen[0].port = $PORT" "$ROOT/etc/alertcap/alertcap.json" > "$T_DIR/conf" &&
    cat "$T_DIR/conf" > "$ROOT/etc/alertcap/alertcap.json"
caps=(--reuid=alertcap --regid=alertcap --init-groups
    --inh-caps=-all,+net_raw,+net_admin --ambient-caps=-all,+net_raw,+net_admin
    --bounding-set=-all,+net_raw,+net_admin)
chroot "$ROOT" setpriv "${caps[@]}" /usr/sbin/alertcapd -f -c /etc/alertcap/alertcap.json \
    >"$T_DIR/daemon.log" 2>&1 &
DPID=$!
T_PIDS+=("$DPID")
wait_http "http://127.0.0.1:$PORT/healthz"
ok $? "alertcapd answers as the alertcap user" || sed 's/^/# /' "$T_DIR/daemon.log"
st=$(cat "/proc/$DPID/status" 2>/dev/null)
ok "$([ -n "$uid" ] && [ "$(awk '/^Uid:/ {print $2}' <<<"$st")" = "$uid" ]; echo $?)" "it runs as alertcap"
is "$(awk '/^CapEff:/ {print $2}' <<<"$st")" 0000000000003000 "with CAP_NET_RAW and CAP_NET_ADMIN only"
is "$(in_root stat -c '%U %a' /var/lib/alertcap/api.token)" "alertcap 600" "its token is its own, 0600"
# The CLI as alertcap, finding the daemon's token by itself.
cli() { in_root env -u ALERTCAP_TOKEN setpriv --reuid=alertcap \
    --regid=alertcap --init-groups /usr/bin/alertcap --json \
    -u "http://127.0.0.1:$PORT" "$@"; }
out=$(cli start pkg --interface lo --time-limit 3 2>&1)
ok $? "alertcap start, as alertcap with the token it finds" || echo "# $out"
ping -q -c 20 -i 0.05 127.0.0.1 >/dev/null 2>&1
for _ in $(seq 100); do
	[ "$(cli show pkg 2>/dev/null | jq -r .status 2>/dev/null)" = Stopped ] && break
	sleep 0.1
done
rec=$(cli show pkg 2>/dev/null)
is "$(jq -r .status <<<"$rec")" Stopped "the capture stops at its time limit"
f=$ROOT$(jq -r .file <<<"$rec" | sed 's|^file://||')
is "$(in_root stat -c '%U' "${f#"$ROOT"}" 2>/dev/null)" alertcap "its file is alertcap's (${f#"$ROOT"})"
n=$(capinfos -M -c -T -r "$f" 2>/dev/null | cut -f2)
ok "$([ "${n:-0}" -ge 40 ]; echo $?)" "and holds the pings ($n packets)"
ok "$([ -n "$n" ] && [ "$n" = "$(jq -r .packets <<<"$rec")" ]; echo $?)" "as many as the record says"
# The installed HTTP helper, started by the installed daemon as alertcap:
# a notify endpoint nobody listens on is asked through it, and the reason
# is libcurl's.
NPORT=$(free_port)
jq --argjson p "$NPORT" '. + {"notify": {"hook": {"type": "webhook", "url": "http://127.0.0.1:\($p)/hook"}}}' \
    "$ROOT/etc/alertcap/alertcap.json" > "$ROOT/tmp/online.json"
out=$(chroot "$ROOT" setpriv "${caps[@]}" /usr/sbin/alertcapd -t --online -c /tmp/online.json 2>&1)
like "$out" "FAIL notify.hook: Couldn't connect to server" "alertcapd -t --online asks through the installed helper, as alertcap"
done_testing
