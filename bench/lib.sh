# bench/lib.sh - shared by the benchmark scripts (after tests/lib.sh).

# bench_conf FILE DEVICES REGS COALESCE STATEDIR [DAEMON_EXTRA]: DEVICES
# Modbus TCP buses on the simulator at $SIM_PORT, one per unit id, each
# with REGS generic sensors (holding 0..REGS-1) polled every second; one
# MQTT destination at $BROKER_PORT.  Device u is unit (u - 1) % 247 + 1.
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
				echo "  { id = \"d$u-r$r\"; plugin = \"generic\"; bus = \"d$u\"; slave = $(( (u - 1) % 247 + 1 )); interval = 1.0;"
				echo "    register = { table = \"holding\"; address = $r; }; }"
			done
		done
		echo ");"
	} >"$f"
}

# bench_sim DEVICES REGS [STEP]: the simulator with unit ids 1..DEVICES,
# holding registers 0..REGS-1 each set to r * STEP + u % 7 (STEP 10);
# sets SIM_PID, SIM_FIFO and SIM_PORT (its counters go to $T/sim.stats).
bench_sim() {
	local devices=$1 regs=$2 step=${3:-10} u r
	# Unit ids stop at 247: more devices are more connections to the same ones.
	for u in $(seq "$((devices < 247 ? devices : 247))"); do
		for r in $(seq 0 $((regs - 1))); do echo "set $u holding $r $((r * step + u % 7))"; done
	done >"$T/plant.sim"
	rm -f "$T/sim.port"
	spawn sim "$HAZMON_SIM" -p 0 -P "$T/sim.port" -c "$T/sim.fifo" -S "$T/sim.stats" -f "$T/plant.sim"
	SIM_PID=$LAST_PID SIM_FIFO=$T/sim.fifo
	wait_for 20 test -s "$T/sim.port" || bail "simulator did not start"
	SIM_PORT=$(cat "$T/sim.port")
}
