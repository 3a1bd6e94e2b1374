"""
Managed mode end to end: each answer of the test reaches a FIX client as
the messages a venue sends (a simulator process, a FIX client on a real
socket).
"""

from decimal import Decimal

from twisted.trial import unittest

from exsim.testing import FixClient, startServer


class ManagedFixTests(unittest.TestCase):
    """
    (On the fast engine; L{ReferenceManagedFixTests}: the reference engine.)
    """

    engineClass = "matching"

    def setUp(self):
        self.venue = venue = startServer(self)
        venue.create_engine("e1", self.engineClass)
        venue.set_engine_property("e1", "mode", "managed")
        venue.create_book("AAPL", "e1", "AAPL")
        venue.create_endpoint("fix1", "e1", "fix", sender_comp_id="EXSIM", target_comp_id="CLIENT",
                              begin_string="FIX.4.2")
        venue.start_endpoint("fix1")
        self.client = FixClient(*venue.get_endpoint_address("fix1"), begin_string="FIX.4.2")
        self.addCleanup(self.client.close)
        self.client.logon()

    def order(self, clOrdId="ord1"):
        self.client.new_order("AAPL", "buy", 100, "150.25", cl_ord_id=clOrdId)
        return self.venue.wait_for_event("order_request", cl_ord_id=clOrdId, kind="new")

    def accepted(self):
        request = self.order()
        self.venue.accept_order(request["order_id"])
        er = self.client.wait_for("8")
        self.assertEqual((er[150], er[39]), ("0", "0"))
        self.assertEqual(self.venue.get_book("AAPL")["bids"], [("150.25", 100, 1)])
        return request["order_id"]

    def cancelRequest(self):
        self.client.send("F", [(41, "ord1"), (11, "cxl1"), (55, "AAPL"), (54, 1), (38, 100),
                               (60, "20240101-00:00:00")])
        request = self.venue.wait_for_event("order_request", kind="cancel")
        self.assertEqual(request["request_cl_ord_id"], "cxl1")
        pending = self.client.wait_for("8")
        self.assertEqual((pending[150], pending[39], pending[11]), ("6", "6", "cxl1"))
        return request

    def test_rejectOrder(self):
        request = self.order()
        self.venue.reject_order(request["order_id"], "not today")
        er = self.client.wait_for("8")
        self.assertEqual((er[150], er[39], er[58]), ("8", "8", "not today"))
        self.assertRaises(Exception, self.venue.accept_order, request["order_id"])

    def test_acceptCancel(self):
        orderId = self.accepted()
        self.cancelRequest()
        self.venue.accept_cancel(orderId)
        er = self.client.wait_for("8")
        self.assertEqual((er[150], er[39], er[11], er[41]), ("4", "4", "cxl1", "ord1"))
        self.assertEqual(self.venue.get_book("AAPL")["bids"], [])

    def test_rejectCancel(self):
        orderId = self.accepted()
        self.cancelRequest()
        self.venue.reject_cancel(orderId, "no")
        reject = self.client.wait_for("9")
        self.assertEqual((reject[11], reject[41], reject[434], reject[39]), ("cxl1", "ord1", "1", "0"))

    def test_replace(self):
        orderId = self.accepted()
        self.client.send("G", [(41, "ord1"), (11, "rep1"), (21, 1), (55, "AAPL"), (54, 1),
                               (60, "20240101-00:00:00"), (38, 80), (40, 2), (44, "150.30")])
        request = self.venue.wait_for_event("order_request", kind="replace")
        self.assertEqual((request["request_price"], request["request_quantity"]), ("150.30", 80))
        pending = self.client.wait_for("8")
        self.assertEqual(pending[150], "E")
        self.venue.accept_replace(orderId)
        er = self.client.wait_for("8")
        # FIX.4.2: OrdStatus Replaced.
        self.assertEqual((er[150], er[39], er[11], er[41], Decimal(er[44]), er[38]),
                         ("5", "5", "rep1", "ord1", Decimal("150.30"), "80"))
        self.assertEqual(self.venue.get_book("AAPL")["bids"], [("150.30", 80, 1)])

    def test_cancelOrder(self):
        orderId = self.accepted()
        self.venue.cancel_order(orderId)
        er = self.client.wait_for("8")
        self.assertEqual((er[150], er[39], er[11]), ("4", "4", "ord1"))


class ReferenceManagedFixTests(ManagedFixTests):
    engineClass = "reference"
