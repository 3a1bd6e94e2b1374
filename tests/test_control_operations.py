"""
Tests for the management operations of L{exsim.service.Simulator}: each
one's success and each of its errors.  A failing operation changes
nothing.
"""

from twisted.trial import unittest
from zope.interface.verify import verifyObject

from exsim.errors import BadValue, DuplicateName, UnknownName, WrongState
from exsim.interfaces import IProtocolFamily
from exsim.model import Order, OrdType, Side, TimeInForce
from tests.helpers import FakeFamily, SimulatorTestCase


class BookTestCase(SimulatorTestCase):
    """
    A simulator with engine C{e1} of class C{engineClass} and book AAPL.
    """

    engineClass = "matching"

    def setUp(self):
        SimulatorTestCase.setUp(self)
        self.simulator.create_engine("e1", self.engineClass)
        self.simulator.create_book("AAPL", "e1", "AAPL")
        self.engine = self.simulator.engines["e1"]

    def wire(self, side, quantity, price, clOrdId, owner="fix1/CLIENT", symbol="AAPL", engine=None):
        """
        An order from the wire; returns it (with its orderId).
        """
        order = Order(
            owner, clOrdId, symbol, Side.fromName(side), quantity,
            None if price is None else int(round(float(price) * 10000)),
        )
        (engine or self.engine).submitNew(order)
        return order

    def book(self, name="AAPL"):
        b = self.simulator.get_book(name)
        return b["bids"], b["asks"]

    def types(self):
        return [e["type"] for e in self.simulator.get_events()]


class FakeFamilyTests(unittest.TestCase):
    def test_verify(self):
        self.assertTrue(verifyObject(IProtocolFamily, FakeFamily()))


class EngineOperationTests(BookTestCase):
    def test_create(self):
        self.simulator.create_engine("e2", "matching")
        self.assertEqual(self.simulator.engines["e2"].name, "e2")

    def test_createErrors(self):
        self.assertRaises(DuplicateName, self.simulator.create_engine, "e1")
        self.assertRaises(BadValue, self.simulator.create_engine, " ")
        # Names reach the wire: no control characters (FIX's SOH above all).
        e = self.assertRaises(BadValue, self.simulator.create_engine, "e\x013")
        self.assertIn("printable", str(e))
        self.assertRaises(BadValue, self.simulator.create_order, "o\x01", "AAPL", side="buy", price="1", quantity=1)
        self.assertRaises(BadValue, self.simulator.create_book, "B\tC", "e1")
        e = self.assertRaises(BadValue, self.simulator.create_engine, "e3", "quantum")
        self.assertIn("unknown engine 'quantum'", str(e))
        self.assertEqual(sorted(self.simulator.engines), ["e1"])

    def test_delete(self):
        self.simulator.delete_engine("e1")
        self.assertEqual(self.simulator.engines, {})
        self.assertRaises(UnknownName, self.simulator.get_book, "AAPL")
        self.assertRaises(UnknownName, self.simulator.delete_engine, "e1")

    def test_deleteInUse(self):
        self.simulator.create_endpoint("ep", "e1", "fake")
        e = self.assertRaises(BadValue, self.simulator.delete_engine, "e1")
        self.assertIn("used by endpoint(s) ep", str(e))
        self.assertIn("e1", self.simulator.engines)

    def test_setProperty(self):
        self.simulator.set_engine_property("e1", "mode", "managed")
        self.assertEqual(self.engine.mode, "managed")
        self.assertRaises(BadValue, self.simulator.set_engine_property, "e1", "mode", "chaos")
        self.assertRaises(BadValue, self.simulator.set_engine_property, "e1", "speed", "1")
        self.assertRaises(UnknownName, self.simulator.set_engine_property, "e9", "mode", "auto")
        self.assertEqual(self.engine.mode, "managed")


