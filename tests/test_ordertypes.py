# -*- test-case-name: tests.test_ordertypes -*-
"""
The shared pure rules of exsim.engine.ordertypes: peg and slide prices,
self-trade prevention decisions, stop triggers, display parts and the
checks of advanced terms.  (The engines' behaviour with them is in
tests.ordertype_rules, run against both engines.)
"""

from hypothesis import given, strategies as st
from twisted.trial.unittest import TestCase

from exsim.engine import ordertypes
from exsim.engine.book import Book
from exsim.errors import BadValue
from exsim.model import AdvancedTerms, Instrument, Order, OrdType, Side, TimeInForce


def order(owner="s1", quantity=10, price=10000, ordType=OrdType.LIMIT, tif=TimeInForce.DAY, **terms):
    extra = AdvancedTerms(**terms) if terms else None
    return Order(owner, "c", "X", Side.BUY, quantity, price, ordType, tif, extra=extra)


class PriceTests(TestCase):
    def test_pegMidpoint(self):
        self.assertEqual(ordertypes.pegPrice(10000, 10200, True, None), 10100)
        self.assertEqual(ordertypes.pegPrice(10000, 10200, False, None), 10100)

    def test_pegHalfUnitRounds(self):
        """
        Where half a tick is not a whole unit, a buy rounds down and a sell
        up (neither crosses the touch).
        """
        self.assertEqual(ordertypes.pegPrice(10000, 10001, True, None), 10000)
        self.assertEqual(ordertypes.pegPrice(10000, 10001, False, None), 10001)

    def test_pegCap(self):
        self.assertEqual(ordertypes.pegPrice(10000, 10200, True, 10050), 10050)
        self.assertEqual(ordertypes.pegPrice(10000, 10200, False, 10150), 10150)
        self.assertEqual(ordertypes.pegPrice(10000, 10200, True, 10300), 10100)

    def test_pegOneSided(self):
        self.assertIsNone(ordertypes.pegPrice(None, 10200, True, None))
        self.assertIsNone(ordertypes.pegPrice(10000, None, False, None))

    @given(
        bid=st.integers(1, 10**6), spread=st.integers(1, 1000), tick=st.integers(1, 100),
        isBuy=st.booleans(),
    )
    def test_pegInsideSpread(self, bid, spread, tick, isBuy):
        """
        Of a two-sided market on the tick grid, the peg price is strictly
        inside the spread, or on the touch of its own side when the spread
        is one unit.
        """
        bid *= tick
        ask = bid + spread * tick
        price = ordertypes.pegPrice(bid, ask, isBuy, None)
        if spread * tick > 1:
            self.assertTrue(bid < price < ask)
        else:
            self.assertEqual(price, bid if isBuy else ask)
        # Within half a unit of the true midpoint.
        self.assertTrue(abs(2 * price - (bid + ask)) <= 1)

    def test_slide(self):
        x = Instrument("X", tickSize=100)
        self.assertEqual(ordertypes.slidePrice(True, 10200, x), 10100)
        self.assertEqual(ordertypes.slidePrice(True, 10150, x), 10100)
        self.assertEqual(ordertypes.slidePrice(False, 10000, x), 10100)
        self.assertEqual(ordertypes.slidePrice(False, 10050, x), 10100)

    def test_postOnlyPrice(self):
        """
        A post-only order rests at its price unless it would take
        liquidity; then it slides one tick away (with slide, within the
        book's price bounds) or is refused (None).
        """
        from types import SimpleNamespace

        def book(action, minPrice=1, maxPrice=10**9):
            return SimpleNamespace(
                postOnlyAction=action, instrument=Instrument("X", tickSize=100),
                limits=SimpleNamespace(minPrice=minPrice, maxPrice=maxPrice),
            )

        buy = Order("o", "c", "X", Side.BUY, 10, 10200)
        sell = Order("o", "c", "X", Side.SELL, 10, 9800)
        self.assertEqual(ordertypes.postOnlyPrice(book("reject"), buy, None), 10200)
        self.assertEqual(ordertypes.postOnlyPrice(book("reject"), buy, 10300), 10200)
        self.assertIsNone(ordertypes.postOnlyPrice(book("reject"), buy, 10200))
        self.assertEqual(ordertypes.postOnlyPrice(book("slide"), buy, 10200), 10100)
        self.assertEqual(ordertypes.postOnlyPrice(book("slide"), sell, 9900), 10000)
        self.assertIsNone(ordertypes.postOnlyPrice(book("slide", maxPrice=9999), sell, 9900))

    def test_slideTickTable(self):
        """
        With a tick table, the tick of the band the price lands in.
        """
        x = Instrument("X", tickSize=1)
        x.setTickTable([(0, 1), (10000, 5)])
        self.assertEqual(ordertypes.slidePrice(True, 10002, x), 10000)
        self.assertEqual(ordertypes.slidePrice(True, 10000, x), 9999)
        self.assertEqual(ordertypes.slidePrice(False, 9999, x), 10000)
        self.assertEqual(ordertypes.slidePrice(False, 10000, x), 10005)

    @given(contra=st.integers(2, 10**6), tick=st.integers(1, 1000), isBuy=st.booleans())
    def test_slideNeverCrosses(self, contra, tick, isBuy):
        price = ordertypes.slidePrice(isBuy, contra, Instrument("X", tickSize=tick))
        self.assertEqual(price % tick, 0)
        if isBuy:
            self.assertTrue(contra - tick <= price < contra)
        else:
            self.assertTrue(contra < price <= contra + tick)

    def test_stopFires(self):
        self.assertTrue(ordertypes.stopFires(True, 105, 100, 105))
        self.assertFalse(ordertypes.stopFires(True, 106, 100, 105))
        self.assertTrue(ordertypes.stopFires(False, 100, 100, 105))
        self.assertFalse(ordertypes.stopFires(False, 99, 100, 105))
        self.assertFalse(ordertypes.stopFires(True, 1, None, None))


