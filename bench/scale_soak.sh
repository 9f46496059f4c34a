#!/bin/bash
# bench/scale_soak.sh - the scale soak of issue 13: DEVICES Modbus TCP
# devices (one bus each, one hazmon-sim) x REGS registers, every register a
# sensor polled every second, for DURATION; a device fault every minute
# (10 s long, kind chosen at random), a reload with a real change (one
# setpoint) every five minutes, and a register stepped across its set point
# every STEP seconds.  Measures hazmond's RSS and open fds over the run,
# CPU per reading (utime + stime from /proc over the registers the
# simulator served), reload wall times, and alarm latency: poll -> MQTT
# (arrival at an independent subscriber minus the event's ts, which is the
# time of the reading) and step -> MQTT (arrival minus the simulator's
# step, so with the wait for the next poll).
#
#   bash bench/scale_soak.sh [BUILD_DIR]          (default _build)
#   DURATION=3600 DEVICES=200 REGS=50 STEP=10 SAMPLE=5 (environment knobs)
# Appends a section to bench/results/soak.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top
top_builddir=$(cd "${1:-$top/_build}" && pwd); export top_builddir
. "$top/tests/lib.sh"
. "$top/bench/lib.sh"
DURATION=${DURATION:-3600} DEVICES=${DEVICES:-200} REGS=${REGS:-50}
STEP=${STEP:-10} SAMPLE=${SAMPLE:-5} SEED=${SEED:-$RANDOM}
CTL=$top_builddir/hazmonctl
PY=/usr/bin/python3
CLK=$(getconf CLK_TCK)
RANDOM=$SEED
[ "$STEP" -gt 5 ] || bail "STEP must be more than 5 s: a step lasts 4 s, and the next poll must see it end"
echo "# scale soak: $DEVICES x $REGS channels, ${DURATION} s, seed $SEED"

start_broker
rm -f "$T/sub.ready"
SOAK_SUB_TOPICS='hazmon/+/events/#' spawn scalesub $PY "$top/bench/soak-sub.py" sub \
    127.0.0.1 "$BROKER_PORT" scale-duty-room "$T/sub.tsv" "$T/sub.ready"
SUBPID=$LAST_PID
wait_for 10 test -s "$T/sub.ready" || bail "the subscriber did not subscribe"
bench_sim "$DEVICES" "$REGS" 1

conf() {	# conf N: the N-th configuration (sensor dN-r1 gets setpoint 999)
	{
		echo 'site = { id = "scale"; };'
		echo "daemon = { state_dir = \"$T/state\"; log_level = \"notice\";"
		echo "  control_socket = \"$T/ctl.sock\"; control_group = \"nogroup\"; };"
		echo "mqtt = ( { name = \"local\"; host = \"127.0.0.1\"; port = $BROKER_PORT; } );"
		echo "buses = ("
		for u in $(seq "$DEVICES"); do
			[ "$u" = 1 ] || echo ","
			echo "  { name = \"d$u\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIM_PORT; timeout_ms = 300; retries = 0; }"
		done
		echo "); sensors = ("
		for u in $(seq "$DEVICES"); do
			for r in $(seq 0 $((REGS - 1))); do
				[ "$u$r" = 10 ] || echo ","
				sp=1000; [ "$u" = "$1" ] && [ "$r" = 1 ] && sp=999
				echo "  { id = \"d$u-r$r\"; plugin = \"generic\"; bus = \"d$u\"; slave = $u; interval = 1.0;"
				echo "    register = { table = \"holding\"; address = $r; };"
				echo "    levels = ( { name = \"high\"; above = $sp; } ); }"
			done
		done
		echo ");"
	} >"$T/hazmond.conf.tmp"
	mv "$T/hazmond.conf.tmp" "$T/hazmond.conf"
}
ctl() { "$CTL" -s "$T/ctl.sock" "$@"; }
conf 0
start_hazmond "$T/hazmond.conf"
wait_for 60 ctl -q status >/dev/null 2>&1 || bail "hazmond did not start"
connected() { ctl --json status 2>/dev/null | jq -e '.destinations[0].connected' >/dev/null; }
wait_for 30 connected || bail "hazmond did not connect to the broker"
sleep 10	# warm-up: every bus connected, first states published

