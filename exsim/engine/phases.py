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

from twisted.internet import task
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

#: The auction -> the time in force of the orders that take part in it
#: only (a reopening has none).
AUCTION_ONLY_TIFS = {OPENING: TimeInForce.AT_OPEN, CLOSING: TimeInForce.AT_CLOSE}

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
BOOK_PROPERTIES = (
    "phase", "halt_accepts_orders", "reopen_with_auction", "post_close_accepts", "schedule",
    "halt_kind", "delay_open",
)

#: Book property C{halt_kind}: what a halt of the book is when nobody says
#: (C{halt_book} without C{pause}, the phase C{halted} set or scheduled).
HALT = "halt"
PAUSE = "pause"
HALT_KINDS = (HALT, PAUSE)

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


def parseHaltKind(value):
    """
    A C{halt_kind}: C{halt} or C{pause}.

    @raise BadValue: for anything else.
    """
    kind = str(value).strip().lower()
    if kind not in HALT_KINDS:
        raise BadValue("halt_kind must be halt or pause, not %r" % (value,))
    return kind


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
    phase, reason)} (which calls L{_haltState}), and gives what the
    indicative figures need: C{_auctionInputs(book, timeInForce)}.

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

    def haltBook(self, symbol, reason=None, pause=None):
        """
        Halt a book (phase C{halted}); L{resumeBook} goes back to the phase
        it was in.  With C{pause} true, the halt is a trading pause (a
        volatility pause, Nasdaq's LULD pause): the same phase and rules,
        shown as paused where the protocol has such a state (ITCH Stock
        Trading Action C{P}); None: as the book's C{halt_kind} says.

        @raise WrongState: if it is halted already.
        """
        book = self.getBook(symbol)
        if book.phase == HALTED:
            raise WrongState("book %r is halted already" % (symbol,))
        with self.batch():
            self._changePhase(book, HALTED, reason)
            if pause is not None:
                book.paused = bool(pause)
        self._idleAuctionTimer()

    def resumeBook(self, symbol):
        """
        End a halt: the book goes back to the phase the halt interrupted
        (or the one its schedule gave meanwhile), uncrossed if the halt was
        a call.  End an opening delay (L{delayOpen}): the book leaves its
        opening call for the phase its schedule gave meanwhile (else
        C{continuous}), uncrossed.

        @raise WrongState: if it is neither halted nor delayed.
        """
        book = self.getBook(symbol)
        if book.openingDelayed:
            self.setPhase(symbol, book.delayedPhase or CONTINUOUS)
            return
        if book.phase != HALTED:
            raise WrongState(
                "book %r is not halted (its phase is %s) and its opening is not delayed"
                % (symbol, book.phase)
            )
        self.setPhase(symbol, book.resumePhase or CONTINUOUS)

    def delayOpen(self, symbol, reason=None):
        """
        Delay the opening of a book in C{pre_open}: it stays in its opening
        call (orders accepted, nothing matches) whatever its schedule says,
        until L{resumeBook} opens it; any other change of its phase ends
        the delay too.  The event L{exsim.engine.events.OpeningDelayed}.

        @raise WrongState: if the book is not in C{pre_open}, or its
            opening is delayed already.
        """
        book = self.getBook(symbol)
        if book.phase != PRE_OPEN:
            raise WrongState(
                "book %r is not in pre_open (its phase is %s): only an opening can be delayed"
                % (symbol, book.phase)
            )
        if book.openingDelayed:
            raise WrongState("the opening of book %r is delayed already" % (symbol,))
        with self.batch():
            self._delayOpening(book, reason)

    def _delayOpening(self, book, reason):
        from exsim.engine.events import OpeningDelayed

        book.openingDelayed = True
        book.delayReason = reason
        book.delayedPhase = None
        self._events.append(OpeningDelayed(book.symbol, reason))

    def _scheduledPhase(self, book, phase):
        """
        A schedule's change: a halted book stays halted, and resumes to
        the phase the schedule gave; so does a book whose opening is
        delayed.  A book with C{delay_open} in C{pre_open} does not open:
        its opening is delayed.
        """
        if book.phase is HALTED and phase is not HALTED:
            book.resumePhase = phase
        elif book.openingDelayed:
            book.delayedPhase = phase
        elif book.phase is PRE_OPEN and phase is CONTINUOUS and book.delaysOpening:
            self._delayOpening(book, None)
            book.delayedPhase = phase
        else:
            self._changePhase(book, phase, "schedule")

    def _haltState(self, book, new, reason):
        """
        Keep what a halt and an opening delay leave on a book that moves
        to phase C{new} (each engine's C{_changePhase} calls it): the halt
        reason while halted (C{haltReason}), whether the halt is a pause
        (C{paused}: the book's C{halt_kind}, unless L{haltBook} says); an
        opening delay ends with the phase.
        """
        if new is HALTED:
            book.haltReason = None if reason == "schedule" else reason
            book.paused = book.haltKind == PAUSE
        else:
            book.haltReason = None
            book.paused = False
        if book.openingDelayed:
            book.openingDelayed = False
            book.delayReason = None
            book.delayedPhase = None

    def _indicative(self, book):
        """
        The L{exsim.engine.events.Indicative} of a book in a call, from
        the engine's C{_auctionInputs(book, timeInForce)}: (bids, asks,
        market buy quantity, market sell quantity, the auction-only orders
        as (isBuy, price or None, quantity)).
        """
        from exsim.engine.auction import imbalance
        from exsim.engine.events import Indicative

        tif = AUCTION_ONLY_TIFS.get(book.call)
        bids, asks, marketBuy, marketSell, auctionOnly = self._auctionInputs(book, tif)
        figures = imbalance(
            bids, asks, marketBuy, marketSell, auctionOnly, tif is not None,
            book.referencePrice, book.lastPrice,
        )
        near = figures.near
        current = figures.current
        reference = book.referencePrice if book.referencePrice is not None else book.lastPrice
        return Indicative(
            book.symbol, book.call, near.price, near.paired, near.imbalance,
            near.imbalanceSide, reference, figures.far, current.price, current.paired,
            current.imbalance, current.imbalanceSide,
        )

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
        if name == "halt_kind":
            book.haltKind = parseHaltKind(value)
            return book.haltKind
        flag = parseFlag(name, value)
        if name == "delay_open":
            book.delaysOpening = flag
        elif name == "halt_accepts_orders":
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
        self._auctionTimer = self._clock.callLater(1, self._auctionTick, self._clock.seconds() + 1)

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

    def _auctionTick(self, due):
        """
        The indicative events of the books in a call, for the second
        C{due}; the next second's are due a second later on the clock.

        A venue publishes them every second (Nasdaq's NOII), so a clock
        that jumps N seconds at once (C{task.Clock.advance(N)}) gets the N
        of the seconds jumped over, each in its place among the other calls
        due meanwhile (an order, a schedule's change that ends the call):
        a test clock runs calls that are due in the past in time order, so
        the next one is scheduled at its own second even when that is
        already past.  A real reactor that fell behind (its calls cannot be
        due in the past) sends the one that is late and goes on a second
        later: no burst of stale figures after a stall.
        """
        self._auctionTimer = None
        with self.batch():
            calls = [book for symbol, book in sorted(self.books.items()) if book.call is not None]
            for book in calls:
                self._events.append(self._indicative(book))
            if calls:
                now = self._clock.seconds()
                due += 1
                delay = due - now
                if delay < 0 and not isinstance(self._clock, task.Clock):
                    # A real reactor that fell behind (a stalled process):
                    # no burst of stale figures; the next a second from now.
                    due, delay = now + 1, 1
                self._auctionTimer = self._clock.callLater(delay, self._auctionTick, due)


