"""
The engine journal (L{exsim.journal}): live orders, client order ids and
id counters survive a restart of the simulator (issue 11, defect 9).
"""

import json
import os

from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import TestCase

from exsim import journal as journalModule
from exsim.errors import BadValue
from exsim.journal import JournalError, read
from exsim.model import AdvancedTerms, Order, OrdStatus, OrdType, Side, TimeInForce
from exsim.service import Simulator
from exsim.soup import itch50
from tests import fixsession_helpers


def _limit(owner, clOrdId, side, quantity, price):
    return Order(owner, clOrdId, "AAPL", side, quantity, price, OrdType.LIMIT, TimeInForce.DAY)


class Venue:
    """
    A simulator with engine C{e1} journalled in C{directory}, book AAPL,
    and a FIX endpoint (in memory).
    """

    def __init__(self, directory, sync=None, itch=False, engineClass="matching"):
        self.reactor = MemoryReactorClock()
        self.reactor.advance(fixsession_helpers.START)
        self.simulator = Simulator(self.reactor)
        self.simulator.create_engine("e1", engineClass)
        if sync is not None:
            self.simulator.set_engine_property("e1", "journal_sync", sync)
        self.simulator.set_engine_property("e1", "journal", directory)
        self.simulator.create_book("AAPL", "e1")
        self.simulator.create_endpoint(
            "fix1", "e1", "fix", sender_comp_id="EXSIM", target_comp_id="*",
        )
        self.simulator.start_endpoint("fix1")
        self.factory = self.simulator.endpoint("fix1").factory
        self.engine = self.simulator.engine("e1")
        if itch:
            self.simulator.create_endpoint("itch1", "e1", "itch")
            self.simulator.start_endpoint("itch1")

    def client(self, compId, port=40000):
        client = fixsession_helpers.Client(self.factory, compId=compId, port=port)
        [logon] = client.logon()
        assert logon.msgType == "A", logon
        return client

    def order(self, client, clOrdId, side, quantity, price, account=None):
        fields = [
            (11, clOrdId), (55, "AAPL"), (54, side), (38, quantity), (40, "2"),
            (44, price), (59, "0"), (60, fixsession_helpers.stamp(self.reactor.seconds())),
        ]
        if account is not None:
            fields.append((1, account))
        return [(m.get(150), m.get(39)) for m in client.send("D", fields) if m.msgType == "8"]

    def stop(self):
        self.simulator.stopService()
        for journal in self.simulator.journals.values():
            journal.close()


