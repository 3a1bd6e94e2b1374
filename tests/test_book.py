# -*- test-case-name: tests.test_book -*-
"""
The order book structure.
"""

from twisted.trial.unittest import TestCase

from exsim.engine.book import Book
from exsim.model import Instrument, Order, Side


def order(orderId, side, price, quantity=10):
    o = Order("o", str(orderId), "X", side, quantity, price)
    o.orderId = orderId
    return o


class BookTests(TestCase):
    def setUp(self):
        self.book = Book(Instrument("X"))

    def test_bestPrices(self):
        self.assertIsNone(self.book.bestBid())
        self.assertIsNone(self.book.bestAsk())
        for i, p in enumerate([100, 300, 200]):
            self.book.add(order(i, Side.BUY, p))
        for i, p in enumerate([500, 400, 600]):
            self.book.add(order(10 + i, Side.SELL, p))
        self.assertEqual((self.book.bestBid(), self.book.bestAsk()), (300, 400))
        self.book.validateInternalState()

    def test_removeEmptiesLevel(self):
        a = order(1, Side.BUY, 300)
        b = order(2, Side.BUY, 200)
        self.book.add(a)
        self.book.add(b)
        self.book.remove(a)
        self.assertEqual(self.book.bestBid(), 200)
        self.assertNotIn(300, self.book.bids)
        self.book.validateInternalState()

    def test_depth(self):
        for i in range(5):
            self.book.add(order(i, Side.SELL, 100 * (i % 3 + 1), 10 + i))
        self.assertEqual(self.book.depth(False), [(100, 10 + 13, 2), (200, 11 + 14, 2), (300, 12, 1)])
        self.assertEqual(self.book.depth(False, 1), [(100, 23, 1 + 1)])

    def test_levelRecreated(self):
        """
        A level that empties and comes back is found again (stale heap
        entries are skipped).
        """
        a = order(1, Side.SELL, 100)
        self.book.add(a)
        self.book.remove(a)
        b = order(2, Side.SELL, 100)
        self.book.add(b)
        self.assertEqual(self.book.bestAsk(), 100)
        self.book.remove(b)
        self.assertIsNone(self.book.bestAsk())
        self.book.validateInternalState()

    def test_heapStaysBounded(self):
        for i in range(1000):
            o = order(i, Side.BUY, 100 + i)
            self.book.add(o)
            self.book.remove(o)
        self.assertLess(len(self.book._bidHeap), 200)

    def test_validateCatchesCorruption(self):
        a = order(1, Side.BUY, 100)
        self.book.add(a)
        self.book.bids[100].quantity += 1
        self.assertRaises(AssertionError, self.book.validateInternalState)

    def test_validateCatchesCrossed(self):
        self.book.add(order(1, Side.BUY, 200))
        self.book.add(order(2, Side.SELL, 100))
        self.assertRaises(AssertionError, self.book.validateInternalState)

    def test_sharesLevelPrice(self):
        """
        Orders at one level share the level's price object (memory).
        """
        a = order(1, Side.BUY, int("1000000"))
        b = order(2, Side.BUY, int("1000000"))
        self.book.add(a)
        self.book.add(b)
        self.assertIs(a.price, b.price)
