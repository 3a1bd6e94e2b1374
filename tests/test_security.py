"""
Safe defaults and the security messages (issue 16; issue 11, defects 3
and 4): refused management logins logged as one line and slowed down per
peer, management connections dropped when they do not log in, bounded
connections on every listener, warnings for listeners on every interface
and for a management password equal to its user name, FIX credentials
tied to CompIDs.
"""

from twisted.cred import error as credError
from twisted.internet.address import IPv4Address
from twisted.internet.task import Clock
from twisted.internet.testing import MemoryReactorClock, StringTransport
from twisted.logger import Logger, globalLogPublisher
from twisted.spread import pb
from twisted.test import iosim
from twisted.trial import unittest

from exsim import config
from exsim.client import login
from exsim.control.checker import LoginGuard, UsersChecker
from exsim.control.service import ControlService, makeFactory
from exsim.endpoint import ConnectionLimit
from exsim.service import Simulator
from exsim.testing import ConnectionClosed, FixClient, startServer


class _Events:
    """
    Collects the log events of the global publisher during a test.
    """

    def __init__(self, testCase):
        self.events = []
        globalLogPublisher.addObserver(self.events.append)
        testCase.addCleanup(globalLogPublisher.removeObserver, self.events.append)

    def texts(self, level=None):
        from twisted.logger import formatEvent

        return [formatEvent(e) for e in self.events
                if level is None or e.get("log_level") == level]


class _Creds:
    """
    Credentials as Perspective Broker gives them: a user name, a password
    check, and the broker (for the peer).
    """

    def __init__(self, username, password, host="10.1.2.3", port=5000):
        from twisted.cred.credentials import UsernamePassword

        self._inner = UsernamePassword(username.encode(), password.encode())
        self.username = self._inner.username
        transport = StringTransport(peerAddress=IPv4Address("TCP", host, port))
        self.broker = type("Broker", (), {"transport": transport, "logins": []})()
        self.broker.loggedIn = self.broker.logins.append

    def checkPassword(self, password):
        return self._inner.checkPassword(password)


class LoginGuardTests(unittest.TestCase):
    def setUp(self):
        self.clock = Clock()
        self.guard = LoginGuard(UsersChecker({"admin": "secret"}), self.clock)
        self.logged = []
        self.guard.log = Logger(observer=self.logged.append)

    def attempt(self, password, host="10.1.2.3"):
        return self.guard.requestAvatarId(_Creds("admin", password, host))

    def test_oneLinePerFailure(self):
        """
        A refused login is one warning naming the user and the peer.
        """
        self.failureResultOf(self.attempt("wrong"), credError.UnauthorizedLogin)
        self.assertEqual(len(self.logged), 1)
        from twisted.logger import formatEvent

        text = formatEvent(self.logged[0])
        self.assertIn("user 'admin' from 10.1.2.3:5000", text)
        self.assertIn("1 failed in a row", text)

    def test_growingDelay(self):
        """
        After each failure the peer's next attempt waits twice as long
        (0.25 s, 0.5 s, 1 s, ...); other peers are not slowed; a success
        clears the count and tells the broker.
        """
        self.failureResultOf(self.attempt("w1"), credError.UnauthorizedLogin)
        d = self.attempt("w2")
        self.assertNoResult(d)
        self.clock.advance(0.24)
        self.assertNoResult(d)
        self.clock.advance(0.01)
        self.failureResultOf(d, credError.UnauthorizedLogin)
        d = self.attempt("w3")
        self.clock.advance(0.49)
        self.assertNoResult(d)
        self.clock.advance(0.01)
        self.failureResultOf(d, credError.UnauthorizedLogin)
        self.assertEqual(self.successResultOf(self.attempt("secret", host="10.9.9.9")), "admin")
        creds = _Creds("admin", "secret")
        d = self.guard.requestAvatarId(creds)
        self.clock.advance(1.0)
        self.assertEqual(self.successResultOf(d), "admin")
        self.assertEqual(creds.broker.logins, ["admin"])
        self.assertEqual(self.successResultOf(self.attempt("secret")), "admin")

    def test_attemptsSentAtOnceAreSpaced(self):
        """
        Attempts sent together after a failure are checked one delay
        apart: a peer cannot try many passwords in parallel.
        """
        self.failureResultOf(self.attempt("w1"), credError.UnauthorizedLogin)
        ds = [self.attempt("w%d" % i) for i in range(3)]
        self.clock.advance(0.25)
        self.failureResultOf(ds[0], credError.UnauthorizedLogin)
        self.assertNoResult(ds[1])
        self.clock.advance(0.25)
        self.failureResultOf(ds[1], credError.UnauthorizedLogin)
        self.assertNoResult(ds[2])
        self.clock.advance(0.5)
        self.failureResultOf(ds[2], credError.UnauthorizedLogin)

    def test_delayBounded(self):
        self.assertEqual([self.guard.delay(n) for n in (0, 1, 2, 3, 50)], [0, 0.25, 0.5, 1.0, 5.0])