class EndpointOperationTests(BookTestCase):
    def test_createAndStart(self):
        self.assertIsNone(self.simulator.create_endpoint("ep", "e1", "fake"))
        self.simulator.set_protocol_property("ep", "colour", "red")
        self.simulator.set_protocol_property("ep", "listen", "tcp:0:interface=127.0.0.1")
        self.assertRaises(WrongState, self.simulator.get_endpoint_address, "ep")
        self.assertIsNone(self.successResultOf(self.simulator.start_endpoint("ep")))
        host, port = self.simulator.get_endpoint_address("ep")
        self.assertEqual(host, "0.0.0.0")  # what MemoryReactor reports
        self.assertEqual(self.reactor.tcpServers[0][3], "127.0.0.1")
        self.failureResultOf(self.simulator.start_endpoint("ep"), WrongState)
        self.assertEqual(self.simulator.endpoints["ep"].properties["colour"], "red")

    def test_createListening(self):
        d = self.simulator.create_endpoint("ep", "e1", "fake", listen="tcp:9999")
        self.successResultOf(d)
        self.assertEqual(self.reactor.tcpServers[0][0], 9999)

    def test_createErrors(self):
        self.assertRaises(UnknownName, self.simulator.create_endpoint, "ep", "e9", "fake")
        self.assertRaises(BadValue, self.simulator.create_endpoint, "ep", "e1", "pigeon")
        self.assertRaises(BadValue, self.simulator.create_endpoint, "ep", "e1", "fake", colour="green")
        self.assertEqual(self.simulator.endpoints, {})
        self.simulator.create_endpoint("ep", "e1", "fake")
        self.assertRaises(DuplicateName, self.simulator.create_endpoint, "ep", "e1", "fake")

    def test_createFailingListen(self):
        """
        An endpoint whose listen fails is not created.
        """
        d = self.simulator.create_endpoint("ep", "e1", "fake", listen="nonsense:1")
        self.failureResultOf(d, BadValue)
        self.assertEqual(self.simulator.endpoints, {})
        self.assertEqual(list(self.simulator), [])

    def test_setPropertyErrors(self):
        self.simulator.create_endpoint("ep", "e1", "fake")
        e = self.assertRaises(BadValue, self.simulator.set_protocol_property, "ep", "flavour", "x")
        self.assertIn("unknown fake endpoint property 'flavour'", str(e))
        self.assertRaises(BadValue, self.simulator.set_protocol_property, "ep", "colour", "green")
        self.assertRaises(UnknownName, self.simulator.set_protocol_property, "ep2", "colour", "red")
        self.assertNotIn("colour", self.simulator.endpoints["ep"].properties)

    def test_unknown(self):
        self.assertRaises(UnknownName, self.simulator.start_endpoint, "nope")
        self.assertRaises(UnknownName, self.simulator.get_endpoint_address, "nope")
        self.assertRaises(UnknownName, self.simulator.delete_endpoint, "nope")

    def test_delete(self):
        self.successResultOf(self.simulator.create_endpoint("ep", "e1", "fake", listen="tcp:0"))
        port = self.simulator.endpoints["ep"].port
        self.successResultOf(self.simulator.delete_endpoint("ep"))
        self.assertEqual(self.simulator.endpoints, {})
        self.assertFalse(port.listening if hasattr(port, "listening") else False)
        self.simulator.delete_engine("e1")


