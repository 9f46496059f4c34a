#!/bin/bash
# quickstart.sh - the README's two commands on a fresh Debian 12 machine.
#
#   bash contrib/quickstart.sh demo   install what is missing, build, run the demo
#   bash contrib/quickstart.sh test   install what is missing, build, run every test
#                                     (plain build and ASan/UBSan build, where
#                                     the fuzz targets run too, then make
#                                     distcheck as one more test, then the
#                                     Debian packages: see run_deb); the last
#                                     line is "N passed, N failed"
set -euo pipefail
cd "$(dirname "$0")/.."

DEPS="build-essential autoconf automake libtool pkg-config
  libmodbus-dev libmosquitto-dev libconfig-dev libjansson-dev
  libsqlite3-dev libcmocka-dev mosquitto mosquitto-clients jq procps
  socat openssl strace systemd sqlite3 python3 python3-pymodbus python3-serial
  python3-serial-asyncio python3-jsonschema python3-paho-mqtt clang
  libclang-rt-14-dev debhelper lintian autopkgtest
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
	# -k: a test whose driver fails does not stop the others.
	(cd "$dir" && make -k -j"$(nproc)" check) >"$out" 2>&1 || rc=$?
	grep -E '^(PASS|FAIL|ERROR|XPASS|SKIP):' "$out" || true
	if [ "$rc" != 0 ]; then
		# Every test whose result is not PASS or SKIP, also one that
		# exited non-zero after its last "ok" (an ERROR without any
		# "not ok" line, e.g. a sanitizer report at exit).
		find "$dir/tests" -name '*.trs' -newer "$out" -print0 2>/dev/null |
		    xargs -0 -r grep -l -E '^:global-test-result: (FAIL|ERROR|XPASS)' |
		    while read -r f; do
			f=${f%.trs}.log
			echo "---- $f"; tail -n 60 "$f"
		    done
	fi
	num() { grep -E "^# $1: " "$out" | awk '{s += $3} END {print s + 0}'; }
	PASSED=$(num PASS)
	FAILED=$(( $(num FAIL) + $(num ERROR) + $(num XPASS) ))
	SKIPPED=$(num SKIP)
	# make check failing for another reason (a build error) is a failure
	# too, and what make said is shown.
	if [ "$rc" != 0 ] && [ "$FAILED" = 0 ]; then
		FAILED=1
		echo "---- make check exited with status $rc, all tests passed:"
		grep -v -E '^(PASS|SKIP):' "$out" | tail -n 40
	fi
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

