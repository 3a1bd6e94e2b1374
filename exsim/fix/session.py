# -*- test-case-name: tests.test_fix_session -*-
"""
The FIX session layer: logon, logout, heartbeats, sequence numbers, resend
and gap fill, validation and session-level rejects.

A L{FixSession} (one per counterparty CompID on an endpoint) holds what
outlives a connection: sequence numbers and the message store.  A
L{FixConnection} is the Twisted protocol of one TCP connection; after a
successful Logon it is attached to its session.

The rules followed are those of the FIX session protocol (FIX 4.2/4.4
"Session Protocol" chapter, FIXT.1.1): a garbled message is discarded
without advancing the expected MsgSeqNum; too high a MsgSeqNum queues the
message and requests a resend; too low without PossDupFlag ends the
session; PossDup duplicates are ignored.
"""

from zlib import adler32

from twisted.internet.protocol import Protocol
from twisted.logger import Logger
from zope.interface import implementer

from exsim import backpressure
from exsim.fix import codec, dictionary, settings
from exsim.fix.dictionary import (
    COMPID_PROBLEM,
    INVALID_APPL_VER_ID,
    REQUIRED_TAG_MISSING,
    SENDING_TIME_ACCURACY,
    TAG_WITHOUT_VALUE,
    VALUE_OUT_OF_RANGE,
)
from exsim.fix.utctime import parseUTCTimestamp
from exsim.interfaces import IFixEncodedSession, IFixSession
from exsim.listening import noDelay
from exsim.observe.messagelog import IN, OUT, newLog

byteSum = codec.byteSum
CHECKSUM_FIELDS = codec.CHECKSUM_FIELDS

# Connection states.
CONNECTED = "connected"
LOGGED_ON = "logged_on"
LOGGING_OUT = "logging_out"
CLOSED = "closed"

#: Seconds of slack on top of HeartBtInt ("reasonable transmission time")
#: as a fraction of HeartBtInt, and at least this many seconds.
TRANSMISSION_FRACTION = 0.2
TRANSMISSION_MINIMUM = 1.0

#: Messages with too high a MsgSeqNum kept while waiting for a gap to be
#: filled; a counterparty that runs further ahead is logged out.
MAX_QUEUED = 100000

#: EndSeqNo meaning "everything after BeginSeqNo".
INFINITY_OLD = 999999

#: The header fields every message is checked for: SenderCompID,
#: TargetCompID, SendingTime, PossDupFlag, ApplVerID.
_PROCESS_TAGS = (49, 56, 52, 43, 1128)


#: Routing fields and their reverse: OnBehalfOfCompID/SubID/LocationID
#: (115/116/144) <-> DeliverToCompID/SubID/LocationID (128/129/145).
_REVERSE_ROUTE = (
    (115, b"128"),
    (116, b"129"),
    (144, b"145"),
    (128, b"115"),
    (129, b"116"),
    (145, b"144"),
)

#: The messages that answer the one being handled carry its routing
#: reversed: Heartbeat (to a TestRequest), Reject, Logout, Logon,
#: BusinessMessageReject.
_ROUTED_REPLIES = frozenset([b"0", b"3", b"5", b"A", b"j"])


def reverseRoute(message):
    """
    The routing fields of C{message} reversed, encoded (C{128=X SOH} for a
    received C{115=X}, and so on); empty values are not copied.
    """
    get = message.getBytes
    return b"".join(
        b"%s=%s\x01" % (reverse, value)
        for tag, reverse in _REVERSE_ROUTE
        for value in (get(tag),)
        if value
    )


