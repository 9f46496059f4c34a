# Peer: hazmond, for ../shared/bench-peers/run-peers.sh (sourced; contract in
# its README, "Adding a peer").  bench/run-peers.sh copies the harness and
# this file side by side and sets HAZMOND_BUILD.
#
# The scenario (spec.json) becomes a hazmond.conf: one bus per device (one
# TCP connection each, as the other peers do), one sensor per register
# (register 0 "gas" with an alarm level; the rest plain values through the
# generic plugin), so hazmond decodes and evaluates every register the
# others read.  Events go out as hazmond's own JSON under the prefix
# bench/hazmon at QoS 1 (the other peers publish at QoS 0), each committed
# to the ledger (SQLite, synchronous=FULL) before it is published; the
# harness reads them directly ("kind":"alarm", "event":"raised"/"cleared").
PEER_LABEL="hazmond $("$HAZMOND_BUILD/hazmond" --version | awk '{print $2}') (libmodbus + libmosquitto)"

peer_version() {
	echo "hazmond $("$HAZMOND_BUILD/hazmond" --version | awk '{print $2}'), libmodbus $(dpkg-query -W -f='${Version}' libmodbus5), libmosquitto $(dpkg-query -W -f='${Version}' libmosquitto1)"
}

peer_start() {
	local cfg=$1 out=$2 max=$3
	/usr/bin/python3 - "$cfg/spec.json" "$out" >"$out/hazmond.conf" <<'PYEOF'
import json, sys
s = json.load(open(sys.argv[1])); out = sys.argv[2]
m, mb, al = s["mqtt"], s["modbus"], s["alarm"]
print('site = { id = "bench"; };')
print(f'daemon = {{ state_dir = "{out}/state"; log_level = "warning"; control_socket = "{out}/hazmond.sock"; }};')
print(f'mqtt = ( {{ name = "bench"; host = "{m["host"]}"; port = {m["port"]}; prefix = "bench/hazmon"; qos = 1; }} );')
print("buses = (")
print(",\n".join(f'  {{ name = "{d["name"]}"; type = "tcp"; host = "{mb["host"]}"; port = {mb["port"]}; timeout_ms = 1000; }}'
                 for d in s["devices"]))
print(");\nsensors = (")
sens = []
for d in s["devices"]:
    r = d["holding_registers"]
    for i in range(r["count"]):
        name = r["names"][i]
        addr = r["start"] + i
        head = (f'  {{ id = "{d["name"]}-{name}"; bus = "{d["name"]}"; slave = {d["unit_id"]}; '
                f'interval = {d["interval_s"]}; ')
        if addr == al["address"]:
            # integer register: "> 25" is ">= 25.5"
            sens.append(head + f'plugin = "gas"; register = {{ table = "holding"; address = {addr}; }}; '
                        f'unit = "%LEL"; levels = ( {{ name = "high"; above = {al["threshold_gt"] + 0.5}; }} ); }}')
        else:
            scale = 0.1 if name == "temp" else 1.0
            sens.append(head + f'plugin = "generic"; register = {{ table = "holding"; address = {addr}; '
                        f'scale = {scale}; }}; }}')
print(",\n".join(sens))
print(");")
PYEOF
	"$HAZMOND_BUILD/hazmond" -t -c "$out/hazmond.conf" -P "$HAZMOND_BUILD/plugins/.libs" \
	    >"$out/configtest.log" 2>&1 || { cat "$out/configtest.log" >&2; return 1; }
	start_bounded "$max" "$HAZMOND_BUILD/hazmond" -c "$out/hazmond.conf" \
	    -P "$HAZMOND_BUILD/plugins/.libs" >"$out/stdout.log" 2>&1
	# Where the time went (status's publish_latency.stages): asked once,
	# when the harness has taken its last sample of the alarm steps, so
	# that no control request falls into a measured window.
	timeout "$max" bash -c 'until grep -q "\"label\": \"s2-end\"" "$1/samples.jsonl" 2>/dev/null; do
		sleep 0.2; done
	    timeout 5 "$2/hazmonctl" -s "$1/hazmond.sock" --json status >"$1/status.json"' \
	    _ "$out" "$HAZMOND_BUILD" &
	HZ_STATUS_PID=$!
}

peer_logs() {
	kill -TERM "$HZ_STATUS_PID" 2>/dev/null || true
	wait "$HZ_STATUS_PID" 2>/dev/null || true
}
