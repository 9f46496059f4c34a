#!/bin/bash
# hazmond under systemd, tested without systemd as PID 1:
# - the sd_notify protocol, read from a real datagram socket that
#   NOTIFY_SOCKET points at (READY=1 only after start-up, STATUS= summaries,
#   STOPPING=1 on SIGTERM, nothing at all from -t or a failed start);
# - make install DESTDIR=... puts every file in place, never touches an
#   operator's hazmond.conf, and make uninstall removes what it installed;
# - under the journal, messages carry SENSOR=, BUS=, SLAVE=, EVENT_SEQ=;
# - the installed unit passes systemd-analyze verify, keeps its exposure
#   score, starts only once the config exists, and the sysusers.d snippet
#   creates the service user.
. "$top_srcdir/tests/lib.sh"

start_notify

start_broker
cat >"$T/plant.sim" <<'EOS'
set 1 holding 0 5.0 float32 CDAB
EOS
start_sim 0 "$T/plant.sim"

conf() {	# conf FILE STATE_DIR
	cat >"$1" <<EOC
site = { id = "notify-site"; };
daemon = { state_dir = "$2"; log_level = "info"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = $BROKER_PORT; } );
buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = $SIM_PORT;
            timeout_ms = 200; retries = 0; } );
sensors = (
  { id = "ch4-tank-a"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 0; type = "float32"; order = "CDAB"; };
    unit = "%LEL"; range = 100.0;
    levels = ( { name = "first"; above = 20.0; priority = "high"; } ); },
  { id = "ch4-tank-b"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.2;
    register = { table = "holding"; address = 2; type = "float32"; order = "CDAB"; };
    unit = "%LEL"; range = 100.0;
    levels = ( { name = "first"; above = 20.0; priority = "high"; } ); }
);
EOC
}
conf "$T/hazmond.conf" "$T/state"

# ---- no notification from a config check or a start that fails
NOTIFY_SOCKET=$NOTIFY_SOCK "$HAZMOND" -t -c "$T/hazmond.conf" -P "$PLUGIN_DIR" \
    >"$T/check.out" 2>&1
check "hazmond -t accepts the test config" test $? = 0
notify_sync
check "hazmond -t sends no notification" no_notification

sed 's/log_level = "info";/log_level = "info"; bogus_key = 1;/' \
    "$T/hazmond.conf" >"$T/bad.conf"
NOTIFY_SOCKET=$NOTIFY_SOCK "$HAZMOND" -c "$T/bad.conf" -P "$PLUGIN_DIR" \
    >"$T/bad.out" 2>&1
check "an invalid config: hazmond exits 1" test $? = 1
notify_sync
check "an invalid config: no notification, no READY=1" no_notification

: >"$T/not-a-dir"
conf "$T/noledger.conf" "$T/not-a-dir/state"
NOTIFY_SOCKET=$NOTIFY_SOCK timeout 20 "$HAZMOND" -c "$T/noledger.conf" \
    -P "$PLUGIN_DIR" >"$T/noledger.out" 2>&1
check "a ledger that cannot be opened: hazmond exits 1" test $? = 1
notify_sync
check "a ledger that cannot be opened: no READY=1" not notified 'READY=1'
: >"$RUN"

# ---- a real start: READY=1 after the "started" line, live STATUS=, then
# STOPPING=1 on SIGTERM and exit 0.
spawn hazmond-sh env NOTIFY_SOCKET="$NOTIFY_SOCK" \
    sh -c 'exec "$1" -c "$2" -P "$3" >>"$4" 2>&1' sh \
    "$HAZMOND" "$T/hazmond.conf" "$PLUGIN_DIR" "$RUN"
HAZMOND_PID=$LAST_PID
check "READY=1 arrives" wait_for 10 notified 'READY=1'
ready=$(line_of '^notify\[[0-9]+\]: READY=1$')
started=$(line_of 'started: site ')
check "READY=1 comes after the \"started\" log line" \
    test -n "$started" -a -n "$ready" -a "${started:-0}" -lt "${ready:-0}"
check "READY=1 is sent once" test "$(n_notified 'READY=1')" = 1
check "STATUS= summarizes sensors, buses and destinations" \
    wait_for 12 notified 'STATUS=2 sensors on 1 buses; 1/1 MQTT destinations connected; .*'
