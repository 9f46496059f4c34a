#!/bin/bash
# Configuration reload (issue 8), by `hazmonctl reload` and by SIGHUP:
# - a good config: one sensor added, one removed (its open alarm closed by
#   a "removed" event, its retained state cleared), one unchanged that keeps
#   its latched alarm, on a bus whose worker keeps running through it;
# - a broken config: the old one stays in force, the error names file:line,
#   hazmonctl exits 1 and prints it;
# - RELOADING=1 ... READY=1 on the notify socket around each reload;
# - a reload stuck on a bus worker or on a slow file read holds up nothing;
# - seq continues without a gap over all of it.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl

start_notify
start_broker
start_sub "$T/sub.out"
S=$T/sub.out
cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 5.0 float32 CDAB
set 1 holding 2 7
set 1 holding 3 7
EOS
start_sim 0 "$T/plant.sim"

# conf FILE GONE_OR_NEW: the "keep" bus and its latched sensor ch4 never
# change; the "other" bus carries "gone" (before) or "new" (after).
conf() {
	cat >"$1" <<EOC
site = { id = "rl"; };
daemon = { state_dir = "$T/state"; control_socket = "$T/ctl.sock"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = (
  { name = "keep"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; },
  { name = "other"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; }
);
sensors = (
  { id = "ch4"; plugin = "gas"; bus = "keep"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 0; type = "float32"; order = "CDAB"; };
    levels = ( { name = "second"; above = 50.0; deadband = 2.0; latch = true; } ); },
$2
);
EOC
}
GONE='  { id = "gone"; plugin = "gas"; bus = "other"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 2; }; levels = ( { name = "high"; above = 50.0; } ); }'
NEW='  { id = "new"; plugin = "gas"; bus = "other"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 3; }; levels = ( { name = "high"; above = 50.0; } ); }'
conf "$T/hazmond.conf" "$GONE"
spawn hazmond env NOTIFY_SOCKET="$NOTIFY_SOCK" "$HAZMOND" -c "$T/hazmond.conf" \
    -P "$PLUGIN_DIR"
HAZMOND_PID=$LAST_PID
wait_for 10 notified READY=1 || bail "hazmond not ready"
ctl() { "$HAZMONCTL" -s "$T/ctl.sock" "$@"; }

# A latched alarm on ch4 that has returned (active, unacknowledged), and an
# active alarm on "gone".
sim set 1 holding 0 55.0 float32 CDAB
sim set 1 holding 2 60
wait_event "$S" ch4 '.event == "raised"' || bail "ch4 did not raise"
wait_event "$S" gone '.event == "raised"' || bail "gone did not raise"
sim set 1 holding 0 10.0 float32 CDAB
state_value() {	# state_value SENSOR VALUE: its retained state shows VALUE
	grep -q "^hazmon/rl/sensors/$1/state .*\"value\":$2" "$S"
}
wait_for 10 state_value ch4 10.0 || bail "ch4 did not return to 10"
keep_started() { grep -c 'bus keep: .* poll groups' "$T/hazmond.log"; }
polls_of() {	# polls_of BUS: the bus's poll counter, from hazmonctl status
	ctl --json status | jq -r ".buses[] | select(.name == \"$1\") | .polls"
}

