"""
Tests for L{exsim.config} (sim.ini) and the twistd plugin's use of it
(L{exsim.tap}).
"""

import os
import sys

from twisted.internet import utils
from twisted.internet.testing import MemoryReactorClock
from twisted.python.filepath import FilePath
from twisted.spread import pb
from twisted.trial import unittest

from exsim import config, tap
from exsim.control.checker import UsersChecker
from exsim.control.service import ControlService
from exsim.engine.reference import ReferenceEngine
from exsim.errors import ConfigError
from exsim.service import Simulator
from exsim.soup import itch50, ouch42
from tests import fixsession_helpers
from tests.soupfakes import Client

ROOT = FilePath(__file__).parent().parent()


class DefaultConfigTests(unittest.TestCase):
    def test_identicalCopy(self):
        """
        The built-in default is an identical copy of etc/sim.ini.
        """
        self.assertEqual(
            ROOT.child("etc").child("sim.ini").getContent(),
            FilePath(config.defaultPath()).getContent(),
        )

    def test_everySectionType(self):
        kinds = {s.kind for s in config.load(config.defaultPath())}
        self.assertEqual(kinds, set(config.SECTION_TYPES))

    def test_runsDefault(self):
        """
        The default configuration builds engines, books, listening
        endpoints, house orders and quotes, and the management service.
        """
        reactor = MemoryReactorClock()
        options = tap.Options()
        options.parseOptions([])
        simulator = tap.makeService(options, reactor)
        sections = config.load(config.defaultPath())
        endpoints = [s for s in sections if s.kind == "endpoint"]
        self.assertIn("e1", simulator.engines)
        self.assertEqual(sorted(simulator.endpoints), sorted(s.name for s in endpoints))
        self.assertGreaterEqual(len(endpoints), 3)
        expected = sorted(
            (int(value.split(":")[1]), "127.0.0.1")
            for s in endpoints for key, value, _ in s.items if key == "listen"
        )
        # Ports are bound when twistd starts the simulator (after its
        # start-up lines), privileged start first.
        self.assertEqual(reactor.tcpServers, [])
        simulator.privilegedStartService()
        listening = sorted((port, interface) for port, _, _, interface in reactor.tcpServers)
        self.assertEqual(listening, expected)
        book = simulator.get_book("AAPL")
        self.assertIn(("149.50", 500, 1), book["bids"])
        self.assertIn(("150.10", 100, 1), book["asks"])
        control = simulator.getServiceNamed("control")
        self.assertIsInstance(control, ControlService)
        self.assertEqual(control.listen, "tcp:8789:interface=127.0.0.1")
        simulator.startService()
        servers = {(p, i): factory for p, factory, _, i in reactor.tcpServers}
        self.assertIsInstance(servers[(8789, "127.0.0.1")], pb.PBServerFactory)
        # The web view ([web]), with the management service's users.
        self.assertEqual(simulator.getServiceNamed("web").listen, "tcp:8790:interface=127.0.0.1")
        self.assertIn((8790, "127.0.0.1"), servers)
        simulator.stopService()


