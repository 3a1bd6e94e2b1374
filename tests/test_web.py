"""
Tests for the web view (L{exsim.observe.web}) over HTTP: a simulator
process (C{exsim.API().create_server()}) with C{start_web}, read with
C{urllib}; the page functions in memory; C{[web]} in sim.ini.  The
browser tests are in L{tests.test_browser}.
"""

import base64
import json
import os
import socket
import time
import urllib.error
import urllib.request

from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest

import exsim
from exsim import config
from exsim.errors import BadValue, ConfigError, WrongState
from exsim.observe.web import pages
from exsim.service import Simulator
from exsim.testing import FixClient

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def get(url, user=None, password=None, method="GET", timeout=10):
    """
    (status, headers, body) of an HTTP request.
    """
    request = urllib.request.Request(url, method=method)
    if user is not None:
        token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
        request.add_header("Authorization", "Basic " + token)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers, response.read().decode("utf-8")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")


def readEvents(host, port, path, user, password, count=1, timeout=10):
    """
    The first C{count} Server-Sent Events of a stream, as (event, data).
    """
    token = base64.b64encode(("%s:%s" % (user, password)).encode()).decode()
    sock = socket.create_connection((host, port), timeout=timeout)
    try:
        sock.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n"
                      "Accept: text/event-stream\r\n\r\n" % (path, token)).encode())
        data = b""
        deadline = time.monotonic() + timeout
        events = []
        while len(events) < count and time.monotonic() < deadline:
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            data += chunk
            events = []
            for block in data.split(b"\n\n"):
                lines = dict(
                    line.split(b": ", 1) for line in block.split(b"\n") if b": " in line and not line.startswith(b":")
                )
                if b"event" in lines:
                    events.append((lines[b"event"].decode(), json.loads(lines[b"data"])))
        return data, events[:count]
    finally:
        sock.close()


