#!/bin/bash
# hazmon-web as installed (issue 16): make install DESTDIR=... puts the
# program, its unit, its sysusers.d file, man page and docs in place; the
# unit passes systemd-analyze verify with an exposure level of at most 2.5;
# sysusers.d makes the user hazmon-web outside group hazmon; the installed
# program checks the installed example configuration.
. "$top_srcdir/tests/lib.sh"

unset MAKEFLAGS MFLAGS MAKELEVEL	# not the jobserver of make check
MK() { make -s -C "$top_builddir" "$@"; }
printf 'hz-print-dirs:\n' >"$T/dirs.mk"
for v in sbindir mandir docdir systemdsystemunitdir sysusersdir; do
	printf '\t@echo "%s=$(%s)"\n' "$v" "$v" >>"$T/dirs.mk"
done
MK -f Makefile -f "$T/dirs.mk" hz-print-dirs >"$T/dirs" 2>"$T/dirs.err" ||
    bail "cannot read the install directories from $top_builddir/Makefile"
dir() { sed -n "s|^$1=||p" "$T/dirs"; }
D=$T/inst
MK install DESTDIR="$D" >"$T/install.log" 2>&1
check "make install DESTDIR=... succeeds" test $? = 0
check "installed and executable: hazmon-web" test -x "$D$(dir sbindir)/hazmon-web"
for f in "$(dir systemdsystemunitdir)/hazmon-web.service" \
    "$(dir sysusersdir)/hazmon-web.conf" "$(dir mandir)/man8/hazmon-web.8" \
    "$(dir docdir)/web.md" "$(dir docdir)/web.png" \
    "$(dir docdir)/examples/hazmon-web.conf.example"; do
	check "installed: $f" test -s "$D$f"
done
unit=$D$(dir systemdsystemunitdir)/hazmon-web.service
check "unit: runs the installed hazmon-web" \
    grep -qx "ExecStart=$(dir sbindir)/hazmon-web" "$unit"
check "unit: as user hazmon-web, without group hazmon" sh -c \
    "grep -qx 'User=hazmon-web' '$unit' && ! grep -q '^\(Group\|SupplementaryGroups\)=.*hazmon\$' '$unit'"
check "the installed hazmon-web accepts the installed example" \
    "$D$(dir sbindir)/hazmon-web" -t -c "$D$(dir docdir)/examples/hazmon-web.conf.example"

mkdir -p "$T/verify"
sed "s|=$(dir sbindir)/|=$D$(dir sbindir)/|" "$unit" >"$T/verify/hazmon-web.service"
MANPATH=$D$(dir mandir) analyze_unit "$T/verify/hazmon-web.service" 25
if ! command -v systemd-sysusers >/dev/null; then
	ok "sysusers.d creates hazmon-web # SKIP systemd-sysusers is not installed"
else
	mkdir -p "$T/sysroot/etc"
	systemd-sysusers --root="$T/sysroot" "$D$(dir sysusersdir)/hazmon-web.conf" \
	    >"$T/sysusers.out" 2>&1
	check "sysusers.d creates the hazmon-web user" \
	    grep -q '^hazmon-web:x:' "$T/sysroot/etc/passwd"
	check "... who is in no group hazmon" \
	    not grep -qE '^hazmon:.*[:,]hazmon-web(,|$)' "$T/sysroot/etc/group"
fi
MK uninstall DESTDIR="$D" >"$T/uninstall.log" 2>&1
check "make uninstall DESTDIR=... succeeds" test $? = 0
check "make uninstall removes hazmon-web's files" \
    test -z "$(find "$D" -type f -name '*hazmon-web*')"
done_testing
