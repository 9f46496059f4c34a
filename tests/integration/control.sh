#!/bin/bash
# The control socket and hazmonctl (issue 8), against a running hazmond:
# status, sensors, alarms, ack, shelve, unshelve, oos, history, rebirth
# (tables and --json); the events operator actions cause, with the Unix
# user as actor; clear errors for an unknown sensor, a daemon that is not
# running and a permission problem; the socket's mode and group; the raw
# protocol's framing and its limits.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl

start_broker
start_sub "$T/sub.out"
S=$T/sub.out
cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 5.0 float32 CDAB
set 1 holding 2 7
EOS
start_sim 0 "$T/plant.sim"
SOCK=$T/run/hazmond.sock
mkdir -m 0755 "$T/run"
chmod 0711 "$T"		# nobody must reach the socket for the group checks
cat >"$T/hazmond.conf" <<EOC
site = { id = "ctl"; name = "Control test plant"; };
daemon = { state_dir = "$T/state"; control_socket = "$SOCK"; control_group = "nogroup"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; },
          { name = "dead"; type = "tcp"; host = "127.0.0.1"; port = 1; timeout_ms = 100; } );
sensors = (
  { id = "ch4"; name = "Tank A methane"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 0; type = "float32"; order = "CDAB"; };
    levels = ( { name = "first";  above = 20.0; deadband = 2.0; },
               { name = "second"; above = 50.0; deadband = 2.0; priority = "urgent"; latch = true; } ); },
  { id = "h2s"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 2; }; unit = "ppm";
    levels = ( { name = "high"; above = 10.0; } ); },
  { id = "lost"; plugin = "gas"; bus = "dead"; slave = 7; interval = 0.2;
    register = { table = "holding"; address = 0; }; levels = ( { name = "high"; above = 50.0; } ); }
);
EOC
start_hazmond "$T/hazmond.conf"
wait_for 10 test -S "$SOCK" || bail "no control socket"
ctl() { "$HAZMONCTL" -s "$SOCK" "$@"; }
online() { grep -q '^hazmon/ctl/status {"state":"online"' "$S"; }
wait_for 10 online || bail "hazmond not online"
ev() { has_event "$S" "$1" "$2"; }

# ---- the socket itself
check "the socket is mode 0660" test "$(stat -c %a "$SOCK")" = 660
check "... and belongs to control_group" test "$(stat -c %G "$SOCK")" = nogroup

# ---- status
lost_faulty() { ctl --json sensors | jq -e '.sensors[] | select(.id == "lost") | .fault == "comm_loss"' >/dev/null; }
wait_for 10 lost_faulty || bail "the dead bus never reported comm loss"
ctl status >"$T/status.txt"
check "status (table) exits 0" test $? = 0
check "status names the site" grep -q 'Control test plant' "$T/status.txt"
check "status lists both buses" sh -c "grep -q line1 '$T/status.txt' && grep -q dead '$T/status.txt'"
check "status lists the destination" grep -q 'local' "$T/status.txt"
ctl --json status >"$T/status.json"
check "status --json: a good bus with a recent read of slave 1" jq_true \
    '.buses[] | select(.name == "line1") | .connected and .requests_per_cycle == 1 and (.slaves[0].slave == 1) and (.slaves[0].last_ok | type == "string") and (.slaves[0].failing | not)' \
    "$T/status.json"
check "status --json: the dead bus, not connected, no good read" jq_true \
    '.buses[] | select(.name == "dead") | (.connected | not)' "$T/status.json"
check "status --json: destination connected, nothing undelivered" jq_true \
    '.destinations[0] | .name == "local" and .connected and .undelivered == 0' "$T/status.json"
check "status --json: sensor counts (2 ok, 1 fault)" jq_true \
    '.sensors.total == 3 and .sensors.ok == 2 and .sensors.fault == 1 and .uptime_s >= 0 and .pid > 0' \
    "$T/status.json"

# ---- sensors and alarms
sim set 1 holding 0 55.0 float32 CDAB
wait_event "$S" ch4 '.event == "raised" and .level == "second"' || bail "no alarm"
ctl sensors >"$T/sensors.txt"
check "sensors (table) lists every sensor" sh -c "grep -q '^ch4 ' '$T/sensors.txt' && grep -q '^h2s ' '$T/sensors.txt' && grep -q '^lost ' '$T/sensors.txt'"
check "sensors (table) shows the alarm state" grep -q 'active_unacknowledged' "$T/sensors.txt"
ctl --json sensors >"$T/sensors.json"
check "sensors --json: value, unit, quality, alarm" jq_true \
    '.sensors[] | select(.id == "ch4") | .value == 55 and .unit == "%LEL" and .quality == "ok" and .alarm == "second" and .unacknowledged == 2' \
    "$T/sensors.json"
