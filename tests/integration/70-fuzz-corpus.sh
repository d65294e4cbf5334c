#!/bin/bash
# The fuzz targets' seed corpora, replayed through the real parsers (under
# the sanitizers in the sanitizer build).
. "$(dirname "$0")/lib.sh"
shopt -s nullglob
files=("$srcdir"/tests/fuzz/corpus/params/*)
[ ${#files[@]} -gt 0 ] || skip_all "no corpus"
plan 1
out=$("$builddir/tests/fuzz/run-fuzz-params" "${files[@]}" 2>&1)
rc=$?
is "$rc/$(grep -c '^ok' <<<"$out")" "0/${#files[@]}" "every params corpus file runs clean"