ADDRESS = IPv4Address("TCP", "127.0.0.1", 40000)


class ControlConnectionTests(unittest.TestCase):
    """
    The management service's connections, over in-memory PB.
    """

    def setUp(self):
        self.clock = Clock()
        self.simulator = Simulator(self.clock)
        self.server = makeFactory(self.simulator, UsersChecker({"admin": "secret"}),
                                  loginTimeout=10, maxConnections=3)
        self.log = _Events(self)

    def connect(self, port=40000):
        address = IPv4Address("TCP", "127.0.0.1", port)
        client = pb.PBClientFactory()
        server = self.server.buildProtocol(address)
        if server is None:
            return None, None, None
        protocol = client.buildProtocol(address)
        pump = iosim.connect(
            server, iosim.FakeTransport(server, True, peerAddress=address),
            protocol, iosim.FakeTransport(protocol, False, hostAddress=address),
        )
        return client, pump, server

    def test_wrongPasswordIsOneLine(self):
        """
        A wrong password reaches the client as UnauthorizedLogin and the
        log as one warning line, with no traceback ("Unhandled Error").
        """
        client, pump, server = self.connect()
        d = login(client, "admin", "nope")
        pump.flush()
        self.failureResultOf(d, credError.UnauthorizedLogin)
        self.assertEqual(self.flushLoggedErrors(), [])
        refused = [t for t in self.log.texts() if "login refused" in t]
        self.assertEqual(len(refused), 1)
        self.assertIn("user 'admin' from 127.0.0.1:40000", refused[0])
        self.assertFalse([t for t in self.log.texts() if "Traceback" in t or "PB traceback" in t])

    def test_loginTimeout(self):
        """
        A connection that sends nothing (or junk that is not a login) and
        has not logged in after login_timeout seconds is dropped; one that
        logged in stays.
        """
        idle, idlePump, idleServer = self.connect(40001)
        client, pump, server = self.connect(40002)
        self.successResultOf(self._login(client, pump))
        self.clock.advance(9.9)
        self.assertFalse(idleServer.transport.disconnecting)
        self.clock.advance(0.1)
        self.assertTrue(idleServer.transport.disconnecting)
        self.assertFalse(server.transport.disconnecting)
        self.assertTrue([t for t in self.log.texts() if "did not log in within 10 s" in t])

    def _login(self, client, pump):
        d = login(client, "admin", "secret")
        pump.flush()
        return d

    def test_maxConnections(self):
        """
        Beyond max_connections, a new connection replaces the oldest one
        that has not logged in; with every connection logged in it is
        refused.
        """
        a = self.connect(40001)
        b = self.connect(40002)
        c = self.connect(40003)
        self.successResultOf(self._login(b[0], b[1]))
        d = self.connect(40004)
        self.assertIsNotNone(d[2])
        self.assertTrue(a[2].transport.disconnecting)
        self.assertEqual(len(self.server.brokers), 3)
        self.successResultOf(self._login(c[0], c[1]))
        self.successResultOf(self._login(d[0], d[1]))
        self.assertEqual(self.connect(40005), (None, None, None))
        self.assertTrue([t for t in self.log.texts() if "refusing a management connection" in t])