class WebServerTests(unittest.TestCase):
    """
    The web view of a simulator process, over HTTP.
    """

    def setUp(self):
        server = self.server = exsim.API().create_server()
        self.addCleanup(server.delete)
        server.create_engine("e1")
        server.create_book("AAPL", "e1")
        server.create_book("<i>odd</i>", "e1", "ODD")
        server.create_endpoint("fix1", "e1", "fix", listen="tcp:0:interface=127.0.0.1")
        self.host, self.port = server.start_web("tcp:0:interface=127.0.0.1")
        self.base = "http://%s:%d" % (self.host, self.port)

    def page(self, path, **kw):
        return get(self.base + path, self.server.user, self.server.password, **kw)

    def test_address(self):
        self.assertEqual(self.host, "127.0.0.1")
        self.assertIsInstance(self.port, int)
        e = self.assertRaises(WrongState, self.server.start_web, "tcp:0:interface=127.0.0.1")
        self.assertIn("already listens on 127.0.0.1:%d" % (self.port,), str(e))

    def test_overview(self):
        status, headers, body = self.page("/")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/html; charset=utf-8")
        self.assertIn("default-src 'self'", headers["Content-Security-Policy"])
        self.assertEqual(headers["X-Frame-Options"], "DENY")
        self.assertIn('<a href="/book/AAPL">AAPL</a>', body)
        self.assertIn("&lt;i&gt;odd&lt;/i&gt;", body)
        self.assertNotIn("<i>odd</i>", body)
        self.assertIn('href="/book/%3Ci%3Eodd%3C%2Fi%3E"', body)
        self.assertIn("<td>fix1</td>", body)
        self.assertIn('<script src="/static/exsim.js"></script>', body)

    def test_book(self):
        self.server.create_order("h1", "AAPL", side="buy", price="10.5", quantity=7)
        self.server.submit_order("h1")
        status, _, body = self.page("/book/AAPL")
        self.assertEqual(status, 200)
        self.assertIn("<td>10.50</td><td></td><td></td></tr>", body.replace('<tr class="bid"><td>1</td><td>7</td>', ""))
        self.assertIn("<td>house</td><td>h1#1</td><td>buy</td><td>10.50</td>", body)
        # The recent orders' first column: the time the order entered.
        [order] = self.server.list_orders("AAPL")
        self.assertIsNotNone(order["entry_time"])
        self.assertIn("<td>%s</td><td>%d</td><td>house</td>" % (
            pages.clock(order["entry_time"]), order["order_id"]), body)
        status, _, body = self.page("/book/%3Ci%3Eodd%3C%2Fi%3E")
        self.assertEqual(status, 200)
        self.assertIn("Book &lt;i&gt;odd&lt;/i&gt;", body)

    def test_sessionAndEscaping(self):
        """
        A session's journal, newest first; a FIX Text holding a script is
        shown as text.
        """
        host, port = self.server.get_endpoint_address("fix1")
        client = FixClient(host, port, sender_comp_id="ALICE", target_comp_id="EXSIM")
        self.addCleanup(client.close)
        client.logon()
        client.send("D", [(11, "c1"), (55, "AAPL"), (54, "1"), (60, "20240301-12:00:00"),
                          (38, 5), (40, "2"), (44, "10"), (59, "0"),
                          (58, "<script>window.hacked=1</script>")])
        client.wait_for("8")
        status, _, body = self.page("/session/fix1/ALICE")
        self.assertEqual(status, 200)
        self.assertIn("Text=&lt;script&gt;window.hacked=1&lt;/script&gt;", body)
        self.assertNotIn("<script>window", body)
        self.assertLess(body.index("ExecutionReport"), body.index("NewOrderSingle"))
        self.assertEqual(self.page("/session/fix1%2FALICE")[0], 200)

    def test_events(self):
        self.server.create_order("h1", "AAPL", side="buy", price="10.5", quantity=7)
        self.server.submit_order("h1")
        status, _, body = self.page("/events")
        self.assertEqual(status, 200)
        self.assertIn("<td>accepted</td>", body)
        self.assertEqual(len(self.server.peek_events()), 3)

    def test_static(self):
        status, headers, body = self.page("/static/exsim.js")
        self.assertEqual(status, 200)
        self.assertIn("EventSource", body)
        status, headers, body = self.page("/static/exsim.css")
        self.assertEqual((status, headers["Content-Type"]), (200, "text/css"))

    def test_unauthorized(self):
        for user, password in ((None, None), ("exsim", "wrong"), ("nobody", self.server.password)):
            status, headers, body = get(self.base + "/", user, password)
            self.assertEqual(status, 401, (user, password))
            self.assertEqual(headers["WWW-Authenticate"], 'basic realm="exsim"')
            self.assertNotIn("AAPL", body)
        self.assertEqual(get(self.base + "/stream/overview")[0], 401)
        self.assertEqual(get(self.base + "/static/exsim.js")[0], 401)

    def test_notFound(self):
        for path in ("/nope", "/book/NOPE", "/book/", "/session/fix1/NOBODY", "/events/x",
                     "/static/", "/static/none.js", "/static/../__init__.py", "/stream/nope",
                     "/stream/book/NOPE", "/%ff", "/book/%ff"):
            status, _, body = self.page(path)
            self.assertEqual(status, 404, path)
            self.assertNotIn("Traceback", body)
        status, _, body = self.page("/book/NOPE")
        self.assertIn("no book &#x27;NOPE&#x27;", body)

    def test_readOnly(self):
        """
        Only GET (and HEAD): POST is not allowed (405), other methods not
        implemented (501).
        """
        for method, code in (("POST", 405), ("PUT", 501), ("DELETE", 501)):
            status, _, body = self.page("/", method=method)
            self.assertEqual(status, code, method)
            self.assertNotIn("Traceback", body)

    def test_streams(self):
        """
        Each page's stream starts with the page's live parts; a book's
        sends what changed.
        """
        user, password = self.server.user, self.server.password
        raw, [(event, data)] = readEvents(self.host, self.port, "/stream/overview", user, password)
        self.assertIn(b"content-type: text/event-stream", raw.lower())
        self.assertEqual(event, "replace")
        self.assertEqual(sorted(data), ["books", "endpoints", "engines", "sessions"])
        self.server.create_order("h1", "AAPL", side="sell", price="11", quantity=3)
        self.server.submit_order("h1")
        _, [(event, data)] = readEvents(self.host, self.port, "/stream/book/AAPL", user, password)
        self.assertEqual(event, "replace")
        self.assertIn("<td>11.00</td><td>3</td><td>1</td>", data["ladder"])
        raw, events = readEvents(self.host, self.port, "/stream/book/NOPE", user, password, timeout=2)
        self.assertEqual(events, [])
        self.assertTrue(raw.startswith(b"HTTP/1.1 404 "), raw[:40])