sim set 1 holding 0 25.0 float32 CDAB
check "STATUS= follows the daemon: 1 event since start" \
    wait_for 12 notified 'STATUS=.*[^0-9]1 events? since start.*'
check "no STOPPING=1 while running" not notified 'STOPPING=1'

kill -TERM "$HAZMOND_PID"
check "SIGTERM: STOPPING=1 arrives" wait_for 10 notified 'STOPPING=1'
check "SIGTERM: hazmond exits within 10 s" wait_exit "$HAZMOND_PID" 10
wait "$HAZMOND_PID"; rc=$?; forget_pid "$HAZMOND_PID"
check "SIGTERM: exit status 0" test "$rc" = 0
check "STOPPING=1 comes after READY=1" \
    test "$(line_of '^notify\[[0-9]+\]: STOPPING=1$')" -gt "$ready"
notify_sync
check "no READY=1 after STOPPING=1" test "$(n_notified 'READY=1')" = 1

# ---- the watchdog: fed while the bus workers progress, withheld when one
# is stuck in a blocking call (a test hook makes bus line1's worker hang).
: >"$RUN"
spawn hazmond-wd env NOTIFY_SOCKET="$NOTIFY_SOCK" WATCHDOG_USEC=1000000 \
    sh -c 'exec "$1" -c "$2" -P "$3" >>"$4" 2>&1' sh \
    "$HAZMOND" "$T/hazmond.conf" "$PLUGIN_DIR" "$RUN"
WD_PID=$LAST_PID
wd_n_ge() { [ "$(n_notified 'WATCHDOG=1')" -ge "$1" ]; }
check "watchdog: WATCHDOG=1 twice per WATCHDOG_USEC while polling" wait_for 5 wd_n_ge 6
stop_pid "$WD_PID"; forget_pid "$WD_PID"
: >"$RUN"
spawn hazmond-hang env NOTIFY_SOCKET="$NOTIFY_SOCK" WATCHDOG_USEC=1000000 \
    HAZMOND_TEST_HANG_BUS=line1 \
    sh -c 'exec "$1" -c "$2" -P "$3" >>"$4" 2>&1' sh \
    "$HAZMOND" "$T/hazmond.conf" "$PLUGIN_DIR" "$RUN"
HANG_PID=$LAST_PID
check "watchdog: a stuck worker is named in the log" wait_for 10 grep -q \
    'bus line1: worker stuck in one poll for [0-9]* ms; withholding the watchdog' "$RUN"
n0=$(n_notified 'WATCHDOG=1')
sleep 2
check "watchdog: no WATCHDOG=1 while the worker is stuck (systemd restarts hazmond)" \
    test "$(n_notified 'WATCHDOG=1')" = "$n0"
# systemctl stop must not hang on it either (the worker is abandoned).
kill -TERM "$HANG_PID"
check "SIGTERM with a stuck worker: hazmond still exits, within 10 s" wait_exit "$HANG_PID" 10
wait "$HANG_PID" 2>/dev/null
check "... with status 0" test $? = 0
check "... naming the stuck bus" grep -q 'bus line1: worker stuck in a blocking call did not stop; abandoned' "$RUN"
stop_pid "$HANG_PID"; forget_pid "$HANG_PID"

# ---- the journal: when stderr is the journal (JOURNAL_STREAM names its
# device:inode, as systemd sets it), each message is one datagram of the
# native journal protocol with structured fields; HAZMOND_JOURNAL_SOCKET
# points hazmond at our receiver instead of journald.
JRN=$T/journal.out
: >"$JRN"
start_dgram journal "$T/journal.sock" "$JRN"
conf "$T/hazmond-j.conf" "$T/state-j"	# a fresh ledger: no alarm standing
sim set 1 holding 0 5.0 float32 CDAB
: >"$T/hazmond-j.log"
spawn hazmond-j env JOURNAL_STREAM="$(stat -c '%d:%i' "$T/hazmond-j.log")" \
    HAZMOND_JOURNAL_SOCKET="$T/journal.sock" \
    "$HAZMOND" -c "$T/hazmond-j.conf" -P "$PLUGIN_DIR"
