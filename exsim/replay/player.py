# -*- test-case-name: tests.test_replay -*-
"""
The player: applies a recording's actions (L{exsim.replay.recording}) to
one book, as orders of the owner C{replay/<symbol>}, on the reactor's
clock.

Replayed orders are real orders, entered through the engine's house-order
role (L{exsim.interfaces.IHouseOrders}, never held in managed mode): they
rest, show on every feed, and trade with the orders of the applications
under test.  The recording's own executions are fills against the house
(L{exsim.interfaces.IMatchingPrimitives.fillOrder}), so they print as
trades and move the last price.

When a client order has taken liquidity of a replayed order, the recording
does not know it: it later executes, cancels, replaces or deletes shares
that are gone.  The player then applies what is left of the order, never
less than nothing, and counts a conflict.  Put as a rule: a replayed order
shows what the recording has left of it minus what clients took of it
(carried through its replaces), or nothing.
"""

import itertools
from bisect import bisect_left, bisect_right
from operator import itemgetter

from twisted.logger import Logger

from exsim.errors import BadValue, ExsimError
from exsim.gcpolicy import paused
from exsim.interfaces import IHouseOrders, IMatchingPrimitives, IOrderEntry
from exsim.model import Order, OrdStatus, Side
from exsim.owners import replayOwner
from exsim.replay.recording import (
    ADD,
    CANCEL,
    DELETE,
    EXECUTE,
    QUOTE,
    REPLACE,
    SECOND,
    TRADE,
    ReplayError,
    formatTime,
)
from exsim.roles import roleOf

BUY = Side.BUY
SELL = Side.SELL
REJECTED = OrdStatus.REJECTED

#: Actions applied at most in one turn of the reactor (then the reactor
#: runs other work, clients' orders among it, before the next chunk): at
#: most about 10 ms of work, and few engine events alive at a time.
CHUNK = 2000

#: The states of a replay.
RUNNING, PAUSED, FINISHED, STOPPED, FAILED = "running", "paused", "finished", "stopped", "failed"

_runs = itertools.count(0)
_time = itemgetter(0)

#: The slots of an L{Order}, which L{newOrder} sets every one of.
_ORDER_SLOTS = (
    "orderId", "clOrdId", "terms", "price", "quantity", "cumQty", "leavesQty", "notional",
    "status", "userData", "resting", "entered",
)
if tuple(Order.__slots__) != _ORDER_SLOTS:
    raise ImportError("exsim.model.Order's slots changed: update exsim.replay.player.newOrder")

_newObject = Order.__new__
_PENDING_NEW = OrdStatus.PENDING_NEW


def newOrder(terms, clOrdId, quantity, price):
    """
    A new plain limit order of C{terms} (the C{terms} of an order made by
    L{Order} with the same owner, symbol and side): what
    C{Order(owner, clOrdId, symbol, side, quantity, price)} makes, in less
    than half its time (it looks its terms up every time), for the replay
    of a million messages.
    """
    order = _newObject(Order)
    order.orderId = 0
    order.clOrdId = clOrdId
    order.terms = terms
    order.price = price
    order.quantity = quantity
    order.cumQty = 0
    order.leavesQty = quantity
    order.notional = 0
    order.status = _PENDING_NEW
    order.userData = None
    order.resting = False
    order.entered = None
    return order

#: Reactor seconds an action may be applied early, and the shortest wait.
_SLACK = 1e-6

#: The counters of a replay, in the order get_replay lists them.
COUNTERS = (
    "messages", "orders", "executions", "cancels", "replaces", "trades", "quotes",
    "conflicts", "rejected", "unknown",
)


def parseSpeed(value):
    """
    A replay speed: a positive multiple of recorded time (C{1}, C{10},
    C{0.5}) or C{max}.

    @return: a float, or None for C{max}.
    """
    if isinstance(value, str) and value.strip().lower() == "max":
        return None
    if isinstance(value, bool):
        raise BadValue("speed must be a positive number or max, not %r" % (value,))
    try:
        speed = float(value)
    except (TypeError, ValueError):
        raise BadValue("speed must be a positive number or max, not %r" % (value,))
    if not 0 < speed <= 10**6:
        raise BadValue("speed must be above 0 and at most 1000000 (or max), not %r" % (value,))
    return speed


