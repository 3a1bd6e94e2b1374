"""
Tests for the inspection operations (L{exsim.observe.inventory}):
C{list_engines}, C{list_books}, C{list_endpoints}, C{get_properties},
C{list_orders}, C{get_order}, C{peek_events}; event followers
(L{exsim.observe.follow}); the Python clients and C{exsimctl} (C{ls},
C{show}, C{orders}, C{follow}).  Every engine-facing test runs on both
engine classes (C{matching} and C{reference}).
"""

import io
import json
import os
import subprocess
import sys
import time

from twisted.internet import defer
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.trial import unittest
from zope.interface.verify import verifyObject

import exsim
from exsim import ctl
from exsim.control.checker import UsersChecker
from exsim.errors import BadValue, NotFound, UnknownName
from exsim.interfaces import IEngineListener
from exsim.observe.follow import EventFollower
from exsim.observe.inventory import EngineNotes, plain
from exsim.service import Simulator
from tests.fixsession_helpers import START, Client, stamp
from tests.test_control import pbPair


def nos(client, clOrdId, side="1", price="10", qty=100, tif="0"):
    """
    The fields of a NewOrderSingle for AAPL.
    """
    return [
        (11, clOrdId), (55, "AAPL"), (54, side), (60, stamp(client.reactor.seconds())),
        (38, qty), (40, "2"), (44, price), (59, tif),
    ]


class SimulatorMixin:
    """
    A simulator with engine e1 (of C{engineClass}), book AAPL (symbol
    AAPL), a FIX endpoint fix1 listening on a MemoryReactorClock, an OUCH
    endpoint ouch1 not listening, and a FIX client logged on as CLIENT.
    """

    engineClass = "matching"

    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.reactor.advance(START)
        sim = self.simulator = Simulator(self.reactor)
        sim.create_engine("e1", self.engineClass)
        sim.create_book("AAPL", "e1", "AAPL")
        sim.create_endpoint("fix1", "e1", "fix", users="CLIENT:pw1,other:pw2")
        sim.start_endpoint("fix1")
        sim.create_endpoint("ouch1", "e1", "ouch")
        self.fix = Client(sim.endpoint("fix1").factory)
        self.fix.logon(extra=[(553, "CLIENT"), (554, "pw1")])
        self.fix.received()

    def house(self, orderId, side, price, quantity):
        self.simulator.create_order(orderId, "AAPL", side=side, price=price, quantity=quantity)
        self.simulator.submit_order(orderId)
        return self.simulator.houseOrders[orderId].orderId


