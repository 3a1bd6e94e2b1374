#!/usr/bin/env python3
"""
Logon storm: N FIX sessions (default 1,000) connect and log on at once to
a twistd exsim process; printed: the time until every Logon is answered
(target: under 1 s; the listen backlog is 1,024), and how many were not.

Every socket is opened first, then all Logons are written, then the
answers read with one select loop.  The process is stopped at the end.

Usage: python tools/logon_storm.py [--sessions 1000]
"""

import argparse
import os
import resource
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from campaign import Venue, logon  # noqa: E402

CONFIG = """\
[control]
listen = tcp:0:interface=127.0.0.1
users = admin:storm

[engine:e1]

[book:AAPL]
engine = e1

[endpoint:fix1]
engine = e1
protocol = fix
listen = tcp:{port}:interface=127.0.0.1
sender_comp_id = EXSIM
target_comp_id = *
"""


def raiseFileLimit(wanted):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))


def run(sessions, timeout=30, log=print):
    raiseFileLimit(sessions * 2 + 100)
    with Venue(CONFIG) as venue:
        time.sleep(0.5)
        started = time.monotonic()
        socks = []
        for n in range(sessions):
            s = socket.socket()
            s.setblocking(False)
            try:
                s.connect(("127.0.0.1", venue.port))
            except BlockingIOError:
                pass
            socks.append((s, logon(b"STORM%d" % (n,))))
        waiting = {}
        toWrite = dict((s, data) for s, data in socks)
        answered = 0
        deadline = started + timeout
        while (toWrite or waiting) and time.monotonic() < deadline:
            readable, writable, _ = select.select(list(waiting), list(toWrite), [], 0.1)
            for s in writable:
                try:
                    s.send(toWrite.pop(s))
                    waiting[s] = b""
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError:
                    toWrite.pop(s, None)
            for s in readable:
                try:
                    data = s.recv(4096)
                except OSError:
                    data = b""
                buffer = waiting[s] + data
                if b"\x0135=A\x01" in buffer and b"\x0110=" in buffer:
                    answered += 1
                    del waiting[s]
                elif not data:
                    del waiting[s]
                else:
                    waiting[s] = buffer
        elapsed = time.monotonic() - started
        log("sessions=%d logged_on=%d not_answered=%d time_s=%.3f venue_rss_mb=%.1f"
            % (sessions, answered, sessions - answered, elapsed, venue.rss()))
        for s, _ in socks:
            s.close()
        return answered, elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    options = parser.parse_args()
    answered, elapsed = run(options.sessions)
    sys.exit(0 if answered == options.sessions else 1)


if __name__ == "__main__":
    main()
