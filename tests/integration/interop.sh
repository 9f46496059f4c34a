#!/bin/bash
# hazmond against an independent Modbus implementation (Debian's
# python3-pymodbus), over TCP and over RTU on a pty pair: every type and
# word order, input registers, coils and discrete inputs read the values
# the other implementation serves, through the daemon (MQTT state) and
# through hazmond --probe.
. "$top_srcdir/tests/lib.sh"

PY=/usr/bin/python3
$PY -c 'import pymodbus.server' 2>/dev/null || bail "python3-pymodbus is not installed"
start_broker
start_sub "$T/sub.out"
spawn pm-tcp $PY "$top_srcdir/tests/pymodbus-device.py" tcp "$T/pm.port"
wait_for 10 test -s "$T/pm.port" || bail "the pymodbus TCP device did not start"
start_pty_pair
spawn pm-rtu $PY "$top_srcdir/tests/pymodbus-device.py" rtu "$T/ttyA" "$T/pm.ready"
wait_for 10 test -s "$T/pm.ready" || bail "the pymodbus RTU device did not start"

# sensors BUS: one generic sensor per value the device serves (id BUS-NAME).
sensors() {
	local b=$1
	cat <<EOS
  { id = "$b-f-abcd"; plugin = "generic"; bus = "$b"; slave = 1;
    register = { table = "holding"; address = 0; type = "float32"; order = "ABCD"; }; },
  { id = "$b-f-cdab"; plugin = "generic"; bus = "$b"; slave = 1;
    register = { table = "holding"; address = 2; type = "float32"; order = "CDAB"; }; },
  { id = "$b-f-badc"; plugin = "generic"; bus = "$b"; slave = 1;
    register = { table = "holding"; address = 4; type = "float32"; order = "BADC"; }; },
  { id = "$b-f-dcba"; plugin = "generic"; bus = "$b"; slave = 1;
    register = { table = "holding"; address = 6; type = "float32"; order = "DCBA"; }; },
  { id = "$b-i16"; plugin = "generic"; bus = "$b"; slave = 1;
    register = { table = "holding"; address = 8; type = "int16"; }; },
  { id = "$b-o2"; plugin = "gas"; bus = "$b"; slave = 1; gas = "O2";
    register = { table = "holding"; address = 9; scale = 0.1; }; },
  { id = "$b-i32"; plugin = "generic"; bus = "$b"; slave = 1;
    register = { table = "holding"; address = 10; type = "int32"; order = "CDAB"; }; },
  { id = "$b-u32"; plugin = "generic"; bus = "$b"; slave = 1;
    register = { table = "holding"; address = 12; type = "uint32"; }; },
  { id = "$b-f64"; plugin = "generic"; bus = "$b"; slave = 1;
    register = { table = "holding"; address = 20; type = "float64"; order = "DCBA"; }; },
  { id = "$b-in"; plugin = "generic"; bus = "$b"; slave = 2;
    register = { table = "input"; address = 20; }; },
  { id = "$b-coil"; plugin = "generic"; bus = "$b"; slave = 2;
    register = { table = "coil"; address = 3; }; },
  { id = "$b-smoke"; plugin = "smoke"; bus = "$b"; slave = 2;
    input = { table = "discrete"; address = 5; }; }
EOS
}
cat >"$T/hazmond.conf" <<EOC
site = { id = "interop"; };
daemon = { state_dir = "$T/state"; };
mqtt = ( { host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = (
  { name = "tcp"; type = "tcp"; host = "127.0.0.1"; port = $(cat "$T/pm.port"); timeout_ms = 1000; },
  { name = "rtu"; type = "rtu"; device = "$T/ttyB"; baud = 9600; timeout_ms = 500; }
);
sensors = (
$(sensors tcp),
$(sensors rtu)
);
EOC
start_hazmond "$T/hazmond.conf"
S=$T/sub.out
expect() {	# expect BUS NAME VALUE
	wait_for 15 grep -q "^hazmon/interop/sensors/$1-$2/state .*\"value\":$3,.*\"quality\":\"ok\"" "$S"
}
for b in tcp rtu; do
	check "$b: float32 ABCD 12.5" expect $b f-abcd 12.5
	check "$b: float32 CDAB 23.25" expect $b f-cdab 23.25
	check "$b: float32 BADC -7.75" expect $b f-badc -7.75
	check "$b: float32 DCBA 1000.5" expect $b f-dcba 1000.5
	check "$b: int16 -5" expect $b i16 -5.0
	check "$b: oxygen 209 x 0.1 = 20.9 %VOL" expect $b o2 20.9
	check "$b: int32 CDAB -70000" expect $b i32 -70000.0
	check "$b: uint32 4000000" expect $b u32 4000000.0
	check "$b: float64 DCBA 3.0625" expect $b f64 3.0625
	check "$b: input register 33 (unit 2)" expect $b in 33.0
	check "$b: coil 1" expect $b coil 1.0
	check "$b: a discrete input in alarm raises the smoke detector's fire level" \
	    wait_event "$S" $b-smoke '.kind == "alarm" and .event == "raised" and .level == "fire"' 15
done
check "no fault on any sensor" not grep -q '"kind":"fault"' "$S"
stop_pid "$HAZMOND_PID"
forget_pid "$HAZMOND_PID"

# The probe reads the same values through the same code, once.
"$HAZMOND" --probe tcp-f-dcba tcp-f64 rtu-i32 rtu-o2 -c "$T/hazmond.conf" \
    -P "$PLUGIN_DIR" >"$T/probe.out" 2>"$T/probe.log"
rc=$?
check "--probe of four sensors exits 0" test "$rc" = 0
check "--probe shows float32 DCBA 1000.5" grep -q '^  value 1000.5, quality ok' "$T/probe.out"
check "--probe shows float64 3.0625" grep -q '^  value 3.0625, quality ok' "$T/probe.out"
check "--probe shows int32 -70000 over RTU" grep -q '^  value -70000, quality ok' "$T/probe.out"
check "--probe shows 20.9 %VOL over RTU" grep -q '^  value 20.9 %VOL, quality ok' "$T/probe.out"
done_testing
