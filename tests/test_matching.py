# -*- test-case-name: tests.test_matching -*-
"""
The engines, rule by rule: L{EngineRules} runs against the fast engine
(L{exsim.engine.matching.MatchingEngine}) and the reference engine
(L{exsim.engine.reference.ReferenceEngine}); tests of the fast engine's
own structures (its order id index, client order id generations, level
compaction and inline events) follow.
"""

from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim import registry
from exsim.engine.events import Accepted, Cancelled, Filled, Trade
from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.errors import BadValue, UnknownName, WrongState
from exsim.interfaces import IBook, IEngine
from exsim.model import (
    CancelReason,
    Instrument,
    OrdStatus,
    RejectReason,
    TimeInForce,
)
from tests.helpers import P, engineWithBook, limit, market
from tests.ordertype_rules import OrderTypeRules
from tests.phaserules import PhaseRules


class EngineRules(OrderTypeRules, PhaseRules):
    """
    Every rule of an engine, for any engine class: a subclass names it in
    C{engineClass}.  After each test the book's (and, if the engine has
    one, the engine's) C{validateInternalState} must pass.
    """

    engineClass = None

    def setUp(self):
        self.clock = Clock()
        self.engine, self.book, self.recorder = engineWithBook(
            clock=self.clock, engineClass=self.engineClass
        )

    def tearDown(self):
        self.validate()

    def validate(self):
        self.book.validateInternalState()
        check = getattr(self.engine, "validateInternalState", None)
        if check is not None:
            check()

    def submit(self, order):
        self.engine.submitNew(order)
        self.validate()
        return order

    def managed(self):
        self.engine.setProperty("mode", "managed")

    def useBehaviour(self, name):
        self.engine.setBookProperty("AAPL", "behaviour", name)

    def holdNewAndCancel(self):
        """
        Managed mode: a new order held, and a cancel of it held too.
        """
        self.managed()
        self.order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.engine.submitCancel("s1", "c", origClOrdId="a")
        self.recorder.take()
        return self.order

    def rejectReason(self, order):
        self.submit(order)
        rejected = self.recorder.of("rejected")
        self.assertEqual(len(rejected), 1)
        self.assertEqual(order.status, OrdStatus.REJECTED)
        return rejected[0].reason

    # -- interfaces ---------------------------------------------------------

    def test_interfaces(self):
        self.assertTrue(verifyObject(IEngine, self.engine))
        self.assertTrue(verifyObject(IBook, self.book))
        self.assertTrue(verifyObject(IBook, self.engine.addBook(Instrument("A"))))

    # -- priority ----------------------------------------------------------

    def test_priceThenTime(self):
        """
        A buy takes the lowest ask first, and at one price the oldest order.
        """
        a = self.submit(limit("s1", "a", "sell", 100, "10.01"))
        b = self.submit(limit("s1", "b", "sell", 100, "10.00"))
        c = self.submit(limit("s2", "c", "sell", 100, "10.00"))
        self.recorder.take()
        self.submit(limit("s3", "d", "buy", 150, "10.01"))
        fills = [e for e in self.recorder.of("filled") if not e.aggressor]
        self.assertEqual([(f.order, f.quantity) for f in fills], [(b, 100), (c, 50)])
        self.assertEqual(a.leavesQty, 100)
        self.assertEqual(c.leavesQty, 50)

    def test_tradeAtRestingPrice(self):
        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        self.recorder.take()
        self.submit(limit("s2", "b", "buy", 100, "10.50"))
        trades = self.recorder.of("trade")
        self.assertEqual([(t.price, t.quantity) for t in trades], [(P("10.00"), 100)])

    def test_noTradeWithoutCross(self):
        self.submit(limit("s1", "a", "sell", 100, "10.01"))
        self.submit(limit("s2", "b", "buy", 100, "10.00"))
        self.assertEqual(self.recorder.of("trade"), [])
        self.assertEqual(self.book.bestBid(), P("10.00"))
        self.assertEqual(self.book.bestAsk(), P("10.01"))

    def test_eventsOfResting(self):
        order = self.submit(limit("s1", "a", "buy", 100, "10.00"))
        self.assertEqual(self.recorder.types(), ["accepted", "added", "book_changed"])
        self.assertEqual(order.status, OrdStatus.NEW)
        changed = self.recorder.of("book_changed")[0]
        self.assertEqual((changed.isBuy, changed.price, changed.quantity, changed.count), (True, P("10.00"), 100, 1))

    def test_fullAndPartialFills(self):
        resting = self.submit(limit("s1", "a", "sell", 100, "10.00"))
        aggressor = self.submit(limit("s2", "b", "buy", 150, "10.00"))
        self.assertEqual(resting.status, OrdStatus.FILLED)
        self.assertEqual(aggressor.status, OrdStatus.PARTIALLY_FILLED)
        self.assertEqual((aggressor.cumQty, aggressor.leavesQty), (100, 50))
        self.assertTrue(aggressor.resting)
        self.assertEqual(self.book.depth(True), [(P("10.00"), 50, 1)])
        self.assertEqual(self.book.depth(False), [])

    def test_averagePrice(self):
        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        self.submit(limit("s1", "b", "sell", 100, "10.02"))
        buy = self.submit(limit("s2", "c", "buy", 200, "10.02"))
        self.assertEqual(buy.avgPx, P("10.01"))

    def test_snapshots(self):
        """
        Events report the order as it was when they happened.
        """
        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        self.submit(limit("s1", "b", "sell", 100, "10.01"))
        self.recorder.take()
        self.submit(limit("s2", "c", "buy", 200, "10.01"))
        accepted = self.recorder.of("accepted")[0]
        self.assertEqual((accepted.cumQty, accepted.leavesQty, accepted.status), (0, 200, OrdStatus.NEW))
        mine = [e for e in self.recorder.of("filled") if e.aggressor]
        self.assertEqual(
            [(f.cumQty, f.leavesQty, f.status) for f in mine],
            [(100, 100, OrdStatus.PARTIALLY_FILLED), (200, 0, OrdStatus.FILLED)],
        )

    def test_deliveredAfterMatch(self):
        """
        Listeners get a whole command's events at once, after the book has
        settled: they never see a half-matched book.
        """
        seen = []

        class Checker:
            def engineEvents(checker, events):
                self.book.validateInternalState()
                seen.append(([e.type for e in events], self.book.depth(False)))

        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        self.submit(limit("s1", "b", "sell", 100, "10.01"))
        self.engine.subscribe(Checker())
        self.submit(limit("s2", "c", "buy", 150, "10.01"))
        self.assertEqual(len(seen), 1)
        types, depth = seen[0]
        self.assertEqual(types.count("filled"), 4)
        self.assertEqual(depth, [(P("10.01"), 50, 1)])

    def test_listenerFailureIsolated(self):
        class Broken:
            def engineEvents(self, events):
                raise RuntimeError("boom")

        self.engine.subscribe(Broken())
        other = self.recorder
        self.engine.unsubscribe(other)
        self.engine.subscribe(other)
        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        self.assertEqual(other.types(), ["accepted", "added", "book_changed"])
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    # -- market orders and time in force -----------------------------------

    def test_marketSweepsAndNeverRests(self):
        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        self.submit(limit("s1", "b", "sell", 100, "10.05"))
        order = self.submit(market("s2", "m", "buy", 250))
        self.assertEqual(order.cumQty, 200)
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertFalse(order.resting)
        cancelled = self.recorder.of("cancelled")
        self.assertEqual(cancelled[-1].reason, CancelReason.NO_LIQUIDITY)
        self.assertEqual(cancelled[-1].cancelledQty, 50)
        self.assertEqual(self.book.depth(True), [])

    def test_marketOnEmptyBook(self):
        order = self.submit(market("s2", "m", "sell", 10))
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertEqual(self.recorder.types(), ["accepted", "cancelled"])

    def test_iocCancelsRest(self):
        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        order = self.submit(limit("s2", "b", "buy", 150, "10.00", TimeInForce.IOC))
        self.assertEqual((order.cumQty, order.status), (100, OrdStatus.CANCELLED))
        self.assertEqual(self.recorder.of("cancelled")[0].reason, CancelReason.IMMEDIATE_OR_CANCEL)
        self.assertEqual(self.book.depth(True), [])

    def test_fokFillsCompletely(self):
        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        self.submit(limit("s1", "b", "sell", 100, "10.01"))
        order = self.submit(limit("s2", "c", "buy", 200, "10.01", TimeInForce.FOK))
        self.assertEqual(order.status, OrdStatus.FILLED)

    def test_fokKilledLeavesBookAlone(self):
        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        self.submit(limit("s1", "b", "sell", 100, "10.02"))
        before = self.book.depth(False)
        self.recorder.take()
        order = self.submit(limit("s2", "c", "buy", 200, "10.01", TimeInForce.FOK))
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertEqual(order.cumQty, 0)
        self.assertEqual(self.book.depth(False), before)
        self.assertEqual(self.recorder.types(), ["accepted", "cancelled"])
        self.assertEqual(self.recorder.of("cancelled")[0].reason, CancelReason.FILL_OR_KILL)

    def test_gtcRests(self):
        order = self.submit(limit("s1", "a", "buy", 10, "10.00", TimeInForce.GTC))
        self.assertTrue(order.resting)

    # -- cancel ------------------------------------------------------------

    def test_cancelResting(self):
        order = self.submit(limit("s1", "a", "buy", 100, "10.00"))
        self.recorder.take()
        self.engine.submitCancel("s1", "a2", origClOrdId="a")
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertEqual(self.book.depth(True), [])
        cancelled = self.recorder.of("cancelled")[0]
        self.assertEqual((cancelled.cancelledQty, cancelled.cancelClOrdId, cancelled.reason), (100, "a2", CancelReason.USER))
        self.assertEqual(self.recorder.of("book_changed")[0].count, 0)

    def test_cancelByOrderId(self):
        order = self.submit(limit("s1", "a", "buy", 100, "10.00"))
        self.engine.submitCancel("s1", "x", orderId=order.orderId)
        self.assertEqual(order.status, OrdStatus.CANCELLED)

    def test_cancelUnknown(self):
        self.engine.submitCancel("s1", "x", origClOrdId="nope")
        reject = self.recorder.of("cancel_rejected")[0]
        self.assertEqual((reject.reason, reject.responseTo), (RejectReason.UNKNOWN_ORDER, "cancel"))

    def test_cancelAnotherOwnersOrder(self):
        order = self.submit(limit("s1", "a", "buy", 100, "10.00"))
        self.engine.submitCancel("s2", "x", orderId=order.orderId)
        self.assertEqual(order.status, OrdStatus.NEW)
        self.assertEqual(self.recorder.of("cancel_rejected")[0].reason, RejectReason.UNKNOWN_ORDER)

    def test_cancelFilledIsTooLate(self):
        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        self.submit(limit("s2", "b", "buy", 100, "10.00"))
        self.recorder.take()
        self.engine.submitCancel("s1", "x", origClOrdId="a")
        self.assertEqual(self.recorder.of("cancel_rejected")[0].reason, RejectReason.TOO_LATE)
        self.engine.submitCancel("s1", "y", orderId=1)
        self.assertEqual(self.recorder.of("cancel_rejected")[1].reason, RejectReason.TOO_LATE)

    def test_cancelTwice(self):
        self.submit(limit("s1", "a", "buy", 100, "10.00"))
        self.engine.submitCancel("s1", "x", origClOrdId="a")
        self.engine.submitCancel("s1", "y", origClOrdId="a")
        self.assertEqual(self.recorder.of("cancel_rejected")[0].reason, RejectReason.TOO_LATE)

    def test_cancelMiddleOfQueue(self):
        """
        Cancel is O(1): the order is only marked; matching skips it.
        """
        a = self.submit(limit("s1", "a", "sell", 100, "10.00"))
        b = self.submit(limit("s1", "b", "sell", 100, "10.00"))
        c = self.submit(limit("s1", "c", "sell", 100, "10.00"))
        self.engine.submitCancel("s1", "x", origClOrdId="b")
        self.submit(limit("s2", "d", "buy", 200, "10.00"))
        self.assertEqual((a.status, b.status, c.status), (OrdStatus.FILLED, OrdStatus.CANCELLED, OrdStatus.FILLED))

    # -- replace -----------------------------------------------------------

    def test_decreaseKeepsPriority(self):
        a = self.submit(limit("s1", "a", "sell", 100, "10.00"))
        b = self.submit(limit("s1", "b", "sell", 100, "10.00"))
        self.engine.submitReplace("s1", "a2", origClOrdId="a", quantity=50)
        replaced = self.recorder.of("replaced")[0]
        self.assertFalse(replaced.lostPriority)
        self.assertEqual((replaced.origClOrdId, replaced.clOrdId, replaced.quantity), ("a", "a2", 50))
        self.submit(limit("s2", "c", "buy", 50, "10.00"))
        self.assertEqual(a.status, OrdStatus.FILLED)
        self.assertEqual(b.leavesQty, 100)

    def test_increaseLosesPriority(self):
        a = self.submit(limit("s1", "a", "sell", 100, "10.00"))
        b = self.submit(limit("s1", "b", "sell", 100, "10.00"))
        self.engine.submitReplace("s1", "a2", origClOrdId="a", quantity=150)
        self.assertTrue(self.recorder.of("replaced")[0].lostPriority)
        self.submit(limit("s2", "c", "buy", 100, "10.00"))
        self.assertEqual(b.status, OrdStatus.FILLED)
        self.assertEqual(a.leavesQty, 150)

    def test_priceChangeLosesPriority(self):
        a = self.submit(limit("s1", "a", "sell", 100, "10.01"))
        b = self.submit(limit("s1", "b", "sell", 100, "10.00"))
        self.engine.submitReplace("s1", "a2", origClOrdId="a", price=P("10.00"))
        self.submit(limit("s2", "c", "buy", 100, "10.00"))
        self.assertEqual((a.leavesQty, b.status), (100, OrdStatus.FILLED))

    def test_replaceThatCrossesTrades(self):
        self.submit(limit("s1", "a", "sell", 100, "10.00"))
        b = self.submit(limit("s2", "b", "buy", 100, "9.99"))
        self.engine.submitReplace("s2", "b2", origClOrdId="b", price=P("10.00"))
        self.assertEqual(b.status, OrdStatus.FILLED)
        self.assertEqual(self.book.depth(False), [])

    def test_replaceToFilledFinishes(self):
        self.submit(limit("s1", "a", "sell", 40, "10.00"))
        b = self.submit(limit("s2", "b", "buy", 100, "10.00"))
        self.engine.submitReplace("s2", "b2", origClOrdId="b", quantity=40)
        self.assertEqual((b.status, b.leavesQty, b.quantity), (OrdStatus.FILLED, 0, 40))
        self.assertEqual(self.book.depth(True), [])
        self.engine.submitReplace("s2", "b3", origClOrdId="b2", quantity=30)
        self.assertEqual(self.recorder.of("cancel_rejected")[0].reason, RejectReason.TOO_LATE)

    def test_replaceBelowFilled(self):
        self.submit(limit("s1", "a", "sell", 40, "10.00"))
        b = self.submit(limit("s2", "b", "buy", 100, "10.00"))
        self.engine.submitReplace("s2", "b2", origClOrdId="b", quantity=10)
        self.assertEqual((b.status, b.leavesQty, b.cumQty), (OrdStatus.FILLED, 0, 40))

    def test_replaceUnknown(self):
        self.engine.submitReplace("s1", "x", origClOrdId="nope", quantity=5)
        reject = self.recorder.of("cancel_rejected")[0]
        self.assertEqual((reject.reason, reject.responseTo), (RejectReason.UNKNOWN_ORDER, "replace"))

    def test_replaceDuplicateClOrdId(self):
        self.submit(limit("s1", "a", "sell", 40, "10.00"))
        self.submit(limit("s1", "b", "sell", 40, "10.00"))
        self.engine.submitReplace("s1", "b", origClOrdId="a", quantity=10)
        self.assertEqual(self.recorder.of("cancel_rejected")[0].reason, RejectReason.DUPLICATE_ORDER)

    def test_replaceOffTick(self):
        self.submit(limit("s1", "a", "sell", 40, "10.00"))
        self.engine.submitReplace("s1", "a2", origClOrdId="a", price=P("10.005"))
        self.assertEqual(self.recorder.of("cancel_rejected")[0].reason, RejectReason.BAD_PRICE)

    def test_replacedClOrdIdCancels(self):
        a = self.submit(limit("s1", "a", "sell", 40, "10.00"))
        self.engine.submitReplace("s1", "a2", origClOrdId="a", quantity=30)
        self.engine.submitCancel("s1", "a3", origClOrdId="a2")
        self.assertEqual(a.status, OrdStatus.CANCELLED)

    # -- validation --------------------------------------------------------

    def test_unknownSymbol(self):
        self.assertEqual(self.rejectReason(limit("s1", "a", "buy", 1, "1", symbol="ZZZ")), RejectReason.UNKNOWN_SYMBOL)

    def test_offTick(self):
        self.assertEqual(self.rejectReason(limit("s1", "a", "buy", 1, "10.001")), RejectReason.BAD_PRICE)

    def test_badPrice(self):
        self.assertEqual(self.rejectReason(limit("s1", "a", "buy", 1, "0")), RejectReason.BAD_PRICE)

    def test_badQuantity(self):
        self.assertEqual(self.rejectReason(limit("s1", "a", "buy", 0, "10")), RejectReason.BAD_QUANTITY)

    def test_marketGtc(self):
        self.assertEqual(
            self.rejectReason(market("s1", "a", "buy", 1, TimeInForce.GTC)),
            RejectReason.UNSUPPORTED_TIME_IN_FORCE,
        )

    def test_duplicateLive(self):
        self.submit(limit("s1", "a", "buy", 1, "10"))
        self.assertEqual(self.rejectReason(limit("s1", "a", "buy", 1, "10")), RejectReason.DUPLICATE_ORDER)

    def test_duplicateDone(self):
        self.submit(limit("s1", "a", "buy", 1, "10"))
        self.engine.submitCancel("s1", "x", origClOrdId="a")
        self.assertEqual(self.rejectReason(limit("s1", "a", "buy", 1, "10")), RejectReason.DUPLICATE_ORDER)

    def test_sameIdOtherOwner(self):
        self.submit(limit("s1", "a", "buy", 1, "10"))
        self.submit(limit("s2", "a", "buy", 1, "10"))
        self.assertEqual(self.recorder.of("rejected"), [])

    def test_gtdWithoutExpiry(self):
        self.assertEqual(
            self.rejectReason(limit("s1", "a", "buy", 1, "10", TimeInForce.GTD)),
            RejectReason.UNSUPPORTED_TIME_IN_FORCE,
        )

    # -- expiry ------------------------------------------------------------

    def test_expireDay(self):
        day = self.submit(limit("s1", "a", "buy", 1, "10"))
        gtc = self.submit(limit("s1", "b", "buy", 1, "10", TimeInForce.GTC))
        self.engine.expireDay()
        self.assertEqual((day.status, gtc.status), (OrdStatus.EXPIRED, OrdStatus.NEW))
        self.assertEqual(self.book.depth(True), [(P("10"), 1, 1)])
        expired = self.recorder.of("expired")[0]
        self.assertEqual((expired.order, expired.expiredQty), (day, 1))

    def test_dayEndedEvent(self):
        self.submit(limit("s1", "a", "buy", 1, "10"))
        self.recorder.take()
        self.engine.expireDay()
        self.assertEqual(self.recorder.types(), ["book_changed", "expired", "day_ended"])
        self.assertEqual(len(self.recorder.batches[-1]), 3)

    def test_newDayForgetsIds(self):
        self.submit(limit("s1", "a", "buy", 1, "10"))
        self.engine.expireDay()
        again = self.submit(limit("s1", "a", "buy", 1, "10"))
        self.assertEqual(again.status, OrdStatus.NEW)

    def test_gtdExpiresOnClock(self):
        self.clock.advance(1000)
        order = self.submit(limit("s1", "a", "buy", 1, "10", TimeInForce.GTD, expireTime=1060.0))
        later = self.submit(limit("s1", "b", "buy", 1, "10", TimeInForce.GTD, expireTime=1120.0))
        self.clock.advance(59)
        self.assertEqual(order.status, OrdStatus.NEW)
        self.clock.advance(1)
        self.assertEqual(order.status, OrdStatus.EXPIRED)
        self.assertEqual(later.status, OrdStatus.NEW)
        self.clock.advance(60)
        self.assertEqual(later.status, OrdStatus.EXPIRED)
        self.assertEqual(self.book.depth(True), [])

    def test_gtdInThePast(self):
        self.clock.advance(1000)
        order = self.submit(limit("s1", "a", "buy", 1, "10", TimeInForce.GTD, expireTime=999.0))
        self.assertEqual(order.status, OrdStatus.REJECTED)

    # -- managed mode ------------------------------------------------------

    def test_newIsHeld(self):
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.assertEqual(self.recorder.types(), ["order_request"])
        self.assertEqual(order.status, OrdStatus.PENDING_NEW)
        self.assertEqual(self.book.depth(True), [])
        self.assertEqual(self.engine.pendingRequests(), {order.orderId: "new"})

    def test_acceptThenPartialFills(self):
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.recorder.take()
        self.engine.acceptOrder(order.orderId)
        self.assertEqual(self.book.depth(True), [(P("10"), 100, 1)])
        self.engine.fillOrder(order.orderId, 30, P("10"))
        self.engine.fillOrder(order.orderId, 70, P("9.99"))
        self.assertEqual(order.status, OrdStatus.FILLED)
        fills = self.recorder.of("filled")
        self.assertEqual([(f.quantity, f.cumQty, f.leavesQty) for f in fills], [(30, 30, 70), (70, 100, 0)])
        self.assertEqual(self.book.depth(True), [])
        self.assertRaises(UnknownName, self.engine.fillOrder, order.orderId, 1, P("10"))

    def test_managedReject(self):
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.engine.rejectOrder(order.orderId, "no")
        self.assertEqual(order.status, OrdStatus.REJECTED)
        self.assertEqual(self.recorder.of("rejected")[0].text, "no")
        self.assertRaises(UnknownName, self.engine.rejectOrder, order.orderId, "again")

    def test_answerTwice(self):
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.engine.acceptOrder(order.orderId)
        self.assertRaises(WrongState, self.engine.acceptOrder, order.orderId)
        self.assertRaises(WrongState, self.engine.rejectOrder, order.orderId, "x")

    def test_fillTooMuch(self):
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.assertRaises(BadValue, self.engine.fillOrder, order.orderId, 101, P("10"))
        self.assertRaises(BadValue, self.engine.fillOrder, order.orderId, 0, P("10"))
        self.assertEqual(order.status, OrdStatus.PENDING_NEW)

    def test_cancelHeldThenAccepted(self):
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.engine.acceptOrder(order.orderId)
        self.recorder.take()
        self.engine.submitCancel("s1", "c", origClOrdId="a")
        self.assertEqual(self.recorder.types(), ["pending", "order_request"])
        self.assertEqual(order.status, OrdStatus.PENDING_CANCEL)
        self.engine.acceptCancel(order.orderId)
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertEqual(self.recorder.of("cancelled")[0].cancelClOrdId, "c")

    def test_cancelRejected(self):
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.engine.acceptOrder(order.orderId)
        self.engine.submitCancel("s1", "c", origClOrdId="a")
        self.engine.rejectCancel(order.orderId, "not now")
        self.assertEqual(order.status, OrdStatus.NEW)
        reject = self.recorder.of("cancel_rejected")[0]
        self.assertEqual((reject.clOrdId, reject.text), ("c", "not now"))
        self.assertRaises(WrongState, self.engine.acceptCancel, order.orderId)

    def test_replaceHeld(self):
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.engine.acceptOrder(order.orderId)
        self.engine.submitReplace("s1", "a2", origClOrdId="a", quantity=50, price=P("10.01"))
        self.assertEqual(order.status, OrdStatus.PENDING_REPLACE)
        self.engine.acceptReplace(order.orderId)
        self.assertEqual((order.clOrdId, order.quantity, order.price), ("a2", 50, P("10.01")))
        self.assertEqual(self.book.depth(True), [(P("10.01"), 50, 1)])

    def test_unsolicitedCancel(self):
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.engine.acceptOrder(order.orderId)
        self.engine.cancelUnsolicited(order.orderId)
        self.assertEqual(self.recorder.of("cancelled")[0].reason, CancelReason.UNSOLICITED)

    def test_houseOrdersNotHeld(self):
        self.managed()
        order = limit("house", "h1", "sell", 10, "10")
        self.engine.submitNew(order, neverHeld=True)
        self.assertEqual(order.status, OrdStatus.NEW)

    def test_matchOrders(self):
        self.managed()
        buy = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.engine.acceptOrder(buy.orderId)
        sell = limit("house", "h1", "sell", 60, "10.05")
        self.engine.submitNew(sell, neverHeld=True)
        tradeId = self.engine.matchOrders(buy.orderId, sell.orderId, 40, P("10.02"))
        trade = self.recorder.of("trade")[-1]
        self.assertEqual((trade.tradeId, trade.price, trade.quantity), (tradeId, P("10.02"), 40))
        self.assertEqual((buy.leavesQty, sell.leavesQty), (60, 20))
        self.assertRaises(BadValue, self.engine.matchOrders, buy.orderId, sell.orderId, 21)

    def test_matchOrdersAcceptsHeld(self):
        """
        A held new order that C{matchOrders} trades is accepted first (an
        L{Accepted} before its fill).
        """
        self.managed()
        buy = self.submit(limit("s1", "a", "buy", 100, "10"))
        sell = self.engine.submitNew(limit("house", "h1", "sell", 60, "10"), neverHeld=True)
        self.recorder.take()
        self.engine.matchOrders(buy.orderId, sell.orderId)
        events = self.recorder.events
        self.assertEqual(
            [e.type for e in events], ["accepted", "filled", "filled", "book_changed", "trade"]
        )
        self.assertEqual([e.order for e in events[:3]], [buy, buy, sell])
        self.assertEqual(buy.status, OrdStatus.PARTIALLY_FILLED)
        self.assertEqual(self.engine.pendingKinds(buy.orderId), set())
        self.assertRaises(WrongState, self.engine.acceptOrder, buy.orderId)

    def test_matchOrdersAcceptsHeldWithCancelHeld(self):
        """
        A held new order whose cancel is held too is accepted before
        C{matchOrders} fills it; the cancel stays held.
        """
        order = self.holdNewAndCancel()
        sell = self.engine.submitNew(limit("house", "h1", "sell", 60, "10"), neverHeld=True)
        self.recorder.take()
        self.engine.matchOrders(order.orderId, sell.orderId)
        accepted = self.recorder.of("accepted")
        self.assertEqual([e.order for e in accepted], [order])
        self.assertEqual(accepted[0].status, OrdStatus.PENDING_CANCEL)
        self.assertEqual(self.engine.pendingKinds(order.orderId), {"cancel"})
        self.assertRaises(WrongState, self.engine.acceptOrder, order.orderId)
        self.engine.acceptCancel(order.orderId)
        self.assertEqual((order.status, order.cumQty), (OrdStatus.CANCELLED, 60))

    def test_crossOrders(self):
        """
        C{crossOrders}: two new orders are accepted and trade with each
        other in one batch, off the book (a resting order at a better
        price is not touched), the aggressor taking liquidity; both are
        done and their ids are used.
        """
        resting = self.submit(limit("s3", "r", "sell", 100, "9.90"))
        self.recorder.take()
        self.recorder.batches.clear()
        dealer = limit("dealer/D", "q1", "sell", 50, "10.05")
        taker = limit("fix1/C", "t1", "buy", 50, "10.05")
        tradeId = self.engine.crossOrders(dealer, taker)
        self.assertEqual(len(self.recorder.batches), 1)
        events = self.recorder.events
        self.assertEqual(
            [(e.type, e.order) if hasattr(e, "order") else (e.type, None) for e in events],
            [("accepted", dealer), ("accepted", taker), ("filled", taker), ("filled", dealer),
             ("trade", None)],
        )
        fills = self.recorder.of("filled")
        self.assertEqual([(f.aggressor, f.price, f.quantity) for f in fills],
                         [(True, P("10.05"), 50), (False, P("10.05"), 50)])
        trade = self.recorder.of("trade")[0]
        self.assertEqual((trade.tradeId, trade.buyOrderId, trade.sellOrderId), (tradeId, taker.orderId, dealer.orderId))
        self.assertEqual((dealer.status, taker.status), (OrdStatus.FILLED, OrdStatus.FILLED))
        self.assertEqual(self.book.depth(False), [(P("9.90"), 100, 1)])
        self.assertEqual(resting.leavesQty, 100)
        self.assertEqual((self.book.lastPrice, self.book.volume), (P("10.05"), 50))
        self.assertEqual(self.engine.getOrder(taker.orderId), None)
        again = self.engine.submitNew(limit("fix1/C", "t1", "buy", 1, "1"))
        self.assertEqual(again.status, OrdStatus.REJECTED)

    def test_crossPartOfQuote(self):
        """
        A cross of part of the passive order at a given price.
        """
        dealer = limit("dealer/D", "q1", "sell", 50, "10.05")
        taker = limit("fix1/C", "t1", "buy", 20, "10.05")
        self.engine.crossOrders(dealer, taker, 20, P("10.04"))
        self.assertEqual((dealer.status, dealer.leavesQty, taker.status), (OrdStatus.PARTIALLY_FILLED, 30, OrdStatus.FILLED))
        self.assertEqual(self.recorder.of("trade")[0].price, P("10.04"))
        self.assertFalse(dealer.resting)

    def test_crossNotHeldInManagedMode(self):
        self.managed()
        dealer = limit("dealer/D", "q1", "sell", 50, "10")
        taker = limit("fix1/C", "t1", "buy", 50, "10")
        self.engine.crossOrders(dealer, taker)
        self.assertEqual([e.type for e in self.recorder.events if e.type == "order_request"], [])
        self.assertEqual(taker.status, OrdStatus.FILLED)

    def test_crossRejectsBoth(self):
        """
        An invalid order (a duplicate client order id) rejects both
        sides; nothing trades.
        """
        self.submit(limit("fix1/C", "t1", "buy", 1, "9"))
        self.recorder.take()
        dealer = limit("dealer/D", "q1", "sell", 50, "10")
        taker = limit("fix1/C", "t1", "buy", 50, "10")
        self.assertIsNone(self.engine.crossOrders(dealer, taker))
        rejects = self.recorder.of("rejected")
        self.assertEqual([(r.order, r.reason) for r in rejects],
                         [(dealer, RejectReason.OTHER), (taker, RejectReason.DUPLICATE_ORDER)])
        self.assertIn("the other side of the cross was rejected: duplicate", rejects[0].text)
        self.assertEqual(self.recorder.of("trade"), [])
        self.assertEqual(self.engine.getOrder(dealer.orderId), None)

    def test_crossBadTerms(self):
        """
        Terms that cannot cross are refused before anything changes.
        """
        sell = limit("d", "q1", "sell", 50, "10")
        for other, quantity, price in [
            (limit("c", "t1", "sell", 50, "10"), None, None),
            (limit("c", "t1", "buy", 50, "10", symbol="MSFT"), None, None),
            (limit("c", "t1", "buy", 50, "10"), 51, None),
            (limit("c", "t1", "buy", 50, "10"), 0, None),
            (limit("c", "t1", "buy", 50, "10"), None, -1),
        ]:
            self.assertRaises(BadValue, self.engine.crossOrders, sell, other, quantity, price)
        self.assertEqual(self.recorder.events, [])
        self.assertEqual((sell.orderId, self.engine.liveOrders()), (0, []))

    def test_statusAfterFillWhileCancelHeld(self):
        """
        A fill while a cancel is held sets the order's status; rejecting
        the cancel then leaves it partially filled (not the status it had
        when the cancel came).
        """
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.engine.acceptOrder(order.orderId)
        self.engine.submitCancel("s1", "c", origClOrdId="a")
        self.engine.fillOrder(order.orderId, 30, P("10"))
        self.assertEqual(order.status, OrdStatus.PARTIALLY_FILLED)
        self.engine.rejectCancel(order.orderId, "no")
        self.assertEqual(order.status, OrdStatus.PARTIALLY_FILLED)
        self.assertEqual(self.recorder.of("cancel_rejected")[0].status, OrdStatus.PARTIALLY_FILLED)

    def test_statusAfterCancelHeldAndRejected(self):
        """
        Without a fill meanwhile, a rejected cancel gives the order back
        the status it had.
        """
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.engine.acceptOrder(order.orderId)
        self.engine.fillOrder(order.orderId, 30, P("10"))
        self.engine.submitReplace("s1", "b", origClOrdId="a", quantity=50)
        self.assertEqual(order.status, OrdStatus.PENDING_REPLACE)
        self.engine.rejectReplace(order.orderId)
        self.assertEqual(order.status, OrdStatus.PARTIALLY_FILLED)

    def test_gtdOffBookExpires(self):
        """
        An accepted GTD order expires at its time, in the book or not (an
        order accepted in managed mode stays off a book it would cross).
        """
        self.managed()
        self.engine.submitNew(limit("house", "h1", "sell", 60, "10"), neverHeld=True)
        order = self.submit(
            limit("s1", "a", "buy", 100, "10", TimeInForce.GTD, expireTime=self.clock.seconds() + 5)
        )
        self.engine.acceptOrder(order.orderId)
        self.assertFalse(order.resting)
        self.clock.advance(5)
        self.assertEqual(order.status, OrdStatus.EXPIRED)
        expired = self.recorder.of("expired")
        self.assertEqual([(e.order, e.resting, e.expiredQty) for e in expired], [(order, False, 100)])

    def test_gtdHeldDoesNotExpire(self):
        """
        A GTD order still held does not expire; accepted after its time,
        it expires at once (on the next turn of the clock).
        """
        self.managed()
        order = self.submit(
            limit("s1", "a", "buy", 100, "10", TimeInForce.GTD, expireTime=self.clock.seconds() + 5)
        )
        self.clock.advance(10)
        self.assertEqual(order.status, OrdStatus.PENDING_NEW)
        self.engine.acceptOrder(order.orderId)
        self.assertEqual(order.status, OrdStatus.NEW)
        self.clock.advance(0)
        self.assertEqual(order.status, OrdStatus.EXPIRED)

    def test_restHeldOrder(self):
        """
        C{restOrder} puts only an accepted order in the book.
        """
        self.managed()
        order = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.assertRaises(WrongState, self.engine.restOrder, order.orderId)
        self.assertFalse(order.resting)
        self.engine.acceptOrder(order.orderId, rest=False)
        self.engine.restOrder(order.orderId)
        self.assertTrue(order.resting)
        self.assertRaises(WrongState, self.engine.restOrder, order.orderId)

    # -- a cancel held before the new order is answered --------------------

    def test_bothHeld(self):
        self.holdNewAndCancel()
        self.assertEqual(self.engine.pendingKinds(self.order.orderId), {"new", "cancel"})

    def test_acceptThenAcceptCancel(self):
        self.holdNewAndCancel()
        self.engine.acceptOrder(self.order.orderId)
        self.assertEqual(self.engine.pendingKinds(self.order.orderId), {"cancel"})
        self.assertEqual(self.recorder.types(), ["accepted", "added", "book_changed"])
        self.engine.acceptCancel(self.order.orderId)
        self.assertEqual(self.order.status, OrdStatus.CANCELLED)

    def test_acceptThenRejectCancel(self):
        self.holdNewAndCancel()
        self.engine.acceptOrder(self.order.orderId)
        self.engine.rejectCancel(self.order.orderId, "no")
        self.assertEqual(self.order.status, OrdStatus.NEW)

    def test_rejectNewRejectsCancel(self):
        self.holdNewAndCancel()
        self.engine.rejectOrder(self.order.orderId, "no")
        self.assertEqual(self.recorder.types(), ["rejected", "cancel_rejected"])
        reject = self.recorder.of("cancel_rejected")[0]
        self.assertEqual((reject.reason, reject.clOrdId), (RejectReason.TOO_LATE, "c"))
        self.assertEqual(self.engine.pendingKinds(self.order.orderId), set())

    # -- properties and books ----------------------------------------------

    def test_mode(self):
        self.assertRaises(BadValue, self.engine.setProperty, "mode", "chaos")
        self.assertRaises(BadValue, self.engine.setProperty, "nope", "auto")

    def test_tickSize(self):
        self.engine.setBookProperty("AAPL", "tick_size", "0.05")
        self.assertEqual(self.book.instrument.tickSize, 500)
        self.submit(limit("s1", "a", "buy", 1, "10.01"))
        self.assertEqual(self.recorder.of("rejected")[0].reason, RejectReason.BAD_PRICE)
        self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "tick_size", "-1")
        self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "tick_size", "abc")

    def test_unknownProperty(self):
        e = self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "colour", "red")
        self.assertIn("colour", str(e))

    def test_bookAddedAgain(self):
        """
        Orders go to the book the engine has now, also with terms (owner,
        symbol, side...) it saw on the book before.
        """
        self.submit(limit("s1", "a", "buy", 1, "10"))
        self.submit(limit("s1", "b", "buy", 1, "10"))
        self.engine.removeBook("AAPL")
        gone = self.engine.submitNew(limit("s1", "x", "buy", 1, "10"))
        self.assertEqual(gone.status, OrdStatus.REJECTED)
        self.assertEqual(self.recorder.of("rejected")[-1].reason, RejectReason.UNKNOWN_SYMBOL)
        book = self.engine.addBook(Instrument("AAPL"))
        order = self.engine.submitNew(limit("s1", "c", "buy", 1, "10"))
        self.assertEqual(order.status, OrdStatus.NEW)
        self.assertEqual(book.orders(), [order])
        self.assertEqual(self.book.orders(), [])
        book.validateInternalState()
        self.book = book

    def test_removeBookCancels(self):
        order = self.submit(limit("s1", "a", "buy", 1, "10"))
        self.engine.removeBook("AAPL")
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertRaises(UnknownName, self.engine.getBook, "AAPL")
        self.engine.addBook(Instrument("AAPL"))
        self.book = self.engine.getBook("AAPL")

    # -- batches -----------------------------------------------------------

    def test_batch(self):
        with self.engine.batch():
            self.engine.submitNew(limit("s1", "a", "buy", 1, "10"))
            self.engine.submitNew(limit("s1", "b", "sell", 1, "11"))
            self.assertEqual(self.recorder.batches, [])
        self.assertEqual(len(self.recorder.batches), 1)
        self.assertEqual(len(self.recorder.batches[0]), 6)

    def test_nestedBehaviourInBatch(self):
        self.engine.setBookProperty("AAPL", "behaviour", "auto_fill")
        with self.engine.batch():
            self.engine.submitNew(limit("s1", "a", "buy", 1, "10"))
            self.engine.submitNew(limit("s1", "b", "buy", 1, "10"))
        self.assertEqual(len(self.recorder.batches), 1)
        self.assertEqual(self.recorder.types().count("filled"), 2)

    # -- client order ids --------------------------------------------------

    def test_endOfDayForgetsFinishedIds(self):
        """
        At the end of the day finished ids are forgotten; a GTC order that
        survives keeps its id.
        """
        self.submit(limit("s1", "a", "buy", 1, "10"))
        self.engine.submitCancel("s1", "x", origClOrdId="a")
        gtc = self.submit(limit("s1", "g", "buy", 1, "10", tif=TimeInForce.GTC))
        self.engine.expireDay()
        self.assertEqual(self.submit(limit("s1", "a", "buy", 1, "10")).status, OrdStatus.NEW)
        self.assertIs(self.engine.findOrder("s1", "g"), gtc)
        self.assertEqual(self.rejectReason(limit("s1", "g", "buy", 1, "10")), RejectReason.DUPLICATE_ORDER)

    def test_replacedIdRemembered(self):
        """
        The client order id an order had before a replace is finished: a
        duplicate for a new order, too late for a cancel.
        """
        self.submit(limit("s1", "a", "buy", 5, "10"))
        self.engine.submitReplace("s1", "b", origClOrdId="a", quantity=4)
        self.assertEqual(self.rejectReason(limit("s1", "a", "buy", 1, "10")), RejectReason.DUPLICATE_ORDER)
        self.engine.submitCancel("s1", "c", origClOrdId="a")
        self.assertEqual(self.recorder.of("cancel_rejected")[-1].reason, RejectReason.TOO_LATE)
        self.assertEqual(self.engine.findOrder("s1", "b").quantity, 4)

    # -- behaviour auto_fill -----------------------------------------------

    def test_limitFillsAtLimit(self):
        self.useBehaviour('auto_fill')
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10.05"))
        self.assertEqual(order.status, OrdStatus.FILLED)
        self.assertEqual(self.recorder.types(), ["accepted", "filled", "trade"])
        fill = self.recorder.of("filled")[0]
        self.assertEqual((fill.price, fill.quantity, fill.leavesQty), (P("10.05"), 100, 0))
        self.assertEqual(self.book.lastPrice, P("10.05"))
        self.assertEqual(self.book.depth(True), [])

    def test_marketUsesReference(self):
        self.useBehaviour('auto_fill')
        self.engine.setBookProperty("AAPL", "reference_price", "150.25")
        order = self.engine.submitNew(market("s1", "m", "sell", 10))
        self.assertEqual(order.status, OrdStatus.FILLED)
        self.assertEqual(self.recorder.of("filled")[0].price, P("150.25"))

    def test_marketWithoutReference(self):
        self.useBehaviour('auto_fill')
        order = self.engine.submitNew(market("s1", "m", "sell", 10))
        self.assertEqual(order.status, OrdStatus.REJECTED)
        self.assertEqual(self.recorder.of("rejected")[0].reason, RejectReason.BEHAVIOUR)

    def test_validationStillApplies(self):
        self.useBehaviour('auto_fill')
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10.001"))
        self.assertEqual(self.recorder.of("rejected")[0].reason, RejectReason.BAD_PRICE)
        self.assertEqual(order.status, OrdStatus.REJECTED)

    # -- behaviour auto_partial --------------------------------------------

    def test_defaultHalf(self):
        self.useBehaviour('auto_partial')
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.assertEqual((order.cumQty, order.leavesQty, order.status), (50, 50, OrdStatus.PARTIALLY_FILLED))
        self.assertEqual(self.book.depth(True), [(P("10"), 50, 1)])

    def test_fraction(self):
        self.useBehaviour('auto_partial')
        self.engine.setBookProperty("AAPL", "fill_fraction", "0.3")
        order = self.engine.submitNew(limit("s1", "a", "buy", 10, "10"))
        self.assertEqual(order.cumQty, 3)
        self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "fill_fraction", "1.5")
        self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "fill_fraction", "x")

    def test_remainderMatches(self):
        """
        The remainder goes through normal matching.
        """
        self.useBehaviour('auto_partial')
        sell = self.engine.submitNew(limit("s1", "a", "sell", 100, "10"))
        self.assertEqual(sell.cumQty, 50)
        buy = self.engine.submitNew(limit("s2", "b", "buy", 100, "10"))
        self.assertEqual(sell.status, OrdStatus.FILLED)
        self.assertEqual(buy.cumQty, 100)

    # -- behaviour auto_reject ---------------------------------------------

    def test_autoReject(self):
        self.useBehaviour('auto_reject')
        self.engine.setBookProperty("AAPL", "reject_text", "market closed")
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.assertEqual(order.status, OrdStatus.REJECTED)
        rejected = self.recorder.of("rejected")[0]
        self.assertEqual((rejected.reason, rejected.text), (RejectReason.BEHAVIOUR, "market closed"))

    # -- behaviour auto_cancel ---------------------------------------------

    def test_cancelledAfterDelay(self):
        self.useBehaviour('auto_cancel')
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
        self.useBehaviour('auto_cancel')
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.engine.submitNew(limit("s2", "b", "sell", 100, "10"))
        self.clock.advance(5)
        self.assertEqual(order.status, OrdStatus.FILLED)
        self.assertEqual(self.recorder.of("cancelled"), [])

    def test_badDelay(self):
        self.useBehaviour('auto_cancel')
        self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "cancel_delay", "-1")

    # -- behaviour partial_then_cancel -------------------------------------

    def test_immediate(self):
        self.useBehaviour('partial_then_cancel')
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.assertEqual((order.cumQty, order.status), (50, OrdStatus.CANCELLED))
        self.assertEqual(self.recorder.types(), ["accepted", "filled", "trade", "cancelled"])
        self.assertEqual(len(self.recorder.batches), 1)
        self.assertEqual(self.recorder.of("cancelled")[0].cancelledQty, 50)
        self.assertEqual(self.book.depth(True), [])

    def test_delayed(self):
        self.useBehaviour('partial_then_cancel')
        self.engine.setBookProperty("AAPL", "cancel_delay", "1")
        self.engine.setBookProperty("AAPL", "fill_fraction", "0.25")
        order = self.engine.submitNew(limit("s1", "a", "buy", 100, "10"))
        self.assertEqual((order.cumQty, order.status), (25, OrdStatus.PARTIALLY_FILLED))
        self.assertEqual(self.book.depth(True), [(P("10"), 75, 1)])
        self.clock.advance(1)
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertEqual(self.book.depth(True), [])

    # -- behaviour switching -----------------------------------------------

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


