"""
The rules of the advanced order types and protections (issue 13), one by
one, for any engine class: L{OrderTypeRules} is part of
L{tests.test_matching.EngineRules}, which runs against the fast engine and
the reference engine.
"""

from exsim.errors import BadValue
from exsim.model import (
    AdvancedTerms,
    CancelReason,
    Order,
    OrdStatus,
    OrdType,
    RejectReason,
    Side,
    TimeInForce,
)
from tests.helpers import P, limit


def advanced(owner, clOrdId, side, quantity, price, tif=TimeInForce.DAY, **terms):
    """
    A limit order with advanced terms.
    """
    return limit(owner, clOrdId, side, quantity, price, tif, extra=AdvancedTerms(**terms))


def iceberg(owner, clOrdId, side, quantity, price, display, **kw):
    return advanced(owner, clOrdId, side, quantity, price, displayQty=display, **kw)


def hidden(owner, clOrdId, side, quantity, price, **kw):
    return advanced(owner, clOrdId, side, quantity, price, displayQty=0, **kw)


def stop(owner, clOrdId, side, quantity, stopPx, price=None, tif=TimeInForce.DAY):
    """
    A stop order (a stop-limit order with C{price}).
    """
    return Order(
        owner, clOrdId, "AAPL", Side.BUY if side == "buy" else Side.SELL, quantity,
        None if price is None else P(price),
        OrdType.STOP if price is None else OrdType.STOP_LIMIT, tif,
        extra=AdvancedTerms(stopPx=P(stopPx)),
    )


def peg(owner, clOrdId, side, quantity, cap=None, tif=TimeInForce.DAY, **terms):
    """
    A midpoint peg (with a limit price C{cap}).
    """
    return Order(
        owner, clOrdId, "AAPL", Side.BUY if side == "buy" else Side.SELL, quantity,
        None if cap is None else P(cap), OrdType.PEGGED, tif, extra=AdvancedTerms(**terms),
    )


