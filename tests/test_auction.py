# -*- test-case-name: tests.test_auction -*-
"""
The uncross price (L{exsim.engine.auction}) on books computed by hand.
"""

from hypothesis import given, settings, strategies as st
from twisted.trial.unittest import TestCase

from exsim.engine.auction import currentReference, imbalance, pairs, uncross
from exsim.model import Side
from tests.helpers import P


def levels(*pairs):
    return [(P(price), quantity) for price, quantity in pairs]


class UncrossPriceTests(TestCase):
    def test_mostVolume(self):
        """
        Bids 10.05x100, 10.03x200, 10.00x300; asks 9.98x150, 10.02x250,
        10.04x100.  What executes at each price: 9.98 150, 10.00 150,
        10.02 300, 10.03 300, 10.04 100, 10.05 100; at 10.02 and 10.03
        the buyers offer 300 and the sellers 400 (imbalance 100 sell):
        with nothing else to tell them apart, the lower price.
        """
        bids = levels(("10.05", 100), ("10.03", 200), ("10.00", 300))
        asks = levels(("9.98", 150), ("10.02", 250), ("10.04", 100))
        result = uncross(bids, asks)
        self.assertEqual(
            (result.price, result.paired, result.imbalance, result.imbalanceSide),
            (P("10.02"), 300, 100, Side.SELL),
        )
        self.assertEqual((result.buyVolume, result.sellVolume), (300, 400))

    def test_referenceBreaksTie(self):
        """
        The same book with a reference price of 10.03: of the two prices
        of equal volume and imbalance, the one nearest to it.
        """
        bids = levels(("10.05", 100), ("10.03", 200), ("10.00", 300))
        asks = levels(("9.98", 150), ("10.02", 250), ("10.04", 100))
        self.assertEqual(uncross(bids, asks, reference=P("10.03")).price, P("10.03"))
        self.assertEqual(uncross(bids, asks, reference=P("10.50")).price, P("10.03"))
        self.assertEqual(uncross(bids, asks, reference=P("9.00")).price, P("10.02"))

    def test_lastPriceWithoutReference(self):
        bids = levels(("10.05", 100), ("10.03", 200), ("10.00", 300))
        asks = levels(("9.98", 150), ("10.02", 250), ("10.04", 100))
        self.assertEqual(uncross(bids, asks, last=P("10.04")).price, P("10.03"))
        # The reference wins over the last price.
        self.assertEqual(
            uncross(bids, asks, reference=P("10.02"), last=P("10.04")).price, P("10.02")
        )

    def test_imbalanceBeforeReference(self):
        """
        Bids 10.02x300; asks 10.00x100, 10.01x200, 10.02x100: 300 executes
        at 10.01 (imbalance 0) and at 10.02 (imbalance 100 sell): 10.01,
        whatever the reference price.
        """
        bids = levels(("10.02", 300))
        asks = levels(("10.00", 100), ("10.01", 200), ("10.02", 100))
        result = uncross(bids, asks, reference=P("10.02"))
        self.assertEqual(
            (result.price, result.paired, result.imbalance, result.imbalanceSide),
            (P("10.01"), 300, 0, None),
        )

    def test_referenceBetweenOrderPrices(self):
        """
        Bids 10.05x100, 10.00x50; asks 10.00x100, 10.05x50: at 10.00 and
        10.05 100 executes with an imbalance of 50; at the reference price
        10.02 in between, 100 with none.
        """
        bids = levels(("10.05", 100), ("10.00", 50))
        asks = levels(("10.00", 100), ("10.05", 50))
        result = uncross(bids, asks, reference=P("10.02"))
        self.assertEqual((result.price, result.paired, result.imbalance), (P("10.02"), 100, 0))
        self.assertEqual(uncross(bids, asks).price, P("10.00"))

    def test_marketOrders(self):
        """
        A market buy of 100; asks 10.00x50, 10.01x100; bid 9.99x50: 0
        executes at 9.99, 50 at 10.00, 100 at 10.01 (sellers offer 150).
        """
        result = uncross(
            levels(("9.99", 50)), levels(("10.00", 50), ("10.01", 100)), marketBuy=100
        )
        self.assertEqual(
            (result.price, result.paired, result.imbalance, result.imbalanceSide),
            (P("10.01"), 100, 50, Side.SELL),
        )

    def test_onlyMarketOrders(self):
        """
        Market orders alone trade at the reference price, else the last
        price; with neither, not at all.
        """
        result = uncross([], [], marketBuy=100, marketSell=60, reference=P("10.00"))
        self.assertEqual(
            (result.price, result.paired, result.imbalance, result.imbalanceSide),
            (P("10.00"), 60, 40, Side.BUY),
        )
        self.assertEqual(uncross([], [], 100, 60, last=P("9.00")).price, P("9.00"))
        result = uncross([], [], marketBuy=100, marketSell=60)
        self.assertEqual(
            (result.price, result.paired, result.imbalance, result.imbalanceSide),
            (None, 0, 40, Side.BUY),
        )

    def test_emptySide(self):
        result = uncross(levels(("10.00", 100), ("9.99", 50)), [], reference=P("10.00"))
        self.assertEqual(
            (result.price, result.paired, result.imbalance, result.imbalanceSide),
            (None, 0, 150, Side.BUY),
        )

    def test_noCross(self):
        result = uncross(levels(("9.99", 100)), levels(("10.01", 100)))
        self.assertEqual(
            (result.price, result.paired, result.imbalance, result.imbalanceSide),
            (None, 0, 0, None),
        )

    def test_emptyBook(self):
        self.assertEqual(uncross([], []), (None, 0, 0, None, 0, 0))

    def test_levelsAddUp(self):
        """
        The same price may come more than once (orders rather than levels).
        """
        self.assertEqual(
            uncross(levels(("10.00", 60), ("10.00", 40)), levels(("10.00", 100))).paired, 100
        )


