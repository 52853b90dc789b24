#!/bin/sh
# The shape of the code, checked by make check: no include cycle among the
# modules of daemon/ and proto/ (an edge X -> Y when X.c or X.h includes
# Y.h), and no .c file there over MAX_LINES lines.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
MAX_LINES=1000
status=0

for f in daemon/*.c proto/*.c; do
	n=$(wc -l < "$f")
	if [ "$n" -gt "$MAX_LINES" ]; then
		echo "layout: $f has $n lines (over $MAX_LINES)"
		status=1
	fi
done

# Edges "X Y", one per line, between modules that have a header.
edges=$(for f in daemon/*.[ch] proto/*.[ch]; do
	from=$(basename "$f"); from=${from%.*}
	sed -n 's/^#include "\([a-z_]*\)\.h".*/\1/p' "$f" | while read -r to; do
		[ "$to" != "$from" ] || continue
		[ -e "daemon/$to.h" ] || [ -e "proto/$to.h" ] || continue
		echo "$from $to"
	done
done | sort -u)

# Depth-first search; a back edge is a cycle, printed as its path.
cycle=$(echo "$edges" | awk '
	{ out[$1] = out[$1] " " $2; nodes[$1] = 1; nodes[$2] = 1 }
	function visit(n, path,    i, k, m, list) {
		state[n] = 1
		k = split(out[n], list, " ")
		for (i = 1; i <= k; i++) {
			m = list[i]
			if (state[m] == 1) {
				print path " -> " m
				found = 1
			} else if (state[m] == 0)
				visit(m, path " -> " m)
			if (found)
				return
		}
		state[n] = 2
	}
	END {
		for (n in nodes)
			if (!found && state[n] == 0)
				visit(n, n)
	}')
if [ -n "$cycle" ]; then
	echo "layout: include cycle: $cycle"
	status=1
fi
[ $status -eq 0 ] && echo "layout: $(echo "$edges" | wc -l) include edges, no cycle; no .c file over $MAX_LINES lines"
exit $status
