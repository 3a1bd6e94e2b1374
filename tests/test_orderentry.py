"""
Tests for L{exsim.orderentry}: the order-entry layer FIX and OUCH share
(routing engine events to the owning session, cancel on disconnect).
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase
from zope.interface.verify import verifyObject

from exsim.engine import events as ev
from exsim.engine.matching import MatchingEngine
from exsim.errors import BadValue
from exsim.fix.orders import OrderEntry
from exsim.interfaces import IEngineListener
from exsim.model import T_SYMBOL, CancelReason, Instrument
from exsim.orderentry import OrderRouting
from exsim.owners import ownerOf, sessionOwner
from exsim.soup.ouch import OuchFactory
from tests.helpers import limit


class Endpoint:
    def __init__(self, engine, reactor, **properties):
        self.name = "ep1"
        self.engine = engine
        self.reactor = reactor
        self.properties = properties


class Protocol(OrderRouting):
    """
    A protocol made of nothing but the shared layer: it records what it is
    handed.
    """

    def __init__(self, endpoint, prepare=False):
        self.endpoint = endpoint
        self.reactor = endpoint.reactor
        self.delivered = []
        self.prepared = []
        self.others = []
        self.startRouting(
            "test order entry",
            {cls: self.onOrderEvent for cls in (ev.Accepted, ev.Filled, ev.Cancelled)},
            {ev.CancelRejected: self.onCancelRejected},
            {ev.DayEnded: self.others.append},
            prepareRoute=self.prepare if prepare else None,
        )

    def prepare(self, route, terms):
        self.prepared.append((route, terms[T_SYMBOL], self.deliveryTime()))
        return (route, terms[T_SYMBOL])

    def onOrderEvent(self, target, event):
        self.delivered.append((target, event.type, event.order.clOrdId))

    def onCancelRejected(self, route, event):
        self.delivered.append((route, "cancel_rejected", event.clOrdId))


class OrderRoutingTests(SynchronousTestCase):
    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1000)
        self.engine = MatchingEngine("e1", self.clock)
        self.engine.addBook(Instrument("AAPL"))
        self.engine.addBook(Instrument("MSFT"))
        self.endpoint = Endpoint(self.engine, self.clock)
        self.alice = sessionOwner("ep1", "alice")
        self.bob = sessionOwner("ep1", "bob")

    def test_listener(self):
        protocol = Protocol(self.endpoint)
        self.assertTrue(verifyObject(IEngineListener, protocol))
        self.assertIn(protocol, self.engine._listeners)
        protocol.leaveEngine()
        self.assertNotIn(protocol, self.engine._listeners)
        protocol.followEngine()
        self.assertIn(protocol, self.engine._listeners)

    def test_noOrderEntryRole(self):
        """
        An engine without the order-entry role is refused with a message
        naming what needs it.
        """
        self.endpoint.engine = object()
        error = self.assertRaises(BadValue, Protocol, self.endpoint)
        self.assertIn("test order entry needs IOrderEntry", str(error))

    def test_routesByOwner(self):
        """
        The events about an order go to the route of its owner, and only
        there; owners with no route get nothing.
        """
        protocol = Protocol(self.endpoint)
        protocol.attach(self.alice, "A")
        protocol.attach(self.bob, "B")
        self.engine.submitNew(limit("ep1/alice", "a1", "sell", 10, "10"))
        self.engine.submitNew(limit("ep1/carol", "c1", "sell", 10, "10"))
        self.engine.submitNew(limit("ep1/bob", "b1", "buy", 15, "10"))
        self.assertEqual(
            protocol.delivered,
            [
                ("A", "accepted", "a1"),
                ("B", "accepted", "b1"),
                # The resting order's fill first (carol's has no route).
                ("A", "filled", "a1"),
                ("B", "filled", "b1"),
                ("B", "filled", "b1"),
            ],
        )
        self.assertEqual(protocol.routeOf("ep1/alice"), "A")
        protocol.detach(self.alice)
        self.assertIsNone(protocol.routeOf(self.alice))

    def test_prepareOncePerOrder(self):
        """
        The prepare function runs once for the events of one order that
        come together, and gets one delivery time for a whole delivery.
        """
        protocol = Protocol(self.endpoint, prepare=True)
        protocol.attach(self.alice, "A")
        with self.engine.batch():
            self.engine.submitNew(limit("ep1/alice", "a1", "sell", 10, "10"))
            self.clock.advance(1)
            self.engine.submitNew(limit("ep1/alice", "a2", "buy", 4, "10", symbol="MSFT"))
        self.assertEqual(protocol.prepared, [("A", "AAPL", 1001.0), ("A", "MSFT", 1001.0)])
        self.assertEqual(
            protocol.delivered,
            [(("A", "AAPL"), "accepted", "a1"), (("A", "MSFT"), "accepted", "a2")],
        )

    def test_byEventOwner(self):
        """
        A refused cancel goes to the route of the owner that asked, known by
        its text.
        """
        protocol = Protocol(self.endpoint)
        protocol.attach(self.alice, "A")
        self.engine.submitCancel("ep1/alice", "x1", origClOrdId="nope")
        self.engine.submitCancel("ep1/bob", "x2", origClOrdId="nope")
        self.assertEqual(protocol.delivered, [("A", "cancel_rejected", "x1")])

    def test_otherEvents(self):
        protocol = Protocol(self.endpoint)
        protocol.attach(self.alice, "A")
        self.engine.expireDay()
        self.assertEqual([type(e) for e in protocol.others], [ev.DayEnded])

    def test_nothingAttachedNothingDone(self):
        protocol = Protocol(self.endpoint)
        self.engine.expireDay()
        self.assertEqual(protocol.others, [])

    def test_failureCountedRestDelivered(self):
        """
        A handler that raises loses only the event it raised on: later
        events of the same delivery still go out, and the failure is
        counted.
        """
        protocol = Protocol(self.endpoint)
        protocol.attach(self.alice, "A")
        protocol.attach(self.bob, "B")
        original = protocol._orderHandlers[ev.Accepted]

        def failing(target, event):
            if target == "A":
                raise RuntimeError("broken")
            original(target, event)

        protocol._orderHandlers[ev.Accepted] = failing
        with self.engine.batch():
            self.engine.submitNew(limit("ep1/alice", "a1", "sell", 10, "10"))
            self.engine.submitNew(limit("ep1/bob", "b1", "sell", 10, "11"))
        self.assertEqual(protocol.delivered, [("B", "accepted", "b1")])
        self.assertEqual(protocol.failures.count, 1)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_cancelOnDisconnect(self):
        """
        L{OrderRouting.sessionEnded} cancels the owner's live orders (and
        only its) when the endpoint says so, with reason disconnect.
        """
        protocol = Protocol(self.endpoint)
        protocol.attach(self.alice, "A")
        self.engine.submitNew(limit("ep1/alice", "a1", "sell", 10, "10"))
        self.engine.submitNew(limit("ep1/bob", "b1", "sell", 10, "11"))
        protocol.sessionEnded(self.alice)
        self.assertEqual(len(list(self.engine.liveOrders())), 2)
        self.endpoint.properties["cancel_on_disconnect"] = True
        protocol.sessionEnded("ep1/alice")
        self.assertEqual([o.clOrdId for o in self.engine.liveOrders()], ["b1"])
        self.assertEqual(protocol.delivered[-1], ("A", "cancelled", "a1"))

    def test_cancelOrdersOf(self):
        protocol = Protocol(self.endpoint)
        cancelled = []
        self.engine.subscribe(type("L", (), {"engineEvents": lambda s, e: cancelled.extend(
            x for x in e if isinstance(x, ev.Cancelled))})())
        self.engine.submitNew(limit("ep1/alice", "a1", "sell", 10, "10"))
        protocol.cancelOrdersOf(ownerOf("ep1/alice"), CancelReason.UNSOLICITED)
        self.assertEqual([c.reason for c in cancelled], [CancelReason.UNSOLICITED])


class SharedTests(SynchronousTestCase):
    """
    FIX order entry and OUCH both are the shared layer.
    """

    def test_both(self):
        self.assertTrue(issubclass(OrderEntry, OrderRouting))
        self.assertTrue(issubclass(OuchFactory, OrderRouting))