class InventoryTestsMixin(SimulatorMixin):
    def test_listEngines(self):
        self.simulator.create_engine("e2", "reference")
        self.house("h1", "buy", "10", 5)
        self.assertEqual(self.simulator.list_engines(), [
            {"engine": "e1", "class": self.engineClass, "mode": "auto", "books": ["AAPL"],
             "endpoints": ["fix1", "ouch1"], "live_orders": 1},
            {"engine": "e2", "class": "reference", "mode": "auto", "books": [], "endpoints": [],
             "live_orders": 0},
        ])
        self.simulator.delete_engine("e2")
        self.assertEqual([e["engine"] for e in self.simulator.list_engines()], ["e1"])

    def test_listBooksHalted(self):
        """
        A halted book's entry says why (and whether it is a pause), a
        delayed opening too; the book page shows it with the phase.
        """
        from exsim.observe.web.pages import _phaseText

        self.simulator.halt_book("AAPL", "LUDP", pause=True)
        [aapl] = self.simulator.list_books()
        self.assertEqual((aapl["phase"], aapl["halt_reason"], aapl["paused"]), ("halted", "LUDP", True))
        self.assertEqual(_phaseText(aapl), "halted (paused): LUDP")
        self.simulator.resume_book("AAPL")
        self.simulator.set_book_property("AAPL", "phase", "pre_open")
        self.simulator.delay_open("AAPL", "news pending")
        [aapl] = self.simulator.list_books()
        self.assertNotIn("halt_reason", aapl)
        self.assertEqual((aapl["opening_delayed"], aapl["delay_reason"]), (True, "news pending"))
        self.assertEqual(_phaseText(aapl), "pre_open: opening delayed: news pending")
        self.simulator.resume_book("AAPL")
        [aapl] = self.simulator.list_books()
        self.assertEqual(_phaseText(aapl), "continuous")

    def test_listBooks(self):
        self.simulator.create_engine("e2", "reference")
        self.simulator.create_book("MSFT", "e2", "MSFT")
        self.house("h1", "buy", "10", 5)
        self.house("h2", "buy", "10", 7)
        self.house("h3", "sell", "10.5", 3)
        self.house("h4", "sell", "10.01", 1)
        self.house("h5", "buy", "10.01", 1)
        [aapl, msft] = self.simulator.list_books()
        self.assertEqual(aapl, {
            "book": "AAPL", "engine": "e1", "symbol": "AAPL", "behaviour": "standard",
            "phase": "continuous", "activity": "none",
            "best_bid": "10.00", "best_bid_qty": 12, "best_ask": "10.50", "best_ask_qty": 3,
            "last": "10.01", "last_quantity": 1, "volume": 1, "trades": 1, "orders": 3,
            "tick_size": "0.01",
        })
        self.assertEqual((msft["book"], msft["engine"], msft["best_bid"], msft["orders"]),
                         ("MSFT", "e2", None, 0))
        self.assertEqual([b["book"] for b in self.simulator.list_books("e2")], ["MSFT"])

    def test_listEndpoints(self):
        host, port = self.simulator.get_endpoint_address("fix1")
        [fix, ouch] = self.simulator.list_endpoints()
        self.assertEqual(fix, {
            "endpoint": "fix1", "engine": "e1", "protocol": "fix",
            "listen": "tcp:0:interface=127.0.0.1", "address": [host, port],
            "state": "listening", "sessions": 1, "sessions_known": 1, "connections": 0,
        })
        self.assertEqual((ouch["state"], ouch["address"], ouch["sessions"]), ("stopped", None, 0))
        self.fix.send("5", [])
        self.assertEqual(self.simulator.list_endpoints("e1")[0]["sessions"], 0)
        self.assertEqual(self.simulator.list_endpoints("e1")[0]["sessions_known"], 1)

    def test_engineProperties(self):
        self.simulator.set_engine_property("e1", "mode", "managed")
        self.assertEqual(self.simulator.get_properties("engine", "e1"), {
            "class": self.engineClass, "mode": "managed", "journal": None, "journal_sync": "none",
            "managed_ack": "none", "policy": "hold", "reject_text": "rejected by policy",
            "schedule": "none", "timezone": "America/New_York",
        })
        self.simulator.set_engine_property("e1", "managed_ack", "pending_new")
        self.simulator.set_engine_property("e1", "policy", "accept")
        self.simulator.set_engine_property("e1", "reject_text", "no")
        self.assertEqual(
            {k: v for k, v in self.simulator.get_properties("engine", "e1").items()
             if k in ("managed_ack", "policy", "reject_text")},
            {"managed_ack": "pending_new", "policy": "accept", "reject_text": "no"},
        )

    def test_bookProperties(self):
        """
        Every book property: the book's, each behaviour's parameters, the
        activity's and the market maker's, with defaults when never set.
        """
        sim = self.simulator
        sim.set_book_property("AAPL", "reference_price", "101.5")
        sim.set_book_property("AAPL", "fill_fraction", "0.25")
        sim.set_book_property("AAPL", "max_price", "200")
        properties = sim.get_properties("book", "AAPL")
        self.assertEqual(properties["reference_price"], "101.50")
        self.assertEqual(properties["tick_size"], "0.01")
        self.assertEqual(properties["behaviour"], "standard")
        self.assertEqual(properties["fill_fraction"], "0.25")
        self.assertEqual(properties["max_price"], "200.00")
        self.assertIsNone(properties["max_order_quantity"])
        self.assertEqual(properties["cancel_delay"], 1.0)
        self.assertEqual(properties["activity"], "none")
        self.assertEqual(properties["market_maker"], False)
        self.assertEqual(properties["mm_size"], 500)
        sim.set_book_property("AAPL", "behaviour", "auto_partial")
        sim.set_book_property("AAPL", "mm_size", "20")
        properties = sim.get_properties("book", "AAPL")
        self.assertEqual((properties["behaviour"], properties["fill_fraction"], properties["mm_size"]),
                         ("auto_partial", 0.25, 20))
        json.dumps(properties)
        from exsim.engine import activity, marketmaker

        for name in list(activity.PARAMETERS) + list(marketmaker.PARAMETERS) + ["seed"]:
            self.assertIn(name, properties)

    def test_endpointProperties(self):
        """
        Every property of the endpoint's protocol with its value in force;
        user names but never their passwords.
        """
        sim = self.simulator
        sim.set_protocol_property("fix1", "sender_comp_id", "VENUE")
        properties = sim.get_properties("endpoint", "fix1")
        self.assertEqual(properties["sender_comp_id"], "VENUE")
        self.assertEqual(properties["heartbeat_interval"] if "heartbeat_interval" in properties else None, None)
        self.assertEqual(properties["logout_timeout"], 2)
        self.assertEqual(properties["role"], "order_entry")
        self.assertEqual(properties["users"], ["CLIENT", "other"])
        self.assertNotIn("pw1", json.dumps(properties))
        for name in sim.endpoint("fix1").protocol.propertyNames():
            self.assertIn(name, properties)
        ouch = sim.get_properties("endpoint", "ouch1")
        self.assertEqual((ouch["protocol"], ouch["session"], ouch["idle_timeout"], ouch["users"]),
                         ("ouch", "1", 15.0, []))

    def test_sessionProperties(self):
        self.simulator.set_session_property("fix1/CLIENT", "hold", "yes")
        properties = self.simulator.get_properties("session", "fix1/CLIENT")
        self.assertEqual(
            {k: properties[k] for k in ("session", "state", "next_in_seq", "next_out_seq", "hold", "latency")},
            {"session": "fix1/CLIENT", "state": "active", "next_in_seq": 2, "next_out_seq": 2,
             "hold": True, "latency": None},
        )

    def test_badKindAndNames(self):
        """
        Unknown kinds and names are C{BadValue}s (and C{UnknownName}s)
        saying what was wrong.
        """
        sim = self.simulator
        e = self.assertRaises(BadValue, sim.get_properties, "thing", "x")
        self.assertEqual(str(e), "unknown kind 'thing' (known: engine, book, endpoint, session)")
        self.assertRaises(BadValue, sim.get_properties, None, "x")
        for kind, name in (("engine", "e9"), ("book", "ZZZ"), ("endpoint", "nope"),
                           ("session", "fix1/NOBODY"), ("book", None), ("engine", 3)):
            e = self.assertRaises(BadValue, sim.get_properties, kind, name)
            self.assertIsInstance(e, UnknownName)
            self.assertIn(repr(name), str(e))
        for call in (lambda: sim.list_books("e9"), lambda: sim.list_endpoints("e9"),
                     lambda: sim.list_orders("ZZZ"), lambda: sim.get_order(1, "e9")):
            self.assertRaises(NotFound, call)


