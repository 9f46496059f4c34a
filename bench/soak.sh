#!/bin/bash
# bench/soak.sh - the fault soak of issue 13: nothing is lost under
# repeated faults.
#
# 50 sensors on 5 buses (4 Modbus TCP buses on one hazmon-sim, 1 RTU bus on
# a socat pty pair with a second hazmon-sim), every value flapping across
# its set point, while the script SIGKILLs mosquitto (restarted on the same
# port; persistence on, so persistent sessions survive), SIGKILLs hazmond
# (restarted on the same state_dir) and injects device faults (no reply,
# slow reply, exception, garbage, disconnect, short and truncated replies),
# all in random order.  An independent subscriber (bench/soak-sub.py, paho,
# persistent session, written against docs/mqtt.md only) records every
# message; at the end its file is checked against the ledger hazmond kept.
#
#   bash bench/soak.sh [BUILD_DIR]               (default _build)
#
# Knobs (environment): SOAK_DURATION (3600 s), SOAK_BROKER_KILLS (100),
# SOAK_HAZMOND_KILLS (100), SOAK_FAULTS (1000), SOAK_SEED (random),
# SOAK_SAMPLE (2 s between RSS/fd samples), SOAK_RESULTS (file the results
# are appended to; default bench/results/soak.md when run directly, none
# when sourced by tests/integration/soak_short.sh).
#
# Output is TAP (one line per invariant), so the CI test runs the same
# code with small counts.
set -u
if [ -z "${SOAK_SOURCED:-}" ]; then
	top=$(cd "$(dirname "$0")/.." && pwd)
	export top_srcdir=$top
	top_builddir=$(cd "${1:-$top/_build}" && pwd); export top_builddir
	SOAK_RESULTS=${SOAK_RESULTS-$top/bench/results/soak.md}
	. "$top/tests/lib.sh"
fi
top=$top_srcdir
DURATION=${SOAK_DURATION:-3600}
N_BKILL=${SOAK_BROKER_KILLS:-100}
N_HKILL=${SOAK_HAZMOND_KILLS:-100}
N_FAULT=${SOAK_FAULTS:-1000}
SEED=${SOAK_SEED:-$RANDOM$RANDOM}
SAMPLE=${SOAK_SAMPLE:-2}
RESULTS=${SOAK_RESULTS:-}
PY=/usr/bin/python3
HAZMONCTL=$top_builddir/hazmonctl
SOCK=$T/ctl.sock
$PY -c 'import paho.mqtt.client' 2>/dev/null || bail "python3-paho-mqtt is not installed"
command -v socat >/dev/null || bail "socat is not installed"
echo "# soak: ${DURATION} s, $N_BKILL broker kills, $N_HKILL hazmond kills, $N_FAULT device faults, seed $SEED"

# ---- the plant: bus tcpK (K = 1..4) has units 10K+1 and 10K+2, the RTU
# bus units 51 and 52; each unit 5 registers, each register one sensor.
# Register 4 of units 11, 21, 31, 41, 51 has a latching level.  Bus tcp4
# gets no device faults: its sensors are the control group whose alarms
# are counted against the simulator's flap schedule.
TCP_UNITS="11 12 21 22 31 32 41 42"
RTU_UNITS="51 52"
FAULT_UNITS="11 12 21 22 31 32 51 52"
LATCHED="s11-4 s21-4 s31-4 s41-4 s51-4"
period() { echo $((3 + ($1 * 5 + $2) % 8)); }	# period UNIT REG: flap half-cycle, s
plant() {	# plant UNITS...: the flaps of those units
	local u r
	for u in "$@"; do
		for r in 0 1 2 3 4; do echo "flap $u holding $r 20 80 $(period "$u" "$r")"; done
	done
}
bus_of() { case $1 in 5?) echo rtu;; *) echo "tcp${1%?}";; esac; }
plant $TCP_UNITS >"$T/tcp.sim"
plant $RTU_UNITS >"$T/rtu.sim"

mkdir -p "$T/mp"
BROKER_CONF="allow_anonymous true
persistence true
persistence_location $T/mp/
autosave_interval 1
autosave_on_changes true
max_queued_messages 0
max_inflight_messages 0"
start_broker
BPORT=$BROKER_PORT

