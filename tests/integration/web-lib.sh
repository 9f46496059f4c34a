# web-lib.sh - what the hazmon-web tests share (sourced after lib.sh): a
# plant of three gas sensors on two buses of one simulator (co alone on
# unit 2, so that unit can fall silent),
# hazmond with its read-only socket, and hazmon-web on a free port.
HAZMONCTL=$top_builddir/hazmonctl
HAZMON_WEB=$top_builddir/hazmon-web
SOCK=$T/hazmond.sock
RSOCK=$T/hazmond-read.sock

# web_plant: broker, subscriber ($S), simulator, hazmond; waits until
# hazmond is online and has read its sensors.
web_plant() {
	start_broker
	S=$T/sub.out
	start_sub "$S"
	printf 'set 1 holding 0 5\nset 1 holding 1 3\nset 2 holding 2 1\n' >"$T/plant.sim"
	start_sim 0 "$T/plant.sim"
	cat >"$T/hazmond.conf" <<EOC
site = { id = "web"; name = "Web test plant"; };
daemon = { state_dir = "$T/state"; control_socket = "$SOCK"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; },
          { name = "line2"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = (
  { id = "ch4"; name = "Tank A methane"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 0; }; unit = "%LEL";
    levels = ( { name = "high"; above = 20.0; priority = "urgent"; } ); },
  { id = "h2s"; name = "Pump 3 H2S"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 1; }; unit = "ppm";
    levels = ( { name = "high"; above = 10.0; } ); },
  { id = "co"; plugin = "gas"; bus = "line2"; slave = 2; interval = 0.2;
    register = { table = "holding"; address = 2; }; unit = "ppm";
    levels = ( { name = "high"; above = 30.0; } ); }
);
EOC
	start_hazmond "$T/hazmond.conf"
	wait_for 10 test -S "$RSOCK" || bail "no read-only control socket"
	wait_for 10 grep -q '^hazmon/web/status {"state":"online"' "$S" ||
	    bail "hazmond not online"
	wait_for 10 all_read || bail "the sensors were never read"
}
ctl() { timeout 10 "$HAZMONCTL" -s "$SOCK" "$@"; }
all_read() {
	ctl --json sensors | jq -e '[.sensors[].quality] == ["ok","ok","ok"]' >/dev/null
}

# start_web [ARGS...]: hazmon-web on a free loopback port; sets WEB_PID,
# WEB (its base URL).
start_web() {
	rm -f "$T/web.port"
	spawn web "$HAZMON_WEB" -l 127.0.0.1 -p 0 -P "$T/web.port" -s "$RSOCK" "$@"
	WEB_PID=$LAST_PID
	wait_for 10 test -s "$T/web.port" || bail "hazmon-web did not start"
	WEB=http://127.0.0.1:$(cat "$T/web.port")
}
web_up() { curl -s -m 5 "$WEB/metrics" | grep -qx 'hazmon_up 1'; }
