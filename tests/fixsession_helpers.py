"""
Helpers for the FIX session-layer tests: an endpoint, a trivial
application, and a scripted counterparty talking to a L{FixConnection}
over a L{StringTransport}.
"""

import time

from twisted.internet.address import IPv4Address
from twisted.internet.testing import MemoryReactorClock, StringTransport
from zope.interface import implementer

from exsim.fix import codec
from exsim.fix.factory import FixFactory
from exsim.interfaces import IFixApplication

#: 2024-03-01 12:00:00 UTC, the clock's start in these tests.
START = 1709294400.0


class Endpoint:
    """
    What the session layer needs of an L{exsim.endpoint.Endpoint}.
    """

    def __init__(self, reactor, name="fix1", **properties):
        self.name = name
        self.reactor = reactor
        self.properties = dict(properties)
        self.reports = []

    def get(self, name, default=None):
        return self.properties.get(name, default)

    def report(self, eventType, **fields):
        self.reports.append((eventType, fields))

    def reported(self, eventType):
        return [f for t, f in self.reports if t == eventType]


@implementer(IFixApplication)
class Application:
    """
    A trivial L{IFixApplication}: records what it is told; handles every
    message type except those in C{unsupported}; echoes NewOrderSingle
    (D) with an ExecutionReport-like News (B) if C{echo}.
    """

    def __init__(self, unsupported=("R",)):
        self.unsupported = unsupported
        self.loggedOn = []
        self.loggedOut = []
        self.messages = []
        self.fail = False

    def sessionLoggedOn(self, session):
        self.loggedOn.append(session)

    def sessionLoggedOut(self, session):
        self.loggedOut.append(session)

    def shutdown(self):
        self.stopped = True

    def fromApp(self, session, message):
        if self.fail:
            raise RuntimeError("application bug")
        self.messages.append(message)
        return message.msgType not in self.unsupported


def stamp(seconds):
    """
    A UTCTimestamp with milliseconds for C{seconds} since the epoch.
    """
    whole = int(seconds)
    return time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(whole)) + ".%03d" % (
        int(round((seconds - whole) * 1000)) % 1000,
    )


class Client:
    """
    A scripted FIX counterparty connected to one L{FixConnection}.
    """

    def __init__(
        self, factory, compId="CLIENT", venue="EXSIM", beginString="FIX.4.4", port=40000
    ):
        self.factory = factory
        self.reactor = factory.reactor
        self.compId = compId
        self.venue = venue
        self.beginString = beginString
        self.seq = 1
        self.protocol = factory.buildProtocol(IPv4Address("TCP", "127.0.0.1", port))
        self.transport = StringTransport(peerAddress=IPv4Address("TCP", "127.0.0.1", port))
        self.protocol.makeConnection(self.transport)
        self._framer = codec.Framer(1 << 20)
        self.inbox = []

    def build(self, msgType, fields=(), seq=None, header=None, sendingTime=None, begin=None):
        """
        Encode a message (advancing our MsgSeqNum unless C{seq} or a whole
        C{header} is given).
        """
        if seq is None and header is None:
            seq = self.seq
            self.seq += 1
        if header is None:
            header = [
                (49, self.compId),
                (56, self.venue),
                (34, seq),
                (52, sendingTime or stamp(self.reactor.seconds())),
            ]
        return codec.encode(begin or self.beginString, msgType, header, list(fields))

    def send(self, msgType, fields=(), **kw):
        self.protocol.dataReceived(self.build(msgType, fields, **kw))
        return self.received()

    def sendRaw(self, data):
        self.protocol.dataReceived(data)
        return self.received()

    def received(self):
        """
        The messages the venue sent since the last call.
        """
        data = self.transport.value()
        self.transport.clear()
        messages = [
            codec.Message.fromBytes(raw)
            for raw in self._framer.feed(data)
            if not isinstance(raw, codec.FrameError)
        ]
        self.inbox.extend(messages)
        return messages

    def logon(self, heartBtInt=30, extra=(), **kw):
        fields = [(98, 0), (108, heartBtInt)] + list(extra)
        if self.beginString == "FIXT.1.1" and not any(t == 1137 for t, _ in fields):
            fields.append((1137, "9"))
        return self.send("A", fields, **kw)

    @property
    def disconnected(self):
        return self.transport.disconnecting

    def close(self):
        """
        The TCP connection drops.
        """
        from twisted.internet.error import ConnectionDone
        from twisted.python.failure import Failure

        self.protocol.connectionLost(Failure(ConnectionDone()))


def makeFactory(application=None, **properties):
    """
    A L{FixFactory} on a fresh L{MemoryReactorClock} set to L{START}.
    """
    reactor = MemoryReactorClock()
    reactor.advance(START)
    endpoint = Endpoint(reactor, **properties)
    return FixFactory(endpoint, application or Application())
