# -*- test-case-name: tests.test_session_control -*-
"""
Session control from the test, whatever the wire protocol: the names and
values the management operations take (faults, session properties, the
endpoint properties C{latency}, C{seed}, C{throttle}, C{throttle_action},
C{accept_logons}), and L{SessionControl}, the state that makes one session
behave differently from a plain one (latency, holding, throttling, faults
waiting to happen, heartbeats switched off).

A session without any of these has no L{SessionControl} at all: its
protocol's hot paths test one attribute against C{None} and go on.  The
FIX and SoupBinTCP subclasses (L{exsim.fix.control},
L{exsim.soup.control}) say where messages go; the scheduling
(L{exsim.latency.OutboundQueue}) and the counting (L{exsim.throttle.Throttle})
are shared.
"""

from exsim.errors import BadValue, UnknownSession, WrongState
from exsim.interfaces import ISelfTradePrevention
from exsim.latency import OutboundQueue, generatorFor, parseLatency, parseSeed
from exsim.throttle import (
    DISCONNECT,
    QUEUE,
    REJECT,
    Throttle,
    parseThrottle,
    parseThrottleAction,
    refusalText,
)
from exsim.values import parseBoolean

#: What C{inject_fault} takes.
FAULTS = ("gap", "drop", "duplicate", "garble", "resend_request")

#: What C{set_session_property} takes.
SESSION_PROPERTIES = (
    "next_in_seq", "next_out_seq", "hold", "heartbeats", "latency", "stp_group",
)

#: Session states, as C{list_sessions} gives them.
LOGGING_ON = "logging_on"
ACTIVE = "active"
LOGGING_OUT = "logging_out"
DISCONNECTED = "disconnected"

#: The largest C{count} of C{inject_fault}.
MAX_COUNT = 1000000

#: The largest sequence number C{set_session_property} takes.
MAX_SEQ_NUM = 2**31 - 1


def parseAcceptLogons(value):
    return parseBoolean("accept_logons", value)


#: The endpoint properties of session control: {name: parser(value)}.
ENDPOINT_PROPERTIES = {
    "latency": parseLatency,
    "seed": parseSeed,
    "throttle": parseThrottle,
    "throttle_action": parseThrottleAction,
    "accept_logons": parseAcceptLogons,
}

#: Their defaults.
ENDPOINT_DEFAULTS = {
    "latency": None,
    "seed": 0,
    "throttle": None,
    "throttle_action": REJECT,
    "accept_logons": True,
}

#: The ones that apply to a feed (no inbound application messages).
FEED_PROPERTIES = ("latency", "seed", "accept_logons")


def endpointProperty(endpoint, name):
    """
    The value of a session-control property of C{endpoint}, or its
    default.
    """
    return endpoint.properties.get(name, ENDPOINT_DEFAULTS[name])


def parseFault(fault):
    text = str(fault).strip().lower() if isinstance(fault, str) else fault
    if text not in FAULTS:
        raise BadValue("unknown fault %r (known: %s)" % (fault, ", ".join(FAULTS)))
    return text


def parseCount(count):
    """
    A fault's C{count}: a whole number from 1 to L{MAX_COUNT}.
    """
    if isinstance(count, bool):
        raise BadValue("count must be a whole number from 1 to %d, not %r" % (MAX_COUNT, count))
    try:
        number = count if isinstance(count, int) else int(str(count).strip())
    except ValueError:
        raise BadValue("count must be a whole number from 1 to %d, not %r" % (MAX_COUNT, count))
    if not 1 <= number <= MAX_COUNT:
        raise BadValue("count must be a whole number from 1 to %d, not %r" % (MAX_COUNT, count))
    return number


def parseSeqNum(name, value):
    """
    A sequence number for C{next_in_seq} or C{next_out_seq}.
    """
    if isinstance(value, bool):
        raise BadValue("%s must be a whole number from 1 to %d, not %r" % (name, MAX_SEQ_NUM, value))
    try:
        number = value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise BadValue("%s must be a whole number from 1 to %d, not %r" % (name, MAX_SEQ_NUM, value))
    if not 1 <= number <= MAX_SEQ_NUM:
        raise BadValue("%s must be a whole number from 1 to %d, not %r" % (name, MAX_SEQ_NUM, value))
    return number


def parseSessionProperty(name, value):
    """
    Check a C{set_session_property} name and value.

    @return: the normalised value.
    @raise BadValue: for an unknown name or a bad value.
    """
    if name in ("next_in_seq", "next_out_seq"):
        return parseSeqNum(name, value)
    if name in ("hold", "heartbeats"):
        return parseBoolean(name, value)
    if name == "latency":
        return parseLatency(value)
    if name == "stp_group":
        return parseStpGroup(value)
    raise BadValue(
        "unknown session property %r (known: %s)" % (name, ", ".join(SESSION_PROPERTIES))
    )


def parseStpGroup(value):
    """
    A self-trade prevention group (C{stp_group}): printable text, or None
    (empty, C{none}) for none.
    """
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.lower() == "none":
        return None
    if not text.isprintable() or len(text) > 64:
        raise BadValue("stp_group must be printable text of at most 64 characters, not %r" % (value,))
    return text


