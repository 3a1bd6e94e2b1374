"""
Helpers for the SoupBinTCP, OUCH and ITCH tests: an endpoint on a
MemoryReactorClock and an in-memory client connection.
"""

from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport

from exsim.endpoint import Endpoint
from exsim.engine.matching import MatchingEngine
from exsim.model import Instrument
from exsim.soup import packets


class ReportSink:
    """
    Stands in for the simulator: collects C{endpoint.report} calls.
    """

    def __init__(self):
        self.events = []

    def reportEvent(self, eventType, **fields):
        self.events.append(dict(fields, type=eventType))

    def types(self):
        return [e["type"] for e in self.events]


def makeEndpoint(family, name="ep1", symbols=("AAPL",), engine=None, reactor=None,
                 engineClass=MatchingEngine, **properties):
    """
    An L{Endpoint} of C{family} on an engine of C{engineClass} (unless
    C{engine} is given) with books for C{symbols}, on a
    L{MemoryReactorClock}, with its factory built.
    """
    if reactor is None:
        reactor = MemoryReactorClock()
    if engine is None:
        engine = engineClass("e1", reactor)
        for symbol in symbols:
            engine.addBook(Instrument(symbol))
    sink = ReportSink()
    endpoint = Endpoint(name, engine, family, reactor, sink)
    for key, value in properties.items():
        endpoint.setProperty(key, value)
    endpoint.factory = family.buildFactory(endpoint)
    return endpoint


class Client:
    """
    One in-memory connection to an endpoint's factory.
    """

    def __init__(self, endpoint, port=40000):
        self.endpoint = endpoint
        self.transport = StringTransport(
            peerAddress=IPv4Address("TCP", "127.0.0.1", port)
        )
        self.protocol = endpoint.factory.buildProtocol(None)
        self.protocol.makeConnection(self.transport)
        self.reader = packets.PacketReader(maxLength=65535)

    def send(self, data):
        self.protocol.dataReceived(data)

    def login(self, username="alice", password="", session="", sequence=0):
        self.send(packets.loginRequest(username, password, session, sequence))
        return self.read()

    def unsequenced(self, payload):
        self.send(packets.packet(b"U", payload))

    def read(self):
        """
        Every packet received since the last read, as (type, payload).
        """
        data = self.transport.value()
        self.transport.clear()
        return self.reader.feed(data)

    def sequenced(self):
        """
        The payloads of the Sequenced Data packets received since the last
        read (other packets are dropped).
        """
        return [payload for kind, payload in self.read() if kind == b"S"]

    @property
    def closed(self):
        return self.transport.disconnecting

    def lose(self):
        from twisted.internet.error import ConnectionDone
        from twisted.python.failure import Failure

        self.protocol.connectionLost(Failure(ConnectionDone()))
