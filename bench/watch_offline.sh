#!/bin/bash
# bench/watch_offline.sh - issue 17's acceptance run: hazmon-watch is away
# for OFFLINE_S seconds (60) while 500 events flow, behind a broker that
# keeps only MAXQ (100) messages for its session; back, it must get every
# one by automatic replay, each exactly once, and exit 0.  Records how
# long it took to be complete again.  (tests/integration/watch.sh is the
# short version that runs in CI.)
#
#   bash bench/watch_offline.sh [BUILD_DIR]   (default _build)
#   OFFLINE_S=60 MAXQ=100 RATE=100            (environment knobs)
# Appends a line to bench/results/watch.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top top_builddir=$(cd "${1:-$top/_build}" && pwd)
. "$top/tests/lib.sh"
OFFLINE_S=${OFFLINE_S:-60} MAXQ=${MAXQ:-100} RATE=${RATE:-100}
N=10 ROUNDS=25			# 10 sensors x 25 rounds x 2 = 500 events

BROKER_CONF="allow_anonymous true
persistence false
max_queued_messages $MAXQ" start_broker
start_sub "$T/all.out"
start_replay_site $N "$RATE"

EV=$T/events.jsonl
watch_start() {
	spawn "$1" "$top_builddir/hazmon-watch" -p "$BROKER_PORT" -i bench-1 \
	    --json -o "$EV" -s "$T/watch.state"
	W_PID=$LAST_PID
	wait_for 10 grep -q 'connected to' "$T/$1.log" || bail "hazmon-watch did not connect"
}
watch_stop() {
	kill -TERM "$W_PID"; wait_exit "$W_PID" 10 || bail "hazmon-watch did not stop"
	wait "$W_PID"; W_RC=$?; forget_pid "$W_PID"
}
has_all() { [ "$(jq -r .seq "$EV" | sort -n -u | wc -l)" = "$TOTAL" ]; }

# A first alarm while it is there, so it knows the site; then away.
watch_start w1
echo "set 1 holding 0 60" >"$SIM_FIFO"
wait_for 10 test -s "$EV" || bail "no first event"
watch_stop
start=$(date +%s)
echo "set 1 holding 0 0" >"$SIM_FIFO"
pause=$(awk -v s="$OFFLINE_S" -v r="$ROUNDS" 'BEGIN { printf "%.2f", s / r / 2 }')
BURST_PAUSE=$pause burst $ROUNDS $N
wait_quiet $((OFFLINE_S + 60)) "$T/hazmond.log" || bail "the burst did not end"
TOTAL=$(max_logged_seq "$T/hazmond.log")	# seq 1 while it was there
wait_for 30 have_all_seqs "$T/all.out" "$TOTAL" ||
    bail "the events did not reach the broker"
away=$(($(date +%s) - start))
t0=$(date +%s.%N)
watch_start w2
wait_for 120 has_all || bail "hazmon-watch did not get every event back"
t1=$(date +%s.%N)
watch_stop
dups=$(jq -r .seq "$EV" | sort -n | uniq -d | wc -l)
lines=$(wc -l <"$EV")
byreplay=$(jq -r 'select(.replayed == true) | .seq' "$EV" | wc -l)
check "hazmon-watch exits 0 (nothing lost)" test "$W_RC" = 0
check "every seq exactly once" test "$dups $lines" = "0 $TOTAL"
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
results=$top/bench/results/watch.md
[ -s "$results" ] || printf '%s\n\n%s\n%s\n' "# hazmon-watch away while events flow (bench/watch_offline.sh)" \
    "| when (UTC) | away | events | broker kept (max_queued_messages) | by replay | complete again after | exit | duplicates printed |" \
    "|---|---|---|---|---|---|---|---|" >"$results"
echo "| $(date -u +%Y-%m-%dT%H:%MZ) | ${away} s | $((TOTAL - 1)) | $MAXQ | $byreplay | ${took} s at replay_rate $RATE | $W_RC | $dups |" | tee -a "$results"
done_testing
