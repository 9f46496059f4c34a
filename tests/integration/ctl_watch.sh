#!/bin/bash
# The watch stream of the control socket (issue 16): the answer, a
# snapshot of every sensor then synced; a gas step gives an event line
# with the same seq and id as the MQTT event, and a state line; an
# acknowledgement on the main socket gives its event line; a reload gives
# a new snapshot; ticks come every 5 s; requests sent on a stream are
# dropped; a 9th stream is refused with busy; hazmonctl watch prints it.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl
WATCH="python3 $top_srcdir/tests/integration/watchclient.py"

start_broker
start_sub "$T/sub.out"
S=$T/sub.out
printf 'set 1 holding 0 5\nset 1 holding 1 3\nset 1 holding 2 1\n' >"$T/plant.sim"
start_sim 0 "$T/plant.sim"
SOCK=$T/hazmond.sock
RSOCK=$T/hazmond-read.sock
sensor() {	# sensor ID ADDRESS
	echo "  { id = \"$1\"; plugin = \"gas\"; bus = \"line1\"; slave = 1; interval = 0.2;"
	echo "    register = { table = \"holding\"; address = $2; }; unit = \"ppm\";"
	echo "    levels = ( { name = \"high\"; above = 20.0; } ); }"
}
conf() {	# conf ID:ADDRESS...
	local first=1 s
	echo "site = { id = \"w\"; };"
	echo "daemon = { state_dir = \"$T/state\"; control_socket = \"$SOCK\"; };"
	echo "mqtt = ( { name = \"local\"; host = \"127.0.0.1\"; port = $BROKER_PORT; } );"
	echo "buses = ( { name = \"line1\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIM_PORT; timeout_ms = 300; } );"
	echo "sensors = ("
	for s in "$@"; do
		[ $first = 1 ] || echo ","
		first=0
		sensor "${s%%:*}" "${s##*:}"
	done
	echo ");"
}
conf ch4:0 h2s:1 co:2 >"$T/hazmond.conf"
# While this file exists every ledger commit fails (a test hook).
FAIL=$T/ledger-fails
export HAZMOND_TEST_LEDGER_FAIL=$FAIL
start_hazmond "$T/hazmond.conf"
LOG=$T/hazmond.log
wait_for 10 test -S "$RSOCK" || bail "no read-only control socket"
online() { grep -q '^hazmon/w/status {"state":"online"' "$S"; }
wait_for 10 online || bail "hazmond not online"
read_all() { ctl --json sensors | jq -e '[.sensors[].quality] == ["ok","ok","ok"]' >/dev/null; }
ctl() { timeout 10 "$HAZMONCTL" -s "$SOCK" "$@"; }
wait_for 10 read_all || bail "the sensors were never read"

W=$T/watch.out
spawn watch $WATCH chatty "$RSOCK" "$W" 120
lines() { grep -c . "$W"; }
n_synced() { grep -c '^{"type":"synced"}$' "$W"; }
wait_for 10 sh -c "[ \$(grep -c '^{\"type\":\"synced\"}\$' '$W') -ge 1 ]" ||
    bail "no synced line"
check "the answer comes first" test "$(head -n 1 "$W")" = '{"ok":true,"watch":true}'
check "then snapshot, a state line per sensor, in order, then synced" test \
    "$(sed -n 2,6p "$W" | jq -r '.type + ":" + (.sensor // "")' | tr '\n' ' ')" = \
    "snapshot: state:ch4 state:h2s state:co synced: "
# The snapshot's lines are the sensors answer's entries, field for field.
ctl --json sensors | jq -c '.sensors[] | del(.ts, .last_ok)' >"$T/sensors.want"
sed -n 3,5p "$W" | jq -c 'del(.type, .sensor, .ts, .last_ok)' >"$T/sensors.got"
check "state lines carry exactly the sensors entries' fields" \
    cmp -s "$T/sensors.want" "$T/sensors.got"

