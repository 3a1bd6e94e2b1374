"""
Benchmark of the matching engine alone (no I/O).

    python benchmarks/engine.py [--orders N] [--runs 3]

Prints, as the median of --runs runs:
 - adds/s: N non-crossing limit orders on one book;
 - cancels/s: cancelling all of them;
 - mixed ops/s: N operations, 60% adds near the touch, 30% cancels of
   random live orders, 10% aggressive crossing orders;
 - peak RSS with N resting orders;
 - the worst single-operation time of a mixed flow while the book holds N
   resting orders;
 - mixed ops/s of the reference engine (exsim/engine/reference.py, plain
   and unoptimised) on the same flow, of --reference-orders operations
   (it is many times slower): the figure beside the fast engine's;
 - advanced ops/s: the mixed flow where, of all operations, 10% are stop
   orders, 10% icebergs and 5% midpoint pegs (instead of plain adds), on
   --advanced-orders operations (the book is special: the slow paths of
   exsim/engine/special.py);
 - the time of one uncross (pre_open to continuous) of a book holding
   --uncross-orders resting orders that cross (default 100,000), on both
   engines (the reference one on at most 2,000).
Events are delivered to a listener that counts them.
"""

import argparse
import gc
import os
import random
import resource
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from collections import deque  # noqa: E402
from heapq import heappop, heappush  # noqa: E402

from exsim import gcpolicy  # noqa: E402
from exsim.engine.matching import MatchingEngine  # noqa: E402
from exsim.engine.reference import ReferenceEngine  # noqa: E402
from exsim.model import AdvancedTerms, Instrument, Order, OrdType, Side  # noqa: E402

#: CPU time of this process: on a shared machine, other processes' load
#: does not count against the engine (wall-clock time would).
CLOCK = time.process_time

BUY = Side.BUY
SELL = Side.SELL
MID = 1000000  # 100.00
TICK = 100


class Counter:
    def __init__(self):
        self.count = 0

    def engineEvents(self, events):
        self.count += len(events)


def makeEngine(engineClass=MatchingEngine):
    engine = engineClass("bench")
    engine.addBook(Instrument("BENCH", tickSize=TICK))
    counter = Counter()
    engine.subscribe(counter)
    return engine, counter


def restingOrders(n, rng):
    """
    Yield n non-crossing orders: bids below MID, asks above, within 200
    ticks.
    """
    for i in range(n):
        if i & 1:
            yield Order("bench", "r%d" % i, "BENCH", BUY, 100, MID - TICK * rng.randint(1, 200))
        else:
            yield Order("bench", "r%d" % i, "BENCH", SELL, 100, MID + TICK * rng.randint(1, 200))


def addsAndCancels(n, seed):
    rng = random.Random(seed)
    engine, counter = makeEngine()
    submit = engine.submitNew
    # Orders are built in batches outside the timed part, without keeping
    # a million of them in a list of the benchmark's own.
    orders = restingOrders(n, rng)
    elapsed = 0.0
    for start in range(0, n, 10000):
        batch = [next(orders) for _ in range(min(10000, n - start))]
        t0 = CLOCK()
        for order in batch:
            submit(order)
        elapsed += CLOCK() - t0
    del batch
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    cancel = engine.submitCancel
    t2 = CLOCK()
    # The engine numbers orders 1..n in submission order.
    for orderId in range(1, n + 1):
        cancel("bench", None, None, orderId)
    t3 = CLOCK()
    assert not engine.books["BENCH"].bids and not engine.books["BENCH"].asks
    return n / elapsed, n / (t3 - t2), rss, counter.count


