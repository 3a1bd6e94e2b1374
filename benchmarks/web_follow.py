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
target is at most 1.2).

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
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        import shutil

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
            latencies = fixGateway.latency(server.port, rate, seconds)
            if page is not None:
                page.stop()
                results["updates"] = page.events
            results[looking] = latencies
        return results
    finally:
        server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rate", type=int, default=2000)
    parser.add_argument("--browser", action="store_true")
    options = parser.parse_args()
    percentile = fixGateway.percentile
    rows = {False: [], True: []}
    for i in range(options.runs):
        results = run(options.rate, options.seconds, i % 2 == 1, options.browser)
        for looking in (False, True):
            values = results[looking]
            figures = (percentile(values, 0.5), percentile(values, 0.99), percentile(values, 0.999))
            rows[looking].append(figures)
            print("run %d %s: p50 %.0f us, p99 %.0f us, p99.9 %.0f us%s" % (
                i + 1, "with a page   " if looking else "without a page",
                figures[0], figures[1], figures[2],
                " (%d updates received)" % (results["updates"],) if looking else "",
            ))
            sys.stdout.flush()
    medians = {
        looking: [statistics.median(f[k] for f in rows[looking]) for k in range(3)]
        for looking in (False, True)
    }
    for looking in (False, True):
        print("median of %d, %d orders/s, %s: p50 %.0f us, p99 %.0f us, p99.9 %.0f us" % (
            options.runs, options.rate, "with a page following FAST" if looking else "without a page",
            *medians[looking]))
    print("p99 with / without a page: %.2f (target <= 1.20)" % (medians[True][1] / medians[False][1],))


if __name__ == "__main__":
    main()