# ---- a gas step: an event line, the MQTT event's seq and id, a state line
n0=$(lines)
sim set 1 holding 0 30
raised() { grep '"type":"event"' "$W" | jq -e -s 'map(select(.event.sensor == "ch4" and .event.event == "raised")) | length == 1' >/dev/null; }
wait_for 10 raised
check "the gas step gives an event line" raised
mqtt_raised() { has_event "$S" ch4 '.event == "raised"'; }
wait_for 10 mqtt_raised || bail "no raised event on MQTT"
check "... with the seq and id of the MQTT event" test \
    "$(grep '"type":"event"' "$W" | jq -c 'select(.event.event == "raised") | .event | [.seq, .id]')" = \
    "$(events "$S" ch4 | jq -c 'select(.event == "raised") | [.seq, .id]')"
check "... the payload exactly as published" test \
    "$(grep '"type":"event"' "$W" | jq -S -c 'select(.event.event == "raised") | .event')" = \
    "$(events "$S" ch4 | jq -S -c 'select(.event == "raised")')"
unack_state() { tail -n +$((n0 + 1)) "$W" | jq -e -s 'map(select(.type == "state" and .sensor == "ch4" and .alarm_state == "active_unacknowledged")) | length >= 1' >/dev/null; }
wait_for 5 unack_state
check "... and a state line of ch4, active_unacknowledged" unack_state
check "... the state line after the event line" sh -c "tail -n +$((n0 + 1)) '$W' | jq -r 'select(.sensor == \"ch4\" or .event.sensor == \"ch4\") | .type' | head -n 2 | tr '\n' ' ' | grep -q '^event state '"

# ---- an acknowledgement on the main socket
ctl -q ack ch4 || not_ok "ack ch4"
acked() { grep '"type":"event"' "$W" | jq -e -s 'map(select(.event.event == "acknowledged" and .event.sensor == "ch4")) | length == 1' >/dev/null; }
wait_for 5 acked
check "an ack on the main socket gives its event line" acked

# ---- an event the ledger refuses goes out live, and here too, once
touch "$FAIL"
sim set 1 holding 1 30
h2s_live() { has_event "$S" h2s '.event == "raised"'; }
wait_for 10 h2s_live || not_ok "the refused event went out live on MQTT"
h2s_line() { grep '"type":"event"' "$W" | jq -e -s 'map(select(.event.sensor == "h2s" and .event.event == "raised")) | length >= 1' >/dev/null; }
wait_for 5 h2s_line
check "an event the ledger refused gives its event line" h2s_line
rm -f "$FAIL"
wait_for 15 grep -q 'events written late' "$LOG" || not_ok "the ledger did not recover"
sleep 0.5	# a second line would follow the late write at once
check "... with the MQTT event's seq, once, also after the late write" test \
    "$(grep '"type":"event"' "$W" | jq -c 'select(.event.sensor == "h2s" and .event.event == "raised") | .event.seq')" = \
    "$(events "$S" h2s | jq -c 'select(.event == "raised") | .seq' | head -n 1)"

# ---- ticks
tick_ok() { grep '"type":"tick"' "$W" | tail -n 1 | jq -e '.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' >/dev/null; }
wait_for 12 tick_ok
check "a tick with an ISO time within 5 s" tick_ok

# ---- requests on a stream are dropped, not answered
check "the requests sent meanwhile got no answer" \
    not grep -q '"ok":false' "$W"
check "the stream is still open" kill -0 "$LAST_PID"

# ---- a reload: the new configuration's snapshot
conf ch4:0 co:2 nh3:3 >"$T/hazmond.conf"
n1=$(lines)
ctl reload >/dev/null || not_ok "reload"
wait_for 10 sh -c "[ \$(grep -c '^{\"type\":\"synced\"}\$' '$W') -ge 2 ]"
check "a reload gives a second snapshot" test "$(n_synced)" = 2
# Live state lines may come between a snapshot's lines, but only of the
# new configuration: exactly its sensors between snapshot and synced.
snap2() { tail -n +$((n1 + 1)) "$W" | sed -n '/"type":"snapshot"/,/"type":"synced"/p'; }
check "... of exactly the new sensors, between snapshot and synced" test \
    "$(snap2 | jq -r 'select(.type == "state") | .sensor' | sort -u | tr '\n' ' ')" = \
    "ch4 co nh3 "
