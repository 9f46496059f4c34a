#!/bin/bash
# Fault states (issue 12) against a running hazmond: a comm-loss fault
# survives a SIGKILL (no second "raised" after the restart while the device
# is still dead, exactly one "cleared" when it answers again, also when it
# came back while hazmond was down); hazmonctl's LAST-READ is the last
# good reading, "-" when there was none since the start; the device's own
# alarm bit shows in the state topic and in hazmonctl sensors; a sensor
# whose bus worker hangs goes "stale" on its retained state within a
# bounded time.  Messages are checked against the JSON Schemas when
# python3-jsonschema is there.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl

start_broker
start_sub "$T/sub.out"
S=$T/sub.out
cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 5
set 2 holding 0 3
set 2 holding 1 0
EOS
start_sim 0 "$T/plant.sim"
SOCK=$T/hazmond.sock
cat >"$T/hazmond.conf" <<EOC
site = { id = "flt"; };
daemon = { state_dir = "$T/state"; control_socket = "$SOCK"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT;
            timeout_ms = 200; retries = 0; fault_after = 3; } );
sensors = (
  { id = "g"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 0; }; unit = "ppm";
    levels = ( { name = "high"; above = 50.0; } ); },
  { id = "d"; plugin = "gas"; bus = "line1"; slave = 2; interval = 0.2;
    register = { table = "holding"; address = 0; }; unit = "ppm";
    status = { table = "holding"; address = 1; alarm_mask = 0x0001; };
    levels = ( { name = "high"; above = 50.0; } ); }
);
EOC
ctl() { "$HAZMONCTL" -s "$SOCK" "$@"; }
# logged LOG EVENT: hazmond recorded a comm-loss EVENT of g in LOG.
logged() { grep -q "sensor g fault comm_loss $2" "$1"; }
state_after() {	# state_after LINE JQ: a state of g after line LINE matches
	tail -n +"$1" "$S" | grep '^hazmon/flt/sensors/g/state ' | cut -d' ' -f2- |
	    jq -e -s "map(select($2)) | length > 0" >/dev/null
}
# fault_seq_is JSON: the fault events of g on the wire, in order, are JSON.
fault_seq_is() {
	[ "$(events "$S" g | jq -c -s 'map(select(.kind == "fault")) | map(.event)')" = "$1" ]
}
g_sensor() { ctl --json sensors | jq -e ".sensors[] | select(.id == \"$1\") | $2" >/dev/null; }

start_hazmond "$T/hazmond.conf" hazmond1
wait_for 10 grep -q '^hazmon/flt/sensors/g/state .*"quality":"ok"' "$S" ||
    bail "hazmond never published g"

# ---- the device's own alarm bit: visible, but the levels decide
sim set 2 holding 1 1
check "device alarm bit: state topic says device_alarm true" \
    wait_for 10 grep -q '^hazmon/flt/sensors/d/state .*"device_alarm":true' "$S"
check "... and hazmonctl sensors --json too" g_sensor d '.device_alarm == true'
check "... and the table's FLAGS" sh -c "$HAZMONCTL -s '$SOCK' sensors | grep '^d ' | grep -q device-alarm"
check "... but it raises no alarm by itself (value 3 < 50)" \
    not has_event "$S" d '.kind == "alarm"'
sim set 2 holding 1 0
check "device alarm bit gone: device_alarm false" \
    wait_for 10 grep -q '^hazmon/flt/sensors/d/state .*"device_alarm":false' "$S"

# ---- a comm-loss fault and a SIGKILL while the device is still dead
sim fault 1 noreply
check "comm loss raised" wait_for 10 logged "$T/hazmond1.log" raised
# "error" is the read's errno text once the bus worker reports it (m->err).
check "... with no value, and the error fields" wait_event "$S" g \
    '.kind == "fault" and .event == "raised" and .level == "comm_loss" and .value == null and has("error") and .exception == null'
