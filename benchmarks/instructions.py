"""
Instructions per operation of the matching engine's flows (those of
benchmarks/engine.py) and of FIX and OUCH order entry in process, counted
by callgrind: the count does not depend on what else the machine runs, so
two trees can be compared on a loaded machine where CPU time moves by 10 %
or more from run to run.

    python benchmarks/instructions.py [--flow mixed|adds|fix|ouch] [--orders 100000]
        [--advanced] TREE [TREE...]

For each TREE (a source checkout; an older commit can be unpacked with
C{git archive COMMIT | tar -x -C DIR}) the flow runs on the tree's own code
under C{valgrind --tool=callgrind}; only the instructions of the timed
part are counted (the input is made before; callgrind dumps its counters
at calls of C{getppid}, which nothing else calls), and printed per
operation:

 - C{mixed}: the engine benchmark's mixed flow, made by the tree's
   benchmarks/engine.py (60 % adds near the touch, 30 % cancels, 10 %
   crossing orders; with C{--advanced}, 10 % stops, 10 % icebergs and 5 %
   midpoint pegs among them, where the tree's engine.py has that flow);
 - C{adds}: non-crossing limit orders, then cancels of them all (two
   figures);
 - C{fix}: pipelined FIX.4.4 NewOrderSingles (pairs that rest and cross,
   as C{benchmarks/fix_gateway.py --in-process}) fed to a FIX endpoint's
   protocol on a StringTransport: session layer, order entry, engine,
   ExecutionReports;
 - C{ouch}: the same pairs as OUCH 4.2 Enter Orders in SoupBinTCP
   unsequenced packets, fed to an OUCH endpoint's protocol.

Needs valgrind.
"""

import argparse
import gc
import glob
import os
import random
import re
import subprocess
import sys
import tempfile
import time


def child(tree, n, advanced, flow):
    """
    In the process callgrind runs: build the flow, then run it between two
    getppid calls (adds: the adds, then the cancels, between three).
    """
    sys.path.insert(0, os.path.join(tree, "benchmarks"))
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
    if flow in ("fix", "ouch"):
        sys.path.insert(0, tree)
        feed = (_fixFeed if flow == "fix" else _ouchFeed)(n)
        gc.collect()
        gc.freeze()
        os.getppid()
        written = feed()
        os.getppid()
        # (Bytes written back: the same for two trees that answer alike.)
        print("events %d" % (written,))
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