class PagesTests(unittest.TestCase):
    """
    The page functions, in memory.
    """

    def test_text(self):
        self.assertEqual(pages.text("<a href='x'>&\""), "&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;")
        self.assertEqual(pages.text(None), "-")
        self.assertEqual(pages.clock(1709294400.25), "12:00:00.250")
        self.assertEqual(pages.bookLink("a/b c"), '<a href="/book/a%2Fb%20c">a/b c</a>')

    def test_eventRows(self):
        rows = pages.eventRows([
            {"event_id": 1, "type": "session_logon", "time": 0, "session": "fix1/<b>", "peer": "<x>"},
            {"event_id": 2, "type": "accepted", "time": 0, "engine": "e1", "price": "1"},
        ])
        self.assertLess(rows.index("<td>2</td>"), rows.index("<td>1</td>"))
        self.assertIn("peer=&lt;x&gt;", rows)
        self.assertIn('<a href="/session/fix1%2F%3Cb%3E">fix1/&lt;b&gt;</a>', rows)

    def test_noControlService(self):
        simulator = Simulator(MemoryReactorClock())
        e = self.assertRaises(WrongState, simulator.start_web, "tcp:0:interface=127.0.0.1")
        self.assertIn("no management service", str(e))
        self.assertRaises(BadValue, simulator.start_web, "")


class WarningTests(unittest.TestCase):
    def test_allInterfaces(self):
        """
        A web view on every interface is warned about, with how to bind to
        loopback and, over plain HTTP, that passwords would cross the
        network readable.
        """
        from twisted.logger import formatEvent, globalLogPublisher

        from exsim.control.checker import UsersChecker
        from exsim.control.service import addControlService
        from exsim.observe.web.server import startWeb

        events = []
        globalLogPublisher.addObserver(events.append)
        self.addCleanup(globalLogPublisher.removeObserver, events.append)
        simulator = Simulator(MemoryReactorClock())
        addControlService(simulator, UsersChecker({"a": "b"}), "tcp:0:interface=127.0.0.1")
        self.assertEqual(self.successResultOf(startWeb(simulator, "tcp:18790"))[1], 18790)
        self.addCleanup(simulator.getServiceNamed("web").stopService)
        self.assertIn(
            "the web view listens on all interfaces (tcp:18790); add :interface=127.0.0.1 to "
            "listen on loopback only, or serve it over TLS (ssl:...) so that passwords do not "
            "cross the network readable",
            [formatEvent(e) for e in events],
        )


class ConfigTests(unittest.TestCase):
    def test_webSection(self):
        sections = config.parse("[control]\nusers = a:b\n[web]\nlisten = tcp:0:interface=127.0.0.1\n")
        settings = config.apply(sections, Simulator(MemoryReactorClock()))
        self.assertEqual(settings.web["listen"], "tcp:0:interface=127.0.0.1")

    def test_badWebSection(self):
        for text, message in (
            ("[web]\ncolour = red\n", "unknown key 'colour' in [web]"),
            ("[web]\nlisten = nonsense:x\n", "bad listen endpoint"),
            ("[web]\n[web]\n", "[web] given twice"),
            ("[web:x]\n", "takes no name"),
        ):
            e = self.assertRaises(ConfigError, lambda: config.apply(
                config.parse(text, "sim.ini"), Simulator(MemoryReactorClock())))
            self.assertIn(message, str(e))

    def test_webNeedsControl(self):
        from exsim import tap

        options = tap.Options()
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[web]\n")
        options.parseOptions(["--config", path])
        e = self.assertRaises(SystemExit, tap.makeService, options, MemoryReactorClock())
        self.assertEqual(e.code, 1)

    def test_twistdWithWeb(self):
        """
        C{twistd exsim} with [control] and [web] serves the web view.
        """
        from exsim import tap

        options = tap.Options()
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[control]\nlisten = tcp:0:interface=127.0.0.1\nusers = a:b\n"
                    "[web]\nlisten = tcp:0:interface=127.0.0.1\n")
        options.parseOptions(["--config", path])
        simulator = tap.makeService(options, MemoryReactorClock())
        web = simulator.getServiceNamed("web")
        self.assertEqual(web.listen, "tcp:0:interface=127.0.0.1")