def mixedOps(n, rng, firstOrderId, advanced=False):
    """
    Pre-generate n operations: (0, order) for an add near the touch,
    (1, orderId) for a cancel of a random earlier add, (2, order) for an
    aggressive crossing order.  Order ids are known in advance (the engine
    numbers orders 1, 2, 3, ... in submission order), so a cancel names its
    target directly and the timed loop does no bookkeeping of its own.  A
    target that has traded away meanwhile is rejected by the engine (too
    late to cancel), as on a venue.
    """
    ops = []
    cancellable = []
    nextId = firstOrderId
    for i in range(n):
        r = rng.random()
        cid = "c%d" % (nextId,)
        if r < 0.6 or (r < 0.9 and not cancellable):
            buy = rng.random() < 0.5
            size = rng.randint(1, 10) * 100
            away = TICK * rng.randint(1, 20)
            if advanced and r < 0.25:
                order = _advancedOrder(cid, buy, size, away, r, rng)
            elif buy:
                order = Order("bench", cid, "BENCH", BUY, size, MID - away)
            else:
                order = Order("bench", cid, "BENCH", SELL, size, MID + away)
            ops.append((0, order))
            cancellable.append(nextId)
            nextId += 1
        elif r < 0.9:
            j = int(rng.random() * len(cancellable))
            cancellable[j], cancellable[-1] = cancellable[-1], cancellable[j]
            ops.append((1, cancellable.pop()))
        else:
            if rng.random() < 0.5:
                order = Order("bench", cid, "BENCH", BUY, rng.randint(1, 5) * 100,
                              MID + TICK * rng.randint(1, 5))
            else:
                order = Order("bench", cid, "BENCH", SELL, rng.randint(1, 5) * 100,
                              MID - TICK * rng.randint(1, 5))
            ops.append((2, order))
            nextId += 1
    return ops


