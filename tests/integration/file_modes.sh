#!/bin/bash
# File modes and secrets (issue 13): the ledger and its state directory are
# private whatever the umask, a state directory others may write to is
# refused; a password file that is too long, someone else's or writable by
# its group is refused by `hazmond -t`, naming file:line.
. "$top_srcdir/tests/lib.sh"

start_broker
echo "set 1 holding 0 5" >"$T/plant.sim"
start_sim 0 "$T/plant.sim"
conf() {	# conf FILE STATE_DIR [PASSWORD_FILE]
	{
		echo "site = { id = \"modes\"; };"
		echo "daemon = { state_dir = \"$2\"; };"
		if [ -n "${3:-}" ]; then
			echo "mqtt = ( { host = \"127.0.0.1\"; port = $BROKER_PORT;"
			echo "           username = \"u\"; password_file = \"$3\"; } );"
		else
			echo "mqtt = ( { host = \"127.0.0.1\"; port = $BROKER_PORT; } );"
		fi
		echo "buses = ( { name = \"b\"; type = \"tcp\"; host = \"127.0.0.1\"; port = $SIM_PORT; } );"
		echo "sensors = ( { id = \"ch4\"; plugin = \"gas\"; bus = \"b\"; slave = 1;"
		echo "              register = { table = \"holding\"; address = 0; };"
		echo "              levels = ( { name = \"high\"; above = 50.0; } ); } );"
	} >"$1"
}
mode() { stat -c %a "$1"; }

# ---- the ledger, created under umask 0
conf "$T/a.conf" "$T/state"
spawn hazmond-a sh -c "umask 0; exec '$HAZMOND' -c '$T/a.conf' -P '$PLUGIN_DIR'"
A=$LAST_PID
wait_for 10 test -f "$T/state/ledger.db-wal" || bail "no ledger"
wait_for 10 grep -q 'connected to' "$T/hazmond-a.log" || bail "hazmond did not start"
check "the state directory is 0750 under umask 0" test "$(mode "$T/state")" = 750
check "the ledger is 0640" test "$(mode "$T/state/ledger.db")" = 640
check "... and its -wal" test "$(mode "$T/state/ledger.db-wal")" = 640
check "... and its -shm" test "$(mode "$T/state/ledger.db-shm")" = 640
stop_pid "$A"; forget_pid "$A"

# An older ledger, world-readable, is made private at the next start.
chmod 0644 "$T/state/ledger.db"
spawn hazmond-b "$HAZMOND" -c "$T/a.conf" -P "$PLUGIN_DIR"
B=$LAST_PID
wait_for 10 grep -q 'connected to' "$T/hazmond-b.log" || bail "hazmond did not restart"
check "an existing world-readable ledger is made 0640" test "$(mode "$T/state/ledger.db")" = 640
stop_pid "$B"; forget_pid "$B"

# ---- a state directory others may write to
mkdir -m 0777 "$T/open-state"; chmod 0777 "$T/open-state"
conf "$T/o.conf" "$T/open-state"
timeout 10 "$HAZMOND" -c "$T/o.conf" -P "$PLUGIN_DIR" >"$T/o.log" 2>&1
rc=$?
check "a state directory writable by others is refused (exit $rc)" test "$rc" != 0 -a "$rc" != 124
check "... naming it" grep -q "state directory $T/open-state is writable by others (mode 0777); chmod o-w it" "$T/o.log"
check "... and nothing was created in it" test ! -e "$T/open-state/ledger.db"
chmod 1777 "$T/open-state"
timeout 10 "$HAZMOND" -c "$T/o.conf" -P "$PLUGIN_DIR" >"$T/o2.log" 2>&1
check "... sticky or not" grep -q "state directory $T/open-state is writable by others (mode 1777)" "$T/o2.log"

# ---- password files
check_pw() {	# check_pw DESCRIPTION FILE EXPECTED-MESSAGE
	conf "$T/p.conf" "$T/state" "$2"
	"$HAZMOND" -t -c "$T/p.conf" -P "$PLUGIN_DIR" >"$T/p.log" 2>&1
	local rc=$?
	check "-t refuses $1 (exit $rc)" test "$rc" = 1
	check "... naming file:line: $3" grep -q "p.conf:4: 'password_file': $3" "$T/p.log"
}
head -c 600 /dev/zero | tr '\0' 'p' >"$T/long.pass"; chmod 0600 "$T/long.pass"
check_pw "a password longer than the buffer" "$T/long.pass" \
    "$T/long.pass: the password is longer than 510 bytes"
printf 'secret\n' >"$T/other.pass"; chmod 0600 "$T/other.pass"; chown 65534 "$T/other.pass"
check_pw "a password file of another user" "$T/other.pass" \
    "$T/other.pass belongs to uid 65534, not to us (uid 0) or root"
printf 'secret\n' >"$T/gw.pass"; chmod 0660 "$T/gw.pass"
check_pw "a group-writable password file" "$T/gw.pass" \
    "$T/gw.pass is writable by its group (mode 0660); chmod g-w it"
printf '%s\n' "$(head -c 510 /dev/zero | tr '\0' 'q')" >"$T/max.pass"; chmod 0640 "$T/max.pass"
conf "$T/p.conf" "$T/state" "$T/max.pass"
"$HAZMOND" -t -c "$T/p.conf" -P "$PLUGIN_DIR" >"$T/p.log" 2>&1
check "-t takes a 510-byte password in a 0640 file of ours" test $? = 0
check "... and never prints it" not grep -q qqqq "$T/p.log"
done_testing
