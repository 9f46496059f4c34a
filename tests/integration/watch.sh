#!/bin/bash
# hazmon-watch (issue 17, part 2): a consumer that is away while 480
# events flow, behind a broker that keeps only 10 of them for its session,
# gets every one back by automatic replay and prints each exactly once,
# exit status 0; malformed and foreign messages are counted, not fatal;
# when the site's ledger no longer has what it missed (retention), it says
# so and exits 1.
. "$top_srcdir/tests/lib.sh"
HAZMON_WATCH=$top_builddir/hazmon-watch
N=10				# sensors: a round is 20 events

BROKER_CONF="allow_anonymous true
persistence false
max_queued_messages 10" start_broker
start_sub "$T/all.out"
start_replay_site $N 500

EV=$T/events.jsonl
watch_start() {
	spawn "$1" "$HAZMON_WATCH" -h 127.0.0.1 -p "$BROKER_PORT" -i bureau-1 \
	    -t 'hazmon/+' --json -o "$EV" -s "$T/watch.state" --timeout 5
	W_PID=$LAST_PID
	wait_for 10 grep -q 'connected to 127.0.0.1' "$T/$1.log" || bail "hazmon-watch did not connect"
}
# The broker's seqs, from all.out, past the malformed messages of part 2.
broker_has() { [ "$(grep '^hazmon/[^ ]*/events/' "$T/all.out" | cut -d' ' -f2- |
    jq -R -r 'fromjson? | .seq? // empty' 2>/dev/null | sort -n -u |
    awk -v n="$1" '$1 >= 1 && $1 <= n' | wc -l)" = "$1" ]; }
has_upto() { [ "$(jq -r .seq "$EV" | sort -n -u | awk -v n="$1" '$1 <= n' | wc -l)" = "$1" ]; }
once_each() { [ -z "$(jq -r .seq "$EV" | sort -n | uniq -d)" ]; }

# 1. Present for the first round.
watch_start w1
BURST_PAUSE=0.3 burst 1 $N
check "hazmon-watch prints the first 20 events" wait_for 20 has_upto 20
watch_stop
check "... and exits 0: nothing lost" test "$W_RC" = 0
check "... after a summary of the site" grep -q -E '^burst +online +[0-9]+ +20 ' "$T/w1.log"

# 2. Away for 480 events; the broker keeps 10 of them for the session.
BURST_PAUSE=0.3 burst 24 $N
wait_for 60 have_all_seqs "$T/all.out" 500 || bail "the 500 events did not reach the broker"
wait_quiet 20 "$T/hazmond.log"
watch_start w2
check "back, it gets every one of seq 1 to 500" wait_for 60 has_upto 500
check "... each exactly once" once_each
check "... 500 lines in all" test "$(wc -l <"$EV")" = 500
check "... most of them by replay" \
    test "$(jq -r 'select(.replayed == true) | .seq' "$EV" | wc -l)" -ge 400
# The broker kept up to 10 messages (from seq 21) for the session; hazmon-watch
# asks for what follows once they have come, not for them again.
check "... which it asked for by itself, after what its session kept" \
    grep -q -E 'replay of seq (2[2-9]|3[01]) to 500 requested by broker' "$T/hazmond.log"
check "every line is an event of the contract" \
    jq_true -s 'all(.[]; (.id == "burst-\(.seq)") and (.site == "burst") and (.kind == "alarm"))' "$EV"

# Malformed and foreign messages: counted and reported, never fatal.
pub() { mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 "$@"; }
# (x-test-malformed: tests/validate-mqtt.py knows they are the test's own)
pub -t hazmon/burst/events/g0 -m 'not json x-test-malformed'
pub -t hazmon/burst/events/g0 -m '{"seq":"7","id":"burst-7","site":"burst","x":"x-test-malformed"}'
pub -t hazmon/burst/events/g0 -m '{"seq":9999999,"id":"other-9999999","site":"burst","x":"x-test-malformed"}'
pub -t hazmon/burst/events/g0 -m '{"seq":600,"id":"other-600","site":"other","x":"x-test-malformed"}'
pub -t hazmon/burst/status -m '[1,"x-test-malformed"]'
pub -t hazmon/burst/reply/replay -m '{"result":"done","request_id":"bureau-1-999","from":1,"to":2,"x":"x-test-malformed"}'
pub -t hazmon/burst/elsewhere -m 'x'
check "malformed messages are reported" wait_for 10 grep -q 'malformed message on hazmon/burst/events/g0: not a JSON object' "$T/w2.log"
check "... with what is wrong" grep -q "its id is not <site>-<seq>" "$T/w2.log"
check "... and another site's event under this prefix" grep -q "another site's event under this prefix" "$T/w2.log"
check "... none of them is printed" test "$(wc -l <"$EV")" = 500
BURST_PAUSE=0.3 burst 1 $N
check "hazmon-watch still prints the next events" wait_for 20 has_upto 520
watch_stop
check "... and exits 0" test "$W_RC" = 0
check "the summary counts 5 malformed messages" grep -q '^malformed messages 5, foreign messages' "$T/w2.log"
check "... and no loss" grep -q -E '^burst +online +[0-9]+ +520 .* 0 +0$' "$T/w2.log"

# 3. Away again for 40 events (the broker keeps up to 10 messages, events
# or status, from 521 on); then the site prunes its ledger up to 550: what
# the broker did not keep of 521 to 550 is gone for good.
BURST_PAUSE=0.3 burst 2 $N
wait_for 30 broker_has 560 || bail "seq 560 did not reach the broker"
wait_quiet 20 "$T/hazmond.log"
prune_ledger 550 "$T/hazmond.conf" hazmond2
wait_for 10 grep -q 'mqtt dest1: connected to' "$T/hazmond2.log" ||
    bail "hazmond not online again"
watch_start w3
check "back, it gets 551 to 560 by replay" wait_for 30 sh -c \
    "[ \$(jq -r 'select(.seq > 550) | .seq' '$EV' | sort -u | wc -l) = 10 ]"
# (it asks from after what the session brought: 521 or later)
check "the loss is reported, naming the retention" wait_for 20 grep -q -E \
    'site burst: [0-9]+ events of seq 5(2[1-9]|3[01]) to 550 LOST: replay refused \(retention\)' "$T/w3.log"
lost=$(sed -n 's/.*site burst: \([0-9]*\) events of seq 5[23][0-9] to 550 LOST.*/\1/p' "$T/w3.log")
check "... 20 to 30 of them (what the broker did not keep)" test "${lost:-0}" -ge 20 -a "${lost:-0}" -le 30
check "... and exactly those are missing from the output" \
    test "$(jq -r .seq "$EV" | sort -n -u | wc -l)" = $((560 - ${lost:-0}))
watch_stop
check "... and hazmon-watch exits 1" test "$W_RC" = 1
check "... its summary counts them as lost" grep -q -E "^burst +online +[0-9]+ +560 .* ${lost:-x} +0\$" "$T/w3.log"
check "still each event exactly once" once_each

# A shared subscription hands each event to one member of a group: the
# gap tracking cannot work there (docs/deployment.md), so it is refused.
timeout 10 "$HAZMON_WATCH" -p "$BROKER_PORT" -t '$share/g/hazmon/+' >"$T/share.log" 2>&1
rc=$?
check "a \$share/ prefix is refused as wrong usage (exit 2)" test "$rc" = 2
check "... saying why" grep -q -- "-t \$share/g/hazmon/+: a shared subscription" "$T/share.log"

done_testing