def _fixFeed(n):
    """
    A FIX.4.4 endpoint's protocol on a StringTransport, logged on, and a
    function feeding it C{n} pipelined NewOrderSingles (in chunks of 200).
    """
    import fix_gateway
    from twisted.internet.address import IPv4Address
    from twisted.internet.testing import MemoryReactorClock, StringTransport

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

    # A clock that stands still: under callgrind the feed takes minutes,
    # and the orders' SendingTime must stay within the tolerance.
    reactor = MemoryReactorClock()
    reactor.advance(time.time())
    engine = MatchingEngine("e1", reactor)
    engine.addBook(Instrument("AAPL"))
    factory = family.buildFactory(Endpoint(engine, reactor))
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(fix_gateway.encode(b"A", 1, b"98=0\x01108=30\x01", fix_gateway.stamp(), b"P"))
    messages = []
    seq = 2
    for i in range(n // 2):
        messages.append(fix_gateway.newOrder(seq, b"s%d" % i, b"2", b"10.00", sender=b"P"))
        messages.append(fix_gateway.newOrder(seq + 1, b"b%d" % i, b"1", b"10.00", sender=b"P"))
        seq += 2
    chunks = [b"".join(messages[i:i + 200]) for i in range(0, len(messages), 200)]
    transport.clear()

    def feed():
        written = 0
        for chunk in chunks:
            protocol.dataReceived(chunk)
            written += len(transport.value())
            transport.clear()
        assert not transport.disconnecting
        return written

    return feed


def _ouchFeed(n):
    """
    An OUCH 4.2 endpoint's protocol on a StringTransport, logged in, and a
    function feeding it C{n} Enter Orders (pairs that rest and cross), 200
    packets at a time.
    """
    from twisted.internet.address import IPv4Address
    from twisted.internet.testing import MemoryReactorClock, StringTransport

    from exsim.endpoint import Endpoint
    from exsim.engine.matching import MatchingEngine
    from exsim.model import Instrument
    from exsim.soup import ouch42, packets
    from exsim.soup.ouch import family

    class Sink:
        def reportEvent(self, eventType, **fields):
            pass

    reactor = MemoryReactorClock()
    reactor.advance(time.time())
    engine = MatchingEngine("e1", reactor)
    engine.addBook(Instrument("AAPL"))
    endpoint = Endpoint("ouch1", engine, family, reactor, Sink())
    endpoint.factory = family.buildFactory(endpoint)
    transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", 40000))
    protocol = endpoint.factory.buildProtocol(None)
    protocol.makeConnection(transport)
    protocol.dataReceived(packets.loginRequest("bench", ""))
    assert transport.value()[2:3] == b"A", transport.value()
    messages = []
    for i in range(n // 2):
        messages.append(packets.packet(b"U", ouch42.enterOrder(
            "S%d" % i, b"S", 100, "AAPL", 1000000, 99999, "FRM1")))
        messages.append(packets.packet(b"U", ouch42.enterOrder(
            "B%d" % i, b"B", 100, "AAPL", 1000000, 99999, "FRM1")))
    chunks = [b"".join(messages[i:i + 200]) for i in range(0, len(messages), 200)]
    transport.clear()

    def feed():
        written = 0
        for chunk in chunks:
            protocol.dataReceived(chunk)
            written += len(transport.value())
            transport.clear()
        assert not transport.disconnecting
        return written

    return feed


def count(tree, n, advanced, flow):
    """
    The instructions each timed part of the flow executed in C{tree}, and
    the events it delivered.
    """
    with tempfile.TemporaryDirectory() as directory:
        out = os.path.join(directory, "callgrind.out")
        command = [
            "valgrind", "--tool=callgrind", "--dump-before=getppid",
            "--callgrind-out-file=" + out, sys.executable, os.path.abspath(__file__),
            "--child", tree, "--orders", str(n), "--flow", flow,
        ] + (["--advanced"] if advanced else [])
        # The same string hashes in every run (dict probes count too).
        env = dict(os.environ, PYTHONHASHSEED="0")
        output = subprocess.run(
            command, check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            env=env,
        ).stdout
        events = int(re.search(r"events (\d+)", output).group(1))
        totals = []
        for path in sorted(glob.glob(out + "*"), key=lambda p: int(p.rsplit(".", 1)[-1]) if p[-1].isdigit() else 0):
            with open(path) as f:
                for line in f:
                    if line.startswith(("summary:", "totals:")):
                        totals.append((path, int(line.split()[1])))
                        break
        # Dumps: up to the first getppid, between each two (the timed
        # parts), and the rest.
        parts = [t for p, t in totals if p != out]
        return parts[1:], events


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("trees", nargs="*")
    parser.add_argument("--orders", type=int, default=100000)
    parser.add_argument("--advanced", action="store_true")
    parser.add_argument(
        "--flow", choices=["mixed", "adds", "fix", "ouch"], default="mixed",
        help="mixed (default), adds (then cancels), fix or ouch (see above)",
    )
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.orders, args.advanced, args.flow)
        return
    if not args.trees:
        parser.error("name at least one tree")
    names = ["adds", "cancels"] if args.flow == "adds" else [args.flow]
    print("%s flow%s, %d operations, instructions counted by callgrind" % (
        args.flow, " (advanced)" if args.advanced else "", args.orders))
    first = None
    for tree in args.trees:
        parts, events = count(os.path.abspath(tree), args.orders, args.advanced, args.flow)
        perOp = [instructions / args.orders for instructions in parts[:len(names)]]
        if first is None:
            first = perOp
        what = "bytes written" if args.flow in ("fix", "ouch") else "events"
        print("%s (%d %s):" % (tree, events, what))
        for name, value, base in zip(names, perOp, first):
            print("    %-8s %8.0f instructions/op (%+.2f%%)" % (name, value, (value - base) / base * 100.0))


if __name__ == "__main__":
    main()
