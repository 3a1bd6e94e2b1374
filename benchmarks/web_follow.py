"""
Web view benchmark: what a page open on a busy book costs the FIX
gateway.

exsim runs in its own process (C{twistd -n exsim --config ...}) with a
management service, the web view, a FIX.4.4 endpoint and two books: AAPL,
where this script's FIX session sends orders paced at C{--rate} (2,000/s
by default; NewOrderSingle -> first ExecutionReport latency, as in
C{fix_gateway.py}), and FAST, with C{activity = fast} (several thousand
engine events a second).  Each run measures the latency twice on one
simulator: with nobody looking, and with a page following FAST's ladder,
trades and orders (C{/stream/book/FAST}, read as a browser reads it: a
Server-Sent Events stream over HTTP with Basic authentication), the order
of the two swapped every other run.  Reported: the median over the runs of
p50, p99 and p99.9 with and without the page, and the p99 ratio (the
target is at most 1.2); and the simulator process's CPU time (user +
system, from /proc) per second of each phase, which a loaded machine
disturbs less than latency percentiles.

    .venv/bin/python benchmarks/web_follow.py [--runs 3] [--seconds 5] [--rate 2000]
        [--browser]

C{--browser} opens the page in headless Chromium (selenium, Debian's
chromium and chromium-driver) instead of the plain stream reader.
"""

