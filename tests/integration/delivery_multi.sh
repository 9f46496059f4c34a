#!/bin/bash
# Two destinations (issue 7, test c): while one broker is down for a minute
# (DOWN_SECONDS), the other receives every event at once; the first catches
# up afterwards, in order, from its own delivery cursor.
. "$top_srcdir/tests/lib.sh"

DOWN=${DOWN_SECONDS:-60}
mkdir -p "$T/mpa" "$T/mpb"
BROKER_CONF="allow_anonymous true
persistence true
persistence_location $T/mpa/"
start_broker; A=$BROKER_PORT; A_PID=$BROKER_PID
start_psub "$T/a.out" hz-test-a
BROKER_CONF="allow_anonymous true
persistence true
persistence_location $T/mpb/
max_queued_messages 100000"
start_broker; B=$BROKER_PORT; B_PID=$BROKER_PID
start_psub "$T/b.out" hz-test-b
echo "unit 1" >"$T/unit1.sim"
start_sim 0 "$T/unit1.sim"
burst_conf "$T/hazmond.conf" 50 "$A" "$B"
start_hazmond "$T/hazmond.conf"
wait_for 10 grep -q '^hazmon/burst/status {"state":"online"' "$T/b.out" ||
    bail "hazmond not online at B"

stop_pid "$B_PID"; forget_pid "$B_PID"
t0=$(date +%s)
BURST_PAUSE=0.5 burst 2 50		# 200 events
check "A gets all 200 events while B is down" wait_for 15 have_all_seqs "$T/a.out" 200
t1=$(date +%s)
check "... within seconds, not held up by B ($((t1 - t0)) s)" test $((t1 - t0)) -le 10
check "B's outage was noticed" grep -q 'mqtt dest2: lost connection' "$T/hazmond.log"
sleep $((DOWN - (t1 - t0) > 0 ? DOWN - (t1 - t0) : 0))
BROKER_CONF="allow_anonymous true
persistence true
persistence_location $T/mpb/
max_queued_messages 100000"
start_broker "$B"
check "B catches up with all 200 after its outage" wait_for 30 have_all_seqs "$T/b.out" 200
check "B's first arrivals are in seq order" new_seqs_in_order "$T/b.out"
check "B's late events are flagged replayed" \
    jq_events "$T/b.out" '.*' 'map(select(.replayed)) | length >= 200'
check "A saw each event once, live" \
    jq_events "$T/a.out" '.*' 'length == 200 and (map(select(.replayed)) | length == 0)'
done_testing
