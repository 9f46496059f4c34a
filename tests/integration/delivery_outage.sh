#!/bin/bash
# Durable delivery under faults (issue 7, tests a and b):
# (a) the broker stops during a burst of 1000 events and comes back: every
#     seq arrives, at least once, first arrivals in order;
# (b) hazmond is killed with SIGKILL during a burst and restarted: nothing
#     the ledger recorded is missing at the subscriber.
. "$top_srcdir/tests/lib.sh"

mkdir -p "$T/mp"
BROKER_CONF="allow_anonymous true
persistence true
persistence_location $T/mp/
max_queued_messages 100000
max_inflight_messages 0"
start_broker
BPORT=$BROKER_PORT
start_psub "$T/sub.out" hz-test-sub-a
echo "unit 1" >"$T/unit1.sim"
start_sim 0 "$T/unit1.sim"
burst_conf "$T/hazmond.conf" 100 "$BPORT"
start_hazmond "$T/hazmond.conf" hazmond1
wait_for 10 grep -q '^hazmon/burst/status {"state":"online"' "$T/sub.out" ||
    bail "hazmond not online"

# (a) 5 rounds x 100 sensors x raise+clear = 1000 events
burst 5 100
wait_for 20 n_seqs_ge "$T/sub.out" 150 || bail "burst did not start"
stop_pid "$BROKER_PID"; forget_pid "$BROKER_PID"
sleep 2
start_broker "$BPORT"
check "broker outage: all 1000 events recorded" \
    wait_for 30 logged_seq_ge 1000 "$T/hazmond1.log"
check "... and not more" test "$(max_logged_seq "$T/hazmond1.log")" = 1000
check "broker outage: every seq 1..1000 arrives" wait_for 60 have_all_seqs "$T/sub.out" 1000
check "first arrivals in seq order" new_seqs_in_order "$T/sub.out"
check "events sent after the outage are flagged replayed" \
    jq_events "$T/sub.out" '.*' 'map(select(.replayed)) | length > 0'
check "no seq beyond what was recorded" \
    test "$(seqs "$T/sub.out" | sort -n | tail -n 1)" = 1000
n_online=$(grep -c '^hazmon/burst/status {"state":"online"' "$T/sub.out")
check "a new birth after reconnecting" test "$n_online" -ge 2

# (b) SIGKILL during a burst
burst 3 100
wait_for 20 logged_seq_ge 1200 "$T/hazmond1.log" || bail "second burst did not start"
kill -KILL "$HAZMOND_PID"; wait "$HAZMOND_PID" 2>/dev/null; forget_pid "$HAZMOND_PID"
start_hazmond "$T/hazmond.conf" hazmond2
n_online_ge() { [ "$(grep -c '^hazmon/burst/status {"state":"online"' "$T/sub.out")" -gt "$1" ]; }
check "hazmond back online after SIGKILL" wait_for 10 n_online_ge "$n_online"
wait_quiet 60 "$T/hazmond1.log" "$T/hazmond2.log" || bail "the burst never ended"
check "the will told subscribers hazmond was gone" \
    grep -q '^hazmon/burst/status {"state":"offline"' "$T/sub.out"
last=$(max_logged_seq "$T/hazmond1.log" "$T/hazmond2.log")
check "seq continues across SIGKILL (no reuse): $last > 1200" test "$last" -gt 1200
check "after SIGKILL: every recorded seq 1..$last arrives" \
    wait_for 30 have_all_seqs "$T/sub.out" "$last"
check "after SIGKILL: nothing beyond the ledger arrives" \
    test "$(seqs "$T/sub.out" | sort -n | tail -n 1)" = "$last"
done_testing
