"""
Tests for L{exsim.listening}: a large listen backlog and no Nagle on every
wire connection (issue 11, defects 7 and 8).
"""

import socket

from twisted.internet import defer, reactor
from twisted.internet.protocol import ClientFactory, Protocol
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.trial.unittest import TestCase

from exsim.endpoint import Endpoint
from exsim.engine.matching import MatchingEngine
from exsim.fix.family import family as fixFamily
from exsim.listening import DEFAULT_BACKLOG, noDelay, withBacklog
from exsim.model import Instrument
from exsim.soup.itch import family as itchFamily
from exsim.soup.ouch import family as ouchFamily
from tests.soupfakes import ReportSink


class TCPStringTransport(StringTransport):
    """
    A StringTransport that records C{setTcpNoDelay}.
    """

    noDelay = False

    def setTcpNoDelay(self, enabled):
        self.noDelay = enabled

    def getTcpNoDelay(self):
        return self.noDelay


class BacklogTests(TestCase):
    def test_added(self):
        self.assertEqual(
            withBacklog("tcp:0:interface=127.0.0.1"),
            "tcp:0:interface=127.0.0.1:backlog=%d" % (DEFAULT_BACKLOG,),
        )
        self.assertEqual(withBacklog("tcp:9878"), "tcp:9878:backlog=1024")
        self.assertEqual(withBacklog("ssl:9878:privateKey=k.pem"),
                         "ssl:9878:privateKey=k.pem:backlog=1024")

    def test_keptWhenGiven(self):
        self.assertEqual(withBacklog("tcp:0:backlog=5"), "tcp:0:backlog=5")

    def test_otherTypesUntouched(self):
        self.assertEqual(withBacklog("stdio:"), "stdio:")

    def test_endpointListensWithBacklog(self):
        reactor = MemoryReactorClock()
        engine = MatchingEngine("e1", reactor)
        endpoint = Endpoint("fix1", engine, fixFamily, reactor, ReportSink())
        endpoint.setProperty("sender_comp_id", "EXSIM")
        endpoint.listen()
        [(port, factory, backlog, interface)] = reactor.tcpServers
        self.assertEqual((port, backlog, interface), (0, DEFAULT_BACKLOG, "127.0.0.1"))


class NoDelayTests(TestCase):
    def test_tcp(self):
        transport = TCPStringTransport()
        self.assertTrue(noDelay(transport))
        self.assertTrue(transport.noDelay)

    def test_notTcp(self):
        self.assertFalse(noDelay(StringTransport()))

    def connect(self, family, **properties):
        reactor = MemoryReactorClock()
        engine = MatchingEngine("e1", reactor)
        engine.addBook(Instrument("AAPL"))
        endpoint = Endpoint("ep1", engine, family, reactor, ReportSink())
        for key, value in properties.items():
            endpoint.setProperty(key, value)
        factory = family.buildFactory(endpoint)
        protocol = factory.buildProtocol(None)
        transport = TCPStringTransport()
        protocol.makeConnection(transport)
        return transport

    def test_fix(self):
        self.assertTrue(self.connect(fixFamily, sender_comp_id="EXSIM").noDelay)

    def test_ouch(self):
        self.assertTrue(self.connect(ouchFamily).noDelay)

    def test_itch(self):
        self.assertTrue(self.connect(itchFamily).noDelay)


class _Client(Protocol):
    def connectionMade(self):
        self.factory.connected.callback(self)


class RealSocketTests(TestCase):
    """
    Over a real loopback connection, the venue's side of the socket has
    TCP_NODELAY set.
    """

    @defer.inlineCallbacks
    def test_fixConnectionHasNoDelay(self):
        engine = MatchingEngine("e1", reactor)
        endpoint = Endpoint("fix1", engine, fixFamily, reactor, ReportSink())
        endpoint.setProperty("sender_comp_id", "EXSIM")
        port = yield endpoint.listen()
        self.addCleanup(endpoint.close)
        factory = ClientFactory.forProtocol(_Client)
        factory.connected = defer.Deferred()
        address = port.getHost()
        connector = reactor.connectTCP(address.host, address.port, factory)
        self.addCleanup(connector.disconnect)
        yield factory.connected
        for _ in range(50):
            if endpoint.factory.connections:
                break
            yield deferLater(0.01)
        [connection] = list(endpoint.factory.connections)
        sock = connection.transport.getHandle()
        self.assertTrue(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        self.assertEqual(port.backlog, DEFAULT_BACKLOG)


def deferLater(seconds):
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)
