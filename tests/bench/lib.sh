# Shared helpers of the benchmarks: the integration tests' set-up (free
# ports, daemons, namespaces, clean-up) plus CPU and memory readings,
# medians and JSON output. Benchmarks print figures; they assert nothing.
. "$(dirname "$0")/../integration/lib.sh"
OUT_DIR=${BENCH_OUT:-$builddir/tests/bench/out}
# The benchmarks' clients send no token (as the reference servers want
# none): loopback stays open for them, as it was when the figures began.
DAEMON_EXTRA=', "auth": {"anonymous_loopback": true}'

mkdir -p "$OUT_DIR"
# Benchmarks print figures, not TAP: nothing of the suite's plan applies.
T_SKIPPED=1
REPS=${BENCH_REPS:-3}

# cpu_us PID: CPU time (user and system) of a process and its threads so
# far, in microseconds: the scheduler's own count, not /proc's clock ticks
# (10 ms each, too coarse for runs of a few hundred ms).
cpu_us() {
	cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ns += $1} END {printf "%d\n", ns / 1000}'
}

# settle PID: waits (up to 3 s) until the process is idle, using less than
# 1 ms of CPU in 100 ms: work left over from the last run (the unlink of
# its file, pages freed) is not counted in the next.
settle() {
	local a b
	for _ in $(seq 30); do
		a=$(cpu_us "$1"); sleep 0.1; b=$(cpu_us "$1")
		[ $((b - a)) -lt 1000 ] && return 0
	done
}

# gone 'GLOB': waits (up to 10 s) until nothing matches the glob.
gone() {
	for _ in $(seq 200); do
		compgen -G "$1" >/dev/null || return 0
		sleep 0.05
	done
}

# smaps_kb PID FIELD: a field of /proc/PID/smaps_rollup (Pss,
# Private_Dirty...) in KiB: the process's own memory, not shared pages.
smaps_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/smaps_rollup"; }

# rss_kb PID: resident set size in KiB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# median N...: the median of numbers.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# per_packet CPU_US N: microseconds a packet, three decimals (0 for none).
per_packet() { awk -v c="$1" -v p="$2" 'BEGIN {printf "%.3f", p ? c / p : 0}'; }

# dumpcap_counts ERR: "captured dropped" from the stderr of dumpcap -q.
dumpcap_counts() {
	local out
	out=$(tr '\r' '\n' < "$1")
	echo "$(sed -n 's/.*Packets captured: \([0-9]*\).*/\1/p' <<<"$out" | tail -1) $(sed -n 's|.*(pcap:\([0-9]*\)/.*|\1|p' <<<"$out" | tail -1)"
}

# ratio A B: A/B with two decimals, or - when either is missing or B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b}'; }

# json_row FILE KEY=VALUE...: appends one JSON object line to FILE.
json_row() {
	local f=$1; shift
	local args=() kv
	for kv in "$@"; do args+=(--arg "${kv%%=*}" "${kv#*=}"); done
	jq -cn "${args[@]}" '$ARGS.named' >> "$f"
}

# ref_cpu ERR "LOAD ARGS" CMD...: a reference tool, CMD, run in NS_A with
# its stderr in ERR; once it has settled the load runs (a function and its
# arguments, split on spaces), then CMD is stopped with SIGINT so that it
# prints its counts. Prints CMD's CPU time in microseconds from the load's
# start to 0.5 s after its end: its start-up (6-7 ms for tcpdump: the
# ring, the filter) and its exit are not counted, as alertcapd's creating
# and stopping a capture are not.
ref_cpu() {
	local err=$1 load=$2 pid cpu cpu0
	shift 2
	ip netns exec "$NS_A" "$@" >/dev/null 2>"$err" &
	pid=$!
	sleep 1
	cpu0=$(cpu_us "$pid")
	$load
	sleep 0.5
	cpu=$(( $(cpu_us "$pid") - cpu0 ))
	kill -INT "$pid"
	wait "$pid" 2>/dev/null
	echo "$cpu"
}

# with_ring IFACE: with BENCH_RING=BYTES, every daemon started after this
# keeps a lookback ring of that many bytes (snap length 256) on IFACE, so
# a benchmark's figures can be compared with a ring running
# (BENCH_RING_BPF: the ring's bpf, default everything).
with_ring() {
	[ -n "${BENCH_RING:-}" ] || return 0
	DAEMON_EXTRA="$DAEMON_EXTRA, \"lookback\": {\"interfaces\": {\"$1\": {\"memory_bytes\": $BENCH_RING, \"snaplen\": 256, \"bpf\": \"${BENCH_RING_BPF:-}\"}}}"
	echo "# with a lookback ring of $BENCH_RING bytes on $1"
}
