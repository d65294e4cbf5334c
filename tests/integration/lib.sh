# Shared helpers of the integration tests: TAP output, a daemon on a free
# loopback port in a temporary directory, network namespaces joined by a
# veth pair, and clean-up of all of it. Source it, test, and end with
# done_testing: the plan is the count of tests that ran, printed last.

set -u
: "${builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${srcdir:=$builddir}"
ALERTCAPD=$builddir/alertcapd
ALERTCAP=$builddir/alertcap
PKTGEN=$builddir/tests/tools/pktgen

T_N=0
T_FAILED=0
T_DIR=$(mktemp -d "${TMPDIR:-/tmp}/alertcap-test.XXXXXX")
T_PIDS=()
T_NETNS=()
T_AT_EXIT=()	# functions the clean-up calls, after the processes end
# Every daemon a test starts finds this token in its default token file
# (api.token beside state.path); the CLI and acurl send it.
TOKEN=test-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
export ALERTCAP_TOKEN=$TOKEN
# No curl the tests run waits without a deadline.
export CURL_HOME=$T_DIR
printf 'max-time = 120\nconnect-timeout = 10\n' > "$T_DIR/.curlrc"

# t_readable FILE: capinfos, editcap, tshark and tcpdump all read it
# (tcpdump not in a user namespace: it cannot drop privileges there).
t_readable() {
	capinfos "$1" >/dev/null 2>&1 &&
	    editcap "$1" "$T_DIR/.edited" >/dev/null 2>&1 &&
	    tshark -r "$1" >/dev/null 2>&1 || return 1
	grep -q '^ *0 *0 *4294967295' /proc/self/uid_map || return 0
	tcpdump -nn -r "$1" >/dev/null 2>&1
}

# files_read: every capture file the test's daemons left, in either format
# and the lookback segments too, opens in every reader.
files_read() {
	local f n=0 bad=()
	while IFS= read -r -d '' f; do
		n=$((n + 1))
		t_readable "$f" || bad+=("${f#"$T_DIR"/}")
	done < <(find "$T_DIR" -path '*/captures/*' -type f \( -name '*.pcapng' \
	    -o -name '*.pcap' \) -print0 2>/dev/null)
	[ "$n" -gt 0 ] || return 0
	is "${bad[*]}" "" "every capture file left ($n) opens in capinfos, editcap, tshark and tcpdump"
}

t_cleanup() {
	local rc=$? pid ns reports fn
	for pid in "${T_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${T_PIDS[@]}"; do
		wait_pid "$pid" 5
	done
	for fn in "${T_AT_EXIT[@]}"; do
		"$fn"
	done
	for ns in "${T_NETNS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	if [ "$T_SKIPPED" -eq 0 ]; then
		# A script that stops short fails, though every test so far passed.
		[ "$T_DONE" -eq 1 ] || ok 1 "the script ran to its end (it exited $rc)"
		files_read
		reports=$(cat "$T_DIR"/*/daemon.log "$T_DIR"/*/log 2>/dev/null |
		    grep -E 'AddressSanitizer|LeakSanitizer|runtime error:' | head -5)
		is "$reports" "" "daemon logs hold no sanitizer report"
		echo "1..$T_N"
	fi
	if [ "$T_FAILED" -eq 0 ] && [ -z "${KEEP:-}" ]; then
		rm -rf "$T_DIR"
	else
		echo "# kept $T_DIR"
	fi
}
trap t_cleanup EXIT

# wait_pid PID [SECONDS]: waits for a child of this shell to exit, at most
# SECONDS (default 10), then SIGKILLs it; returns its exit status. No test
# waits on a process without a deadline.
wait_pid() {
	local pid=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		proc_running "$pid" || break
		sleep 0.05
	done
	if proc_running "$pid"; then
		echo "# pid $pid still running after ${secs}s: SIGKILL"
		kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
}

# proc_running PID: alive and not yet a zombie.
proc_running() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}

# stop_pid PID [SIGNAL]: SIGTERM (or SIGNAL), at most 5 s, then SIGKILL.
stop_pid() {
	kill -"${2:-TERM}" "$1" 2>/dev/null
	wait_pid "$1" 5
}

T_DONE=0
T_SKIPPED=0
# The last line of every script.
done_testing() { T_DONE=1; }
skip_all() { T_SKIPPED=1; echo "1..0 # SKIP $*"; exit 0; }

# ok COND-EXIT-STATUS DESCRIPTION: "ok N - desc" or "not ok N - desc".
ok() {
	local rc=$1; shift
	T_N=$((T_N + 1))
	if [ "$rc" -eq 0 ]; then
		echo "ok $T_N - $*"
	else
		echo "not ok $T_N - $*"
		T_FAILED=$((T_FAILED + 1))
	fi
}

# is GOT WANT DESCRIPTION
is() {
	local got=$1 want=$2; shift 2
	if [ "$got" = "$want" ]; then
		ok 0 "$*"
	else
		ok 1 "$*"
		echo "#   got:  '$got'"
		echo "#   want: '$want'"
	fi
}

