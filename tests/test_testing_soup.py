"""
The OUCH and ITCH clients of L{exsim.testing} against a simulator in a
child process, and the ITCH book view and file reader.
"""

import os
import shutil
import tempfile
from decimal import Decimal

from twisted.trial.unittest import SynchronousTestCase, TestCase

from exsim.soup import itch50
from exsim.testing import BookView, ItchClient, ItchFile, OuchClient, WaitTimeout, startServer
from exsim.testing.itch import decodeItch
from exsim.testing.ouch import SoupLoginRejected, decodeOuch


class SoupClientTests(TestCase):
    """
    (On the fast engine; L{ReferenceSoupClientTests}: the reference engine.)
    """

    engineClass = "matching"

    def setUp(self):
        server = self.server = startServer(self)
        server.create_engine("e1", self.engineClass)
        server.create_book("AAPL", "e1", "AAPL")
        server.create_endpoint("ouch1", "e1", "ouch")
        server.set_protocol_property("ouch1", "users", "trader:secret,other:pw")
        server.start_endpoint("ouch1")
        server.create_endpoint("itch1", "e1", "itch")
        server.set_protocol_property("itch1", "users", "feed:feed")
        server.start_endpoint("itch1")
        self.ouch = server.get_endpoint_address("ouch1")
        self.itch = server.get_endpoint_address("itch1")

    def client(self, cls, address, *args, **kwargs):
        client = cls(*address, *args, **kwargs)
        self.addCleanup(client.close)
        return client

    def test_ouchOrderLifecycle(self):
        """
        Enter, replace, execute (against another session), cancel; an
        order for an unknown stock is rejected.
        """
        a = self.client(OuchClient, self.ouch, "trader", "secret")
        b = self.client(OuchClient, self.ouch, "other", "pw")
        self.assertEqual(a.login()[1], 1)
        b.login()
        a.enter_order("a1", "sell", 300, "AAPL", "10.00")
        accepted = a.wait_for("A", token="a1")
        self.assertEqual(
            (accepted["side"], accepted["shares"], accepted["stock"], accepted["price"],
             accepted["order_state"]),
            ("S", 300, "AAPL", Decimal("10"), "L"),
        )
        a.replace_order("a1", "a2", 250, "10.01")
        replaced = a.wait_for("U", token="a2")
        self.assertEqual((replaced["previous_token"], replaced["shares"]), ("a1", 250))
        b.enter_order("b1", "buy", 100, "AAPL", "10.01", time_in_force=0)
        self.assertEqual(b.wait_for("E", token="b1")["shares"], 100)
        executed = a.wait_for("E", token="a2")
        self.assertEqual((executed["shares"], executed["price"], executed["liquidity"]),
                         (100, Decimal("10.01"), "A"))
        a.cancel_order("a2")
        self.assertEqual(a.wait_for("C", token="a2")["decrement_shares"], 150)
        a.enter_order("a3", "buy", 1, "NOPE", "1")
        self.assertEqual(a.wait_for("J", token="a3")["reason"], "S")
        self.assertEqual(self.server.get_book("AAPL")["asks"], [])
        self.assertRaises(WaitTimeout, a.wait_for, "A", 0.1, token="a1")
        a.logout()
        self.assertTrue(a.closed)

    def test_ouchEndOfDaySystemEvents(self):
        """
        end_of_day sends System Events E (end of day) then S (start of
        day), and cancels DAY orders with reason E, as the documentation
        says.
        """
        client = self.client(OuchClient, self.ouch, "trader", "secret")
        client.login()
        self.assertEqual(client.wait_for("S")["event_code"], "S")
        client.enter_order("d1", "buy", 10, "AAPL", "9.00")
        client.wait_for("A", token="d1")
        self.server.end_of_day("e1")
        self.assertEqual(client.wait_for("C", token="d1")["reason"], "E")
        self.assertEqual(client.wait_for("S", event_code="E")["event_code"], "E")
        self.assertEqual(client.wait_for("S", event_code="S")["event_code"], "S")

    def test_ouchLoginRejected(self):
        """
        A wrong password raises SoupLoginRejected (not authorized).
        """
        client = self.client(OuchClient, self.ouch, "trader", "wrong")
        e = self.assertRaises(SoupLoginRejected, client.login)
        self.assertEqual((e.reason, str(e)), ("A", "login rejected: not authorized"))

    def test_itchBookMatchesGetBook(self):
        """
        The ITCH client's book view equals get_book after orders, a
        partial execution, a replace and a cancel; the recorded file gives
        the same book.
        """
        directory = tempfile.mkdtemp(prefix="exsim-itch-")
        self.addCleanup(shutil.rmtree, directory, True)
        path = os.path.join(directory, "feed.itch")
        feed = self.client(ItchClient, self.itch, "feed", "feed", record=path)
        feed.login()
        trader = self.client(OuchClient, self.ouch, "trader", "secret")
        trader.login()
        for token, side, shares, price in [("s1", "sell", 100, "10.02"), ("s2", "sell", 50, "10.02"),
                                           ("s3", "sell", 70, "10.05"), ("b1", "buy", 40, "9.99"),
                                           ("b2", "buy", 60, "9.98")]:
            trader.enter_order(token, side, shares, "AAPL", price)
            trader.wait_for("A", token=token)
        other = self.client(OuchClient, self.ouch, "other", "pw")
        other.login()
        other.enter_order("x", "buy", 30, "AAPL", "10.02", time_in_force=0)
        other.wait_for("E", token="x")
        trader.replace_order("b2", "b3", 80, "9.97")
        trader.wait_for("U", token="b3")
        trader.cancel_order("s3")
        trader.wait_for("C", token="s3")
        feed.wait_for("D")
        expected = self.server.get_book("AAPL")
        self.assertEqual(feed.get_book("AAPL"), {
            "symbol": "AAPL", "bids": expected["bids"], "asks": expected["asks"],
        })
        self.assertEqual(expected["asks"], [("10.02", 120, 2)])
        self.assertIn("AAPL", feed.book.symbols)
        feed.close()
        recorded = ItchFile(path)
        self.assertEqual([m.msg_type for m in recorded.messages], [m.msg_type for m in feed.messages])
        self.assertEqual(recorded.get_book("AAPL"), feed.get_book("AAPL"))


