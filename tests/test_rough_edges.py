"""
The rough edges a new user hit (issue 16): each behaviour as documented.
"""

from twisted.internet.task import Clock
from twisted.trial import unittest

from exsim import config
from exsim.errors import BadValue, ConfigError, WrongState
from exsim.service import Simulator


class ReferencePriceTests(unittest.TestCase):
    def setUp(self):
        self.simulator = Simulator(Clock())
        self.simulator.create_engine("e1")
        self.simulator.create_book("AAPL", "e1", "AAPL")
        self.simulator.set_book_property("AAPL", "tick_size", "0.05")

    def test_offTickRejected(self):
        """
        A reference price off the tick grid is refused, naming the tick
        size, as an order's price is.
        """
        e = self.assertRaises(
            BadValue, self.simulator.set_book_property, "AAPL", "reference_price", "150.02"
        )
        self.assertEqual(str(e), "reference_price 150.02 is not on the tick grid (tick_size 0.05)")
        self.simulator.set_book_property("AAPL", "reference_price", "150.05")
        self.assertEqual(self.simulator.book("AAPL")[1].referencePrice, 1500500)

    def test_tickSizeKeepsReferenceOnGrid(self):
        """
        A tick size that would leave the reference price off the grid is
        refused too.
        """
        self.simulator.set_book_property("AAPL", "reference_price", "150.05")
        e = self.assertRaises(
            BadValue, self.simulator.set_book_property, "AAPL", "tick_size", "0.10"
        )
        self.assertIn("reference_price 150.05 off the tick grid", str(e))
        self.simulator.set_book_property("AAPL", "tick_size", "0.01")

    def test_config(self):
        text = "[engine:e1]\n[book:X]\nengine = e1\ntick_size = 0.05\nreference_price = 10.01\n"
        e = self.assertRaises(
            ConfigError, config.apply, config.parse(text, "sim.ini"), Simulator(Clock())
        )
        self.assertEqual(
            str(e), "sim.ini:5: reference_price 10.01 is not on the tick grid (tick_size 0.05)"
        )


class NotManagementServiceTests(unittest.TestCase):
    """
    exsimctl and the clients pointed at something that is not a management
    service say so at once (was: 30 s, then "no answer from the
    simulator").
    """

    def test_silentPeer(self):
        """
        A FIX port says nothing: refused after the greeting timeout (3 s
        here), whatever the call's timeout.
        """
        import io
        import time

        from exsim import client, ctl
        from exsim.testing import startServer

        self.patch(client, "GREETING_TIMEOUT", 3.0)

        server = startServer(self)
        server.create_engine("e1")
        server.create_endpoint("fix1", "e1", "fix")
        server.start_endpoint("fix1")
        connect = "tcp:%s:%d" % server.get_endpoint_address("fix1")
        out, err = io.StringIO(), io.StringIO()
        start = time.monotonic()
        code = ctl.main(["--connect", connect, "--password", "x", "--timeout", "30", "list"],
                        out, err, {}, io.StringIO())
        self.assertLess(time.monotonic() - start, 10)
        self.assertEqual(code, 1)
        self.assertEqual(
            err.getvalue(),
            "exsimctl: %s is not an exsim management service (no Perspective Broker "
            "greeting in 3 seconds)\n" % (connect,),
        )

    def test_peerHangsUp(self):
        """
        A peer that closes the connection at once is told at once.
        """
        import socket
        import threading

        from exsim.client import API, NotManagementService

        listener = socket.socket()
        self.addCleanup(listener.close)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)

        def accept():
            conn, _ = listener.accept()
            conn.close()

        thread = threading.Thread(target=accept)
        thread.start()
        self.addCleanup(thread.join)
        e = self.assertRaises(
            NotManagementService, API(timeout=30).connect,
            "tcp:127.0.0.1:%d" % (listener.getsockname()[1],), "x", "y",
        )
        self.assertIn("closed the connection without a greeting", str(e))


class PidFileTests(unittest.TestCase):
    """
    A second simulator sharing a running one's pid file is refused before
    its configuration is read, with how to give it its own.
    """

    def options(self, pid):
        import os

        from exsim import tap

        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write("%d\n" % (pid,))
        options = tap.Options()
        options.parent = {"pidfile": path}
        return options, path

    def test_running(self):
        import os

        options, path = self.options(os.getppid())
        e = self.assertRaises(
            SystemExit, options.parseOptions, ["--config", "/nonexistent/never-read.ini"]
        )
        self.assertEqual(
            str(e.code),
            "exsim: another simulator (PID %d) runs with the pid file %s; give this one its "
            "own: twistd --pidfile=OTHER.pid -n exsim --config ..." % (os.getppid(), path),
        )

    def test_stale(self):
        """
        A pid file of a process that is gone is no clash (twistd removes
        it); the configuration is read as usual.
        """
        import subprocess

        process = subprocess.Popen(["true"])
        process.wait()
        options, path = self.options(process.pid)
        options.parseOptions([])
        self.assertTrue(options["sections"])