def applyStpGroup(endpoint, owner):
    """
    Tell the engine of C{endpoint} which self-trade prevention group the
    orders of C{owner} (one of its sessions) are in: the session's own
    C{stp_group}, else the endpoint's, else none.
    """
    engine = endpoint.engine
    if not ISelfTradePrevention.providedBy(engine):
        return
    group = getattr(endpoint, "stpGroups", {}).get(owner, endpoint.properties.get("stp_group"))
    engine.setStpGroup(owner, group)


def setSessionStpGroup(endpoint, owner, group):
    """
    The session property C{stp_group} of the session whose orders are
    C{owner}'s (None: follow the endpoint's).
    """
    if group is None:
        endpoint.stpGroups.pop(owner, None)
    else:
        endpoint.stpGroups[owner] = group
    applyStpGroup(endpoint, owner)


def rawBytes(data, fix=False):
    """
    The bytes C{send_raw} sends: bytes as given; text as Latin-1 (one byte
    a character), with C{|} standing for SOH in FIX.

    @raise BadValue: for anything else, empty data, or text with a
        character above U+00FF.
    """
    if isinstance(data, str):
        if fix:
            data = data.replace("|", "\x01")
        try:
            data = data.encode("latin-1")
        except UnicodeEncodeError:
            raise BadValue("send_raw takes bytes, or text of characters U+0000 to U+00FF")
    elif not isinstance(data, bytes):
        raise BadValue("send_raw takes bytes or text, not %r" % (type(data).__name__,))
    if not data:
        raise BadValue("send_raw needs some data")
    return data


def listSessions(endpoints):
    """
    One dict per session of C{endpoints} (L{exsim.endpoint.Endpoint}s),
    sorted by session id.
    """
    result = []
    for endpoint in endpoints:
        result.extend(handle.describe() for handle in sessionsOf(endpoint))
    result.sort(key=lambda d: d["session"])
    return result


def sessionsOf(endpoint):
    """
    The session handles (L{exsim.interfaces.IControlledSession}) of an
    endpoint: none until it listens.
    """
    factory = endpoint.factory
    sessions = getattr(factory, "controlledSessions", None)
    if sessions is None:
        return []
    return sessions()


def findSession(endpoints, sessionId):
    """
    The handle of the session called C{sessionId}.

    @raise UnknownSession: if there is none.
    """
    if not isinstance(sessionId, str) or not sessionId:
        raise UnknownSession("a session id must be text such as 'fix1/CLIENT', not %r" % (sessionId,))
    for endpoint in endpoints:
        if not sessionId.startswith(endpoint.name):
            continue
        for handle in sessionsOf(endpoint):
            if handle.sessionId == sessionId:
                return handle
    raise UnknownSession("unknown session %r (list_sessions names them)" % (sessionId,))


def requireState(handle, states, what):
    """
    @raise WrongState: unless C{handle}'s state is one of C{states}.
    """
    state = handle.state
    if state not in states:
        raise WrongState(
            "session %r is %s: %s needs it %s"
            % (handle.sessionId, state.replace("_", " "), what, " or ".join(s.replace("_", " ") for s in states))
        )


#: C{latencyOverride} when the session follows its endpoint's latency.
FOLLOW = object()


