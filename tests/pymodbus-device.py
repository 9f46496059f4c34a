#!/usr/bin/python3
"""pymodbus-device.py - a Modbus device built on pymodbus, not on our code.

    pymodbus-device.py tcp READYFILE      (port written to READYFILE)
    pymodbus-device.py rtu TTY READYFILE

An independent implementation of the protocol (Debian's python3-pymodbus),
so that the tests do not only check hazmond against the project's own
simulator.  Unit 1 holds values of every type and word order; unit 2 one
input register, a coil and a discrete input.
"""
import os
import socket
import struct
import sys
import threading
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server import StartSerialServer, StartTcpServer
from pymodbus.transaction import ModbusRtuFramer


def words(fmt, value, order):
    """Registers of a value in a word order named as libmodbus names it."""
    b = struct.pack(">" + fmt, value)
    if order in ("BADC", "DCBA"):
        b = b"".join(bytes([b[i + 1], b[i]]) for i in range(0, len(b), 2))
    w = [b[i] << 8 | b[i + 1] for i in range(0, len(b), 2)]
    if order in ("CDAB", "DCBA"):
        w.reverse()
    return w


hr = [0] * 100
for addr, fmt, value, order in [(0, "f", 12.5, "ABCD"), (2, "f", 23.25, "CDAB"),
                                (4, "f", -7.75, "BADC"), (6, "f", 1000.5, "DCBA"),
                                (8, "h", -5, "ABCD"), (9, "H", 209, "ABCD"),
                                (10, "i", -70000, "CDAB"), (12, "I", 4000000, "ABCD"),
                                (20, "d", 3.0625, "DCBA")]:
    w = words(fmt, value, order)
    hr[addr:addr + len(w)] = w
ir = [0] * 100
ir[20] = 33
co = [0] * 100
co[3] = 1
di = [0] * 100
di[5] = 1
u1 = ModbusSlaveContext(hr=ModbusSequentialDataBlock(0, hr), zero_mode=True)
u2 = ModbusSlaveContext(ir=ModbusSequentialDataBlock(0, ir),
                        co=ModbusSequentialDataBlock(0, co),
                        di=ModbusSequentialDataBlock(0, di), zero_mode=True)
ctx = ModbusServerContext(slaves={1: u1, 2: u2}, single=False)


def ready(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


if sys.argv[1] == "tcp":
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()

    def announce():
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                ready(sys.argv[2], "%d\n" % port)
                return
            except OSError:
                time.sleep(0.05)
    threading.Thread(target=announce, daemon=True).start()
    StartTcpServer(context=ctx, address=("127.0.0.1", port))
else:
    threading.Timer(0.5, ready, (sys.argv[3], "ready\n")).start()
    StartSerialServer(context=ctx, framer=ModbusRtuFramer, port=sys.argv[2],
                      baudrate=9600, bytesize=8, parity="N", stopbits=1)