class BookOperationTests(BookTestCase):
    def test_create(self):
        self.simulator.create_book("apple2", "e1", "AAPL.L")
        self.assertEqual(self.simulator.get_book("apple2")["symbol"], "AAPL.L")
        self.simulator.create_book("IBM", "e1")
        self.assertEqual(self.simulator.get_book("IBM")["symbol"], "IBM")

    def test_createErrors(self):
        self.assertRaises(DuplicateName, self.simulator.create_book, "AAPL", "e1")
        self.assertRaises(DuplicateName, self.simulator.create_book, "other", "e1", "AAPL")
        self.assertRaises(UnknownName, self.simulator.create_book, "X", "e9")
        self.assertRaises(BadValue, self.simulator.create_book, "", "e1")
        self.assertEqual(sorted(self.simulator.bookEngines), ["AAPL"])

    def test_setProperty(self):
        self.simulator.set_book_property("AAPL", "tick_size", "0.05")
        self.assertEqual(self.engine.books["AAPL"].instrument.tickSize, 500)
        e = self.assertRaises(BadValue, self.simulator.set_book_property, "AAPL", "tick_size", "-1")
        self.assertIn("tick_size must be a positive decimal", str(e))
        self.assertRaises(BadValue, self.simulator.set_book_property, "AAPL", "smell", "1")
        self.assertRaises(UnknownName, self.simulator.set_book_property, "MSFT", "tick_size", "1")
        self.assertEqual(self.engine.books["AAPL"].instrument.tickSize, 500)

    def test_getBook(self):
        self.wire("buy", 10, "10.00", "b1")
        self.wire("buy", 5, "10.00", "b2")
        self.wire("buy", 7, "9.99", "b3")
        self.wire("sell", 3, "10.02", "s1")
        self.wire("sell", 4, "10.00", "s2")
        book = self.simulator.get_book("AAPL", depth=1)
        self.assertEqual(book["bids"], [("10.00", 11, 2)])
        self.assertEqual(book["asks"], [("10.02", 3, 1)])
        self.assertEqual((book["last"], book["last_quantity"], book["volume"]), ("10.00", 4, 4))
        self.assertEqual(len(self.simulator.get_book("AAPL")["bids"]), 2)

    def test_getBookErrors(self):
        self.assertRaises(UnknownName, self.simulator.get_book, "MSFT")
        for bad in (0, -1, "deep", 10 ** 6):
            self.assertRaises(BadValue, self.simulator.get_book, "AAPL", bad)

    def test_delete(self):
        self.simulator.create_order("o1", "AAPL", side="buy", price="1", quantity=1)
        self.wire("buy", 10, "10.00", "b1")
        self.simulator.get_events()
        self.assertRaises(UnknownName, self.simulator.delete_book, "AAPL", "e2")
        self.simulator.delete_book("AAPL", "e1")
        self.assertRaises(UnknownName, self.simulator.get_book, "AAPL")
        self.assertIn("cancelled", self.types())
        self.assertRaises(UnknownName, self.simulator.submit_order, "o1")
        self.assertRaises(UnknownName, self.simulator.delete_book, "AAPL")