class RestartTests(TestCase):
    """
    (On the fast engine; L{ReferenceRestartTests}: the reference engine.)
    """

    engineClass = "matching"

    def setUp(self):
        self.directory = self.mktemp()

    def test_liveOrdersSurvive(self):
        venue = Venue(self.directory, engineClass=self.engineClass)
        alice = venue.client("ALICE")
        bob = venue.client("BOB", port=40001)
        self.assertEqual(venue.order(alice, "A1", "2", 100, "10.00", account="ACC1"), [("0", "0")])
        self.assertEqual(venue.order(alice, "A2", "2", 50, "10.00"), [("0", "0")])
        self.assertEqual(venue.order(alice, "A3", "2", 70, "10.01"), [("0", "0")])
        self.assertEqual(venue.order(bob, "B1", "1", 30, "10.00"), [("0", "0"), ("F", "2")])
        self.assertEqual([m.get(39) for m in alice.received()], ["1"])
        self.assertEqual(venue.order(alice, "A4", "2", 10, "10.02"), [("0", "0")])
        cancel = alice.send("F", [(11, "A5"), (41, "A4"), (55, "AAPL"), (54, "2"),
                                  (60, fixsession_helpers.stamp(venue.reactor.seconds()))])
        self.assertEqual([m.get(39) for m in cancel if m.msgType == "8"], ["4"])
        before = [(o.orderId, o.clOrdId, o.cumQty, o.leavesQty, o.price)
                  for o in venue.engine.getBook("AAPL").orders(False)]
        venue.stop()

        again = Venue(self.directory, itch=True, engineClass=self.engineClass)
        book = again.engine.getBook("AAPL")
        after = [(o.orderId, o.clOrdId, o.cumQty, o.leavesQty, o.price)
                 for o in book.orders(False)]
        self.assertEqual(after, before)
        self.assertEqual(after[0][1:4], ("A1", 30, 70))
        book.validateInternalState()
        # The ITCH feed shows them.
        feed = [itch50.decode(p) for p in again.simulator.endpoint("itch1").factory.stream.messages()]
        self.assertEqual(len([m for m in feed if m[0] == b"A"]), 3)
        # Protocol fields came back: the Account is echoed on the fill.
        alice = again.client("ALICE")
        bob = again.client("BOB", port=40001)
        self.assertEqual(again.order(bob, "B2", "1", 70, "10.00"), [("0", "0"), ("F", "2")])
        [fill] = [m for m in alice.received() if m.msgType == "8"]
        self.assertEqual((fill.get(11), fill.get(1), fill.get(14), fill.get(39)),
                         ("A1", "ACC1", "100", "2"))
        # Used client order ids are still refused, and ids continue.
        [(execType, status)] = again.order(alice, "A4", "2", 10, "10.02")
        self.assertEqual(status, "8")
        [order] = [o for o in book.orders(False) if o.clOrdId == "A3"]
        cancel = alice.send("F", [(11, "A6"), (41, "A3"), (55, "AAPL"), (54, "2"),
                                  (60, fixsession_helpers.stamp(again.reactor.seconds()))])
        self.assertEqual([m.get(39) for m in cancel if m.msgType == "8"], ["4"])
        self.assertEqual(again.order(alice, "A7", "2", 1, "11"), [("0", "0")])
        self.assertGreater(again.engine.findOrder("fix1/ALICE", "A7").orderId, before[-1][0])
        again.stop()

    def test_priorityKept(self):
        """
        A replace that lost time priority restores behind the orders it
        went behind.
        """
        venue = Venue(self.directory, engineClass=self.engineClass)
        alice = venue.client("ALICE")
        venue.order(alice, "A1", "1", 10, "10")
        venue.order(alice, "A2", "1", 10, "10")
        replace = alice.send("G", [(11, "A1b"), (41, "A1"), (55, "AAPL"), (54, "1"), (38, 20),
                                   (40, "2"), (44, "10"),
                                   (60, fixsession_helpers.stamp(venue.reactor.seconds()))])
        self.assertEqual([m.get(150) for m in replace if m.msgType == "8"], ["5"])
        before = [o.clOrdId for o in venue.engine.getBook("AAPL").orders(True)]
        self.assertEqual(before, ["A2", "A1b"])
        venue.stop()
        again = Venue(self.directory, engineClass=self.engineClass)
        self.assertEqual([o.clOrdId for o in again.engine.getBook("AAPL").orders(True)], before)
        again.stop()

    def test_dayEndForgetsFinishedIds(self):
        venue = Venue(self.directory, engineClass=self.engineClass)
        alice = venue.client("ALICE")
        venue.order(alice, "A1", "1", 10, "10")
        alice.send("F", [(11, "A2"), (41, "A1"), (55, "AAPL"), (54, "1"),
                         (60, fixsession_helpers.stamp(venue.reactor.seconds()))])
        venue.simulator.end_of_day("e1")
        venue.stop()
        again = Venue(self.directory, engineClass=self.engineClass)
        alice = again.client("ALICE")
        self.assertEqual(again.order(alice, "A1", "1", 10, "10"), [("0", "0")])
        again.stop()

    def test_compacted(self):
        venue = Venue(self.directory, engineClass=self.engineClass)
        alice = venue.client("ALICE")
        for i in range(20):
            venue.order(alice, "A%d" % i, "1", 10, "10")
            alice.send("F", [(11, "C%d" % i), (41, "A%d" % i), (55, "AAPL"), (54, "1"),
                             (60, fixsession_helpers.stamp(venue.reactor.seconds()))])
        venue.order(alice, "LIVE", "1", 10, "10")
        venue.stop()
        path = os.path.join(self.directory, "e1.journal")
        with open(path) as f:
            longBefore = len(f.readlines())
        again = Venue(self.directory, engineClass=self.engineClass)
        again.stop()
        with open(path) as f:
            lines = [json.loads(line) for line in f]
        self.assertLess(len(lines), longBefore)
        self.assertEqual([r["c"] for r in lines if r.get("k") == "add"], ["LIVE"])

    def test_activityNotJournalled(self):
        venue = Venue(self.directory, engineClass=self.engineClass)
        venue.simulator.set_book_property("AAPL", "reference_price", "10")
        venue.simulator.set_book_property("AAPL", "activity", "fast")
        venue.reactor.advance(2)
        self.assertTrue(venue.engine.liveOrders())
        venue.stop()
        again = Venue(self.directory, engineClass=self.engineClass)
        self.assertEqual(again.engine.liveOrders(), [])
        again.stop()


    def test_liveOffTheBookStaysOff(self):
        """
        A live order that was not resting (accepted and partly filled by a
        behaviour, say) is restored live but not put in the book, which
        could leave it crossed.
        """
        venue = Venue(self.directory, engineClass=self.engineClass)
        engine = venue.engine
        resting = _limit("a", "R1", Side.BUY, 10, 100000)
        offBook = _limit("a", "R2", Side.SELL, 10, 90000)
        offBook.orderId, resting.orderId = 7, 8
        offBook.status = resting.status = OrdStatus.NEW
        resting.resting, offBook.resting = True, False
        engine.restoreOrders([resting, offBook], (), (8, 0, 0))
        book = engine.getBook("AAPL")
        self.assertEqual([o.clOrdId for o in book.orders()], ["R1"])
        self.assertIs(engine.getOrder(7), offBook)
        self.assertFalse(offBook.resting)
        book.validateInternalState()
        venue.stop()

    def test_advancedOrdersSurvive(self):
        """
        Orders with advanced terms (issue 13) come back with them: an
        iceberg shows its slice again, a hidden order stays hidden, a
        waiting stop waits (with its replaced stop price) and triggers
        after the restart, a triggered stop-limit rests as a limit order, a
        midpoint peg is priced again; minimum quantity, post-only and the
        self-trade prevention id are kept.
        """
        venue = Venue(self.directory, engineClass=self.engineClass)

        def submit(engine, clOrdId, side, quantity, price, ordType=OrdType.LIMIT, **terms):
            order = Order(
                "fix1/ALICE", clOrdId, "AAPL", side, quantity, price, ordType, TimeInForce.DAY,
                extra=AdvancedTerms(**terms) if terms else None,
            )
            engine.submitNew(order)
            return order

        def state(engine):
            book = engine.getBook("AAPL")
            book.validateInternalState()
            live = sorted(
                (o.clOrdId, o.price, o.cumQty, o.leavesQty, o.status, o.resting) + (
                    () if o.extra is None else (
                        o.extra.stopPx, o.extra.displayQty, o.extra.minQty, o.extra.postOnly,
                        o.extra.stpId, o.extra.cap, o.extra.triggered,
                    )
                )
                for o in engine.liveOrders()
            )
            return (
                book.depth(True, None), book.depth(False, None),
                book.hiddenDepth(True, None), book.hiddenDepth(False, None),
                [o.clOrdId for o in book.waitingStops()], live,
            )

        engine = venue.engine
        submit(engine, "bid", Side.BUY, 20, 100000)
        submit(engine, "hit", Side.SELL, 5, 100000)
        submit(engine, "ice", Side.SELL, 100, 100500, displayQty=10)
        submit(engine, "hid", Side.SELL, 50, 100400, displayQty=0, minQty=5)
        submit(engine, "top", Side.SELL, 10, 103000)
        submit(engine, "peg", Side.BUY, 10, 100300, OrdType.PEGGED, stpId="x")
        submit(engine, "post", Side.BUY, 10, 99900, postOnly=True)
        stop = submit(engine, "stop", Side.BUY, 10, None, OrdType.STOP, stopPx=102000)
        engine.submitReplace("fix1/ALICE", "stop2", origClOrdId="stop", stopPx=103000)
        # The last trade (10.00) is through its stop price: it triggers at
        # once and rests at its limit.
        triggered = submit(engine, "sl", Side.BUY, 10, 99500, OrdType.STOP_LIMIT, stopPx=99000)
        self.assertTrue(triggered.extra.triggered and triggered.resting)
        self.assertTrue(stop.extra.stopPx == 103000 and not stop.extra.triggered)
        before = state(engine)
        self.assertEqual(before[0], [(100000, 15, 1), (99900, 10, 1), (99500, 10, 1)])
        self.assertEqual(before[1], [(100500, 10, 1), (103000, 10, 1)])
        self.assertEqual(before[4], ["stop2"])
        venue.stop()

        again = Venue(self.directory, engineClass=self.engineClass)
        engine = again.engine
        self.assertEqual(state(engine), before)
        # The restored stop triggers on a trade at its stop price.
        stop = engine.findOrder("fix1/ALICE", "stop2")
        self.assertFalse(stop.extra.triggered)
        submit(engine, "take", Side.BUY, 170, 103000)
        self.assertTrue(stop.extra.triggered)
        self.assertEqual(engine.getBook("AAPL").waitingStops(), [])
        again.stop()


