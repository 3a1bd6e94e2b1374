# -*- test-case-name: tests.test_book -*-
"""
A price-time priority order book.

Each side maps a price to a L{Level}: a FIFO queue of resting orders with
its total quantity and order count.  Best prices come from a heap per side
with lazy deletion.  A cancelled order is only marked (C{order.resting =
False}) and the level's totals are adjusted at once: cancel is O(1); dead
entries are skipped when they reach the front of the queue, and a queue
that holds more dead entries than live ones is compacted.

The structures hold no reference cycles, so a book of a million orders
never needs the cyclic garbage collector (see L{exsim.gcpolicy}).
"""

from collections import deque
from heapq import heappop, heappush

from zope.interface import implementer

from exsim.engine.behaviours import Standard
from exsim.engine.limits import Limits
from exsim.engine.ordertypes import POST_ONLY_REJECT, STP_NONE, displayed, hiddenPart, minimum, waiting
from exsim.engine.phases import CONTINUOUS, PHASES, initPhaseState
from exsim.interfaces import IBook
from exsim.model import T_BUY, T_EXTRA, OrdType


class Level:
    """
    One price level: C{orders} is a FIFO of orders, some possibly dead.
    """

    __slots__ = ("price", "orders", "quantity", "count")

    def __init__(self, price):
        self.price = price
        self.orders = deque()
        self.quantity = 0
        self.count = 0

    def live(self):
        """
        The live orders of this level, oldest first.
        """
        return [o for o in self.orders if o.resting]


