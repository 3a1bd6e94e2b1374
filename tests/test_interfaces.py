"""
The roles of L{exsim.interfaces}: every provider verified, callers taking
the role they need once (L{exsim.roles.roleOf}), and an engine that lacks a
role refused with a clear error rather than failing later.
"""

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import TestCase
from zope.interface import implementer
from zope.interface.verify import verifyObject

from exsim import registry
from exsim.endpoint import Endpoint
from exsim.engine.events import Cancelled
from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.errors import BadValue, UnknownName
from exsim.fix.family import family as fixFamily
from exsim.interfaces import (
    IEndpointFactory,
    IEngine,
    IEngineAdmin,
    IEngineEvents,
    IFixApplication,
    IHouseOrders,
    IManagedOrders,
    IMatchingPrimitives,
    IOrderEntry,
)
from exsim.model import CancelReason, Instrument, Order, OrdType, Side, TimeInForce
from exsim.roles import roleOf
from exsim.service import Simulator
from exsim.soup.itch import family as itchFamily
from exsim.soup.ouch import family as ouchFamily
from tests.helpers import Recorder
from tests.soupfakes import ReportSink

ROLES = (
    IEngine, IEngineAdmin, IEngineEvents, IHouseOrders, IManagedOrders, IMatchingPrimitives,
    IOrderEntry,
)


class EngineRoleTests(TestCase):
    def test_matchingEngineProvidesEveryRole(self):
        engine = MatchingEngine("e1", MemoryReactorClock())
        for role in ROLES:
            self.assertTrue(verifyObject(role, engine), role)

    def test_referenceEngineProvidesEveryRole(self):
        engine = ReferenceEngine("e1", MemoryReactorClock())
        for role in ROLES:
            self.assertTrue(verifyObject(role, engine), role)

    def test_roleOf(self):
        engine = MatchingEngine("e1")
        self.assertIs(roleOf(engine, IOrderEntry, "x"), engine)
        error = self.assertRaises(BadValue, roleOf, object(), IOrderEntry, "FIX order entry")
        self.assertIn("FIX order entry needs IOrderEntry", str(error))


class EndpointFactoryTests(TestCase):
    def factory(self, family, **properties):
        reactor = MemoryReactorClock()
        engine = MatchingEngine("e1", reactor)
        endpoint = Endpoint("ep1", engine, family, reactor, ReportSink())
        for key, value in properties.items():
            endpoint.setProperty(key, value)
        return family.buildFactory(endpoint)

    def test_fix(self):
        for role in ("order_entry", "drop_copy", "market_data"):
            factory = self.factory(fixFamily, sender_comp_id="EXSIM", role=role)
            self.assertTrue(verifyObject(IEndpointFactory, factory))
            self.assertTrue(verifyObject(IFixApplication, factory.application))

    def test_soup(self):
        for family in (ouchFamily, itchFamily):
            self.assertTrue(verifyObject(IEndpointFactory, self.factory(family)))

    def test_fixShutdownDetachesOnce(self):
        factory = self.factory(fixFamily, sender_comp_id="EXSIM")
        engine = factory.application.engine
        self.assertIn(factory.application, engine._listeners)
        factory.shutdown()
        factory.shutdown()
        self.assertNotIn(factory.application, engine._listeners)


@implementer(IEngineAdmin, IEngineEvents)
class AdminOnlyEngine:
    """
    A third-party engine with books and events but no order entry.
    """

    mode = "auto"
    clock = None

    def __init__(self, name, clock=None):
        self.name = name
        self.books = {}

    def subscribe(self, listener):
        pass

    def unsubscribe(self, listener):
        pass

    def setProperty(self, name, value):
        raise BadValue("no properties")

    def properties(self):
        return {}

    def addBook(self, instrument, behaviour=None):
        self.books[instrument.symbol] = instrument
        return instrument

    def removeBook(self, symbol):
        del self.books[symbol]

    def getBook(self, symbol):
        try:
            return self.books[symbol]
        except KeyError:
            raise UnknownName(symbol)

    def setBookProperty(self, symbol, name, value):
        raise BadValue("no properties")

    def setCarried(self, key, quantity, price):
        pass

    def liveOrders(self):
        return []

    def restoreOrders(self, orders, usedIds=(), nextIds=(0, 0, 0)):
        pass

    def expireDay(self):
        pass


