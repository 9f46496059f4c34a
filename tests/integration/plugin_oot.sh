#!/bin/bash
# An out-of-tree plugin, built as an integrator builds it: install the
# header and hazmon-plugin.pc, compile docs/examples/example-plugin.c
# against them alone, check a config that uses it, and run it against the
# simulator and a real broker.  A plugin built for another ABI major
# version is refused, with its file and both versions named.
. "$top_srcdir/tests/lib.sh"

inst=$T/inst
# The install runs inside `make check`: keep the outer make's jobserver out.
env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$top_builddir" install \
    DESTDIR="$inst" >"$T/install.log" 2>&1
check "make install DESTDIR=... succeeds" test $? = 0
pc=$(find "$inst" -name hazmon-plugin.pc | head -n 1)
hdr=$(find "$inst" -name hazmon-plugin.h | head -n 1)
check "the header and hazmon-plugin.pc are installed" test -n "$pc" -a -n "$hdr"
read -r cflags < <(PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$inst \
    pkg-config --cflags hazmon-plugin)	# read trims the trailing blank
check "pkg-config --cflags points at the installed header" \
    test "$cflags" = "-I$(dirname "$hdr")"

mkdir -p "$T/plugins"
# shellcheck disable=SC2086 # cflags is a list of words
cc -std=c11 -Wall -Wextra -Werror -fPIC -shared $cflags \
    -o "$T/plugins/acme-gd4.so" "$top_srcdir/docs/examples/example-plugin.c" \
    >"$T/cc.log" 2>&1
check "the worked example builds warning-free from the installed header" test $? = 0
cc -std=c11 -fPIC -shared -o "$T/plugins/badabi.so" \
    "$top_srcdir/tests/plugins/badabi.c" >>"$T/cc.log" 2>&1 ||
    bail "cannot build tests/plugins/badabi.c"

# conf FILE SENSOR-SETTINGS [BUS-PORT] [BROKER-PORT]
conf() {
	cat >"$1" <<-EOC
		site = { id = "oot-site"; };
		daemon = { state_dir = "$T/state"; };
		mqtt = ( { name = "local"; host = "127.0.0.1"; port = ${4:-1883}; } );
		buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = ${3:-1502}; } );
		sensors = ( { id = "h2s-gd4"; bus = "line1"; slave = 4; interval = 0.2;
		  $2 } );
	EOC
}

out=$T/t.out
conf "$T/gd4.conf" 'plugin = "acme-gd4"; address = 100; range = 50.0;'
"$HAZMOND" -t -v -c "$T/gd4.conf" -P "$T/plugins" >"$out" 2>&1
check "-t accepts a config that uses it" test $? = 0
check "-t -v shows its unit" grep -q '^sensor h2s-gd4 plugin acme-gd4 .* unit ppm$' "$out"
check "-t -v shows the block it declared" grep -q '^  read holding 100+2$' "$out"
check "-t -v shows its default level" \
    grep -q '^  level high above 10 deadband 0.5 .*(plugin default)$' "$out"

conf "$T/typo.conf" 'plugin = "acme-gd4"; adress = 100; range = -1;'
"$HAZMOND" -t -c "$T/typo.conf" -P "$T/plugins" >"$out" 2>&1
check "-t refuses its bad settings" test $? = 1
check "its own error names file:line and key" \
    grep -qF "$T/typo.conf:6: 'range': must be above 0" "$out"
check "a key it does not read is an unknown key" \
    grep -qF "$T/typo.conf:6: unknown key 'adress'" "$out"

conf "$T/badabi.conf" 'plugin = "badabi";'
"$HAZMOND" -t -c "$T/badabi.conf" -P "$T/plugins" >"$out" 2>&1
check "a plugin of ABI 2.x is refused" test $? = 1
check "the refusal names the sensor's line, the file and both versions" \
    grep -qF "$T/badabi.conf:6: 'plugin': $T/plugins/badabi.so: unsupported plugin ABI version (got 2.0, expected 1." "$out"

# The example at work: values, its default level, its status bits.
start_broker
start_sub "$T/sub.out"
printf 'set 4 holding 100 50\nset 4 holding 101 0\n' >"$T/plant.sim"
start_sim 0 "$T/plant.sim"
conf "$T/run.conf" 'plugin = "acme-gd4"; address = 100; range = 50.0;' \
    "$SIM_PORT" "$BROKER_PORT"
PLUGIN_DIR=$T/plugins
start_hazmond "$T/run.conf"
S=$T/sub.out
check "its reading is published: 5.0 ppm, quality ok" \
    wait_for 10 grep -q '/sensors/h2s-gd4/state .*"value":5.0,"unit":"ppm","quality":"ok"' "$S"
sim set 4 holding 100 123
check "12.3 ppm raises its default level" \
    wait_event "$S" h2s-gd4 '.kind == "alarm" and .event == "raised" and .level == "high" and .value > 12'
sim set 4 holding 101 1
check "status bit 0 raises a device_fault" \
    wait_event "$S" h2s-gd4 '.kind == "fault" and .event == "raised" and .level == "device_fault"'
sim set 4 holding 101 0
check "clearing the bit clears the fault" \
    wait_event "$S" h2s-gd4 '.kind == "fault" and .event == "cleared"'
sim set 4 holding 100 600
check "above its range: an over_range fault, not a value" \
    wait_event "$S" h2s-gd4 '.kind == "fault" and .event == "raised" and .level == "over_range"'
done_testing
