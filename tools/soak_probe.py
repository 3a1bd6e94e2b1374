#!/usr/bin/env python3
"""
Soak probe: the soak's flow (four FIX sessions, each a new resting order
and a cancel of its order before, two messages a turn) fed straight into a
simulator's FIX endpoint in this process (control event queue included,
no sockets), on the simulator's garbage-collector policy, timing each
message in CPU time (C{time.thread_time}: what the venue spends on it,
whatever else the machine runs).  Printed per interval of C{--interval}
messages: p50, p99.9 and max of the time per message; at the end, the
slowest messages and the collector's pauses above 1 ms.

A stall of the venue delays every message that arrives meanwhile, so a
stall of a few milliseconds at one message shows in a socket soak's p99.9
and max; this probe shows the stalls themselves, and when they happen
(issue 11, defect 6: maps growing with every order, resized in one go).

Usage: python tools/soak_probe.py [--messages 1200000] [--interval 60000]
"""

import argparse
import gc
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from twisted.internet.testing import MemoryReactorClock  # noqa: E402

from exsim import gcpolicy  # noqa: E402
from exsim.service import Simulator  # noqa: E402
from tests.fixsession_helpers import START, Client, stamp  # noqa: E402


def run(messages, interval, sessions=4, log=print):
    reactor = MemoryReactorClock()
    reactor.advance(START)
    sim = Simulator(reactor)
    sim.create_engine("e1")
    sim.create_book("AAPL", "e1", "AAPL")
    sim.set_book_property("AAPL", "tick_size", "0.01")
    sim.create_endpoint("fix1", "e1", "fix")
    sim.set_protocol_property("fix1", "sender_comp_id", "EXSIM")
    sim.start_endpoint("fix1")
    factory = sim.endpoint("fix1").factory
    clients = [Client(factory, compId="SOAK%d" % n, port=1000 + n) for n in range(sessions)]
    for c in clients:
        c.logon()
    sent = 0
    pauses = []
    started = [0.0]

    def collector(phase, info):
        if phase == "start":
            started[0] = time.thread_time()
        else:
            pause = time.thread_time() - started[0]
            if pause > 0.001:
                pauses.append((sent, info["generation"], pause))

    gc.callbacks.append(collector)
    gcpolicy.freeze()
    previous = gc.get_threshold()
    gc.set_threshold(*gcpolicy.THRESHOLDS)
    try:
        durations = []
        slow = []
        counts = [0] * sessions
        sendingTime = stamp(reactor.seconds())
        refreezeAt = time.monotonic() + gcpolicy.FREEZE_INTERVAL
        rows = []
        while sent < messages:
            turn = sent // 2
            c = clients[turn % sessions]
            k = counts[turn % sessions]
            counts[turn % sessions] += 1
            batch = [c.build("D", [(11, "O%d" % k), (21, "1"), (55, "AAPL"), (54, "1"),
                                   (60, sendingTime), (38, 100), (40, "2"), (44, "90.00"), (59, "0")])]
            if k:
                batch.append(c.build("F", [(11, "C%d" % (k - 1)), (41, "O%d" % (k - 1)), (55, "AAPL"),
                                           (54, "1"), (38, 100), (60, sendingTime)]))
            for data in batch:
                t = time.thread_time()
                c.protocol.dataReceived(data)
                d = time.thread_time() - t
                durations.append(d)
                if d > 0.002:
                    slow.append((sent, d))
                sent += 1
            c.transport.clear()
            if time.monotonic() > refreezeAt:
                # As the simulator's LoopingCall does, once a second.
                gcpolicy.refreeze()
                refreezeAt = time.monotonic() + gcpolicy.FREEZE_INTERVAL
            if len(durations) >= interval:
                durations.sort()
                row = (sent, durations[len(durations) // 2] * 1e3,
                       durations[int(len(durations) * 0.999)] * 1e3, durations[-1] * 1e3)
                rows.append(row)
                log("messages %8d  p50 %.3f ms  p99.9 %.3f ms  max %.2f ms" % row)
                durations = []
    finally:
        gc.callbacks.remove(collector)
        gc.set_threshold(*previous)
        gc.unfreeze()
    log("slowest messages (message number, ms): %s" % (
        ", ".join("%d %.1f" % (n, d * 1e3) for n, d in sorted(slow, key=lambda s: -s[1])[:12]),))
    log("collector pauses over 1 ms (message number, generation, ms): %s" % (
        ", ".join("%d %d %.1f" % (n, g, d * 1e3) for n, g, d in pauses[1:][:20]),))
    return rows, slow, pauses


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1200000)
    parser.add_argument("--interval", type=int, default=60000)
    options = parser.parse_args()
    run(options.messages, options.interval)


if __name__ == "__main__":
    main()
