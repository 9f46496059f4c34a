#!/bin/bash
# A burst of events in one turn of hazmond's loop (issue 16): 3000 sensors
# whose slave starts answering with an exception at once give 3000 fault
# events and state lines, several MiB, faster than any reader can take
# them between two turns.  A watcher that reads as fast as it can must
# keep its stream: what waits goes to its socket before the 1 MiB rule
# closes it.  It gets every event, in seq order.
. "$top_srcdir/tests/lib.sh"
WATCH="python3 $top_srcdir/tests/integration/watchclient.py"
N=3000

start_broker
start_sub "$T/sub.out"
echo "unit 1" >"$T/unit1.sim"
SIM_FIFO=$T/sim.fifo
spawn sim "$HAZMON_SIM" -p 0 -P "$T/sim.port" -c "$SIM_FIFO" -n $N -f "$T/unit1.sim"
wait_for 5 test -s "$T/sim.port" || bail "simulator did not start"
SIM_PORT=$(cat "$T/sim.port")
SOCK=$T/hazmond.sock
burst_conf "$T/hazmond.conf" $N "$BROKER_PORT"
sed -i -e "s|^daemon = .*|daemon = { state_dir = \"$T/state\"; control_socket = \"$SOCK\"; };|" \
    -e 's|interval = 0.1;|interval = 1.0;|' "$T/hazmond.conf"
start_hazmond "$T/hazmond.conf"
LOG=$T/hazmond.log
wait_for 20 grep -q '^hazmon/burst/status {"state":"online"' "$T/sub.out" ||
    bail "hazmond not online"
W=$T/watch.out
spawn watch $WATCH read "$T/hazmond-read.sock" "$W" 120
wait_for 20 grep -q '"type":"synced"' "$W" || bail "no snapshot"

sim fault 1 exception 2
wait_for 60 logged_seq_ge $N "$LOG" || bail "not $N fault events"
wait_quiet 30 "$LOG"
last=$(max_logged_seq "$LOG")
got_all() { [ "$(grep '"type":"event"' "$W" | jq -r .event.seq | tail -n 1)" = "$last" ]; }
wait_for 20 got_all
check "the reader was not closed during the burst" \
    not grep -q 'does not keep up with its watch stream' "$LOG"
check "it got the events up to seq $last" got_all
check "... each once, in seq order" sh -c "grep '\"type\":\"event\"' '$W' | jq -r .event.seq |
    awk 'NR > 1 && \$1 != prev + 1 { bad = 1 } { prev = \$1 } END { exit bad }'"
# States that did not fit came again as a snapshot once the stream had
# drained: the picture the stream gives shows every sensor's fault.
faulted() { [ "$(grep '"type":"state"' "$W" | jq -r '"\(.sensor) \(.quality)"' |
    awk '{ q[$1] = $2 } END { for (s in q) n += q[s] == "fault"; print n + 0 }')" = $N ]; }
check "the stream's last state of each of the $N sensors shows its fault" wait_for 30 faulted
echo "# $(grep -c . "$W") lines, $(wc -c <"$W") bytes of watch stream," \
    "$(grep -c '"type":"snapshot"' "$W") snapshots"
done_testing
