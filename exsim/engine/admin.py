# -*- test-case-name: tests.test_matching -*-
"""
The plumbing both engines share: configuration, books, listeners, the
clock, batches and the delivery of events.

L{EngineAdmin} is a base class of L{exsim.engine.matching.MatchingEngine}
and of L{exsim.engine.reference.ReferenceEngine}.  It holds no matching
rule: each engine writes its rules itself (the reference engine is the
plain oracle the fast one is checked against), and plugs them in here
through a few methods:

 - C{_newBook(instrument, behaviour)}: a new, empty book of the engine's
   kind;
 - C{_booksChanged(book=None)}: a book was added or removed, the
   properties of C{book} were set, or the bounds of every book changed;
 - C{_settleBooks()}: what settles before events go out (waiting stops
   that trades reached, pegs whose touch moved), called while
   C{_settling} is true;
 - C{getOrder(orderId)}, C{liveOrders()}, C{_cancel(order, reason)},
   C{_pending} (held cancels and replaces by order id), and the phase
   rules of L{exsim.engine.phases.PhaseControl} (C{_changePhase},
   C{_marketPhase}, C{_bookScheduled}).
"""

from contextlib import contextmanager

from exsim.engine import phases
from exsim.engine.behaviours import Standard
from exsim.engine.bookproperties import setBookProperty
from exsim.engine.delivery import Failures
from exsim.engine.limits import Carriers
from exsim.errors import BadValue, DuplicateName, UnknownName, WrongState
from exsim.model import CancelReason

MODES = ("auto", "managed")
#: Values of the engine property managed_ack: what a client hears when its
#: new order is held in managed mode (nothing, or a PendingNew report).
MANAGED_ACKS = ("none", "pending_new")


def _oneOf(name, value, known):
    """
    C{value} of property C{name}, one of C{known} (case and surrounding
    blanks aside).

    @raise BadValue: if it is none of them.
    """
    value = str(value).strip().lower()
    if value not in known:
        raise BadValue("%s must be one of %s, not %r" % (name, ", ".join(known), value))
    return value


