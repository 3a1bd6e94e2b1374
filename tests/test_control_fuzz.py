"""
Arbitrary input never crashes the management service or the
configuration reader.
"""

from hypothesis import given, settings, strategies as st
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial import unittest

from exsim import config
from exsim.control.checker import UsersChecker
from exsim.control.service import makeFactory
from exsim.errors import ConfigError
from exsim.service import Simulator
from tests.helpers import fuzzExamples

SETTINGS = settings(max_examples=fuzzExamples(150), deadline=None)


class PBBytesTests(unittest.TestCase):
    @SETTINGS
    @given(st.lists(st.binary(max_size=300), max_size=8))
    def test_arbitraryBytes(self, chunks):
        """
        Bytes from an unauthenticated peer never raise out of the protocol
        and never reach the simulator.
        """
        simulator = Simulator(Clock())
        factory = makeFactory(simulator, UsersChecker({"a": "b"}))
        broker = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", 1))
        transport = StringTransport()
        broker.makeConnection(transport)
        for chunk in chunks:
            if transport.disconnecting:
                break
            broker.dataReceived(chunk)
        broker.connectionLost(None)
        self.assertEqual(simulator.engines, {})
        self.flushLoggedErrors()


class ConfigTextTests(unittest.TestCase):
    @SETTINGS
    @given(st.text(alphabet=st.sampled_from("[]:=#;\n abcdefgkmnoprstuy_0123456789.,-"), max_size=300))
    def test_arbitraryText(self, text):
        """
        Any text is either a configuration or a ConfigError with a line.
        """
        simulator = Simulator(MemoryReactorClock())
        try:
            config.apply(config.parse(text, "x.ini"), simulator)
        except ConfigError as e:
            self.assertTrue(str(e).startswith("x.ini:"), str(e))
            self.assertNotIn("\n", str(e))

    @SETTINGS
    @given(st.text(max_size=200))
    def test_anyCharacters(self, text):
        try:
            config.parse(text, "x.ini")
        except ConfigError as e:
            self.assertTrue(str(e).startswith("x.ini:"))