class ReferenceClassTests(unittest.TestCase):
    """
    The default configuration with C{class = reference}: every section
    works on a reference engine, and FIX (order entry and drop copy), OUCH
    and ITCH endpoints trade and publish on it (in memory).
    """

    def setUp(self):
        text = FilePath(config.defaultPath()).getContent().decode("utf-8")
        self.assertIn("\nclass = matching\n", text)
        text = text.replace("\nclass = matching\n", "\nclass = reference\n")
        self.reactor = MemoryReactorClock()
        self.reactor.advance(fixsession_helpers.START)
        self.simulator = Simulator(self.reactor)
        # (Named as the default is: its [instruments] file is beside it.)
        config.apply(config.parse(text, config.defaultPath()), self.simulator)
        self.addCleanup(self.simulator.stopService)
        self.engine = self.simulator.engines["e1"]

    def test_venue(self):
        simulator, engine = self.simulator, self.engine
        self.assertIsInstance(engine, ReferenceEngine)
        self.assertEqual(
            sorted(simulator.endpoints), ["dropcopy1", "fix1", "itch1", "ouch1"]
        )
        # The house order and the house quote.
        book = simulator.get_book("AAPL")
        self.assertEqual(book["bids"][:2], [("149.90", 100, 1), ("149.50", 500, 1)])
        self.assertEqual(book["asks"], [("150.10", 100, 1)])
        # Background activity and the market maker on SPY.
        self.reactor.advance(5)
        spy = simulator.get_book("SPY")
        self.assertTrue(spy["bids"] and spy["asks"], spy)
        engine.validateInternalState()

        itch = Client(simulator.endpoints["itch1"])
        itch.login("feed", "feed")
        itch.sequenced()
        dropCopy = fixsession_helpers.Client(
            simulator.endpoints["dropcopy1"].factory, compId="COPY", port=40001
        )
        self.assertEqual([m.msgType for m in dropCopy.logon()], ["A"])
        fix = fixsession_helpers.Client(simulator.endpoints["fix1"].factory, compId="BUYER")
        self.assertEqual([m.msgType for m in fix.logon()], ["A"])
        fields = [
            (11, "F1"), (55, "AAPL"), (54, "1"), (38, 60), (40, "2"), (44, "150.10"),
            (59, "0"), (60, fixsession_helpers.stamp(self.reactor.seconds())),
        ]
        reports = [m for m in fix.send("D", fields) if m.msgType == "8"]
        self.assertEqual([(m.get(150), m.get(32), m.get(31)) for m in reports],
                         [("0", None, None), ("F", "60", "150.1")])
        # Every report of the engine: the buyer's two and the house quote's
        # fill.
        self.assertEqual(
            [m.get(150) for m in dropCopy.received() if m.msgType == "8"], ["0", "F", "F"]
        )
        # An auto_fill book.
        fields = [(11, "F2"), (55, "MSFT"), (54, "2"), (38, 10), (40, "1"),
                  (60, fixsession_helpers.stamp(self.reactor.seconds()))]
        reports = [m for m in fix.send("D", fields) if m.msgType == "8"]
        self.assertEqual([(m.get(150), m.get(31)) for m in reports], [("0", None), ("F", "300")])

        ouch = Client(simulator.endpoints["ouch1"])
        ouch.login("trader", "secret")
        ouch.sequenced()
        ouch.unsequenced(ouch42.enterOrder("S1", b"S", 30, "AAPL", 1499000))
        messages = [ouch42.decodeOutbound(p) for p in ouch.sequenced()]
        self.assertEqual([m[0] for m in messages], [b"A", b"E"])
        self.assertEqual((messages[1][3], messages[1][4]), (30, 1499000))
        feed = [itch50.decode(p)[0] for p in itch.sequenced()]
        self.assertIn(b"E", feed)
        self.assertIn(b"P", feed)
        self.assertEqual(simulator.get_book("AAPL")["bids"][:1], [("149.90", 70, 1)])
        engine.validateInternalState()

        # Management operations: managed mode, match_orders, accept_order,
        # end of day.
        simulator.set_engine_property("e1", "mode", "managed")
        for clOrdId in ("F3", "F4"):
            fields = [
                (11, clOrdId), (55, "AAPL"), (54, "2"), (38, 20), (40, "2"), (44, "151.00"),
                (59, "0"), (60, fixsession_helpers.stamp(self.reactor.seconds())),
            ]
            self.assertEqual(fix.send("D", fields), [])
        requests = [e for e in simulator.get_events() if e["type"] == "order_request"]
        self.assertEqual([e["cl_ord_id"] for e in requests], ["F3", "F4"])
        simulator.match_orders("AAPL", "house_bid", requests[0]["order_id"], 5, "150.00")
        reports = [m for m in fix.received() if m.msgType == "8"]
        self.assertEqual([(m.get(11), m.get(150), m.get(32)) for m in reports],
                         [("F3", "0", None), ("F3", "F", "5")])
        simulator.accept_order(requests[1]["order_id"])
        self.assertEqual([m.get(150) for m in fix.received()], ["0"])
        self.assertEqual(simulator.get_book("AAPL")["asks"], [("150.10", 40, 1), ("151.00", 20, 1)])
        simulator.end_of_day("e1")
        expired = [m for m in fix.received() if m.msgType == "8" and m.get(150) == "C"]
        self.assertEqual(sorted(m.get(11) for m in expired), ["F3", "F4"])
        engine.validateInternalState()