class FastEngineRulesTests(EngineRules, TestCase):
    engineClass = MatchingEngine


class ReferenceEngineRulesTests(EngineRules, TestCase):
    engineClass = ReferenceEngine


class ReferenceEngineTests(TestCase):
    """
    What only the reference engine has.
    """

    def test_registered(self):
        self.assertIs(registry.lookup("engine", "reference"), ReferenceEngine)

    def test_validateCatchesCorruption(self):
        """
        C{validateInternalState} fails on a book or engine that breaks an
        invariant.
        """
        engine, book, recorder = engineWithBook(engineClass=ReferenceEngine)
        order = engine.submitNew(limit("s1", "a", "buy", 10, "10"))
        engine.validateInternalState()
        order.leavesQty = 9
        self.assertRaises(AssertionError, engine.validateInternalState)
        order.leavesQty = 10
        engine.submitNew(limit("s1", "b", "sell", 10, "11"))
        engine.validateInternalState()
        book.asks[P("11")].price = P("9")
        self.assertRaises(AssertionError, engine.validateInternalState)
        book.asks[P("11")].price = P("11")
        del engine._live[order.orderId]
        self.assertRaises(AssertionError, engine.validateInternalState)

    def test_settleLooksAtPegsOnly(self):
        """
        After each command the engine looks at the book's pegs (and, when a
        trade printed, its stops), not at every live order: entering n
        orders does not go through the live orders n times.  The pegs it
        keeps are the live ones (a finished peg is forgotten).
        """
        from tests.ordertype_rules import peg

        engine, book, recorder = engineWithBook(engineClass=ReferenceEngine)
        engine.submitNew(limit("s1", "bid", "buy", 100, "9.00"))
        engine.submitNew(limit("s1", "ask", "sell", 100, "11.00"))
        pegged = engine.submitNew(peg("s2", "p", "buy", 100))
        self.assertEqual((book.pegs, pegged.price), ({pegged.orderId: pegged}, P("10.00")))
        seen = []
        liveOrders = engine.liveOrders

        def counting():
            seen.append(1)
            return liveOrders()

        engine.liveOrders = counting
        for i in range(50):
            engine.submitNew(limit("s3", "b%d" % i, "buy", 1, "9.%02d" % (i + 1)))
        self.assertEqual(seen, [])
        # The pegs still follow the inside: the last bid moved it to 9.50.
        self.assertEqual(pegged.price, P("10.25"))
        del engine.liveOrders
        engine.submitCancel("s2", "x", origClOrdId="p")
        self.assertEqual(book.pegs, {})
        engine.validateInternalState()

    def test_clientOrderIdsAllDay(self):
        """
        The reference engine remembers every client order id of the day
        (the fast engine, bounded generations of them).
        """
        engine, book, recorder = engineWithBook(engineClass=ReferenceEngine)
        for i in range(50):
            engine.submitNew(limit("s1", "o%d" % i, "buy", 1, "10"))
            engine.submitCancel("s1", "x%d" % i, origClOrdId="o%d" % i)
        again = engine.submitNew(limit("s1", "o0", "buy", 1, "10"))
        self.assertEqual(recorder.of("rejected")[-1].reason, RejectReason.DUPLICATE_ORDER)
        self.assertEqual(again.status, OrdStatus.REJECTED)


