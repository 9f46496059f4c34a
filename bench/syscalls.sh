#!/bin/bash
# bench/syscalls.sh - system calls per Modbus request: DEVICES simulated
# Modbus TCP devices x REGS registers (coalesced: one request per device
# per second), with strace -c -f attached to hazmond for SECONDS.  Kernel
# entries and wake-ups, not instructions, are most of hazmond's CPU per
# reading at this scale (results/acquisition.md, results/reading.md), and
# unlike CPU seconds on a shared host their count repeats run after run.
# strace slows every call, so it says nothing about time: only counts.
#
#   bash bench/syscalls.sh [BUILD_DIR]        (default _build)
#   DEVICES=200 REGS=50 SECONDS_=10 WARMUP=5 (environment knobs)
#   LABEL="of 6daccde"                        (the build's commit, when
#                                             BUILD_DIR is not this tree's)
# Appends a table to bench/results/syscalls.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top top_builddir=$(cd "${1:-$top/_build}" && pwd)
. "$top/tests/lib.sh"
. "$top/bench/lib.sh"
DEVICES=${DEVICES:-200} REGS=${REGS:-50} WINDOW=${SECONDS_:-10} WARMUP=${WARMUP:-5}
command -v strace >/dev/null || bail "strace is not installed"

start_broker
bench_sim "$DEVICES" "$REGS"
bench_conf "$T/h.conf" "$DEVICES" "$REGS" true "$T/state"
bin=$top_builddir/.libs/hazmond
[ -x "$bin" ] || bin=$HAZMOND
spawn hazmond "$bin" -c "$T/h.conf" -P "$PLUGIN_DIR"
pid=$LAST_PID
sleep "$WARMUP"
kill -0 "$pid" 2>/dev/null || bail "hazmond died: $(tail -3 "$T/hazmond.log")"
r0=$(sim_stat requests)
timeout -s INT "$WINDOW" strace -c -f -p "$pid" -o "$T/strace.txt" 2>/dev/null
r1=$(sim_stat requests)
stop_pid "$pid"
REQ=$((r1 - r0))
[ "$REQ" -gt 0 ] || bail "no request reached the simulator"

mkdir -p "$top/bench/results"
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) $DEVICES devices x $REGS registers, coalesced, ${WINDOW} s under strace"
	echo
	echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); hazmond $("$HAZMOND" --version | cut -d' ' -f2), build ${LABEL:-of $(git -C "$top" rev-parse --short HEAD)} ($top_builddir); $REQ requests"
	echo
	echo "| system call | calls | per request |"
	echo "|---|---|---|"
	# strace -c: % time, seconds, usecs/call, calls, [errors,] name.
	awk -v q="$REQ" '/^ *[0-9]/ {
		if ($NF == "total") t = $4; else printf "| %s | %d | %.2f |\n", $NF, $4, $4 / q
	} END { printf "| all | %d | %.2f |\n", t, t / q }' "$T/strace.txt"
} | tee -a "$top/bench/results/syscalls.md"
