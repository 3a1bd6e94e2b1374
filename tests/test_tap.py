# -*- test-case-name: tests.test_tap -*-
"""
The twistd plugin: options, makeService, and a real twistd process.
"""

import os
import signal
import sys

from unittest import SkipTest

from twisted.internet import defer, protocol, reactor, utils
from twisted.internet.testing import MemoryReactorClock
from twisted.plugin import getPlugins
from twisted.application.service import IServiceMaker
from twisted.python import usage
from twisted.trial.unittest import TestCase

from exsim import config, tap
from exsim.service import Simulator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class OptionsTests(TestCase):
    def test_defaultConfig(self):
        options = tap.Options()
        options.parseOptions([])
        self.assertEqual(options["configPath"], config.defaultPath())

    def test_missingFile(self):
        options = tap.Options()
        e = self.assertRaises(SystemExit, options.parseOptions, ["--config", "/nonexistent/sim.ini"])
        self.assertIn("/nonexistent/sim.ini", str(e))
        self.assertIn("cannot read", str(e))

    def test_badSyntax(self):
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[engine:e1]\nclass = matching\nnonsense line\n")
        e = self.assertRaises(SystemExit, tap.Options().parseOptions, ["--config", path])
        self.assertIn("%s:3" % (path,), str(e))

    def test_unknownOption(self):
        self.assertRaises(usage.UsageError, tap.Options().parseOptions, ["--bogus"])


class MakeServiceTests(TestCase):
    def test_default(self):
        options = tap.Options()
        options.parseOptions([])
        simulator = tap.makeService(options, MemoryReactorClock())
        self.assertIsInstance(simulator, Simulator)
        self.assertIn("e1", simulator.engines)
        self.assertIn("AAPL", simulator.bookEngines)

    def test_badValue(self):
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("[engine:e1]\n\n[book:AAPL]\nengine = e1\ntick_size = nope\n")
        options = tap.Options()
        options.parseOptions(["--config", path])
        self.patch(sys, "stderr", _Capture())
        e = self.assertRaises(SystemExit, tap.makeService, options, MemoryReactorClock())
        self.assertEqual(e.code, 1)
        self.assertIn("%s:5" % (path,), sys.stderr.text)
        self.assertIn("tick_size", sys.stderr.text)

    def test_defaultIsExample(self):
        """
        The built-in default configuration is etc/sim.ini, exactly.
        """
        example = os.path.join(ROOT, "etc", "sim.ini")
        with open(example) as a, open(config.defaultPath()) as b:
            self.assertEqual(a.read(), b.read())


class _Capture:
    def __init__(self):
        self.text = ""

    def write(self, data):
        self.text += data

    def flush(self):
        pass


class PluginTests(TestCase):
    def test_listed(self):
        from twisted import plugins

        makers = {p.tapname: p for p in getPlugins(IServiceMaker, plugins)}
        self.assertIn("exsim", makers)
        self.assertIs(makers["exsim"].options, tap.Options)


class _Watch(protocol.ProcessProtocol):
    def __init__(self, marker):
        self.marker = marker
        self.output = b""
        self.started = defer.Deferred()
        self.ended = defer.Deferred()

    def childDataReceived(self, fd, data):
        self.output += data
        if self.started is not None and self.marker in self.output:
            d, self.started = self.started, None
            d.callback(None)

    def processEnded(self, reason):
        if self.started is not None:
            d, self.started = self.started, None
            d.errback(RuntimeError("twistd ended early:\n" + self.output.decode("utf-8", "replace")))
        self.ended.callback((reason.value.exitCode, reason.value.signal))


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


TWISTD = "from twisted.scripts.twistd import run; run()"


class InstalledPluginTests(TestCase):
    """
    After the README's install, twistd itself lists the plugin, from any
    directory (a normal install puts twisted/plugins/exsim_plugin.py in
    site-packages; an editable one would not).
    """

    timeout = 60

    def _spawn(self, code, *args):
        env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        where = os.path.abspath(self.mktemp())
        os.makedirs(where)
        return utils.getProcessOutputAndValue(
            sys.executable, ["-c", code] + list(args), env=env, path=where
        )

    @defer.inlineCallbacks
    def test_twistdHelpListsExsim(self):
        out, err, code = yield self._spawn("import exsim, sys; sys.stdout.write(exsim.__file__)")
        checkout = os.path.join(ROOT, "exsim", "")
        if code != 0 or out.decode().startswith(checkout):
            raise SkipTest(
                "exsim is not installed in this environment (the README's test command installs it)"
            )
        out, err, code = yield self._spawn(TWISTD, "--help")
        self.assertEqual(code, 0, err)
        lines = [l.split() for l in out.decode().splitlines()]
        self.assertIn("exsim", [l[0] for l in lines if l])