class EngineAdmin:
    """
    An engine's plumbing (see the module's docstring for what the engine
    provides).

    @ivar mode: C{"auto"}, or C{"managed"}: requests from the wire are held
        as L{exsim.engine.events.OrderRequest} events until a test answers
        them (C{_managed}: whether it is C{"managed"}).
    @ivar managedAck: the property C{managed_ack} (C{_ackHeld}: whether it
        is C{"pending_new"}).
    @ivar listenerFailures: {listener: L{Failures}} of the listeners that
        raised.
    """

    def __init__(self, name, clock):
        self.name = name
        self.mode = "auto"
        self._managed = False
        self.managedAck = "none"
        self._ackHeld = False
        self.books = {}
        self._clock = clock
        self._listeners = []
        # The listeners as delivery loops over them.
        self._listenerTuple = ()
        self.listenerFailures = {}
        # While a command, a batch or a delivery runs, events wait here:
        # they go out together when it ends.
        self._events = []
        self._busy = False
        # Whether _settleBooks must run before events go out.
        self._settling = False
        # The bounds of what the protocols attached can carry.
        self._carriers = Carriers()
        # {owner: stp_group} (see setStpGroup).
        self._stpGroups = {}
        self._nextOrderId = 1
        self._nextExecId = 1
        self._nextTradeId = 1
        # The schedules of the trading phases, and the timer of the
        # indicative auction events.
        self._schedules = phases.Schedules(clock, self._marketPhase, self._bookScheduled)
        self._auctionTimer = None

    # -- configuration -----------------------------------------------------

    def setProperty(self, name, value):
        if name == "mode":
            self.mode = _oneOf(name, value, MODES)
            self._managed = self.mode == "managed"
        elif name == "managed_ack":
            self.managedAck = _oneOf(name, value, MANAGED_ACKS)
            self._ackHeld = self.managedAck == "pending_new"
        elif name == "schedule":
            self._schedules.setSchedule(value)
        elif name == "timezone":
            self._schedules.setTimezone(value)
        else:
            raise BadValue(
                "unknown engine property %r (known: mode, managed_ack, schedule, timezone)"
                % (name,)
            )

    def properties(self):
        result = {"mode": self.mode, "managed_ack": self.managedAck}
        result.update(self._schedules.properties())
        return result

    def addBook(self, instrument, behaviour=None):
        if instrument.symbol in self.books:
            raise DuplicateName(
                "engine %r already has a book for %r" % (self.name, instrument.symbol)
            )
        book = self._newBook(instrument, Standard() if behaviour is None else behaviour)
        book.limits.update(self._carriers.bounds())
        self.books[instrument.symbol] = book
        self._booksChanged()
        phase = self._schedules.marketPhase
        if phase is not None:
            # A new book follows the engine's schedule.
            self._changePhase(book, phase, "schedule")
            self._flush()
        return book

    def removeBook(self, symbol):
        """
        Remove a book; its live orders are cancelled.
        """
        book = self.getBook(symbol)
        for order in self.liveOrders():
            if order.symbol == symbol:
                self._cancel(order, CancelReason.UNSOLICITED)
        self._flush()
        activity = getattr(book, "activity", None)
        if activity is not None:
            activity.stop()
        self._schedules.removeBook(symbol)
        del self.books[symbol]
        self._booksChanged()

    def setBookProperty(self, symbol, name, value):
        """
        Set a book property (see L{exsim.engine.bookproperties}).
        """
        book = self.getBook(symbol)
        setBookProperty(self, book, name, value, self._carriers.bounds())
        self._booksChanged(book)

    def setCarried(self, key, quantity, price):
        """
        Bound the quantities and prices of every book by what a protocol
        attached to this engine can carry (an endpoint, named C{key}): an
        order outside what any attached protocol can carry is rejected.

        @param quantity: the largest quantity it carries, or None.
        @param price: the highest price (internal units), or None.  Both
            None: C{key} is detached.
        """
        self._carriers.set(key, quantity, price)
        bounds = self._carriers.bounds()
        for book in self.books.values():
            book.limits.update(bounds)
        self._booksChanged()

    def setStpGroup(self, owner, group):
        """
        Put C{owner}'s orders in self-trade prevention group C{group} (an
        endpoint's or session's C{stp_group}; None: the owner's own).
        """
        if group is None:
            self._stpGroups.pop(owner, None)
        else:
            self._stpGroups[owner] = group

    def getBook(self, symbol):
        try:
            return self.books[symbol]
        except KeyError:
            raise UnknownName("engine %r has no book %r" % (self.name, symbol))

    # -- orders --------------------------------------------------------------

    def _liveOrder(self, orderId):
        order = self.getOrder(orderId)
        if order is None:
            raise UnknownName("engine %r has no live order %r" % (self.name, orderId))
        return order

    def cancelUnsolicited(self, orderId, reason=CancelReason.UNSOLICITED):
        """
        Cancel a live order unasked (a held cancel or replace of it is
        dropped).
        """
        order = self._liveOrder(orderId)
        self._pending.pop(order.orderId, None)
        self._cancel(order, reason)
        self._flush()

    # -- listeners and time ------------------------------------------------

    def subscribe(self, listener, first=False):
        """
        Deliver every later batch of events to C{listener} (before every
        other listener if C{first}: the engine journal).
        """
        if listener not in self._listeners:
            if first:
                self._listeners.insert(0, listener)
            else:
                self._listeners.append(listener)
            self._listenerTuple = tuple(self._listeners)

    def unsubscribe(self, listener):
        if listener in self._listeners:
            self._listeners.remove(listener)
            self._listenerTuple = tuple(self._listeners)

    @property
    def clock(self):
        return self._clock

    def now(self):
        return self._clock.seconds() if self._clock is not None else 0.0

    def callLater(self, delay, f, *args):
        """
        Run C{f(*args)} after C{delay} seconds (at once without a clock),
        then deliver the events it produced.
        """
        if self._clock is None:
            self._timed(f, args)
            return None
        return self._clock.callLater(delay, self._timed, f, args)

    def _timed(self, f, args):
        try:
            f(*args)
        except (UnknownName, WrongState):
            # The order finished meanwhile: nothing to do.
            pass
        self._flush()

    # -- delivery ----------------------------------------------------------

    @contextmanager
    def batch(self):
        """
        Deliver the events of every command run in this context as one
        batch, at its end (a quote replacing both its sides, say).
        """
        try:
            with self._holdingEvents():
                yield
        finally:
            self._flush()

    @contextmanager
    def _holdingEvents(self):
        """
        Deliver nothing while this context runs (a behaviour: the
        primitives it calls deliver nothing on their own; the whole
        command's events go out together, when the command ends).
        """
        outer = self._busy
        self._busy = True
        try:
            yield
        finally:
            self._busy = outer

    def _flush(self):
        """
        Give the events queued so far to every listener, as one batch;
        events queued meanwhile (by listeners) go out next, as another.
        Nothing goes out while a command, batch or delivery is running.
        The books settle first, and after each batch.
        """
        if self._busy:
            return
        self._busy = True
        try:
            if self._settling:
                self._settleBooks()
            events = self._events
            while events:
                self._events = []
                for listener in self._listenerTuple:
                    try:
                        listener.engineEvents(events)
                    except Exception:
                        self._listenerFailed(listener)
                if self._settling:
                    self._settleBooks()
                events = self._events
        finally:
            self._busy = False

    def _listenerFailed(self, listener):
        """
        A listener raised on a batch: count it and log the first of its
        kind; the other listeners still get the batch.
        """
        failures = self.listenerFailures.get(listener)
        if failures is None:
            failures = self.listenerFailures[listener] = Failures(listener)
        failures.note("a batch of engine %s" % (self.name,))

    def _execId(self):
        execId = self._nextExecId
        self._nextExecId = execId + 1
        return execId