after_synced() { tail -n +$((n1 + 1)) "$W" | sed -n '/"type":"synced"/,$p'; }
check "... and no line of the sensor removed after it" \
    test "$(after_synced | grep -c '"sensor":"h2s"')" = 0

# ---- at most 8 streams
EXTRA=""
for i in 2 3 4 5 6 7 8; do
	spawn "watch$i" $WATCH read "$RSOCK" "$T/watch$i.out" 60
	EXTRA="$EXTRA $LAST_PID"
done
all_watching() { for i in 2 3 4 5 6 7 8; do grep -q '"watch":true' "$T/watch$i.out" 2>/dev/null || return 1; done; }
wait_for 10 all_watching
check "8 streams at once" all_watching
echo '{"cmd":"watch"}' | timeout 5 socat -t 2 - "UNIX-CONNECT:$RSOCK" >"$T/ninth.out"
check "the 9th is refused with busy" jq -e '.ok == false and .code == "busy"' "$T/ninth.out"


# ---- hazmonctl watch, for people and --json, on the read-only socket
for pid in $EXTRA; do stop_pid "$pid"; forget_pid "$pid"; done
spawn hzwatch env TZ=UTC "$HAZMONCTL" -s "$RSOCK" watch
HZW=$LAST_PID
spawn hzwatchjson "$HAZMONCTL" -s "$RSOCK" watch --json
HZWJ=$LAST_PID
HL=$T/hzwatch.log
JL=$T/hzwatchjson.log
wait_for 10 grep -q 'watching 3 sensors' "$HL"
check "hazmonctl watch: a summary of the snapshot" \
    grep -q -E '^[0-9-]{10} [0-9:]{8}  watching 3 sensors, 1 not ok or in alarm:$' "$HL"
check "... naming the sensor in alarm" grep -q -E '^  ch4  ok, alarm high active_acknowledged$' "$HL"
check "--json: the raw lines, one per line" sh -c "head -n 3 '$JL' | jq -e -s \
    '.[0] == {\"ok\":true,\"watch\":true} and .[1] == {\"type\":\"snapshot\"} and .[2].type == \"state\"' >/dev/null"
sim set 1 holding 0 5
cleared_h() { grep -q -E '^[0-9-]{10} [0-9:]{8}  ch4  alarm high cleared  value 5 ppm  seq [0-9]+$' "$HL"; }
wait_for 10 cleared_h
check "an event: one line, local time, sensor, level, event, value, seq" cleared_h
state_h() { grep -q -E '^[0-9-]{10} [0-9:]{8}  ch4  ok$' "$HL"; }
wait_for 5 state_h
check "the state change: one line" state_h
ts_utc=$(events "$S" ch4 | jq -r 'select(.event == "cleared") | .ts' | cut -c1-19 | tr T ' ')
check "the time is the event's, in local time (TZ=UTC here)" grep -q "^$ts_utc  ch4  alarm high cleared" "$HL"
check "a value change alone prints nothing" test "$(grep -c '  ch4  ok$' "$HL")" = 1
check "--json has the event line as hazmond sent it" sh -c "grep '\"type\":\"event\"' '$JL' | jq -e -s 'map(select(.event.event == \"cleared\")) | length == 1' >/dev/null"
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"
wait_exit "$HZW" 10
wait "$HZW"; rc=$?
check "a stopped hazmond ends hazmonctl watch with status 3 ($rc)" test "$rc" = 3
check "... saying so" grep -q 'hazmond ended the watch stream' "$HL"
done_testing
