#!/bin/bash
# bench/link_callgrind.sh - instructions per Modbus request, two builds side
# by side: hazmond under valgrind --tool=callgrind reads DEVICES simulated
# TCP devices x REGS registers with one request per sensor (coalescing off,
# so the request path dominates) for SECONDS_; instruction counts do not
# depend on how busy the machine is, so two builds compare as a ratio.
#
#   bash bench/link_callgrind.sh BUILD_A BUILD_B      (e.g. before and after)
#   DEVICES=20 REGS=25 SECONDS_=20                     (environment knobs)
# Appends a table to bench/results/link.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# = 2 ] || { echo "usage: $0 BUILD_A BUILD_B" >&2; exit 2; }
export top_srcdir=$top top_builddir=$(cd "$1" && pwd)
. "$top/tests/lib.sh"
. "$top/bench/lib.sh"
DEVICES=${DEVICES:-20} REGS=${REGS:-25} WINDOW=${SECONDS_:-20}
command -v valgrind >/dev/null || bail "valgrind is not installed"

start_broker
for u in $(seq "$DEVICES"); do
	for r in $(seq 0 $((REGS - 1))); do echo "set $u holding $r $((r + u))"; done
done >"$T/plant.sim"
rm -f "$T/sim.port"
spawn sim "$HAZMON_SIM" -p 0 -P "$T/sim.port" -c "$T/sim.fifo" -S "$T/sim.stats" -f "$T/plant.sim"
SIM_FIFO=$T/sim.fifo
wait_for 20 test -s "$T/sim.port" || bail "simulator did not start"
SIM_PORT=$(cat "$T/sim.port")

bench_conf "$T/h.conf" "$DEVICES" "$REGS" false "$T/state" 'control_socket = "";'

requests() { awk '$1 == "requests" { print $2 }' "$T/sim.stats"; }

measure() {	# measure BUILD: sets IR (instructions) and REQ (requests served)
	local b=$1 out=$T/cg.$RANDOM r0 r1
	sim_stat requests >/dev/null
	r0=$(requests)
	spawn cg valgrind --tool=callgrind --callgrind-out-file="$out" \
	    "$b/hazmond" -c "$T/h.conf" -P "$b/plugins/.libs"
	sleep "$WINDOW"
	stop_pid "$LAST_PID"
	sim_stat requests >/dev/null
	r1=$(requests)
	IR=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	REQ=$((r1 - r0))
}

measure "$(cd "$1" && pwd)"; A_IR=$IR A_REQ=$REQ
measure "$(cd "$2" && pwd)"; B_IR=$IR B_REQ=$REQ
mkdir -p "$top/bench/results"
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) $DEVICES devices x $REGS registers, one request per sensor, ${WINDOW} s under callgrind"
	echo
	echo "host: $(uname -n), $(nproc) cores; commit $(git -C "$top" rev-parse --short HEAD)"
	echo
	echo "| build | instructions | requests served | instructions per request |"
	echo "|---|---|---|---|"
	echo "| A: $1 ($("$1/hazmond" --version)) | $A_IR | $A_REQ | $((A_IR / (A_REQ > 0 ? A_REQ : 1))) |"
	echo "| B: $2 ($("$2/hazmond" --version)) | $B_IR | $B_REQ | $((B_IR / (B_REQ > 0 ? B_REQ : 1))) |"
	echo
	echo "B / A per request: $(echo "scale=3; ($B_IR / $B_REQ) / ($A_IR / $A_REQ)" | bc)"
} | tee -a "$top/bench/results/link.md"
ok "measured"
done_testing