# ---- run_deb: the Debian packages (issue 18, debian/README.Debian) as a
# new user gets them, on this machine: build them from a clean copy of the
# tree (DEB_BUILD_OPTIONS=nocheck: the suites above already ran make check
# on these sources), lintian, apt-get install ./...deb, the user and the
# unit, hazmond -t on the installed example, the autopkgtests
# (debian/tests) on the installed packages, hazmond run as hazmon on an
# operator's /etc/hazmon/hazmond.conf with its ledger in /var/lib/hazmon,
# an upgrade to a rebuilt package (config and ledger kept), remove (ledger
# kept) and purge (all gone).  Each check is one PASS or FAIL line in
# PASSED/FAILED.  A trap leaves the machine as it was, also on failure:
# processes stopped by PID, packages purged, a user it made removed.
DEB_N=0 DEB_F=0 DEB_PIDS=""
deb_check() {	# deb_check DESCRIPTION CMD...
	local d=$1; shift
	DEB_N=$((DEB_N + 1))
	if "$@"; then echo "PASS: deb: $d"; else echo "FAIL: deb: $d"; DEB_F=$((DEB_F + 1)); fi
}
deb_wait() {	# deb_wait SECONDS CMD...: retry CMD every 0.1 s
	local i n=$(($1 * 10)); shift
	for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.1; done
	"$@"
}
deb_stop() {	# deb_stop PID: TERM, then KILL after 10 s
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || return 0
	deb_wait 10 sh -c "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || true
}
DEB_PKGS=""	# the binary packages of debian/control
deb_known() {	# the packages of ours dpkg knows in any state but purged
	local p st
	for p in $DEB_PKGS; do
		st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) || continue
		case $st in *not-installed) ;; *) echo "$p" ;; esac
	done
}
deb_apt() {	# deb_apt LOG apt-get ARGS...: non-interactive, no stdin
	local log=$1; shift
	DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300 \
	    "$@" </dev/null >>"$log" 2>&1
}
deb_log() { local log=$1; shift; "$@" >"$log" 2>&1; }	# deb_log LOG CMD...
deb_build() {	# deb_build SRC LOG: the documented command
	(cd "$1" && DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -us -uc -b) >"$2" 2>&1
}
deb_debs() {	# deb_debs DIR VERSION: the .deb of each package
	local p
	for p in $DEB_PKGS; do ls "$1/${p}_$2_"*.deb || return 1; done
}
deb_sums() { (cd /var/lib/hazmon && find . -type f -print0 | sort -z | xargs -0 md5sum); }
deb_cleanup() {
	local pid u
	for pid in $DEB_PIDS; do deb_stop "$pid"; done
	[ -z "$(deb_known)" ] ||
	    deb_apt "$DEB_DIR/cleanup.log" purge $(deb_known) || true
	rm -rf /var/lib/hazmon /etc/hazmon
	if [ -d /run/systemd/system ]; then
		systemctl unmask --runtime hazmond.service hazmon-web.service \
		    >/dev/null 2>&1 || true
	fi
	for u in $DEB_NEW_USERS; do
		getent passwd "$u" >/dev/null && { userdel "$u" 2>/dev/null || true; }
	done
	for u in $DEB_NEW_GROUPS; do
		getent group "$u" >/dev/null && { groupdel "$u" 2>/dev/null || true; }
	done
	trap - EXIT INT TERM
}
run_deb() {
	local top=$PWD dir src v out cond rc n hz u
	DEB_N=0 DEB_F=0 DEB_PIDS=""
	DEB_PKGS=$(echo $(sed -n 's/^Package: *//p' debian/control))
	PASSED=0 FAILED=1
	if [ "$(id -u)" != 0 ]; then
		echo "FAIL: deb: needs root (apt-get install of the packages)"; return
	fi
	if [ -n "$(deb_known)" ] || [ -e /etc/hazmon ] || [ -e /var/lib/hazmon ]; then
		echo "FAIL: deb: hazmon is installed here (or /etc/hazmon, /var/lib/hazmon exist): not touching it"
		return
	fi
	dir=$(mktemp -d /tmp/hazmon-deb.XXXXXX) src=$dir/src DEB_DIR=$dir
	# The packages' users (sysusers.d): those this stage creates, it removes.
	DEB_NEW_USERS="" DEB_NEW_GROUPS=""
	for u in hazmon hazmon-web; do
		getent passwd "$u" >/dev/null || DEB_NEW_USERS="$DEB_NEW_USERS $u"
		getent group "$u" >/dev/null || DEB_NEW_GROUPS="$DEB_NEW_GROUPS $u"
	done
	trap deb_cleanup EXIT
	trap 'exit 1' INT TERM

	# The clean copy: the files git knows (tracked or not ignored), none of
	# the builds or generated files above.
	mkdir "$src"
	git ls-files -z -co --exclude-standard | xargs -0 cp -a --parents -t "$src"
	v=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
	deb_check "debian/changelog's $v is configure.ac's version" test "${v%-*}" = \
	    "$(sed -n 's/^AC_INIT(\[hazmon\], \[\([^]]*\)\].*/\1/p' "$src/configure.ac")"
	deb_check "dpkg-buildpackage -us -uc -b builds hazmon $v" \
	    deb_build "$src" "$dir/build.log"
	if ! deb_debs "$dir" "$v" >/dev/null 2>&1; then
		tail -n 40 "$dir/build.log"; deb_cleanup
		PASSED=$((DEB_N - DEB_F)) FAILED=$DEB_F
		echo "== Debian packages: $PASSED passed, $FAILED failed (logs in $dir)"
		return
	fi
	rc=0
	lintian -I --pedantic --fail-on error,warning,info,pedantic \
	    "$dir"/hazmon_"$v"_*.changes >"$dir/lintian.out" 2>&1 || rc=$?
	deb_check "lintian -I --pedantic: no tag (overrides in debian/*.lintian-overrides)" \
	    test "$rc" = 0
	grep -E '^[EWIPX]: ' "$dir/lintian.out" || true

	deb_check "apt-get install ./...deb of $DEB_PKGS" \
	    deb_apt "$dir/install.log" install $(deb_debs "$dir" "$v")
	deb_check "the install says the service waits for /etc/hazmon/hazmond.conf" \
	    grep -q 'hazmond.service is enabled and waits for /etc/hazmon/hazmond.conf' "$dir/install.log"
	deb_check "the user hazmon exists, home /var/lib/hazmon, in dialout" sh -c \
	    'getent passwd hazmon | grep -q ":/var/lib/hazmon:" && id -nG hazmon | grep -qw dialout'
	deb_check "the unit is installed and enabled" sh -c \
	    'test -f /lib/systemd/system/hazmond.service && test "$(systemctl is-enabled hazmond.service)" = enabled'
	deb_check "systemd-analyze verify passes on the installed unit" \
	    systemd-analyze verify /lib/systemd/system/hazmond.service
	cond=$(grep '^ConditionPathExists=' /lib/systemd/system/hazmond.service)
	deb_check "no hazmond.conf installed, so the unit's $cond fails" sh -c \
	    "test ! -e /etc/hazmon/hazmond.conf && ! systemd-analyze condition '$cond' >/dev/null 2>&1"
	deb_check "hazmond -t accepts the installed example" \
	    deb_log "$dir/example.out" /usr/sbin/hazmond -t -c /etc/hazmon/hazmond.conf.example

	# The package's own tests, as autopkgtest runs them; each TAP line counts.
	rc=0
	autopkgtest --no-built-binaries "$src" -- null >"$dir/autopkgtest.log" 2>&1 || rc=$?
	deb_check "autopkgtest --no-built-binaries ... -- null: every test passes" test "$rc" = 0
	out=$(awk '/: test [a-z0-9-]+: \[-+$/ { t = $4; sub(":", "", t) }
	    /^ok [0-9]+ / { sub(/^ok [0-9]+ - /, ""); print "PASS: deb: autopkgtest " t ": " $0 }
	    /^not ok [0-9]+ / { sub(/^not ok [0-9]+ - /, ""); print "FAIL: deb: autopkgtest " t ": " $0 }' \
	    "$dir/autopkgtest.log")
	[ -z "$out" ] || echo "$out"
	DEB_N=$((DEB_N + $(awk '/^(PASS|FAIL): / { n++ } END { print n + 0 }' <<<"$out")))
	n=$(awk '/^FAIL: / { n++ } END { print n + 0 }' <<<"$out")
	DEB_F=$((DEB_F + n))
	[ "$rc" = 0 ] && [ "$n" = 0 ] || tail -n 40 "$dir/autopkgtest.log"

	# The operator's config and a run as the unit would run it (no systemd
	# here, perhaps): the state directory as StateDirectory= makes it, the
	# user hazmon, an alarm from the simulator into the ledger.
	printf 'set 1 holding 0 30.0 float32 CDAB\n' >"$dir/plant.sim"
	/usr/bin/hazmon-sim -p 0 -P "$dir/sim.port" -f "$dir/plant.sim" >"$dir/sim.log" 2>&1 &
	DEB_PIDS="$DEB_PIDS $!"
	deb_wait 5 test -s "$dir/sim.port" || true
	install -d -m 0750 -o hazmon -g hazmon /var/lib/hazmon "$dir/run"
	chmod 0755 "$dir"
	cat >/etc/hazmon/hazmond.conf <<EOC
# the operator's config
site = { id = "deb-ci"; };
daemon = { state_dir = "/var/lib/hazmon"; control_socket = "$dir/run/hazmond.sock"; };
mqtt = ( { name = "local"; host = "127.0.0.1"; port = 1; } );
buses = ( { name = "line1"; type = "tcp"; host = "127.0.0.1"; port = $(cat "$dir/sim.port" 2>/dev/null || echo 1); } );
sensors = ( { id = "ch4-tank-a"; plugin = "gas"; bus = "line1"; slave = 1; interval = 0.2;
    gas = "CH4"; unit = "%LEL"; range = 100.0;
    register = { table = "holding"; address = 0; type = "float32"; order = "CDAB"; };
    levels = ( { name = "first"; above = 20.0; priority = "high"; } ); } );
EOC
	chgrp hazmon /etc/hazmon/hazmond.conf && chmod 0640 /etc/hazmon/hazmond.conf
	deb_check "hazmond -t accepts the operator's /etc/hazmon/hazmond.conf" \
	    deb_log "$dir/conf.out" /usr/sbin/hazmond -t -c /etc/hazmon/hazmond.conf
	deb_check "with it the unit's $cond holds" \
	    deb_log "$dir/cond.out" systemd-analyze condition "$cond"
	setpriv --reuid=hazmon --regid=hazmon --init-groups -- \
	    /usr/sbin/hazmond -c /etc/hazmon/hazmond.conf >"$dir/hazmond.log" 2>&1 &
	hz=$!
	DEB_PIDS="$DEB_PIDS $hz"
	deb_ledger() {
		/usr/bin/hazmonctl -s "$dir/run/hazmond.sock" --json status 2>/dev/null |
		    jq -e '.ledger.last_seq >= 1' >/dev/null
	}
	deb_check "hazmond as hazmon: an alarm in its ledger in /var/lib/hazmon, hazmonctl status answers" \
	    deb_wait 20 deb_ledger
	deb_stop "$hz"
	DEB_PIDS=${DEB_PIDS/ $hz/}
	echo "# the operator's edit" >>/etc/hazmon/hazmond.conf.example
	md5sum /etc/hazmon/hazmond.conf /etc/hazmon/hazmond.conf.example >"$dir/conf.md5"
	deb_sums >"$dir/ledger.md5"
	deb_check "the ledger's files belong to hazmon" sh -c \
	    "test -s '$dir/ledger.md5' && test -z \"\$(find /var/lib/hazmon ! -user hazmon)\""

	# An upgrade to a rebuilt package.  Where systemd runs, the upgrade
	# would restart hazmond.service (now that a config exists) next to the
	# stage's own hazmond: a runtime mask keeps it stopped until cleanup.
	if [ -d /run/systemd/system ]; then
		systemctl mask --runtime hazmond.service hazmon-web.service \
		    >/dev/null 2>&1 || true
	fi
	{
		printf 'hazmon (%s+ci1) unstable; urgency=medium\n\n' "$v"
		printf '  * Rebuilt by contrib/quickstart.sh to test an upgrade.\n\n'
		printf ' -- %s  %s\n\n' \
		    "$(dpkg-parsechangelog -l "$src/debian/changelog" -S Maintainer)" \
		    "$(date -R)"
		cat "$src/debian/changelog"
	} >"$dir/changelog" && mv "$dir/changelog" "$src/debian/changelog"
	deb_check "a rebuilt package $v+ci1 builds" deb_build "$src" "$dir/build2.log"
	deb_check "apt-get install upgrades to it, without a question" \
	    deb_apt "$dir/upgrade.log" install $(deb_debs "$dir" "$v+ci1")
	deb_check "... $v+ci1 is installed" test \
	    "$(dpkg-query -W -f='${Version}' hazmon)" = "$v+ci1"
	deb_check "the upgrade keeps the edited hazmond.conf and hazmond.conf.example" \
	    md5sum --quiet -c "$dir/conf.md5"
	deb_check "the upgrade keeps the ledger" sh -c "cd /var/lib/hazmon && md5sum --quiet -c '$dir/ledger.md5'"

	deb_check "apt-get remove $DEB_PKGS" \
	    deb_apt "$dir/remove.log" remove $DEB_PKGS
	deb_check "remove: the programs are gone" test ! -e /usr/sbin/hazmond -a ! -e /usr/bin/hazmonctl
	deb_check "remove keeps the ledger, and says so" sh -c \
	    "cd /var/lib/hazmon && md5sum --quiet -c '$dir/ledger.md5' && grep -q 'kept /var/lib/hazmon (the event ledger)' '$dir/remove.log'"
	deb_check "remove keeps /etc/hazmon/hazmond.conf" md5sum --quiet -c "$dir/conf.md5"
	# Only hazmon has conffiles; the others went with remove.
	deb_check "apt-get purge $(echo $(deb_known))" \
	    deb_apt "$dir/purge.log" purge $(deb_known)
	deb_check "purge removes /var/lib/hazmon and /etc/hazmon, and says so" sh -c \
	    "test ! -e /var/lib/hazmon -a ! -e /etc/hazmon && grep -q 'purge removed /var/lib/hazmon (the event ledger)' '$dir/purge.log'"
	deb_check "purge removes the unit and its enablement" test \
	    ! -e /lib/systemd/system/hazmond.service -a \
	    ! -e /etc/systemd/system/multi-user.target.wants/hazmond.service
	deb_check "purge leaves no hazmon package known to dpkg" test -z "$(deb_known)"

	deb_cleanup
	PASSED=$((DEB_N - DEB_F)) FAILED=$DEB_F
	echo "== Debian packages: $PASSED passed, $FAILED failed"
	if [ "$FAILED" = 0 ]; then rm -rf "$dir"; else echo "== logs kept in $dir"; fi
	cd "$top"
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
	run_deb
	p=$((p + PASSED)) f=$((f + FAILED))
	echo "$p passed, $f failed"
	[ "$f" = 0 ]
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
