# -*- test-case-name: tests.test_control_ordertypes -*-
"""
The management side of issue 13's order types: house orders with advanced
terms, C{cancel_all}, C{get_book(hidden=True)}, the book properties
C{self_trade_prevention} and C{post_only_action}, the session property
C{stp_group}, and their C{sim.ini} keys; on both engine classes.
"""

from twisted.internet.testing import MemoryReactorClock

from exsim import config
from exsim.errors import BadValue, UnknownName, WrongState
from exsim.model import AdvancedTerms, Order, OrdStatus, OrdType, Side, TimeInForce
from exsim.service import Simulator
from tests.test_control_operations import BookTestCase


class HouseOrderTypesTests(BookTestCase):
    def submit(self, orderId, **properties):
        self.simulator.create_order(orderId, "AAPL", **properties)
        self.simulator.submit_order(orderId)
        return self.engine.getOrder(self.simulator.houseOrders[orderId].orderId)

    def test_iceberg(self):
        order = self.submit("o1", side="sell", price="10.00", quantity=100, display_quantity=10)
        self.assertEqual(order.extra.displayQty, 10)
        book = self.simulator.get_book("AAPL", hidden=True)
        self.assertEqual(book["asks"], [("10.00", 10, 1)])
        self.assertEqual(book["hidden_asks"], [("10.00", 90, 1)])
        self.assertNotIn("hidden_asks", self.simulator.get_book("AAPL"))

    def test_hidden(self):
        self.submit("o1", side="buy", price="9.00", quantity=5, display_quantity="0")
        book = self.simulator.get_book("AAPL", hidden="yes")
        self.assertEqual((book["bids"], book["hidden_bids"]), ([], [("9.00", 5, 1)]))

    def test_stop(self):
        order = self.submit(
            "o1", side="buy", quantity=5, order_type="stop_limit", price="10.10",
            stop_price="10.05", time_in_force="gtc",
        )
        self.assertEqual((order.ordType, order.extra.stopPx, order.resting), (OrdType.STOP_LIMIT, 100500, False))
        self.simulator.set_order_property("o1", "stop_price", "10.06")
        self.simulator.submit_order("o1")
        self.assertEqual(order.extra.stopPx, 100600)
        self.simulator.set_order_property("o1", "display_quantity", "1")
        self.assertRaises(WrongState, self.simulator.submit_order, "o1")

    def test_stopNeedsStopPrice(self):
        self.simulator.create_order("o1", "AAPL", side="buy", quantity=5, order_type="stop")
        self.assertRaises(BadValue, self.simulator.submit_order, "o1")

    def test_pegAndPostOnly(self):
        self.wire("buy", 10, "10.00", "b")
        self.wire("sell", 10, "10.10", "s")
        peg = self.submit("o1", side="buy", quantity=5, order_type="pegged", price="10.08")
        self.assertEqual((peg.price, peg.extra.cap), (100500, 100800))
        self.simulator.create_order("o2", "AAPL", side="buy", quantity=5, price="10.10", post_only="yes")
        self.assertRaises(BadValue, self.simulator.submit_order, "o2")

    def test_minQuantityAndStpId(self):
        order = self.submit(
            "o1", side="sell", quantity=50, price="10.00", min_quantity=20, stp_id="desk"
        )
        self.assertEqual((order.extra.minQty, order.extra.stpId), (20, "desk"))
        small = self.wire("buy", 10, "10.00", "small")
        self.assertEqual(small.cumQty, 0)

    def test_propertyErrors(self):
        self.simulator.create_order("o1", "AAPL", side="buy", quantity=1, price="1.00")
        for name, value in [
            ("stop_price", "1.001"), ("stop_price", "x"), ("display_quantity", "-1"),
            ("display_quantity", "1.5"), ("min_quantity", "0"), ("post_only", "maybe"),
            ("stp_id", "\x01"),
        ]:
            self.assertRaises(BadValue, self.simulator.set_order_property, "o1", name, value)

    def test_rejectedTerms(self):
        """
        Terms the book refuses come back as a BadValue naming the reason;
        the book is unchanged.
        """
        self.simulator.create_order(
            "o1", "AAPL", side="buy", quantity=10, price="1.00", display_quantity=11
        )
        e = self.assertRaises(BadValue, self.simulator.submit_order, "o1")
        self.assertIn("display quantity exceeds the order quantity", str(e))
        self.assertEqual(self.book(), ([], []))


class ReferenceHouseOrderTypesTests(HouseOrderTypesTests):
    engineClass = "reference"


class CancelAllTests(BookTestCase):
    def setUp(self):
        BookTestCase.setUp(self)
        self.simulator.create_book("MSFT", "e1", "MSFT")
        self.orders = [
            self.wire("buy", 10, "10.00", "a1"),
            self.wire("buy", 10, "9.00", "a2", symbol="MSFT"),
            self.wire("sell", 10, "11.00", "b1", owner="fix1/OTHER"),
        ]
        self.simulator.create_order("h1", "AAPL", side="sell", quantity=3, price="12.00")
        self.simulator.submit_order("h1")
        self.simulator.get_events()

    def test_everything(self):
        self.assertEqual(self.simulator.cancel_all("e1"), 4)
        self.assertEqual([o.status for o in self.orders], [OrdStatus.CANCELLED] * 3)
        self.assertEqual(self.types().count("cancelled"), 4)
        self.assertEqual(self.simulator.cancel_all("e1"), 0)

    def test_byBookAndOwner(self):
        self.assertEqual(self.simulator.cancel_all("e1", book="AAPL", owner="fix1/CLIENT"), 1)
        self.assertEqual([o.status for o in self.orders],
                         [OrdStatus.CANCELLED, OrdStatus.NEW, OrdStatus.NEW])
        self.assertEqual(self.simulator.cancel_all("e1", owner="house"), 1)
        self.assertEqual(self.simulator.cancel_all("e1", book="MSFT"), 1)

    def test_errors(self):
        self.assertRaises(UnknownName, self.simulator.cancel_all, "e9")
        self.assertRaises(UnknownName, self.simulator.cancel_all, "e1", book="NOPE")
        self.assertRaises(BadValue, self.simulator.cancel_all, "e1", owner=7)
        self.assertEqual([o.status for o in self.orders], [OrdStatus.NEW] * 3)


