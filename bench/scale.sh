#!/bin/bash
# bench/scale.sh - hazmond at the sizes of issue 15: many Modbus TCP devices
# (one connection and one worker thread each), and many RS-485 lines (RTU
# over pty pairs, several slaves per line), every register a sensor polled
# every second.  For each: CPU per reading, RSS, threads, Modbus requests
# per cycle, readings per second against the target, and the worst poll
# lateness over all buses (`hazmonctl status`, worst_lateness_ms).
#
#   bash bench/scale.sh [BUILD_DIR]                       (default _build)
#   DEVICES=1000 REGS=10  LINES=20 SLAVES=10 BAUD=19200 SECONDS_=60 WARMUP=10
#   MODE=tcp | MODE=rtu                                   (one of the two)
# Appends a table to bench/results/scale.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top top_builddir=$(cd "${1:-$top/_build}" && pwd)
. "$top/tests/lib.sh"
. "$top/bench/lib.sh"
DEVICES=${DEVICES:-1000} REGS=${REGS:-10} LINES=${LINES:-20} SLAVES=${SLAVES:-10}
BAUD=${BAUD:-19200} WINDOW=${SECONDS_:-60} WARMUP=${WARMUP:-10} MODE=${MODE:-both}
CLK=$(getconf CLK_TCK)
CTL=$top_builddir/hazmonctl

start_broker
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
# Registers delivered (= readings: one register per sensor), all simulators.
items() {
	cat "$T"/sim*.stats 2>/dev/null |
	    awk '$1 ~ /^unit\.[0-9]+\.fc\.3\.items$/ { s += $2 } END { print s + 0 }'
}
stats_send() {	# every simulator writes its counters (within a second)
	local f
	for f in "$T"/sim*.fifo; do echo stats >"$f"; done
}

# measure LABEL CONF TARGET: one row of the table.
measure() {
	local label=$1 conf=$2 target=$3 t0 t1 i0 i1 pid st
	start_hazmond "$conf" "hazmond-$label"
	pid=$HAZMOND_PID
	sleep "$WARMUP"
	kill -0 "$pid" 2>/dev/null || bail "hazmond died: $(tail -3 "$T/hazmond-$label.log")"
	stats_send; t0=$(cpu_ticks "$pid"); sleep 1; i0=$(items)
	sleep $((WINDOW - 1))
	stats_send; t1=$(cpu_ticks "$pid"); sleep 1; i1=$(items)
	st=$("$CTL" -s "$T/ctl.sock" status --json)
	ROW="| $label | $(echo "scale=2; ($t1 - $t0) * 1000000 / $CLK / ($i1 - $i0 + 1)" | bc) |"
	ROW="$ROW $(echo "scale=1; $(awk '/VmRSS/ { print $2 }' "/proc/$pid/status") / 1024" | bc) |"
	ROW="$ROW $(awk '/Threads/ { print $2 }' "/proc/$pid/status") |"
	ROW="$ROW $(echo "$st" | jq '[.buses[].requests_per_cycle] | add') |"
	ROW="$ROW $(( (i1 - i0) / WINDOW )) of $target |"
	ROW="$ROW $(echo "$st" | jq '[.buses[].worst_lateness_ms] | max') |"
	stop_pid "$pid"
}

rows=()
if [ "$MODE" != rtu ]; then
	bench_sim "$DEVICES" "$REGS"
	bench_conf "$T/tcp.conf" "$DEVICES" "$REGS" true "$T/state-tcp" \
	    "control_socket = \"$T/ctl.sock\";"
	measure "TCP: $DEVICES devices x $REGS registers" "$T/tcp.conf" $((DEVICES * REGS))
	rows+=("$ROW")
	stop_pid "$SIM_PID"
	rm -f "$T"/sim*.stats "$T/sim.fifo"
fi
if [ "$MODE" != tcp ]; then
	{
		echo 'site = { id = "bench"; };'
		echo "daemon = { state_dir = \"$T/state-rtu\"; log_level = \"warning\"; control_socket = \"$T/ctl.sock\"; };"
		echo "mqtt = ( { host = \"127.0.0.1\"; port = $BROKER_PORT; } );"
		echo "buses = ("
		for l in $(seq "$LINES"); do
			[ "$l" = 1 ] || echo ","
			echo "  { name = \"line$l\"; type = \"rtu\"; device = \"$T/tty$l-b\"; baud = $BAUD; timeout_ms = 200; }"
		done
		echo "); sensors = ("
		for l in $(seq "$LINES"); do
			for u in $(seq "$SLAVES"); do
				for r in $(seq 0 $((REGS - 1))); do
					[ "$l$u$r" = 110 ] || echo ","
					echo "  { id = \"l$l-u$u-r$r\"; plugin = \"generic\"; bus = \"line$l\"; slave = $u; interval = 1.0;"
					echo "    register = { table = \"holding\"; address = $r; }; }"
				done
			done
		done
		echo ");"
	} >"$T/rtu.conf"
	for l in $(seq "$LINES"); do
		spawn "socat$l" socat "pty,raw,echo=0,link=$T/tty$l-a" "pty,raw,echo=0,link=$T/tty$l-b"
		wait_for 5 test -e "$T/tty$l-a" -a -e "$T/tty$l-b" || bail "socat made no pty pair"
		for u in $(seq "$SLAVES"); do
			for r in $(seq 0 $((REGS - 1))); do echo "set $u holding $r $((r + u))"; done
		done >"$T/line$l.sim"
		spawn "sim$l" "$HAZMON_SIM" -r "$T/tty$l-a" -b "$BAUD" -P "$T/sim$l.ready" \
		    -c "$T/sim$l.fifo" -S "$T/sim$l.stats" -f "$T/line$l.sim"
		wait_for 5 test -s "$T/sim$l.ready" || bail "RTU simulator $l did not start"
	done
	measure "RTU: $LINES lines x $SLAVES slaves x $REGS registers, $BAUD baud" \
	    "$T/rtu.conf" $((LINES * SLAVES * REGS))
	rows+=("$ROW")
fi

mkdir -p "$top/bench/results"
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) ${WINDOW} s window after ${WARMUP} s, every sensor at 1 s"
	echo
	echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); hazmond $("$HAZMOND" --version | cut -d' ' -f2), build of $(git -C "$top" rev-parse --short HEAD) ($top_builddir); load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| load | µs CPU per reading | RSS MiB | threads | requests per cycle | readings/s of target | worst poll lateness ms |"
	echo "|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} | tee -a "$top/bench/results/scale.md"
ok "measured"
done_testing
