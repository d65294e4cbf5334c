#!/bin/bash
# Uploads: the time alertcapd takes to upload a finished capture of
# SIZE_MB (default 256 MiB) to Azurite and to s3rver, from the capture's
# stop to its upload entry reading Uploaded, against `curl -T` of the same
# file to the same server, alternately; and against the clients operators
# run, `az storage blob upload` (Debian's azure-cli) and `aws s3 cp`
# (awscli, in parts too), when they are installed, each timed from its
# first connection to the server to its exit, so that its start-up is
# not counted (see cli_put). Then alertcapd's RSS sampled every 100 ms
# while it uploads a BIG_MB (default 1 GiB) capture.
# The captures are of crafted traffic replayed onto lo.
. "$(dirname "$0")/lib.sh"
need_root
need_cmd tcpreplay curl jq node openssl
. "$srcdir/tests/integration/storage.sh"
have_storage_servers || { echo "npm packages missing: (cd tests/storage && npm install)"; exit 1; }
SIZE_MB=${SIZE_MB:-256}
BIG_MB=${BIG_MB:-1024}
JSON=$OUT_DIR/upload.json
: > "$JSON"

start_azurite
start_s3rver
wait_ports "$AZ_PORT" "$S3_PORT"
printf '%s' "$KEY" > "$T_DIR/azkey"
printf 'S3RVER' > "$T_DIR/s3secret"
SAS=$(az_account_sas rwc)
curl -s -o /dev/null -X PUT "http://127.0.0.1:$AZ_PORT/$ACCT/captures?restype=container&$SAS"

start_daemon up "" "\"storage\": {
  \"az\": {\"type\": \"azure-blob\", \"endpoint\": \"http://127.0.0.1:$AZ_PORT/$ACCT\", \"account\": \"$ACCT\",
           \"container\": \"captures\", \"key_file\": \"$T_DIR/azkey\"${BLOCK:+, \"block_size\": $BLOCK}},
  \"s3\": {\"type\": \"s3\", \"endpoint\": \"http://127.0.0.1:$S3_PORT\", \"bucket\": \"captures\", \"region\": \"us-east-1\",
           \"access_key_id\": \"S3RVER\", \"secret_access_key_file\": \"$T_DIR/s3secret\", \"path_style\": true${BLOCK:+, \"block_size\": $BLOCK}},
  \"s3one\": {\"type\": \"s3\", \"endpoint\": \"http://127.0.0.1:$S3_PORT\", \"bucket\": \"captures\", \"region\": \"us-east-1\",
           \"access_key_id\": \"S3RVER\", \"secret_access_key_file\": \"$T_DIR/s3secret\", \"path_style\": true,
           \"block_size\": 4194304000}}" || exit 1

SENT=$T_DIR/sent.pcap
"$PKTGEN" "$SENT" 02:00:00:00:00:02 02:00:00:00:00:01 20000 1400

secs() { date +%s.%N; }

# capture NAME MB ACCOUNT: captures MB MiB of replayed traffic on lo (the
# byte limit stops it) for ACCOUNT; prints the second it was seen stopped.
capture() {
	local rp st
	api PUT "/v1/captures/$1" "{\"target\": {\"interface\": \"lo\"}, \"bpf\": \"net 10.77.0.0/24 or net fd77::/64\",
	    \"max_bytes_per_session\": $(($2 * 1048576)), \"time_limit_s\": 600,
	    \"storage\": {\"file\": true, \"accounts\": [\"$3\"]}}" >/dev/null
	tcpreplay -q -i lo --topspeed --loop=0 "$SENT" >/dev/null 2>&1 &
	rp=$!
	while :; do
		st=$(record "$1" | jq -r .status)
		[ "$st" != Running ] && [ "$st" != NotStarted ] && break
		sleep 0.02
	done
	secs
	kill "$rp"; wait "$rp" 2>/dev/null
}

# upload_state NAME: the state of the capture's one upload.
upload_state() { record "$1" | jq -r '.uploads[0].state'; }

# upload_wait NAME: waits for the daemon to log the end of NAME's upload
# (tail follows the log through inotify: no polling that would compete
# with the servers for the two cores); prints the second it ended.
upload_wait() {
	timeout 600 tail -n +1 -f "$DDIR/daemon.log" |
	    grep -m1 -q "upload $1 -> .*\(uploaded as\|failed:\)"
	secs
}

# run_alertcap ACCOUNT N -> "seconds bytes own-seconds"
run_alertcap() {
	local name="u$2$1" t0 t1
	t0=$(capture "$name" "$SIZE_MB" "$1")
	t1=$(upload_wait "$name")
	[ "$(upload_state "$name")" = Uploaded ] || { echo "- - -"; return; }
	cp "$(local_file "$name")" "$T_DIR/ref.pcap"
	echo "$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}') $(record "$name" | jq .bytes)" \
	    "$(sed -n "s/.*upload $name -> .* bytes in \\([0-9.]*\\) s.*/\\1/p" "$DDIR/daemon.log")"
	api DELETE "/v1/captures/$name?file=true" >/dev/null
}

