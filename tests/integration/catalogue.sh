#!/bin/bash
# The retained sensor catalogue (issue 17, docs/mqtt.md): published after
# connect with what the config and the plugins say (tags, point codes,
# location, levels, gas and range); a reload that changes it republishes
# it with a new fingerprint, which the following states, events and the
# status carry; a reload that changes nothing does not republish; rebirth
# does; a subscriber that comes late gets it retained; a replayed event
# carries the fingerprint it was recorded with.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl
HAZMON_WATCH=$top_builddir/hazmon-watch

start_notify
start_broker
start_sub "$T/sub.out"
S=$T/sub.out
cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 5.0 float32 CDAB
set 2 input 0 215
EOS
start_sim 0 "$T/plant.sim"

# conf FILE TAG: ch4's tag is what the reload changes; t-room stays as
# it is.
conf() {
	cat >"$1" <<EOC
site = { id = "cat"; name = "Catalogue plant"; };
daemon = { state_dir = "$T/state"; control_socket = "$T/ctl.sock"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; replay = true; } );
buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = (
  { id = "ch4"; name = "Tank A methane"; plugin = "gas"; bus = "line1"; slave = 1;
    interval = 0.2; gas = "CH4"; range = 100;
    register = { table = "holding"; address = 0; type = "float32"; order = "CDAB"; };
    tag = "$2"; point_code = "310116-0001-GAS-01"; location = "罐区 A, 泵房北侧";
    levels = ( { name = "first"; above = 20.0; deadband = 2.0; on_delay = 0.5;
                 priority = "high"; },
               { name = "second"; above = 50.0; latch = true; off_delay = 5;
                 priority = "urgent"; } ); },
  { id = "t-room"; plugin = "temperature"; bus = "line1"; slave = 2; interval = 0.2;
    register = { table = "input"; address = 0; type = "int16"; scale = 0.1; };
    min = -40; max = 125;
    levels = ( { name = "hot"; above = 60; priority = "medium"; } ); }
);
EOC
}
conf "$T/hazmond.conf" "GT-1101A"
spawn hazmond env NOTIFY_SOCKET="$NOTIFY_SOCK" "$HAZMOND" -c "$T/hazmond.conf" \
    -P "$PLUGIN_DIR"
HAZMOND_PID=$LAST_PID
wait_for 20 notified READY=1 || bail "hazmond not ready"
ctl() { "$HAZMONCTL" -s "$T/ctl.sock" "$@"; }

cats() { grep '^hazmon/cat/catalogue ' "$S" | cut -d' ' -f2-; }
n_cats() { grep -c '^hazmon/cat/catalogue ' "$S"; }
last_cat() { cats | tail -n 1; }
has_cats() { [ "$(n_cats)" -ge "$1" ]; }
states() { grep "^hazmon/cat/sensors/$1/state " "$S" | cut -d' ' -f2-; }
# has_state SENSOR JQFILTER: a state of SENSOR matches
has_state() { states "$1" | jq -e -s "map(select($2)) | length > 0" >/dev/null 2>&1; }
onlines() { grep '^hazmon/cat/status {"state":"online"' "$S" | cut -d' ' -f2-; }

check "the catalogue is published after connect" wait_for 20 has_cats 1
last_cat >"$T/cat1.json"
FP1=$(jq -r .catalogue "$T/cat1.json")
check "... with a 16-hex fingerprint ($FP1)" grep -qE '^[0-9a-f]{16}$' <<<"$FP1"
check "... site, name, count and both sensors in config order" jq_true \
    '.site == "cat" and .name == "Catalogue plant" and .count == 2 and
     ([.sensors[].id] == ["ch4", "t-room"])' "$T/cat1.json"
check "... ch4: name, tag, point code, location as configured" jq_true \
    '.sensors[0] | .name == "Tank A methane" and .plugin == "gas" and
     .tag == "GT-1101A" and .point_code == "310116-0001-GAS-01" and
     .location == "罐区 A, 泵房北侧" and .bus == "line1" and .interval == 0.2' \
    "$T/cat1.json"
check "... ch4: gas and range from the gas plugin, its unit" jq_true \
    '.sensors[0] | .gas == "CH4" and .unit == "%LEL" and .range == {"low": 0, "high": 100}' \
    "$T/cat1.json"
check "... ch4: both levels with direction, set point, deadband, delays, priority, latch" jq_true \
    '.sensors[0].levels == [
      {"name":"first","direction":"above","setpoint":20,"deadband":2,"on_delay":0.5,
       "off_delay":0,"priority":"high","latch":false},
      {"name":"second","direction":"above","setpoint":50,"deadband":0,"on_delay":0,
       "off_delay":5,"priority":"urgent","latch":true}]' "$T/cat1.json"
check "... t-room: no gas, the range of min and max, no labels" jq_true \
    '.sensors[1] | .gas == null and .unit == "degC" and .range == {"low": -40, "high": 125} and
     .tag == null and .point_code == null and .location == null and
     .levels[0].setpoint == 60' "$T/cat1.json"
check "the online status names the catalogue" wait_for 10 sh -c \
    "grep '^hazmon/cat/status {\"state\":\"online\"' '$S' | grep -q '\"catalogue\":\"$FP1\"'"
