# -*- test-case-name: tests.test_soup_session -*-
"""
The server side of SoupBinTCP 4.0.

A L{SoupStream} is one logical session: a name and the sequenced messages
sent on it, kept so that a client logging in again with a requested
sequence number gets the replay from there, then live data.  A connection
(L{SoupServerProtocol}) logs in to a stream chosen by its factory
(L{SoupServerFactory}, subclassed by the OUCH and ITCH endpoints), which
also receives the client's unsequenced data.

Session rules: the first packet must be a Login Request (Debug packets are
ignored everywhere); the server sends a heartbeat after
C{heartbeatInterval} seconds without sending anything and drops a
connection that sent nothing for C{idleTimeout} seconds (logged in or
not); a Logout Request ends the connection; anything else out of place is
a protocol error that ends the connection after a Debug packet saying
why.
"""

from twisted.internet.protocol import Factory, Protocol
from twisted.logger import Logger
from zope.interface import implementer

from exsim import backpressure
from exsim.interfaces import IEndpointFactory
from exsim.listening import noDelay
from exsim.observe.messagelog import IN, OUT, newLog
from exsim.soup import packets
from exsim.soup.packets import SoupProtocolError

DEFAULT_HEARTBEAT_INTERVAL = 1.0
DEFAULT_IDLE_TIMEOUT = 15.0


class SoupStream:
    """
    One SoupBinTCP session: its name and every sequenced message sent on
    it, in order (message N is C{packets[N - 1]}, already framed).

    @ivar name: the session name (at most 10 characters).
    @ivar listeners: the logged-in connections receiving live messages.
    @ivar control: an L{exsim.soup.control.SoupControl} while messages
        wait (latency, holding) before they are numbered, else None.
    """

    def __init__(self, name):
        self.name = name
        self.packets = []
        self.listeners = []
        # (An instance attribute: read for every message.)
        self.control = None

    @property
    def nextSequence(self):
        """
        The sequence number the next message will get.
        """
        return len(self.packets) + 1

    def append(self, payload):
        """
        Number and store one message; send it to every listener (through
        the session's control, if any).
        """
        if self.control is not None:
            self.control.put(payload)
            return
        # (L{publish}, inline: every OUCH reply and ITCH message comes
        # through here.)
        framed = packets.sequenced(payload)
        self.packets.append(framed)
        for listener in self.listeners:
            if listener.control is None:
                listener.sendPacket(framed)
            else:
                listener.control.sequenced(listener, framed)

    def publish(self, payload):
        """
        L{append}, once the session's control lets the message go.
        """
        framed = packets.sequenced(payload)
        self.packets.append(framed)
        for listener in self.listeners:
            if listener.control is None:
                listener.sendPacket(framed)
            else:
                listener.control.sequenced(listener, framed)

    def messages(self, first=1):
        """
        The payloads of messages C{first} onwards (for tests and tools).
        """
        return [p[3:] for p in self.packets[first - 1 :]]


