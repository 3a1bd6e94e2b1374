"""
The rules of trading phases, auctions and halts, for any engine class:
L{PhaseRules} is part of L{tests.test_matching.EngineRules}, which runs over
the fast and the reference engine.  Uncross books are computed by hand in
the docstrings.
"""

from exsim.engine.phases import CLOSING, OPENING, REOPENING
from exsim.errors import BadValue, WrongState
from exsim.model import CancelReason, OrdStatus, RejectReason, Side, TimeInForce
from tests.helpers import P, limit, market

OPG = TimeInForce.AT_OPEN
CLS = TimeInForce.AT_CLOSE

#: A trading day in UTC (the tests' clock starts at midnight UTC).
DAY_SCHEDULE = (
    "pre_open 04:00, continuous 09:30, closing_auction 15:55, post_close 16:00, closed 20:00"
)


def hours(h, m=0):
    return h * 3600 + m * 60


class PhaseRules:
    """
    Mixed into L{tests.test_matching.EngineRules} (C{self.engine},
    C{self.book}, C{self.recorder}, C{self.clock}, C{self.submit}).
    """

    def phase(self, name, symbol="AAPL"):
        self.engine.setBookProperty(symbol, "phase", name)
        self.validate()

    def phaseEvents(self):
        return [(e.old, e.new, e.reason) for e in self.recorder.of("phase_changed")]

    def trades(self):
        return [(t.price, t.quantity, t.buyOrderId, t.sellOrderId) for t in self.recorder.of("trade")]

    # -- phases and refusal -------------------------------------------------

    def test_continuousByDefault(self):
        self.assertEqual(self.book.phase, "continuous")
        self.assertEqual(self.engine.properties()["schedule"], "none")
        self.assertEqual(self.engine.properties()["timezone"], "America/New_York")
        self.assertIsNone(self.engine.indicative("AAPL"))

    def test_phaseChangedEvent(self):
        self.phase("pre_open")
        self.assertEqual(self.phaseEvents(), [("continuous", "pre_open", None)])
        self.assertEqual(self.book.properties["phase"], "pre_open")
        event = self.recorder.of("phase_changed")[0]
        self.assertEqual(
            event.asDict(),
            {"type": "phase_changed", "symbol": "AAPL", "book": "AAPL", "old": "continuous",
             "new": "pre_open", "reason": None},
        )
        self.recorder.take()
        self.phase("pre_open")
        self.assertEqual(self.recorder.events, [])

    def test_unknownPhase(self):
        """
        An unknown phase is a BadValue naming the phases; nothing changes.
        """
        e = self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "phase", "lunch")
        self.assertIn("closed, pre_open, continuous, halted, closing_auction, post_close", str(e))
        self.assertEqual(self.book.phase, "continuous")
        self.assertEqual(self.recorder.events, [])

    def test_badFlag(self):
        for name in ("halt_accepts_orders", "reopen_with_auction", "post_close_accepts"):
            e = self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", name, "maybe")
            self.assertIn(name, str(e))

    def test_closedRefuses(self):
        """
        Closed: new orders and replaces are refused naming the phase;
        cancels are allowed.
        """
        resting = self.submit(limit("s1", "a", "buy", 100, "10", TimeInForce.GTC))
        self.phase("closed")
        self.recorder.take()
        self.assertEqual(self.rejectReason(limit("s1", "b", "buy", 100, "10")), RejectReason.EXCHANGE_CLOSED)
        self.assertIn("closed", self.recorder.of("rejected")[0].text)
        self.recorder.take()
        self.engine.submitReplace("s1", "c", origClOrdId="a", quantity=50)
        (reject,) = self.recorder.of("cancel_rejected")
        self.assertEqual(reject.reason, RejectReason.EXCHANGE_CLOSED)
        self.assertIn("closed", reject.text)
        self.engine.submitCancel("s1", "d", origClOrdId="a")
        self.assertEqual(resting.status, OrdStatus.CANCELLED)

    def test_callRefusesImmediateOrders(self):
        self.phase("pre_open")
        for tif in (TimeInForce.IOC, TimeInForce.FOK):
            self.recorder.take()
            order = limit("s1", "i" + tif.name, "buy", 10, "10", tif)
            self.assertEqual(self.rejectReason(order), RejectReason.UNSUPPORTED_TIME_IN_FORCE)
            self.assertEqual(
                self.recorder.of("rejected")[0].text,
                "%s orders are not accepted during pre_open" % (tif.name,),
            )

    # -- calls and the uncross -----------------------------------------------

    def test_callRestsWithoutMatching(self):
        self.phase("pre_open")
        self.recorder.take()
        buy = self.submit(limit("s1", "a", "buy", 100, "10.05"))
        sell = self.submit(limit("s2", "b", "sell", 100, "10.00"))
        self.assertEqual(self.recorder.of("trade"), [])
        self.assertTrue(buy.resting and sell.resting)
        self.assertEqual((self.book.bestBid(), self.book.bestAsk()), (P("10.05"), P("10.00")))
        self.assertEqual(
            self.recorder.types(),
            ["accepted", "added", "book_changed", "accepted", "added", "book_changed"],
        )

    def test_openingUncross(self):
        """
        Bids 10.05x100 (a), 10.03x200 (b), 10.00x300 (c); asks 9.98x150
        (d), 10.02x250 (e), 10.04x100 (f): 300 executes at 10.02 (see
        tests.test_auction).  Buys a then b; sells d then e (150 of its
        250): a-d 100, b-d 50, b-e 150.
        """
        self.phase("pre_open")
        a = self.submit(limit("s1", "a", "buy", 100, "10.05"))
        b = self.submit(limit("s1", "b", "buy", 200, "10.03"))
        c = self.submit(limit("s1", "c", "buy", 300, "10.00"))
        d = self.submit(limit("s2", "d", "sell", 150, "9.98"))
        e = self.submit(limit("s2", "e", "sell", 250, "10.02"))
        f = self.submit(limit("s2", "f", "sell", 100, "10.04"))
        self.recorder.take()
        self.phase("continuous")
        price = P("10.02")
        self.assertEqual(
            self.trades(),
            [(price, 100, a.orderId, d.orderId), (price, 50, b.orderId, d.orderId),
             (price, 150, b.orderId, e.orderId)],
        )
        types = self.recorder.types()
        self.assertEqual(types[0], "auction_uncrossed")
        self.assertEqual(types[1:4], ["filled", "filled", "trade"])
        self.assertEqual(types[-1], "phase_changed")
        uncrossed = self.recorder.of("auction_uncrossed")[0]
        self.assertEqual((uncrossed.auction, uncrossed.price, uncrossed.quantity), (OPENING, price, 300))
        fills = self.recorder.of("filled")
        self.assertEqual({f.aggressor for f in fills}, {None})
        self.assertEqual({t.aggressorSide for t in self.recorder.of("trade")}, {None})
        changed = [(c.isBuy, c.price, c.quantity, c.count) for c in self.recorder.of("book_changed")]
        self.assertEqual(
            changed,
            [(True, P("10.05"), 0, 0), (True, P("10.03"), 0, 0), (False, P("9.98"), 0, 0),
             (False, P("10.02"), 100, 1)],
        )
        self.assertEqual([o.status for o in (a, b, d)], [OrdStatus.FILLED] * 3)
        self.assertEqual((e.cumQty, e.leavesQty, e.status), (150, 100, OrdStatus.PARTIALLY_FILLED))
        self.assertEqual((c.leavesQty, f.leavesQty), (300, 100))
        self.assertEqual((self.book.bestBid(), self.book.bestAsk()), (P("10.00"), P("10.02")))
        self.assertEqual(
            (self.book.lastPrice, self.book.lastQuantity, self.book.volume, self.book.tradeCount),
            (price, 150, 300, 3),
        )
        # Continuous trading now: a crossing order matches at once.
        self.submit(limit("s3", "g", "buy", 10, "10.02"))
        self.assertEqual(self.trades()[-1][:2], (price, 10))

    def test_uncrossAtReference(self):
        """
        The same book with a reference price of 10.03: 300 at 10.03.
        """
        self.engine.setBookProperty("AAPL", "reference_price", "10.03")
        self.phase("pre_open")
        for i, (side, qty, price) in enumerate(
            [("buy", 100, "10.05"), ("buy", 200, "10.03"), ("buy", 300, "10.00"),
             ("sell", 150, "9.98"), ("sell", 250, "10.02"), ("sell", 100, "10.04")]
        ):
            self.submit(limit("s1", "o%d" % i, side, qty, price))
        self.phase("continuous")
        self.assertEqual({t[0] for t in self.trades()}, {P("10.03")})
        self.assertEqual(sum(t[1] for t in self.trades()), 300)

    def test_marketOrdersFirst(self):
        """
        A limit buy 10.05x100 (a), then a market buy 50 (m); a sell
        10.00x100 (s): 100 executes at 10.00 and at 10.05 (150 against
        100 at both): 10.00, the lower.  The market order trades first:
        m-s 50, then a-s 50.
        """
        self.phase("pre_open")
        a = self.submit(limit("s1", "a", "buy", 100, "10.05"))
        m = self.submit(market("s1", "m", "buy", 50))
        s = self.submit(limit("s2", "s", "sell", 100, "10.00"))
        self.assertFalse(m.resting)
        self.assertEqual(m.status, OrdStatus.NEW)
        self.recorder.take()
        self.phase("continuous")
        self.assertEqual(
            self.trades(),
            [(P("10.00"), 50, m.orderId, s.orderId), (P("10.00"), 50, a.orderId, s.orderId)],
        )
        marketFill = self.recorder.of("filled")[0]
        self.assertEqual((marketFill.order, marketFill.resting), (m, False))
        self.assertEqual(m.status, OrdStatus.FILLED)
        self.assertEqual(self.book.depth(True), [(P("10.05"), 50, 1)])

    def test_marketLeftoverCancelled(self):
        """
        A market buy of 100 against an ask of 10.00x40: 40 executes; the
        rest of the market order is cancelled after the uncross.
        """
        self.phase("pre_open")
        m = self.submit(market("s1", "m", "buy", 100))
        self.submit(limit("s2", "s", "sell", 40, "10.00"))
        self.recorder.take()
        self.phase("continuous")
        self.assertEqual(self.trades()[0][:2], (P("10.00"), 40))
        (cancelled,) = self.recorder.of("cancelled")
        self.assertEqual((cancelled.order, cancelled.reason, cancelled.cancelledQty), (m, CancelReason.AUCTION, 60))
        self.assertEqual(
            self.recorder.types()[-2:], ["phase_changed", "cancelled"],
        )

    def test_noCross(self):
        self.phase("pre_open")
        self.submit(limit("s1", "a", "buy", 100, "9.99"))
        self.submit(limit("s2", "b", "sell", 100, "10.01"))
        self.recorder.take()
        self.phase("continuous")
        self.assertEqual(self.recorder.types(), ["auction_uncrossed", "phase_changed"])
        uncrossed = self.recorder.of("auction_uncrossed")[0]
        self.assertEqual((uncrossed.price, uncrossed.quantity), (None, 0))

    def test_emptySide(self):
        self.phase("pre_open")
        self.submit(limit("s1", "a", "buy", 100, "10"))
        self.submit(market("s1", "b", "buy", 10))
        self.recorder.take()
        self.phase("continuous")
        self.assertEqual(self.trades(), [])
        self.assertEqual(
            self.recorder.types(), ["auction_uncrossed", "phase_changed", "cancelled"]
        )
        self.assertEqual(self.book.depth(True), [(P("10"), 100, 1)])

    def test_replaceInCallDoesNotMatch(self):
        self.phase("pre_open")
        buy = self.submit(limit("s1", "a", "buy", 100, "9.99"))
        self.submit(limit("s2", "b", "sell", 100, "10.01"))
        self.recorder.take()
        self.engine.submitReplace("s1", "a2", origClOrdId="a", price=P("10.02"))
        self.validate()
        self.assertEqual(self.recorder.types(), ["book_changed", "replaced", "added", "book_changed"])
        self.assertTrue(buy.resting)
        self.assertEqual(self.book.bestBid(), P("10.02"))

    def test_cancelInCall(self):
        self.phase("pre_open")
        m = self.submit(market("s1", "m", "buy", 100))
        self.submit(limit("s2", "s", "sell", 100, "10"))
        self.engine.submitCancel("s1", "x", origClOrdId="m")
        self.validate()
        self.assertEqual(m.status, OrdStatus.CANCELLED)
        self.recorder.take()
        self.phase("continuous")
        self.assertEqual(self.trades(), [])

    def test_closingAuctionThenPostClose(self):
        self.phase("closing_auction")
        self.submit(limit("s1", "a", "buy", 100, "10.01"))
        self.submit(limit("s2", "b", "sell", 60, "10.00"))
        self.recorder.take()
        self.phase("post_close")
        uncrossed = self.recorder.of("auction_uncrossed")[0]
        self.assertEqual((uncrossed.auction, uncrossed.price, uncrossed.quantity), (CLOSING, P("10.00"), 60))
        self.assertEqual(self.book.depth(True), [(P("10.01"), 40, 1)])

    def test_preOpenToHaltKeepsTheCall(self):
        """
        A halt during the opening call does not uncross; the resume does,
        as the opening auction.
        """
        self.phase("pre_open")
        self.submit(limit("s1", "a", "buy", 100, "10.01"))
        self.submit(limit("s2", "b", "sell", 100, "10.00"))
        self.engine.haltBook("AAPL", "news")
        self.validate()
        self.assertEqual(self.trades(), [])
        self.engine.resumeBook("AAPL")
        self.validate()
        self.assertEqual(self.book.phase, "pre_open")
        self.assertEqual(self.trades(), [])
        self.phase("continuous")
        self.assertEqual(self.recorder.of("auction_uncrossed")[0].auction, OPENING)
        self.assertEqual(len(self.trades()), 1)

    # -- At the Opening, At the Close ----------------------------------------

    def test_atTheOpening(self):
        """
        OPG orders: refused outside pre_open; in it they rest and take
        part in the opening uncross; what is left is cancelled.
        """
        self.recorder.take()
        refused = limit("s1", "x", "buy", 10, "10", OPG)
        self.assertEqual(self.rejectReason(refused), RejectReason.UNSUPPORTED_TIME_IN_FORCE)
        self.assertEqual(
            self.recorder.of("rejected")[0].text,
            "At the Opening orders are accepted only during pre_open, not continuous",
        )
        self.phase("pre_open")
        opg = self.submit(limit("s1", "a", "buy", 100, "10.01", OPG))
        moo = self.submit(market("s1", "b", "sell", 30, OPG))
        self.submit(limit("s2", "c", "sell", 50, "10.00"))
        day = self.submit(limit("s2", "d", "buy", 10, "9.00"))
        self.assertTrue(opg.resting)
        self.recorder.take()
        self.phase("continuous")
        self.assertEqual(sum(t[1] for t in self.trades()), 80)
        self.assertEqual(moo.status, OrdStatus.FILLED)
        self.assertEqual(opg.status, OrdStatus.CANCELLED)
        self.assertEqual(opg.cumQty, 80)
        (cancelled,) = self.recorder.of("cancelled")
        self.assertEqual((cancelled.order, cancelled.reason), (opg, CancelReason.AUCTION))
        self.assertTrue(day.resting)

    def test_atTheClose(self):
        """
        CLS orders entered in the continuous phase wait off the book
        (they do not match); they join the closing call and what is left
        after it is cancelled.
        """
        self.submit(limit("s2", "s", "sell", 100, "10.00", TimeInForce.GTC))
        cls = self.submit(limit("s1", "a", "buy", 150, "10.00", CLS))
        self.assertEqual(cls.status, OrdStatus.NEW)
        self.assertFalse(cls.resting)
        self.assertEqual(self.trades(), [])
        self.recorder.take()
        self.phase("closing_auction")
        self.assertTrue(cls.resting)
        self.assertEqual(self.recorder.types()[:4], ["phase_changed", "added", "book_changed", "auction_indicative"])
        self.recorder.take()
        self.phase("post_close")
        self.assertEqual(self.trades()[0][:2], (P("10.00"), 100))
        self.assertEqual(cls.status, OrdStatus.CANCELLED)
        self.assertEqual(self.recorder.of("cancelled")[0].reason, CancelReason.AUCTION)

    def test_atTheCloseRefusedAfterTheClose(self):
        self.phase("post_close")
        self.engine.setBookProperty("AAPL", "post_close_accepts", "yes")
        self.recorder.take()
        self.assertEqual(
            self.rejectReason(limit("s1", "a", "buy", 10, "10", CLS)), RejectReason.EXCHANGE_CLOSED
        )

    # -- halts ---------------------------------------------------------------

    def test_haltAndResume(self):
        resting = self.submit(limit("s1", "a", "buy", 100, "10"))
        self.recorder.take()
        self.engine.haltBook("AAPL", "news pending")
        self.validate()
        self.assertEqual(self.phaseEvents(), [("continuous", "halted", "news pending")])
        self.recorder.take()
        self.assertEqual(self.rejectReason(limit("s1", "b", "buy", 100, "10")), RejectReason.HALTED)
        self.assertEqual(self.recorder.of("rejected")[0].text, "book AAPL is halted: orders are refused")
        self.recorder.take()
        self.engine.submitReplace("s1", "c", origClOrdId="a", quantity=50)
        self.assertEqual(self.recorder.of("cancel_rejected")[0].reason, RejectReason.HALTED)
        self.assertRaises(WrongState, self.engine.haltBook, "AAPL")
        self.recorder.take()
        self.engine.resumeBook("AAPL")
        self.validate()
        # The halt was a call: the resume uncrosses (nothing to trade).
        self.assertEqual(self.recorder.types(), ["auction_uncrossed", "phase_changed"])
        self.assertEqual(self.recorder.of("auction_uncrossed")[0].auction, REOPENING)
        self.assertEqual(self.book.phase, "continuous")
        e = self.assertRaises(WrongState, self.engine.resumeBook, "AAPL")
        self.assertEqual(str(e), "book 'AAPL' is not halted (its phase is continuous) and its opening is not delayed")
        self.engine.submitCancel("s1", "d", origClOrdId="a")
        self.assertEqual(resting.status, OrdStatus.CANCELLED)

    def test_haltAcceptsOrders(self):
        """
        With halt_accepts_orders, orders rest unmatched during the halt;
        the resume uncrosses them (reopen_with_auction, the default).
        """
        self.engine.setBookProperty("AAPL", "halt_accepts_orders", "yes")
        self.engine.haltBook("AAPL")
        self.submit(limit("s1", "a", "buy", 100, "10.01"))
        self.submit(limit("s2", "b", "sell", 100, "10.00"))
        self.assertEqual(self.trades(), [])
        self.engine.submitReplace("s1", "a2", origClOrdId="a", quantity=80)
        self.assertEqual(self.recorder.of("cancel_rejected"), [])
        self.recorder.take()
        self.engine.resumeBook("AAPL")
        self.validate()
        self.assertEqual(self.trades()[0][:2], (P("10.00"), 80))
        self.assertEqual(self.recorder.of("auction_uncrossed")[0].auction, REOPENING)

    def test_haltWithoutReopeningAuction(self):
        """
        reopen_with_auction = no: orders accepted during the halt wait off
        the book and are matched in arrival order at the resume.
        """
        self.engine.setBookProperty("AAPL", "halt_accepts_orders", "yes")
        self.engine.setBookProperty("AAPL", "reopen_with_auction", "no")
        sell = self.submit(limit("s2", "s", "sell", 100, "10.00"))
        self.engine.haltBook("AAPL")
        first = self.submit(limit("s1", "a", "buy", 60, "10.01"))
        second = self.submit(market("s1", "b", "buy", 60))
        self.assertFalse(first.resting or second.resting)
        self.assertEqual(first.status, OrdStatus.NEW)
        self.engine.submitReplace("s1", "a2", origClOrdId="a", quantity=50)
        self.assertEqual(self.recorder.of("cancel_rejected")[0].reason, RejectReason.HALTED)
        self.recorder.take()
        self.engine.resumeBook("AAPL")
        self.validate()
        self.assertEqual(self.recorder.of("auction_uncrossed"), [])
        self.assertEqual(
            self.trades(),
            [(P("10.00"), 60, first.orderId, sell.orderId), (P("10.00"), 40, second.orderId, sell.orderId)],
        )
        self.assertEqual(second.status, OrdStatus.CANCELLED)
        self.assertEqual(self.recorder.of("cancelled")[0].reason, CancelReason.NO_LIQUIDITY)

    # -- post close ------------------------------------------------------------

    def test_postCloseRefuses(self):
        self.phase("post_close")
        self.recorder.take()
        self.assertEqual(self.rejectReason(limit("s1", "a", "buy", 10, "10")), RejectReason.EXCHANGE_CLOSED)
        self.assertEqual(self.recorder.of("rejected")[0].text, "book AAPL is in post_close: orders are refused")

    def test_postCloseAcceptsForNextDay(self):
        """
        post_close_accepts: limit orders are accepted for the next day:
        they wait off the book, the end of the day spares them, and they
        join the next day's opening call.
        """
        self.engine.setBookProperty("AAPL", "post_close_accepts", "yes")
        self.phase("post_close")
        self.recorder.take()
        self.assertEqual(self.rejectReason(market("s1", "m", "buy", 10)), RejectReason.EXCHANGE_CLOSED)
        order = self.submit(limit("s1", "a", "buy", 10, "10"))
        self.assertEqual((order.status, order.resting), (OrdStatus.NEW, False))
        self.engine.expireDay()
        self.validate()
        self.assertEqual(order.status, OrdStatus.NEW)
        self.phase("pre_open")
        self.assertTrue(order.resting)
        self.engine.expireDay()
        self.assertEqual(order.status, OrdStatus.EXPIRED)

    # -- managed mode ----------------------------------------------------------

    def test_managedHeldAcrossPhases(self):
        """
        Held orders stay held across phase changes; the uncross matches
        only the orders in the book; one accepted in a call rests even if
        it crosses.
        """
        self.managed()
        held = self.submit(limit("s1", "a", "buy", 100, "10.05"))
        self.phase("pre_open")
        other = self.submit(limit("s2", "b", "sell", 100, "10.00"))
        self.assertEqual(self.engine.pendingRequests(), {held.orderId: "new", other.orderId: "new"})
        self.engine.acceptOrder(other.orderId)
        self.validate()
        self.assertTrue(other.resting)
        self.recorder.take()
        self.phase("continuous")
        self.assertEqual(self.trades(), [])
        self.assertEqual(self.engine.pendingRequests(), {held.orderId: "new"})
        self.phase("pre_open")
        self.engine.acceptOrder(held.orderId)
        self.validate()
        self.assertTrue(held.resting)
        self.assertEqual((self.book.bestBid(), self.book.bestAsk()), (P("10.05"), P("10.00")))
        self.phase("continuous")
        self.assertEqual(self.trades()[0][:2], (P("10.00"), 100))

    # -- indicative --------------------------------------------------------------

    def test_indicative(self):
        """
        During a call the indicative price, paired quantity and imbalance
        are kept (L{indicative}) and sent when the call starts and every
        second of the clock.
        """
        self.phase("pre_open")
        (first,) = self.recorder.of("auction_indicative")
        self.assertEqual((first.auction, first.price, first.paired), (OPENING, None, 0))
        self.submit(limit("s1", "a", "buy", 100, "10.01"))
        self.submit(limit("s2", "b", "sell", 60, "10.00"))
        now = self.engine.indicative("AAPL")
        self.assertEqual(
            (now.price, now.paired, now.imbalance, now.imbalanceSide),
            (P("10.00"), 60, 40, Side.BUY),
        )
        self.recorder.take()
        self.clock.advance(1)
        (tick,) = self.recorder.of("auction_indicative")
        self.assertEqual((tick.price, tick.paired, tick.imbalance), (P("10.00"), 60, 40))
        self.assertEqual(
            tick.asDict(),
            {"type": "auction_indicative", "symbol": "AAPL", "book": "AAPL", "auction": "opening",
             "price": P("10.00"), "paired": 60, "imbalance": 40, "imbalance_side": "buy",
             "reference_price": None, "far_price": None, "current_reference_price": P("10.00"),
             "current_paired": 60, "current_imbalance": 40, "current_imbalance_side": "buy"},
        )
        self.phase("continuous")
        self.recorder.take()
        self.clock.advance(5)
        self.assertEqual(self.recorder.of("auction_indicative"), [])
        self.assertIsNone(self.engine.indicative("AAPL"))

    def test_imbalanceFigures(self):
        """
        The figures of an imbalance message (Nasdaq's NOII), by hand.  At
        the Opening: a market buy of 500 and a sell of 50 at 10.01;
        continuous orders: a bid of 100 at 10.00, asks of 100 at 10.02, 300
        at 10.04 and 200 at 10.06.

        Far price (the At the Opening orders alone): 50 pair at 10.01.
        Near price (every order): buy(p) is 500 plus the bids at or above
        p, sell(p) the asks at or below it: 10.00 600/0, 10.01 500/50,
        10.02 500/150, 10.04 500/450, 10.06 500/650: the most pairs at
        10.06 (500, 150 left to sell).  The inside (the continuous orders'
        best bid and offer) is 10.00 to 10.02: the Current Reference Price
        is 10.02 (150 pair, 350 left to buy), where the NOII counts paired
        and imbalance shares.
        """
        self.phase("pre_open")
        self.submit(market("s1", "mb", "buy", 500, tif=OPG))
        self.submit(limit("s2", "os", "sell", 50, "10.01", tif=OPG))
        self.submit(limit("s3", "b", "buy", 100, "10.00"))
        self.submit(limit("s4", "a1", "sell", 100, "10.02"))
        self.submit(limit("s4", "a2", "sell", 300, "10.04"))
        self.submit(limit("s4", "a3", "sell", 200, "10.06"))
        now = self.engine.indicative("AAPL")
        self.assertEqual(
            (now.farPrice, now.price, now.paired, now.imbalance, now.imbalanceSide),
            (P("10.01"), P("10.06"), 500, 150, Side.SELL),
        )
        self.assertEqual(
            (now.currentReferencePrice, now.currentPaired, now.currentImbalance,
             now.currentImbalanceSide),
            (P("10.02"), 150, 350, Side.BUY),
        )
        # A reopening has no orders of its own: the far price is the near.
        self.phase("continuous")
        self.submit(limit("s5", "b2", "buy", 100, "9.00"))
        self.submit(limit("s6", "a4", "sell", 100, "11.00"))
        self.engine.setBookProperty("AAPL", "halt_accepts_orders", "yes")
        self.engine.haltBook("AAPL")
        self.submit(limit("s5", "b3", "buy", 100, "10.50"))
        now = self.engine.indicative("AAPL")
        # (100 pair from 10.06 to 10.50: the last price, 10.06.)
        self.assertEqual((now.auction, now.farPrice, now.price), (REOPENING, P("10.06"), P("10.06")))

    def test_indicativeEverySecondOfAJump(self):
        """
        A clock that jumps N seconds at once gets the N indicative events a
        call would have had, each at its second among the other calls due
        meanwhile: here the schedule's 09:30 open ends the call inside the
        jump, so the seconds after it have none.
        """
        self.engine.setProperty("timezone", "UTC")
        self.engine.setProperty("schedule", "pre_open 04:00, continuous 09:30")
        self.clock.advance(hours(9, 29))
        self.assertEqual(self.book.phase, "pre_open")
        self.recorder.take()
        self.clock.advance(10)
        self.assertEqual(len(self.recorder.of("auction_indicative")), 10)
        self.recorder.take()
        # 09:29:11 to 09:29:59: 49 seconds of the call; at 09:30:00 it
        # opens (the schedule's call was due first).
        self.clock.advance(60)
        self.assertEqual(self.book.phase, "continuous")
        self.assertEqual(len(self.recorder.of("auction_indicative")), 49)
        self.assertEqual(self.recorder.types()[-1], "phase_changed")

    # -- pauses and opening delays ---------------------------------------------

    def test_haltReasonKept(self):
        """
        The book keeps the halt reason while halted (later snapshots show
        it); a pause is a halt marked paused; both end with the halt.
        """
        self.engine.haltBook("AAPL", "T1")
        self.assertEqual((self.book.haltReason, self.book.paused), ("T1", False))
        self.engine.resumeBook("AAPL")
        self.assertEqual((self.book.haltReason, self.book.paused), (None, False))
        self.engine.haltBook("AAPL", "LUDP", pause=True)
        self.assertEqual((self.book.phase, self.book.haltReason, self.book.paused), ("halted", "LUDP", True))
        self.assertEqual(self.phaseEvents()[-1], ("continuous", "halted", "LUDP"))
        self.assertRaises(WrongState, self.engine.haltBook, "AAPL", pause=True)
        self.engine.resumeBook("AAPL")
        self.assertEqual((self.book.phase, self.book.haltReason, self.book.paused), ("continuous", None, False))
        self.validate()

    def test_delayOpen(self):
        """
        A delayed opening: the book stays in pre_open when its schedule
        opens the market; resume_book opens it then (the uncross).
        """
        self.engine.setProperty("timezone", "UTC")
        self.engine.setProperty("schedule", "pre_open 04:00, continuous 09:30")
        self.clock.advance(hours(5))
        self.assertRaises(WrongState, self.engine.resumeBook, "AAPL")
        self.submit(limit("s1", "b", "buy", 100, "10.01"))
        self.submit(limit("s2", "s", "sell", 60, "10.00"))
        self.recorder.take()
        self.engine.delayOpen("AAPL", "order imbalance")
        (event,) = self.recorder.of("opening_delayed")
        self.assertEqual(
            event.asDict(),
            {"type": "opening_delayed", "symbol": "AAPL", "book": "AAPL", "reason": "order imbalance"},
        )
        self.assertEqual((self.book.openingDelayed, self.book.delayReason), (True, "order imbalance"))
        e = self.assertRaises(WrongState, self.engine.delayOpen, "AAPL")
        self.assertIn("delayed already", str(e))
        self.clock.advance(hours(5))
        self.assertEqual(self.book.phase, "pre_open")
        self.assertEqual(self.trades(), [])
        self.engine.resumeBook("AAPL")
        self.assertEqual(self.book.phase, "continuous")
        self.assertEqual(self.trades()[0][:2], (P("10.00"), 60))
        self.assertFalse(self.book.openingDelayed)
        e = self.assertRaises(WrongState, self.engine.delayOpen, "AAPL")
        self.assertIn("not in pre_open", str(e))
        self.validate()

    def test_haltKind(self):
        """
        Book property halt_kind: what a halt is when nobody says (halt_book
        without pause, the phase set or scheduled); halt_book's pause wins.
        """
        e = self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "halt_kind", "nap")
        self.assertIn("halt or pause", str(e))
        self.engine.setBookProperty("AAPL", "halt_kind", "Pause")
        self.assertEqual(self.book.properties["halt_kind"], "pause")
        self.engine.haltBook("AAPL", "LUDP")
        self.assertTrue(self.book.paused)
        self.engine.resumeBook("AAPL")
        self.engine.haltBook("AAPL", "T1", pause=False)
        self.assertFalse(self.book.paused)
        self.engine.resumeBook("AAPL")
        self.phase("halted")
        self.assertTrue(self.book.paused)
        self.phase("continuous")
        self.engine.setBookProperty("AAPL", "halt_kind", "halt")
        self.engine.haltBook("AAPL")
        self.assertFalse(self.book.paused)

    def test_delayOpenProperty(self):
        """
        Book property delay_open: the schedule's opening of the book is an
        opening delay (opening_delayed, no reason) until resume_book; the
        schedule's other changes are not.
        """
        self.engine.setProperty("timezone", "UTC")
        self.engine.setBookProperty("AAPL", "delay_open", "yes")
        self.engine.setProperty("schedule", "pre_open 04:00, continuous 09:30, closed 20:00")
        self.clock.advance(hours(9, 29))
        self.assertEqual(self.book.phase, "pre_open")
        self.submit(limit("s1", "b", "buy", 100, "10.01"))
        self.submit(limit("s2", "s", "sell", 60, "10.00"))
        self.recorder.take()
        self.clock.advance(60)
        self.assertEqual(self.book.phase, "pre_open")
        (event,) = self.recorder.of("opening_delayed")
        self.assertEqual(event.reason, None)
        self.assertEqual(self.recorder.of("phase_changed"), [])
        self.engine.resumeBook("AAPL")
        self.assertEqual(self.book.phase, "continuous")
        self.assertEqual(self.trades()[0][:2], (P("10.00"), 60))
        self.clock.advance(hours(11))
        self.assertEqual(self.book.phase, "closed")
        self.validate()

    def test_delayEndsWithAPhaseChange(self):
        self.phase("pre_open")
        self.engine.delayOpen("AAPL")
        self.phase("closed")
        self.assertFalse(self.book.openingDelayed)
        self.assertRaises(WrongState, self.engine.resumeBook, "AAPL")

    # -- schedule ----------------------------------------------------------------

    def test_schedule(self):
        """
        The engine's schedule moves every book without its own through the
        day on the clock (midnight UTC at the start): closed until 04:00.
        """
        self.engine.setProperty("timezone", "UTC")
        self.engine.setProperty("schedule", DAY_SCHEDULE)
        self.assertEqual(self.engine.properties()["schedule"], DAY_SCHEDULE)
        self.assertEqual(self.book.phase, "closed")
        self.assertEqual(self.phaseEvents(), [("continuous", "closed", "schedule")])
        market = self.recorder.of("market_phase_changed")
        self.assertEqual([(e.old, e.new) for e in market], [(None, "closed")])
        seen = []
        for until, phase in [
            (hours(4), "pre_open"), (hours(9, 30), "continuous"), (hours(15, 55), "closing_auction"),
            (hours(16), "post_close"), (hours(20), "closed"), (hours(28), "pre_open"),
        ]:
            self.clock.advance(until - self.clock.seconds() - 0.5)
            self.assertNotEqual(self.book.phase, phase)
            self.clock.advance(0.5)
            seen.append(self.book.phase)
        self.assertEqual(
            seen, ["pre_open", "continuous", "closing_auction", "post_close", "closed", "pre_open"]
        )

    def test_scheduleKeepsHalt(self):
        """
        A halted book stays halted through the schedule's changes and
        resumes to the phase the schedule gave meanwhile.
        """
        self.engine.setProperty("timezone", "UTC")
        self.clock.advance(hours(9))
        self.engine.setProperty("schedule", DAY_SCHEDULE)
        self.assertEqual(self.book.phase, "pre_open")
        self.engine.haltBook("AAPL")
        self.clock.advance(hours(1))
        self.assertEqual(self.book.phase, "halted")
        self.engine.resumeBook("AAPL")
        self.assertEqual(self.book.phase, "continuous")

    def test_bookScheduleAndNewBooks(self):
        from exsim.model import Instrument

        self.engine.setProperty("timezone", "UTC")
        self.engine.setBookProperty("AAPL", "schedule", "continuous 00:00, closed 12:00")
        self.engine.setProperty("schedule", DAY_SCHEDULE)
        self.assertEqual(self.book.phase, "continuous")
        other = self.engine.addBook(Instrument("MSFT", tickSize=100))
        self.assertEqual(other.phase, "closed")
        self.clock.advance(hours(12))
        self.assertEqual((self.book.phase, other.phase), ("closed", "continuous"))
        self.engine.setBookProperty("AAPL", "schedule", "none")
        self.assertEqual(self.book.phase, "continuous")
        other.validateInternalState()

    def test_badSchedule(self):
        """
        Unknown phases and times out of order are refused naming the
        entry; nothing changes.
        """
        self.engine.setProperty("timezone", "UTC")
        for text, words in [
            ("pre_open 04:00, lunch 12:00", "unknown phase 'lunch'"),
            ("pre_open 09:00, continuous 08:00", "times must increase"),
            ("pre_open 25:00", "no such time"),
            ("pre_open", "not 'phase HH:MM'"),
        ]:
            e = self.assertRaises(BadValue, self.engine.setProperty, "schedule", text)
            self.assertIn(words, str(e))
        self.assertEqual(self.engine.properties()["schedule"], "none")
        self.assertEqual(self.book.phase, "continuous")
        self.assertRaises(BadValue, self.engine.setProperty, "timezone", "Mars/Olympus")
        self.assertEqual(self.recorder.events, [])
