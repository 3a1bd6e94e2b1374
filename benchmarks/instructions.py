"""
Instructions per operation, counted by callgrind, of the matching
engine's flows (those of benchmarks/engine.py) and of FIX and OUCH order
entry in process, compared across source trees or git commits: the count
does not depend on what else the machine runs, so two versions can be
compared on a loaded machine where CPU time moves by 10 % or more from run
to run.

    python benchmarks/instructions.py [--flow mixed|adds|fix|ouch[,...]]
        [--orders 100000] [--advanced] [--simulator] [--runs 0] [--cache]
        TARGET [TARGET...]

A TARGET is a source tree (a directory: a checkout, or an older commit
unpacked with C{git archive COMMIT | tar -x -C DIR}) or a git commit of
this repository (C{HEAD}, C{main}, C{9f88acc}: anything C{git rev-parse}
names), checked out in a detached worktree in a temporary directory and
removed at the end.  For each flow and TARGET the flow runs on the
target's own code under C{valgrind --tool=callgrind}; only the
instructions of the timed part are counted (the input is made before;
callgrind dumps its counters at calls of C{getppid}, which nothing else
calls), and printed per operation, with the change from the first
TARGET:

 - C{mixed}: the engine benchmark's mixed flow, made by the target's
   benchmarks/engine.py (60 % adds near the touch, 30 % cancels, 10 %
   crossing orders; with C{--advanced}, 10 % stops, 10 % icebergs and 5 %
   midpoint pegs among them, where the target's engine.py has that flow);
 - C{adds}: non-crossing limit orders, then cancels of them all (two
   figures);
 - C{fix}: pipelined FIX.4.4 NewOrderSingles (pairs that rest and cross,
   as C{benchmarks/fix_gateway.py --in-process}), in chunks of 200, fed
   to a FIX endpoint's protocol on a StringTransport: session layer,
   order entry, engine, ExecutionReports;
 - C{ouch}: the same pairs as OUCH 4.2 Enter Orders in SoupBinTCP
   unsequenced packets, fed to an OUCH endpoint's protocol.

With C{--simulator}, C{fix} and C{ouch} go through a whole simulator
instead (L{exsim.service.Simulator} with its control event queue, as
C{twistd exsim} runs it, on a memory reactor): an endpoint with default
properties (no C{message_log}), a session logged on through the
endpoint's own factory and protocol, N orders fed before the count
(what the first orders cost once is left out: the count is that of
feeding 2N orders less that of N), with the collector's thresholds of the
simulator's garbage-collector policy (C{exsim/gcpolicy.py}, as C{twistd
exsim} runs; with CPython's default thresholds, as before 2026-12-06,
FIX counts 0.3 to 0.5 % fewer at 4,000 orders); a run fails if the venue
refused messages.  The memory reactor's clock stands half a millisecond
after a whole second: a running server's clock is almost never on the
edge of a millisecond, where a UTCTimestamp cannot be taken from the
text of the millisecond before (before 2026-12-06 it stood on the whole
second, and FIX counted every SendingTime and TransactTime formatted
afresh: 188,846 instructions an order for 851c6fc at 4,000 orders,
173,308 inside the millisecond).  With C{--runs R} (R > 0), the C{fix}
and C{ouch} feeds also run R times without valgrind, in fresh
processes: orders per second of CPU time, the median and each run's.

    python benchmarks/instructions.py --flow fix,ouch --simulator \\
        --orders 4000 --runs 3 9f88acc 0631e18 HEAD

With C{--cache}, callgrind also simulates the caches (the same on every
machine: L1 32 kB each for instructions and data, last level 4 MB) and
each figure is followed by the misses per operation (first level,
instructions and data, and last level) and an estimate of cycles as
KCachegrind makes one: instructions + 10 x first-level misses + 100 x
last-level misses.  Instructions alone miss what memory costs: an order
held long after it finished is freed when its memory has gone cold, which
costs cycles, not instructions (the engine notes' ring of the last 1,000
orders of an engine cost 3.5 % of the CPU time of an OUCH order and
nothing that an instruction count shows).  Runs take about twice as long.

    python benchmarks/instructions.py --flow ouch --simulator --cache \
        --orders 10000 851c6fc HEAD

Every process runs with C{PYTHONHASHSEED=0} (the same strings hash alike
in every run: dict probes count too).  Needs valgrind.
"""

