# -*- test-case-name: tests.test_control -*-
"""
The management service: a Perspective Broker listener whose L{Portal}
hands logged-in users a L{ControlAvatar} of the simulator.
"""

from twisted.application import service
from twisted.cred import portal
from twisted.internet import defer
from twisted.logger import Logger
from twisted.spread import pb
from zope.interface import implementer

from exsim.control.avatar import ControlAvatar
from exsim.errors import BadValue, WrongState
from exsim.listening import serverEndpoint

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
        return pb.IPerspective, avatar, lambda: None


def makePortal(simulator, checker):
    return portal.Portal(ControlRealm(simulator), [checker])


class ControlBroker(pb.Broker):
    """
    A server-side PB broker that drops a peer sending malformed data
    (Banana raises on it) with one log line, instead of letting the
    exception reach the reactor.
    """

    log = Logger()

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
    """

    protocol = ControlBroker


def makeFactory(simulator, checker):
    """
    A PB server factory serving C{simulator} to users C{checker} accepts.
    """
    return ControlFactory(makePortal(simulator, checker))


class ControlService(service.Service):
    """
    Listens for management clients on an endpoint string.

    @ivar port: the listening port, once listening.
    """

    log = Logger()

    def __init__(self, simulator, checker, listen=DEFAULT_LISTEN, reactor=None):
        self.setName("control")
        self.simulator = simulator
        self.listen = listen
        self.reactor = reactor if reactor is not None else simulator.reactor
        self.factory = makeFactory(simulator, checker)
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
            address = port.getHost()
            self.log.info(
                "management service listening on {host}:{port}",
                host=getattr(address, "host", "?"),
                port=getattr(address, "port", "?"),
            )
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


def addControlService(simulator, checker, listen=DEFAULT_LISTEN):
    """
    Add a management service to C{simulator}: it listens when the
    simulator starts.

    @param checker: an L{ICredentialsChecker} (see
        L{exsim.control.checker.checkerFor}).
    @return: the L{ControlService}.
    """
    control = ControlService(simulator, checker, listen)
    control.setServiceParent(simulator)
    return control