class OrderTypeRules:
    """
    Rules of stop, iceberg, hidden, post-only, minimum quantity and
    midpoint peg orders, and of self-trade prevention.
    """

    def bookProperty(self, name, value):
        self.engine.setBookProperty("AAPL", name, value)

    def fills(self, aggressor=False):
        """
        (order, price, quantity) of the fills of resting (or aggressor)
        orders so far.
        """
        return [
            (f.order, f.price, f.quantity)
            for f in self.recorder.of("filled")
            if f.aggressor == aggressor
        ]

    def cancelled(self):
        return [(e.order, e.reason, e.cancelledQty) for e in self.recorder.of("cancelled")]

    def assertBadInput(self, order, reason, text):
        """
        C{order} is rejected with C{reason} and a text containing
        C{text}; the book is as it was.
        """
        before = (self.book.depth(True), self.book.depth(False), self.book.hiddenDepth(True),
                  self.book.hiddenDepth(False), [o.orderId for o in self.book.orders()])
        self.submit(order)
        rejected = self.recorder.of("rejected")[-1]
        self.assertIs(rejected.order, order)
        self.assertEqual(rejected.reason, reason)
        self.assertIn(text, rejected.text)
        self.assertEqual(order.status, OrdStatus.REJECTED)
        after = (self.book.depth(True), self.book.depth(False), self.book.hiddenDepth(True),
                 self.book.hiddenDepth(False), [o.orderId for o in self.book.orders()])
        self.assertEqual(before, after)

    # -- self-trade prevention -------------------------------------------------

    def test_stpNoneTradesWithItself(self):
        """
        By default (C{none}) an owner's orders trade with each other.
        """
        self.submit(limit("s1", "a", "sell", 10, "10.00"))
        self.submit(limit("s1", "b", "buy", 10, "10.00"))
        self.assertEqual(len(self.recorder.of("trade")), 1)

    def test_stpCancelNewest(self):
        """
        C{cancel_newest}: the incoming order's remainder is cancelled once
        it meets an order of its own party; what it traded before stands.
        """
        self.bookProperty("self_trade_prevention", "cancel_newest")
        other = self.submit(limit("s2", "o", "sell", 3, "10.00"))
        own = self.submit(limit("s1", "a", "sell", 10, "10.00"))
        self.recorder.take()
        incoming = self.submit(limit("s1", "b", "buy", 8, "10.00"))
        self.assertEqual(self.fills(), [(other, P("10.00"), 3)])
        self.assertEqual(self.cancelled(), [(incoming, CancelReason.SELF_TRADE, 5)])
        self.assertEqual(own.leavesQty, 10)
        self.assertEqual(self.book.depth(False), [(P("10.00"), 10, 1)])
        self.assertEqual(
            self.recorder.types(),
            ["accepted", "filled", "filled", "trade", "book_changed", "cancelled"],
        )

    def test_stpCancelOldest(self):
        """
        C{cancel_oldest}: the resting order is cancelled and matching goes
        on; the level's book change comes when matching leaves it.
        """
        self.bookProperty("self_trade_prevention", "cancel_oldest")
        own = self.submit(limit("s1", "a", "sell", 10, "10.00"))
        other = self.submit(limit("s2", "o", "sell", 3, "10.00"))
        self.recorder.take()
        incoming = self.submit(limit("s1", "b", "buy", 8, "10.00"))
        self.assertEqual(self.cancelled(), [(own, CancelReason.SELF_TRADE, 10)])
        self.assertTrue(self.recorder.of("cancelled")[0].resting)
        self.assertEqual(self.fills(), [(other, P("10.00"), 3)])
        self.assertEqual(incoming.leavesQty, 5)
        self.assertEqual(self.book.depth(True), [(P("10.00"), 5, 1)])
        self.assertEqual(self.book.depth(False), [])
        self.assertEqual(
            self.recorder.types(),
            ["accepted", "cancelled", "filled", "filled", "trade", "book_changed", "added",
             "book_changed"],
        )

    def test_stpCancelBoth(self):
        self.bookProperty("self_trade_prevention", "cancel_both")
        own = self.submit(limit("s1", "a", "sell", 10, "10.00"))
        self.recorder.take()
        incoming = self.submit(limit("s1", "b", "buy", 8, "10.00"))
        self.assertEqual(
            self.cancelled(),
            [(own, CancelReason.SELF_TRADE, 10), (incoming, CancelReason.SELF_TRADE, 8)],
        )
        self.assertEqual(
            self.recorder.types(), ["accepted", "cancelled", "book_changed", "cancelled"]
        )
        self.assertEqual(self.recorder.of("trade"), [])
        self.assertEqual(self.book.orders(), [])

    def test_stpDecrementSmallerIncoming(self):
        """
        C{decrement}: both orders are reduced by the smaller quantity, no
        trade prints; the one with nothing left is cancelled.
        """
        self.bookProperty("self_trade_prevention", "decrement")
        own = self.submit(limit("s1", "a", "sell", 10, "10.00"))
        self.recorder.take()
        incoming = self.submit(limit("s1", "b", "buy", 4, "10.00"))
        restated = self.recorder.of("restated")
        self.assertEqual([(e.order, e.reducedQty, e.quantity, e.leavesQty) for e in restated],
                         [(own, 4, 6, 6)])
        self.assertEqual(self.cancelled(), [(incoming, CancelReason.SELF_TRADE, 4)])
        self.assertEqual(self.recorder.of("trade"), [])
        self.assertEqual(self.book.depth(False), [(P("10.00"), 6, 1)])
        self.assertEqual((own.quantity, own.leavesQty, own.cumQty), (6, 6, 0))

    def test_stpDecrementSmallerResting(self):
        """
        C{decrement}: the resting order, smaller, is cancelled; the
        incoming one, reduced, goes on and rests.
        """
        self.bookProperty("self_trade_prevention", "decrement")
        own = self.submit(limit("s1", "a", "sell", 4, "10.00"))
        self.recorder.take()
        incoming = self.submit(limit("s1", "b", "buy", 10, "10.00"))
        self.assertEqual(self.cancelled(), [(own, CancelReason.SELF_TRADE, 4)])
        self.assertEqual(
            [(e.order, e.reducedQty) for e in self.recorder.of("restated")], [(incoming, 4)]
        )
        self.assertEqual((incoming.quantity, incoming.leavesQty), (6, 6))
        self.assertEqual(self.book.depth(True), [(P("10.00"), 6, 1)])

    def test_stpGroup(self):
        """
        Owners in one C{stp_group} are one party; others are not.
        """
        self.bookProperty("self_trade_prevention", "cancel_newest")
        self.engine.setStpGroup("s1", "g")
        self.engine.setStpGroup("s2", "g")
        self.submit(limit("s1", "a", "sell", 10, "10.00"))
        incoming = self.submit(limit("s2", "b", "buy", 5, "10.00"))
        self.assertEqual(self.cancelled(), [(incoming, CancelReason.SELF_TRADE, 5)])
        self.submit(limit("s3", "c", "buy", 5, "10.00"))
        self.assertEqual(len(self.recorder.of("trade")), 1)
        self.engine.setStpGroup("s2", None)
        self.submit(limit("s2", "d", "buy", 5, "10.00"))
        self.assertEqual(len(self.recorder.of("trade")), 2)

    def test_stpIdNarrows(self):
        """
        Self-trade prevention ids (FIX SelfMatchPreventionID) narrow the
        party to orders with the same id.
        """
        self.bookProperty("self_trade_prevention", "cancel_newest")
        self.submit(advanced("s1", "a", "sell", 10, "10.00", stpId="desk1"))
        self.submit(advanced("s1", "b", "buy", 2, "10.00", stpId="desk2"))
        self.submit(limit("s1", "c", "buy", 2, "10.00"))
        self.assertEqual(len(self.recorder.of("trade")), 2)
        incoming = self.submit(advanced("s1", "d", "buy", 2, "10.00", stpId="desk1"))
        self.assertEqual(self.cancelled(), [(incoming, CancelReason.SELF_TRADE, 2)])

    def test_stpWithHiddenResting(self):
        """
        Self-trade prevention applies to a hidden resting order: nothing of
        it was displayed, nothing of the book changes.
        """
        self.bookProperty("self_trade_prevention", "cancel_oldest")
        own = self.submit(hidden("s1", "h", "sell", 10, "10.00"))
        self.submit(limit("s2", "o", "sell", 5, "10.01"))
        self.recorder.take()
        incoming = self.submit(limit("s1", "b", "buy", 8, "10.01"))
        self.assertEqual(self.cancelled(), [(own, CancelReason.SELF_TRADE, 10)])
        self.assertEqual(incoming.cumQty, 5)
        self.assertEqual(self.book.hiddenDepth(False), [])

    def test_stpBadMode(self):
        self.assertRaises(BadValue, self.bookProperty, "self_trade_prevention", "cancel_all")
        self.assertEqual(self.book.properties.get("self_trade_prevention"), None)

    def test_stpNotForHouseFills(self):
        """
        Fills the test asks for (match_orders) are not prevented.
        """
        self.bookProperty("self_trade_prevention", "cancel_both")
        a = self.submit(limit("s1", "a", "sell", 10, "10.00"))
        b = self.submit(limit("s1", "b", "buy", 10, "9.99"))
        self.engine.matchOrders(a.orderId, b.orderId)
        self.assertEqual(a.status, OrdStatus.FILLED)

    # -- post-only -----------------------------------------------------------

    def test_postOnlyRests(self):
        self.submit(limit("s1", "a", "sell", 10, "10.02"))
        order = self.submit(advanced("s2", "b", "buy", 10, "10.01", postOnly=True))
        self.assertEqual(order.status, OrdStatus.NEW)
        self.assertTrue(order.resting)

    def test_postOnlyRejected(self):
        """
        A post-only order that would take liquidity is rejected
        (C{post_only_action = reject}, the default); the book is untouched.
        """
        self.submit(limit("s1", "a", "sell", 10, "10.02"))
        self.recorder.take()
        self.assertBadInput(
            advanced("s2", "b", "buy", 10, "10.02", postOnly=True),
            RejectReason.POST_ONLY, "would take liquidity",
        )
        self.assertEqual(self.recorder.types(), ["rejected"])

    def test_postOnlyRejectedByHidden(self):
        """
        Taking liquidity includes hidden liquidity.
        """
        self.submit(hidden("s1", "a", "sell", 10, "10.01"))
        order = self.submit(advanced("s2", "b", "buy", 10, "10.01", postOnly=True))
        self.assertEqual(order.status, OrdStatus.REJECTED)

    def test_postOnlySlides(self):
        """
        C{post_only_action = slide}: the order is repriced one tick away
        from the best contra price, and accepted at that price.
        """
        self.bookProperty("post_only_action", "slide")
        self.submit(limit("s1", "a", "sell", 10, "10.02"))
        self.submit(limit("s1", "c", "buy", 10, "9.90"))
        self.recorder.take()
        order = self.submit(advanced("s2", "b", "buy", 10, "10.05", postOnly=True))
        self.assertEqual(order.price, P("10.01"))
        self.assertEqual(self.recorder.of("accepted")[0].price, P("10.01"))
        self.assertEqual(self.book.bestBid(), P("10.01"))
        self.assertEqual(self.recorder.of("trade"), [])
        sell = self.submit(advanced("s2", "d", "sell", 10, "9.00", postOnly=True))
        self.assertEqual(sell.price, P("10.02"))

    def test_postOnlyBadInput(self):
        self.assertBadInput(
            Order("s1", "m", "AAPL", Side.BUY, 10, None, OrdType.MARKET, TimeInForce.IOC,
                  extra=AdvancedTerms(postOnly=True)),
            RejectReason.UNSUPPORTED_ORDER_TYPE, "market order cannot be post-only",
        )
        self.assertBadInput(
            advanced("s1", "i", "buy", 10, "10.00", tif=TimeInForce.IOC, postOnly=True),
            RejectReason.UNSUPPORTED_TIME_IN_FORCE, "must be able to rest",
        )

    def test_postOnlyBadAction(self):
        self.assertRaises(BadValue, self.bookProperty, "post_only_action", "bounce")

    # -- minimum quantity ----------------------------------------------------

    def test_minQtyIocEnough(self):
        self.submit(limit("s1", "a", "sell", 30, "10.00"))
        self.submit(limit("s1", "b", "sell", 30, "10.01"))
        order = self.submit(advanced("s2", "c", "buy", 100, "10.01", tif=TimeInForce.IOC, minQty=50))
        self.assertEqual(order.cumQty, 60)

    def test_minQtyIocNotEnough(self):
        """
        An IOC order whose minimum cannot fill at once is cancelled
        untouched.
        """
        self.submit(limit("s1", "a", "sell", 30, "10.00"))
        self.recorder.take()
        order = self.submit(advanced("s2", "c", "buy", 100, "10.01", tif=TimeInForce.IOC, minQty=50))
        self.assertEqual(order.cumQty, 0)
        self.assertEqual(self.cancelled(), [(order, CancelReason.MIN_QUANTITY, 100)])
        self.assertEqual(self.book.depth(False), [(P("10.00"), 30, 1)])

    def test_minQtyRestsUntouched(self):
        """
        A DAY order whose minimum cannot fill at once rests, untouched.
        """
        self.submit(limit("s1", "a", "sell", 30, "10.00"))
        order = self.submit(advanced("s2", "c", "buy", 100, "9.99", minQty=50))
        self.assertTrue(order.resting)
        self.assertEqual(order.cumQty, 0)

    def test_minQtyResting(self):
        """
        A resting order with a minimum trades only with incoming orders that
        can fill that much of it; smaller ones pass it by.
        """
        big = self.submit(advanced("s1", "a", "sell", 100, "10.00", minQty=50))
        small = self.submit(limit("s1", "b", "sell", 100, "10.01"))
        self.recorder.take()
        self.submit(limit("s2", "c", "buy", 20, "10.01"))
        self.assertEqual(self.fills(), [(small, P("10.01"), 20)])
        self.recorder.take()
        self.submit(limit("s2", "d", "buy", 60, "10.01"))
        self.assertEqual(self.fills(), [(big, P("10.00"), 60)])

    def test_minQtyMarket(self):
        self.submit(limit("s1", "a", "sell", 10, "10.00"))
        order = self.submit(
            Order("s2", "m", "AAPL", Side.BUY, 20, None, OrdType.MARKET, TimeInForce.IOC,
                  extra=AdvancedTerms(minQty=15))
        )
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertEqual(order.cumQty, 0)

    def test_minQtyBadInput(self):
        self.assertBadInput(
            advanced("s1", "a", "buy", 10, "10.00", minQty=11),
            RejectReason.BAD_QUANTITY, "minimum quantity exceeds the order quantity",
        )
        self.assertBadInput(
            advanced("s1", "b", "buy", 10, "10.00", minQty=0),
            RejectReason.BAD_QUANTITY, "minimum quantity must be positive",
        )

    # -- iceberg and hidden --------------------------------------------------

    def test_icebergShowsSlice(self):
        order = self.submit(iceberg("s1", "a", "sell", 100, "10.00", 10))
        self.assertEqual(self.book.depth(False), [(P("10.00"), 10, 1)])
        self.assertEqual(self.book.hiddenDepth(False), [(P("10.00"), 90, 1)])
        self.assertEqual(self.recorder.of("book_changed")[-1].quantity, 10)
        self.assertEqual(order.leavesQty, 100)

    def test_icebergRefreshLosesPriority(self):
        """
        When an iceberg's slice fills, a new one shows at the back of the
        level (an Added event).
        """
        ice = self.submit(iceberg("s1", "a", "sell", 100, "10.00", 10))
        plain = self.submit(limit("s1", "b", "sell", 10, "10.00"))
        self.recorder.take()
        self.submit(limit("s2", "c", "buy", 10, "10.00"))
        self.assertEqual(self.fills(), [(ice, P("10.00"), 10)])
        # The level shows as much as before, by as many orders: no book
        # change.
        self.assertEqual(
            self.recorder.types(), ["accepted", "filled", "filled", "trade", "added"]
        )
        self.assertEqual(self.book.depth(False), [(P("10.00"), 20, 2)])
        self.assertEqual(self.book.orders(False), [plain, ice])
        self.recorder.take()
        self.submit(limit("s2", "d", "buy", 10, "10.00"))
        self.assertEqual(self.fills(), [(plain, P("10.00"), 10)])

    def test_icebergReserveAfterDisplayed(self):
        """
        The hidden reserve trades after every displayed order at its
        price; then the iceberg shows a new slice.
        """
        ice = self.submit(iceberg("s1", "a", "sell", 100, "10.00", 10))
        plain = self.submit(limit("s1", "b", "sell", 10, "10.00"))
        self.recorder.take()
        self.submit(limit("s2", "c", "buy", 45, "10.00"))
        self.assertEqual(
            self.fills(),
            [(ice, P("10.00"), 10), (plain, P("10.00"), 10), (ice, P("10.00"), 25)],
        )
        self.assertEqual(ice.leavesQty, 65)
        self.assertEqual(self.book.depth(False), [(P("10.00"), 10, 1)])
        self.assertEqual(self.book.hiddenDepth(False), [(P("10.00"), 55, 1)])

    def test_icebergLastSlice(self):
        ice = self.submit(iceberg("s1", "a", "sell", 25, "10.00", 10))
        self.submit(limit("s2", "c", "buy", 20, "10.00"))
        self.assertEqual(self.book.depth(False), [(P("10.00"), 5, 1)])
        self.assertEqual(self.book.hiddenDepth(False), [])
        self.submit(limit("s2", "d", "buy", 5, "10.00"))
        self.assertEqual(ice.status, OrdStatus.FILLED)
        self.assertEqual(self.book.orders(), [])

    def test_icebergBadInput(self):
        self.assertBadInput(
            iceberg("s1", "a", "sell", 10, "10.00", 11),
            RejectReason.BAD_QUANTITY, "display quantity exceeds the order quantity",
        )
        self.assertBadInput(
            advanced("s1", "b", "sell", 10, "10.00", displayQty=5, minQty=5),
            RejectReason.UNSUPPORTED_ORDER_TYPE, "cannot have a minimum quantity",
        )

    def test_hiddenNeverShown(self):
        order = self.submit(hidden("s1", "a", "sell", 10, "10.00"))
        self.assertTrue(order.resting)
        self.assertEqual(self.book.depth(False), [])
        self.assertEqual(self.book.bestAsk(), None)
        self.assertEqual(self.book.hiddenDepth(False), [(P("10.00"), 10, 1)])
        self.assertEqual(self.recorder.of("book_changed"), [])

    def test_hiddenAfterDisplayed(self):
        h = self.submit(hidden("s1", "a", "sell", 10, "10.00"))
        d = self.submit(limit("s1", "b", "sell", 10, "10.00"))
        self.recorder.take()
        self.submit(limit("s2", "c", "buy", 15, "10.00"))
        self.assertEqual(self.fills(), [(d, P("10.00"), 10), (h, P("10.00"), 5)])

    def test_hiddenPriceImprovement(self):
        """
        A better-priced hidden order trades first, at its own price.
        """
        h = self.submit(hidden("s1", "a", "sell", 10, "10.00"))
        self.submit(limit("s1", "b", "sell", 10, "10.01"))
        self.recorder.take()
        self.submit(limit("s2", "c", "buy", 5, "10.01"))
        self.assertEqual(self.fills(), [(h, P("10.00"), 5)])
        self.assertEqual(self.recorder.of("book_changed"), [])

    def test_hiddenCancelNoBookChange(self):
        self.submit(hidden("s1", "a", "sell", 10, "10.00"))
        self.recorder.take()
        self.engine.submitCancel("s1", "x", origClOrdId="a")
        self.assertEqual(self.recorder.types(), ["cancelled"])

    # -- stops -----------------------------------------------------------------

    def test_stopWaitsUnseen(self):
        order = self.submit(stop("s1", "a", "buy", 10, "10.05"))
        self.assertEqual(order.status, OrdStatus.NEW)
        self.assertFalse(order.resting)
        self.assertEqual(self.book.orders(), [])
        self.assertEqual(self.book.waitingStops(), [order])
        self.assertEqual(self.recorder.types(), ["accepted"])

    def test_stopTriggers(self):
        """
        A buy stop triggers when a trade prints at or above its stop price,
        and enters as a market order.
        """
        order = self.submit(stop("s1", "a", "buy", 10, "10.05"))
        self.submit(limit("s2", "b", "sell", 5, "10.05"))
        self.submit(limit("s2", "c", "sell", 20, "10.10"))
        self.recorder.take()
        self.submit(limit("s3", "d", "buy", 5, "10.05"))
        self.assertEqual(
            self.recorder.types(),
            ["accepted", "filled", "filled", "trade", "book_changed",
             "triggered", "filled", "filled", "trade", "book_changed"],
        )
        self.assertEqual(order.cumQty, 10)
        self.assertEqual(self.recorder.of("trade")[-1].price, P("10.10"))
        self.assertEqual(self.book.waitingStops(), [])

    def test_sellStopLimitTriggers(self):
        """
        A sell stop-limit triggers on a trade at or below its stop price
        and rests at its limit with a new time priority.
        """
        order = self.submit(stop("s1", "a", "sell", 10, "9.95", price="9.97"))
        self.submit(limit("s2", "b", "buy", 5, "9.95"))
        self.submit(limit("s3", "c", "sell", 5, "9.95"))
        self.assertEqual(order.status, OrdStatus.NEW)
        self.assertTrue(order.resting)
        self.assertEqual(self.book.depth(False), [(P("9.97"), 10, 1)])
        self.assertEqual(len(self.recorder.of("triggered")), 1)

    def test_stopsInEntryOrder(self):
        first = self.submit(stop("s1", "a", "buy", 1, "10.05", price="10.00"))
        second = self.submit(stop("s1", "b", "buy", 1, "10.01", price="10.00"))
        self.submit(limit("s2", "c", "sell", 5, "10.10"))
        self.submit(limit("s3", "d", "buy", 5, "10.10"))
        self.assertEqual([e.order for e in self.recorder.of("triggered")], [first, second])
        self.assertEqual(self.book.orders(True), [first, second])

    def test_stopWrongSideTriggersAtOnce(self):
        """
        A stop price already reached by the last trade triggers at once,
        as on a real venue.
        """
        self.submit(limit("s1", "a", "sell", 5, "10.00"))
        self.submit(limit("s2", "b", "buy", 5, "10.00"))
        self.submit(limit("s1", "c", "sell", 5, "10.01"))
        self.recorder.take()
        order = self.submit(stop("s3", "d", "buy", 5, "9.00"))
        self.assertEqual(self.recorder.types()[:2], ["accepted", "triggered"])
        self.assertEqual(order.status, OrdStatus.FILLED)

    def test_stopCancelAndReplaceWhileWaiting(self):
        order = self.submit(stop("s1", "a", "buy", 10, "10.05", price="10.06"))
        self.engine.submitReplace("s1", "b", origClOrdId="a", quantity=5, price=P("10.07"), stopPx=P("10.06"))
        self.assertEqual((order.quantity, order.price, order.extra.stopPx), (5, P("10.07"), P("10.06")))
        self.assertEqual(self.book.waitingStops(), [order])
        self.engine.submitCancel("s1", "c", origClOrdId="b")
        self.assertEqual(order.status, OrdStatus.CANCELLED)
        self.assertEqual(self.book.waitingStops(), [])

    def test_stopReplaceThroughLastTriggers(self):
        self.submit(limit("s1", "a", "sell", 5, "10.00"))
        self.submit(limit("s2", "b", "buy", 5, "10.00"))
        order = self.submit(stop("s3", "c", "sell", 5, "9.00", price="9.00"))
        self.assertEqual(self.book.waitingStops(), [order])
        self.engine.submitReplace("s3", "d", origClOrdId="c", stopPx=P("10.00"))
        self.assertEqual(len(self.recorder.of("triggered")), 1)
        self.assertTrue(order.resting)

    def test_stopTriggeredByIcebergTrade(self):
        """
        A stop triggered by a trade with an iceberg's slice trades with the
        slice the iceberg then shows.
        """
        ice = self.submit(iceberg("s1", "a", "sell", 30, "10.00", 10))
        order = self.submit(stop("s2", "b", "buy", 10, "10.00"))
        self.recorder.take()
        self.submit(limit("s3", "c", "buy", 10, "10.00"))
        self.assertEqual(order.status, OrdStatus.FILLED)
        self.assertEqual(ice.leavesQty, 10)
        self.assertEqual(
            self.recorder.types(),
            ["accepted", "filled", "filled", "trade", "added",
             "triggered", "filled", "filled", "trade", "added"],
        )

    def test_stopBadInput(self):
        self.assertBadInput(
            Order("s1", "a", "AAPL", Side.BUY, 10, None, OrdType.STOP, TimeInForce.DAY),
            RejectReason.BAD_PRICE, "needs a stop price",
        )
        bad = stop("s1", "b", "buy", 10, "10.00")
        bad.extra.stopPx = P("10.005")
        self.assertBadInput(bad, RejectReason.BAD_PRICE, "not on the tick grid")
        self.assertBadInput(
            advanced("s1", "c", "buy", 10, "10.00", stopPx=P("10.00")),
            RejectReason.UNSUPPORTED_ORDER_TYPE, "only a stop order",
        )

    def test_stopExpiresGtd(self):
        order = self.submit(
            Order(
                "s1", "a", "AAPL", Side.BUY, 10, None, OrdType.STOP, TimeInForce.GTD,
                self.clock.seconds() + 5, extra=AdvancedTerms(stopPx=P("10.05")),
            )
        )
        self.clock.advance(6)
        self.assertEqual(order.status, OrdStatus.EXPIRED)
        self.assertEqual(self.book.waitingStops(), [])

    # -- midpoint peg ----------------------------------------------------------

    def twoSided(self, bid="10.00", ask="10.02"):
        self.submit(limit("mm", "bid", "buy", 100, bid))
        self.submit(limit("mm", "ask", "sell", 100, ask))

    def test_pegAtMidpoint(self):
        self.twoSided()
        order = self.submit(peg("s1", "a", "buy", 10))
        self.assertEqual(order.price, P("10.01"))
        self.assertTrue(order.resting)
        self.assertEqual(self.book.depth(True), [(P("10.00"), 100, 1)])
        self.assertEqual(self.book.hiddenDepth(True), [(P("10.01"), 10, 1)])

    def test_pegHalfTick(self):
        self.twoSided("10.00", "10.01")
        buy = self.submit(peg("s1", "a", "buy", 10))
        self.assertEqual(buy.price, P("10.005"))

    def test_pegNoTwoSidedMarket(self):
        self.submit(limit("mm", "bid", "buy", 100, "10.00"))
        order = self.submit(peg("s1", "a", "sell", 10))
        self.assertEqual(order.status, OrdStatus.NEW)
        self.assertFalse(order.resting)
        self.assertIsNone(order.price)
        self.submit(limit("mm", "ask", "sell", 100, "10.04"))
        self.assertEqual(order.price, P("10.02"))
        self.assertTrue(order.resting)

    def test_pegIocNoMarket(self):
        order = self.submit(peg("s1", "a", "sell", 10, tif=TimeInForce.IOC))
        self.assertEqual(order.status, OrdStatus.CANCELLED)

    def test_pegRepricedWhenTouchMoves(self):
        self.twoSided()
        order = self.submit(peg("s1", "a", "buy", 10))
        self.submit(limit("mm", "bid2", "buy", 100, "10.01"))
        self.assertEqual(order.price, P("10.015"))
        self.engine.submitCancel("mm", "x", origClOrdId="ask")
        self.assertFalse(order.resting)
        self.assertIsNone(order.price)

    def test_pegCap(self):
        self.twoSided()
        order = self.submit(peg("s1", "a", "buy", 10, cap="10.00"))
        self.assertEqual(order.price, P("10.00"))
        self.assertEqual(order.extra.cap, P("10.00"))

    def test_pegTradesWithIncoming(self):
        """
        An incoming order trades with a peg at the peg's (better) price.
        """
        self.twoSided()
        order = self.submit(peg("s1", "a", "sell", 10))
        self.recorder.take()
        self.submit(limit("s2", "b", "buy", 5, "10.02"))
        self.assertEqual(self.fills(), [(order, P("10.01"), 5)])

    def test_pegsCross(self):
        self.twoSided()
        buy = self.submit(peg("s1", "a", "buy", 10))
        sell = self.submit(peg("s2", "b", "sell", 4))
        self.assertEqual(self.fills(), [(buy, P("10.01"), 4)])
        self.assertEqual(sell.status, OrdStatus.FILLED)

    def test_pegRepricedWhileReplaceHeld(self):
        """
        Managed mode: a peg whose replace is held is still repriced when
        the touch moves; accepting the replace later applies it.
        """
        self.twoSided()
        self.managed()
        order = self.submit(peg("s1", "a", "buy", 10))
        self.engine.acceptOrder(order.orderId)
        self.assertEqual(order.price, P("10.01"))
        self.engine.submitReplace("s1", "b", origClOrdId="a", quantity=8)
        self.assertEqual(order.status, OrdStatus.PENDING_REPLACE)
        self.engine.submitNew(limit("house", "h", "buy", 10, "10.01"), neverHeld=True)
        self.assertEqual(order.price, P("10.015"))
        self.assertEqual(order.status, OrdStatus.PENDING_REPLACE)
        self.engine.acceptReplace(order.orderId)
        self.assertEqual((order.quantity, order.price, order.clOrdId), (8, P("10.015"), "b"))
        self.assertEqual(order.status, OrdStatus.NEW)

    def test_pegBadInput(self):
        self.assertBadInput(
            peg("s1", "a", "buy", 10, displayQty=5), RejectReason.UNSUPPORTED_ORDER_TYPE,
            "never displayed",
        )
        self.assertBadInput(
            peg("s1", "b", "buy", 10, tif=TimeInForce.FOK),
            RejectReason.UNSUPPORTED_TIME_IN_FORCE, "cannot be FOK",
        )

    # -- the book view -----------------------------------------------------------

    def test_cancelAllIncludesWaitingAndParked(self):
        self.submit(stop("s1", "a", "buy", 10, "10.05"))
        self.submit(peg("s1", "b", "buy", 10))
        self.submit(hidden("s1", "c", "buy", 10, "9.00"))
        self.assertEqual(self.engine.cancelAll("s1"), 3)
        self.assertEqual(self.book.waitingStops(), [])
        self.assertEqual(self.book.orders(), [])
