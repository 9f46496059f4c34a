#!/bin/bash
# bench/link_callgrind.sh - instructions per Modbus request, two builds side
# by side: hazmond under valgrind --tool=callgrind reads DEVICES simulated
# TCP devices x REGS registers with one request per sensor (coalescing off,
# so the request path dominates) for SECONDS_ after WARMUP seconds (start-up
# is not counted); instruction counts do not depend on how busy the machine
# is, so two builds compare as a ratio.
#
#   bash bench/link_callgrind.sh BUILD_A BUILD_B      (e.g. before and after)
#   DEVICES=20 REGS=25 SECONDS_=20 WARMUP=5            (environment knobs)
#   PER=reading DEVICES=200 REGS=50                    (instructions per reading,
#                                                      coalescing on: the whole
#                                                      path of a reading)
#   CG_KEEP=DIR                                        (keep callgrind's files there,
#                                                      for callgrind_annotate)
# Appends a table to bench/results/link.md (PER=reading: reading.md).
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
[ $# = 2 ] || { echo "usage: $0 BUILD_A BUILD_B" >&2; exit 2; }
export top_srcdir=$top top_builddir=$(cd "$1" && pwd)
. "$top/tests/lib.sh"
. "$top/bench/lib.sh"
DEVICES=${DEVICES:-20} REGS=${REGS:-25} WINDOW=${SECONDS_:-20} WARMUP=${WARMUP:-5}
PER=${PER:-request}
case $PER in
request) COALESCE=false RESULTS=link.md ;;
reading) COALESCE=true RESULTS=reading.md ;;
*) bail "PER is request or reading" ;;
esac
command -v valgrind >/dev/null || bail "valgrind is not installed"

start_broker
bench_sim "$DEVICES" "$REGS" 1

bench_conf "$T/h.conf" "$DEVICES" "$REGS" "$COALESCE" "$T/state" 'control_socket = "";'

# Requests served, or registers delivered (= readings: one per sensor).
requests() {
	if [ "$PER" = request ]; then
		awk '$1 == "requests" { print $2 }' "$T/sim.stats"
	else
		awk '$1 ~ /^unit\.[0-9]+\.fc\.3\.items$/ { s += $2 } END { print s + 0 }' \
		    "$T/sim.stats"
	fi
}

measure() {	# measure BUILD: sets IR (instructions) and REQ (requests served)
	local b=$1 out=$T/cg.$RANDOM r0 r1 pid
	rm -rf "$T/state"
	spawn cg valgrind --tool=callgrind --instr-atstart=no \
	    --callgrind-out-file="$out" "$b/hazmond" -c "$T/h.conf" -P "$b/plugins/.libs"
	pid=$LAST_PID
	sleep "$WARMUP"
	callgrind_control -i on "$pid" >/dev/null
	sim_stat requests >/dev/null
	r0=$(requests)
	sleep "$WINDOW"
	callgrind_control -i off "$pid" >/dev/null
	stop_pid "$pid"
	sim_stat requests >/dev/null
	r1=$(requests)
	[ -z "${CG_KEEP:-}" ] || cp "$out" "$CG_KEEP/callgrind.$(basename "$b").out"
	IR=$(callgrind_annotate "$out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
	REQ=$((r1 - r0))
}

measure "$(cd "$1" && pwd)"; A_IR=$IR A_REQ=$REQ
measure "$(cd "$2" && pwd)"; B_IR=$IR B_REQ=$REQ
mkdir -p "$top/bench/results"
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) $DEVICES devices x $REGS registers, $([ "$PER" = request ] && echo "one request per sensor" || echo coalescing), ${WINDOW} s under callgrind after ${WARMUP} s"
	echo
	echo "host: $(uname -n), $(nproc) cores; commit $(git -C "$top" rev-parse --short HEAD)"
	echo
	echo "| build | instructions | ${PER}s | instructions per $PER |"
	echo "|---|---|---|---|"
	echo "| A: $1 ($("$1/hazmond" --version)) | $A_IR | $A_REQ | $((A_IR / (A_REQ > 0 ? A_REQ : 1))) |"
	echo "| B: $2 ($("$2/hazmond" --version)) | $B_IR | $B_REQ | $((B_IR / (B_REQ > 0 ? B_REQ : 1))) |"
	echo
	echo "B / A per $PER: $(echo "scale=3; ($B_IR / $B_REQ) / ($A_IR / $A_REQ)" | bc)"
} | tee -a "$top/bench/results/$RESULTS"
ok "measured"
done_testing