class HouseOrderTests(BookTestCase):
    def test_submitRests(self):
        self.simulator.create_order("o1", "AAPL", side="buy", price="10.00", quantity=100)
        self.assertEqual(self.book(), ([], []))
        self.simulator.submit_order("o1")
        self.assertEqual(self.book(), ([("10.00", 100, 1)], []))
        events = self.simulator.get_events()
        self.assertEqual(events[0]["owner"], "house")

    def test_matchedAgainstWire(self):
        self.simulator.create_order("o1", "AAPL", side="sell", price="10.00", quantity=100)
        self.simulator.submit_order("o1")
        order = self.wire("buy", 30, "10.05", "c1")
        self.assertEqual((order.cumQty, order.notional), (30, 30 * 100000))
        self.assertEqual(self.book(), ([], [("10.00", 70, 1)]))

    def test_setProperties(self):
        self.simulator.create_order("o1", "AAPL")
        for name, value in [
            ("side", "sell_short"), ("price", 10.5), ("quantity", "7"),
            ("order_type", "limit"), ("time_in_force", "gtc"),
        ]:
            self.simulator.set_order_property("o1", name, value)
        self.simulator.submit_order("o1")
        order = self.engine.getOrder(self.simulator.houseOrders["o1"].orderId)
        self.assertEqual(
            (order.side, order.price, order.quantity, order.timeInForce),
            (Side.SELL_SHORT, 105000, 7, TimeInForce.GTC),
        )

    def test_propertyErrors(self):
        self.simulator.create_order("o1", "AAPL", side="buy", price="1.00", quantity=1)
        for name, value in [
            ("side", "up"), ("price", "cheap"), ("price", "-1"), ("price", "1.001"),
            ("quantity", "0"), ("quantity", "1.5"), ("order_type", "trailing_stop"),
            ("time_in_force", "forever"), ("expire_time", "soon"), ("colour", "red"),
        ]:
            self.assertRaises(BadValue, self.simulator.set_order_property, "o1", name, value)
        self.assertEqual(
            self.simulator.houseOrders["o1"].values,
            {"side": Side.BUY, "price": 10000, "quantity": 1,
             "order_type": OrdType.LIMIT, "time_in_force": TimeInForce.DAY},
        )
        self.assertRaises(UnknownName, self.simulator.set_order_property, "o2", "side", "buy")

    def test_createErrors(self):
        self.simulator.create_order("o1", "AAPL")
        self.assertRaises(DuplicateName, self.simulator.create_order, "o1", "AAPL")
        self.assertRaises(UnknownName, self.simulator.create_order, "o2", "MSFT")
        self.assertRaises(BadValue, self.simulator.create_order, "o3", "AAPL", side="up")
        self.assertEqual(sorted(self.simulator.houseOrders), ["o1"])

    def test_submitIncomplete(self):
        self.simulator.create_order("o1", "AAPL", price="1")
        self.assertRaises(BadValue, self.simulator.submit_order, "o1")
        self.simulator.set_order_property("o1", "side", "buy")
        e = self.assertRaises(BadValue, self.simulator.submit_order, "o1")
        self.assertIn("needs a quantity", str(e))
        self.simulator.create_order("o2", "AAPL", side="buy", quantity=1)
        e = self.assertRaises(BadValue, self.simulator.submit_order, "o2")
        self.assertIn("needs a price", str(e))
        self.simulator.set_order_property("o2", "time_in_force", "gtd")
        self.simulator.set_order_property("o2", "price", "1")
        e = self.assertRaises(BadValue, self.simulator.submit_order, "o2")
        self.assertIn("needs an expire_time", str(e))
        self.assertRaises(UnknownName, self.simulator.submit_order, "o9")
        self.assertEqual(self.simulator.get_events(), [])

    def test_submitOffTick(self):
        """
        A price that left the tick grid (tick_size changed) is refused.
        """
        self.simulator.create_order("o1", "AAPL", side="buy", price="1.01", quantity=1)
        self.simulator.set_book_property("AAPL", "tick_size", "0.05")
        self.assertRaises(BadValue, self.simulator.submit_order, "o1")
        self.assertEqual(self.book(), ([], []))

    def test_submitRejected(self):
        self.simulator.set_book_property("AAPL", "behaviour", "auto_reject")
        self.simulator.create_order("o1", "AAPL", side="buy", price="1", quantity=1)
        e = self.assertRaises(BadValue, self.simulator.submit_order, "o1")
        self.assertIn("order 'o1' was rejected", str(e))

    def test_resubmitReplaces(self):
        self.simulator.create_order("o1", "AAPL", side="buy", price="10.00", quantity=100)
        self.simulator.submit_order("o1")
        self.simulator.set_order_property("o1", "price", "10.01")
        self.simulator.set_order_property("o1", "quantity", "50")
        self.assertEqual(self.book(), ([("10.00", 100, 1)], []))
        self.simulator.submit_order("o1")
        self.assertEqual(self.book(), ([("10.01", 50, 1)], []))
        self.assertIn("replaced", self.types())
        self.simulator.submit_order("o1")
        self.assertEqual(self.types(), [])
        self.simulator.set_order_property("o1", "side", "sell")
        self.assertRaises(WrongState, self.simulator.submit_order, "o1")
        self.assertEqual(self.book(), ([("10.01", 50, 1)], []))

    def test_resubmitAfterFill(self):
        """
        Once an order is done, submit_order enters a new one.
        """
        self.simulator.create_order("o1", "AAPL", side="buy", price="10.00", quantity=10)
        self.simulator.submit_order("o1")
        self.wire("sell", 10, "10.00", "c1")
        self.assertEqual(self.book(), ([], []))
        self.simulator.submit_order("o1")
        self.assertEqual(self.book(), ([("10.00", 10, 1)], []))

    def test_delete(self):
        self.simulator.create_order("o1", "AAPL", side="buy", price="10.00", quantity=10)
        self.simulator.submit_order("o1")
        self.simulator.delete_order("o1")
        self.assertEqual(self.book(), ([], []))
        self.assertIn("cancelled", self.types())
        self.assertRaises(UnknownName, self.simulator.delete_order, "o1")
        self.simulator.create_order("o1", "AAPL")
        self.simulator.delete_order("o1")


