#!/bin/bash
# Operator commands over MQTT that misbehave (issue 13): wrong types are
# refused, not read as "all levels" or "false"; durations out of range are
# refused; a retained command is refused and logged; a burst of commands is
# answered one by one in the log, none dropped silently; a newline in an
# actor cannot forge a log line; a destination's command_actor overrides
# the actor a payload names.
. "$top_srcdir/tests/lib.sh"

start_broker
start_sub "$T/sub.out"
S=$T/sub.out
cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 5
set 1 holding 1 5
EOS
start_sim 0 "$T/plant.sim"
cat >"$T/hazmond.conf" <<EOC
site = { id = "cmd"; };
daemon = { state_dir = "$T/state"; };
mqtt = ( { name = "duty"; host = "127.0.0.1"; port = $BROKER_PORT; commands = true; },
         { name = "bureau"; host = "127.0.0.1"; port = $BROKER_PORT; prefix = "hazmon/cmd-bureau";
           commands = true; command_actor = "bureau"; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; timeout_ms = 300; } );
sensors = (
  { id = "ch4"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.1;
    register = { table = "holding"; address = 0; }; unit = "ppm";
    levels = ( { name = "low"; above = 20.0; }, { name = "high"; above = 50.0; } ); },
  { id = "h2s"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.1;
    register = { table = "holding"; address = 1; }; unit = "ppm";
    levels = ( { name = "high"; above = 50.0; } ); }
);
EOC
# A retained command, left on the broker before hazmond subscribes.
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r -t hazmon/cmd/command/oos \
    -m '{"sensor":"h2s","on":true,"actor":"old"}'
start_hazmond "$T/hazmond.conf"
LOG=$T/hazmond.log
online() { grep -q "^hazmon/$1/status {\"state\":\"online\"" "$S"; }
wait_for 10 online cmd || bail "duty destination not online"
wait_for 10 online cmd-bureau || bail "bureau destination not online"
cmd() {		# cmd PREFIX VERB PAYLOAD [mosquitto_pub options]
	local prefix=$1 verb=$2 payload=$3; shift 3
	mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t "$prefix/command/$verb" -m "$payload" "$@"
}
ev() { has_event "$S" "$1" "$2"; }
refused() { wait_for 10 grep -q "command $1 from broker 127.0.0.1:$BROKER_PORT refused.*$2" "$LOG"; }

sim set 1 holding 0 60
wait_event "$S" ch4 '.event == "raised" and .level == "high"' || bail "no alarm"

# ---- wrong types
cmd hazmon/cmd ack '{"sensor":"ch4","level":1,"actor":"li.wei"}'
check "ack with a numeric level: refused and logged" refused ack '"level"'
cmd hazmon/cmd oos '{"sensor":"h2s","on":true,"actor":"li.wei"}'
wait_event "$S" h2s '.event == "out_of_service" and .actor == "li.wei"' ||
    bail "oos on did nothing"
cmd hazmon/cmd oos '{"sensor":"h2s","on":"no","actor":"li.wei"}'
check "oos with on \"no\": refused and logged" refused oos '"on": true or false'
cmd hazmon/cmd oos '{"sensor":"h2s","actor":"li.wei"}'
check "oos without on: refused" refused oos '"on": true or false'
for d in 1e-300 0 0.5 -5 86401 1e300 '"60"'; do
	a=op-$(echo "$d" | tr -d '"')
	cmd hazmon/cmd shelve "{\"sensor\":\"ch4\",\"duration\":$d,\"reason\":\"r\",\"actor\":\"$a\"}"
	check "shelve for $d s: refused and logged" refused shelve "actor \"$a\".*duration"
done
cmd hazmon/cmd ack '[1,2,3]'
check "a payload that is not an object: refused" refused ack 'not a JSON object'
sleep 0.5
check "none of them acknowledged, shelved or changed anything" not grep -q \
    '"event":"\(acknowledged\|shelved\|in_service\)"' "$S"

# ---- a retained command is history, not a request
check "a retained command met at subscription is refused and logged" \
    refused oos 'actor "old").*retained'
check "... and not executed" not ev h2s '.actor == "old"'
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r -t hazmon/cmd/command/oos -n
# Published retained while hazmond is connected: MQTT 5's retain-as-
# published keeps the flag that 3.1.1 brokers clear on live delivery.
check "a destination with commands speaks MQTT 5 to this broker" \
    grep -q 'New client connected .* as hazmond-cmd-duty (p5' "$T/mosquitto-$BROKER_PORT.log"
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r -t hazmon/cmd/command/ack \
    -m '{"sensor":"ch4","actor":"live-retained"}'
check "a command published retained while connected is refused and logged" \
    refused ack 'actor "live-retained").*retained'
check "... and not executed" not ev ch4 '.actor == "live-retained"'
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -r -t hazmon/cmd/command/ack -n

# ---- a burst: every command answered in the log, none silently dropped
for i in $(seq 100); do echo "{\"sensor\":\"ch4\",\"actor\":\"burst$i\"}"; done >"$T/burst"
mosquitto_pub -h 127.0.0.1 -p "$BROKER_PORT" -q 1 -t hazmon/cmd/command/unshelve -l <"$T/burst"
answered() {
	local i
	for i in $(seq 100); do
		grep -q "burst$i\b\|burst$i\"" "$LOG" || return 1
	done
}
check "each of 100 commands at once is executed or refused in the log" wait_for 20 answered

# ---- a newline in an actor cannot forge a log line
cmd hazmon/cmd ack '{"sensor":"ch4","level":"high","actor":"li.wei\nhazmond: crit: FORGED alarm cleared"}'
check "the actor is logged escaped, on one line" wait_for 10 grep -q 'li.wei\\nhazmond: crit: FORGED' "$LOG"
check "... and no forged line starts in the log" not grep -q '^hazmond: crit: FORGED' "$LOG"
check "the event keeps the actor as sent (JSON)" wait_for 10 ev ch4 \
    '.event == "acknowledged" and .actor == "li.wei\nhazmond: crit: FORGED alarm cleared"'
cmd hazmon/cmd ack '{"sensor":"ch\u0007\u001b[2J4","actor":"x"}'
check "control bytes in a sensor id are escaped" wait_for 10 grep -q 'sensor ch\\x07\\x1b\[2J4' "$LOG"

# ---- a destination's command_actor is who answers for its commands
cmd hazmon/cmd-bureau ack '{"sensor":"ch4","level":"low","actor":"mallory"}'
check "command_actor overrides the payload's actor" wait_for 10 ev ch4 \
    '.event == "acknowledged" and .level == "low" and .actor == "bureau"'
check "... the payload's actor is not used" not ev ch4 '.actor == "mallory"'

check "hazmond is still running" kill -0 "$HAZMOND_PID"
done_testing
