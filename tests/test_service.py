# -*- test-case-name: tests.test_service -*-
"""
The simulator service: engines, books and endpoints by name.
"""

from twisted.internet.protocol import Factory, Protocol
from zope.interface.verify import verifyObject

from exsim import registry
from exsim.endpoint import ConnectionLimit, PlainFactory
from exsim.errors import BadValue, DuplicateName, UnknownName, WrongState
from exsim.interfaces import IEndpointFactory
from tests.helpers import EchoFactory, SimulatorTestCase


class EngineOpsTests(SimulatorTestCase):
    def test_createEngine(self):
        self.simulator.create_engine("e1", "matching")
        self.assertEqual(self.simulator.engine("e1").name, "e1")
        self.assertIs(self.simulator.engine("e1").clock, self.reactor)

    def test_duplicateEngine(self):
        self.simulator.create_engine("e1")
        self.assertRaises(DuplicateName, self.simulator.create_engine, "e1")

    def test_unknownClass(self):
        e = self.assertRaises(BadValue, self.simulator.create_engine, "e1", "quantum")
        self.assertIn("matching", str(e))
        self.assertEqual(self.simulator.engines, {})

    def test_badName(self):
        self.assertRaises(BadValue, self.simulator.create_engine, "")
        self.assertRaises(BadValue, self.simulator.create_engine, None)

    def test_engineProperty(self):
        self.simulator.create_engine("e1")
        self.simulator.set_engine_property("e1", "mode", "managed")
        self.assertEqual(self.simulator.engine("e1").mode, "managed")
        self.assertRaises(UnknownName, self.simulator.set_engine_property, "e2", "mode", "auto")

    def test_deleteEngine(self):
        self.simulator.create_engine("e1")
        self.simulator.create_book("AAPL", "e1")
        self.simulator.delete_engine("e1")
        self.assertRaises(UnknownName, self.simulator.engine, "e1")
        self.assertRaises(UnknownName, self.simulator.get_book, "AAPL")

    def test_deleteEngineInUse(self):
        self.simulator.create_engine("e1")
        self.simulator.create_endpoint("x", "e1", "fake")
        self.assertRaises(BadValue, self.simulator.delete_engine, "e1")
        self.assertIn("e1", self.simulator.engines)

    def test_registeredEngineClass(self):
        from exsim.engine.matching import MatchingEngine

        class Mine(MatchingEngine):
            pass

        registry.register("engine", "test_mine", Mine)
        self.addCleanup(registry.unregister, "engine", "test_mine")
        self.simulator.create_engine("e1", "test_mine")
        self.assertIsInstance(self.simulator.engine("e1"), Mine)


class BookOpsTests(SimulatorTestCase):
    def setUp(self):
        SimulatorTestCase.setUp(self)
        self.simulator.create_engine("e1")

    def test_createAndGet(self):
        self.simulator.create_book("apple", "e1", "AAPL")
        book = self.simulator.get_book("apple")
        self.assertEqual(book["bids"], [])
        self.assertEqual(book["asks"], [])
        self.assertIsNone(book["last"])
        self.assertIn("AAPL", self.simulator.engine("e1").books)

    def test_unknownEngine(self):
        self.assertRaises(UnknownName, self.simulator.create_book, "AAPL", "e9")

    def test_duplicate(self):
        self.simulator.create_book("AAPL", "e1")
        self.assertRaises(DuplicateName, self.simulator.create_book, "AAPL", "e1")
        self.assertRaises(DuplicateName, self.simulator.create_book, "other", "e1", "AAPL")

    def test_bookProperties(self):
        self.simulator.create_book("AAPL", "e1")
        self.simulator.set_book_property("AAPL", "behaviour", "auto_fill")
        self.simulator.set_book_property("AAPL", "reference_price", 150)
        engine, book = self.simulator.book("AAPL")
        self.assertEqual(book.behaviour.name, "auto_fill")
        self.assertEqual(book.referencePrice, 1500000)
        self.assertRaises(BadValue, self.simulator.set_book_property, "AAPL", "reference_price", "cheap")

    def test_depthArgument(self):
        self.simulator.create_book("AAPL", "e1")
        self.assertRaises(BadValue, self.simulator.get_book, "AAPL", 0)
        self.assertRaises(BadValue, self.simulator.get_book, "AAPL", "x")

    def test_deleteBook(self):
        self.simulator.create_book("AAPL", "e1")
        self.simulator.delete_book("AAPL", "e1")
        self.assertRaises(UnknownName, self.simulator.get_book, "AAPL")
        self.assertEqual(self.simulator.engine("e1").books, {})


