"""
Tests for L{exsim.control.queue}: the bounded control event queue.
"""

from twisted.internet.task import Clock
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from exsim.errors import BadValue
from exsim.control.queue import PAGE_SIZE, EngineEventListener, EventQueue, formatPrice, parseSize
from exsim.interfaces import IEngineListener
from exsim.model import Instrument, Order, Side
from exsim.service import Simulator


class EventQueueTests(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.clock.advance(1000)
        self.queue = EventQueue(self.clock, maxSize=5)

    def test_entry(self):
        """
        An event is a dict starting with event_id, type and time, then its
        fields; event ids grow by one.
        """
        self.queue.add("logon", {"session": "A"})
        self.clock.advance(2.5)
        self.queue.add("logout", {"session": "A", "type": "ignored"})
        events = self.queue.get()
        self.assertEqual(
            events,
            [
                {"event_id": 1, "type": "logon", "time": 1000.0, "session": "A"},
                {"event_id": 2, "type": "logout", "time": 1002.5, "session": "A"},
            ],
        )
        self.assertEqual(list(events[0])[:3], ["event_id", "type", "time"])
        self.assertEqual(self.queue.get(), [])

    def test_maxCount(self):
        """
        get(max_count) drains oldest first, at most max_count at a time.
        """
        for i in range(4):
            self.queue.add("x", {"i": i})
        self.assertEqual([e["i"] for e in self.queue.get(3)], [0, 1, 2])
        self.assertEqual([e["i"] for e in self.queue.get("3")], [3])

    def test_badMaxCount(self):
        self.queue.add("x", {})
        for bad in (0, -1, "many", 1.5j):
            self.assertRaises(BadValue, self.queue.get, bad)
        self.assertEqual(len(self.queue), 1)

    def test_page(self):
        """
        One call returns at most PAGE_SIZE events.
        """
        queue = EventQueue(self.clock, maxSize=PAGE_SIZE + 10)
        for i in range(PAGE_SIZE + 5):
            queue.add("x", {"i": i})
        self.assertEqual(len(queue.get()), PAGE_SIZE)
        self.assertEqual(len(queue.get(10 ** 9)), 5)

    def test_overflowReported(self):
        """
        When the queue is full new events are dropped and counted; an
        events_lost event takes their place as soon as there is room.
        """
        for i in range(8):
            self.queue.add("x", {"i": i})
        self.assertEqual(len(self.queue), 5)
        self.assertEqual(self.queue.lost, 3)
        events = self.queue.get(100)
        self.assertEqual([e["type"] for e in events], ["x"] * 5 + ["events_lost"])
        lost = events[-1]
        self.assertEqual(
            (lost["count"], lost["first_event_id"], lost["last_event_id"], lost["event_id"]),
            (3, 6, 8, 9),
        )
        self.assertEqual(self.queue.lost, 0)

    def test_overflowBeforeNewer(self):
        """
        The loss report comes before any event queued after room was made.
        """
        for i in range(6):
            self.queue.add("x", {"i": i})
        self.assertEqual([e["i"] for e in self.queue.get(1)], [0])
        self.queue.add("x", {"i": 99})
        self.assertEqual(self.queue.lost, 1)
        events = self.queue.get(100)
        self.assertEqual(
            [(e["type"], e.get("i"), e.get("count")) for e in events],
            [("x", 1, None), ("x", 2, None), ("x", 3, None), ("x", 4, None),
             ("events_lost", None, 1), ("events_lost", None, 1)],
        )
        # 99 arrived while the first report filled the last slot: the
        # second report stands for it.
        self.assertEqual(events[-1]["first_event_id"], 8)
        self.assertEqual(self.queue.lost, 0)
        self.queue.add("x", {"i": 100})
        self.assertEqual([e.get("i") for e in self.queue.get()], [100])

    def test_parseSize(self):
        self.assertEqual(parseSize("10"), 10)
        for bad in ("0", "1", "-5", "lots", None):
            self.assertRaises(BadValue, parseSize, bad)
        self.assertRaises(BadValue, self.queue.setMaxSize, "x")
        self.assertEqual(self.queue.maxSize, 5)


class SimulatorCase(unittest.TestCase):
    """
    A simulator on a test clock with engine e1 and book AAPL.
    """

    def setUp(self):
        self.clock = Clock()
        self.simulator = Simulator(self.clock)
        self.simulator.create_engine("e1")
        self.simulator.create_book("AAPL", "e1", "AAPL")
        self.engine = self.simulator.engines["e1"]


class EngineEventTests(SimulatorCase):

    def test_verifyListener(self):
        listener = EngineEventListener(self.simulator.events, "e1", self.engine)
        self.assertTrue(verifyObject(IEngineListener, listener))

    def test_engineEvents(self):
        """
        Engine events are queued with the engine name and decimal prices.
        """
        self.engine.submitNew(Order("ep/A", "c1", "AAPL", Side.BUY, 10, 1015000))
        self.engine.submitNew(Order("ep/B", "c2", "AAPL", Side.SELL, 4, 1015000))
        events = self.simulator.get_events()
        types = [e["type"] for e in events]
        self.assertEqual(types[:3], ["accepted", "added", "book_changed"])
        self.assertIn("trade", types)
        self.assertTrue(all(e["engine"] == "e1" for e in events))
        fills = [e for e in events if e["type"] == "filled"]
        self.assertEqual(len(fills), 2)
        self.assertEqual({f["price"] for f in fills}, {"101.50"})
        self.assertEqual({f["avg_px"] for f in fills}, {"101.5"})
        self.assertEqual(events[0]["price"], "101.50")
        self.assertEqual(events[0]["owner"], "ep/A")
        ids = [e["event_id"] for e in events]
        self.assertEqual(ids, list(range(1, len(ids) + 1)))

    def test_sessionEvents(self):
        """
        Session events reported by endpoints reach the queue.
        """
        self.simulator.reportEvent("logon", endpoint="fix1", session="CLIENT")
        self.assertEqual(
            self.simulator.get_events(),
            [{"event_id": 1, "type": "logon", "time": 0.0, "endpoint": "fix1", "session": "CLIENT"}],
        )

    def test_deletedEngine(self):
        """
        A deleted engine's later events are not queued.
        """
        engine = self.engine
        self.simulator.delete_engine("e1")
        self.simulator.get_events()
        engine.addBook(Instrument("X"))
        engine.submitNew(Order("ep/A", "c1", "X", Side.BUY, 10, 10000))
        self.assertEqual(self.simulator.get_events(), [])

    def test_formatPrice(self):
        instrument = Instrument("X")
        self.assertEqual(formatPrice(instrument, 1000000), "100.00")
        self.assertEqual(formatPrice(instrument, 1000050), "100.005")
        instrument.tickSize = 10000
        self.assertEqual(formatPrice(instrument, 1000000), "100")


class LazyConversionTests(SimulatorCase):
    """
    Engine events are queued as batches and become dicts when taken.
    """

    def test_reportsStateWhenHappened(self):
        """
        An event taken after its order changed again still reports the
        order as it was when the event happened.
        """
        order = self.engine.submitNew(Order("ep/A", "c1", "AAPL", Side.BUY, 10, 1015000))
        self.engine.submitNew(Order("ep/B", "c2", "AAPL", Side.SELL, 4, 1015000))
        self.clock.advance(5)
        self.engine.submitCancel("ep/A", "c3", origClOrdId="c1")
        self.assertEqual(order.leavesQty, 0)
        events = self.simulator.get_events()
        accepted = events[0]
        self.assertEqual((accepted["type"], accepted["leaves_qty"], accepted["status"]), ("accepted", 10, "new"))
        mine = [e for e in events if e["type"] == "filled" and e["order_id"] == order.orderId][0]
        self.assertEqual((mine["cum_qty"], mine["leaves_qty"], mine["status"]), (4, 6, "partially_filled"))
        cancelled = events[-1]
        self.assertEqual((cancelled["type"], cancelled["cancelled_qty"]), ("cancelled", 6))
        self.assertEqual(cancelled["time"], accepted["time"] + 5)
        ids = [e["event_id"] for e in events]
        self.assertEqual(ids, list(range(ids[0], ids[0] + len(ids))))

    def test_pagesSplitBatches(self):
        self.engine.submitNew(Order("ep/A", "c1", "AAPL", Side.BUY, 10, 1015000))
        first = self.simulator.events.get(2)
        self.assertEqual([e["type"] for e in first], ["accepted", "added"])
        self.assertEqual(len(self.simulator.events), 1)
        rest = self.simulator.events.get()
        self.assertEqual([e["type"] for e in rest], ["book_changed"])
        self.assertEqual(rest[0]["event_id"], first[1]["event_id"] + 1)

    def test_peekAroundPartialTake(self):
        """
        A batch can be peeked at before anything of it is taken, partly
        taken, peeked at again (with and without C{after}) and taken to
        its end: every look gives the same dicts for the same ids.
        """
        queue = self.simulator.events
        self.engine.submitNew(Order("ep/A", "c1", "AAPL", Side.BUY, 10, 1015000))
        self.engine.submitNew(Order("ep/B", "c2", "AAPL", Side.SELL, 4, 1015000))
        whole = queue.peek()
        self.assertEqual(queue.peek(), whole)
        ids = [e["event_id"] for e in whole]
        self.assertEqual(ids, list(range(ids[0], ids[0] + len(ids))))
        first = queue.get(2)
        self.assertEqual(first, whole[:2])
        self.assertEqual(queue.peek(), whole[2:])
        self.assertEqual(queue.peek(2, after=whole[3]["event_id"]), whole[4:6])
        self.assertEqual(queue.get(), whole[2:])
        self.assertEqual(queue.peek(), [])
        self.assertEqual(len(queue), 0)

    def test_batchOverflow(self):
        """
        A batch larger than the room left keeps what fits; the rest is
        reported lost, with its ids.
        """
        self.simulator.events.setMaxSize(2)
        self.engine.submitNew(Order("ep/A", "c1", "AAPL", Side.BUY, 10, 1015000))
        self.assertEqual(self.simulator.events.lost, 1)
        events = self.simulator.events.get(10)
        self.assertEqual([e["type"] for e in events], ["accepted", "added", "events_lost"])
        lost = events[-1]
        self.assertEqual((lost["count"], lost["first_event_id"]), (1, events[1]["event_id"] + 1))


class ActivityFilterTests(SimulatorCase):
    """
    The background activity's own events stay out of the queue (unless
    asked for); a client's events with it do not.
    """


    def background(self, clOrdId, side, quantity=10):
        return self.engine.submitNew(
            Order("house/AAPL", clOrdId, "AAPL", side, quantity, 1015000), neverHeld=True
        )

    def test_hiddenByDefault(self):
        order = self.background("A1", Side.SELL)
        self.engine.submitCancel("house/AAPL", "A2", orderId=order.orderId, neverHeld=True)
        self.assertEqual(self.simulator.get_events(), [])

    def test_firstBackgroundOwner(self):
        """
        The queue looks for background orders once any background owner
        exists (L{exsim.owners.Owner.anyBackground}): the first one's own
        events are left out too.
        """
        from exsim.owners import Owner

        self.patch(Owner, "anyBackground", False)
        self.engine.submitNew(Order("ep/A", "c1", "AAPL", Side.BUY, 4, 1015000))
        self.assertEqual(len(self.simulator.get_events()), 3)
        self.engine.submitNew(
            Order("replay/first-%d" % id(self), "R1", "AAPL", Side.BUY, 4, 1010000), neverHeld=True
        )
        self.assertEqual(self.simulator.get_events(), [])

    def test_clientTradeWithActivityKept(self):
        self.engine.submitNew(Order("ep/A", "c1", "AAPL", Side.BUY, 4, 1015000))
        self.simulator.get_events()
        self.background("A1", Side.SELL)
        events = self.simulator.get_events()
        self.assertEqual([e["type"] for e in events], ["filled", "trade"])
        self.assertEqual(events[0]["owner"], "ep/A")

    def test_controlHouseOrdersKept(self):
        self.engine.submitNew(Order("house", "h1", "AAPL", Side.BUY, 4, 1015000), neverHeld=True)
        self.assertEqual(len(self.simulator.get_events()), 3)

    def test_askedFor(self):
        self.simulator.events.activityEvents = True
        self.background("A1", Side.SELL)
        self.assertEqual([e["type"] for e in self.simulator.get_events()], ["accepted", "added", "book_changed"])

    def test_configKey(self):
        from exsim import config

        sections = config.parse("[control]\nusers = a:b\nactivity_events = yes\n", "sim.ini")
        config.apply(sections, self.simulator)
        self.assertTrue(self.simulator.events.activityEvents)
        other = Simulator(self.clock)
        e = self.assertRaises(
            Exception, config.apply, config.parse("[control]\nusers = a:b\nactivity_events = maybe\n", "sim.ini"), other
        )
        self.assertIn("sim.ini:3", str(e))

    def test_stopServiceStopsActivity(self):
        self.simulator.set_book_property("AAPL", "reference_price", "100")
        self.simulator.set_book_property("AAPL", "activity", "fast")
        self.simulator.startService()
        self.clock.advance(1)
        self.assertTrue(self.clock.getDelayedCalls())
        self.simulator.stopService()
        self.assertEqual(
            [c for c in self.clock.getDelayedCalls() if c.active()], []
        )
