#!/bin/bash
# A reload's warnings reach the client that asked, not only the log:
# - a good config with a warning: hazmonctl reload succeeds and prints it
#   with file:line, --json has it in "warnings";
# - a refused config: its errors in "errors", its warnings apart in
#   "warnings", hazmonctl prints both.
. "$top_srcdir/tests/lib.sh"
HAZMONCTL=$top_builddir/hazmonctl

start_broker
start_sim 0
# conf FILE EXTRA: one gas sensor, and EXTRA sensors after it.
conf() {
	cat >"$1" <<EOC
site = { id = "rw"; };
daemon = { state_dir = "$T/state"; control_socket = "$T/ctl.sock"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = (
  { id = "ch4"; plugin = "gas"; bus = "b"; slave = 1; gas = "CH4";
    register = { table = "holding"; address = 0; }; }$2
);
EOC
}
conf "$T/hazmond.conf" ""
start_hazmond "$T/hazmond.conf"
wait_for 10 test -S "$T/ctl.sock" || bail "no control socket"
ctl() { "$HAZMONCTL" -s "$T/ctl.sock" "$@"; }

# A sensor without levels draws a warning (line 8 of the file).
WARN=',
  { id = "raw"; plugin = "generic"; bus = "b"; slave = 1;
    register = { table = "holding"; address = 1; }; }'
conf "$T/hazmond.conf" "$WARN"
ctl reload >"$T/ok.out" 2>"$T/ok.err"
check "a good config with a warning reloads" test $? = 0
check "... hazmonctl says so" grep -q '1 added' "$T/ok.out"
check "... and prints the warning with file:line" grep -q \
    "^warning: $T/hazmond.conf:8: sensor \"raw\" has no alarm levels" "$T/ok.err"
conf "$T/hazmond.conf" "$WARN"	# touch nothing: the same warning again
ctl --json reload >"$T/ok.json" 2>&1
check "... and --json has it in warnings" jq_true \
    '.ok and (.warnings | length) == 1 and (.warnings[0] | test(":8: sensor \"raw\" has no alarm levels"))' \
    "$T/ok.json"
check "the log has it too" grep -q 'warning: .*hazmond.conf:8: sensor "raw" has no alarm' "$T/hazmond.log"

# The same warning with an error (a sensor on a bus that does not exist).
conf "$T/hazmond.conf" "$WARN,
  { id = \"bad\"; plugin = \"gas\"; bus = \"nosuch\"; slave = 1; gas = \"CH4\";
    register = { table = \"holding\"; address = 2; }; }"
ctl reload >"$T/bad.out" 2>"$T/bad.err"
check "a config with an error is refused" test $? = 1
check "... hazmonctl prints the error" grep -q "^$T/hazmond.conf:10: 'bus': no bus named" "$T/bad.err"
check "... and the warning, marked as one" grep -q \
    "^warning: $T/hazmond.conf:8: sensor \"raw\" has no alarm levels" "$T/bad.err"
ctl --json reload >"$T/bad.json" 2>/dev/null
check "... --json keeps errors and warnings apart" jq_true \
    '(.ok | not) and (.errors | length) == 1 and (.errors[0] | test(":10: .bus.: no bus named")) and (.warnings | length) == 1 and (.warnings[0] | test(":8: sensor \"raw\""))' \
    "$T/bad.json"
check "the daemon still runs" kill -0 "$HAZMOND_PID"
done_testing