class ParseTests(unittest.TestCase):
    def apply(self, text, reactor=None):
        simulator = Simulator(reactor or MemoryReactorClock())
        settings = config.apply(config.parse(text, "sim.ini"), simulator)
        return simulator, settings

    def assertConfigError(self, text, lineno, message):
        e = self.assertRaises(ConfigError, self.apply, text)
        self.assertEqual((e.filename, e.lineno), ("sim.ini", lineno))
        self.assertIn(message, str(e))
        self.assertTrue(str(e).startswith("sim.ini:%d: " % (lineno,)), str(e))
        self.assertNotIn("\n", str(e))
        return e

    def test_script(self):
        simulator, settings = self.apply(
            "# comment\n"
            "[engine:e1]\n"
            "mode = managed\n"
            "[book:B]\n"
            "engine = e1\n"
            "symbol = BBB\n"
            "tick_size = 0.05\n"
            "[order:o1]\n"
            "book = B\n"
            "side = sell\n"
            "price = 10.05\n"
            "quantity = 3\n"
            "[quote:q1]\n"
            "engine = e1\n"
            "book = B\n"
            "bid_price = 9.95\n"
            "bid_size = 1\n"
        )
        self.assertIsNone(settings.control)
        self.assertEqual(simulator.engines["e1"].mode, "managed")
        book = simulator.get_book("B")
        self.assertEqual((book["symbol"], book["bids"], book["asks"]),
                         ("BBB", [("9.95", 1, 1)], [("10.05", 3, 1)]))

    def test_control(self):
        simulator, settings = self.apply(
            "[control]\nlisten = tcp:0:interface=127.0.0.1\nusers = a:b\nevent_queue_size = 50\n"
        )
        self.assertEqual(settings.control["listen"], "tcp:0:interface=127.0.0.1")
        self.assertIsInstance(settings.control["checker"], UsersChecker)
        self.assertEqual(simulator.events.maxSize, 50)

    def test_passwordFileRelative(self):
        """
        A relative password_file is found beside the configuration file.
        """
        directory = FilePath(self.mktemp())
        directory.makedirs()
        directory.child("passwords").setContent(b"a:b\n")
        path = directory.child("sim.ini")
        path.setContent(b"[control]\npassword_file = passwords\n")
        settings = config.apply(config.load(path.path), Simulator(MemoryReactorClock()))
        self.assertEqual(settings.control["checker"].filename, directory.child("passwords").path)

    def test_errors(self):
        cases = [
            ("[engine:e1]\n[bogus:x]\n", 2, "unknown section type [bogus:x]"),
            ("[engine:e1\n", 1, "unterminated section header"),
            ("mode = auto\n", 1, "a key outside any section"),
            ("[engine:e1]\njunk\n", 2, "expected 'key = value'"),
            ("[engine:e1]\nmode = auto\nmode = auto\n", 3, "given twice"),
            ("[engine]\n", 1, "needs a name"),
            ("[engine:]\n", 1, "needs a name after the colon"),
            ("[control:x]\n", 1, "takes no name"),
            ("[engine:e1]\n\nmode = sideways\n", 3, "mode must be one of auto, managed"),
            ("[engine:e1]\nclass = quantum\n", 2, "unknown engine 'quantum'"),
            ("[engine:e1]\n[engine:e1]\n", 2, "engine 'e1' already exists"),
            ("[book:B]\nengine = e1\n", 2, "unknown engine 'e1'"),
            ("[engine:e1]\n[book:B]\nsymbol = B\n", 2, "[book:B] needs a 'engine' key"),
            ("[engine:e1]\n[book:B]\nengine = e1\ntick_size = -1\n", 4, "tick_size must be a positive decimal"),
            ("[engine:e1]\n[book:B]\nengine = e1\ncolour = red\n", 4, "unknown book property 'colour'"),
            ("[engine:e1]\n[endpoint:x]\nengine = e1\nprotocol = pigeon\n", 4, "unknown protocol 'pigeon'"),
            ("[engine:e1]\n[endpoint:x]\nengine = e1\nprotocol = fix\nflavour = x\n", 5, "unknown fix endpoint property 'flavour'"),
            ("[engine:e1]\n[endpoint:x]\nengine = e1\nprotocol = fix\nlisten = nonsense:1\n", 5, "bad listen endpoint"),
            ("[engine:e1]\n[book:B]\nengine = e1\n[order:o]\nbook = C\n", 5, "unknown book 'C'"),
            ("[engine:e1]\n[book:B]\nengine = e1\n[order:o]\nbook = B\nside = up\n", 6, "side must be one of"),
            ("[engine:e1]\n[book:B]\nengine = e1\n[order:o]\nbook = B\nside = buy\n", 4, "order 'o' needs a quantity"),
            ("[engine:e1]\n[book:B]\nengine = e1\n[quote:q]\nengine = e1\nbook = B\n"
             "bid_price = 2\nbid_size = 1\nask_price = 1\nask_size = 1\n", 4, "is crossed"),
            ("[engine:e1]\n[book:B]\nengine = e1\n[quote:q]\nengine = e2\nbook = B\n", 6, "unknown engine 'e2'"),
            ("[control]\nusers = a:b\n[control]\nusers = a:b\n", 3, "[control] given twice"),
            ("[control]\nusers = a:b\ncolour = red\n", 3, "unknown key 'colour' in [control]"),
            ("[control]\nlisten = tcp:0\n", 1, "needs either users or password_file"),
            ("[control]\nusers = nocolon\n", 2, "name:password"),
            ("[control]\nusers = a:b\nevent_queue_size = 1\n", 3, "event_queue_size must be at least 2"),
            ("[control]\nusers = a:b\nlisten = nonsense:1\n", 3, "bad listen endpoint"),
            ("[control]\npassword_file = /nonexistent/pw\n", 2, "cannot read password_file"),
        ]
        for text, lineno, message in cases:
            self.assertConfigError(text, lineno, message)

    def test_failureStartsNothing(self):
        """
        A failing configuration stops whatever it had started listening
        (twistd then exits).
        """
        reactor = _PortRecordingReactor()
        path = self.mktemp()
        with open(path, "w") as f:
            f.write(
                "[engine:e1]\n[endpoint:x]\nengine = e1\nprotocol = fix\n"
                "listen = tcp:0\n[book:B]\nengine = e9\n"
            )
        options = tap.Options()
        options.parseOptions(["--config", path])
        self.assertRaises(SystemExit, tap.makeService, options, reactor)
        # twistd's simulator binds ports only when it starts: none here.
        self.assertEqual(reactor.ports, [])
        # A simulator that listens at once stops what it had started.
        simulator = Simulator(reactor)
        self.assertRaises(ConfigError, config.apply, config.load(path), simulator)
        simulator.stopService()
        self.assertEqual(len(reactor.ports), 1)
        self.assertEqual([p.stopped for p in reactor.ports], [True])

    def test_loadErrors(self):
        e = self.assertRaises(ConfigError, config.load, "/nonexistent/sim.ini")
        self.assertIn("/nonexistent/sim.ini: cannot read configuration", str(e))
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(b"[engine:\xff]\n")
        e = self.assertRaises(ConfigError, config.load, path)
        self.assertIn("not UTF-8", str(e))

    def test_optionsError(self):
        """
        A broken file stops twistd at option parsing with one line.
        """
        options = tap.Options()
        e = self.assertRaises(SystemExit, options.parseOptions, ["--config", "/nonexistent/x.ini"])
        self.assertTrue(str(e.code).startswith("exsim: /nonexistent/x.ini: cannot read"))


