"""
No input poisons the venue: numbers are bounded at every decoder and in the
engine (what every attached protocol can carry), and a listener that fails
on one event loses nothing else (issue 11, defect 1).
"""

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.internet.testing import MemoryReactorClock
from twisted.trial.unittest import TestCase

from exsim.engine.delivery import Failures
from exsim.engine.events import Accepted
from exsim.engine.limits import MAX_QUANTITY
from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.errors import BadValue
from exsim.control.queue import EventQueue
from exsim.fix import codec
from exsim.fix.family import family as fixFamily
from exsim.model import Instrument, RejectReason, Side
from exsim.service import Simulator
from exsim.soup import itch50, ouch42
from exsim.soup.itch import family as itchFamily
from exsim.soup.ouch import family as ouchFamily
from tests import fixsession_helpers
from exsim.model import Order, OrdType, TimeInForce
from exsim.soup.ouch import MAX_SHARES
from tests.helpers import Recorder


def limit(owner, clOrdId, side, quantity, price, symbol="AAPL"):
    """
    A limit DAY order; C{price} in internal units.
    """
    return Order(owner, clOrdId, symbol, side, quantity, price, OrdType.LIMIT, TimeInForce.DAY)
from tests.soupfakes import Client, makeEndpoint

HUGE = "9" * 5000


class VenueTestMixin:
    """
    One engine with FIX, OUCH and ITCH endpoints, in memory.
    """

    def setUp(self):
        self.fix = makeEndpoint(
            fixFamily, "fix1", sender_comp_id="EXSIM", target_comp_id="*",
        )
        self.engine = self.fix.engine
        self.reactor = self.fix.reactor
        self.reactor.advance(fixsession_helpers.START)
        self.seller = fixsession_helpers.Client(self.fix.factory, compId="SELLER")
        self.buyer = fixsession_helpers.Client(self.fix.factory, compId="BUYER", port=40001)
        for client in (self.seller, self.buyer):
            [logon] = client.logon()
            self.assertEqual(logon.msgType, "A")

    def attachFeeds(self):
        self.ouch = makeEndpoint(ouchFamily, "ouch1", engine=self.engine, reactor=self.reactor)
        self.itch = makeEndpoint(itchFamily, "itch1", engine=self.engine, reactor=self.reactor)

    def order(self, client, clOrdId, side, quantity, price):
        return client.send("D", [
            (11, clOrdId), (55, "AAPL"), (54, side), (38, quantity), (40, "2"),
            (44, price), (59, "0"), (60, fixsession_helpers.stamp(self.reactor.seconds())),
        ])

    def reports(self, messages):
        return [(m.get(150), m.get(39), m.get(58)) for m in messages if m.msgType == "8"]

    def assertTradesStillWork(self):
        """
        A normal order rests, another session's order fills against it,
        and both get their reports.
        """
        self.assertEqual(self.reports(self.order(self.seller, "S-OK", "2", 100, "10")),
                         [("0", "0", None)])
        buy = self.reports(self.order(self.buyer, "B-OK", "1", 100, "10"))
        self.assertEqual([r[:2] for r in buy], [("0", "0"), ("F", "2")])
        sell = self.reports(self.seller.received())
        self.assertEqual([r[:2] for r in sell], [("F", "2")])


