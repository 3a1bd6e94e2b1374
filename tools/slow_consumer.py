#!/usr/bin/env python3
"""
Slow consumer: a FIX client that logs on, then sends orders (on a book
that fills every order: an ack and a fill each) and never reads, against a twistd exsim process with
C{max_pending_output} (default here 4 MiB, the property's default).
Printed: the server's RSS every second, and whether (and when) the slow
client was disconnected (the venue's log line).  Bounded in time
(C{--seconds}); the process is stopped at the end.

Usage: python tools/slow_consumer.py [--seconds 60] [--rate 1000]
"""

import argparse
import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from campaign import Venue, fixMessage, logon  # noqa: E402

CONFIG = """\
[control]
listen = tcp:0:interface=127.0.0.1
users = admin:slow

[engine:e1]

[book:AAPL]
engine = e1
behaviour = auto_fill

[endpoint:fix1]
engine = e1
protocol = fix
listen = tcp:{port}:interface=127.0.0.1
sender_comp_id = EXSIM
target_comp_id = *
max_pending_output = {limit}
"""


def run(seconds, rate, limit, log=print):
    with Venue(CONFIG, limit=limit) as venue:
        slow = socket.socket()
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.connect(("127.0.0.1", venue.port))
        slow.sendall(logon(b"SLOW"))
        time.sleep(0.5)
        seq = 2
        start = time.monotonic()
        nextPrint = start
        sent = 0
        peak = 0.0
        disconnected = None
        log("%6s %8s %8s" % ("t (s)", "RSS MB", "orders"))
        while time.monotonic() - start < seconds:
            now = time.monotonic()
            due = int((now - start) * rate)
            batch = b""
            while sent < due:
                body = b"11=S%d\x0121=1\x0155=AAPL\x0154=1\x0160=%s\x0138=100\x0140=2\x0144=10.00\x0159=0\x01" % (
                    sent, time.strftime("%Y%m%d-%H:%M:%S", time.gmtime()).encode())
                batch += fixMessage(b"D", b"SLOW", seq, body)
                seq += 1
                sent += 1
            if batch:
                try:
                    slow.sendall(batch)
                except OSError:
                    pass
            if now >= nextPrint:
                size = venue.rss()
                peak = max(peak, size)
                log("%6.0f %8.1f %8d" % (now - start, size, sent))
                nextPrint += 1
                if disconnected is None and "slow consumer" in venue.log():
                    disconnected = now - start
                    log("the slow client was disconnected after %.1f s" % (disconnected,))
            time.sleep(0.005)
        slow.close()
        log("peak_rss_mb=%.1f disconnected=%s after_s=%s orders_written=%d max_pending_output=%d"
            % (peak, disconnected is not None,
               None if disconnected is None else round(disconnected, 1), sent, limit))
        for line in venue.log().splitlines():
            if "slow consumer" in line:
                log("venue log: " + line.strip())
        return disconnected, peak


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rate", type=int, default=1000, help="orders a second")
    parser.add_argument("--max-pending-output", type=int, default=4 * 1024 * 1024)
    options = parser.parse_args()
    disconnected, _ = run(options.seconds, options.rate, options.max_pending_output)
    sys.exit(0 if disconnected is not None else 1)


if __name__ == "__main__":
    main()
