# -*- test-case-name: tests.test_control_queue -*-
"""
The control event queue: what C{get_events} drains.

Every engine event and every session event becomes a plain dict::

    {"event_id": 17, "type": "filled", "time": 1700000000.25, ...fields}

C{event_id} grows by one for every event, including the ones lost to an
overflow, so a gap is visible.  Prices are decimal text, like every price
of the management API.

The queue is bounded.  When it is full, new events are dropped and
counted; as soon as there is room again an C{events_lost} event (with
C{count}, C{first_event_id} and C{last_event_id} of what was dropped) is
queued in their place, before anything newer.  Loss is never silent.
"""

from collections import deque
from decimal import Decimal

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine.delivery import Failures
from exsim.engine.events import BookChanged, Indicative, MarketPhaseChanged, PhaseChanged, Trade
from exsim.errors import BadValue
from exsim.interfaces import IEngineListener
from exsim.model import DEFAULT_PRICE_SCALE, T_OWNER, Instrument
from exsim.owners import Owner

#: Default bound of the queue.
DEFAULT_SIZE = 100000

#: Most events one C{get_events} call returns (Perspective Broker limits
#: the size of one message; a client asks again for more).
PAGE_SIZE = 1000

#: Engine event fields holding internal prices, shown as decimal text.
PRICE_FIELDS = (
    "price", "order_price", "old_price", "request_price", "reference_price", "stop_price",
    "request_stop_price", "peg_limit", "far_price", "current_reference_price",
)

_DEFAULT_INSTRUMENT = Instrument("?", priceScale=DEFAULT_PRICE_SCALE)


def formatPrice(instrument, internal):
    """
    An internal price as decimal text, with at least the decimal places of
    the instrument's tick size (C{"10.50"} for a tick of 0.01), or of its
    C{price_decimals} when that is set and more.
    """
    price = instrument.toDecimal(internal)
    tick = instrument.toDecimal(instrument.tickSize).normalize()
    exponent = tick.as_tuple().exponent
    decimals = instrument.priceDecimals
    if decimals is not None and -decimals < exponent:
        # price_decimals (reference data): at least that many places.
        exponent = -decimals
        tick = Decimal(1).scaleb(exponent)
    if price.as_tuple().exponent > exponent:
        price = price.quantize(tick)
    return str(price)


def formatAverage(instrument, notional, quantity):
    """
    An average price (C{notional / quantity}, internal units) as decimal
    text with at most 8 decimal places; C{"0"} when nothing is filled.
    """
    if not quantity:
        return "0"
    average = Decimal(notional) / quantity / instrument.priceScale
    # Fixed-point text: normalize() alone writes 10 as "1E+1".
    return format(average.quantize(Decimal("1e-8")).normalize(), "f")


def parseSize(value):
    """
    Parse a queue bound: a whole number of at least 2.

    @raise BadValue: otherwise.
    """
    try:
        size = int(str(value).strip())
    except (TypeError, ValueError):
        raise BadValue("event_queue_size must be a whole number, not %r" % (value,))
    if size < 2:
        raise BadValue("event_queue_size must be at least 2, not %r" % (value,))
    return size


def withoutActivity(events):
    """
    The events of a batch minus the background's own (a book's activity,
    a replay, a mirrored feed: owners that stand for the rest of the
    market): a batch that a background order started keeps only the order
    events of other owners (a client order the background traded with) and
    their trades; any other batch is kept whole.
    """
    for event in events:
        order = getattr(event, "order", None)
        if order is not None:
            break
    else:
        return events
    owner = order.terms[T_OWNER]
    if owner.__class__ is not Owner or not owner.isBackground:
        return events
    # Most events of such a batch (a replay's chunk holds thousands) are
    # that owner's or book changes (which go with the order that made
    # them): left out in one quick pass, the rest looked at one by one.
    events = [
        event for event in events
        if event.__class__ is not BookChanged
        and ((order := getattr(event, "order", None)) is None or order.terms[T_OWNER] is not owner)
    ]
    kept = []
    tradeIds = set()
    for event in events:
        cls = event.__class__
        order = getattr(event, "order", None)
        if order is not None:
            owner = order.terms[T_OWNER]
            if owner.__class__ is Owner and owner.isBackground:
                continue
            kept.append(event)
            tradeId = getattr(event, "tradeId", None)
            if tradeId is not None:
                tradeIds.add(tradeId)
        elif cls is Trade and event.tradeId in tradeIds:
            kept.append(event)
    return kept


