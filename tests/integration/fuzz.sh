#!/bin/bash
# fuzz.sh - each libFuzzer target (tests/fuzz/README.md) for FUZZ_SECONDS
# (30) on a copy of its seed corpus: every seed and every regression input
# runs first, then the fuzzer mutates for the rest of the time.  One TAP
# line per target; a crash, leak, timeout or broken invariant fails it and
# names the input that did it (kept with the logs).
#
# The targets exist once `make fuzz` ran; `make check` builds them in an
# --enable-sanitizers build (configure found clang), so they run there and
# this test skips in the plain build.
. "$top_srcdir/tests/lib.sh"

OUT=$top_builddir/tests/fuzz/out
TARGETS="fuzz_config fuzz_reply fuzz_ledger fuzz_command fuzz_control"
for t in $TARGETS; do
	if [ ! -x "$OUT/$t" ]; then
		echo "1..0 # SKIP fuzz targets not built (make fuzz; make check" \
		    "builds them with --enable-sanitizers and clang)"
		exit 0
	fi
done

for t in $TARGETS; do
	mkdir "$T/corpus-$t" "$T/crash-$t"
	cp "$top_srcdir/tests/fuzz/corpus/$t"/* "$T/corpus-$t/"
	TMPDIR=$T "$OUT/$t" -max_total_time="${FUZZ_SECONDS:-30}" -timeout=5 \
	    -rss_limit_mb=2048 -artifact_prefix="$T/crash-$t/" \
	    "$T/corpus-$t" >"$T/$t.out" 2>&1
	rc=$?
	crash=$(find "$T/crash-$t" -type f | head -n 1)
	runs=$(grep -E '^#[0-9]+' "$T/$t.out" | tail -n 1 | sed -E 's/^#([0-9]+).*/\1/')
	if [ "$rc" = 0 ] && [ -z "$crash" ]; then
		ok "$t: ${runs:-0} runs, no crash, leak or hang"
	else
		not_ok "$t: exit status $rc${crash:+, input $crash}"
		grep -E 'ERROR: |invariant broken|runtime error|SUMMARY' "$T/$t.out" |
		    head -n 5 | sed 's/^/# /'
		echo "# reproduce: $OUT/$t $crash"
	fi
done
done_testing
