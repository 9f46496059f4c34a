#!/bin/bash
# No alarm waits for a WAL checkpoint (issue 15): the core thread commits
# events (an fdatasync of the WAL) but never copies the WAL back into the
# database file; a thread of its own does, so the WAL stays small.
# Watched with strace on the running daemon: which thread syncs which file.
. "$top_srcdir/tests/lib.sh"

command -v strace >/dev/null || bail "strace is needed (Debian package strace)"
start_broker
start_sub "$T/sub.out"
echo "set 1 holding 0 5" >"$T/plant.sim"
start_sim 0 "$T/plant.sim"
SOCK=$T/hazmond.sock
cat >"$T/hazmond.conf" <<EOC
site = { id = "ckpt"; };
daemon = { state_dir = "$T/state"; control_socket = "$SOCK"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = ( { id = "ch4"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.5;
    register = { table = "holding"; address = 0; };
    levels = ( { name = "high"; above = 50.0; } ); } );
EOC
start_hazmond "$T/hazmond.conf"
wait_for 10 grep -q '^hazmon/ckpt/status {"state":"online"' "$T/sub.out" ||
    bail "hazmond not online"
wait_for 10 test -S "$SOCK" || bail "no control socket"

# strace on every thread of the running daemon (-p takes them all, -f
# any started later); start-up and shut-down, whose syncs are on no
# alarm's path, stay outside.
tids=$(ls "/proc/$HAZMOND_PID/task" | tr '\n' ',')
spawn strace strace -f -qq -y -e trace=fsync,fdatasync,pwrite64 -o "$T/sync.trace" \
    -p "${tids%,}"
STRACE_PID=$LAST_PID
wait_for 10 test -f "$T/sync.trace" || bail "strace did not start"
sleep 1				# strace attaches thread by thread

# 400 operator actions (one event and one commit each) write several
# thousand WAL pages: beyond SQLite's auto-checkpoint at 1000 pages.
for i in $(seq 200); do
	echo '{"cmd":"shelve","sensor":"ch4","seconds":600,"reason":"test"}'
	echo '{"cmd":"unshelve","sensor":"ch4"}'
done >"$T/requests"
/usr/bin/python3 "$top_srcdir/tests/integration/ctlclient.py" send "$SOCK" \
    "$T/requests" >"$T/answers" 2>&1
check "all 400 actions were answered ok" \
    test "$(grep -c '"ok":true' "$T/answers")" = 400
check "all 400 events reached the subscriber" wait_for 20 have_all_seqs "$T/sub.out" 400
# Each 2 MiB of WAL has been copied back; the commit after a complete
# checkpoint starts the WAL over and cuts it to 4 MiB.
wait_for 10 grep -q -E "^[0-9]+ +(fsync|fdatasync)\(.*ledger\.db>" "$T/sync.trace"
act() {	# act CMD ANSWERFILE: one operator action
	echo "{\"cmd\":\"$1\",\"sensor\":\"ch4\",\"seconds\":600,\"reason\":\"test\"}" >"$T/one"
	/usr/bin/python3 "$top_srcdir/tests/integration/ctlclient.py" send "$SOCK" \
	    "$T/one" >"$2" 2>&1
}
# Then a calm plant: an action, 2 s of nothing, one more action.  The WAL
# is not copied back while it is short, so the last commit continues the
# WAL and syncs once; a checkpoint in the quiet time would make it start
# the WAL over, writing and syncing a new WAL header first: a second
# fdatasync() on the path of an alarm after every quiet spell.
sleep 2
act shelve "$T/answer1"
check "one more action was answered ok" grep -q '"ok":true' "$T/answer1"
sleep 2
quiet_from=$(wc -l <"$T/sync.trace")
act unshelve "$T/answer2"
check "and one after a quiet time" grep -q '"ok":true' "$T/answer2"
sleep 1
stop_pid "$STRACE_PID"; forget_pid "$STRACE_PID"
restarts=$(tail -n "+$((quiet_from + 1))" "$T/sync.trace" |
    grep -c -E "pwrite64\([0-9]+<[^>]*ledger\.db-wal>, .*, 32, 0\)")
check "the commit after a quiet time did not start the WAL over (no second sync; $restarts header writes)" \
    test "$restarts" = 0
# That action's event, its delivery and the destination's cursor cost the
# core thread one sync: the event's commit.  The cursor is saved without
# one (a cursor lost to a power cut only means events sent again).
after=$(tail -n "+$((quiet_from + 1))" "$T/sync.trace" |
    awk -v m="$HAZMOND_PID" '$1 == m && /(fsync|fdatasync)\(.*ledger\.db-wal>/' | wc -l)
check "one action, delivered, its cursor saved: one sync of the WAL ($after)" \
    test "$after" = 1

main=$HAZMOND_PID
db_syncs() {	# db_syncs main|other: syncs of ledger.db itself, by thread
	awk -v main="$main" -v who="$1" '
	    /(fsync|fdatasync)\(.*ledger\.db>/ && ($1 == main) == (who == "main")' \
	    "$T/sync.trace" | wc -l
}
check "the core thread synced the WAL at each commit (strace saw it)" \
    test "$(awk -v m="$main" '$1 == m && /ledger\.db-wal>/' "$T/sync.trace" | wc -l)" -ge 401
check "the core thread never synced the database file (no checkpoint on the alarm path)" \
    test "$(db_syncs main)" = 0
check "another thread checkpointed the WAL into the database file" \
    test "$(db_syncs other)" -ge 1
wal=$(stat -c %s "$T/state/ledger.db-wal")
check "the WAL is small again after the burst (${wal} bytes)" \
    test "$wal" -le 4194304
check "hazmond logged no checkpoint trouble" not grep -q 'checkpoint' "$T/hazmond.log"
done_testing
