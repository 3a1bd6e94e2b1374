# -*- test-case-name: tests.test_phases -*-
"""
Trading phases: their names, the book and engine properties that govern
them, and the schedule that changes them on the engine's clock.

A book is in one phase at a time (book property C{phase}):

 - C{closed}: new orders and replaces are refused; cancels are allowed.
 - C{pre_open}: the opening call: orders rest, nothing matches.
 - C{continuous}: price-time matching (the default).
 - C{halted}: new orders refused (C{halt_accepts_orders = yes}: they rest
   unmatched, or, with C{reopen_with_auction = no}, wait off the book
   for the resume); cancels allowed.
 - C{closing_auction}: the closing call: orders rest, nothing matches.
 - C{post_close}: orders refused (C{post_close_accepts = yes}: limit
   orders are accepted for the next day and wait off the book).

A book leaving a call (C{pre_open}, C{closing_auction}, and C{halted}
when C{reopen_with_auction = yes}) for C{continuous}, C{post_close} or
C{closed} is uncrossed (L{exsim.engine.auction}).  The rules are written
in each engine (L{exsim.engine.matching}, L{exsim.engine.reference});
this module holds what both share: names, value parsers and the
L{Schedule}.
"""

import datetime
import re
import zoneinfo

from twisted.logger import Logger

from exsim.errors import BadValue, WrongState
from exsim.model import TimeInForce
from exsim.values import parseBoolean

CLOSED = "closed"
PRE_OPEN = "pre_open"
CONTINUOUS = "continuous"
HALTED = "halted"
CLOSING_AUCTION = "closing_auction"
POST_CLOSE = "post_close"

#: Every phase, in the order of a trading day.
PHASES = (CLOSED, PRE_OPEN, CONTINUOUS, HALTED, CLOSING_AUCTION, POST_CLOSE)

#: The auction a call phase ends with (the C{auction} of auction events).
OPENING = "opening"
CLOSING = "closing"
REOPENING = "reopening"
AUCTIONS = {PRE_OPEN: OPENING, CLOSING_AUCTION: CLOSING, HALTED: REOPENING}

#: Times in force of orders that take part in one auction only.
AT_AUCTION_TIFS = frozenset([TimeInForce.AT_OPEN, TimeInForce.AT_CLOSE])

#: Why a new order with advanced terms (L{exsim.model.AdvancedTerms}) is
#: refused outside the continuous phase (% the phase).  Such orders live in
#: the continuous phase only: leaving it cancels them.
ADVANCED_OUTSIDE_CONTINUOUS = (
    "orders with advanced terms (stop, peg, hidden, iceberg, post-only, minimum quantity) "
    "are accepted only in the continuous phase, not %s"
)

#: Why a new order with advanced terms and time in force At the Opening or
#: At the Close is refused.
ADVANCED_AT_AUCTION = "orders with advanced terms cannot be At the Opening or At the Close"

#: Book properties of the phases, with their parsers and defaults.
BOOK_PROPERTIES = ("phase", "halt_accepts_orders", "reopen_with_auction", "post_close_accepts", "schedule")

#: Engine properties of the phases.
ENGINE_PROPERTIES = ("schedule", "timezone")

#: The default C{timezone} of an engine's schedule (Nasdaq's).
DEFAULT_TIMEZONE = "America/New_York"

_BY_NAME = {name: name for name in PHASES}


def parsePhase(value):
    """
    A phase name (one of L{PHASES}, as the shared constant).

    @raise BadValue: for anything else.
    """
    phase = _BY_NAME.get(str(value).strip().lower())
    if phase is None:
        raise BadValue("phase must be one of %s, not %r" % (", ".join(PHASES), value))
    return phase


def parseFlag(name, value):
    """
    A yes/no phase property (C{halt_accepts_orders}, ...).
    """
    return parseBoolean(name, value)


def parseTimezone(value):
    """
    An IANA time zone name (or C{UTC}), checked.

    @raise BadValue: if there is no such zone.
    """
    text = str(value).strip()
    if text.upper() == "UTC":
        return "UTC"
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise BadValue(
            "timezone must be an IANA time zone such as America/New_York or UTC, not %r"
            % (value,)
        )
    return text