class InventoryTests(InventoryTestsMixin, unittest.TestCase):
    pass


class ReferenceInventoryTests(InventoryTestsMixin, unittest.TestCase):
    engineClass = "reference"


class OrdersTestsMixin(SimulatorMixin):
    def test_wireOrder(self):
        """
        An order from a FIX session, with its owner, client order id, the
        time it entered, and what is left of it after a partial fill.
        """
        self.reactor.advance(2.5)
        self.fix.send("D", nos(self.fix, "c1", side="1", price="10.25", qty=100))
        self.reactor.advance(1)
        self.house("h1", "sell", "10.25", 40)
        [order] = self.simulator.list_orders("AAPL")
        self.assertEqual(order, {
            "order_id": order["order_id"], "engine": "e1", "book": "AAPL", "symbol": "AAPL",
            "owner": "fix1/CLIENT", "cl_ord_id": "c1", "side": "buy", "price": "10.25",
            "quantity": 100, "leaves_qty": 60, "cum_qty": 40, "avg_px": "10.25",
            "status": "partially_filled", "order_type": "limit", "time_in_force": "day",
            "expire_time": None, "resting": True, "held": [], "entry_time": START + 2.5,
        })
        self.assertEqual(self.simulator.get_order(order["order_id"]), order)
        self.assertEqual(self.simulator.get_order(str(order["order_id"]), "e1"), order)

    def test_advancedOrders(self):
        """
        Orders with advanced terms (issue 13) show them; a waiting stop is
        live, not resting; a plain order has none of these keys.
        """
        sim = self.simulator
        sim.create_order("ice", "AAPL", side="sell", price="10.25", quantity=100,
                         display_quantity=10, stp_id="d1")
        sim.create_order("bid", "AAPL", side="buy", price="10.00", quantity=5)
        sim.create_order("stop", "AAPL", side="buy", order_type="stop", stop_price="10.50",
                         quantity=7)
        sim.create_order("peg", "AAPL", side="buy", order_type="pegged", price="10.20",
                         quantity=3)
        sim.create_order("hid", "AAPL", side="buy", price="9.00", quantity=20,
                         display_quantity=0, min_quantity=5, post_only="yes")
        for name in ("ice", "bid", "stop", "peg", "hid"):
            sim.submit_order(name)
        orders = {o["quantity"]: o for o in sim.list_orders("AAPL")}
        keys = ("stop_price", "triggered", "display_quantity", "min_quantity", "post_only",
                "stp_id", "peg_limit", "resting", "price")
        self.assertEqual(
            [tuple(orders[q][k] for k in keys) for q in (100, 7, 3, 20)],
            [
                (None, False, 10, None, False, "d1", None, True, "10.25"),
                ("10.50", False, None, None, False, None, None, False, None),
                (None, False, None, None, False, None, "10.20", True, "10.125"),
                (None, False, 0, 5, True, None, None, True, "9.00"),
            ],
        )
        self.assertNotIn("stop_price", orders[5])
        properties = sim.get_properties("book", "AAPL")
        self.assertEqual((properties["self_trade_prevention"], properties["post_only_action"]),
                         ("none", "reject"))
        sim.set_book_property("AAPL", "self_trade_prevention", "decrement")
        sim.set_book_property("AAPL", "post_only_action", "slide")
        properties = sim.get_properties("book", "AAPL")
        self.assertEqual((properties["self_trade_prevention"], properties["post_only_action"]),
                         ("decrement", "slide"))

    def test_ownerAfterAndCount(self):
        ids = [self.house("h%d" % i, "buy", "10", 1) for i in range(5)]
        self.fix.send("D", nos(self.fix, "c1", price="9"))
        orders = self.simulator.list_orders("AAPL")
        self.assertEqual([o["order_id"] for o in orders][:5], ids)
        self.assertEqual(len(orders), 6)
        self.assertEqual([o["cl_ord_id"] for o in self.simulator.list_orders("AAPL", "fix1/CLIENT")], ["c1"])
        self.assertEqual([o["order_id"] for o in self.simulator.list_orders("AAPL", "house", ids[1], 2)],
                         ids[2:4])
        self.assertEqual(self.simulator.list_orders("AAPL", "nobody"), [])
        for args in (("AAPL", None, "x"), ("AAPL", None, None, 0), ("AAPL", None, None, "many"),
                     ("AAPL", 7)):
            self.assertRaises(BadValue, self.simulator.list_orders, *args)

    def test_doneOrdersGone(self):
        orderId = self.house("h1", "buy", "10", 5)
        self.house("h2", "sell", "10", 5)
        self.assertEqual(self.simulator.list_orders("AAPL"), [])
        e = self.assertRaises(NotFound, self.simulator.get_order, orderId)
        self.assertEqual(str(e), "no engine has a live order %d" % (orderId,))
        self.assertRaises(BadValue, self.simulator.get_order, "x")
        self.assertRaises(BadValue, self.simulator.get_order, True)

    def test_heldOrder(self):
        """
        In managed mode a held order is live: status pending_new, C{held}
        names the request waiting.
        """
        self.simulator.set_engine_property("e1", "mode", "managed")
        self.reactor.advance(1)
        self.fix.send("D", nos(self.fix, "c1"))
        [order] = self.simulator.list_orders("AAPL")
        self.assertEqual((order["status"], order["held"], order["resting"], order["entry_time"]),
                         ("pending_new", ["new"], False, START + 1))
        self.reactor.advance(1)
        self.simulator.accept_order(order["order_id"])
        [order] = self.simulator.list_orders("AAPL")
        self.assertEqual((order["status"], order["held"], order["entry_time"]), ("new", [], START + 1))

    def test_ambiguousOrder(self):
        self.simulator.create_engine("e2", self.engineClass)
        self.simulator.create_book("AAPL2", "e2", "AAPL")
        self.simulator.create_order("x1", "AAPL2", side="buy", price="1", quantity=1)
        self.simulator.submit_order("x1")
        orderId = self.house("h1", "buy", "10", 5)
        e = self.assertRaises(BadValue, self.simulator.get_order, orderId)
        self.assertIn("name the engine", str(e))
        self.assertEqual(self.simulator.get_order(orderId, "e2")["book"], "AAPL2")

    def test_peekEvents(self):
        """
        C{peek_events} returns what C{get_events} would, and leaves it.
        """
        self.simulator.get_events()
        self.house("h1", "buy", "10", 5)
        self.house("h2", "sell", "11", 5)
        peeked = self.simulator.peek_events()
        self.assertEqual(self.simulator.peek_events(), peeked)
        self.assertEqual(self.simulator.peek_events(2), peeked[:2])
        self.assertEqual(self.simulator.peek_events(after=peeked[2]["event_id"]), peeked[3:])
        self.assertEqual(self.simulator.peek_events(2, peeked[0]["event_id"]), peeked[1:3])
        self.assertEqual(self.simulator.get_events(), peeked)
        self.assertEqual(self.simulator.peek_events(), [])
        for bad in ((0,), ("x",), (None, "y")):
            self.assertRaises(BadValue, self.simulator.peek_events, *bad)


