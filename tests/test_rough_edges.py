"""
The rough edges a new user hit (issue 16): each behaviour as documented.
"""

from twisted.internet.task import Clock
from twisted.trial import unittest

from exsim import config
from exsim.errors import BadValue, ConfigError
from exsim.service import Simulator


class ReferencePriceTests(unittest.TestCase):
    def setUp(self):
        self.simulator = Simulator(Clock())
        self.simulator.create_engine("e1")
        self.simulator.create_book("AAPL", "e1", "AAPL")
        self.simulator.set_book_property("AAPL", "tick_size", "0.05")

    def test_offTickRejected(self):
        """
        A reference price off the tick grid is refused, naming the tick
        size, as an order's price is.
        """
        e = self.assertRaises(
            BadValue, self.simulator.set_book_property, "AAPL", "reference_price", "150.02"
        )
        self.assertEqual(str(e), "reference_price 150.02 is not on the tick grid (tick_size 0.05)")
        self.simulator.set_book_property("AAPL", "reference_price", "150.05")
        self.assertEqual(self.simulator.book("AAPL")[1].referencePrice, 1500500)

    def test_tickSizeKeepsReferenceOnGrid(self):
        """
        A tick size that would leave the reference price off the grid is
        refused too.
        """
        self.simulator.set_book_property("AAPL", "reference_price", "150.05")
        e = self.assertRaises(
            BadValue, self.simulator.set_book_property, "AAPL", "tick_size", "0.10"
        )
        self.assertIn("reference_price 150.05 off the tick grid", str(e))
        self.simulator.set_book_property("AAPL", "tick_size", "0.01")

    def test_config(self):
        text = "[engine:e1]\n[book:X]\nengine = e1\ntick_size = 0.05\nreference_price = 10.01\n"
        e = self.assertRaises(
            ConfigError, config.apply, config.parse(text, "sim.ini"), Simulator(Clock())
        )
        self.assertEqual(
            str(e), "sim.ini:5: reference_price 10.01 is not on the tick grid (tick_size 0.05)"
        )