class ReferenceSoupClientTests(SoupClientTests):
    engineClass = "reference"


class DecodingTests(SynchronousTestCase):
    def test_itchDecodeAndBook(self):
        """
        Add, execute, replace and delete messages (built by exsim's
        encoder) keep the book view right; prices are Decimals.
        """
        book = BookView()
        for payload in [
            itch50.addOrder(1, 0, 5, 1, b"B", 100, "AAPL", 101000),
            itch50.addOrder(1, 0, 6, 2, b"B", 50, "AAPL", 101000),
            itch50.addOrder(1, 0, 7, 3, b"S", 10, "AAPL", 102500),
            itch50.orderExecuted(1, 0, 8, 1, 30, 9),
            itch50.orderReplace(1, 0, 9, 2, 4, 20, 100500),
            itch50.orderDelete(1, 0, 10, 3),
        ]:
            book.apply(decodeItch(payload))
        self.assertEqual(book.get_book("AAPL"), {
            "symbol": "AAPL", "bids": [("10.10", 70, 1), ("10.05", 20, 1)], "asks": [],
        })
        self.assertEqual(decodeItch(itch50.addOrder(1, 0, 5, 1, b"B", 1, "X", 5))["price"],
                         Decimal("0.0005"))

    def test_unknownTypes(self):
        """
        A type the clients do not know keeps its bytes.
        """
        self.assertEqual(decodeItch(b"Zabc")["payload"], b"abc")
        self.assertEqual(decodeOuch(b"Qxyz")["payload"], b"xyz")