import argparse
import gc
import glob
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time

from targets import checkouts

FLOWS = ("mixed", "adds", "fix", "ouch")


# -- in the measured process -----------------------------------------------


def child(tree, n, advanced, flow, simulator):
    """
    In the process callgrind runs: build the flow, then run it between two
    getppid calls (adds: the adds, then the cancels, between three).
    """
    sys.path.insert(0, os.path.join(tree, "benchmarks"))
    if flow in ("fix", "ouch"):
        sys.path.insert(0, tree)
        feed, verify = _feed(flow, n, simulator)
        _collector(simulator)
        os.getppid()
        written = feed()
        os.getppid()
        verify(written)
        # (Bytes written back: the same for two trees that answer alike.)
        print("events %d" % (written,))
        return
    import engine as bench

    engine, counter = bench.makeEngine()
    rng = random.Random(0)
    if flow == "adds":
        orders = list(bench.restingOrders(n, rng))
        gc.collect()
        os.getppid()
        for order in orders:
            engine.submitNew(order)
        os.getppid()
        for orderId in range(1, n + 1):
            engine.submitCancel("bench", None, None, orderId)
        os.getppid()
        print("events %d" % (counter.count,))
        return
    if advanced:
        ops = bench.mixedOps(n, rng, 1, True)
    else:
        ops = bench.mixedOps(n, rng, 1)
    gc.collect()
    os.getppid()
    bench.runMixed(engine, ops)
    os.getppid()
    print("events %d" % (counter.count,))


def cpuChild(tree, n, flow, simulator):
    """
    In a process without valgrind: the CPU seconds the feed takes.
    """
    sys.path.insert(0, os.path.join(tree, "benchmarks"))
    sys.path.insert(0, tree)
    feed, verify = _feed(flow, n, simulator)
    _collector(simulator)
    start = time.process_time()
    written = feed()
    elapsed = time.process_time() - start
    verify(written)
    print("cpu %r" % (elapsed,))


def _collector(simulator):
    """
    Collect and freeze what the set-up made; through a whole simulator,
    also the young generations' thresholds of the simulator's
    garbage-collector policy (C{exsim.gcpolicy.THRESHOLDS}, where the
    target has one), as C{twistd exsim} runs: how often the collector walks
    what survives (events waiting in the control queue) is part of what an
    order costs.
    """
    gc.collect()
    gc.freeze()
    if simulator:
        try:
            from exsim.gcpolicy import THRESHOLDS
        except ImportError:
            return
        gc.set_threshold(*THRESHOLDS)


