# -*- test-case-name: tests.test_control -*-
"""
The management service: a Perspective Broker listener whose L{Portal}
hands logged-in users a L{ControlAvatar} of the simulator.
"""

from twisted.application import service
from twisted.cred import portal
from twisted.cred.error import UnauthorizedLogin
from twisted.internet import defer
from twisted.logger import Logger
from twisted.spread import pb
from zope.interface import implementer

from exsim.control.avatar import ControlAvatar
from exsim.control.checker import LoginGuard
from exsim.errors import BadValue, WrongState
from exsim.listening import allInterfaces, serverEndpoint

#: Where the management service listens unless told otherwise.
DEFAULT_LISTEN = "tcp:8789:interface=127.0.0.1"


@implementer(portal.IRealm)
class ControlRealm:
    """
    Gives every logged-in user a L{ControlAvatar} of one simulator.
    """

    def __init__(self, simulator):
        self.simulator = simulator

    def requestAvatar(self, avatarId, mind, *interfaces):
        if pb.IPerspective not in interfaces:
            raise NotImplementedError("the management service speaks only Perspective Broker")
        avatar = ControlAvatar(self.simulator, avatarId)
        return pb.IPerspective, avatar, avatar.logout


def makePortal(simulator, checker):
    return portal.Portal(ControlRealm(simulator), [checker])


#: Seconds a management connection may take to log in.
DEFAULT_LOGIN_TIMEOUT = 10.0

#: Management connections open at once, at most.
DEFAULT_MAX_CONNECTIONS = 64


class ControlBroker(pb.Broker):
    """
    A server-side PB broker that drops a peer sending malformed data
    (Banana raises on it) with one log line, instead of letting the
    exception reach the reactor; drops a peer that has not logged in
    within the factory's C{loginTimeout}; and reports a refused login to
    its peer without logging a traceback (L{LoginGuard} logs one line).

    @ivar avatarId: the user logged in on this connection, or None.
    """

    log = Logger()
    avatarId = None
    _loginTimer = None

    def connectionMade(self):
        pb.Broker.connectionMade(self)
        factory = self.factory
        self.connectedAt = factory.reactor.seconds()
        factory.brokers.append(self)
        timeout = factory.loginTimeout
        if timeout:
            self._loginTimer = factory.reactor.callLater(timeout, self._loginTimedOut)

    def loggedIn(self, avatarId):
        """
        Called (by L{LoginGuard}) once a login on this connection succeeded.
        """
        self.avatarId = avatarId
        if self._loginTimer is not None and self._loginTimer.active():
            self._loginTimer.cancel()
        self._loginTimer = None

    def _peer(self):
        peer = self.transport.getPeer()
        return "%s:%s" % (getattr(peer, "host", peer), getattr(peer, "port", "?"))

    def _loginTimedOut(self):
        self._loginTimer = None
        if self.avatarId is None and not self.disconnected:
            self.log.info(
                "management connection from {peer} did not log in within {timeout:g} s; "
                "dropping it", peer=self._peer(), timeout=self.factory.loginTimeout,
            )
            self.transport.abortConnection()

    def connectionLost(self, reason):
        if self._loginTimer is not None and self._loginTimer.active():
            self._loginTimer.cancel()
        self._loginTimer = None
        try:
            self.factory.brokers.remove(self)
        except ValueError:
            pass
        pb.Broker.connectionLost(self, reason)

    def _sendFailure(self, fail, requestID):
        if fail.check(UnauthorizedLogin) is not None:
            # The caller's business, already logged as one line.
            self._sendError(fail, requestID)
            return
        pb.Broker._sendFailure(self, fail, requestID)

    def dataReceived(self, data):
        if self.disconnected or self.transport is None or getattr(self.transport, "disconnecting", False):
            return
        try:
            pb.Broker.dataReceived(self, data)
        except Exception as e:
            peer = self.transport.getPeer()
            self.log.warn(
                "malformed management data from {peer}: {error}; dropping the connection",
                peer=getattr(peer, "host", peer),
                error=("%s: %s" % (type(e).__name__, e))[:200],
            )
            self.transport.loseConnection()


class ControlFactory(pb.PBServerFactory):
    """
    The management service's protocol factory.

    At most C{maxConnections} connections are open: a new one beyond that
    replaces the oldest connection that has not logged in (so idle or
    junk connections cannot keep a user out), and is refused only when
    every open connection is logged in.

    @ivar brokers: the open L{ControlBroker}s, oldest first.
    """

    protocol = ControlBroker
    log = Logger()
    # No "Starting factory <repr>" lines.
    noisy = False

    def logPrefix(self):
        return "management service"

    def __init__(self, root, reactor=None, loginTimeout=DEFAULT_LOGIN_TIMEOUT,
                 maxConnections=DEFAULT_MAX_CONNECTIONS):
        pb.PBServerFactory.__init__(self, root)
        if reactor is None:
            from twisted.internet import reactor
        self.reactor = reactor
        self.loginTimeout = loginTimeout
        self.maxConnections = maxConnections
        self.brokers = []

    def buildProtocol(self, addr):
        if self.maxConnections and len(self.brokers) >= self.maxConnections:
            idle = [b for b in self.brokers if b.avatarId is None and not b.disconnected]
            if not idle:
                self.log.warn(
                    "refusing a management connection from {peer}: max_connections "
                    "({count}) are open and logged in", peer=getattr(addr, "host", addr),
                    count=self.maxConnections,
                )
                return None
            oldest = idle[0]
            self.log.info(
                "max_connections ({count}) management connections open: dropping {peer}, "
                "which has not logged in, for a new one", count=self.maxConnections,
                peer=oldest._peer(),
            )
            self.brokers.remove(oldest)
            oldest.transport.abortConnection()
        return pb.PBServerFactory.buildProtocol(self, addr)


