#!/bin/bash
# A bus with more to read than its line carries in an interval shows it
# (issue 15): hazmonctl status names each bus's worst poll lateness.  An
# RS-485 line at 9600 baud with 30 slaves polled every 0.05 s needs some
# 20 ms a slave, so its polls start hundreds of ms late; a TCP bus with
# one sensor a second does not.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl

start_broker
echo "set 1 holding 0 5" >"$T/tcp.sim"
start_sim 0 "$T/tcp.sim"
start_pty_pair
for u in $(seq 30); do echo "set $u holding 0 7"; done >"$T/rtu.sim"
start_rtu_sim "$T/rtu.sim"
{
	echo 'site = { id = "late"; };'
	echo "daemon = { state_dir = \"$T/state\"; control_socket = \"$T/ctl.sock\"; };"
	echo "mqtt = ( { host = \"127.0.0.1\"; port = $BROKER_PORT; } );"
	echo "buses = ( { name = \"tcp\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIM_PORT; },"
	echo "          { name = \"rs485\"; type = \"rtu\"; device = \"$T/ttyB\"; baud = 9600; timeout_ms = 200; } );"
	echo "sensors = ( { id = \"t\"; plugin = \"generic\"; bus = \"tcp\"; slave = 1; interval = 1.0;"
	echo "    register = { table = \"holding\"; address = 0; }; }"
	for u in $(seq 30); do
		echo ", { id = \"r$u\"; plugin = \"generic\"; bus = \"rs485\"; slave = $u; interval = 0.05;"
		echo "    register = { table = \"holding\"; address = 0; }; }"
	done
	echo ");"
} >"$T/hazmond.conf"
start_hazmond "$T/hazmond.conf"
wait_for 10 test -S "$T/ctl.sock" || bail "no control socket"
late() { "$HAZMONCTL" -s "$T/ctl.sock" status --json |
    jq -e --arg b "$1" '.buses[] | select(.name == $b) | .worst_lateness_ms'; }
overloaded() { [ "$(late rs485)" -ge 100 ] 2>/dev/null; }
check "the overloaded RS-485 line shows polls hundreds of ms late" wait_for 20 overloaded
echo "# rs485 worst lateness $(late rs485) ms, tcp $(late tcp) ms"
check "the TCP bus with one sensor a second does not (under 100 ms)" \
    test "$(late tcp)" -lt 100
done_testing
