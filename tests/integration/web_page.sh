#!/bin/bash
# The page in a real browser (issue 16): headless Chromium, driven by
# chromedriver, loads the page from hazmon-web + hazmond + simulator +
# broker; a gas step shows as an active unacknowledged alarm within 2 s,
# hazmonctl ack changes it within 2 s, a comm loss shows in the fault list,
# stopping hazmond makes the page say STALE, and the plant plan shows
# dots in the states' colours.  Screenshots at 1920x1080
# and phone size are left in the build dir (web_page-*.png).
. "$top_srcdir/tests/lib.sh"
. "$top_srcdir/tests/integration/web-lib.sh"
for p in chromium chromedriver; do
	command -v $p >/dev/null || bail "$p missing: apt-get install chromium chromium-driver"
done
SHOTS=$top_builddir/tests/integration
mkdir -p "$SHOTS"

web_plant
# A plan with the three sensors on it.
cat >"$T/web.conf" <<EOC
plan = { image = "$top_srcdir/tests/data/web-plan.svg";
         points = ( { sensor = "ch4"; x = 0.2; y = 0.37; }, { sensor = "h2s"; x = 0.78; y = 0.4; },
                    { sensor = "co"; x = 0.41; y = 0.37; } ); };
EOC
start_web -c "$T/web.conf"
wait_for 10 web_up || bail "hazmon-web never had a live view"
for try in $(seq 10); do
	WEBDRIVER_PORT=$((20000 + (RANDOM * 7 + try) % 40000))
	spawn chromedriver chromedriver --port="$WEBDRIVER_PORT" --allowed-ips=127.0.0.1
	CD_PID=$LAST_PID
	wait_for 10 curl -s -m 2 "http://127.0.0.1:$WEBDRIVER_PORT/status" -o /dev/null && break
	stop_pid "$CD_PID"; forget_pid "$CD_PID"
done
export WEBDRIVER_PORT
page() {	# page STEP ARGS...: one browser step, its verdicts as TAP lines
	local line
	T0=$T0 python3 "$top_srcdir/tests/integration/web_page.py" "$1" "$WEB/" "$T" "${@:2}" \
	    >"$T/step.out" 2>>"$T/page-steps.log" || echo "FAIL $1: the browser step failed (page-steps.log)" >>"$T/step.out"
	while read -r line; do
		case $line in
		PASS\ *) ok "${line#PASS }" ;;
		FAIL\ *) not_ok "${line#FAIL }" ;;
		esac
	done <"$T/step.out"
}

# T0: when the change was made, for the steps that time it.
T0=
page open
T0=$(date +%s.%N)
sim "set 1 holding 0 30"
page alarm ch4
T0=$(date +%s.%N)
ctl ack ch4 >/dev/null || not_ok "hazmonctl ack ch4 failed"
page acked ch4
T0=
sim "set 1 holding 1 15"	# one more, left unacknowledged for the pictures
sim "fault 2 noreply"
page fault co comm_loss
page dot ch4 alarm
page dot co fault
page shot web_page-wall 1920 1080
page shot web_page-phone 390 844
cp "$T/web_page-wall.png" "$T/web_page-phone.png" "$SHOTS/" 2>/dev/null
check "screenshots saved" test -s "$SHOTS/web_page-wall.png" -a -s "$SHOTS/web_page-phone.png"
T0=$(date +%s.%N)
stop_pid "$HAZMOND_PID"; forget_pid "$HAZMOND_PID"
page stale
T0=
page shot web_page-stale 1920 1080
cp "$T/web_page-stale.png" "$SHOTS/" 2>/dev/null
page quit
done_testing
