# -*- test-case-name: tests.test_soup_control -*-
"""
Session control of SoupBinTCP sessions (OUCH and ITCH): what the
management operations do to them, and their latency, holding, throttling
and faults (L{SoupControl}, the SoupBinTCP side of
L{exsim.sessioncontrol.SessionControl}).

An OUCH session (a username) has its own sequenced stream: its messages
wait (latency, holding) I{before} they are numbered into the stream, so a
client that logs in again gets what was sent, not what still waits.  An
ITCH session is one connection to the feed's shared stream: its packets
wait on the connection.

Faults: C{drop} (the next C{count} sequenced packets are not sent on the
connection; a client that logs in again asking for their sequence number
gets them) and C{duplicate} (the last C{count} sequenced packets are sent
again).  C{gap}, C{garble} and C{resend_request} are FIX's: SoupBinTCP
numbers packets implicitly and has no checksum or resend request.
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim import sessioncontrol
from exsim.errors import BadValue
from exsim.interfaces import IControlledSession
from exsim.sessioncontrol import (
    ACTIVE,
    DISCONNECTED,
    LOGGING_ON,
    SessionControl,
    requireState,
)
from exsim.soup.packets import SoupProtocolError

#: The endpoint properties that change the sessions' control.
CONTROL_PROPERTIES = ("latency", "seed", "throttle", "throttle_action")

#: Faults SoupBinTCP has.
SOUP_FAULTS = ("drop", "duplicate")



class SoupControl(SessionControl):
    """
    The control state of one SoupBinTCP session.

    @ivar stream: the session's own L{exsim.soup.session.SoupStream}
        (OUCH), whose messages wait before they are numbered; C{None} for
        a feed connection (ITCH), whose packets wait on the connection.
    @ivar owner: the object whose C{control} this is besides the stream
        and the connection (the L{exsim.soup.ouch.OuchSession}), or None.
    @ivar connection: the logged-in L{exsim.soup.session.SoupServerProtocol}
        or None.
    """

    log = Logger()

    def __init__(self, endpoint, sessionId, stream=None, owner=None, connection=None):
        SessionControl.__init__(self, endpoint, sessionId)
        self.stream = stream
        self.owner = owner
        self.connection = connection

    def throttleLimit(self):
        if self.owner is None:
            return None  # a feed takes no application messages
        return SessionControl.throttleLimit(self)

    def _install(self):
        for holder in (self.stream, self.owner, self.connection):
            if holder is not None:
                holder.control = self

    def _uninstall(self):
        for holder in (self.stream, self.owner, self.connection):
            if holder is not None and holder.control is self:
                holder.control = None

    def attach(self, connection):
        """
        C{connection} logged in to this session.
        """
        self.connection = connection
        if self.installed:
            connection.control = self

    def detach(self, connection):
        """
        C{connection} is gone.
        """
        if self.connection is connection:
            if connection.control is self:
                connection.control = None
            self.connection = None
            if self.stream is None:
                # A feed connection's session ends with it.
                self.stop()

    # -- outbound ----------------------------------------------------------

    def put(self, payload):
        """
        A message for the session's stream (OUCH): numbered when its
        latency has passed and it is not held.
        """
        queue = self.outbound
        if queue is None:
            self.stream.publish(payload)
        else:
            queue.put(payload)

    def sequenced(self, connection, framed):
        """
        A numbered packet for C{connection}: dropped, delayed (feed) or
        sent.
        """
        if self.drop:
            self.drop -= 1
            self.settle()
            return
        if self.stream is None and self.outbound is not None:
            self.outbound.put(framed)
            return
        connection.sendPacket(framed)

    def _release(self, items):
        if self.stream is not None:
            for payload in items:
                self.stream.publish(payload)
        elif self.connection is not None:
            self.connection.sendPacket(b"".join(items))
        self.settle()

    # -- inbound -----------------------------------------------------------

    def _deliver(self, payload):
        connection = self.connection
        try:
            self.owner.handle(payload)
        except SoupProtocolError as e:
            if connection is not None:
                connection.protocolError(str(e))
        self.settle()

    def _describe(self, payload):
        return {"msg_type": payload[:1].decode("latin-1")}

    def _disconnect(self, text):
        if self.connection is not None:
            self.connection.endSession(text)

    def _refuse(self, payload, text):
        try:
            self.owner.refuse(payload, text)
        except SoupProtocolError as e:
            if self.connection is not None:
                self.connection.protocolError(str(e))


@implementer(IControlledSession)
class SoupSessionHandle:
    """
    A SoupBinTCP session as the management operations see it: an OUCH
    session (logged in or not), a logged-in feed connection, or a
    connection that has not logged in yet (id C{<endpoint>@<peer>}).
    """

    def __init__(self, factory, connection=None, owner=None):
        """
        @param owner: the L{exsim.soup.ouch.OuchSession}, for OUCH.
        """
        self.factory = factory
        self.endpoint = factory.endpoint
        self.protocol = self.endpoint.protocolName
        self.owner = owner
        if owner is not None:
            connection = owner.connection
            self.sessionId = owner.owner
        elif connection.sessionId is not None:
            self.sessionId = connection.sessionId
        else:
            self.sessionId = "%s@%s" % (self.endpoint.name, connection._peer())
        self.connection = connection

    @property
    def state(self):
        c = self.connection
        if c is None or c._closing:
            return DISCONNECTED
        if c.stream is None:
            return LOGGING_ON
        return ACTIVE

    @property
    def _stream(self):
        if self.owner is not None:
            return self.owner.stream
        if self.connection is not None:
            return self.connection.stream
        return None

    def _control(self):
        """
        The session's L{SoupControl}: installed, or a new one.
        """
        if self.owner is not None:
            return controlOfOuch(self.owner)
        connection = self.connection
        if connection.control is not None:
            return connection.control
        return SoupControl(self.endpoint, self.sessionId, connection=connection)

    def describe(self):
        c = self.connection
        stream = self._stream
        result = {
            "session": self.sessionId,
            "endpoint": self.endpoint.name,
            "protocol": self.protocol,
            "peer": c._peer() if c is not None and not c._closing else None,
            "state": self.state,
            "username": self.owner.username if self.owner is not None else (c.username if c else None),
            "session_name": stream.name if stream is not None else None,
            "next_seq": stream.nextSequence if stream is not None else None,
        }
        control = self.owner.control if self.owner is not None else (c.control if c else None)
        result.update(
            control.describe() if control is not None else sessioncontrol.plainDescription()
        )
        return result

    # -- operations --------------------------------------------------------

    def disconnect(self):
        requireState(self, (LOGGING_ON, ACTIVE), "disconnect_session")
        self.connection.disconnect("disconnect_session")

    def logout(self, text=None):
        requireState(self, (ACTIVE,), "logout_session")
        self.connection.endSession(text)

    def sendRaw(self, data):
        requireState(self, (LOGGING_ON, ACTIVE), "send_raw")
        self.connection.sendPacket(sessioncontrol.rawBytes(data))

    def injectFault(self, fault, count):
        if fault not in SOUP_FAULTS:
            raise BadValue(
                "fault %r is FIX's: a %s session takes %s"
                % (fault, self.protocol, " or ".join(SOUP_FAULTS))
            )
        requireState(self, (ACTIVE,), "inject_fault")
        if fault == "drop":
            control = self._control()
            control.drop += count
            control.settle()
        else:
            sent = self.connection.stream.packets
            if count > len(sent):
                raise BadValue(
                    "session %r has sent only %d sequenced packet(s), not %d"
                    % (self.sessionId, len(sent), count)
                )
            self.connection.sendPacket(b"".join(sent[-count:]))
        self.endpoint.report("session_fault", session=self.sessionId, fault=fault, count=count)

    def setProperty(self, name, value):
        if name in ("next_in_seq", "next_out_seq"):
            raise BadValue(
                "%s is a FIX session property: SoupBinTCP numbers packets implicitly" % (name,)
            )
        if name == "stp_group":
            if self.owner is None:
                raise BadValue(
                    "stp_group is a property of order entry sessions, not of %s's" % (self.protocol,)
                )
            sessioncontrol.setSessionStpGroup(self.endpoint, self.owner.owner, value)
            return
        if self.owner is None:
            requireState(self, (ACTIVE,), "set_session_property")
        control = self._control()
        if name == "hold":
            control.setHold(value)
        elif name == "heartbeats":
            control.setHeartbeats(value)
        elif name == "latency":
            control.setLatency(value)
        else:  # pragma: no cover (checked by the caller)
            raise BadValue("unknown session property %r" % (name,))


def controlOfOuch(session):
    """
    The L{SoupControl} of an L{exsim.soup.ouch.OuchSession}: installed, or
    a new one.
    """
    control = session.control
    if control is None:
        control = SoupControl(
            session.factory.endpoint, session.owner, stream=session.stream, owner=session,
            connection=session.connection,
        )
    return control


def endpointHasControl(endpoint):
    properties = endpoint.properties
    return properties.get("latency") is not None or properties.get("throttle") is not None

