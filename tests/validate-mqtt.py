#!/usr/bin/python3
# validate-mqtt.py SCHEMA_DIR FILE... - every message of the MQTT contract
# that a test captured ("topic payload" lines, mosquitto_sub -v) against
# its JSON Schema in schemas/ (docs/mqtt.md).  Events, states, status and
# replay replies and the catalogue are hazmond's; command topics are not checked (tests
# publish wrong commands on purpose), nor lines with the marker
# x-test-malformed (a test's own broken message).  Also checks what a
# schema cannot say: an event's id is "<site>-<seq>".  Prints each
# violation as FILE:LINE: TOPIC: what; exits 1 if there was one.
import json, re, sys
import jsonschema

KINDS = [
    (re.compile(r"^\S+/events/[^/\s]+$"), "event"),
    (re.compile(r"^\S+/sensors/[^/\s]+/state$"), "state"),
    (re.compile(r"^\S+/status$"), "status"),
    (re.compile(r"^\S+/reply/replay$"), "replay-reply"),
    (re.compile(r"^\S+/catalogue$"), "catalogue"),
]

def main():
    d = sys.argv[1]
    val = {}
    for _, k in KINDS:
        s = json.load(open("%s/%s.schema.json" % (d, k)))
        val[k] = jsonschema.Draft202012Validator(
            s, format_checker=jsonschema.FormatChecker())
    bad = n = 0
    for path in sys.argv[2:]:
        with open(path, errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                topic, _, payload = line.rstrip("\n").partition(" ")
                kind = next((k for r, k in KINDS if r.match(topic)), None)
                if kind is None or "x-test-malformed" in line:
                    continue
                if payload in ("", "(null)") and kind in ("state", "status",
                                                          "catalogue"):
                    continue    # an empty retained message clears one
                                # (mosquitto_sub prints it as "(null)")
                where = "%s:%d: %s" % (path, lineno, topic)
                try:
                    msg = json.loads(payload)
                except ValueError as e:
                    print("%s: not JSON: %s" % (where, e))
                    bad += 1
                    continue
                errs = sorted(val[kind].iter_errors(msg), key=str)
                for e in errs[:3]:
                    print("%s: %s schema: %s at %s" % (where, kind, e.message,
                          "/".join(str(p) for p in e.absolute_path) or "top"))
                bad += len(errs) > 0
                if kind == "event" and not errs and \
                        msg["id"] != "%s-%s" % (msg["site"], msg["seq"]):
                    print("%s: id %r is not <site>-<seq>" % (where, msg["id"]))
                    bad += 1
                if kind == "catalogue" and not errs and \
                        msg["count"] != len(msg["sensors"]):
                    print("%s: count %r but %d sensors" % (where, msg["count"],
                          len(msg["sensors"])))
                    bad += 1
                n += 1
    if bad:
        print("%d of %d messages break the contract" % (bad, n))
    return 1 if bad else 0

sys.exit(main())
