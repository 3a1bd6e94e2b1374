# -*- test-case-name: tests.test_fix_control -*-
"""
Session control of FIX sessions: what the management operations
C{list_sessions}, C{disconnect_session}, C{logout_session}, C{send_raw},
C{inject_fault} and C{set_session_property} do to a FIX session, and the
latency, holding, throttling and faults of one session
(L{FixControl}, the FIX side of L{exsim.sessioncontrol.SessionControl}).

Outbound application messages of a session with latency or holding wait
I{before} they are numbered: a Heartbeat or any other administrative
message sent meanwhile keeps the sequence in order on the wire, and a
ResendRequest is answered with what was sent.  Messages waiting when the
connection drops are numbered and stored when their time comes, so the
counterparty gets them by resend after it logs on again.

Faults:

 - C{gap}: the next C{count} MsgSeqNums are skipped (never messages: a
   ResendRequest for them gets a SequenceReset-GapFill);
 - C{drop}: the next C{count} application messages are numbered and
   stored but not sent;
 - C{duplicate}: the last C{count} application messages are sent again
   with PossDupFlag=Y and OrigSendingTime;
 - C{garble}: the next C{count} application messages go out with a wrong
   CheckSum (and are stored correctly);
 - C{resend_request}: a ResendRequest for the last C{count} messages
   received.
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim import sessioncontrol
from exsim.errors import BadValue, WrongState
from exsim.fix.session import CLOSED, CONNECTED, LOGGED_ON
from exsim.fix.session import LOGGING_OUT as CONNECTION_LOGGING_OUT
from exsim.interfaces import IControlledSession
from exsim.sessioncontrol import (
    ACTIVE,
    DISCONNECTED,
    LOGGING_ON,
    LOGGING_OUT,
    SessionControl,
    requireState,
)

#: FixConnection states -> session states.
_STATES = {
    CONNECTED: LOGGING_ON,
    LOGGED_ON: ACTIVE,
    CONNECTION_LOGGING_OUT: LOGGING_OUT,
    CLOSED: DISCONNECTED,
}

#: The endpoint properties that change the sessions' control.
CONTROL_PROPERTIES = ("latency", "seed", "throttle", "throttle_action")

#: BusinessRejectReason (380) of a throttled message: Other.
THROTTLE_BUSINESS_REASON = 0


def garbled(data):
    """
    C{data} (one framed FIX message) with a wrong CheckSum.
    """
    head, tail = data[:-4], data[-4:-1]
    return head + b"%03d\x01" % ((int(tail) + 1) % 256,)



class FixControl(SessionControl):
    """
    The control state of one L{exsim.fix.session.FixSession}; installed as
    its C{control} while needed.
    """

    log = Logger()

    def __init__(self, session):
        SessionControl.__init__(self, session.endpoint, session.key)
        self.session = session

    def _install(self):
        self.session.control = self

    def _uninstall(self):
        if self.session.control is self:
            self.session.control = None

    # -- outbound ----------------------------------------------------------

    def app(self, msgType, body):
        """
        An outbound application message (in place of the session's own
        sending): through the latency queue if any, else at once.

        @return: its MsgSeqNum, or None while it waits.
        """
        queue = self.outbound
        if queue is not None:
            queue.put((msgType, body))
            return None
        seq, data = self._number(msgType, body)
        if data is not None:
            self.session.connection.write(data)
        return seq

    def _number(self, msgType, body):
        """
        Number and store a message; frame it unless it is dropped or no
        connection is up.

        @return: (MsgSeqNum, the bytes to write or None).
        """
        session = self.session
        store = session.store
        seq = store.nextSenderSeq
        ts = session.timestamp()
        store.saveMessage(seq, msgType, ts, body)
        c = session.connection
        if c is None or c.state == CLOSED:
            return seq, None
        if self.drop:
            self.drop -= 1
            self.log.info("{session}: dropped MsgSeqNum {seq} (fault)", session=self.sessionId, seq=seq)
            self.settle()
            return seq, None
        data = session._frame(msgType, seq, ts, body)
        if self.garble:
            self.garble -= 1
            data = garbled(data)
            self.settle()
        return seq, data

    def _release(self, items):
        out = []
        for msgType, body in items:
            data = self._number(msgType, body)[1]
            if data is not None:
                out.append(data)
        c = self.session.connection
        if out and c is not None:
            c.write(b"".join(out))
        self.settle()

    # -- inbound -----------------------------------------------------------

    def _deliver(self, message):
        session = self.session
        c = session.connection
        if c is not None and c.session is session:
            c._fromApp(message)
        else:
            # The connection is gone; the message was received in
            # sequence, so the venue still acts on it.
            try:
                session.factory.application.fromApp(session, message)
            except Exception:
                self.log.failure("{session}: application failed on a queued message", session=self.sessionId)
        self.settle()

    def _describe(self, message):
        return {"msg_type": message.msgType, "seq_num": message.seqNum}

    def _disconnect(self, text):
        c = self.session.connection
        if c is not None:
            c.logout(text)
            c.disconnect(text)

    def _refuse(self, message, text):
        session = self.session
        refuse = getattr(session.factory.application, "refuse", None)
        if refuse is not None and refuse(session, message, text):
            return
        session.sendBusinessReject(message.seqNum, message.msgType, THROTTLE_BUSINESS_REASON, text)


def controlOf(session):
    """
    The L{FixControl} of C{session}: its installed one, or a new one (not
    installed until it is needed).
    """
    control = session.control
    if control is None:
        control = FixControl(session)
    return control


def refresh(session):
    """
    Bring C{session}'s control in line with its endpoint's properties.
    """
    controlOf(session).refresh()


def forgettable(session):
    """
    Whether C{session} has no session-control state of its own (see
    L{exsim.sessioncontrol.SessionControl.personal}).
    """
    control = session.control
    return control is None or not control.personal


def endpointHasControl(endpoint):
    """
    Whether the endpoint's properties give every session a control.
    """
    properties = endpoint.properties
    return (
        properties.get("latency") is not None or properties.get("throttle") is not None
    )


@implementer(IControlledSession)
class FixSessionHandle:
    """
    A FIX session as the management operations see it: a
    L{exsim.fix.session.FixSession} (logged on or remembered), or a
    connection that has not logged on yet (id C{<endpoint>@<peer>}).
    """

    protocol = "fix"

    def __init__(self, factory, session=None, connection=None):
        self.factory = factory
        self.endpoint = factory.endpoint
        self.session = session
        if session is not None:
            self.connection = session.connection
            self.sessionId = session.key
        else:
            self.connection = connection
            self.sessionId = "%s@%s" % (self.endpoint.name, connection._peer)

    @property
    def state(self):
        c = self.connection
        if c is None:
            return DISCONNECTED
        return _STATES.get(c.state, DISCONNECTED)

    def describe(self):
        session = self.session
        c = self.connection
        result = {
            "session": self.sessionId,
            "endpoint": self.endpoint.name,
            "protocol": self.protocol,
            "peer": c._peer if c is not None else None,
            "state": self.state,
        }
        if session is None:
            result.update(
                begin_string=None, sender_comp_id=None, target_comp_id=None,
                next_in_seq=None, next_out_seq=None, heartbeat_interval=None,
            )
            result.update(sessioncontrol.plainDescription())
            return result
        store = session.store
        result.update(
            begin_string=session.beginString,
            # As the counterparty sends them.
            sender_comp_id=session.targetCompId,
            target_comp_id=session.senderCompId,
            next_in_seq=store.nextTargetSeq,
            next_out_seq=store.nextSenderSeq,
            heartbeat_interval=c.heartBtInt if c is not None else None,
        )
        control = session.control
        result.update(
            control.describe() if control is not None else sessioncontrol.plainDescription()
        )
        return result

    def _report(self, fault, count):
        self.endpoint.report("session_fault", session=self.sessionId, fault=fault, count=count)

    # -- operations --------------------------------------------------------

    def disconnect(self):
        requireState(self, (LOGGING_ON, ACTIVE, LOGGING_OUT), "disconnect_session")
        self.connection.disconnect("disconnect_session")

    def logout(self, text=None):
        requireState(self, (ACTIVE,), "logout_session")
        self.connection.logout(text)

    def sendRaw(self, data):
        requireState(self, (LOGGING_ON, ACTIVE, LOGGING_OUT), "send_raw")
        self.connection.write(sessioncontrol.rawBytes(data, fix=True))

    def injectFault(self, fault, count):
        requireState(self, (ACTIVE,), "inject_fault")
        session = self.session
        store = session.store
        if fault == "gap":
            store.setNextSenderSeq(store.nextSenderSeq + count)
        elif fault == "drop":
            control = controlOf(session)
            control.drop += count
            control.settle()
        elif fault == "garble":
            control = controlOf(session)
            control.garble += count
            control.settle()
        elif fault == "duplicate":
            messages = store.lastMessages(count)
            if len(messages) < count:
                raise BadValue(
                    "session %r has only %d stored application message(s) to duplicate, not %d"
                    % (self.sessionId, len(messages), count)
                )
            now = session.timestamp()
            self.connection.write(
                b"".join(
                    session._frame(msgType, seq, now, body, resend=origTime)
                    for seq, msgType, origTime, body in messages
                )
            )
        elif fault == "resend_request":
            received = store.nextTargetSeq - 1
            if count > received:
                raise BadValue(
                    "session %r has received %d message(s): cannot ask for the last %d again"
                    % (self.sessionId, received, count)
                )
            session.sendAdmin("2", [(7, received - count + 1), (16, received)])
        self._report(fault, count)

    def setProperty(self, name, value):
        session = self.session
        if session is None:
            raise WrongState(
                "session %r has not logged on: it has no session properties yet" % (self.sessionId,)
            )
        store = session.store
        if name == "next_in_seq":
            store.setNextTargetSeq(value)
        elif name == "next_out_seq":
            store.setNextSenderSeq(value)
        elif name == "hold":
            controlOf(session).setHold(value)
        elif name == "heartbeats":
            controlOf(session).setHeartbeats(value)
        elif name == "latency":
            controlOf(session).setLatency(value)
        elif name == "stp_group":
            sessioncontrol.setSessionStpGroup(self.endpoint, session.key, value)
        else:  # pragma: no cover (checked by the caller)
            raise BadValue("unknown session property %r" % (name,))