@implementer(IFixSession, IFixEncodedSession)
class FixSession:
    """
    One FIX session: a counterparty CompID on an endpoint.

    @ivar store: the session's L{exsim.fix.store.MemoryStore} (or file
        store): sequence numbers and sent application messages.
    @ivar connection: the logged-on L{FixConnection}, or None.
    """

    log = Logger()

    def __init__(self, factory, counterparty, store):
        self.factory = factory
        self.endpoint = factory.endpoint
        self.key = "%s/%s" % (self.endpoint.name, counterparty)
        self.targetCompId = counterparty
        sender = settings.get(self.endpoint, "sender_comp_id")
        self.senderCompId = None if sender == settings.ANY else sender
        self.beginString = None
        self.applVerId = None
        self.dictionary = None
        self.store = store
        self.connection = None
        self._prefix = b""
        self._compIds = b""
        self._millis = True
        # (factory.timestamp(self._millis)'s formatter, for sendEncoded.)
        self._stamps = factory.stamps(True)
        #: The session's L{exsim.fix.control.FixControl} while it has
        #: latency, holding, throttling or faults to come; else None (the
        #: hot paths test this and go on).
        self.control = None
        #: Every message in and out (L{exsim.observe.messagelog}).
        self.journal = newLog(self.endpoint, self.key, "fix")

    def __repr__(self):
        return "<FixSession %s>" % (self.key,)

    @property
    def loggedOn(self):
        c = self.connection
        return c is not None and c.state == LOGGED_ON

    def attach(self, connection, beginString, applVerId, senderCompId):
        """
        Bind a connection that has just logged on.
        """
        self.connection = connection
        self.beginString = beginString
        self.applVerId = applVerId
        self.senderCompId = senderCompId
        self.dictionary = dictionary.forVersion(beginString, applVerId)
        self._prefix = b"8=" + beginString.encode("ascii") + b"\x019="
        self._compIds = (
            b"\x0149=" + senderCompId.encode() + b"\x0156=" + self.targetCompId.encode() + b"\x0134="
        )
        # FIX 4.0 and 4.1 timestamps have whole seconds.
        self._millis = beginString not in ("FIX.4.0", "FIX.4.1")
        self._stamps = self.factory.stamps(self._millis)

    def detach(self):
        self.connection = None

    # -- sending -------------------------------------------------------------

    def timestamp(self):
        return self.factory.timestamp(self._millis)

    def _frame(self, msgType, seqNum, sendingTime, body, resend=None):
        """
        Encode a message with the session's header.

        @param resend: the OrigSendingTime of a resent message, or None.
        """
        if resend is None:
            msg = b"35=%s%s%d\x0152=%s\x01%s" % (
                msgType, self._compIds, seqNum, sendingTime, body,
            )
        else:
            msg = b"35=%s%s%d\x0143=Y\x0152=%s\x01122=%s\x01%s" % (
                msgType, self._compIds, seqNum, sendingTime, resend, body,
            )
        msg = b"%s%d\x01%s" % (self._prefix, len(msg), msg)
        return b"%s10=%03d\x01" % (msg, codec.byteSum(msg))

    def _send(self, msgType, body, keep):
        """
        Number, store and (if connected) write a message.

        @param msgType: bytes.
        @param body: the encoded body (bytes).
        @param keep: True to store it for resend (application messages);
            false for administrative messages, which a resend replaces by
            a gap fill.
        @return: the MsgSeqNum used.
        """
        c = self.connection
        if c is not None and c.current is not None and msgType in _ROUTED_REPLIES:
            body = reverseRoute(c.current) + body
        if keep and self.control is not None:
            return self.control.app(msgType, body)
        store = self.store
        seq = store.nextSenderSeq
        ts = self.timestamp()
        if keep:
            store.saveMessage(seq, msgType, ts, body)
        else:
            store.setNextSenderSeq(seq + 1)
        c = self.connection
        if c is not None and self._prefix:
            c.write(self._frame(msgType, seq, ts, body))
        return seq

    def sendApp(self, msgType, fields):
        """
        See L{IFixSession.sendApp}.
        """
        if isinstance(msgType, str):
            msgType = msgType.encode("ascii")
        return self._send(msgType, codec.encodeFields(fields), True)

    def sendEncoded(self, msgType, body):
        """
        See L{IFixEncodedSession.sendEncoded}.  (L{_send} for an
        application message, inline: this is the hot path.)
        """
        if self.control is not None:
            return self.control.app(msgType, body)
        store = self.store
        seq = store.nextSenderSeq
        # (self.factory.timestamp(self._millis), inline: the formatter's
        # text while the time is inside it, as its format tests first.)
        now = self.factory.reactor.seconds()
        stamps = self._stamps
        if stamps.low <= now < stamps.high:
            ts = stamps.text
        else:
            ts = stamps.format(now)
        store.saveMessage(seq, msgType, ts, body)
        c = self.connection
        if c is not None and self._prefix:
            msg = b"35=%s%s%d\x0152=%s\x01%s" % (msgType, self._compIds, seq, ts, body)
            msg = b"%s%d\x01%s" % (self._prefix, len(msg), msg)
            # (byteSum, inline for a message of up to 515 ASCII bytes.)
            if len(msg) <= 515 and msg.isascii():
                data = msg + CHECKSUM_FIELDS[((adler32(msg) & 0xFFFF) - 1) & 255]
            else:
                data = msg + CHECKSUM_FIELDS[byteSum(msg)]
            # c.write(data), inline for the usual case: received data
            # being handled, what is sent collected.
            batch = c._batch
            if batch is not None and c.state != CLOSED:
                batch.append(data)
            else:
                c.write(data)
        return seq

    def sendAdmin(self, msgType, fields):
        """
        Send an administrative message (not kept for resend).
        """
        return self._send(msgType.encode("ascii"), codec.encodeFields(fields), False)

    def _filtered(self, msgType, fields):
        """
        Keep only the fields this version defines for C{msgType}, and enum
        values it knows (older versions lack tags added later).
        """
        d = self.dictionary
        spec = d.messages.get(msgType) if d is not None else None
        if spec is None:
            return fields
        return [
            (tag, value)
            for tag, value in fields
            if tag in spec.tags and d.hasEnum(tag, str(value))
        ]

    def sendSessionReject(self, refSeqNum, reason, text, refTagId=None, refMsgType=None):
        """
        See L{IFixSession.sendSessionReject}.
        """
        fields = [(45, refSeqNum)]
        if refTagId is not None:
            fields.append((371, refTagId))
        if refMsgType is not None:
            fields.append((372, refMsgType))
        if reason is not None:
            fields.append((373, reason))
        if text:
            fields.append((58, text))
        self.sendAdmin("3", self._filtered("3", fields))
        self.log.info(
            "{session}: sent Reject of MsgSeqNum {ref}: {text}",
            session=self.key,
            ref=refSeqNum,
            text=text,
        )
        self.endpoint.report(
            "reject_sent",
            session=self.key,
            ref_seq_num=refSeqNum,
            reason=reason,
            ref_tag_id=refTagId,
            ref_msg_type=refMsgType,
            text=text,
        )

    def sendBusinessReject(self, refSeqNum, refMsgType, reason, text, refId=None):
        """
        See L{IFixSession.sendBusinessReject}.  FIX 4.0 and 4.1 have no
        BusinessMessageReject: they get a session Reject instead.
        """
        if self.dictionary is not None and "j" not in self.dictionary.messages:
            self.sendSessionReject(refSeqNum, None, text, None, refMsgType)
            return
        fields = [(45, refSeqNum), (372, refMsgType)]
        if refId is not None:
            fields.append((379, refId))
        fields.append((380, reason))
        if text:
            fields.append((58, text))
        self.sendApp("j", fields)
        self.endpoint.report(
            "reject_sent",
            session=self.key,
            ref_seq_num=refSeqNum,
            reason=reason,
            ref_msg_type=refMsgType,
            text=text,
            business=True,
        )

    def resend(self, begin, end):
        """
        Serve a ResendRequest: resend stored application messages with
        PossDupFlag=Y and OrigSendingTime; replace everything else by
        SequenceReset-GapFill.
        """
        c = self.connection
        if c is None:
            return
        last = self.store.nextSenderSeq - 1
        if end == 0 or end > last or (end == INFINITY_OLD and self.beginString in ("FIX.4.0", "FIX.4.1")):
            end = last
        if begin < 1 or begin > end:
            self.log.info(
                "{session}: nothing to resend for {begin}..{end} (last sent {last})",
                session=self.key,
                begin=begin,
                end=end,
                last=last,
            )
            return
        now = self.timestamp()
        write = c.write
        seq = begin
        for stored in self.store.getMessages(begin, end) + [(end + 1, None, None, None)]:
            storedSeq, msgType, origTime, body = stored
            if storedSeq > seq:
                # seq .. storedSeq-1 are not stored: one gap fill.
                write(
                    self._frame(
                        b"4",
                        seq,
                        now,
                        b"123=Y\x0136=%d\x01" % (storedSeq,),
                        resend=now,
                    )
                )
            if msgType is None:
                break
            write(self._frame(msgType, storedSeq, now, body, resend=origTime))
            seq = storedSeq + 1

    def reset(self):
        """
        Both sequence numbers back to 1; stored messages forgotten.
        """
        self.store.reset()


