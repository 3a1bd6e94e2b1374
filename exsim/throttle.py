# -*- test-case-name: tests.test_throttle -*-
"""
Inbound throttling, for every wire protocol: the C{throttle} and
C{throttle_action} properties' values and L{Throttle}, the sliding window
FIX and OUCH sessions count their inbound application messages with.

C{throttle = N/S} allows at most N messages in any S seconds (a sliding
window: a message is allowed when fewer than N were allowed in the S
seconds before it).  What happens to a message over the limit is the
C{throttle_action}: C{reject} (the protocol's reject), C{disconnect}
(a logout giving the reason, then close) or C{queue} (it waits until the
window allows it; later messages wait behind it, in order).  Time is the
reactor's clock.
"""

import math
from collections import deque

from exsim.errors import BadValue
from exsim.values import formatSeconds

REJECT = "reject"
DISCONNECT = "disconnect"
QUEUE = "queue"

ACTIONS = (REJECT, DISCONNECT, QUEUE)

#: Bounds of N and S (a window longer than a day is a typo).
MAX_MESSAGES = 1000000
MAX_WINDOW = 86400.0

#: Messages a queueing throttle keeps; one more is refused as by
#: C{reject} (a client that never slows down must not exhaust memory).
MAX_QUEUED = 100000


class Limit:
    """
    A parsed C{throttle}: C{messages} per C{seconds}.
    """

    def __init__(self, messages, seconds):
        self.messages = messages
        self.seconds = seconds

    def __str__(self):
        return "%d/%s" % (self.messages, formatSeconds(self.seconds))

    def __eq__(self, other):
        return isinstance(other, Limit) and (other.messages, other.seconds) == (
            self.messages,
            self.seconds,
        )

    def __hash__(self):
        return hash((self.messages, self.seconds))


def refusalText(limit):
    """
    What a client is told when a message goes over C{limit}.
    """
    return "throttle limit exceeded: at most %d messages per %s seconds" % (
        limit.messages,
        formatSeconds(limit.seconds),
    )


def parseThrottle(value):
    """
    Parse C{N/S}: at most N (a positive whole number) messages per S
    (positive) seconds; C{none} or an empty text for no limit.

    @return: a L{Limit} or C{None}.
    @raise BadValue: for anything else.
    """
    if value is None or isinstance(value, Limit):
        return value
    text = str(value).strip().lower()
    if text in ("", "none", "no", "off"):
        return None
    count, sep, seconds = text.partition("/")
    problem = "throttle must be N/S (at most N messages per S seconds, e.g. 100/1), not %r" % (value,)
    if not sep:
        raise BadValue(problem)
    try:
        n = int(count.strip())
        s = float(seconds.strip())
    except ValueError:
        raise BadValue(problem)
    if not 1 <= n <= MAX_MESSAGES:
        raise BadValue("throttle's N must be between 1 and %d, not %r" % (MAX_MESSAGES, value))
    if not math.isfinite(s) or not 0 < s <= MAX_WINDOW:
        raise BadValue(
            "throttle's S must be positive seconds, at most %g, not %r" % (MAX_WINDOW, value)
        )
    return Limit(n, s)


def parseThrottleAction(value):
    """
    Parse a C{throttle_action}: C{reject}, C{disconnect} or C{queue}.
    """
    text = str(value).strip().lower()
    if text not in ACTIONS:
        raise BadValue("throttle_action must be one of %s, not %r" % (", ".join(ACTIONS), value))
    return text


class Throttle:
    """
    One session's inbound throttle.

    @ivar limit: the L{Limit}.
    @ivar action: L{REJECT}, L{DISCONNECT} or L{QUEUE}.
    """

    def __init__(self, reactor, limit, action, deliver, throttled):
        """
        @param deliver: called with a queued message when the window
            allows it.
        @param throttled: called with each message over the limit and
            the action taken on it: L{QUEUE} (it waits: nothing more to
            do), L{REJECT} or L{DISCONNECT} (the caller acts; L{REJECT}
            also for a message a full queue cannot take).
        """
        self._reactor = reactor
        self.limit = limit
        self.action = action
        self._deliver = deliver
        self._throttled = throttled
        self._times = deque()
        self._queue = deque()
        self._call = None

    @property
    def queued(self):
        return len(self._queue)

    def _admit(self, now):
        times = self._times
        limit = self.limit
        while times and now - times[0] >= limit.seconds:
            times.popleft()
        if len(times) < limit.messages:
            times.append(now)
            return True
        return False

    def check(self, message):
        """
        Count an inbound application message.

        @return: True if the caller handles it now; False if the throttle
            took it (queued, or refused; C{throttled} was told).
        """
        now = self._reactor.seconds()
        if not self._queue and self._admit(now):
            return True
        if self.action == QUEUE:
            if len(self._queue) >= MAX_QUEUED:
                self._throttled(message, REJECT)
                return False
            self._queue.append(message)
            if self._call is None:
                self._schedule(now)
            self._throttled(message, QUEUE)
            return False
        self._throttled(message, self.action)
        return False

    def _schedule(self, now):
        wait = self._times[0] + self.limit.seconds - now if self._times else 0.0
        self._call = self._reactor.callLater(max(0.0, wait), self._release)

    def _release(self):
        self._call = None
        queue = self._queue
        while queue:
            now = self._reactor.seconds()
            if not self._admit(now):
                self._schedule(now)
                return
            self._deliver(queue.popleft())

    def change(self, limit, action):
        """
        A new limit or action: the window's count stays; a queue left
        without the C{queue} action is delivered at once.
        """
        self.limit = limit
        self.action = action
        if action != QUEUE:
            self.drain()
        elif self._queue:
            self.stop()
            self._schedule(self._reactor.seconds())

    def drain(self):
        """
        Deliver every queued message now (the throttle is going away).
        """
        self.stop()
        queue = self._queue
        while queue:
            self._deliver(queue.popleft())

    def stop(self):
        call, self._call = self._call, None
        if call is not None and call.active():
            call.cancel()