# run_curl ACCOUNT N -> seconds for `curl -T` of the last capture's file
# ("-" when the server refused it)
run_curl() {
	local out
	case $1 in
	az) out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -T "$T_DIR/ref.pcap" -H 'x-ms-blob-type: BlockBlob' \
		"http://127.0.0.1:$AZ_PORT/$ACCT/captures/ref-$2.pcap?$SAS") ;;
	s3*) out=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -T "$T_DIR/ref.pcap" --aws-sigv4 aws:amz:us-east-1:s3 \
		-u S3RVER:S3RVER -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' \
		"http://127.0.0.1:$S3_PORT/captures/ref-$2.pcap") ;;
	esac
	case $out in 20?\ *) echo "${out#* }" ;; *) echo - ;; esac
}

# The clients operators run: Debian's az (azure-cli) and aws (awscli),
# by their full paths, so that no other install on PATH stands in.
AZ_CLI=/usr/bin/az AWS_CLI=/usr/bin/aws
AZ_CONN="DefaultEndpointsProtocol=http;AccountName=$ACCT;AccountKey=$KEY;BlobEndpoint=http://127.0.0.1:$AZ_PORT/$ACCT;"
export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_DEFAULT_REGION=us-east-1
export AZURE_CONFIG_DIR=$T_DIR/azcli AWS_CONFIG_FILE=$T_DIR/aws.conf
export AZURE_CORE_COLLECT_TELEMETRY=false
# cli_put az|s3 FILE NAME: one upload with the operator's client; prints
# "whole upload" seconds: the whole run, and the time from its first
# connection to the server to its exit (strace sees only connect, through
# seccomp, so the client runs at its own pace). The second takes the
# client's start-up (Python loading its SDK, 1-2 s) off exactly, where
# the median of empty uploads it replaces moved by half a second from run
# to run. "- -" when the upload failed.
cli_put() {
	local t0 t1 rc port first
	t0=$(secs)
	case $1 in
	az) port=$AZ_PORT
	    strace -f --seccomp-bpf -qq -e trace=connect -e signal=none -ttt -o "$T_DIR/cli.st" \
		"$AZ_CLI" storage blob upload --only-show-errors --overwrite --connection-string "$AZ_CONN" \
		-c captures -n "$3" -f "$2" >/dev/null 2>>"$T_DIR/cli.err" ;;
	s3) port=$S3_PORT
	    strace -f --seccomp-bpf -qq -e trace=connect -e signal=none -ttt -o "$T_DIR/cli.st" \
		"$AWS_CLI" --endpoint-url "http://127.0.0.1:$S3_PORT" s3 cp --only-show-errors "$2" \
		"s3://captures/$3" >/dev/null 2>>"$T_DIR/cli.err" ;;
	esac
	rc=$?
	t1=$(secs)
	first=$(awk -v p="htons($port)" 'index($0, p) {print $2; exit}' "$T_DIR/cli.st")
	[ "$rc" -eq 0 ] && [ -n "$first" ] || { echo "- -"; return; }
	awk -v a="$t0" -v f="$first" -v b="$t1" 'BEGIN {printf "%.3f %.3f", b - a, b - f}'
}
CLIS=()
[ -x "$AZ_CLI" ] && CLIS+=(az)
[ -x "$AWS_CLI" ] && CLIS+=(s3)
command -v strace >/dev/null || CLIS=()

