"""
Tests for L{exsim.sessioncontrol}: the arguments of the session-control
operations, and the operations through the management service (PB over
an in-memory pump), C{exsimctl} and C{sim.ini}.
"""

import io
import json

from hypothesis import given, strategies as st
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest

import exsim
from exsim import config, ctl, errors
from exsim.control.checker import UsersChecker
from exsim.errors import BadValue, ConfigError, UnknownName, UnknownSession
from exsim.latency import Fixed
from exsim.service import Simulator
from exsim.sessioncontrol import (
    FAULTS,
    MAX_COUNT,
    parseCount,
    parseFault,
    parseSessionProperty,
    rawBytes,
)
from exsim.throttle import Limit
from tests.fixsession_helpers import START, Client
from tests.test_control import pbPair


class ArgumentTests(unittest.TestCase):
    def test_faults(self):
        for fault in FAULTS:
            self.assertEqual(parseFault(fault.upper()), fault)
        for bad in ("nope", "", None, 1):
            e = self.assertRaises(BadValue, parseFault, bad)
            self.assertIn("gap, drop, duplicate, garble, resend_request", str(e))

    def test_count(self):
        self.assertEqual(parseCount(1), 1)
        self.assertEqual(parseCount(" 7 "), 7)
        self.assertEqual(parseCount(MAX_COUNT), MAX_COUNT)
        for bad in (0, -1, MAX_COUNT + 1, "x", True, None, 1.5, "1.5"):
            self.assertRaises(BadValue, parseCount, bad)

    def test_sessionProperties(self):
        self.assertEqual(parseSessionProperty("next_in_seq", "12"), 12)
        self.assertEqual(parseSessionProperty("hold", "yes"), True)
        self.assertEqual(parseSessionProperty("heartbeats", "no"), False)
        self.assertEqual(parseSessionProperty("latency", "0.01"), Fixed(0.01))
        self.assertIsNone(parseSessionProperty("latency", "0"))
        for name, value in (("next_in_seq", "0"), ("next_out_seq", 2**31), ("hold", "x"),
                            ("latency", "x"), ("colour", "red")):
            self.assertRaises(BadValue, parseSessionProperty, name, value)

    def test_rawBytes(self):
        self.assertEqual(rawBytes("8=FIX|", fix=True), b"8=FIX\x01")
        self.assertEqual(rawBytes("a|b"), b"a|b")
        self.assertEqual(rawBytes("\xe9"), b"\xe9")
        self.assertEqual(rawBytes(b"\x00|"), b"\x00|")
        for bad in ("", b"", "\u20ac", None, 3, ["x"]):
            self.assertRaises(BadValue, rawBytes, bad)

    @given(st.one_of(st.text(), st.binary()))
    def test_rawBytesAnyInput(self, data):
        try:
            result = rawBytes(data, fix=True)
        except BadValue:
            return
        self.assertIsInstance(result, bytes)
        self.assertTrue(result)

    def test_unknownSessionIsBoth(self):
        self.assertTrue(issubclass(UnknownSession, BadValue))
        self.assertTrue(issubclass(UnknownSession, UnknownName))


