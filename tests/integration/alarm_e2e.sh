#!/bin/bash
# End to end: Modbus TCP simulator -> hazmond -> real Mosquitto -> subscriber.
# A gas value stepped across its setpoints must raise and clear events with
# every field of the contract; a dead device must raise a comm-loss fault
# and clear it when it answers again; SIGTERM must leave "offline".
. "$top_srcdir/tests/lib.sh"

start_broker
start_sub "$T/sub.out"
cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 5.0 float32 CDAB
set 2 input 3 209 int16
EOS
start_sim 0 "$T/plant.sim"

cat >"$T/hazmond.conf" <<EOC
site = { id = "e2e-site"; name = "E2E plant"; };
daemon = { state_dir = "$T/state"; log_level = "debug"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT;
            timeout_ms = 200; retries = 0; fault_after = 3; } );
sensors = (
  { id = "ch4-tank-a"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 0; type = "float32"; order = "CDAB"; };
    unit = "%LEL"; range = 100.0;
    levels = ( { name = "first";  above = 20.0; deadband = 2.0; priority = "high"; },
               { name = "second"; above = 50.0; deadband = 2.0; priority = "urgent"; } ); },
  { id = "o2-room"; plugin = "gas"; bus = "line1"; slave = 2; interval = 0.2;
    register = { table = "input"; address = 3; type = "int16"; scale = 0.1; };
    unit = "%VOL";
    levels = ( { name = "low"; below = 19.5; deadband = 0.2; } ); }
);
EOC
start_hazmond "$T/hazmond.conf"

S=$T/sub.out
check "status online is published, retained, with bdseq" \
    wait_for 10 grep -q '^hazmon/e2e-site/status {"state":"online".*"bdseq":' "$S"
check "state topic carries value, unit and quality" \
    wait_for 10 grep -q '^hazmon/e2e-site/sensors/ch4-tank-a/state .*"value":5.0,"unit":"%LEL","quality":"ok"' "$S"
check "int16 with scale reads 20.9 %VOL" \
    wait_for 10 grep -q '^hazmon/e2e-site/sensors/o2-room/state .*"value":20.9' "$S"
check "no event while values are normal" not grep -q '/events/' "$S"

sim set 1 holding 0 25.0 float32 CDAB
check "first level raised at 25 %LEL" \
    wait_event "$S" ch4-tank-a '.event == "raised" and .level == "first"'
check "raised event has every field of the contract" jq_events "$S" ch4-tank-a '
    .[0] | (.seq | type == "number") and .id == "e2e-site-\(.seq)" and
    (.ts | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$")) and
    .site == "e2e-site" and .sensor == "ch4-tank-a" and .kind == "alarm" and
    .event == "raised" and .level == "first" and .priority == "high" and
    .value == 25 and .unit == "%LEL" and .setpoint == 20 and .replayed == false and
    (.catalogue | test("^[0-9a-f]{16}$")) and (keys | length) == 14'
check "state shows the active alarm" \
    wait_for 5 grep -q '/sensors/ch4-tank-a/state .*"value":25.0.*"alarm":"first"' "$S"

sim set 1 holding 0 55.0 float32 CDAB
check "second level raised at 55 %LEL" \
    wait_event "$S" ch4-tank-a '.event == "raised" and .level == "second" and .priority == "urgent"'
sim set 1 holding 0 49.0 float32 CDAB
sleep 1	# inside the deadband: nothing may clear
check "49 %LEL is inside the deadband: second stays raised" \
    jq_events "$S" ch4-tank-a 'map(select(.event == "cleared")) | length == 0'
sim set 1 holding 0 10.0 float32 CDAB
check "both levels cleared, second before first" \
    wait_event "$S" ch4-tank-a '.event == "cleared" and .level == "first"'
check "clear order: second before first" jq_events "$S" ch4-tank-a '
    map(.event + ":" + .level) == ["raised:first","raised:second","cleared:second","cleared:first"]'

sim set 2 input 3 180 int16
check "below-setpoint level: oxygen deficiency raised" \
    wait_event "$S" o2-room '.event == "raised" and .level == "low" and .value == 18 and .setpoint == 19.5'

# The simulator dies: a comm-loss fault, not an alarm, and no invented value.
stop_pid "$SIM_PID"; forget_pid "$SIM_PID"
check "comm loss raises a fault event" \
    wait_event "$S" ch4-tank-a '.kind == "fault" and .event == "raised" and .level == "comm_loss" and .value == null'
check "state quality is fault with no value" \
    wait_for 5 grep -q '/sensors/ch4-tank-a/state .*"value":null,"unit":"%LEL","quality":"fault","fault":"comm_loss"' "$S"
check "a fault does not clear the oxygen alarm" \
    jq_events "$S" o2-room 'map(select(.kind == "alarm" and .event == "cleared")) | length == 0'
start_sim "$SIM_PORT" "$T/plant.sim"
check "fault cleared when the device answers again" \
    wait_event "$S" ch4-tank-a '.kind == "fault" and .event == "cleared" and .level == "comm_loss"' 15
check "oxygen alarm cleared after recovery (20.9 %VOL again)" \
    wait_event "$S" o2-room '.kind == "alarm" and .event == "cleared"'

check "seq strictly increasing across all events, no gap" jq_events "$S" '.*' '
    [.[].seq] as $s | $s == ($s | sort | unique) and ($s | length) == 10 and
    $s[-1] - $s[0] == 9'
# Whichever slave is asked first when the device dies gets the read error;
# the other finds no connection.  Both name the place.
check "comm loss logged naming bus, slave, table, address and sensors" \
    grep -qE 'bus line1 slave [12] (holding|input) address [0-9]+ count [0-9]+ \(sensors (ch4-tank-a|o2-room)\)' "$T/hazmond.log"
check "the lost connection is logged naming the device" \
    grep -q "bus line1: cannot connect to 127.0.0.1:$SIM_PORT" "$T/hazmond.log"

kill -TERM "$HAZMOND_PID"
check "SIGTERM stops hazmond within 5 s" wait_exit "$HAZMOND_PID" 5
wait "$HAZMOND_PID"; rc=$?; forget_pid "$HAZMOND_PID"
check "exit status 0" test "$rc" = 0
check "status offline published on the way out" \
    wait_for 5 grep -q '^hazmon/e2e-site/status {"state":"offline"' "$S"
done_testing
