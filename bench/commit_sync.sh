#!/bin/bash
# bench/commit_sync.sh - what an alarm's commit waits for: the fdatasync()
# of the ledger's WAL, timed by strace -T on the running hazmond while one
# gas sensor is stepped across its set point STEPS times (0.7 s apart, so
# each commit comes after a quiet spell, as alarms do).  With two builds
# (e.g. before/after a change to ledger.c) they take turns A B A B for
# ROUNDS rounds, so that both see the same noisy host.
#
#   bash bench/commit_sync.sh BUILD_A [BUILD_B]      STEPS=10 ROUNDS=2
# Appends a table to bench/results/commit_sync.md.  Needs strace.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
STEPS=${STEPS:-10} ROUNDS=${ROUNDS:-2}
[ $# -ge 1 ] || { echo "usage: $0 BUILD_A [BUILD_B]" >&2; exit 2; }
command -v strace >/dev/null || { echo "needs strace" >&2; exit 1; }

# one_run BUILD OUT: the durations (ms) of the core's WAL syncs, one a line
one_run() {
	(
	export top_srcdir=$top top_builddir=$(cd "$1" && pwd)
	. "$top/tests/lib.sh"
	start_broker
	start_sub "$T/sub.out"
	echo "unit 1" >"$T/u.sim"
	start_sim 0 "$T/u.sim"
	burst_conf "$T/h.conf" 1 "$BROKER_PORT"
	sed -i 's|daemon = { state_dir = "\([^"]*\)"; };|daemon = { state_dir = "\1"; log_level = "warning"; };|' "$T/h.conf"
	start_hazmond "$T/h.conf"
	wait_for 10 grep -q 'hazmon/burst/status' "$T/sub.out" || bail "not online"
	sleep 1
	spawn strace strace -f -qq -T -y -e trace=fdatasync -o "$T/trace" \
	    -p "$(ls "/proc/$HAZMOND_PID/task" | paste -s -d,)"
	st=$LAST_PID
	sleep 1
	for i in $(seq "$STEPS"); do
		echo "set 1 holding 0 60" >"$SIM_FIFO"; sleep 0.7
		echo "set 1 holding 0 0" >"$SIM_FIFO"; sleep 0.7
	done
	sleep 1
	stop_pid "$st"; forget_pid "$st"
	awk -v m="$HAZMOND_PID" '$1 == m && /ledger\.db-wal>/' "$T/trace" |
	    sed 's/.*<\([0-9.]*\)>$/\1/' | awk '{ printf "%.3f\n", $1 * 1000 }' >"$2"
	) >/dev/null 2>&1
}
stats() {	# stats FILE: n p50 mean max
	sort -n "$1" | awk '{ a[NR] = $1; s += $1 }
	    END { if (NR) printf "%d | %.2f | %.2f | %.2f", NR, a[int((NR + 1) / 2)], s / NR, a[NR] }'
}

out=$(mktemp -d /tmp/hazmon-commit-sync.XXXXXX)
trap 'rm -rf "$out"' EXIT
rows=""
for r in $(seq "$ROUNDS"); do
	for b in "$@"; do
		f=$out/$(basename "$b")-$r
		one_run "$b" "$f"
		rows="$rows| $b | $r | $(stats "$f") |
"
	done
done
mkdir -p "$top/bench/results"
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) the core's WAL syncs at $((2 * STEPS)) alarm commits, 0.7 s apart"
	echo
	echo "host: $(nproc) cores, $(df -T "${TMPDIR:-/tmp}" | awk 'NR == 2 { print $2 }') under ${TMPDIR:-/tmp}; commit $(git -C "$top" rev-parse --short HEAD); strace -T (kernel time of each fdatasync, ms)"
	echo
	echo "| build | round | syncs | p50 | mean | max |"
	echo "|---|---|---|---|---|---|"
	printf '%s' "$rows"
} | tee -a "$top/bench/results/commit_sync.md"
