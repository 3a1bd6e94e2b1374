# -*- test-case-name: tests.test_latency -*-
"""
Outbound latency and holding, for every wire protocol: the C{latency}
property's values and L{OutboundQueue}, the one scheduler FIX and
SoupBinTCP sessions use to delay or hold what they send.

A latency is a number of seconds (C{0.005}), or a distribution drawn
afresh for every message: C{uniform:A:B} (A <= B) or C{normal:MEAN:SD}
(a draw below zero counts as zero).  Draws come from a generator the
session seeds (the endpoint's C{seed} and the session's id), so a run is
repeatable.  Messages of one session always leave in the order they were
put in, whatever their draws: a message never overtakes the one before.
Time is the reactor's clock, so tests drive it with C{task.Clock}.
"""

import math
import random
from collections import deque

from exsim.errors import BadValue
from exsim.values import formatSeconds as _text

#: The longest latency accepted, in seconds (an hour: longer is a typo).
MAX_LATENCY = 3600.0

_HELP = (
    "latency must be seconds (0.005), uniform:A:B or normal:MEAN:SD "
    "(non-negative seconds, at most %g), or none" % (MAX_LATENCY,)
)


def _seconds(text, value):
    try:
        number = float(text)
    except (TypeError, ValueError, OverflowError):
        raise BadValue("%s, not %r" % (_HELP, value))
    if not math.isfinite(number) or number < 0 or number > MAX_LATENCY:
        raise BadValue("%s, not %r" % (_HELP, value))
    return number


class Fixed:
    """
    The same latency for every message.
    """

    def __init__(self, seconds):
        self.seconds = seconds

    def draw(self, generator):
        return self.seconds

    def __str__(self):
        return _text(self.seconds)

    def __eq__(self, other):
        return type(other) is Fixed and other.seconds == self.seconds

    def __hash__(self):
        return hash(("fixed", self.seconds))


class Uniform:
    """
    A latency drawn uniformly between C{low} and C{high} seconds.
    """

    def __init__(self, low, high):
        self.low = low
        self.high = high

    def draw(self, generator):
        return generator.uniform(self.low, self.high)

    def __str__(self):
        return "uniform:%s:%s" % (_text(self.low), _text(self.high))

    def __eq__(self, other):
        return type(other) is Uniform and (other.low, other.high) == (self.low, self.high)

    def __hash__(self):
        return hash(("uniform", self.low, self.high))


class Normal:
    """
    A latency drawn from a normal distribution (C{mean}, C{sd} seconds);
    a negative draw is zero.
    """

    def __init__(self, mean, sd):
        self.mean = mean
        self.sd = sd

    def draw(self, generator):
        return min(MAX_LATENCY, max(0.0, generator.gauss(self.mean, self.sd)))

    def __str__(self):
        return "normal:%s:%s" % (_text(self.mean), _text(self.sd))

    def __eq__(self, other):
        return type(other) is Normal and (other.mean, other.sd) == (self.mean, self.sd)

    def __hash__(self):
        return hash(("normal", self.mean, self.sd))


def parseLatency(value):
    """
    Parse a C{latency} value.

    @return: L{Fixed}, L{Uniform} or L{Normal}, or C{None} for no latency
        (C{0}, C{none} or an empty text).
    @raise BadValue: for anything else.
    """
    if value is None or isinstance(value, (Fixed, Uniform, Normal)):
        return value
    if isinstance(value, bool):
        raise BadValue("%s, not %r" % (_HELP, value))
    if isinstance(value, (int, float)):
        seconds = _seconds(value, value)
        return Fixed(seconds) if seconds else None
    text = str(value).strip().lower()
    if text in ("", "none", "no", "off"):
        return None
    kind, sep, rest = text.partition(":")
    if not sep:
        seconds = _seconds(text, value)
        return Fixed(seconds) if seconds else None
    parts = rest.split(":")
    if len(parts) != 2:
        raise BadValue("%s, not %r" % (_HELP, value))
    a, b = (_seconds(p, value) for p in parts)
    if kind == "uniform":
        if a > b:
            raise BadValue("latency uniform:A:B needs A <= B, not %r" % (value,))
        return Uniform(a, b)
    if kind == "normal":
        return Normal(a, b)
    raise BadValue("%s, not %r" % (_HELP, value))


def parseSeed(value):
    """
    Parse a C{seed}: a whole number.
    """
    if isinstance(value, bool):
        raise BadValue("seed must be a whole number, not %r" % (value,))
    try:
        return value if isinstance(value, int) else int(str(value).strip())
    except ValueError:
        raise BadValue("seed must be a whole number, not %r" % (value,))


def generatorFor(seed, sessionId):
    """
    The random generator of one session's latency draws: the same C{seed}
    and session id give the same draws, whatever other sessions do.
    """
    return random.Random("%s/%s" % (seed, sessionId))


class OutboundQueue:
    """
    One session's outbound messages on their way out: each waits its
    latency, all wait while the queue is held, and they leave in the
    order they came.

    Messages that are due together leave together: C{release} is called
    with a list of them (one transport write for the lot).

    @ivar latency: a L{Fixed}, L{Uniform} or L{Normal}, or C{None}.
    @ivar held: whether messages wait until L{resume}.
    """

    def __init__(self, reactor, release, latency=None, generator=None):
        """
        @param release: called with a list of messages whose time came.
        @param generator: a C{random.Random} for drawn latencies.
        """
        self._reactor = reactor
        self._release = release
        self.latency = latency
        self.generator = generator or random.Random(0)
        self.held = False
        self._items = deque()
        self._last = 0.0
        self._call = None

    def __len__(self):
        return len(self._items)

    @property
    def idle(self):
        """
        True when nothing waits and messages would go straight through.
        """
        return not self._items and not self.held and self.latency is None

    def put(self, item):
        """
        Send C{item} when its time comes (at once if nothing delays it).
        """
        latency = self.latency
        if latency is None:
            if not self._items and not self.held:
                self._release([item])
                return
            due = self._reactor.seconds()
        else:
            due = self._reactor.seconds() + latency.draw(self.generator)
        if self._items and due < self._last:
            # Never overtake the message before.
            due = self._last
        self._last = due
        self._items.append((due, item))
        if len(self._items) == 1 and not self.held:
            self._schedule()

    def hold(self):
        """
        Keep every message (those waiting and those to come) until
        L{resume}.
        """
        self.held = True
        self._cancel()

    def resume(self):
        """
        Stop holding: messages whose latency has passed leave now, in
        order; the others when it passes.
        """
        self.held = False
        self._run()

    def stop(self):
        """
        Cancel the timer (messages stay queued).
        """
        self._cancel()

    def drain(self):
        """
        Remove and return every waiting message, in order.
        """
        self._cancel()
        items = [item for _, item in self._items]
        self._items.clear()
        return items

    def _cancel(self):
        call, self._call = self._call, None
        if call is not None and call.active():
            call.cancel()

    def _schedule(self):
        self._cancel()
        if self._items and not self.held:
            delay = max(0.0, self._items[0][0] - self._reactor.seconds())
            self._call = self._reactor.callLater(delay, self._run)

    def _run(self):
        self._call = None
        if self.held:
            return
        now = self._reactor.seconds()
        items = self._items
        due = []
        while items and items[0][0] <= now:
            due.append(items.popleft()[1])
        if due:
            self._release(due)
        if items and not self.held and self._call is None:
            self._schedule()
