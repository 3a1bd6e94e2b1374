"""
Tests for the ITCH 5.0 feed (L{exsim.soup.itch}, L{exsim.soup.itch50}):
byte layouts against hand-built vectors, decoding of everything published
by the third-party C{itchfeed} package, and rebuilding the engine's books
from the feed.
"""

from collections import defaultdict

from hypothesis import HealthCheck, given, settings, strategies as st
from itch.parser import MessageParser
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.interfaces import IEngineListener, IProtocolFamily
from exsim.model import Order, OrdType, Side, TimeInForce
from exsim.soup import itch50, ouch42
from exsim.soup.itch import family
from exsim.soup.ouch import family as ouchFamily
from exsim.soup.packets import SoupProtocolError
from tests.soupfakes import Client, makeEndpoint

TS = 34200123456789


def u16(n):
    return n.to_bytes(2, "big")


def u32(n):
    return n.to_bytes(4, "big")


def u64(n):
    return n.to_bytes(8, "big")


HEADER = u16(3) + u16(7) + TS.to_bytes(6, "big")


class CodecTests(TestCase):
    """
    Sizes and offsets of every message exsim publishes.
    """

    def test_systemEvent(self):
        vector = b"S" + u16(0) + u16(7) + TS.to_bytes(6, "big") + b"O"
        self.assertEqual(len(vector), 12)
        self.assertEqual(itch50.systemEvent(7, TS, b"O"), vector)

    def test_stockDirectory(self):
        vector = (
            b"R" + HEADER + b"AAPL    " + b"Q" + b"N" + u32(100) + b"N" + b"C" + b"Z "
            + b"P" + b"N" + b"N" + b"1" + b"N" + u32(0) + b"N"
        )
        self.assertEqual(len(vector), 39)
        self.assertEqual(itch50.stockDirectory(3, 7, TS, "AAPL"), vector)

    def test_stockTradingAction(self):
        vector = b"H" + HEADER + b"AAPL    " + b"T" + b" " + b"    "
        self.assertEqual(len(vector), 25)
        self.assertEqual(itch50.stockTradingAction(3, 7, TS, "AAPL"), vector)

    def test_addOrder(self):
        vector = b"A" + HEADER + u64(42) + b"B" + u32(100) + b"AAPL    " + u32(1502500)
        self.assertEqual(len(vector), 36)
        self.assertEqual(itch50.addOrder(3, 7, TS, 42, b"B", 100, "AAPL", 1502500), vector)

    def test_executed(self):
        vector = b"E" + HEADER + u64(42) + u32(10) + u64(99)
        self.assertEqual(len(vector), 31)
        self.assertEqual(itch50.orderExecuted(3, 7, TS, 42, 10, 99), vector)

    def test_executedWithPrice(self):
        vector = b"C" + HEADER + u64(42) + u32(10) + u64(99) + b"Y" + u32(1500000)
        self.assertEqual(len(vector), 36)
        self.assertEqual(itch50.orderExecutedWithPrice(3, 7, TS, 42, 10, 99, 1500000), vector)

    def test_cancelDeleteReplace(self):
        cancel = b"X" + HEADER + u64(42) + u32(5)
        delete = b"D" + HEADER + u64(42)
        replace = b"U" + HEADER + u64(42) + u64(43) + u32(50) + u32(1500100)
        self.assertEqual((len(cancel), len(delete), len(replace)), (23, 19, 35))
        self.assertEqual(itch50.orderCancel(3, 7, TS, 42, 5), cancel)
        self.assertEqual(itch50.orderDelete(3, 7, TS, 42), delete)
        self.assertEqual(itch50.orderReplace(3, 7, TS, 42, 43, 50, 1500100), replace)

    def test_trade(self):
        vector = (
            b"P" + HEADER + u64(0) + b"B" + u32(100) + b"AAPL    " + u32(1500000) + u64(99)
        )
        self.assertEqual(len(vector), 44)
        self.assertEqual(itch50.trade(3, 7, TS, 100, "AAPL", 1500000, 99), vector)

    def test_brokenTrade(self):
        vector = b"B" + HEADER + u64(99)
        self.assertEqual(len(vector), 19)
        self.assertEqual(itch50.brokenTrade(3, 7, TS, 99), vector)

    def test_decode(self):
        self.assertEqual(
            itch50.decode(itch50.orderDelete(3, 7, TS, 42)), (b"D", 3, 7, TS, 42)
        )
        self.assertRaises(SoupProtocolError, itch50.decode, b"D" + b"\x00" * 10)

    @settings(max_examples=200, deadline=None)
    @given(st.binary(max_size=50))
    def test_decodeArbitrary(self, data):
        try:
            fields = itch50.decode(data)
        except SoupProtocolError:
            return
        self.assertEqual(fields[0], data[:1])


