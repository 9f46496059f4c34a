#!/bin/bash
# The bridge topology of docs/deployment.md (issue 17, part 5), with real
# processes: hazmond -> site Mosquitto (persistence) -> bridge with a
# persistent session -> central Mosquitto (persistence) -> hazmon-watch
# (persistent session, fixed client id).  While alarms flap, the central
# broker and the site broker (the bridge) are restarted on their ports with
# their persistence files: every seq of the ledger reaches hazmon-watch
# exactly once, none had to be asked for again, and it exits 0.  Then the
# negative of the page: a bridge with cleansession true loses what comes
# while the central broker is away, and hazmon-watch gets it back by replay.
. "$top_srcdir/tests/lib.sh"
HAZMON_WATCH=$top_builddir/hazmon-watch
N=10				# sensors: a round is 20 events

mkdir -p "$T/central" "$T/site" || bail "cannot make the persistence dirs"
# The central broker: keeps its sessions and their queues across restarts.
BROKER_CONF="allow_anonymous true
persistence true
persistence_location $T/central/
autosave_interval 60" start_broker
CENTRAL=$BROKER_PORT CENTRAL_PID=$BROKER_PID

# The site broker: the bridge of docs/deployment.md (restart_timeout 1:
# the test cannot wait the default 5 to 30 s for each reconnection).
BROKER_CONF="allow_anonymous true
persistence true
persistence_location $T/site/
autosave_interval 60
connection central
address 127.0.0.1:$CENTRAL
cleansession false
local_clientid burst-bridge-local
remote_clientid burst-bridge
restart_timeout 1
topic hazmon/# out 1
topic hazmon/burst/command/replay in 1" start_broker
SITE=$BROKER_PORT SITE_PID=$BROKER_PID
start_sub "$T/all.out"		# what the site broker got from hazmond
start_replay_site $N 200	# hazmond, its one destination the site broker

# bridges C: how often the bridge connected to the central broker with
# clean session C (0 or 1), as the central broker's logs say (every run
# has its own): a count, so a wait sees this connection, not an old one.
bridges() {
	cat "$T/mosquitto-$CENTRAL"*.log 2>/dev/null |
	    grep -c "New bridge connected from .* as burst-bridge (p2, c$1,"
}
more_bridges() { [ "$(bridges "$1")" -gt "$2" ]; }	# more_bridges C N
wait_for 20 more_bridges 0 0 || bail "the bridge did not connect"

EV=$T/events.jsonl
watch_start() {	# watch_start LOGNAME [OPTION]
	spawn "$1" "$HAZMON_WATCH" -h 127.0.0.1 -p "$CENTRAL" -i bureau-central \
	    -t 'hazmon/+' --json -o "$EV" -s "$T/watch.state" --timeout 5 ${2:-}
	W_PID=$LAST_PID
	wait_for 10 grep -q 'connected to 127.0.0.1' "$T/$1.log" ||
	    bail "hazmon-watch did not connect"
}
# The ledger's seqs, one a line.
ledger_seqs() {
	sqlite3 "$T/state/ledger.db" 'SELECT seq FROM events ORDER BY seq'
}
# watch_has_ledger: hazmon-watch printed every seq the ledger holds.
watch_has_ledger() {
	[ -s "$EV" ] && ledger_seqs >"$T/ledger.seqs" &&
	    jq -r .seq "$EV" | sort -n -u | diff -q - "$T/ledger.seqs" >/dev/null
}
# has_range FILE FROM TO: every seq FROM..TO arrived in FILE.
has_range() {
	[ "$(seqs "$1" | sort -n -u | awk -v a="$2" -v b="$3" '$1 >= a && $1 <= b' |
	    wc -l)" = $(($3 - $2 + 1)) ]
}
once_each() { [ -z "$(jq -r .seq "$EV" | sort -n | uniq -d)" ]; }
connections() { grep -c 'mqtt dest1: connected to' "$T/hazmond.log"; }

# In parts 1 and 2 hazmon-watch asks for no replay (a gap would count as
# lost at once): what it gets, the brokers and the bridge carried.
watch_start w1 --no-replay
wait_for 10 grep -q 'site burst: online' "$T/w1.log" ||
    bail "hazmon-watch did not see the site online through the bridge"

