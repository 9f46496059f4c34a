#!/bin/bash
# quickstart.sh - the README's two commands on a fresh Debian 12 machine.
#
#   bash contrib/quickstart.sh demo   install what is missing, build, run the demo
#   bash contrib/quickstart.sh test   install what is missing, build, run every test
#                                     (plain build and ASan/UBSan build, where
#                                     the fuzz targets run too, then make
#                                     distcheck as one more test); the last
#                                     line is "N passed, N failed"
set -euo pipefail
cd "$(dirname "$0")/.."

DEPS="build-essential autoconf automake libtool pkg-config
  libmodbus-dev libmosquitto-dev libconfig-dev libsystemd-dev libjansson-dev
  libsqlite3-dev libcmocka-dev mosquitto mosquitto-clients jq procps
  socat openssl strace systemd sqlite3 python3 python3-pymodbus python3-serial
  python3-serial-asyncio python3-jsonschema python3-paho-mqtt clang
  libclang-rt-14-dev
  libmicrohttpd-dev chromium chromium-driver prometheus curl"

install_deps() {
	local missing=() p
	for p in $DEPS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		    missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "== installing: ${missing[*]}"
	local sudo=""
	[ "$(id -u)" = 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# build DIR [CONFIGURE ARGS...]: an out-of-tree build, so several can coexist.
build() {
	local dir=$1; shift
	[ -x configure ] || autoreconf -fi >/dev/null
	mkdir -p "$dir"
	(cd "$dir" && { [ -f Makefile ] || ../configure -q "$@"; } &&
	    make -j"$(nproc)" >/dev/null)
}

# run_tests DIR LABEL: make check; sets PASSED/FAILED/SKIPPED.
run_tests() {
	local dir=$1 label=$2 out rc=0
	out=$(mktemp)
	(cd "$dir" && make -j"$(nproc)" check) >"$out" 2>&1 || rc=$?
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$out" || true
	if [ "$rc" != 0 ]; then
		find "$dir/tests" -name '*.log' -newer "$out" -print0 2>/dev/null |
		    xargs -0 -r grep -l -E '^(not ok|Bail out)' |
		    while read -r f; do echo "---- $f"; tail -n 60 "$f"; done
	fi
	num() { grep -E "^# $1: " "$out" | awk '{s += $3} END {print s + 0}'; }
	PASSED=$(num PASS)
	FAILED=$(( $(num FAIL) + $(num ERROR) + $(num XPASS) ))
	SKIPPED=$(num SKIP)
	# make check failing for another reason (a build error) is a failure too.
	[ "$rc" = 0 ] || [ "$FAILED" -gt 0 ] || FAILED=1
	echo "== $label: $PASSED passed, $FAILED failed, $SKIPPED skipped"
	rm -f "$out"
}

# run_distcheck: make distcheck in a fresh directory (the tarball builds
# from a read-only source tree, passes the plain test suite, installs under
# DESTDIR and uninstalls cleanly); counts as one test in PASSED/FAILED.
run_distcheck() {
	local top=$PWD dir rc=0
	dir=$(mktemp -d /tmp/hazmon-distcheck.XXXXXX)
	(cd "$dir" && "$top/configure" -q && make -j"$(nproc)" distcheck) \
	    >"$dir/distcheck.log" 2>&1 || rc=$?
	if [ "$rc" = 0 ]; then
		echo "PASS: make distcheck"
		PASSED=1 FAILED=0
		rm -rf "$dir"
	else
		echo "FAIL: make distcheck (log in $dir/distcheck.log)"
		grep -E '^(FAIL|ERROR):' "$dir/distcheck.log" || true
		tail -n 40 "$dir/distcheck.log"
		PASSED=0 FAILED=1
	fi
}

case "${1:-}" in
demo)
	install_deps
	build _build
	exec bash contrib/demo.sh _build
	;;
test)
	install_deps
	build _build
	build _build-asan --enable-sanitizers
	run_tests _build "plain build"
	p=$PASSED f=$FAILED
	run_tests _build-asan "ASan/UBSan build"
	p=$((p + PASSED)) f=$((f + FAILED))
	run_distcheck
	p=$((p + PASSED)) f=$((f + FAILED))
	echo "$p passed, $f failed"
	[ "$f" = 0 ]
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