class PairsTests(TestCase):
    def test_inOrder(self):
        """
        The first buy with the first sell, and on: 100 and 50 against 30,
        90 and 80 pair as (a, x, 30), (a, y, 70), (b, y, 20), (b, z, 30).
        """
        result = pairs([("a", 100), ("b", 50)], [("x", 30), ("y", 90), ("z", 80)], 150)
        self.assertEqual(result, [("a", "x", 30), ("a", "y", 70), ("b", "y", 20), ("b", "z", 30)])

    def test_stopsAtQuantity(self):
        self.assertEqual(pairs([("a", 100)], [("x", 100)], 40), [("a", "x", 40)])
        self.assertEqual(pairs([("a", 100)], [("x", 100)], 0), [])



class ImbalanceTests(TestCase):
    """
    The figures of Nasdaq's NOII (L{imbalance}): far, near and Current
    Reference Price, on books computed by hand.
    """

    def test_farNearCurrent(self):
        """
        Auction-only: a market buy of 500, a sell of 50 at 10.01.  The
        continuous book: a bid of 100 at 10.00, asks of 100 at 10.02, 300 at
        10.04, 200 at 10.06.  Far: only the auction-only orders: 50 pair at
        10.01.  Near: everything: buy/sell at 10.00 600/0, 10.01 500/50,
        10.02 500/150, 10.04 500/450, 10.06 500/650: 500 pair at 10.06 (150
        sell left).  Inside 10.00 to 10.02: current reference 10.02, 150
        paired, 350 buy imbalance.
        """
        bids = levels(("10.00", 100))
        asks = levels(("10.01", 50), ("10.02", 100), ("10.04", 300), ("10.06", 200))
        auctionOnly = [(True, None, 500), (False, P("10.01"), 50)]
        result = imbalance(bids, asks, 500, 0, auctionOnly, True)
        self.assertEqual(result.far, P("10.01"))
        near, current = result.near, result.current
        self.assertEqual(
            (near.price, near.paired, near.imbalance, near.imbalanceSide),
            (P("10.06"), 500, 150, Side.SELL),
        )
        self.assertEqual(
            (current.price, current.paired, current.imbalance, current.imbalanceSide),
            (P("10.02"), 150, 350, Side.BUY),
        )

    def test_noAuctionOnlyOrders(self):
        """
        No auction-only orders: no far price in an opening or closing call;
        in a reopening (every order is a cross order) the far price is the
        near one.
        """
        bids = levels(("10.01", 100))
        asks = levels(("10.00", 60))
        self.assertIsNone(imbalance(bids, asks, 0, 0, [], True).far)
        self.assertEqual(imbalance(bids, asks, 0, 0, [], False).far, P("10.00"))

    def test_crossedInside(self):
        """
        A crossed book in a call (nothing matches): the inside is 10.00 to
        10.01, both pair 60 with 40 to buy: the lower, or the one nearest
        the reference price.
        """
        bids = levels(("10.01", 100))
        asks = levels(("10.00", 60))
        self.assertEqual(imbalance(bids, asks, 0, 0, [], True).current.price, P("10.00"))
        result = imbalance(bids, asks, 0, 0, [], True, reference=P("10.05"))
        self.assertEqual(
            (result.current.price, result.current.paired, result.current.imbalance),
            (P("10.01"), 60, 40),
        )

    def test_currentReferenceWithinBounds(self):
        """
        Nothing pairs in the inside: still a price, the smallest imbalance
        (bids 10.00x100, asks 10.02x100 and 10.04x80, bounds 10.01 and
        10.03: buy/sell at 10.01 0/0, at 10.02 0/100, at 10.03 0/100: 10.01,
        where nothing is left over); no candidate at all: None.
        """
        bids = levels(("10.00", 100))
        asks = levels(("10.02", 100), ("10.04", 80))
        result = currentReference(bids, asks, low=P("10.01"), high=P("10.03"))
        self.assertEqual((result.price, result.paired, result.imbalance), (P("10.01"), 0, 0))
        self.assertIsNone(currentReference([], [], 10, 0).price)