rm -f "$T/sub.ready"
spawn soaksub $PY "$top/bench/soak-sub.py" sub 127.0.0.1 "$BPORT" soak-duty-room "$T/sub.tsv" "$T/sub.ready"
SUBPID=$LAST_PID
wait_for 10 test -s "$T/sub.ready" || bail "the subscriber did not subscribe"

rm -f "$T/tcp.port"
spawn simtcp "$HAZMON_SIM" -p 0 -P "$T/tcp.port" -c "$T/tcp.fifo" -f "$T/tcp.sim"
TCPSIM_PID=$LAST_PID
wait_for 5 test -s "$T/tcp.port" || bail "TCP simulator did not start"
T_FLAP_TCP=$(date +%s.%N)
start_pty_pair
rm -f "$T/rtu.ready"
spawn simrtu "$HAZMON_SIM" -r "$T/ttyA" -P "$T/rtu.ready" -c "$T/rtu.fifo" -f "$T/rtu.sim"
RTUSIM_PID=$LAST_PID
wait_for 5 test -s "$T/rtu.ready" || bail "RTU simulator did not start"
SIM_PORT=$(cat "$T/tcp.port")

{
	echo 'site = { id = "soak"; };'
	echo "daemon = { state_dir = \"$T/state\"; control_socket = \"$SOCK\"; control_group = \"nogroup\"; };"
	echo "mqtt = ( { name = \"local\"; host = \"127.0.0.1\"; port = $BPORT; keepalive = 5; } );"
	echo "buses = ("
	for k in 1 2 3 4; do
		echo "  { name = \"tcp$k\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIM_PORT; timeout_ms = 300; retries = 0; },"
	done
	echo "  { name = \"rtu\"; type = \"rtu\"; device = \"$T/ttyB\"; baud = 9600; timeout_ms = 300; retries = 0; } );"
	echo "sensors = ("
	first=1
	for u in $TCP_UNITS $RTU_UNITS; do
		for r in 0 1 2 3 4; do
			[ $first = 1 ] || echo ","
			first=0
			latch=false
			case " $LATCHED " in *" s$u-$r "*) latch=true;; esac
			echo "  { id = \"s$u-$r\"; plugin = \"gas\"; bus = \"$(bus_of "$u")\"; slave = $u; interval = 0.5;"
			echo "    register = { table = \"holding\"; address = $r; }; unit = \"ppm\";"
			echo "    levels = ( { name = \"high\"; above = 50.0; deadband = 2.0; latch = $latch; } ); }"
		done
	done
	echo ");"
} >"$T/hazmond.conf"

ctl() { "$HAZMONCTL" -s "$SOCK" "$@"; }
N_START=0
start_hz() {	# hazmond, all instances appending to one log
	N_START=$((N_START + 1))
	echo "# ---- hazmond start $N_START at $(date -u +%T.%3N)" >>"$T/hazmond.log"
	"$HAZMOND" -c "$T/hazmond.conf" -P "$PLUGIN_DIR" >>"$T/hazmond.log" 2>&1 &
	HAZMOND_PID=$!
	PIDS="$PIDS $HAZMOND_PID"
	echo "$HAZMOND_PID $(date +%s.%N)" >"$T/hazmond.pid.tmp"
	mv "$T/hazmond.pid.tmp" "$T/hazmond.pid"
	wait_for 20 ctl -q status >/dev/null 2>&1
}
start_hz || bail "hazmond did not start"
T0=$(date +%s.%N)

# RSS and open fds of whichever hazmond runs, every SAMPLE s:
# "SECONDS_SINCE_T0 PID AGE_S RSS_KB FDS".
sampler() {
	local pid started now rss fds
	while sleep "$SAMPLE"; do
		read -r pid started 2>/dev/null <"$T/hazmond.pid" || continue
		rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
		fds=$(ls "/proc/$pid/fd" 2>/dev/null | wc -l)
		[ -n "$rss" ] || continue
		now=$(date +%s.%N)
		echo "$now $T0 $started $pid $rss $fds" |
		    awk '{ printf "%.1f %d %.1f %d %d\n", $1 - $2, $4, $1 - $3, $5, $6 }'
	done >>"$T/samples.txt"
}
spawn sampler sampler
SAMPLER_PID=$LAST_PID