class ManagementServiceTests(unittest.TestCase):
    """
    The operations through PB, as a test's client calls them.
    """

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.reactor.advance(START)
        self.simulator = Simulator(self.reactor)
        self.simulator.create_engine("e1")
        self.simulator.create_endpoint("fix1", "e1", "fix")
        self.simulator.start_endpoint("fix1")
        self.fixClient = Client(self.simulator.endpoint("fix1").factory)
        self.fixClient.logon()
        factory, self.pump = pbPair(self.simulator, UsersChecker({"admin": "secret"}))
        d = exsim.client.login(factory, "admin", "secret")
        self.pump.flush()
        self.client = self.successResultOf(d)

    def call(self, name, *args):
        d = getattr(self.client, name)(*args)
        self.pump.flush()
        return d

    def test_listSessions(self):
        [listed] = self.successResultOf(self.call("list_sessions"))
        self.assertEqual((listed["session"], listed["state"], listed["latency"]), ("fix1/CLIENT", "active", None))

    def test_faultAndProperty(self):
        self.assertIsNone(self.successResultOf(self.call("inject_fault", "fix1/CLIENT", "gap", 2)))
        self.assertIsNone(self.successResultOf(self.call("set_session_property", "fix1/CLIENT", "hold", "yes")))
        [listed] = self.successResultOf(self.call("list_sessions", "fix1"))
        self.assertEqual((listed["next_out_seq"], listed["hold"]), (4, True))

    def test_errors(self):
        f = self.failureResultOf(self.call("inject_fault", "fix1/NOPE", "gap"))
        self.assertIsInstance(f.value, errors.UnknownSession)
        self.assertIn("unknown session 'fix1/NOPE'", str(f.value))
        f = self.failureResultOf(self.call("inject_fault", "fix1/CLIENT", "explode"))
        self.assertIsInstance(f.value, BadValue)
        f = self.failureResultOf(self.call("set_session_property", "fix1/CLIENT", "latency", "soon"))
        self.assertIsInstance(f.value, BadValue)
        self.assertEqual(self.fixClient.received(), [])


class ConfigTests(unittest.TestCase):
    def test_endpointKeys(self):
        text = """
[engine:e1]

[endpoint:fix1]
engine = e1
protocol = fix
listen = tcp:0:interface=127.0.0.1
latency = normal:0.002:0.0005
seed = 42
throttle = 100/1
throttle_action = queue
accept_logons = no

[endpoint:ouch1]
engine = e1
protocol = ouch
listen = tcp:0:interface=127.0.0.1
latency = 0.001
throttle = 5/0.5
throttle_action = disconnect

[endpoint:itch1]
engine = e1
protocol = itch
listen = tcp:0:interface=127.0.0.1
latency = uniform:0:0.001
accept_logons = yes
"""
        simulator = Simulator(MemoryReactorClock())
        config.apply(config.parse(text, "sim.ini"), simulator)
        fix = simulator.endpoint("fix1").properties
        self.assertEqual(str(fix["latency"]), "normal:0.002:0.0005")
        self.assertEqual((fix["seed"], fix["throttle"], fix["throttle_action"], fix["accept_logons"]),
                         (42, Limit(100, 1), "queue", False))
        ouch = simulator.endpoint("ouch1").properties
        self.assertEqual((ouch["latency"], ouch["throttle"], ouch["throttle_action"]),
                         (Fixed(0.001), Limit(5, 0.5), "disconnect"))
        self.assertEqual(str(simulator.endpoint("itch1").properties["latency"]), "uniform:0:0.001")

    def test_badKey(self):
        text = "[engine:e1]\n\n[endpoint:fix1]\nengine = e1\nprotocol = fix\nthrottle = lots\n"
        e = self.assertRaises(ConfigError, config.apply, config.parse(text, "sim.ini"), Simulator(MemoryReactorClock()))
        self.assertIn("sim.ini:6", str(e))
        self.assertIn("throttle must be N/S", str(e))


class ExsimctlTests(unittest.TestCase):
    """
    The operations from the command line, against a simulator process.
    """

    def test_sessionOperations(self):
        server = exsim.API().create_server()
        self.addCleanup(server.delete)
        server.create_engine("e1")
        server.create_endpoint("fix1", "e1", "fix", listen="tcp:0:interface=127.0.0.1")

        def run(*args):
            out, err = io.StringIO(), io.StringIO()
            argv = ["--connect", server.endpoint, "--user", "exsim", "--password=" + server.password]
            code = ctl.main(argv + list(args), out, err, {}, io.StringIO())
            return code, out.getvalue(), err.getvalue()

        self.assertEqual(run("list_sessions"), (0, "[]\n", ""))
        code, out, err = run("inject_fault", "fix1/NOPE", "gap", "2")
        self.assertEqual(code, 1)
        self.assertIn("unknown session 'fix1/NOPE'", err)
        code, out, err = run("help", "inject_fault")
        self.assertIn("inject_fault(session, fault, count=1)", out)
        code, out, err = run("list_sessions", "fix1")
        self.assertEqual((code, json.loads(out)), (0, []))