BOOK_SIDE = st.lists(
    st.tuples(st.integers(95, 105).map(lambda p: p * 100), st.integers(1, 50)), max_size=8
)


class UncrossPropertyTests(TestCase):
    @settings(max_examples=300, deadline=None)
    @given(
        bids=BOOK_SIDE, asks=BOOK_SIDE, marketBuy=st.integers(0, 60),
        marketSell=st.integers(0, 60),
        reference=st.one_of(st.none(), st.integers(95, 105).map(lambda p: p * 100)),
    )
    def test_bestOfEveryPrice(self, bids, asks, marketBuy, marketSell, reference):
        """
        No price on the grid executes more than the one chosen, and no
        candidate (an order's price, the reference) that executes as much
        has a smaller imbalance; what is left after executing it does not
        cross.
        """
        result = uncross(bids, asks, marketBuy, marketSell, reference)

        def at(price):
            buy = marketBuy + sum(q for p, q in bids if p >= price)
            sell = marketSell + sum(q for p, q in asks if p <= price)
            return min(buy, sell), abs(buy - sell)

        grid = range(9400, 10700, 100)
        best = max(at(p)[0] for p in grid)
        if result.price is None:
            # Nothing can trade (market orders alone need a reference).
            self.assertTrue(best == 0 or (reference is None and not bids and not asks))
            return
        paired, imbalance = at(result.price)
        self.assertEqual(result.paired, paired)
        self.assertEqual(result.imbalance, imbalance)
        self.assertEqual(paired, best)
        candidates = {p for p, q in bids + asks} | ({reference} - {None})
        self.assertEqual(imbalance, min(at(p)[1] for p in candidates if at(p)[0] == best))
        # Execute: the best bids against the best asks.
        restBids = sorted(((p, q) for p, q in bids if p >= result.price), reverse=True)
        restAsks = sorted((p, q) for p, q in asks if p <= result.price)
        left = max(0, paired - marketBuy)
        remainingBids = [p for p, q in bids if p < result.price]
        for p, q in restBids:
            if left >= q:
                left -= q
            else:
                remainingBids.append(p)
                left = 0
        left = max(0, paired - marketSell)
        remainingAsks = [p for p, q in asks if p > result.price]
        for p, q in restAsks:
            if left >= q:
                left -= q
            else:
                remainingAsks.append(p)
                left = 0
        if remainingBids and remainingAsks:
            self.assertLess(max(remainingBids), min(remainingAsks))
