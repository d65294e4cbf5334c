#!/bin/bash
# Every fuzz target's seed corpus, replayed through the real parsers (under
# the sanitizers in the sanitizer build): alert payloads of each format,
# rule files, configuration files, MQTT commands, raw REST requests and
# truncated capture files.
. "$(dirname "$0")/lib.sh"
# The command and REST targets capture on a replayed lo: no root needed.
shopt -s nullglob
targets=(params alerts rules conf cmd rest repair)
for t in "${targets[@]}"; do
	files=("$srcdir"/tests/fuzz/corpus/$t/*)
	out=$(cd "$T_DIR" && timeout 300 "$builddir/tests/fuzz/run-fuzz-$t" "${files[@]}" 2>&1)
	rc=$?
	is "$rc/$(grep -c '^ok' <<<"$out")" "0/${#files[@]}" "$t: every one of ${#files[@]} corpus files runs clean"
	[ "$rc" -eq 0 ] || sed 's/^/#   /' <<<"$out" | tail -20
done
done_testing
