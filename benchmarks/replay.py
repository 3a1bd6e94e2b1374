"""
Benchmark of a replay at C{max} speed: an ITCH 5.0 file of one symbol
replayed into a book (no I/O but the file).

    python benchmarks/replay.py [--messages 1000000] [--runs 3] [--engine matching]

Writes an ITCH file (each message preceded by its two-byte length) of
--messages messages for one symbol with exsim's own encoder: a mix like a
busy Nasdaq symbol's (about 45 % Add Order, 40 % Order Delete, 7 % Order
Replace, 4 % Order Executed, 3 % Order Cancel, 1 % Trade) within 25 ticks
of a middle price, never crossed, the book holding a few thousand orders.  Then, in a fresh
process per run, a simulator (engine, book, control event queue) replays
it with C{start_replay(book, path, speed="max")} on a task.Clock, pumped
until the replay finishes; an ITCH feed endpoint can be added
(--with-itch) to include publishing.  Prints per run the messages per
second of CPU time and of wall-clock time and the peak RSS of that
process, then the medians.
"""

import argparse
import json
import os
import random
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

SYMBOL = "BENCH"
LOCATE = 1


def writeRecording(path, messages, seed=1):
    """
    Write an ITCH file of C{messages} messages for L{SYMBOL}.
    """
    from exsim.soup import itch50

    rnd = random.Random(seed)
    live = {}
    keys = []
    ref = 0
    match = 0
    mid = 1500000
    now = 34200 * 10**9
    with open(path, "wb") as f:
        def put(payload):
            f.write(struct.pack(">H", len(payload)))
            f.write(payload)

        put(itch50.systemEvent(0, now, b"O"))
        put(itch50.stockDirectory(LOCATE, 0, now, SYMBOL))
        written = 2
        while written < messages:
            now += rnd.randint(1000, 50000)
            r = rnd.random()
            # About 3,000 orders in the book: more adds below, fewer above.
            if r < (0.45 if len(keys) < 3000 else 0.40) or len(keys) < 2000:
                ref += 1
                buy = rnd.random() < 0.5
                offset = rnd.randint(1, 25) * 100
                price = mid - offset if buy else mid + offset
                shares = rnd.randint(1, 5) * 100
                live[ref] = [buy, shares, price, len(keys)]
                keys.append(ref)
                put(itch50.addOrder(LOCATE, 0, now, ref, b"B" if buy else b"S", shares, SYMBOL, price))
            else:
                k = keys[rnd.randrange(len(keys))]
                order = live[k]
                done = False
                if r < 0.85:
                    put(itch50.orderDelete(LOCATE, 0, now, k))
                    done = True
                elif r < 0.92:
                    ref += 1
                    shares = rnd.randint(1, 5) * 100
                    price = order[2] + rnd.choice((-100, 100))
                    if (order[0] and price >= mid) or (not order[0] and price <= mid):
                        # Never through the middle: a recorded book is
                        # never crossed.
                        price = order[2]
                    put(itch50.orderReplace(LOCATE, 0, now, k, ref, shares, price))
                    done = True
                    live[ref] = [order[0], shares, price, len(keys)]
                    keys.append(ref)
                elif r < 0.96:
                    match += 1
                    shares = rnd.randint(1, order[1] // 100) * 100
                    put(itch50.orderExecuted(LOCATE, 0, now, k, shares, match))
                    order[1] -= shares
                    done = not order[1]
                elif r < 0.99:
                    shares = rnd.randint(1, order[1] // 100) * 100
                    put(itch50.orderCancel(LOCATE, 0, now, k, shares))
                    order[1] -= shares
                    done = not order[1]
                else:
                    match += 1
                    put(itch50.trade(LOCATE, 0, now, 100, SYMBOL, mid, match))
                if done:
                    # Swap-remove from the keys (O(1)).
                    index = order[3]
                    last = keys.pop()
                    if last != k:
                        keys[index] = last
                        live[last][3] = index
                    del live[k]
            written += 1


def runOnce(path, engineClass, withItch):
    """
    One replay in this process: prints a JSON line of figures.
    """
    from twisted.internet.task import Clock

    from exsim import gcpolicy
    from exsim.service import Simulator

    clock = Clock()
    clock.advance(1700000000)
    simulator = Simulator(clock)
    simulator.dataDir = os.path.dirname(os.path.abspath(path))
    simulator.create_engine("e1", engineClass)
    simulator.create_book(SYMBOL, "e1")
    if withItch:
        simulator.create_endpoint("itch1", "e1", "itch")
        from exsim.soup.itch import family

        endpoint = simulator.endpoints["itch1"]
        endpoint.factory = family.buildFactory(endpoint)
    gcpolicy.install(clock)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    simulator.start_replay(SYMBOL, os.path.basename(path), speed="max")
    replay = simulator.replays.get(SYMBOL)
    last = wall0
    while replay.state == "running":
        # The clock follows the wall clock, so that the server's periodic
        # work (the garbage-collector policy's freeze) runs as it would.
        now = time.perf_counter()
        clock.advance(now - last)
        last = now
    cpu = time.process_time() - cpu0
    wall = time.perf_counter() - wall0
    figures = replay.describe()
    if figures["state"] != "finished":
        raise SystemExit("the replay did not finish: %r" % (figures,))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({
        "messages": figures["messages"], "cpu": cpu, "wall": wall, "rss_mb": rss,
        "orders": figures["orders"], "live_orders": figures["live_orders"],
        "conflicts": figures["conflicts"], "rejected": figures["rejected"],
    }))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1000000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", default="matching")
    parser.add_argument("--with-itch", action="store_true", help="also publish an ITCH feed")
    parser.add_argument("--file", help="replay this file (written if missing)")
    parser.add_argument("--run-once", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.run_once:
        runOnce(options.run_once, options.engine, options.with_itch)
        return
    directory = None
    path = options.file
    if path is None:
        directory = tempfile.mkdtemp(prefix="exsim-replay-bench-")
        path = os.path.join(directory, "bench.itch")
    if not os.path.exists(path):
        started = time.perf_counter()
        writeRecording(path, options.messages)
        print("wrote %s (%d messages, %.1f MB) in %.1f s" % (
            path, options.messages, os.path.getsize(path) / 1e6, time.perf_counter() - started))
    results = []
    try:
        for run in range(options.runs):
            command = [sys.executable, os.path.abspath(__file__), "--run-once", path,
                       "--engine", options.engine]
            if options.with_itch:
                command.append("--with-itch")
            output = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
            figures = json.loads(output.strip().splitlines()[-1])
            results.append(figures)
            print("run %d: %d messages in %.2f s CPU (%.0f messages/s), %.2f s wall (%.0f messages/s), "
                  "peak RSS %.0f MB; %d orders entered, %d live at the end" % (
                      run + 1, figures["messages"], figures["cpu"], figures["messages"] / figures["cpu"],
                      figures["wall"], figures["messages"] / figures["wall"], figures["rss_mb"],
                      figures["orders"], figures["live_orders"]))
    finally:
        if directory is not None:
            os.remove(path)
            os.rmdir(directory)
    cpuRate = statistics.median(r["messages"] / r["cpu"] for r in results)
    wallRate = statistics.median(r["messages"] / r["wall"] for r in results)
    rss = statistics.median(r["rss_mb"] for r in results)
    print("median of %d: %.0f messages/s (CPU), %.0f messages/s (wall), peak RSS %.0f MB"
          % (len(results), cpuRate, wallRate, rss))


if __name__ == "__main__":
    main()