# 1. Alarms flap (240 events, ~11 s); meanwhile the central broker and
# then the site broker are restarted, each on its port and persistence.
BURST_PAUSE=0.45 burst 12 $N
wait_for 20 n_seqs_ge "$T/all.out" 40 || bail "no events at the site broker"
b=$(bridges 0)
restart_broker "$CENTRAL_PID" "$CENTRAL"; CENTRAL_PID=$BROKER_PID
check "the bridge connects again to the restarted central broker" wait_for 20 more_bridges 0 "$b"
wait_for 30 n_seqs_ge "$T/all.out" 120 || bail "the events stopped"
# restart_site OUT: the site broker again, a new subscriber on it, and
# hazmond connected to it again.
restart_site() {
	local before
	before=$(connections)
	stop_pid "$SUB_PID"; forget_pid "$SUB_PID"
	restart_broker "$SITE_PID" "$SITE"; SITE_PID=$BROKER_PID
	start_sub "$1"
	wait_for 20 sh -c "[ \$(grep -c 'mqtt dest1: connected to' '$T/hazmond.log') -gt $before ]"
}
b=$(bridges 0)
check "hazmond connects again to the restarted site broker" restart_site "$T/site2.out"
check "... and the bridge to the central broker" wait_for 20 more_bridges 0 "$b"
# 2. The central broker away while alarms flap (120 events): the site
# broker queues them for the bridge's session, and keeps that queue across
# its own restart, in its persistence file.
wait_for 30 logged_seq_ge 240 "$T/hazmond.log" || bail "the flapping did not end"
stop_pid "$CENTRAL_PID"; forget_pid "$CENTRAL_PID"
BURST_PAUSE=0.45 burst 6 $N
wait_for 30 n_seqs_ge "$T/site2.out" 40 || bail "no events at the site broker"
check "hazmond connects to the site broker restarted with the bridge's queue" \
    restart_site "$T/site3.out"
b=$(bridges 0)
restart_broker "$CENTRAL_PID" "$CENTRAL"; CENTRAL_PID=$BROKER_PID
check "the bridge connects again to the central broker" wait_for 20 more_bridges 0 "$b"
wait_for 60 logged_seq_ge 360 "$T/hazmond.log" || bail "the flapping did not end"
wait_quiet 20 "$T/hazmond.log"

check "hazmon-watch gets every seq the ledger holds" wait_for 30 watch_has_ledger
check "... 360 of them" test "$(wc -l <"$T/ledger.seqs")" = 360
check "... each exactly once" once_each
check "... none by replay: the brokers and the bridge lost nothing" \
    not grep -q 'replay of seq' "$T/hazmond.log"
check "... across two losses of its connection to the central broker" \
    test "$(grep -c 'connected to 127.0.0.1' "$T/w1.log")" = 3
watch_stop
check "hazmon-watch exits 0" test "$W_RC" = 0
check "... and its summary reports no loss" \
    grep -q -E '^burst +online +[0-9]+ +360 .* 0 +0$' "$T/w1.log"

# 3. The negative: the bridge with cleansession true, the central broker
# away while alarms come.  The site broker keeps nothing for such a bridge:
# those events are lost on the way, and hazmon-watch fills the gap by
# replay once later events show it.
sed -i 's/^cleansession false$/cleansession true/' "$T/mosquitto-$SITE.conf"
restart_site "$T/site4.out" || bail "hazmond did not connect again"
check "the bridge connects with a clean session now" wait_for 20 more_bridges 1 0
watch_start w2
stop_pid "$CENTRAL_PID"; forget_pid "$CENTRAL_PID"
BURST_PAUSE=0.3 burst 2 $N
check "the site broker gets seq 361 to 400 while the central one is away" \
    wait_for 30 has_range "$T/site4.out" 361 400
wait_quiet 20 "$T/hazmond.log"
b=$(bridges 1)
restart_broker "$CENTRAL_PID" "$CENTRAL"; CENTRAL_PID=$BROKER_PID
wait_for 20 more_bridges 1 "$b" || bail "the clean bridge did not connect again"
start_sub "$T/central.out"	# the replay requests on the central broker
BURST_PAUSE=0.3 burst 1 $N
wait_for 30 logged_seq_ge 420 "$T/hazmond.log" || bail "no events after the outage"
# hazmon-watch asks from 361: for the gap the next events show, or for
# what follows its last seq once the site is quiet after its reconnect,
# whichever comes first (the bridge may be back by then or not).
check "hazmon-watch asks for seq 361 on, and hazmond gets it over the bridge" \
    wait_for 30 grep -q -E \
    "replay of seq 361 to [0-9]+ requested by broker 127.0.0.1:$SITE .*: accepted" "$T/hazmond.log"
check "... and hazmon-watch gets every seq the ledger holds" wait_for 60 watch_has_ledger
check "... 361 to 400 only by that replay: the bridge lost them" jq_true -s \
    'map(select(.seq >= 361 and .seq <= 400)) | (length == 40) and all(.replayed)' "$EV"
# requests FILE: the request_id of every replay request in FILE, sorted.
requests() { grep '^hazmon/burst/command/replay ' "$1" | cut -d' ' -f2- |
    jq -r .request_id | sort; }
# (the site broker may have more: those sent before central.out started)
check "... each request once on either broker: the bridge makes no loop" \
    test -n "$(requests "$T/central.out")" -a \
    "$(requests "$T/central.out" | uniq -d)$(requests "$T/site4.out" | uniq -d)" = "" -a \
    -z "$(requests "$T/central.out" | comm -23 - <(requests "$T/site4.out"))"
check "... each exactly once" once_each
watch_stop
check "hazmon-watch exits 0: the replay filled what the bridge lost" test "$W_RC" = 0

done_testing
