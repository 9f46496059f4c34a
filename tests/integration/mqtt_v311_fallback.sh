#!/bin/bash
# A destination with commands = true connects with MQTT 5 (retain as
# published, issue 13).  A broker that speaks only 3.1.1 answers that
# CONNECT with "unacceptable protocol level" and hangs up; hazmond must
# then say so once, fall back to 3.1.1, come online, deliver its events
# and still take commands.  Mosquitto cannot be told to refuse MQTT 5, so
# tests/mqtt-v311-proxy.py stands in front of it and refuses every level
# but 3 and 4.
. "$top_srcdir/tests/lib.sh"

start_broker
start_sub "$T/sub.out"
S=$T/sub.out
for try in $(seq 20); do
	PROXY_PORT=$((20000 + (RANDOM * 7 + try) % 40000))
	spawn proxy /usr/bin/python3 "$top_srcdir/tests/mqtt-v311-proxy.py" \
	    "$PROXY_PORT" "$BROKER_PORT" "$T/proxy.out"
	PROXY_PID=$LAST_PID
	wait_for 5 grep -q listening "$T/proxy.out" 2>/dev/null && break
	stop_pid "$PROXY_PID"
	forget_pid "$PROXY_PID"
	rm -f "$T/proxy.out"
done
grep -q listening "$T/proxy.out" 2>/dev/null || bail "proxy did not start"

cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 5
EOS
start_sim 0 "$T/plant.sim"
cat >"$T/hazmond.conf" <<EOC
site = { id = "v311"; };
daemon = { state_dir = "$T/state"; };
mqtt = ( { name = "old"; host = "127.0.0.1"; port = $PROXY_PORT; commands = true; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = (
  { id = "ch4"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.1;
    register = { table = "holding"; address = 0; }; unit = "ppm";
    levels = ( { name = "high"; above = 50.0; } ); }
);
EOC
start_hazmond "$T/hazmond.conf"
LOG=$T/hazmond.log
online() { grep -q '^hazmon/v311/status {"state":"online"' "$S"; }

check "online through a broker that refuses MQTT 5" wait_for 20 online
check "the broker was asked for MQTT 5 first, and refused it" \
    grep -qx 'level 5 refused' "$T/proxy.out"
check "then hazmond connected with 3.1.1" grep -qx 'level 4 passed' "$T/proxy.out"
check "the fallback is logged, naming the destination and broker" \
    grep -q "mqtt old: broker 127.0.0.1:$PROXY_PORT does not speak MQTT 5; using 3.1.1" "$LOG"
check "... once" test "$(grep -c 'does not speak MQTT 5' "$LOG")" = 1
check "no 'refused the connection' error for the protocol level" \
    not grep -q 'refused the connection' "$LOG"

sim set 1 holding 0 60
check "an alarm is delivered over 3.1.1" \
    wait_event "$S" ch4 '.event == "raised" and .level == "high"'
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t hazmon/v311/command/ack \
    -m '{"sensor":"ch4","actor":"li.wei"}'
check "a command over 3.1.1 is executed" \
    wait_event "$S" ch4 '.event == "acknowledged" and .actor == "li.wei"'

# A new hazmond asks for MQTT 5 again, once, and falls back again.
n_before=$(grep -c 'level 5 refused' "$T/proxy.out")
stop_pid "$HAZMOND_PID"
forget_pid "$HAZMOND_PID"
: >"$S"
start_sub "$T/sub2.out"
start_hazmond "$T/hazmond.conf" hazmond2
online2() { grep -q '^hazmon/v311/status {"state":"online"' "$T/sub2.out"; }
check "a new hazmond comes online again" wait_for 20 online2
check "... after one refused MQTT 5 attempt" \
    test "$(grep -c 'level 5 refused' "$T/proxy.out")" = $((n_before + 1))

done_testing
