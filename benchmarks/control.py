"""
Management service figures: create_server/delete, blocking round trips,
event draining.  Medians of 3 runs.

    .venv/bin/python benchmarks/control.py
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import exsim  # noqa: E402


def timeCreateDelete(count=10):
    start = time.perf_counter()
    for _ in range(count):
        exsim.API().create_server().delete()
    return (time.perf_counter() - start) / count


def timeRoundTrips(server, count=2000):
    start = time.perf_counter()
    for _ in range(count):
        server.get_book("AAPL", 1)
    return count / (time.perf_counter() - start)


def timeEvents(server, orders=5000):
    for i in range(orders):
        server.create_order("b%d" % i, "AAPL", side="buy", price="1.00", quantity=1)
        server.submit_order("b%d" % i)
    start = time.perf_counter()
    events = server.get_events()
    return len(events), len(events) / (time.perf_counter() - start)


def main():
    create, trips, drains = [], [], []
    for _ in range(3):
        create.append(timeCreateDelete())
        server = exsim.API().create_server()
        try:
            server.create_engine("e1")
            server.create_book("AAPL", "e1")
            trips.append(timeRoundTrips(server))
            count, rate = timeEvents(server)
            drains.append(rate)
        finally:
            server.delete()
    print("create_server() + delete():      %.1f ms (median of 3 x 10)" % (statistics.median(create) * 1000))
    print("blocking get_book round trips:   %.0f calls/s (median of 3 x 2000)" % statistics.median(trips))
    print("get_events() draining %d events: %.0f events/s (median of 3)" % (count, statistics.median(drains)))


if __name__ == "__main__":
    main()
