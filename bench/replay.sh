#!/bin/bash
# bench/replay.sh - replay on request (docs/mqtt.md): the rate a replay
# sends at, and what a large replay does to live alarms.  Fills the ledger
# with FILL events of 19 sensors, then, for each replay_rate in RATES,
# replays all of them while a 20th sensor raises and clears an alarm every
# 0.5 s, and takes each live event's latency at a subscriber (arrival
# minus the event's ts, the time of the reading that caused it); and the
# same without a replay, as the baseline.
#
#   bash bench/replay.sh [BUILD_DIR]        (default _build)
#   ROUNDS=30 RATES="100 1000 10000"       (environment knobs)
# Appends a table to bench/results/replay.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top top_builddir=$(cd "${1:-$top/_build}" && pwd)
. "$top/tests/lib.sh"
ROUNDS=${ROUNDS:-30} RATES=${RATES:-100 1000 10000}
FILL=$((ROUNDS * 19 * 2))
LIVE=19				# the sensor of the live alarms

start_broker
echo "unit 1" >"$T/unit1.sim"
start_sim 0 "$T/unit1.sim"
conf() {	# conf RATE
	burst_conf "$T/hazmond.conf" 20 "$BROKER_PORT"
	sed -i "s|keepalive = 5; }|keepalive = 5; replay = true; replay_rate = $1; }|" "$T/hazmond.conf"
}
conf 100
start_hazmond "$T/hazmond.conf" hazmond-fill
spawn sub sh -c "exec mosquitto_sub -h 127.0.0.1 -p $BROKER_PORT -q 1 -F '%U %t %p' -t 'hazmon/+/events/#' -t 'hazmon/+/reply/#' -t 'hazmon-test/#' >'$T/sub.out'"
# sub_ready, for lines that start with the arrival time
ready() { mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t hazmon-test/ready -m x -q 1 2>/dev/null
	grep -q ' hazmon-test/ready ' "$T/sub.out"; }
wait_for 10 ready || bail "subscriber not ready"
for r in $(seq "$ROUNDS"); do
	for i in $(seq 0 18); do echo "set 1 holding $i 60"; done
	echo "sleep 0.3"
	for i in $(seq 0 18); do echo "set 1 holding $i 0"; done
	echo "sleep 0.3"
done >"$SIM_FIFO"
wait_for 120 logged_seq_ge "$FILL" "$T/hazmond-fill.log" || bail "the fill did not end"
wait_quiet 20 "$T/hazmond-fill.log"

# live N: N alarms of the live sensor, raised and cleared, 0.25 s apart.
live() {
	local i
	for i in $(seq "$1"); do
		echo "set 1 holding $LIVE 60"; echo "sleep 0.25"
		echo "set 1 holding $LIVE 0"; echo "sleep 0.25"
	done >"$SIM_FIFO"
	sleep $(($1 / 2 + 2))
}
# latencies FROM_LINE: ms of each live event after line FROM_LINE of sub.out
latencies() {
	tail -n +"$1" "$T/sub.out" | /usr/bin/python3 -c '
import sys, json, datetime
for line in sys.stdin:
    at, topic, payload = line.rstrip("\n").split(" ", 2)
    if "/events/g'$LIVE'" not in topic:
        continue
    e = json.loads(payload)
    if e.get("replayed"):
        continue
    ts = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc)
    print("%.1f" % ((float(at) - ts.timestamp()) * 1000))'
}
stats() {	# stats: n, median, p95, max of numbers on stdin
	sort -n | awk '{ v[NR] = $1 } END { if (!NR) { print "0 - - -"; exit }
	    printf "%d %.1f %.1f %.1f\n", NR, v[int((NR + 1) / 2)], v[int(NR * 0.95 + 0.5) < 1 ? 1 : int(NR * 0.95 + 0.5)], v[NR] }'
}

results=$top/bench/results/replay.md
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%MZ) on $(nproc) CPUs: $FILL events replayed, live alarm every 0.5 s"
	echo
	echo '`bash bench/replay.sh` (ROUNDS='"$ROUNDS"'). Latency: subscriber arrival minus the event'"'"'s `ts` (reading time), ms; live events only.'
	echo
	echo "| replay_rate | replay took | events/s sent | live events | latency median | p95 | max |"
	echo "|---|---|---|---|---|---|---|"
} >>"$results"

from=$(($(wc -l <"$T/sub.out") + 1))
live 10
read -r n med p95 max < <(latencies "$from" | stats)
echo "| (no replay) | - | - | $n | $med | $p95 | $max |" | tee -a "$results"

k=0
for rate in $RATES; do
	k=$((k + 1))
	stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"
	conf "$rate"
	start_hazmond "$T/hazmond.conf" "hazmond-$rate"
	wait_for 10 grep -q 'mqtt dest1: connected to' "$T/hazmond-$rate.log" || bail "hazmond not up"
	sleep 1
	from=$(($(wc -l <"$T/sub.out") + 1))
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t hazmon/burst/command/replay \
	    -m "{\"from\":1,\"to\":$FILL,\"request_id\":\"bench-$k\"}"
	n_live=$(( FILL / rate < 2 ? 4 : (FILL / rate) * 2 ))
	[ "$n_live" -le 40 ] || n_live=40
	live "$n_live"
	wait_for 300 grep -q "\"result\":\"done\".*\"request_id\":\"bench-$k\"" "$T/sub.out" ||
	    bail "replay at $rate did not end"
	t0=$(grep "\"result\":\"accepted\".*\"request_id\":\"bench-$k\"" "$T/sub.out" | cut -d' ' -f1)
	t1=$(grep "\"result\":\"done\".*\"request_id\":\"bench-$k\"" "$T/sub.out" | cut -d' ' -f1)
	took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f s", b - a }')
	eps=$(awk -v a="$t0" -v b="$t1" -v n="$FILL" 'BEGIN { printf "%.0f", n / (b - a) }')
	read -r n med p95 max < <(latencies "$from" | stats)
	echo "| $rate | $took | $eps | $n | $med | $p95 | $max |" | tee -a "$results"
done
ok "results appended to bench/results/replay.md"
done_testing