class SelfTradeTests(TestCase):
    def test_outcomes(self):
        self.assertEqual(ordertypes.stpOutcome("cancel_newest", 5, 10), (False, 0, True, 0))
        self.assertEqual(ordertypes.stpOutcome("cancel_oldest", 5, 10), (True, 0, False, 0))
        self.assertEqual(ordertypes.stpOutcome("cancel_both", 5, 10), (True, 0, True, 0))
        self.assertEqual(ordertypes.stpOutcome("decrement", 5, 10), (False, 5, True, 0))
        self.assertEqual(ordertypes.stpOutcome("decrement", 10, 5), (True, 0, False, 5))
        self.assertEqual(ordertypes.stpOutcome("decrement", 5, 5), (True, 0, True, 0))

    def test_party(self):
        groups = {"a": "g", "b": "g"}
        self.assertEqual(ordertypes.party(groups, "a"), ordertypes.party(groups, "b"))
        self.assertNotEqual(ordertypes.party(groups, "a"), ordertypes.party(groups, "c"))
        # An owner named like a group is not in it.
        self.assertNotEqual(ordertypes.party(groups, "g"), ordertypes.party(groups, "a"))

    def test_selfTrade(self):
        a, b = order("s1"), order("s1")
        self.assertFalse(ordertypes.selfTrade("none", {}, a, b))
        self.assertTrue(ordertypes.selfTrade("cancel_newest", {}, a, b))
        self.assertFalse(ordertypes.selfTrade("cancel_newest", {}, a, order("s2")))
        self.assertFalse(ordertypes.selfTrade("cancel_newest", {}, order("s1", stpId="x"), b))
        self.assertTrue(
            ordertypes.selfTrade("decrement", {}, order("s1", stpId="x"), order("s1", stpId="x"))
        )

    def test_parseProperties(self):
        for mode in ordertypes.STP_MODES:
            self.assertEqual(ordertypes.parseBookProperty("self_trade_prevention", mode.upper()), mode)
        self.assertRaises(BadValue, ordertypes.parseBookProperty, "self_trade_prevention", "x")
        self.assertEqual(ordertypes.parseBookProperty("post_only_action", " Slide "), "slide")
        self.assertRaises(BadValue, ordertypes.parseBookProperty, "post_only_action", "")


class TermsTests(TestCase):
    def setUp(self):
        self.book = Book(Instrument("X", tickSize=100))

    def check(self, o):
        problem = ordertypes.checkTerms(self.book, o)
        return None if problem is None else problem[1]

    def test_plain(self):
        self.assertIsNone(self.check(order()))

    def test_displayParts(self):
        ice = order(quantity=100, displayQty=10)
        ice.terms[7].shown = 10
        self.assertTrue(ordertypes.iceberg(ice))
        self.assertEqual((ordertypes.displayed(ice), ordertypes.hiddenPart(ice)), (10, 90))
        dark = order(displayQty=0)
        self.assertTrue(ordertypes.hidden(dark))
        self.assertEqual(ordertypes.displayed(dark), 0)
        self.assertEqual(ordertypes.displayed(order()), 10)

    def test_badTerms(self):
        for o, text in [
            (order(ordType=OrdType.STOP, price=None), "needs a stop price"),
            (order(ordType=OrdType.STOP, price=None, stopPx=-100), "must be positive"),
            (order(ordType=OrdType.STOP, price=None, stopPx=150), "tick grid"),
            (order(ordType=OrdType.STOP, price=None, stopPx=100, displayQty=1), "stop order cannot"),
            (order(stopPx=100), "only a stop order"),
            (order(displayQty=11), "exceeds the order quantity"),
            (order(displayQty=-1), "must be 0 or more"),
            (order(ordType=OrdType.MARKET, price=None, displayQty=0), "no display quantity"),
            (order(ordType=OrdType.PEGGED, displayQty=1), "never displayed"),
            (order(minQty=11), "exceeds the order quantity"),
            (order(minQty=0), "must be positive"),
            (order(displayQty=5, minQty=5), "cannot have a minimum quantity"),
            (order(ordType=OrdType.MARKET, price=None, postOnly=True), "market order cannot be post-only"),
            (order(ordType=OrdType.PEGGED, postOnly=True), "only a limit order"),
            (order(tif=TimeInForce.IOC, postOnly=True), "able to rest"),
            (order(ordType=OrdType.PEGGED, tif=TimeInForce.FOK, minQty=1), "cannot be FOK"),
            (order(ordType=OrdType.PEGGED), "needs its advanced terms"),
            (order(stpId=""), "must be text"),
        ]:
            self.assertIn(text, self.check(o) or "", o.extra)

    def test_goodTerms(self):
        for o in [
            order(ordType=OrdType.STOP, price=None, stopPx=100),
            order(ordType=OrdType.STOP_LIMIT, stopPx=100, tif=TimeInForce.GTC),
            order(displayQty=10),
            order(displayQty=0, minQty=10),
            order(ordType=OrdType.PEGGED, price=None, minQty=3),
            order(postOnly=True, stpId="desk"),
            order(ordType=OrdType.MARKET, price=None, tif=TimeInForce.IOC, minQty=2),
        ]:
            self.assertIsNone(self.check(o), o.extra)