def _feed(flow, n, simulator):
    """
    A protocol of C{flow} (fix or ouch) logged on; a function feeding it
    C{n} orders (pairs that rest and cross) 200 messages at a time and
    returning the bytes written back, and one checking, after, that the
    venue took them (given those bytes).  Through a whole simulator, C{n}
    orders go in first, before the function is returned: what it feeds is
    the next C{n} (what the first orders cost once is left out, as in the
    difference between feeding 2N and N orders).
    """
    from twisted.internet.testing import MemoryReactorClock

    # A clock that stands still: under callgrind the feed takes minutes,
    # and the orders' SendingTime must stay within the tolerance.  It
    # stands inside a millisecond, as a running server's clock almost
    # always is (see the module docstring).
    reactor = MemoryReactorClock()
    reactor.advance(int(time.time()) + 0.0005)
    check = None
    total = 2 * n if simulator else n
    if simulator:
        protocol, transport, check = _simulatorProtocol(flow, reactor)
    elif flow == "fix":
        protocol, transport = _fixProtocol(reactor)
    else:
        protocol, transport = _ouchProtocol(reactor)
    protocol.makeConnection(transport)
    if flow == "fix":
        import fix_gateway as fg

        # One SendingTime for every message, the memory clock's.
        fixed = fg.stamp()
        fg.stamp = lambda: fixed
        protocol.dataReceived(fg.encode(b"A", 1, b"98=0\x01108=30\x01", fg.stamp(), b"P"))
        loggedOn = b"35=A" in transport.value()
        messages = []
        seq = 2
        for i in range(total // 2):
            messages.append(fg.newOrder(seq, b"s%d" % i, b"2", b"10.00", sender=b"P"))
            messages.append(fg.newOrder(seq + 1, b"b%d" % i, b"1", b"10.00", sender=b"P"))
            seq += 2
    else:
        from exsim.soup import ouch42, packets

        protocol.dataReceived(packets.loginRequest("bench", ""))
        loggedOn = transport.value()[2:3] == b"A"
        messages = []
        for i in range(total // 2):
            messages.append(packets.packet(b"U", ouch42.enterOrder(
                "S%d" % i, b"S", 100, "AAPL", 1000000, 99999, "FRM1")))
            messages.append(packets.packet(b"U", ouch42.enterOrder(
                "B%d" % i, b"B", 100, "AAPL", 1000000, 99999, "FRM1")))
    if not loggedOn:
        raise SystemExit("no logon: %r" % (transport.value()[:200],))
    if total > n:
        # The first n orders (see above).
        for i in range(0, n, 200):
            protocol.dataReceived(b"".join(messages[i:min(i + 200, n)]))
        del messages[:n]
    chunks = [b"".join(messages[i:i + 200]) for i in range(0, len(messages), 200)]
    transport.clear()

    def feed():
        written = 0
        for chunk in chunks:
            protocol.dataReceived(chunk)
            written += len(transport.value())
            transport.clear()
        return written

    def verify(written):
        if transport.disconnecting:
            raise SystemExit("the venue disconnected the session")
        if written < n * 20:
            raise SystemExit("only %d bytes written for %d orders" % (written, n))
        if check is not None:
            check()

    return feed, verify


def _fixProtocol(reactor):
    """
    A FIX.4.4 endpoint's protocol alone (no simulator), on a
    StringTransport.
    """
    from twisted.internet.address import IPv4Address
    from twisted.internet.testing import StringTransport

    from exsim.engine.matching import MatchingEngine
    from exsim.fix.family import family
    from exsim.model import Instrument

    class Endpoint:
        name = "fix1"

        def __init__(self, engine, reactor):
            self.engine = engine
            self.reactor = reactor
            self.properties = {"begin_string": "FIX.4.4"}

        def get(self, name, default=None):
            return self.properties.get(name, default)

        def report(self, *args, **kwargs):
            pass

    engine = MatchingEngine("e1", reactor)
    engine.addBook(Instrument("AAPL"))
    factory = family.buildFactory(Endpoint(engine, reactor))
    return factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1)), StringTransport()


def _ouchProtocol(reactor):
    """
    An OUCH 4.2 endpoint's protocol alone (no simulator), on a
    StringTransport.
    """
    from twisted.internet.address import IPv4Address
    from twisted.internet.testing import StringTransport

    from exsim.endpoint import Endpoint
    from exsim.engine.matching import MatchingEngine
    from exsim.model import Instrument
    from exsim.soup.ouch import family

    class Sink:
        def reportEvent(self, eventType, **fields):
            pass

    engine = MatchingEngine("e1", reactor)
    engine.addBook(Instrument("AAPL"))
    endpoint = Endpoint("ouch1", engine, family, reactor, Sink())
    endpoint.factory = family.buildFactory(endpoint)
    transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
    return endpoint.factory.buildProtocol(None), transport