class SoupServerProtocol(Protocol):
    """
    One client connection.

    @ivar stream: the L{SoupStream} logged in to, or C{None}.
    @ivar username: the username logged in with, or C{None}.
    @ivar session: whatever the factory's C{login} attached (the OUCH
        session object), or C{None}.
    @ivar sessionId: the session's id once logged in (C{<endpoint>/<username>}).
    @ivar control: an L{exsim.soup.control.SoupControl} while the session
        has faults to come, holding, latency or throttling, else C{None}.
    """

    log = Logger()

    stream = None
    username = None
    session = None
    sessionId = None
    _disconnectReason = None
    _batch = None
    _heartbeatCall = None
    _timeoutCall = None
    _closing = False
    _guard = None

    def __init__(self, factory):
        self.factory = factory
        self.reactor = factory.reactor
        self._reader = packets.PacketReader(factory.maxPacketLength)
        # (Instance attributes: read for every message.)
        self.control = None
        self._closing = False
        self._batch = None
        endpoint = factory.endpoint
        #: Every packet in and out (L{exsim.observe.messagelog}): the
        #: connection's, or once logged in its OUCH session's.
        self.journal = newLog(
            endpoint, factory.name + "@?", getattr(endpoint, "protocolName", "soup")
        )

    def connectionMade(self):
        noDelay(self.transport)
        self._guard = backpressure.OutputGuard(
            self.transport, backpressure.maxPendingOutput(self.factory.endpoint), self._slowConsumer
        )
        now = self.reactor.seconds()
        self._lastReceived = now
        self._lastSent = now
        self.journal.sessionId = "%s@%s" % (self.factory.name, self._peer())
        self.factory.connections.append(self)
        self._timeoutCall = self.reactor.callLater(self.factory.idleTimeout, self._checkIdle)

    # -- output ------------------------------------------------------------

    def sendPacket(self, data):
        """
        Send framed bytes: at once, or at the end of the current
        C{dataReceived} if one is running (one write per batch of input).
        """
        if self._closing:
            return
        batch = self._batch
        if batch is not None:
            # Journalled when written (L{_flush}).
            batch.append(data)
        else:
            self._write(data)
            self.journal.append((self._lastSent, OUT, data))

    def _flush(self):
        """
        Write what was batched while handling received data, in one write,
        and journal it as one entry of as many messages as were sent
        (after that read's packets, at the time they came in: the write
        answers them all).
        """
        batch = self._batch
        self._batch = None
        if batch and not self._closing:
            data = b"".join(batch)
            self.journal.add((self._lastReceived, OUT, data), len(batch))
            self._write(data)

    def _write(self, data):
        self.transport.write(data)
        self._lastSent = self.reactor.seconds()
        guard = self._guard
        if guard is not None and guard.paused:
            guard.wrote(len(data))

    def _slowConsumer(self, pending):
        """
        More than C{max_pending_output} is unsent: drop the connection at
        once (a stream's messages stay there for a later login to ask for).
        """
        self.log.warn(
            "soup {endpoint} {peer}: slow consumer ({pending} bytes unsent, max_pending_output "
            "{limit}): disconnecting", endpoint=self.factory.name, peer=self._peer(),
            pending=pending, limit=self._guard.limit,
        )
        self.disconnect(backpressure.SLOW_CONSUMER)
        backpressure.dropConnection(self.transport)

    def protocolError(self, text):
        """
        Tell the client what was wrong (a Debug packet) and drop it.
        """
        self.log.warn(
            "soup {endpoint} {peer}: {text}; disconnecting",
            endpoint=self.factory.name,
            peer=self._peer(),
            text=text,
        )
        self.factory.report("protocol_error", username=self.username, text=text)
        self.sendPacket(packets.debug(text))
        self.disconnect("protocol error: %s" % (text,))

    def disconnect(self, reason=None):
        """
        Flush what is queued and close the connection.

        @param reason: why, for the C{session_disconnected} event.
        """
        if self._closing:
            return
        if self._disconnectReason is None:
            self._disconnectReason = reason
        self._flush()
        self._closing = True
        self._detach()
        self.transport.loseConnection()

    def endSession(self, text=None):
        """
        Send End of Session (after a Debug packet with C{text}, if given)
        and close.
        """
        if self.stream is not None and not self._closing and not self._loggedOut:
            self._loggedOut = True
            self.factory.report(
                "session_logout", session=self.sessionId, username=self.username, text=text
            )
        if text:
            self.sendPacket(packets.debug(text))
        self.sendPacket(packets.END_OF_SESSION_PACKET)
        self.disconnect("end of session")

    # -- input -------------------------------------------------------------

    def dataReceived(self, data):
        if self._closing:
            return
        now = self._lastReceived = self.reactor.seconds()
        self._batch = []
        try:
            try:
                received = self._reader.feed(data)
            except SoupProtocolError as e:
                self.journal.append((now, IN, data[:4096]))
                self.protocolError(str(e))
                return
            if received:
                # The read's packets, as they came: one entry.
                self.journal.add((now, IN, self._reader.complete), len(received))
            for item in received:
                if self._closing:
                    break
                self._handle(item[0], item[1])
        finally:
            self._flush()

    def _handle(self, packetType, payload):
        if self.stream is not None:
            if packetType == b"U":
                try:
                    self.factory.unsequencedData(self, payload)
                except SoupProtocolError as e:
                    self.protocolError(str(e))
                return
            if packetType == b"R" or packetType == b"+":
                return
            if packetType == b"O":
                self.factory.report(
                    "session_logout", session=self.sessionId, username=self.username, text=None
                )
                self._loggedOut = True
                self.disconnect("logged out")
                return
            if packetType == b"L":
                self.protocolError("Login Request received while logged in")
                return
            self.protocolError("unexpected packet type %r" % (packetType,))
            return
        if packetType == b"L":
            try:
                request = packets.parseLoginRequest(payload)
            except SoupProtocolError as e:
                self.protocolError(str(e))
                return
            self._login(request)
        elif packetType == b"+":
            return
        else:
            self.protocolError(
                "packet type %r before login (a Login Request must come first)"
                % (packetType,)
            )

    def _login(self, request):
        if not self.factory.endpoint.properties.get("accept_logons", True):
            result = packets.SESSION_NOT_AVAILABLE
            why = "logons are not accepted now (accept_logons = no)"
        else:
            result = self.factory.login(self, request)
            why = None
        if isinstance(result, bytes):
            self.log.info(
                "soup {endpoint}: login of {username!r} rejected ({reason})",
                endpoint=self.factory.name,
                username=request.username,
                reason=result.decode("ascii"),
            )
            self.factory.report(
                "login_rejected",
                username=request.username,
                reason=result.decode("ascii"),
                text=why,
            )
            self.sendPacket(packets.loginRejected(result))
            self.disconnect("login rejected")
            return
        stream, session = result
        self.username = request.username
        self.session = session
        self.sessionId = self.factory.sessionIdOf(self, request.username, session)
        # The session's journal from now on (an OUCH username's outlives
        # its connections), with what came before.
        owned = getattr(session, "journal", None)
        if owned is not None:
            owned.adopt(self.journal)
            self.journal = owned
        else:
            self.journal.identify(self.sessionId)
        nextSequence = stream.nextSequence
        requested = request.sequenceNumber
        if requested == 0 or requested > nextSequence:
            start = nextSequence
        else:
            start = requested
        self.stream = stream
        self.sendPacket(packets.loginAccepted(stream.name, start))
        if start < nextSequence:
            self.sendPacket(b"".join(stream.packets[start - 1 :]))
        stream.listeners.append(self)
        self.log.info(
            "soup {endpoint}: {username!r} logged in to session {session!r} at {seq}",
            endpoint=self.factory.name,
            username=self.username,
            session=stream.name,
            seq=start,
        )
        self.factory.report(
            "session_logon",
            session=self.sessionId,
            username=self.username,
            session_name=stream.name,
            sequence=start,
            peer=self._peer(),
        )
        self.factory.loggedIn(self)
        self._heartbeatCall = self.reactor.callLater(
            self.factory.heartbeatInterval, self._checkHeartbeat
        )

    # -- timers ------------------------------------------------------------

    def _checkHeartbeat(self):
        self._heartbeatCall = None
        if self._closing:
            return
        interval = self.factory.heartbeatInterval
        idle = self.reactor.seconds() - self._lastSent
        if idle >= interval - 1e-6:
            control = self.control
            if control is None or control.heartbeats:
                self.sendPacket(packets.SERVER_HEARTBEAT_PACKET)
            delay = interval
        else:
            delay = interval - idle
        self._heartbeatCall = self.reactor.callLater(delay, self._checkHeartbeat)

    def _checkIdle(self):
        self._timeoutCall = None
        if self._closing:
            return
        timeout = self.factory.idleTimeout
        silence = self.reactor.seconds() - self._lastReceived
        if silence >= timeout - 1e-6:
            self.log.info(
                "soup {endpoint}: nothing from {peer} for {silence:.1f}s; disconnecting",
                endpoint=self.factory.name,
                peer=self._peer(),
                silence=silence,
            )
            self.factory.report("timeout", username=self.username)
            self.disconnect("idle timeout")
            return
        self._timeoutCall = self.reactor.callLater(timeout - silence, self._checkIdle)

    # -- teardown ----------------------------------------------------------

    _loggedOut = False

    def _detach(self):
        for name in ("_heartbeatCall", "_timeoutCall"):
            call = getattr(self, name)
            if call is not None and call.active():
                call.cancel()
            setattr(self, name, None)
        stream = self.stream
        if stream is not None and self in stream.listeners:
            stream.listeners.remove(self)

    def connectionLost(self, reason):
        self._closing = True
        self._detach()
        if self in self.factory.connections:
            self.factory.connections.remove(self)
        if self.stream is not None:
            self.factory.report(
                "session_disconnected",
                session=self.sessionId,
                username=self.username,
                reason=self._disconnectReason or "connection lost",
            )
            self.factory.loggedOut(self)

    def _peer(self):
        try:
            peer = self.transport.getPeer()
            return "%s:%s" % (peer.host, peer.port)
        except Exception:
            return "?"