# ---- a good config: gone removed, new added, ch4 unchanged
conf "$T/hazmond.conf" "$NEW"
notify_sync
ctl reload >"$T/reload1.out" 2>&1
check "hazmonctl reload of a good config succeeds" test $? = 0
check "... and says what changed" grep -q '1 added, 1 removed' "$T/reload1.out"
n_states() { grep -c '^hazmon/rl/sensors/ch4/state ' "$S"; }
# Adding and removing a sensor changed the catalogue: every state is
# published again with the new one's fingerprint (docs/mqtt.md).  Count
# after ch4's has come.
two_cats() { [ "$(grep -c '^hazmon/rl/catalogue ' "$S")" -ge 2 ]; }
ch4_names_cat() {
	grep '^hazmon/rl/sensors/ch4/state ' "$S" | tail -n 1 | grep -q "\"catalogue\":\"$(
	    grep '^hazmon/rl/catalogue ' "$S" | tail -n 1 | cut -d' ' -f2- | jq -r .catalogue)\""
}
wait_for 10 two_cats || bail "the reload published no new catalogue"
wait_for 10 ch4_names_cat || bail "ch4's state did not follow the new catalogue"
states_before=$(n_states)
ctl --json reload >"$T/reload1b.out" 2>&1	# no change at all this time
check "a reload without changes restarts no bus" \
    jq_true '.ok and (.buses_restarted | length) == 0 and (.added | length) == 0' "$T/reload1b.out"
sleep 1
check "... and republishes no unchanged state ($states_before -> $(n_states))" \
    test "$(n_states)" = "$states_before"
notify_sync
check "RELOADING=1 went to systemd" notified 'RELOADING=1'
check "... with MONOTONIC_USEC" notified 'MONOTONIC_USEC=[0-9]+'
check "... and READY=1 after it" test "$(n_notified READY=1)" -ge 3
check "the unchanged bus kept its worker (started once)" test "$(keep_started)" = 1
p1=$(polls_of keep)
sleep 1
p2=$(polls_of keep)
check "the unchanged bus keeps polling (polls $p1 -> $p2)" test "$p2" -gt "$p1"
ctl --json alarms >"$T/alarms1.json"
check "ch4 kept its latched, unacknowledged alarm over the reload" jq_true \
    '.alarms | map(select(.sensor == "ch4" and .level == "second" and .state == "active_unacknowledged")) | length == 1' \
    "$T/alarms1.json"
check "... and raised nothing again" test "$(events "$S" ch4 | jq -s 'map(select(.event == "raised")) | length')" = 1
check "the removed sensor's open alarm is closed by a 'removed' event" \
    wait_event "$S" gone '.event == "removed" and .level == "high" and .actor == "reload"'
retained_states() {	# the retained state topics the broker holds now
	mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" -t 'hazmon/rl/sensors/+/state' \
	    --retained-only -W 2 -F '%t' 2>/dev/null
}
gone_cleared() { ! retained_states | grep -q '/gone/'; }
new_retained() { retained_states | grep -q '/new/'; }
check "... and its retained state is cleared" wait_for 10 gone_cleared
check "the added sensor is polled and published" wait_for 10 new_retained
ctl --json sensors >"$T/sensors1.json"
check "hazmonctl sensors lists ch4 and new, not gone" jq_true \
    '[.sensors[].id] == ["ch4", "new"]' "$T/sensors1.json"
ctl ack ch4 second >/dev/null
check "acknowledging after the reload clears the latched alarm" \
    wait_event "$S" ch4 '.event == "cleared" and .level == "second"'

# ---- a broken config: the old one stays
cp "$T/hazmond.conf" "$T/good.conf"
cat >>"$T/hazmond.conf" <<'EOC'
oops = ;
EOC
ctl reload >"$T/reload2.out" 2>&1
check "hazmonctl reload of a broken config exits 1" test $? = 1
check "... and prints the error with file:line" \
    grep -q "$T/hazmond.conf:[0-9]*: " "$T/reload2.out"
check "... and says the old config stays" grep -q 'stays in force' "$T/reload2.out"
check "the daemon logged it" grep -q 'reload refused, the configuration in use stays in force' "$T/hazmond.log"
p1=$(polls_of other)
sleep 1
p2=$(polls_of other)
check "the old config keeps running (bus other polls $p1 -> $p2)" test "$p2" -gt "$p1"

