#!/bin/bash
# bench/reload.sh - what a configuration reload costs at the size of the
# acquisition benchmark: DEVICES Modbus TCP devices (one bus each) x REGS
# sensors.  Times `hazmonctl reload` (parse + validate in a loader thread,
# then the swap on the core thread; answered when done) and how long the
# swap held the core (from hazmond's log), for an unchanged file and for files where one sensor's
# setpoint changed, on another bus each time (that bus restarts), and RSS
# after each series: reloads must not leak, and old configurations kept
# for running workers must not pile up.
#
#   bash bench/reload.sh [BUILD_DIR]      (default _build)
#   DEVICES=200 REGS=50 RELOADS=20        (environment knobs)
# Appends a table to bench/results/reload.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top top_builddir=$(cd "${1:-$top/_build}" && pwd)
. "$top/tests/lib.sh"
DEVICES=${DEVICES:-200} REGS=${REGS:-50} RELOADS=${RELOADS:-20}
CTL=$top_builddir/hazmonctl

start_broker
{
	for u in $(seq "$DEVICES"); do
		for r in $(seq 0 $((REGS - 1))); do echo "set $u holding $r $((r + u % 7))"; done
	done
} >"$T/plant.sim"
start_sim 0 "$T/plant.sim"

conf() {	# conf FILE BUS: sensor dBUS-r0 gets another setpoint (0: none)
	{
		echo 'site = { id = "bench"; };'
		echo "daemon = { state_dir = \"$T/state\"; log_level = \"notice\";"
		echo "  control_socket = \"$T/ctl.sock\"; };"
		echo "mqtt = ( { host = \"127.0.0.1\"; port = $BROKER_PORT; } );"
		echo "buses = ("
		for u in $(seq "$DEVICES"); do
			[ "$u" = 1 ] || echo ","
			echo "  { name = \"d$u\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIM_PORT; }"
		done
		echo "); sensors = ("
		for u in $(seq "$DEVICES"); do
			for r in $(seq 0 $((REGS - 1))); do
				[ "$u$r" = 10 ] || echo ","
				sp=1000; [ "$u" = "$2" ] && [ "$r" = 0 ] && sp=999
				echo "  { id = \"d$u-r$r\"; plugin = \"generic\"; bus = \"d$u\"; slave = $u; interval = 1.0;"
				echo "    register = { table = \"holding\"; address = $r; };"
				echo "    levels = ( { name = \"high\"; above = $sp; } ); }"
			done
		done
		echo ");"
	} >"$1"
}

rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }
# reload_ms: one hazmonctl reload, its wall time in ms; fails on refusal.
reload_ms() {
	local t0 t1
	t0=$(ms_now)
	"$CTL" -s "$T/ctl.sock" --json reload >"$T/reload.json" || return 1
	t1=$(ms_now)
	echo $((t1 - t0))
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

conf "$T/hazmond.conf" 0
start_hazmond "$T/hazmond.conf"
wait_for 30 test -S "$T/ctl.sock" || bail "no control socket"
sleep 3
rss0=$(rss_kb "$HAZMOND_PID")
same=$(for i in $(seq "$RELOADS"); do reload_ms; done | median)
restarted_same=$(jq '.buses_restarted | length' "$T/reload.json")
holds() { sed -n 's/.*the swap held the core \([0-9]*\) ms.*/\1/p' "$T/hazmond.log"; }
hold_same=$(holds | median)
rss1=$(rss_kb "$HAZMOND_PID")
changed=$(for i in $(seq "$RELOADS"); do
	conf "$T/hazmond.conf" "$i"; reload_ms
done | median)
restarted_changed=$(jq '.buses_restarted | length' "$T/reload.json")
hold_changed=$(holds | tail -n "$RELOADS" | median)
changed_n=$(jq '.changed | length' "$T/reload.json")
sleep 2
rss2=$(rss_kb "$HAZMOND_PID")
up=$("$CTL" -s "$T/ctl.sock" --json status | jq '[.buses[] | select(.connected)] | length')

out=$top/bench/results/reload.md
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%MZ) $(git -C "$top" rev-parse --short HEAD 2>/dev/null) $(nproc) CPUs"
	echo
	echo "$DEVICES buses x $REGS sensors = $((DEVICES * REGS)) sensors; $RELOADS reloads each."
	echo
	echo "| reload | median wall time (hazmonctl) | median core hold (swap) | buses restarted | sensors changed |"
	echo "|---|---|---|---|---|"
	echo "| unchanged file | $same ms | $hold_same ms | $restarted_same | 0 |"
	echo "| one setpoint changed, another bus each time | $changed ms | $hold_changed ms | $restarted_changed | $changed_n |"
	echo
	echo "RSS: $rss0 kB before, $rss1 kB after $RELOADS unchanged reloads, $rss2 kB after $RELOADS more with a change."
	echo "Buses connected at the end: $up of $DEVICES."
} | tee -a "$out"
