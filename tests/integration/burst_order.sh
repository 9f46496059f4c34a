#!/bin/bash
# Within a burst, alarms go out most urgent first (issue 15): 24 sensors
# on one slave, read in one request, cross their set points in the same
# poll; the events' seq (the order of publishing) puts raised urgent
# alarms first, then high, medium, low, and clears last, while a sensor's
# own events keep their order and stay together.  The config lists the
# sensors least urgent first, so the order of the config is not it.
. "$top_srcdir/tests/lib.sh"

start_broker
start_sub "$T/sub.out"
{
	for i in $(seq 0 23); do echo "set 1 holding $i 0"; done
	echo "set 1 holding 24 90"	# "was": in alarm from the start
} >"$T/plant.sim"
start_sim 0 "$T/plant.sim"
prio() { case $(( $1 / 6 )) in 0) echo low ;; 1) echo medium ;; 2) echo high ;; *) echo urgent ;; esac; }
{
	echo 'site = { id = "order"; };'
	echo "daemon = { state_dir = \"$T/state\"; };"
	echo "mqtt = ( { name = \"local\"; host = \"127.0.0.1\"; port = $BROKER_PORT; } );"
	echo "buses = ( { name = \"b\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIM_PORT; timeout_ms = 300; } );"
	echo "sensors = ("
	for i in $(seq 0 23); do
		echo "  { id = \"s$i\"; plugin = \"gas\"; bus = \"b\"; slave = 1; interval = 0.2;"
		echo "    register = { table = \"holding\"; address = $i; }; unit = \"ppm\";"
		echo "    levels = ( { name = \"high\"; above = 50.0; priority = \"$(prio "$i")\"; } ); },"
	done
	# Two levels, low and urgent: both raise in one reading.
	echo "  { id = \"two\"; plugin = \"gas\"; bus = \"b\"; slave = 1; interval = 0.2;"
	echo "    register = { table = \"holding\"; address = 25; }; unit = \"ppm\";"
	echo "    levels = ( { name = \"first\"; above = 20.0; priority = \"low\"; },"
	echo "               { name = \"second\"; above = 50.0; priority = \"urgent\"; } ); },"
	echo "  { id = \"was\"; plugin = \"gas\"; bus = \"b\"; slave = 1; interval = 0.2;"
	echo "    register = { table = \"holding\"; address = 24; }; unit = \"ppm\";"
	echo "    levels = ( { name = \"high\"; above = 50.0; priority = \"urgent\"; } ); }"
	echo ");"
} >"$T/hazmond.conf"
start_hazmond "$T/hazmond.conf"
wait_for 10 grep -q '^hazmon/order/status {"state":"online"' "$T/sub.out" ||
    bail "hazmond not online"
check "the sensor in alarm from the start raised it" wait_for 10 have_all_seqs "$T/sub.out" 1
# Every change in one write to the simulator's FIFO: it applies them all
# before it answers the next request, so one poll (one batch) sees them.
{
	for i in $(seq 0 23); do echo "set 1 holding $i 60"; done
	echo "set 1 holding 25 60"
	echo "set 1 holding 24 0"
} >"$SIM_FIFO"
check "all 27 events of the burst arrived" wait_for 10 have_all_seqs "$T/sub.out" 28

# The burst's events in seq order: "sensor level event priority".
burst=$(grep '^hazmon/order/events/' "$T/sub.out" | cut -d' ' -f2- |
    jq -s -r 'unique_by(.seq) | sort_by(.seq) | .[1:][] |
    "\(.sensor) \(.level) \(.event) \(.priority)"')
echo "$burst" | sed 's/^/# /'
rank() { case $1 in urgent) echo 4 ;; high) echo 3 ;; medium) echo 2 ;; low) echo 1 ;; esac; }
order_ok() {	# raises by non-increasing priority of their sensor, then the clear
	local prev=9 r seen_clear=0 s l e p
	while read -r s l e p; do
		if [ "$e" = cleared ]; then seen_clear=1; continue; fi
		[ "$seen_clear" = 0 ] || return 1
		# the two-level sensor counts by its most urgent level
		[ "$s" = two ] && p=urgent
		r=$(rank "$p")
		[ "$r" -le "$prev" ] || return 1
		prev=$r
	done <<<"$burst"
	[ "$seen_clear" = 1 ]
}
check "raised alarms come most urgent first, the clear last" order_ok
check "the 8 events of urgent sensors lead the burst" \
    test "$(echo "$burst" | head -n 8 | grep -c -E ' urgent$|^two ')" = 8
check "a sensor's own events stay together and in order (first, then second)" \
    test "$(echo "$burst" | grep -n '^two ' | cut -d: -f1 | tr '\n' ' ')" = "$(
    echo "$burst" | grep -n '^two first' | cut -d: -f1) $(( $(echo "$burst" |
    grep -n '^two first' | cut -d: -f1) + 1 )) "
check "the clear is the last event of the burst" \
    test "$(echo "$burst" | tail -n 1)" = "was high cleared urgent"
done_testing