class ReferenceCancelAllTests(CancelAllTests):
    engineClass = "reference"


class ManagedEventsTests(BookTestCase):
    """
    Managed mode: an C{order_request} of an order with advanced terms
    carries them, and a held replace its stop price; a C{triggered} event
    its stop price.
    """

    def test_orderRequests(self):
        self.simulator.set_engine_property("e1", "mode", "managed")
        self.simulator.get_events()
        stop = Order(
            "fix1/CLIENT", "s1", "AAPL", Side.BUY, 10, 100600, OrdType.STOP_LIMIT, TimeInForce.DAY,
            extra=AdvancedTerms(stopPx=100500, stpId="d1"),
        )
        self.engine.submitNew(stop)
        peg = Order(
            "fix1/CLIENT", "p1", "AAPL", Side.SELL, 10, 100200, OrdType.PEGGED, TimeInForce.DAY,
            extra=AdvancedTerms(minQty=5),
        )
        self.engine.submitNew(peg)
        plain = self.wire("buy", 10, "9.00", "b1")
        requests = [e for e in self.simulator.get_events() if e["type"] == "order_request"]
        fields = ("stop_price", "display_quantity", "min_quantity", "post_only", "stp_id", "peg_limit")
        self.assertEqual(
            [tuple(r.get(k) for k in ("cl_ord_id", "price") + fields) for r in requests],
            [
                ("s1", "10.06", "10.05", None, None, False, "d1", None),
                ("p1", None, None, None, 5, False, None, "10.02"),
                ("b1", "9.00", None, None, None, None, None, None),
            ],
        )
        self.assertNotIn("stop_price", requests[2])
        self.assertNotIn("request_stop_price", requests[0])
        self.simulator.accept_order(stop.orderId)
        self.simulator.accept_order(plain.orderId)
        self.simulator.get_events()
        self.engine.submitReplace("fix1/CLIENT", "s2", origClOrdId="s1", stopPx=100700)
        [request] = [e for e in self.simulator.get_events() if e["type"] == "order_request"]
        self.assertEqual((request["kind"], request["request_stop_price"], request["stop_price"]),
                         ("replace", "10.07", "10.05"))
        self.simulator.accept_replace(stop.orderId)
        self.assertEqual(stop.extra.stopPx, 100700)
        # A trade at 10.07 triggers it: the event names the stop price.
        self.simulator.create_order("h1", "AAPL", side="sell", price="10.07", quantity=1)
        self.simulator.create_order("h2", "AAPL", side="buy", price="10.07", quantity=1)
        self.simulator.submit_order("h1")
        self.simulator.submit_order("h2")
        [triggered] = [e for e in self.simulator.get_events() if e["type"] == "triggered"]
        self.assertEqual((triggered["cl_ord_id"], triggered["stop_price"]), ("s2", "10.07"))


class ReferenceManagedEventsTests(ManagedEventsTests):
    engineClass = "reference"


class BookPropertyTests(BookTestCase):
    def test_properties(self):
        self.simulator.set_book_property("AAPL", "self_trade_prevention", "Cancel_Oldest")
        self.simulator.set_book_property("AAPL", "post_only_action", "slide")
        book = self.engine.getBook("AAPL")
        self.assertEqual((book.stp, book.postOnlyAction), ("cancel_oldest", "slide"))
        self.assertRaises(BadValue, self.simulator.set_book_property, "AAPL", "self_trade_prevention", "x")
        self.assertRaises(BadValue, self.simulator.set_book_property, "AAPL", "post_only_action", "x")
        self.assertEqual(book.stp, "cancel_oldest")


class SimIniTests(BookTestCase):
    """
    sim.ini: the book properties, an endpoint's stp_group and a house
    order with advanced terms.
    """

    def test_config(self):
        text = """
[engine:e2]
[book:IBM]
engine = e2
symbol = IBM
self_trade_prevention = cancel_newest
post_only_action = slide
[endpoint:fix2]
engine = e2
protocol = fix
stp_group = desk1
[order:ice]
book = IBM
side = sell
price = 10.00
quantity = 100
display_quantity = 10
"""
        simulator = Simulator(MemoryReactorClock())
        config.apply(config.parse(text, "sim.ini"), simulator)
        book = simulator.engines["e2"].getBook("IBM")
        self.assertEqual((book.stp, book.postOnlyAction), ("cancel_newest", "slide"))
        self.assertEqual(simulator.endpoints["fix2"].properties["stp_group"], "desk1")
        self.assertEqual(simulator.houseOrders["ice"].values["display_quantity"], 10)
