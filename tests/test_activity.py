# -*- test-case-name: tests.test_activity -*-
"""
Tests for L{exsim.engine.activity}: seeded background order flow.
"""

from hypothesis import given, settings, strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim import config, registry
from exsim.engine import activity as activityModule
from exsim.engine.activity import Activity, onGrid, quotePrices, referenceOf
from exsim.engine.events import Filled, OrderRequest
from exsim.engine.matching import MatchingEngine
from exsim.errors import BadValue, ConfigError
from exsim.interfaces import IActivity
from exsim.model import Instrument, Order, Side, TimeInForce
from exsim.service import Simulator
from tests.helpers import Recorder


def makeEngine(symbol="AAPL", reference="150", clock=None, **properties):
    """
    An engine on a L{Clock} with one book and a recorder subscribed.

    @return: (engine, book, clock, recorder)
    """
    if clock is None:
        clock = Clock()
    engine = MatchingEngine("e1", clock)
    book = engine.addBook(Instrument(symbol))
    recorder = Recorder()
    engine.subscribe(recorder)
    if reference is not None:
        engine.setBookProperty(symbol, "reference_price", reference)
    for name, value in properties.items():
        engine.setBookProperty(symbol, name, value)
    return engine, book, clock, recorder


def run(clock, book, seconds, step):
    """
    Advance C{clock} by C{step} at a time, checking the book after each.
    """
    ticks = int(round(seconds / step))
    for _ in range(ticks):
        clock.advance(step)
        book.validateInternalState()


def houseOrders(engine, symbol="AAPL"):
    return [o for o in engine.liveOrders() if o.owner == "house/" + symbol]


class HelperTests(TestCase):
    def test_onGrid(self):
        self.assertEqual(onGrid(1500049, 100), 1500000)
        self.assertEqual(onGrid(1500050, 100), 1500100)
        self.assertEqual(onGrid(3, 100), 100)

    def test_quotePrices(self):
        self.assertEqual(quotePrices(1500000, 100, 2), (1499900, 1500100))
        self.assertEqual(quotePrices(1500000, 100, 1), (1500000, 1500100))
        self.assertEqual(quotePrices(1500000, 100, 5), (1499800, 1500300))

    def test_referenceOf(self):
        engine, book, clock, _ = makeEngine(reference=None)
        self.assertIsNone(referenceOf(book))
        book.lastPrice = 1000000
        self.assertEqual(referenceOf(book), 1000000)
        book.referencePrice = 2000000
        self.assertEqual(referenceOf(book), 2000000)