class ThirdPartyEngineTests(TestCase):
    def setUp(self):
        self.simulator = Simulator(MemoryReactorClock())
        registry.register("engine", "admin_only", AdminOnlyEngine)
        self.addCleanup(registry.unregister, "engine", "admin_only")
        registry.register("engine", "not_an_engine", lambda name, clock: object())
        self.addCleanup(registry.unregister, "engine", "not_an_engine")

    def test_notAnEngine(self):
        error = self.assertRaises(
            BadValue, self.simulator.create_engine, "e1", "not_an_engine"
        )
        self.assertIn("IEngineAdmin", str(error))
        self.assertEqual(self.simulator.engines, {})

    def test_partialEngine(self):
        """
        An engine without order entry can be created, but an order-entry
        endpoint on it is refused at its start with the missing role
        named, and managed-mode answers say what they need.
        """
        self.assertTrue(verifyObject(IEngineAdmin, AdminOnlyEngine("x")))
        self.simulator.create_engine("e1", "admin_only")
        self.simulator.create_endpoint("fix1", "e1", "fix")
        self.simulator.set_protocol_property("fix1", "sender_comp_id", "EXSIM")
        failure = self.failureResultOf(self.simulator.start_endpoint("fix1"), BadValue)
        self.assertIn("IOrderEntry", failure.getErrorMessage())
        self.simulator.create_endpoint("itch1", "e1", "itch")
        self.successResultOf(self.simulator.start_endpoint("itch1"))


def _order(owner, clOrdId, side, price, symbol="AAPL"):
    return Order(owner, clOrdId, symbol, side, 10, price, OrdType.LIMIT, TimeInForce.DAY)


class CancelAllTests(TestCase):
    """
    L{IOrderEntry.cancelAll}: by owner, by book, or everything, in one
    batch.
    """

    def setUp(self):
        self.engine = MatchingEngine("e1", MemoryReactorClock())
        for symbol in ("AAPL", "MSFT"):
            self.engine.addBook(Instrument(symbol))
        self.engine.submitNew(_order("a", "1", Side.BUY, 10000))
        self.engine.submitNew(_order("a", "2", Side.SELL, 20000, "MSFT"))
        self.engine.submitNew(_order("b", "3", Side.BUY, 10000))
        self.recorder = Recorder()
        self.engine.subscribe(self.recorder)

    def cancelled(self):
        return sorted(e.order.clOrdId for e in self.recorder.take() if type(e) is Cancelled)

    def test_byOwner(self):
        self.assertEqual(self.engine.cancelAll("a", reason=CancelReason.DISCONNECT), 2)
        self.assertEqual(len(self.recorder.batches), 1)
        events = [e for e in self.recorder.events if type(e) is Cancelled]
        self.assertEqual({e.reason for e in events}, {CancelReason.DISCONNECT})
        self.assertEqual(self.cancelled(), ["1", "2"])

    def test_byBook(self):
        self.assertEqual(self.engine.cancelAll(symbol="AAPL"), 2)
        self.assertEqual(self.cancelled(), ["1", "3"])

    def test_ownerAndBook(self):
        self.assertEqual(self.engine.cancelAll("a", "MSFT"), 1)
        self.assertEqual(self.cancelled(), ["2"])

    def test_everything(self):
        self.assertEqual(self.engine.cancelAll(), 3)
        self.assertEqual(self.engine.liveOrders(), [])
        self.recorder.batches = []
        self.assertEqual(self.engine.cancelAll(), 0)
        self.assertEqual(self.recorder.batches, [])

    def test_unknownBook(self):
        self.assertRaises(UnknownName, self.engine.cancelAll, symbol="IBM")