ctl alarms >"$T/alarms.txt"
check "alarms (table) lists both levels of ch4" sh -c "grep -q 'ch4.*second' '$T/alarms.txt' && grep -q 'ch4.*first' '$T/alarms.txt'"
ctl --json alarms >"$T/alarms.json"
check "alarms --json: most urgent first" jq_true \
    '[.alarms[].level] == ["second", "first"] and .alarms[0].priority == "urgent" and .alarms[0].latch' \
    "$T/alarms.json"

# ---- acknowledge, one level then all
ctl ack ch4 first >"$T/ack1.txt"
check "ack SENSOR LEVEL exits 0" test $? = 0
check "... is an acknowledged event with the Unix user as actor" \
    wait_for 10 ev ch4 '.event == "acknowledged" and .level == "first" and .actor == "root"'
ctl --json ack ch4 >"$T/ack2.json"
check "ack SENSOR acknowledges the rest (1 level)" jq_true '.ok and .acknowledged == 1' "$T/ack2.json"
ctl ack ch4 >"$T/ack3.txt" 2>&1
check "ack with nothing to acknowledge exits 1" test $? = 1
check "... and says so" grep -qi 'nothing waits' "$T/ack3.txt"
ctl ack ch4 nosuch >"$T/ack4.txt" 2>&1
check "ack of an unknown level exits 1" test $? = 1
check "... naming it" grep -q 'no level "nosuch"' "$T/ack4.txt"
ctl ack nosuch >"$T/ack5.txt" 2>&1
rc=$?
check "an unknown sensor: exit 1" test "$rc" = 1
check "... and a clear message" grep -q 'no sensor "nosuch"' "$T/ack5.txt"

# ---- shelve, unshelve, out of service
ctl shelve h2s 2h >"$T/shelve0.txt" 2>&1
check "shelve without --reason is a usage error (exit 2)" test $? = 2
ctl shelve h2s 25h --reason "too long" >"$T/shelve1.txt" 2>&1
check "shelving for more than 24 h is refused" test $? != 0
ctl shelve h2s 2h --reason "sensor head replaced, bump test pending" >"$T/shelve2.txt"
check "shelve SENSOR 2h --reason TEXT exits 0" test $? = 0
check "... is a shelved event with reason, actor and expiry" wait_for 10 ev h2s \
    '.event == "shelved" and .actor == "root" and .reason == "sensor head replaced, bump test pending" and (.until | type == "string")'
sim set 1 holding 2 20
sleep 1
check "a shelved sensor raises nothing" not ev h2s '.event == "raised"'
ctl --json sensors | jq -e '.sensors[] | select(.id == "h2s") | .shelved_until | type == "string"' >/dev/null
check "sensors shows the shelf" test $? = 0
ctl unshelve h2s >/dev/null
check "unshelve: an unshelved event" wait_for 10 ev h2s '.event == "unshelved" and .actor == "root"'
check "... and the alarm that was held back" wait_for 10 ev h2s '.event == "raised" and .level == "high"'
ctl unshelve h2s >"$T/unshelve2.txt" 2>&1
check "unshelve of a sensor that is not shelved exits 1" test $? = 1
ctl oos lost on >/dev/null
check "oos SENSOR on: an out_of_service event" wait_for 10 ev lost '.event == "out_of_service" and .actor == "root"'
check "... and quality out_of_service" sh -c "$HAZMONCTL -s '$SOCK' --json sensors | jq -e '.sensors[] | select(.id == \"lost\") | .quality == \"out_of_service\"' >/dev/null"
ctl oos lost on >"$T/oos2.txt" 2>&1
check "oos on twice: exit 1" test $? = 1
check "... already out of service" grep -q 'already out of service' "$T/oos2.txt"
ctl oos lost off >/dev/null
check "oos SENSOR off: an in_service event" wait_for 10 ev lost '.event == "in_service"'
ctl oos lost maybe >/dev/null 2>&1
check "oos with neither on nor off is a usage error" test $? = 2

