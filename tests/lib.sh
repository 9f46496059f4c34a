# tests/lib.sh - helpers for the integration tests (TAP output).
#
# Every helper process is started through `spawn`, which records its PID;
# the EXIT trap stops each one by PID (TERM, then KILL after a grace
# period), also when a test fails half-way.  Every wait has a timeout.
# Nothing is ever killed by name.

set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
HAZMOND=$top_builddir/hazmond
HAZMON_SIM=$top_builddir/hazmon-sim
PLUGIN_DIR=$top_builddir/plugins/.libs

T=$(mktemp -d /tmp/hazmon-test.XXXXXX)
# A hazmond without control_socket never makes the real /run/hazmon, also
# when a test runs by hand outside make check.
export HAZMOND_TEST_RUNTIME_BASE=${HAZMOND_TEST_RUNTIME_BASE:-/nonexistent/hazmon-tests}
PIDS=""
TAP_N=0
TAP_FAILED=0

stop_pid() {	# stop_pid PID: TERM, wait up to 5 s, then KILL
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

cleanup() {
	local pid f
	for pid in $PIDS; do stop_pid "$pid"; done
	# Under --enable-sanitizers a report from a process that went on
	# running (or leaked at exit) fails the test, even if all checks passed.
	for f in "$T"/*.log; do
		[ -f "$f" ] || continue
		if grep -q -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$f"; then
			echo "Bail out! sanitizer report in $(basename "$f")"
			TAP_FAILED=1
		fi
	done
	if [ "$TAP_FAILED" != 0 ] || [ -n "${KEEP_TEST_DIR:-}" ]; then
		echo "# logs kept in $T"
		for f in "$T"/*.log "$T"/*.out; do
			[ -f "$f" ] || continue
			echo "# ---- $f (last 30 lines)"
			# awk ends every line, also a last one cut short (a
			# client killed mid-line): tap-driver.sh reads the
			# exit status from the line after ours, and aborts
			# make check when it finds "#   ...1" there instead.
			tail -n 30 "$f" | awk '{ print "#   " $0 }'
		done
	else
		rm -rf "$T"
	fi
	[ "$TAP_FAILED" = 0 ] || exit 1
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# spawn NAME CMD...: start CMD in the background, output to $T/NAME.log.
# Sets LAST_PID.
spawn() {
	local name=$1; shift
	"$@" >"$T/$name.log" 2>&1 &
	LAST_PID=$!
	PIDS="$PIDS $LAST_PID"
}

forget_pid() {	# after a test stopped a process itself
	PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -vx "$1" | tr '\n' ' ')
}

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=1; echo "not ok $TAP_N - $*"; }
check() {	# check DESCRIPTION CMD...
	local d=$1; shift
	if "$@"; then ok "$d"; else not_ok "$d"; fi
}
bail() { echo "Bail out! $*"; TAP_FAILED=1; exit 1; }
done_testing() { validate_captures; echo "1..$TAP_N"; [ "$TAP_FAILED" = 0 ]; }

# The MQTT messages the test captured ($T/*.out, "topic payload" lines)
# against schemas/ (docs/mqtt.md): a message that breaks the contract
# fails the test.  A test's own broken messages carry x-test-malformed.
validate_captures() {
	local f files=()
	for f in "$T"/*.out; do
		[ -f "$f" ] && grep -q -E '^[^ ]+/(events/[^ /]+|status|sensors/[^ /]+/state|reply/replay|catalogue) ' "$f" &&
		    files+=("$f")
	done
	[ ${#files[@]} -gt 0 ] || return 0
	check "every captured MQTT message matches its JSON Schema (schemas/)" \
	    /usr/bin/python3 "$top_srcdir/tests/validate-mqtt.py" "$top_srcdir/schemas" "${files[@]}"
}

# wait_for SECONDS CMD...: retry CMD every 0.1 s until it succeeds.
wait_for() {
	local limit=$1 i; shift
	for i in $(seq $((limit * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	"$@"
}

# start_broker [PORT]: a real Mosquitto on a free loopback port.
# Sets BROKER_PORT and BROKER_PID.
start_broker() {
	local port=${1:-} try conf
	for try in $(seq 20); do
		[ -n "${1:-}" ] || port=$((20000 + (RANDOM * 7 + try) % 40000))
		conf=$T/mosquitto-$port.conf
		# BROKER_CONF (if set) replaces the default settings below the listener.
		{
			echo "listener $port 127.0.0.1"
			echo "user root"
			printf '%s\n' "${BROKER_CONF:-allow_anonymous true
persistence false}"
		} >"$conf"
		spawn "mosquitto-$port" mosquitto -c "$conf"
		BROKER_PID=$LAST_PID
		if wait_for 5 broker_up "$port"; then
			BROKER_PORT=$port
			return 0
		fi
		stop_pid "$BROKER_PID"
		[ -z "${1:-}" ] || break
	done
	bail "cannot start mosquitto"
}

# restart_broker PID PORT: stop the broker PID and start Mosquitto again on
# the same port with the same $T/mosquitto-PORT.conf (so the same
# persistence file); its log is mosquitto-PORT-N.log for the Nth restart.
# Sets BROKER_PID (and BROKER_PORT); the new PID is stopped at cleanup.
RESTARTS=0
restart_broker() {
	local port=$2
	stop_pid "$1"; forget_pid "$1"
	RESTARTS=$((RESTARTS + 1))
	spawn "mosquitto-$port-$RESTARTS" mosquitto -c "$T/mosquitto-$port.conf"
	BROKER_PID=$LAST_PID
	BROKER_PORT=$port
	wait_for 10 broker_up "$port" || bail "mosquitto did not start again on port $port"
}

broker_up() {
	kill -0 "$BROKER_PID" 2>/dev/null &&
	    mosquitto_pub -h 127.0.0.1 -p "$1" -t hazmon-test/probe -m up -q 1 \
	    ${BROKER_PUB_OPTS:-} 2>/dev/null
}

# start_sim [PORT] [SCRIPT]: the project's Modbus simulator. Sets SIM_PORT,
# SIM_PID and SIM_FIFO.
start_sim() {
	local port=${1:-0} script=${2:-}
	rm -f "$T/sim.port"
	SIM_FIFO=$T/sim.fifo
	if [ -n "$script" ]; then
		spawn sim "$HAZMON_SIM" -p "$port" -P "$T/sim.port" -c "$SIM_FIFO" -f "$script"
	else
		spawn sim "$HAZMON_SIM" -p "$port" -P "$T/sim.port" -c "$SIM_FIFO"
	fi
	SIM_PID=$LAST_PID
	wait_for 5 test -s "$T/sim.port" || bail "simulator did not start"
	SIM_PORT=$(cat "$T/sim.port")
}

sim() { echo "$*" >"$SIM_FIFO"; }	# sim COMMAND: send a command

# start_pty_pair: two linked pseudo-terminals ($T/ttyA, $T/ttyB) by socat,
# an RS-485 line without hardware.
start_pty_pair() {
	spawn socat socat -d -d "pty,raw,echo=0,link=$T/ttyA" "pty,raw,echo=0,link=$T/ttyB"
	SOCAT_PID=$LAST_PID
	wait_for 5 test -e "$T/ttyA" -a -e "$T/ttyB" || bail "socat made no pty pair"
}

# start_rtu_sim SCRIPT: the simulator serving RTU on $T/ttyA, with a stats
# file; sets SIM_PID and SIM_FIFO.
start_rtu_sim() {
	rm -f "$T/sim.ready"
	SIM_FIFO=$T/sim.fifo
	spawn sim "$HAZMON_SIM" -r "$T/ttyA" -P "$T/sim.ready" -c "$SIM_FIFO" \
	    -S "$T/sim.stats" -f "$1"
	SIM_PID=$LAST_PID
	wait_for 5 test -s "$T/sim.ready" || bail "RTU simulator did not start"
}

# sim_stat KEY: ask the simulator for its counters (needs -S) and print one.
SIM_SYNC=0
sim_stat() {
	local tok
	# Called in $( ) too, where the counter does not survive: the token
	# must be new all the same, or an old echo would pass for this one.
	SIM_SYNC=$((SIM_SYNC + 1))
	tok="sync-$BASHPID-$SIM_SYNC-$RANDOM"
	rm -f "$T/sim.stats"
	printf 'stats\necho %s\n' "$tok" >"$SIM_FIFO"
	wait_for 10 grep -q "^$tok\$" "$T/sim.log" || return 1
	awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$T/sim.stats"
}

# make_test_ca: a CA (ca.crt, ca.key) and a server certificate for
# 127.0.0.1 (srv.crt, srv.key) in $T, made with openssl for the TLS tests.
make_test_ca() {
	(cd "$T" &&
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=hazmon test CA" \
	    -keyout ca.key -out ca.crt >openssl.log 2>&1 &&
	openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" -keyout srv.key \
	    -out srv.csr >>openssl.log 2>&1 &&
	printf 'subjectAltName=IP:127.0.0.1\n' >san.ext &&
	openssl x509 -req -in srv.csr -CA ca.crt -CAkey ca.key -CAcreateserial \
	    -days 2 -extfile san.ext -out srv.crt >>openssl.log 2>&1) ||
	    bail "openssl: cannot make the test certificates"
}

# start_sub FILE: subscribe to everything under hazmon/, one line per
# message: "topic payload".  Returns once the subscription is live.
start_sub() {
	local out=$1
	spawn "sub-$(basename "$out")" sh -c "exec mosquitto_sub -h 127.0.0.1 -p $BROKER_PORT -v -q 1 -t 'hazmon/#' -t 'hazmon-test/#' >'$out'"
	SUB_PID=$LAST_PID
	wait_for 10 sub_ready "$out" || bail "mosquitto_sub did not subscribe"
}

# start_psub FILE ID: a persistent-session QoS 1 subscriber (-c) that
# reconnects by itself, so it misses nothing across broker restarts when the
# broker keeps its persistence.
start_psub() {
	local out=$1 id=$2
	spawn "psub-$id" sh -c "exec mosquitto_sub -h 127.0.0.1 -p $BROKER_PORT -v -q 1 -c -i '$id' ${SUB_OPTS:-} -t 'hazmon/#' -t 'hazmon-test/#' >'$out'"
	wait_for 10 sub_ready "$out" || bail "mosquitto_sub $id did not subscribe"
}

sub_ready() {
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -t hazmon-test/ready -m x -q 1 \
	    ${BROKER_PUB_OPTS:-} 2>/dev/null
	grep -q '^hazmon-test/ready' "$1"
}

# start_hazmond CONF [LOGNAME]: sets HAZMOND_PID; waits for nothing.
start_hazmond() {
	spawn "${2:-hazmond}" "$HAZMOND" -c "$1" -P "$PLUGIN_DIR"
	HAZMOND_PID=$LAST_PID
}

# prune_ledger SEQ CONF LOGNAME: stop hazmond, delete the events up to SEQ
# from its ledger ($T/state) as the retention would have, start it again.
prune_ledger() {
	stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"
	/usr/bin/python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DELETE FROM events WHERE seq <= ?", (int(sys.argv[2]),))
db.commit()' "$T/state/ledger.db" "$1" || bail "cannot prune the test ledger"
	start_hazmond "$2" "$3"
}

# seqs FILE: the seq of every event received, in arrival order.
seqs() {
	grep '^hazmon/[^ ]*/events/' "$1" | cut -d' ' -f2- | jq -r .seq
}

# have_all_seqs FILE N: every seq 1..N has arrived at least once.
have_all_seqs() {
	[ "$(seqs "$1" | sort -n -u | awk -v n="$2" '$1 >= 1 && $1 <= n' | wc -l)" = "$2" ]
}

# n_seqs_ge FILE N: at least N event messages have arrived.
n_seqs_ge() {
	[ "$(seqs "$1" | wc -l)" -ge "$2" ]
}

# wait_quiet SECONDS LOG...: wait (up to SECONDS) until hazmond has recorded
# no new event for 2 s, so a burst is over before its totals are taken.
wait_quiet() {
	local limit=$1 prev=-1 cur i; shift
	for i in $(seq $((limit / 2))); do
		cur=$(max_logged_seq "$@")
		[ "$cur" = "$prev" ] && return 0
		prev=$cur
		sleep 2
	done
	return 1
}

# logged_seq_ge N LOG...: hazmond recorded seq N or higher.
logged_seq_ge() {
	local n=$1; shift
	[ "$(max_logged_seq "$@")" -ge "$n" ] 2>/dev/null
}

# new_seqs_in_order FILE: first arrivals of each seq come in increasing order.
new_seqs_in_order() {
	seqs "$1" | awk '!seen[$1]++' | sort -n -c 2>/dev/null
}

# burst_conf FILE N BROKERPORT...: a config with N gas sensors on unit 1,
# holding 0..N-1, polled every 0.1 s, one level above 50; one mqtt
# destination per broker port given.
burst_conf() {
	local f=$1 n=$2 i d=0; shift 2
	{
		echo "site = { id = \"burst\"; };"
		echo "daemon = { state_dir = \"$T/state\"; };"
		echo "mqtt = ("
		for p in "$@"; do
			d=$((d + 1))
			[ $d = 1 ] || echo ","
			echo "  { name = \"dest$d\"; host = \"127.0.0.1\"; port = $p; keepalive = 5; }"
		done
		echo ");"
		echo "buses = ( { name = \"b\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIM_PORT; timeout_ms = 300; } );"
		echo "sensors = ("
		for i in $(seq 0 $((n - 1))); do
			[ $i = 0 ] || echo ","
			echo "  { id = \"g$i\"; plugin = \"gas\"; bus = \"b\"; slave = 1; interval = 0.1;"
			echo "    register = { table = \"holding\"; address = $i; }; unit = \"ppm\";"
			echo "    levels = ( { name = \"high\"; above = 50.0; } ); }"
		done
		echo ");"
	} >"$f"
}

# start_replay_site N RATE: the simulator, and hazmond with the N sensors
# of burst_conf and one destination (dest1, at $BROKER_PORT) that answers
# replay requests at RATE events a second; returns once it is online
# (start_sub "$T/all.out" first).
start_replay_site() {
	echo "unit 1" >"$T/unit1.sim"
	start_sim 0 "$T/unit1.sim"
	burst_conf "$T/hazmond.conf" "$1" "$BROKER_PORT"
	sed -i "s|keepalive = 5; }|keepalive = 5; replay = true; replay_rate = $2; }|" \
	    "$T/hazmond.conf"
	start_hazmond "$T/hazmond.conf"
	wait_for 10 grep -q '^hazmon/burst/status {"state":"online"' "$T/all.out" ||
	    bail "hazmond not online"
}

# burst ROUNDS N: make each of N sensors raise and clear ROUNDS times
# (2 * ROUNDS * N events), through the simulator's FIFO, without blocking.
burst() {
	local r i
	for r in $(seq "$1"); do
		for i in $(seq 0 $(($2 - 1))); do echo "set 1 holding $i 60"; done
		echo "sleep ${BURST_PAUSE:-1}"
		for i in $(seq 0 $(($2 - 1))); do echo "set 1 holding $i 0"; done
		echo "sleep ${BURST_PAUSE:-1}"
	done >"$SIM_FIFO"
}

# max_logged_seq LOG...: the highest seq hazmond recorded.
max_logged_seq() {
	cat "$@" | sed -n 's/.*event seq \([0-9]*\):.*/\1/p' | sort -n | tail -n 1
}

# events FILE SENSOR: payloads of event messages of one sensor, in order.
events() {
	grep "^hazmon/[^ ]*/events/$2 " "$1" | cut -d' ' -f2-
}

# jq_events FILE SENSOR JQPROGRAM: run jq -s -e over one sensor's events.
jq_events() {
	events "$1" "$2" | jq -s -e "$3" >/dev/null
}

not() { ! "$@"; }

# watch_stop: stop the hazmon-watch $W_PID (TERM: it prints its summary)
# and set W_RC to its exit status.
watch_stop() {
	kill -TERM "$W_PID"
	wait_exit "$W_PID" 10 || bail "hazmon-watch did not stop"
	wait "$W_PID"
	W_RC=$?
	forget_pid "$W_PID"
}

# wait_exit PID SECONDS: wait until PID has exited.
wait_exit() {
	wait_for "$2" not kill -0 "$1" 2>/dev/null
}

# wait_event FILE SENSOR JQFILTER [SECONDS]: wait until an event matches.
wait_event() {
	wait_for "${4:-10}" has_event "$1" "$2" "$3"
}
has_event() {
	events "$1" "$2" | jq -e -s "map(select($3)) | length > 0" >/dev/null 2>&1
}

# start_dgram NAME SOCKET OUT: a datagram socket at SOCKET whose messages
# are appended to OUT, one line per "KEY=VALUE" line, as "NAME[N]: ..." for
# datagram N, with a single write each.  Perl is Essential in Debian.
start_dgram() {
	spawn "$1" perl -e '
	use strict; use warnings; use Socket;
	my ($name, $path, $out) = @ARGV;
	socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\n";
	bind($s, pack_sockaddr_un($path)) or die "bind $path: $!\n";
	open(my $o, ">>", $out) or die "$out: $!\n";
	my $n = 0;
	while (defined(recv($s, my $buf, 65536, 0))) {
		$n++;
		my $lines = join("", map { "$name\[$n\]: $_\n" } split(/\n/, $buf));
		syswrite($o, $lines);
	}' "$1" "$2" "$3"
	wait_for 5 test -S "$2" || bail "$1 receiver did not start"
}

# start_notify: a notify socket (what systemd reads sd_notify from) at
# $NOTIFY_SOCK, its lines "notify[N]: KEY=VALUE" in $RUN.  hazmond's stderr
# may be appended to the same file, which then records the order of log
# lines and notifications.
start_notify() {
	NOTIFY_SOCK=$T/notify.sock
	RUN=$T/run.log
	: >"$RUN"
	start_dgram notify "$NOTIFY_SOCK" "$RUN"
}

# notify_sync: every datagram sent so far has been written to $RUN (the
# socket is FIFO, so our own marker comes after them).
SYNC=0
notify_sync() {
	SYNC=$((SYNC + 1))
	printf 'X-SYNC=%d' "$SYNC" | socat -u - "UNIX-SENDTO:$NOTIFY_SOCK" &&
	    wait_for 5 grep -q "^notify\[[0-9]*\]: X-SYNC=$SYNC\$" "$RUN"
}
notified() { grep -q -E "^notify\[[0-9]+\]: $1\$" "$RUN"; }
n_notified() { grep -c -E "^notify\[[0-9]+\]: $1\$" "$RUN"; }
no_notification() { ! grep '^notify' "$RUN" | grep -qv ': X-SYNC='; }
line_of() { grep -n -m 1 -E "$1" "$RUN" | cut -d: -f1; }

jq_true() { jq -e "$@" >/dev/null; }	# jq_true FILTER FILE: quietly true?

# analyze_unit UNIT THRESHOLD: systemd-analyze verify (passes without a
# message) and security (exposure level at most THRESHOLD / 10) of UNIT, as
# TAP lines.  Documentation='s man pages are looked up in $MANPATH.
analyze_unit() {
	local unit=$1 threshold=$2 rc man=no
	if ! command -v systemd-analyze >/dev/null; then
		ok "systemd-analyze verify # SKIP systemd-analyze is not installed"
		ok "systemd-analyze security # SKIP systemd-analyze is not installed"
		return 0
	fi
	command -v man >/dev/null && man=yes
	systemd-analyze verify --man=$man "$unit" >"$T/verify.out" 2>&1
	rc=$?
	sed 's/^/# /' "$T/verify.out"
	check "systemd-analyze verify: passes without a message" \
	    test "$rc" = 0 -a ! -s "$T/verify.out"
	if ! systemd-analyze --help 2>&1 | grep -q -- '--offline'; then
		ok "systemd-analyze security # SKIP no --offline in this systemd"
		return 0
	fi
	# --threshold is ten times the printed exposure level.
	systemd-analyze security --offline=true --threshold="$threshold" \
	    "$unit" >"$T/security.out" 2>&1
	rc=$?
	grep 'Overall exposure' "$T/security.out" | sed 's/^/# /'
	check "systemd-analyze security: exposure level at most $(awk -v t="$threshold" 'BEGIN { printf "%.1f", t / 10 }')" \
	    test "$rc" = 0
}

# alarm_latency VALUE EVENT: seconds from the simulator's change (unit 1,
# holding $ALARM_ADDR, default 100) to the arrival of EVENT in
# $T/alarm.out, a subscriber's "-F '%U ...'" lines; 999 if it never came.
alarm_latency() {
	local before t0 t1
	before=$(grep -c "\"event\":\"$2\"" "$T/alarm.out")
	t0=$(date +%s.%N)
	sim set 1 holding "${ALARM_ADDR:-100}" "$1"
	wait_for 30 sh -c "[ \$(grep -c '\"event\":\"$2\"' '$T/alarm.out') -gt $before ]" ||
	    { echo 999; return; }
	t1=$(grep "\"event\":\"$2\"" "$T/alarm.out" | tail -n 1 | cut -d' ' -f1)
	echo "$t1 - $t0" | bc -l
}
lt() { [ "$(echo "$1 < $2" | bc -l)" = 1 ]; }
