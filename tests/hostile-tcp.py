#!/usr/bin/env python3
"""hostile-tcp.py - a Modbus TCP device that lies, for the tests.

    hostile-tcp.py PORTFILE MODEFILE

Listens on 127.0.0.1 (a free port, written to PORTFILE once it listens).
Before each reply it reads MODEFILE (one word, and an optional number) and
answers read requests (function 3 and 4) the way the mode says.  A correct
reply carries 1000 + address in each register; every lying reply carries
9999, so a test can tell whether a lie was ever taken for data.

Modes: ok, silence, close, garbage, wrongunit, wrongtid, proto, fc,
bytecount, mbaplong, mbapshort, oversize, exception N, trickle MS; and two
that tell the truth in an odd shape: double (each reply twice, in one
segment) and split (the MBAP header, then the rest 20 ms later).
Every connection is served by its own thread; the process ends on SIGTERM.
"""
import os
import random
import socket
import struct
import sys
import threading
import time

portfile, modefile = sys.argv[1], sys.argv[2]


def mode():
    try:
        with open(modefile) as f:
            w = f.read().split()
    except OSError:
        w = []
    return (w[0] if w else "ok"), (int(w[1]) if len(w) > 1 else 0)


def recv_exact(c, n):
    b = b""
    while len(b) < n:
        part = c.recv(n - len(b))
        if not part:
            raise EOFError
        b += part
    return b


def regs(addr, count, value=None):
    return b"".join(struct.pack(">H", value if value is not None else
                                (1000 + addr + i) & 0xFFFF)
                    for i in range(count))


def adu(tid, unit, pdu, proto=0, length=None):
    if length is None:
        length = len(pdu) + 1
    return struct.pack(">HHHB", tid, proto, length, unit) + pdu


def serve(c):
    try:
        while True:
            hdr = recv_exact(c, 7)
            tid, proto, length, unit = struct.unpack(">HHHB", hdr)
            pdu = recv_exact(c, length - 1)
            fc = pdu[0]
            addr, count = struct.unpack(">HH", pdu[1:5])
            m, arg = mode()
            good = bytes([fc, 2 * count]) + regs(addr, count)
            lie = bytes([fc, 2 * count]) + regs(addr, count, 9999)
            if m == "ok":
                c.sendall(adu(tid, unit, good))
            elif m == "double":
                c.sendall(adu(tid, unit, good) * 2)
            elif m == "split":
                frame = adu(tid, unit, good)
                c.sendall(frame[:7])
                time.sleep(0.02)
                c.sendall(frame[7:])
            elif m == "silence":
                continue
            elif m == "close":
                c.close()
                return
            elif m == "garbage":
                c.sendall(bytes(random.randrange(256) for _ in range(40)))
            elif m == "wrongunit":
                c.sendall(adu(tid, (unit + 1) & 0xFF, lie))
            elif m == "wrongtid":
                c.sendall(adu((tid + 1000) & 0xFFFF, unit, lie))
            elif m == "proto":
                c.sendall(adu(tid, unit, lie, proto=1))
            elif m == "fc":
                c.sendall(adu(tid, unit, bytes([fc ^ 7]) + lie[1:]))
            elif m == "bytecount":
                c.sendall(adu(tid, unit, bytes([fc, 2 * count + 2]) +
                              regs(addr, count + 1, 9999)))
            elif m == "mbaplong":
                c.sendall(adu(tid, unit, lie, length=len(lie) + 4) + b"\0" * 3)
            elif m == "mbapshort":
                c.sendall(adu(tid, unit, lie, length=len(lie) - 1))
            elif m == "oversize":
                c.sendall(adu(tid, unit, lie, length=1000) + b"\0" * 100)
            elif m == "exception":
                c.sendall(adu(tid, unit, bytes([fc | 0x80, arg])))
            elif m == "trickle":
                # A frame that claims 250 data bytes, one byte every MS ms.
                frame = adu(tid, unit, bytes([fc, 250]) + b"\x27\x0f" * 125)
                for b in frame:
                    c.sendall(bytes([b]))
                    time.sleep(arg / 1000.0)
    except (EOFError, OSError):
        pass
    finally:
        c.close()


s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(16)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
while True:
    conn, _ = s.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