class OrdersTests(OrdersTestsMixin, unittest.TestCase):
    pass


class ReferenceOrdersTests(OrdersTestsMixin, unittest.TestCase):
    engineClass = "reference"


class PlainTests(unittest.TestCase):
    def test_values(self):
        from decimal import Decimal

        from exsim.model import Side

        self.assertEqual(
            plain({"a": (1, "x"), "b": Decimal("1.5"), "c": Side.SELL_SHORT, "d": b"\xe9",
                   "e": frozenset(["b", "a"]), "f": object.__new__(Clock).__class__}),
            {"a": [1, "x"], "b": "1.5", "c": "sell_short", "d": "\xe9", "e": ["a", "b"],
             "f": str(Clock)},
        )


    def test_averagePriceFixedPoint(self):
        """
        Average prices are fixed-point text (C{normalize()} alone made 10
        into C{1E+1}).
        """
        from exsim.control.queue import formatAverage
        from exsim.model import Instrument

        instrument = Instrument("X")
        self.assertEqual(formatAverage(instrument, 100000 * 3, 3), "10")
        self.assertEqual(formatAverage(instrument, 102500 + 102600, 2), "10.255")
        self.assertEqual(formatAverage(instrument, 0, 0), "0")


class EngineNotesTests(unittest.TestCase):
    def test_interface(self):
        from exsim.engine.matching import MatchingEngine

        self.assertTrue(verifyObject(IEngineListener, EngineNotes(MatchingEngine("e"), Clock())))

    def test_entryTimeOnTheOrder(self):
        """
        The entry time is noted on the order itself (L{Order.entered}):
        a live order's is the time it was accepted, and a finished one
        keeps its own (the web view's recent orders show it); a later
        event of the order (a fill) does not move it.
        """
        clock = Clock()
        clock.advance(100)
        sim = Simulator(clock)
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1")
        notes = sim.engineNotes["e1"]
        sim.create_order("keep", "AAPL", side="buy", price="1", quantity=2)
        sim.submit_order("keep")
        for i in range(3):
            clock.advance(1)
            sim.create_order("b%d" % i, "AAPL", side="buy", price="10", quantity=1)
            sim.create_order("s%d" % i, "AAPL", side="sell", price="10", quantity=1)
            sim.submit_order("b%d" % i)
            sim.submit_order("s%d" % i)
        clock.advance(1)
        sim.create_order("hit", "AAPL", side="sell", price="1", quantity=1)
        sim.submit_order("hit")
        keep = sim.engines["e1"].getOrder(sim.houseOrders["keep"].orderId)
        self.assertEqual((keep.cumQty, keep.entered), (1, 100))
        self.assertEqual(sim.get_order(keep.orderId)["entry_time"], 100)
        recent = notes.recentOrders("AAPL")
        self.assertEqual(
            [(o.clOrdId.split("#")[0], o.entered, o.isDone) for o in recent],
            [("hit", 104, True), ("s2", 103, True), ("b2", 103, True), ("s1", 102, True),
             ("b1", 102, True), ("s0", 101, True), ("b0", 101, True), ("keep", 100, False)],
        )


