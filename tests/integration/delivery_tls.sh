#!/bin/bash
# TLS and passwords (issue 7, test d): certificates made here with openssl;
# events arrive over TLS with a user name and a password from a file; a
# wrong password is refused with a clear message naming the broker; a
# password file others can read is refused by -t.
. "$top_srcdir/tests/lib.sh"

cd "$T"
make_test_ca
touch mqpass && mosquitto_passwd -b mqpass hazmon 's3cret-pw' >/dev/null 2>&1 ||
    bail "mosquitto_passwd"
chmod 0644 srv.key mqpass	# the broker drops privileges

BROKER_CONF="allow_anonymous false
password_file $T/mqpass
cafile $T/ca.crt
certfile $T/srv.crt
keyfile $T/srv.key
persistence false"
BROKER_PUB_OPTS="--cafile $T/ca.crt -u hazmon -P s3cret-pw"
start_broker
SUB_OPTS="--cafile $T/ca.crt -u hazmon -P s3cret-pw"
start_psub "$T/sub.out" hz-test-tls
start_sim 0 "$top_srcdir/conf/demo-plant.sim"

printf 's3cret-pw\n' >good.pass; chmod 0600 good.pass
printf 'wrong\n' >bad.pass; chmod 0600 bad.pass
printf 's3cret-pw\n' >open.pass; chmod 0644 open.pass
conf() {	# conf FILE PASSFILE
	cat >"$1" <<EOC
site = { id = "tls-site"; };
daemon = { state_dir = "$T/state-$(basename "$1")"; };
mqtt = ( { name = "secure"; host = "127.0.0.1"; port = $BROKER_PORT;
           username = "hazmon"; password_file = "$2";
           tls = { ca_file = "$T/ca.crt"; version = "tlsv1.2"; }; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; } );
sensors = ( { id = "ch4"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.2;
              register = { table = "holding"; address = 0; type = "float32"; order = "CDAB"; };
              levels = ( { name = "first"; above = 20.0; } ); } );
EOC
}
conf good.conf "$T/good.pass"
conf bad.conf "$T/bad.pass"
conf open.conf "$T/open.pass"

"$HAZMOND" -t -c open.conf -P "$PLUGIN_DIR" >open.log 2>&1
check "-t refuses a password file readable by others" test $? = 1
check "... naming file:line and the file" \
    grep -q "open.conf:4: 'password_file': $T/open.pass is readable by others" open.log
"$HAZMOND" -t -v -c good.conf -P "$PLUGIN_DIR" >good.log 2>&1
check "-t -v shows the user but never the password" \
    sh -c "grep -q 'username hazmon password (from file)' good.log && ! grep -q s3cret good.log"

start_hazmond bad.conf hazmond-bad
check "a wrong password is refused with a clear message naming the broker" \
    wait_for 10 grep -q "mqtt secure: broker 127.0.0.1:$BROKER_PORT refused the connection: .*\(not authori[sz]ed\|bad user name or password\)" "$T/hazmond-bad.log"
check "the password never appears in the log" not grep -q 'wrong\|s3cret' "$T/hazmond-bad.log"
stop_pid "$HAZMOND_PID"

start_hazmond good.conf hazmond-good
check "online over TLS with user and password" \
    wait_for 10 grep -q '^hazmon/tls-site/status {"state":"online"' "$T/sub.out"
check "the demo leak raises an alarm event over TLS" \
    wait_event "$T/sub.out" ch4 '.event == "raised" and .level == "first"' 30
done_testing
