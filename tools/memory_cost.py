#!/usr/bin/env python3
"""
Memory cost of a FIX session and of an order, measured with tracemalloc on
an in-memory FIX endpoint (real order entry, real engine, no sockets):

- per session: N sessions log on (distinct CompIDs), then log out;
- per resting order: N limit orders rest in the book (with their ack kept
  in the session's store for resend);
- per stored report: what the store keeps per ExecutionReport;
- per order entered and cancelled (the soak's flow): with its two reports
  in the store, and without them (what C{store_limit} does not bound: the
  day's client order ids and the finished orders remembered for status
  requests, each in generations of bounded size).

Usage: python tools/memory_cost.py [--sessions 1000] [--orders 20000]
"""

import argparse
import gc
import os
import sys
import tracemalloc

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from exsim.fix.family import FixFamily  # noqa: E402
from tests.fixsession_helpers import START, Client, stamp  # noqa: E402
from tests.soupfakes import makeEndpoint  # noqa: E402


def measure():
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def run(sessions, orders, log=print, maxLoggedOut=1000):
    # Log events go nowhere, as they go to a file in twistd: not kept in
    # the startup buffer (where they would keep every connection alive).
    from twisted.logger import globalLogBeginner

    globalLogBeginner.beginLoggingTo([lambda event: None], redirectStandardIO=False)
    tracemalloc.start()
    endpoint = makeEndpoint(FixFamily(), name="fix1", max_logged_out_sessions=maxLoggedOut)
    endpoint.reactor.advance(START)
    factory = endpoint.factory
    # One session first, so that what every session shares (the FIX
    # dictionary, loaded at the first logon: some 3 MB) is not counted.
    warm = Client(factory, compId="WARM", port=999)
    warm.logon()
    warm.send("5")
    warm.close()
    del warm
    before = measure()
    clients = []
    for n in range(sessions):
        client = Client(factory, compId="C%d" % (n,), port=1000 + n)
        client.logon()
        clients.append(client)
    loggedOn = measure()
    for client in clients:
        client.send("5")
        client.close()
    del clients
    # The control events reported (kept by the stand-in for the simulator;
    # the simulator's event queue is bounded).
    del endpoint.simulator.events[:]
    loggedOut = measure()
    trader = Client(factory, compId="TRADER", port=1)
    trader.logon()
    start = measure()
    for i in range(orders):
        trader.protocol.dataReceived(trader.build("D", [
            (11, "O%d" % i), (21, "1"), (55, "AAPL"), (54, "1"),
            (60, stamp(trader.reactor.seconds())), (38, 100), (40, "2"), (44, "%.2f" % (10 + i % 100 / 100)),
            (59, "0")]))
        trader.transport.clear()
    resting = measure()
    store = trader.protocol.session.store
    stored = len(store.getMessages(1, 10 ** 9))
    storeBytes = sum(len(m[3]) for m in store.getMessages(1, 10 ** 9))
    # Orders entered and cancelled, as the soak sends them: what stays is
    # the client order ids of the day, the finished orders remembered for
    # status requests, and two reports each in the store.
    canceller = Client(factory, compId="CANCELLER", port=2)
    canceller.logon()
    beforeFinished = measure()
    for i in range(orders):
        canceller.protocol.dataReceived(canceller.build("D", [
            (11, "O%d" % i), (21, "1"), (55, "AAPL"), (54, "1"),
            (60, stamp(canceller.reactor.seconds())), (38, 100), (40, "2"), (44, "9.00"), (59, "0")]))
        canceller.protocol.dataReceived(canceller.build("F", [
            (11, "C%d" % i), (41, "O%d" % i), (55, "AAPL"), (54, "1"), (38, 100),
            (60, stamp(canceller.reactor.seconds()))]))
        canceller.transport.clear()
    finished = measure()
    canceller.protocol.session.store.setLimit(1)
    finishedWithoutStore = measure()
    figures = {
        "per_session_logged_on_bytes": (loggedOn - before) // sessions,
        "per_session_after_logout_bytes": (loggedOut - before) // sessions,
        "per_resting_order_bytes": (resting - start) // orders,
        "per_cancelled_order_bytes": (finished - beforeFinished) // orders,
        "per_cancelled_order_without_store_bytes": (finishedWithoutStore - beforeFinished) // orders,
        "reports_stored": stored,
        "report_body_bytes": storeBytes // max(stored, 1),
    }
    log(" ".join("%s=%s" % item for item in figures.items()))
    tracemalloc.stop()
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--orders", type=int, default=20000)
    parser.add_argument("--max-logged-out-sessions", type=int, default=1000,
                        help="the endpoint's max_logged_out_sessions (0: every session is "
                        "forgotten after its logout)")
    options = parser.parse_args()
    run(options.sessions, options.orders, maxLoggedOut=options.max_logged_out_sessions)


if __name__ == "__main__":
    main()