class PropertyTests(TestCase):
    def test_interface(self):
        engine, book, clock, _ = makeEngine()
        self.assertTrue(verifyObject(IActivity, Activity(engine, book)))

    def test_registered(self):
        names = registry.names("book_property")
        for name in activityModule.propertyNames():
            self.assertIn(name, names)
        for name in ("activity", "seed", "volatility", "spread_ticks", "depth_levels",
                     "order_rate", "trade_rate", "market_maker", "mm_size"):
            self.assertIn(name, names)

    def test_badValues(self):
        engine, book, clock, _ = makeEngine()
        for name, value in [
            ("activity", "medium"),
            ("spread_ticks", "0"),
            ("spread_ticks", "1.5"),
            ("depth_levels", "-1"),
            ("volatility", "-0.1"),
            ("volatility", "nan"),
            ("order_rate", "abc"),
            ("trade_rate", "inf"),
            ("activity_interval", "0"),
            ("order_size", "0"),
            ("seed", "x"),
            ("market_maker", "maybe"),
        ]:
            self.assertRaises(BadValue, engine.setBookProperty, "AAPL", name, value)
        self.assertEqual(book.activity.level, "none")
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_properties(self):
        engine, book, clock, _ = makeEngine(activity="slow", spread_ticks="4", seed=9)
        props = book.activity.properties()
        self.assertEqual(props["activity"], "slow")
        self.assertEqual(props["spread_ticks"], 4)
        self.assertEqual(props["seed"], 9)
        self.assertEqual(props["order_rate"], activityModule.LEVEL_DEFAULTS["slow"]["order_rate"])
        engine.setBookProperty("AAPL", "activity", "fast")
        self.assertEqual(
            book.activity.get("order_rate"),
            activityModule.LEVEL_DEFAULTS["fast"]["order_rate"],
        )
        engine.setBookProperty("AAPL", "order_rate", "7")
        self.assertEqual(book.activity.get("order_rate"), 7.0)
        self.assertEqual(book.properties["activity"], "fast")

    def test_defaultSeedPerSymbol(self):
        engine = MatchingEngine("e", Clock())
        a = Activity(engine, engine.addBook(Instrument("AAPL")))
        b = Activity(engine, engine.addBook(Instrument("MSFT")))
        self.assertNotEqual(a.seed, b.seed)
        self.assertEqual(a.seed, Activity(engine, a.book).seed)

    def test_noClock(self):
        engine = MatchingEngine("e")
        engine.addBook(Instrument("AAPL"))
        self.assertRaises(BadValue, engine.setBookProperty, "AAPL", "activity", "slow")
        self.assertRaises(BadValue, engine.setBookProperty, "AAPL", "market_maker", "yes")
        # Parameters alone are fine: they are kept for later.
        engine.setBookProperty("AAPL", "spread_ticks", "3")

    @settings(max_examples=200, deadline=None)
    @given(
        name=st.sampled_from(activityModule.propertyNames()),
        value=st.one_of(
            st.text(max_size=20),
            st.integers(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.booleans(),
            st.none(),
        ),
    )
    def test_arbitraryValues(self, name, value):
        """
        Any value of any activity property is accepted or refused with
        L{BadValue}; the book stays valid either way.
        """
        engine, book, clock, _ = makeEngine()
        try:
            engine.setBookProperty("AAPL", name, value)
        except BadValue:
            pass
        clock.advance(0.5)
        book.validateInternalState()
        book.activity.stop()
        self.assertEqual(clock.getDelayedCalls(), [])


class FlowTests(TestCase):
    def test_sameSeedSameSequence(self):
        """
        The same seed and the same clock give the same events; another
        seed gives others.
        """
        runs = []
        for seed in (42, 42, 43):
            engine, book, clock, recorder = makeEngine(seed=seed, activity="fast")
            run(clock, book, 2.0, 0.01)
            runs.append(recorder.dicts())
        self.assertGreater(len(runs[0]), 1000)
        self.assertEqual(runs[0], runs[1])
        self.assertNotEqual(runs[0], runs[2])

    def test_sameSeedIrregularClock(self):
        """
        Determinism holds for any sequence of clock steps, as long as it
        is the same one.
        """
        steps = [0.003, 0.5, 0.01, 0.0, 2.0, 0.07] * 20
        runs = []
        for _ in range(2):
            engine, book, clock, recorder = makeEngine(seed=5, activity="fast")
            for step in steps:
                clock.advance(step)
                book.validateInternalState()
            runs.append(recorder.dicts())
        self.assertEqual(runs[0], runs[1])

    def test_neverCrossedAndTwoSided(self):
        """
        After every step the book is valid (never crossed) and has depth
        on both sides; trades print.
        """
        engine, book, clock, recorder = makeEngine(activity="fast", seed=1)
        for _ in range(300):
            clock.advance(0.01)
            book.validateInternalState()
            bid, ask = book.bestBid(), book.bestAsk()
            self.assertIsNotNone(bid)
            self.assertIsNotNone(ask)
            self.assertLess(bid, ask)
            self.assertGreaterEqual(len(book.bids), 2)
            self.assertGreaterEqual(len(book.asks), 2)
        self.assertTrue(recorder.ofType("trade"))
        self.assertTrue(recorder.ofType("cancelled"))

    def test_depthAroundReference(self):
        """
        The house orders sit within a few levels of the reference price,
        C{spread_ticks} apart at the top.
        """
        engine, book, clock, _ = makeEngine(
            activity="slow", volatility="0", trade_rate="0", spread_ticks="4",
            depth_levels="3",
        )
        run(clock, book, 20, 0.25)
        self.assertEqual(book.referencePrice, 1500000)
        self.assertEqual(book.bestBid(), 1499800)
        self.assertEqual(book.bestAsk(), 1500200)
        self.assertEqual(sorted(book.bids), [1499600, 1499700, 1499800])
        self.assertEqual(sorted(book.asks), [1500200, 1500300, 1500400])

    def test_populatedAtOnce(self):
        """
        Starting the activity fills both sides with a ladder at once.
        """
        engine, book, clock, _ = makeEngine(depth_levels="4")
        engine.setBookProperty("AAPL", "activity", "slow")
        self.assertEqual(len(book.bids), 4)
        self.assertEqual(len(book.asks), 4)
        book.validateInternalState()

    def test_rates(self):
        """
        C{order_rate} passive orders and C{trade_rate} taker orders are
        entered per second of the clock.
        """
        engine, book, clock, recorder = makeEngine(
            activity="slow", order_rate="10", trade_rate="0", volatility="0"
        )
        sent = book.activity.ordersSent
        run(clock, book, 10, 0.25)
        self.assertEqual(book.activity.ordersSent - sent, 100)
        self.assertEqual(recorder.ofType("trade"), [])
        engine.setBookProperty("AAPL", "order_rate", "0")
        engine.setBookProperty("AAPL", "trade_rate", "2")
        sent = book.activity.ordersSent
        run(clock, book, 10, 0.25)
        # 20 takers, and perhaps a ladder for a side they emptied.
        self.assertGreaterEqual(book.activity.ordersSent - sent, 20)
        self.assertTrue(recorder.ofType("trade"))
        takers = [
            e for e in recorder.ofType("accepted")
            if e.order.timeInForce is TimeInForce.IOC
        ]
        self.assertEqual(len(takers), 20)

    def test_followsThePhase(self):
        """
        Passive orders only (no takers) in a call; nothing while the book
        is halted, closed or after the close; everything again in the
        continuous phase.
        """
        engine, book, clock, recorder = makeEngine(
            activity="slow", order_rate="10", trade_rate="2", volatility="0"
        )

        def takers():
            return len([
                e for e in recorder.ofType("accepted") if e.order.timeInForce is TimeInForce.IOC
            ])

        engine.setPhase("AAPL", "pre_open")
        sent, taken = book.activity.ordersSent, takers()
        run(clock, book, 10, 0.25)
        self.assertEqual(book.activity.ordersSent - sent, 100)
        self.assertEqual(takers(), taken)
        self.assertEqual(recorder.ofType("rejected"), [])
        for phase in ("halted", "closed", "post_close"):
            engine.setPhase("AAPL", phase)
            sent = book.activity.ordersSent
            cancels = book.activity.cancelsSent
            run(clock, book, 10, 0.25)
            self.assertEqual(
                (phase, book.activity.ordersSent, book.activity.cancelsSent), (phase, sent, cancels)
            )
        engine.setPhase("AAPL", "continuous")
        run(clock, book, 10, 0.25)
        self.assertGreaterEqual(takers() - taken, 20)

    def test_fastEventRate(self):
        """
        C{fast} makes thousands of engine events per second on one book;
        C{slow} a few.
        """
        engine, book, clock, recorder = makeEngine(activity="fast")
        run(clock, book, 2, 0.01)
        self.assertGreater(len(recorder.events) / 2, 1000)
        engine, book, clock, recorder = makeEngine(activity="slow")
        del recorder.events[:]
        run(clock, book, 20, 0.25)
        self.assertLess(len(recorder.events) / 20, 30)
        self.assertGreater(len(recorder.events) / 20, 2)

    def test_lateTimerCapped(self):
        """
        A timer that fires very late (a busy reactor) catches up only a
        few intervals' worth of orders.
        """
        engine, book, clock, _ = makeEngine(
            activity="fast", order_rate="1000", trade_rate="0", activity_interval="0.01"
        )
        sent = book.activity.ordersSent
        clock.advance(60)
        # 60 s at 1000/s would be 60,000 orders; the cap is 4 intervals.
        self.assertLessEqual(book.activity.ordersSent - sent, 41 + 2 * 5)
        book.validateInternalState()

    def test_batchedTimer(self):
        """
        One timer call at a time, every C{activity_interval} seconds.
        """
        engine, book, clock, _ = makeEngine(activity="fast")
        calls = clock.getDelayedCalls()
        self.assertEqual(len(calls), 1)
        first = calls[0].getTime()
        self.assertTrue(0 < first <= 0.01, first)
        clock.advance(first)
        calls = clock.getDelayedCalls()
        self.assertEqual(len(calls), 1)
        self.assertAlmostEqual(calls[0].getTime(), first + 0.01)
        # A late batch does not shift the grid.
        clock.advance(0.035)
        self.assertAlmostEqual(clock.getDelayedCalls()[0].getTime(), first + 0.04)
        engine.setBookProperty("AAPL", "activity_interval", "0.5")
        calls = clock.getDelayedCalls()
        self.assertEqual(len(calls), 1)
        self.assertTrue(clock.seconds() < calls[0].getTime() <= clock.seconds() + 0.5)

    def test_booksTakeTurns(self):
        """
        The batches of two books on one clock fall at different times.
        """
        clock = Clock()
        engine = MatchingEngine("e1", clock)
        for symbol in ("AAPL", "MSFT"):
            engine.addBook(Instrument(symbol))
            engine.setBookProperty(symbol, "reference_price", "100")
            engine.setBookProperty(symbol, "activity", "fast")
        times = sorted(call.getTime() for call in clock.getDelayedCalls())
        self.assertEqual(len(times), 2)
        self.assertGreater(times[1] - times[0], 0.002)

    def test_randomWalk(self):
        """
        The reference price walks (on the tick grid) with volatility, and
        stands still without.
        """
        engine, book, clock, _ = makeEngine(activity="slow", volatility="0.001")
        seen = set()
        for _ in range(100):
            clock.advance(0.25)
            seen.add(book.referencePrice)
            self.assertEqual(book.referencePrice % 100, 0)
        self.assertGreater(len(seen), 10)
        engine, book, clock, _ = makeEngine(activity="slow", volatility="0")
        run(clock, book, 10, 0.25)
        self.assertEqual(book.referencePrice, 1500000)

    def test_followsNewReference(self):
        """
        A test moving C{reference_price} moves the market there: orders
        left on the wrong side are cancelled, depth builds around it.
        """
        engine, book, clock, _ = makeEngine(activity="fast", volatility="0", seed=3)
        run(clock, book, 1, 0.01)
        engine.setBookProperty("AAPL", "reference_price", "120")
        run(clock, book, 1, 0.01)
        self.assertEqual(book.referencePrice, 1200000)
        for order in houseOrders(engine):
            self.assertLess(abs(order.price - 1200000), 10 * 100, order)
        self.assertLess(book.bestBid(), 1200000 + 100)
        self.assertGreater(book.bestAsk(), 1200000 - 100)

    def test_noReference(self):
        """
        Without a reference, last or book price the activity waits; it
        starts once there is one.
        """
        engine, book, clock, recorder = makeEngine(reference=None, activity="slow")
        run(clock, book, 5, 0.25)
        self.assertEqual(recorder.events, [])
        engine.setBookProperty("AAPL", "reference_price", "10")
        run(clock, book, 1, 0.25)
        self.assertTrue(book.bids)
        self.assertTrue(book.asks)

    def test_referenceFromBook(self):
        """
        Without a reference price the activity starts at the middle of
        the client orders.
        """
        engine, book, clock, _ = makeEngine(reference=None)
        engine.submitNew(Order("c/1", "b", "AAPL", Side.BUY, 10, 990000))
        engine.submitNew(Order("c/1", "s", "AAPL", Side.SELL, 10, 1010000))
        engine.setBookProperty("AAPL", "activity", "slow")
        self.assertEqual(book.referencePrice, 1000000)

    def test_lowPrice(self):
        """
        Near zero, no order is ever priced at or below zero.
        """
        engine, book, clock, _ = makeEngine(
            reference="0.02", activity="fast", volatility="0.01", depth_levels="10"
        )
        run(clock, book, 2, 0.01)
        for order in houseOrders(engine):
            self.assertGreater(order.price, 0)
        self.assertGreaterEqual(book.referencePrice, 100)


class StopStartTests(TestCase):
    def test_stopCancelsOwnOrders(self):
        """
        C{activity = none} cancels the activity's orders, leaves client
        orders alone and leaves no timer behind.
        """
        engine, book, clock, _ = makeEngine(activity="fast")
        client = engine.submitNew(Order("c/1", "x", "AAPL", Side.BUY, 10, 1000000))
        run(clock, book, 1, 0.01)
        self.assertTrue(houseOrders(engine))
        engine.setBookProperty("AAPL", "activity", "none")
        self.assertEqual(houseOrders(engine), [])
        self.assertEqual(clock.getDelayedCalls(), [])
        self.assertTrue(client.resting)
        book.validateInternalState()
        self.assertEqual(book.orders(), [client])
        self.assertFalse(book.activity.running)

    def test_restart(self):
        """
        Stopping and restarting keeps the book valid, with depth again.
        """
        engine, book, clock, _ = makeEngine(activity="fast")
        for _ in range(5):
            run(clock, book, 0.3, 0.01)
            engine.setBookProperty("AAPL", "activity", "none")
            book.validateInternalState()
            self.assertEqual(book.orders(), [])
            clock.advance(1)
            engine.setBookProperty("AAPL", "activity", "slow")
            book.validateInternalState()
            self.assertTrue(book.bids and book.asks)
            engine.setBookProperty("AAPL", "activity", "fast")
        self.assertEqual(len(clock.getDelayedCalls()), 1)

    def test_startStopInterface(self):
        engine, book, clock, _ = makeEngine()
        activity = activityModule.activityOf(engine, book)
        activity.start()
        self.assertEqual(activity.level, "slow")
        self.assertTrue(activity.running)
        activity.stop()
        self.assertFalse(activity.running)
        self.assertEqual(book.orders(), [])
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_stopAll(self):
        """
        L{activityModule.stopAll} stops every book's flow and market maker.
        """
        clock = Clock()
        engine = MatchingEngine("e1", clock)
        for symbol in ("AAPL", "MSFT", "IBM"):
            engine.addBook(Instrument(symbol))
            engine.setBookProperty(symbol, "reference_price", "100")
        engine.setBookProperty("AAPL", "activity", "fast")
        engine.setBookProperty("MSFT", "market_maker", "yes")
        run(clock, engine.books["AAPL"], 0.2, 0.01)
        self.assertTrue(clock.getDelayedCalls())
        activityModule.stopAll(engine)
        self.assertEqual(clock.getDelayedCalls(), [])
        self.assertEqual(engine.liveOrders(), [])

    def test_removeBookStops(self):
        engine, book, clock, _ = makeEngine(activity="fast", market_maker="yes")
        run(clock, book, 0.5, 0.01)
        engine.removeBook("AAPL")
        self.assertEqual(clock.getDelayedCalls(), [])
        self.assertEqual(engine.liveOrders(), [])
        clock.advance(5)


class ClientInteractionTests(TestCase):
    def test_clientTradesWithBackground(self):
        """
        A client order crossing the spread trades with house orders.
        """
        engine, book, clock, recorder = makeEngine(activity="slow", trade_rate="0")
        run(clock, book, 2, 0.25)
        ask = book.bestAsk()
        client = engine.submitNew(Order("c/1", "buy1", "AAPL", Side.BUY, 100, ask))
        self.assertEqual(client.cumQty, 100)
        fills = [e for e in recorder.events if isinstance(e, Filled) and e.order is client]
        self.assertTrue(fills)
        contra = engine.getOrder(fills[0].contraOrderId)
        if contra is None:
            contra = [
                e.order for e in recorder.events
                if isinstance(e, Filled) and e.order.orderId == fills[0].contraOrderId
            ][0]
        self.assertEqual(contra.owner, "house/AAPL")
        book.validateInternalState()

    def test_takersHitClientOrders(self):
        """
        A client order mispriced against the reference is taken by value
        takers.
        """
        engine, book, clock, recorder = makeEngine(
            volatility="0", order_rate="0", trade_rate="50"
        )
        client = engine.submitNew(Order("c/1", "s", "AAPL", Side.SELL, 300, 1490000))
        engine.setBookProperty("AAPL", "activity", "fast")
        # The ladder does not cross the client's order...
        self.assertEqual(client.cumQty, 0)
        self.assertLess(book.bestBid(), 1490000)
        run(clock, book, 1, 0.01)
        self.assertEqual(client.cumQty, 300)
        book.validateInternalState()

    def test_managedModeDoesNotHold(self):
        """
        In managed mode the background orders still go straight in.
        """
        engine, book, clock, recorder = makeEngine()
        engine.setProperty("mode", "managed")
        engine.setBookProperty("AAPL", "activity", "fast")
        run(clock, book, 0.5, 0.01)
        self.assertFalse([e for e in recorder.events if isinstance(e, OrderRequest)])
        self.assertTrue(book.bids and book.asks)
        self.assertEqual(engine.pendingRequests(), {})

    def test_endOfDay(self):
        """
        Expiring the day removes the background orders; the activity
        rebuilds the book.
        """
        engine, book, clock, _ = makeEngine(activity="fast")
        run(clock, book, 0.5, 0.01)
        engine.expireDay()
        self.assertEqual(book.orders(), [])
        run(clock, book, 0.5, 0.01)
        self.assertTrue(book.bids and book.asks)


class ConfigurationTests(TestCase):
    def test_simIni(self):
        """
        Activity properties come from C{[book:...]} keys, in any order.
        """
        clock = Clock()
        simulator = Simulator(clock)
        sections = config.parse(
            "[engine:e1]\n"
            "[book:AAPL]\n"
            "engine = e1\n"
            "activity = slow\n"
            "reference_price = 150.00\n"
            "seed = 7\n"
            "spread_ticks = 2\n"
            "market_maker = yes\n"
            "mm_size = 200\n",
            "sim.ini",
        )
        config.apply(sections, simulator)
        engine, book = simulator.book("AAPL")
        clock.advance(1)
        self.assertEqual(book.activity.level, "slow")
        self.assertEqual(book.activity.seed, 7)
        self.assertTrue(book.bids and book.asks)
        self.assertEqual(book.activity.marketMaker.bid.quantity, 200)
        simulator.delete_book("AAPL")
        self.assertEqual(clock.getDelayedCalls(), [])

    def test_simIniBadValue(self):
        simulator = Simulator(Clock())
        sections = config.parse(
            "[engine:e1]\n[book:AAPL]\nengine = e1\nactivity = busy\n", "sim.ini"
        )
        error = self.assertRaises(ConfigError, config.apply, sections, simulator)
        self.assertIn("sim.ini:4", str(error))
        self.assertIn("activity", str(error))


_ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.sampled_from([0.0, 0.004, 0.01, 0.03, 0.3, 2.0])),
        st.tuples(
            st.just("new"),
            st.tuples(
                st.booleans(),
                st.integers(-15, 15),
                st.integers(1, 2000),
                st.sampled_from([TimeInForce.DAY, TimeInForce.IOC, TimeInForce.GTC]),
            ),
        ),
        st.tuples(st.just("cancel"), st.integers(0, 50)),
        st.tuples(st.just("replace"), st.tuples(st.integers(0, 50), st.integers(-5, 5))),
        st.tuples(st.just("reference"), st.integers(1, 400)),
        st.tuples(st.just("level"), st.sampled_from(["none", "slow", "fast"])),
        st.tuples(st.just("mm"), st.booleans()),
        st.tuples(st.just("expire"), st.none()),
    ),
    min_size=5,
    max_size=60,
)


