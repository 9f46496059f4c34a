#!/usr/bin/python3
"""A broker that speaks only MQTT 3.1.1, made of a real one.

mqtt-v311-proxy.py LISTEN_PORT BROKER_PORT LOG

Listens on 127.0.0.1:LISTEN_PORT.  Each connection's first packet must be a
CONNECT.  Protocol level 4 (3.1.1) or 3 (3.1): the connection is passed on,
byte for byte in both directions, to the real broker on 127.0.0.1:
BROKER_PORT.  Any other level, MQTT 5 among them, is answered as MQTT
3.1.1 section 3.1.2.2 tells a 3.1.1 server to: CONNACK with return code
1 (unacceptable protocol level), then the connection is closed.  Each
CONNECT is logged to LOG as "level N passed" or "level N refused".
Mosquitto itself cannot be told to refuse MQTT 5, hence this.
"""
import socket
import sys
import threading

LISTEN, BROKER, LOG = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
log_lock = threading.Lock()


def note(text):
    with log_lock, open(LOG, "a") as f:
        f.write(text + "\n")


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError
        buf += chunk
    return buf


def first_packet(s):
    """The whole first packet (fixed header, remaining length, body)."""
    head = read_exact(s, 1)
    length, mult, lenbytes = 0, 1, b""
    for _ in range(4):
        b = read_exact(s, 1)
        lenbytes += b
        length += (b[0] & 0x7F) * mult
        mult *= 128
        if not b[0] & 0x80:
            break
    if length > 65536:
        raise EOFError
    return head + lenbytes + read_exact(s, length), len(head + lenbytes)


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(client):
    try:
        pkt, off = first_packet(client)
        # CONNECT: 0x10; variable header: protocol name (2-byte length +
        # text), then the protocol level.
        if pkt[0] >> 4 != 1:
            raise EOFError
        name_len = int.from_bytes(pkt[off:off + 2], "big")
        level = pkt[off + 2 + name_len]
    except (EOFError, IndexError, OSError):
        client.close()
        return
    if level not in (3, 4):
        note("level %d refused" % level)
        try:
            client.sendall(b"\x20\x02\x00\x01")
        except OSError:
            pass
        client.close()
        return
    note("level %d passed" % level)
    upstream = socket.create_connection(("127.0.0.1", BROKER))
    upstream.sendall(pkt)
    threading.Thread(target=pipe, args=(upstream, client), daemon=True).start()
    pipe(client, upstream)
    client.close()
    upstream.close()


def main():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", LISTEN))
    srv.listen(16)
    note("listening")
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


main()