class StartupLogTests(unittest.TestCase):
    """
    Start-up lines: each configured endpoint's address as one line once
    the simulator runs (not before twistd's own start-up lines), no object
    reprs; a warning when nothing is configured.
    """

    def setUp(self):
        from twisted.internet.testing import MemoryReactorClock
        from twisted.logger import globalLogPublisher

        self.reactor = MemoryReactorClock()
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        self.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def texts(self):
        from twisted.logger import formatEvent

        return [formatEvent(e) for e in self.events]

    def test_endpointsAfterStart(self):
        simulator = Simulator(self.reactor)
        text = (
            "[engine:e1]\n[endpoint:fix1]\nengine = e1\nprotocol = fix\n"
            "[endpoint:ouch1]\nengine = e1\nprotocol = ouch\n"
        )
        config.apply(config.parse(text, "sim.ini"), simulator)
        self.assertEqual([t for t in self.texts() if "listening" in t], [])
        simulator.startService()
        self.addCleanup(simulator.stopService)
        self.reactor.run()
        lines = [t for t in self.texts() if "listening on" in t or "running" in t]
        self.assertEqual(len(lines), 3, lines)
        self.assertTrue(lines[0].startswith("fix1 (fix) listening on "), lines)
        self.assertTrue(lines[1].startswith("ouch1 (ouch) listening on "), lines)
        self.assertEqual(lines[2], "exsim running: engines e1; endpoints fix1, ouch1")
        self.assertFalse([t for t in self.texts() if " object at 0x" in t])
        limit = simulator.endpoint("fix1").limit
        self.assertEqual((limit.logPrefix(), limit.factory.noisy), ("fix1 (fix)", False))

    def test_twistdBindsAtStart(self):
        """
        twistd's simulator (C{listenAtStart}, set by L{exsim.tap}) checks
        an endpoint's listen string with the configuration but binds the
        port when it starts: Twisted's port line comes after twistd's
        start-up lines.
        """
        simulator = Simulator(self.reactor)
        simulator.listenAtStart = True
        text = "[engine:e1]\n[endpoint:fix1]\nengine = e1\nprotocol = fix\n"
        config.apply(config.parse(text, "sim.ini"), simulator)
        self.assertEqual(self.reactor.tcpServers, [])
        self.assertFalse([t for t in self.texts() if "starting on" in t or "listening" in t])
        e = self.assertRaises(WrongState, simulator.get_endpoint_address, "fix1")
        self.assertEqual(str(e), "endpoint 'fix1' listens when the simulator starts")
        self.assertEqual(simulator.endpoint("fix1").listenOrigin, ("sim.ini", 2))
        simulator.privilegedStartService()
        self.assertEqual(len(self.reactor.tcpServers), 1)
        self.assertEqual(len(simulator.get_endpoint_address("fix1")), 2)
        simulator.startService()
        self.addCleanup(simulator.stopService)
        self.assertEqual(len(self.reactor.tcpServers), 1)
        self.reactor.run()
        self.assertEqual(len([t for t in self.texts() if t.startswith("fix1 (fix) listening on")]), 1)

    def test_heldEndpointDeleted(self):
        """
        An endpoint deleted before the simulator starts never binds.
        """
        simulator = Simulator(self.reactor)
        simulator.listenAtStart = True
        simulator.create_engine("e1")
        simulator.create_endpoint("fix1", "e1", "fix")
        simulator.start_endpoint("fix1")
        self.failureResultOf(simulator.start_endpoint("fix1"), WrongState)
        simulator.delete_endpoint("fix1")
        simulator.startService()
        self.addCleanup(simulator.stopService)
        self.assertEqual(self.reactor.tcpServers, [])

    def test_nothingConfigured(self):
        simulator = Simulator(self.reactor)
        config.apply(config.parse("# nothing\n", "sim.ini"), simulator)
        simulator.startService()
        self.addCleanup(simulator.stopService)
        self.reactor.run()
        self.assertIn(
            "nothing is configured: no engine, no endpoint, no management service "
            "(etc/sim.ini is a documented example)", self.texts(),
        )


class ExtrasTests(unittest.TestCase):
    """
    Installing for use and for development (setup.cfg): ``exsim[pytest]``
    brings what the pytest fixtures need, the ``test`` extra what exsim's
    own suite needs; TLS and simplefix (exsim.testing) come with exsim.
    """

    def setUp(self):
        import configparser
        import os

        parser = configparser.ConfigParser()
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        parser.read(os.path.join(root, "setup.cfg"))
        self.options = parser

    def requirements(self, section, key):
        return [line.split()[0].split(">")[0].split("=")[0].split("<")[0]
                for line in self.options.get(section, key).splitlines() if line.strip()]

    def test_extras(self):
        self.assertEqual(self.requirements("options.extras_require", "pytest"), ["pytest"])
        test = self.requirements("options.extras_require", "test")
        for name in ("pytest", "hypothesis", "quickfix-tls"):
            self.assertIn(name, test)
        install = self.requirements("options", "install_requires")
        self.assertIn("twisted[tls]", install)
        self.assertIn("simplefix", install)

    def test_fixtureImports(self):
        """
        The plugin and the clients its fixtures use import with what the
        pytest extra and install_requires bring.
        """
        import importlib

        for module in ("exsim.pytest_plugin", "exsim.testing", "OpenSSL", "simplefix"):
            importlib.import_module(module)