class InterleavingTests(TestCase):
    @settings(max_examples=100, deadline=None)
    @given(actions=_ACTIONS)
    def test_bookAlwaysValid(self, actions):
        """
        Whatever clients, tests and the clock do between the activity's
        batches, the book is valid (never crossed) after every step, and
        stopping leaves no house order and no timer.
        """
        engine, book, clock, _ = makeEngine(reference="1.00", activity="fast", seed=2)
        clientOrders = []
        for n, (kind, arg) in enumerate(actions):
            if kind == "advance":
                clock.advance(arg)
            elif kind == "new":
                isBuy, offset, quantity, tif = arg
                price = max(100, book.referencePrice + offset * 100)
                clientOrders.append(engine.submitNew(Order(
                    "fix1/C", "c%d" % (n,), "AAPL", Side.BUY if isBuy else Side.SELL,
                    quantity, price, timeInForce=tif,
                )))
            elif kind == "cancel" and clientOrders:
                order = clientOrders[arg % len(clientOrders)]
                engine.submitCancel("fix1/C", "x%d" % (n,), origClOrdId=order.clOrdId)
            elif kind == "replace" and clientOrders:
                index, offset = arg
                order = clientOrders[index % len(clientOrders)]
                if order.price is not None:
                    engine.submitReplace(
                        "fix1/C", "r%d" % (n,), origClOrdId=order.clOrdId,
                        price=max(100, order.price + offset * 100),
                    )
            elif kind == "reference":
                engine.setBookProperty("AAPL", "reference_price", arg / 100.0)
            elif kind == "level":
                engine.setBookProperty("AAPL", "activity", arg)
            elif kind == "mm":
                engine.setBookProperty("AAPL", "market_maker", "yes" if arg else "no")
            elif kind == "expire":
                engine.expireDay()
            book.validateInternalState()
        book.activity.stop()
        book.validateInternalState()
        self.assertEqual(houseOrders(engine), [])
        self.assertEqual(clock.getDelayedCalls(), [])
