# -*- test-case-name: tests.test_service -*-
"""
An endpoint: one listener (an endpoint string), one protocol factory, one
engine.
"""

from twisted.application import service
from twisted.internet import defer
from twisted.internet.interfaces import ILoggingContext, IProtocolFactory
from twisted.logger import Logger
from twisted.python.components import registerAdapter
from zope.interface import implementer

from exsim.backpressure import parseMaxPendingOutput
from exsim.errors import BadValue, WrongState
from exsim.interfaces import IEndpointFactory
from exsim.listening import allInterfaces, serverEndpoint
from exsim.observe import messagelog
from exsim.roles import roleOf

DEFAULT_LISTEN = "tcp:0:interface=127.0.0.1"


@implementer(IEndpointFactory, IProtocolFactory)
class PlainFactory:
    """
    A plain Twisted protocol factory as an L{IEndpointFactory} (the
    adapter registered below): a third-party protocol family may build
    one; it has no properties to apply and closes nothing on shutdown
    beyond what stopping the listener does.
    """

    def __init__(self, factory):
        self.factory = factory

    def buildProtocol(self, addr):
        return self.factory.buildProtocol(addr)

    def doStart(self):
        self.factory.doStart()

    def doStop(self):
        self.factory.doStop()

    def propertyChanged(self, name, value):
        pass

    def shutdown(self):
        return None


registerAdapter(PlainFactory, IProtocolFactory, IEndpointFactory)

#: Properties every endpoint accepts, whatever its protocol (the message
#: journal's: L{exsim.observe.messagelog}).
COMMON_PROPERTIES = (
    "listen", "users", "max_connections", "max_pending_output", "message_log", "message_log_size",
)


@implementer(IProtocolFactory, ILoggingContext)
class ConnectionLimit:
    """
    What an endpoint listens with: its factory, counting open connections
    and refusing one beyond the endpoint's C{max_connections} (if set),
    with one log line.  Only building and losing a connection pass here:
    the connection's data goes straight to its protocol.

    @ivar open: the connections open now.
    """

    log = Logger()

    def __init__(self, endpoint, factory):
        self.endpoint = endpoint
        self.factory = factory
        self.open = 0
        # Twisted would log "Starting factory <repr>" for each.
        if hasattr(factory, "noisy"):
            factory.noisy = False

    def logPrefix(self):
        """
        How Twisted names the listener in its port lines.
        """
        return "%s (%s)" % (self.endpoint.name, self.endpoint.protocolName)

    def doStart(self):
        self.factory.doStart()

    def doStop(self):
        self.factory.doStop()

    def buildProtocol(self, addr):
        limit = self.endpoint.properties.get("max_connections")
        if limit is not None and self.open >= limit:
            self.log.warn(
                "endpoint {name}: refusing a connection from {peer}: max_connections ({limit}) "
                "are open", name=self.endpoint.name, peer=getattr(addr, "host", addr), limit=limit,
            )
            return None
        protocol = self.factory.buildProtocol(addr)
        if protocol is not None:
            self.open += 1
            lost = protocol.connectionLost

            def connectionLost(reason=None):
                self.open -= 1
                del protocol.connectionLost
                return lost(reason) if reason is not None else lost()

            protocol.connectionLost = connectionLost
        return protocol


def _maxConnections(value):
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise BadValue("max_connections must be a whole number of at least 1, not %r" % (value,))
    return number


class Users(dict):
    """
    The C{users} of an endpoint: {name: password}.

    @ivar compIds: {name: frozenset of the CompIDs the user may log on
        as}, for users given as C{name:password:COMPID} (FIX endpoints);
        a user without an entry may log on only as its own name.
    """

    def __init__(self, passwords=(), compIds=None):
        dict.__init__(self, passwords)
        self.compIds = dict(compIds or {})

    def allowedCompIds(self, name):
        """
        The CompIDs user C{name} may log on as.
        """
        return self.compIds.get(name) or frozenset([name])


