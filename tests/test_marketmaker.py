# -*- test-case-name: tests.test_marketmaker -*-
"""
Tests for L{exsim.engine.marketmaker}: the built-in market-maker policy.
"""

from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim.engine.activity import activityOf
from exsim.engine.events import Cancelled, Filled, OrderRequest, Replaced
from exsim.engine.marketmaker import MarketMaker
from exsim.errors import BadValue
from exsim.interfaces import IActivity, IEngineListener
from exsim.model import Order, Side

from tests.test_activity import makeEngine, run


def quoteOf(book):
    return book.activity.marketMaker


def clientOrder(engine, clOrdId, side, quantity, price):
    return engine.submitNew(
        Order("fix1/CLIENT", clOrdId, "AAPL", side, quantity, price)
    )


class MarketMakerTests(TestCase):
    def test_interfaces(self):
        engine, book, clock, _ = makeEngine()
        mm = MarketMaker(activityOf(engine, book))
        self.assertTrue(verifyObject(IActivity, mm))
        self.assertTrue(verifyObject(IEngineListener, mm))

    def test_quoteAroundReference(self):
        """
        C{market_maker = yes} puts a bid and an ask of C{mm_size},
        C{mm_spread_ticks} apart around the reference price, at once.
        """
        engine, book, clock, recorder = makeEngine(
            reference="100", mm_spread_ticks="4", mm_size="300", market_maker="yes"
        )
        self.assertEqual(book.depth(True), [(999800, 300, 1)])
        self.assertEqual(book.depth(False), [(1000200, 300, 1)])
        mm = quoteOf(book)
        self.assertEqual(mm.bid.owner, "house/AAPL")
        self.assertTrue(mm.bid.clOrdId.startswith("Q"))
        book.validateInternalState()

    def test_badValues(self):
        engine, book, clock, _ = makeEngine()
        for name, value in [
            ("market_maker", "perhaps"),
            ("mm_spread_ticks", "0"),
            ("mm_size", "-5"),
            ("mm_size", "ten"),
            ("mm_refresh", "0"),
            ("mm_refresh", "-1"),
        ]:
            self.assertRaises(BadValue, engine.setBookProperty, "AAPL", name, value)
        self.assertEqual(book.orders(), [])
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_refillAfterFullFill(self):
        """
        A side traded in full is reported to the client as a fill and is
        quoted again as soon as the engine is done.
        """
        engine, book, clock, recorder = makeEngine(reference="100", market_maker="yes")
        mm = quoteOf(book)
        oldAsk = mm.ask
        client = clientOrder(engine, "c1", Side.BUY, 500, 1000100)
        self.assertEqual(client.cumQty, 500)
        self.assertTrue(oldAsk.isDone)
        houseFills = [
            e for e in recorder.events if isinstance(e, Filled) and e.order is oldAsk
        ]
        self.assertEqual(len(houseFills), 1)
        self.assertEqual(book.asks, {})
        clock.advance(0)
        self.assertEqual(book.depth(False), [(1000100, 500, 1)])
        self.assertIsNot(mm.ask, oldAsk)
        book.validateInternalState()

    def test_refillAfterPartialFill(self):
        """
        A partly traded side is topped up to C{mm_size} by a replace of the
        same order.
        """
        engine, book, clock, recorder = makeEngine(reference="100", market_maker="yes")
        mm = quoteOf(book)
        bid = mm.bid
        clientOrder(engine, "c1", Side.SELL, 200, 999900)
        self.assertEqual(book.depth(True), [(999900, 300, 1)])
        del recorder.events[:]
        clock.advance(0)
        self.assertIs(mm.bid, bid)
        self.assertEqual(bid.leavesQty, 500)
        self.assertEqual(bid.quantity, 700)
        self.assertEqual(book.depth(True), [(999900, 500, 1)])
        kinds = [type(e) for e in recorder.events if getattr(e, "order", None) is bid]
        self.assertEqual(kinds[0], Replaced)
        self.assertNotIn(Cancelled, kinds)

    def test_followsReferenceAtomically(self):
        """
        When the reference moves, each side is moved at the next refresh by
        a replace: the order stays the same, no side is ever missing.
        """
        engine, book, clock, recorder = makeEngine(
            reference="100", market_maker="yes", mm_refresh="2"
        )
        mm = quoteOf(book)
        bid, ask = mm.bid, mm.ask
        engine.setBookProperty("AAPL", "reference_price", "101")
        clock.advance(1.9)
        self.assertEqual(book.bestBid(), 999900)
        del recorder.events[:]
        sides = []

        class Watcher:
            def engineEvents(self, events):
                sides.append((bool(book.bids), bool(book.asks)))

        engine.subscribe(Watcher())
        clock.advance(0.1)
        self.assertEqual(book.depth(True), [(1009900, 500, 1)])
        self.assertEqual(book.depth(False), [(1010100, 500, 1)])
        self.assertIs(mm.bid, bid)
        self.assertIs(mm.ask, ask)
        self.assertEqual(sides, [(True, True), (True, True)])
        self.assertFalse([e for e in recorder.events if isinstance(e, Cancelled)])
        self.assertEqual(len([e for e in recorder.events if isinstance(e, Replaced)]), 2)

    def test_bigMovesNeverSelfTrade(self):
        """
        Whichever way and however far the reference jumps, the side moving
        away goes first: the quote never trades with itself.
        """
        engine, book, clock, recorder = makeEngine(reference="100", market_maker="yes")
        for reference in ("101", "99", "150", "20", "20.01", "19.99"):
            engine.setBookProperty("AAPL", "reference_price", reference)
            clock.advance(1)
            book.validateInternalState()
            self.assertEqual(recorder.ofType("trade"), [])
            self.assertEqual(len(book.orders()), 2)
        self.assertEqual(book.depth(True), [(199800, 500, 1)])
        self.assertEqual(book.depth(False), [(200000, 500, 1)])

    def test_sizeChangeApplies(self):
        engine, book, clock, _ = makeEngine(reference="100", market_maker="yes")
        engine.setBookProperty("AAPL", "mm_size", "1000")
        self.assertEqual(book.depth(True), [(999900, 1000, 1)])
        self.assertEqual(book.depth(False), [(1000100, 1000, 1)])

    def test_refreshTimer(self):
        engine, book, clock, _ = makeEngine(reference="100", market_maker="yes")
        mm = quoteOf(book)
        self.assertEqual(len(clock.getDelayedCalls()), 1)
        before = mm.refreshes
        clock.advance(1.0)
        self.assertEqual(mm.refreshes, before + 1)
        engine.setBookProperty("AAPL", "mm_refresh", "0.25")
        before = mm.refreshes
        for _ in range(4):
            clock.advance(0.25)
        self.assertEqual(mm.refreshes, before + 4)

    def test_stopCancelsQuote(self):
        """
        C{market_maker = no} cancels both sides and leaves no timer and no
        listener behind.
        """
        engine, book, clock, _ = makeEngine(reference="100", market_maker="yes")
        mm = quoteOf(book)
        engine.setBookProperty("AAPL", "market_maker", "no")
        self.assertEqual(book.orders(), [])
        self.assertEqual(clock.getDelayedCalls(), [])
        self.assertNotIn(mm, engine._listeners)
        clientOrder(engine, "c1", Side.BUY, 10, 1000100)
        clock.advance(5)
        self.assertEqual(book.depth(False), [])
        engine.setBookProperty("AAPL", "market_maker", "yes")
        # The new ask trades with the client's bid at once...
        self.assertEqual(book.depth(False), [(1000100, 490, 1)])
        # ...and is topped up right after.
        clock.advance(0)
        self.assertEqual(book.depth(False), [(1000100, 500, 1)])

    def test_noReference(self):
        """
        Without any price the market maker waits; it quotes at the next
        refresh once a reference price is set.
        """
        engine, book, clock, _ = makeEngine(reference=None, market_maker="yes")
        self.assertEqual(book.orders(), [])
        engine.setBookProperty("AAPL", "reference_price", "50")
        clock.advance(1)
        self.assertEqual(book.bestBid(), 499900)
        self.assertEqual(book.bestAsk(), 500100)

    def test_managedModeDoesNotHold(self):
        engine, book, clock, recorder = makeEngine(reference="100")
        engine.setProperty("mode", "managed")
        engine.setBookProperty("AAPL", "market_maker", "yes")
        self.assertFalse([e for e in recorder.events if isinstance(e, OrderRequest)])
        self.assertEqual(len(book.orders()), 2)

    def test_lowReference(self):
        """
        A reference within a tick of zero quotes no bid (no price at or
        below zero), only an ask.
        """
        engine, book, clock, _ = makeEngine(reference="0.01", market_maker="yes")
        self.assertEqual(book.bids, {})
        self.assertEqual(book.depth(False), [(200, 500, 1)])

    def test_withActivity(self):
        """
        The market maker and the background flow share the book: it stays
        valid, the quote is refreshed after trades, and stopping the flow
        leaves the quote.
        """
        engine, book, clock, recorder = makeEngine(
            activity="fast", market_maker="yes", mm_spread_ticks="2", seed=11
        )
        run(clock, book, 3, 0.01)
        mm = quoteOf(book)
        quoteFills = [
            e for e in recorder.events
            if isinstance(e, Filled) and e.order.owner == "house/AAPL"
            and e.clOrdId.startswith("Q")
        ]
        self.assertTrue(quoteFills)
        engine.setBookProperty("AAPL", "activity", "none")
        book.validateInternalState()
        self.assertEqual(
            sorted(o.clOrdId[0] for o in book.orders()), ["Q", "Q"]
        )
        self.assertTrue(mm.running)

    def test_sameSeedSameSequence(self):
        runs = []
        for _ in range(2):
            engine, book, clock, recorder = makeEngine(
                activity="fast", market_maker="yes", seed=4
            )
            clientOrder(engine, "c1", Side.BUY, 1000, 1500000)
            run(clock, book, 1, 0.01)
            runs.append(recorder.dicts())
        self.assertEqual(runs[0], runs[1])
