#!/usr/bin/python3
"""soak-sub.py - an independent durable subscriber for the hazmon soaks.

Written against docs/mqtt.md alone (not hazmon's code), with Debian's
python3-paho-mqtt, so the soak's verdict does not rest on the code it
tests.  Two modes:

  soak-sub.py sub HOST PORT CLIENT_ID OUT [READY]
      Persistent session (clean_session=False, fixed client id), QoS 1
      subscriptions to hazmon/+/events/#, hazmon/+/status and
      hazmon/+/sensors/+/state.  Every message is appended to OUT as one
      line "RECV_TIME<TAB>TOPIC<TAB>RETAIN<TAB>PAYLOAD" and flushed before
      the callback returns, so before paho sends the PUBACK: what the
      broker counts as delivered is on disk.  Reconnects by itself for
      ever (the broker is killed on purpose).  Writes READY once the first
      SUBACK arrived.  Stops on SIGTERM.  SOAK_SUB_TOPICS (comma-separated
      topic filters) replaces the three subscriptions, e.g. for events
      only.

  soak-sub.py check OUT [--ledger SEQ_PAYLOAD_FILE] [--latched S1,S2,...]
      Reads OUT and prints a report, one "key value" per line: per site
      the events received, the highest seq, gaps (seqs below the highest
      that never arrived), duplicates and whether every duplicate is
      byte-identical or identical apart from "replayed".  With --ledger
      (lines "SEQ<TAB>PAYLOAD", what the site recorded), also every
      recorded event that never arrived, or arrived different.  With
      --latched, the last retained-or-live state of those sensors.
"""

import json
import os
import signal
import sys
import time


def subscribe(host, port, client_id, out, ready):
    import paho.mqtt.client as mqtt

    f = open(out, "ab", buffering=0)
    topics = [("hazmon/+/events/#", 1), ("hazmon/+/status", 1),
              ("hazmon/+/sensors/+/state", 1)]
    if os.environ.get("SOAK_SUB_TOPICS"):
        topics = [(t, 1) for t in os.environ["SOAK_SUB_TOPICS"].split(",")]
    stop = []

    def on_connect(c, userdata, flags, rc):
        if rc != 0:
            return
        c.subscribe(topics)

    def on_subscribe(c, userdata, mid, granted):
        if ready and not os.path.exists(ready):
            with open(ready + ".tmp", "w") as r:
                r.write("subscribed\n")
            os.rename(ready + ".tmp", ready)

    def on_message(c, userdata, msg):
        payload = msg.payload.decode("utf-8", "backslashreplace")
        line = "%.3f\t%s\t%d\t%s\n" % (time.time(), msg.topic,
                                       1 if msg.retain else 0, payload)
        f.write(line.encode("utf-8"))
        os.fsync(f.fileno())

    c = mqtt.Client(client_id=client_id, clean_session=False,
                    protocol=mqtt.MQTTv311)
    c.on_connect = on_connect
    c.on_subscribe = on_subscribe
    c.on_message = on_message
    # The broker is killed and restarted within seconds: come back fast.
    c.reconnect_delay_set(min_delay=0.1, max_delay=0.5)

    def on_term(signum, frame):
        stop.append(1)
        c.disconnect()
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)

    while not stop:
        try:
            c.connect(host, port, keepalive=5)
        except OSError:
            time.sleep(0.1)
            continue
        c.loop_forever(retry_first_connection=True)
    f.close()


def without_replayed(payload):
    try:
        o = json.loads(payload)
    except ValueError:
        return None
    o.pop("replayed", None)
    return o


def check(out, ledger, latched):
    sites = {}		# site -> {seq: [(topic, payload), ...]}
    states = {}		# sensor -> last state payload (decoded)
    with open(out, encoding="utf-8", errors="backslashreplace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t", 3)
            if len(parts) != 4:
                print("bad_line %r" % line[:80])
                continue
            _, topic, _, payload = parts
            t = topic.split("/")
            if len(t) >= 4 and t[2] == "events":
                try:
                    ev = json.loads(payload)
                except ValueError:
                    print("bad_event %r" % payload[:80])
                    continue
                sites.setdefault(t[1], {}).setdefault(ev["seq"], []).append(
                    (topic, payload))
            elif len(t) == 5 and t[2] == "sensors" and t[4] == "state":
                if payload:
                    states[t[3]] = json.loads(payload)
                else:
                    states.pop(t[3], None)
    for site, seqs in sorted(sites.items()):
        top = max(seqs)
        gaps = [s for s in range(1, top + 1) if s not in seqs]
        dups = {s: v for s, v in seqs.items() if len(v) > 1}
        n_dup = sum(len(v) - 1 for v in dups.values())
        identical = differ = 0
        for s, v in sorted(dups.items()):
            first_topic, first = v[0]
            for topic, p in v[1:]:
                if topic == first_topic and (p == first or
                        without_replayed(p) == without_replayed(first)):
                    identical += 1
                else:
                    differ += 1
                    print("dup_differs %s seq %d: %s | %s" % (site, s, first, p))
        print("site %s" % site)
        print("messages %d" % sum(len(v) for v in seqs.values()))
        print("distinct %d" % len(seqs))
        print("max_seq %d" % top)
        print("gaps %d" % len(gaps))
        if gaps:
            print("gap_list %s" % " ".join(map(str, gaps[:50])))
        print("duplicates %d" % n_dup)
        print("duplicates_identical %d" % identical)
        print("duplicates_different %d" % differ)
        print("replayed %d" % sum(1 for v in seqs.values() for _, p in v
                                   if '"replayed":true' in p))
    if ledger:
        recorded = {}
        with open(ledger, encoding="utf-8") as f:
            for line in f:
                seq, payload = line.rstrip("\n").split("\t", 1)
                recorded[int(seq)] = payload
        got = {}
        for seqs in sites.values():
            got.update(seqs)
        missing = [s for s in sorted(recorded) if s not in got]
        different = [s for s in sorted(recorded) if s in got and
                     all(without_replayed(p) != without_replayed(recorded[s])
                         for _, p in got[s])]
        extra = [s for s in sorted(got) if s not in recorded]
        print("ledger_events %d" % len(recorded))
        print("ledger_max_seq %d" % (max(recorded) if recorded else 0))
        print("ledger_contiguous %d" % (1 if not recorded or
              len(recorded) == max(recorded) - min(recorded) + 1 else 0))
        print("ledger_missing %d" % len(missing))
        if missing:
            print("missing_list %s" % " ".join(map(str, missing[:50])))
        print("ledger_different %d" % len(different))
        for s in different[:10]:
            print("different %d: %s | %s" % (s, recorded[s], got[s][0][1]))
        print("not_in_ledger %d" % len(extra))
    for s in latched:
        st = states.get(s)
        print("latched_state %s %s %s" % (s, st["alarm_state"] if st else "none",
              st["unacknowledged"] if st else 0))


def main(argv):
    if len(argv) >= 6 and argv[1] == "sub":
        subscribe(argv[2], int(argv[3]), argv[4], argv[5],
                  argv[6] if len(argv) > 6 else None)
        return 0
    if len(argv) >= 3 and argv[1] == "check":
        ledger, latched, i = None, [], 3
        while i < len(argv):
            if argv[i] == "--ledger":
                ledger = argv[i + 1]
            elif argv[i] == "--latched":
                latched = [s for s in argv[i + 1].split(",") if s]
            else:
                break
            i += 2
        check(argv[2], ledger, latched)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
