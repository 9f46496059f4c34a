#!/bin/bash
# bench/acquisition.sh - the acquisition load of issue 4: DEVICES simulated
# Modbus TCP devices (one connection each) x REGS registers, every register
# a sensor, polled every second, for SECONDS; once with coalescing and once
# without.  Measures hazmond's CPU seconds and peak RSS, and from the
# simulator's counters the Modbus requests per cycle and readings per second.
#
#   bash bench/acquisition.sh [BUILD_DIR]      (default _build)
#   DEVICES=200 REGS=50 SECONDS_=60 WARMUP=5   (environment knobs)
# Appends a table to bench/results/acquisition.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top top_builddir=$(cd "${1:-$top/_build}" && pwd)
. "$top/tests/lib.sh"
. "$top/bench/lib.sh"
DEVICES=${DEVICES:-200} REGS=${REGS:-50} WINDOW=${SECONDS_:-60} WARMUP=${WARMUP:-5}
CLK=$(getconf CLK_TCK)

start_broker
bench_sim "$DEVICES" "$REGS"

conf() {	# conf FILE COALESCE
	bench_conf "$1" "$DEVICES" "$REGS" "$2" "$T/state-$2"
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

run() {		# run COALESCE: sets CPU_S RSS_KB REQ_CYCLE READ_S
	local c=$1 t0 t1 r0 r1 i0 i1
	conf "$T/h-$c.conf" "$c"
	start_hazmond "$T/h-$c.conf" "hazmond-$c"
	sleep "$WARMUP"
	kill -0 "$HAZMOND_PID" 2>/dev/null || bail "hazmond died: $(tail -3 "$T/hazmond-$c.log")"
	r0=$(sim_stat requests); i0=$(sim_items); t0=$(cpu_ticks "$HAZMOND_PID")
	sleep "$WINDOW"
	t1=$(cpu_ticks "$HAZMOND_PID"); r1=$(sim_stat requests); i1=$(sim_items)
	RSS_KB=$(awk '/VmHWM/ { print $2 }' "/proc/$HAZMOND_PID/status")
	THREADS=$(awk '/Threads/ { print $2 }' "/proc/$HAZMOND_PID/status")
	stop_pid "$HAZMOND_PID"
	CPU_S=$(echo "scale=2; ($t1 - $t0) / $CLK" | bc)
	REQ_CYCLE=$(echo "scale=1; ($r1 - $r0) / $WINDOW" | bc)
	READ_S=$(echo "scale=0; ($i1 - $i0) / $WINDOW" | bc)
	US_PER_READ=$(echo "scale=2; ($t1 - $t0) * 1000000 / $CLK / ($i1 - $i0)" | bc)
}

# Registers delivered = readings (one register per sensor).
sim_items() {
	awk '$1 ~ /^unit\.[0-9]+\.fc\.3\.items$/ { s += $2 } END { print s + 0 }' \
	    "$T/sim.stats"
}

run true;  A=("$CPU_S" "$RSS_KB" "$REQ_CYCLE" "$READ_S" "$US_PER_READ" "$THREADS")
run false; B=("$CPU_S" "$RSS_KB" "$REQ_CYCLE" "$READ_S" "$US_PER_READ" "$THREADS")

mkdir -p "$top/bench/results"
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) $DEVICES devices x $REGS registers, 1 s, ${WINDOW} s window"
	echo
	echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); hazmond $("$HAZMOND" --version | cut -d' ' -f2) ($(git -C "$top" rev-parse --short HEAD))"
	echo
	echo "| mode | hazmond CPU s | CPU % of one core | µs CPU per reading | peak RSS MiB | threads | requests per cycle | readings/s |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '| coalescing | %s | %s | %s | %s | %s | %s | %s |\n' "${A[0]}" \
	    "$(echo "scale=1; 100 * ${A[0]} / $WINDOW" | bc)" "${A[4]}" \
	    "$(echo "scale=1; ${A[1]} / 1024" | bc)" "${A[5]}" "${A[2]}" "${A[3]}"
	printf '| one request per sensor | %s | %s | %s | %s | %s | %s | %s |\n' "${B[0]}" \
	    "$(echo "scale=1; 100 * ${B[0]} / $WINDOW" | bc)" "${B[4]}" \
	    "$(echo "scale=1; ${B[1]} / 1024" | bc)" "${B[5]}" "${B[2]}" "${B[3]}"
} | tee -a "$top/bench/results/acquisition.md"