def engineEventFields(event, engine):
    """
    The queue fields of one engine event: its C{asDict()}, prices as
    decimal text for the instrument of its book.

    @return: (event type, fields).
    """
    fields = event.asDict()
    eventType = fields.pop("type", getattr(event, "type", "event"))
    symbol = fields.get("symbol")
    books = getattr(engine, "books", {})
    book = books.get(symbol) if symbol is not None else None
    instrument = book.instrument if book is not None else _DEFAULT_INSTRUMENT
    for name in PRICE_FIELDS:
        value = fields.get(name)
        if type(value) is int:
            fields[name] = formatPrice(instrument, value)
    if "avg_px" in fields:
        fields["avg_px"] = formatAverage(
            instrument, getattr(event, "notional", 0), getattr(event, "cumQty", 0)
        )
    return eventType, fields


@implementer(IEngineListener)
class EngineEventListener:
    """
    Subscribed to one engine: queues its events.

    A batch is queued as it is, in O(1); each event becomes a dict only
    when C{get_events} takes it (engine events carry a snapshot of what they
    report, so converting later gives the same dict).  Turning every event
    into decimal text as it happened would cost the engine most of its
    throughput.

    @ivar engineName: the name the simulator knows the engine by.
    """

    def __init__(self, queue, engineName, engine):
        self.queue = queue
        self.engineName = engineName
        self.engine = engine

    def engineEvents(self, events):
        """
        Queue a batch of this engine's events (converted when taken), or
        as many as fit; the rest are counted as lost.  The background
        activity's own events are left out unless the queue's
        C{activityEvents} is set.  (The queue's work, done here: one call
        a batch fewer.)
        """
        queue = self.queue
        if events[-1].__class__ is Indicative or events[0].__class__ is MarketPhaseChanged:
            events = queue._changedIndicatives(self.engineName, events)
            if not events:
                return
        if not queue.activityEvents and Owner.anyBackground:
            events = withoutActivity(events)
            if not events:
                return
        room = queue.maxSize - queue._count
        if queue.lost and room > 0:
            # The first room made goes to the loss report.
            queue._reportLoss()
            room = queue.maxSize - queue._count
        if queue.taps:
            queue._tapBatch(self.engineName, self.engine, events)
        if room <= 0:
            # Full (the common case of a busy simulator nobody reads).
            queue._lose(len(events))
            return
        if len(events) > room:
            kept = events[:room]
            lost = len(events) - room
        else:
            # The engine never changes a batch once delivered: keep it.
            kept = events
            lost = 0
        # (A tuple, made a _Batch when first read: most batches of a busy
        # simulator are never read, or read whole.)
        nextId = queue._nextId
        queue._events.append((nextId, queue.clock.seconds(), self.engineName, self.engine, kept))
        queue._nextId = nextId + len(kept)
        queue._count += len(kept)
        if lost:
            queue._lose(lost)


#: Events whose fields could not be converted (L{_Batch.take}).
_conversionFailures = Failures("control event queue")


class _Batch:
    """
    Engine events queued unconverted: event ids C{firstId} + offset.
    """

    __slots__ = ("firstId", "time", "engineName", "engine", "events", "offset")

    def __init__(self, firstId, time, engineName, engine, events):
        self.firstId = firstId
        self.time = time
        self.engineName = engineName
        self.engine = engine
        self.events = events
        self.offset = 0

    def take(self):
        """
        Convert and remove the next event.
        """
        i = self.offset
        self.offset = i + 1
        return self.convert(i)

    def convert(self, i):
        """
        The dict of event C{i} of the batch (C{firstId + i}), left in place.
        """
        event = self.events[i]
        try:
            eventType, fields = engineEventFields(event, self.engine)
        except Exception:
            # Never lose the event: its type, and what went wrong.
            _conversionFailures.note("a %s event" % (type(event).__name__,))
            eventType = getattr(event, "type", None) or type(event).__name__
            fields = {"error": "this event's fields could not be converted"}
        entry = {"event_id": self.firstId + i, "type": eventType, "time": self.time}
        for key, value in fields.items():
            if key not in entry:
                entry[key] = value
        entry["engine"] = self.engineName
        return entry

    def __len__(self):
        return len(self.events) - self.offset


