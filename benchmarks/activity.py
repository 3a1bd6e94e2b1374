"""
Benchmark: a FIX client's ack latency with and without background activity.

    python benchmarks/activity.py [--books 10] [--duration 30] [--rate 100]
                                  [--runs 3] [--level fast]

For each of two modes, C{none} (the books are there, no activity) and
C{--level} (default C{fast}) activity on every book, it starts a simulator
in a child process (10 books on one engine, one FIX 4.4 order-entry
endpoint on 127.0.0.1, port 0), logs on with a plain blocking FIX client
in this process and sends C{--rate} NewOrderSingles per second, paced, for
C{--duration} seconds, each time waiting for the ExecutionReport that
acknowledges it (ExecType New).  The orders are passive buys far below the
market, on a book with activity.

Prints per mode the medians over C{--runs} runs of: engine events per
second generated in the child (every event the engine delivered, the
activity's and the client's), orders and cancels the activity sent per
second, acks received, the ack latency median, p99 and maximum, the
server's CPU use, and how long one activity batch holds the reactor (p99,
maximum); then the figure: p99 with activity / p99 without (target: at
most 2).  The latency figures include whatever else the machine runs:
compare runs made under the same load.
"""

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, ROOT)

WARMUP = 2.0


# -- the server (child process) ----------------------------------------------


def serverConfig(books, level, interval=None):
    lines = ["[engine:e1]", "class = matching", ""]
    for i in range(books):
        lines += [
            "[book:B%d]" % (i,),
            "engine = e1",
            "reference_price = %d.00" % (100 + 10 * i,),
        ]
        if level != "none":
            lines.append("seed = %d" % (i + 1,))
            if interval is not None:
                lines.append("activity_interval = %s" % (interval,))
            lines.append("activity = %s" % (level,))
        lines.append("")
    lines += [
        "[endpoint:fix1]",
        "engine = e1",
        "protocol = fix",
        "listen = tcp:0:interface=127.0.0.1",
        "sender_comp_id = EXSIM",
        "",
    ]
    return "\n".join(lines)


class _Counter:
    def __init__(self):
        self.count = 0

    def engineEvents(self, events):
        self.count += len(events)


def serve(books, level, duration, eventQueue=True, interval=None):
    """
    Run a simulator; print its FIX port, then (after the warm-up and the
    measured window) the statistics of the window as one JSON line.
    """
    from twisted.internet import reactor

    from exsim import config
    from exsim.service import Simulator

    simulator = Simulator(reactor)
    simulator.gcPolicy = True
    config.apply(config.parse(serverConfig(books, level, interval), "bench.ini"), simulator)
    simulator.startService()
    engine = simulator.engines["e1"]
    if not eventQueue:
        # Diagnostic: what the control event queue costs.
        for listener in list(getattr(simulator.events, "_listeners", {}).values()):
            engine.unsubscribe(listener)
    counter = _Counter()
    engine.subscribe(counter)
    host, port = simulator.get_endpoint_address("fix1")
    print(json.dumps({"port": port}), flush=True)

    batches = []

    def timed(step):
        def wrapper(elapsed):
            started = time.perf_counter()
            step(elapsed)
            if "start" in marks:
                batches.append(time.perf_counter() - started)

        return wrapper

    for book in engine.books.values():
        activity = getattr(book, "activity", None)
        if activity is not None:
            activity.step = timed(activity.step)

    def sent():
        total = 0
        for book in engine.books.values():
            activity = getattr(book, "activity", None)
            if activity is not None:
                total += activity.ordersSent + activity.cancelsSent
        return total

    marks = {}

    def begin():
        marks["start"] = (reactor.seconds(), counter.count, sent(), time.process_time())

    def end():
        start, events, orders, cpu = marks["start"]
        elapsed = reactor.seconds() - start
        stats = {
            "events_per_s": (counter.count - events) / elapsed,
            "activity_per_s": (sent() - orders) / elapsed,
            "server_cpu_pct": 100 * (time.process_time() - cpu) / elapsed,
            "batch_p99_ms": 1000 * percentile(batches, 0.99) if batches else 0.0,
            "batch_max_ms": 1000 * max(batches) if batches else 0.0,
        }
        print(json.dumps(stats), flush=True)
        # Stay up for the client's last orders; the parent ends us.
        reactor.callLater(60, finish)

    def finish():
        simulator.stopService()
        reactor.stop()

    reactor.callLater(WARMUP, begin)
    reactor.callLater(WARMUP + duration, end)
    reactor.run()


# -- the client (this process) -----------------------------------------------