@implementer(IBook)
class Book:
    """
    The resting orders of one instrument.

    @ivar instrument: the L{exsim.model.Instrument}.
    @ivar bids: {price: L{Level}} of buy orders.
    @ivar asks: {price: L{Level}} of sell orders.
    @ivar behaviour: the L{exsim.interfaces.IBehaviour} of this book.
    @ivar standard: whether C{behaviour} is the standard one (matching in
        the book) and the book is in the continuous phase, for the
        engine's hot path.
    @ivar phase: the trading phase (L{exsim.engine.phases}).
    @ivar lastPrice: price of the last trade, or C{None}.
    @ivar referencePrice: a reference price in internal units, or C{None}.
    @ivar special: whether the book has orders with advanced terms or
        self-trade prevention on: then the engine's slow paths handle it
        (L{exsim.engine.special}), with C{hidden}, C{pegOrders}, C{stops},
        C{specialOrders}, C{printed}, C{pegTouch}, C{stp} and
        C{postOnlyAction}.
    """

    def __init__(self, instrument, behaviour=None):
        self._phase = CONTINUOUS
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.bids = {}
        self.asks = {}
        self._bidHeap = []  # negated prices
        self._askHeap = []
        self.behaviour = behaviour
        self.lastPrice = None
        self.lastQuantity = None
        self.referencePrice = None
        self.volume = 0
        self.tradeCount = 0
        self.properties = {}
        self.limits = Limits()
        self.special = False
        self.stp = STP_NONE
        self.postOnlyAction = POST_ONLY_REJECT
        #: {isBuy: {price: [orders with hidden quantity]}}
        self.hidden = {True: {}, False: {}}
        #: {order id: live midpoint peg}, in order id order.
        self.pegOrders = {}
        #: {order id: waiting stop order}, in the order they were entered;
        #: and heaps of (stop price, sequence, order) of buy stops and of
        #: (-stop price, sequence, order) of sell stops, stale entries
        #: left in them (see exsim.engine.special).
        self.stops = {}
        self.stopHeaps = ([], [])
        self.stopSeq = 0
        #: Settles until the book looks for finished special orders.
        self.sweepIn = 0
        #: {order id: live order with advanced terms}.
        self.specialOrders = {}
        self.printed = None
        self.pegTouch = None
        # Trading phases (exsim.engine.phases.initPhaseState).
        initPhaseState(self)

    @property
    def behaviour(self):
        return self._behaviour

    @behaviour.setter
    def behaviour(self, behaviour):
        self._behaviour = behaviour
        self.standard = type(behaviour) is Standard and self._phase is CONTINUOUS

    @property
    def phase(self):
        return self._phase

    @phase.setter
    def phase(self, phase):
        # Outside the continuous phase every new order takes the engine's
        # slow path: the hot path needs no check of its own.
        self._phase = phase
        self.standard = type(self._behaviour) is Standard and phase is CONTINUOUS

    # -- best prices -------------------------------------------------------

    def bestBid(self):
        """
        The highest bid price, or C{None}.
        """
        heap = self._bidHeap
        bids = self.bids
        while heap:
            price = -heap[0]
            if price in bids:
                return price
            heappop(heap)
        return None

    def bestAsk(self):
        """
        The lowest ask price, or C{None}.
        """
        heap = self._askHeap
        asks = self.asks
        while heap:
            price = heap[0]
            if price in asks:
                return price
            heappop(heap)
        return None

    # -- changes -----------------------------------------------------------

    def add(self, order):
        """
        Queue C{order} at the back of its price level.

        @return: the L{Level}.
        """
        price = order.price
        isBuy = order.terms[T_BUY]
        level = (self.bids if isBuy else self.asks).get(price)
        if level is None:
            level = self.newLevel(isBuy, price)
        # Share the level's int: one price object per level, not per order.
        order.price = level.price
        level.orders.append(order)
        level.quantity += order.leavesQty
        level.count += 1
        order.resting = True
        return level

    def newLevel(self, isBuy, price):
        """
        Create the (empty) level of C{price} on one side.
        """
        level = Level(price)
        if isBuy:
            levels = self.bids
            heap = self._bidHeap
            heappush(heap, -price)
            if len(heap) > 2 * len(levels) + 64:
                heap = self._bidHeap = [-p for p in levels]
                heap.append(-price)
                heap.sort()
        else:
            levels = self.asks
            heap = self._askHeap
            heappush(heap, price)
            if len(heap) > 2 * len(levels) + 64:
                heap = self._askHeap = sorted(levels)
                heap.append(price)
                heap.sort()
        levels[price] = level
        return level

    def remove(self, order):
        """
        Take a resting order out of the book (cancel, expiry): O(1).

        @return: the L{Level} it was in (possibly now empty and gone).
        """
        levels = self.bids if order.isBuy else self.asks
        level = levels[order.price]
        order.resting = False
        level.quantity -= order.leavesQty
        level.count -= 1
        if not level.count:
            del levels[order.price]
        elif len(level.orders) > 2 * level.count + 32:
            self.compact(level)
        return level

    def compact(self, level):
        """
        Drop the dead entries of a level's queue (amortised O(1) per
        cancel: done only when dead entries outnumber live ones).
        """
        level.orders = deque([o for o in level.orders if o.resting])

    def unlink(self, order):
        """
        Take a resting order out of its queue at once (it is about to be
        queued again, at the back, after losing priority).  O(level size).
        """
        level = self.remove(order)
        try:
            level.orders.remove(order)
        except ValueError:
            pass
        return level

    def reduce(self, order, quantity):
        """
        Lower a resting order's leaves quantity by C{quantity}, keeping its
        place in the queue.
        """
        levels = self.bids if order.isBuy else self.asks
        level = levels[order.price]
        order.leavesQty -= quantity
        level.quantity -= quantity
        return level

    def level(self, isBuy, price):
        return (self.bids if isBuy else self.asks).get(price)

    # -- queries -----------------------------------------------------------

    def depth(self, isBuy, levels=10):
        """
        Up to C{levels} levels of one side, best first, as (price,
        quantity, count) tuples.
        """
        side = self.bids
        if isBuy:
            prices = sorted(side, reverse=True)
        else:
            side = self.asks
            prices = sorted(side)
        if levels is not None:
            prices = prices[:levels]
        return [(p, side[p].quantity, side[p].count) for p in prices]

    def levelsFrom(self, isBuy):
        """
        Iterate the levels of one side, best first.
        """
        side = self.bids if isBuy else self.asks
        for price in sorted(side, reverse=isBuy):
            yield side[price]

    def orders(self, isBuy=None):
        """
        The live resting orders, in priority order (bids then asks; at
        each price displayed orders, then hidden ones, then pegs).
        """
        result = []
        sides = [True, False] if isBuy is None else [isBuy]
        for buy in sides:
            if not self.special:
                for level in self.levelsFrom(buy):
                    result.extend(level.live())
                continue
            for price in self._allPrices(buy):
                level = (self.bids if buy else self.asks).get(price)
                if level is not None:
                    result.extend(level.live())
                result.extend(o for o in self.hidden[buy].get(price, ()) if not displayed(o))
                result.extend(
                    o for o in self.pegOrders.values()
                    if o.resting and o.isBuy is buy and o.price == price
                )
        return result

    def _allPrices(self, isBuy):
        """
        Every price of one side with a resting order, displayed or not,
        best first.
        """
        prices = set(self.bids if isBuy else self.asks)
        prices.update(self.hidden[isBuy])
        prices.update(
            o.price for o in self.pegOrders.values() if o.resting and o.isBuy is isBuy
        )
        return sorted(prices, reverse=isBuy)

    def waitingStops(self):
        """
        The waiting stop orders, in the order they were entered.
        """
        return list(self.stops.values())

    def hiddenDepth(self, isBuy, levels=10):
        """
        The quantity that is not displayed, by price, best first: (price,
        quantity, number of orders with some).
        """
        result = []
        for price in self._allPrices(isBuy):
            orders = list(self.hidden[isBuy].get(price, ()))
            orders.extend(
                o for o in self.pegOrders.values()
                if o.resting and o.isBuy is isBuy and o.price == price
            )
            quantity = sum(hiddenPart(o) for o in orders)
            if quantity:
                result.append((price, quantity, len(orders)))
        if levels is not None:
            result = result[:levels]
        return result

    def orderCount(self):
        if self.special:
            return len(self.orders())
        return sum(level.count for level in self.bids.values()) + sum(
            level.count for level in self.asks.values()
        )

    def validateInternalState(self):
        """
        Check every invariant of the book; raise C{AssertionError} if one
        does not hold.  Used by tests after every operation.
        """
        for isBuy, levels, heap in (
            (True, self.bids, self._bidHeap),
            (False, self.asks, self._askHeap),
        ):
            heapPrices = {(-p if isBuy else p) for p in heap}
            for price, level in levels.items():
                assert level.price == price, (level.price, price)
                assert price in heapPrices, "level %s missing from heap" % price
                live = level.live()
                assert live, "empty level %s left in book" % price
                assert len(live) == level.count, (len(live), level.count)
                assert len(set(map(id, level.orders))) == len(level.orders), (
                    "order queued twice at %s" % price
                )
                total = 0
                for order in live:
                    assert order.isBuy == isBuy
                    assert order.price == price
                    assert order.leavesQty > 0, order
                    assert order.cumQty + order.leavesQty == order.quantity, order
                    assert not order.isDone, order
                    if order.terms[T_EXTRA] is None:
                        total += order.leavesQty
                    else:
                        shown = displayed(order)
                        assert 0 < shown <= order.leavesQty, order
                        total += shown
                assert total == level.quantity, (total, level.quantity)
            for price, queue in self.hidden[isBuy].items():
                assert queue, "empty hidden queue at %s" % (price,)
                assert len(set(map(id, queue))) == len(queue), "hidden order queued twice"
                for order in queue:
                    assert order.resting and order.isBuy == isBuy and order.price == price, order
                    assert hiddenPart(order) > 0 and order.ordType is not OrdType.PEGGED, order
                    assert not order.isDone, order
        bid, ask = self.bestBid(), self.bestAsk()
        if self.bids:
            assert bid == max(self.bids)
        if self.asks:
            assert ask == min(self.asks)
        assert self._phase in PHASES, self._phase
        parked = [o for o in self.marketOrders + self.parked if not o.isDone]
        for order in parked:
            assert not order.resting, order
            assert order.symbol == self.symbol, order
        assert len(set(map(id, parked))) == len(parked), "an order waits twice"
        # Only a call may hold a crossed book or market orders.
        uncrossed = self.call is None
        if uncrossed:
            assert not [o for o in self.marketOrders if not o.isDone], self.marketOrders
        if not self.special:
            if uncrossed and bid is not None and ask is not None:
                assert bid < ask, "crossed book %s >= %s" % (bid, ask)
            return
        everything = self.orders()
        assert len(set(map(id, everything))) == len(everything), "an order rests twice"
        for order in everything:
            assert order.leavesQty > 0 and not order.isDone, order
            if order.ordType is not OrdType.PEGGED:
                queue = self.hidden[order.isBuy].get(order.price, ())
                assert (order in queue) == (hiddenPart(order) > 0), order
        for order in self.stops.values():
            assert waiting(order) and not order.resting and not order.isDone, order
        # Resting orders that could trade with each other do not cross
        # (an order with a minimum quantity may: see ordertypes).
        bids = [o.price for o in self.orders(True) if not minimum(o)]
        asks = [o.price for o in self.orders(False) if not minimum(o)]
        if uncrossed and bids and asks:
            assert max(bids) < min(asks), "crossed book %s >= %s" % (max(bids), min(asks))