latched_ok() {	# every latched level is listed as not normal by hazmonctl
	ctl --json alarms >"$T/alarms.json" 2>/dev/null &&
	    jq -e --arg l "$LATCHED" '($l | split(" ")) as $want |
	    [.alarms[] | select(.latch and (.state == "active_unacknowledged" or
	        .state == "returned_unacknowledged")) | .sensor] as $have |
	    all($want[]; . as $s | any($have[]; . == $s))' "$T/alarms.json" >/dev/null
}
check "every latched level raised once" wait_for 30 latched_ok

# ---- the timeline: one line per action, "TIME ACTION ARGS", sorted.
# Kills and device faults at uniformly random times between 5 s after the
# start and 15 s before the end; a device fault lasts 1..8 s and never
# overlaps another one on the same unit.
# Fault times are drawn first and sorted, then each fault gets a unit
# that is free at its time, in time order.
awk -v seed="$SEED" -v dur="$DURATION" -v nb="$N_BKILL" -v nh="$N_HKILL" \
    -v nf="$N_FAULT" 'BEGIN {
	srand(seed)
	lo = 5; hi = dur - 15; if (hi < lo + 10) hi = lo + 10
	for (i = 0; i < nb; i++) printf "%.2f bkill %.2f\n", lo + rand() * (hi - lo), rand() * 3
	for (i = 0; i < nh; i++) printf "%.2f hkill %.2f\n", lo + rand() * (hi - lo), rand()
	for (i = 0; i < nf; i++) printf "%.2f fault\n", lo + rand() * (hi - lo)
}' | sort -n -k1,1 | awk -v seed="$SEED" -v units="$FAULT_UNITS" '
BEGIN { srand(seed + 1); nu = split(units, u, " ")
	split("noreply delay exception badcrc disconnect short truncate", kinds, " ") }
$2 != "fault" { print; next }
{
	t = $1; d = 1 + rand() * 7
	k = kinds[1 + int(rand() * 7)]
	arg = k == "delay" ? 50 + int(rand() * 850) : \
	    k == "exception" ? 1 + int(rand() * 11) : \
	    k == "truncate" ? 1 + int(rand() * 8) : ""
	# a unit free at t, else the one that is free soonest
	best = 0
	for (j = 0; j < nu; j++) {
		c = u[1 + (int(rand() * nu) + j) % nu]
		if (free[c] <= t) { best = c; break }
		if (!best || free[c] < free[best]) best = c
	}
	if (free[best] > t) t = free[best] + 0.5
	free[best] = t + d
	printf "%.2f fault %d %s %s\n", t, best, k, arg
	printf "%.2f clear %d\n", t + d, best
}' | sort -n -k1,1 >"$T/timeline.txt"

sim_cmd() {	# sim_cmd UNIT COMMAND...: to the simulator that serves UNIT
	case $1 in 5?) echo "${*:2}" >"$T/rtu.fifo";; *) echo "${*:2}" >"$T/tcp.fifo";; esac
}
now_s() { date +%s.%N | awk -v t0="$T0" '{ printf "%.2f", $1 - t0 }'; }
window() { echo "$1 $(now_s) $2" >>"$T/windows.txt"; }	# window START WHAT

N_B=0 N_H=0 N_F=0 N_CRASH=0 LATCH_BAD=0 LATCH_CHECKS=0
declare -A FAULT_START
while read -r at what a1 a2 a3 <&3; do
	now=$(now_s)
	d=$(echo "$at - $now" | bc)
	case $d in -*|0) ;; *) sleep "$d" & wait $!;; esac	# a TERM ends the wait
	case $what in
	bkill)
		t=$(now_s)
		kill -KILL "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null; forget_pid "$BROKER_PID"
		sleep "$a1"
		start_broker "$BPORT"
		window "$t" broker
		N_B=$((N_B + 1))
		;;
	hkill)
		t=$(now_s)
		kill -0 "$HAZMOND_PID" 2>/dev/null || {
			N_CRASH=$((N_CRASH + 1))
			echo "# hazmond $HAZMOND_PID had died by itself before kill $((N_H + 1))"
		}
		kill -KILL "$HAZMOND_PID"; wait "$HAZMOND_PID" 2>/dev/null; forget_pid "$HAZMOND_PID"
		sleep "$a1"
		start_hz || echo "# hazmond restart $N_START: no control socket within 20 s"
		window "$t" hazmond
		LATCH_CHECKS=$((LATCH_CHECKS + 1))
		latched_ok || {
			LATCH_BAD=$((LATCH_BAD + 1))
			echo "# after restart $N_START the latched levels are not all latched:"
			sed 's/^/#   /' "$T/alarms.json"
		}
		N_H=$((N_H + 1))
		;;
	fault)
		FAULT_START[$a1]=$(now_s)
		sim_cmd "$a1" fault "$a1" "$a2" ${a3:-}
		N_F=$((N_F + 1))
		;;
	clear)
		sim_cmd "$a1" fault "$a1" none
		window "${FAULT_START[$a1]}" "fault-$a1"
		;;
	esac
