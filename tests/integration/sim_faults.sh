#!/bin/bash
# hazmon-sim on its own (no hazmond): fault injection, flapping values and
# exact request counters, over Modbus TCP and over Modbus RTU on a socat
# pseudo-terminal pair, driven by tests/sim-client (a libmodbus master).
# Every command goes through the FIFO and is waited for (ctl), so no check
# races the simulator.
. "$top_srcdir/tests/lib.sh"

CLIENT=$top_builddir/tests/sim-client
[ -x "$CLIENT" ] || bail "$CLIENT not built"
command -v socat >/dev/null || bail "socat not installed (Debian package socat)"

cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 111
set 2 holding 0 222
set 3 holding 0 333
set 3 input 10 1.5 float32 CDAB
EOS

# start_fsim NAME ARGS...: the simulator with a FIFO, a stats file and -v
# (stdout and stderr in $T/NAME.log); becomes the target of ctl.
start_fsim() {
	CUR=$1; shift
	rm -f "$T/$CUR.ready"
	spawn "$CUR" "$HAZMON_SIM" -v -P "$T/$CUR.ready" -c "$T/$CUR.fifo" \
	    -S "$T/$CUR.stats" -f "$T/plant.sim" "$@"
	FSIM_PID=$LAST_PID
	wait_for 5 test -s "$T/$CUR.ready" || bail "simulator $CUR did not start"
}

# ctl COMMAND...: send one command; return once the simulator ran it
# (an echo queued behind it has been printed).
SYNC=0
ctl() {
	SYNC=$((SYNC + 1))
	printf '%s\necho sync-%d\n' "$*" "$SYNC" >"$T/$CUR.fifo"
	wait_for 5 grep -qx "sync-$SYNC" "$T/$CUR.log"
}

# timed ARGS...: sim-client on $LINK, then "rc=N ms=M" on a line of its own.
timed() {
	local t0 rc
	t0=$(date +%s%N)
	"$CLIENT" "${LINK[@]}" "$@"; rc=$?
	echo "rc=$rc ms=$(( ($(date +%s%N) - t0) / 1000000 ))"
}

