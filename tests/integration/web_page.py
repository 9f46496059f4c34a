#!/usr/bin/python3
"""web_page.py STEP URL OUTDIR - one step of tests/integration/web_page.sh
in a headless Chromium that stays open between steps.

The browser is driven through chromedriver on a fixed port the shell picks
(WEBDRIVER_PORT); the first step starts a session and writes its id to
OUTDIR/session, the others attach to it.  Each step waits (with a
timeout) for what the page must show and prints "PASS text" or "FAIL
text"; the shell turns those into TAP lines.

  open            load the page, wait until it says LIVE
  alarm S         S is an active unacknowledged alarm (row blinks)
  acked S         S's alarm is active_acknowledged (no longer blinking)
  fault S F       S is in the fault list with fault F
  dot S CLASS     the plan's dot of S has CLASS (alarm, fault, ok)
  stale           the page says STALE or OFFLINE
  shot NAME W H   a screenshot at W x H in OUTDIR/NAME.png
  quit
"""
import base64
import json
import os
import sys
import time
import urllib.request

PORT = os.environ["WEBDRIVER_PORT"]
BASE = "http://127.0.0.1:%s" % PORT


def wd(method, path, body=None, timeout=30):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"{}").get("value")


def js(sid, script):
    return wd("POST", "/session/%s/execute/sync" % sid,
              {"script": script, "args": []})


def wait_js(sid, script, seconds):
    """Poll script every 50 ms until it returns true; the time it took
    since $T0 (when the shell caused the change, epoch seconds) or since
    the call.  None if it took longer than seconds."""
    t0 = float(os.environ.get("T0") or time.time())
    while True:
        done = js(sid, script)
        took = time.time() - t0
        if done:
            return took if took <= seconds else None
        if took > seconds:
            return None
        time.sleep(0.05)


def report(ok, text):
    print(("PASS " if ok else "FAIL ") + text)
    sys.stdout.flush()


def main():
    step, url, out = sys.argv[1], sys.argv[2], sys.argv[3]
    args = sys.argv[4:]
    if step == "open":
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox",
                         "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1920,1080",
                         "--user-data-dir=" + os.path.join(out, "profile")]}}}}
        sid = wd("POST", "/session", caps, timeout=60)["sessionId"]
        with open(os.path.join(out, "session"), "w") as f:
            f.write(sid)
        wd("POST", "/session/%s/url" % sid, {"url": url})
        t = wait_js(sid, "return document.body.dataset.live === 'live';", 10)
        report(t is not None, "the page loads and says LIVE (%s)" %
               ("%.2f s" % t if t is not None else "timeout"))
        return
    with open(os.path.join(out, "session")) as f:
        sid = f.read().strip()
    if step == "alarm":
        s = args[0]
        t = wait_js(sid, """
            const r = document.querySelector('#alarms tr[data-sensor="%s"]');
            return !!r && r.dataset.state === 'active_unacknowledged'
                && r.classList.contains('unack')
                && getComputedStyle(r).animationName === 'blink-row';""" % s, 2)
        report(t is not None, "%s shows as an active unacknowledged, blinking "
               "alarm within 2 s (%s)" % (s, "%.2f s" % t if t is not None
                                          else "not within 2 s"))
    elif step == "acked":
        s = args[0]
        t = wait_js(sid, """
            const r = document.querySelector('#alarms tr[data-sensor="%s"]');
            return !!r && r.dataset.state === 'active_acknowledged'
                && !r.classList.contains('unack');""" % s, 2)
        report(t is not None, "the acknowledgement of %s shows within 2 s "
               "(%s)" % (s, "%.2f s" % t if t is not None else "not within 2 s"))
    elif step == "fault":
        s, f = args
        t = wait_js(sid, """
            const r = document.querySelector('#faults tr[data-sensor="%s"]');
            return !!r && r.dataset.fault === '%s';""" % (s, f), 10)
        report(t is not None, "%s shows in the fault list as %s (%s)" %
               (s, f, "%.2f s" % t if t is not None else "timeout"))
    elif step == "dot":
        s, cls = args
        t = wait_js(sid, """
            const d = document.querySelector('#plan .dot[data-sensor="%s"]');
            return !!d && d.classList.contains('%s')
                && !document.getElementById('plan-box').hidden;""" % (s, cls), 5)
        report(t is not None, "the plan shows %s's dot as %s (%s)" %
               (s, cls, "%.2f s" % t if t is not None else "timeout"))
    elif step == "stale":
        t = wait_js(sid, """
            const l = document.body.dataset.live;
            const b = document.getElementById('stale-banner');
            return (l === 'stale' || l === 'offline')
                && getComputedStyle(b).display !== 'none'
                && document.getElementById('live').textContent !== 'LIVE';""", 10)
        report(t is not None, "hazmond stopped: the page says STALE/OFFLINE "
               "(%s)" % ("%.2f s" % t if t is not None else "timeout"))
    elif step == "shot":
        name, w, h = args[0], int(args[1]), int(args[2])
        # the viewport, not the window, is what must be W x H
        wd("POST", "/session/%s/goog/cdp/execute" % sid, {
            "cmd": "Emulation.setDeviceMetricsOverride",
            "params": {"width": w, "height": h, "deviceScaleFactor": 1,
                       "mobile": w < 800}})
        time.sleep(0.5)  # let the layout settle before the picture
        png = wd("GET", "/session/%s/screenshot" % sid)
        with open(os.path.join(out, name + ".png"), "wb") as f:
            f.write(base64.b64decode(png))
        wide = js(sid, "return document.documentElement.scrollWidth;")
        report(wide <= w, "at %dx%d nothing is wider than the screen "
               "(%s px)" % (w, h, wide))
    elif step == "quit":
        wd("DELETE", "/session/%s" % sid)


main()