def rebuild(payloads):
    """
    Decode ITCH payloads with itchfeed and rebuild the books from them.

    @return: ({symbol: {"bids": [(price, qty, count)], "asks": [...]}},
        list of itchfeed messages, {locate: symbol}).
    """
    parser = MessageParser()
    symbols = {}
    orders = {}
    messages = []
    for payload in payloads:
        message = parser.get_message_type(payload)
        messages.append(message)
        kind = message.message_type
        if kind == b"R":
            symbols[message.stock_locate] = message.stock.decode().strip()
        elif kind in (b"A", b"F"):
            orders[message.order_reference_number] = [
                symbols[message.stock_locate], message.buy_sell_indicator, message.price,
                message.shares,
            ]
        elif kind in (b"E", b"C"):
            order = orders[message.order_reference_number]
            order[3] -= message.executed_shares
            assert order[3] >= 0
            if not order[3]:
                del orders[message.order_reference_number]
        elif kind == b"X":
            order = orders[message.order_reference_number]
            order[3] -= message.cancelled_shares
            assert order[3] > 0
        elif kind == b"D":
            del orders[message.order_reference_number]
        elif kind == b"U":
            old = orders.pop(message.order_reference_number)
            orders[message.new_order_reference_number] = [old[0], old[1], message.price, message.shares]
    books = defaultdict(lambda: {"bids": defaultdict(lambda: [0, 0]), "asks": defaultdict(lambda: [0, 0])})
    for symbol, side, price, shares in orders.values():
        level = books[symbol]["bids" if side == b"B" else "asks"][price]
        level[0] += shares
        level[1] += 1
    result = {}
    for symbol, sides in books.items():
        result[symbol] = {
            "bids": sorted(((p, q, c) for p, (q, c) in sides["bids"].items()), reverse=True),
            "asks": sorted((p, q, c) for p, (q, c) in sides["asks"].items()),
        }
    return result, messages, symbols


def engineBooks(engine):
    result = {}
    for symbol, book in engine.books.items():
        bids = book.depth(True, None)
        asks = book.depth(False, None)
        if bids or asks:
            result[symbol] = {"bids": bids, "asks": asks}
    return result


def setUpOuchAndFeed(case):
    """
    Give a test case (its C{engineClass}) an OUCH endpoint on books AAPL
    and MSFT at 09:30 New York time, two logged-in clients (C{alice} and
    C{bob}) and an ITCH feed of the same engine (C{feed}, its C{stream}).
    """
    case.ouch = makeEndpoint(
        ouchFamily, "ouch1", symbols=("AAPL", "MSFT"), engineClass=case.engineClass
    )
    case.engine = case.ouch.engine
    case.reactor = case.ouch.reactor
    case.reactor.advance(34200 + 5 * 3600)  # 09:30 in New York (UTC-5 in January)
    case.alice = Client(case.ouch)
    case.alice.login("alice")
    case.bob = Client(case.ouch)
    case.bob.login("bob")
    case.feed = makeEndpoint(family, "itch1", engine=case.engine, reactor=case.reactor)
    case.stream = case.feed.factory.stream