class FixNumberBoundTests(VenueTestMixin, TestCase):
    """
    Numbers too long for any venue are refused by the FIX decoder with a
    session Reject naming the field; the symbol keeps trading.
    """

    def assertOutOfRange(self, messages, tag):
        [reject] = messages
        self.assertEqual(reject.msgType, "3")
        self.assertEqual(reject.get(373), "5")
        self.assertEqual(reject.get(371), str(tag))
        self.assertIn("out of range", reject.get(58))

    def test_hugeQuantity(self):
        self.attachFeeds()
        self.assertOutOfRange(self.order(self.seller, "S1", "2", HUGE, "10"), 38)
        self.assertEqual(self.engine.getBook("AAPL").orders(), [])
        self.assertTradesStillWork()

    def test_hugePrice(self):
        self.attachFeeds()
        self.assertOutOfRange(self.order(self.seller, "S1", "2", 100, HUGE), 44)
        self.assertTradesStillWork()

    def test_longDecimals(self):
        self.assertOutOfRange(self.order(self.seller, "S1", "2", 100, "10." + "0" * 19), 44)
        self.assertEqual(self.reports(self.order(self.seller, "S2", "2", 100, "10." + "0" * 18)),
                         [("0", "0", None)])

    def test_quantityBeyondTheFeeds(self):
        """
        With an ITCH feed on the engine, a quantity its 32-bit field cannot
        carry is rejected by the engine, on FIX too.
        """
        self.attachFeeds()
        [report] = self.reports(self.order(self.seller, "S1", "2", 10**10, "10"))
        self.assertEqual(report[:2], ("8", "8"))
        self.assertIn("maximum order quantity 4294967295", report[2])
        [(_, status, _)] = self.reports(self.order(self.seller, "S2", "2", 2**32 - 1, "10"))
        self.assertEqual(status, "0")

    def test_quantityFixAlone(self):
        """
        FIX alone carries ten billion: nothing narrower is attached.
        """
        [(_, status, _)] = self.reports(self.order(self.seller, "S1", "2", 10**10, "10"))
        self.assertEqual(status, "0")
        [(_, status, _)] = self.reports(self.order(self.seller, "S2", "2", 10**15 - 1, "10"))
        self.assertEqual(status, "0")
        # Sixteen digits: more than the FIX decoder takes.
        [reject] = self.order(self.seller, "S3", "2", 10**15, "10")
        self.assertEqual((reject.msgType, reject.get(371)), ("3", "38"))

    def test_priceBeyondTheFeeds(self):
        self.attachFeeds()
        [report] = self.reports(self.order(self.seller, "S1", "2", 100, "429496.73"))
        self.assertEqual(report[:2], ("8", "8"))
        self.assertIn("price range", report[2])

    def test_detachedFeedNoLongerBounds(self):
        self.attachFeeds()
        self.ouch.close()
        self.itch.close()
        [(_, status, _)] = self.reports(self.order(self.seller, "S1", "2", 10**10, "10"))
        self.assertEqual(status, "0")

    def test_hugeHeartBtInt(self):
        client = fixsession_helpers.Client(self.fix.factory, compId="THIRD", port=40002)
        [reply] = client.logon(heartBtInt=HUGE)
        self.assertIn(reply.msgType, ("3", "5"))
        self.assertIn("HeartBtInt (108)", reply.get(58))

    def test_hugeResendRange(self):
        self.assertOutOfRange(self.seller.send("2", [(7, HUGE), (16, 0)]), 7)
        self.assertOutOfRange(self.seller.send("2", [(7, 1), (16, HUGE)]), 16)

    def test_hugeNewSeqNoReset(self):
        self.assertOutOfRange(self.seller.send("4", [(36, HUGE)]), 36)

    def test_hugeNewSeqNoGapFill(self):
        self.assertOutOfRange(self.seller.send("4", [(123, "Y"), (36, HUGE)]), 36)

    def test_hugeMsgSeqNum(self):
        raw = codec.encode("FIX.4.4", "0", [
            (49, "SELLER"), (56, "EXSIM"), (34, 1),
            (52, fixsession_helpers.stamp(self.reactor.seconds())),
        ], []).replace(b"\x0134=1\x01", b"\x0134=" + HUGE.encode() + b"\x01")
        raw = _reframe(raw)
        [reply] = self.seller.sendRaw(raw)
        self.assertEqual(reply.msgType, "5")
        self.assertIn("MsgSeqNum", reply.get(58))

    def test_hugeTag(self):
        """
        A tag number of more digits than any FIX engine holds makes the
        message garbled: discarded, as FIX says, and the session goes on.
        """
        raw = _reframe(self.seller.build("0", [(112, "x")]).replace(b"112=", HUGE.encode() + b"="))
        self.assertEqual(self.seller.sendRaw(raw), [])
        self.seller.seq -= 1
        self.assertTradesStillWork()

    def test_hugeBodyLength(self):
        raw = b"8=FIX.4.4\x019=" + HUGE.encode() + b"\x0135=0\x0110=000\x01"
        self.assertEqual(self.seller.sendRaw(raw), [])
        self.assertTradesStillWork()

    @settings(max_examples=60, deadline=None)
    @given(
        tag=st.sampled_from([38, 44, 108, 7, 16, 36, 34, 9, 59]),
        digits=st.integers(min_value=16, max_value=6000),
        sign=st.sampled_from(["", "-"]),
    )
    def test_longNumbersNeverCrash(self, tag, digits, sign):
        """
        Whatever field a long number lands in, the venue answers or
        discards the message, and logs no error (trial fails a test that
        logs one).
        """
        self.tearDown()
        self.setUp()
        value = sign + "1" * digits
        fields = [
            (11, "X"), (55, "AAPL"), (54, "1"), (38, 100), (40, "2"), (44, "10"),
            (60, fixsession_helpers.stamp(self.reactor.seconds())),
        ]
        raw = self.seller.build("D", fields)
        needle = b"\x01%d=" % (tag,)
        start = raw.index(needle) + len(needle) if needle in raw else None
        if start is None:
            raw = raw[:-7] + b"%d=%s\x01" % (tag, value.encode()) + raw[-7:]
        else:
            end = raw.index(b"\x01", start)
            raw = raw[:start] + value.encode() + raw[end:]
        self.seller.sendRaw(_reframe(raw))
        self.assertEqual(self.fix.factory.application.failures.count, 0)


