# -*- test-case-name: tests.test_soup_ordertypes -*-
"""
The advanced order types over OUCH 4.2 (Display N, P, L, M; Minimum
Quantity; self-trade prevention's Canceled reason Q) and what an ITCH 5.0
feed shows of them (only displayed quantity), on both engine classes.
"""

from hypothesis import HealthCheck, given, settings, strategies as st
from twisted.trial.unittest import TestCase

from exsim.engine.matching import MatchingEngine
from exsim.engine.reference import ReferenceEngine
from exsim.model import AdvancedTerms, Instrument, Order, OrdType, Side, TimeInForce
from exsim.soup import ouch42
from exsim.soup.itch import family as itchFamily
from exsim.soup.ouch import family as ouchFamily
from tests.soupfakes import Client, makeEndpoint
from tests.test_itch import engineBooks, rebuild

P150 = 1500000  # 150.00


def decoded(payloads):
    return [ouch42.decodeOutbound(p) for p in payloads]


class OuchOrderTypesTests(TestCase):
    """
    (On the fast engine; L{ReferenceOuchOrderTypesTests}: the reference
    engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.endpoint = makeEndpoint(
            ouchFamily, "ouch1", symbols=("AAPL",), engineClass=self.engineClass
        )
        self.engine = self.endpoint.engine
        self.reactor = self.endpoint.reactor
        self.reactor.advance(34200 + 5 * 3600)
        self.alice = self.connect("alice")
        self.bob = self.connect("bob")
        self.feed = makeEndpoint(itchFamily, "itch1", engine=self.engine, reactor=self.reactor)

    def connect(self, username):
        client = Client(self.endpoint)
        self.assertEqual(client.login(username)[0][0], b"A")
        return client

    def enter(self, client, token, side=b"B", shares=100, price=P150, tif=99999, display=b"Y",
              minimumQuantity=0):
        client.unsequenced(
            ouch42.enterOrder(
                token, side, shares, "AAPL", price, tif, "FRM1", display=display,
                minimumQuantity=minimumQuantity,
            )
        )
        return decoded(client.sequenced())

    def itch(self):
        """
        The ITCH book rebuilt from the feed, which must equal the engine's
        displayed book.
        """
        books, messages, _ = rebuild(self.feed.factory.stream.messages())
        self.assertEqual(books, engineBooks(self.engine))
        return messages

    def test_hidden(self):
        [accepted] = self.enter(self.alice, "H1", display=b"N")
        self.assertEqual((accepted[0], accepted[9]), (b"A", b"N"))
        order = self.engine.findOrder("ouch1/alice", "H1")
        self.assertEqual(order.extra.displayQty, 0)
        self.assertEqual(self.engine.books["AAPL"].depth(True), [])
        messages = self.enter(self.bob, "S1", side=b"S", shares=40, price=P150)
        self.assertEqual([m[0] for m in messages], [b"A", b"E"])
        kinds = [m.message_type for m in self.itch()]
        self.assertNotIn(b"A", kinds)
        self.assertIn(b"P", kinds)

    def test_postOnly(self):
        self.enter(self.bob, "S1", side=b"S", price=P150)
        [rejected] = self.enter(self.alice, "P1", display=b"P", price=P150)
        self.assertEqual(rejected[0], b"J")
        [accepted] = self.enter(self.alice, "P2", display=b"L", price=P150 - 100)
        self.assertEqual((accepted[0], accepted[9]), (b"A", b"L"))
        self.engine.setBookProperty("AAPL", "post_only_action", "slide")
        [accepted] = self.enter(self.alice, "P3", display=b"P", price=P150 + 500)
        self.assertEqual((accepted[0], accepted[6]), (b"A", P150 - 100))

    def test_midpointPeg(self):
        self.enter(self.bob, "B0", price=P150 - 1000)
        self.enter(self.bob, "S0", side=b"S", price=P150 + 1000)
        self.bob.sequenced()
        [accepted] = self.enter(self.alice, "M1", side=b"S", shares=10, display=b"M",
                                price=ouch42.MARKET_PRICE)
        self.assertEqual((accepted[0], accepted[6], accepted[9]), (b"A", ouch42.MARKET_PRICE, b"M"))
        order = self.engine.findOrder("ouch1/alice", "M1")
        self.assertEqual((order.ordType, order.price), (OrdType.PEGGED, P150))
        messages = self.enter(self.bob, "B1", shares=10, price=P150 + 1000)
        self.assertEqual(messages[1][0:1] + messages[1][3:5], (b"E", 10, P150))
        self.itch()

    def test_unsupportedDisplay(self):
        for display in (b"W", b"I", b"Q", b"X"):
            [rejected] = self.enter(self.alice, "D" + display.decode(), display=display)
            self.assertEqual((rejected[0], rejected[3]), (b"J", ouch42.REJECT_INVALID_DISPLAY))

    def test_minimumQuantity(self):
        [rejected] = self.enter(self.alice, "M0", shares=10, minimumQuantity=11)
        self.assertEqual((rejected[0], rejected[3]), (b"J", ouch42.REJECT_INVALID_MIN_QTY))
        self.enter(self.bob, "S1", side=b"S", shares=30)
        messages = self.enter(self.alice, "M1", shares=100, tif=0, minimumQuantity=50)
        self.assertEqual([m[0] for m in messages], [b"A", b"C"])
        self.assertEqual((messages[1][3], messages[1][4]), (100, ouch42.CANCEL_IOC))
        messages = self.enter(self.alice, "M2", shares=100, tif=0, minimumQuantity=20)
        self.assertEqual([m[0] for m in messages], [b"A", b"E", b"C"])

    def test_selfTradePrevention(self):
        """
        A self-trade prevention cancel is reason Q; a decrement, a
        Canceled of the shares taken off.
        """
        self.engine.setBookProperty("AAPL", "self_trade_prevention", "cancel_newest")
        self.enter(self.alice, "S1", side=b"S", shares=100)
        messages = self.enter(self.alice, "B1", shares=40)
        self.assertEqual([m[0] for m in messages], [b"A", b"C"])
        self.assertEqual(messages[1][3:], (40, ouch42.CANCEL_SELF_MATCH))
        self.engine.setBookProperty("AAPL", "self_trade_prevention", "decrement")
        messages = self.enter(self.alice, "B2", shares=30)
        self.assertEqual([(m[0], m[2].strip(), m[3], m[4]) for m in messages[1:]],
                         [(b"C", b"S1", 30, b"Q"), (b"C", b"B2", 30, b"Q")])
        self.assertEqual(self.engine.findOrder("ouch1/alice", "S1").leavesQty, 70)
        self.itch()

    def test_stpGroup(self):
        self.endpoint.setProperty("stp_group", "firm")
        self.engine.setBookProperty("AAPL", "self_trade_prevention", "cancel_newest")
        self.enter(self.alice, "S1", side=b"S", shares=100)
        messages = self.enter(self.bob, "B1", shares=40)
        self.assertEqual(messages[1][4], ouch42.CANCEL_SELF_MATCH)
        self.endpoint.setProperty("stp_group", "none")
        messages = self.enter(self.bob, "B2", shares=40)
        self.assertEqual(messages[1][0], b"E")

    def test_replaceCannotChangeDisplay(self):
        self.enter(self.alice, "H1", display=b"N")
        self.alice.unsequenced(ouch42.replaceOrder("H1", "H2", 50, P150, display=b"Y"))
        [rejected] = decoded(self.alice.sequenced())
        self.assertEqual((rejected[0], rejected[3]), (b"J", ouch42.REJECT_INVALID_DISPLAY))
        self.alice.unsequenced(ouch42.replaceOrder("H1", "H3", 50, P150, display=b"N"))
        [replaced] = decoded(self.alice.sequenced())
        self.assertEqual((replaced[0], replaced[9]), (b"U", b"N"))


class ReferenceOuchOrderTypesTests(OuchOrderTypesTests):
    engineClass = ReferenceEngine


class ItchOrderTypesTests(TestCase):
    """
    What the ITCH feed shows of orders with advanced terms entered on the
    engine.  (On the fast engine; L{ReferenceItchOrderTypesTests}: the
    reference engine.)
    """

    engineClass = MatchingEngine

    def setUp(self):
        self.ouch = makeEndpoint(ouchFamily, "ouch1", symbols=("AAPL",), engineClass=self.engineClass)
        self.engine = self.ouch.engine
        self.reactor = self.ouch.reactor
        self.reactor.advance(34200 + 5 * 3600)
        self.feed = makeEndpoint(itchFamily, "itch1", engine=self.engine, reactor=self.reactor)
        self.n = 0

    def submit(self, owner, side, quantity, price=P150, ordType=OrdType.LIMIT,
               tif=TimeInForce.DAY, **terms):
        self.n += 1
        order = Order(
            owner, "c%d" % (self.n,), "AAPL", side, quantity, price, ordType, tif,
            extra=AdvancedTerms(**terms) if terms else None,
        )
        self.engine.submitNew(order)
        return order

    def messages(self):
        books, messages, _ = rebuild(self.feed.factory.stream.messages())
        self.assertEqual(books, engineBooks(self.engine))
        return messages

    def test_iceberg(self):
        """
        An iceberg is added with its slice; when the slice is executed the
        next one is a new Add Order; what trades of the reserve is a Trade.
        """
        self.submit("s1", Side.SELL, 100, displayQty=10)
        messages = self.messages()
        self.assertEqual([m.shares for m in messages if m.message_type == b"A"], [10])
        self.submit("s2", Side.BUY, 10)
        self.submit("s2", Side.BUY, 25)
        kinds = [m.message_type for m in self.messages()]
        self.assertEqual(kinds[-6:], [b"A", b"E", b"A", b"E", b"P", b"A"])

    def test_restingAtStart(self):
        """
        A feed that starts after orders rest adds only what is displayed.
        """
        self.submit("s1", Side.SELL, 100, displayQty=10)
        self.submit("s1", Side.SELL, 100, price=P150 + 100, displayQty=0)
        feed = makeEndpoint(itchFamily, "itch2", engine=self.engine, reactor=self.reactor)
        books, messages, _ = rebuild(feed.factory.stream.messages())
        self.assertEqual(books, engineBooks(self.engine))
        self.assertEqual([m.shares for m in messages if m.message_type == b"A"], [10])

    @settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.differing_executors])
    @given(st.lists(st.tuples(
        st.sampled_from(["limit", "iceberg", "hidden", "peg", "stop", "cancel", "replace",
                         "stp", "market"]),
        st.booleans(), st.integers(1, 60), st.integers(-3, 3), st.integers(0, 9),
    ), max_size=40))
    def test_randomFlowRebuilds(self, actions):
        """
        Whatever the flow of orders with advanced terms, the book rebuilt
        from the feed equals the engine's displayed book.
        """
        self.engine = engine = self.engineClass("e2", self.reactor)
        engine.addBook(Instrument("AAPL"))
        self.feed = makeEndpoint(itchFamily, "f", engine=engine, reactor=self.reactor)
        live = []
        for action, buy, quantity, tick, pick in actions:
            side = Side.BUY if buy else Side.SELL
            price = P150 + tick * 100
            owner = "o%d" % (pick % 3,)
            if action == "limit":
                live.append(self.submit(owner, side, quantity, price))
            elif action == "iceberg":
                live.append(self.submit(owner, side, quantity, price, displayQty=1 + pick % quantity))
            elif action == "hidden":
                live.append(self.submit(owner, side, quantity, price, displayQty=0))
            elif action == "peg":
                live.append(self.submit(owner, side, quantity, None, OrdType.PEGGED, minQty=None))
            elif action == "stop":
                live.append(self.submit(owner, side, quantity, None, OrdType.STOP, stopPx=price))
            elif action == "market":
                self.submit(owner, side, quantity, None, OrdType.MARKET, TimeInForce.IOC)
            elif action == "stp":
                engine.setBookProperty(
                    "AAPL", "self_trade_prevention",
                    ["none", "decrement", "cancel_oldest", "cancel_newest"][pick % 4],
                )
            elif live:
                order = live[pick % len(live)]
                if action == "cancel":
                    engine.submitCancel(order.owner, "x%d" % (self.n,), orderId=order.orderId)
                else:
                    engine.submitReplace(
                        order.owner, "r%d" % (self.n,), orderId=order.orderId,
                        quantity=order.cumQty + quantity,
                    )
                self.n += 1
            engine.getBook("AAPL").validateInternalState()
        self.messages()


class ReferenceItchOrderTypesTests(ItchOrderTypesTests):
    engineClass = ReferenceEngine