class FastEngineTestCase(TestCase):
    """
    Tests of the fast engine's own structures.
    """

    def setUp(self):
        self.engine, self.book, self.recorder = engineWithBook()

    def tearDown(self):
        self.book.validateInternalState()

    def submit(self, order):
        self.engine.submitNew(order)
        self.book.validateInternalState()
        return order


class FastBookTests(FastEngineTestCase):
    """
    The fast engine's book: a cancel marks an order dead in its level's
    queue; a queue with many dead entries is compacted.
    """

    def test_manyCancelsCompactQueue(self):
        orders = [self.submit(limit("s1", "o%d" % i, "sell", 1, "10.00")) for i in range(200)]
        for order in orders[:-1]:
            self.engine.submitCancel("s1", "c" + order.clOrdId, origClOrdId=order.clOrdId)
        level = self.book.asks[P("10.00")]
        self.assertLess(len(level.orders), 100)
        self.assertEqual(level.count, 1)


class KnownTermsTests(FastEngineTestCase):
    """
    The terms of valid plain orders are remembered for the hot path, at
    most L{exsim.engine.matching.KNOWN_TERMS} of them (the memo is
    emptied when full), and an order whose terms were forgotten is
    checked in full again.
    """

    def test_bounded(self):
        from exsim.engine import matching

        self.patch(matching, "KNOWN_TERMS", 3)
        for i in range(7):
            self.submit(limit("owner%d" % i, "a", "buy", 1, "10.00"))
            self.assertLessEqual(len(self.engine._knownTerms), 3)
        self.assertEqual(len(self.engine._knownTerms), 1)
        # The first owner's terms were forgotten: a second order of theirs
        # is checked in full (its ClOrdID, already used, is refused).
        duplicate = self.submit(limit("owner0", "a", "buy", 1, "10.00"))
        self.assertEqual(duplicate.status.name, "REJECTED")
        fresh = self.submit(limit("owner0", "b", "buy", 1, "10.00"))
        self.assertEqual(fresh.status.name, "NEW")