def _reframe(raw):
    """
    C{raw} with its BodyLength and CheckSum made right again.
    """
    first = raw.index(b"\x01")
    second = raw.index(b"\x01", first + 1)
    body = raw[second + 1 : raw.rindex(b"10=")]
    head = raw[: first + 1] + b"9=%d\x01" % (len(body),)
    return head + body + b"10=%03d\x01" % (sum(head + body) % 256,)


class EngineLimitTests(TestCase):
    """
    Book properties C{max_order_quantity}, C{min_price} and C{max_price},
    and the bounds of the protocols attached to the engine (the fast
    engine; L{ReferenceEngineLimitTests}: the reference engine).
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.engine = self.engineClass("e1", MemoryReactorClock())
        self.engine.addBook(Instrument("AAPL"))
        self.recorder = Recorder()
        self.engine.subscribe(self.recorder)

    def submit(self, *args, **kw):
        order = self.engine.submitNew(limit(*args, **kw))
        return self.recorder.take()[0], order

    def test_defaultBound(self):
        event, _ = self.submit("a", "1", Side.BUY, MAX_QUANTITY + 1, 10000)
        self.assertEqual(event.reason, RejectReason.BAD_QUANTITY)
        event, _ = self.submit("a", "2", Side.BUY, MAX_QUANTITY, 10000)
        self.assertIsInstance(event, Accepted)

    def test_maxOrderQuantity(self):
        self.engine.setBookProperty("AAPL", "max_order_quantity", "1000")
        event, _ = self.submit("a", "1", Side.BUY, 1001, 10000)
        self.assertEqual(event.reason, RejectReason.BAD_QUANTITY)
        self.assertIn("maximum order quantity 1000", event.text)
        event, _ = self.submit("a", "2", Side.BUY, 1000, 10000)
        self.assertIsInstance(event, Accepted)
        # The hot path (terms seen before) checks it too.
        event, _ = self.submit("a", "3", Side.BUY, 1001, 10000)
        self.assertEqual(event.reason, RejectReason.BAD_QUANTITY)
        self.engine.setBookProperty("AAPL", "max_order_quantity", "none")
        event, _ = self.submit("a", "4", Side.BUY, 1001, 10000)
        self.assertIsInstance(event, Accepted)

    def test_priceRange(self):
        self.engine.setBookProperty("AAPL", "min_price", "1.00")
        self.engine.setBookProperty("AAPL", "max_price", "2.00")
        for clOrdId, price, ok in [("1", 9900, False), ("2", 10000, True), ("3", 20000, True),
                                   ("4", 20100, False), ("5", 20100, False)]:
            event, _ = self.submit("a", clOrdId, Side.BUY, 10, price)
            if ok:
                self.assertIsInstance(event, Accepted)
            else:
                self.assertEqual(event.reason, RejectReason.BAD_PRICE)
                self.assertIn("price range", event.text)

    def test_badSettings(self):
        for name, value in [("max_order_quantity", "0"), ("max_order_quantity", "x"),
                            ("max_order_quantity", HUGE), ("min_price", "-1"),
                            ("max_price", HUGE)]:
            self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", name, value)
        self.engine.setBookProperty("AAPL", "max_price", "2")
        self.assertRaises(BadValue, self.engine.setBookProperty, "AAPL", "min_price", "3")

    def test_replaceBeyond(self):
        self.engine.setBookProperty("AAPL", "max_order_quantity", 100)
        self.submit("a", "1", Side.BUY, 100, 10000)
        self.engine.submitReplace("a", "2", origClOrdId="1", quantity=101)
        [event] = self.recorder.take()
        self.assertEqual(event.reason, RejectReason.BAD_QUANTITY)

    def test_fillAndMatchPrices(self):
        self.engine.setBookProperty("AAPL", "max_price", "2")
        _, order = self.submit("a", "1", Side.BUY, 100, 10000)
        self.assertRaises(BadValue, self.engine.fillOrder, order.orderId, 10, 30000)
        _, other = self.submit("b", "2", Side.SELL, 100, 20000)
        self.assertRaises(BadValue, self.engine.matchOrders, order.orderId, other.orderId,
                          10, 30000)

    def test_carried(self):
        self.engine.setCarried("itch1", 2**32 - 1, 2**32 - 1)
        self.engine.setCarried("fix1", None, None)
        event, _ = self.submit("a", "1", Side.BUY, 2**32, 10000)
        self.assertEqual(event.reason, RejectReason.BAD_QUANTITY)
        self.engine.setBookProperty("AAPL", "max_order_quantity", 10**12)
        event, _ = self.submit("a", "2", Side.BUY, 2**32, 10000)
        self.assertEqual(event.reason, RejectReason.BAD_QUANTITY)
        self.engine.setCarried("itch1", None, None)
        event, _ = self.submit("a", "3", Side.BUY, 2**32, 10000)
        self.assertIsInstance(event, Accepted)
        # A book added later is bounded too.
        self.engine.setCarried("ouch1", 1000, None)
        self.engine.addBook(Instrument("MSFT"))
        event, _ = self.submit("a", "4", Side.BUY, 1001, 10000, symbol="MSFT")
        self.assertEqual(event.reason, RejectReason.BAD_QUANTITY)


class ReferenceEngineLimitTests(EngineLimitTests):
    engineClass = ReferenceEngine


class _Failing:
    """
    A listener that raises on every batch.
    """

    def engineEvents(self, events):
        raise RuntimeError("listener bug")


class FailingListenerTests(VenueTestMixin, TestCase):
    """
    A listener that fails on one event loses nothing else: not the other
    listeners' delivery, not its own later events; each failure is counted
    and the first of its kind logged.
    """

    def test_engineGoesOnAfterAFailingListener(self):
        failing = _Failing()
        self.engine.subscribe(failing)
        self.engine._listeners.insert(0, self.engine._listeners.pop())
        self.engine._listenerTuple = tuple(self.engine._listeners)
        self.assertTradesStillWork()
        # One failure a batch: two orders, two batches.
        self.assertEqual(self.engine.listenerFailures[failing].count, 2)
        self.assertEqual(len(self.flushLoggedErrors(RuntimeError)), 1)

    def test_fixReportsAfterAFailingEvent(self):
        """
        The FIX order entry fails on the seller's fill report: the buyer's
        reports of the same batch still go out, and so do later ones.
        """
        entry = self.fix.factory.application
        self.reports(self.order(self.seller, "S1", "2", 100, "10"))
        route = entry._routes["fix1/SELLER"]
        session, profile, sendEncoded, encoders = route

        def broken(*args):
            raise ValueError("cannot encode")

        entry._routes["fix1/SELLER"] = (session, profile, broken, {})
        session.sendApp = broken
        buy = self.reports(self.order(self.buyer, "B1", "1", 100, "10"))
        self.assertEqual([r[:2] for r in buy], [("0", "0"), ("F", "2")])
        self.assertEqual(entry.failures.count, 1)
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)
        # Every later failure is counted, not logged again.
        buy = self.reports(self.order(self.buyer, "B2", "1", 100, "10"))
        self.assertEqual(entry.failures.count, 1)
        # The seller's Accepted and Fill.
        self.reports(self.order(self.seller, "S2", "2", 100, "10"))
        self.assertEqual(entry.failures.count, 3)
        # The Fill's failure was logged already; the Accepted's is new.
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_itchGoesOnAfterAFailingEvent(self):
        self.attachFeeds()
        factory = self.itch.factory
        original = factory._add
        calls = []

        def add(order, shares, price):
            calls.append(order.clOrdId)
            if order.clOrdId == "S1":
                raise ValueError("cannot publish")
            return original(order, shares, price)

        factory._add = add
        with self.engine.batch():
            self.engine.submitNew(limit("x", "S1", Side.SELL, 10, 100000))
            self.engine.submitNew(limit("x", "S2", Side.SELL, 10, 110000))
        self.assertEqual(calls, ["S1", "S2"])
        adds = [itch50.decode(p) for p in factory.stream.messages()]
        self.assertEqual([m[0] for m in adds][-1:], [b"A"])
        self.assertEqual(factory.failures.count, 1)
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)

    def test_failuresReturnTheRest(self):
        events = ["a", "b", "c"]
        failures = Failures("listener")
        try:
            raise KeyError("x")
        except KeyError:
            self.assertEqual(failures.failed(events, "b"), ["c"])
            self.assertEqual(failures.failed(events, "c"), [])
            self.assertEqual(failures.failed(events, "z"), ())
        self.assertEqual(failures.count, 3)
        self.assertEqual(len(self.flushLoggedErrors(KeyError)), 1)


class _Unconvertible:
    type = "weird"

    def asDict(self):
        raise ValueError("cannot convert")


class EventQueueTests(TestCase):
    def test_unconvertibleEventIsNotLost(self):
        """
        An event whose fields cannot be converted still comes out, with an
        error field, and the events around it are intact.
        """
        engine = MatchingEngine("e1", MemoryReactorClock())
        engine.addBook(Instrument("AAPL"))
        queue = EventQueue(MemoryReactorClock())
        queue.watchEngine("e1", engine)
        engine.submitNew(limit("a", "1", Side.BUY, 10, 10000))
        firstId, time, name, queued, events = queue._events[0]
        events = [events[0], _Unconvertible()] + list(events[1:])
        queue._events[0] = (firstId, time, name, queued, events)
        queue._count += 1
        taken = queue.get()
        self.assertEqual([e["type"] for e in taken][:2], ["accepted", "weird"])
        self.assertIn("error", taken[1])
        self.assertEqual(len(taken), queue._nextId - 1 + 1)
        self.assertEqual(len(self.flushLoggedErrors(ValueError)), 1)


class ManagementNumberTests(TestCase):
    def setUp(self):
        self.simulator = Simulator(MemoryReactorClock())
        self.simulator.create_engine("e1")
        self.simulator.create_book("AAPL", "e1")

    def test_hugeNumbers(self):
        for value in (HUGE, 10**5000, -(10**30)):
            self.assertRaises(
                BadValue, self.simulator.create_order, "h1", "AAPL",
                side="buy", price="10", quantity=value,
            )
            self.assertRaises(BadValue, self.simulator.accept_order, value)
        error = self.assertRaises(
            BadValue, self.simulator.create_order, "h1", "AAPL",
            side="buy", price="1" + "0" * 30, quantity=1,
        )
        self.assertLess(len(str(error)), 300)

    def test_hugeOuchQuantityIsBounded(self):
        """
        OUCH's own bound on shares (below its 32-bit field): at the bound
        the order is accepted and published on ITCH.
        """
        ouch = makeEndpoint(ouchFamily, "ouch1")
        itch = makeEndpoint(itchFamily, "itch1", engine=ouch.engine, reactor=ouch.reactor)
        trader = Client(ouch)
        trader.login("alice")
        trader.sequenced()
        trader.unsequenced(ouch42.enterOrder("T1", b"B", MAX_SHARES - 1, "AAPL", 1500000))
        [accepted] = [ouch42.decodeOutbound(p) for p in trader.sequenced()]
        self.assertEqual(accepted[0], b"A")
        self.assertEqual(itch50.decode(itch.factory.stream.messages()[-1])[0], b"A")