class SessionControl:
    """
    What makes one session misbehave on demand.  Subclasses say where
    messages go: L{_release} (outbound messages whose time came),
    L{_deliver} (an inbound message the throttle let through late),
    L{_throttled} (one over the limit), L{_install} and L{_uninstall} (make
    the session's hot paths see this object, or C{None}).

    @ivar outbound: an L{OutboundQueue} while latency applies or the
        session holds (or messages still wait), else C{None}.
    @ivar throttle: a L{Throttle} while the endpoint has one, else C{None}.
    @ivar drop: outbound application messages still to drop.
    @ivar garble: outbound application messages still to garble.
    @ivar heartbeats: whether the venue sends heartbeats (and answers
        TestRequests).
    @ivar latencyOverride: the session's own C{latency}, or L{FOLLOW}.
    """

    installed = False

    def __init__(self, endpoint, sessionId):
        self.endpoint = endpoint
        self.reactor = endpoint.reactor
        self.sessionId = sessionId
        self.outbound = None
        self.throttle = None
        self.drop = 0
        self.garble = 0
        self.heartbeats = True
        self.held = False
        self.latencyOverride = FOLLOW
        self._seed = None
        self._generator = None

    # -- what applies ------------------------------------------------------

    @property
    def latency(self):
        """
        The latency in force: the session's own, else the endpoint's.
        """
        if self.latencyOverride is not FOLLOW:
            return self.latencyOverride
        return endpointProperty(self.endpoint, "latency")

    @property
    def needed(self):
        """
        Whether the session differs from a plain one in any way.
        """
        return bool(
            self.drop
            or self.garble
            or not self.heartbeats
            or self.held
            or self.throttle is not None
            or self.latency is not None
            or (self.outbound is not None and len(self.outbound))
            or (self.throttle is not None and self.throttle.queued)
        )

    @property
    def personal(self):
        """
        Whether the session has state of its own that forgetting it would
        lose: messages waiting (held, delayed or throttled), faults to
        come, or its own C{hold}, C{heartbeats} or C{latency}.
        """
        return bool(
            self.drop
            or self.garble
            or not self.heartbeats
            or self.held
            or self.latencyOverride is not FOLLOW
            or (self.outbound is not None and len(self.outbound))
            or (self.throttle is not None and self.throttle.queued)
        )

    def _generatorFor(self):
        seed = endpointProperty(self.endpoint, "seed")
        if self._generator is None or seed != self._seed:
            self._seed = seed
            self._generator = generatorFor(seed, self.sessionId)
        return self._generator

    def refresh(self):
        """
        Bring latency, holding and throttling in line with the endpoint's
        and the session's properties; install or uninstall this object.
        """
        latency = self.latency
        queue = self.outbound
        if latency is not None or self.held:
            if queue is None:
                queue = self.outbound = OutboundQueue(
                    self.reactor, self._release, latency, self._generatorFor()
                )
            else:
                queue.latency = latency
                queue.generator = self._generatorFor()
            if self.held and not queue.held:
                queue.hold()
            elif not self.held and queue.held:
                queue.resume()
        elif queue is not None:
            queue.latency = None
            if queue.held:
                queue.resume()
            if not len(queue):
                queue.stop()
                self.outbound = None
        limit = self.throttleLimit()
        action = endpointProperty(self.endpoint, "throttle_action")
        if limit is None:
            if self.throttle is not None:
                throttle, self.throttle = self.throttle, None
                throttle.drain()
        elif self.throttle is None:
            self.throttle = Throttle(self.reactor, limit, action, self._deliver, self._throttled)
        else:
            self.throttle.change(limit, action)
        self.settle()

    def throttleLimit(self):
        """
        The inbound limit of this session (the endpoint's C{throttle}).
        """
        return endpointProperty(self.endpoint, "throttle")

    def settle(self):
        """
        Install this object while it is needed, uninstall it when not.
        """
        if self.outbound is not None and self.outbound.idle:
            self.outbound.stop()
            self.outbound = None
        if self.needed:
            if not self.installed:
                self.installed = True
                self._install()
        elif self.installed:
            self.installed = False
            self._uninstall()

    def stop(self):
        """
        The session is going away for good: no timer left behind.
        """
        if self.outbound is not None:
            self.outbound.stop()
        if self.throttle is not None:
            self.throttle.stop()

    # -- session properties ------------------------------------------------

    def setHold(self, flag):
        self.held = flag
        self.refresh()

    def setHeartbeats(self, flag):
        self.heartbeats = flag
        self.settle()

    def setLatency(self, latency):
        """
        The session's own latency (C{None}: none, whatever the endpoint
        says).
        """
        self.latencyOverride = latency
        self.refresh()

    def describe(self):
        """
        The session-control fields of C{list_sessions}.
        """
        latency = self.latency
        return {
            "hold": self.held,
            "heartbeats": self.heartbeats,
            "latency": None if latency is None else str(latency),
            "queued_out": len(self.outbound) if self.outbound is not None else 0,
            "queued_in": self.throttle.queued if self.throttle is not None else 0,
            "pending_drop": self.drop,
            "pending_garble": self.garble,
        }

    # -- inbound -----------------------------------------------------------

    def inbound(self, message):
        """
        An inbound application message: True if it is handled now, False
        if the throttle took it.
        """
        throttle = self.throttle
        if throttle is None:
            return True
        return throttle.check(message)

    def _throttled(self, message, action):
        """
        A message over the limit: a C{throttled} event, then (unless it
        waits in the queue) the protocol's refusal.
        """
        limit = self.throttle.limit if self.throttle is not None else self.throttleLimit()
        text = refusalText(limit)
        self.endpoint.report(
            "throttled",
            session=self.sessionId,
            action=action,
            throttle=str(limit),
            **self._describe(message)
        )
        if action == DISCONNECT:
            self._disconnect(text)
        elif action != QUEUE:
            self._refuse(message, text)

    # -- for subclasses ----------------------------------------------------

    def _release(self, items):
        """
        Send outbound messages whose time came.
        """
        raise NotImplementedError()

    def _deliver(self, message):
        """
        Hand over an inbound message the throttle let through late.
        """
        raise NotImplementedError()

    def _describe(self, message):
        """
        The fields of a C{throttled} event naming an inbound message
        (C{msg_type}, ...).
        """
        raise NotImplementedError()

    def _refuse(self, message, text):
        """
        Answer an inbound message over the limit with the protocol's
        reject.
        """
        raise NotImplementedError()

    def _disconnect(self, text):
        """
        End the session for going over the limit, saying why.
        """
        raise NotImplementedError()

    def _install(self):
        raise NotImplementedError()

    def _uninstall(self):
        raise NotImplementedError()


def plainDescription():
    """
    The session-control fields of a session without a L{SessionControl}.
    """
    return {
        "hold": False,
        "heartbeats": True,
        "latency": None,
        "queued_out": 0,
        "queued_in": 0,
        "pending_drop": 0,
        "pending_garble": 0,
    }