class OrderIndexTests(FastEngineTestCase):
    def test_rejectedIdsCounted(self):
        """
        Order ids of rejected orders are never used: a chunk whose other
        orders all finished retires, and the live count stays exact,
        whether the rejected id opens a chunk or not.
        """
        from exsim.engine.orderindex import CHUNK

        engine = self.engine
        orders = []
        for i in range(2 * CHUNK + 10):
            if i % 50 == 0 or i == CHUNK - 1:
                # Off the tick grid: rejected.  Id CHUNK is the first of
                # chunk 1.
                bad = engine.submitNew(limit("s1", "r%d" % i, "buy", 1, "10.001"))
                self.assertEqual(bad.status, OrdStatus.REJECTED)
            else:
                orders.append(engine.submitNew(limit("s1", "o%d" % i, "buy", 1, "10")))
            self.assertEqual(engine.liveCount(), len(engine.liveOrders()))
        # The order after a rejected first id of a chunk is in its own
        # chunk, and every order is found by its id.
        for order in orders:
            self.assertIs(engine.getOrder(order.orderId), order)
        for order in orders[:-5]:
            engine.submitCancel("s1", "c" + order.clOrdId, origClOrdId=order.clOrdId)
        self.assertEqual(engine.liveCount(), 5)
        self.assertEqual(len(engine.liveOrders()), 5)
        # Chunks 0 and 1 hold no live order: both retired.
        self.assertEqual(sorted(engine._chunks), [2])

    def test_sparseChunksRetire(self):
        """
        Live orders are found by id whether their chunk of ids is kept or
        retired to the overflow dict after most of it finished.
        """
        from exsim.engine.orderindex import CHUNK

        orders = [
            self.engine.submitNew(limit("s1", "o%d" % i, "buy", 1, "10")) for i in range(3 * CHUNK)
        ]
        keep = {orders[5].orderId, orders[CHUNK - 1].orderId, orders[2 * CHUNK + 7].orderId}
        for order in orders[: 2 * CHUNK]:
            if order.orderId not in keep:
                self.engine.submitCancel("s1", "c" + order.clOrdId, origClOrdId=order.clOrdId)
        # Ids start at 1: chunks 0 and 1 emptied and retired, 2 and 3 kept.
        self.assertEqual(sorted(self.engine._chunks), [2, 3])
        for orderId in keep:
            self.assertEqual(self.engine.getOrder(orderId).orderId, orderId)
        self.assertIsNone(self.engine.getOrder(orders[6].orderId))
        self.assertIsNone(self.engine.getOrder(10 ** 9))
        self.assertIsNone(self.engine.getOrder("nonsense"))
        self.assertEqual(self.engine.getOrder(str(orders[5].orderId)), orders[5])
        self.assertEqual(len(self.engine.liveOrders()), CHUNK + 2)
        self.engine.submitCancel("s1", "x", orderId=orders[5].orderId)
        self.assertEqual(orders[5].status, OrdStatus.CANCELLED)
        self.assertIsNone(self.engine.getOrder(orders[5].orderId))
        self.engine.submitCancel("s1", "y", orderId=orders[5].orderId)
        self.assertEqual(self.recorder.of("cancel_rejected")[-1].reason, RejectReason.TOO_LATE)

    def test_fillsRetireChunks(self):
        """
        Orders that finish by filling leave the order id index as
        cancelled ones do (L{MatchingEngine._finish}): chunks retire, their
        survivor is found in the overflow dict and, once filled, is gone;
        the live count stays exact.
        """
        from exsim.engine.orderindex import CHUNK, CHUNK_BITS

        engine = self.engine
        sells = [
            engine.submitNew(limit("s1", "s%d" % i, "sell", 1, "11" if i == 3 else "10"))
            for i in range(2 * CHUNK)
        ]
        survivor = sells[3]
        for i in range(2 * CHUNK - 1):
            engine.submitNew(limit("b1", "b%d" % i, "buy", 1, "10"))
        self.assertEqual(engine.liveOrders(), [survivor])
        self.assertEqual(engine.liveCount(), 1)
        self.assertNotIn(survivor.orderId >> CHUNK_BITS, engine._chunks)
        self.assertEqual(engine._overflow, {survivor.orderId: survivor})
        self.assertIs(engine.getOrder(survivor.orderId), survivor)
        engine.submitNew(limit("b1", "last", "buy", 1, "11"))
        self.assertEqual(survivor.status, OrdStatus.FILLED)
        self.assertIsNone(engine.getOrder(survivor.orderId))
        self.assertEqual(engine._overflow, {})
        self.assertEqual((engine.liveCount(), engine.liveOrders()), (0, []))


