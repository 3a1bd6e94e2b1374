# -*- test-case-name: tests.test_replay -*-
"""
Tests for L{exsim.replay}: recordings made here (an ITCH file written with
exsim's own encoder and read back with the third-party itchfeed parser, a
LOBSTER message file, a quotes CSV) replayed into books of both engine
classes on a task.Clock.
"""

import gzip
import os
import random
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itch.parser import MessageParser
from twisted.internet.task import Clock
from twisted.trial.unittest import SynchronousTestCase

from exsim import config
from exsim.errors import BadValue, ConfigError, UnknownName, WrongState
from exsim.fix.orders import OrderEntry
from exsim.model import Instrument, Order, Side
from exsim.owners import replayOwner
from exsim.replay import itch as itchFormat
from exsim.replay import lobster, quotes
from exsim.replay.player import Replay, newOrder
from exsim.replay.recording import ReplayError, formatTime, parseTime
from exsim.service import Simulator
from exsim.soup import itch50
from exsim.testing.itch import BookView, decodeItch
from tests.fixfakes import FakeEndpoint, FakeSession, fieldDict, nos

#: 09:30 in nanoseconds since midnight.
OPEN = 34200 * 10**9
SECOND = 10**9
AAPL, MSFT = 3, 7


def writeItch(path, payloads):
    """
    Write ITCH messages as Nasdaq's files hold them: each preceded by its
    length, two bytes big-endian.
    """
    with open(path, "wb") as f:
        for payload in payloads:
            f.write(struct.pack(">H", len(payload)) + payload)


def directory():
    """
    The start of a day: system event, stock directory of two symbols.
    """
    return [
        itch50.systemEvent(0, OPEN - SECOND, b"O"),
        itch50.stockDirectory(MSFT, 0, OPEN - SECOND, "MSFT"),
        itch50.stockDirectory(AAPL, 0, OPEN - SECOND, "AAPL"),
    ]