# (alertcapd's own timing, from its log, in brackets)
printf '%-8s %-10s %4s %12s %10s %10s\n' account tool rep bytes seconds MiB/s
# az and s3: the accounts' defaults (blocks/parts of 16 MiB, 4 at once);
# s3one: one PutObject (block_size above the file's size).
declare -A cli_ratios
# Each upload starts with the disk's backlog written out (sync), and each
# account with the page cache dropped, so that none inherits the last
# one's: the servers write every byte they take, and a run of uploads
# leaves gigabytes of them behind. Before the repetitions, one upload of
# each kind, not counted: a server's first large upload ran 1.5-2 x the
# later ones whoever sent it (Node.js compiling its paths, the server
# making its directories). S3 goes first: measured after Azurite had
# taken some gigabytes, the uploads to s3rver slowed from one repetition
# to the next (1.9 to 4.1 s, the clients' alike).
for acct in ${BENCH_ACCOUNTS:-s3 s3one az}; do
	a=(); c=()
	sync
	echo 3 > /proc/sys/vm/drop_caches
	run_alertcap "$acct" 0 >/dev/null
	k=${acct%one}
	[[ " ${CLIS[*]} " == *" $k "* ]] && [ "$acct" != s3one ] &&
	    cli_put "$k" "$T_DIR/ref.pcap" cli-0.pcap >/dev/null
	for rep in $(seq "$REPS"); do
		sync
		read -r s bytes own < <(run_alertcap "$acct" "$rep")
		mibs=$(awk -v b="$bytes" -v s="$s" 'BEGIN {printf "%.1f", (s > 0) ? b / 1048576 / s : 0}')
		printf '%-8s %-10s %4s %12s %10s %10s  (%s s)\n' "$acct" alertcapd "$rep" "$bytes" "$s" "$mibs" "$own"
		json_row "$JSON" bench=upload account="$acct" tool=alertcapd rep="$rep" bytes="$bytes" seconds="$s" own_seconds="$own"
		a+=("$s")
		sync
		s=$(run_curl "$acct" "$rep")
		mibs=$(awk -v b="$bytes" -v s="$s" 'BEGIN {printf "%.1f", (s > 0) ? b / 1048576 / s : 0}')
		printf '%-8s %-10s %4s %12s %10s %10s\n' "$acct" curl "$rep" "$bytes" "$s" "$mibs"
		json_row "$JSON" bench=upload account="$acct" tool=curl rep="$rep" bytes="$bytes" seconds="$s"
		c+=("$s")
		# The operator's client on the same file, its start-up off.
		k=${acct%one}
		[ "$acct" = s3one ] && k=none
		if [[ " ${CLIS[*]} " == *" $k "* ]]; then
			sync
			read -r whole s < <(cli_put "$k" "$T_DIR/ref.pcap" "cli-$rep.pcap")
			mibs=$(awk -v b="$bytes" -v s="$s" 'BEGIN {printf "%.1f", (s > 0) ? b / 1048576 / s : 0}')
			r=$(ratio "$s" "${a[-1]}")
			printf '%-8s %-10s %4s %12s %10s %10s  (alertcapd %s x; %s s with its start-up)\n' "$acct" "${k/s3/aws}" "$rep" "$bytes" "$s" "$mibs" "$r" "$whole"
			json_row "$JSON" bench=upload account="$acct" tool="${k/s3/aws}" rep="$rep" bytes="$bytes" seconds="$s" whole_seconds="$whole" ratio="$r"
			cli_ratios[$acct]="${cli_ratios[$acct]:-} $r"
		fi
	done
	ma=$(median "${a[@]}"); mc=$(median "${c[@]}")
	# Throughput ratio alertcapd/curl = time of curl / time of alertcapd.
	printf '  -> %s: median %s s alertcapd, %s s curl -T; throughput ratio %s (target >= 1.0)\n' \
	    "$acct" "$ma" "$mc" "$(ratio "$mc" "$ma")"
	json_row "$JSON" bench=upload-summary account="$acct" alertcapd_s="$ma" curl_s="$mc" ratio="$(ratio "$mc" "$ma")"
	if [ -n "${cli_ratios[$acct]:-}" ]; then
		low=$(printf '%s\n' ${cli_ratios[$acct]} | sort -n | head -1)
		printf '  -> %s: throughput against %s, each repetition:%s; the lowest %s (target >= 1.2 in every one)\n' \
		    "$acct" "$( [ "$acct" = az ] && echo 'az storage blob upload' || echo 'aws s3 cp')" "${cli_ratios[$acct]}" "$low"
		json_row "$JSON" bench=upload-cli-summary account="$acct" ratios="${cli_ratios[$acct]}" lowest="$low"
	fi
done

# RSS while a big capture uploads: the daemon's, and its HTTP helper's
# (alertcap-http, which sends the file).
helper() { pgrep -P "$DPID" -x alertcap-http | head -1; }
rss0=$(rss_kb "$DPID")
hrss0=$(rss_kb "$(helper)")
capture big "$BIG_MB" az >/dev/null
upload_wait big >/dev/null &
waiter=$!
samples=() hsamples=()
while kill -0 "$waiter" 2>/dev/null; do
	samples+=("$(rss_kb "$DPID")")
	hsamples+=("$(rss_kb "$(helper)")")
	sleep 0.1
done
rss1=$(rss_kb "$DPID")
hrss1=$(rss_kb "$(helper)")
min=$(printf '%s\n' "${samples[@]}" | sort -n | head -1)
max=$(printf '%s\n' "${samples[@]}" | sort -n | tail -1)
hmin=$(printf '%s\n' "${hsamples[@]}" | sort -n | head -1)
hmax=$(printf '%s\n' "${hsamples[@]}" | sort -n | tail -1)
printf 'RSS during a %d MiB upload (%d samples): alertcapd before %d KiB, min %d, max %d, after %d KiB; alertcap-http before %d KiB, min %d, max %d, after %d KiB\n' \
    "$BIG_MB" "${#samples[@]}" "$rss0" "$min" "$max" "$rss1" "$hrss0" "$hmin" "$hmax" "$hrss1"
json_row "$JSON" bench=upload-rss mib="$BIG_MB" samples="${#samples[@]}" before_kb="$rss0" min_kb="$min" max_kb="$max" after_kb="$rss1" \
    helper_before_kb="$hrss0" helper_min_kb="$hmin" helper_max_kb="$hmax" helper_after_kb="$hrss1"
echo "figures: $JSON"