def _simulatorProtocol(flow, reactor):
    """
    A whole simulator's endpoint of C{flow}, started on C{reactor}; its
    protocol on a StringTransport, and a check that the venue refused no
    message.
    """
    from twisted.internet.address import IPv4Address
    from twisted.internet.testing import StringTransport

    from exsim.service import Simulator

    simulator = Simulator(reactor)
    simulator.create_engine("e1")
    simulator.create_book("AAPL", "e1", "AAPL")
    simulator.create_endpoint("x", "e1", flow)
    if flow == "fix":
        simulator.set_protocol_property("x", "begin_string", "FIX.4.4")
    simulator.start_endpoint("x")
    factory = reactor.tcpServers[-1][1]
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))

    def check():
        refused = [
            e for e in simulator.get_events(None)
            if e["type"] in ("session_logout", "reject_sent", "rejected")
        ]
        if refused:
            raise SystemExit("the venue refused messages: %r" % (refused[:3],))

    return protocol, StringTransport(), check


# -- the driver ------------------------------------------------------------


def _environment():
    # The same string hashes in every run (dict probes count too).
    return dict(os.environ, PYTHONHASHSEED="0")


#: The caches C{--cache} simulates (size, associativity, line size): the
#: same on every machine, so that figures compare across machines.
CACHES = ("--I1=32768,8,64", "--D1=32768,8,64", "--LL=4194304,16,64")

#: Callgrind's counters of C{--cache}: (name, weight in the cycle
#: estimate).
CACHE_EVENTS = (
    ("Ir", 1),
    ("I1mr", 10), ("D1mr", 10), ("D1mw", 10),
    ("ILmr", 100), ("DLmr", 100), ("DLmw", 100),
)


def cycles(counters):
    """
    KCachegrind's estimate of cycles from callgrind's counters
    ({name: count}): instructions, 10 a first-level miss, 100 a last-level
    one.
    """
    return sum(weight * counters.get(name, 0) for name, weight in CACHE_EVENTS)


def _counters(path):
    """
    {event name: count} of a callgrind dump's totals.
    """
    names = None
    with open(path) as f:
        for line in f:
            if line.startswith("events:"):
                names = line.split()[1:]
            elif line.startswith(("summary:", "totals:")):
                values = [int(v) for v in line.split()[1:]]
                return dict(zip(names or ["Ir"], values))
    return None


def count(tree, n, advanced, flow, simulator, cache=False):
    """
    The counters ({event name: count}: C{Ir}, the instructions, and with
    C{cache} the cache misses) of each timed part of the flow in C{tree},
    and the events (or bytes) it delivered.
    """
    with tempfile.TemporaryDirectory() as directory:
        out = os.path.join(directory, "callgrind.out")
        command = [
            "valgrind", "--tool=callgrind", "--dump-before=getppid",
        ] + (["--cache-sim=yes"] + list(CACHES) if cache else []) + [
            "--callgrind-out-file=" + out, sys.executable, os.path.abspath(__file__),
            "--child", tree, "--orders", str(n), "--flow", flow,
        ] + (["--advanced"] if advanced else []) + (["--simulator"] if simulator else [])
        result = subprocess.run(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=_environment(),
        )
        if result.returncode != 0:
            raise SystemExit("the %s flow failed in %s:\n%s%s" % (
                flow, tree, result.stdout, result.stderr[-3000:]))
        events = int(re.search(r"events (\d+)", result.stdout).group(1))
        dumps = sorted(
            glob.glob(out + "*"),
            key=lambda p: int(p.rsplit(".", 1)[-1]) if p[-1].isdigit() else 0,
        )
        # Dumps: up to the first getppid, between each two (the timed
        # parts), and the rest.
        parts = [_counters(p) for p in dumps if p != out]
        return [c for c in parts[1:] if c is not None], events


