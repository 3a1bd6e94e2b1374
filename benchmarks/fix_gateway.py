"""
FIX gateway benchmark: exsim runs in its own process (C{twistd -n exsim
--config ...}) with one FIX.4.4 endpoint; this script is one FIX session
over loopback.

 1. Throughput: N pipelined NewOrderSingles, in pairs that rest (a sell)
    and cross it (a buy), sent as fast as the socket takes them; the clock
    stops when every ExecutionReport (4 per pair) has arrived.
 2. Latency: orders paced at 2,000/s and 10,000/s; NewOrderSingle ->
    first ExecutionReport (New) latency, p50/p99/p99.9.

Each figure is the median of 3 runs, each run on a fresh simulator.

    .venv/bin/python benchmarks/fix_gateway.py [--orders 200000] [--seconds 5] [--runs 3]
        [--rates 2000,10000] [--in-process] [--latency 0.001]

C{--latency SECONDS} adds a second FIX endpoint with that C{latency}
property: each paced rate is measured on both endpoints, one after the
other, and the difference of their p50 printed (the delay the property
adds, as the client sees it).

C{--in-process} first feeds the same pipelined orders straight into a FIX
endpoint's protocol in this process (no sockets, no simulator event queue),
to tell the FIX stack's own cost from the rest.  It runs as the server
does: the clock is C{time.time} (not a Python-level fake) and the garbage
collector follows L{exsim.gcpolicy} (frozen at the start, young
generations collected and frozen every second), so a gain here is one
the server can see.
"""

import argparse
import gc
import os
import select
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

CONFIG = """\
[engine:e1]
class = matching

[book:AAPL]
engine = e1
symbol = AAPL

[endpoint:fix1]
engine = e1
protocol = fix
listen = tcp:{port}:interface=127.0.0.1
begin_string = FIX.4.4
"""

#: The second endpoint of --latency.
LATENCY_CONFIG = """
[endpoint:fix2]
engine = e1
protocol = fix
listen = tcp:{port}:interface=127.0.0.1
begin_string = FIX.4.4
latency = {latency}
"""

SOH = b"\x01"


def checksum(data):
    return b"%03d" % (sum(data) % 256,)


def encode(msgType, seq, body, sendingTime, sender=b"BENCH", target=b"EXSIM"):
    rest = b"35=%s\x0149=%s\x0156=%s\x0134=%d\x0152=%s\x01%s" % (
        msgType, sender, target, seq, sendingTime, body,
    )
    head = b"8=FIX.4.4\x019=%d\x01" % (len(rest),)
    message = head + rest
    return message + b"10=" + checksum(message) + SOH


def stamp():
    now = time.time()
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(now)).encode() + b".%03d" % (
        int((now % 1) * 1000),
    )


def newOrder(seq, clOrdId, side, price, qty=100, sender=b"BENCH"):
    ts = stamp()
    body = b"11=%s\x0155=AAPL\x0154=%s\x0160=%s\x0138=%d\x0140=2\x0144=%s\x0159=0\x01" % (
        clOrdId, side, ts, qty, price,
    )
    return encode(b"D", seq, body, ts, sender)


def freePort():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """
    exsim in its own process.
    """

    def __init__(self, latency=None):
        self.port = freePort()
        self.latencyPort = None
        self.dir = tempfile.mkdtemp(prefix="exsim-bench-")
        path = os.path.join(self.dir, "bench.ini")
        with open(path, "w") as f:
            f.write(CONFIG.format(port=self.port))
            if latency is not None:
                self.latencyPort = freePort()
                f.write(LATENCY_CONFIG.format(port=self.latencyPort, latency=latency))
        twistd = os.path.join(os.path.dirname(sys.executable), "twistd")
        self.log = open(os.path.join(self.dir, "twistd.log"), "w")
        env = dict(os.environ)
        env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
        self.process = subprocess.Popen(
            [twistd, "-n", "--pidfile=", "exsim", "--config", path],
            cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT, env=env,
        )
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                break
            except OSError:
                if self.process.poll() is not None or time.time() > deadline:
                    raise SystemExit("exsim did not start; see %s" % (self.log.name,))
                time.sleep(0.1)

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        shutil.rmtree(self.dir, True)


