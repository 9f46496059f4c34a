#!/bin/bash
# A TLS destination whose CA file vanishes after the start (issue 13):
# that destination logs a TLS set-up fault naming itself and its broker,
# and retries; hazmond stays up and alarms keep flowing to the plain
# destination; once the file is back, the TLS one connects and catches up.
. "$top_srcdir/tests/lib.sh"

cd "$T"
make_test_ca
chmod 0644 srv.key		# the broker drops privileges
mkdir ca && cp ca.crt ca/ca.crt	# the copy hazmond uses, and loses

# The plain broker, up all along.
start_broker; PLAIN=$BROKER_PORT
start_sub "$T/plain.out"
# The TLS broker: started once to find a free port, down until the end.
BROKER_CONF="allow_anonymous true
cafile $T/ca.crt
certfile $T/srv.crt
keyfile $T/srv.key
persistence false"
BROKER_PUB_OPTS="--cafile $T/ca.crt"
start_broker; TLS=$BROKER_PORT
BROKER_PUB_OPTS=
stop_pid "$BROKER_PID"; forget_pid "$BROKER_PID"
echo "set 1 holding 0 5" >plant.sim
start_sim 0 plant.sim
cat >hazmond.conf <<EOC
site = { id = "vanish"; };
daemon = { state_dir = "$T/state"; };
mqtt = ( { name = "plain"; host = "127.0.0.1"; port = $PLAIN; },
         { name = "secure"; host = "127.0.0.1"; port = $TLS; keepalive = 5;
           tls = { ca_file = "$T/ca/ca.crt"; }; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = ( { id = "ch4"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.1;
              register = { table = "holding"; address = 0; };
              levels = ( { name = "high"; above = 50.0; } ); } );
EOC
start_hazmond hazmond.conf
LOG=$T/hazmond.log
wait_for 10 grep -q '^hazmon/vanish/status {"state":"online"' plain.out ||
    bail "not online at the plain broker"
# Refused, or (on a loaded machine, or if another test's helper took the
# free port meanwhile) no CONNACK within keepalive: either way it retries.
check "the TLS destination retries its broker (down)" wait_for 10 \
    grep -q -E "mqtt secure: (cannot connect to|no answer from) broker 127.0.0.1:$TLS" "$LOG"

rm ca/ca.crt
check "the vanished CA file is a fault of that destination, naming it and its broker" \
    wait_for 20 grep -q "mqtt secure: TLS set-up for broker 127.0.0.1:$TLS failed: $T/ca/ca.crt: No such file or directory; retrying" "$LOG"
check "hazmond stays up" kill -0 "$HAZMOND_PID"
sim set 1 holding 0 60
check "an alarm reaches the plain destination meanwhile" \
    wait_event plain.out ch4 '.event == "raised" and .level == "high"' 5
sleep 11			# more than one retry (at most 10 s apart)
check "hazmond is still up after retrying" kill -0 "$HAZMOND_PID"
check "... and logged the fault once, not at every retry" \
    test "$(grep -c 'TLS set-up for broker' "$LOG")" = 1

BROKER_PUB_OPTS="--cafile $T/ca.crt"
start_broker "$TLS"
spawn tlssub sh -c "exec mosquitto_sub -h 127.0.0.1 -p $TLS --cafile $T/ca.crt -v -q 1 -t 'hazmon/#' -t 'hazmon-test/#' >'$T/tls.out'"
wait_for 10 sub_ready "$T/tls.out" || bail "no subscriber at the TLS broker"
cp ca.crt ca/ca.crt
check "with the file back, the TLS destination recovers (logged)" \
    wait_for 30 grep -q "mqtt secure: TLS set-up for broker 127.0.0.1:$TLS works again" "$LOG"
check "... and connects" wait_for 30 grep -q "mqtt secure: connected to 127.0.0.1:$TLS" "$LOG"
check "... and delivers the alarm it missed, replayed" \
    wait_event tls.out ch4 '.event == "raised" and .replayed == true' 20
done_testing
