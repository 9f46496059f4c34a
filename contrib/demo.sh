#!/bin/bash
# demo.sh [BUILD_DIR] - a simulated plant, a local Mosquitto and hazmond,
# with the alarm events printed as they arrive over MQTT.
# Runs DEMO_SECONDS (default 90; Ctrl-C ends it sooner), then stops
# everything it started.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$here
export top_builddir=$(cd "${1:-$here}" && pwd)
. "$here/tests/lib.sh"
DEMO_SECONDS=${DEMO_SECONDS:-90}

start_broker
start_sim 0 "$here/conf/demo-plant.sim"
# The shipped example config, pointed at the simulator and the local broker.
sed -e "s/host = \"10.1.2.30\"; port = 502;/host = \"127.0.0.1\"; port = $SIM_PORT;/" \
    -e "s/port      = 1883;/port      = $BROKER_PORT;/" \
    -e "s|# state_dir = \"/var/lib/hazmon\";|state_dir = \"$T/state\"; #|" \
    -e "s|# control_socket = \"/run/hazmon/hazmond.sock\";|control_socket = \"$T/hazmond.sock\"; #|" \
    "$here/conf/hazmond.conf" >"$T/hazmond.conf"
HAZMONCTL="$top_builddir/hazmonctl -s $T/hazmond.sock"
start_sub "$T/events.out"
echo "== broker 127.0.0.1:$BROKER_PORT, simulator 127.0.0.1:$SIM_PORT, hazmond -c $T/hazmond.conf"
echo "== watching: mosquitto_sub -p $BROKER_PORT -v -t 'hazmon/#'   (for ${DEMO_SECONDS}s)"
echo "== ask the daemon: $HAZMONCTL status | sensors | alarms | history"
start_hazmond "$T/hazmond.conf"
# The duty room's page (docs/web.md): port 8080, or any free one if taken.
for port in "${DEMO_WEB_PORT:-8080}" 0; do
	spawn web "$top_builddir/hazmon-web" -l 127.0.0.1 -p "$port" -P "$T/web.port" \
	    -s "$T/hazmond-read.sock"
	wait_for 5 test -s "$T/web.port" && break
	stop_pid "$LAST_PID"
done
[ -s "$T/web.port" ] &&
    echo "== the page: http://127.0.0.1:$(cat "$T/web.port")/   (metrics: /metrics; open it in Chromium)"

fmt='if .kind then
  "\(.ts[11:23])  \(.kind | ascii_upcase) \(.event | ascii_upcase)  \(.sensor)  level=\(.level)"
  + (if .priority then " priority=\(.priority)" else "" end)
  + "  value=\(.value // "none") \(.unit)"
  + (if .setpoint then " setpoint=\(.setpoint)" else "" end)
  + "  seq=\(.seq)" + (if .replayed then " (replayed)" else "" end)
else "site \(.site) is \(.state) (bdseq \(.bdseq))" end'
# The online status is published again whenever the alarm-system health
# changes (docs/mqtt.md); the demo says so only when the site's state or
# bdseq changes.
timeout "$DEMO_SECONDS" tail -q -n +1 -f "$T/sim.log" "$T/events.out" |
while IFS= read -r line; do
	case $line in
	'*** '*) echo "$line" ;;
	hazmon/*/events/*) echo "${line#* }" | jq -r "$fmt" ;;
	hazmon/*/status\ *)
		said=$(echo "${line#* }" | jq -r "$fmt")
		[ "$said" = "${last_status:-}" ] || echo "$said"
		last_status=$said ;;
	esac
done
echo "== the alarms standing now ($HAZMONCTL alarms):"
$HAZMONCTL alarms
echo "== demo over; hazmond log: $(grep -c 'event seq' "$T/hazmond.log") events recorded"
