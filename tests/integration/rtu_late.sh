#!/bin/bash
# RS-485: a slave that answers a read after hazmond's timeout (issue 12,
# item 4).  Nothing in an RTU reply names the registers it answers, so a
# late reply left on the line would be taken for the next request's: the
# value of one register published as another's, with quality ok.  hazmond
# must drain the line until the late reply is due, drop it (and say so),
# and never attribute a value to the wrong register; the neighbouring slave
# must not fault.
. "$top_srcdir/tests/lib.sh"

start_broker
start_sub "$T/sub.out"
start_pty_pair
cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 11
set 1 holding 10 22
set 1 holding 20 33
set 2 holding 0 44
EOS
start_rtu_sim "$T/plant.sim"
cat >"$T/hazmond.conf" <<EOC
site = { id = "late"; };
daemon = { state_dir = "$T/state"; };
mqtt = ( { host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "rs485a"; type = "rtu"; device = "$T/ttyB"; baud = 9600;
            timeout_ms = 300; retries = 1; fault_after = 3; coalesce = false; } );
sensors = (
  { id = "r0"; plugin = "gas"; bus = "rs485a"; slave = 1; interval = 0.5; unit = "ppm";
    register = { table = "holding"; address = 0; }; levels = ( { name = "high"; above = 90.0; } ); },
  { id = "r10"; plugin = "gas"; bus = "rs485a"; slave = 1; interval = 0.5; unit = "ppm";
    register = { table = "holding"; address = 10; }; levels = ( { name = "high"; above = 90.0; } ); },
  { id = "r20"; plugin = "gas"; bus = "rs485a"; slave = 1; interval = 0.5; unit = "ppm";
    register = { table = "holding"; address = 20; }; levels = ( { name = "high"; above = 90.0; } ); },
  { id = "n2"; plugin = "gas"; bus = "rs485a"; slave = 2; interval = 0.5; unit = "ppm";
    register = { table = "holding"; address = 0; }; levels = ( { name = "high"; above = 90.0; } ); }
);
EOC
start_hazmond "$T/hazmond.conf"
S=$T/sub.out
check "all four sensors read" wait_for 10 sh -c "
    grep -q '/sensors/r0/state .*\"value\":11' '$S' &&
    grep -q '/sensors/r10/state .*\"value\":22' '$S' &&
    grep -q '/sensors/r20/state .*\"value\":33' '$S' &&
    grep -q '/sensors/n2/state .*\"value\":44' '$S'"

# Eight times: slave 1 answers the reads of a 0.4 s window 450 ms late
# (the simulator's other units go on answering meanwhile), then is prompt.
for i in $(seq 8); do
	printf 'fault 1 delay 450 free\nsleep 0.4\nfault 1 none\nsleep 1.6\n' >"$SIM_FIFO"
done
sleep 17

# values SENSOR: every value its state topic carried (null for a fault).
values() {
	grep "^hazmon/late/sensors/$1/state " "$S" | cut -d' ' -f2- | jq -r .value
}
only() {	# only SENSOR VALUE: it never showed any other value
	[ -z "$(values "$1" | grep -v -x -e "$2" -e null)" ]
}
check "r0 never showed another register's value ($(values r0 | sort -u | tr '\n' ' '))" only r0 11
check "r10 never showed another register's value ($(values r10 | sort -u | tr '\n' ' '))" only r10 22
check "r20 never showed another register's value ($(values r20 | sort -u | tr '\n' ' '))" only r20 33
check "n2 never showed another value" only n2 44
check "late replies were dropped and logged naming bus and slave" \
    grep -q 'bus rs485a slave 1: dropped a late reply' "$T/hazmond.log"
check "the neighbouring slave 2 never faulted" not grep -q '/events/n2 ' "$S"
check "slave 1 is read again after the episodes" wait_for 5 sh -c "
    tail -n 20 '$S' | grep -q '/sensors/r20/state .*\"value\":33'"
done_testing
