#!/bin/bash
# hazmond --probe (issue 12, item 13): reads sensors once through the real
# link, plan and plugin code and shows the requests, the raw words, the
# value and its quality, or the error naming bus, slave and register.
# Exit 0 all ok, 1 any not ok, 2 usage or configuration error.  Nothing of
# the daemon runs: no ledger, no MQTT, no control socket.
. "$top_srcdir/tests/lib.sh"

cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 5.0 float32 CDAB
set 1 holding 2 7 int16
set 1 holding 10 150.0 float32 CDAB
set 2 input 3 209 int16
fault 3 noreply
EOS
start_sim 0 "$T/plant.sim"

# The MQTT destination points at a port nobody listens on: a probe must not
# try it.
cat >"$T/hazmond.conf" <<EOC
site = { id = "probe"; };
daemon = { state_dir = "$T/state"; control_socket = "$T/ctl.sock"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = 9; } );
buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT;
            timeout_ms = 300; retries = 0; } );
sensors = (
  { id = "ch4"; plugin = "gas"; bus = "line1"; slave = 1; interval = 1.0;
    register = { table = "holding"; address = 0; type = "float32"; order = "CDAB"; };
    unit = "%LEL"; range = 100.0; levels = ( { name = "first"; above = 20.0; } ); },
  { id = "h2s"; plugin = "gas"; bus = "line1"; slave = 1; interval = 1.0;
    register = { table = "holding"; address = 2; }; unit = "ppm";
    levels = ( { name = "high"; above = 10.0; } ); },
  { id = "over"; plugin = "gas"; bus = "line1"; slave = 1; interval = 5.0;
    register = { table = "holding"; address = 10; type = "float32"; order = "CDAB"; };
    unit = "%LEL"; range = 100.0; levels = ( { name = "first"; above = 20.0; } ); },
  { id = "o2"; plugin = "gas"; bus = "line1"; slave = 2; interval = 1.0;
    register = { table = "input"; address = 3; type = "int16"; scale = 0.1; };
    unit = "%VOL"; levels = ( { name = "low"; below = 19.5; } ); },
  { id = "dead"; plugin = "gas"; bus = "line1"; slave = 3; interval = 1.0;
    register = { table = "input"; address = 3; }; unit = "ppm";
    levels = ( { name = "high"; above = 10.0; } ); }
);
EOC

probe() {	# probe NAME ARGS...: output in $T/NAME.out/.err, status in $RC
	local name=$1; shift
	timeout 20 "$HAZMOND" --probe "$@" -P "$PLUGIN_DIR" >"$T/$name.out" 2>"$T/$name.err"
	RC=$?
}
has() { grep -q -F -- "$2" "$T/$1.out"; }
has_err() { grep -q -F -- "$2" "$T/$1.err"; }

probe ch4 ch4 -c "$T/hazmond.conf"
check "one good sensor: exit 0" test "$RC" = 0
check "names bus, address and slave" \
    has ch4 "ch4: bus line1 (127.0.0.1:$SIM_PORT) slave 1, plugin gas"
# The daemon reads ch4 and h2s (same slave and interval) in one request.
check "shows the request the daemon sends, and the raw words (5.0 CDAB)" \
    has ch4 "request holding address 0 count 3: words 0 16544 7 [hex 0000 40a0 0007]"
check "decoded value, unit and quality" has ch4 "value 5 %LEL, quality ok"
check "only the named sensor is read" not has ch4 "o2:"

probe two o2 h2s -c "$T/hazmond.conf"
check "two good sensors: exit 0" test "$RC" = 0
check "int16 with scale 0.1: 209 is 20.9 %VOL" has two "value 20.9 %VOL, quality ok"
check "raw word of o2" has two "request input address 3 count 1: words 209 [hex 00d1]"
check "h2s decodes its slice of the shared request" has two "value 7 ppm, quality ok"
check "summary line" has two "2 of 2 sensors read ok"

probe over over -c "$T/hazmond.conf"
check "a reading that is not ok: exit 1" test "$RC" = 1
check "... its quality and fault flags are shown" \
    has over "value 150 %LEL, quality fault (over_range)"

probe dead dead -c "$T/hazmond.conf"
check "a dead slave: exit 1" test "$RC" = 1
check "... the error names bus, slave and register" \
    has dead "request input address 3 count 1: failed: Connection timed out (bus line1 slave 3)"
check "... and says there is no reading" has dead "no reading"

probe all -c "$T/hazmond.conf"
check "no names: every sensor is probed, one failure: exit 1" test "$RC" = 1
check "... in configuration order, with a summary" \
    test "$(grep -c -E '^[a-z0-9]+: bus ' "$T/all.out")" = 5
check "... 3 of 5 read ok" has all "3 of 5 sensors read ok"

probe unknown ch4 nosuch -c "$T/hazmond.conf"
check "an unknown sensor id: exit 2" test "$RC" = 2
check "... with a clear message" has_err unknown 'no sensor "nosuch" in'
check "... and nothing is read" test ! -s "$T/unknown.out"

echo 'sensors = ( { id = "x"; plugin = "gas"; } );' >"$T/bad.conf"
probe bad -c "$T/bad.conf"
check "a bad configuration: exit 2" test "$RC" = 2
check "... errors with file:line" has_err bad "$T/bad.conf:1:"

probe usage -t -c "$T/hazmond.conf"
check "--probe with -t is a usage error: exit 2" test "$RC" = 2

check "no ledger, no control socket were created" \
    test ! -e "$T/state" -a ! -e "$T/ctl.sock"
check "no MQTT connection was tried" not grep -q mqtt "$T/all.err"

done_testing