def parseUsers(value, compIds=False):
    """
    Parse C{name:password,name2:password2} into a L{Users} dict.  With
    C{compIds} (FIX endpoints), an entry may be C{name:password:COMPID}
    (the text after the password's last colon): the user may log on only
    as that CompID (repeat the user for several); without one, only as
    its own name.

    @raise BadValue: for an entry without a colon or an empty name, or a
        user given twice with different passwords.
    """
    if isinstance(value, Users):
        return Users(value, value.compIds)
    if isinstance(value, dict):
        return Users(value)
    users = Users()
    allowed = {}
    for entry in str(value).split(","):
        entry = entry.strip()
        if not entry:
            continue
        name, sep, password = entry.partition(":")
        name = name.strip()
        if not sep or not name:
            raise BadValue(
                "users must be name:password%s entries separated by commas"
                % ("[:COMPID]" if compIds else "",)
            )
        compId = None
        if compIds and ":" in password:
            password, _, compId = password.rpartition(":")
            compId = compId.strip()
            if not compId:
                raise BadValue("users: %r names an empty CompID" % (entry,))
        password = password.strip()
        if users.get(name, password) != password:
            raise BadValue("users: %r is given twice with different passwords" % (name,))
        users[name] = password
        if compId is not None:
            allowed.setdefault(name, set()).add(compId)
    users.compIds = {name: frozenset(ids) for name, ids in allowed.items()}
    return users


