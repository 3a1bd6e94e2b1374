"""
Tests for the OUCH 4.2 endpoint (L{exsim.soup.ouch}) over in-memory
connections and a MemoryReactorClock.
"""

from hypothesis import HealthCheck, given, settings, strategies as st
from twisted.trial.unittest import TestCase
from zope.interface.verify import verifyObject

from exsim.engine.behaviours import AutoReject
from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.errors import BadValue
from exsim.interfaces import IEngineListener, IProtocolFamily
from exsim.model import Order, Side
from exsim.soup import ouch42, packets
from exsim.soup.ouch import family
from tests.soupfakes import Client, makeEndpoint

P150 = 1500000  # 150.00


def decoded(payloads):
    return [ouch42.decodeOutbound(p) for p in payloads]


class OuchTests(TestCase):
    """
    (On the fast engine; L{ReferenceOuchTests}: the reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.endpoint = makeEndpoint(
            family, "ouch1", symbols=("AAPL", "MSFT"), engineClass=self.engineClass
        )
        self.engine = self.endpoint.engine
        self.reactor = self.endpoint.reactor
        self.reactor.advance(34200 + 5 * 3600)  # 09:30 in New York (UTC-5 in January)
        self.alice = self.connect("alice")
        self.bob = self.connect("bob")

    def connect(self, username, sequence=0):
        client = Client(self.endpoint)
        reply = client.login(username, sequence=sequence)
        self.assertEqual(reply[0][0], b"A")
        return client

    def enter(self, client, token, side=b"B", shares=100, price=P150, tif=99999, stock="AAPL"):
        client.unsequenced(ouch42.enterOrder(token, side, shares, stock, price, tif, "FRM1"))
        return decoded(client.sequenced())

    def test_interfaces(self):
        self.assertTrue(verifyObject(IProtocolFamily, family))
        self.assertTrue(verifyObject(IEngineListener, self.endpoint.factory))

    def test_properties(self):
        self.assertEqual(family.parseProperty("session", " S1 "), "S1")
        self.assertEqual(family.parseProperty("cancel_on_disconnect", "yes"), True)
        self.assertRaises(BadValue, family.parseProperty, "session", "ELEVENCHARS")
        self.assertRaises(BadValue, family.parseProperty, "idle_timeout", "-1")
        self.assertRaises(BadValue, family.parseProperty, "nope", "1")
        self.assertIn("session", family.propertyNames())

    def test_systemEventFirst(self):
        client = Client(self.endpoint)
        reply = client.login("carol", sequence=1)
        self.assertEqual(reply[0], (b"A", b"         1" + b"1".rjust(20)))
        self.assertEqual(decoded([reply[1][1]]), [(b"S", 34200 * 10**9, b"S")])

    def test_accepted(self):
        [accepted] = self.enter(self.alice, "ORD1")
        order = self.engine.findOrder("ouch1/alice", "ORD1")
        self.assertEqual(
            accepted,
            (b"A", 34200 * 10**9, b"ORD1          ", b"B", 100, b"AAPL    ", P150, 99999,
             b"FRM1", b"Y", order.orderId, b"A", b"N", 0, b"N", b"L", b" "),
        )
        self.assertEqual(order.owner, "ouch1/alice")
        self.assertTrue(order.resting)

    def test_execution(self):
        self.enter(self.alice, "S1", side=b"S", shares=100)
        messages = self.enter(self.bob, "B1", side=b"B", shares=60, price=P150 + 100)
        self.assertEqual([m[0] for m in messages], [b"A", b"E"])
        executed = messages[1]
        self.assertEqual(executed[2:6], (b"B1            ", 60, P150, b"R"))
        [resting] = decoded(self.alice.sequenced())
        self.assertEqual(resting[2:6], (b"S1            ", 60, P150, b"A"))
        self.assertEqual(resting[6], executed[6])  # same match number

    def test_tokenFieldAsReceived(self):
        """
        Accepted and Executed echo the Order Token field: the entered
        order's as received, any other order's encoded; both the same
        bytes whatever the token's spaces.
        """
        self.enter(self.alice, " S 1", side=b"S", shares=100)
        self.enter(self.alice, "S2", side=b"S", shares=100)
        messages = self.enter(self.bob, "B 1  x", side=b"B", shares=150, price=P150 + 100)
        self.assertEqual(
            [(m[0], m[2]) for m in messages],
            [(b"A", b"B 1  x        "), (b"E", b"B 1  x        "), (b"E", b"B 1  x        ")],
        )
        self.assertEqual(
            [(m[0], m[2]) for m in decoded(self.alice.sequenced())],
            [(b"E", b" S 1          "), (b"E", b"S2            ")],
        )

    def test_duplicateTokenIgnored(self):
        self.enter(self.alice, "ORD1")
        again = self.enter(self.alice, "ORD1", shares=5)
        self.assertEqual(again, [])
        self.assertEqual(self.engine.findOrder("ouch1/alice", "ORD1").quantity, 100)
        # Another session may use the same token.
        self.assertEqual(self.enter(self.bob, "ORD1")[0][0], b"A")

    def test_endOfDay(self):
        """
        At the end of the day a DAY order is canceled (reason closed), the
        session gets System Events End and Start of Day, and its tokens may
        be used again.
        """
        self.enter(self.alice, "ORD1")
        self.engine.expireDay()
        messages = decoded(self.alice.sequenced())
        self.assertEqual([m[0] for m in messages], [b"C", b"S", b"S"])
        self.assertEqual(messages[0][-1], ouch42.CANCEL_CLOSED)
        self.assertEqual([m[-1] for m in messages[1:]], [b"E", b"S"])
        self.assertEqual(self.enter(self.alice, "ORD1")[0][0], b"A")

    def test_cancel(self):
        self.enter(self.alice, "ORD1")
        self.alice.unsequenced(ouch42.cancelOrder("ORD1"))
        [canceled] = decoded(self.alice.sequenced())
        self.assertEqual(canceled[2:], (b"ORD1          ", 100, b"U"))
        self.assertIsNone(self.engine.findOrder("ouch1/alice", "ORD1"))

    def test_partialCancelKeepsPriority(self):
        self.enter(self.alice, "A1")
        self.enter(self.bob, "B1")
        self.alice.unsequenced(ouch42.cancelOrder("A1", 30))
        [canceled] = decoded(self.alice.sequenced())
        self.assertEqual(canceled[2:], (b"A1            ", 70, b"U"))
        book = self.engine.getBook("AAPL")
        self.assertEqual([o.clOrdId for o in book.orders()], ["A1", "B1"])
        self.assertEqual(book.orders()[0].leavesQty, 30)

    def test_cancelUnknownIgnored(self):
        self.alice.unsequenced(ouch42.cancelOrder("NOPE"))
        self.assertEqual(self.alice.sequenced(), [])
        self.assertFalse(self.alice.closed)

    def test_replace(self):
        self.enter(self.alice, "ORD1")
        orderId = self.engine.findOrder("ouch1/alice", "ORD1").orderId
        self.alice.unsequenced(ouch42.replaceOrder("ORD1", "ORD2", 80, P150 + 100, 99999))
        [replaced] = decoded(self.alice.sequenced())
        self.assertEqual(replaced[0], b"U")
        self.assertEqual(replaced[2:7], (b"ORD2          ", b"B", 80, b"AAPL    ", P150 + 100))
        self.assertEqual(replaced[10], orderId)
        self.assertEqual(replaced[15:17], (b"L", b"ORD1          "))
        order = self.engine.findOrder("ouch1/alice", "ORD2")
        self.assertEqual((order.price, order.leavesQty), (P150 + 100, 80))

    def test_replaceSharesAreOpenShares(self):
        """
        Replace shares are the new open quantity: after 40 executed, a
        replace to 30 leaves 30 open (total 70).
        """
        self.enter(self.alice, "S1", side=b"S")
        self.enter(self.bob, "B1", shares=40)
        self.alice.sequenced()
        self.alice.unsequenced(ouch42.replaceOrder("S1", "S2", 30, P150))
        [replaced] = decoded(self.alice.sequenced())
        self.assertEqual(replaced[4], 30)
        order = self.engine.findOrder("ouch1/alice", "S2")
        self.assertEqual((order.quantity, order.cumQty, order.leavesQty), (70, 40, 30))

    def test_replaceToZeroCancels(self):
        self.enter(self.alice, "ORD1")
        self.alice.unsequenced(ouch42.replaceOrder("ORD1", "ORD2", 0, P150))
        [canceled] = decoded(self.alice.sequenced())
        self.assertEqual(canceled[0], b"C")
        self.assertEqual(canceled[2:], (b"ORD1          ", 100, b"U"))

    def test_replaceWithUsedTokenIgnored(self):
        self.enter(self.alice, "ORD1")
        self.enter(self.alice, "ORD2")
        self.alice.unsequenced(ouch42.replaceOrder("ORD1", "ORD2", 10, P150))
        self.assertEqual(self.alice.sequenced(), [])
        self.assertEqual(self.engine.findOrder("ouch1/alice", "ORD1").quantity, 100)

    def test_replaceBadPriceRejected(self):
        self.enter(self.alice, "ORD1")
        self.alice.unsequenced(ouch42.replaceOrder("ORD1", "ORD2", 10, P150 + 1))
        [rejected] = decoded(self.alice.sequenced())
        self.assertEqual(rejected[2:], (b"ORD2          ", b"X"))

    def test_iocNoLiquidity(self):
        messages = self.enter(self.alice, "IOC1", tif=0)
        self.assertEqual([m[0] for m in messages], [b"A", b"C"])
        self.assertEqual(messages[1][2:], (b"IOC1          ", 100, b"I"))
        self.assertEqual(messages[0][7], 0)

    def test_marketOrder(self):
        self.enter(self.alice, "S1", side=b"S", shares=50)
        messages = self.enter(self.bob, "M1", shares=80, price=ouch42.MARKET_PRICE, tif=0)
        self.assertEqual([m[0] for m in messages], [b"A", b"E", b"C"])
        self.assertEqual(messages[0][6], ouch42.MARKET_PRICE)
        self.assertEqual(messages[1][3:5], (50, P150))
        self.assertEqual(messages[2][3:], (30, b"I"))

    def test_rejects(self):
        self.assertEqual(self.enter(self.alice, "R1", stock="ZZZZ")[0][2:], (b"R1            ", b"S"))
        self.assertEqual(self.enter(self.alice, "R2", price=P150 + 1)[0][3], b"X")
        self.assertEqual(self.enter(self.alice, "R3", price=0)[0][3], b"X")
        self.assertEqual(self.enter(self.alice, "R4", shares=1000000)[0][3], b"Z")
        self.assertEqual(self.enter(self.alice, "R5", shares=0)[0][3], b"Z")
        self.assertEqual(self.enter(self.alice, "R6", side=b"Q")[0][3], b"O")

    def test_timeInForceSeconds(self):
        """
        A time in force of N seconds cancels the order N seconds later
        with reason T (timeout).
        """
        self.enter(self.alice, "T1", tif=30)
        for i in range(29):
            self.reactor.advance(1)
            self.alice.send(packets.CLIENT_HEARTBEAT_PACKET)
        self.assertEqual(self.alice.sequenced(), [])
        self.reactor.advance(1)
        messages = decoded(self.alice.sequenced())
        self.assertEqual(messages[-1][2:], (b"T1            ", 100, b"T"))

    def test_shortSale(self):
        [accepted] = self.enter(self.alice, "SS", side=b"T")
        self.assertEqual(accepted[3], b"T")
        self.assertIs(self.engine.findOrder("ouch1/alice", "SS").side, Side.SELL_SHORT)

    def test_replayAfterReconnect(self):
        self.enter(self.alice, "ORD1")
        self.alice.lose()
        again = Client(self.endpoint)
        reply = again.login("alice", sequence=1)
        self.assertEqual([kind for kind, _ in reply], [b"A", b"S", b"S"])
        self.assertEqual([p[:1] for _, p in reply[1:]], [b"S", b"A"])
        # While alice was away, her order traded: she gets it on login.
        again.lose()
        self.enter(self.bob, "B1", side=b"S", shares=10)
        third = Client(self.endpoint)
        reply = third.login("alice", sequence=3)
        self.assertEqual([p[:1] for _, p in reply[1:]], [b"E"])

    def test_secondConnectionRejected(self):
        client = Client(self.endpoint)
        self.assertEqual(client.login("alice"), [(b"J", b"S")])

    def test_cancelOnDisconnect(self):
        self.endpoint.setProperty("cancel_on_disconnect", "yes")
        self.enter(self.alice, "ORD1")
        self.alice.lose()
        self.assertIsNone(self.engine.findOrder("ouch1/alice", "ORD1"))
        again = Client(self.endpoint)
        reply = again.login("alice", sequence=3)
        self.assertEqual(decoded([reply[1][1]])[0][2:], (b"ORD1          ", 100, b"Z"))

    def test_ordersStayWithoutCancelOnDisconnect(self):
        self.enter(self.alice, "ORD1")
        self.alice.lose()
        self.assertIsNotNone(self.engine.findOrder("ouch1/alice", "ORD1"))

    def test_behaviourReject(self):
        self.engine.getBook("AAPL").behaviour = AutoReject(reject_text="H")
        [rejected] = self.enter(self.alice, "ORD1")
        self.assertEqual(rejected[2:], (b"ORD1          ", b"H"))
        self.engine.getBook("AAPL").behaviour = AutoReject()
        [rejected] = self.enter(self.alice, "ORD2")
        self.assertEqual(rejected[3], b"O")

    def test_autoFill(self):
        self.engine.setBookProperty("AAPL", "behaviour", "auto_fill")
        messages = self.enter(self.alice, "ORD1")
        self.assertEqual([m[0] for m in messages], [b"A", b"E"])
        self.assertEqual(messages[1][3:6], (100, P150, b"R"))

    def test_managedMode(self):
        self.engine.setProperty("mode", "managed")
        self.assertEqual(self.enter(self.alice, "ORD1"), [])
        order = self.engine.findOrder("ouch1/alice", "ORD1")
        self.engine.acceptOrder(order.orderId)
        self.assertEqual([m[0] for m in decoded(self.alice.sequenced())], [b"A"])
        self.alice.unsequenced(ouch42.cancelOrder("ORD1"))
        self.assertEqual([m[0] for m in decoded(self.alice.sequenced())], [b"P"])
        self.engine.rejectCancel(order.orderId)
        self.assertEqual([m[0] for m in decoded(self.alice.sequenced())], [b"I"])
        self.engine.fillOrder(order.orderId, 40, P150)
        [executed] = decoded(self.alice.sequenced())
        self.assertEqual(executed[2:6], (b"ORD1          ", 40, P150, b"A"))
        self.alice.unsequenced(ouch42.cancelOrder("ORD1"))
        self.alice.sequenced()
        self.engine.acceptCancel(order.orderId)
        [canceled] = decoded(self.alice.sequenced())
        self.assertEqual(canceled[2:], (b"ORD1          ", 60, b"U"))

    def test_managedReject(self):
        self.engine.setProperty("mode", "managed")
        self.enter(self.alice, "ORD1")
        order = self.engine.findOrder("ouch1/alice", "ORD1")
        self.engine.rejectOrder(order.orderId, "C")
        [rejected] = decoded(self.alice.sequenced())
        self.assertEqual(rejected[2:], (b"ORD1          ", b"C"))

    def test_managedReplace(self):
        self.engine.setProperty("mode", "managed")
        self.enter(self.alice, "ORD1")
        order = self.engine.findOrder("ouch1/alice", "ORD1")
        self.engine.acceptOrder(order.orderId)
        self.alice.sequenced()
        self.alice.unsequenced(ouch42.replaceOrder("ORD1", "ORD2", 50, P150))
        self.assertEqual(self.alice.sequenced(), [])
        self.engine.acceptReplace(order.orderId)
        [replaced] = decoded(self.alice.sequenced())
        self.assertEqual(replaced[2], b"ORD2          ")
        self.assertEqual(replaced[4], 50)

    def test_houseOrderTrades(self):
        house = Order("house", "H1", "AAPL", Side.SELL, 30, P150)
        self.engine.submitNew(house, neverHeld=True)
        messages = self.enter(self.alice, "B1")
        self.assertEqual([m[0] for m in messages], [b"A", b"E"])
        self.assertEqual(messages[1][3], 30)

    def test_unsupportedModify(self):
        self.enter(self.alice, "ORD1")
        self.alice.unsequenced(ouch42.MODIFY_ORDER.pack(b"M", b"ORD1          ", b"S", 10))
        self.assertFalse(self.alice.closed)
        self.assertEqual(self.alice.read()[0][0], b"+")

    def test_malformedDisconnects(self):
        self.alice.unsequenced(b"O" + b"x" * 10)
        self.assertTrue(self.alice.closed)
        self.assertEqual(self.enter(self.bob, "B1")[0][0], b"A")

    def test_shutdown(self):
        self.endpoint.factory.shutdown()
        self.assertTrue(self.alice.closed)
        self.assertNotIn(self.endpoint.factory, self.engine._listeners)

    @settings(max_examples=200, deadline=None,
              # (also run by the reference engine's subclass)
              suppress_health_check=[HealthCheck.differing_executors])
    @given(st.lists(st.sampled_from(b"OUXMSQ").flatmap(
        lambda t: st.binary(min_size=0, max_size=60).map(lambda b: bytes([t]) + b)), max_size=8))
    def test_arbitraryMessagesNeverCrash(self, payloads):
        client = Client(self.endpoint)
        client.login("fuzz%d" % len(payloads))
        for payload in payloads:
            client.unsequenced(payload)
        self.counter = getattr(self, "counter", 0) + 1
        self.assertEqual(self.enter(self.bob, "Z%d" % self.counter)[0][0], b"A")
        self.assertEqual(self.flushLoggedErrors(), [])
        self.engine.getBook("AAPL").validateInternalState()
        client.lose()


class TokenFieldTests(TestCase):
    """
    An order's Accepted and Executed echo its Order Token field as
    received (L{OuchSession._tokenField}): the same bytes as encoding the
    token the field was decoded to.
    """

    @given(st.binary(min_size=14, max_size=14))
    def test_fieldAsReceivedIsTheEncodedToken(self, field):
        try:
            token = ouch42.text(field)
        except packets.SoupProtocolError:
            return
        self.assertEqual(ouch42.alpha(token, 14), field)

    @settings(max_examples=50, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.text(alphabet=" AZaz09-", min_size=1, max_size=14), min_size=1,
                    max_size=6, unique_by=lambda t: t.rstrip(" ")))
    def test_echoed(self, tokens):
        endpoint = makeEndpoint(family, "ouch1")
        client = Client(endpoint)
        client.login("alice")
        client.sequenced()
        tokens = [t for t in tokens if t.strip(" ")]
        for n, token in enumerate(tokens):
            client.unsequenced(ouch42.enterOrder(token, b"BS"[n % 2:n % 2 + 1], 100, "AAPL", P150))
        messages = decoded(client.sequenced())
        fields = [ouch42.alpha(t, 14) for t in tokens]
        self.assertEqual([m[2] for m in messages if m[0] == b"A"], fields)
        for m in messages:
            self.assertIn(m[2], fields)


class StockMemoTests(TestCase):
    """
    L{OuchFactory.symbolOf} and L{OuchFactory.stockOf} remember what
    L{ouch42.text} and L{ouch42.alpha} give: the memo must give the same
    (or raise the same) for every field, remembered or not, memo full or
    not.
    """

    @settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.binary(min_size=8, max_size=8), min_size=1, max_size=12),
           st.integers(min_value=0, max_value=6))
    def test_sameAsTheCodec(self, fields, memo):
        from exsim.soup import ouch

        self.patch(ouch, "STOCK_MEMO", memo)
        factory = makeEndpoint(family, "ouch1").factory
        for field in fields + fields:
            try:
                expected = ouch42.text(field)
            except packets.SoupProtocolError:
                self.assertRaises(packets.SoupProtocolError, factory.symbolOf, field)
                self.assertNotIn(field, factory.symbols)
                continue
            remembered = factory.symbols.get(field)
            self.assertIn(remembered, (None, expected))
            self.assertEqual(factory.symbolOf(field), expected)
            self.assertEqual(factory.stockOf(expected), ouch42.alpha(expected, 8))
            self.assertEqual(factory.stocks.get(expected, ouch42.alpha(expected, 8)),
                             ouch42.alpha(expected, 8))
        self.assertLessEqual(len(factory.symbols), memo)
        self.assertLessEqual(len(factory.stocks), memo)

    def test_orders(self):
        """
        Orders entered with a Stock field remembered, or not (memo full),
        reach the same book and are Accepted with the same Stock field.
        """
        from exsim.soup import ouch

        for memo in (0, 4096):
            self.patch(ouch, "STOCK_MEMO", memo)
            endpoint = makeEndpoint(family, "ouch1", symbols=("AAPL", "MSFT"))
            client = Client(endpoint)
            client.login("alice")
            client.sequenced()
            for n, stock in enumerate(["AAPL", "MSFT", "AAPL", "ZZZZ", "MSFT"]):
                client.unsequenced(ouch42.enterOrder("T%d" % n, b"B", 100, stock, P150))
            messages = decoded(client.sequenced())
            self.assertEqual(
                [(m[0], m[5] if m[0] == b"A" else m[3]) for m in messages],
                [(b"A", b"AAPL    "), (b"A", b"MSFT    "), (b"A", b"AAPL    "),
                 (b"J", ouch42.REJECT_INVALID_STOCK), (b"A", b"MSFT    ")],
            )
            self.assertEqual(len(endpoint.factory.symbols), min(memo, 3))
            self.assertEqual(len(endpoint.factory.stocks), min(memo, 2))


class ReferenceOuchTests(OuchTests):
    engineClass = ReferenceEngine
