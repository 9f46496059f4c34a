#!/bin/bash
# Modbus TCP replies that do not answer their request (issue 12, items 3, 5
# and 6): a reply for another unit id, with another protocol id or
# transaction id, an MBAP length that disagrees with the PDU, another
# function code, a wrong byte count, exceptions, garbage, a frame that
# trickles in one byte at a time.  Each is a failed read and becomes a
# device_error fault naming what was wrong; silence and a closed
# connection are a comm_loss.  A lie is never published as a value, the
# watchdog keeps being fed, and a healthy bus raises its alarm meanwhile.
. "$top_srcdir/tests/lib.sh"

start_broker
start_sub "$T/sub.out"
echo "set 1 holding 0 10" >"$T/plant.sim"
start_sim 0 "$T/plant.sim"
echo ok >"$T/h.mode"
spawn hostile python3 "$top_srcdir/tests/hostile-tcp.py" "$T/h.port" "$T/h.mode"
wait_for 5 test -s "$T/h.port" || bail "hostile device did not start"
HPORT=$(cat "$T/h.port")
cat >"$T/hazmond.conf" <<EOC
site = { id = "hostile"; };
daemon = { state_dir = "$T/state"; control_socket = "$T/ctl.sock"; };
mqtt = ( { host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = (
  { name = "good"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; },
  { name = "liar"; type = "tcp"; host = "127.0.0.1"; port = $HPORT; timeout_ms = 300;
    retries = 1; fault_after = 2; }
);
sensors = (
  { id = "ch4"; plugin = "gas"; bus = "good"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 0; };
    levels = ( { name = "first"; above = 20.0; } ); },
  { id = "hx"; plugin = "gas"; bus = "liar"; slave = 1; interval = 0.5; unit = "ppm";
    register = { table = "holding"; address = 5; }; range = 10000.0;
    levels = ( { name = "high"; above = 9000.0; } ); }
);
EOC
start_notify
spawn hazmond env NOTIFY_SOCKET="$NOTIFY_SOCK" WATCHDOG_USEC=2000000 \
    "$HAZMOND" -c "$T/hazmond.conf" -P "$PLUGIN_DIR"
HAZMOND_PID=$LAST_PID
S=$T/sub.out
check "the liar's register reads 1005 while it tells the truth" \
    wait_for 10 grep -q '/sensors/hx/state .*"value":1005' "$S"

n_fault() {	# n_fault EVENT: how many fault events of that kind hx had
	events "$S" hx | jq -s "map(select(.kind == \"fault\" and .event == \"$1\")) | length"
}
last_level() { events "$S" hx | jq -r 'select(.kind == "fault") | .level' | tail -n 1; }
last_error() { events "$S" hx | jq -r 'select(.kind == "fault" and .event == "raised") | .error' | tail -n 1; }
ge() { [ "$("$1" "$2")" -ge "$3" ]; }

# mode LEVEL LOGTEXT: lie that way until a fault is raised, then tell the
# truth again until it clears.
lie() {
	local m=$1 level=$2 text=$3 r c
	r=$(n_fault raised) c=$(n_fault cleared)
	echo "$m" >"$T/h.mode"
	check "'$m': a $level fault within 100 s" wait_for 100 ge n_fault raised $((r + 1))
	check "'$m': ... named $level (got $(last_level))" test "$(last_level)" = "$level"
	check "'$m': ... logged naming bus, slave, register and '$text'" \
	    grep -q "bus liar slave 1 holding address 5 count 1 (sensors hx): $text" "$T/hazmond.log"
	case $m in
	"exception 2") want="Modbus exception 2 (illegal data address)";;
	*) want=$text;;
	esac
	check "'$m': ... its event's error says '$want' (got '$(last_error)')" \
	    sh -c "case \"\$1\" in \"\$2\"*) ;; *) exit 1;; esac" - "$(last_error)" "$want"
	echo ok >"$T/h.mode"
	check "'$m': ... cleared once it tells the truth" wait_for 20 ge n_fault cleared $((c + 1))
	check "'$m': ... one fault for the whole lie, not a flapping reason" \
	    test "$(n_fault raised)" = $((r + 1))
}
lie wrongunit device_error "reply from another unit id"
lie proto device_error "reply with a protocol id other than 0"
lie wrongtid device_error "reply to another transaction"
lie mbaplong device_error "reply whose MBAP length disagrees with its PDU"
lie mbapshort device_error "reply whose MBAP length disagrees with its PDU"
lie oversize device_error "reply whose MBAP length disagrees with its PDU"
lie fc device_error "reply with another function code"
lie bytecount device_error "reply whose byte count is not the quantity asked"
lie "exception 2" device_error "Illegal data address"
lie "exception 32" device_error "exception with a code Modbus does not define"
lie garbage device_error ""
lie silence comm_loss "Connection timed out"
lie close comm_loss ""

