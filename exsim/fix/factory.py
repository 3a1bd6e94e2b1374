# -*- test-case-name: tests.test_fix_session -*-
"""
The protocol factory of a FIX endpoint: one L{FixConnection} per TCP
connection, one L{FixSession} per counterparty CompID (sessions outlive
connections).
"""

from collections import OrderedDict

from twisted.internet.protocol import ServerFactory
from twisted.logger import Logger
from zope.interface import implementer

from exsim import sessioncontrol
from exsim.fix import control, settings
from exsim.fix.session import CONNECTED, FixConnection, FixSession
from exsim.fix.store import StoreFactory
from exsim.fix.utctime import UTCTimestampFormatter
from exsim.interfaces import IEndpointFactory


@implementer(IEndpointFactory)
class FixFactory(ServerFactory):
    """
    Serves the FIX sessions of one endpoint.

    @ivar endpoint: the L{exsim.endpoint.Endpoint}.
    @ivar application: the L{exsim.interfaces.IFixApplication} behind the
        sessions.
    @ivar sessions: {counterparty CompID: L{FixSession}}.
    @ivar connections: the open L{FixConnection}s.
    @ivar forgotten: {counterparty CompID: (next sender MsgSeqNum, next
        target MsgSeqNum)} of the sessions forgotten after they logged out
        (see L{sessionEnded}): all that is kept of them.
    @ivar loggedOut: {counterparty CompID: L{FixSession}} of the sessions
        that logged out with nothing left for them, oldest logout first:
        remembered up to C{max_logged_out_sessions}, then forgotten.
    """

    log = Logger()

    def __init__(self, endpoint, application):
        self.endpoint = endpoint
        self.application = application
        # The application until shutdown detaches it.
        self._liveApplication = application
        self.reactor = endpoint.reactor
        self.connections = set()
        self.sessions = {}
        self.forgotten = {}
        self.loggedOut = OrderedDict()
        # (Before any session is made: a session keeps one of them.)
        self._millisStamps = UTCTimestampFormatter(millis=True, encoded=True)
        self._secondsStamps = UTCTimestampFormatter(millis=False, encoded=True)
        self._stores = StoreFactory(
            self._storePath(settings.get(endpoint, "store")), settings.get(endpoint, "store_sync")
        )
        self._stores.limit = settings.get(endpoint, "store_limit")
        for compId, store in self._stores.check().items():
            self.sessions[compId] = self._controlled(FixSession(self, compId, store))

    def buildProtocol(self, addr):
        return FixConnection(self)

    def getSession(self, counterparty):
        """
        The session of C{counterparty}, created on first use.
        """
        session = self.sessions.get(counterparty)
        if session is None:
            store = self._stores.open(counterparty)
            numbers = self.forgotten.pop(counterparty, None)
            if numbers is not None:
                # Logged out and forgotten earlier today: the sequence
                # numbers go on (the messages are gone: a resend of them
                # is a GapFill).
                store.setNextSenderSeq(numbers[0])
                store.setNextTargetSeq(numbers[1])
            session = FixSession(self, counterparty, store)
            self.sessions[counterparty] = self._controlled(session)
        return session

    def sessionEnded(self, session, loggedOut):
        """
        The connection of C{session} ended.  A session that logged out (a
        Logout each way) with nothing left for it is remembered (its
        messages for resend, its message journal) among the endpoint's
        last C{max_logged_out_sessions} such sessions; beyond, the one
        that logged out first is forgotten (see L{_forgettable}).  Only
        its sequence numbers are kept (in L{forgotten}, about 100 bytes),
        so that a client logging on again goes on in sequence; a
        ResendRequest for what was sent before is answered with a
        GapFill.  Without this, every CompID that ever logged on (any,
        with C{target_comp_id = *}) kept its session, store and message
        journal for the day: about 8 kB each.
        """
        key = session.targetCompId
        self.loggedOut.pop(key, None)
        if not loggedOut or not self._forgettable(session):
            return
        self.loggedOut[key] = session
        self._forgetBeyond(settings.get(self.endpoint, "max_logged_out_sessions"))

    def _forgetBeyond(self, limit):
        """
        Forget the sessions that logged out first, beyond C{limit}.
        """
        while len(self.loggedOut) > limit:
            _, oldest = self.loggedOut.popitem(last=False)
            if self._forgettable(oldest):
                self._forget(oldest)

    def _forgettable(self, session):
        """
        Whether forgetting C{session} would lose nothing: it is not logged
        on, its store is in memory (a file store keeps the session for the
        day), the application has nothing more for it (the order entry: no
        live order, no open request for quote; never a drop copy or a
        dealer), and it has no session-control state of its own (held or
        delayed messages, faults to come, its own properties).
        """
        if self._stores.directory is not None or session.connection is not None:
            return False
        if self.sessions.get(session.targetCompId) is not session:
            return False
        if not control.forgettable(session):
            return False
        canForget = getattr(self._liveApplication, "canForget", None)
        return canForget is not None and canForget(session)

    def _forget(self, session):
        """
        Forget C{session} but for its sequence numbers.
        """
        del self.sessions[session.targetCompId]
        if session.control is not None:
            session.control.stop()
        store = session.store
        if (store.nextSenderSeq, store.nextTargetSeq) != (1, 1):
            self.forgotten[session.targetCompId] = (store.nextSenderSeq, store.nextTargetSeq)
        forgot = getattr(self._liveApplication, "sessionForgotten", None)
        if forgot is not None:
            forgot(session)

    def _controlled(self, session):
        """
        Give a new session the control its endpoint's latency or throttle
        asks for.
        """
        if control.endpointHasControl(self.endpoint):
            control.refresh(session)
        return session

    def controlledSessions(self):
        """
        Handles of every session (logged on, or remembered) and of every
        connection not logged on yet, for the session-control operations.
        """
        handles = [control.FixSessionHandle(self, session=s) for s in self.sessions.values()]
        for connection in self.connections:
            if connection.session is None and connection.state == CONNECTED:
                handles.append(control.FixSessionHandle(self, connection=connection))
        return handles

    def stamps(self, millis=True):
        """
        The formatter of this endpoint's SendingTimes (an
        L{exsim.fix.utctime.UTCTimestampFormatter} of bytes), with
        milliseconds unless C{millis} is false.
        """
        return self._millisStamps if millis else self._secondsStamps

    def timestamp(self, millis=True):
        """
        The reactor's time as a UTCTimestamp (bytes), with milliseconds
        unless C{millis} is false.
        """
        now = self.reactor.seconds()
        stamps = self._millisStamps if millis else self._secondsStamps
        # (UTCTimestampFormatter.format's first test, inline: most calls
        # end here.)
        if stamps.low <= now < stamps.high:
            return stamps.text
        return stamps.format(now)

    def _storePath(self, spec):
        """
        Where the C{store} property's directory is: under the simulator's
        data directory.
        """
        if spec == "memory":
            return spec
        simulator = getattr(self.endpoint, "simulator", None)
        dataPath = getattr(simulator, "dataPath", None)
        return spec if dataPath is None else dataPath(spec, "store")

    def propertyChanged(self, name, value):
        """
        Session properties are read when used; a new C{store} (or
        C{store_sync}) applies to sessions created from now on.
        """
        if name == "store":
            self._stores = StoreFactory(
                self._storePath(value), settings.get(self.endpoint, "store_sync")
            )
            self._stores.limit = settings.get(self.endpoint, "store_limit")
        elif name == "store_sync":
            self._stores.sync = value
        elif name == "store_limit":
            self._stores.limit = value
            for session in self.sessions.values():
                session.store.setLimit(value)
        elif name == "max_logged_out_sessions":
            self._forgetBeyond(value)
        elif name in control.CONTROL_PROPERTIES:
            for session in self.sessions.values():
                control.refresh(session)
        elif name == "stp_group":
            for session in self.sessions.values():
                sessioncontrol.applyStpGroup(self.endpoint, session.key)

    def shutdown(self):
        """
        Detach the application from the engine (once), log out and drop
        every connection; close the stores.
        """
        application, self._liveApplication = self._liveApplication, None
        if application is not None:
            application.shutdown()
        for connection in list(self.connections):
            connection.shutdown("exsim endpoint %s is closing" % (self.endpoint.name,))
        for session in self.sessions.values():
            if session.control is not None:
                session.control.stop()
            session.store.close()