# like GOT SUBSTRING DESCRIPTION
like() {
	local got=$1 want=$2; shift 2
	case "$got" in
	*"$want"*) ok 0 "$*" ;;
	*) ok 1 "$*"; echo "#   got:  '$got'"; echo "#   want: *'$want'*" ;;
	esac
}

need_root() {
	[ "$(id -u)" -eq 0 ] || skip_all "needs root (network namespaces)"
}

# need_capture: the script captures on "lo". As root that is the real lo;
# otherwise, or with ALERTCAP_TEST_REPLAY=1, every daemon replays lo from
# $T_DIR/replay/NAME (captures.replay) and send_ping drops there the packets
# ping would have put on lo. No root needed.
T_REPLAY=
need_capture() {
	if [ "$(id -u)" -ne 0 ] || [ -n "${ALERTCAP_TEST_REPLAY:-}" ]; then
		T_REPLAY=$T_DIR/replay
		mkdir -p "$T_REPLAY"
	fi
}

# send_ping COUNT [SIZE] [INTERVAL]: COUNT echo requests and replies on lo.
T_PINGS=0
send_ping() {
	local count=$1 size=${2:-56} interval=${3:-0.01}
	if [ -z "$T_REPLAY" ]; then
		ping -q -c "$count" -i "$interval" -s "$size" 127.0.0.1 \
		    >/dev/null 2>&1
		return
	fi
	# Every daemon replays its own copy, as each sees all of lo.
	local d f=$T_REPLAY/ping$((++T_PINGS))
	"$PKTGEN" --ping "$f" "$count" "$size" || return
	for d in "$T_REPLAY"/*/; do
		cp "$f" "$d/.ping$T_PINGS" && mv "$d/.ping$T_PINGS" "$d/ping$T_PINGS.pcap"
	done
	rm -f "$f"
}

need_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip_all "needs $c"
	done
}

# A free TCP port on loopback.
free_port() {
	local p
	while :; do
		p=$((20000 + RANDOM % 12000))	# below the ephemeral range
		if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return
		fi
	done
}

# broker_conf: a mosquitto configuration on a free port (BPORT) in
# $T_DIR/broker/m.conf, persistent; start_broker (re)starts it (BPID).
broker_conf() {
	BPORT=$(free_port)
	mkdir -p "$T_DIR/broker"
	chmod 755 "$T_DIR"
	chmod 777 "$T_DIR/broker"
	cat > "$T_DIR/broker/m.conf" <<CONF
listener $BPORT 127.0.0.1
allow_anonymous true
persistence true
persistence_location $T_DIR/broker/
set_tcp_nodelay true
max_queued_messages 10000
CONF
}
start_broker() {
	mosquitto -c "$T_DIR/broker/m.conf" >>"$T_DIR/broker/log" 2>&1 &
	BPID=$!
	T_PIDS+=("$BPID")
	for _ in $(seq 50); do
		mosquitto_pub -p "$BPORT" -t ping -m x 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start_daemon NAME [NETNS] [EXTRA-JSON-MEMBERS]: writes a config in
# $T_DIR/NAME, starts alertcapd there, waits for /healthz. Sets URL, DPID.
start_daemon() {
	local name=$1 ns=${2:-} extra=${3:-}
	local dir=$T_DIR/$name replay=
	mkdir -p "$dir"
	if [ -n "$T_REPLAY" ]; then
		mkdir -p "$T_REPLAY/$name"
		replay=", \"replay\": {\"lo\": {\"dir\": \"$T_REPLAY/$name\"}}"
	fi
	(umask 077; echo "$TOKEN" > "$dir/api.token")
	PORT=$(free_port)
	cat > "$dir/alertcap.json" <<JSON
{
  "node": "$name",
  "listen": [{"address": "127.0.0.1", "port": $PORT}],
  "captures": {"root": "$dir/captures", "ring_bytes": 8388608$replay${CAPTURES_EXTRA:-}},
  "state": {"path": "$dir/alertcap.db"}${DAEMON_EXTRA:-}${extra:+,
  $extra}
}
JSON
	launch_daemon "$name" "$ns"
}

# launch_daemon NAME [NETNS]: (re)starts the daemon of an existing dir.
launch_daemon() {
	local name=$1 ns=${2:-}
	local dir=$T_DIR/$name
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$ALERTCAPD" -f -c "$dir/alertcap.json" \
		    >>"$dir/daemon.log" 2>&1 &
	else
		# DAEMON_WRAP: a command to run the daemon under (strace).
		(cd "$dir" && exec ${DAEMON_WRAP:-} "$ALERTCAPD" -f -c \
		    "$dir/alertcap.json") >>"$dir/daemon.log" 2>&1 &
	fi
	DPID=$!
	T_PIDS+=("$DPID")
	URL=http://127.0.0.1:$PORT
	DDIR=$dir
	wait_http "$URL/healthz" "$ns" || {
		echo "# daemon $name did not start:"
		sed 's/^/#   /' "$dir/daemon.log"
		return 1
	}
	# Under a wrapper that forks (strace), which leaves it running when
	# killed; one that execs it (taskset) has no child.
	local child
	if [ -n "${DAEMON_WRAP:-}" ] && [ -z "$ns" ] &&
	    child=$(pgrep -P "$DPID" -x alertcapd); then
		T_PIDS+=("$child")
	fi
	return 0
}

# in_ns NS CMD...: runs CMD in NS, or here when NS is empty.
in_ns() {
	local ns=$1; shift
	if [ -n "$ns" ]; then ip netns exec "$ns" "$@"; else "$@"; fi
}

wait_http() {
	local url=$1 ns=${2:-}
	for _ in $(seq 100); do
		in_ns "$ns" curl -fs -o /dev/null "$url" && return 0
		sleep 0.05
	done
	return 1
}

# acurl ARGS...: curl with the test's API token.
acurl() { curl -H "Authorization: Bearer $TOKEN" "$@"; }

# api METHOD PATH [BODY]: prints "STATUS BODY"; NS from $API_NS.
api() {
	local method=$1 path=$2 body=${3:-}
	local args=(-s -o "$T_DIR/body" -w '%{http_code}' -X "$method")
	[ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
	[ -n "${TOKEN:-}" ] && args+=(-H "Authorization: Bearer $TOKEN")
	local code
	code=$(in_ns "${API_NS:-}" curl "${args[@]}" "$URL$path")
	echo "$code $(cat "$T_DIR/body")"
}

# refused BODY WANT WHAT: PUT /v1/captures/bad BODY is a 400 whose answer
# holds WANT (the field at fault and why).
refused() {
	local r
	r=$(api PUT /v1/captures/bad "$1")
	is "$(cut -d' ' -f1 <<<"$r")" 400 "$3: 400"
	like "$r" "$2" "$3: names the field"
}

# field JSON-TEXT JQ-FILTER
field() { jq -r "$2" <<<"$1" 2>/dev/null; }

# wait_status NAME STATUS [SECONDS]: polls until the capture has STATUS.
wait_status() {
	local name=$1 want=$2 secs=${3:-10} got
	for _ in $(seq $((secs * 20))); do
		got=$(api GET "/v1/captures/$name" | cut -d' ' -f2- | jq -r .status 2>/dev/null)
		[ "$got" = "$want" ] && return 0
		sleep 0.05
	done
	echo "# $name: status '$got', wanted '$want'"
	return 1
}

# record NAME: the capture's JSON record.
record() { api GET "/v1/captures/$1" | cut -d' ' -f2-; }

# local_file NAME: the path of a finished capture's file.
local_file() { record "$1" | jq -r .file | sed 's|^file://||'; }

# pcap_count FILE [EXPR]: packets in FILE (matching EXPR).
pcap_count() {
	local f=$1; shift
	# Unfiltered, capinfos counts: tcpdump cannot drop privileges as root
	# in a user namespace (35-disk-full without root).
	if [ $# -eq 0 ]; then
		capinfos -M -c -r -T "$f" 2>/dev/null | cut -f2
		return
	fi
	tcpdump -nn -r "$f" "$@" 2>/dev/null | wc -l
}

# make_netns: two namespaces ($NS_A local, $NS_B remote) joined by veth
# ($IF_A 10.77.0.1/24 fd77::1/64, $IF_B 10.77.0.2/24 fd77::2/64).
make_netns() {
	local id=$$
	NS_A=ac-a-$id
	NS_B=ac-b-$id
	IF_A=veth-a
	IF_B=veth-b
	ip netns add "$NS_A" || return 1
	T_NETNS+=("$NS_A")
	ip netns add "$NS_B" || return 1
	T_NETNS+=("$NS_B")
	ip link add "$IF_A" netns "$NS_A" type veth peer name "$IF_B" netns "$NS_B" || return 1
	ip -n "$NS_A" addr add 10.77.0.1/24 dev "$IF_A"
	ip -n "$NS_B" addr add 10.77.0.2/24 dev "$IF_B"
	ip -n "$NS_A" addr add 10.77.0.9/24 dev "$IF_A"
	ip -n "$NS_A" -6 addr add fd77::1/64 dev "$IF_A" nodad
	ip -n "$NS_B" -6 addr add fd77::2/64 dev "$IF_B" nodad
	ip -n "$NS_A" link set lo up
	ip -n "$NS_B" link set lo up
	ip -n "$NS_A" link set "$IF_A" up
	ip -n "$NS_B" link set "$IF_B" up
	# No router solicitations or other chatter on the test link.
	ip netns exec "$NS_A" sysctl -qw net.ipv6.conf.$IF_A.router_solicitations=0 2>/dev/null
	ip netns exec "$NS_B" sysctl -qw net.ipv6.conf.$IF_B.router_solicitations=0 2>/dev/null
	MAC_A=$(ip -n "$NS_A" -br link show "$IF_A" | awk '{print $3}')
	MAC_B=$(ip -n "$NS_B" -br link show "$IF_B" | awk '{print $3}')
}

# replay FILE: sends FILE from the remote namespace onto the link.
replay() {
	ip netns exec "$NS_B" tcpreplay -q -i "$IF_B" --pps="${PPS:-20000}" "$1" >/dev/null 2>&1
}