class FinishedIdsTests(FastEngineTestCase):
    def rejected(self, order):
        self.submit(order)
        self.assertEqual(order.status, OrdStatus.REJECTED)
        return self.recorder.of("rejected")[-1].reason

    def test_twoGenerations(self):
        """
        Client order ids live in bounded generations: a finished id is a
        duplicate (and too late to cancel) for at least a generation of
        later new orders, then usable again; a live order's id is never
        forgotten, whatever its age; the ids kept stay bounded.
        """
        from exsim.engine import orderindex

        self.patch(orderindex, "ID_GENERATION", 4)
        # A copy of live orders' ids to a new generation takes two steps:
        # one slice of the order id index, then the (empty) overflow.
        self.patch(orderindex, "CHUNK_SLICE", orderindex.CHUNK)
        live = [self.submit(limit("s1", "live0", "buy", 1, "10"))]
        finished = []
        for i in range(200):
            order = self.submit(limit("s1", "d%d" % i, "buy", 1, "10"))
            if i % 37 == 5:
                # Now and then an order stays live.
                live.append(order)
            else:
                self.engine.submitCancel("s1", "x%d" % i, origClOrdId="d%d" % i)
                self.assertEqual(order.status, OrdStatus.CANCELLED)
                finished.append(order.clOrdId)
            for order in live:
                self.assertIs(self.engine.findOrder("s1", order.clOrdId), order)
            for clOrdId in finished[-4:]:
                self.assertIsNone(self.engine.findOrder("s1", clOrdId))
                self.assertTrue(self.engine._wasUsed("s1", clOrdId), (i, clOrdId))
            record = self.engine._owners["s1"]
            # Two generations, each at most a generation and a half (if
            # it grew for live orders) or twice the live orders, plus the
            # live orders' ids copied and the few new orders of a copy's
            # steps: bounded, whatever the number of orders.
            self.assertLessEqual(len(record.ids) + len(record.old), 2 * (4 + 2 + 3 + 3 * len(live)))
            self.assertEqual(self.engine.liveCount(), len(self.engine.liveOrders()))
        # A finished id of the last generation is a duplicate and too late
        # to cancel; one of long ago is forgotten and usable again.
        self.assertEqual(
            self.rejected(limit("s1", finished[-1], "buy", 1, "10")), RejectReason.DUPLICATE_ORDER
        )
        self.engine.submitCancel("s1", "y", origClOrdId=finished[-2])
        self.assertEqual(self.recorder.of("cancel_rejected")[-1].reason, RejectReason.TOO_LATE)
        again = self.submit(limit("s1", finished[0], "buy", 1, "10"))
        self.assertEqual(again.status, OrdStatus.NEW)
        # Live ids, the oldest included, are duplicates and can be cancelled.
        self.assertEqual(self.rejected(limit("s1", "live0", "buy", 1, "10")), RejectReason.DUPLICATE_ORDER)
        for order in live:
            self.engine.submitCancel("s1", "z" + order.clOrdId, origClOrdId=order.clOrdId)
            self.assertEqual(order.status, OrdStatus.CANCELLED)

    def test_liveIdsCopiedAcrossChunks(self):
        """
        The copy of live orders' ids to a new generation reads the order id
        index a slice at a time, retired chunks (the overflow dict)
        included, even when chunks retire while it runs.
        """
        from exsim.engine import orderindex

        self.patch(orderindex, "ID_GENERATION", 64)
        engine = self.engine
        live = {}
        n = 0
        for i in range(3 * orderindex.CHUNK + 100):
            order = engine.submitNew(limit("s1", "o%d" % i, "buy", 1, "10"))
            # Another owner's orders, in the same chunks.
            other = engine.submitNew(limit("s2", "p%d" % i, "buy", 1, "10"))
            if i % 5:
                engine.submitCancel("s2", "z%d" % i, origClOrdId=other.clOrdId)
            if i % 97 == 0:
                live[order.clOrdId] = order
            else:
                engine.submitCancel("s1", "x%d" % i, origClOrdId=order.clOrdId)
            n += 1
        # Chunks emptied and retired on the way: their survivors are in the
        # overflow dict.
        self.assertTrue(engine._overflow)
        record = engine._owners["s1"]
        for clOrdId, order in live.items():
            self.assertIs(engine.findOrder("s1", clOrdId), order)
        # Rotations dropped the earliest finished ids.
        self.assertFalse(engine._wasUsed("s1", "o1"))
        # At most two generations, each at most a generation or twice the
        # engine's live orders.
        self.assertLessEqual(
            len(record.ids) + len(record.old), 2 * (64 + 2 * engine.liveCount())
        )
        for clOrdId, order in live.items():
            engine.submitCancel("s1", "y" + clOrdId, origClOrdId=clOrdId)
            self.assertEqual(order.status, OrdStatus.CANCELLED)

    def test_manyLiveOrdersKeepOneGeneration(self):
        """
        While most remembered ids belong to live orders, a new generation
        would free little: the generation grows instead of carrying them
        all over.
        """
        from exsim.engine import orderindex

        self.patch(orderindex, "ID_GENERATION", 4)
        orders = [self.submit(limit("s1", "r%d" % i, "buy", 1, "10")) for i in range(20)]
        record = self.engine._owners["s1"]
        self.assertEqual(len(record.ids), 20)
        self.assertEqual(record.old, {})
        for order in orders:
            self.assertIs(self.engine.findOrder("s1", order.clOrdId), order)