class NotesAndTapeTests(unittest.TestCase):
    def test_recentOrdersAndTape(self):
        """
        The orders entered last (finished ones too), newest first; the
        trade tape (while the web view subscribes it), newest first.
        """
        from exsim.observe.inventory import TradeTape

        clock = Clock()
        sim = Simulator(clock)
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1")
        sim.create_book("MSFT", "e1")
        tape = TradeTape(sim.engines["e1"], clock)
        sim.engines["e1"].subscribe(tape)
        for name, side, price in (("a", "buy", "10"), ("b", "sell", "10"), ("c", "buy", "9")):
            clock.advance(1)
            sim.create_order(name, "AAPL", side=side, price=price, quantity=2)
            sim.submit_order(name)
        sim.create_order("m", "MSFT", side="buy", price="1", quantity=1)
        sim.submit_order("m")
        notes = sim.engineNotes["e1"]
        recent = notes.recentOrders("AAPL")
        self.assertEqual([o.clOrdId for o in recent], ["c#3", "b#2", "a#1"])
        self.assertTrue(recent[1].isDone)
        [(when, trade)] = tape.recent("AAPL")
        self.assertEqual((when, trade.quantity, trade.price), (2, 2, 100000))
        self.assertEqual(tape.recent("MSFT"), [])

    def test_recentOrdersPerBook(self):
        """
        Each book keeps its own last L{RECENT_ORDERS} orders: a quiet
        book's stay however many orders a busy one takes, and no more are
        held than that per book (finished ones are let go).
        """
        from exsim.observe.inventory import RECENT_ORDERS

        sim = Simulator(Clock())
        sim.create_engine("e1")
        sim.create_book("AAPL", "e1")
        sim.create_book("MSFT", "e1")
        sim.create_order("quiet", "MSFT", side="buy", price="1", quantity=1)
        sim.submit_order("quiet")
        for i in range(RECENT_ORDERS):
            # Each pair trades: both orders finish.
            for side in ("buy", "sell"):
                name = "%s%d" % (side, i)
                sim.create_order(name, "AAPL", side=side, price="10", quantity=1)
                sim.submit_order(name)
        names = lambda orders: [o.clOrdId.split("#")[0] for o in orders]  # noqa: E731
        notes = sim.engineNotes["e1"]
        self.assertEqual(names(notes.recentOrders("MSFT")), ["quiet"])
        busy = notes.recentOrders("AAPL", 2 * RECENT_ORDERS)
        last = RECENT_ORDERS - 1
        self.assertEqual(len(busy), RECENT_ORDERS)
        self.assertEqual(names(busy[:3]), ["sell%d" % last, "buy%d" % last, "sell%d" % (last - 1)])
        self.assertTrue(all(o.isDone for o in busy))
        self.assertEqual(names(notes.recentOrders("AAPL", 2)), names(busy[:2]))
        self.assertEqual(notes.recentOrders("IBM"), [])