check "states name the catalogue" wait_for 10 has_state t-room ".catalogue == \"$FP1\" and .value == 21.5"

sim set 1 holding 0 25.0 float32 CDAB
check "a raised alarm names the catalogue" \
    wait_event "$S" ch4 ".event == \"raised\" and .level == \"first\" and .catalogue == \"$FP1\""
RAISED=$(events "$S" ch4 | jq -s -r 'map(select(.event == "raised")) | .[0].seq')

late=$(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t hazmon/cat/catalogue -C 1 -W 10 -F '%r %p' 2>/dev/null)
check "a subscriber that comes late gets it, retained" test "${late%% *}" = 1
check "... the same catalogue" test "$(jq -r .catalogue <<<"${late#* }")" = "$FP1"

# ---- a reload that changes nothing: no new catalogue
ctl reload >"$T/reload1.out" 2>&1 || bail "reload 1 failed: $(cat "$T/reload1.out")"
# The next state after the reload comes over the same connection, so a
# catalogue published by the reload would be in the capture before it.
sim set 2 input 0 222
wait_for 10 has_state t-room '.value == 22.2' || bail "no state after reload 1"
check "a reload that changes nothing publishes no catalogue" test "$(n_cats)" = 1
check "... and the states keep its fingerprint" has_state t-room ".value == 22.2 and .catalogue == \"$FP1\""

# ---- a reload that changes a tag
conf "$T/hazmond.conf" "GT-1101B"
ctl reload >"$T/reload2.out" 2>&1 || bail "reload 2 failed: $(cat "$T/reload2.out")"
check "a reload that changes the catalogue republishes it" wait_for 10 has_cats 2
last_cat >"$T/cat2.json"
FP2=$(jq -r .catalogue "$T/cat2.json")
check "... with a new fingerprint ($FP1 -> $FP2)" test "$FP2" != "$FP1" -a -n "$FP2"
check "... and the new tag" jq_true '.sensors[0].tag == "GT-1101B"' "$T/cat2.json"
check "... and a later ts" test "$(jq -r .ts "$T/cat2.json")" \> "$(jq -r .ts "$T/cat1.json")"
check "the status names the new catalogue" wait_for 10 sh -c \
    "grep '^hazmon/cat/status {\"state\":\"online\"' '$S' | tail -n 1 | grep -q '\"catalogue\":\"$FP2\"'"
# t-room and its value are unchanged (a reload republishes no unchanged
# state): only the new catalogue republishes it.
retained_cat_is() {	# the two retained states name catalogue $1
	[ "$(mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t 'hazmon/cat/sensors/+/state' \
	    --retained-only -C 2 -W 5 2>/dev/null | jq -r .catalogue | sort -u)" = "$1" ]
}
check "every retained state names the new catalogue at once" wait_for 2 retained_cat_is "$FP2"
sim set 2 input 0 230
check "the following states carry the new fingerprint" \
    wait_for 10 has_state t-room ".value == 23.0 and .catalogue == \"$FP2\""
sim set 1 holding 0 5.0 float32 CDAB
check "the following events carry the new fingerprint" \
    wait_event "$S" ch4 ".event == \"cleared\" and .level == \"first\" and .catalogue == \"$FP2\""

# ---- rebirth
ctl rebirth >/dev/null || bail "rebirth failed"
check "rebirth republishes the catalogue" wait_for 10 has_cats 3
check "... the same one, unchanged bytes" test "$(last_cat)" = "$(cat "$T/cat2.json")"


# ---- a replayed event carries the fingerprint it was recorded with; a
# consumer that knows the new catalogue counts it as stale.
spawn watch "$HAZMON_WATCH" -h 127.0.0.1 -p "$BROKER_PORT" -i cat-watch --clean \
    --no-replay -t hazmon/cat --json -o "$T/watch.out"
W_PID=$LAST_PID
check "hazmon-watch takes the retained catalogue" \
    wait_for 10 grep -q "site cat: catalogue $FP2, 2 sensors" "$T/watch.log"
ctl replay --from "$RAISED" --to "$RAISED" --destination local >"$T/replay.out" 2>&1 ||
    bail "replay failed: $(cat "$T/replay.out")"
check "a replayed event keeps the fingerprint it was recorded with" \
    wait_event "$S" ch4 ".seq == $RAISED and .replayed == true and .catalogue == \"$FP1\""
wait_for 10 grep -q "\"seq\":$RAISED," "$T/watch.out" || bail "hazmon-watch did not get the replayed event"
kill -TERM "$W_PID"
wait_exit "$W_PID" 10 || bail "hazmon-watch did not stop"
forget_pid "$W_PID"
check "hazmon-watch's summary shows the catalogue and 1 stale event" \
    grep -q -E "^cat +online +[0-9]+ +$RAISED +[^ ]+ +$FP2 +1 +1 " "$T/watch.log"

"$HAZMOND" -t -v -c "$T/hazmond.conf" -P "$PLUGIN_DIR" >"$T/t-v.out" 2>&1
check "hazmond -t -v shows the labels, gas and range" grep -qF \
    '  catalogue name "Tank A methane" tag "GT-1101B" point_code "310116-0001-GAS-01" location "罐区 A, 泵房北侧" gas CH4 range 0..100' \
    "$T/t-v.out"

done_testing