class TwistdTests(TestCase):
    """
    A real twistd process, on the built-in default configuration.
    """

    timeout = 60

    @defer.inlineCallbacks
    def test_startsAndStops(self):
        watch = _Watch(b"exsim running")
        pidfile = os.path.abspath(self.mktemp())
        process = reactor.spawnProcess(
            watch,
            sys.executable,
            [sys.executable, "-c", TWISTD, "-n", "--pidfile", pidfile, "--logfile", "-", "exsim"],
            env=_env(),
            path=ROOT,
        )
        self.addCleanup(_kill, process)
        yield watch.started
        process.signalProcess("TERM")
        code, sig = yield watch.ended
        # twistd ends with the signal that stopped it, once it has shut
        # down cleanly (so a shell sees why it stopped).
        self.assertIn((code, sig), [(0, None), (None, signal.SIGTERM)], watch.output)
        self.assertIn(b"Server Shut Down", watch.output)
        self.assertFalse(os.path.exists(pidfile))

    @defer.inlineCallbacks
    def test_badConfigExits(self):
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write("[engine:e1]\n[book:X]\nengine = e2\n")
        watch = _Watch(b"never")
        process = reactor.spawnProcess(
            watch,
            sys.executable,
            [sys.executable, "-c", TWISTD, "-n", "--pidfile", "", "--logfile", "-", "exsim", "--config", path],
            env=_env(),
            path=ROOT,
        )
        self.addCleanup(_kill, process)
        watch.started.addErrback(lambda f: None)
        code, sig = yield watch.ended
        self.assertEqual(code, 1)
        lines = [l for l in watch.output.decode().splitlines() if path in l]
        self.assertEqual(len(lines), 1, watch.output)
        self.assertIn("%s:3" % path, lines[0])
        self.assertIn("e2", lines[0])
        self.assertNotIn(b"Traceback", watch.output)


class TwistdStartupTests(TestCase):
    """
    A real twistd process: its start-up log in order, and a port that
    cannot be bound at start.
    """

    timeout = 60

    def twistd(self, text, marker, pidfile=""):
        path = os.path.abspath(self.mktemp())
        with open(path, "w") as f:
            f.write(text)
        watch = _Watch(marker)
        process = reactor.spawnProcess(
            watch,
            sys.executable,
            [sys.executable, "-c", TWISTD, "-n", "--pidfile", pidfile, "--logfile", "-", "exsim",
             "--config", path],
            env=_env(),
            path=ROOT,
        )
        self.addCleanup(_kill, process)
        return path, watch, process

    @defer.inlineCallbacks
    def test_linesInOrder(self):
        """
        twistd's "starting up" comes first; then every listener's lines
        (Twisted's port lines included), each endpoint's address, and
        "exsim running"; no Python reprs.
        """
        path, watch, process = self.twistd(
            "[control]\nlisten = tcp:0:interface=127.0.0.1\nusers = admin:secret\n"
            "[web]\nlisten = tcp:0:interface=127.0.0.1\n"
            "[engine:e1]\n"
            "[endpoint:fix1]\nengine = e1\nprotocol = fix\n"
            "[endpoint:ouch1]\nengine = e1\nprotocol = ouch\n",
            b"exsim running",
        )
        yield watch.started
        process.signalProcess("TERM")
        yield watch.ended
        lines = watch.output.decode().splitlines()
        first = [i for i, line in enumerate(lines) if "starting up" in line]
        self.assertEqual(len(first), 1, watch.output)
        before = lines[:first[0]]
        self.assertEqual(before, [], watch.output)
        texts = [line.split("] ", 1)[-1] for line in lines]
        self.assertTrue([t for t in texts if t.startswith("fix1 (fix) starting on ")], texts)
        fix = [i for i, t in enumerate(texts) if t.startswith("fix1 (fix) listening on 127.0.0.1:")]
        ouch = [i for i, t in enumerate(texts) if t.startswith("ouch1 (ouch) listening on 127.0.0.1:")]
        running = [i for i, t in enumerate(texts) if t == "exsim running: engines e1; endpoints fix1, ouch1"]
        self.assertEqual((len(fix), len(ouch), len(running)), (1, 1, 1), texts)
        self.assertLess(fix[0], ouch[0])
        self.assertLess(ouch[0], running[0])
        self.assertTrue([t for t in texts if t.startswith("web view on http://127.0.0.1:")], texts)
        self.assertTrue([t for t in texts if t.startswith("web view starting on ")], texts)
        self.assertTrue([t for t in texts if t.startswith("management service listening on")], texts)
        self.assertNotIn(" object at 0x", watch.output.decode())

    @defer.inlineCallbacks
    def test_portTaken(self):
        """
        A port already taken when twistd starts: one line naming the
        configuration's listen line and the reason, exit status 1, no
        traceback, the pid file removed.
        """
        import socket

        taken = socket.socket()
        self.addCleanup(taken.close)
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        pidfile = os.path.abspath(self.mktemp())
        path, watch, process = self.twistd(
            "[engine:e1]\n[endpoint:fix1]\nengine = e1\nprotocol = fix\n"
            "listen = tcp:%d:interface=127.0.0.1\n" % (port,),
            b"never", pidfile,
        )
        watch.started.addErrback(lambda f: None)
        code, sig = yield watch.ended
        self.assertEqual(code, 1, watch.output)
        lines = [l for l in watch.output.decode().splitlines() if path in l]
        self.assertEqual(len(lines), 1, watch.output)
        self.assertIn("exsim: %s:5: endpoint 'fix1' cannot listen on 'tcp:%d:" % (path, port), lines[0])
        self.assertIn("ddress already in use", lines[0])
        self.assertNotIn(b"Traceback", watch.output)
        self.assertFalse(os.path.exists(pidfile))


def _kill(process):
    try:
        process.signalProcess("KILL")
    except Exception:
        pass
