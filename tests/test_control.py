"""
Tests for L{exsim.control}: the Perspective Broker management service,
over an in-memory connection.
"""

from twisted.cred import error as credError
from twisted.cred.checkers import FilePasswordDB, ICredentialsChecker
from twisted.cred.credentials import UsernamePassword
from twisted.cred.portal import IRealm
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock
from twisted.spread import pb
from twisted.test import iosim
from twisted.trial import unittest
from zope.interface.verify import verifyObject

from exsim import errors
from exsim.client import Connection, ControlClient, RemoteError, login
from exsim.control import OPERATIONS
from exsim.control.avatar import ControlAvatar
from exsim.control.checker import UsersChecker, checkerFor
from exsim.control.service import ControlRealm, ControlService, addControlService, makeFactory
from exsim.service import Simulator

ADDRESS = IPv4Address("TCP", "127.0.0.1", 40000)


def pbPair(simulator, checker):
    """
    A PB client factory connected in memory to a management service.

    @return: (client factory, pump)
    """
    serverFactory = makeFactory(simulator, checker)
    clientFactory = pb.PBClientFactory()
    server = serverFactory.buildProtocol(ADDRESS)
    client = clientFactory.buildProtocol(ADDRESS)
    pump = iosim.connect(
        server, iosim.makeFakeServer(server), client, iosim.makeFakeClient(client)
    )
    return clientFactory, pump


class ControlTestMixin:
    def setUp(self):
        self.clock = Clock()
        self.simulator = Simulator(self.clock)
        self.factory, self.pump = pbPair(self.simulator, UsersChecker({"admin": "secret"}))

    def login(self, user="admin", password="secret"):
        d = login(self.factory, user, password)
        self.pump.flush()
        return d

    def client(self):
        return self.successResultOf(self.login())

    def flushed(self, d):
        self.pump.flush()
        return d


class InterfaceTests(unittest.TestCase):
    def test_realm(self):
        self.assertTrue(verifyObject(IRealm, ControlRealm(Simulator(Clock()))))

    def test_checker(self):
        self.assertTrue(verifyObject(ICredentialsChecker, UsersChecker({"a": "b"})))

    def test_everyOperation(self):
        """
        Every operation is a Simulator method, a perspective method, and a
        method of both clients.
        """
        for name in OPERATIONS:
            self.assertTrue(callable(getattr(Simulator, name)), name)
            self.assertTrue(callable(getattr(ControlAvatar, "perspective_" + name)), name)
            self.assertTrue(callable(getattr(ControlClient, name)), name)
            self.assertTrue(callable(getattr(Connection, name)), name)

    def test_realmOnlyPB(self):
        realm = ControlRealm(Simulator(Clock()))
        self.assertRaises(NotImplementedError, realm.requestAvatar, "admin", None, IRealm)


class LoginTests(ControlTestMixin, unittest.TestCase):
    def test_login(self):
        client = self.client()
        self.assertIsInstance(client, ControlClient)
        d = self.flushed(client.create_engine("e1"))
        self.assertIsNone(self.successResultOf(d))
        self.assertIn("e1", self.simulator.engines)

    def test_wrongPassword(self):
        self.failureResultOf(self.login(password="wrong"), credError.UnauthorizedLogin)
        self.flushLoggedErrors(credError.UnauthorizedLogin)

    def test_unknownUser(self):
        self.failureResultOf(self.login(user="mallory"), credError.UnauthorizedLogin)
        self.flushLoggedErrors(credError.UnauthorizedLogin)

    def test_nothingBeforeLogin(self):
        """
        Before login only the login methods of the root object answer.
        """
        d = self.factory.getRootObject()
        self.pump.flush()
        root = self.successResultOf(d)
        d = root.callRemote("create_engine", "e1")
        self.pump.flush()
        self.failureResultOf(d)
        self.assertEqual(self.simulator.engines, {})
        from twisted.spread.flavors import NoSuchMethod

        self.assertEqual(len(self.flushLoggedErrors(NoSuchMethod)), 1)

    def test_passwordFile(self):
        path = self.mktemp()
        with open(path, "w") as f:
            f.write("ops:hunter2\n")
        checker = checkerFor(passwordFile=path)
        self.assertIsInstance(checker, FilePasswordDB)
        d = checker.requestAvatarId(UsernamePassword(b"ops", b"hunter2"))
        self.assertEqual(self.successResultOf(d), b"ops")
        d = checker.requestAvatarId(UsernamePassword(b"ops", b"nope"))
        self.failureResultOf(d, credError.UnauthorizedLogin)

    def test_checkerFor(self):
        self.assertIsInstance(checkerFor(users="a:b, c:d"), UsersChecker)
        self.assertRaises(errors.BadValue, checkerFor)
        self.assertRaises(errors.BadValue, checkerFor, "a:b", "file")
        self.assertRaises(errors.BadValue, checkerFor, "nocolon")
        self.assertRaises(errors.BadValue, checkerFor, "")
        e = self.assertRaises(errors.BadValue, checkerFor, None, self.mktemp())
        self.assertIn("cannot read password_file", str(e))


