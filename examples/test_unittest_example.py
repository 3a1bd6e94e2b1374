"""
Managed mode from a unittest test: the test holds a FIX order and fills
part of it, then checks the ExecutionReports the FIX client received.

Run it from the checkout's root (or anywhere, with exsim installed)::

    python -m unittest examples/test_unittest_example.py
"""

import unittest

from exsim.testing import FixClient, SimulatorTestMixin


class ManagedFillTests(SimulatorTestMixin, unittest.TestCase):
    def setUp(self):
        super().setUp()  # self.exsim: a fresh simulator for this test
        venue = self.exsim
        venue.create_engine("e1", "matching")
        venue.set_engine_property("e1", "mode", "managed")
        venue.create_book("AAPL", "e1", "AAPL")
        venue.create_endpoint("fix1", "e1", "fix")
        venue.set_protocol_property("fix1", "sender_comp_id", "EXSIM")
        venue.set_protocol_property("fix1", "target_comp_id", "CLIENT")
        venue.set_protocol_property("fix1", "begin_string", "FIX.4.2")
        venue.start_endpoint("fix1")
        host, port = venue.get_endpoint_address("fix1")
        self.client = FixClient(host, port, "CLIENT", "EXSIM", "FIX.4.2")
        self.addCleanup(self.client.close)
        self.client.logon()

    def test_partialFill(self):
        self.client.new_order("AAPL", "buy", 100, "150.25", cl_ord_id="ord1")

        # The order is held: the test decides what the venue does.
        request = self.exsim.wait_for_event("order_request", cl_ord_id="ord1")
        self.assertEqual((request["kind"], request["quantity"]), ("new", 100))
        self.exsim.fill_order(request["order_id"], 40, "150.25")

        new = self.client.wait_for(self.client.report("ord1", "0"))
        self.assertEqual(new[39], "0")
        fill = self.client.wait_for(self.client.report("ord1", "1"))
        self.assertEqual(
            (fill[39], fill[32], fill[31], fill[14], fill[151]),
            ("1", "40", "150.25", "40", "60"),
        )
        self.assertEqual(self.exsim.get_book("AAPL")["bids"], [("150.25", 60, 1)])


if __name__ == "__main__":
    unittest.main()
