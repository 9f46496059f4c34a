#!/bin/bash
# The read-only control socket (issue 16): beside the main one by default,
# mode 0666 (0660 and its group with control_read_group, none when ""),
# serving status, sensors, alarms, history and watch; every command that
# changes something is refused with read_only and changes nothing (no
# ledger event, the alarm stays unacknowledged), logged once per
# connection with the client's uid and pid; a reload cannot move it.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl
CLIENT="python3 $top_srcdir/tests/integration/ctlclient.py"

start_broker
start_sub "$T/sub.out"
S=$T/sub.out
echo "set 1 holding 0 5" >"$T/plant.sim"
start_sim 0 "$T/plant.sim"
SOCK=$T/hazmond.sock
RSOCK=$T/hazmond-read.sock
conf() {	# conf EXTRA-DAEMON-SETTINGS
	cat <<EOC
site = { id = "ro"; };
daemon = { state_dir = "$T/state"; control_socket = "$SOCK"; $1 };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = (
  { id = "ch4"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 0; }; unit = "ppm";
    levels = ( { name = "high"; above = 20.0; } ); }
);
EOC
}
conf "" >"$T/hazmond.conf"
start_hazmond "$T/hazmond.conf"
LOG=$T/hazmond.log
wait_for 10 test -S "$RSOCK" || bail "no read-only control socket"
online() { grep -q '^hazmon/ro/status {"state":"online"' "$S"; }
wait_for 10 online || bail "hazmond not online"
ctl() { timeout 10 "$HAZMONCTL" -s "$SOCK" "$@"; }
rctl() { timeout 10 "$HAZMONCTL" -s "$RSOCK" "$@"; }

check "the read-only socket is beside the main one, mode 0666" \
    test "$(stat -c %a "$RSOCK")" = 666
check "the main socket keeps mode 0660" test "$(stat -c %a "$SOCK")" = 660
check "its start is logged" grep -q "read-only control socket $RSOCK ready" "$LOG"

# ---- what it serves
sim set 1 holding 0 30
unacked() { rctl --json alarms | jq -e '.alarms[0].state == "active_unacknowledged"' >/dev/null; }
wait_for 10 unacked || bail "no unacknowledged alarm"
for c in status sensors alarms history; do
	rctl --json $c >"$T/$c.json"
	check "$c on the read-only socket: exit 0, ok" \
	    sh -c "[ $? = 0 ] && jq -e .ok '$T/$c.json' >/dev/null"
done
check "sensors there is the same list as on the main socket" \
    test "$(rctl --json sensors | jq -c '[.sensors[].id]')" = \
    "$(ctl --json sensors | jq -c '[.sensors[].id]')"
rctl alarms >"$T/alarms.txt"
check "alarms (table) there shows the alarm" grep -q ch4 "$T/alarms.txt"

# ---- what it refuses
seq0=$(ctl --json status | jq .ledger.last_seq)
n_warn0=$(grep -c 'refused on the read-only socket' "$LOG")
for args in "ack ch4" "shelve ch4 60 -r maintenance" "unshelve ch4" \
    "oos ch4 on" "reload" "rebirth"; do
	rctl --json $args >"$T/refused.json" 2>"$T/refused.err"
	rc=$?
	check "$args on the read-only socket: exit 1, code read_only" \
	    sh -c "[ $rc = 1 ] && jq -e '.code == \"read_only\"' '$T/refused.json' >/dev/null"
done
rctl ack ch4 2>"$T/refused.err"
check "hazmonctl says why on stderr" grep -q 'read-only socket' "$T/refused.err"
sleep 0.5	# an event would be recorded within a poll (0.2 s)
check "the ledger got no event" test "$(ctl --json status | jq .ledger.last_seq)" = "$seq0"
check "the alarm is still unacknowledged" unacked
check "ch4 is not shelved and in service" sh -c "ctl --json sensors | jq -e \
    '.sensors[0] | .shelved_until == null and .out_of_service == false' >/dev/null"
check "no ack, shelve or oos event reached MQTT" \
    not grep -q -E '"event":"(acknowledged|shelved|out_of_service)"' "$S"
