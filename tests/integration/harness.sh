#!/bin/bash
# The test harness itself (tests/lib.sh): a test that fails prints the
# logs it kept; one of them may end in a line cut short (a client killed
# mid-line).  tap-driver.sh takes the test's exit status from the line
# after the test's last one, so that line must end: otherwise the driver
# aborts ("internal error getting exit status"), the failure is never
# counted and make check stops running the other tests.
. "$top_srcdir/tests/lib.sh"

cat >"$T/child.sh" <<'EOC'
. "$top_srcdir/tests/lib.sh"
printf 'a line\na line cut sho' >"$T/client.out"
not_ok "a check that fails"
done_testing
EOC
rc=0
env top_srcdir="$top_srcdir" top_builddir="$top_builddir" \
    bash "$top_srcdir/build-aux/tap-driver.sh" --test-name child \
    --log-file "$T/child.log" --trs-file "$T/child.trs" --color-tests no \
    --enable-hard-errors yes --expect-failure no -- bash "$T/child.sh" \
    >"$T/driver.stdout" 2>"$T/driver.stderr" || rc=$?
check "the driver ends normally on a failing test with a cut-short log (status $rc)" \
    test "$rc" = 0
check "... with no internal error" not grep -q 'internal error' "$T/driver.stderr"
check "... and counts the failure" grep -q '^:test-result: FAIL' "$T/child.trs"
check "... and the kept log's last line, ended" grep -q '^#   a line cut sho$' "$T/child.log"
# The child kept its logs (it failed): remove them.
kept=$(sed -n 's/^# logs kept in \(\/tmp\/hazmon-test\.[A-Za-z0-9]*\)$/\1/p' "$T/child.log")
[ -n "$kept" ] && rm -rf "$kept"
done_testing
