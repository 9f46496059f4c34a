#!/bin/bash
# The README's demo shows alarms arriving: run it briefly and look.
. "$top_srcdir/tests/lib.sh"

DEMO_SECONDS=25 bash "$top_srcdir/contrib/demo.sh" "$top_builddir" >"$T/demo.out" 2>&1
check "demo exits 0" test $? = 0
check "demo shows the site online" grep -q 'site sh-chem-01 is online' "$T/demo.out"
check "demo shows the first-level methane alarm" \
    grep -q 'ALARM RAISED  ch4-tank-a  level=first priority=high  value=24.5 %LEL setpoint=20' "$T/demo.out"
check "demo shows the second level raised and cleared" \
    grep -q 'ALARM CLEARED  ch4-tank-a  level=second' "$T/demo.out"
check "demo shows the page's address (hazmon-web)" \
    grep -q '^== the page: http://127.0.0.1:[0-9]*/' "$T/demo.out"
demo_dir=$(sed -n 's|.*hazmond -c \(/tmp/hazmon-test\.[A-Za-z0-9]*\)/.*|\1|p' "$T/demo.out")
check "demo names its working directory" test -n "$demo_dir"
check "demo leaves no process behind" not sh -c "ps -eo args | grep -v grep | grep -qF '$demo_dir'"
done_testing
