#!/usr/bin/env python3
# ctlclient.py - misbehaving clients of hazmond's control socket, for
# tests/integration/control_abuse.sh.  Every mode has its own time limit.
#
#   flood SOCK N LINE   send LINE (a newline is added) N times, never read;
#                       stay connected until the daemon closes us (prints
#                       "closed after S s") or 120 s pass
#   drip SOCK EVERY     send one byte of a request every EVERY seconds, never
#                       a newline; prints "closed after S s" once closed
#   hold SOCK           connect and send nothing; prints "closed after S s"
#   send SOCK FILE      send FILE's bytes, print every answer line (10 s)
#   time SOCK LINE      send one request, print the seconds to its answer
#   fire SOCK LINE      send one request and close at once, both ways
#   slowread SOCK N LINE  send LINE N times while reading the answers
#                       steadily but a little slower than they come; prints
#                       "answers K" (K answers read in at most 60 s)
import socket
import sys
import time


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def closed(s, t0, limit):
    """Waits until the peer closes (EOF or reset); True if it did."""
    s.settimeout(0.2)
    while time.monotonic() - t0 < limit:
        try:
            if s.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


def report(t0):
    print("closed after %.1f s" % (time.monotonic() - t0), flush=True)


def flood(path, n, line):
    s = connect(path)
    data = (line + "\n").encode() * n
    s.setblocking(False)
    t0 = time.monotonic()
    sent = 0
    # Never read: our receive buffer fills, then the daemon's queue.
    while sent < len(data) and time.monotonic() - t0 < 120:
        try:
            sent += s.send(data[sent:])
        except BlockingIOError:
            time.sleep(0.01)
        except OSError:
            break
    print("sent %d of %d bytes" % (sent, len(data)), flush=True)
    # Closed by the daemon: a write fails or (with nothing read) we wait.
    while time.monotonic() - t0 < 120:
        try:
            s.send(b" ")
        except BlockingIOError:
            pass
        except OSError:
            report(t0)
            return
        time.sleep(0.5)


def drip(path, every):
    s = connect(path)
    t0 = time.monotonic()
    s.setblocking(False)
    while time.monotonic() - t0 < 120:
        try:
            s.send(b"{")
            if s.recv(65536) == b"":
                break
        except BlockingIOError:
            pass
        except OSError:
            break
        time.sleep(every)
    report(t0)


def hold(path):
    s = connect(path)
    t0 = time.monotonic()
    if closed(s, t0, 120):
        report(t0)


def send(path, fname):
    s = connect(path)
    with open(fname, "rb") as f:
        data = f.read()
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    s.settimeout(10)
    buf = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            buf += b
    except OSError:
        pass
    sys.stdout.write(buf.decode("utf-8", "replace"))


def timed(path, line):
    s = connect(path)
    s.settimeout(10)
    t0 = time.monotonic()
    s.sendall((line + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        b = s.recv(1 << 20)
        if not b:
            break
        buf += b
    print("%.4f" % (time.monotonic() - t0), flush=True)


def fire(path, line):
    s = connect(path)
    s.sendall((line + "\n").encode())
    s.close()


def slowread(path, n, line):
    s = connect(path)
    s.setblocking(False)
    data = (line + "\n").encode() * n
    sent = answers = 0
    t0 = time.monotonic()
    while answers < n and time.monotonic() - t0 < 60:
        if sent < len(data):
            try:
                sent += s.send(data[sent:])
            except BlockingIOError:
                pass
        try:
            b = s.recv(32768)
            if not b:
                break
            answers += b.count(b"\n")
        except BlockingIOError:
            pass
        time.sleep(0.002)	# at most 16 MB/s
    print("answers %d" % answers, flush=True)


if __name__ == "__main__":
    mode, sock = sys.argv[1], sys.argv[2]
    if mode == "flood":
        flood(sock, int(sys.argv[3]), sys.argv[4])
    elif mode == "drip":
        drip(sock, float(sys.argv[3]))
    elif mode == "hold":
        hold(sock)
    elif mode == "send":
        send(sock, sys.argv[3])
    elif mode == "time":
        timed(sock, sys.argv[3])
    elif mode == "fire":
        fire(sock, sys.argv[3])
    elif mode == "slowread":
        slowread(sock, int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("unknown mode " + mode)