class QuoteTests(BookTestCase):
    def quote(self, **values):
        self.simulator.create_quote("q1", "e1", "AAPL", **values)

    def test_submit(self):
        self.quote(bid_price="9.99", bid_size=100, ask_price="10.01", ask_size="200")
        self.simulator.submit_quote("q1")
        self.assertEqual(self.book(), ([("9.99", 100, 1)], [("10.01", 200, 1)]))

    def test_resubmitReplacesBoth(self):
        self.quote(bid_price="9.99", bid_size=100, ask_price="10.01", ask_size=200)
        self.simulator.submit_quote("q1")
        self.simulator.get_events()
        self.simulator.set_quote_property("q1", "bid_price", "10.05")
        self.simulator.set_quote_property("q1", "ask_price", "10.06")
        self.simulator.submit_quote("q1")
        self.assertEqual(self.book(), ([("10.05", 100, 1)], [("10.06", 200, 1)]))
        types = self.types()
        self.assertEqual(types.count("replaced"), 2)
        self.assertNotIn("filled", types)

    def test_oneSide(self):
        self.quote(bid_price="9.99", bid_size=100, ask_price="10.01", ask_size=200)
        self.simulator.submit_quote("q1")
        self.simulator.set_quote_property("q1", "ask_size", 0)
        self.simulator.submit_quote("q1")
        self.assertEqual(self.book(), ([("9.99", 100, 1)], []))
        self.simulator.set_quote_property("q1", "ask_size", 5)
        self.simulator.submit_quote("q1")
        self.assertEqual(self.book(), ([("9.99", 100, 1)], [("10.01", 5, 1)]))

    def test_crossedChangesNothing(self):
        self.quote(bid_price="9.99", bid_size=100, ask_price="10.01", ask_size=200)
        self.simulator.submit_quote("q1")
        self.simulator.set_quote_property("q1", "bid_price", "10.01")
        e = self.assertRaises(BadValue, self.simulator.submit_quote, "q1")
        self.assertIn("crossed", str(e))
        self.assertEqual(self.book(), ([("9.99", 100, 1)], [("10.01", 200, 1)]))

    def test_errors(self):
        self.simulator.create_engine("e2")
        self.assertRaises(UnknownName, self.simulator.create_quote, "q1", "e2", "AAPL")
        self.assertRaises(UnknownName, self.simulator.create_quote, "q1", "e9", "AAPL")
        self.assertRaises(UnknownName, self.simulator.create_quote, "q1", "e1", "MSFT")
        self.assertRaises(BadValue, self.simulator.create_quote, "q1", "e1", "AAPL", bid_size="x")
        self.quote()
        self.assertRaises(DuplicateName, self.quote)
        self.assertRaises(BadValue, self.simulator.submit_quote, "q1")
        self.simulator.set_quote_property("q1", "bid_size", 1)
        e = self.assertRaises(BadValue, self.simulator.submit_quote, "q1")
        self.assertIn("no bid_price", str(e))
        for name, value in [("bid_price", "x"), ("ask_size", -1), ("spread", 1)]:
            self.assertRaises(BadValue, self.simulator.set_quote_property, "q1", name, value)
        self.assertRaises(UnknownName, self.simulator.submit_quote, "q2")
        self.assertRaises(UnknownName, self.simulator.set_quote_property, "q2", "bid_size", 1)
        self.assertEqual(self.book(), ([], []))

    def test_tradesWithWire(self):
        self.quote(bid_price="9.99", bid_size=100, ask_price="10.01", ask_size=200)
        self.simulator.submit_quote("q1")
        order = self.wire("buy", 250, "10.01", "c1")
        self.assertEqual(order.cumQty, 200)
        self.assertEqual(self.book()[0][0], ("10.01", 50, 1))
        # The ask is gone; resubmitting enters a fresh one, which trades
        # with the rest of the wire order first.
        self.simulator.submit_quote("q1")
        self.assertEqual(self.book(), ([("9.99", 100, 1)], [("10.01", 150, 1)]))
        self.assertEqual(order.cumQty, 250)

    def test_delete(self):
        self.quote(bid_price="9.99", bid_size=100, ask_price="10.01", ask_size=200)
        self.simulator.submit_quote("q1")
        self.simulator.delete_quote("q1")
        self.assertEqual(self.book(), ([], []))
        self.assertRaises(UnknownName, self.simulator.delete_quote, "q1")