done 3<"$T/timeline.txt"
T_END_FAULTS=$(now_s)
check "performed $N_B broker kills, $N_H hazmond kills, $N_F device faults" \
    test "$N_B/$N_H/$N_F" = "$N_BKILL/$N_HKILL/$N_FAULT"
check "hazmond never died by itself ($N_CRASH times)" test "$N_CRASH" = 0
check "latched levels still latched after each of $LATCH_CHECKS restarts (hazmonctl alarms)" \
    test "$LATCH_BAD" = 0

# ---- the end: values stop flapping, hazmond delivers the rest.
T_FLAP_END=$(date +%s.%N)
for u in $TCP_UNITS $RTU_UNITS; do
	for r in 0 1 2 3 4; do sim_cmd "$u" flap "$u" holding "$r" off; done
done
quiet() {	# no new event for 3 s, nothing undelivered
	local a b
	a=$(ctl --json status 2>/dev/null | jq -r '"\(.ledger.last_seq) \(.destinations[0].undelivered)"') || return 1
	sleep 3
	b=$(ctl --json status 2>/dev/null | jq -r '"\(.ledger.last_seq) \(.destinations[0].undelivered)"') || return 1
	[ "$a" = "$b" ] && [ "${b#* }" = 0 ]
}
check "hazmond delivered every event to the broker" wait_for 120 quiet
LAST=$(ctl --json status | jq .ledger.last_seq)
sub_has_last() { grep -q "\"seq\":$LAST," "$T/sub.tsv"; }
check "the subscriber received seq $LAST, the last one recorded" wait_for 60 sub_has_last
kill -0 "$HAZMOND_PID" 2>/dev/null
check "hazmond still running at the end" test $? = 0
latched_ok
check "latched levels still latched at the end (hazmonctl alarms)" test $? = 0
stop_pid "$SAMPLER_PID"; forget_pid "$SAMPLER_PID"
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"
# Retained states as a new client sees them, after hazmond's clean stop.
mosquitto_sub -h 127.0.0.1 -p "$BPORT" -v -W 3 -t 'hazmon/soak/sensors/+/state' \
    >"$T/retained.txt" 2>/dev/null
stop_pid "$SUBPID"; forget_pid "$SUBPID"

# ---- the verdict: the subscriber's file against the ledger.
sqlite3 -separator "$(printf '\t')" "$T/state/ledger.db" \
    'SELECT seq, payload FROM events ORDER BY seq' >"$T/ledger.tsv"
$PY "$top/bench/soak-sub.py" check "$T/sub.tsv" --ledger "$T/ledger.tsv" \
    --latched "$(echo $LATCHED | tr ' ' ,)" >"$T/report.txt"
sed 's/^/# /' "$T/report.txt" | head -n 40
rep() { awk -v k="$1" '$1 == k { print $2; f = 1; exit } END { if (!f) print "?" }' "$T/report.txt"; }
check "one site, every event of it seen" test "$(rep site)" = soak
check "zero gaps in seq at the subscriber ($(rep gaps))" test "$(rep gaps)" = 0
check "the ledger's seqs are contiguous" test "$(rep ledger_contiguous)" = 1
check "every recorded event arrived ($(rep ledger_missing) of $(rep ledger_events) missing)" \
    test "$(rep ledger_missing)" = 0
check "every event arrived as recorded, apart from replayed" test "$(rep ledger_different)" = 0
check "nothing arrived that the ledger does not hold" test "$(rep not_in_ledger)" = 0
check "$(rep duplicates) duplicates, all identical apart from replayed" \
    test "$(rep duplicates_different)" = 0