class PageRecorder:
    """
    An L{EventFollower} page callback keeping every page, answering
    C{result}.
    """

    def __init__(self, result=None):
        self.pages = []
        self.result = result

    def __call__(self, page):
        self.pages.append(page)
        return self.result

    def events(self):
        return [e for page in self.pages for e in page]


class FollowerTests(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.simulator = Simulator(self.clock)
        self.simulator.create_engine("e1")
        self.simulator.create_book("AAPL", "e1")

    def order(self, name, side="buy", price="10"):
        self.simulator.create_order(name, "AAPL", side=side, price=price, quantity=1)
        self.simulator.submit_order(name)

    def test_followsWithoutTaking(self):
        recorder = PageRecorder()
        follower = EventFollower(self.simulator.events, self.clock, recorder)
        self.order("a")
        self.simulator.reportEvent("session_logon", session="x")
        self.assertEqual(recorder.pages, [])
        self.clock.advance(0.05)
        queued = self.simulator.peek_events()
        self.assertEqual(recorder.events(), queued)
        self.assertEqual(self.simulator.get_events(), queued)
        follower.stop()
        follower.stop()
        self.order("b")
        self.clock.advance(1)
        self.assertEqual(len(recorder.pages), 1)
        self.assertEqual(self.simulator.events.taps, [])

    def test_fullQueue(self):
        """
        A full queue loses events for C{get_events}, not for followers;
        their ids are those the queue counted.
        """
        self.simulator.events.setMaxSize(2)
        recorder = PageRecorder()
        EventFollower(self.simulator.events, self.clock, recorder)
        self.order("a")
        self.simulator.reportEvent("session_logon", session="x")
        self.order("b", "sell", "11")
        self.clock.advance(0.05)
        ids = [e["event_id"] for e in recorder.events()]
        self.assertEqual(ids, list(range(1, len(ids) + 1)))
        self.assertIn("session_logon", [e["type"] for e in recorder.events()])
        queue = self.simulator.get_events() + self.simulator.get_events()
        self.assertEqual([e["type"] for e in queue][-1], "events_lost")
        lost = queue[-1]
        self.assertEqual(lost["last_event_id"], ids[-1])

    def test_slowReader(self):
        """
        A page waits for the one before it; beyond C{limit} the oldest
        events are dropped and reported.
        """
        pending = defer.Deferred()
        recorder = PageRecorder(pending)
        EventFollower(self.simulator.events, self.clock, recorder, limit=4)
        self.order("a")
        self.clock.advance(0.05)
        self.assertEqual(len(recorder.pages), 1)
        for name in "bcdef":
            self.order(name, "buy", "9")
        self.clock.advance(1)
        self.assertEqual(len(recorder.pages), 1)
        recorder.result = None
        pending.callback(None)
        self.clock.advance(0.05)
        [lost] = [e for e in recorder.pages[1] if e["type"] == "events_lost"]
        self.assertEqual(recorder.pages[1][0], lost)
        kept = recorder.pages[1][1:]
        self.assertLessEqual(len(kept), 4)
        self.assertEqual(lost["last_event_id"] + 1, kept[0]["event_id"])
        self.assertEqual(kept[-1]["event_id"], self.simulator.peek_events(1000)[-1]["event_id"])

    def test_failedSend(self):
        recorder = PageRecorder(defer.fail(RuntimeError("gone")))
        follower = EventFollower(self.simulator.events, self.clock, recorder)
        self.order("a")
        self.clock.advance(0.05)
        self.assertEqual(self.simulator.events.taps, [])
        self.assertTrue(follower._stopped)
        self.flushLoggedErrors(RuntimeError)


class ManagementServiceTests(SimulatorMixin, unittest.TestCase):
    """
    The operations over PB (in memory), as the Python client calls them.
    """

    def setUp(self):
        SimulatorMixin.setUp(self)
        factory, self.pump = pbPair(self.simulator, UsersChecker({"admin": "secret"}))
        d = exsim.client.login(factory, "admin", "secret")
        self.pump.flush()
        self.client = self.successResultOf(d)

    def call(self, name, *args):
        d = getattr(self.client, name)(*args)
        for _ in range(20):
            self.pump.flush()
        return self.successResultOf(d)

    def test_operations(self):
        orderId = self.house("h1", "buy", "10", 5)
        self.assertEqual(self.call("list_engines")[0]["engine"], "e1")
        self.assertEqual(self.call("list_books")[0]["best_bid"], "10.00")
        self.assertEqual(self.call("list_endpoints", "e1")[0]["endpoint"], "fix1")
        self.assertEqual(self.call("get_properties", "engine", "e1")["mode"], "auto")
        self.assertEqual(self.call("get_order", orderId)["owner"], "house")
        self.assertEqual(self.call("peek_events", 1)[0]["type"], "session_logon")
        self.assertEqual(len(self.call("peek_events")), len(self.simulator.peek_events()))
        d = self.client.get_properties("book", "ZZZ")
        self.pump.flush()
        self.assertIsInstance(self.failureResultOf(d).value, NotFound)

    def test_pages(self):
        """
        With C{max_count} None the clients fetch every page of
        C{list_orders} and C{peek_events}.
        """
        self.simulator.events.setMaxSize(10**6)
        for i in range(1005):
            self.simulator.create_order("h%d" % i, "AAPL", side="buy", price="10", quantity=1)
            self.simulator.submit_order("h%d" % i)
        orders = self.call("list_orders", "AAPL")
        self.assertEqual(len(orders), 1005)
        self.assertEqual(len({o["order_id"] for o in orders}), 1005)
        self.assertEqual(len(self.call("list_orders", "AAPL", "house", None, 10)), 10)
        events = self.call("peek_events")
        self.assertEqual(len(events), len(self.simulator.events))
        self.assertEqual(events, self.simulator.peek_events(1000) + self.simulator.peek_events(1000, 1000)
                         + self.simulator.peek_events(1000, 2000) + self.simulator.peek_events(1000, 3000))

    def test_followEvents(self):
        seen = []
        self.call("follow_events", seen.append)
        self.house("h1", "buy", "10", 5)
        self.reactor.advance(0.05)
        for _ in range(5):
            self.pump.flush()
        self.assertEqual([e["type"] for e in seen], ["accepted", "added", "book_changed"])
        self.assertEqual(len(self.simulator.events.taps), 1)
        self.client.disconnect()
        for _ in range(5):
            self.pump.flush()
        self.assertEqual(self.simulator.events.taps, [])


class ExsimctlTests(unittest.TestCase):
    """
    C{exsimctl ls}, C{show}, C{orders} and C{follow} against a simulator
    process.
    """

    def setUp(self):
        self.server = exsim.API().create_server()
        self.addCleanup(self.server.delete)
        self.server.create_engine("e1")
        self.server.create_book("AAPL", "e1")
        self.server.create_endpoint("fix1", "e1", "fix", listen="tcp:0:interface=127.0.0.1")
        self.server.create_order("o1", "AAPL", side="buy", price="10.5", quantity=3)
        self.server.submit_order("o1")

    def ctl(self, *args):
        out, err = io.StringIO(), io.StringIO()
        argv = ["--connect", self.server.endpoint, "--user", "exsim", "--password", self.server.password]
        code = ctl.main(argv + list(args), out, err, {}, io.StringIO())
        return code, out.getvalue(), err.getvalue()

    def test_ls(self):
        from exsim.testing import FixClient

        host, port = self.server.get_endpoint_address("fix1")
        client = FixClient(host, port, sender_comp_id="ALICE", target_comp_id="EXSIM")
        client.logon()
        self.addCleanup(client.close)
        code, out, err = self.ctl("ls")
        self.assertEqual((code, err), (0, ""))
        lines = out.splitlines()
        self.assertEqual(lines[0], "engine e1  (class matching, mode auto, 1 live orders)")
        self.assertEqual(
            lines[1],
            "  book AAPL  symbol AAPL  bid 10.50 x 3  ask -  last -  volume 0  orders 1  standard  continuous",
        )
        self.assertEqual(lines[2], "  endpoint fix1  (fix)  listening on %s:%d  1 active session(s)" % (host, port))
        self.assertTrue(lines[3].startswith("    session fix1/ALICE  active  peer 127.0.0.1:"), lines[3])
        self.assertTrue(lines[3].endswith("in 2 out 2"), lines[3])
        self.assertEqual(self.ctl("ls", "x")[0], 2)

    def test_show(self):
        code, out, err = self.ctl("show", "engine", "e1")
        self.assertEqual((code, json.loads(out)), (0, {"class": "matching", "mode": "auto", "journal": None,
                                                      "journal_sync": "none", "managed_ack": "none",
                                                      "policy": "hold", "reject_text": "rejected by policy",
                                                      "schedule": "none", "timezone": "America/New_York"}))
        code, out, err = self.ctl("show", "book", "NOPE")
        self.assertEqual((code, err), (1, "exsimctl: show: unknown book 'NOPE' (list_books names them)\n"))
        self.assertEqual(self.ctl("show", "book")[0], 2)

    def test_orders(self):
        code, out, err = self.ctl("orders", "AAPL")
        self.assertEqual(code, 0, err)
        header, row = out.splitlines()
        self.assertEqual(header.split(), ["ORDER", "ID", "OWNER", "CLORDID", "SIDE", "PRICE", "QTY", "LEAVES",
                                          "CUM", "STATUS", "TYPE", "TIF", "ENTERED", "(UTC)"])
        self.assertEqual(row.split()[:11], ["1", "house", "o1#1", "buy", "10.50", "3", "3", "0", "new",
                                            "limit", "day"])
        code, out, err = self.ctl("orders", "AAPL", "-k", "owner=fix1/NOBODY")
        self.assertEqual(len(out.splitlines()), 1)
        self.assertEqual(self.ctl("orders")[0], 2)

    def test_follow(self):
        """
        C{exsimctl follow} prints events as they happen, one JSON line
        each, and takes nothing from the queue.
        """
        self.server.get_events()
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), EXSIM_PASSWORD=self.server.password)
        process = subprocess.Popen(
            [sys.executable, "-m", "exsim.ctl", "-c", self.server.endpoint, "-u", "exsim", "follow",
             "-k", "count=3", "-k", "seconds=60"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        )
        self.addCleanup(lambda: process.poll() is None and process.kill())
        # Until the follower is in place, events are not followed: repeat.
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            self.server.create_order("x", "AAPL", side="sell", price="20", quantity=1)
            self.server.submit_order("x")
            self.server.delete_order("x")
            time.sleep(0.2)
        out, err = process.communicate(timeout=30)
        self.assertEqual(process.returncode, 0, err)
        lines = [json.loads(line) for line in out.decode().splitlines()]
        self.assertEqual(len(lines), 3)
        self.assertTrue(all(e["symbol"] == "AAPL" for e in lines))
        queued = self.server.peek_events(None)
        self.assertTrue(set(e["event_id"] for e in lines) <= set(e["event_id"] for e in queued))
        self.assertEqual(self.ctl("follow", "x")[0], 2)
        self.assertEqual(self.ctl("follow", "-k", "count=many")[0], 2)