n_warn=$(( $(grep -c 'refused on the read-only socket' "$LOG") - n_warn0 ))
check "one warning per connection (7 connections): $n_warn" test "$n_warn" = 7
check "the warning names uid and pid" grep -q -E \
    "control client uid $(id -u) pid [0-9]+ \([^)]*\): \"ack\" refused on the read-only socket" "$LOG"
# Three refused requests on one connection: one warning, three answers.
printf '%s\n' '{"cmd":"ack","sensor":"ch4"}' '{"cmd":"reload"}' \
    '{"cmd":"oos","sensor":"ch4","on":true}' '{"cmd":"status"}' >"$T/three.req"
n0=$(grep -c 'refused on the read-only socket' "$LOG")
$CLIENT send "$RSOCK" "$T/three.req" >"$T/three.out"
check "three refusals and a status on one connection" \
    test "$(jq -r '.code // "ok"' "$T/three.out" | tr '\n' ' ')" = "read_only read_only read_only ok "
check "... logged once" test "$(grep -c 'refused on the read-only socket' "$LOG")" = $((n0 + 1))
check "the main socket still acts: ack" ctl ack ch4
acked() { has_event "$S" ch4 '.event == "acknowledged"'; }
wait_for 5 acked
check "... the acknowledgement reached MQTT" acked

# ---- a crowd on the read-only socket cannot lock operators out
for i in $(seq 20); do
	spawn "rhold$i" $CLIENT hold "$RSOCK"
done
wait_for 10 sh -c "[ \$(grep -c 'quiet longest of the read-only' '$LOG') -ge 4 ]"
check "20 idle read-only connections: the quietest make room among themselves" \
    test "$(grep -c 'quiet longest of the read-only' "$LOG")" -ge 4
check "... and an operator still gets in on the main socket" ctl status
MAIN=""
for i in $(seq 16); do
	spawn "mhold$i" $CLIENT hold "$SOCK"
	MAIN="$MAIN $LAST_PID"
done
rclosed() { [ "$(cat "$T"/rhold*.log | grep -c '^closed')" = 20 ]; }
wait_for 10 rclosed
check "16 idle main connections push every read-only one out" rclosed
n_main=$(grep -c 'quiet longest while all 16 connections were taken' "$LOG")
echo '{"cmd":"status"}' | timeout 5 socat -t 2 - "UNIX-CONNECT:$RSOCK" >"$T/crowded.out"
check "then a read-only client is refused, it cannot push operators out" \
    jq -e '.error == "too many control connections"' "$T/crowded.out"
check "... and no main connection was closed for it" test \
    "$(grep -c 'quiet longest while all 16 connections were taken' "$LOG")" = "$n_main"
check "an operator still gets in (making room among the main ones)" ctl status
for pid in $MAIN; do stop_pid "$pid"; forget_pid "$pid"; done

# ---- it cannot move by a reload
conf 'control_read_socket = "";' >"$T/hazmond.conf"
ctl reload >"$T/reload.out" 2>&1
check "a reload that moves it is refused, naming the key" \
    grep -q 'daemon.control_read_socket' "$T/reload.out"
check "... and the socket is still there" test -S "$RSOCK"

# ---- "" turns it off; control_read_group makes it 0660 and that group
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"
check "a stop removes it" not test -e "$RSOCK"
start_hazmond "$T/hazmond.conf" hazmond-off
wait_for 10 test -S "$SOCK" || bail "hazmond did not restart"
check "control_read_socket = \"\": no read-only socket" not test -e "$RSOCK"
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"
conf "control_read_socket = \"$T/r.sock\"; control_read_group = \"nogroup\";" >"$T/hazmond.conf"
start_hazmond "$T/hazmond.conf" hazmond-group
wait_for 10 test -S "$T/r.sock" || bail "no read-only socket at its path"
check "control_read_group: mode 0660" test "$(stat -c %a "$T/r.sock")" = 660
check "... and its group" test "$(stat -c %G "$T/r.sock")" = nogroup

done_testing