# A frame of 260 bytes at one byte every 100 ms would take 26 s: the whole
# transaction has a deadline, so the poll ends in time and the watchdog is
# fed throughout; the healthy bus raises an alarm meanwhile.
wd_n() { grep -c 'WATCHDOG=1' "$RUN"; }
echo "trickle 100" >"$T/h.mode"
w0=$(wd_n)
t0=$(date +%s%N)
sim set 1 holding 0 30
check "a healthy bus's alarm is raised while the liar trickles" \
    wait_event "$S" ch4 '.kind == "alarm" and .event == "raised"' 5
t1=$(date +%s%N)
echo "# alarm on the healthy bus after $(( (t1 - t0) / 1000000 )) ms"
r=$(n_fault raised)
check "'trickle': a device_error fault within 100 s" wait_for 100 ge n_fault raised 1
sleep 4
check "'trickle': ... logged as not complete within the deadline" \
    grep -q 'hx): reply not complete within the transaction deadline' "$T/hazmond.log"
check "the watchdog is fed while the liar trickles ($(( $(wd_n) - w0 )) in 4+ s)" \
    test $(( $(wd_n) - w0 )) -ge 3
check "no worker was taken as stuck" not grep -q 'stuck' "$T/hazmond.log"
echo ok >"$T/h.mode"
check "the liar's register reads 1005 again" \
    wait_for 20 sh -c "tail -n 5 '$S' | grep -q '/sensors/hx/state .*\"value\":1005'"

# The truth in odd shapes: each reply twice in one segment (the copy is
# taken for a late reply and dropped, its successor still read), and a
# reply whose header and body come apart.  Neither is a fault, and the
# connection stays.
liar() {	# liar FIELD: that counter of the liar bus (hazmonctl status)
	"$top_builddir/hazmonctl" -s "$T/ctl.sock" status --json |
	    jq -r ".buses[] | select(.name == \"liar\") | .$1"
}
truth_shape() {	# truth_shape MODE SECONDS
	local f0 c0 q0 e0 q1 e1
	f0=$(n_fault raised) c0=$(grep -c 'connected to .* again' "$T/hazmond.log")
	echo "$1" >"$T/h.mode"
	sleep 1		# a request may have been on its way
	q0=$(liar requests) e0=$(liar failed)
	sleep "$2"
	q1=$(liar requests) e1=$(liar failed)
	check "'$1': the liar bus read on ($q0 -> $q1 requests)" test "$q1" -ge $((q0 + 2 * $2))
	check "'$1': ... and none failed ($e0 -> $e1)" test "$e1" = "$e0"
	check "'$1': ... no fault" test "$(n_fault raised)" = "$f0"
	check "'$1': ... no new connection" \
	    test "$(grep -c 'connected to .* again' "$T/hazmond.log")" = "$c0"
}
truth_shape double 3
check "'double': ... each copy dropped as a late reply" \
    grep -q 'bus liar slave 1: dropped a late reply to an earlier transaction' "$T/hazmond.log"
truth_shape split 3
echo ok >"$T/h.mode"
check "no lie was ever published as a value" not grep -q '"value":9999' "$S"
check "exception 2 is in the event as its code" \
    has_event "$S" hx '.level == "device_error" and .exception == 2'
check "hazmond survived every lie" kill -0 "$HAZMOND_PID"
check "ch4 was read throughout: no fault on the healthy bus" \
    not has_event "$S" ch4 '.kind == "fault"'
done_testing