class Endpoint(service.Service):
    """
    A wire endpoint of the simulator.

    @ivar engine: the L{exsim.interfaces.IEngine} orders go to.
    @ivar protocol: the L{exsim.interfaces.IProtocolFamily} spoken.
    @ivar properties: the properties set so far (normalised values).
    @ivar factory: the protocol factory, once listening.
    """

    log = Logger()

    def __init__(self, name, engine, protocol, reactor, simulator=None):
        self.setName(name)
        self.engine = engine
        self.engineName = getattr(engine, "name", None)
        self.protocol = protocol
        self.protocolName = protocol.name
        self.reactor = reactor
        self.simulator = simulator
        self.properties = {"listen": DEFAULT_LISTEN}
        #: {owner: stp_group} of the sessions with their own (session
        #: property C{stp_group}).
        self.stpGroups = {}
        #: The L{exsim.observe.messagelog.EndpointLogs} of its sessions,
        #: once one has a log.
        self.messageLogs = None
        self.factory = None
        self.port = None
        #: The server endpoint to listen on when the simulator starts
        #: (L{exsim.service.Simulator.listenAtStart}), or None.
        self.heldListen = None
        #: Where the configuration set C{listen}, C{(file, line)}, if it
        #: did: named when the endpoint cannot listen at start.
        self.listenOrigin = None
        self._carry(
            getattr(protocol, "maxQuantity", None), getattr(protocol, "maxPrice", None)
        )

    def _carry(self, quantity, price):
        """
        Tell the engine the largest quantity and price this protocol can
        carry (None, None: this endpoint no longer bounds them), so that it
        accepts no order some feed of it could not publish.
        """
        setCarried = getattr(self.engine, "setCarried", None)
        if setCarried is not None:
            setCarried(self.name, quantity, price)

    def setProperty(self, name, value):
        """
        Set a property, checked by the protocol.

        @raise BadValue: for an unknown name or a bad value.
        """
        if name == "listen":
            value = str(value).strip()
            if not value:
                raise BadValue("listen must be an endpoint string")
        elif name == "users":
            value = parseUsers(value, getattr(self.protocol, "userCompIds", False))
        elif name == "max_connections":
            value = _maxConnections(value)
        elif name == "max_pending_output":
            value = parseMaxPendingOutput(value)
        elif name in messagelog.PROPERTIES:
            value = messagelog.PROPERTIES[name](value)
            previous = self.properties.get(name, messagelog.DEFAULTS[name])
            self.properties[name] = value
            try:
                messagelog.logsOf(self).configure()
            except BadValue:
                self.properties[name] = previous
                raise
            return
        elif name in self.protocol.propertyNames():
            value = self.protocol.parseProperty(name, value)
        else:
            known = sorted(set(COMMON_PROPERTIES) | set(self.protocol.propertyNames()))
            raise BadValue(
                "unknown %s endpoint property %r (known: %s)"
                % (self.protocolName, name, ", ".join(known))
            )
        self.properties[name] = value
        if self.factory is not None:
            self.factory.propertyChanged(name, value)

    def report(self, eventType, **fields):
        """
        Tell the simulator about a session event (logon, logout, disconnect,
        reject sent or received, ...): it reaches the control event queue
        as C{{"type": eventType, "endpoint": name, **fields}}.  Field values
        must be plain (text, numbers, booleans, None).
        """
        logs = self.messageLogs
        if logs is not None:
            logs.event(eventType, fields)
        if self.simulator is not None:
            self.simulator.reportEvent(eventType, endpoint=self.name, **fields)

    def get(self, name, default=None):
        return self.properties.get(name, default)

    @property
    def listening(self):
        return self.port is not None

    def listen(self):
        """
        Start listening on the C{listen} endpoint string (when the
        simulator starts, if it is to bind its ports then:
        L{exsim.service.Simulator.listenAtStart}).

        @return: a Deferred firing with the listening port (None when held
            for the simulator's start).
        """
        if self.port is not None or self.heldListen is not None:
            return defer.fail(WrongState("endpoint %r is already listening" % self.name))
        if self.messageLogs is not None:
            try:
                self.messageLogs.configure()
            except BadValue:
                return defer.fail()
        if self.factory is None:
            try:
                self.factory = roleOf(
                    self.protocol.buildFactory(self), IEndpointFactory,
                    "the %s endpoint %r" % (self.protocolName, self.name),
                )
            except BadValue:
                return defer.fail()
        try:
            ep = serverEndpoint(self.reactor, self.properties["listen"])
        except (ValueError, TypeError, KeyError) as e:
            return defer.fail(
                BadValue("bad listen endpoint %r: %s" % (self.properties["listen"], e))
            )
        self.limit = ConnectionLimit(self, self.factory)
        simulator = self.simulator
        if getattr(simulator, "listenAtStart", False) and not simulator.running:
            # Everything is checked but the port itself: it is bound when
            # the simulator starts (twistd: after its start-up lines, as
            # Twisted's own strports services do).
            self.heldListen = ep
            return defer.succeed(None)
        return self._listenOn(ep)

    def listenHeld(self):
        """
        Listen now if L{listen} held it for the simulator's start.

        @return: a Deferred firing with the port (None if nothing was
            held), or failing with a L{BadValue} saying why it cannot.
        """
        ep, self.heldListen = self.heldListen, None
        if ep is None:
            return defer.succeed(None)
        return self._listenOn(ep)

    def _listenOn(self, ep):
        d = ep.listen(self.limit)

        def listening(port):
            self.port = port
            # Endpoints that listen before the simulator runs are
            # announced by it once it runs (after twistd's start-up lines).
            if self.simulator is None or getattr(self.simulator, "running", True):
                self.announce()
            return port

        def failed(f):
            if f.check(BadValue):
                return f
            raise BadValue(
                "endpoint %r cannot listen on %r: %s"
                % (self.name, self.properties["listen"], f.getErrorMessage())
            )

        return d.addCallbacks(listening, failed)

    def announce(self):
        """
        Log where this endpoint listens (one line); warn when it listens on
        every interface.
        """
        address = self.port.getHost()
        self.log.info(
            "{name} ({protocol}) listening on {host}:{port}",
            name=self.name,
            protocol=self.protocolName,
            host=getattr(address, "host", "?"),
            port=getattr(address, "port", "?"),
        )
        if allInterfaces(self.properties["listen"]):
            self.log.warn(
                "endpoint {name} listens on all interfaces ({listen}): anyone who can "
                "reach this machine can connect; add :interface=127.0.0.1 to listen on "
                "loopback only", name=self.name, listen=self.properties["listen"],
            )

    def address(self):
        """
        The (host, port) actually bound.

        @raise WrongState: if not listening.
        """
        if self.port is None:
            if self.heldListen is not None:
                raise WrongState(
                    "endpoint %r listens when the simulator starts" % (self.name,)
                )
            raise WrongState("endpoint %r is not listening" % (self.name,))
        host = self.port.getHost()
        return (host.host, host.port)

    def startService(self):
        service.Service.startService(self)

    def stopService(self):
        service.Service.stopService(self)
        return self.close()

    def close(self):
        """
        Stop listening and drop every connection; the engine no longer
        bounds orders by what this protocol carries.
        """
        self._carry(None, None)
        self.heldListen = None
        ds = []
        if self.factory is not None:
            ds.append(defer.maybeDeferred(self.factory.shutdown))
        if self.port is not None:
            port, self.port = self.port, None
            ds.append(defer.maybeDeferred(port.stopListening))
        d = defer.gatherResults(ds, consumeErrors=True)
        return d.addCallback(self._closeLogs)

    def _closeLogs(self, ignored=None):
        """
        Close the message log files (the last Logout written): listening
        again opens them again.
        """
        if self.messageLogs is not None:
            self.messageLogs.close()
