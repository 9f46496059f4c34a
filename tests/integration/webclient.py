#!/usr/bin/python3
"""webclient.py - misbehaving clients for tests/integration/web_http.sh.

  idle HOST PORT N READY         open N TCP connections, send nothing
  stuck-sse HOST PORT N READY    N clients open /events and never read
  stuck-watch SOCKET 0 N READY   N clients start a watch on hazmond's read
                                 socket and never read

Each writes READY once its connections are made, then holds them until
it is stopped (SIGTERM).  Receive buffers are made small so that a client
that never reads fills up soon.
"""
import signal
import socket
import sys
import time


def main():
    mode, where, port, n, ready = sys.argv[1:6]
    conns = []
    for _ in range(int(n)):
        if mode == "stuck-watch":
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(where)
            s.sendall(b'{"cmd":"watch"}\n')
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            try:
                s.connect((where, int(port)))
            except OSError:
                continue
            if mode == "stuck-sse":
                s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
        conns.append(s)
    with open(ready, "w") as f:
        f.write("%d\n" % len(conns))
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    while True:
        time.sleep(3600)


main()
