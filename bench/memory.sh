#!/bin/bash
# bench/memory.sh - where hazmond's memory goes: DEVICES simulated Modbus TCP
# devices x REGS registers (every register a sensor, polled every second),
# measured after WARMUP seconds: peak RSS (VmHWM), RSS, PSS and private
# memory, threads, and RSS / private dirty per mapping (each shared
# library, the heap, anonymous memory: thread stacks and malloc arenas).
#
#   bash bench/memory.sh [BUILD_DIR]          (default _build)
#   DEVICES=200 REGS=50 WARMUP=20              (environment knobs; 10,000 channels)
#   DEVICES=50 REGS=10                          (the peer run's S1 load)
#   HAZMOND_ENV="MALLOC_ARENA_MAX=1"            (environment for hazmond)
#   LABEL="of bf1d573"                          (the build's commit, when BUILD_DIR
#                                               is not this tree's)
#   HAZMOND_WRAP="valgrind --tool=massif --massif-out-file=/tmp/m.out"
#                                               (who allocates the heap; the
#                                               figures are then valgrind's)
# Appends a table to bench/results/memory.md.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
export top_srcdir=$top top_builddir=$(cd "${1:-$top/_build}" && pwd)
. "$top/tests/lib.sh"
. "$top/bench/lib.sh"
DEVICES=${DEVICES:-200} REGS=${REGS:-50} WARMUP=${WARMUP:-20}

start_broker
bench_sim "$DEVICES" "$REGS"
bench_conf "$T/h.conf" "$DEVICES" "$REGS" true "$T/state"
# The real binary, not libtool's wrapper script: its pid is the one measured.
bin=$top_builddir/.libs/hazmond
[ -x "$bin" ] || bin=$HAZMOND
spawn hazmond env ${HAZMOND_ENV:-} ${HAZMOND_WRAP:-} "$bin" -c "$T/h.conf" -P "$PLUGIN_DIR"
pid=$LAST_PID
sleep "$WARMUP"
kill -0 "$pid" 2>/dev/null || bail "hazmond died: $(tail -3 "$T/hazmond.log")"
st=/proc/$pid/status
kb() { awk -v k="$1:" '$1 == k { print $2 }' "$st"; }
HWM=$(kb VmHWM) RSS=$(kb VmRSS) THR=$(kb Threads)
read -r PSS PRIV < <(awk '/^Pss:/ { p = $2 } /^Private_(Clean|Dirty):/ { q += $2 }
    END { print p, q }' "/proc/$pid/smaps_rollup")
# Anonymous mappings by kind: 256 KiB ones are bus workers' stacks (bus.c),
# the 8 MiB one the core's, 64 MiB reservations malloc's per-thread arenas.
MAPS=$(/usr/bin/python3 - "/proc/$pid/smaps" <<'PYEOF'
import re, sys, collections
rss, dirty, cur = collections.Counter(), collections.Counter(), None
for line in open(sys.argv[1]):
    m = re.match(r'([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)', line)
    if m:
        kib = (int(m.group(2), 16) - int(m.group(1), 16)) // 1024
        name = m.group(3).strip().rsplit('/', 1)[-1]
        if not name:
            name = ('[anon: worker stacks]' if kib in (256, 260) else
                    '[anon: core stack]' if kib == 8192 else
                    '[anon: malloc arenas]' if kib >= 60000 else '[anon: other]')
        cur = name
    elif line.startswith('Rss:'):
        rss[cur] += int(line.split()[1])
    elif line.startswith('Private_Dirty:'):
        dirty[cur] += int(line.split()[1])
for n, v in rss.most_common():
    if v >= 64:
        print(f'| {n} | {v} | {dirty[n]} |')
PYEOF
)
stop_pid "$pid"
mib() { echo "scale=1; $1 / 1024" | bc; }

mkdir -p "$top/bench/results"
{
	echo
	echo "## $(date -u +%Y-%m-%dT%H:%M:%SZ) $DEVICES devices x $REGS registers, 1 s, after ${WARMUP} s${HAZMOND_ENV:+ ($HAZMOND_ENV)}"
	echo
	echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); hazmond $("$HAZMOND" --version | cut -d' ' -f2), build ${LABEL:-of $(git -C "$top" rev-parse --short HEAD)} ($top_builddir)"
	echo
	echo "| peak RSS MiB | RSS MiB | PSS MiB | private MiB | threads |"
	echo "|---|---|---|---|---|"
	echo "| $(mib "$HWM") | $(mib "$RSS") | $(mib "$PSS") | $(mib "$PRIV") | $THR |"
	echo
	echo "| mapping | RSS KiB | private dirty KiB |"
	echo "|---|---|---|"
	echo "$MAPS"
} | tee -a "$top/bench/results/memory.md"
