#!/bin/bash
# The alarm engine on the real daemon (issue 6): latching, acknowledge,
# shelve with expiry, out of service, frozen values, alarm-system health,
# and alarm states and seq that survive SIGKILL and SIGTERM restarts.
# Operator actions come over the (opt-in) MQTT command topics.
. "$top_srcdir/tests/lib.sh"

start_broker
start_sub "$T/sub.out"
cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 5.0 float32 CDAB
set 1 holding 2 7
set 1 holding 3 10
EOS
start_sim 0 "$T/plant.sim"
cat >"$T/hazmond.conf" <<EOC
site = { id = "eng"; };
daemon = { state_dir = "$T/state"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; commands = true; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = (
  { id = "ch4"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 0; type = "float32"; order = "CDAB"; };
    levels = ( { name = "first";  above = 20.0; deadband = 2.0; },
               { name = "second"; above = 50.0; deadband = 2.0; priority = "urgent"; latch = true; } ); },
  { id = "stuck"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.2; frozen_after = 1.0;
    register = { table = "holding"; address = 2; }; levels = ( { name = "high"; above = 50.0; } ); },
  { id = "chatter"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.1;
    register = { table = "holding"; address = 3; }; levels = ( { name = "high"; above = 50.0; } ); }
);
EOC
S=$T/sub.out
cmd() { mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "hazmon/eng/command/$1" -m "$2"; }
ev() { has_event "$S" ch4 "$1"; }
n_ev() { [ "$(events "$S" ch4 | jq -s "map(select($1)) | length")" -ge "$2" ]; }
online_n() { [ "$(grep -c '^hazmon/eng/status {"state":"online"' "$S")" -ge "$1" ]; }

start_hazmond "$T/hazmond.conf" hazmond1
wait_for 10 online_n 1 || bail "hazmond not online"

sim set 1 holding 0 55.0 float32 CDAB
check "both levels raised at 55 %LEL" wait_for 10 ev '.event == "raised" and .level == "second"'
sim set 1 holding 0 10.0 float32 CDAB
check "the non-latched level clears by itself" wait_for 10 ev '.event == "cleared" and .level == "first"'
sleep 1
check "the latched level stays raised after the value returned" \
    not ev '.event == "cleared" and .level == "second"'
check "state shows the latched alarm as unacknowledged" wait_for 5 grep -q \
    '/sensors/ch4/state .*"value":10.0.*"alarm":"second","alarm_state":"active_unacknowledged","unacknowledged":2' "$S"

# SIGKILL: the latched, unacknowledged alarm must still be there.
kill -KILL "$HAZMOND_PID"; wait "$HAZMOND_PID" 2>/dev/null; forget_pid "$HAZMOND_PID"
start_hazmond "$T/hazmond.conf" hazmond2
check "after SIGKILL the latched alarm is restored" \
    wait_for 10 grep -q 'sensor ch4 level second: active_unacknowledged, as before the restart' "$T/hazmond2.log"
check "... and raises nothing twice" sh -c "sleep 1; [ \$(grep -c '\"event\":\"raised\",\"level\":\"second\"' '$S') = 1 ]"

cmd ack '{"sensor":"ch4","actor":"li.wei"}'
check "acknowledge: the latched alarm clears with its acknowledgement" \
    wait_for 10 ev '.event == "cleared" and .level == "second"'
check "every acknowledgement is an event naming the operator" \
    n_ev '.event == "acknowledged" and .actor == "li.wei"' 2
cmd ack '{"sensor":"nosuch","actor":"li.wei"}'
check "a command for an unknown sensor is refused and logged" \
    wait_for 5 grep -q 'command ack sensor nosuch by li.wei refused: no such sensor' "$T/hazmond2.log"

cmd shelve '{"sensor":"ch4","duration":2,"reason":"bump test with calibration gas","actor":"zhang"}'
check "shelve is an event with reason, operator and expiry" wait_for 10 ev \
    '.event == "shelved" and .actor == "zhang" and .reason == "bump test with calibration gas" and (.until | type == "string")'
sim set 1 holding 0 60.0 float32 CDAB
sleep 1
check "no alarm is raised while shelved" test "$(events "$S" ch4 | jq -s 'map(select(.event == "raised")) | length')" = 2
check "the shelf expires by itself" wait_for 10 ev '.event == "unshelved" and .actor == "expiry"'
check "after expiry the standing condition raises its alarms" wait_for 10 n_ev '.event == "raised" and .level == "second"' 2

cmd oos '{"sensor":"ch4","on":true,"actor":"wang"}'
check "out of service is an event" wait_for 10 ev '.event == "out_of_service" and .actor == "wang"'
check "state quality shows out_of_service" \
    wait_for 5 grep -q '/sensors/ch4/state .*"quality":"out_of_service"' "$S"
cmd ack '{"sensor":"ch4","actor":"wang"}'
sim set 1 holding 0 4.0 float32 CDAB
cmd oos '{"sensor":"ch4","on":false,"actor":"wang"}'
check "back in service, the alarms say what is true now" \
    wait_for 10 n_ev '.event == "cleared" and .level == "second"' 2

check "a value that does not move is a frozen fault" \
    wait_event "$S" stuck '.kind == "fault" and .event == "raised" and .level == "frozen"'
sim set 1 holding 2 8
check "... cleared when it moves" \
    wait_event "$S" stuck '.kind == "fault" and .event == "cleared" and .level == "frozen"'

sim flap 1 holding 3 10 60 0.3
flood() { grep '^hazmon/eng/status ' "$S" | tail -n 1 | cut -d' ' -f2- |
    jq -e '.health.flood == true and .health.chattering >= 1 and .health.alarms_10min > 10' >/dev/null; }
check "a chattering level floods the alarm system: health says so in the status" wait_for 20 flood
sim flap 1 holding 3 off

last=$(seqs "$S" | sort -n | tail -n 1)
kill -TERM "$HAZMOND_PID"; wait_exit "$HAZMOND_PID" 10; forget_pid "$HAZMOND_PID"
start_hazmond "$T/hazmond.conf" hazmond3
wait_for 10 online_n 3 || bail "hazmond not online after SIGTERM restart"
sim set 1 holding 0 30.0 float32 CDAB
check "seq continues after a SIGTERM restart" \
    wait_event "$S" ch4 ".event == \"raised\" and .seq > $last"
check "seq strictly increasing, no gaps, over three runs" jq_events "$S" '.*' '
    [.[].seq] as $s | $s == ($s | sort | unique) and ($s[-1] - $s[0] + 1) == ($s | length)'
done_testing
