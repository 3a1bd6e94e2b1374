"""
Managed mode from a trial test, written with Deferreds: an asynchronous
management client and a Twisted FIX client (exsim.testing.connectFix) on
the test's reactor.

Run it from the checkout's root (or anywhere, with exsim installed)::

    python -m twisted.trial examples/test_trial_example.py
"""

from twisted.internet import defer, reactor
from twisted.trial import unittest

from exsim.testing import connectedClient, connectFix


class ManagedFillTests(unittest.TestCase):
    @defer.inlineCallbacks
    def setUp(self):
        self.server, self.venue = yield connectedClient(self, reactor)
        venue = self.venue
        yield venue.create_engine("e1", "matching")
        yield venue.set_engine_property("e1", "mode", "managed")
        yield venue.create_book("AAPL", "e1", "AAPL")
        yield venue.create_endpoint("fix1", "e1", "fix")
        yield venue.set_protocol_property("fix1", "sender_comp_id", "EXSIM")
        yield venue.set_protocol_property("fix1", "target_comp_id", "CLIENT")
        yield venue.set_protocol_property("fix1", "begin_string", "FIX.4.2")
        yield venue.start_endpoint("fix1")
        host, port = yield venue.get_endpoint_address("fix1")
        # Connects and logs on; logout (in cleanup) waits for the venue's
        # Logout and the connection's end.
        self.fix = yield connectFix(
            reactor, "tcp:%s:%d" % (host, port),
            sender_comp_id="CLIENT", target_comp_id="EXSIM", begin_string="FIX.4.2",
        )
        self.addCleanup(self.fix.logout)

    @defer.inlineCallbacks
    def test_partialFill(self):
        self.fix.new_order("AAPL", "buy", 100, "150.25", cl_ord_id="ord1")
        request = yield self.venue.wait_for_event("order_request", cl_ord_id="ord1")
        self.assertEqual((request["kind"], request["quantity"]), ("new", 100))
        yield self.venue.fill_order(request["order_id"], 40, "150.25")

        new = yield self.fix.wait_for(self.fix.report("ord1", "0"))
        self.assertEqual(new[39], "0")
        fill = yield self.fix.wait_for(self.fix.report("ord1", "1"))
        self.assertEqual(
            (fill[39], fill[32], fill[31], fill[14], fill[151]),
            ("1", "40", "150.25", "40", "60"),
        )
        book = yield self.venue.get_book("AAPL")
        self.assertEqual(book["bids"], [("150.25", 60, 1)])
