#!/bin/bash
# hazmond -t, --version and --help as an operator uses them.
. "$top_srcdir/tests/lib.sh"

out=$T/out.log
"$HAZMOND" -t -c "$top_srcdir/conf/hazmond.conf" -P "$PLUGIN_DIR" >"$out" 2>&1
check "the shipped example config passes -t" test $? = 0
check "-t says OK and counts sensors" grep -q 'configuration OK (' "$out"

"$HAZMOND" -t -v -c "$top_srcdir/tests/data/good.conf" -P "$PLUGIN_DIR" >"$out" 2>&1
check "-t -v prints effective levels with defaults" \
    grep -q 'level second above 50 deadband 2 on_delay 0s off_delay 5s priority urgent' "$out"

"$HAZMOND" -t -c "$top_srcdir/tests/data/bad-unknown-key.conf" -P "$PLUGIN_DIR" >"$out" 2>&1
rc=$?
check "-t exits non-zero on a bad config" test "$rc" = 1
check "-t names file:line of the error" \
    grep -q "tests/data/bad-unknown-key.conf:8: unknown key 'scal'" "$out"

"$HAZMOND" -c "$top_srcdir/tests/data/bad-many.conf" -P "$PLUGIN_DIR" >"$out" 2>&1
check "the daemon refuses to start on a bad config" test $? = 1
check "all errors are reported before giving up" grep -q '11 errors; not starting' "$out"

D=$top_srcdir/tests/data
# An unknown gas is refused even with levels: it would skip the standard's checks.
"$HAZMOND" -t -c "$D/bad-gas.conf" -P "$PLUGIN_DIR" >"$out" 2>&1
check "an unknown gas with levels is refused" test $? = 1
check "... at its file:line, with the known gases" grep -q \
    "bad-gas.conf:7: 'gas': unknown gas \"methane2\" (known: CH4 C3H8 .* O2;" "$out"

# Set points above GB/T 50493-2019 are errors, each at its level's line.
"$HAZMOND" -t -c "$D/above-standard.conf" -P "$PLUGIN_DIR" >"$out" 2>&1
check "levels above the standard are refused" test $? = 1
check "... a combustible first level over 25 %LEL" grep -q \
    'above-standard.conf:8: level "first" at 30 %LEL is above the 25 %LEL' "$out"
check "... a combustible level over 50 %LEL" grep -q \
    'above-standard.conf:9: level "second" at 60 %LEL is above the 50 %LEL' "$out"
check "... a toxic first level over the exposure limit" grep -q \
    'above-standard.conf:13: level "first" at 10 ppm is above the 7.1743 ppm' "$out"
check "... an oxygen deficiency alarm below 19.5 %VOL" grep -q \
    'above-standard.conf:17: level "low" at 18 %VOL is the first oxygen deficiency alarm' "$out"
check "... 4 errors" grep -q '4 errors; configuration rejected' "$out"
"$HAZMOND" -t -v -c "$D/override.conf" -P "$PLUGIN_DIR" >"$out" 2>&1
check "a level with a standard_override passes" test $? = 0
check "... noticed, with its reason" grep -q \
    'notice: .*override.conf:8: level "first" at 30 %LEL is above the 25 %LEL .*kept by its standard_override: inerted tank, approved MOC-2026-031' "$out"
check "... and -t -v shows it on the level" grep -q \
    '^  level first above 30 .* standard_override "inerted tank, approved MOC-2026-031"$' "$out"

# -t -v for checking a register map: what the plugin understood, and the
# requests on the wire.  register-map.conf's bus b merges over gaps of 2
# into at most 8 registers: holding 0+2 (a), 3 (b) -> 0+4; 5+4 (g) would
# make 0+9 -> its own, with 8+2 (c) -> 5+5 and 9 (e) inside it; input 0
# (d) and input 7 (a's status) are 7 apart; f polls every 2 s: a group of
# its own.  Bus nc does not coalesce.
"$HAZMOND" -t -v -c "$D/register-map.conf" -P "$PLUGIN_DIR" >"$out" 2>&1
check "-t -v of a register map passes" test $? = 0
check "... prints a register as understood" grep -q -x \
    '  register holding 5 float64 DCBA scale 1 offset 0' "$out"
check "... with the range" grep -q -x '  range 100 drift_limit -10' "$out"
check "... and the status word and its masks" sh -c \
    "grep -q -x '  status input 7 uint16 ABCD scale 1 offset 0' '$out' &&
     grep -q -x '  status fault_mask 0x0004' '$out' &&
     grep -q -x '  status warmup_mask 0x0010' '$out'"
cat >"$T/requests.want" <<'EOW'
poll bus b slave 1 every 1000 ms: 6 sensors, 7 needs, 4 requests
  request holding 0+4 for a b
  request holding 5+5 for c e g
  request input 0+1 for d
  request input 7+1 for a
poll bus b slave 1 every 2000 ms: 1 sensor, 1 need, 1 request
  request holding 4+1 for f
poll bus nc slave 2 every 1000 ms: 2 sensors, 2 needs, 2 requests
  request holding 0+1 for h
  request holding 1+1 for i
EOW
grep -E '^(poll|  request) ' "$out" >"$T/requests.got"
check "... and the requests after coalescing, as worked out by hand" \
    diff -u "$T/requests.want" "$T/requests.got"

"$HAZMOND" -t -c "$T/missing.conf" >"$out" 2>&1
check "a missing config file is named" grep -q "missing.conf: cannot read: No such file" "$out"

"$HAZMOND" --version >"$out" 2>&1
check "--version" grep -q '^hazmond [0-9]' "$out"
"$HAZMOND" --help >"$out" 2>&1
check "--help lists -t" grep -q -- '--test' "$out"
"$HAZMOND" --bogus >"$out" 2>&1
check "an unknown option exits 2" test $? = 2
done_testing