class MatchOrdersTests(BookTestCase):
    def test_houseAndWire(self):
        self.simulator.set_engine_property("e1", "mode", "managed")
        self.simulator.create_order("o1", "AAPL", side="sell", price="10.00", quantity=100)
        self.simulator.submit_order("o1")
        order = self.wire("buy", 30, "9.00", "c1")
        tradeId = self.simulator.match_orders("AAPL", order.orderId, "o1", quantity=10, price="9.50")
        self.assertIsInstance(tradeId, int)
        self.assertEqual((order.cumQty, order.notional), (10, 10 * 95000))
        self.assertEqual(self.book(), ([], [("10.00", 90, 1)]))
        trade = [e for e in self.simulator.get_events() if e["type"] == "trade"][0]
        self.assertEqual((trade["trade_id"], trade["price"]), (tradeId, "9.50"))

    def test_errors(self):
        self.simulator.create_order("o1", "AAPL", side="sell", price="10.00", quantity=100)
        self.assertRaises(WrongState, self.simulator.match_orders, "AAPL", "o1", 5)
        self.simulator.submit_order("o1")
        self.simulator.create_book("MSFT", "e1")
        other = self.wire("buy", 5, "1.00", "m1", symbol="MSFT")
        same = self.wire("sell", 5, "11.00", "s1")
        self.assertRaises(UnknownName, self.simulator.match_orders, "AAPL", "o1", other.orderId)
        self.assertRaises(BadValue, self.simulator.match_orders, "AAPL", "o1", same.orderId)
        self.assertRaises(UnknownName, self.simulator.match_orders, "AAPL", "o1", "o9")
        self.assertRaises(UnknownName, self.simulator.match_orders, "AAPL", "o1", 999)
        self.assertRaises(BadValue, self.simulator.match_orders, "AAPL", "o1", 1.5)
        buy = self.wire("buy", 5, "9.00", "b1")
        self.assertRaises(BadValue, self.simulator.match_orders, "AAPL", "o1", buy.orderId, 6)
        self.assertRaises(BadValue, self.simulator.match_orders, "AAPL", "o1", buy.orderId, 0)
        self.assertRaises(BadValue, self.simulator.match_orders, "AAPL", "o1", buy.orderId, 1, "-1")
        self.assertRaises(UnknownName, self.simulator.match_orders, "XX", "o1", buy.orderId)
        self.assertEqual(buy.cumQty, 0)


