#!/bin/bash
# alertcap's developer entry point: installs what is missing (Debian 12),
# builds out of tree, and runs the daemon or the test suite.
#
#   contrib/dev.sh run                  build, then run alertcapd -f on the
#                                       embedded default (127.0.0.1:8087)
#   contrib/dev.sh test [--sanitizers]  build, then run the whole suite
#   contrib/dev.sh bench                build, then run the benchmarks
#                                       (as root; docs/performance.md)
#   contrib/dev.sh distcheck            make distcheck: the tarball builds,
#                                       passes the suite, installs cleanly
#   contrib/dev.sh package [--test]     build the Debian package (lintian
#                                       clean); --test installs and runs
#                                       it in a fresh Debian 12 chroot
#   contrib/dev.sh deps | build [--sanitizers]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Build and test dependencies, by Debian package name.
PACKAGES=(build-essential autoconf automake pkg-config
	libevent-dev libcurl4-openssl-dev libjansson-dev libpcap-dev libssl-dev
	libmosquitto-dev libsqlite3-dev libmnl-dev libcmocka-dev
	iproute2 tcpdump tcpreplay tshark curl jq sqlite3 openssl iputils-ping coreutils
	python3 chromium chromium-driver python3-selenium
	strace prometheus
	man-db mosquitto mosquitto-clients)
# What building and checking the Debian package uses.
PACKAGE_PACKAGES=(debhelper dpkg-dev lintian debootstrap)
# And what only the benchmarks use.
BENCH_PACKAGES=(wrk util-linux sqlite3 azure-cli awscli)

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

deps() {
	local missing=() p
	for p in "${PACKAGES[@]}" "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		    missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "installing: ${missing[*]}"
	as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
	# tshark asks whether non-root users may capture; the default is no.
	echo "wireshark-common wireshark-common/install-setuid boolean false" |
	    as_root debconf-set-selections
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends "${missing[@]}" >/dev/null
}

# The storage servers the upload tests run against, from npm.
npm_deps() {
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
	    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends nodejs npm >/dev/null
	[ -x tests/storage/node_modules/.bin/azurite-blob ] &&
	    [ -x tests/storage/node_modules/.bin/s3rver ] && return 0
	(cd tests/storage && npm install --no-audit --no-fund --loglevel=error \
	    >/dev/null)
}

build() {
	local dir=build flags=(--enable-werror)
	if [ "${1:-}" = --sanitizers ]; then
		dir=build-asan
		flags+=(--enable-sanitizers --enable-torture)
	fi
	[ -x configure ] || autoreconf -fi >/dev/null 2>&1
	mkdir -p "$dir"
	if [ ! -f "$dir/Makefile" ]; then
		(cd "$dir" && ../configure -q "${flags[@]}")
	fi
	make -s -C "$dir" -j"$(nproc)" >/dev/null
	BUILD=$top/$dir
}

# The Debian package, from the tarball `make dist` makes (so it holds
# only what is distributed) with contrib/debian/ as its debian/; lintian
# must find no error. Sets DEB.
package() {
	local out=$top/build-deb src
	rm -rf "$out" "$BUILD"/alertcap-*.tar.gz
	mkdir -p "$out"
	make -s -C "$BUILD" dist >/dev/null
	tar -C "$out" -xzf "$BUILD"/alertcap-*.tar.gz
	src=$(echo "$out"/alertcap-*/)
	cp -r "$src/contrib/debian" "$src/debian"
	if ! (cd "$src" && dpkg-buildpackage -b -us -uc) >"$out/build.log" 2>&1
	then
		tail -40 "$out/build.log"
		echo "dpkg-buildpackage failed: $out/build.log"
		return 1
	fi
	DEB=$(echo "$out"/alertcap_*.deb)
	echo "built $DEB"
	lintian --fail-on error --info "$DEB"
}

case "${1:-}" in
deps)
	deps ;;
build)
	deps; build "${2:-}" ;;
run)
	deps; build
	exec "$BUILD/alertcapd" -f ;;
distcheck)
	# The tarball builds, passes its suite and installs cleanly: the count
	# of that suite, and one failure more if distcheck failed otherwise.
	deps; npm_deps; build
	rc=0
	make -s -C "$BUILD" distcheck >"$BUILD/distcheck.log" 2>&1 || rc=$?
	grep -E '^(FAIL|ERROR):' "$BUILD/distcheck.log" | sed 's/^/  /' || true
	pass=$(sed -n 's/^# PASS: *//p' "$BUILD/distcheck.log" | tail -1)
	fail=$(( $(sed -n 's/^# FAIL: *//p' "$BUILD/distcheck.log" | tail -1) + 0 ))
	[ "$rc" -eq 0 ] || { tail -15 "$BUILD/distcheck.log"; [ "$fail" -gt 0 ] ||
	    fail=1; }
	echo "${pass:-0} passed, ${fail} failed (make distcheck)"
	[ "$rc" -eq 0 ] ;;
package)
	deps "${PACKAGE_PACKAGES[@]}"; build; package || exit 1
	[ "${2:-}" = --test ] || exit 0
	# Installed in a fresh chroot and run: TAP, then the count.
	out=$(builddir=$BUILD srcdir=$top bash tests/package/chroot-install.sh \
	    "$DEB" 2>&1)
	echo "$out"
	pass=$(grep -c '^ok ' <<<"$out" || true)
	fail=$(grep -c '^not ok ' <<<"$out" || true)
	echo "${pass} passed, ${fail} failed"
	[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ] ;;
bench)
	deps "${BENCH_PACKAGES[@]}"; npm_deps; build
	exec make -s -C "$BUILD" bench ;;
test)
	deps; npm_deps; build "${2:-}"
	# LeakSanitizer stays on; library-internal allocations are
	# suppressed by name in tests/lsan.supp.
	export LSAN_OPTIONS=suppressions=$top/tests/lsan.supp:print_suppressions=0
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
	rc=0
	make -s -C "$BUILD" -j1 check >/dev/null 2>&1 || rc=$?
	log=$BUILD/test-suite.log
	grep -E '^(FAIL|ERROR|XPASS):' "$BUILD"/tests/*/*.log 2>/dev/null | sed 's/^/  /' || true
	pass=$(sed -n 's/^# PASS: *//p' "$log")
	fail=$(( $(sed -n 's/^# FAIL: *//p' "$log") + $(sed -n 's/^# ERROR: *//p' "$log") + $(sed -n 's/^# XPASS: *//p' "$log") ))
	skip=$(sed -n 's/^# SKIP: *//p' "$log")
	echo "${pass} passed, ${fail} failed, ${skip} skipped"
	[ "$fail" -eq 0 ] && [ "$rc" -eq 0 ] ;;
*)
	sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
	exit 2 ;;
esac
