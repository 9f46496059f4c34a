#!/bin/bash
# A burst goes to the broker a window at a time (issue 15): hazmond keeps
# up to 64 events in flight, not libmosquitto's default of 20, when the
# broker sets no lower Receive Maximum; and an event the broker has not
# acknowledged is never counted as delivered.  The broker here
# (tests/mqtt-slow-ack-broker.py) holds back every PUBACK until told.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl
N=100

echo "unit 1" >"$T/unit1.sim"
start_sim 0 "$T/unit1.sim"
spawn slowack /usr/bin/python3 "$top_srcdir/tests/mqtt-slow-ack-broker.py" \
    "$T/broker.log" "$T/release"
wait_for 10 grep -q '^port ' "$T/broker.log" || bail "the slow broker did not start"
port=$(sed -n 's/^port //p' "$T/broker.log")
SOCK=$T/hazmond.sock
burst_conf "$T/hazmond.conf" $N "$port"
sed -i "s|^daemon = .*|daemon = { state_dir = \"$T/state\"; control_socket = \"$SOCK\"; };|" "$T/hazmond.conf"
start_hazmond "$T/hazmond.conf"
wait_for 10 test -S "$SOCK" || bail "no control socket"
ctl() { timeout 10 "$HAZMONCTL" -s "$SOCK" "$@"; }
wait_for 10 sh -c "ctl() { timeout 10 '$HAZMONCTL' -s '$SOCK' \"\$@\"; }; ctl --json status | jq -e '.destinations[0].connected' >/dev/null" ||
    bail "hazmond did not connect to the slow broker"

# 100 alarms and their clearing: 200 events, none acknowledged.
BURST_PAUSE=0.5 burst 1 $N
wait_for 10 logged_seq_ge $((2 * N)) "$T/hazmond.log" || bail "the burst was not recorded"
held() { sed -n 's/^held //p' "$T/broker.log" | tail -n 1; }
settled() {	# the count of held events has stopped growing
	local a; a=$(held); sleep 1; [ -n "$a" ] && [ "$a" = "$(held)" ]
}
wait_for 10 settled || bail "events kept coming without acknowledgements"
h=$(held)
check "unacknowledged, hazmond keeps a window in flight: $h events (libmosquitto alone: at most 20)" \
    test "$h" -ge 60 -a "$h" -le 64
check "... and counts none of them delivered" \
    sh -c "ctl() { timeout 10 '$HAZMONCTL' -s '$SOCK' \"\$@\"; }; ctl --json status | jq -e '.destinations[0].acked_seq == 0 and .destinations[0].undelivered == $((2 * N))' >/dev/null"

# Acknowledged, the rest follows and the cursor reaches the last event.
touch "$T/release"
all_delivered() {
	ctl --json status | jq -e --argjson n $((2 * N)) \
	    '.destinations[0].acked_seq == $n and .destinations[0].undelivered == 0' >/dev/null
}
check "released, every one of the $((2 * N)) events is delivered" wait_for 20 all_delivered
check "... and the broker saw each event once before it acknowledged" \
    test "$(held)" = "$h"
done_testing