def initPhaseState(book):
    """
    Give a book (of either engine) the trading-phase state it keeps
    besides its phase: the phase properties and what a halt, a delayed
    opening and a call hold.  (The fast engine's book keeps finished
    orders in the lists until the engine next goes through them.)
    """
    book.haltAcceptsOrders = False
    book.reopenWithAuction = True
    book.postCloseAccepts = False
    # The phase a halt interrupted (where resume_book goes back to).
    book.resumePhase = None
    # The reason given for the halt, while halted (None: none).
    book.haltReason = None
    # Whether the halt is a trading pause (halt_book's pause, else
    # the book property halt_kind: haltKind), and whether the
    # schedule's opening waits for resume_book (delay_open).
    book.paused = False
    book.haltKind = "halt"
    book.delaysOpening = False
    # Whether the opening is delayed (delay_open), its reason, and
    # the phase the schedule gave meanwhile (where resume_book goes).
    book.openingDelayed = False
    book.delayReason = None
    book.delayedPhase = None
    # The auction the orders collected now are for (OPENING, CLOSING,
    # REOPENING), or None outside a call.
    book.call = None
    # Live market orders waiting for the uncross, oldest first.
    book.marketOrders = []
    # {auction: (price, quantity)} of its last uncross that traded
    # (the opening and closing prices of market data).
    book.auctionPrices = {}
    # Live orders waiting off the book for a later phase, in arrival
    # order.
    book.parked = []
    # Order ids of parked orders accepted for the next day (end of
    # day spares them).
    book.forNextDay = set()