class Session:
    """
    A minimal FIX.4.4 client session over a blocking socket.
    """

    def __init__(self, port, sender=b"BENCH"):
        self.sender = sender
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.seq = 1
        self.buffer = b""
        ts = stamp()
        self.sock.sendall(encode(b"A", 1, b"98=0\x01108=30\x01141=Y\x01", ts, sender))
        self.seq = 2
        while b"\x0135=A\x01" not in self.buffer:
            self.buffer += self.sock.recv(65536)
        self.buffer = b""

    def close(self):
        ts = stamp()
        try:
            self.sock.sendall(encode(b"5", self.seq, b"", ts, self.sender))
            self.sock.settimeout(2)
            while b"\x0135=5\x01" not in self.buffer:
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buffer += data
        except OSError:
            pass
        self.sock.close()


def throughput(port, orders):
    """
    Pipelined resting and crossing orders: orders per second.
    """
    session = Session(port, b"TPUT")
    pairs = orders // 2
    messages = []
    seq = session.seq
    for i in range(pairs):
        messages.append(newOrder(seq, b"s%d" % i, b"2", b"10.00", sender=session.sender))
        messages.append(newOrder(seq + 1, b"b%d" % i, b"1", b"10.00", sender=session.sender))
        seq += 2
    session.seq = seq
    expected = pairs * 4
    marker = b"\x0135=8\x01"
    sock = session.sock
    chunk = 200
    received = 0
    tail = b""
    start = time.perf_counter()
    sock.setblocking(False)
    i = 0
    total = len(messages)
    pending = b""
    while received < expected:
        if not pending and i < total:
            pending = b"".join(messages[i:i + chunk])
            i += chunk
        if pending:
            try:
                sent = sock.send(pending)
            except BlockingIOError:
                sent = 0
            pending = pending[sent:]
        # Never block on sending without reading: the venue stops reading
        # while its output to us is backed up (TCP flow control).
        readable, _, _ = select.select([sock], [sock] if pending else [], [], 1.0)
        if readable:
            data = sock.recv(1 << 20)
            if not data:
                raise SystemExit("exsim closed the connection")
            data = tail + data
            received += data.count(marker)
            tail = data[-8:]
            # Do not count a marker twice across reads.
            received -= tail.count(marker)
    elapsed = time.perf_counter() - start
    sock.setblocking(True)
    session.close()
    return orders / elapsed


def latency(port, rate, seconds, sender=None):
    """
    Paced orders (alternating rest/cross pairs): NewOrderSingle -> first
    ExecutionReport latency in microseconds, as a sorted list.

    @param sender: the session's SenderCompID (default C{LAT<rate>}); a
        second measurement on the same simulator needs another one (its
        ClOrdIDs would repeat the first's).
    """
    session = Session(port, sender if sender is not None else b"LAT%d" % rate)
    sock = session.sock
    sock.setblocking(False)
    count = int(rate * seconds)
    interval = 1.0 / rate
    sentAt = {}
    latencies = []
    buffer = b""
    seq = session.seq
    start = time.perf_counter()
    n = 0
    while n < count or len(latencies) < count:
        now = time.perf_counter()
        if n < count and now >= start + n * interval:
            side, price = (b"2", b"10.00") if n % 2 == 0 else (b"1", b"10.00")
            clOrdId = b"L%d" % n
            message = newOrder(seq, clOrdId, side, price, sender=session.sender)
            seq += 1
            sentAt[clOrdId] = time.perf_counter()
            sock.setblocking(True)
            sock.sendall(message)
            sock.setblocking(False)
            n += 1
            continue
        wait = max(0.0, start + n * interval - time.perf_counter()) if n < count else 1.0
        readable, _, _ = select.select([sock], [], [], min(wait, 0.0005) if n < count else 1.0)
        if not readable:
            if n >= count and time.perf_counter() - now > 0.9:
                raise SystemExit("missing execution reports")
            continue
        arrived = time.perf_counter()
        data = sock.recv(1 << 20)
        if not data:
            raise SystemExit("exsim closed the connection")
        buffer += data
        while True:
            end = buffer.find(b"\x0110=")
            if end < 0 or len(buffer) < end + 8:
                break
            message = buffer[:end + 8]
            buffer = buffer[end + 8:]
            if b"\x0135=8\x01" in message and b"\x01150=0\x01" in message:
                i = message.find(b"\x0111=") + 4
                clOrdId = message[i:message.find(SOH, i)]
                t = sentAt.pop(clOrdId, None)
                if t is not None:
                    latencies.append((arrived - t) * 1e6)
    sock.setblocking(True)
    session.close()
    latencies.sort()
    return latencies


