#!/bin/bash
# The README's foreground example works (issue 12, item 16): hazmond -c FILE
# outside systemd, with no control_socket setting and no /run/hazmon,
# creates the directory and hazmonctl finds the socket by default.  A user
# who may not create it gets $XDG_RUNTIME_DIR/hazmon/hazmond.sock, where
# hazmonctl looks too.  HAZMOND_TEST_RUNTIME_BASE stands for /run, so the
# real /run is never touched.
. "$top_srcdir/tests/lib.sh"

HAZMONCTL=$top_builddir/hazmonctl
start_broker
echo "set 1 holding 0 3" >"$T/plant.sim"
start_sim 0 "$T/plant.sim"
# Readable by another user for the second part (mktemp made it 0700).
chmod 0755 "$T"
mkdir -p "$T/run" "$T/state1" "$T/state2"

conf() {	# conf FILE STATEDIR
	cat >"$1" <<EOC
site = { id = "rt"; };
daemon = { state_dir = "$2"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "b"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT; } );
sensors = ( { id = "g"; plugin = "gas"; bus = "b"; slave = 1; interval = 0.5;
    register = { table = "holding"; address = 0; }; unit = "ppm";
    levels = ( { name = "high"; above = 50.0; } ); } );
EOC
}

# 1. As root: the directory is created.
conf "$T/root.conf" "$T/state1"
spawn root env -u RUNTIME_DIRECTORY -u XDG_RUNTIME_DIR \
    HAZMOND_TEST_RUNTIME_BASE="$T/run" "$HAZMOND" -c "$T/root.conf" -P "$PLUGIN_DIR"
ROOT_PID=$LAST_PID
check "root: the socket's directory is created and the socket is logged" \
    wait_for 10 grep -q "control socket $T/run/hazmon/hazmond.sock ready" "$T/root.log"
check "root: the directory is 0755 (the socket's 0660 decides who connects)" \
    test "$(stat -c %a "$T/run/hazmon")" = 755
# to OUT CMD...: run CMD with its output in OUT.
to() { local out=$1; shift; "$@" >"$out" 2>&1; }
check "root: hazmonctl finds the socket without -s" \
    to "$T/root-status.out" env -u RUNTIME_DIRECTORY \
    HAZMOND_TEST_RUNTIME_BASE="$T/run" "$HAZMONCTL" -c "$T/root.conf" status
check "root: ... and gets the status" grep -q 'rt' "$T/root-status.out"
stop_pid "$ROOT_PID"; forget_pid "$ROOT_PID"

# 2. As nobody, who may not create $T/run2/hazmon: $XDG_RUNTIME_DIR.
if id nobody >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	mkdir -p "$T/run2" "$T/xdg"
	chown nobody "$T/xdg" "$T/state2"
	chmod 0700 "$T/xdg"
	conf "$T/user.conf" "$T/state2"
	chmod 0644 "$T/user.conf"
	# Copies nobody may run: the build tree may be private (make distcheck's
	# is under a 0700 mktemp directory).
	mkdir -p "$T/bin/plugins"
	cp "$HAZMOND" "$HAZMONCTL" "$T/bin/"
	cp "$PLUGIN_DIR"/*.so "$T/bin/plugins/"
	chmod -R a+rX "$T/bin"
	# A command, not a function: spawn then records hazmond's own PID
	# (setpriv and env exec it), so the cleanup stops hazmond itself.
	NOBODY=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups
	    env -u RUNTIME_DIRECTORY XDG_RUNTIME_DIR="$T/xdg"
	    HAZMOND_TEST_RUNTIME_BASE="$T/run2")
	as_nobody() { "${NOBODY[@]}" "$@"; }
	spawn user "${NOBODY[@]}" "$T/bin/hazmond" -c "$T/user.conf" -P "$T/bin/plugins"
	USER_PID=$LAST_PID
	check "user: the socket goes to \$XDG_RUNTIME_DIR/hazmon, and says why" \
	    wait_for 10 grep -q "control socket $T/xdg/hazmon/hazmond.sock ready" "$T/user.log"
	check "user: the fallback is explained" \
	    grep -q "cannot create $T/run2/hazmon (Permission denied)" "$T/user.log"
	check "user: hazmonctl (same user) finds it without -s" \
	    to "$T/user-status.out" as_nobody "$T/bin/hazmonctl" -c "$T/user.conf" status
	stop_pid "$USER_PID"; forget_pid "$USER_PID"
	check "user: hazmond itself has stopped" not kill -0 "$USER_PID"
else
	ok "# SKIP not root, or no user nobody"
fi

# 3. A set control_socket is the operator's: no directory is made for it.
conf "$T/set.conf" "$T/state1"
sed -i "s|daemon = { |daemon = { control_socket = \"$T/nodir/ctl.sock\"; |" "$T/set.conf"
spawn set env -u RUNTIME_DIRECTORY HAZMOND_TEST_RUNTIME_BASE="$T/run3" \
    "$HAZMOND" -c "$T/set.conf" -P "$PLUGIN_DIR"
SET_PID=$LAST_PID
check "set: a missing directory of a set control_socket is an error" \
    wait_for 10 grep -q "control socket $T/nodir/ctl.sock: No such file" "$T/set.log"
check "set: ... and nothing is created" test ! -e "$T/nodir" -a ! -e "$T/run3"
stop_pid "$SET_PID"; forget_pid "$SET_PID"

done_testing