# A semantic error: a sensor on a bus that does not exist.
conf "$T/hazmond.conf" "${NEW/bus = \"other\"/bus = \"nosuch\"}"
ctl --json reload >"$T/reload3.json" 2>/dev/null
check "an unknown bus is refused with its file:line" jq_true \
    '.ok == false and .code == "config" and (.errors | map(select(test(":[0-9]+: .*nosuch"))) | length) == 1' \
    "$T/reload3.json"

# ---- SIGHUP: broken, then good (gone comes back, new leaves)
notify_sync
kill -HUP "$HAZMOND_PID"
check "SIGHUP with a broken config: refused and logged" wait_for 10 grep -q \
    'hazmond.conf: 1 error; reload refused' "$T/hazmond.log"
conf "$T/hazmond.conf" "$GONE"
sim set 1 holding 2 0
kill -HUP "$HAZMOND_PID"
check "SIGHUP with a good config: reloaded" wait_for 10 grep -q \
    'reloaded .*1 sensors added, 1 removed' "$T/hazmond.log"
notify_sync
check "every reload was followed by READY=1 (5 reloads + start)" \
    test "$(n_notified READY=1)" -ge 6
ctl --json sensors >"$T/sensors2.json"
check "gone is back, new is gone" jq_true '[.sensors[].id] == ["ch4", "gone"]' "$T/sensors2.json"
check "gone came back from normal, not with its old alarm" jq_true \
    '.sensors[] | select(.id == "gone") | .alarm == null' "$T/sensors2.json"
check "the daemon is still the same process" kill -0 "$HAZMOND_PID"
# What was recorded: every seq, once, no gap.
n_ev=$(ctl --json history --limit 1000 | jq '.events | length')
last=$(ctl --json status | jq '.ledger.last_seq')
check "history and the ledger agree on $n_ev events without a gap" test "$n_ev" = "$last"
check "subscribers got every seq 1..$last" wait_for 10 have_all_seqs "$S" "$last"
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"

# ---- a reload must not hang on a bus worker stuck in a blocking call
# (a test hook hangs bus "other"): the worker is abandoned, the reload goes
# on, the other bus keeps polling.
sed -e "s|$T/state|$T/state2|" -e "s|$T/ctl.sock|$T/ctl2.sock|" "$T/hazmond.conf" >"$T/hang.conf"
spawn hazmond-hang env HAZMOND_TEST_HANG_BUS=other "$HAZMOND" -c "$T/hang.conf" -P "$PLUGIN_DIR"
HANG_PID=$LAST_PID
wait_for 10 test -S "$T/ctl2.sock" || bail "no control socket"
sed -e "s|$T/state|$T/state2|" -e "s|$T/ctl.sock|$T/ctl2.sock|" "$T/good.conf" >"$T/hang.conf"
t0=$(date +%s)
"$HAZMONCTL" -s "$T/ctl2.sock" --json reload >"$T/reload-hang.json" 2>&1
t1=$(date +%s)
check "reload with a stuck worker on a changed bus completes" jq_true '.ok' "$T/reload-hang.json"
check "... within 10 s ($((t1 - t0)) s)" test $((t1 - t0)) -le 10
check "... abandoning the stuck worker, by name" grep -q 'bus other: worker stuck in a blocking call did not stop; abandoned' "$T/hazmond-hang.log"
keep_polls() { "$HAZMONCTL" -s "$T/ctl2.sock" --json status | jq -r '.buses[] | select(.name == "keep") | .polls'; }
p1=$(keep_polls); sleep 1; p2=$(keep_polls)
check "... and the other bus polls on ($p1 -> $p2)" test "$p2" -gt "$p1"
stop_pid "$HANG_PID"; forget_pid "$HANG_PID"

