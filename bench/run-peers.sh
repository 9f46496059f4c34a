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