def _advancedOrder(cid, buy, size, away, r, rng):
    """
    One of the advanced flow's orders: r < 0.10 a stop (a buy stop above
    the middle, a sell stop below: trades near the touch trigger some),
    r < 0.20 an iceberg showing a fifth, else (r < 0.25) a midpoint peg.
    """
    side = BUY if buy else SELL
    if r < 0.10:
        stop = MID + away if buy else MID - away
        return Order("bench", cid, "BENCH", side, size, None, OrdType.STOP,
                     extra=AdvancedTerms(stopPx=stop))
    if r < 0.20:
        price = MID - away if buy else MID + away
        return Order("bench", cid, "BENCH", side, size, price,
                     extra=AdvancedTerms(displayQty=size // 5))
    return Order("bench", cid, "BENCH", side, size, None, OrdType.PEGGED, extra=AdvancedTerms())


def runMixed(engine, ops, timeEach=False):
    """
    Run pre-generated operations.

    @return: the worst single-operation time if C{timeEach}, else 0.
    """
    submit = engine.submitNew
    cancel = engine.submitCancel
    if not timeEach:
        for kind, arg in ops:
            if kind == 1:
                cancel("bench", None, None, arg)
            else:
                submit(arg)
        return 0.0
    worst = 0.0
    clock = CLOCK
    for kind, arg in ops:
        t = clock()
        if kind == 1:
            cancel("bench", None, None, arg)
        else:
            submit(arg)
        d = clock() - t
        if d > worst:
            worst = d
    return worst


def mixed(n, seed, engineClass=MatchingEngine, advanced=False):
    rng = random.Random(seed)
    engine, counter = makeEngine(engineClass)
    ops = mixedOps(n, rng, 1, advanced)
    gc.collect()
    t0 = CLOCK()
    runMixed(engine, ops)
    t1 = CLOCK()
    engine.books["BENCH"].validateInternalState()
    return n / (t1 - t0), counter.count, engine.books["BENCH"].volume


class BareBook:
    """
    The reference point: a bare price-time book in plain Python (levels in
    dicts of deques, best prices from heaps, lazy cancel), with no events,
    no validation, no owners and no client order ids.  The engine does all
    of that and more; the ratio of the two is the figure to watch.
    """

    def __init__(self):
        self.orders = {}
        self.bids = {}
        self.asks = {}
        self.bidHeap = []
        self.askHeap = []
        self.nextId = 1
        self.filled = 0

    def submitNew(self, order):
        orderId = self.nextId
        self.nextId += 1
        order.orderId = orderId
        isBuy = order.isBuy
        price = order.price
        leaves = order.quantity
        if isBuy:
            heap, levels, own, ownHeap, sign = self.askHeap, self.asks, self.bids, self.bidHeap, -1
        else:
            heap, levels, own, ownHeap, sign = self.bidHeap, self.bids, self.asks, self.askHeap, 1
        while leaves and heap:
            best = -heap[0] * sign
            level = levels.get(best)
            if level is None:
                heappop(heap)
                continue
            if (best > price) if isBuy else (best < price):
                break
            queue = level[0]
            while leaves and level[1]:
                resting = queue[0]
                if resting[1] == 0:
                    queue.popleft()
                    continue
                qty = min(leaves, resting[1])
                resting[1] -= qty
                leaves -= qty
                if not resting[1]:
                    queue.popleft()
                    level[1] -= 1
                    del self.orders[resting[0]]
            if not level[1]:
                del levels[best]
        self.filled += order.quantity - leaves
        if leaves:
            entry = [orderId, leaves, price, isBuy]
            self.orders[orderId] = entry
            level = own.get(price)
            if level is None:
                level = own[price] = [deque(), 0]
                heappush(ownHeap, price * sign)
            level[0].append(entry)
            level[1] += 1

    def submitCancel(self, owner, clOrdId, origClOrdId, orderId):
        entry = self.orders.pop(orderId, None)
        if entry is not None:
            entry[1] = 0
            levels = self.bids if entry[3] else self.asks
            level = levels[entry[2]]
            level[1] -= 1
            if not level[1]:
                del levels[entry[2]]


def bareMixed(n, seed):
    rng = random.Random(seed)
    book = BareBook()
    ops = mixedOps(n, rng, 1)
    gc.collect()
    t0 = CLOCK()
    runMixed(book, ops)
    rate = n / (CLOCK() - t0)
    # The same flow on the engine trades the same quantity.
    engine, _ = makeEngine()
    runMixed(engine, mixedOps(n, random.Random(seed), 1))
    assert book.filled == engine.books["BENCH"].volume, (book.filled, engine.books["BENCH"].volume)
    return rate


def worstWithResting(n, seed, mixedCount=200000):
    """
    Load n resting orders, apply the GC policy the simulator uses after
    start-up, then time each operation of a mixed flow.
    """
    rng = random.Random(seed)
    engine, counter = makeEngine()
    for order in restingOrders(n, rng):
        engine.submitNew(order)
    ops = mixedOps(mixedCount, rng, n + 1)
    gcpolicy.freeze()
    worst = runMixed(engine, ops, timeEach=True)
    return worst, engine.books["BENCH"].orderCount()


def uncrossTime(n, seed, engineClass=MatchingEngine):
    """
    Rest n orders in a book's opening call, half buys and half sells over
    100 ticks around MID (they cross: most of them trade), then time the
    change to the continuous phase, the uncross included.

    @return: (seconds, quantity traded, orders left in the book)
    """
    rng = random.Random(seed)
    engine, counter = makeEngine(engineClass)
    engine.setBookProperty("BENCH", "phase", "pre_open")
    for i in range(n):
        side = BUY if i & 1 else SELL
        price = MID + TICK * rng.randint(-50, 50)
        engine.submitNew(Order("bench", "u%d" % i, "BENCH", side, rng.randint(1, 10) * 100, price))
    book = engine.books["BENCH"]
    gc.collect()
    t0 = CLOCK()
    engine.setBookProperty("BENCH", "phase", "continuous")
    elapsed = CLOCK() - t0
    book.validateInternalState()
    return elapsed, book.volume, book.orderCount()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1000000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--reference-orders", type=int, default=None,
        help="operations of the reference engine's mixed flow (default: --orders, at most 200000)",
    )
    parser.add_argument(
        "--only",
        choices=["adds", "mixed", "worst", "bare", "reference", "advanced", "uncross", "rss-child"],
        default=None,
    )
    parser.add_argument(
        "--advanced-orders", type=int, default=None,
        help="operations of the advanced flow (default: --orders, at most 200000)",
    )
    parser.add_argument("--uncross-orders", type=int, default=100000)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    n = args.orders
    print("python %s, %d orders, median of %d runs" % (sys.version.split()[0], n, args.runs))
    if args.only == "rss-child":
        print(addsAndCancels(n, args.seed)[2])
        return
    if args.only in (None, "adds"):
        # Peak RSS needs a fresh process for each run: memory an earlier
        # run freed is not always handed back to the system.  The children
        # run first, while this process is small: a child started by
        # vfork+exec inherits its parent's peak RSS.
        rss = [
            float(subprocess.check_output(
                [sys.executable, __file__, "--only", "rss-child", "--orders", str(n), "--seed", str(seed)]
            ).split()[-1])
            for seed in range(args.runs)
        ]
        results = [addsAndCancels(n, seed) for seed in range(args.runs)]
        print("adds:    %10.0f ops/s" % statistics.median(r[0] for r in results))
        print("cancels: %10.0f ops/s" % statistics.median(r[1] for r in results))
        print("peak RSS of a process holding %d resting orders: %.0f MB" % (n, statistics.median(rss)))
    if args.only in (None, "mixed"):
        results = [mixed(n, seed) for seed in range(args.runs)]
        print("mixed:   %10.0f ops/s (%d events per run delivered)" % (
            statistics.median(r[0] for r in results), results[0][1]))
    if args.only in (None, "reference"):
        count = args.reference_orders or min(n, 200000)
        results = [mixed(count, seed, ReferenceEngine) for seed in range(args.runs)]
        # The same flow traded the same quantity on the fast engine.
        fast = mixed(count, 0)
        assert fast[1:] == results[0][1:], (fast, results[0])
        print("mixed on the reference engine (%d ops): %10.0f ops/s" % (
            count, statistics.median(r[0] for r in results)))
    if args.only in (None, "advanced"):
        count = args.advanced_orders or min(n, 200000)
        results = [mixed(count, seed, advanced=True) for seed in range(args.runs)]
        # The same flow on the reference engine: the same events and volume.
        check = min(count, 20000)
        fast = mixed(check, 0, advanced=True)
        reference = mixed(check, 0, ReferenceEngine, advanced=True)
        assert fast[1:] == reference[1:], (fast, reference)
        print("advanced: %10.0f ops/s (%d ops: 10%% stops, 10%% icebergs, 5%% pegs; %d events)" % (
            statistics.median(r[0] for r in results), count, results[0][1]))
    if args.only in (None, "bare"):
        bare = statistics.median(bareMixed(n, seed) for seed in range(args.runs))
        print("mixed on a bare price-time book (no events, no checks): %10.0f ops/s" % bare)
    if args.only in (None, "uncross"):
        count = args.uncross_orders
        results = [uncrossTime(count, seed) for seed in range(args.runs)]
        print("uncross of %d resting orders: %.3f s (median; %d traded, %d left in the book)" % (
            count, statistics.median(r[0] for r in results), results[0][1], results[0][2]))
        # The reference engine's levels are plain lists, summed whenever
        # an event reports one: entering n orders over 100 ticks costs
        # O(n / 100) each.
        count = min(count, 2000)
        results = [uncrossTime(count, seed, ReferenceEngine) for seed in range(args.runs)]
        fast = uncrossTime(count, 0)
        assert fast[1:] == results[0][1:], (fast, results[0])
        print("uncross of %d resting orders on the reference engine: %.3f s" % (
            count, statistics.median(r[0] for r in results)))
    if args.only in (None, "worst"):
        results = [worstWithResting(n, seed) for seed in range(args.runs)]
        print("worst single operation with %d resting: %.2f ms (median of runs; max %.2f ms)" % (
            results[0][1], statistics.median(r[0] for r in results) * 1000,
            max(r[0] for r in results) * 1000))


if __name__ == "__main__":
    main()