J_PID=$LAST_PID
# jfield N KEY=VALUE: datagram N of the journal receiver has that field.
jfield() { grep -qx "journal\[$1\]: $2" "$JRN"; }
# jmsg REGEX: the number of the first datagram whose MESSAGE matches.
jmsg() { grep -m 1 -E "^journal\[[0-9]+\]: MESSAGE=$1" "$JRN" | sed 's/^journal\[\([0-9]*\)\].*/\1/'; }
has_jmsg() { [ -n "$(jmsg "$1")" ]; }
wait_for 10 has_jmsg 'started: ' || bail "no start-up message in the journal"
sim set 1 holding 0 30.0 float32 CDAB
check "journal: an event arrives as a datagram" wait_for 10 has_jmsg 'event seq [0-9]+: sensor ch4-tank-a alarm first raised'
n=$(jmsg 'event seq [0-9]+: sensor ch4-tank-a alarm first raised')
seq=$(grep -m 1 "^journal\[$n\]: MESSAGE=" "$JRN" | sed 's/.*event seq \([0-9]*\):.*/\1/')
check "journal: the event's SENSOR= field" jfield "$n" 'SENSOR=ch4-tank-a'
check "journal: the event's EVENT_SEQ= field" jfield "$n" "EVENT_SEQ=$seq"
check "journal: PRIORITY=5 (notice) and SYSLOG_IDENTIFIER=hazmond" \
    sh -c "grep -qx 'journal\[$n\]: PRIORITY=5' '$JRN' && grep -qx 'journal\[$n\]: SYSLOG_IDENTIFIER=hazmond' '$JRN'"
sim fault 1 noreply
check "journal: a failing slave arrives as a warning" wait_for 10 has_jmsg 'bus line1 slave 1 holding'
n=$(jmsg 'bus line1 slave 1 holding')
check "journal: ... with BUS= and SLAVE=" sh -c \
    "grep -qx 'journal\[$n\]: BUS=line1' '$JRN' && grep -qx 'journal\[$n\]: SLAVE=1' '$JRN' && grep -qx 'journal\[$n\]: PRIORITY=4' '$JRN'"
sim fault 1 none
sim set 1 holding 0 5.0 float32 CDAB
check "journal: nothing went to stderr while the journal took it" \
    not grep -q 'event seq' "$T/hazmond-j.log"
stop_pid "$J_PID"; forget_pid "$J_PID"

# ---- make install DESTDIR=... from the build tree
# The nested make must not inherit the jobserver of a surrounding make check.
unset MAKEFLAGS MFLAGS MAKELEVEL
MK() { make -s -C "$top_builddir" "$@"; }
printf 'hz-print-dirs:\n' >"$T/dirs.mk"
for v in prefix bindir sbindir sysconfdir pkglibdir includedir libdir \
    mandir docdir systemdsystemunitdir sysusersdir; do
	printf '\t@echo "%s=$(%s)"\n' "$v" "$v" >>"$T/dirs.mk"
done
MK -f Makefile -f "$T/dirs.mk" hz-print-dirs >"$T/dirs" 2>"$T/dirs.err" ||
    bail "cannot read the install directories from $top_builddir/Makefile"
dir() { sed -n "s|^$1=||p" "$T/dirs"; }
D=$T/inst
unit=$D$(dir systemdsystemunitdir)/hazmond.service
example=$D$(dir sysconfdir)/hazmon/hazmond.conf.example
mine=$D$(dir sysconfdir)/hazmon/hazmond.conf
mkdir -p "$(dirname "$mine")"
echo "# the operator's own config" >"$mine"

MK install DESTDIR="$D" >"$T/install.log" 2>&1
check "make install DESTDIR=... succeeds" test $? = 0
for f in "$(dir sbindir)/hazmond" "$(dir bindir)/hazmon-sim" \
    "$(dir bindir)/hazmonctl"; do
	check "installed and executable: $f" test -x "$D$f" -a -f "$D$f"
done
for f in "$(dir pkglibdir)"/{gas,smoke,temperature,generic}.so \
    "$(dir includedir)/hazmon-plugin.h" \
    "$(dir libdir)/pkgconfig/hazmon-plugin.pc" \
    "$(dir systemdsystemunitdir)/hazmond.service" \
    "$(dir sysusersdir)/hazmon.conf" \
    "$(dir sysconfdir)/hazmon/hazmond.conf.example" \
    "$(dir mandir)/man8/hazmond.8" "$(dir mandir)/man5/hazmond.conf.5" \
    "$(dir mandir)/man1/hazmon-sim.1" "$(dir mandir)/man1/hazmonctl.1" \
    "$(dir docdir)/control.md"; do
	check "installed: $f" test -s "$D$f"