# ---- history
ctl --json history --since 1h --sensor ch4 >"$T/hist.json"
check "history --since 1h --sensor ch4: ch4's events, oldest first" jq_true \
    '(.events | length) >= 4 and all(.events[]; .sensor == "ch4") and ([.events[].seq] | . == sort) and (.events | map(select(.event == "acknowledged")) | length) == 2' \
    "$T/hist.json"
ctl --json history --limit 2 >"$T/hist2.json"
last=$(ctl --json status | jq .ledger.last_seq)
check "history --limit 2: the newest two" jq_true "[.events[].seq] == [$((last - 1)), $last]" "$T/hist2.json"
future=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
check "history --since a future time: none" sh -c "$HAZMONCTL -s '$SOCK' --json history --since $future | jq -e '.events == []' >/dev/null"
ctl history --sensor ch4 >"$T/hist.txt"
check "history (table) shows seq, event and actor" grep -q 'acknowledged.*root' "$T/hist.txt"
ctl history --since yesterday-ish >"$T/hist3.txt" 2>&1
check "history with a bad time: exit 1" test $? = 1
check "... and a message" grep -q 'not a time' "$T/hist3.txt"

# ---- rebirth
n_online() { grep -c '^hazmon/ctl/status {"state":"online"' "$S"; }
before=$(n_online)
ctl rebirth >/dev/null
more_online() { [ "$(n_online)" -gt "$before" ]; }
check "rebirth republishes the online status" wait_for 10 more_online

# ---- errors a user meets
"$HAZMONCTL" -s "$T/nothing-here.sock" status >"$T/err1.txt" 2>&1
check "no socket: exit 3" test $? = 3
check "... 'hazmond is not running'" grep -q 'not running' "$T/err1.txt"
"$HAZMONCTL" -c "$T/hazmond.conf" --json status | jq -e .ok >/dev/null
check "-c CONFIG finds the socket from daemon.control_socket" test $? = 0
setpriv --reuid=65534 --regid=65534 --clear-groups -- "$HAZMONCTL" -s "$SOCK" status >"$T/err2.txt" 2>&1
rc=$?
# nobody's primary group is nogroup (65534): it is the socket's group.
check "a member of control_group may use it" test "$rc" = 0
chgrp root "$SOCK"
setpriv --reuid=65534 --regid=65534 --clear-groups -- "$HAZMONCTL" -s "$SOCK" status >"$T/err3.txt" 2>&1
check "anybody else: exit 3" test $? = 3
check "... 'permission denied' with a hint" grep -qi 'permission denied.*group' "$T/err3.txt"
"$HAZMONCTL" -s "$SOCK" frobnicate >"$T/err4.txt" 2>&1
check "an unknown command is a usage error" test $? = 2

# ---- the raw protocol
raw() { printf '%s' "$1" | socat -t 5 - "UNIX-CONNECT:$SOCK"; }
raw $'{"cmd":"status"}\n{"cmd":"alarms"}\n' >"$T/raw1.out"
check "two requests on one connection: two answers, in order" sh -c \
    "[ \$(wc -l <'$T/raw1.out') = 2 ] && head -1 '$T/raw1.out' | jq -e .buses >/dev/null && tail -1 '$T/raw1.out' | jq -e .alarms >/dev/null"
raw $'not json\n{"cmd":"status"}\n' >"$T/raw2.out"
check "not JSON: bad_request, and the connection ends" sh -c \
    "[ \$(wc -l <'$T/raw2.out') = 1 ] && jq -e '.code == \"bad_request\"' '$T/raw2.out' >/dev/null"
raw $'{"cmd":"launch"}\n' | jq -e '.ok == false and .code == "bad_request"' >/dev/null
check "an unknown cmd: bad_request" test $? = 0
raw $'{"cmd":"shelve","sensor":"ch4","seconds":60}\n' | jq -e '.code == "invalid"' >/dev/null
check "shelve without a reason over the socket: invalid" test $? = 0
head -c 70000 /dev/zero | tr '\0' 'x' >"$T/big"
socat -t 5 - "UNIX-CONNECT:$SOCK" <"$T/big" >"$T/raw3.out" 2>/dev/null
check "a request longer than 64 KiB: refused, connection closed" \
    jq_true '.code == "bad_request"' "$T/raw3.out"
check "hazmond is still running after all that" kill -0 "$HAZMOND_PID"
check "and still answers" sh -c "$HAZMONCTL -s '$SOCK' --json status | jq -e .ok >/dev/null"
done_testing
