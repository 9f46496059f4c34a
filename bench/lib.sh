# bench/lib.sh - shared by the benchmark scripts (after tests/lib.sh).

# bench_conf FILE DEVICES REGS COALESCE STATEDIR [DAEMON_EXTRA]: DEVICES
# Modbus TCP buses on the simulator at $SIM_PORT, one per unit id, each
# with REGS generic sensors (holding 0..REGS-1) polled every second; one
# MQTT destination at $BROKER_PORT.
bench_conf() {
	local f=$1 devices=$2 regs=$3 coalesce=$4 state=$5 extra=${6:-} u r
	{
		echo 'site = { id = "bench"; };'
		echo "daemon = { state_dir = \"$state\"; log_level = \"warning\"; $extra };"
		echo "mqtt = ( { host = \"127.0.0.1\"; port = $BROKER_PORT; } );"
		echo "buses = ("
		for u in $(seq "$devices"); do
			[ "$u" = 1 ] || echo ","
			echo "  { name = \"d$u\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIM_PORT; coalesce = $coalesce; }"
		done
		echo "); sensors = ("
		for u in $(seq "$devices"); do
			for r in $(seq 0 $((regs - 1))); do
				[ "$u$r" = 10 ] || echo ","
				echo "  { id = \"d$u-r$r\"; plugin = \"generic\"; bus = \"d$u\"; slave = $u; interval = 1.0;"
				echo "    register = { table = \"holding\"; address = $r; }; }"
			done
		done
		echo ");"
	} >"$f"
}
