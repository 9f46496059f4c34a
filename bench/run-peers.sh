#!/bin/bash
# bench/run-peers.sh - run ../shared/bench-peers with hazmond added as a peer.
#
# The shared harness is read-only, so it is copied to a temporary directory
# together with bench/peers/hazmond.peer.sh; results land in bench/results/.
# Needs the harness's own dependencies (see its README: collectd-core,
# python3-pymodbus, Node-RED under NODE_PREFIX) and a build of hazmond:
#
#   HAZMOND_BUILD=_build NODE_PREFIX=/path/to/node bash bench/run-peers.sh
#   PEERS=hazmond S1_SECONDS=20 REPS=5 bash bench/run-peers.sh     # quick look
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export HAZMOND_BUILD=$(cd "${HAZMOND_BUILD:-$top/_build}" && pwd)
harness=$(cd "$top/../shared/bench-peers" && pwd)
work=$(mktemp -d /tmp/hazmon-bench-peers.XXXXXX)
trap 'rm -rf "$work"' EXIT

cp -r "$harness/." "$work/"
chmod -R u+w "$work"
cp "$top/bench/peers/hazmond.peer.sh" "$work/peers/"
make -s -C "$work" >/dev/null
export RESULTS_DIR=${RESULTS_DIR:-$top/bench/results}
export PEERS=${PEERS:-"collectd nodered hazmond"}
mkdir -p "$RESULTS_DIR"
bash "$work/run-peers.sh"

# hazmond's own split of its part (docs/control.md, publish_latency.stages),
# from the status it gave after each phase's alarm steps, appended to the
# results file the harness just wrote.
md=$(ls -t "$RESULTS_DIR"/peers-*.md 2>/dev/null | head -n 1)
raw=$(sed -n 's/^Raw data: //p' "$md" 2>/dev/null | tail -n 1)
if [ -n "$raw" ] && [ -n "$md" ] && ls "$raw"/hazmond/*/status.json >/dev/null 2>&1; then
	{
		echo
		echo "## hazmond: where its part of the time went (status, publish_latency.stages)"
		echo
		echo "Every event of the phase (the alarm steps' raises and clears), from the poll completing to the hand-over to libmosquitto; mean / max in ms."
		echo
		echo "| phase | events | total | queue | evaluate | record (ledger writes + commit) | hand_over |"
		echo "|---|---|---|---|---|---|---|"
		for f in "$raw"/hazmond/*/status.json; do
			jq -r --arg ph "$(basename "$(dirname "$f")")" '.destinations[0].publish_latency as $h |
			    $h.stages as $s | def ms(x): (x * 1000 * 100 | round) / 100;
			    ($s.count // 0) as $n | if $n == 0 then empty else
			    "| \($ph) | \($n) | \(ms($h.sum / $h.count)) | " +
			    ([ "queue", "evaluate", "record", "hand_over" ] |
			     map("\(ms($s.sum[.] / $n)) / \(ms($s.max[.]))") | join(" | ")) + " |" end' "$f"
		done
	} >>"$md"
fi