import argparse
import base64
import importlib.util
import os
import socket
import statistics
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _fixGateway():
    spec = importlib.util.spec_from_file_location("fix_gateway", os.path.join(HERE, "fix_gateway.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fixGateway = _fixGateway()

USER, PASSWORD = "bench", "bench-password"

CONFIG = """\
[control]
listen = tcp:{control}:interface=127.0.0.1
users = {user}:{password}

[web]
listen = tcp:{web}:interface=127.0.0.1

[engine:e1]
class = matching

[book:AAPL]
engine = e1
symbol = AAPL

[book:FAST]
engine = e1
symbol = FAST
reference_price = 100
activity = fast

[endpoint:fix1]
engine = e1
protocol = fix
listen = tcp:{{port}}:interface=127.0.0.1
begin_string = FIX.4.4
"""


class StreamReader(threading.Thread):
    """
    Reads a Server-Sent Events stream as a browser would, counting its
    events, until stopped.
    """

    def __init__(self, port, path):
        threading.Thread.__init__(self, daemon=True)
        token = base64.b64encode(("%s:%s" % (USER, PASSWORD)).encode()).decode()
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall((
            "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\n"
            "Accept: text/event-stream\r\n\r\n" % (path, token)
        ).encode())
        self.events = 0
        self.bytes = 0
        self.stopped = False

    def run(self):
        self.sock.settimeout(0.5)
        while not self.stopped:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not data:
                break
            self.bytes += len(data)
            self.events += data.count(b"\nevent: ") + data.startswith(b"event: ")

    def stop(self):
        self.stopped = True
        self.join(2)
        self.sock.close()


class BrowserPage:
    """
    The book page in headless Chromium.
    """

    def __init__(self, port, path):
        import shutil

        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which("chromium")
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
        self.driver.get("http://%s:%s@127.0.0.1:%d%s" % (USER, PASSWORD, port, path))
        self.events = 0
        self.bytes = 0

    def stop(self):
        self.events = int(self.driver.execute_script("return document.body.dataset.updates || 0"))
        self.driver.quit()


def cpuSeconds(pid):
    """
    User + system CPU seconds a process has used so far (Linux /proc).
    """
    with open("/proc/%d/stat" % (pid,)) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(rate, seconds, withFirst, browser):
    control, web = fixGateway.freePort(), fixGateway.freePort()
    fixGateway.CONFIG = CONFIG.format(control=control, web=web, user=USER, password=PASSWORD)
    server = fixGateway.Server()
    try:
        time.sleep(1.0)  # the activity warms the book up
        results = {}
        for looking in ((True, False) if withFirst else (False, True)):
            page = None
            if looking:
                page = (BrowserPage if browser else StreamReader)(web, "/book/FAST" if browser else "/stream/book/FAST")
                if not browser:
                    page.start()
                time.sleep(0.5)
            cpu, start = cpuSeconds(server.process.pid), time.monotonic()
            latencies = fixGateway.latency(
                server.port, rate, seconds, b"LAT%s" % (b"PAGE" if looking else b"NONE",)
            )
            results["cpu", looking] = (cpuSeconds(server.process.pid) - cpu) / (time.monotonic() - start)
            if page is not None:
                page.stop()
                results["updates"] = page.events
            results[looking] = latencies
        return results
    finally:
        server.stop()


def snapshots(count, warm):
    """
    What one look of a book page's stream holds the simulator, in this
    process: a simulator on a memory clock whose FAST book has had
    C{warm} seconds of C{activity = fast} (with the web view's trade tape
    and an AAPL flow filling the engine's recent orders), then C{count}
    looks as L{exsim.observe.web.streams.PollingStream} makes them (the
    page's parts, the ones that changed as JSON), each between 0.25 s of
    activity.  Machine load disturbs this much less than latency
    percentiles.

    @return: the sorted CPU seconds of each look.
    """
    sys.path.insert(0, os.path.dirname(HERE))
    import json

    from twisted.internet.testing import MemoryReactorClock

    from exsim.observe.inventory import TradeTape
    from exsim.observe.web import pages
    from exsim.service import Simulator

    clock = MemoryReactorClock()
    clock.advance(time.time())
    simulator = Simulator(clock)
    simulator.create_engine("e1")
    simulator.create_book("AAPL", "e1", "AAPL")
    simulator.create_book("FAST", "e1", "FAST")
    simulator.set_book_property("FAST", "reference_price", "100")
    simulator.set_book_property("FAST", "activity", "fast")
    engine = simulator.engines["e1"]
    tapes = {"e1": TradeTape(engine, clock)}
    engine.subscribe(tapes["e1"])
    for order in range(int(warm * 100)):
        simulator.create_order("w%d" % order, "AAPL", side="buy", price="1.00", quantity=1)
        simulator.submit_order("w%d" % order)
        clock.advance(0.01)
    sent = {}
    times = []
    for _ in range(count):
        for _ in range(25):
            clock.advance(0.01)
        start = time.process_time()
        parts = pages.bookParts(simulator, "FAST", tapes)
        changed = {k: v for k, v in parts.items() if sent.get(k) != v}
        json.dumps({"replace": changed}, separators=(",", ":"))
        sent.update(changed)
        times.append(time.process_time() - start)
    return sorted(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--browser", action="store_true")
    parser.add_argument("--snapshots", type=int, default=0, metavar="N",
                        help="only time N looks of a book page's stream, in this process")
    options = parser.parse_args()
    if options.snapshots:
        times = snapshots(options.snapshots, 30.0)
        median, worst = statistics.median(times), times[-1]
        print("one look of a book page's stream (FAST, after 30 s of fast activity; %d looks): "
              "median %.0f us, p99 %.0f us, worst %.0f us of CPU; at 4 looks a second %.2f %% of "
              "a core" % (len(times), median * 1e6, times[int(len(times) * 0.99)] * 1e6,
                          worst * 1e6, 400 * median))
        return
    percentile = fixGateway.percentile
    rows = {False: [], True: []}
    for i in range(options.runs):
        results = run(options.rate, options.seconds, i % 2 == 1, options.browser)
        for looking in (False, True):
            values = results[looking]
            figures = (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 0.999),
                       100 * results["cpu", looking])
            rows[looking].append(figures)
            print("run %d %s: p50 %.0f us, p99 %.0f us, p99.9 %.0f us, simulator CPU %.0f %%%s" % (
                i + 1, "with a page   " if looking else "without a page",
                figures[0], figures[1], figures[2], figures[3],
                " (%d updates received)" % (results["updates"],) if looking else "",
            ))
            sys.stdout.flush()
    medians = {
        looking: [statistics.median(f[k] for f in rows[looking]) for k in range(4)]
        for looking in (False, True)
    }
    for looking in (False, True):
        print("median of %d, %d orders/s, %s: p50 %.0f us, p99 %.0f us, p99.9 %.0f us, "
              "simulator CPU %.0f %% of a core" % (
            options.runs, options.rate, "with a page following FAST" if looking else "without a page",
            *medians[looking]))
    print("p99 with / without a page: %.2f (target <= 1.20)" % (medians[True][1] / medians[False][1],))


if __name__ == "__main__":
    main()