done
check "an existing hazmond.conf is left alone" \
    grep -qx "# the operator's own config" "$mine"
"$D$(dir sbindir)/hazmond" -t -c "$example" -P "$D$(dir pkglibdir)" \
    >"$T/example.out" 2>&1
check "the installed hazmond and plugins accept the installed example" \
    test $? = 0

# ---- the installed unit
check "unit: Type=notify" grep -qx 'Type=notify' "$unit"
check "unit: ExecStart runs the installed daemon on the installed config" \
    grep -qx "ExecStart=$(dir sbindir)/hazmond -c $(dir sysconfdir)/hazmon/hazmond.conf" "$unit"
check "unit: ExecStartPre validates the config first" \
    grep -qx "ExecStartPre=$(dir sbindir)/hazmond -t -c $(dir sysconfdir)/hazmon/hazmond.conf" "$unit"
check "unit: ExecReload sends SIGHUP (a validated reload)" \
    grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' "$unit"
# Installed before it is configured (the Debian package enables it), the
# service waits for the operator's config: systemd evaluates the unit's
# own condition here, pointed at the DESTDIR copy of the config.
cond=$(sed -n "s|^ConditionPathExists=$(dir sysconfdir)/|ConditionPathExists=$D$(dir sysconfdir)/|p" "$unit")
check "unit: ConditionPathExists= names the installed config" \
    test "$cond" = "ConditionPathExists=$mine"
if ! command -v systemd-analyze >/dev/null; then
	ok "unit: no start without the config # SKIP systemd-analyze is not installed"
	ok "unit: a start once the config exists # SKIP systemd-analyze is not installed"
else
	cond_holds() { systemd-analyze condition "$cond" >"$T/cond.out" 2>&1; }
	mv "$mine" "$mine.away"
	check "unit: no start without the config (its condition fails)" \
	    not cond_holds
	mv "$mine.away" "$mine"
	check "unit: a start once the config exists (its condition holds)" \
	    cond_holds
fi
check "unit: every @variable@ was substituted" not grep -q '@[a-z_]*@' "$unit"
runs_as_hazmon() {
	grep -qx 'User=hazmon' "$unit" && grep -qx 'Group=hazmon' "$unit" &&
	    grep -qx 'SupplementaryGroups=dialout' "$unit"
}
check "unit: runs as hazmon with dialout" runs_as_hazmon
# WatchdogSec= without WATCHDOG=1 from the daemon would kill it.
if grep -rq --include="*.c" 'WATCHDOG=1' "$top_srcdir"/daemon; then
	check "unit: WatchdogSec= is set (hazmond feeds the watchdog)" \
	    grep -q '^WatchdogSec=' "$unit"
else
	check "unit: no WatchdogSec= (hazmond does not feed a watchdog yet)" \
	    not grep -q '^WatchdogSec=' "$unit"
fi

# systemd-analyze checks that ExecStart= is executable: point it at the
# DESTDIR copy.  With man(1) at hand, the man pages named in
# Documentation= are looked up among the installed ones too.
mkdir -p "$T/verify"
sed "s|=$(dir sbindir)/|=$D$(dir sbindir)/|" "$unit" >"$T/verify/hazmond.service"
MANPATH=$D$(dir mandir) analyze_unit "$T/verify/hazmond.service" 20

if ! command -v systemd-sysusers >/dev/null; then
	ok "sysusers.d creates the hazmon user # SKIP systemd-sysusers is not installed"
else
	mkdir -p "$T/sysroot/etc"
	systemd-sysusers --root="$T/sysroot" "$D$(dir sysusersdir)/hazmon.conf" \
	    >"$T/sysusers.out" 2>&1
	check "sysusers.d creates the hazmon user, home /var/lib/hazmon" \
	    grep -q '^hazmon:x:[0-9]*:[0-9]*:[^:]*:/var/lib/hazmon:' "$T/sysroot/etc/passwd"
	check "sysusers.d puts hazmon in dialout" \
	    grep -qE '^dialout:x:[0-9]+:(.*,)?hazmon(,|$)' "$T/sysroot/etc/group"
fi

MK uninstall DESTDIR="$D" >"$T/uninstall.log" 2>&1
check "make uninstall DESTDIR=... succeeds" test $? = 0
check "make uninstall leaves only the operator's hazmond.conf" \
    test "$(find "$D" -type f)" = "$mine"
done_testing
