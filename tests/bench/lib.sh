# Shared helpers of the benchmarks: the integration tests' set-up (free
# ports, daemons, namespaces, clean-up) plus CPU and memory readings,
# medians and JSON output. Benchmarks print figures; they assert nothing.
. "$(dirname "$0")/../integration/lib.sh"
OUT_DIR=${BENCH_OUT:-$builddir/tests/bench/out}
mkdir -p "$OUT_DIR"
REPS=${BENCH_REPS:-3}
TICK=$(getconf CLK_TCK)

# cpu_ms PID: user+system CPU time of a process so far, in ms.
cpu_ms() {
	awk -v t="$TICK" '{print int(($14 + $15) * 1000 / t)}' "/proc/$1/stat"
}

# rss_kb PID: resident set size in KiB.
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# median N...: the median of numbers.
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# ratio A B: A/B with two decimals, or - when B is 0.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b == 0) print "-"; else printf "%.2f", a / b}'; }

# json_row FILE KEY=VALUE...: appends one JSON object line to FILE.
json_row() {
	local f=$1; shift
	local args=() kv
	for kv in "$@"; do args+=(--arg "${kv%%=*}" "${kv#*=}"); done
	jq -cn "${args[@]}" '$ARGS.named' >> "$f"
}