latched_retained_ok() {
	local s
	for s in $LATCHED; do
		grep "^hazmon/soak/sensors/$s/state " "$T/retained.txt" | tail -n 1 | cut -d' ' -f2- |
		    jq -e '.alarm_state == "active_unacknowledged" or .alarm_state == "returned_unacknowledged"' \
		    >/dev/null || return 1
	done
	! grep '^latched_state' "$T/report.txt" | grep -q -E ' (normal|none) '
}
check "latched levels latched in the retained state topics" latched_retained_ok

# Alarms raised during a fault window (a device fault anywhere, a broker
# outage, the first seconds after a hazmond restart): all delivered.
awk -F'\t' '{ print $2 }' "$T/ledger.tsv" |
    jq -r 'select(.kind == "alarm" and .event == "raised") |
    "\(.seq) \((.ts[0:19] + "Z" | fromdateiso8601) + (.ts[20:23] | tonumber) / 1000)"' \
    >"$T/raised.txt"
in_window=$(awk -v t0="$T0" 'NR == FNR { s[NR] = $1; e[NR] = $2 + (($3 == "hazmond") ? 5 : 0); n = NR; next }
	{ t = $2 - t0; for (i = 1; i <= n; i++) if (t >= s[i] && t <= e[i]) { print $1; break } }' \
    "$T/windows.txt" "$T/raised.txt")
N_RAISED=$(wc -l <"$T/raised.txt")
N_IN_WINDOW=$(echo "$in_window" | grep -c .)
n_lost=0
for seq in $in_window; do grep -q "\"seq\":$seq," "$T/sub.tsv" || n_lost=$((n_lost + 1)); done
check "$N_IN_WINDOW of $N_RAISED alarms were raised during a fault window; all delivered ($n_lost lost)" \
    test "$n_lost" = 0 -a "$N_IN_WINDOW" -gt 0

# The control group (bus tcp4, never faulted): one raise per up phase of
# the simulator's flap, whatever happened to the broker and to hazmond.
control_bad=0 control_n=0 control_exp=0
for u in 41 42; do
	for r in 0 1 2 3 4; do
		s=s$u-$r
		case " $LATCHED " in *" $s "*) continue;; esac
		p=$(period "$u" "$r")
		# up phases begin at P, 3P, 5P, ... after the flap started
		exp=$(echo "$T_FLAP_TCP $T_FLAP_END $p" | awk '{ n = 0; for (t = $3; t < $2 - $1 - 1; t += 2 * $3) n++; print n }')
		got=$(awk -F'\t' -v t="hazmon/soak/events/$s" '$2 == t { print $4 }' "$T/sub.tsv" |
		    jq -r 'select(.kind == "alarm" and .event == "raised") | .seq' | sort -u | wc -l)
		control_n=$((control_n + 1)) control_exp=$((control_exp + exp))
		[ $((got - exp)) -le 1 ] && [ $((exp - got)) -le 1 ] || {
			control_bad=$((control_bad + 1))
			echo "# $s: $got raises, the flap schedule has $exp"
		}
	done
done
check "control sensors: every up phase of the flap raised its alarm ($control_exp expected on $control_n sensors)" \
    test "$control_bad" = 0

# RSS and fds, per tenth of the run: min/median/max.
span=$(awk '{ m = $1 } END { print m + 0.001 }' "$T/samples.txt")
awk -v span="$span" '{ b = int(10 * $1 / span); if (b > 9) b = 9; print b, $4, $5 }' \
    "$T/samples.txt" >"$T/buckets.txt"
stats() {	# stats BUCKET COLUMN: min median max
	awk -v b="$1" -v c="$2" '$1 == b { print $c }' "$T/buckets.txt" | sort -n |
	    awk '{ v[NR] = $1 } END { if (NR) printf "%d %d %d %d\n", v[1], v[int((NR + 1) / 2)], v[NR], NR; else print "- - - 0" }'
}
: >"$T/curve.txt"
for b in 0 1 2 3 4 5 6 7 8 9; do
	read -r rmin rmed rmax n <<<"$(stats $b 2)"
	read -r fmin fmed fmax _ <<<"$(stats $b 3)"
	echo "$b $n $rmin $rmed $rmax $fmin $fmed $fmax" >>"$T/curve.txt"