class OperationTests(ControlTestMixin, unittest.TestCase):
    def setUp(self):
        ControlTestMixin.setUp(self)
        self.control = self.client()

    def call(self, name, *args, **kwargs):
        return self.flushed(getattr(self.control, name)(*args, **kwargs))

    def test_results(self):
        """
        Results come back as plain data; keyword arguments work.
        """
        self.successResultOf(self.call("create_engine", "e1", class_name="matching"))
        self.successResultOf(self.call("create_book", "AAPL", "e1", "AAPL"))
        self.successResultOf(
            self.call("create_order", "o1", "AAPL", side="buy", price="12.5", quantity=10)
        )
        self.successResultOf(self.call("submit_order", "o1"))
        book = self.successResultOf(self.call("get_book", "AAPL", depth=5))
        self.assertEqual(book["bids"], [("12.50", 10, 1)])
        events = self.successResultOf(self.call("get_events"))
        self.assertEqual([e["type"] for e in events], ["accepted", "added", "book_changed"])
        self.assertEqual(self.successResultOf(self.call("get_events", 10)), [])

    def test_rawGetEvents(self):
        """
        A raw Perspective Broker caller of get_events gets what the
        contract says: a list of event dicts.
        """
        self.successResultOf(self.call("create_engine", "e1"))
        self.successResultOf(self.call("create_book", "AAPL", "e1", "AAPL"))
        self.successResultOf(self.call("create_order", "o1", "AAPL", side="buy", price="12.5", quantity=10))
        self.successResultOf(self.call("submit_order", "o1"))
        events = self.successResultOf(
            self.flushed(self.control.perspective.callRemote("get_events", 2))
        )
        self.assertIsInstance(events, list)
        self.assertEqual([e["type"] for e in events], ["accepted", "added"])
        self.assertEqual(events[0]["price"], "12.50")

    def test_errorsKeepTheirClass(self):
        """
        An error raised by an operation arrives as the same exsim.errors
        class, with its message.
        """
        self.successResultOf(self.call("create_engine", "e1"))
        f = self.failureResultOf(self.call("create_engine", "e1"), errors.DuplicateName)
        self.assertEqual(f.getErrorMessage(), "engine 'e1' already exists")
        f = self.failureResultOf(self.call("create_book", "B", "e2"), errors.UnknownName)
        self.assertEqual(f.getErrorMessage(), "unknown engine 'e2'")
        self.successResultOf(self.call("create_book", "AAPL", "e1"))
        f = self.failureResultOf(
            self.call("set_book_property", "AAPL", "tick_size", "-1"), errors.BadValue
        )
        self.assertIn("tick_size must be a positive decimal", f.getErrorMessage())

    def test_badArguments(self):
        """
        Wrong arguments are a BadValue naming the signature.
        """
        f = self.failureResultOf(self.call("create_engine"), errors.BadValue)
        self.assertIn("create_engine(name, class_name='matching')", f.getErrorMessage())
        f = self.failureResultOf(self.call("get_book", "A", colour="red"), errors.BadValue)
        self.assertIn("colour", f.getErrorMessage())

    def test_internalError(self):
        """
        An unexpected exception is logged by the server and reported as an
        internal error, without a traceback.
        """

        def broken(name):
            raise ZeroDivisionError("oops")

        self.simulator.delete_engine = broken
        f = self.failureResultOf(self.call("delete_engine", "e1"), errors.ExsimError)
        self.assertIn("internal error in delete_engine: oops", f.getErrorMessage())
        self.assertEqual(len(self.flushLoggedErrors(ZeroDivisionError)), 1)

    def test_unknownRemoteError(self):
        """
        An error class the client does not know becomes a RemoteError.
        """

        class Odd(pb.Error):
            pass

        def odd(name):
            raise Odd("strange")

        self.simulator.delete_engine = odd
        # Odd is a pb.Error but not an ExsimError: the avatar reports it
        # as an internal error.
        f = self.failureResultOf(self.call("delete_engine", "e1"), errors.ExsimError)
        self.assertIn("strange", f.getErrorMessage())
        self.flushLoggedErrors(Odd)
        self.assertTrue(issubclass(RemoteError, errors.ExsimError))

    def test_listAndDescribe(self):
        d = self.flushed(self.control.perspective.callRemote("list_operations"))
        self.assertEqual(self.successResultOf(d), list(OPERATIONS))
        d = self.flushed(self.control.perspective.callRemote("describe", "fill_order"))
        self.assertIn("fill_order(order_id, quantity, price, engine=None)", self.successResultOf(d))
        d = self.flushed(self.control.perspective.callRemote("describe", "rm_rf"))
        self.failureResultOf(d)

    def test_pagedEvents(self):
        """
        get_events() with no count drains the whole queue, a page at a
        time.
        """
        for i in range(2500):
            self.simulator.reportEvent("logon", endpoint="x", n=i)
        events = self.successResultOf(self.call("get_events"))
        self.assertEqual([e["n"] for e in events], list(range(2500)))

    def test_eventsSplitBySize(self):
        """
        An answer longer than EVENTS_LIMIT carries fewer events; the rest
        stay queued, in order, and get_events() fetches them too.
        """
        from exsim.control import avatar

        self.patch(avatar, "EVENTS_LIMIT", 2000)
        for i in range(300):
            self.simulator.reportEvent("logon", endpoint="x", n=i)
        first = self.successResultOf(self.call("get_events", 300))
        self.assertLess(len(first), 300)
        self.assertGreater(len(first), 1)
        rest = self.successResultOf(self.call("get_events"))
        self.assertEqual([e["n"] for e in first + rest], list(range(300)))

    def test_lostConnection(self):
        from exsim.client import ServerGone

        self.pump.clientIO.loseConnection()
        self.pump.flush()
        self.failureResultOf(self.call("get_events"), ServerGone)


