"""
What the FIX and OUCH gateways execute per order, in machine
instructions (callgrind), compared across git commits: a measure a loaded
machine does not disturb, for changes too small for the wall-clock
gateway benchmarks to see there (the message journal of issue 15 was held
to "with message_log unset the gateway benchmarks stay within 5% of
before").

Each commit is checked out in a detached worktree in a temporary
directory (removed at the end).  For each commit and protocol a fresh
process builds a whole simulator (L{exsim.service.Simulator}, with its
control event queue, as C{twistd exsim} runs it) on a memory reactor, one
endpoint (FIX.4.4 or OUCH 4.2, default properties: no C{message_log}),
logs one session on through the endpoint's own factory and protocol, and
feeds it N pipelined orders in chunks of 200 (half rest, half cross, as
C{fix_gateway.py} and C{ouch_gateway.py} send them), replies written to a
C{StringTransport}.  The process runs under C{valgrind --tool=callgrind}
twice, building 2N orders' messages both times and feeding N, then 2N
of them; instructions per order = the difference / N (start-up,
imports, set-up and the building of messages cancel out).  Besides, the same feed runs
without valgrind: orders per second of CPU time (median of C{--runs}).

    .venv/bin/python benchmarks/gateway_instructions.py 9f88acc 0631e18 HEAD
        [--orders 10000] [--runs 3] [--protocols fix,ouch]
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

#: Run in a fresh process: argv = checkout, protocol, orders fed, orders
#: built.  Prints the CPU seconds the feed took.
FEED = r"""
import sys, time
checkout, protocol, count, build = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
sys.path.insert(0, checkout)
from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from exsim.service import Simulator

reactor = MemoryReactorClock()
reactor.advance(int(time.time()))
simulator = Simulator(reactor)
simulator.create_engine("e1")
simulator.create_book("AAPL", "e1", "AAPL")
simulator.create_endpoint("x", "e1", protocol)
if protocol == "fix":
    simulator.set_protocol_property("x", "begin_string", "FIX.4.4")
simulator.start_endpoint("x")
factory = reactor.tcpServers[-1][1]
server = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 40000))
transport = StringTransport()
server.makeConnection(transport)

if protocol == "fix":
    sys.path.insert(0, checkout + "/benchmarks")
    import fix_gateway as fg
    # One SendingTime for every message, the memory clock's: building and
    # feeding take minutes under callgrind, past sending_time_tolerance.
    fixed = fg.stamp()
    fg.stamp = lambda: fixed
    server.dataReceived(fg.encode(b"A", 1, b"98=0\x01108=30\x01", fg.stamp(), b"P"))
    messages = []
    seq = 2
    for i in range(build // 2):
        messages.append(fg.newOrder(seq, b"s%d" % i, b"2", b"10.00", sender=b"P"))
        messages.append(fg.newOrder(seq + 1, b"b%d" % i, b"1", b"10.00", sender=b"P"))
        seq += 2
    check = b"35=A"
else:
    from exsim.soup import ouch42, packets
    server.dataReceived(packets.loginRequest("bench", "", "", 0))
    prices = [(b"B", 990000), (b"S", 1010000), (b"B", 1010000), (b"S", 990000)]
    messages = []
    for n in range(build):
        side, price = prices[n % 4]
        messages.append(packets.packet(b"U", ouch42.enterOrder("T%d" % n, side, 100, "AAPL", price, 99999)))
    check = b"A"
if check not in transport.value():
    raise SystemExit("no logon: %r" % (transport.value()[:200],))
# Both runs build the same messages (2N); only the feed differs.
messages = messages[:count]
chunks = [b"".join(messages[i:i + 200]) for i in range(0, len(messages), 200)]
transport.clear()
written = 0
start = time.process_time()
for chunk in chunks:
    server.dataReceived(chunk)
    written += len(transport.value())
    transport.clear()
elapsed = time.process_time() - start
if written < count * 20:
    raise SystemExit("only %d bytes written for %d orders" % (written, count))
events = simulator.get_events(None)
refused = [e for e in events if e["type"] not in ("accepted", "filled", "trade", "book")]
if protocol == "fix" and any(e["type"] in ("session_logout", "reject_sent") for e in refused):
    raise SystemExit("the venue refused messages: %r" % (refused[:3],))
print(elapsed)
"""


def worktree(commit, where):
    path = os.path.join(where, commit.replace("/", "_"))
    subprocess.run(["git", "-C", ROOT, "worktree", "add", "--detach", path, commit],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return path


def feed(checkout, protocol, count):
    result = subprocess.run([sys.executable, "-c", FEED, checkout, protocol, str(count), str(count)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("feed failed in %s:\n%s%s" % (checkout, result.stdout, result.stderr))
    return float(result.stdout.split()[-1])


def instructions(checkout, protocol, count, build):
    result = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
         sys.executable, "-c", FEED, checkout, protocol, str(count), str(build)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        raise SystemExit("callgrind failed in %s:\n%s%s" % (checkout, result.stdout, result.stderr))
    match = re.search(r"Collected : (\d+)", result.stderr)
    return int(match.group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("commits", nargs="+")
    parser.add_argument("--orders", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--protocols", default="fix,ouch")
    options = parser.parse_args()
    protocols = options.protocols.split(",")
    env = os.environ
    env.setdefault("PYTHONHASHSEED", "0")
    where = tempfile.mkdtemp(prefix="exsim-instructions-")
    checkouts = []
    try:
        for commit in options.commits:
            checkouts.append(worktree(commit, where))
        results = {}
        for protocol in protocols:
            for commit, checkout in zip(options.commits, checkouts):
                n = options.orders
                one = instructions(checkout, protocol, n, 2 * n)
                two = instructions(checkout, protocol, 2 * n, 2 * n)
                perOrder = (two - one) / n
                rates = [2 * n / feed(checkout, protocol, 2 * n) for _ in range(options.runs)]
                results[protocol, commit] = (perOrder, statistics.median(rates))
                print("%-4s %-10s %8.0f instructions/order  %8.0f orders/s of CPU (median of %d: %s)" % (
                    protocol, commit, perOrder, statistics.median(rates), options.runs,
                    ", ".join("%.0f" % r for r in rates),
                ), flush=True)
        base = options.commits[0]
        print("\nratio to %s (instructions per order):" % (base,))
        for protocol in protocols:
            print("  %-4s %s" % (protocol, "   ".join(
                "%s %.3f" % (commit, results[protocol, commit][0] / results[protocol, base][0])
                for commit in options.commits
            )))
    finally:
        for path in checkouts:
            subprocess.run(["git", "-C", ROOT, "worktree", "remove", "--force", path],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
