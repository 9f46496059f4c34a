#!/bin/bash
# Replay on request (issue 17, part 1): a consumer that missed 500 events
# asks on <prefix>/command/replay and gets every one exactly once, flagged
# replayed, with an "accepted" and a "done" reply; live alarms go first
# while a replay runs; requests that are wrong, too big, for another site,
# retained, older than retention or a flood are refused with the reason;
# hazmonctl replay does the same for the operator.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl
N=10				# sensors; 25 rounds of each make 500 events

start_broker
start_sub "$T/all.out"
echo "unit 1" >"$T/unit1.sim"
start_sim 0 "$T/unit1.sim"
SOCK=$T/hazmond.sock
burst_conf "$T/hazmond.conf" $N "$BROKER_PORT"
sed -i -e 's|keepalive = 5; }|keepalive = 5; replay = true; replay_rate = 100; }|' \
    -e "s|state_dir = \"$T/state\";|& control_socket = \"$SOCK\";|" "$T/hazmond.conf"
start_hazmond "$T/hazmond.conf"
wait_for 10 grep -q '^hazmon/burst/status {"state":"online"' "$T/all.out" ||
    bail "hazmond not online"

# 500 events while no consumer but the watcher above is there.
BURST_PAUSE=0.3 burst 25 $N
wait_for 60 have_all_seqs "$T/all.out" 500 || bail "the 500 events did not reach the broker"
wait_quiet 20 "$T/hazmond.log"

REPLY=hazmon/burst/reply/replay
ask() { mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t hazmon/burst/command/replay "$@"; }
# reply ID: the payloads of replies with that request_id.
reply() { grep "^$REPLY " "$T/$OUT" | cut -d' ' -f2- |
    jq -c --arg id "$1" 'select(.request_id == $id)'; }
has_reply() { reply "$1" | jq -e -s --arg r "$2" 'map(select(.result == $r)) | length == 1' >/dev/null; }
# replayed FILE: the seqs that came as replayed, in arrival order.
replayed() { grep '^hazmon/burst/events/' "$1" | cut -d' ' -f2- |
    jq -r 'select(.replayed == true) | .seq'; }

# 1. The consumer comes (clean session: it missed everything) and asks.
OUT=c1.out
spawn c1 sh -c "exec mosquitto_sub -h 127.0.0.1 -p $BROKER_PORT -v -q 1 -t 'hazmon/+/events/#' -t 'hazmon/+/reply/#' -t 'hazmon-test/#' >'$T/c1.out'"
C1_PID=$LAST_PID
wait_for 10 sub_ready "$T/c1.out" || bail "consumer did not subscribe"
ask -m '{"cmd":"replay","from":1,"to":500,"request_id":"gap-1","site":"burst"}'
check "the request is accepted with the range it will send" \
    wait_for 10 has_reply gap-1 accepted
check "... from 1 to 500" test "$(reply gap-1 | jq -s -r '.[0] | "\(.from) \(.to) \(.oldest) \(.last)"')" = "1 500 1 500"
check "the replay is done within 30 s (100 events a second)" wait_for 30 has_reply gap-1 done
check "... and says it sent 500" test "$(reply gap-1 | jq -s -r 'map(select(.result == "done"))[0].sent')" = 500
check "the consumer got seq 1 to 500, each exactly once" \
    test "$(replayed "$T/c1.out" | sort -n | uniq | wc -l) $(replayed "$T/c1.out" | wc -l)" = "500 500"
check "... all of them flagged replayed" \
    test "$(grep -c '^hazmon/burst/events/.*"replayed":false' "$T/c1.out")" = 0
check "... in seq order" test "$(replayed "$T/c1.out" | sort -n -c 2>&1 && echo sorted)" = sorted
check "... with the payload the ledger has (seq 250 as first published)" \
    test "$(grep '^hazmon/burst/events/' "$T/all.out" | cut -d' ' -f2- | jq -c 'select(.seq == 250) | del(.replayed)' | head -n 1)" = \
    "$(grep '^hazmon/burst/events/' "$T/c1.out" | cut -d' ' -f2- | jq -c 'select(.seq == 250) | del(.replayed)')"
check "the destination's cursor did not move back: nothing else was resent" \
    test "$(grep -c 'replayed":true' "$T/all.out")" = 500

# 2. Live alarms go first: a live alarm during a replay of everything
# arrives while it runs, not after it.
ask -m '{"from":1,"to":500,"request_id":"big"}'
wait_for 10 has_reply big accepted || bail "second replay not accepted"
wait_for 10 sh -c "[ \$(grep -c 'replayed\":true' '$T/c1.out') -ge 600 ]"
echo "set 1 holding 0 60" >"$SIM_FIFO"
check "a live alarm during the replay arrives" \
    wait_for 10 sh -c "grep -q '^hazmon/burst/events/g0 .*\"seq\":501,' '$T/c1.out'"
check "... before the replay is done" not has_reply big done
check "... not flagged replayed" grep -q '"seq":501,.*"replayed":false' "$T/c1.out"
wait_for 30 has_reply big done || bail "second replay not done"
echo "set 1 holding 0 0" >"$SIM_FIFO"