def cpuRate(tree, n, flow, simulator):
    """
    Orders per second of CPU time of one feed of C{n} orders, in a fresh
    process without valgrind.
    """
    command = [
        sys.executable, os.path.abspath(__file__), "--cpu-child", tree, "--orders", str(n),
        "--flow", flow,
    ] + (["--simulator"] if simulator else [])
    result = subprocess.run(command, capture_output=True, text=True, env=_environment())
    if result.returncode != 0:
        raise SystemExit("the %s feed failed in %s:\n%s%s" % (flow, tree, result.stdout, result.stderr))
    return n / float(re.search(r"cpu (\S+)", result.stdout).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="source trees or commits")
    parser.add_argument("--orders", type=int, default=100000)
    parser.add_argument("--advanced", action="store_true")
    parser.add_argument(
        "--flow", default="mixed",
        help="mixed (default), adds (then cancels), fix or ouch, or several, comma-separated",
    )
    parser.add_argument(
        "--simulator", action="store_true",
        help="fix and ouch through a whole simulator (control event queue included)",
    )
    parser.add_argument(
        "--runs", type=int, default=0,
        help="fix and ouch: also R runs without valgrind, orders/s of CPU time (default 0)",
    )
    parser.add_argument(
        "--cache", action="store_true",
        help="also simulate the caches: misses per operation and estimated cycles",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--cpu-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    flows = args.flow.split(",")
    for flow in flows:
        if flow not in FLOWS:
            parser.error("unknown flow %r (known: %s)" % (flow, ", ".join(FLOWS)))
    if args.child is not None:
        child(args.child, args.orders, args.advanced, flows[0], args.simulator)
        return
    if args.cpu_child is not None:
        cpuChild(args.cpu_child, args.orders, flows[0], args.simulator)
        return
    if not args.targets:
        parser.error("name at least one tree or commit")
    with checkouts(args.targets) as trees:
        for flow in flows:
            gateway = flow in ("fix", "ouch")
            names = ["adds", "cancels"] if flow == "adds" else [flow]
            print("%s flow%s%s, %d operations, instructions counted by callgrind" % (
                flow, " (advanced)" if args.advanced and flow == "mixed" else "",
                " through a whole simulator" if args.simulator and gateway else "",
                args.orders,
            ), flush=True)
            first = firstCycles = None
            for target in args.targets:
                parts, events = count(
                    trees[target], args.orders, args.advanced, flow, args.simulator, args.cache
                )
                parts = parts[:len(names)]
                perOp = [part["Ir"] / args.orders for part in parts]
                estimates = [cycles(part) / args.orders for part in parts]
                if first is None:
                    first, firstCycles = perOp, estimates
                what = "bytes written" if gateway else "events"
                print("%s (%d %s):" % (target, events, what))
                for i, (name, value, base) in enumerate(zip(names, perOp, first)):
                    print("    %-8s %8.0f instructions/op (%+.2f%%, ratio %.3f)" % (
                        name, value, (value - base) / base * 100.0, value / base))
                    if args.cache:
                        misses = ", ".join(
                            "%s %.1f" % (event, parts[i].get(event, 0) / args.orders)
                            for event, weight in CACHE_EVENTS[1:]
                        )
                        estimate, base = estimates[i], firstCycles[i]
                        print("    %-8s %8.0f estimated cycles/op (%+.2f%%, ratio %.3f); misses/op: %s" % (
                            "", estimate, (estimate - base) / base * 100.0, estimate / base, misses))
                if gateway and args.runs > 0:
                    rates = [cpuRate(trees[target], args.orders, flow, args.simulator)
                             for _ in range(args.runs)]
                    print("    %-8s %8.0f orders/s of CPU (median of %d: %s)" % (
                        "cpu", statistics.median(rates), args.runs,
                        ", ".join("%.0f" % r for r in rates)))
                sys.stdout.flush()


if __name__ == "__main__":
    main()
