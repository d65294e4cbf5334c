# Storage servers for the tests and benchmarks that upload: Azurite's blob
# service and s3rver from tests/storage/node_modules, on free loopback
# ports, stopped by the clean-up. Source after lib.sh.
NODE_BIN=$srcdir/tests/storage/node_modules/.bin
# Azurite's well-known development account.
ACCT=devstoreaccount1
KEY='Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=='
KEY_HEX=$(printf '%s' "$KEY" | base64 -d | od -An -tx1 | tr -d ' \n')

# have_storage_servers: whether the npm packages are installed.
have_storage_servers() { [ -x "$NODE_BIN/azurite-blob" ] && [ -x "$NODE_BIN/s3rver" ]; }

# start_azurite: Azurite's blob service on $AZ_PORT (chosen once), data in
# $T_DIR/az. Sets AZ_PID.
start_azurite() {
	AZ_PORT=${AZ_PORT:-$(free_port)}
	mkdir -p "$T_DIR/az"
	"$NODE_BIN/azurite-blob" --blobHost 127.0.0.1 --blobPort "$AZ_PORT" \
	    --location "$T_DIR/az" --silent --disableTelemetry \
	    --skipApiVersionCheck >>"$T_DIR/az.log" 2>&1 &
	AZ_PID=$!; T_PIDS+=("$AZ_PID")
}

# start_s3rver: s3rver on $S3_PORT with the bucket "captures", data in
# $T_DIR/s3. Its key id is S3RVER (any secret). Sets S3_PID.
start_s3rver() {
	S3_PORT=${S3_PORT:-$(free_port)}
	mkdir -p "$T_DIR/s3"
	"$NODE_BIN/s3rver" -a 127.0.0.1 -p "$S3_PORT" -d "$T_DIR/s3" -s \
	    --configure-bucket captures >>"$T_DIR/s3.log" 2>&1 &
	S3_PID=$!; T_PIDS+=("$S3_PID")
}

# wait_ports PORT...: waits until each answers HTTP on 127.0.0.1.
wait_ports() {
	local p
	for p in "$@"; do
		for _ in $(seq 100); do
			curl -s -o /dev/null "http://127.0.0.1:$p/" && break
			sleep 0.1
		done
	done
}

# az_hmac: the base64 HMAC-SHA256 of stdin under the account key.
az_hmac() { openssl dgst -sha256 -mac HMAC -macopt "hexkey:$KEY_HEX" -binary | base64; }

# az_account_sas [PERMISSIONS]: an account SAS for the blob service
# (containers and objects), valid for a day.
az_account_sas() {
	local sp=${1:-rwc} se sig
	se=$(date -u -d '+1 day' '+%Y-%m-%dT%H:%M:%SZ')
	# (piped: $(...) would drop the string's trailing newlines)
	sig=$(printf '%s\n%s\nb\nco\n\n%s\n\n\n2021-12-02\n\n' "$ACCT" "$sp" "$se" | az_hmac)
	printf 'sv=2021-12-02&ss=b&srt=co&sp=%s&se=%s&sig=%s' "$sp" "$se" "$(jq -rn --arg s "$sig" '$s|@uri')"
}

# az_get URI [CURL-ARGS...]: a shared-key signed GET of a blob.
az_get() {
	local d path uri=$1
	shift
	d=$(LC_ALL=C TZ=GMT date '+%a, %d %b %Y %H:%M:%S GMT')
	path=${uri#http://127.0.0.1:$AZ_PORT}
	curl -s "$@" -H "x-ms-date: $d" -H "x-ms-version: 2021-12-02" -H "Authorization: SharedKey $ACCT:$(printf 'GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:%s\nx-ms-version:2021-12-02\n/%s%s' "$d" "$ACCT" "$path" | az_hmac)" "$uri"
}