kill -KILL "$HAZMOND_PID"; wait "$HAZMOND_PID" 2>/dev/null; forget_pid "$HAZMOND_PID"
mark=$(($(wc -l <"$S") + 1))
start_hazmond "$T/hazmond.conf" hazmond2
check "after the restart the fault is known from the ledger" \
    wait_for 10 grep -q 'sensor g: fault comm_loss raised, as before the restart' "$T/hazmond2.log"
check "the state after the restart shows the fault" \
    wait_for 15 state_after "$mark" '.quality == "fault" and .fault == "comm_loss" and .value == null'
check "... and no second raised was recorded" not logged "$T/hazmond2.log" raised
check "LAST-READ is - for a sensor not read well since the start" \
    sh -c "$HAZMONCTL -s '$SOCK' sensors | grep '^g ' | grep -q -- ' -\$'"
check "... and last_ok is null in --json, ts is not" g_sensor g '.last_ok == null and (.ts | type == "string")'
check "status counts it as a fault" sh -c "$HAZMONCTL -s '$SOCK' --json status | jq -e '.sensors.fault == 1 and .sensors.stale == 0' >/dev/null"
sim fault 1 none
check "device back: cleared" wait_for 10 logged "$T/hazmond2.log" cleared
check "LAST-READ is the good reading now" g_sensor g '.last_ok | type == "string"'
check "exactly one raised and one cleared on the wire" \
    wait_for 10 fault_seq_is '["raised","cleared"]'

# ---- the reverse: raised, SIGKILL, the device comes back while we are down
sim fault 1 noreply
check "comm loss raised again" wait_for 10 sh -c "[ \$(grep -c 'sensor g fault comm_loss raised' '$T/hazmond2.log') = 1 ]"
kill -KILL "$HAZMOND_PID"; wait "$HAZMOND_PID" 2>/dev/null; forget_pid "$HAZMOND_PID"
sim fault 1 none
start_hazmond "$T/hazmond.conf" hazmond3
check "restart after the device came back: cleared" \
    wait_for 10 logged "$T/hazmond3.log" cleared
wait_for 5 state_after "$mark" '.quality == "ok"'
check "... once, and nothing raised" sh -c "[ \$(grep -c 'sensor g fault' '$T/hazmond3.log') = 1 ]"
check "every raised on the wire got exactly one cleared" \
    wait_for 10 fault_seq_is '["raised","cleared","raised","cleared"]'
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"

# ---- a hung bus worker: the retained state turns stale
mark=$(($(wc -l <"$S") + 1))
spawn hazmond4 env HAZMOND_TEST_HANG_BUS=line1 "$HAZMOND" -c "$T/hazmond.conf" -P "$PLUGIN_DIR"
HAZMOND_PID=$LAST_PID
# 3 x 0.2 s + 200 ms x 1 try + 1 s = 1.8 s, and the once-a-second check.
check "a hung bus: the state says stale within 5 s" \
    wait_for 5 state_after "$mark" '.quality == "stale" and .value == null and .ts == null'
check "... hazmonctl says stale too" g_sensor g '.quality == "stale" and .value == null'
check "... and stale is no fault event" not logged "$T/hazmond4.log" raised
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"

# ---- every message against its schema
# Debian's python3 with python3-jsonschema (contrib/quickstart.sh installs it).
/usr/bin/python3 -c 'import jsonschema' 2>/dev/null ||
    bail "python3-jsonschema is not installed"
check "every event and state validates against its JSON Schema" /usr/bin/python3 - \
    "$top_srcdir/schemas/event.schema.json" \
    "$top_srcdir/schemas/state.schema.json" "$S" <<'EOP'
import json, sys, jsonschema
ev = json.load(open(sys.argv[1])); st = json.load(open(sys.argv[2]))
n = 0
for line in open(sys.argv[3]):
    topic, _, payload = line.rstrip("\n").partition(" ")
    if "/events/" in topic:
        schema = ev
    elif topic.endswith("/state") and payload:
        schema = st
    else:
        continue
    jsonschema.validate(json.loads(payload), schema)
    n += 1
sys.exit(0 if n > 0 else 1)
EOP
done_testing
