"""
Benchmark: one OUCH 4.2 session over SoupBinTCP on 127.0.0.1.

The gateway runs in a child process: a simulator (with its control event
queue, as C{twistd exsim} runs it) with one OUCH endpoint on one matching
engine with one standard book; this process is the client.  Orders cycle through four kinds, half
resting and half crossing: buy 99.00 (rests), sell 101.00 (rests), buy
101.00 (trades with that sell), sell 99.00 (trades with that buy), so the
book stays small.

 - throughput: N Enter Orders written back to back (pipelined); orders/s
   from the first byte sent to the last Accepted received;
 - latency: orders paced at a fixed rate (10,000/s by default, in bursts
   every millisecond); Enter -> Accepted round trip p50/p99 as the client
   sees it (client send time to client receive time).

Each figure is the median of 3 runs (a new server for each run).

    python benchmarks/ouch_gateway.py [--orders 100000] [--rate 10000] [--seconds 2]
"""

import argparse
import os
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from exsim.soup import ouch42, packets  # noqa: E402

SERVER = r"""
import sys
sys.path.insert(0, %r)
from twisted.internet import reactor
from exsim.service import Simulator
simulator = Simulator(reactor)
simulator.gcPolicy = True
simulator.create_engine("e1")
simulator.create_book("BENCH", "e1", "BENCH")
simulator.create_endpoint("ouch1", "e1", "ouch")
simulator.set_protocol_property("ouch1", "idle_timeout", "60")
def started(_):
    print(simulator.get_endpoint_address("ouch1")[1], flush=True)
simulator.start_endpoint("ouch1").addCallback(started)
simulator.startService()
reactor.run()
""" % (ROOT,)

PRICES = [(b"B", 990000), (b"S", 1010000), (b"B", 1010000), (b"S", 990000)]


def order(n):
    side, price = PRICES[n % 4]
    payload = ouch42.enterOrder("T%d" % n, side, 100, "BENCH", price, 99999)
    return packets.packet(b"U", payload)


class Server:
    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True
        )
        self.port = int(self.process.stdout.readline())
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(10)


class Client:
    """
    A blocking SoupBinTCP client; a thread reads and timestamps every
    Accepted message by order number.
    """

    def __init__(self, port, expected):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(packets.loginRequest("bench", "", "", 0))
        self.accepted = {}
        self.expected = expected
        self.done = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buffer = b""
        accepted = self.accepted
        while len(accepted) < self.expected:
            data = self.sock.recv(1 << 20)
            if not data:
                break
            now = time.perf_counter()
            buffer += data
            offset = 0
            end = len(buffer)
            while end - offset >= 2:
                (length,) = struct.unpack_from(">H", buffer, offset)
                stop = offset + 2 + length
                if stop > end:
                    break
                if buffer[offset + 2 : offset + 4] == b"SA":
                    token = buffer[offset + 12 : offset + 26].rstrip()
                    accepted[int(token[1:])] = now
                offset = stop
            buffer = buffer[offset:]
        self.done.set()

    def close(self):
        self.sock.sendall(packets.LOGOUT_REQUEST_PACKET)
        self.sock.close()


def throughput(count):
    data = b"".join(order(n) for n in range(count))
    with Server() as server:
        client = Client(server.port, count)
        time.sleep(0.2)
        start = time.perf_counter()
        client.sock.sendall(data)
        if not client.done.wait(120):
            raise RuntimeError("only %d of %d accepted" % (len(client.accepted), count))
        elapsed = max(client.accepted.values()) - start
        client.close()
    return count / elapsed


def latency(rate, seconds):
    burst = max(1, rate // 1000)
    bursts = int(seconds * 1000)
    count = burst * bursts
    sent = [0.0] * count
    with Server() as server:
        client = Client(server.port, count)
        time.sleep(0.2)
        start = time.perf_counter()
        n = 0
        for b in range(bursts):
            due = start + b / 1000.0
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            data = b"".join(order(i) for i in range(n, n + burst))
            stamp = time.perf_counter()
            client.sock.sendall(data)
            for i in range(n, n + burst):
                sent[i] = stamp
            n += burst
        if not client.done.wait(60):
            raise RuntimeError("only %d of %d accepted" % (len(client.accepted), count))
        client.close()
    samples = sorted((client.accepted[i] - sent[i]) * 1e6 for i in range(count))
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    parser.add_argument("--orders", type=int, default=100000)
    parser.add_argument("--rate", type=int, default=10000)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rates = []
    for run in range(args.runs):
        rates.append(throughput(args.orders))
        print("run %d: %.0f orders/s" % (run + 1, rates[-1]))
    print("throughput (median of %d): %.0f orders/s (%d pipelined Enter Orders)"
          % (args.runs, statistics.median(rates), args.orders))
    p50s, p99s = [], []
    for run in range(args.runs):
        p50, p99 = latency(args.rate, args.seconds)
        p50s.append(p50)
        p99s.append(p99)
        print("run %d: p50 %.0f us, p99 %.0f us" % (run + 1, p50, p99))
    print("Enter -> Accepted at %d orders/s (median of %d): p50 %.0f us, p99 %.0f us"
          % (args.rate, args.runs, statistics.median(p50s), statistics.median(p99s)))


if __name__ == "__main__":
    main()
