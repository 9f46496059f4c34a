#!/bin/bash
# A destination whose broker name takes long to resolve (a hanging DNS,
# simulated by a test hook that delays its connect by 8 s) must not hold up
# anything else: the other destination gets the alarm at once, the control
# socket answers, and the slow one gets it (replayed) once it connects.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl

start_broker
FAST_PORT=$BROKER_PORT
start_sub "$T/fast.out"
start_broker
SLOW_PORT=$BROKER_PORT
start_sub "$T/slow.out"
echo "set 1 holding 0 5" >"$T/plant.sim"
start_sim 0 "$T/plant.sim"
cat >"$T/hazmond.conf" <<EOC
site = { id = "dial"; };
daemon = { state_dir = "$T/state"; control_socket = "$T/ctl.sock"; };
mqtt = ( { name = "slow"; host = "127.0.0.1"; port = $SLOW_PORT; keepalive = 5; },
         { name = "fast"; host = "127.0.0.1"; port = $FAST_PORT; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = ( { id = "h2s"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.2;
              register = { table = "holding"; address = 0; }; unit = "ppm";
              levels = ( { name = "high"; above = 10.0; } ); } );
EOC
spawn hazmond env HAZMOND_TEST_DIAL_DELAY=slow:8000 "$HAZMOND" -c "$T/hazmond.conf" -P "$PLUGIN_DIR"
HAZMOND_PID=$LAST_PID
wait_for 10 test -S "$T/ctl.sock" || bail "no control socket"
fast_online() { grep -q '^hazmon/dial/status {"state":"online"' "$T/fast.out"; }
check "the fast destination connects while the slow one is still dialing" wait_for 5 fast_online
sim set 1 holding 0 20
raised() { has_event "$1" h2s '.event == "raised"'; }
check "the alarm reaches the fast destination at once" wait_for 3 raised "$T/fast.out"
"$HAZMONCTL" -s "$T/ctl.sock" --json status >"$T/status.json"
check "hazmonctl answers meanwhile; slow is not connected, 1 event undelivered" jq_true \
    '(.destinations[] | select(.name == "slow") | (.connected | not) and .undelivered == 1) and (.destinations[] | select(.name == "fast") | .connected)' \
    "$T/status.json"
check "a connect that takes longer than keepalive is logged" wait_for 10 grep -q \
    'mqtt slow: connecting to broker 127.0.0.1:[0-9]* has taken over 5 s' "$T/hazmond.log"
check "once connected, the slow destination gets the alarm, replayed" \
    wait_for 15 has_event "$T/slow.out" h2s '.event == "raised" and .replayed'
check "hazmond is still running" kill -0 "$HAZMOND_PID"
done_testing