def zoneOf(name):
    return datetime.timezone.utc if name == "UTC" else zoneinfo.ZoneInfo(name)


_ENTRY = re.compile(r"^([a-z_]+)\s+(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parseSchedule(value):
    """
    Parse a schedule: comma-separated C{phase HH:MM[:SS]} entries in
    increasing time order within one day, e.g. C{pre_open 04:00,
    continuous 09:30, closing_auction 15:55, post_close 16:00, closed
    20:00}.  C{none} or an empty value: no schedule.

    @return: a tuple of (seconds after midnight, phase), or C{()}.
    @raise BadValue: naming the entry that is wrong.
    """
    if value is None:
        return ()
    text = str(value).strip()
    if text.lower() in ("", "none"):
        return ()
    entries = []
    for part in text.split(","):
        item = " ".join(part.split()).lower()
        match = _ENTRY.match(item)
        if match is None:
            raise BadValue(
                "schedule entry %r is not 'phase HH:MM' (e.g. 'pre_open 04:00')" % (part.strip(),)
            )
        name, hours, minutes, seconds = match.groups()
        phase = _BY_NAME.get(name)
        if phase is None:
            raise BadValue(
                "schedule entry %r: unknown phase %r (known: %s)"
                % (part.strip(), name, ", ".join(PHASES))
            )
        hours, minutes, seconds = int(hours), int(minutes), int(seconds or 0)
        if hours > 23 or minutes > 59 or seconds > 59:
            raise BadValue("schedule entry %r: no such time of day" % (part.strip(),))
        at = hours * 3600 + minutes * 60 + seconds
        if entries and at <= entries[-1][0]:
            raise BadValue(
                "schedule entry %r is not after the one before it: times must increase"
                % (part.strip(),)
            )
        entries.append((at, phase))
    return tuple(entries)


def formatSchedule(entries):
    """
    The text of a parsed schedule (C{none} for no schedule).
    """
    if not entries:
        return "none"
    parts = []
    for at, phase in entries:
        hours, rest = divmod(at, 3600)
        minutes, seconds = divmod(rest, 60)
        clock = "%02d:%02d" % (hours, minutes)
        if seconds:
            clock += ":%02d" % (seconds,)
        parts.append("%s %s" % (phase, clock))
    return ", ".join(parts)


def scheduledPhase(entries, zone, seconds):
    """
    The phase C{entries} give at C{seconds} since the epoch, and when the
    next entry is due.

    @return: (phase, seconds since the epoch of the next change).  Before
        the day's first entry the day's last one holds (since yesterday).
    """
    local = datetime.datetime.fromtimestamp(seconds, zone)
    day = local.date()
    phase = None
    for at, name in entries:
        if _instant(day, at, zone) <= seconds:
            phase = name
        else:
            return (phase if phase is not None else entries[-1][1]), _instant(day, at, zone)
    tomorrow = day + datetime.timedelta(days=1)
    return phase, _instant(tomorrow, entries[0][0], zone)


def _instant(day, at, zone):
    """
    Seconds since the epoch of the local time C{at} (seconds after
    midnight) on C{day} (a wall-clock time that a daylight saving change
    skips falls after it).
    """
    hours, rest = divmod(at, 3600)
    minutes, secs = divmod(rest, 60)
    wall = datetime.datetime.combine(day, datetime.time(hours, minutes, secs), zone)
    return wall.timestamp()


class Schedule:
    """
    Runs a schedule on a clock: C{apply(old, new)} is called at once with
    the phase the schedule gives now (C{old} is None), then at every
    entry's time.

    @ivar entries: as L{parseSchedule} returns them.
    @ivar phase: the phase applied last.
    """

    log = Logger()

    def __init__(self, clock, entries, timezone, apply):
        self.clock = clock
        self.entries = entries
        self.timezone = timezone
        self.zone = zoneOf(timezone)
        self._apply = apply
        self._call = None
        self.phase = None

    def start(self):
        """
        Apply the phase of now and wait for the next entry.
        """
        self._run()

    def stop(self):
        call, self._call = self._call, None
        if call is not None and call.active():
            call.cancel()

    def _run(self, due=None):
        self._call = None
        now = self.clock.seconds()
        if due is not None:
            # Called for the entry due then: apply that one, even if the
            # clock is past it (a test's Clock.advance over several
            # entries runs each in turn: the next call is due at once) or
            # short of it by a float rounding error.
            now = due
        phase, due = scheduledPhase(self.entries, self.zone, now)
        self._call = self.clock.callLater(max(0.0, due - self.clock.seconds()), self._run, due)
        if phase != self.phase:
            old, self.phase = self.phase, phase
            self._apply(old, phase)


class Schedules:
    """
    An engine's schedules: its own (engine property C{schedule}, for
    every book without one of its own), the books' own (book property
    C{schedule}) and their time zone (engine property C{timezone}).

    The engine is told through two callables: C{market(old, new)} when its
    schedule changes the phase (C{old} is None the first time),
    C{book(symbol, phase)} when a book's own schedule does.
    """

    def __init__(self, clock, market, book):
        self.clock = clock
        self._market = market
        self._book = book
        self.timezone = DEFAULT_TIMEZONE
        self.entries = ()
        self.engine = None
        #: {symbol: Schedule} of the books with their own.
        self.books = {}

    def properties(self):
        return {"schedule": formatSchedule(self.entries), "timezone": self.timezone}

    @property
    def marketPhase(self):
        """
        The phase the engine's schedule gives now, or None without one.
        """
        return self.engine.phase if self.engine is not None else None

    def _checkClock(self):
        if self.clock is None:
            raise BadValue("a schedule needs an engine with a clock")

    def setTimezone(self, value):
        self.timezone = parseTimezone(value)
        if self.engine is not None:
            self.setSchedule(self.entries)
        for symbol, schedule in sorted(self.books.items()):
            self.setBookSchedule(symbol, schedule.entries)

    def setSchedule(self, value):
        """
        Set (or, with C{none}, remove) the engine's schedule; its phase
        of now applies at once.
        """
        entries = value if isinstance(value, tuple) else parseSchedule(value)
        if entries:
            self._checkClock()
        if self.engine is not None:
            self.engine.stop()
            self.engine = None
        self.entries = entries
        if entries:
            self.engine = Schedule(self.clock, entries, self.timezone, self._market)
            self.engine.start()

    def setBookSchedule(self, symbol, value):
        """
        Set (or remove) a book's own schedule.

        @return: True if the book has one now.
        """
        entries = value if isinstance(value, tuple) else parseSchedule(value)
        if entries:
            self._checkClock()
        old = self.books.pop(symbol, None)
        if old is not None:
            old.stop()
        if not entries:
            return False
        schedule = self.books[symbol] = Schedule(
            self.clock, entries, self.timezone, lambda old, new: self._book(symbol, new)
        )
        schedule.start()
        return True

    def removeBook(self, symbol):
        old = self.books.pop(symbol, None)
        if old is not None:
            old.stop()

    def follows(self, symbol):
        """
        Whether the book of C{symbol} follows the engine's schedule.
        """
        return self.engine is not None and symbol not in self.books

    def stop(self):
        if self.engine is not None:
            self.engine.stop()
        for schedule in self.books.values():
            schedule.stop()


class PhaseControl:
    """
    What both engines do the same way with phases, around their own rules
    (a mixin of L{exsim.engine.matching.MatchingEngine} and
    L{exsim.engine.reference.ReferenceEngine}): the operations, the phase
    properties, the schedules' callbacks and the timer of the indicative
    events.  Each engine writes the rules themselves: C{_changePhase(book,
    phase, reason)}, C{_scheduledPhase(book, phase)}, C{_indicative(book)}.

    The engine has C{books}, C{getBook}, C{batch()}, C{_events}, C{_clock},
    C{_schedules} (L{Schedules}) and C{_auctionTimer}.
    """

    def setPhase(self, symbol, phase, reason=None):
        """
        Move a book to C{phase} (a name of L{PHASES}); leaving a call
        uncrosses it.
        """
        book = self.getBook(symbol)
        phase = parsePhase(phase)
        with self.batch():
            self._changePhase(book, phase, reason)
        self._idleAuctionTimer()

    def haltBook(self, symbol, reason=None):
        """
        Halt a book (phase C{halted}); L{resumeBook} goes back to the phase
        it was in.

        @raise WrongState: if it is halted already.
        """
        book = self.getBook(symbol)
        if book.phase == HALTED:
            raise WrongState("book %r is halted already" % (symbol,))
        self.setPhase(symbol, HALTED, reason)

    def resumeBook(self, symbol):
        """
        End a halt: the book goes back to the phase the halt interrupted
        (or the one its schedule gave meanwhile), uncrossed if the halt was
        a call.

        @raise WrongState: if it is not halted.
        """
        book = self.getBook(symbol)
        if book.phase != HALTED:
            raise WrongState("book %r is not halted (its phase is %s)" % (symbol, book.phase))
        self.setPhase(symbol, book.resumePhase or CONTINUOUS)

    def marketPhase(self):
        """
        The phase the engine's schedule gives now, or None without one.
        """
        return self._schedules.marketPhase

    def indicative(self, symbol):
        """
        Where a book in a call would uncross now (an
        L{exsim.engine.events.Indicative}), or None outside a call.
        """
        book = self.getBook(symbol)
        if book.call is None:
            return None
        return self._indicative(book)

    def _setPhaseProperty(self, book, name, value):
        """
        Set one of L{BOOK_PROPERTIES}.

        @return: the value as the book's properties keep it.
        """
        if name == "phase":
            phase = parsePhase(value)
            with self.batch():
                self._changePhase(book, phase, None)
            self._idleAuctionTimer()
            return phase
        if name == "schedule":
            entries = parseSchedule(value)
            with self.batch():
                if not self._schedules.setBookSchedule(book.symbol, entries):
                    phase = self._schedules.marketPhase
                    if phase is not None:
                        # Back to the engine's schedule.
                        self._scheduledPhase(book, phase)
            self._idleAuctionTimer()
            return formatSchedule(entries)
        flag = parseFlag(name, value)
        if name == "halt_accepts_orders":
            book.haltAcceptsOrders = flag
        elif name == "reopen_with_auction":
            book.reopenWithAuction = flag
        else:
            book.postCloseAccepts = flag
        return "yes" if flag else "no"

    def _marketPhase(self, old, new):
        """
        The engine's schedule moves the market to C{new}: every book that
        follows it, in symbol order, in one batch.
        """
        from exsim.engine.events import MarketPhaseChanged

        with self.batch():
            self._events.append(MarketPhaseChanged(old, new))
            for symbol in sorted(self.books):
                if self._schedules.follows(symbol):
                    self._scheduledPhase(self.books[symbol], new)
        self._idleAuctionTimer()

    def _bookScheduled(self, symbol, phase):
        """
        A book's own schedule moves it to C{phase}.
        """
        book = self.books.get(symbol)
        if book is not None:
            with self.batch():
                self._scheduledPhase(book, phase)
            self._idleAuctionTimer()

    def _startAuctionTimer(self):
        """
        Make sure the indicative events of the books in a call go out every
        second of the engine's clock.
        """
        if self._clock is None:
            return
        timer = self._auctionTimer
        if timer is not None and timer.active():
            return
        self._auctionTimer = self._clock.callLater(1, self._auctionTick)

    def stopTimers(self):
        """
        Stop the schedules and the indicative events' timer (the simulator
        stops, or the engine is deleted): no timer is left behind.
        """
        self._schedules.stop()
        self._cancelAuctionTimer()

    def _cancelAuctionTimer(self):
        timer, self._auctionTimer = self._auctionTimer, None
        if timer is not None and timer.active():
            timer.cancel()

    def _idleAuctionTimer(self):
        """
        No book is in a call any more: the indicative timer stops.
        """
        if self._auctionTimer is not None and not any(
            book.call is not None for book in self.books.values()
        ):
            self._cancelAuctionTimer()

    def _auctionTick(self):
        """
        The indicative events of the books in a call; the next second's
        are due a second later on the clock (a test on C{task.Clock}
        advancing a call second by second sees each).
        """
        self._auctionTimer = None
        with self.batch():
            calls = [book for symbol, book in sorted(self.books.items()) if book.call is not None]
            for book in calls:
                self._events.append(self._indicative(book))
            if calls:
                self._startAuctionTimer()