class EndpointOpsTests(SimulatorTestCase):
    def setUp(self):
        SimulatorTestCase.setUp(self)
        self.simulator.create_engine("e1")

    def test_defaultListen(self):
        self.simulator.create_endpoint("x", "e1", "fake")
        self.simulator.start_endpoint("x")
        port, factory, backlog, interface = self.reactor.tcpServers[0]
        self.assertEqual((port, interface), (0, "127.0.0.1"))
        # The listener counts connections (max_connections) around the
        # protocol's factory.
        self.assertIsInstance(factory, ConnectionLimit)
        self.assertIsInstance(factory.factory, EchoFactory)
        host, port = self.simulator.get_endpoint_address("x")
        self.assertEqual(host, "0.0.0.0")

    def test_listenProperty(self):
        self.simulator.create_endpoint("x", "e1", "fake")
        self.simulator.set_protocol_property("x", "listen", "tcp:9999:interface=127.0.0.2")
        self.simulator.start_endpoint("x")
        self.assertEqual(self.reactor.tcpServers[0][0], 9999)
        self.assertEqual(self.reactor.tcpServers[0][3], "127.0.0.2")

    def test_notListening(self):
        self.simulator.create_endpoint("x", "e1", "fake")
        self.assertRaises(WrongState, self.simulator.get_endpoint_address, "x")

    def test_startTwice(self):
        self.simulator.create_endpoint("x", "e1", "fake")
        self.simulator.start_endpoint("x")
        self.failureResultOf(self.simulator.start_endpoint("x"), WrongState)

    def test_badListen(self):
        self.simulator.create_endpoint("x", "e1", "fake")
        self.simulator.set_protocol_property("x", "listen", "carrier-pigeon:1")
        self.failureResultOf(self.simulator.start_endpoint("x"), BadValue)

    def test_protocolProperty(self):
        self.simulator.create_endpoint("x", "e1", "fake")
        self.simulator.set_protocol_property("x", "colour", "red")
        self.assertEqual(self.simulator.endpoint("x").get("colour"), "red")
        self.assertRaises(BadValue, self.simulator.set_protocol_property, "x", "colour", "green")
        e = self.assertRaises(BadValue, self.simulator.set_protocol_property, "x", "flavour", "1")
        self.assertIn("colour", str(e))

    def test_users(self):
        self.simulator.create_endpoint("x", "e1", "fake")
        self.simulator.set_protocol_property("x", "users", "alice:pw1, bob:pw2")
        self.assertEqual(self.simulator.endpoint("x").get("users"), {"alice": "pw1", "bob": "pw2"})
        self.assertRaises(BadValue, self.simulator.set_protocol_property, "x", "users", "alice")

    def test_usersWithCompIds(self):
        """
        On a FIX endpoint, users may name the CompIDs they log on as
        (C{name:password:COMPID}, repeated for several); other protocols
        keep a colon in a password as it is.
        """
        self.simulator.create_endpoint("f", "e1", "fix")
        self.simulator.set_protocol_property("f", "users", "alice:pa:ALICE, alice:pa:AL2, bob:pb")
        users = self.simulator.endpoint("f").get("users")
        self.assertEqual(users, {"alice": "pa", "bob": "pb"})
        self.assertEqual(users.allowedCompIds("alice"), frozenset(["ALICE", "AL2"]))
        self.assertEqual(users.allowedCompIds("bob"), frozenset(["bob"]))
        self.assertRaises(BadValue, self.simulator.set_protocol_property, "f", "users", "a:1:X,a:2:Y")
        self.assertRaises(BadValue, self.simulator.set_protocol_property, "f", "users", "a:1:")
        self.simulator.create_endpoint("o", "e1", "ouch")
        self.simulator.set_protocol_property("o", "users", "carol:p:w")
        self.assertEqual(self.simulator.endpoint("o").get("users"), {"carol": "p:w"})

    def test_unknownProtocol(self):
        e = self.assertRaises(BadValue, self.simulator.create_endpoint, "x", "e1", "smoke")
        self.assertIn("fix", str(e))
        self.assertEqual(self.simulator.endpoints, {})

    def test_factoryInterface(self):
        self.simulator.create_endpoint("x", "e1", "fake")
        self.simulator.start_endpoint("x")
        [factory] = self.family.factories
        self.assertTrue(verifyObject(IEndpointFactory, factory))
        self.simulator.set_protocol_property("x", "colour", "blue")
        self.assertEqual(factory.changes, [("colour", "blue")])

    def test_plainFactoryAdapted(self):
        """
        A family that builds a plain Twisted factory still works: the
        factory is adapted to IEndpointFactory.
        """
        self.family.buildFactory = lambda endpoint: Factory.forProtocol(Protocol)
        self.simulator.create_endpoint("x", "e1", "fake")
        self.simulator.start_endpoint("x")
        factory = self.reactor.tcpServers[0][1].factory
        self.assertIsInstance(factory, PlainFactory)
        self.assertTrue(verifyObject(IEndpointFactory, factory))
        self.simulator.set_protocol_property("x", "colour", "red")
        self.successResultOf(self.simulator.delete_endpoint("x"))

    def test_delete(self):
        self.simulator.create_endpoint("x", "e1", "fake")
        self.simulator.start_endpoint("x")
        factory = self.family.factories[0]
        self.successResultOf(self.simulator.delete_endpoint("x"))
        self.assertEqual(factory.shutdowns, 1)
        self.assertRaises(UnknownName, self.simulator.endpoint, "x")

    def test_reportEvent(self):
        seen = []
        self.simulator.eventSinks.append(lambda t, f: seen.append((t, f)))
        self.simulator.create_endpoint("x", "e1", "fake")
        self.simulator.endpoint("x").report("logon", session="A")
        self.assertEqual(seen, [("logon", {"endpoint": "x", "session": "A"})])


class EndOfDayTests(SimulatorTestCase):
    def test_endOfDay(self):
        from exsim.model import Order, OrdStatus, Side, TimeInForce

        self.simulator.create_engine("e1")
        self.simulator.create_book("AAPL", "e1")
        engine = self.simulator.engine("e1")
        day = engine.submitNew(Order("ep/A", "c1", "AAPL", Side.BUY, 10, 1000000))
        gtc = engine.submitNew(Order("ep/A", "c2", "AAPL", Side.BUY, 10, 1000000, timeInForce=TimeInForce.GTC))
        self.simulator.get_events()
        self.simulator.end_of_day("e1")
        self.assertEqual((day.status, gtc.status), (OrdStatus.EXPIRED, OrdStatus.NEW))
        expired = [e for e in self.simulator.get_events() if e["type"] == "expired"]
        self.assertEqual([e["cl_ord_id"] for e in expired], ["c1"])
        again = engine.submitNew(Order("ep/A", "c1", "AAPL", Side.BUY, 10, 1000000))
        self.assertEqual(again.status, OrdStatus.NEW)
        self.assertRaises(UnknownName, self.simulator.end_of_day, "e9")
