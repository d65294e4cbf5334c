#!/bin/bash
# The docs stay true: the option table in docs/configuration.md is the one
# alertcapd prints, and every man page is well-formed.
. "$(dirname "$0")/lib.sh"
need_cmd man

doc=$(sed -n '/<!-- options:begin -->/,/<!-- options:end -->/p' "$srcdir/docs/configuration.md" | sed '1d;$d')
is "$doc" "$("$ALERTCAPD" -O)" "docs/configuration.md holds the current option table"
for page in alertcapd.8 alertcap.1 alertcap.json.5; do
	warnings=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$srcdir/docs/man/$page" 2>&1 >/dev/null)
	is "$warnings" "" "man page $page renders without warnings"
done
done_testing
