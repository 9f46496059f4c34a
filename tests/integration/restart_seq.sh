#!/bin/bash
# Durability: an event committed while the broker is down survives a
# SIGKILL of hazmond and is delivered after restart, flagged replayed, with
# its original seq and ts; seq continues after the restart, never reused.
. "$top_srcdir/tests/lib.sh"

start_broker
BPORT=$BROKER_PORT
start_sub "$T/sub1.out"
cat >"$T/plant.sim" <<'EOS'
set 1 holding 10 5
EOS
start_sim 0 "$T/plant.sim"
cat >"$T/hazmond.conf" <<EOC
site = { id = "dur"; };
daemon = { state_dir = "$T/state"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BPORT; keepalive = 5; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 200; } );
sensors = ( { id = "h2s"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.2;
              register = { table = "holding"; address = 10; type = "uint16"; };
              unit = "ppm"; levels = ( { name = "first"; above = 10.0; } ); } );
EOC
start_hazmond "$T/hazmond.conf"
S1=$T/sub1.out
wait_for 10 grep -q '^hazmon/dur/status {"state":"online"' "$S1" || bail "hazmond not online"

sim set 1 holding 10 15
check "live event delivered" wait_event "$S1" h2s '.event == "raised" and .replayed == false'
seq1=$(events "$S1" h2s | jq -s '.[0].seq')

# Broker down; the clear happens while nobody can receive it.
stop_pid "$BROKER_PID"; forget_pid "$BROKER_PID"
sim set 1 holding 10 2
check "clear committed to the ledger while the broker is down" \
    wait_for 10 grep -q "event seq $((seq1 + 1)): sensor h2s alarm first cleared" "$T/hazmond.log"
kill -KILL "$HAZMOND_PID"; wait "$HAZMOND_PID" 2>/dev/null; forget_pid "$HAZMOND_PID"

start_broker "$BPORT"
start_sub "$T/sub2.out"
S2=$T/sub2.out
t_restart=$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)
start_hazmond "$T/hazmond.conf"
check "undelivered clear replayed after restart" \
    wait_event "$S2" h2s ".event == \"cleared\" and .seq == $((seq1 + 1)) and .replayed == true"
check "replayed event keeps its original time stamp (before the restart)" \
    has_event "$S2" h2s ".seq == $((seq1 + 1)) and .ts < \"$t_restart\""
sim set 1 holding 10 20
check "seq continues after restart" \
    wait_event "$S2" h2s ".event == \"raised\" and .seq == $((seq1 + 2)) and .replayed == false"
check "no event delivered twice to the new subscriber" \
    jq_events "$S2" h2s '[.[].seq] | length == (unique | length)'
done_testing
