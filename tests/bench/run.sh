#!/bin/sh
# Run the benchmark (make bench): the load generator starts its own
# mcp-brokerd for each group of scenarios and stops it; this script writes
# build/bench/results.md (the machine, the command, the table) and
# build/bench/latency.png (gnuplot).
#
#   tests/bench/run.sh [LOADGEN OPTIONS]   e.g. --scale 0.1, --only 13
#   tests/bench/run.sh --profile           scenarios 1 and 3 with the daemon
#                                          under callgrind: the top functions
#                                          to build/bench/profile-s1.txt, -s3
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${MCPB_BUILD:-$top/build}
out=$build/bench
loadgen=$build/bench/loadgen
mkdir -p "$out"

for f in "$loadgen" "$build/bench/echo-server" "$build/mcp-brokerd"; do
	[ -x "$f" ] || { echo "run.sh: $f is missing: run make bench" >&2; exit 2; }
done

# One scenario's daemon under callgrind; the top 10 functions by
# instructions (inclusive of nothing: self cost) go to profile-sN.txt.
profile() {
	n=$1
	shift
	cg=$out/callgrind.s$n.out
	rm -f "$cg"
	"$loadgen" --build "$build" --out "$out/profile-s$n" --npm "$top/tests/bench" \
	    --only "$n" --daemon-wrapper \
	    "valgrind --tool=callgrind --callgrind-out-file=$cg" "$@" || true
	callgrind_annotate --inclusive=no "$cg" 2>/dev/null | head -n 40 \
	    > "$out/profile-s$n.txt"
	echo "== scenario $n: daemon under callgrind (self cost) =="
	cat "$out/profile-s$n.txt"
}

if [ "${1:-}" = "--profile" ]; then
	command -v valgrind >/dev/null 2>&1 || {
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		    apt-get install -y -qq valgrind; }
	profile 1 --scale 0.25
	profile 3 --scale 0.5
	exit 0
fi

model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
cpus=$(nproc)
mem=$(awk '/^MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo)
kernel=$(uname -r)
nofile=$(ulimit -Hn)
rev=$(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo unknown)
[ -n "$(git -C "$top" status --porcelain -- daemon proto 2>/dev/null)" ] &&
	rev="$rev + uncommitted changes in daemon/ or proto/"
command="make bench"
[ $# -gt 0 ] && command="tests/bench/run.sh $*"

echo "machine: $cpus CPUs ($model), $mem, Linux $kernel; hard RLIMIT_NOFILE $nofile"
echo "placement: loadgen on CPU 0; mcp-brokerd, its children and the direct servers on CPU 1"

load=$(cut -d' ' -f1-3 /proc/loadavg)
start=$(date +%s)
status=0
"$loadgen" --build "$build" --out "$out" --npm "$top/tests/bench" "$@" || status=$?
end=$(date +%s)

# The broker's figure on the first line of file $2 that matches $1.
broker_figure() {
	awk -v pat="$1" '$0 ~ pat {
		for (i = 1; i < NF; i++) if ($i == "broker") { print $(i + 1); exit }
	}' "$2"
}

# What the latency histograms cost: scenario 1 against a daemon built
# without them (make bench builds it in build/bench-nohist), the two run in
# turn, three times each, so the machine's drift falls on both alike.
nohist=$build/bench-nohist
cost=$out/histogram-cost.md
: > "$cost"
if [ -x "$nohist/mcp-brokerd" ] && [ $status -eq 0 ]; then
	mkdir -p "$nohist/bench"
	cp "$build/bench/echo-server" "$nohist/bench/echo-server"
	echo "== what the latency histograms cost (scenario 1, alternating) =="
	for round in 1 2 3; do
		for which in without with; do
			dir=$build
			[ $which = without ] && dir=$nohist
			"$loadgen" --build "$dir" --out "$out/cost-$which-$round" \
			    --npm "$top/tests/bench" --only 1 --scale 0.2 \
			    >"$out/cost-$which-$round.txt" 2>&1 || status=1
			p50=$(broker_figure 'latency p50' \
			    "$out/cost-$which-$round.txt")
			cpu=$(broker_figure 'of which the daemon' \
			    "$out/cost-$which-$round.txt")
			echo "round $round, $which histograms: p50 $p50 µs," \
			    "daemon CPU per call $cpu µs"
			echo "| $round | $which | $p50 | $cpu |" >> "$cost"
		done
	done
fi

{
	echo "# mcp-broker benchmark"
	echo
	echo "Command: \`$command\` ($(date -u +%Y-%m-%d), $((end - start)) s)."
	echo
	echo "Source: $rev."
	echo
	echo "Machine: $cpus CPUs, $model, $mem, Linux $kernel;" \
	    "hard RLIMIT_NOFILE $nofile; load average before the run $load" \
	    "(other work on the machine skews the figures)."
	echo "Placement: the load generator on CPU 0, mcp-brokerd with its" \
	    "children (and, direct, the echo servers) on CPU 1."
	echo
	cat "$out/results-table.md"
	if [ -s "$cost" ]; then
		echo
		echo "What the latency histograms cost: scenario 1 through a" \
		    "daemon built without them (-DMCPB_NO_HISTOGRAM) and through" \
		    "this one, in turn (broker p50 and the daemon's CPU per call," \
		    "µs):"
		echo
		echo "| round | histograms | p50 | daemon CPU per call |"
		echo "|---|---|---|---|"
		cat "$cost"
	fi
} > "$out/results.md"

# Latency percentiles, broker against the direct path or baseline, per
# scenario; log scale, since they run from tens of µs to a second.
if command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<EOF
set terminal pngcairo size 1400,700 noenhanced font ",10"
set output "$out/latency.png"
set title "mcp-broker: latency percentiles, broker vs direct/baseline (µs, log scale; $cpus CPUs, loadgen CPU 0, daemon CPU 1)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set logscale y
set yrange [1:*]
set ylabel "µs"
set grid ytics
set key outside right top vertical
set xtics rotate by -20
plot "$out/latency.dat" using 2:xtic(1) title "broker p50" lc rgb "#08519c", \
     "" using 3 title "broker p99" lc rgb "#3182bd", \
     "" using 4 title "broker p99.9" lc rgb "#9ecae1", \
     "" using 5 title "direct/baseline p50" lc rgb "#a63603", \
     "" using 6 title "direct/baseline p99" lc rgb "#e6550d", \
     "" using 7 title "direct/baseline p99.9" lc rgb "#fdae6b"
EOF
else
	echo "run.sh: gnuplot is missing (make bench installs gnuplot-nox): no plot" >&2
fi

echo
cat "$out/results.md"
echo
echo "written: $out/results.md $out/latency.png"
exit $status
