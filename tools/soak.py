#!/usr/bin/env python3
"""
Soak: N minutes of orders and cancels against a twistd exsim process, and
what its memory and ack latency do meanwhile (issue 11, defect 6).

A real twistd process (memory FIX store, one book); four FIX sessions on
one client process send new orders (resting buys) and cancels of them,
paced at C{--rate} messages a second in all (default 2,000).  The ack
latency is the time from writing a NewOrderSingle to reading its
ExecutionReport (150=0), as the client sees it.  Printed once per interval
(C{--interval} seconds): the server's RSS, the messages sent, the acks'
p50, p99.9 and max; at the end, the RSS growth and p99.9 of the first and
last intervals.

The process is stopped at the end, whatever happens.

Usage: python tools/soak.py [--minutes 10] [--rate 2000] [--sessions 4] [--interval 60]
"""

import argparse
import os
import re
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from campaign import Venue, fixMessage, logon  # noqa: E402

CONFIG = """\
[control]
listen = tcp:0:interface=127.0.0.1
users = admin:soak

[engine:e1]

[book:AAPL]
engine = e1
tick_size = 0.01

[endpoint:fix1]
engine = e1
protocol = fix
listen = tcp:{port}:interface=127.0.0.1
sender_comp_id = EXSIM
target_comp_id = *
"""

_END = re.compile(rb"\x0110=\d{3}\x01")
_ACK = re.compile(rb"\x0111=(O[0-9]+)\x01(?:.*?\x01)?150=0\x01", re.S)


def percentile(values, fraction):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * fraction))]


class Session:
    def __init__(self, port, name):
        self.name = name.encode()
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(logon(self.name))
        self.seq = 2
        self.order = 0
        self.buffer = b""
        self.sentAt = {}

    def step(self, now):
        """
        A new order and (from the second on) a cancel of the one before:
        two messages.
        """
        i = self.order
        self.order += 1
        side = b"1"
        body = b"11=O%d\x0121=1\x0155=AAPL\x0154=%s\x0160=%s\x0138=100\x0140=2\x0144=90.00\x0159=0\x01" % (
            i, side, time.strftime("%Y%m%d-%H:%M:%S", time.gmtime()).encode())
        data = fixMessage(b"D", self.name, self.seq, body)
        self.seq += 1
        count = 1
        if i:
            body = b"11=C%d\x0141=O%d\x0155=AAPL\x0154=1\x0138=100\x0160=%s\x01" % (
                i - 1, i - 1, time.strftime("%Y%m%d-%H:%M:%S", time.gmtime()).encode())
            data += fixMessage(b"F", self.name, self.seq, body)
            self.seq += 1
            count = 2
        self.sentAt[b"O%d" % (i,)] = now
        self.sock.sendall(data)
        return count

    def received(self, now, latencies):
        data = self.sock.recv(1 << 20)
        if not data:
            raise RuntimeError("session %s: the venue closed the connection" % (self.name,))
        buffer = self.buffer + data
        last = 0
        for end in _END.finditer(buffer):
            message = buffer[last:end.end()]
            last = end.end()
            if b"\x0135=8\x01" in message:
                ack = _ACK.search(message)
                if ack is not None:
                    sent = self.sentAt.pop(ack.group(1), None)
                    if sent is not None:
                        latencies.append(now - sent)
        self.buffer = buffer[last:]


def run(minutes, rate, sessions, interval, log=print):
    with Venue(CONFIG) as venue:
        clients = [Session(venue.port, "SOAK%d" % (n,)) for n in range(sessions)]
        time.sleep(0.5)
        for c in clients:
            c.sock.setblocking(False)
            try:
                c.sock.recv(1 << 20)
            except BlockingIOError:
                pass
        bySocket = {c.sock: c for c in clients}
        start = time.monotonic()
        end = start + minutes * 60
        sent = 0
        windowStart = start
        windowSent = 0
        latencies = []
        rows = []
        turn = 0
        log("venue pid %d, RSS %.1f MB at start" % (venue.pid, venue.rss()))
        log("%8s %9s %9s %9s %9s %9s %9s" % ("t (s)", "RSS MB", "msgs/s", "acks", "p50 ms", "p99.9 ms", "max ms"))
        while True:
            now = time.monotonic()
            if now >= end:
                break
            due = int((now - start) * rate)
            while sent < due:
                c = clients[turn % sessions]
                turn += 1
                n = c.step(time.monotonic())
                sent += n
                windowSent += n
            readable, _, _ = select.select(list(bySocket), [], [], 0.002)
            now = time.monotonic()
            for s in readable:
                bySocket[s].received(now, latencies)
            if now - windowStart >= interval:
                row = (now - start, venue.rss(), windowSent / (now - windowStart), len(latencies),
                       percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.999) * 1e3,
                       max(latencies) * 1e3 if latencies else float("nan"))
                rows.append(row)
                log("%8.0f %9.1f %9.0f %9d %9.2f %9.2f %9.2f" % row)
                windowStart, windowSent, latencies = now, 0, []
        for c in clients:
            c.sock.close()
        if not rows:
            log("no complete interval")
            return None
        first, last = rows[0], rows[-1]
        figures = {
            "rss_first_mb": round(first[1], 1), "rss_last_mb": round(last[1], 1),
            "rss_growth_mb": round(last[1] - first[1], 1),
            "p999_first_ms": round(first[5], 2), "p999_last_ms": round(last[5], 2),
            "p999_ratio": round(last[5] / first[5], 2) if first[5] else None,
            "max_last_ms": round(last[6], 2),
        }
        log(" ".join("%s=%s" % item for item in figures.items()))
        errors = venue.log().count("Unhandled Error") + venue.log().count("Traceback")
        log("tracebacks in the venue's log: %d" % (errors,))
        return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=int, default=2000, help="orders and cancels a second, in all")
    parser.add_argument("--sessions", type=int, default=4)
    parser.add_argument("--interval", type=float, default=60, help="seconds per printed line")
    options = parser.parse_args()
    run(options.minutes, options.rate, options.sessions, options.interval)


if __name__ == "__main__":
    main()