# 3. Refusals, each with its reason and code; none sends an event.
refused_code() { reply "$1" | jq -e -s --arg c "$2" 'length == 1 and .[0].result == "refused" and .[0].code == $c' >/dev/null; }
sleep_for_rate() { sleep 2.1; }	# the request rate limit: one per 2 s after a burst of 5
sleep_for_rate; sleep_for_rate
before=$(grep -c '"replayed":true' "$T/c1.out")
ask -m '{"from":300,"to":200,"request_id":"rev"}'
check "a reversed range is refused" wait_for 10 refused_code rev invalid
ask -m '{"from":-5,"to":20,"request_id":"neg"}'
check "a negative seq is refused" wait_for 10 refused_code neg invalid
ask -m '{"from":1,"to":20000,"request_id":"huge"}'
check "a range of 20000 is refused as too large" wait_for 10 refused_code huge too_large
ask -m '{"from":1,"to":5,"site":"other","request_id":"site"}'
check "a request for another site is refused" wait_for 10 refused_code site unknown_site
ask -m '{"from":1,"to":5'
check "malformed JSON is refused (no request_id to echo)" \
    wait_for 10 sh -c "grep '^$REPLY ' '$T/c1.out' | cut -d' ' -f2- | jq -e 'select(.request_id == null and .code == \"bad_request\")' >/dev/null"
sleep_for_rate; sleep_for_rate
ask -m '{"from":900,"to":950,"request_id":"future"}'
check "a range after the last seq is refused" wait_for 10 refused_code future not_yet
ask -r -m '{"from":1,"to":5,"request_id":"ret"}'
check "a retained request is refused" wait_for 10 refused_code ret retained
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -r -n -t hazmon/burst/command/replay
check "... the empty retained message that clears it too" wait_for 10 sh -c \
    "grep '^$REPLY ' '$T/c1.out' | cut -d' ' -f2- | jq -e 'select(.request_id == null and .code == \"retained\")' >/dev/null"
check "the reasons name what is wrong" test "$(reply rev | jq -r .reason)" = "the range 300 to 200 is reversed"
check "... and the limit" test "$(reply huge | jq -r .reason)" = "20000 events asked; at most 10000 per request"
check "no refused request sent an event" test "$(grep -c '"replayed":true' "$T/c1.out")" = "$before"
check "refusals are logged as warnings" \
    grep -q 'replay request from broker 127.0.0.1:[0-9]* (request_id "rev") refused: the range 300 to 200 is reversed' "$T/hazmond.log"

# A flood: 30 requests at once.  At most a burst is taken, the rest refused
# as too many, and logged once.
sleep_for_rate; sleep_for_rate; sleep_for_rate
for i in $(seq 30); do echo "{\"from\":490,\"to\":490,\"request_id\":\"f$i\"}"; done |
    mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t hazmon/burst/command/replay -l
n_replies() { [ "$(grep "^$REPLY " "$T/c1.out" | grep -c '"request_id":"f[0-9]*"')" -ge 30 ]; }
check "every request of a flood is answered" wait_for 20 n_replies
check "... 25 or more of them refused as too many" \
    test "$(grep "^$REPLY " "$T/c1.out" | grep '"request_id":"f' | grep -c '"code":"too_many"')" -ge 25
check "... and the refusal logged once" \
    test "$(grep -c 'refused: more than 5 requests within 10 s' "$T/hazmond.log")" = 1
echo "set 1 holding 1 60" >"$SIM_FIFO"
check "hazmond still publishes live alarms after the flood" wait_for 10 sh -c "grep '^hazmon/burst/events/g1 ' '$T/c1.out' | grep -q '\"replayed\":false'"

sleep_for_rate
ask -m '{"from":495,"to":495,"request_id":"after"}'
check "the next request after the flood is taken" wait_for 10 has_reply after done
check "... and the flood's other refusals are counted in the log" \
    grep -q -E 'mqtt dest1: [0-9]+ more replay requests from broker 127.0.0.1:[0-9]+ were refused as too many' "$T/hazmond.log"

# 4. hazmonctl replay, for the operator.
check "hazmonctl replay is accepted" \
    "$HAZMONCTL" -s "$SOCK" replay --from 10 --to 19 --destination dest1
# gap-1 and big sent seq 10 to 19 twice already
third_time() { [ "$(replayed "$T/c1.out" | grep -c -x -E '1[0-9]')" -ge 30 ]; }
check "... its 10 events arrive again" wait_for 20 third_time
"$HAZMONCTL" -s "$SOCK" replay --from 300 --to 100 >"$T/ctl.out" 2>&1
check "hazmonctl replay of a reversed range fails" test $? != 0
check "... and says why" grep -q 'replay: the range 300 to 100 is reversed' "$T/ctl.out"
"$HAZMONCTL" -s "$SOCK" replay --from 1 --to 5 --destination nowhere >"$T/ctl.out" 2>&1
check "hazmonctl replay to an unknown destination fails" grep -q 'no destination "nowhere"' "$T/ctl.out"

# 5. Older than retention: the ledger keeps from seq 101 on (pruned while
# hazmond was stopped); a request before it names the oldest seq kept.
replayed_before=$(grep -c '"replayed":true' "$T/all.out")
prune_ledger 100 "$T/hazmond.conf" hazmond2
check "replays did not move the destination's cursor back: nothing undelivered at the stop" \
    grep -q 'stopped; undelivered events: dest1 0$' "$T/hazmond.log"
wait_for 10 grep -q 'mqtt dest1: connected to' "$T/hazmond2.log" ||
    bail "hazmond not online again"
wait_for 10 sub_ready "$T/c1.out"
ask -m '{"from":50,"to":150,"request_id":"old"}'
check "a range older than retention is refused" wait_for 10 refused_code old retention
check "... naming the oldest seq kept" test "$(reply old | jq -r '"\(.oldest) \(.reason)"')" = \
    "101 events before seq 101 are no longer kept (retention); the oldest seq kept is 101"
check "... and the restart sent nothing again" \
    test "$(grep -c '"replayed":true' "$T/all.out")" = "$replayed_before"

done_testing