class MalformedDataTests(unittest.TestCase):
    def test_dropped(self):
        """
        A peer sending data Banana cannot decode is disconnected.
        """
        from twisted.internet.testing import StringTransport

        broker = makeFactory(Simulator(Clock()), UsersChecker({"a": "b"})).buildProtocol(ADDRESS)
        transport = StringTransport()
        broker.makeConnection(transport)
        broker.dataReceived(b"\x1a\x87\xeb6\xf0\xccQ\x92V\x8e\x00\xb5`\x84N\x90n\xa9\x07A")
        self.assertTrue(transport.disconnecting)
        broker.dataReceived(b"more")  # ignored once disconnecting


class ControlServiceTests(unittest.TestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.simulator = Simulator(self.reactor)

    def test_listen(self):
        control = addControlService(
            self.simulator, UsersChecker({"a": "b"}), "tcp:8789:interface=127.0.0.1"
        )
        d = control.whenListening()
        self.assertNoResult(d)
        self.assertRaises(errors.WrongState, control.address)
        self.simulator.startService()
        self.successResultOf(d)
        port, factory, backlog, interface = self.reactor.tcpServers[0]
        self.assertEqual((port, interface), (8789, "127.0.0.1"))
        self.assertIsInstance(factory, pb.PBServerFactory)
        self.assertEqual(control.address()[1], 8789)
        self.assertIs(self.successResultOf(control.whenListening()), control.port)
        self.simulator.stopService()
        self.assertIsNone(control.port)

    def test_badListen(self):
        control = ControlService(self.simulator, UsersChecker({"a": "b"}), "nonsense:1")
        d = control.whenListening()
        self.failureResultOf(control.startListening(), errors.BadValue)
        self.assertNoResult(d)
