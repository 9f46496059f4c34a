#!/bin/bash
# bench/fuzz.sh - each libFuzzer target (tests/fuzz/README.md) for RUNS
# executions, on a copy of its checked-in corpus, one after the other.
#
#   bash bench/fuzz.sh [BUILD_DIR]        (default _build-asan; runs make fuzz)
#   RUNS=10000000                         executions per target
#   MAX_TIME=0                            seconds per target at most (0: no limit)
#   TARGETS="fuzz_config fuzz_reply fuzz_ledger"
#
# Appends a table to bench/results/fuzz.md: per target the executions,
# the rate, the final coverage (libFuzzer's cov: edges, ft: features),
# the corpus at the end, crashes (libFuzzer stops at the first; its input
# is kept and named) and the time.  The working corpus grows in a
# temporary directory; tests/fuzz/corpus is never changed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$top/_build-asan}" && pwd) || exit 2
RUNS=${RUNS:-10000000} MAX_TIME=${MAX_TIME:-0}
TARGETS=${TARGETS:-"fuzz_config fuzz_reply fuzz_ledger fuzz_command fuzz_control"}
out=$top/bench/results/fuzz.md

make -C "$build" fuzz >/dev/null || exit 1
# What was built, when: the tree may change while a long run goes on.
commit=$(git -C "$top" rev-parse --short HEAD)
git -C "$top" diff --quiet HEAD -- || commit=$commit-dirty
started=$(date -u +%Y-%m-%dT%H:%MZ)
work=$(mktemp -d /tmp/hazmon-fuzz-bench.XXXXXX)
rows=""
for t in $TARGETS; do
	bin=$build/tests/fuzz/out/$t
	mkdir -p "$work/$t" "$work/$t-crashes"
	cp "$top/tests/fuzz/corpus/$t"/* "$work/$t/"
	limit=()
	[ "$MAX_TIME" -gt 0 ] && limit=(-max_total_time="$MAX_TIME")
	echo "== $t: $RUNS runs${limit:+ or $MAX_TIME s}"
	t0=$(date +%s)
	"$bin" -runs="$RUNS" "${limit[@]}" -timeout=5 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$work/$t-crashes/" \
	    "$work/$t" >"$work/$t.log" 2>&1
	rc=$?
	secs=$(( $(date +%s) - t0 ))
	# The last status line: "#N DONE cov: C ft: F corp: K/SIZE ..."
	last=$(grep -E '^#[0-9]+' "$work/$t.log" | tail -n 1)
	runs=$(grep -E '^stat::number_of_executed_units:' "$work/$t.log" |
	    tail -n 1 | awk '{print $2}')
	[ -n "$runs" ] || runs=$(echo "$last" | sed -E 's/^#([0-9]+).*/\1/')
	cov=$(echo "$last" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
	ft=$(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
	corp=$(echo "$last" | sed -nE 's/.* corp: ([0-9]+\/[0-9]+[a-zA-Z]*).*/\1/p')
	crashes=$(find "$work/$t-crashes" -type f | wc -l)
	note=""
	if [ "$crashes" -gt 0 ]; then
		# crash-, leak-, timeout-, oom-...; an empty leak- file is a
		# leak found at exit, after per-input leak checks were off.
		first=$(find "$work/$t-crashes" -type f | head -n 1)
		keep=$top/bench/results/fuzz-$t-$(basename "$first")
		cp "$first" "$keep"
		note="input: bench/results/$(basename "$keep")"
		grep -q 'disabled leak detection' "$work/$t.log" &&
		    note="$note (per-input leak checks were off)"
	elif [ "$rc" != 0 ]; then
		note="exit status $rc (see $work/$t.log)"
	elif [ "${runs:-0}" -lt "$RUNS" ]; then
		note="stopped by MAX_TIME before $RUNS runs"
	fi
	rate=$(( ${runs:-0} / (secs > 0 ? secs : 1) ))
	echo "   $runs runs in $secs s ($rate/s), cov $cov ft $ft corpus $corp," \
	    "crashes $crashes $note"
	rows="$rows| $t | $runs | $rate | $cov | $ft | $corp | $crashes | $secs s | $note |
"
done

{
	[ -s "$out" ] || printf '%s\n\n%s\n%s\n' "# Fuzzing (bench/fuzz.sh)" \
	    "\`bash bench/fuzz.sh BUILD_DIR\`: each libFuzzer target (ASan + UBSan)" \
	    "for RUNS executions on a copy of its seed corpus (tests/fuzz/README.md)."
	echo
	echo "## $started $commit on $(uname -n), $(nproc) CPUs"
	echo
	echo "RUNS=$RUNS MAX_TIME=$MAX_TIME; cov = edges, ft = features (libFuzzer)."
	echo
	echo "| target | executions | exec/s | cov | ft | corpus (files/bytes) | crashes | time | note |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s' "$rows"
} >>"$out"
echo "== appended to $out; logs in $work"
