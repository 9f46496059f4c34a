#!/bin/bash
# Issue 17's acceptance, as a bureau runs it: one hazmon-watch for three
# sites (hazmon/+) on the bureau's broker, away while alarms flow at all
# three, behind a broker that keeps only 10 messages for its session.
# Back, it gets every event of every site exactly once, by asking each
# site for what it missed, without anyone touching the sites; its summary
# lists the three sites online, and it exits 0.
. "$top_srcdir/tests/lib.sh"
HAZMON_WATCH=$top_builddir/hazmon-watch
N=5				# sensors per site: a round is 10 events a site
SITES="north south east"

BROKER_CONF="allow_anonymous true
persistence false
max_queued_messages 10" start_broker
start_sub "$T/all.out"
printf 'unit 1\nunit 2\nunit 3\n' >"$T/units.sim"
start_sim 0 "$T/units.sim"
u=0
for s in $SITES; do
	u=$((u + 1))
	burst_conf "$T/$s.conf" $N "$BROKER_PORT"
	sed -i -e "s|id = \"burst\"|id = \"$s\"|" -e "s|$T/state\"|$T/state-$s\"|" \
	    -e "s|slave = 1;|slave = $u;|" \
	    -e 's|keepalive = 5; }|keepalive = 5; replay = true; replay_rate = 500; }|' \
	    "$T/$s.conf"
	start_hazmond "$T/$s.conf" "hazmond-$s"
done
online() { for s in $SITES; do grep -q "^hazmon/$s/status {\"state\":\"online\"" "$T/all.out" || return 1; done; }
wait_for 20 online || bail "the three sites are not online"

# rounds R: every sensor of every site raises and clears R times.
rounds() {
	local r i u
	for r in $(seq "$1"); do
		for u in 1 2 3; do for i in $(seq 0 $((N - 1))); do echo "set $u holding $i 60"; done; done
		echo "sleep 0.3"
		for u in 1 2 3; do for i in $(seq 0 $((N - 1))); do echo "set $u holding $i 0"; done; done
		echo "sleep 0.3"
	done >"$SIM_FIFO"
}
ledger() { sqlite3 "$T/state-$1/ledger.db" 'SELECT seq FROM events ORDER BY seq'; }
EV=$T/events.jsonl
# got_all NORTH OTHERS: each site's ledger holds at least that many events
# (north, the others), and hazmon-watch printed every seq they hold.  The
# counts keep it from passing before a site's events are even recorded.
got_all() {
	local s min
	for s in $SITES; do
		min=$2; [ "$s" = north ] && min=$1
		ledger "$s" >"$T/ledger-$s" || return 1
		[ "$(wc -l <"$T/ledger-$s")" -ge "$min" ] || return 1
		jq -r --arg s "$s" 'select(.site == $s) | .seq' "$EV" 2>/dev/null |
		    sort -n -u | diff -q - "$T/ledger-$s" >/dev/null || return 1
	done
}
watch_start() {
	spawn "$1" "$HAZMON_WATCH" -h 127.0.0.1 -p "$BROKER_PORT" -i bureau-3 \
	    -t 'hazmon/+' --json -o "$EV" -s "$T/watch.state" --timeout 5
	W_PID=$LAST_PID
	wait_for 10 grep -q 'connected to 127.0.0.1' "$T/$1.log" || bail "hazmon-watch did not connect"
}
all_sites_quiet() { for s in $SITES; do wait_quiet 20 "$T/hazmond-$s.log" || return 1; done; }

# 0. Present while only north raises and clears one alarm: south and
# east are known from their status alone when the state is saved, and
# that state must load again (it once was "damaged", and hazmon-watch
# would not start).
watch_start w0
echo "set 1 holding 0 60" >"$SIM_FIFO"
wait_for 20 sh -c "[ \$(jq -r 'select(.site == \"north\") | .seq' '$EV' 2>/dev/null | wc -l) -ge 1 ]" ||
    bail "north's alarm did not arrive"
echo "set 1 holding 0 0" >"$SIM_FIFO"
check "hazmon-watch gets north's alarm and its clearing" wait_for 20 got_all 2 0
watch_stop
check "... and exits 0" test "$W_RC" = 0

# 1. Back for a round: it learns the other two sites.
watch_start w1
rounds 1
check "hazmon-watch gets the first round of all three sites" wait_for 20 got_all 12 10
watch_stop
check "... and exits 0" test "$W_RC" = 0

# 2. Away while 20 rounds flow (200 events a site, 600 more in all).
rounds 20
wait_for 60 sh -c "[ \$(grep -c '^hazmon/[^ ]*/events/' '$T/all.out') -ge 632 ]" ||
    bail "the 632 events did not reach the broker"
all_sites_quiet || bail "the sites did not settle"
watch_start w2
check "back, it gets every event the three ledgers hold" wait_for 60 got_all 212 210
check "... $(cat "$T"/ledger-* | wc -l) of them, 210 a site and north's 2" \
    test "$(cat "$T"/ledger-north "$T"/ledger-south "$T"/ledger-east | wc -l)" = 632
check "... each exactly once" \
    test -z "$(jq -r '"\(.site) \(.seq)"' "$EV" | sort | uniq -d)"
for s in $SITES; do
	check "... site $s asked for what it missed, by hazmon-watch" \
	    grep -q 'replay of seq [0-9]* to [0-9]* requested by broker' "$T/hazmond-$s.log"
done
watch_stop
check "hazmon-watch exits 0: nothing lost" test "$W_RC" = 0
for s in $SITES; do
	n=210; [ "$s" = north ] && n=212
	check "... its summary has site $s online, last seq $n" \
	    grep -q -E "^$s +online +[0-9]+ +$n " "$T/w2.log"
done
done_testing