class ListenerWarningTests(unittest.TestCase):
    def setUp(self):
        self.reactor = MemoryReactorClock()
        self.simulator = Simulator(self.reactor)
        self.simulator.create_engine("e1")
        self.log = _Events(self)

    def test_endpointOnAllInterfaces(self):
        """
        An endpoint listening on every interface is a warning naming it
        and saying how to bind to loopback; one on 127.0.0.1 is not.
        """
        self.simulator.startService()
        self.addCleanup(self.simulator.stopService)
        self.simulator.create_endpoint("open", "e1", "fix", listen="tcp:18801")
        self.simulator.create_endpoint("closed", "e1", "fix", listen="tcp:18802:interface=127.0.0.1")
        warnings = self.log.texts(level=_warn())
        self.assertEqual(len([w for w in warnings if "all interfaces" in w]), 1, warnings)
        [warning] = [w for w in warnings if "all interfaces" in w]
        self.assertIn("endpoint open listens on all interfaces (tcp:18801)", warning)
        self.assertIn(":interface=127.0.0.1", warning)

    def test_controlWarnings(self):
        """
        The management service says how to connect; it warns when it
        listens on every interface and when a password is its user's name
        (the built-in configuration's admin:admin).
        """
        control = ControlService(self.simulator, UsersChecker({"admin": "admin"}), "tcp:8789",
                                 reactor=self.reactor)
        self.successResultOf(control.startListening())
        texts = self.log.texts()
        self.assertTrue([t for t in texts if "exsimctl --connect tcp:127.0.0.1:8789 --user admin" in t],
                        texts)
        warnings = self.log.texts(level=_warn())
        self.assertTrue([w for w in warnings if "management service listens on all interfaces" in w])
        self.assertTrue([w for w in warnings if "management user 'admin' has the password 'admin'" in w])

    def test_defaultConfigurationWarns(self):
        """
        The built-in configuration's admin:admin is warned about at start.
        """
        from exsim import tap

        options = tap.Options()
        options.parseOptions([])
        simulator = tap.makeService(options, self.reactor)
        control = simulator.getServiceNamed("control")
        self.successResultOf(control.startListening())
        warnings = self.log.texts(level=_warn())
        self.assertTrue([w for w in warnings if "has the password 'admin'" in w], warnings)
        simulator.stopService()


def _warn():
    from twisted.logger import LogLevel

    return LogLevel.warn


class WireConnectionLimitTests(unittest.TestCase):
    def test_maxConnections(self):
        """
        An endpoint's max_connections refuses connections beyond it (one
        log line) and counts closed ones out.
        """
        reactor = MemoryReactorClock()
        simulator = Simulator(reactor)
        simulator.create_engine("e1")
        simulator.create_endpoint("fix1", "e1", "fix", max_connections=2)
        simulator.start_endpoint("fix1")
        limit = reactor.tcpServers[0][1]
        self.assertIsInstance(limit, ConnectionLimit)
        first = limit.buildProtocol(ADDRESS)
        first.makeConnection(StringTransport())
        second = limit.buildProtocol(ADDRESS)
        second.makeConnection(StringTransport())
        self.assertIsNone(limit.buildProtocol(ADDRESS))
        first.connectionLost(None)
        self.assertEqual(limit.open, 1)
        self.assertIsNotNone(limit.buildProtocol(ADDRESS))
        self.assertRaises(Exception, simulator.set_protocol_property, "fix1", "max_connections", "0")

    def test_configKeys(self):
        """
        [control] login_timeout and max_connections reach the service.
        """
        sections = config.parse(
            "[control]\nusers = a:b\nlogin_timeout = 2.5\nmax_connections = 7\n", "sim.ini"
        )
        settings = config.apply(sections, Simulator(MemoryReactorClock()))
        self.assertEqual(settings.control["options"], {"loginTimeout": 2.5, "maxConnections": 7})
        bad = config.parse("[control]\nusers = a:b\nmax_connections = none\n", "sim.ini")
        e = self.assertRaises(config.ConfigError, config.apply, bad, Simulator(MemoryReactorClock()))
        self.assertIn("sim.ini:3", str(e))