@implementer(IEndpointFactory)
class SoupServerFactory(Factory):
    """
    Base of the OUCH and ITCH factories: credentials, timers, the live
    connections.  Subclasses implement L{login}, L{unsequencedData},
    L{loggedIn} and L{loggedOut}.

    @ivar endpoint: the L{exsim.endpoint.Endpoint} served.
    @ivar connections: the open L{SoupServerProtocol}s.
    """

    maxPacketLength = 4096

    def __init__(self, endpoint):
        self.endpoint = endpoint
        self.reactor = endpoint.reactor
        self.name = endpoint.name
        self.connections = []

    def buildProtocol(self, addr):
        return SoupServerProtocol(self)

    @property
    def heartbeatInterval(self):
        return self.endpoint.properties.get("heartbeat_interval", DEFAULT_HEARTBEAT_INTERVAL)

    @property
    def idleTimeout(self):
        return self.endpoint.properties.get("idle_timeout", DEFAULT_IDLE_TIMEOUT)

    def report(self, eventType, **fields):
        self.endpoint.report(eventType, **fields)

    def sessionIdOf(self, connection, username, session):
        """
        The id of a session logging in: C{<endpoint>/<username>}, with
        C{#2}, C{#3}... while others of that username are logged in.
        """
        base = "%s/%s" % (self.name, username)
        taken = {c.sessionId for c in self.connections if c is not connection}
        sessionId = base
        n = 1
        while sessionId in taken:
            n += 1
            sessionId = "%s#%d" % (base, n)
        return sessionId

    def checkCredentials(self, request):
        """
        @return: C{None} if C{request}'s username and password are good
            (any are, while the endpoint has no C{users}), else the reject
            reason L{packets.NOT_AUTHORIZED}.
        """
        users = self.endpoint.properties.get("users")
        if not users:
            return None
        if users.get(request.username) != request.password:
            return packets.NOT_AUTHORIZED
        return None

    def login(self, connection, request):
        """
        Decide a login.

        @return: a reject reason (bytes), or (L{SoupStream}, session
            object) to accept.
        """
        raise NotImplementedError()

    def unsequencedData(self, connection, payload):
        """
        Unsequenced Data from a logged-in connection.

        @raise SoupProtocolError: if the payload is malformed (the
            connection is then dropped).
        """
        raise NotImplementedError()

    def loggedIn(self, connection):
        pass

    def loggedOut(self, connection):
        pass

    def propertyChanged(self, name, value):
        """
        Properties are read when used: nothing to do.
        """

    def shutdown(self):
        """
        End every connection with End of Session.
        """
        for connection in list(self.connections):
            connection.endSession()
