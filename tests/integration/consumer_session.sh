#!/bin/bash
# The subscriber setup of docs/mqtt.md "For consumers: how not to lose
# events" (issue 12, item 17): a persistent session (-c, a fixed client id,
# QoS 1) that is away while alarms flow receives every missed event when it
# comes back, seq without a gap; a clean-session subscriber misses them.
# And what the page says of a new destination's first seq and of bdseq.
. "$top_srcdir/tests/lib.sh"

start_broker
start_sub "$T/all.out"		# always there: tells when the broker has them
echo "unit 1" >"$T/unit1.sim"
start_sim 0 "$T/unit1.sim"
burst_conf "$T/hazmond.conf" 1 "$BROKER_PORT"
start_hazmond "$T/hazmond.conf"
wait_for 10 grep -q '^hazmon/burst/status {"state":"online"' "$T/all.out" ||
    bail "hazmond not online"

# The commands of docs/mqtt.md, on this broker, plus a test topic that
# tells when the subscription is live.
persistent() {
	spawn "$1" mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" \
	    -c -i duty-room-1 -q 1 -v -t 'hazmon/+/events/#' -t 'hazmon-test/#'
	P_PID=$LAST_PID
}
clean() {
	spawn "$1" mosquitto_sub -h 127.0.0.1 -p "$BROKER_PORT" \
	    -q 1 -v -t 'hazmon/+/events/#' -t 'hazmon-test/#'
	C_PID=$LAST_PID
}
has_seq() { seqs "$1" | grep -q -x "$2"; }
# got WHO: the seqs both runs of a subscriber received, sorted, one line.
got() { cat "$T/${1}1.log" "$T/${1}2.log" 2>/dev/null >"$T/$1.all"; \
    seqs "$T/$1.all" | sort -n -u | tr '\n' ' '; }
p_has_all() { got p >/dev/null; have_all_seqs "$T/p.all" "$1"; }

persistent p1; clean c1
wait_for 10 sub_ready "$T/p1.log" || bail "persistent subscriber not ready"
wait_for 10 sub_ready "$T/c1.log" || bail "clean subscriber not ready"
# 1. Both get the first alarm (raised and cleared: seq 1 and 2).
BURST_PAUSE=0.5 burst 1 1
check "persistent subscriber receives seq 1 and 2" wait_for 10 have_all_seqs "$T/p1.log" 2
check "clean subscriber receives seq 1 and 2" wait_for 10 have_all_seqs "$T/c1.log" 2

# 2. Both go away; 5 alarms come and go (seq 3 to 12) and reach the broker.
stop_pid "$P_PID"; forget_pid "$P_PID"
stop_pid "$C_PID"; forget_pid "$C_PID"
BURST_PAUSE=0.5 burst 5 1
check "the broker has seq 1 to 12 (PUBACKed to hazmond)" \
    wait_for 20 have_all_seqs "$T/all.out" 12

# 3. Both come back, the persistent one with the same client id.
persistent p2; clean c2
check "persistent subscriber receives every event missed while away" \
    wait_for 10 p_has_all 12
check "... seq 1 to 12 without a gap" test "$(got p)" = "$(seq -s ' ' 1 12) "
wait_for 10 sub_ready "$T/c2.log" || bail "clean subscriber not ready again"
# The next alarm (seq 13, 14) reaches both: the clean one is live again.
BURST_PAUSE=0.5 burst 1 1
check "the next alarm reaches the clean subscriber" wait_for 10 has_seq "$T/c2.log" 14
check "the clean subscriber missed seq 3 to 12: a gap" test "$(got c)" = "1 2 13 14 "
check "the persistent subscriber has 13 and 14 too" wait_for 10 p_has_all 14
check "... all of 1 to 14" test "$(got p)" = "$(seq -s ' ' 1 14) "

# 4. What the page says of a new destination and of bdseq: a restart with a
# second destination (another broker).  The new one starts at the ledger's
# current seq, with no history; bdseq counts connections per destination.
bdseqs() { grep "^hazmon/burst/status {\"state\":\"online\"" "$1" |
    cut -d' ' -f2- | jq -r .bdseq | awk '!seen[$1]++' | tr '\n' ' '; }
second_got() { test "$(seqs "$T/second.out" | sort -n -u | tr '\n' ' ')" = "$1"; }
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"
FIRST=$BROKER_PORT
start_broker; SECOND=$BROKER_PORT
start_sub "$T/second.out"
BROKER_PORT=$FIRST
burst_conf "$T/hazmond2.conf" 1 "$FIRST" "$SECOND"
start_hazmond "$T/hazmond2.conf" hazmond2
wait_for 10 grep -q '^hazmon/burst/status {"state":"online"' "$T/second.out" ||
    bail "hazmond not online at the second broker"
BURST_PAUSE=0.5 burst 1 1
check "the new destination's first events are seq 15 and 16, not 1" \
    wait_for 10 second_got "15 16 "
check "... none of them replayed" \
    not grep -q '"replayed":true' "$T/second.out"
check "bdseq of the first destination went 0, then 1 after the restart (same in every status of a connection)" \
    test "$(bdseqs "$T/all.out")" = "0 1 "
check "bdseq of the new destination starts at 0" \
    test "$(bdseqs "$T/second.out")" = "0 "

done_testing