# mb ARGS...: one request; sets OUT (stdout and stderr), RC and MS.
mb() {
	local all last
	all=$(timed "$@" 2>&1)
	OUT=$(printf '%s\n' "$all" | sed '$d')
	last=$(printf '%s\n' "$all" | tail -n 1)
	RC=${last#rc=}; RC=${RC%% *}
	MS=${last##*ms=}
}

reads() {	# reads EXPECTED ARGS...: the request succeeds and prints EXPECTED
	local want=$1; shift
	mb "$@"
	[ "$RC" = 0 ] && [ "$OUT" = "$want" ] || { echo "# rc=$RC ${MS}ms: $OUT"; return 1; }
}
fails_with() {	# fails_with TEXT ARGS...: the request fails, naming TEXT
	local want=$1; shift
	mb "$@"
	[ "$RC" = 1 ] && [[ $OUT == *"$want"* ]] || { echo "# rc=$RC ${MS}ms: $OUT"; return 1; }
}
took_at_least() { [ "$MS" -ge "$1" ] || { echo "# took ${MS} ms"; return 1; }; }
took_less() { [ "$MS" -lt "$1" ] || { echo "# took ${MS} ms"; return 1; }; }

stat_is() {	# stat_is KEY VALUE: `stats` writes "KEY VALUE" to the -S file
	rm -f "$T/$CUR.stats"
	ctl stats && grep -qx "$1 $2" "$T/$CUR.stats" ||
	    { echo "# stats: $(tr '\n' ' ' <"$T/$CUR.stats" 2>/dev/null)"; return 1; }
}

line_before() {	# line_before LINE PREV: in the log, LINE comes right after PREV
	grep -x -B1 "$1" "$T/$CUR.log" | head -n 1 | grep -qx "$2"
}

stop_fsim() {	# SIGTERM; exit status 0 and the readiness file removed
	local rc
	kill -TERM "$FSIM_PID"
	wait_exit "$FSIM_PID" 5 || return 1
	wait "$FSIM_PID"; rc=$?
	forget_pid "$FSIM_PID"
	[ "$rc" = 0 ] && [ ! -e "$T/$CUR.ready" ]
}

# ---- option errors
"$HAZMON_SIM" -r "$T/no-such-tty" >/dev/null 2>&1
check "a missing serial device is a start error (status 1)" test $? = 1
"$HAZMON_SIM" -r "$T/no-such-tty" -p 1502 >/dev/null 2>&1
check "-p with -r is a usage error (status 2)" test $? = 2
"$HAZMON_SIM" -y X -r "$T/no-such-tty" >/dev/null 2>&1
check "a bad parity is a usage error (status 2)" test $? = 2
printf 'fault 1 exception 12\nflap 1 holding 0 1 2 0\n' >"$T/bad.sim"
"$HAZMON_SIM" -p 0 -f "$T/bad.sim" >"$T/bad.out" 2>&1
check "bad fault and flap lines are rejected at start" \
    grep -q 'bad.sim:2: flap period must be' "$T/bad.out"

# ================================ Modbus TCP
start_fsim tcp -p 0
LINK=(-t "127.0.0.1:$(cat "$T/tcp.ready")")

check "TCP: unit 1 answers" reads "111" -u 1 -f 3 -a 0
check "TCP: unit 3 answers a float32 in two input registers" reads "0 16320" -u 3 -f 4 -a 10 -n 2
check "TCP: unknown unit gets exception 0x0B" fails_with "Target device failed to respond" -u 9 -f 3 -a 0

ctl fault 1 noreply
check "noreply: the client times out" fails_with "timed out" -u 1 -f 3 -a 0 -T 300
check "noreply: after its own timeout" took_at_least 300
check "noreply: unit 2 still answers" reads "222" -u 2 -f 3 -a 0

ctl fault 1 delay 300
check "delay 300: the read succeeds within a 1000 ms timeout" reads "111" -u 1 -f 3 -a 0 -T 1000
check "delay 300: the reply took at least 300 ms" took_at_least 300

ctl fault 1 delay 1000
spawn slow timed -u 1 -f 3 -a 1 -T 3000
SLOW_PID=$LAST_PID
wait_for 5 grep -q 'req unit=1 fc=3 addr=1 count=1 fault=delay' "$T/tcp.log" ||
    bail "the delayed request did not arrive"
check "delay: another unit answers at once on a second connection" reads "222" -u 2 -f 3 -a 0
check "delay: ... in under 300 ms" took_less 300
check "delay: the delayed client is still waiting meanwhile" kill -0 "$SLOW_PID"
wait_exit "$SLOW_PID" 5; forget_pid "$SLOW_PID"
check "delay: the delayed client got its reply after >= 1000 ms" \
    grep -Eq '^rc=0 ms=(1[0-9]{3}|[2-9][0-9]{3})$' "$T/slow.log"

ctl fault 1 exception 2
check "exception 2: Illegal data address" fails_with "Illegal data address" -u 1 -f 3 -a 0
ctl fault 1 badcrc
check "badcrc on TCP (protocol id 0xFFFF): Invalid data" fails_with "Invalid data" -u 1 -f 3 -a 0
ctl fault 1 short
check "short: a reply with one register less is Invalid data" fails_with "Invalid data" -u 1 -f 3 -a 0 -n 3
ctl fault 1 truncate 2
check "truncate 2: the client waits for the rest and times out" fails_with "timed out" -u 1 -f 3 -a 0 -T 300
ctl fault 1 disconnect
check "disconnect: the connection is closed on the request" fails_with "Connection reset by peer" -u 1 -f 3 -a 0
check "disconnect: again on a new connection while set" fails_with "Connection reset by peer" -u 1 -f 3 -a 0
ctl fault 1 none
check "fault none: a new connection works again" reads "111" -u 1 -f 3 -a 0

ctl flap 2 holding 5 10 20 1
check "flap: V1 at once" reads "10" -u 2 -f 3 -a 5
sleep 1.5
check "flap: V2 one period later" reads "20" -u 2 -f 3 -a 5
ctl set 2 holding 5 30
check "set ends the flap" reads "30" -u 2 -f 3 -a 5
sleep 1.2
check "... for good" reads "30" -u 2 -f 3 -a 5
ctl flap 3 holding 20 1.0 2.0 1 float32 CDAB
check "flap float32 CDAB: 1.0" reads "0 16256" -u 3 -f 3 -a 20 -n 2
sleep 1.5
check "flap float32 CDAB: 2.0" reads "0 16384" -u 3 -f 3 -a 20 -n 2
ctl flap 3 holding 20 off
sleep 1.2
check "flap off keeps the last value" reads "0 16384" -u 3 -f 3 -a 20 -n 2

ctl stats reset
for i in 1 2 3; do "$CLIENT" "${LINK[@]}" -u 3 -f 3 -a 0 -n 2 >/dev/null; done
ctl fault 1 noreply
"$CLIENT" "${LINK[@]}" -u 1 -f 3 -a 0 -T 100 >/dev/null 2>&1
check "stats: exact requests per unit and FC" stat_is unit.3.fc.3.requests 3
check "stats: items are registers delivered" stat_is unit.3.fc.3.items 6
check "stats: an unanswered request is counted too" stat_is unit.1.requests 1
check "stats: total after reset" stat_is requests 4
check "stats also goes to stdout" grep -q '^stats total requests=4$' "$T/tcp.log"
check "the TCP simulator stops on SIGTERM with status 0" stop_fsim

# ================================ Modbus RTU on a pty pair
spawn socat socat -d -d "pty,raw,echo=0,link=$T/ttyA" "pty,raw,echo=0,link=$T/ttyB"
wait_for 5 test -e "$T/ttyA" -a -e "$T/ttyB" || bail "socat made no pty pair"
start_fsim rtu -r "$T/ttyA"
LINK=(-r "$T/ttyB")
check "RTU: the readiness file says rtu" grep -qx rtu "$T/rtu.ready"

check "RTU: unit 1 answers" reads "111" -u 1 -f 3 -a 0
check "RTU: unit 2 answers on the same line" reads "222" -u 2 -f 3 -a 0
check "RTU: unit 3 answers on the same line" reads "333" -u 3 -f 3 -a 0
check "RTU: unit 3 float32 input registers" reads "0 16320" -u 3 -f 4 -a 10 -n 2
check "RTU: an unknown unit is silent (timeout)" fails_with "timed out" -u 9 -f 3 -a 0 -T 300
check "RTU: a broadcast read gets no answer" fails_with "timed out" -u 0 -f 3 -a 0 -T 300
"$CLIENT" "${LINK[@]}" -u 0 -f 6 -a 7 -w 77 -T 300 >/dev/null 2>&1
check "RTU: a broadcast write reaches unit 1" reads "77" -u 1 -f 3 -a 7
check "RTU: ... and unit 3" reads "77" -u 3 -f 3 -a 7

ctl fault 2 noreply
check "RTU noreply: unit 2 times out" fails_with "timed out" -u 2 -f 3 -a 0 -T 300
check "RTU noreply: unit 1 still answers" reads "111" -u 1 -f 3 -a 0
check "RTU noreply: unit 3 still answers" reads "333" -u 3 -f 3 -a 0
ctl fault 2 none

ctl fault 1 delay 300
check "RTU delay 300: succeeds within 1000 ms" reads "111" -u 1 -f 3 -a 0 -T 1000
check "RTU delay 300: took at least 300 ms" took_at_least 300
# A master that gives up early: the line stays busy until the late reply
# has gone out, and only then is the next request taken off the line --
# so that master first receives the stale reply of unit 1.
ctl fault 1 delay 800
"$CLIENT" "${LINK[@]}" -u 1 -f 3 -a 0 -T 100 >/dev/null 2>&1
check "RTU delay: the next master request meets the late reply first" \
    fails_with "Response not from requested slave" -u 2 -f 3 -a 9 -T 2000
check "RTU delay: it was taken off the line after the late reply went out" \
    line_before 'req unit=2 fc=3 addr=9 count=1' 'delayed reply of 7 bytes sent'
# "free": a separate slow device; the others on the line answer meanwhile.
ctl fault 1 delay 800 free
"$CLIENT" "${LINK[@]}" -u 1 -f 3 -a 0 -T 100 >/dev/null 2>&1
check "RTU delay free: another unit answers meanwhile" reads "222" -u 2 -f 3 -a 0 -T 2000
check "RTU delay free: ... at once" took_less 300
late_sent() { [ "$(grep -c '^delayed reply of 7 bytes sent$' "$T/rtu.log")" -ge 3 ]; }
check "RTU delay free: the late reply still goes out" wait_for 5 late_sent
ctl fault 1 exception 2
check "RTU exception 2: Illegal data address" fails_with "Illegal data address" -u 1 -f 3 -a 0
ctl fault 1 badcrc
check "RTU badcrc: Invalid CRC" fails_with "Invalid CRC" -u 1 -f 3 -a 0
ctl fault 1 short
check "RTU short: Invalid data" fails_with "Invalid data" -u 1 -f 3 -a 0 -n 3
ctl fault 1 truncate 2
check "RTU truncate 2: timeout" fails_with "timed out" -u 1 -f 3 -a 0 -T 300
ctl fault 1 disconnect
mb -u 1 -f 3 -a 0 -T 300
check "RTU disconnect: garbage instead of a reply is an error" test "$RC" = 1
ctl fault 1 none
check "RTU fault none: unit 1 answers again" reads "111" -u 1 -f 3 -a 0

ctl stats reset
printf '\001\020\000\000\000\177\376\000\000' >"$T/ttyB"	# FC 16 claiming 254 bytes
sleep 0.3
check "RTU: a garbled frame does not wedge the line" reads "222" -u 2 -f 3 -a 0
printf '\001\003\000' >"$T/ttyB"	# a frame that stops half-way
sleep 0.3
check "RTU: nor does a partial frame" reads "222" -u 2 -f 3 -a 0
check "RTU: both counted as bad frames" stat_is bad_frames 2
check "RTU: and not as requests" stat_is requests 2
ctl stats reset
for i in 1 2 3 4; do "$CLIENT" "${LINK[@]}" -u 3 -f 3 -a 0 >/dev/null; done
"$CLIENT" "${LINK[@]}" -u 9 -f 3 -a 0 -T 100 >/dev/null 2>&1
check "RTU stats: exact requests per unit" stat_is unit.3.fc.3.requests 4
check "RTU stats: requests for absent units are counted" stat_is unit.9.requests 1
check "RTU stats: stdout shows bad_frames" grep -q '^stats bad_frames=0$' "$T/rtu.log"
check "the RTU simulator stops on SIGTERM with status 0" stop_fsim
done_testing