class FeedTests(TestCase):
    """
    (On the fast engine; L{ReferenceFeedTests}: the reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        setUpOuchAndFeed(self)

    def enter(self, client, token, side, shares, price, tif=99999, stock="AAPL"):
        client.unsequenced(ouch42.enterOrder(token, side, shares, stock, price, tif))

    def assertRebuilds(self):
        books, messages, symbols = rebuild(self.stream.messages())
        self.assertEqual(books, engineBooks(self.engine))
        return messages

    def test_interfaces(self):
        self.assertTrue(verifyObject(IProtocolFamily, family))
        self.assertTrue(verifyObject(IEngineListener, self.feed.factory))

    def test_startOfFeed(self):
        messages = [itch50.decode(p) for p in self.stream.messages()]
        self.assertEqual([m[0] for m in messages], [b"S", b"S", b"S", b"R", b"H", b"R", b"H"])
        self.assertEqual([m[4] for m in messages[:3]], [b"O", b"S", b"Q"])
        self.assertEqual((messages[3][1], messages[3][4]), (1, b"AAPL    "))
        self.assertEqual((messages[5][1], messages[5][4]), (2, b"MSFT    "))
        self.assertEqual(messages[4][5], b"T")
        self.assertEqual(messages[0][3], 34200 * 10**9)
        self.assertEqual([m[2] for m in messages], list(range(7)))

    def test_endOfDay(self):
        """
        End of day: DAY orders are deleted, then System Events close the
        day (M, E) and open the next (S, Q) on the same stream.
        """
        self.enter(self.alice, "S1", b"S", 100, 1500000)
        self.engine.expireDay()
        new = [itch50.decode(p) for p in self.stream.messages(8)]
        self.assertEqual([m[0] for m in new], [b"A", b"D", b"S", b"S", b"S", b"S"])
        self.assertEqual([m[4] for m in new[2:]], [b"M", b"E", b"S", b"Q"])
        self.assertRebuilds()

    def test_addExecuteDelete(self):
        self.enter(self.alice, "S1", b"S", 100, 1500000)
        self.enter(self.alice, "S2", b"S", 50, 1500100)
        self.enter(self.bob, "B1", b"B", 120, 1500100)
        self.alice.unsequenced(ouch42.cancelOrder("S2"))
        new = [itch50.decode(p) for p in self.stream.messages(8)]
        self.assertEqual([m[0] for m in new], [b"A", b"A", b"E", b"E", b"D"])
        self.assertEqual(new[0][4:], (1, b"S", 100, b"AAPL    ", 1500000))
        self.assertEqual(new[2][4:], (1, 100, 1))  # ref 1, 100 shares, match 1
        self.assertEqual(new[3][4:], (2, 20, 2))
        self.assertEqual(new[4][4], 2)
        self.assertRebuilds()

    def test_partialCancelAndReplace(self):
        self.enter(self.alice, "B1", b"B", 100, 1500000)
        self.alice.unsequenced(ouch42.cancelOrder("B1", 60))
        self.alice.unsequenced(ouch42.replaceOrder("B1", "B2", 60, 1500200))
        new = [itch50.decode(p) for p in self.stream.messages(8)]
        self.assertEqual([m[0] for m in new], [b"A", b"X", b"U"])
        self.assertEqual(new[1][4:], (1, 40))
        self.assertEqual(new[2][4:], (1, 2, 60, 1500200))
        self.assertRebuilds()

    def test_replaceThatTrades(self):
        self.enter(self.alice, "S1", b"S", 30, 1500100)
        self.enter(self.bob, "B1", b"B", 100, 1500000)
        self.bob.unsequenced(ouch42.replaceOrder("B1", "B2", 100, 1500100))
        new = [itch50.decode(p) for p in self.stream.messages(8)]
        self.assertEqual([m[0] for m in new], [b"A", b"A", b"D", b"E", b"A"])
        self.assertEqual(new[4][4:], (3, b"B", 70, b"AAPL    ", 1500100))
        self.assertRebuilds()

    def test_nonDisplayedTrade(self):
        self.engine.setBookProperty("MSFT", "behaviour", "auto_fill")
        self.enter(self.alice, "M1", b"B", 10, 3000000, stock="MSFT")
        [trade] = [itch50.decode(p) for p in self.stream.messages(8)]
        self.assertEqual(trade[0], b"P")
        self.assertEqual(trade[1], 2)
        self.assertEqual(trade[4:], (0, b"B", 10, b"MSFT    ", 3000000, 1))

    def test_executedWithPrice(self):
        self.engine.setProperty("mode", "managed")
        self.enter(self.alice, "B1", b"B", 100, 1500000)
        order = self.engine.findOrder("ouch1/alice", "B1")
        self.engine.acceptOrder(order.orderId)
        self.engine.fillOrder(order.orderId, 30, 1499900)
        new = [itch50.decode(p) for p in self.stream.messages(8)]
        self.assertEqual([m[0] for m in new], [b"A", b"C"])
        self.assertEqual(new[1][4:], (1, 30, 1, b"Y", 1499900))
        self.assertRebuilds()

    def test_expiryDeletes(self):
        self.enter(self.alice, "B1", b"B", 100, 1500000, tif=5)
        self.reactor.advance(5)
        new = [itch50.decode(p) for p in self.stream.messages(8)]
        self.assertEqual([m[0] for m in new], [b"A", b"D"])

    def test_restingOrdersAtStart(self):
        """
        A feed started after orders rest publishes them first.
        """
        self.enter(self.alice, "B1", b"B", 100, 1500000)
        self.enter(self.alice, "B2", b"B", 10, 1500000)
        house = Order("house", "H", "MSFT", Side.SELL, 5, 3000000)
        self.engine.submitNew(house, neverHeld=True)
        late = makeEndpoint(family, "itch2", engine=self.engine, reactor=self.reactor)
        books, _, _ = rebuild(late.factory.stream.messages())
        self.assertEqual(books, engineBooks(self.engine))
        self.assertEqual(books["AAPL"]["bids"], [(1500000, 110, 2)])

    def test_replayFromOneAfterActivity(self):
        self.enter(self.alice, "S1", b"S", 100, 1500000)
        self.enter(self.bob, "B1", b"B", 40, 1500000)
        client = Client(self.feed)
        reply = client.login("anyone", sequence=1)
        self.assertEqual(reply[0][0], b"A")
        payloads = [p for kind, p in reply[1:]]
        self.assertEqual(payloads, self.stream.messages())
        books, _, _ = rebuild(payloads)
        self.assertEqual(books, engineBooks(self.engine))
        self.enter(self.bob, "B2", b"B", 5, 1490000)
        self.assertEqual([p[:1] for p in client.sequenced()], [b"A"])

    def test_feedIgnoresInput(self):
        client = Client(self.feed)
        client.login("x", sequence=0)
        client.unsequenced(b"whatever")
        self.assertFalse(client.closed)
        self.assertEqual(client.read(), [])

    def test_itchfeedDecodesEverything(self):
        """
        Every message type exsim publishes decodes with itchfeed to the
        same values, and re-encodes to the same bytes.
        """
        self.enter(self.alice, "S1", b"S", 100, 1500000)
        self.enter(self.bob, "B1", b"B", 40, 1500000)
        self.alice.unsequenced(ouch42.cancelOrder("S1", 50))
        self.alice.unsequenced(ouch42.replaceOrder("S1", "S2", 50, 1500100))
        self.alice.unsequenced(ouch42.cancelOrder("S2"))
        self.engine.setBookProperty("MSFT", "behaviour", "auto_fill")
        self.enter(self.alice, "M1", b"B", 10, 3000000, stock="MSFT")
        self.engine.setProperty("mode", "managed")
        self.enter(self.alice, "B9", b"B", 100, 1490000)
        order = self.engine.findOrder("ouch1/alice", "B9")
        self.engine.acceptOrder(order.orderId)
        self.engine.fillOrder(order.orderId, 30, 1489900)
        messages = self.assertRebuilds()
        kinds = {m.message_type for m in messages}
        self.assertEqual(kinds, {b"S", b"R", b"H", b"A", b"E", b"C", b"X", b"U", b"D", b"P"})
        for payload, message in zip(self.stream.messages(), messages):
            self.assertEqual(message.to_bytes(), payload)
            self.assertEqual(message.timestamp, itch50.decode(payload)[3])

    @settings(max_examples=40, deadline=None,
              # (also run by the reference engine's subclass)
              suppress_health_check=[HealthCheck.differing_executors])
    @given(st.lists(st.tuples(
        st.sampled_from(["enter", "cancel", "partial", "replace", "ioc", "market"]),
        st.integers(0, 9), st.booleans(), st.integers(1, 300), st.integers(-3, 3),
    ), max_size=40))
    def test_randomFlowRebuilds(self, actions):
        """
        Whatever the order flow, the book rebuilt from the feed equals the
        engine's book.
        """
        self.engine = engine = self.engine.__class__("e2", self.reactor)
        from exsim.model import Instrument

        engine.addBook(Instrument("AAPL"))
        ouch = makeEndpoint(ouchFamily, "o", engine=engine, reactor=self.reactor)
        feed = makeEndpoint(family, "f", engine=engine, reactor=self.reactor)
        self.stream = feed.factory.stream
        client = Client(ouch)
        client.login("u")
        live = []
        for n, (action, token, buy, shares, tick) in enumerate(actions):
            price = 1500000 + tick * 100
            side = b"B" if buy else b"S"
            target = live[token % len(live)] if live else "NONE"
            if action == "enter":
                self.enter(client, "T%d" % n, side, shares, price)
                live.append("T%d" % n)
            elif action == "ioc":
                self.enter(client, "I%d" % n, side, shares, price, tif=0)
            elif action == "market":
                self.enter(client, "M%d" % n, side, shares, ouch42.MARKET_PRICE, tif=0)
            elif action == "cancel":
                client.unsequenced(ouch42.cancelOrder(target))
            elif action == "partial":
                client.unsequenced(ouch42.cancelOrder(target, shares // 3))
            else:
                client.unsequenced(ouch42.replaceOrder(target, "R%d" % n, shares, price))
                live.append("R%d" % n)
            engine.getBook("AAPL").validateInternalState()
        self.assertRebuilds()
        client.lose()


class ReferenceFeedTests(FeedTests):
    engineClass = ReferenceEngine


class RestartTests(TestCase):
    def test_listenAgainFollowsEngine(self):
        """
        After a shutdown (the endpoint stopped), listening again follows
        the engine again.
        """
        feed = makeEndpoint(family, "itch1")
        factory = feed.factory
        factory.shutdown()
        self.assertNotIn(factory, feed.engine._listeners)
        factory.doStart()
        self.assertIn(factory, feed.engine._listeners)
        feed.engine.submitNew(Order("x", "c", "AAPL", Side.BUY, 10, 1500000))
        self.assertEqual(factory.stream.messages()[-1][:1], b"A")
