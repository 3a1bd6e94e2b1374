"""
Small fakes for testing the FIX application layer without the session
layer: an L{IFixSession} recording what it is asked to send, an endpoint,
and messages.
"""

from twisted.internet.task import Clock
from zope.interface import implementer

from exsim.engine.matching import MatchingEngine
from exsim.interfaces import IFixSession
from exsim.model import Instrument
from tests.fixsession_helpers import Endpoint


@implementer(IFixSession)
class FakeSession:
    """
    An L{IFixSession} that records every message it is asked to send as
    C{(msgType, fields)} in C{sent}.
    """

    def __init__(self, endpoint, compId="CLIENT", beginString="FIX.4.4", applVerId=None):
        self.endpoint = endpoint
        self.key = "%s/%s" % (endpoint.name, compId)
        self.beginString = beginString
        self.applVerId = applVerId
        self.senderCompId = "EXSIM"
        self.targetCompId = compId
        self.loggedOn = True
        self.sent = []

    def sendApp(self, msgType, fields):
        self.sent.append((msgType, list(fields)))

    def sendBusinessReject(self, refSeqNum, refMsgType, reason, text, refId=None):
        self.sent.append(("j", [(45, str(refSeqNum)), (372, refMsgType), (380, str(reason)), (58, text)]))

    def sendSessionReject(self, refSeqNum, reason, text, refTagId=None, refMsgType=None):
        fields = [(45, str(refSeqNum))]
        if refTagId is not None:
            fields.append((371, str(refTagId)))
        if refMsgType is not None:
            fields.append((372, refMsgType))
        fields.append((373, str(reason)))
        fields.append((58, text))
        self.sent.append(("3", fields))

    def takeRaw(self):
        """
        Return and forget what was sent, as (msgType, [(tag, value)]).
        """
        sent, self.sent = self.sent, []
        return sent

    def take(self):
        """
        Return and forget what was sent, as (msgType, {tag: value}) with
        every value as text.
        """
        sent, self.sent = self.sent, []
        return [(t, fieldDict(f)) for t, f in sent]


def fieldDict(fields):
    result = {}
    for tag, value in fields:
        result.setdefault(tag, value if isinstance(value, str) else str(value))
    return result


class FakeEndpoint(Endpoint):
    """
    What the application needs of an L{exsim.endpoint.Endpoint}: the
    session tests' fake, with an engine.
    """

    def __init__(self, engine, reactor, name="fix1", **properties):
        Endpoint.__init__(self, reactor, name, **properties)
        self.engine = engine


class FakeMessage:
    """
    A parsed message as the session layer hands it over (the API of
    C{exsim.fix.codec.Message}).
    """

    #: (No shape: see C{exsim.fix.codec.Shape}.)
    shape = None

    def __init__(self, msgType, pairs, seqNum=1):
        self.msgType = msgType
        self.seqNum = seqNum
        self.pairs = [(35, msgType.encode())] + [
            (t, v.encode() if isinstance(v, str) else v) for t, v in pairs
        ]
        self.raw = b"\x01".join(b"%d=%s" % (t, v) for t, v in self.pairs) + b"\x01"
        self._fields = {}
        for t, v in self.pairs:
            self._fields.setdefault(t, v)

    def get(self, tag, default=None):
        value = self._fields.get(tag)
        if value is None:
            return default
        return value.decode("utf-8", "replace")

    def getAll(self, tag):
        return [v.decode("utf-8", "replace") for t, v in self.pairs if t == tag]

    def pick(self, tags):
        return tuple(self._fields.get(tag) for tag in tags)

    def pickText(self, tags):
        return [self.get(tag) for tag in tags]

    def __contains__(self, tag):
        return tag in self._fields


def makeEngine(clock=None, symbols=("AAPL", "MSFT"), engineClass=MatchingEngine):
    """
    An engine of C{engineClass} on a L{Clock} with a standard book per
    symbol.
    """
    clock = clock or Clock()
    clock.advance(1700000000)
    engine = engineClass("e1", clock)
    for symbol in symbols:
        engine.addBook(Instrument(symbol))
    return engine, clock


def nos(clOrdId, side="1", qty="100", price="10.00", symbol="AAPL", ordType="2", tif=None, extra=()):
    """
    A NewOrderSingle's fields.
    """
    pairs = [(11, clOrdId), (21, "1"), (55, symbol), (54, side), (60, "20240102-10:00:00.000"), (38, qty), (40, ordType)]
    if price is not None and ordType != "1":
        pairs.append((44, price))
    if tif is not None:
        pairs.append((59, tif))
    pairs.extend(extra)
    return FakeMessage("D", pairs)


def cancel(clOrdId, origClOrdId, side="1", symbol="AAPL", extra=()):
    pairs = [(41, origClOrdId), (11, clOrdId), (55, symbol), (54, side), (60, "20240102-10:00:00.000"), (38, "100")]
    pairs.extend(extra)
    return FakeMessage("F", pairs)


def replace(clOrdId, origClOrdId, qty="100", price="10.00", side="1", symbol="AAPL", ordType="2", extra=()):
    pairs = [(41, origClOrdId), (11, clOrdId), (21, "1"), (55, symbol), (54, side), (60, "20240102-10:00:00.000"), (38, qty), (40, ordType)]
    if price is not None:
        pairs.append((44, price))
    pairs.extend(extra)
    return FakeMessage("G", pairs)


def status(clOrdId, side="1", symbol="AAPL", extra=()):
    pairs = [(11, clOrdId), (55, symbol), (54, side)]
    pairs.extend(extra)
    return FakeMessage("H", pairs)