def makeFactory(simulator, checker, reactor=None, loginTimeout=DEFAULT_LOGIN_TIMEOUT,
                maxConnections=DEFAULT_MAX_CONNECTIONS):
    """
    A PB server factory serving C{simulator} to users C{checker} accepts
    (behind a L{LoginGuard}).
    """
    if reactor is None:
        reactor = simulator.reactor
    guard = LoginGuard(checker, reactor)
    factory = ControlFactory(makePortal(simulator, guard), reactor, loginTimeout, maxConnections)
    factory.guard = guard
    return factory


class ControlService(service.Service):
    """
    Listens for management clients on an endpoint string.

    @ivar port: the listening port, once listening.
    """

    log = Logger()

    def __init__(self, simulator, checker, listen=DEFAULT_LISTEN, reactor=None,
                 loginTimeout=DEFAULT_LOGIN_TIMEOUT, maxConnections=DEFAULT_MAX_CONNECTIONS):
        self.setName("control")
        self.simulator = simulator
        self.listen = listen
        self.reactor = reactor if reactor is not None else simulator.reactor
        self.checker = checker
        self.factory = makeFactory(simulator, checker, self.reactor, loginTimeout, maxConnections)
        self.port = None
        self._listening = None
        self._waiting = []

    def startService(self):
        service.Service.startService(self)
        self._listening = self.startListening()
        self._listening.addErrback(self._ebListen)

    def _ebListen(self, failure):
        self.log.failure("management service cannot listen", failure)
        # Nothing can manage this simulator: stop rather than run blind.
        if hasattr(self.reactor, "stop") and getattr(self.reactor, "running", False):
            self.reactor.stop()

    def startListening(self):
        """
        Listen now.

        @return: a Deferred firing with the port.
        """
        try:
            endpoint = serverEndpoint(self.reactor, self.listen)
        except (ValueError, TypeError, KeyError) as e:
            return defer.fail(BadValue("bad control listen endpoint %r: %s" % (self.listen, e)))
        d = endpoint.listen(self.factory)

        def listening(port):
            self.port = port
            self._announce(port.getHost())
            for waiter in self._waiting:
                waiter.callback(port)
            self._waiting = []
            return port

        def failed(f):
            waiting, self._waiting = self._waiting, []
            for waiter in waiting:
                waiter.errback(f)
            return f

        return d.addCallbacks(listening, failed)

    def _announce(self, address):
        """
        Log where the service listens and how to connect; warn about a
        listener on every interface and a password equal to its user name
        (the built-in configuration's C{admin:admin}).
        """
        host = getattr(address, "host", "?")
        port = getattr(address, "port", "?")
        users = sorted(getattr(self.checker, "users", {}))
        user = users[0] if len(users) == 1 else "NAME"
        connectHost = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        if self.listen.split(":", 1)[0].strip().lower() == "ssl":
            connect = "ssl:host=%s:port=%s:caCertsDir=CA_DIR:hostname=NAME" % (connectHost, port)
        else:
            connect = "tcp:%s:%s" % (connectHost, port)
        self.log.info(
            "management service listening on {host}:{port}; connect with: "
            "exsimctl --connect {connect} --user {user} list",
            host=host, port=port, connect=connect, user=user,
        )
        if allInterfaces(self.listen):
            self.log.warn(
                "the management service listens on all interfaces ({listen}): anyone who "
                "can reach this machine may try to log in; add :interface=127.0.0.1 to "
                "listen on loopback only", listen=self.listen,
            )
        for name in users:
            if self.checker.users[name] == name:
                self.log.warn(
                    "management user {user!r} has the password {user!r} (as in the built-in "
                    "configuration): change it ([control] users or password_file) before "
                    "anyone else can reach port {port}", user=name, port=port,
                )

    def whenListening(self):
        """
        A Deferred firing with the port once listening.
        """
        if self.port is not None:
            return defer.succeed(self.port)
        d = defer.Deferred()
        self._waiting.append(d)
        return d

    def address(self):
        """
        The (host, port) bound.

        @raise WrongState: if not listening.
        """
        if self.port is None:
            raise WrongState("the management service is not listening")
        host = self.port.getHost()
        return (host.host, host.port)

    def stopService(self):
        service.Service.stopService(self)
        port, self.port = self.port, None
        if port is not None:
            return port.stopListening()
        return None


def addControlService(simulator, checker, listen=DEFAULT_LISTEN, **options):
    """
    Add a management service to C{simulator}: it listens when the
    simulator starts.

    @param checker: an L{ICredentialsChecker} (see
        L{exsim.control.checker.checkerFor}).
    @param options: C{loginTimeout}, C{maxConnections} (L{ControlService}).
    @return: the L{ControlService}.
    """
    control = ControlService(simulator, checker, listen, **options)
    control.setServiceParent(simulator)
    return control
