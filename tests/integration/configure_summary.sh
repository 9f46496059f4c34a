#!/bin/bash
# configure ends with where things install (issue 12, item 16), every
# ${prefix} expanded, so the README's service steps can be followed with
# the paths this build really uses.
. "$top_srcdir/tests/lib.sh"

mkdir "$T/build"
(cd "$T/build" && "$top_srcdir/configure" --disable-tests --prefix=/opt/hz \
    --sysconfdir=/etc/hz --localstatedir=/var/hz \
    --with-systemdsystemunitdir=/opt/hz/units) >"$T/configure.out" 2>&1
check "configure runs" test $? = 0
line() { grep -q -E "^  $1 +$2\$" "$T/configure.out"; }
check "prefix" line prefix /opt/hz
check "hazmond" line hazmond /opt/hz/sbin/hazmond
check "hazmonctl" line hazmonctl /opt/hz/bin/hazmonctl
check "plugin dir" line plugins /opt/hz/lib/hazmon
check "systemd unit" line "systemd unit" /opt/hz/units/hazmond.service
check "sysusers.d file" line "sysusers.d file" /opt/hz/lib/sysusers.d/hazmon.conf
check "state dir" line "state dir" '/var/hz/lib/hazmon \(daemon.state_dir default\)'
check "default config" line "default config" /etc/hz/hazmon/hazmond.conf
check "control socket" line "control socket" \
    '/run/hazmon/hazmond.sock \(daemon.control_socket default\)'
check "nothing unexpanded" not grep -E '^  .*(\$|NONE)' "$T/configure.out"
done_testing