class FixClient:
    """
    A minimal blocking FIX 4.4 initiator.
    """

    def __init__(self, port):
        import simplefix

        self._simplefix = simplefix
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.parser = simplefix.FixParser()
        self.seq = 1

    def send(self, msgType, fields):
        message = self._simplefix.FixMessage()
        message.append_pair(8, "FIX.4.4")
        message.append_pair(35, msgType)
        message.append_pair(49, "BENCH")
        message.append_pair(56, "EXSIM")
        message.append_pair(34, self.seq)
        message.append_utc_timestamp(52, precision=3)
        for tag, value in fields:
            message.append_pair(tag, value)
        self.seq += 1
        self.sock.sendall(message.encode())

    def receive(self):
        while True:
            message = self.parser.get_message()
            if message is not None:
                if message.get(35) == b"1":
                    self.send("0", [(112, message.get(112).decode())])
                    continue
                return message
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the simulator closed the connection")
            self.parser.append_buffer(data)

    def logon(self):
        self.send("A", [(98, 0), (108, 30), (141, "Y")])
        reply = self.receive()
        if reply.get(35) != b"A":
            raise RuntimeError("logon refused: %r" % (reply,))

    def newOrder(self, clOrdId):
        self.send(
            "D",
            [
                (11, clOrdId),
                (55, "B0"),
                (54, 1),
                (60, time.strftime("%Y%m%d-%H:%M:%S", time.gmtime())),
                (38, 100),
                (40, 2),
                (44, "1.00"),
                (59, 0),
            ],
        )

    def waitAck(self, clOrdId):
        wanted = clOrdId.encode()
        while True:
            message = self.receive()
            if message.get(35) == b"8" and message.get(11) == wanted:
                if message.get(150) != b"0":
                    raise RuntimeError("order %s not acknowledged: %r" % (clOrdId, message))
                return
            if message.get(35) in (b"3", b"j", b"5"):
                raise RuntimeError("session trouble: %r" % (message,))

    def close(self):
        try:
            self.send("5", [])
        except OSError:
            pass
        self.sock.close()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def runOnce(books, level, duration, rate, eventQueue=True, interval=None):
    extra = [] if eventQueue else ["--without-event-queue"]
    if interval is not None:
        extra += ["--interval", str(interval)]
    child = subprocess.Popen(
        [sys.executable, os.path.abspath(__file__), "--serve", "--books", str(books),
         "--level", level, "--duration", str(duration)] + extra,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        port = json.loads(child.stdout.readline())["port"]
        client = FixClient(port)
        client.logon()
        time.sleep(WARMUP)
        latencies = []
        interval = 1.0 / rate
        start = time.perf_counter()
        n = 0
        while True:
            due = start + n * interval
            now = time.perf_counter()
            if due - start >= duration:
                break
            if due > now:
                time.sleep(due - now)
            clOrdId = "O%d" % (n,)
            sentAt = time.perf_counter()
            client.newOrder(clOrdId)
            client.waitAck(clOrdId)
            latencies.append(time.perf_counter() - sentAt)
            n += 1
        stats = json.loads(child.stdout.readline())
        client.close()
        child.terminate()
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    stats.update(
        acks=len(latencies),
        p50_ms=1000 * statistics.median(latencies),
        p99_ms=1000 * percentile(latencies, 0.99),
        max_ms=1000 * max(latencies),
    )
    return stats


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--books", type=int, default=10)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--level", default="fast")
    parser.add_argument(
        "--interval", type=float, default=None,
        help="activity_interval of every book (default: the level's)",
    )
    parser.add_argument(
        "--without-event-queue",
        action="store_true",
        help="diagnostic: unsubscribe the control event queue from the engine",
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.books, args.level, args.duration, not args.without_event_queue,
              args.interval)
        return
    results = {}
    for level in ("none", args.level):
        runs = [
            runOnce(args.books, level, args.duration, args.rate,
                    not args.without_event_queue, args.interval)
            for _ in range(args.runs)
        ]
        median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
        results[level] = median
        print(
            "activity=%-4s books=%d: %8.0f engine events/s, %7.0f activity orders+cancels/s, "
            "%5d acks, ack latency p50 %.3f ms, p99 %.3f ms, max %.3f ms; server CPU %.0f%%, "
            "activity batch p99 %.3f ms, max %.3f ms (median of %d runs)"
            % (level, args.books, median["events_per_s"], median["activity_per_s"],
               median["acks"], median["p50_ms"], median["p99_ms"], median["max_ms"],
               median["server_cpu_pct"], median["batch_p99_ms"], median["batch_max_ms"],
               args.runs),
            flush=True,
        )
    ratio = results[args.level]["p99_ms"] / results["none"]["p99_ms"]
    print("p99 ack latency ratio (activity=%s / none): %.2f (target <= 2)" % (args.level, ratio))


if __name__ == "__main__":
    main()