def batchEntries(firstId, time, engineName, engine, events):
    """
    The dicts of a batch of engine events numbered from C{firstId}, as
    C{get_events} would give them (for the queue's taps).
    """
    batch = _Batch(firstId, time, engineName, engine, events)
    return [batch.convert(i) for i in range(len(events))]


class EventQueue:
    """
    A bounded FIFO of event dicts.

    @ivar maxSize: the bound.
    @ivar lost: events dropped since the last C{events_lost} report.
    """

    log = Logger()

    #: Whether the background activity's own events are queued.
    activityEvents = False

    def __init__(self, clock, maxSize=DEFAULT_SIZE):
        self.clock = clock
        self.maxSize = parseSize(maxSize)
        # Dicts ready to go, and batches of engine events converted on the
        # way out: (firstId, time, engineName, engine, events) tuples, made
        # _Batch entries when first read.
        self._events = deque()
        self._count = 0
        self._nextId = 1
        self.lost = 0
        self._firstLost = None
        self._lastLost = None
        self._listeners = {}
        #: Followers of every event offered to the queue, queued or lost
        #: (see L{addTap}).
        self.taps = []
        # {(engine name, symbol): figures of the last auction_indicative
        # event queued}
        self._indicatives = {}

    def __len__(self):
        return self._count

    def setMaxSize(self, value):
        """
        Change the bound; events already queued beyond it stay.
        """
        self.maxSize = parseSize(value)

    # -- sources -------------------------------------------------------------

    def watchEngine(self, name, engine):
        """
        Queue every later event of C{engine}, tagged with C{name}.
        """
        self.unwatchEngine(name)
        listener = self._listeners[name] = EngineEventListener(self, name, engine)
        engine.subscribe(listener)

    def unwatchEngine(self, name):
        listener = self._listeners.pop(name, None)
        if listener is not None:
            listener.engine.unsubscribe(listener)

    def addTap(self, tap):
        """
        Tell C{tap} about every later event, whether the queue keeps it or
        not: C{tap.entry(entry)} with each session event's dict, and
        C{tap.batch(firstId, time, engineName, engine, events)} with each
        batch of engine events (unconverted: L{engineEventFields} makes
        one a dict), numbered as C{get_events} numbers them.  While no tap
        is added this costs the queue one test per event.
        """
        self.taps.append(tap)

    def removeTap(self, tap):
        if tap in self.taps:
            self.taps.remove(tap)

    def _tapBatch(self, engineName, engine, events):
        now = self.clock.seconds()
        for tap in list(self.taps):
            tap.batch(self._nextId, now, engineName, engine, events)

    def sessionEvent(self, eventType, fields):
        """
        A session event (an L{exsim.service.Simulator} event sink).
        """
        self.add(eventType, dict(fields))

    # -- the queue -----------------------------------------------------------

    def _entry(self, eventType, fields):
        entry = {"event_id": self._nextId, "type": eventType, "time": self.clock.seconds()}
        self._nextId += 1
        for key, value in fields.items():
            if key not in entry:
                entry[key] = value
        return entry

    def add(self, eventType, fields):
        """
        Queue one event, or count it as lost if the queue is full.
        """
        self._reportLoss()
        if self._count >= self.maxSize:
            if self.taps:
                entry = self._entry(eventType, fields)
                self._nextId -= 1
                for tap in list(self.taps):
                    tap.entry(entry)
            self._lose(1)
            return
        entry = self._entry(eventType, fields)
        self._events.append(entry)
        self._count += 1
        if self.taps:
            for tap in list(self.taps):
                tap.entry(dict(entry))

    def _changedIndicatives(self, engineName, events):
        """
        A batch with C{auction_indicative} events (sent every second during
        a call) minus those whose figures did not change since the last
        one of their book's call.
        """
        kept = []
        last = self._indicatives
        for event in events:
            cls = event.__class__
            if cls is Indicative:
                key = (engineName, event.symbol)
                figures = (
                    event.auction, event.price, event.paired, event.imbalance,
                    event.imbalanceSide, event.referencePrice, event.farPrice,
                    event.currentReferencePrice, event.currentPaired, event.currentImbalance,
                    event.currentImbalanceSide,
                )
                if last.get(key) == figures:
                    continue
                last[key] = figures
            elif cls is PhaseChanged:
                # A new call: its first figures are news.
                last.pop((engineName, event.symbol), None)
            kept.append(event)
        return kept

    def _lose(self, count):
        firstId = self._nextId
        self._nextId += count
        if not self.lost:
            self._firstLost = firstId
            self.log.warn(
                "control event queue full ({size} events): dropping events",
                size=self.maxSize,
            )
        self.lost += count
        self._lastLost = self._nextId - 1

    def _reportLoss(self):
        if self.lost and self._count < self.maxSize:
            self._count += 1
            self._events.append(
                self._entry(
                    "events_lost",
                    {
                        "count": self.lost,
                        "first_event_id": self._firstLost,
                        "last_event_id": self._lastLost,
                        "queue_size": self.maxSize,
                    },
                )
            )
            self.lost = 0
            self._firstLost = self._lastLost = None

    def putBack(self, events):
        """
        Return events taken by L{get} but not delivered to the front of
        the queue, in their order.
        """
        self._events.extendleft(reversed(events))
        self._count += len(events)

    def peek(self, maxCount=None, after=None):
        """
        Up to C{maxCount} queued events (at most L{PAGE_SIZE}; C{None}
        means a full page), oldest first, as L{get} would return them, but
        left in the queue.

        @param after: an event id: only events after it.
        @raise BadValue: if C{maxCount} is not a positive whole number or
            C{after} not a whole number.
        """
        maxCount = _maxCount(maxCount)
        if after is not None:
            try:
                after = int(str(after).strip()) if type(after) is not int else after
            except ValueError:
                raise BadValue("after must be an event id (a whole number), not %r" % (after,))
        result = []
        for head in self._events:
            if len(result) >= maxCount:
                break
            if type(head) is tuple:
                head = _Batch(*head)
            if type(head) is _Batch:
                last = head.firstId + len(head.events) - 1
                if after is not None and last <= after:
                    continue
                start = head.offset if after is None else max(head.offset, after + 1 - head.firstId)
                for i in range(start, len(head.events)):
                    if len(result) >= maxCount:
                        break
                    result.append(head.convert(i))
            elif after is None or head["event_id"] > after:
                result.append(dict(head))
        return result

    def get(self, maxCount=None):
        """
        Remove and return up to C{maxCount} events (at most L{PAGE_SIZE};
        C{None} means a full page), oldest first.

        @raise BadValue: if C{maxCount} is not a positive whole number.
        """
        maxCount = _maxCount(maxCount)
        events = self._events
        result = []
        while events and len(result) < maxCount:
            head = events[0]
            if type(head) is tuple:
                head = events[0] = _Batch(*head)
            if type(head) is _Batch:
                result.append(head.take())
                if not len(head):
                    events.popleft()
            else:
                result.append(events.popleft())
            self._count -= 1
            # The first room made goes to the loss report, in the place
            # of the events it stands for.
            self._reportLoss()
        return result


def _maxCount(maxCount):
    """
    A C{max_count} argument as a number of events: C{None} is a full page;
    at most L{PAGE_SIZE}.

    @raise BadValue: if it is not a positive whole number.
    """
    if maxCount is None:
        return PAGE_SIZE
    if type(maxCount) is not int:
        try:
            maxCount = int(str(maxCount).strip())
        except ValueError:
            raise BadValue("max_count must be a whole number, not %r" % (maxCount,))
    if maxCount <= 0:
        raise BadValue("max_count must be positive, not %r" % (maxCount,))
    return min(maxCount, PAGE_SIZE)
