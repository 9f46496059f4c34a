#!/usr/bin/python3
"""A broker that acknowledges nothing until it is told to.

mqtt-slow-ack-broker.py LOG RELEASE

Listens on a free port of 127.0.0.1 (logged first, as "port N") for
MQTT 3.1.1 clients, one at a time.  It
accepts each CONNECT (CONNACK 0), answers PINGREQ and SUBSCRIBE, and
holds back every PUBACK: it counts the QoS 1 PUBLISH packets on an
.../events/... topic that arrived unacknowledged, and logs the count to
LOG as "held N" whenever it grows.  Once the file RELEASE exists it
acknowledges what it held and, from then on, each PUBLISH at once
("released N" in LOG).  So a test sees how many events a client keeps
in flight before it waits for the broker.
"""
import os
import select
import socket
import sys

LOG, RELEASE = sys.argv[1], sys.argv[2]


def note(text):
    with open(LOG, "a") as f:
        f.write(text + "\n")


def packets(buf):
    """Splits whole packets off buf: a list of (type, flags, body), rest."""
    out = []
    while len(buf) >= 2:
        mult, length, i = 1, 0, 1
        while True:
            if i >= len(buf):
                return out, buf
            b = buf[i]
            length += (b & 127) * mult
            mult *= 128
            i += 1
            if not b & 128:
                break
            if i > 4:
                raise ValueError("bad remaining length")
        if len(buf) < i + length:
            return out, buf
        out.append((buf[0] >> 4, buf[0] & 15, buf[i:i + length]))
        buf = buf[i + length:]
    return out, buf


def serve(conn):
    buf, held, events, released = b"", [], 0, False
    while True:
        r, _, _ = select.select([conn], [], [], 0.1)
        if not released and os.path.exists(RELEASE):
            released = True
            for mid in held:
                conn.sendall(bytes([0x40, 2]) + mid)
            note("released %d" % len(held))
            held = []
        if not r:
            continue
        data = conn.recv(65536)
        if not data:
            return
        got, buf = packets(buf + data)
        for kind, flags, body in got:
            if kind == 1:                       # CONNECT
                conn.sendall(bytes([0x20, 2, 0, 0]))
            elif kind == 12:                    # PINGREQ
                conn.sendall(bytes([0xD0, 0]))
            elif kind == 8:                     # SUBSCRIBE: grant QoS 1
                conn.sendall(bytes([0x90, 3, body[0], body[1], 1]))
            elif kind == 3 and (flags >> 1) & 3 == 1:   # PUBLISH, QoS 1
                tlen = (body[0] << 8) | body[1]
                topic = body[2:2 + tlen]
                mid = body[2 + tlen:4 + tlen]
                if released:
                    conn.sendall(bytes([0x40, 2]) + mid)
                else:
                    held.append(mid)
                    if b"/events/" in topic:
                        events += 1
                        note("held %d" % events)
            elif kind == 14:                    # DISCONNECT
                return


def main():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(4)
    note("port %d" % s.getsockname()[1])
    while True:
        conn, _ = s.accept()
        try:
            serve(conn)
        except (OSError, ValueError) as e:
            note("connection ended: %s" % e)
        conn.close()


main()