# ---- the file is read off the core thread: with a loader that takes 3 s
# (a test hook, as a slow file system would), alarms and hazmonctl go on
# during the reload, and requests that come meanwhile are all answered.
sed -e "s|$T/state|$T/state3|" -e "s|$T/ctl.sock|$T/ctl3.sock|" "$T/good.conf" >"$T/slow.conf"
sim set 1 holding 0 5.0 float32 CDAB
spawn hazmond-slow env HAZMOND_TEST_RELOAD_DELAY_MS=3000 "$HAZMOND" -c "$T/slow.conf" -P "$PLUGIN_DIR"
SLOW_PID=$LAST_PID
wait_for 10 test -S "$T/ctl3.sock" || bail "no control socket"
ctl3() { "$HAZMONCTL" -s "$T/ctl3.sock" "$@"; }
ctl3 --json reload >"$T/slow1.json" 2>&1 &
R1=$!
sleep 0.5
ctl3 --json reload >"$T/slow2.json" 2>&1 &
R2=$!
t0=$(date +%s%N)
ctl3 --json status >"$T/slow-status.json"
t1=$(date +%s%N)
check "during a slow reload hazmonctl status answers at once ($(( (t1 - t0) / 1000000 )) ms)" \
    test $(( (t1 - t0) / 1000000 )) -lt 1500
alarm_logged() { grep -q 'event seq [0-9]*: sensor ch4 alarm second raised' "$T/hazmond-slow.log"; }
sim set 1 holding 0 60.0 float32 CDAB
check "... and an alarm is evaluated and recorded meanwhile" wait_for 2 alarm_logged
wait "$R1"; rc1=$?
wait "$R2"; rc2=$?
check "both reload requests are answered, ok" sh -c "[ $rc1 = 0 ] && [ $rc2 = 0 ] && jq -e .ok '$T/slow1.json' >/dev/null && jq -e .ok '$T/slow2.json' >/dev/null"
check "the one asked during the first was served by a second reload" \
    test "$(grep -c 'reloaded .*slow.conf' "$T/hazmond-slow.log")" = 2
stop_pid "$SLOW_PID"; forget_pid "$SLOW_PID"

# ---- a sensor removed while hazmond was stopped: at start its open alarm
# is closed by a "removed" event (actor "restart"), as a reload would have.
conf "$T/stopped.conf" "$GONE"
sed -i -e "s|$T/state\"|$T/state4\"|" -e "s|$T/ctl.sock|$T/ctl4.sock|" "$T/stopped.conf"
sim set 1 holding 2 60
spawn hazmond-s1 "$HAZMOND" -c "$T/stopped.conf" -P "$PLUGIN_DIR"
S1_PID=$LAST_PID
gone_raised() { grep -q 'event seq [0-9]*: sensor gone alarm high raised' "$T/hazmond-s1.log"; }
wait_for 10 gone_raised || bail "gone did not raise"
stop_pid "$S1_PID"; forget_pid "$S1_PID"
conf "$T/stopped.conf" "$NEW"
sed -i -e "s|$T/state\"|$T/state4\"|" -e "s|$T/ctl.sock|$T/ctl4.sock|" "$T/stopped.conf"
spawn hazmond-s2 "$HAZMOND" -c "$T/stopped.conf" -P "$PLUGIN_DIR"
S2_PID=$LAST_PID
check "removed while stopped: the open alarm is closed at start" wait_event "$S" gone \
    '.event == "removed" and .level == "high" and .actor == "restart"'
check "... and logged" grep -q 'sensor gone level high was active_unacknowledged and is no longer in the configuration' "$T/hazmond-s2.log"
stop_pid "$S2_PID"; forget_pid "$S2_PID"
spawn hazmond-s3 "$HAZMOND" -c "$T/stopped.conf" -P "$PLUGIN_DIR"
S3_PID=$LAST_PID
wait_for 10 test -S "$T/ctl4.sock" || bail "no control socket"
sleep 1
check "... once: its saved state is forgotten" \
    test "$(events "$S" gone | jq -s 'map(select(.actor == "restart")) | length')" = 1
stop_pid "$S3_PID"; forget_pid "$S3_PID"
done_testing