class TwistdTests(unittest.TestCase):
    """
    C{twistd -n exsim --config BAD} exits non-zero with one line naming
    the file and line.
    """

    def twistd(self, text):
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write(text)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([ROOT.path] + sys.path)
        d = utils.getProcessOutputAndValue(
            sys.executable,
            ["-c", "from twisted.scripts.twistd import run; run()",
             "-n", "--pidfile=", "--logfile=-", "exsim", "--config", path],
            env=env,
            path=ROOT.path,
        )
        return d.addCallback(lambda result: (path,) + tuple(result))

    def check(self, result, lineno, message):
        path, out, err, code = result
        self.assertNotEqual(code, 0)
        lines = err.decode("utf-8").strip().splitlines()
        self.assertEqual(len(lines), 1, err)
        self.assertTrue(lines[0].startswith("exsim: %s:%d: " % (path, lineno)), lines)
        self.assertIn(message, lines[0])

    def test_unknownEngine(self):
        d = self.twistd("[engine:e1]\n\n[book:A]\nengine = e2\n")
        return d.addCallback(self.check, 4, "unknown engine 'e2'")

    def test_unknownSection(self):
        d = self.twistd("[engine:e1]\n[bogus]\n")
        return d.addCallback(self.check, 2, "unknown section type [bogus]")


class _RecordingPort:
    def __init__(self, port):
        self.port = port
        self.stopped = False

    def getHost(self):
        return self.port.getHost()

    def stopListening(self):
        self.stopped = True


class _PortRecordingReactor(MemoryReactorClock):
    def __init__(self):
        MemoryReactorClock.__init__(self)
        self.ports = []

    def listenTCP(self, *args, **kwargs):
        port = _RecordingPort(MemoryReactorClock.listenTCP(self, *args, **kwargs))
        self.ports.append(port)
        return port