class ManagedModeTests(BookTestCase):
    def setUp(self):
        BookTestCase.setUp(self)
        self.simulator.set_engine_property("e1", "mode", "managed")

    def request(self, side="buy", quantity=100, price="10.00", clOrdId="c1"):
        order = self.wire(side, quantity, price, clOrdId)
        [event] = self.simulator.get_events()
        self.assertEqual(event["type"], "order_request")
        self.assertEqual(
            (event["kind"], event["order_id"], event["owner"], event["cl_ord_id"],
             event["side"], event["price"], event["quantity"], event["engine"]),
            ("new", order.orderId, "fix1/CLIENT", clOrdId, side, price, quantity, "e1"),
        )
        return order

    def test_held(self):
        self.request()
        self.assertEqual(self.book(), ([], []))

    def test_accept(self):
        order = self.request()
        self.simulator.accept_order(order.orderId)
        self.assertEqual(self.types(), ["accepted", "added", "book_changed"])
        self.assertEqual(self.book(), ([("10.00", 100, 1)], []))
        e = self.assertRaises(WrongState, self.simulator.accept_order, order.orderId)
        self.assertIn("no new request", str(e))
        self.assertRaises(WrongState, self.simulator.reject_order, order.orderId)

    def test_reject(self):
        order = self.request()
        self.simulator.reject_order(order.orderId, "no thanks")
        [event] = self.simulator.get_events()
        self.assertEqual((event["type"], event["text"]), ("rejected", "no thanks"))
        self.assertRaises(UnknownName, self.simulator.reject_order, order.orderId)
        self.assertRaises(UnknownName, self.simulator.accept_order, order.orderId)

    def test_fillPartialThenFull(self):
        order = self.request()
        self.simulator.fill_order(order.orderId, 40, "10.00")
        self.assertEqual(self.types(), ["accepted", "filled", "trade", "added", "book_changed"])
        self.assertEqual(self.book(), ([("10.00", 60, 1)], []))
        self.simulator.fill_order(order.orderId, "60", 9.99)
        events = self.simulator.get_events()
        fill = [e for e in events if e["type"] == "filled"][0]
        self.assertEqual(
            (fill["status"], fill["cum_qty"], fill["leaves_qty"], fill["price"], fill["avg_px"]),
            ("filled", 100, 0, "9.99", "9.994"),
        )
        self.assertEqual(self.book(), ([], []))
        self.assertRaises(UnknownName, self.simulator.fill_order, order.orderId, 1, "10")

    def test_fillErrors(self):
        order = self.request()
        for quantity, price in [(0, "10"), (101, "10"), ("x", "10"), (1, "0"), (1, "10.001"),
                                (1, "abc"), (1, None), (True, "10")]:
            self.assertRaises(BadValue, self.simulator.fill_order, order.orderId, quantity, price)
        self.assertRaises(BadValue, self.simulator.fill_order, "one", 1, "10")
        self.assertRaises(UnknownName, self.simulator.fill_order, 999, 1, "10")
        self.assertEqual(self.simulator.get_events(), [])
        self.assertEqual(order.cumQty, 0)

    def test_cancelOrder(self):
        order = self.request()
        self.simulator.accept_order(order.orderId)
        self.simulator.get_events()
        self.simulator.cancel_order(order.orderId)
        events = self.simulator.get_events()
        self.assertEqual(events[-1]["type"], "cancelled")
        self.assertEqual(events[-1]["reason"], "unsolicited")
        self.assertEqual(self.book(), ([], []))
        self.assertRaises(UnknownName, self.simulator.cancel_order, order.orderId)

    def held(self, kind):
        order = self.request()
        self.simulator.accept_order(order.orderId)
        self.simulator.get_events()
        if kind == "cancel":
            self.engine.submitCancel("fix1/CLIENT", "x1", origClOrdId="c1")
        else:
            self.engine.submitReplace("fix1/CLIENT", "r1", origClOrdId="c1", price=101000, quantity=80)
        events = self.simulator.get_events()
        self.assertEqual([e["type"] for e in events], ["pending", "order_request"])
        self.assertEqual((events[1]["kind"], events[1]["request_cl_ord_id"]),
                         (kind, "x1" if kind == "cancel" else "r1"))
        return order

    def test_acceptCancel(self):
        order = self.held("cancel")
        self.assertRaises(WrongState, self.simulator.accept_replace, order.orderId)
        self.simulator.accept_cancel(order.orderId)
        self.assertIn("cancelled", self.types())
        self.assertEqual(self.book(), ([], []))
        self.assertRaises(UnknownName, self.simulator.accept_cancel, order.orderId)

    def test_rejectCancel(self):
        order = self.held("cancel")
        self.simulator.reject_cancel(order.orderId, "too busy")
        [event] = self.simulator.get_events()
        self.assertEqual((event["type"], event["text"], event["response_to"]),
                         ("cancel_rejected", "too busy", "cancel"))
        self.assertRaises(WrongState, self.simulator.reject_cancel, order.orderId)
        self.assertEqual(self.book(), ([("10.00", 100, 1)], []))

    def test_acceptReplace(self):
        order = self.held("replace")
        self.assertRaises(WrongState, self.simulator.accept_cancel, order.orderId)
        self.simulator.accept_replace(order.orderId)
        self.assertIn("replaced", self.types())
        self.assertEqual(self.book(), ([("10.10", 80, 1)], []))
        self.assertRaises(WrongState, self.simulator.accept_replace, order.orderId)

    def test_rejectReplace(self):
        order = self.held("replace")
        self.simulator.reject_replace(order.orderId)
        [event] = self.simulator.get_events()
        self.assertEqual((event["type"], event["response_to"]), ("cancel_rejected", "replace"))
        self.assertRaises(WrongState, self.simulator.reject_replace, order.orderId)
        self.assertEqual(self.book(), ([("10.00", 100, 1)], []))

    def test_twoEngines(self):
        """
        Order ids are per engine: with the same id live on two engines the
        answer must name the engine.
        """
        self.simulator.create_engine("e2")
        self.simulator.create_book("AAPL2", "e2", "AAPL")
        self.simulator.set_engine_property("e2", "mode", "managed")
        engine2 = self.simulator.engines["e2"]
        a = self.wire("buy", 10, "1.00", "c1")
        b = self.wire("buy", 10, "1.00", "c1", engine=engine2)
        self.assertEqual(a.orderId, b.orderId)
        e = self.assertRaises(BadValue, self.simulator.accept_order, a.orderId)
        self.assertIn("live on engines e1, e2", str(e))
        self.simulator.accept_order(b.orderId, engine="e2")
        self.assertEqual(self.simulator.get_book("AAPL2")["bids"], [("1.00", 10, 1)])
        self.assertEqual(self.book(), ([], []))
        self.assertRaises(UnknownName, self.simulator.accept_order, a.orderId, engine="e9")

    def test_houseOrdersNotHeld(self):
        self.simulator.create_order("o1", "AAPL", side="buy", price="10.00", quantity=1)
        self.simulator.submit_order("o1")
        self.assertEqual(self.book(), ([("10.00", 1, 1)], []))


# The operations on the reference engine: the same tests.


class ReferenceBookOperationTests(BookOperationTests):
    engineClass = "reference"


class ReferenceHouseOrderTests(HouseOrderTests):
    engineClass = "reference"


class ReferenceQuoteTests(QuoteTests):
    engineClass = "reference"


class ReferenceMatchOrdersTests(MatchOrdersTests):
    engineClass = "reference"


class ReferenceManagedModeTests(ManagedModeTests):
    engineClass = "reference"