class FixConnection(Protocol):
    """
    One TCP connection to a FIX endpoint.

    @ivar session: the L{FixSession} once logged on, else None.
    @ivar state: L{CONNECTED}, L{LOGGED_ON}, L{LOGGING_OUT} or L{CLOSED}.
    """

    log = Logger()

    def __init__(self, factory):
        self.factory = factory
        self.reactor = factory.reactor
        self.session = None
        self.state = CONNECTED
        self.heartBtInt = 0
        self.lastReceived = self.lastSent = 0
        self._testRequestAt = None
        self._logoutAt = None
        self._timer = None
        self._queue = {}
        self._resendEnd = None
        self._framer = codec.Framer(settings.get(factory.endpoint, "max_message_size"))
        self._peer = "?"
        self._disconnectReason = None
        #: Whether the session logged out (a Logout each way) before the
        #: connection ended: then it may be forgotten (see
        #: L{exsim.fix.factory.FixFactory.sessionEnded}).
        self._loggedOutCleanly = False
        self._guard = None
        # While received data is handled, what we send is collected here
        # and written once at the end (one transport write per read).
        self._batch = None
        # The messages of the read being handled, journalled together
        # (L{_journalIn}), and the time the first came in.
        self._inRaws = []
        self._inTime = None
        self._applVerId = None
        self._lastSendingTime = None
        self._lastSendingSeconds = None
        #: The message being handled (replies to it are routed back).
        self.current = None
        #: Every message in and out (L{exsim.observe.messagelog}): the
        #: connection's until it logs on, then its session's.
        self.journal = newLog(factory.endpoint, factory.endpoint.name + "@?", "fix")

    # -- transport -----------------------------------------------------------

    def connectionMade(self):
        noDelay(self.transport)
        self._guard = backpressure.OutputGuard(
            self.transport, backpressure.maxPendingOutput(self.factory.endpoint), self._slowConsumer
        )
        peer = self.transport.getPeer()
        self._peer = "%s:%s" % (getattr(peer, "host", "?"), getattr(peer, "port", "?"))
        self.journal.sessionId = "%s@%s" % (self.factory.endpoint.name, self._peer)
        self.factory.connections.add(self)
        self.lastReceived = self.lastSent = self.reactor.seconds()
        self._schedule(min(1.0, settings.get(self.factory.endpoint, "logon_timeout") or 1.0))

    def write(self, data):
        if self.state != CLOSED:
            batch = self._batch
            if batch is None:
                self.transport.write(data)
                now = self.lastSent = self.reactor.seconds()
                self.journal.append((now, OUT, data))
                guard = self._guard
                if guard is not None and guard.paused:
                    guard.wrote(len(data))
            else:
                # Written (and lastSent set, and journalled) once, when
                # the received data is handled.
                batch.append(data)

    def _flush(self):
        """
        Write what was batched while handling received data.
        """
        batch = self._batch
        if batch:
            self._batch = []
            self._writeBatch(batch)

    def _writeBatch(self, batch):
        """
        Write what was collected, in one transport write, and journal it as
        one entry of as many messages as were written (at the time the last
        message handled came in: the write answers them all).
        """
        self._journalIn()
        data = b"".join(batch)
        self.journal.add((self.lastReceived, OUT, data), len(batch))
        self.transport.write(data)
        self.lastSent = self.reactor.seconds()
        guard = self._guard
        if guard is not None and guard.paused:
            guard.wrote(len(data))

    def _slowConsumer(self, pending):
        """
        More than C{max_pending_output} is unsent: drop the connection at
        once (what is stored stays resendable on the next logon).
        """
        self.log.warn(
            "{name}: {peer} is a slow consumer ({pending} bytes unsent, max_pending_output "
            "{limit}): disconnecting", name=self._name(), peer=self._peer, pending=pending,
            limit=self._guard.limit,
        )
        self.disconnect(backpressure.SLOW_CONSUMER)
        backpressure.dropConnection(self.transport)

    def disconnect(self, reason):
        """
        Drop the connection (after what was written is sent).  The session
        is over at once: a new connection may log on for it.
        """
        if self.state == CLOSED:
            return
        self._flush()
        self._disconnectReason = reason
        self.log.info(
            "{name}: disconnecting {peer}: {reason}",
            name=self._name(),
            peer=self._peer,
            reason=reason,
        )
        self.state = CLOSED
        self.transport.loseConnection()
        self._ended()

    def connectionLost(self, reason=None):
        self.state = CLOSED
        self._ended()

    def _ended(self):
        """
        The connection is over (we dropped it, or it was lost): stop the
        timer, detach the session, tell the application (once).
        """
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self not in self.factory.connections:
            return
        self.factory.connections.discard(self)
        session, self.session = self.session, None
        reason = self._disconnectReason or "connection lost"
        if session is not None and session.connection is self:
            session.detach()
            self.factory.endpoint.report(
                "session_disconnected", session=session.key, peer=self._peer, reason=reason
            )
            if settings.get(self.factory.endpoint, "reset_on_disconnect"):
                session.reset()
            try:
                self.factory.application.sessionLoggedOut(session)
            except Exception:
                self.log.failure("application failed on sessionLoggedOut")
            self.factory.sessionEnded(session, self._loggedOutCleanly)
        else:
            self.factory.endpoint.report(
                "session_disconnected", session=None, peer=self._peer, reason=reason
            )

    def shutdown(self, text):
        """
        The endpoint is closing: log out and drop the connection.
        """
        if self.state == LOGGED_ON:
            self._sendLogout(text)
        self.disconnect(text)

    def _name(self):
        if self.session is not None:
            return self.session.key
        return self.factory.endpoint.name

    # -- timers --------------------------------------------------------------

    def _schedule(self, delay):
        if self.state != CLOSED:
            self._timer = self.reactor.callLater(delay, self._tick)

    def _tick(self):
        self._timer = None
        if self.state == CLOSED:
            return
        now = self.reactor.seconds()
        if self.state == CONNECTED:
            if now - self.lastReceived >= settings.get(self.factory.endpoint, "logon_timeout"):
                self.disconnect("no Logon received in time")
                return
        elif self.state == LOGGING_OUT:
            if now >= self._logoutAt:
                self.disconnect("no Logout answer in time")
                return
        elif self.heartBtInt > 0:
            hb = self.heartBtInt
            grace = hb + max(TRANSMISSION_MINIMUM, hb * TRANSMISSION_FRACTION)
            if self._testRequestAt is not None:
                # Unanswered for one more heartbeat interval: gone.
                if now - self._testRequestAt >= hb:
                    self._sendLogout("heartbeat timeout: TestRequest not answered")
                    self.disconnect("heartbeat timeout")
                    return
            elif now - self.lastReceived >= grace:
                self._testRequestAt = now
                self.session.sendAdmin("1", [(112, "TEST%d" % (int(now),))])
            if now - self.lastSent >= hb and _heartbeats(self.session):
                self.session.sendAdmin("0", [])
            if self._testRequestAt is not None:
                # Wake at the deadline, not up to a second after it.
                self._schedule(min(1.0, max(0.0, self._testRequestAt + hb - now)))
                return
        self._schedule(1.0)

    # -- receiving -----------------------------------------------------------

    def dataReceived(self, data):
        self._batch = []
        try:
            self._received(data)
        finally:
            batch, self._batch = self._batch, None
            if batch and self.state != CLOSED:
                self._writeBatch(batch)

    def _received(self, data):
        try:
            frames = self._framer.messages(data)
        except codec.Oversized as e:
            self.journal.append((self.reactor.seconds(), IN, data[:4096]))
            self.log.warn("{name}: {peer}: {error}", name=self._name(), peer=self._peer, error=str(e))
            if self.state == LOGGED_ON:
                self._sendLogout(str(e))
            self.disconnect(str(e))
            return
        try:
            self._handleFrames(frames)
        finally:
            self._journalIn()

    def _journalIn(self):
        """
        Journal the messages of the read being handled that are not yet,
        as one entry (before anything else is journalled: the order of the
        wire).
        """
        raws = self._inRaws
        if raws:
            data = raws[0] if len(raws) == 1 else b"".join(raws)
            self.journal.add((self._inTime, IN, data), len(raws))
            raws.clear()

    def _handleFrames(self, frames):
        Message = codec.Message
        raws = self._inRaws
        # The messages of one read arrived together.
        now = self.reactor.seconds()
        for message in frames:
            if self.state == CLOSED:
                return
            if message.__class__ is not Message:
                self._journalIn()
                self.journal.append((
                    now, IN,
                    message.data if message.__class__ is codec.FrameError else message.raw,
                ))
                if message.__class__ is codec.FrameError:
                    self.log.warn(
                        "{name}: discarded garbled data from {peer}: {reason}: {data!r}",
                        name=self._name(),
                        peer=self._peer,
                        reason=message.reason,
                        data=message.data[:200],
                    )
                else:
                    self.log.warn(
                        "{name}: discarded garbled message from {peer}: {reason}: {data!r}",
                        name=self._name(),
                        peer=self._peer,
                        reason=str(message),
                        data=message.raw[:200],
                    )
                continue
            if not raws:
                self._inTime = now
            raws.append(message.raw)
            tags = message.tags
            if (tags[2] if tags is not None else message.pairs[2][0]) != 35:
                self.log.warn(
                    "{name}: discarded message from {peer}: MsgType (35) is not "
                    "the third field: {data!r}",
                    name=self._name(),
                    peer=self._peer,
                    data=message.raw[:200],
                )
                continue
            self.lastReceived = now
            self._testRequestAt = None
            self.current = message
            try:
                if self.session is None:
                    self._handleFirst(message)
                else:
                    self._handle(message)
            except Exception:
                self.log.failure(
                    "{name}: error handling {message!r}", name=self._name(), message=message
                )
            self.current = None

    # -- logon ---------------------------------------------------------------

    def _refuse(self, message, text):
        """
        Refuse a Logon: answer with a Logout carrying C{text}, disconnect.
        """
        self.log.info(
            "{name}: refused logon from {peer}: {text}",
            name=self.factory.endpoint.name,
            peer=self._peer,
            text=text,
        )
        begin = message.getBytes(8) or b"FIX.4.2"
        millis = begin not in (b"FIX.4.0", b"FIX.4.1")
        sender = message.getBytes(56) or b"EXSIM"
        target = message.getBytes(49) or b"UNKNOWN"
        seq = 1
        store = None
        session = self.factory.sessions.get(message.get(49))
        if session is not None and session.connection is None:
            store = session.store
            seq = store.nextSenderSeq
        fields = [(58, text)]
        body = codec.encodeFields(fields)
        msg = (
            b"35=5\x0149=" + sender + b"\x0156=" + target + b"\x0134=%d\x0152=" % (seq,)
            + self.factory.timestamp(millis) + b"\x01" + reverseRoute(message) + body
        )
        if store is not None:
            store.setNextSenderSeq(seq + 1)
        self.write(codec.frame(begin, msg))
        self.disconnect("logon refused: " + text)

    def _handleFirst(self, message):
        factory = self.factory
        endpoint = factory.endpoint
        if message.msgType != "A":
            self.log.warn(
                "{name}: first message from {peer} is not a Logon (35={msgType}); disconnecting",
                name=endpoint.name,
                peer=self._peer,
                msgType=message.msgType,
            )
            self.disconnect("first message is not a Logon")
            return
        if not settings.get(endpoint, "accept_logons"):
            self._refuse(message, "logons are not accepted now (accept_logons = no)")
            return
        begin = message.beginString
        allowed = settings.get(endpoint, "begin_string")
        if begin not in allowed:
            self._refuse(
                message,
                "BeginString %s is not accepted here (accepted: %s)" % (begin, ", ".join(allowed)),
            )
            return
        ours = settings.get(endpoint, "sender_comp_id")
        target = message.get(56)
        if settings.get(endpoint, "check_fields_have_values"):
            for tag, name in ((49, "SenderCompID"), (56, "TargetCompID")):
                if message.getBytes(tag) == b"":
                    self._refuse(message, "Tag specified without a value: %s (%d)" % (name, tag))
                    return
        if ours != settings.ANY and target != ours:
            self._refuse(
                message, "TargetCompID %s is unknown: this venue is %s" % (target, ours)
            )
            return
        counterparty = message.get(49)
        accepted = settings.get(endpoint, "target_comp_id")
        if not counterparty or (accepted != settings.ANY and counterparty not in accepted):
            self._refuse(message, "SenderCompID %s is not allowed to log on" % (counterparty,))
            return
        applVerId = None
        if begin == "FIXT.1.1":
            applVerId = settings.get(endpoint, "default_appl_ver_id")
            theirs = message.get(1137)
            if theirs is not None and theirs != applVerId:
                self._refuse(
                    message,
                    "DefaultApplVerID %s is not supported: this endpoint uses %s"
                    % (theirs, applVerId),
                )
                return
        d = dictionary.forVersion(begin, applVerId)
        problem = d.validate(
            message,
            settings.get(endpoint, "check_fields_have_values"),
            settings.get(endpoint, "validate_user_defined_fields"),
            settings.get(endpoint, "check_field_order"),
        )
        if problem is not None:
            self._refuse(message, "invalid Logon: %s" % (problem.text,))
            return
        if message.get(98) != "0":
            self._refuse(message, "EncryptMethod (98) must be 0 (none)")
            return
        hb = int(message.get(108))
        low = settings.get(endpoint, "min_heartbeat_interval")
        high = settings.get(endpoint, "max_heartbeat_interval")
        if not low <= hb <= high:
            self._refuse(
                message, "HeartBtInt %d is out of bounds (%d to %d)" % (hb, low, high)
            )
            return
        users = endpoint.properties.get("users") or {}
        if users:
            username = message.get(553)
            if username is None or users.get(username) != message.get(554):
                self._refuse(message, "invalid Username (553) or Password (554)")
                return
            # Credentials are tied to CompIDs: one user cannot act as another.
            allowed = getattr(users, "allowedCompIds", lambda name: (name,))(username)
            if counterparty not in allowed:
                self._refuse(
                    message, "user %s may not log on as SenderCompID %s" % (username, counterparty)
                )
                return
        tolerance = settings.get(endpoint, "sending_time_tolerance")
        if tolerance and not self._goodTime(message, tolerance):
            self._refuse(message, "SendingTime (52) is too far from the venue's clock")
            return
        session = factory.getSession(counterparty)
        if session.connection is not None:
            self._refuse(message, "session %s is already logged on" % (counterparty,))
            return
        seq = message.seqNum
        if seq is None:
            self._refuse(message, "MsgSeqNum (34) missing")
            return
        reset = message.get(141) == "Y"
        if reset or settings.get(endpoint, "reset_on_logon"):
            session.reset()
        store = session.store
        expected = store.nextTargetSeq
        if seq < expected and not reset:
            self._refuse(
                message, "MsgSeqNum too low, expecting %d but received %d" % (expected, seq)
            )
            return
        # Logged on.
        self.session = session
        self.state = LOGGED_ON
        self.heartBtInt = hb
        self._dictionary = d
        self._checkValues = settings.get(endpoint, "check_fields_have_values")
        self._userDefined = settings.get(endpoint, "validate_user_defined_fields")
        self._checkOrder = settings.get(endpoint, "check_field_order")
        self._tolerance = tolerance
        self._applVerId = applVerId.encode() if applVerId is not None else None
        # Values are checked as messages are cut from the stream, when
        # they have the fields of the message before.
        self._framer.dictionary = d
        senderCompId = ours if ours != settings.ANY else target
        session.attach(self, begin, applVerId, senderCompId)
        factory.loggedOut.pop(counterparty, None)
        # The session's journal from now on, with what came before.
        session.journal.adopt(self.journal)
        self.journal = session.journal
        # Compare CompIDs as received, byte for byte.
        self._ourCompId = message.getBytes(56) if ours == settings.ANY else ours.encode()
        self._theirCompId = message.getBytes(49)
        fields = [(98, 0), (108, hb)]
        if (reset or settings.get(endpoint, "reset_on_logon")) and 141 in d.messages["A"].tags:
            fields.append((141, "Y"))
        if applVerId is not None:
            fields.append((1137, applVerId))
        session.sendAdmin("A", fields)
        self.log.info(
            "{name}: logged on from {peer} ({begin}, HeartBtInt {hb})",
            name=session.key,
            peer=self._peer,
            begin=begin,
            hb=hb,
        )
        endpoint.report(
            "session_logon", session=session.key, begin_string=begin, heartbeat_interval=hb,
            peer=self._peer,
        )
        if seq == expected:
            store.setNextTargetSeq(seq + 1)
        else:
            self._requestResend(expected)
        try:
            factory.application.sessionLoggedOn(session)
        except Exception:
            self.log.failure("application failed on sessionLoggedOn")

    # -- in session ----------------------------------------------------------

    def _goodTime(self, message, tolerance, value=None):
        """
        Whether the SendingTime (52) of C{message} (or C{value}, if given)
        is within C{tolerance} seconds of the reactor's clock (or missing
        or malformed: a validation problem).
        """
        if value is None:
            value = message.getBytes(52)
        if value is None:
            return True
        if value == self._lastSendingTime:
            # Messages sent in the same millisecond: the last one's.
            when = self._lastSendingSeconds
        else:
            when = parseUTCTimestamp(value)
            self._lastSendingTime = value
            self._lastSendingSeconds = when
        if when is None:
            return True  # missing or malformed: a validation problem
        return abs(self.reactor.seconds() - when) <= tolerance

    def _handle(self, message):
        session = self.session
        if message.beginString != session.beginString:
            self._sendLogout(
                "Incorrect BeginString %s (this session is %s)"
                % (message.beginString, session.beginString)
            )
            self.disconnect("incorrect BeginString")
            return
        seq = message.seqNum
        if seq is None:
            self._sendLogout("MsgSeqNum (34) missing or not a number")
            self.disconnect("MsgSeqNum missing")
            return
        msgType = message.msgType
        store = session.store
        if msgType == "4" and message.getBytes(123) != b"Y":
            self._sequenceReset(message)
            return
        if msgType == "A" and message.getBytes(141) == b"Y":
            self._process(message, inSequence=False)
            return
        expected = store.nextTargetSeq
        if seq > expected:
            if msgType == "5":
                self._process(message, inSequence=False)
                return
            if msgType == "2":
                self._process(message, inSequence=False)
                if self.state == CLOSED or self.session is None:
                    # Serving it ended the session (a bad range, say).
                    return
            if len(self._queue) >= MAX_QUEUED:
                text = "more than %d messages out of sequence" % (MAX_QUEUED,)
                self._sendLogout(text)
                self.disconnect(text)
                return
            self._queue[seq] = message
            self._requestResend(expected)
            return
        if seq < expected:
            if msgType == "2" or msgType == "5":
                # Acted on whatever their MsgSeqNum, as QuickFIX does: a
                # ResendRequest is answered, a Logout ends the session.
                self._process(message, inSequence=False)
                return
            if message.getBytes(43) == b"Y":
                self.log.debug(
                    "{name}: ignored PossDup duplicate {seq}", name=session.key, seq=seq
                )
                return
            text = "MsgSeqNum too low, expecting %d but received %d" % (expected, seq)
            self._sendLogout(text)
            self.disconnect(text)
            return
        self._process(message)
        queue = self._queue
        while queue and self.state != CLOSED:
            expected = store.nextTargetSeq
            for stale in [s for s in queue if s < expected]:
                del queue[stale]
            queued = queue.pop(expected, None)
            if queued is None:
                break
            if queued.msgType == "2":
                # Already served when it arrived.
                store.setNextTargetSeq(expected + 1)
                continue
            self.current = queued
            self._handle(queued)
        if self._resendEnd is not None and not queue:
            if self._resendEnd == 0 or store.nextTargetSeq > self._resendEnd:
                self._resendEnd = None

    def _requestResend(self, begin):
        """
        Ask for a resend from C{begin} on, unless one is outstanding.
        """
        if self._resendEnd is not None:
            return
        session = self.session
        old = session.beginString in ("FIX.4.0", "FIX.4.1")
        end = INFINITY_OLD if old else 0
        self._resendEnd = end
        session.sendAdmin("2", [(7, begin), (16, end)])
        self.log.info(
            "{name}: sent ResendRequest {begin}..{end}", name=session.key, begin=begin, end=end
        )

    def _reject(self, message, reason, tag, text):
        self.session.sendSessionReject(
            message.seqNum if message.seqNum is not None else 0,
            reason,
            text,
            tag,
            message.msgType,
        )

    def _process(self, message, inSequence=True):
        """
        Handle a message whose MsgSeqNum is the expected one (or an
        out-of-sequence Logout or ResendRequest, with C{inSequence} false).
        """
        session = self.session
        store = session.store
        seq = message.seqNum
        sender, target, sendingTime, possDup, applVerId = message.pick(_PROCESS_TAGS)
        # CompIDs (a missing one is a validation problem, below).
        if (sender is not None and sender != self._theirCompId) or (
            target is not None and target != self._ourCompId
        ):
            if self._checkValues and (sender == b"" or target == b""):
                # An empty value is that, before it is a wrong CompID.
                tag = 49 if sender == b"" else 56
                self._reject(
                    message, TAG_WITHOUT_VALUE, tag,
                    "Tag specified without a value: %s (%d)"
                    % ("SenderCompID" if tag == 49 else "TargetCompID", tag),
                )
                if inSequence:
                    store.setNextTargetSeq(seq + 1)
                return
            self._reject(
                message,
                COMPID_PROBLEM,
                49 if sender != self._theirCompId else 56,
                "CompID problem: expected 49=%s 56=%s"
                % (self._theirCompId.decode("latin-1"), self._ourCompId.decode("latin-1")),
            )
            if inSequence:
                store.setNextTargetSeq(seq + 1)
            self._sendLogout("CompID problem")
            self.disconnect("CompID problem")
            return
        tolerance = self._tolerance
        if tolerance and not self._goodTime(message, tolerance, sendingTime):
            self._reject(
                message, SENDING_TIME_ACCURACY, 52, "SendingTime accuracy problem"
            )
            if inSequence:
                store.setNextTargetSeq(seq + 1)
            self._sendLogout("SendingTime accuracy problem")
            self.disconnect("SendingTime accuracy problem")
            return
        if message.validatedBy is self._dictionary:
            # Checked as it was cut from the stream.
            problem = None
        else:
            problem = self._dictionary.validate(
                message, self._checkValues, self._userDefined, self._checkOrder
            )
        if problem is None and self._applVerId is not None:
            if applVerId is not None and applVerId != self._applVerId:
                problem = dictionary.Problem(
                    INVALID_APPL_VER_ID,
                    1128,
                    "Invalid/Unsupported Application Version: ApplVerID %s (this "
                    "session uses %s)" % (applVerId.decode("latin-1"), self._applVerId.decode()),
                )
        if problem is None and possDup == b"Y":
            orig = message.getBytes(122)
            if orig is None:
                if message.msgType != "4":
                    problem = dictionary.Problem(
                        REQUIRED_TAG_MISSING,
                        122,
                        "Required tag missing: OrigSendingTime (122) with PossDupFlag=Y",
                    )
            else:
                origTime = parseUTCTimestamp(orig)
                sendingTime = parseUTCTimestamp(sendingTime or b"")
                if origTime is not None and sendingTime is not None and origTime > sendingTime:
                    problem = dictionary.Problem(
                        SENDING_TIME_ACCURACY,
                        122,
                        "SendingTime accuracy problem: OrigSendingTime after SendingTime",
                    )
        msgType = message.msgType
        if problem is not None:
            self.log.info(
                "{name}: rejecting MsgSeqNum {seq}: {text}",
                name=session.key,
                seq=seq,
                text=problem.text,
            )
            self._reject(message, problem.reason, problem.tag, problem.text)
            if inSequence:
                store.setNextTargetSeq(seq + 1)
            if msgType == "5" and self.state != CLOSED:
                # A Logout is a Logout even if malformed.
                self._answerLogout()
            return
        if inSequence and not (msgType == "4"):
            store.setNextTargetSeq(seq + 1)
        handler = _ADMIN.get(msgType)
        if handler is not None:
            handler(self, message)
            return
        control = session.control
        if control is not None and not control.inbound(message):
            return  # throttled (exsim.fix.control)
        self._fromApp(message)

    def _fromApp(self, message):
        session = self.session
        try:
            handled = self.factory.application.fromApp(session, message)
        except Exception:
            self.log.failure(
                "{name}: application failed on {message!r}", name=session.key, message=message
            )
            session.sendBusinessReject(
                message.seqNum, message.msgType, 0, "internal error handling the message"
            )
            return
        if not handled:
            name = self._dictionary.messages[message.msgType].name
            session.sendBusinessReject(
                message.seqNum,
                message.msgType,
                3,
                "Unsupported Message Type %s (%s)" % (message.msgType, name),
            )

    # -- administrative messages ----------------------------------------------

    def _onHeartbeat(self, message):
        pass

    def _onTestRequest(self, message):
        if _heartbeats(self.session):
            self.session.sendAdmin("0", [(112, message.getBytes(112))])

    def _onResendRequest(self, message):
        begin = int(message.get(7))
        end = int(message.get(16))
        self.log.info(
            "{name}: ResendRequest {begin}..{end}", name=self.session.key, begin=begin, end=end
        )
        self.session.resend(begin, end)

    def _onReject(self, message):
        self.log.warn(
            "{name}: counterparty rejected our MsgSeqNum {ref}: {text}",
            name=self.session.key,
            ref=message.get(45),
            text=message.get(58),
        )
        self.factory.endpoint.report(
            "reject_received",
            session=self.session.key,
            ref_seq_num=int(message.get(45)),
            reason=message.get(373),
            ref_tag_id=message.get(371),
            ref_msg_type=message.get(372),
            text=message.get(58),
        )

    def _onGapFill(self, message):
        session = self.session
        seq = message.seqNum
        newSeq = int(message.get(36))
        if newSeq <= seq:
            self._reject(
                message,
                VALUE_OUT_OF_RANGE,
                36,
                "Attempt to lower sequence number, invalid value NewSeqNo(36)=%d" % (newSeq,),
            )
            session.store.setNextTargetSeq(seq + 1)
            return
        session.store.setNextTargetSeq(newSeq)

    def _sequenceReset(self, message):
        """
        SequenceReset in Reset mode: MsgSeqNum is ignored.
        """
        session = self.session
        problem = self._dictionary.validate(
            message, self._checkValues, self._userDefined, self._checkOrder
        )
        if problem is not None:
            self._reject(message, problem.reason, problem.tag, problem.text)
            return
        newSeq = int(message.get(36))
        expected = session.store.nextTargetSeq
        if newSeq < expected:
            self._reject(
                message,
                VALUE_OUT_OF_RANGE,
                36,
                "Attempt to lower sequence number, invalid value NewSeqNo(36)=%d" % (newSeq,),
            )
            return
        if newSeq > expected:
            session.store.setNextTargetSeq(newSeq)
            for stale in [s for s in self._queue if s < newSeq]:
                del self._queue[stale]
        self._resendEnd = None

    def _onLogout(self, message):
        text = message.get(58)
        if self.state == LOGGING_OUT:
            self._loggedOutCleanly = True
            self._loggedOut(text or "logout confirmed")
            self.disconnect("logout complete")
            return
        self._answerLogout(text)

    def _answerLogout(self, text=None):
        self._sendLogout(None)
        self._loggedOutCleanly = True
        self._loggedOut(text or "counterparty logged out")
        self.disconnect("counterparty logged out")

    def _loggedOut(self, text):
        session = self.session
        self.factory.endpoint.report("session_logout", session=session.key, text=text)
        if settings.get(self.factory.endpoint, "reset_on_logout"):
            session.reset()

    def _onLogon(self, message):
        session = self.session
        if message.get(141) == "Y":
            # FIX 4.4: a Logon with ResetSeqNumFlag during the session
            # resets both sequences (its own MsgSeqNum should be 1).
            self._queue.clear()
            self._resendEnd = None
            session.reset()
            session.store.setNextTargetSeq(message.seqNum + 1)
            fields = [(98, 0), (108, self.heartBtInt), (141, "Y")]
            if session.applVerId is not None:
                fields.append((1137, session.applVerId))
            session.sendAdmin("A", fields)
            return
        self._reject(message, 99, None, "Logon received while already logged on")

    def _sendLogout(self, text):
        """
        Send a Logout (once); wait for the answer up to logout_timeout.
        """
        if self.state != LOGGED_ON or self.session is None:
            return
        self.session.sendAdmin("5", [(58, text)] if text else [])
        self.state = LOGGING_OUT
        self._logoutAt = self.reactor.seconds() + settings.get(
            self.factory.endpoint, "logout_timeout"
        )

    def logout(self, text=None):
        """
        Start a logout on the venue's initiative.
        """
        self._sendLogout(text)


def _heartbeats(session):
    """
    Whether C{session} sends Heartbeats (set_session_property heartbeats).
    """
    control = session.control
    return control is None or control.heartbeats


_ADMIN = {
    "0": FixConnection._onHeartbeat,
    "1": FixConnection._onTestRequest,
    "2": FixConnection._onResendRequest,
    "3": FixConnection._onReject,
    "4": FixConnection._onGapFill,
    "5": FixConnection._onLogout,
    "A": FixConnection._onLogon,
}
