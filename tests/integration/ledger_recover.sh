#!/bin/bash
# A ledger that refuses writes for a while and then recovers (a test hook
# makes every commit fail while a file exists): the alarm goes out live at
# once, the event is written late with its seq, and the alarm *state*
# refused with it is saved again, so a SIGKILL afterwards neither loses the
# latched alarm nor raises it a second time.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl

start_broker
start_sub "$T/sub.out"
S=$T/sub.out
echo "set 1 holding 0 5" >"$T/plant.sim"
start_sim 0 "$T/plant.sim"
cat >"$T/hazmond.conf" <<EOC
site = { id = "rec"; };
daemon = { state_dir = "$T/state"; control_socket = "$T/ctl.sock"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = ( { id = "ch4"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.2;
              register = { table = "holding"; address = 0; }; unit = "%LEL";
              levels = ( { name = "second"; above = 50.0; latch = true; } ); } );
EOC
FAIL=$T/ledger-fails
start_hazmond_hooked() {
	spawn "$1" env HAZMOND_TEST_LEDGER_FAIL="$FAIL" "$HAZMOND" -c "$T/hazmond.conf" \
	    -P "$PLUGIN_DIR"
	HAZMOND_PID=$LAST_PID
}
start_hazmond_hooked hazmond1
online() { grep -q '^hazmon/rec/status {"state":"online"' "$S"; }
wait_for 10 online || bail "hazmond not online"

touch "$FAIL"				# the disk refuses from now on
sim set 1 holding 0 60
check "the alarm goes out live while the ledger refuses it" \
    wait_event "$S" ch4 '.event == "raised" and .level == "second"'
check "... and the failure is logged loudly" \
    grep -q 'error: LEDGER WRITE FAILED: event seq 1 ' "$T/hazmond1.log"
sim set 1 holding 0 5			# the latched alarm stays
sleep 1
rm -f "$FAIL"				# the disk recovers
check "the event is written late, with its seq" \
    wait_for 15 grep -q 'ledger: 1 events written late, seq 1 to 1' "$T/hazmond1.log"
check "the alarm states refused with it are saved again" \
    grep -q 'ledger: alarm states saved again' "$T/hazmond1.log"
"$HAZMONCTL" -s "$T/ctl.sock" --json history >"$T/hist.json"
check "history has it as seq 1" jq_true '[.events[] | select(.event == "raised")] | length == 1 and .[0].seq == 1' "$T/hist.json"

kill -KILL "$HAZMOND_PID"; wait "$HAZMOND_PID" 2>/dev/null; forget_pid "$HAZMOND_PID"
start_hazmond_hooked hazmond2
check "after SIGKILL the latched alarm is restored from the ledger" wait_for 10 grep -q \
    'sensor ch4 level second: active_unacknowledged, as before the restart' "$T/hazmond2.log"
wait_for 10 test -S "$T/ctl.sock"
"$HAZMONCTL" -s "$T/ctl.sock" --json alarms >"$T/alarms.json"
check "hazmonctl alarms shows it" jq_true '.alarms | length == 1 and .[0].state == "active_unacknowledged"' "$T/alarms.json"
sleep 1
# Once live and once from the ledger is the same event (same seq); a
# second raise would have a new seq.
check "it was raised once (one seq), never twice" \
    test "$(events "$S" ch4 | jq -s 'map(select(.event == "raised") | .seq) | unique | length')" = 1
done_testing