class FixCredentialsTests(unittest.TestCase):
    """
    FIX Username/Password tied to CompIDs, end to end with FixClient.
    """

    def test_credentialsTiedToCompIds(self):
        server = startServer(self)
        server.create_engine("e1")
        server.create_endpoint("fix1", "e1", "fix")
        server.set_protocol_property("fix1", "users", "alice:pa:ALICE,bob:pb")
        server.start_endpoint("fix1")
        address = server.get_endpoint_address("fix1")
        mallory = FixClient(*address, sender_comp_id="ALICE", username="bob", password="pb")
        self.addCleanup(mallory.close)
        e = self.assertRaises(ConnectionClosed, mallory.logon)
        self.assertIn("user bob may not log on as SenderCompID ALICE", str(e))
        nobody = FixClient(*address, sender_comp_id="ALICE")
        self.addCleanup(nobody.close)
        e = self.assertRaises(ConnectionClosed, nobody.logon)
        self.assertIn("invalid Username (553) or Password (554)", str(e))
        alice = FixClient(*address, sender_comp_id="ALICE", username="alice", password="pa")
        self.addCleanup(alice.close)
        alice.logon()
        bob = FixClient(*address, sender_comp_id="bob", username="bob", password="pb")
        self.addCleanup(bob.close)
        bob.logon()
        alice.logout()
        bob.logout()


class ControlPortSocketTests(unittest.TestCase):
    """
    The management service on real sockets: idle connections beyond
    max_connections do not keep a user out, junk is dropped after
    login_timeout.
    """

    def test_idleConnectionsDoNotBlockLogin(self):
        """
        300 idle connections (the limit is 64; issue 11's campaign): a
        legitimate login still succeeds at once.
        """
        import socket
        import time

        from exsim.client import API

        server = startServer(self)
        idle = []
        try:
            for _ in range(300):
                idle.append(socket.create_connection(server.address, timeout=5))
            start = time.monotonic()
            with API(timeout=10).connect(server.endpoint, server.user, server.password) as c:
                c.create_engine("e1")
            self.assertLess(time.monotonic() - start, 5)
            server.create_book("AAPL", "e1", "AAPL")  # e1 exists: the login worked
        finally:
            for s in idle:
                s.close()

    def test_junkDroppedAfterLoginTimeout(self):
        """
        A connection sending text that is not a login is dropped when
        login_timeout runs out.
        """
        from twisted.internet import defer, protocol, reactor
        from twisted.internet.endpoints import TCP4ClientEndpoint, connectProtocol

        simulator = Simulator(reactor)
        control = ControlService(simulator, UsersChecker({"a": "b"}), "tcp:0:interface=127.0.0.1",
                                 reactor=reactor, loginTimeout=0.3)
        d = control.startListening()

        class Junk(protocol.Protocol):
            def __init__(self):
                self.lost = defer.Deferred()

            def connectionMade(self):
                self.transport.write(b"hello there\r\n")

            def connectionLost(self, reason):
                self.lost.callback(reactor.seconds())

        junk = Junk()

        def listening(port):
            self.addCleanup(control.stopService)
            ep = TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
            return connectProtocol(ep, junk)

        def connected(_):
            started = reactor.seconds()
            return junk.lost.addCallback(lambda at: self.assertTrue(0.2 <= at - started < 5))

        return d.addCallback(listening).addCallback(connected)