def inProcess(orders):
    """
    The same pipelined orders fed straight into a FIX endpoint's protocol
    (engine + session layer + order entry, no sockets, no simulator event
    queue): orders per second.
    """
    sys.path.insert(0, ROOT)
    from twisted.internet.address import IPv4Address
    from twisted.internet.testing import MemoryReactorClock, StringTransport

    from exsim import gcpolicy
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

    reactor = MemoryReactorClock()
    reactor.advance(time.time())
    # The server's clock: time.time, called in C.
    reactor.seconds = time.time
    engine = MatchingEngine("e1", reactor)
    engine.addBook(Instrument("AAPL"))
    factory = family.buildFactory(Endpoint(engine, reactor))
    protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
    transport = StringTransport()
    protocol.makeConnection(transport)
    protocol.dataReceived(encode(b"A", 1, b"98=0\x01108=30\x01", stamp(), b"P"))
    messages = []
    seq = 2
    for i in range(orders // 2):
        messages.append(newOrder(seq, b"s%d" % i, b"2", b"10.00", sender=b"P"))
        messages.append(newOrder(seq + 1, b"b%d" % i, b"1", b"10.00", sender=b"P"))
        seq += 2
    chunks = [b"".join(messages[i:i + 200]) for i in range(0, len(messages), 200)]
    transport.clear()
    # The server's garbage-collector policy (gcpolicy.install, without a
    # reactor): freeze now, refreeze every second.
    gcpolicy.freeze()
    start = time.perf_counter()
    refreezeAt = start + gcpolicy.FREEZE_INTERVAL
    for chunk in chunks:
        protocol.dataReceived(chunk)
        transport.clear()
        if time.perf_counter() >= refreezeAt:
            gcpolicy.refreeze()
            refreezeAt += gcpolicy.FREEZE_INTERVAL
    elapsed = time.perf_counter() - start
    gc.unfreeze()
    return len(messages) / elapsed


def percentile(values, p):
    return values[min(len(values) - 1, int(len(values) * p))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--orders", type=int, default=200000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rates", default="2000,10000")
    parser.add_argument(
        "--in-process", action="store_true",
        help="also feed the orders straight into the protocol in this process",
    )
    parser.add_argument(
        "--latency", default=None, metavar="SECONDS",
        help="also measure each paced rate on an endpoint with this latency property",
    )
    args = parser.parse_args()
    if args.in_process:
        figures = sorted(inProcess(args.orders) for _ in range(args.runs))
        print("in process (engine + FIX session + order entry, no sockets): "
              "median %.0f orders/s of %s" % (statistics.median(figures), ["%.0f" % f for f in figures]),
              flush=True)
    rates = [int(r) for r in args.rates.split(",")]
    results = {"throughput": []}
    for rate in rates:
        for p in ("p50", "p99", "p99.9"):
            results["%d %s" % (rate, p)] = []
        results["%d latency p50" % rate] = []
    for run in range(args.runs):
        server = Server(args.latency)
        try:
            tput = throughput(server.port, args.orders)
            results["throughput"].append(tput)
            line = "run %d: %.0f orders/s pipelined" % (run + 1, tput)
            for rate in rates:
                lat = latency(server.port, rate, args.seconds)
                for p, q in (("p50", 0.5), ("p99", 0.99), ("p99.9", 0.999)):
                    results["%d %s" % (rate, p)].append(percentile(lat, q))
                line += "; %d/s p50 %.0f p99 %.0f p99.9 %.0f us" % (
                    rate, percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 0.999),
                )
                if server.latencyPort is not None:
                    delayed = latency(server.latencyPort, rate, args.seconds)
                    results["%d latency p50" % rate].append(percentile(delayed, 0.5))
                    line += " (latency %s: p50 %.0f us)" % (args.latency, percentile(delayed, 0.5))
            print(line, flush=True)
        finally:
            server.stop()
    print("median of %d runs (%s, %d pipelined orders, %.0f s paced):" % (
        args.runs, sys.implementation.name, args.orders, args.seconds))
    print("  throughput: %.0f orders/s" % statistics.median(results["throughput"]))
    for rate in rates:
        print("  %6d orders/s: NewOrderSingle -> ExecutionReport p50 %.0f us, p99 %.0f us, p99.9 %.0f us" % (
            rate,
            statistics.median(results["%d p50" % rate]),
            statistics.median(results["%d p99" % rate]),
            statistics.median(results["%d p99.9" % rate]),
        ))
        if args.latency is not None:
            plain = statistics.median(results["%d p50" % rate])
            delayed = statistics.median(results["%d latency p50" % rate])
            print("  %6d orders/s with latency = %s: NewOrderSingle -> ExecutionReport p50 %.0f us "
                  "(%+.0f us over the endpoint without)" % (rate, args.latency, delayed, delayed - plain))


if __name__ == "__main__":
    main()
