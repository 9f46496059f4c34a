#!/bin/bash
# A ledger that cannot be written (disk full) must not silence alarms:
# events are published live at once, logged loudly, seq never repeats.
# The fault is injected with SQLite's max_page_count (a test hook).
. "$top_srcdir/tests/lib.sh"

start_broker
start_sub "$T/sub.out"
echo "unit 1" >"$T/unit1.sim"
start_sim 0 "$T/unit1.sim"
burst_conf "$T/hazmond.conf" 20 "$BROKER_PORT"
HAZMOND_TEST_LEDGER_MAX_PAGES=14 start_hazmond "$T/hazmond.conf"
wait_for 10 grep -q '^hazmon/burst/status {"state":"online"' "$T/sub.out" ||
    bail "hazmond not online"
BURST_PAUSE=0.5 burst 5 20		# 200 events
check "the ledger filled up and said so loudly" \
    wait_for 20 grep -q 'error: LEDGER WRITE FAILED: event seq' "$T/hazmond.log"
check "every event still reached the subscriber" wait_for 20 have_all_seqs "$T/sub.out" 200
check "no seq used twice for different events" jq_events "$T/sub.out" '.*' '
    group_by(.seq) | map(map(.sensor + .event) | unique | length) | all(. == 1)'
check "nothing beyond seq 200" test "$(seqs "$T/sub.out" | sort -n | tail -n 1)" = 200
kill -TERM "$HAZMOND_PID"; wait_exit "$HAZMOND_PID" 10
check "on the way out, unrecorded events are named" \
    grep -q 'stopping with [0-9]* events that never reached the ledger' "$T/hazmond.log"
done_testing
