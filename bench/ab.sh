#!/bin/bash
# bench/ab.sh - two builds of hazmond side by side in one run, for a change
# that must not change performance (issue 14's restructure): each build
# runs its own tree's bench/acquisition.sh and bench/delivery.sh, taking
# turns (A B A B ...), so that the machine's noise falls on both alike.
#
#   bash bench/ab.sh A_SRC A_BUILD B_SRC B_BUILD      ROUNDS=2 SECONDS_=30
#
# A_SRC/B_SRC are source trees (a git worktree of the older commit works),
# A_BUILD/B_BUILD their build directories.  The two scripts append their
# own sections to each tree's bench/results; those are put back as they
# were, and one side-by-side table per figure goes to B_SRC's
# bench/results/ab.md instead, with each round's values and the ratio of
# the medians (B / A).  Needs what the two scripts need.
set -u
[ $# -eq 4 ] || { sed -n '2,13p' "$0"; exit 2; }
ROUNDS=${ROUNDS:-2}
export SECONDS_=${SECONDS_:-30}
A_SRC=$(cd "$1" && pwd) A_BUILD=$(cd "$2" && pwd)
B_SRC=$(cd "$3" && pwd) B_BUILD=$(cd "$4" && pwd)
T=$(mktemp -d /tmp/hazmon-ab.XXXXXX)
trap 'rm -rf "$T"' EXIT
out=$B_SRC/bench/results/ab.md

# run SIDE SRC BUILD SCRIPT: one script; its new section to $T/SIDE-SCRIPT-N.
run() {
	local side=$1 src=$2 build=$3 script=$4 res n
	res=$src/bench/results/${script%.sh}.md
	cp "$res" "$T/keep.md" 2>/dev/null || : >"$T/keep.md"
	n=$(ls "$T" | grep -c "^$side-$script-[0-9]*$" || true)
	echo "== $side: $script (round $((n + 1)))" >&2
	bash "$src/bench/$script" "$build" >"$T/$side-$script-$n.log" 2>&1 ||
	    echo "   $side $script failed: see $T/$side-$script-$n.log" >&2
	tail -n +"$(($(wc -l <"$T/keep.md") + 1))" "$res" >"$T/$side-$script-$n"
	cp "$T/keep.md" "$res"
}

for r in $(seq "$ROUNDS"); do
	for s in acquisition.sh delivery.sh; do
		run A "$A_SRC" "$A_BUILD" "$s"
		run B "$B_SRC" "$B_BUILD" "$s"
	done
done

# pick SIDE SCRIPT AWK: one value per round, from each round's section.
pick() {
	local f
	for f in $(ls "$T" | grep "^$1-$2-[0-9]*$" | sort -t- -k3 -n); do
		awk -F'|' "$3" "$T/$f"
	done | tr '\n' ' '
}
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
row() {		# row NAME SCRIPT AWK
	local a b ma mb ratio
	a=$(pick A "$2" "$3") b=$(pick B "$2" "$3")
	ma=$(echo "$a" | median) mb=$(echo "$b" | median)
	ratio=$(awk -v a="$ma" -v b="$mb" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "-" }')
	echo "| $1 | $a | $b | $ratio |"
}
trim='function t(s) { gsub(/^ +| +$/, "", s); return s }'
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) A $(git -C "$A_SRC" rev-parse --short HEAD) vs B $(git -C "$B_SRC" rev-parse --short HEAD)"
	echo
	echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); ROUNDS=$ROUNDS, turns A B A B; SECONDS_=$SECONDS_"
	echo
	echo "| figure | A, per round | B, per round | B / A (medians) |"
	echo "|---|---|---|---|"
	row "acquisition, coalescing: µs CPU per reading" acquisition.sh \
	    "$trim t(\$2) == \"coalescing\" { print t(\$5) }"
	row "acquisition, one request per sensor: µs CPU per reading" acquisition.sh \
	    "$trim t(\$2) == \"one request per sensor\" { print t(\$5) }"
	row "acquisition: peak RSS MiB" acquisition.sh \
	    "$trim t(\$2) == \"coalescing\" { print t(\$6) }"
	row "delivery: transition -> subscriber p50 ms" delivery.sh \
	    "$trim t(\$2) ~ /latency p50/ { split(t(\$3), v, \" / \"); print v[1] }"
	row "delivery: transition -> subscriber p99 ms" delivery.sh \
	    "$trim t(\$2) ~ /latency p50/ { split(t(\$3), v, \" / \"); print v[2] }"
	row "delivery: events/s within a burst" delivery.sh \
	    "$trim t(\$2) ~ /within a burst/ { print t(\$3) }"
	row "delivery: backlog events/s" delivery.sh \
	    "$trim t(\$2) ~ /^backlog/ { print t(\$3) }"
} | tee -a "$out"
