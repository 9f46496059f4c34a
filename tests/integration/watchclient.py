#!/usr/bin/env python3
# watchclient.py - clients of hazmond's watch stream (docs/control.md), for
# tests/integration/ctl_watch*.sh.  Every mode has its own time limit.
#
#   read SOCK OUT SECONDS   send {"cmd":"watch"}, append every line received
#                           to OUT as it comes (flushed), for SECONDS or until
#                           hazmond closes; then prints "closed" or "timeout"
#   stuck SOCK SECONDS      send {"cmd":"watch"} and never read; prints
#                           "closed after S s" once hazmond closed us, or
#                           "timeout" after SECONDS
#   chatty SOCK OUT SECONDS as read, but also sends a request line every
#                           0.2 s, which hazmond must read and drop
import socket
import sys
import time

WATCH = b'{"cmd":"watch"}\n'


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.sendall(WATCH)
    return s


def read(path, out, limit, chatty=False):
    s = connect(path)
    s.settimeout(0.2)
    t0 = time.monotonic()
    nxt = t0
    buf = b""
    with open(out, "ab", buffering=0) as f:
        while time.monotonic() - t0 < limit:
            if chatty and time.monotonic() >= nxt:
                s.sendall(b'{"cmd":"ack","sensor":"nobody"}\n')
                nxt += 0.2
            try:
                data = s.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                data = b""
            if data == b"":
                if buf:
                    f.write(buf)
                print("closed", flush=True)
                return
            buf += data
            nl = buf.rfind(b"\n")
            if nl >= 0:
                f.write(buf[:nl + 1])
                buf = buf[nl + 1:]
    print("timeout", flush=True)


def stuck(path, limit):
    s = connect(path)
    # The smallest receive buffer: the daemon's side fills up at once.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        # Whether hazmond closed us, without reading anything: a peek
        # would read; a write to a closed peer fails.
        try:
            s.send(b"\n", socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL)
        except BlockingIOError:
            pass
        except OSError:
            print("closed after %.1f s" % (time.monotonic() - t0), flush=True)
            return
        time.sleep(0.2)
    print("timeout", flush=True)


def main():
    mode = sys.argv[1]
    if mode == "read":
        read(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    elif mode == "chatty":
        read(sys.argv[2], sys.argv[3], float(sys.argv[4]), chatty=True)
    elif mode == "stuck":
        stuck(sys.argv[2], float(sys.argv[3]))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