def randomDay(seed, count=400, symbol="AAPL", locate=AAPL):
    """
    A random but consistent recorded day: adds, executions (with and
    without price), cancels, deletes, replaces and trades of AAPL, mixed
    with MSFT messages; the book is never crossed.
    """
    rnd = random.Random(seed)
    out = directory()
    live = {}
    reference = 0
    match = 0
    now = OPEN
    for i in range(count):
        now += rnd.randint(1, SECOND // 10)
        r = rnd.random()
        if r < 0.45 or not live:
            reference += 1
            buy = rnd.random() < 0.5
            price = 1500000 - rnd.randint(1, 10) * 100 if buy else 1500000 + rnd.randint(1, 10) * 100
            shares = rnd.randint(1, 9) * 100
            live[reference] = [buy, shares, price]
            out.append(itch50.addOrder(locate, 0, now, reference, b"B" if buy else b"S", shares, symbol, price))
        else:
            ref = rnd.choice(sorted(live))
            buy, shares, price = live[ref]
            if r < 0.6:
                out.append(itch50.orderDelete(locate, 0, now, ref))
                del live[ref]
            elif r < 0.7 or r < 0.75:
                done = rnd.randint(1, shares)
                match += 1
                if r < 0.7:
                    out.append(itch50.orderExecuted(locate, 0, now, ref, done, match))
                else:
                    out.append(itch50.orderExecutedWithPrice(locate, 0, now, ref, done, match, price))
                live[ref][1] -= done
                if not live[ref][1]:
                    del live[ref]
            elif r < 0.85:
                done = rnd.randint(1, shares)
                out.append(itch50.orderCancel(locate, 0, now, ref, done))
                live[ref][1] -= done
                if not live[ref][1]:
                    del live[ref]
            elif r < 0.95:
                reference += 1
                newPrice = price + (-100 if buy else 100)
                newShares = rnd.randint(1, 9) * 100
                out.append(itch50.orderReplace(locate, 0, now, ref, reference, newShares, newPrice))
                del live[ref]
                live[reference] = [buy, newShares, newPrice]
            else:
                match += 1
                out.append(itch50.trade(locate, 0, now, 100, symbol, 1500000, match))
        if rnd.random() < 0.1:
            out.append(itch50.addOrder(MSFT, 0, now, 10**6 + i, b"B", 100, "MSFT", 3000000))
    return out


class TurnClock(Clock):
    """
    A L{Clock} whose C{advance} runs, as one turn of a reactor does, only
    the calls that were due when it began: calls they schedule (a replay's
    next chunk) wait for the next C{advance}.
    """

    def advance(self, amount):
        self.rightNow += amount
        self._sortCalls()
        due = [call for call in self.calls if call.getTime() <= self.seconds()]
        for call in due:
            if call in self.calls:
                self.calls.remove(call)
                call.called = 1
                call.func(*call.args, **call.kw)


class Harness:
    """
    A simulator on a Clock whose data directory is a test's temporary
    directory, with an engine of C{engineClass} and a book AAPL.
    """

    engineClass = "matching"

    def setUpSimulator(self):
        self.dir = os.path.abspath(self.mktemp())
        os.makedirs(self.dir)
        self.clock = TurnClock()
        self.clock.advance(1700000000)
        self.sim = Simulator(self.clock)
        self.sim.dataDir = self.dir
        self.sim.create_engine("e1", self.engineClass)
        self.sim.create_book("AAPL", "e1")
        self.engine = self.sim.engines["e1"]

    def path(self, name):
        return os.path.join(self.dir, name)

    def writeItch(self, name, payloads):
        writeItch(self.path(name), payloads)
        return name

    def write(self, name, text):
        with open(self.path(name), "w") as f:
            f.write(text)
        return name

    def replay(self, book="AAPL"):
        return self.sim.replays.get(book)

    def pump(self, book="AAPL", limit=100000):
        """
        Run a replay at max speed to its end.
        """
        replay = self.replay(book)
        for _ in range(limit):
            if replay.state != "running":
                return replay
            self.clock.advance(0)
        self.fail("the replay did not end")

    def events(self, *types):
        return [e for e in self.sim.get_events() if not types or e["type"] in types]

    def depth(self, book="AAPL"):
        b = self.sim.book(book)[1]
        return b.depth(True, 1000), b.depth(False, 1000)


class ItchFileTests(SynchronousTestCase):
    """
    The ITCH files the tests write are ITCH files: itchfeed (a third-party
    parser) reads every message back with its fields.
    """

    def test_itchfeedReadsIt(self):
        path = self.mktemp()
        payloads = randomDay(1, 200)
        writeItch(path, payloads)
        with open(path, "rb") as f:
            parsed = list(MessageParser().parse_file(f))
        self.assertEqual(len(parsed), len(payloads))
        for message, payload in zip(parsed, payloads):
            self.assertEqual(message.message_type, payload[:1])
            self.assertEqual(message.to_bytes(), payload)
        adds = [m for m in parsed if m.message_type == b"A"]
        ours = [decodeItch(p) for p in payloads if p[:1] == b"A"]
        self.assertEqual(
            [(m.order_reference_number, m.shares, m.stock.rstrip(b" ").decode()) for m in adds],
            [(m["order_reference"], m["shares"], m["stock"]) for m in ours],
        )


class ItchReplayMixin(Harness):
    """
    ITCH replays (run on both engine classes).
    """

    def setUp(self):
        self.setUpSimulator()

    def test_rebuildsRecordedBookAtEachStep(self):
        """
        Applied one message at a time, the book equals the recorded book
        (rebuilt from the same file by exsim.testing.itch.BookView) after
        every message of the symbol.
        """
        payloads = randomDay(7, 300)
        name = self.writeItch("day.itch", payloads)
        self.patch(Replay, "chunk", 1)
        self.sim.start_replay("AAPL", name, speed="max")
        replay = self.replay()
        view = BookView()
        steps = 0
        for payload in payloads:
            message = decodeItch(payload)
            view.apply(message)
            ours = message.msg_type in "AFECXDUP" and message["stock_locate"] == AAPL
            if not ours:
                continue
            self.clock.advance(0)
            steps += 1
            self.assertEqual(replay.counts["messages"], steps)
            recorded = view.get_book("AAPL", depth=1000)
            book = self.sim.get_book("AAPL", depth=1000)
            self.assertEqual((book["bids"], book["asks"]), (recorded["bids"], recorded["asks"]), steps)
        self.pump()
        self.assertEqual(replay.state, "finished")
        self.assertEqual(replay.counts["conflicts"], 0)
        self.assertEqual(replay.counts["unknown"], 0)
        self.assertEqual(replay.counts["rejected"], 0)
        self.assertGreater(replay.counts["executions"], 10)
        self.assertGreater(replay.counts["replaces"], 10)
        self.assertEqual(replay.liveOrders(), len(self.sim.book("AAPL")[1].orders()))
        self.engine.books["AAPL"].validateInternalState()

    def test_gzip(self):
        payloads = randomDay(3, 100)
        writeItch(self.path("day.itch"), payloads)
        with open(self.path("day.itch"), "rb") as f, gzip.open(self.path("day.itch.gz"), "wb") as g:
            g.write(f.read())
        self.sim.start_replay("AAPL", "day.itch.gz", speed="max")
        self.pump()
        view = BookView()
        for payload in payloads:
            view.apply(decodeItch(payload))
        recorded = view.get_book("AAPL", depth=1000)
        book = self.sim.get_book("AAPL", depth=1000)
        self.assertEqual((book["bids"], book["asks"]), (recorded["bids"], recorded["asks"]))
        self.assertEqual(self.replay().describe()["format"], "itch")

    def twoOrders(self):
        """
        A recording: a resting sell of 300 at 150.00 at 09:30:00, its
        execution of 300 a second later; a buy of 100 at 149.00 that is
        cancelled at 09:30:02.
        """
        return self.writeItch("two.itch", directory() + [
            itch50.addOrder(AAPL, 0, OPEN, 1, b"S", 300, "AAPL", 1500000),
            itch50.addOrder(AAPL, 0, OPEN, 2, b"B", 100, "AAPL", 1490000),
            itch50.orderExecuted(AAPL, 0, OPEN + SECOND, 1, 300, 77),
            itch50.orderDelete(AAPL, 0, OPEN + 2 * SECOND, 2),
        ])

    def test_clientTradesThenRecordingExecutes(self):
        """
        A client order takes 100 of a replayed sell of 300; the recording
        then executes all 300 of it: the replay executes the 200 left and
        counts a conflict.
        """
        endpoint = FakeEndpoint(self.engine, self.clock)
        app = OrderEntry(endpoint)
        client = FakeSession(endpoint, "CLIENT", "FIX.4.4")
        app.sessionLoggedOn(client)
        self.sim.start_replay("AAPL", self.twoOrders(), speed=1)
        self.clock.advance(0)
        self.assertEqual(self.depth(), ([(1490000, 100, 1)], [(1500000, 300, 1)]))
        app.fromApp(client, nos("c1", side="1", qty="100", price="150.00"))
        fills = [fieldDict(f) for t, f in client.takeRaw() if t == "8"]
        self.assertEqual([(f[150], f.get(32), f.get(31)) for f in fills], [("0", None, None), ("F", "100", "150")])
        self.assertEqual(self.depth(), ([(1490000, 100, 1)], [(1500000, 200, 1)]))
        self.clock.advance(1)
        replay = self.replay()
        self.assertEqual(replay.counts["executions"], 1)
        self.assertEqual(replay.counts["conflicts"], 1)
        self.assertEqual(self.depth(), ([(1490000, 100, 1)], []))
        book = self.sim.get_book("AAPL")
        self.assertEqual((book["last"], book["last_quantity"], book["volume"]), ("150.00", 200, 300))
        self.clock.advance(1)
        self.assertEqual(self.depth(), ([], []))
        self.assertEqual(replay.state, "finished")
        self.assertEqual(replay.counts["conflicts"], 1)
        finished = self.events("replay_finished")
        self.assertEqual(
            [(e["state"], e["messages"], e["orders"], e["conflicts"]) for e in finished],
            [("finished", 4, 2, 1)],
        )

    def test_cancelsAndReplacesAfterClientTook(self):
        """
        What clients took of an order stays taken: a recorded cancel or
        replace applies what is left of it, never less than nothing.
        """
        name = self.writeItch("day.itch", directory() + [
            itch50.addOrder(AAPL, 0, OPEN, 1, b"S", 300, "AAPL", 1500000),
            itch50.addOrder(AAPL, 0, OPEN, 2, b"S", 300, "AAPL", 1510000),
            itch50.orderCancel(AAPL, 0, OPEN + SECOND, 1, 100),
            itch50.orderReplace(AAPL, 0, OPEN + SECOND, 2, 3, 500, 1520000),
            itch50.orderCancel(AAPL, 0, OPEN + 2 * SECOND, 1, 100),
            itch50.orderExecuted(AAPL, 0, OPEN + 2 * SECOND, 3, 100, 1),
        ])
        self.sim.start_replay("AAPL", name, speed=1)
        self.clock.advance(0)
        # A client (a house order here) takes 250 of 1 and 50 of 2.
        self.sim.create_order("take", "AAPL", side="buy", price="151.00", quantity=350)
        self.sim.submit_order("take")
        self.assertEqual(self.depth()[1], [(1510000, 250, 1)])
        self.clock.advance(1)
        # 1: 300 - 250 taken, cancel 100: nothing left (a conflict); 2 is
        # replaced by 500 at 152.00 minus the 50 taken (a conflict).
        self.assertEqual(self.depth()[1], [(1520000, 450, 1)])
        replay = self.replay()
        self.assertEqual(replay.counts["conflicts"], 2)
        self.clock.advance(1)
        # The cancel of an order with nothing left: another conflict; the
        # execution of 100 of the replacement applies in full.
        self.assertEqual(self.depth()[1], [(1520000, 350, 1)])
        self.assertEqual(replay.counts["conflicts"], 3)
        self.assertEqual(replay.state, "finished")

    def test_speedTen(self):
        """
        At speed 10 a recorded second takes a tenth of a second of the
        reactor's clock.
        """
        name = self.writeItch("paced.itch", directory() + [
            itch50.addOrder(AAPL, 0, OPEN + i * SECOND, i + 1, b"B", 100, "AAPL", 1400000 + i * 100)
            for i in range(5)
        ])
        self.sim.start_replay("AAPL", name, speed=10)
        replay = self.replay()
        self.clock.advance(0)
        self.assertEqual(replay.counts["messages"], 1)
        for expected in (2, 3, 4):
            self.clock.advance(0.099)
            self.assertEqual(replay.counts["messages"], expected - 1)
            self.clock.advance(0.001)
            self.assertEqual(replay.counts["messages"], expected)
            self.assertEqual(replay.describe()["position"], formatTime(OPEN + (expected - 1) * SECOND))
        self.clock.advance(0.1)
        self.assertEqual(replay.state, "finished")

    def test_speedMax(self):
        """
        At max speed the replay runs without the clock moving, in chunks
        (one per turn of the reactor).
        """
        name = self.writeItch("day.itch", randomDay(2, 300))
        self.patch(Replay, "chunk", 50)
        self.sim.start_replay("AAPL", name, speed="max")
        turns = 0
        while self.replay().state == "running":
            self.clock.advance(0)
            turns += 1
        self.assertEqual(self.clock.seconds(), 1700000000)
        self.assertGreater(turns, 3)
        self.assertEqual(self.replay().state, "finished")

    def test_start(self):
        """
        C{start} applies what comes before it at once, then paces from
        there.
        """
        name = self.writeItch("paced.itch", directory() + [
            itch50.addOrder(AAPL, 0, OPEN + i * SECOND, i + 1, b"B", 100, "AAPL", 1400000 + i * 100)
            for i in range(10)
        ])
        self.sim.start_replay("AAPL", name, speed=1, start="09:30:05")
        replay = self.replay()
        self.clock.advance(0)
        self.assertEqual(replay.counts["messages"], 5)
        self.clock.advance(0)
        self.assertEqual(replay.counts["messages"], 6)
        self.clock.advance(0.5)
        self.assertEqual(replay.counts["messages"], 6)
        self.clock.advance(0.5)
        self.assertEqual(replay.counts["messages"], 7)

    def test_pauseResumeStop(self):
        name = self.writeItch("paced.itch", directory() + [
            itch50.addOrder(AAPL, 0, OPEN + i * SECOND, i + 1, b"B", 100, "AAPL", 1400000 + i * 100)
            for i in range(10)
        ])
        self.sim.start_replay("AAPL", name)
        self.clock.advance(0)
        self.clock.advance(1)
        self.assertEqual(self.sim.get_replay("AAPL")["messages"], 2)
        self.sim.pause_replay("AAPL")
        self.assertRaises(WrongState, self.sim.pause_replay, "AAPL")
        self.assertRaises(WrongState, self.sim.start_replay, "AAPL", name)
        self.clock.advance(60)
        self.assertEqual(self.sim.get_replay("AAPL")["state"], "paused")
        self.assertEqual(self.sim.get_replay("AAPL")["messages"], 2)
        self.sim.resume_replay("AAPL")
        self.assertRaises(WrongState, self.sim.resume_replay, "AAPL")
        self.clock.advance(0)
        self.assertEqual(self.sim.get_replay("AAPL")["messages"], 2)
        self.clock.advance(1)
        self.assertEqual(self.sim.get_replay("AAPL")["messages"], 3)
        self.sim.stop_replay("AAPL")
        described = self.sim.get_replay("AAPL")
        self.assertEqual((described["state"], described["live_orders"]), ("stopped", 0))
        self.assertEqual(self.depth(), ([], []))
        self.assertRaises(WrongState, self.sim.stop_replay, "AAPL")
        self.clock.advance(60)
        self.assertEqual(self.sim.get_replay("AAPL")["messages"], 3)
        types = [e["type"] for e in self.events("replay_started", "replay_finished")]
        self.assertEqual(types, ["replay_started", "replay_finished"])
        # A new replay may start once the last one ended.
        self.sim.start_replay("AAPL", name, speed="max")
        self.pump()
        self.assertEqual(self.sim.get_replay("AAPL")["live_orders"], 10)

    def test_mpidAddCrossAndTracking(self):
        """
        Add Order with MPID (F) rests like A, a Cross Trade (Q) moves the
        last price, the tracking number never leaks into the time, and a
        file with no stock directory finds its symbol by its first Add
        Order.  (itchfeed reads the hand-made F and Q messages back.)
        """
        def mpidAdd(locate, tracking, timestamp, reference, side, shares, symbol, price):
            payload = itch50.addOrder(locate, tracking, timestamp, reference, side, shares, symbol, price)
            return b"F" + payload[1:] + b"ABCD"

        def cross(locate, tracking, timestamp, shares, symbol, price, match):
            high, low = divmod(timestamp, 1 << 32)
            return b"Q" + struct.pack(
                ">HHHIQ8sIQc", locate, tracking, high, low, shares, symbol.ljust(8).encode(), price, match, b"O"
            )

        payloads = [
            itch50.addOrder(MSFT, 7, OPEN, 1, b"B", 100, "MSFT", 3000000),
            mpidAdd(AAPL, 65535, OPEN + 1, 2, b"S", 300, "AAPL", 1500000),
            itch50.addOrder(AAPL, 65535, OPEN + 2, 3, b"B", 200, "AAPL", 1490000),
            cross(AAPL, 65535, OPEN + 3, 5000, "AAPL", 1501000, 9),
            cross(MSFT, 1, OPEN + 4, 100, "MSFT", 3000000, 10),
            itch50.orderCancel(AAPL, 65535, OPEN + 5, 2, 100),
        ]
        name = self.writeItch("mpid.itch", payloads)
        with open(self.path(name), "rb") as f:
            parsed = list(MessageParser().parse_file(f))
        self.assertEqual([m.to_bytes() for m in parsed], payloads)
        self.sim.start_replay("AAPL", name, speed="max")
        replay = self.pump()
        self.assertEqual(self.depth(), ([(1490000, 200, 1)], [(1500000, 200, 1)]))
        book = self.sim.get_book("AAPL")
        self.assertEqual((book["last"], book["last_quantity"]), ("150.10", 5000))
        self.assertEqual((replay.counts["messages"], replay.counts["trades"]), (4, 1))
        self.assertEqual(replay.describe()["position"], formatTime(OPEN + 5))

    def test_showsOnItchFeed(self):
        """
        Replayed orders are real orders: an ITCH feed of the engine
        publishes them, and the book rebuilt from that feed (by itchfeed)
        is the recorded book.
        """
        from exsim.soup.itch import family
        from tests.test_itch import engineBooks, rebuild

        self.sim.create_endpoint("itch1", "e1", "itch")
        endpoint = self.sim.endpoints["itch1"]
        endpoint.factory = family.buildFactory(endpoint)
        payloads = randomDay(12, 300)
        self.sim.start_replay("AAPL", self.writeItch("day.itch", payloads), speed="max")
        self.pump()
        books, messages, _ = rebuild(endpoint.factory.stream.messages())
        self.assertEqual(books, engineBooks(self.engine))
        view = BookView()
        for payload in payloads:
            view.apply(decodeItch(payload))
        recorded = view.get_book("AAPL", depth=1000)
        published = books["AAPL"]
        instrument = self.sim.book("AAPL")[1].instrument
        self.assertEqual(
            [[(p, q) for p, q, _ in published[side]] for side in ("bids", "asks")],
            [[(instrument.toInternal(p), q) for p, q, _ in recorded[side]] for side in ("bids", "asks")],
        )
        self.assertGreater(len(published["bids"]) + len(published["asks"]), 5)
        kinds = {m.message_type for m in messages}
        self.assertTrue({b"A", b"E", b"D"} <= kinds, kinds)

    def test_noReplay(self):
        self.assertRaises(UnknownName, self.sim.get_replay, "AAPL")
        self.assertRaises(UnknownName, self.sim.get_replay, "NOPE")
        self.assertRaises(UnknownName, self.sim.pause_replay, "AAPL")

    def test_deleteBookStopsReplay(self):
        name = self.writeItch("day.itch", randomDay(4, 100))
        self.sim.start_replay("AAPL", name, speed=1)
        self.clock.advance(0)
        self.sim.delete_book("AAPL")
        self.clock.advance(100)
        self.assertRaises(UnknownName, self.sim.get_replay, "AAPL")

    def test_eventsLeftOutOfQueue(self):
        """
        The replay's own order events stand for the rest of the market:
        the control queue gets replay_started and replay_finished, not
        them; a client's trade with a replayed order is queued.
        """
        name = self.writeItch("day.itch", randomDay(5, 200))
        self.sim.start_replay("AAPL", name, speed="max")
        self.pump()
        self.assertEqual(
            [e["type"] for e in self.sim.get_events()], ["replay_started", "replay_finished"]
        )


class MatchingItchReplayTests(ItchReplayMixin, SynchronousTestCase):
    engineClass = "matching"


class ReferenceItchReplayTests(ItchReplayMixin, SynchronousTestCase):
    engineClass = "reference"


class BadInputTests(Harness, SynchronousTestCase):
    """
    Bad recordings: a clear error, and the book as it was.
    """

    def setUp(self):
        self.setUpSimulator()
        self.sim.create_order("mine", "AAPL", side="buy", price="140.00", quantity=100)
        self.sim.submit_order("mine")
        self.before = self.depth()

    def assertRefused(self, name, *parts, **kwargs):
        e = self.assertRaises(BadValue, self.sim.start_replay, "AAPL", name, **kwargs)
        for part in parts:
            self.assertIn(part, str(e))
        self.assertEqual(self.depth(), self.before)
        self.assertRaises(UnknownName, self.sim.get_replay, "AAPL")
        return e

    def assertFailsLater(self, name, *parts):
        """
        The start is fine; what comes later is not: the replay fails, its
        orders leave the book, and replay_finished says why.
        """
        self.sim.start_replay("AAPL", name, speed="max")
        self.pump()
        described = self.sim.get_replay("AAPL")
        self.assertEqual(described["state"], "failed")
        for part in parts:
            self.assertIn(part, described["error"])
        self.assertEqual(self.depth(), self.before)
        [finished] = self.events("replay_finished")
        self.assertEqual(finished["error"], described["error"])
        return described

    def test_unknownSymbol(self):
        self.writeItch("other.itch", [
            itch50.stockDirectory(MSFT, 0, OPEN, "MSFT"),
            itch50.addOrder(MSFT, 0, OPEN, 1, b"B", 100, "MSFT", 3000000),
        ])
        self.assertRefused("other.itch", "symbol AAPL is not in the file", "other.itch")

    def test_unknownFormat(self):
        self.write("junk.bin", "hello, this is not market data\n")
        self.assertRefused("junk.bin", "junk.bin: unknown format")
        self.assertRefused("junk.bin", "unknown replay format 'csv'", format="csv")

    def test_missingFile(self):
        self.assertRefused("nope.itch", "cannot read nope.itch")

    def test_dataDirectory(self):
        outside = os.path.join(os.path.dirname(self.dir), "x.itch")
        writeItch(outside, directory())
        for name in (outside, "../x.itch"):
            self.assertRefused(name, "data directory")

    def test_badArguments(self):
        self.writeItch("day.itch", randomDay(1, 20))
        self.assertRefused("day.itch", "speed", speed="fast")
        self.assertRefused("day.itch", "speed", speed=0)
        self.assertRefused("day.itch", "start", start="25:00:00")
        self.assertRefused("day.itch", "price_scale", price_scale=100)
        self.assertRaises(UnknownName, self.sim.start_replay, "NOPE", "day.itch")

    def test_corruptAtStart(self):
        """
        A corrupt message before the symbol's directory entry: refused at
        once.
        """
        payloads = directory()
        data = b"".join(struct.pack(">H", len(p)) + p for p in payloads[:2])
        with open(self.path("bad.itch"), "wb") as f:
            f.write(data + b"\x00\x05Zjunk" + struct.pack(">H", len(payloads[2])) + payloads[2])
        self.assertRefused("bad.itch", "bad.itch: corrupt at byte %d" % (len(data),))

    def test_truncated(self):
        payloads = randomDay(2, 200)
        data = b"".join(struct.pack(">H", len(p)) + p for p in payloads)
        with open(self.path("cut.itch"), "wb") as f:
            f.write(data[:-10])
        self.assertFailsLater("cut.itch", "cut.itch: truncated at byte")

    def test_corruptLater(self):
        payloads = randomDay(2, 200)
        data = b"".join(struct.pack(">H", len(p)) + p for p in payloads)
        with open(self.path("bad.itch"), "wb") as f:
            f.write(data + struct.pack(">H", 10) + b"A" + b"\x00" * 9)
        self.assertFailsLater(
            "bad.itch", "bad.itch: corrupt at byte %d: a 'A' message of 10 bytes (it has 36)" % (len(data),)
        )

    def test_gzipTruncated(self):
        payloads = randomDay(2, 2000)
        data = gzip.compress(b"".join(struct.pack(">H", len(p)) + p for p in payloads))
        with open(self.path("cut.itch.gz"), "wb") as f:
            f.write(data[: len(data) - 50])
        self.assertFailsLater("cut.itch.gz", "cut.itch.gz: the compressed file is truncated")

    def test_lobsterBad(self):
        self.write("l.csv", "34200.1,1,1,100,1500000,1\n34200.2,1,2,100,1500000\n")
        self.assertFailsLater("l.csv", "l.csv, line 2: 5 columns, not 6")

    def test_quotesBad(self):
        self.write("q.csv", "time,bid,bid_size,ask,ask_size\n09:30:00,150.00,100,150.01,100\n09:30:01,abc,100,,\n")
        self.assertFailsLater("q.csv", "q.csv, line 3, column bid: 'abc' is not a positive price")

    def test_quotesHeader(self):
        self.write("q2.csv", "time,colour\n09:30:00,red\n")
        self.assertRefused("q2.csv", "unknown format")
        self.assertRefused("q2.csv", "unknown: colour", format="quotes")


class LobsterTests(Harness, SynchronousTestCase):
    """
    LOBSTER message files.
    """

    engineClass = "reference"

    def setUp(self):
        self.setUpSimulator()

    def test_replay(self):
        name = self.write("AAPL_message.csv", "\n".join([
            "34200.000000001,1,11,100,1500000,1",
            "34200.5,1,12,300,1501000,-1",
            "34201,1,13,200,1499000,1",
            "34201.25,2,12,100,1501000,-1",
            "34202,4,11,40,1500000,1",
            "34202.5,5,0,10,1500500,1",
            "34203,3,13,200,1499000,1",
            "34203.5,7,0,0,-1,-1",
            "34204,2,999,50,1400000,1",
        ]) + "\n")
        self.sim.start_replay("AAPL", name, speed="max")
        self.pump()
        replay = self.replay()
        self.assertEqual(replay.describe()["format"], "lobster")
        self.assertEqual(self.depth(), ([(1500000, 60, 1)], [(1501000, 200, 1)]))
        self.assertEqual(self.sim.get_book("AAPL")["last"], "150.05")
        self.assertEqual((replay.counts["messages"], replay.counts["unknown"], replay.counts["trades"]), (8, 1, 1))
        self.assertEqual(replay.describe()["position"], "09:30:04.000000000")

    def test_priceScale(self):
        name = self.write("m.csv", "34200,1,1,100,15000,1\n")
        self.sim.start_replay("AAPL", name, speed="max", format="lobster", price_scale=100)
        self.pump()
        self.assertEqual(self.depth(), ([(1500000, 100, 1)], []))


class QuotesTests(Harness, SynchronousTestCase):
    """
    A CSV of quotes and trades: one replay order per side.
    """

    def setUp(self):
        self.setUpSimulator()

    def test_replay(self):
        name = self.write("q.csv", "\n".join([
            "time,symbol,bid,bid_size,ask,ask_size,trade_price,trade_size",
            "09:30:00,AAPL,150.00,100,150.02,200,,",
            "09:30:00.5,MSFT,300.00,100,300.02,200,,",
            "09:30:01,AAPL,150.01,100,150.02,300,150.02,50",
            "09:30:02,AAPL,150.01,400,,,,",
        ]) + "\n")
        self.sim.start_replay("AAPL", name, speed=1)
        replay = self.replay()
        self.clock.advance(0)
        self.assertEqual(self.depth(), ([(1500000, 100, 1)], [(1500200, 200, 1)]))
        self.clock.advance(1)
        self.assertEqual(self.depth(), ([(1500100, 100, 1)], [(1500200, 300, 1)]))
        self.assertEqual(self.sim.get_book("AAPL")["last"], "150.02")
        # A client takes 150 of the ask; the next quote removes it.
        self.sim.create_order("take", "AAPL", side="buy", price="150.02", quantity=150)
        self.sim.submit_order("take")
        self.clock.advance(1)
        self.assertEqual(self.depth(), ([(1500100, 400, 1)], []))
        self.assertEqual(replay.state, "finished")
        self.assertEqual((replay.counts["quotes"], replay.counts["trades"]), (3, 1))
        self.assertEqual(replay.liveOrders(), 1)

    def test_conflict(self):
        """
        A client takes part of a quoted side; the recording then quotes
        that side at the same price, larger: the side shows the new size
        minus what was taken, and a conflict is counted.
        """
        name = self.write("q.csv", "time,bid,bid_size,ask,ask_size\n34200,,,150.02,300\n34201,,,150.02,500\n")
        self.sim.start_replay("AAPL", name, speed=1, start=34200)
        self.clock.advance(0)
        self.sim.create_order("take", "AAPL", side="buy", price="150.02", quantity=100)
        self.sim.submit_order("take")
        self.clock.advance(1)
        self.assertEqual(self.depth(), ([], [(1500200, 400, 1)]))
        self.assertEqual(self.replay().counts["conflicts"], 1)


class ConfigTests(Harness, SynchronousTestCase):
    """
    The C{[replay:NAME]} section.
    """

    def setUp(self):
        self.setUpSimulator()

    def test_section(self):
        self.writeItch("day.itch", randomDay(9, 50))
        ini = self.write(
            "sim.ini", "[book:MSFT]\nengine = e1\n[replay:msft]\nbook = MSFT\nsource = day.itch\nspeed = max\n"
        )
        config.apply(config.load(self.path(ini)), self.sim)
        self.pump("MSFT")
        self.assertEqual(self.sim.get_replay("MSFT")["state"], "finished")
        self.assertGreater(self.sim.get_replay("MSFT")["orders"], 0)

    def test_errors(self):
        self.writeItch("day.itch", randomDay(9, 50))
        for text, where in [
            ("[replay:AAPL]\nsource = day.itch\nspeed = fast\n", ":3:"),
            ("[replay:AAPL]\nsource = day.itch\nstart = noon\n", ":3:"),
            ("[replay:AAPL]\nsource = nope.itch\n", ":2:"),
            ("[replay:AAPL]\nspeed = 1\n", ":1:"),
            ("[replay:AAPL]\nsource = day.itch\ncolour = red\n", ":3:"),
            ("[replay:NOPE]\nsource = day.itch\n", ":2:"),
        ]:
            ini = self.write("sim.ini", text)
            e = self.assertRaises(ConfigError, config.apply, config.load(self.path(ini)), self.sim)
            self.assertIn(where, str(e))


class TimeTests(SynchronousTestCase):
    def test_parse(self):
        self.assertEqual(parseTime("09:30:00"), OPEN)
        self.assertEqual(parseTime("09:30:00.25"), OPEN + SECOND // 4)
        self.assertEqual(parseTime("34200.000000001"), OPEN + 1)
        self.assertEqual(parseTime(34200), OPEN)
        self.assertEqual(parseTime("2024-01-02T09:30:00.5"), OPEN + SECOND // 2)
        self.assertEqual(parseTime("2024-01-02 09:30:00"), OPEN)
        for bad in ("noon", "25:00:00", "09:61:00", "-1", "nan", True, "99999"):
            self.assertRaises(BadValue, parseTime, bad)
        self.assertEqual(formatTime(OPEN + 5), "09:30:00.000000005")

    @given(st.integers(0, 86400 * SECOND - 1))
    def test_roundTrip(self, nanos):
        """
        A time written by formatTime reads back the same, to the
        nanosecond.
        """
        self.assertEqual(parseTime(formatTime(nanos)), nanos)

    @settings(max_examples=300)
    @given(st.one_of(st.text(max_size=30), st.text(alphabet="0123456789:.,-T ", max_size=30)))
    def test_anyText(self, text):
        """
        Any text is a time of day (nanoseconds, within the day) or a
        BadValue naming what it is.
        """
        try:
            nanos = parseTime(text, "start")
        except BadValue as e:
            self.assertIn("start", str(e))
        else:
            self.assertTrue(0 <= nanos <= 86401 * SECOND, nanos)


class NewOrderTests(SynchronousTestCase):
    def test_sameAsOrder(self):
        """
        The player's quick order is the order Order() makes, slot for
        slot.
        """
        for side in (Side.BUY, Side.SELL):
            made = Order(replayOwner("AAPL"), 12, "AAPL", side, 300, 1500000)
            quick = newOrder(made.terms, 12, 300, 1500000)
            self.assertEqual(
                [getattr(quick, slot) for slot in Order.__slots__],
                [getattr(made, slot) for slot in Order.__slots__],
            )


class DecoderFuzzTests(SynchronousTestCase):
    """
    Whatever bytes a recording holds, reading it gives actions or a
    ReplayError, never another exception.
    """

    def read(self, module, data, name):
        path = self.mktemp()
        with open(path, "wb") as f:
            f.write(data)
        try:
            recording = module.Recording(path, "AAPL", Instrument("AAPL"), None, name)
            for _ in range(1000):
                if not recording.read(100):
                    break
            recording.close()
        except ReplayError as e:
            self.assertIn(name, str(e))

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.sampled_from(randomDay(11, 60)), max_size=30), st.binary(max_size=40), st.integers(0, 2000))
    def test_itch(self, payloads, junk, cut):
        data = b"".join(struct.pack(">H", len(p)) + p for p in directory() + payloads) + junk
        self.read(itchFormat, data[:cut] if cut < len(data) else data, "fuzz.itch")

    @settings(max_examples=150, deadline=None)
    @given(st.lists(st.lists(st.sampled_from(["1", "2", "-1", "34200.5", "x", "", "1500000", "7"]),
                             min_size=0, max_size=7), max_size=20))
    def test_lobster(self, rows):
        self.read(lobster, "\n".join(",".join(r) for r in rows).encode(), "fuzz.csv")

    @settings(max_examples=150, deadline=None)
    @given(st.text(max_size=300))
    def test_quotes(self, text):
        self.read(quotes, ("time,bid,bid_size,ask,ask_size,trade_price,trade_size\n" + text).encode(), "q.csv")
