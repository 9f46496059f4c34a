#!/bin/bash
# The publish-latency histogram of `status` (issue 16): after N events to
# one destination, count == N, the buckets are cumulative and monotone,
# sum is plausible; fresh events are split into stages that add up to
# it; an operator's ack counts too; a backlog sent after a restart is
# counted once each, timed from the events' own ts, and not split.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl
N=10

start_broker
start_sub "$T/sub.out"
echo "unit 1" >"$T/unit1.sim"
start_sim 0 "$T/unit1.sim"
SOCK=$T/hazmond.sock
burst_conf "$T/hazmond.conf" $N "$BROKER_PORT"
sed -i "s|^daemon = .*|daemon = { state_dir = \"$T/state\"; control_socket = \"$SOCK\"; };|" "$T/hazmond.conf"
start_hazmond "$T/hazmond.conf"
LOG=$T/hazmond.log
wait_for 10 grep -q '^hazmon/burst/status {"state":"online"' "$T/sub.out" ||
    bail "hazmond not online"
ctl() { timeout 10 "$HAZMONCTL" -s "$SOCK" "$@"; }
H='.destinations[0].publish_latency'
delivered() {	# delivered SEQ: the destination has everything up to SEQ
	ctl --json status | jq -e --argjson s "$1" \
	    '.ledger.last_seq == $s and .destinations[0].acked_seq == $s' >/dev/null
}
# well_formed FILE: the le of docs/control.md, buckets cumulative, one per le
well_formed() {
	jq -e "$H"' as $h | $h.le == [0.001,0.0025,0.005,0.01,0.025,0.05,0.1,0.25,0.5,1,2.5,5,10]
	    and ($h.buckets | length) == 13
	    and ([range(1; 13) | $h.buckets[.] >= $h.buckets[. - 1]] | all)
	    and $h.buckets[12] <= $h.count' "$1" >/dev/null
}

ctl --json status >"$T/s0.json"
check "status has a publish_latency per destination" well_formed "$T/s0.json"
check "... empty before any event" jq -e "$H.count == 0 and $H.sum == 0" "$T/s0.json"

BURST_PAUSE=0.5 burst 2 $N
wait_for 30 delivered $((4 * N)) || bail "the burst was not delivered"
ctl --json status >"$T/s1.json"
echo "# after $((4 * N)) events: $(jq -c "$H | {buckets, count, sum}" "$T/s1.json")"
check "count == $((4 * N)), every event once" jq -e "$H.count == $((4 * N))" "$T/s1.json"
check "buckets cumulative and monotone" well_formed "$T/s1.json"
# From the poll to libmosquitto: more than nothing, less than a second each.
check "sum plausible: > 0, < count * 1 s" jq -e "$H.sum > 0 and $H.sum < $H.count" "$T/s1.json"
check "most within 100 ms (bucket le 0.1)" jq -e "$H.buckets[6] * 10 >= $H.count * 9" "$T/s1.json"
# Where the time went: every fresh event split into the four stages,
# which add up to the histogram's sum; the ledger's commit takes time.
S="$H.stages"
echo "# stages: $(jq -c "$S" "$T/s1.json")"
check "stages: each of the $((4 * N)) events split" jq -e "$S.count == $((4 * N))" "$T/s1.json"
check "... into queue, evaluate, record, hand_over" jq -e \
    "($S.sum | keys) == [\"evaluate\",\"hand_over\",\"queue\",\"record\"] and ($S.max | keys) == ($S.sum | keys)" "$T/s1.json"
check "... which add up to the histogram's sum" jq -e \
    "([$S.sum[]] | add) - $H.sum | fabs < 0.00001" "$T/s1.json"
check "... each longest at most its sum, recording more than nothing" jq -e \
    "([$S.sum | keys[] as \$k | $S.max[\$k] <= $S.sum[\$k]] | all) and $S.sum.record > 0" "$T/s1.json"

# An operator's action: timed from its creation.
sim set 1 holding 0 60
wait_for 10 delivered $((4 * N + 1)) || bail "no raised event"
ctl -q ack g0 || not_ok "ack"
wait_for 10 delivered $((4 * N + 2))
check "an ack counts too" sh -c "ctl() { timeout 10 '$HAZMONCTL' -s '$SOCK' \"\$@\"; }; ctl --json status | jq -e '$H.count == $((4 * N + 2)) and $H.stages.count == $((4 * N + 2))' >/dev/null"

# ---- a backlog after a restart: broker down, events, hazmond restarted
stop_pid "$BROKER_PID"; forget_pid "$BROKER_PID"
port=$BROKER_PORT
sim set 1 holding 0 0
sim set 1 holding 1 60
wait_for 10 logged_seq_ge $((4 * N + 4)) "$LOG" || bail "no events while the broker was down"
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"
start_hazmond "$T/hazmond.conf" hazmond2
wait_for 10 test -S "$SOCK" || bail "hazmond did not restart"
sleep 1		# the backlog is a second old when it goes out
start_broker "$port"
wait_for 30 delivered $((4 * N + 4)) || bail "the backlog was not delivered"
ctl --json status >"$T/s2.json"
echo "# the backlog of 2 after a restart: $(jq -c "$H | {buckets, count, sum}" "$T/s2.json")"
check "the backlog of 2 counted once each" jq -e "$H.count == 2" "$T/s2.json"
check "... timed from their ts: at least a second each" jq -e "$H.sum >= 2 and $H.buckets[8] == 0" "$T/s2.json"
check "... well formed" well_formed "$T/s2.json"
check "... and not split into stages (their stamps died with the old process)" \
    jq -e "$H.stages.count == 0 and $H.stages.sum.record == 0" "$T/s2.json"
done_testing