class Replay:
    """
    One replay of a recording into one book.

    @ivar state: C{running}, C{paused}, C{finished} (the end of the
        recording), C{stopped} or C{failed} (the recording could not be
        read to its end: C{error} says why).
    @ivar position: the recorded time (nanoseconds since midnight) of the
        last action applied, or None.
    @ivar counts: {counter: value} (L{COUNTERS}).
    """

    log = Logger()

    #: Actions applied at most in one turn of the reactor.
    chunk = CHUNK

    def __init__(self, bookName, engine, symbol, recording, speed, start, clock, report, source):
        self.bookName = bookName
        self.engine = engine
        self.symbol = symbol
        self.recording = recording
        self.speed = speed
        self.start = start
        self.clock = clock
        self.report = report
        self.source = source
        self.owner = replayOwner(symbol)
        #: {isBuy: the terms of the replay's orders of that side}
        self._terms = {
            isBuy: Order(self.owner, "", symbol, BUY if isBuy else SELL, 1, 1).terms
            for isBuy in (True, False)
        }
        self._house = roleOf(engine, IHouseOrders, "a replay")
        self._primitives = roleOf(engine, IMatchingPrimitives, "a replay")
        self._orderEntry = roleOf(engine, IOrderEntry, "a replay")
        # Client order ids of this run: the recorded order reference plus
        # a base unique to the run (0 for the first replay of the
        # process), so that a book can be replayed again.  Whole numbers:
        # cheaper to make than text, and never on a wire.
        run = next(_runs)
        self._base = run << 64
        self._prefix = "r%d:" % (run,)
        self.state = RUNNING
        self.error = None
        self.position = None
        self.counts = dict.fromkeys(COUNTERS, 0)
        #: {recorded order reference: [engine order or None, shares the
        #: recording has left, shares clients took, isBuy]}
        self._entries = {}
        #: {isBuy: [engine order or None, price, size, taken]} of a quotes
        #: recording.
        self._quote = {True: None, False: None}
        self._pending = []
        self._next = 0
        self._exhausted = False
        self._call = None
        # Pacing: recorded time t0 is due at reactor time w0.
        self._t0 = None
        self._w0 = None

    # -- control -------------------------------------------------------------

    def begin(self):
        self.report(
            "replay_started", book=self.bookName, symbol=self.symbol, source=self.source,
            format=self.recording.format, speed="max" if self.speed is None else self.speed,
            start=formatTime(self.start),
        )
        self._schedule(0)

    def pause(self):
        self._cancelCall()
        self.state = PAUSED

    def resume(self):
        self.state = RUNNING
        self._t0 = None
        self._schedule(0)

    def stop(self):
        """
        Stop, and cancel the replay's orders still in the book.
        """
        self._cancelCall()
        if self.state in (RUNNING, PAUSED):
            self.state = STOPPED
            self._withdraw()
            self._finished()

    def _withdraw(self):
        try:
            self._orderEntry.cancelAll(owner=self.owner, symbol=self.symbol)
        except ExsimError:
            # The book is gone already.
            pass

    def _cancelCall(self):
        if self._call is not None and self._call.active():
            self._call.cancel()
        self._call = None

    def _schedule(self, delay):
        self._call = self.clock.callLater(max(0.0, delay), self._step)

    def _finished(self):
        self.recording.close()
        fields = {"book": self.bookName, "symbol": self.symbol, "state": self.state}
        fields.update(self.counts)
        fields["position"] = formatTime(self.position)
        fields["error"] = self.error
        self.report("replay_finished", **fields)

    def describe(self):
        """
        The replay as a plain dict (what C{get_replay} returns).
        """
        result = {
            "book": self.bookName,
            "symbol": self.symbol,
            "source": self.source,
            "format": self.recording.format,
            "state": self.state,
            "speed": "max" if self.speed is None else self.speed,
            "start": formatTime(self.start),
            "position": formatTime(self.position),
            "error": self.error,
        }
        result.update(self.counts)
        result["live_orders"] = self.liveOrders()
        return result

    def liveOrders(self):
        """
        How many replayed orders are live in the book.
        """
        orders = [entry[0] for entry in self._entries.values()]
        orders.extend(side[0] for side in self._quote.values() if side is not None)
        return sum(1 for order in orders if order is not None and order.leavesQty and not order.isDone)

    # -- the clock -----------------------------------------------------------

    def _refill(self):
        """
        Read the next actions of the recording when every one read is
        applied.

        @return: False at the end of the recording.
        """
        if self._next < len(self._pending):
            return True
        if self._exhausted:
            return False
        self._pending = self.recording.read(self.chunk)
        self._next = 0
        if not self._pending:
            self._exhausted = True
            return False
        return True

    def _step(self):
        self._call = None
        if self.state != RUNNING:
            return
        try:
            delay = self._run()
        except ReplayError as e:
            self._fail(str(e))
            return
        except Exception as e:
            self.log.failure("replay of {book} failed", book=self.bookName)
            self._fail("internal error: %s" % (e,))
            return
        if delay is None:
            self.state = FINISHED
            self._finished()
        else:
            self._schedule(delay)

    def _fail(self, message):
        """
        The recording cannot be read on: the book goes back to how it was
        (the replay's orders are cancelled).
        """
        self.state = FAILED
        self.error = message
        self.log.warn("replay of {book} failed: {error}", book=self.bookName, error=message)
        self._withdraw()
        self._finished()

    def _run(self):
        """
        Apply what is due now, at most L{chunk} actions.

        @return: the delay until the next call, or None at the end.
        """
        if not self._refill():
            return None
        pending = self._pending
        first = self._next
        last = min(len(pending), first + self.chunk)
        speed = self.speed
        start = self.start
        if speed is not None:
            if start is not None and pending[first][0] < start:
                # Before the start time: applied at once.
                last = bisect_left(pending, start, first, last, key=_time)
            else:
                if self._t0 is None:
                    # The pace starts here: at the start time, at the
                    # position (after a pause) or at the first action.
                    if self.position is not None and self.position > (start or 0):
                        self._t0 = self.position
                    else:
                        self._t0 = pending[first][0] if start is None else start
                    self._w0 = self.clock.seconds()
                # Due: what the recording has up to now (within a
                # microsecond of the reactor's clock, whose float reading
                # is that coarse when it counts seconds since 1970).
                limit = self._t0 + ((self.clock.seconds() - self._w0) + _SLACK) * speed * SECOND
                last = bisect_right(pending, limit, first, last, key=_time)
                if last == first:
                    return max(_SLACK, (pending[first][0] - limit) / speed / SECOND)
        self._next = last
        self._apply(pending[first:last])
        if not self._refill():
            return None
        return 0

    # -- applying ------------------------------------------------------------

    def _sync(self, entry):
        """
        The engine order's open shares, after counting what clients took
        of it since the replay last looked.
        """
        order = entry[0]
        leaves = 0 if order is None else order.leavesQty
        expected = entry[1] - entry[2]
        if expected < 0:
            expected = 0
        if leaves != expected:
            entry[2] += expected - leaves
        return leaves

    def _apply(self, actions):
        if not actions:
            return
        counts = self.counts
        entries = self._entries
        house = self._house
        submitNew = house.submitNew
        submitCancel = house.submitCancel
        owner = self.owner
        base = self._base
        sync = self._sync
        terms = self._terms
        messages = orders = cancels = executions = conflicts = unknown = rejected = 0
        with paused(), house.batch():
            for time, kind, a, b, c, d in actions:
                messages += 1
                if kind == ADD:
                    if c <= 0 or a in entries:
                        unknown += 1
                        continue
                    order = newOrder(terms[b], base + a, c, d)
                    submitNew(order, True)
                    if order.status is REJECTED:
                        rejected += 1
                        continue
                    orders += 1
                    entries[a] = [order, c, 0, b]
                elif kind == DELETE:
                    entry = entries.pop(a, None)
                    if entry is None:
                        unknown += 1
                        continue
                    order = entry[0]
                    leaves = 0 if order is None else order.leavesQty
                    if leaves:
                        submitCancel(owner, order.clOrdId, None, order.orderId, True)
                        cancels += 1
                    # Less than the recording has: clients took some.
                    if leaves < entry[1]:
                        conflicts += 1
                elif kind == EXECUTE:
                    entry = entries.get(a)
                    if entry is None:
                        unknown += 1
                        continue
                    leaves = sync(entry)
                    quantity = b if b <= leaves else leaves
                    if quantity:
                        self._fill(entry[0], quantity, c)
                        executions += 1
                    if quantity < b:
                        conflicts += 1
                    left = entry[1] - b
                    if left > 0:
                        entry[1] = left
                    else:
                        del entries[a]
                elif kind == CANCEL:
                    entry = entries.get(a)
                    if entry is None:
                        unknown += 1
                        continue
                    leaves = sync(entry)
                    quantity = b if b <= leaves else leaves
                    if quantity:
                        order = entry[0]
                        if quantity == leaves:
                            submitCancel(owner, order.clOrdId, orderId=order.orderId, neverHeld=True)
                        else:
                            # Down at the same price: it keeps its priority.
                            house.submitReplace(
                                owner, order.clOrdId, orderId=order.orderId,
                                quantity=order.quantity - quantity, neverHeld=True,
                            )
                        cancels += 1
                    if quantity < b:
                        conflicts += 1
                    left = entry[1] - b
                    if left > 0:
                        entry[1] = left
                    else:
                        del entries[a]
                elif kind == REPLACE:
                    entry = entries.pop(a, None)
                    if entry is None or b in entries:
                        unknown += 1
                        continue
                    old = entry[0]
                    leaves = 0 if old is None else old.leavesQty
                    if leaves:
                        submitCancel(owner, old.clOrdId, None, old.orderId, True)
                    if leaves < entry[1]:
                        conflicts += 1
                    counts["replaces"] += 1
                    # What clients took of the old order stays taken.
                    taken = entry[2] + max(0, entry[1] - entry[2]) - leaves
                    if c - taken > 0:
                        order = newOrder(terms[entry[3]], base + b, c - taken, d)
                        submitNew(order, True)
                        if order.status is REJECTED:
                            rejected += 1
                            continue
                        orders += 1
                        entries[b] = [order, c, taken, entry[3]]
                    else:
                        # All of it was taken: nothing shows, but later
                        # messages about it still count.
                        entries[b] = [None, c, taken, entry[3]]
                elif kind == TRADE:
                    self._print(b, a)
                elif kind == QUOTE:
                    conflicts += self._quoteUpdate(a, b, c, d)
            self.position = actions[-1][0]
        counts["messages"] += messages
        counts["orders"] += orders + self._quoteOrders
        self._quoteOrders = 0
        counts["cancels"] += cancels
        counts["executions"] += executions
        counts["conflicts"] += conflicts
        counts["unknown"] += unknown
        counts["rejected"] += rejected + self._quoteRejected
        self._quoteRejected = 0

    _quoteOrders = 0
    _quoteRejected = 0

    def _fill(self, order, quantity, price):
        """
        The recording's own execution of C{quantity} of a replayed order:
        a fill against the house, at the order's price or C{price}.
        """
        try:
            self._primitives.fillOrder(order.orderId, quantity, order.price if price is None else price)
        except BadValue:
            # A price outside the book's bounds: at the order's own.
            self._primitives.fillOrder(order.orderId, quantity, order.price)

    def _print(self, price, quantity):
        """
        A recorded trade with no replayed order in it (non-displayed, a
        cross, a print): the book's last price, last quantity and volume
        move; nothing is published.
        """
        book = self.engine.getBook(self.symbol)
        book.lastPrice = price
        book.lastQuantity = quantity
        book.volume += quantity
        self.counts["trades"] += 1

    def _quoteUpdate(self, bid, bidSize, ask, askSize):
        """
        Bring the replay's two quote orders to a recorded quote.

        @return: the number of conflicts (a side whose size clients took
            part of is shown smaller).
        """
        self.counts["quotes"] += 1
        sides = [(True, bid, bidSize), (False, ask, askSize)]
        current = self._quote[False]
        if bid is not None and current is not None and current[0] is not None and bid >= current[1]:
            # The bid moves up to the old ask: move the ask first, so the
            # two never trade with each other.
            sides.reverse()
        conflicts = 0
        for isBuy, price, size in sides:
            conflicts += self._quoteSide(isBuy, price, size)
        return conflicts

    def _quoteSide(self, isBuy, price, size):
        house = self._house
        owner = self.owner
        side = self._quote[isBuy]
        if side is not None and price is not None and size and side[1] == price:
            order = side[0]
            leaves = 0 if order is None else order.leavesQty
            expected = max(0, side[2] - side[3])
            if leaves != expected:
                side[3] += expected - leaves
            side[2] = size
            wanted = size - side[3]
            if wanted < 0:
                wanted = 0
            conflict = 1 if side[3] and wanted != size else 0
            if wanted == leaves:
                return conflict
            if wanted == 0:
                house.submitCancel(owner, order.clOrdId, orderId=order.orderId, neverHeld=True)
            elif leaves == 0:
                side[0] = self._quoteOrder(isBuy, price, wanted)
            else:
                house.submitReplace(
                    owner, order.clOrdId, orderId=order.orderId,
                    quantity=order.cumQty + wanted, neverHeld=True,
                )
            return conflict
        if side is not None and side[0] is not None and side[0].leavesQty and not side[0].isDone:
            order = side[0]
            house.submitCancel(owner, order.clOrdId, orderId=order.orderId, neverHeld=True)
        if price is None or not size:
            self._quote[isBuy] = None
            return 0
        self._quote[isBuy] = [self._quoteOrder(isBuy, price, size), price, size, 0]
        return 0

    def _quoteOrder(self, isBuy, price, size):
        self._quoteSerial = getattr(self, "_quoteSerial", 0) + 1
        order = Order(
            self.owner, "%sq%d" % (self._prefix, self._quoteSerial), self.symbol,
            BUY if isBuy else SELL, size, price,
        )
        self._house.submitNew(order, neverHeld=True)
        if order.status is REJECTED:
            self._quoteRejected += 1
            return None
        self._quoteOrders += 1
        return order
