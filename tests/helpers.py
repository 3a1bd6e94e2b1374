"""
Shared helpers for the tests: engine event recorders, orders, a fake
protocol family and a simulator test case.  Each is defined here once.
"""

from twisted.internet.protocol import Factory, Protocol
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import TestCase
from zope.interface import implementer

from exsim import registry
from exsim.engine.matching import MatchingEngine
from exsim.errors import BadValue
from exsim.interfaces import IEndpointFactory, IProtocolFamily
from exsim.model import Instrument, Order, OrdType, Side, TimeInForce
from exsim.service import Simulator


class Recorder:
    """
    An engine listener keeping every event, and the batches.
    """

    def __init__(self):
        self.events = []
        self.batches = []

    def engineEvents(self, events):
        self.batches.append(list(events))
        self.events.extend(events)

    def take(self):
        events, self.events = self.events, []
        return events

    def types(self):
        return [e.type for e in self.events]

    def of(self, type):
        return [e for e in self.events if e.type == type]

    ofType = of

    def dicts(self):
        return [e.asDict() for e in self.events]


@implementer(IEndpointFactory)
class EchoFactory(Factory):
    """
    The factory of L{FakeFamily}: counts shutdowns, records property
    changes.
    """

    protocol = Protocol

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.shutdowns = 0
        self.changes = []

    def propertyChanged(self, name, value):
        self.changes.append((name, value))

    def shutdown(self):
        self.shutdowns += 1


@implementer(IProtocolFamily)
class FakeFamily:
    """
    A protocol family for endpoint tests: one property, C{colour}; keeps
    the factories it built.
    """

    def __init__(self, name="fake"):
        self.name = name
        self.factories = []

    def buildFactory(self, endpoint):
        factory = EchoFactory(endpoint)
        self.factories.append(factory)
        return factory

    def propertyNames(self):
        return ("colour",)

    def parseProperty(self, name, value):
        if value not in ("red", "blue"):
            raise BadValue("colour must be red or blue")
        return value


class SimulatorTestCase(TestCase):
    """
    A simulator on a L{MemoryReactorClock}, with L{FakeFamily} registered
    as protocol C{fake} (C{self.family}).
    """

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.simulator = Simulator(self.reactor)
        self.family = FakeFamily("fake")
        registry.register("protocol", "fake", self.family, replace=True)
        self.addCleanup(registry.unregister, "protocol", "fake")


def engineWithBook(symbol="AAPL", clock=None, tick=100, engineClass=MatchingEngine):
    """
    An engine of C{engineClass} (the fast engine by default) with one book
    and a L{Recorder} subscribed.

    @return: (engine, book, recorder)
    """
    engine = engineClass("e1", clock)
    book = engine.addBook(Instrument(symbol, tickSize=tick))
    recorder = Recorder()
    engine.subscribe(recorder)
    return engine, book, recorder


def P(text):
    """
    A decimal price text to internal units.
    """
    return Instrument("X").toInternal(text)


def limit(owner, clOrdId, side, quantity, price, tif=TimeInForce.DAY, symbol="AAPL", **kw):
    return Order(
        owner,
        clOrdId,
        symbol,
        Side.BUY if side == "buy" else Side.SELL,
        quantity,
        P(price),
        OrdType.LIMIT,
        tif,
        **kw
    )


def market(owner, clOrdId, side, quantity, tif=TimeInForce.DAY, symbol="AAPL"):
    return Order(
        owner,
        clOrdId,
        symbol,
        Side.BUY if side == "buy" else Side.SELL,
        quantity,
        None,
        OrdType.MARKET,
        tif,
    )


def fuzzExamples(default):
    """
    How many examples a fuzz test draws: C{default}, or the environment's
    C{EXSIM_FUZZ_EXAMPLES} (the campaign runs them longer; see
    docs/reliability.rst).
    """
    import os

    return int(os.environ.get("EXSIM_FUZZ_EXAMPLES", default))