done
sed 's/^/# tenth n rss_min rss_med rss_max fd_min fd_med fd_max: /' "$T/curve.txt"
# Under AddressSanitizer a freed block waits in its quarantine (up to
# 256 MB) before reuse, so RSS grows with every allocation, leak or not:
# there only the fds are compared, and LeakSanitizer looks for leaks.
asan=0
ldd "$HAZMOND" 2>/dev/null | grep -q libasan && asan=1
flat() {	# last tenth's medians against the first's
	local f l
	f=$(awk '$1 == 0' "$T/curve.txt") l=$(awk '$1 == 9' "$T/curve.txt")
	[ -n "$f" ] && [ -n "$l" ] || return 1
	echo "$f $l" | awk -v asan="$asan" '{ exit !($2 > 0 && $10 > 0 &&
	    (asan || $12 <= $4 * 1.25 + 2048) && $16 <= $8 + 4) }'
}
if [ "$asan" = 1 ]; then
	check "hazmond's fd count flat (last tenth against first; RSS not compared under ASan)" flat
else
	check "hazmond's RSS and fd count flat (last tenth against first)" flat
fi

if [ -n "$RESULTS" ]; then
	mkdir -p "$(dirname "$RESULTS")"
	{
		echo
		echo "## fault soak $(date -u +%Y-%m-%dT%H:%M:%SZ)"
		echo
		echo "commit $(git -C "$top" rev-parse --short HEAD 2>/dev/null || echo "${SOAK_COMMIT:-unknown}"); host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(uname -r); mosquitto $(mosquitto -h 2>&1 | awk 'NR == 1 { print $3 }'), paho $($PY -c 'import paho.mqtt; print(paho.mqtt.__version__)')"
		echo
		echo "parameters: SOAK_DURATION=$DURATION SOAK_BROKER_KILLS=$N_BKILL SOAK_HAZMOND_KILLS=$N_HKILL SOAK_FAULTS=$N_FAULT SOAK_SEED=$SEED; 50 sensors on 5 buses (4 TCP, 1 RTU on a pty pair), interval 0.5 s, flap half-periods 3..10 s; run took $(printf '%.0f' "$(now_s)") s"
		echo
		echo "| figure | value |"
		echo "|---|---|"
		echo "| broker SIGKILLs / hazmond SIGKILLs / device faults performed | $N_B / $N_H / $N_F |"
		echo "| hazmond crashes (found dead before a kill) | $N_CRASH |"
		echo "| events recorded in the ledger (last seq) | $(rep ledger_events) ($(rep ledger_max_seq)) |"
		echo "| messages on the events topics at the subscriber / distinct seqs | $(rep messages) / $(rep distinct) |"
		echo "| **gaps** | **$(rep gaps)** |"
		echo "| recorded but never received / received different / received but not recorded | $(rep ledger_missing) / $(rep ledger_different) / $(rep not_in_ledger) |"
		echo "| duplicates (all identical apart from \`replayed\`?) | $(rep duplicates) ($(rep duplicates_identical) identical, $(rep duplicates_different) different) |"
		echo "| messages flagged \`replayed\` | $(rep replayed) |"
		echo "| alarms raised during a fault window, of all raised / lost | $N_IN_WINDOW of $N_RAISED / $n_lost |"
		echo "| control group: raises expected from the flap schedule / sensors off by more than one | $control_exp / $control_bad |"
		echo "| latched levels checked after restarts / found not latched | $LATCH_CHECKS / $LATCH_BAD |"
		echo
		echo "hazmond's RSS (KiB) and open fds per tenth of the run (a new process after each SIGKILL, so every tenth mixes young and older processes):"
		echo
		echo "| tenth | samples | RSS min | RSS median | RSS max | fds min | fds median | fds max |"
		echo "|---|---|---|---|---|---|---|---|"
		awk '{ printf "| %d | %s | %s | %s | %s | %s | %s | %s |\n", $1 + 1, $2, $3, $4, $5, $6, $7, $8 }' "$T/curve.txt"
		echo
		echo "TAP: $TAP_N checks, $([ "$TAP_FAILED" = 0 ] && echo all passed || echo SOME FAILED)"
	} >>"$RESULTS"
	echo "# results appended to $RESULTS"
fi
done_testing