class FastEventTests(TestCase):
    """
    The engine's fast paths build the same events as the constructors.
    """

    def assertSameEvents(self, actual, expected):
        self.assertEqual([type(e) for e in actual], [type(e) for e in expected])
        for a, e in zip(actual, expected):
            for name in type(e).__slots__:
                self.assertEqual((name, getattr(a, name)), (name, getattr(e, name)))

    def order(self, side="buy"):
        order = limit("s1", "a", side, 7, "10")
        order.orderId = 12
        order.cumQty = 3
        order.leavesQty = 4
        order.notional = 3 * P("10")
        order.status = OrdStatus.PARTIALLY_FILLED
        return order

    def test_rested(self):
        """
        A new order that rests untouched (the engine builds its events
        inline).
        """
        from exsim.engine.events import Added, BookChanged

        engine, book, recorder = engineWithBook()
        # An order before, so that the owner and the level are known.
        engine.submitNew(limit("s1", "o", "buy", 9, "10"))
        recorder.take()
        order = engine.submitNew(limit("s1", "a", "buy", 7, "10"))
        events = recorder.take()
        self.assertSameEvents(
            events,
            [
                Accepted(order, events[0].execId),
                Added(order),
                BookChanged("AAPL", True, order.price, 16, 2),
            ],
        )

    def test_cancelledById(self):
        """
        A cancel of a resting order by its order id (the engine builds its
        events inline), with another order left at the level and none.
        """
        from exsim.engine.events import BookChanged

        engine, book, recorder = engineWithBook()
        first = engine.submitNew(limit("s1", "a", "sell", 7, "10"))
        second = engine.submitNew(limit("s1", "b", "sell", 2, "10"))
        engine.submitNew(limit("s2", "c", "buy", 3, "10"))
        recorder.take()
        engine.submitCancel("s1", "x", orderId=second.orderId)
        events = recorder.take()
        self.assertSameEvents(
            events,
            [
                BookChanged("AAPL", False, first.price, 4, 1),
                Cancelled(second, events[1].execId, CancelReason.USER, 2, True, "x"),
            ],
        )
        engine.submitCancel("s1", "y", orderId=first.orderId)
        events = recorder.take()
        self.assertSameEvents(
            events,
            [
                BookChanged("AAPL", False, first.price, 0, 0),
                Cancelled(first, events[1].execId, CancelReason.USER, 4, True, "y"),
            ],
        )

    def test_cancelled(self):
        from exsim.engine.book import Level
        from exsim.engine.events import BookChanged, appendCancelled

        order = self.order("sell")
        level = Level(order.price)
        events = []
        appendCancelled(events, order, 6, CancelReason.USER, 4, "x", "AAPL", False, level)
        self.assertSameEvents(
            events,
            [
                BookChanged("AAPL", False, order.price, 0, 0),
                Cancelled(order, 6, CancelReason.USER, 4, True, "x"),
            ],
        )
        events = []
        appendCancelled(events, order, 7, CancelReason.IMMEDIATE_OR_CANCEL, 4, None, None, None, None)
        self.assertSameEvents(events, [Cancelled(order, 7, CancelReason.IMMEDIATE_OR_CANCEL, 4, False)])

    def test_fill(self):
        from exsim.engine.events import appendFill
        from exsim.model import Side

        for aggressorIsBuy in (True, False):
            resting = self.order("sell" if aggressorIsBuy else "buy")
            aggressor = self.order("buy" if aggressorIsBuy else "sell")
            aggressor.orderId = 13
            aggressor.clOrdId = "b"
            events = []
            appendFill(events, "AAPL", 9, P("10"), 2, resting, 20, aggressor, 21, aggressorIsBuy)
            buy, sell = (aggressor, resting) if aggressorIsBuy else (resting, aggressor)
            self.assertSameEvents(
                events,
                [
                    Filled(resting, 20, 9, P("10"), 2, False, 13, True),
                    Filled(aggressor, 21, 9, P("10"), 2, True, 12, False),
                    Trade(
                        "AAPL", 9, P("10"), 2, buy.orderId, sell.orderId,
                        Side.BUY if aggressorIsBuy else Side.SELL,
                    ),
                ],
            )

    def test_auctionFill(self):
        from exsim.engine.events import appendAuctionFill

        buy = self.order("buy")
        sell = self.order("sell")
        sell.orderId = 13
        sell.clOrdId = "b"
        for buyResting, sellResting in ((True, False), (False, True)):
            events = []
            appendAuctionFill(events, "AAPL", 9, P("10"), 2, buy, 20, sell, 21, buyResting, sellResting)
            self.assertSameEvents(
                events,
                [
                    Filled(buy, 20, 9, P("10"), 2, None, 13, buyResting),
                    Filled(sell, 21, 9, P("10"), 2, None, 12, sellResting),
                    Trade("AAPL", 9, P("10"), 2, 12, 13, None),
                ],
            )