# Registers served by the simulator = readings (one register per sensor).
sim_items() {
	sim_stat requests >/dev/null || return 1
	# seen once in a 10-minute run: the marker before the file
	wait_for 2 test -s "$T/sim.stats" || return 1
	awk '$1 ~ /^unit\.[0-9]+\.fc\.3\.items$/ { s += $2 } END { print s + 0 }' "$T/sim.stats"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$HAZMOND_PID/stat"; }
sample() {	# "T RSS_KB FDS CPU_TICKS ITEMS"
	echo "$(($(date +%s) - T0)) $(awk '/^VmRSS/ { print $2 }' "/proc/$HAZMOND_PID/status") $(ls "/proc/$HAZMOND_PID/fd" | wc -l) $(cpu_ticks) $(sim_items)"
}
T0=$(date +%s)
sample >"$T/samples.txt"
next_sample=$SAMPLE next_fault=60 next_reload=300 next_step=$STEP
n_fault=0 n_reload=0 n_reload_bad=0 n_step=0 fault_unit=0 fault_end=0
last_unit=0 recent_unit=0 recent_end=0
kinds=(noreply "delay 800" "exception 4" badcrc disconnect short "truncate 3")
: >"$T/steps.txt"; : >"$T/reloads.txt"; : >"$T/touched.txt"
step_unit=0 step_end=0
while :; do
	now=$(($(date +%s) - T0))
	[ "$now" -lt "$DURATION" ] || break
	if [ "$fault_unit" != 0 ] && [ "$now" -ge "$fault_end" ]; then
		sim "fault $fault_unit none"; fault_unit=0
		recent_unit=$last_unit recent_end=$((now + 6))
	fi
	if [ "$step_unit" != 0 ] && [ "$now" -ge "$step_end" ]; then
		sim "set $step_unit holding $step_reg $((step_reg + step_unit % 7))"; step_unit=0
	fi
	if [ "$now" -ge "$next_fault" ]; then
		fault_unit=$((1 + RANDOM % DEVICES)) fault_end=$((now + 10)) last_unit=$fault_unit
		kind=${kinds[RANDOM % ${#kinds[@]}]}
		sim "fault $fault_unit $kind"
		echo "$(date +%s.%N) d$fault_unit fault $kind" >>"$T/touched.txt"
		n_fault=$((n_fault + 1)) next_fault=$((next_fault + 60))
	fi
	if [ "$now" -ge "$next_reload" ]; then
		n_reload=$((n_reload + 1))
		conf "$n_reload"
		echo "$(date +%s.%N) d$n_reload reload (setpoint of d$n_reload-r1)" >>"$T/touched.txt"
		t0=$(date +%s%N)
		if ctl --json reload >"$T/reload.json" 2>&1; then
			echo "$(( ($(date +%s%N) - t0) / 1000000 )) $(jq -c '[.changed, .buses_restarted]' "$T/reload.json")" >>"$T/reloads.txt"
		else
			n_reload_bad=$((n_reload_bad + 1))
			echo "# reload $n_reload refused: $(cat "$T/reload.json")"
		fi
		next_reload=$((next_reload + 300))
	fi
	if [ "$now" -ge "$next_step" ]; then
		# a device that is not the faulty one, nor the one whose fault
		# ended less than 6 s ago (hazmond backs off from a failing slave
		# for up to 5 s: that is recovery time, not alarm latency); a
		# register that keeps setpoint 1000 whatever the reload changed
		sleep "0.$((RANDOM % 10))"	# not in phase with the polls
		u=$((1 + RANDOM % DEVICES))
		while [ "$u" = "$fault_unit" ] || { [ "$u" = "$recent_unit" ] && [ "$now" -lt "$recent_end" ]; }; do
			u=$((u % DEVICES + 1))
		done
		r=$((2 + RANDOM % (REGS - 2)))
		# the time before the set: a poll may read the new value at once,
		# and a reading taken after the set must never look earlier
		echo "$(date +%s.%N) d$u-r$r raised" >>"$T/steps.txt"
		sim "set $u holding $r 2000"
		step_unit=$u step_reg=$r step_end=$((now + 4))
		n_step=$((n_step + 1)) next_step=$((next_step + STEP))
	fi
	if [ "$now" -ge "$next_sample" ]; then
		kill -0 "$HAZMOND_PID" 2>/dev/null || bail "hazmond died at $now s: $(tail -n 3 "$T/hazmond.log")"
		sample >>"$T/samples.txt"
		next_sample=$((next_sample + SAMPLE))
	fi
	sleep 0.2
done
[ "$fault_unit" = 0 ] || sim "fault $fault_unit none"
[ "$step_unit" = 0 ] || sim "set $step_unit holding $step_reg $((step_reg + step_unit % 7))"
sample >>"$T/samples.txt"
sleep 10		# the last step clears, the last events go out
status=$(ctl --json status)
last=$(echo "$status" | jq .ledger.last_seq)
undelivered=$(echo "$status" | jq '.destinations[0].undelivered')
up=$(echo "$status" | jq '[.buses[] | select(.connected)] | length')
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"
stop_pid "$SUBPID"; forget_pid "$SUBPID"
$PY "$top/bench/soak-sub.py" check "$T/sub.tsv" >"$T/report.txt"
rep() { awk -v k="$1" '$1 == k { print $2; f = 1; exit } END { if (!f) print "?" }' "$T/report.txt"; }

# Latency of every alarm event: arrival - ts (poll -> MQTT); for the steps'
# raises also arrival - step (step -> MQTT): the first raise of that sensor
# from a reading taken after the step.
awk -F'\t' '{ print "{\"recv\":" $1 ",\"e\":" $4 "}" }' "$T/sub.tsv" |
    jq -r 'select(.e.kind == "alarm") | "\(.e.sensor) \(.e.event) \(.recv) \((.e.ts[0:19] + "Z" | fromdateiso8601) + (.e.ts[20:23] | tonumber) / 1000)"' \
    >"$T/alarm_times.txt"
pct() { sort -n | awk -v p="$1" '{ v[NR] = $1 } END { if (NR) { i = int(p * NR + 0.999); if (i < 1) i = 1; printf "%.0f", v[i] } else print "-" }'; }
lat_poll=$(awk '{ printf "%.0f\n", 1000 * ($3 - $4) }' "$T/alarm_times.txt")
lat_step=$(awk 'NR == FNR { if ($2 == "raised") { k = ++n[$1]; recv[$1, k] = $3; ts[$1, k] = $4 } next }
	{ x = $2; f = 0
	  for (i = 1; i <= n[x]; i++) if (ts[x, i] >= $1 - 0.001) { printf "%.0f\n", 1000 * (recv[x, i] - $1); f = 1; break }
	  if (!f) print "lost" }' "$T/alarm_times.txt" "$T/steps.txt")
echo "$lat_step" >"$T/lat_step.txt"
n_lost_steps=$(grep -c lost "$T/lat_step.txt")
# A step without an event: what else touched its device from 15 s before
# to 15 s after (faults, reloads), and the sensor's events near it.
paste -d' ' "$T/steps.txt" "$T/lat_step.txt" | awk '$NF == "lost" { print $1, $2 }' |
    while read -r t s; do
	d=${s%-r*}
	echo "# step without an event: $s at $(date -u -d "@$t" +%T.%3N)"
	awk -v t="$t" -v d="$d" '$2 == d && $1 > t - 15 && $1 < t + 15 { printf "#   %+.1f s: %s\n", $1 - t, substr($0, index($0, $3)) }' \
	    "$T/touched.txt" 2>/dev/null
	awk -v s="$s" -v t="$t" '$1 == s && $4 > t - 15 && $4 < t + 15 { printf "#   event %s, reading at %+.1f s\n", $2, $4 - t }' \
	    "$T/alarm_times.txt"
done >"$T/lost.txt"
cat "$T/lost.txt"

# per tenth: RSS, fds, CPU per reading
awk -v d="$DURATION" '{ b = int(10 * $1 / (d + 1)); print (b > 9 ? 9 : b), $2, $3, $4, $5 }' \
    "$T/samples.txt" >"$T/buckets.txt"
: >"$T/curve.txt"
prev=$(head -n 1 "$T/buckets.txt")
for b in 0 1 2 3 4 5 6 7 8 9; do
	rows=$(awk -v b="$b" '$1 == b' "$T/buckets.txt")
	[ -n "$rows" ] || continue
	rss=$(echo "$rows" | awk '{ print $2 }' | sort -n)
	fds=$(echo "$rows" | awk '{ print $3 }' | sort -n)
	end=$(echo "$rows" | tail -n 1)
	echo "$prev $end" | awk -v clk="$CLK" \
	    -v r="$(echo "$rss" | head -n 1) $(echo "$rss" | pct 0.5) $(echo "$rss" | tail -n 1)" \
	    -v f="$(echo "$fds" | head -n 1) $(echo "$fds" | tail -n 1)" -v b="$b" \
	    '{ split(r, R, " "); split(f, F, " "); n = $10 - $5
	       printf "| %d | %s | %s | %s | %s | %s | %d | %.2f |\n", b + 1, R[1], R[2], R[3], F[1], F[2], n,
	           (n > 0) ? ($9 - $4) * 1e6 / clk / n : 0 }' >>"$T/curve.txt"
	prev=$end
done
first=$(head -n 1 "$T/samples.txt") final=$(tail -n 1 "$T/samples.txt")
read -r _ rss0 fd0 c0 i0 <<<"$first"
read -r tn rss1 fd1 c1 i1 <<<"$final"
us_total=$(echo "scale=2; ($c1 - $c0) * 1000000 / $CLK / ($i1 - $i0)" | bc)
cpu_pct=$(echo "scale=1; 100 * ($c1 - $c0) / $CLK / $tn" | bc)
reload_ms=$(awk '{ print $1 }' "$T/reloads.txt" | sort -n | tr '\n' ' ')

out=$top/bench/results/soak.md
mkdir -p "$(dirname "$out")"
{
	echo
	echo "## scale soak $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo
	echo "commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo "${SOAK_COMMIT:-unknown}"); host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r)"
	echo
	echo "parameters: DURATION=$DURATION DEVICES=$DEVICES REGS=$REGS ($((DEVICES * REGS)) channels, 1 s interval, one TCP bus per device) STEP=$STEP SAMPLE=$SAMPLE SEED=$SEED; measured window $tn s after a 10 s warm-up"
	echo
	echo "| figure | value |"
	echo "|---|---|"
	echo "| device faults (10 s each) / reloads (one setpoint changed) / refused | $n_fault / $n_reload / $n_reload_bad |"
	echo "| reload wall times, ms (hazmonctl reload) | $reload_ms |"
	echo "| RSS start -> end (KiB) | $rss0 -> $rss1 ($(( rss1 - rss0 )) KiB) |"
	echo "| open fds start -> end | $fd0 -> $fd1 |"
	echo "| hazmond CPU over the window | $(echo "scale=1; ($c1 - $c0) / $CLK" | bc) s ($cpu_pct % of one core) |"
	echo "| readings (registers served by the simulator) | $((i1 - i0)) ($(( (i1 - i0) / tn )) per s) |"
	echo "| **CPU per reading** | **$us_total µs** |"
	echo "| alarm events received / poll -> MQTT p50, p99, **worst** (ms) | $(echo "$lat_poll" | grep -c .) / $(echo "$lat_poll" | pct 0.5), $(echo "$lat_poll" | pct 0.99), **$(echo "$lat_poll" | pct 1)** |"
	echo "| steps / step -> MQTT p50, p99, worst (ms; includes the wait for the next 1 s poll) / steps without an event | $n_step / $(grep -v lost "$T/lat_step.txt" | pct 0.5), $(grep -v lost "$T/lat_step.txt" | pct 0.99), $(grep -v lost "$T/lat_step.txt" | pct 1) / $n_lost_steps |"
	echo "| events: last seq / received distinct / gaps / undelivered at the end | $last / $(rep distinct) / $(rep gaps) / $undelivered |"
	echo "| buses connected at the end | $up of $DEVICES |"
	echo
	echo "Per tenth of the run (RSS KiB, fds; CPU per reading over that tenth):"
	echo
	echo "| tenth | RSS min | RSS median | RSS max | fds min | fds max | readings | µs CPU per reading |"
	echo "|---|---|---|---|---|---|---|---|"
	cat "$T/curve.txt"
	if [ -s "$T/lost.txt" ]; then
		echo
		echo "Steps without an event, with what touched their device within 15 s:"
		echo
		sed 's/^# /    /' "$T/lost.txt"
	fi
} | tee -a "$out"
