# -*- test-case-name: tests.test_behaviours -*-
"""
Instrument behaviours (book types).
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim import registry
from exsim.engine.behaviours import BUILTIN
from exsim.errors import BadValue
from exsim.interfaces import IBehaviour
from exsim.model import CancelReason, OrdStatus, RejectReason
from tests.helpers import P, engineWithBook, limit, market


class BehaviourInterfaceTests(TestCase):
    def test_verify(self):
        for cls in BUILTIN:
            self.assertTrue(verifyObject(IBehaviour, cls()), cls)
            self.assertIs(registry.lookup("behaviour", cls.name), cls)


class BehaviourTestCase(TestCase):
    behaviour = None

    def setUp(self):
        self.clock = Clock()
        self.engine, self.book, self.recorder = engineWithBook(clock=self.clock)
        self.engine.setBookProperty("AAPL", "behaviour", self.behaviour)

    def tearDown(self):
        self.book.validateInternalState()


class AutoFillTests(BehaviourTestCase):
    behaviour = "auto_fill"

    def test_limitFillsAtLimit(self):
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10.05"))
        self.assertEqual(order.status, OrdStatus.FILLED)
        self.assertEqual(self.recorder.types(), ["accepted", "filled", "trade"])
        fill = self.recorder.of("filled")[0]
        self.assertEqual((fill.price, fill.quantity, fill.leavesQty), (P("10.05"), 100, 0))
        self.assertEqual(self.book.lastPrice, P("10.05"))
        self.assertEqual(self.book.depth(True), [])

    def test_marketUsesReference(self):
        self.engine.setBookProperty("AAPL", "reference_price", "150.25")
        order = self.engine.submitNew(market("s1", "m", "sell", 10))
        self.assertEqual(order.status, OrdStatus.FILLED)
        self.assertEqual(self.recorder.of("filled")[0].price, P("150.25"))

    def test_marketWithoutReference(self):
        order = self.engine.submitNew(market("s1", "m", "sell", 10))
        self.assertEqual(order.status, OrdStatus.REJECTED)
        self.assertEqual(self.recorder.of("rejected")[0].reason, RejectReason.BEHAVIOUR)

    def test_validationStillApplies(self):
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10.001"))
        self.assertEqual(self.recorder.of("rejected")[0].reason, RejectReason.BAD_PRICE)
        self.assertEqual(order.status, OrdStatus.REJECTED)


class AutoPartialTests(BehaviourTestCase):
    behaviour = "auto_partial"

    def test_defaultHalf(self):
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.assertEqual((order.cumQty, order.leavesQty, order.status), (50, 50, OrdStatus.PARTIALLY_FILLED))
        self.assertEqual(self.book.depth(True), [(P("10"), 50, 1)])

    def test_fraction(self):
        self.engine.setBookProperty("AAPL", "fill_fraction", "0.3")
        order = self.engine.submitNew(limit("s1", "a", "buy", 10, "10"))
        self.assertEqual(order.cumQty, 3)
        self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "fill_fraction", "1.5")
        self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "fill_fraction", "x")

    def test_remainderMatches(self):
        """
        The remainder goes through normal matching.
        """
        sell = self.engine.submitNew(limit("s1", "a", "sell", 100, "10"))
        self.assertEqual(sell.cumQty, 50)
        buy = self.engine.submitNew(limit("s2", "b", "buy", 100, "10"))
        self.assertEqual(sell.status, OrdStatus.FILLED)
        self.assertEqual(buy.cumQty, 100)


class AutoRejectTests(BehaviourTestCase):
    behaviour = "auto_reject"

    def test_reject(self):
        self.engine.setBookProperty("AAPL", "reject_text", "market closed")
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.assertEqual(order.status, OrdStatus.REJECTED)
        rejected = self.recorder.of("rejected")[0]
        self.assertEqual((rejected.reason, rejected.text), (RejectReason.BEHAVIOUR, "market closed"))


class AutoCancelTests(BehaviourTestCase):
    behaviour = "auto_cancel"

    def test_cancelledAfterDelay(self):
        self.engine.setBookProperty("AAPL", "cancel_delay", "2.5")
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.assertEqual(order.status, OrdStatus.NEW)
        self.clock.advance(2.4)
        self.assertEqual(order.status, OrdStatus.NEW)
        self.clock.advance(0.1)
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertEqual(self.recorder.of("cancelled")[0].reason, CancelReason.UNSOLICITED)
        self.assertEqual(self.book.depth(True), [])

    def test_filledBeforeDelay(self):
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.engine.submitNew(limit("s2", "b", "sell", 100, "10"))
        self.clock.advance(5)
        self.assertEqual(order.status, OrdStatus.FILLED)
        self.assertEqual(self.recorder.of("cancelled"), [])

    def test_badDelay(self):
        self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "cancel_delay", "-1")


class PartialThenCancelTests(BehaviourTestCase):
    behaviour = "partial_then_cancel"

    def test_immediate(self):
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.assertEqual((order.cumQty, order.status), (50, OrdStatus.CANCELLED))
        self.assertEqual(self.recorder.types(), ["accepted", "filled", "trade", "cancelled"])
        self.assertEqual(len(self.recorder.batches), 1)
        self.assertEqual(self.recorder.of("cancelled")[0].cancelledQty, 50)
        self.assertEqual(self.book.depth(True), [])

    def test_delayed(self):
        self.engine.setBookProperty("AAPL", "cancel_delay", "1")
        self.engine.setBookProperty("AAPL", "fill_fraction", "0.25")
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.assertEqual((order.cumQty, order.status), (25, OrdStatus.PARTIALLY_FILLED))
        self.assertEqual(self.book.depth(True), [(P("10"), 75, 1)])
        self.clock.advance(1)
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertEqual(self.book.depth(True), [])


class SwitchingTests(BehaviourTestCase):
    behaviour = "standard"

    def test_paramsKeptAcrossSwitch(self):
        """
        A parameter set before its behaviour is chosen is kept for it.
        """
        self.engine.setBookProperty("AAPL", "fill_fraction", "0.2")
        self.engine.setBookProperty("AAPL", "behaviour", "auto_partial")
        order = self.engine.submitNew(limit("s1", "a", "buy", 10, "10"))
        self.assertEqual(order.cumQty, 2)

    def test_unknownBehaviour(self):
        e = self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "behaviour", "chaos")
        self.assertIn("auto_fill", str(e))

    def test_registeredBehaviour(self):
        from exsim.engine.behaviours import Behaviour

        class HalfPrice(Behaviour):
            name = "test_half_price"
            parameters = {}

            def handleNew(self, engine, book, order):
                engine.acceptOrder(order.orderId, rest=False)
                engine.fillOrder(order.orderId, order.leavesQty, order.price // 2, aggressor=True)

        registry.register("behaviour", "test_half_price", HalfPrice)
        self.addCleanup(registry.unregister, "behaviour", "test_half_price")
        self.engine.setBookProperty("AAPL", "behaviour", "test_half_price")
        order = self.engine.submitNew(limit("s1", "a", "buy", 10, "10"))
        self.assertEqual(order.avgPx, P("5"))
