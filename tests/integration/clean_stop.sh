#!/bin/bash
# A clean stop looks like one (issue 12, item 15): SIGTERM logs no "lost
# connection (No error.)" or "cannot connect ... No error." for our own
# disconnect, and the last line says hazmond stopped, with what each
# destination has still to receive.  Also (item 18): event log lines say
# "value null" where MQTT says null.
. "$top_srcdir/tests/lib.sh"

start_broker; UP=$BROKER_PORT
start_sub "$T/sub.out"
# A port nobody listens on: a broker started and stopped again.
start_broker; DOWN=$BROKER_PORT; stop_pid "$BROKER_PID"; forget_pid "$BROKER_PID"
BROKER_PORT=$UP
# Unit 1 answers; unit 2 does not exist and gives a comm-loss fault event.
echo "set 1 holding 0 3" >"$T/plant.sim"
start_sim 0 "$T/plant.sim"

conf() {	# conf FILE STATEDIR DEST...: DEST is NAME:PORT
	local f=$1 st=$2 d sep=""; shift 2
	{
		echo "site = { id = \"stop\"; };"
		echo "daemon = { state_dir = \"$st\"; control_socket = \"\"; };"
		echo "mqtt = ("
		for d in "$@"; do
			echo "$sep { name = \"${d%%:*}\"; host = \"127.0.0.1\"; port = ${d#*:}; keepalive = 5; }"
			sep=","
		done
		echo ");"
		echo "buses = ( { name = \"b\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIM_PORT; timeout_ms = 200; retries = 0; fault_after = 1; } );"
		echo "sensors = ("
		echo "  { id = \"ok1\"; plugin = \"gas\"; bus = \"b\"; slave = 1; interval = 0.2;"
		echo "    register = { table = \"holding\"; address = 0; }; unit = \"ppm\";"
		echo "    levels = ( { name = \"high\"; above = 50.0; } ); },"
		echo "  { id = \"dead2\"; plugin = \"gas\"; bus = \"b\"; slave = 2; interval = 0.2;"
		echo "    register = { table = \"holding\"; address = 0; }; unit = \"ppm\";"
		echo "    levels = ( { name = \"high\"; above = 50.0; } ); }"
		echo ");"
	} >"$f"
}

# after_stop LOG: the lines logged from the signal on.
after_stop() { sed -n '/signal 15: stopping/,$p' "$1"; }

# stop_and_check NAME LOG EXPECTED-LAST-LINE-REGEX
stop_and_check() {
	local name=$1 log=$2 want=$3 rc
	kill -TERM "$HAZMOND_PID"
	wait_exit "$HAZMOND_PID" 10
	wait "$HAZMOND_PID"; rc=$?
	forget_pid "$HAZMOND_PID"
	check "$name: exits 0 on SIGTERM" test "$rc" = 0
	check "$name: the stop is logged" grep -q 'signal 15: stopping' "$log"
	check "$name: no \"No error\" warning" not grep -q 'No error' "$log"
	check "$name: no lost-connection or cannot-connect line for our own goodbye" \
	    not grep -q -E 'lost connection|cannot connect' <(after_stop "$log")
	check "$name: last line: $(tail -n 1 "$log")" \
	    grep -q -E "$want" <(tail -n 1 "$log")
}

# 1. One destination, its broker up: everything delivered.
conf "$T/one.conf" "$T/st1" "bureau:$UP"
start_hazmond "$T/one.conf" one
check "one: the comm-loss fault reaches the broker" \
    wait_event "$T/sub.out" dead2 '.kind == "fault" and .event == "raised"'
# Item 18: a fault without a value is logged as MQTT shows it, null.
check "one: the fault event's log line says value null, not nan" \
    grep -q 'event seq 1: sensor dead2 fault .* raised value null$' "$T/one.log"
check "one: no nan in the log" not grep -q -w nan "$T/one.log"
stop_and_check one "$T/one.log" \
    '^hazmond: info: stopped; undelivered events: bureau 0$'
check "one: the offline status is published" \
    wait_for 5 grep -q '^hazmon/stop/status {"state":"offline"' "$T/sub.out"

# 2. Two destinations, the enterprise broker down: its events wait.
conf "$T/two.conf" "$T/st2" "bureau:$UP" "enterprise:$DOWN"
start_hazmond "$T/two.conf" two
check "two: the fault is logged" wait_for 10 logged_seq_ge 1 "$T/two.log"
check "two: ... and reaches the bureau" wait_for 10 \
    test "$(events "$T/sub.out" dead2 | wc -l)" -ge 2
n=$(max_logged_seq "$T/two.log")
stop_and_check two "$T/two.log" \
    "^hazmond: info: stopped; undelivered events: bureau 0, enterprise $n\$"

done_testing