class ReferenceRestartTests(RestartTests):
    engineClass = "reference"


class FileTests(TestCase):
    def setUp(self):
        self.directory = self.mktemp()
        venue = Venue(self.directory)
        alice = venue.client("ALICE")
        venue.order(alice, "A1", "1", 10, "10")
        venue.order(alice, "A2", "1", 10, "10")
        venue.stop()
        self.path = os.path.join(self.directory, "e1.journal")

    def test_cutShortLastLineIgnored(self):
        with open(self.path, "a") as f:
            f.write('{"k":"add","o":9')
        state = read(self.path)
        self.assertEqual(sorted(state.orders), [1, 2])

    def test_badLineNamed(self):
        with open(self.path) as f:
            lines = f.readlines()
        lines.insert(2, "garbage\n")
        with open(self.path, "w") as f:
            f.writelines(lines)
        error = self.assertRaises(JournalError, read, self.path)
        self.assertIn("e1.journal:3:", str(error))
        error = self.assertRaises(BadValue, Venue, self.directory)
        self.assertIn("e1.journal:3:", str(error))

    def test_notAJournal(self):
        with open(self.path, "w") as f:
            f.write("hello\n")
        self.assertRaises(JournalError, read, self.path)


class SyncTests(TestCase):
    def fsyncs(self, sync):
        calls = []
        self.patch(journalModule.os, "fsync", lambda fd: calls.append(fd))
        venue = Venue(self.mktemp(), sync=sync)
        start = len(calls)
        alice = venue.client("ALICE")
        venue.order(alice, "A1", "1", 10, "10")
        venue.stop()
        return len(calls) - start

    def test_none(self):
        self.assertEqual(self.fsyncs("none"), 0)

    def test_batch(self):
        # One batch: Accepted, Added.
        self.assertEqual(self.fsyncs("batch"), 1)

    def test_always(self):
        self.assertEqual(self.fsyncs("always"), 2)

    def test_bad(self):
        simulator = Simulator(MemoryReactorClock())
        simulator.create_engine("e1")
        self.assertRaises(BadValue, simulator.set_engine_property, "e1", "journal_sync", "often")

    def test_journalIsFirstListener(self):
        """
        The journal has written a batch before any protocol reports it.
        """
        venue = Venue(self.mktemp())
        journal = venue.simulator.journals["e1"]
        seen = []
        session = venue.client("ALICE")
        original = venue.factory.sessions["ALICE"].sendEncoded

        def sendEncoded(msgType, body):
            with open(journal.path) as f:
                seen.append(f.read().count('"c":"A1"'))
            return original(msgType, body)

        venue.factory.sessions["ALICE"].sendEncoded = sendEncoded
        venue.factory.application._routes.clear()
        venue.factory.application.sessionLoggedOn(venue.factory.sessions["ALICE"])
        venue.order(session, "A1", "1", 10, "10")
        # Accepted and Added were written before the first report.
        self.assertTrue(seen)
        self.assertEqual(seen[0], 2)
        venue.stop()
