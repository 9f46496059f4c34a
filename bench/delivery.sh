#!/bin/bash
# bench/delivery.sh - issue 7's delivery benchmark: 10,000 alarm events.
#
#  (a) live: SENSORS sensors on one slave flip across their setpoint
#      together, ROUNDS times up and down (2 x SENSORS x ROUNDS events).
#      Latency = subscriber receipt (mosquitto_sub %U) - the event's ts (the
#      reading that caused it): an upper bound of transition -> PUBACK.
#      Throughput = events / (last receipt - first receipt) of each flip.
#  (b) backlog: the broker is down while the same burst is committed;
#      then it comes back: delivered/s = events / drain time.
#  (c) ledger commit throughput, by bench/ledger_bench.c against the
#      daemon's own ledger code: 10,000 events in transactions of 1000
#      (one poll's burst) and of 1 (events one by one, fsync each).
#
#   bash bench/delivery.sh [BUILD_DIR]     SENSORS=1000 ROUNDS=5
#   BROKER_INFLIGHT=N   the broker's max_inflight_messages (its window of
#                       QoS 1 messages to each subscriber; Mosquitto's
#                       default is 20, 0 is none), to see what the burst's
#                       p99 owes to the broker -> subscriber hop
# Appends a table to bench/results/delivery.md.  Needs sqlite3, jq, bc.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top top_builddir=$(cd "${1:-$top/_build}" && pwd)
. "$top/tests/lib.sh"
SENSORS=${SENSORS:-1000} ROUNDS=${ROUNDS:-5}
N=$((2 * SENSORS * ROUNDS))

echo "unit 1" >"$T/u.sim"
start_sim 0 "$T/u.sim"
BROKER_CONF="allow_anonymous true
persistence false
max_queued_messages 1000000${BROKER_INFLIGHT:+
max_inflight_messages $BROKER_INFLIGHT}"
start_broker
burst_conf "$T/h.conf" "$SENSORS" "$BROKER_PORT"
sed -i 's|daemon = { state_dir = "\([^"]*\)"; };|daemon = { state_dir = "\1"; log_level = "warning"; };|' "$T/h.conf"

sub_times() {	# sub_times FILE: receipt-time seq ts-ms, one line per event
	sed -n 's|^\([0-9.]*\) hazmon/burst/events/[^ ]* \(.*\)$|\1 \2|p' "$1" |
	    while read -r t js; do echo "$t $(echo "$js" | jq -r '"\(.seq) \(.ts)"')"; done
}
start_tsub() {
	spawn "tsub-$1" sh -c "exec mosquitto_sub -h 127.0.0.1 -p $BROKER_PORT -q 1 -F '%U %t %p' -t 'hazmon/#' >'$T/$1'"
	sleep 0.5
}
count_rows() { sqlite3 "$T/state/ledger.db" 'select count(*) from events' 2>/dev/null || echo 0; }
rows_ge() { [ "$(count_rows)" -ge "$1" ]; }
got_ge() { [ "$(grep -c '/events/' "$1")" -ge "$2" ]; }

# ---- (a) live
start_tsub live.out
start_hazmond "$T/h.conf"
wait_for 10 grep -q 'hazmon/burst/status' "$T/live.out" || bail "not online"
BURST_PAUSE=2 burst "$ROUNDS" "$SENSORS"
wait_for 120 got_ge "$T/live.out" "$N" ||
    echo "# only $(grep -c /events/ "$T/live.out") of $N events arrived" >&2
grep '/events/' "$T/live.out" | awk '{ print $1, $3 }' >"$T/live.raw"
# latency and per-flip throughput, in one awk over "receipt-s json"
python3 - "$T/live.raw" >"$T/live.stats" <<'PY'
import json, sys, datetime
rows = []
for line in open(sys.argv[1]):
    t, js = line.split(" ", 1)
    e = json.loads(js)
    ts = datetime.datetime.strptime(e["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    rows.append((float(t), ts, e["seq"]))
lat = sorted((r - ts) * 1000 for r, ts, _ in rows)
pct = lambda p: lat[min(len(lat) - 1, int(round(p / 100 * len(lat) + 0.5)) - 1)]
flips = {}
for r, ts, _ in rows:
    flips.setdefault(round(ts, 1), []).append(r)
rates = sorted(len(v) / (max(v) - min(v)) for v in flips.values() if len(v) > 10 and max(v) > min(v))
print(len(rows), round(pct(50), 1), round(pct(99), 1), round(lat[-1], 1),
      round(rates[len(rates) // 2]) if rates else 0)
PY
read -r LIVE_N P50 P99 PMAX LIVE_RATE <"$T/live.stats"
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"

# ---- (b) backlog: broker down while the burst is committed
rm -rf "$T/state"
stop_pid "$BROKER_PID"; forget_pid "$BROKER_PID"
start_hazmond "$T/h.conf" hazmond-b
sleep 1
BURST_PAUSE=0.5 burst "$ROUNDS" "$SENSORS"
wait_for 120 rows_ge "$N" || echo "# ledger has $(count_rows) of $N" >&2
BPORT=$BROKER_PORT
start_broker "$BPORT"
start_tsub backlog.out
t0=$(date +%s.%N)
wait_for 300 got_ge "$T/backlog.out" "$N" || echo "# backlog incomplete" >&2
t1=$(date +%s.%N)
DRAIN_RATE=$(echo "scale=0; $N / ($t1 - $t0)" | bc)

# ---- (c) commit throughput of the ledger code itself
cc -std=c11 -O2 -D_GNU_SOURCE -I"$top_builddir" -I"$top/include" $(for d in base modbus config bus alarm delivery core; do printf -- "-I$top/daemon/%s " $d; done) -I"$top/daemon" -o "$T/ledger_bench" \
    "$top/bench/ledger_bench.c" "$top_builddir/.libs/libhazcore.a" \
    $(pkg-config --cflags --libs libmodbus libmosquitto libconfig jansson sqlite3) \
    -lpthread -lm -ldl || bail "cannot build ledger_bench"
C1000=$("$T/ledger_bench" "$T/lb1" 10000 1000)
C1=$("$T/ledger_bench" "$T/lb2" 2000 1)

mkdir -p "$top/bench/results"
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) $N events ($SENSORS sensors x $ROUNDS rounds up and down), QoS 1, window 64"
	echo
	echo "host: $(nproc) cores; hazmond $("$HAZMOND" --version | cut -d' ' -f2) ($(git -C "$top" rev-parse --short HEAD)); ledger: SQLite WAL, synchronous=FULL; broker max_inflight_messages ${BROKER_INFLIGHT:-20 (its default)}"
	echo
	echo "| figure | value |"
	echo "|---|---|"
	echo "| live: events received | $LIVE_N of $N |"
	echo "| live: transition -> subscriber latency p50 / p99 / max | $P50 / $P99 / $PMAX ms |"
	echo "| live: delivered events/s within a burst (median of flips) | $LIVE_RATE |"
	echo "| backlog: delivered events/s after the broker returns | $DRAIN_RATE |"
	echo "| ledger commit, batches of 1000 | $C1000 |"
	echo "| ledger commit, one event per transaction | $C1 |"
} | tee -a "$top/bench/results/delivery.md"
