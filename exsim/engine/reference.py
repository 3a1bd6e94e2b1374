# -*- test-case-name: tests.test_matching -*-
"""
The reference engine: the rules of L{exsim.engine.matching.MatchingEngine}
written plainly, to check the fast engine against (engine class
C{reference}).

It takes the same commands and emits the same events (same classes, same
fields, same order, same batches): tests.test_engine_model runs both on
random command sequences and compares every event.  Nothing here is
optimised: a book side is a dict of price levels, each a plain list of
orders in time order; best prices, level totals and live orders are
computed when asked for.  Read it to know what a rule is; change a rule
here and in the fast engine together.

One difference is deliberate: a client order id is remembered for the
whole trading day here, where the fast engine keeps bounded generations of
them (a finished id is a duplicate for at least
L{exsim.engine.orderindex.ID_GENERATION} later new orders of its owner).
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine import phases
from exsim.engine.admin import EngineAdmin
from exsim.engine.auction import pairs, uncross
from exsim.engine.cross import checkCross
from exsim.engine.events import (
    Accepted,
    Added,
    AuctionUncrossed,
    BookChanged,
    Cancelled,
    CancelRejected,
    DayEnded,
    Expired,
    Filled,
    OrderRequest,
    PendingChange,
    PhaseChanged,
    Rejected,
    Replaced,
    Restated,
    Trade,
    Triggered,
)
from exsim.engine.limits import Limits
from exsim.engine.ordertypes import (
    POST_ONLY_REJECT,
    POST_ONLY_TEXT,
    STP_NONE,
    canRest,
    checkTerms,
    crosses,
    displayed,
    hiddenPart,
    iceberg,
    marketLike,
    minimum,
    pegPrice,
    postOnlyPrice,
    restsAgain,
    selfTrade,
    sliceOf,
    stopFires,
    stpOutcome,
    tradeable,
    waiting,
)
from exsim.engine.phases import (
    ADVANCED_AT_AUCTION,
    ADVANCED_OUTSIDE_CONTINUOUS,
    CLOSED,
    CLOSING,
    CLOSING_AUCTION,
    CONTINUOUS,
    HALTED,
    OPENING,
    POST_CLOSE,
    PRE_OPEN,
    REOPENING,
    initPhaseState,
)
from exsim.errors import BadValue, WrongState
from exsim.interfaces import IBook, IEngine, IMarketPhases, ISelfTradePrevention
from exsim.model import (
    CancelReason,
    OrdStatus,
    OrdType,
    RejectReason,
    Side,
    TimeInForce,
)

#: The statuses of an order whose cancel or replace is held.
_PENDING_CHANGE = (OrdStatus.PENDING_CANCEL, OrdStatus.PENDING_REPLACE)

#: The text of a cancel reject, when the engine gives none of its own.
_REJECT_TEXT = {
    RejectReason.UNKNOWN_ORDER: "unknown order",
    RejectReason.TOO_LATE: "too late to cancel",
    RejectReason.DUPLICATE_ORDER: "duplicate client order id",
}


class ReferenceLevel:
    """
    One price level: its displayed orders in time priority (an iceberg's
    place is that of its current slice), its orders with hidden quantity
    in time priority (hidden orders, iceberg reserves), and the midpoint
    pegs pegged at this price, in order id order.
    """

    def __init__(self, price):
        self.price = price
        self.orders = []
        self.hidden = []
        self.pegs = []

    @property
    def quantity(self):
        """
        The displayed quantity.
        """
        return sum(displayed(order) for order in self.orders)

    @property
    def count(self):
        """
        The number of displayed orders.
        """
        return len(self.orders)

    @property
    def hiddenQuantity(self):
        return sum(hiddenPart(order) for order in self.hidden + self.pegs)

    def live(self):
        return list(self.orders)

    def everyone(self):
        """
        Every resting order of the level, in priority order (an order
        once, where it comes first).
        """
        result = list(self.orders)
        result.extend(order for order in self.hidden if order not in self.orders)
        result.extend(self.pegs)
        return result

    def candidates(self):
        """
        What an incoming order trades with here, in priority order: (order,
        C{SHOWN}) for displayed quantity, (order, C{HIDDEN}) for hidden
        quantity.
        """
        return (
            [(order, SHOWN) for order in self.orders]
            + [(order, HIDDEN) for order in self.hidden]
            + [(order, HIDDEN) for order in self.pegs]
        )


#: Which part of a resting order an incoming order trades with.
SHOWN, HIDDEN = "shown", "hidden"


@implementer(IBook)
class ReferenceBook:
    """
    The resting orders of one instrument: C{bids} and C{asks} map a price
    to a L{ReferenceLevel} (one with displayed orders, hidden quantity or
    pegs).  C{limits} are the quantity and price bounds of its orders
    (L{exsim.engine.limits.Limits}).

    @ivar stops: the waiting stop orders, in the order they were entered.
    @ivar printed: the (lowest, highest) price of the trades printed since
        the waiting stops were last looked at, or None.
    @ivar pegTouch: the (best bid, best ask) the pegs were last priced at.
    @ivar pegs: {order id: order} of its live midpoint pegs (the engine
        looks at these, not at every live order, after each command).
    """

    def __init__(self, instrument, behaviour):
        self.instrument = instrument
        self.symbol = instrument.symbol
        self.behaviour = behaviour
        self.bids = {}
        self.asks = {}
        self.lastPrice = None
        self.lastQuantity = None
        self.referencePrice = None
        self.volume = 0
        self.tradeCount = 0
        self.properties = {}
        self.limits = Limits()
        self.stp = STP_NONE
        self.postOnlyAction = POST_ONLY_REJECT
        self.stops = []
        self.printed = None
        self.pegTouch = None
        self.pegs = {}
        # Trading phases (exsim.engine.phases).
        self.phase = CONTINUOUS
        initPhaseState(self)

    def side(self, isBuy):
        return self.bids if isBuy else self.asks

    def bestBid(self):
        """
        The best displayed bid price, or None.
        """
        return self.best(True)

    def bestAsk(self):
        """
        The best displayed ask price, or None.
        """
        return self.best(False)

    def best(self, isBuy):
        prices = [price for price, level in self.side(isBuy).items() if level.orders]
        if not prices:
            return None
        return max(prices) if isBuy else min(prices)

    def bestAny(self, isBuy):
        """
        The best price of any resting order of a side, displayed or not.
        """
        side = self.side(isBuy)
        if not side:
            return None
        return max(side) if isBuy else min(side)

    def level(self, isBuy, price):
        return self.side(isBuy).get(price)

    def levelsFrom(self, isBuy):
        """
        The levels of one side with displayed orders, best first.
        """
        side = self.side(isBuy)
        return [side[price] for price in sorted(side, reverse=isBuy) if side[price].orders]

    def allLevels(self, isBuy):
        """
        Every level of one side, best first.
        """
        side = self.side(isBuy)
        return [side[price] for price in sorted(side, reverse=isBuy)]

    def add(self, order):
        """
        Put C{order} in its price level, at the back of what it is part
        of: the displayed queue (if any of it is displayed), the hidden
        queue (if any of it is not), or, for a peg, in order id order among
        the pegs.
        """
        side = self.side(order.isBuy)
        if order.price not in side:
            side[order.price] = ReferenceLevel(order.price)
        level = side[order.price]
        if order.ordType is OrdType.PEGGED:
            level.pegs.append(order)
            level.pegs.sort(key=lambda peg: peg.orderId)
        else:
            if displayed(order):
                level.orders.append(order)
            if hiddenPart(order):
                level.hidden.append(order)
        order.resting = True

    def remove(self, order):
        """
        Take a resting order out of its level (an emptied level goes).

        @return: (quantity, count) of the level now.
        """
        side = self.side(order.isBuy)
        level = side[order.price]
        for queue in (level.orders, level.hidden, level.pegs):
            if order in queue:
                queue.remove(order)
        order.resting = False
        if not (level.orders or level.hidden or level.pegs):
            del side[order.price]
        return self.totals(order.isBuy, order.price)

    def totals(self, isBuy, price):
        """
        (displayed quantity, displayed order count) of a level, (0, 0) if
        there is none.
        """
        level = self.level(isBuy, price)
        if level is None:
            return 0, 0
        return level.quantity, level.count

    def depth(self, isBuy, levels=10):
        """
        The displayed levels of one side, best first: (price, quantity,
        count).
        """
        result = [(level.price, level.quantity, level.count) for level in self.levelsFrom(isBuy)]
        if levels is not None:
            result = result[:levels]
        return result

    def waitingStops(self):
        """
        The waiting stop orders, in the order they were entered.
        """
        return list(self.stops)

    def hiddenDepth(self, isBuy, levels=10):
        """
        The quantity that is not displayed, by price, best first: (price,
        quantity, number of orders with some).
        """
        result = []
        for level in self.allLevels(isBuy):
            quantity = level.hiddenQuantity
            if quantity:
                count = len([o for o in level.hidden + level.pegs if hiddenPart(o)])
                result.append((level.price, quantity, count))
        if levels is not None:
            result = result[:levels]
        return result

    def orders(self, isBuy=None):
        """
        Every resting order, in priority order (bids then asks).
        """
        result = []
        for buy in ([True, False] if isBuy is None else [isBuy]):
            for level in self.allLevels(buy):
                result.extend(level.everyone())
        return result

    def orderCount(self):
        return len(self.orders())

    def validateInternalState(self):
        for isBuy, side in ((True, self.bids), (False, self.asks)):
            for price, level in side.items():
                assert level.price == price, (level.price, price)
                assert level.orders or level.hidden or level.pegs, (
                    "empty level %s left in book" % (price,)
                )
                for order in level.everyone():
                    assert order.resting, order
                    assert order.isBuy == isBuy, order
                    assert order.price == price, order
                    assert order.leavesQty > 0, order
                    assert order.cumQty + order.leavesQty == order.quantity, order
                    assert not order.isDone, order
                for order in level.orders:
                    assert 0 < displayed(order) <= order.leavesQty, order
                for order in level.hidden:
                    assert hiddenPart(order) > 0 and order.ordType is not OrdType.PEGGED, order
                for order in level.pegs:
                    assert order.ordType is OrdType.PEGGED, order
                assert level.pegs == sorted(level.pegs, key=lambda o: o.orderId)
                for order in level.everyone():
                    assert (order in level.orders) == (displayed(order) > 0), order
                    if order.ordType is not OrdType.PEGGED:
                        assert (order in level.hidden) == (hiddenPart(order) > 0), order
                    if iceberg(order):
                        assert 0 <= order.extra.shown <= order.leavesQty, order
        everything = self.orders()
        assert len(set(map(id, everything))) == len(everything), "an order rests twice"
        for order in self.stops:
            assert waiting(order) and not order.resting and not order.isDone, order
        for order in self.marketOrders + self.parked:
            assert not order.resting and not order.isDone, order
            assert order.symbol == self.symbol, order
        for order in self.marketOrders:
            assert order.ordType is OrdType.MARKET, order
        parked = self.marketOrders + self.parked
        assert len(set(map(id, parked))) == len(parked), "an order waits twice"
        assert self.forNextDay <= {order.orderId for order in self.parked}, self.forNextDay
        assert self.phase in phases.PHASES, self.phase
        if self.call is None:
            # Only a call may hold a crossed book or market orders.
            assert not self.marketOrders, self.marketOrders
            # Resting orders that could trade with each other do not cross
            # (an order with a minimum quantity may: see ordertypes).
            bids = [o.price for o in self.orders(True) if not minimum(o)]
            asks = [o.price for o in self.orders(False) if not minimum(o)]
            if bids and asks:
                assert max(bids) < min(asks), "crossed book %s >= %s" % (max(bids), min(asks))


class _Pending:
    """
    A cancel or replace held in managed mode until a test answers it.
    """

    def __init__(self, kind, clOrdId, price, quantity, stopPx=None):
        self.kind = kind
        self.clOrdId = clOrdId
        self.price = price
        self.quantity = quantity
        self.stopPx = stopPx


@implementer(IEngine, ISelfTradePrevention, IMarketPhases)
class ReferenceEngine(phases.PhaseControl, EngineAdmin):
    """
    A price-time priority matching engine over any number of books, with
    the rules and events of L{exsim.engine.matching.MatchingEngine}.
    """

    log = Logger()

    def __init__(self, name="engine", clock=None):
        EngineAdmin.__init__(self, name, clock)
        # Before events go out, always: stops that trades reached, pegs.
        self._settling = True
        # {order id: order} of live orders (held ones included).
        self._live = {}
        # Order ids of live orders not accepted yet.
        self._unaccepted = set()
        # {owner: {client order id: order id}}: every client order id of
        # a valid new order or a replace, since the start of the day.
        self._clOrdIds = {}
        # {order id: _Pending} of held cancels and replaces.
        self._pending = {}
        self._expiryCall = None

    # -- configuration (the rest in EngineAdmin) ---------------------------

    def _newBook(self, instrument, behaviour):
        return ReferenceBook(instrument, behaviour)

    def _booksChanged(self, book=None):
        """
        (Nothing here depends on books, their properties or bounds.)
        """

    def _newExecId(self):
        execId = self._nextExecId
        self._nextExecId += 1
        return execId

    def _newTradeId(self):
        tradeId = self._nextTradeId
        self._nextTradeId += 1
        return tradeId

    # -- lookups -----------------------------------------------------------

    def getOrder(self, orderId):
        if type(orderId) is not int:
            try:
                orderId = int(orderId)
            except (TypeError, ValueError):
                return None
        return self._live.get(orderId)

    def findOrder(self, owner, clOrdId):
        orderId = self._clOrdIds.get(owner, {}).get(clOrdId)
        order = self._live.get(orderId)
        if order is not None and order.clOrdId == clOrdId:
            return order
        return None

    def liveOrders(self):
        return [self._live[orderId] for orderId in sorted(self._live)]

    def hasLiveOrders(self, owner):
        return any(order.owner == owner for order in self._live.values())

    def liveCount(self):
        return len(self._live)

    def _wasUsed(self, owner, clOrdId):
        """
        Whether C{owner} used C{clOrdId} today (live or finished).
        """
        return clOrdId in self._clOrdIds.get(owner, {})

    def _finish(self, order):
        """
        Forget a finished order (its client order id stays used).
        """
        if order.orderId in self._live:
            del self._live[order.orderId]
            self._pending.pop(order.orderId, None)
            self._unaccepted.discard(order.orderId)
            book = self.books.get(order.symbol)
            if book is not None:
                # It waits for an auction or a later phase no more.
                if order in book.marketOrders:
                    book.marketOrders.remove(order)
                if order in book.parked:
                    book.parked.remove(order)
                book.forNextDay.discard(order.orderId)
                book.pegs.pop(order.orderId, None)

    def _locate(self, owner, origClOrdId, orderId):
        """
        Find the live order a cancel or replace names (by order id if
        given, else by client order id), of C{owner} unless that is None.

        @return: (order, None) or (None, L{RejectReason}).
        """
        if orderId is not None:
            order = self.getOrder(orderId)
            if order is not None and (owner is None or order.owner == owner):
                return order, None
            if order is None and isinstance(orderId, int) and 0 < orderId < self._nextOrderId:
                return None, RejectReason.TOO_LATE
            return None, RejectReason.UNKNOWN_ORDER
        order = self.findOrder(owner, origClOrdId)
        if order is not None:
            return order, None
        if self._wasUsed(owner, origClOrdId):
            return None, RejectReason.TOO_LATE
        return None, RejectReason.UNKNOWN_ORDER

    # -- requests from the wire --------------------------------------------

    def submitNew(self, order, neverHeld=False):
        """
        A new order.  In managed mode it is held (an L{OrderRequest} event)
        unless C{neverHeld} is true (house orders from the control service).

        @return: C{order}, with its C{orderId} set.
        """
        order.orderId = self._nextOrderId
        self._nextOrderId += 1
        book = self.books.get(order.symbol)
        problem = self._validateNew(book, order)
        if problem is not None:
            reason, text = problem
            order.status = OrdStatus.REJECTED
            order.leavesQty = 0
            self._events.append(Rejected(order, self._newExecId(), reason, text))
        else:
            self._live[order.orderId] = order
            self._unaccepted.add(order.orderId)
            self._clOrdIds.setdefault(order.owner, {})[order.clOrdId] = order.orderId
            if order.ordType is OrdType.PEGGED:
                # Its price is its limit; it is priced when it is accepted.
                order.extra.cap, order.price = order.price, None
            if self.mode == "managed" and not neverHeld:
                if self.managedAck == "pending_new":
                    # The client hears at once that its order is held.
                    self._events.append(
                        PendingChange(order, self._newExecId(), "new", order.clOrdId)
                    )
                self._events.append(
                    OrderRequest(
                        "new", order, order.orderId, order.clOrdId, order.price, order.quantity
                    )
                )
            else:
                with self._holdingEvents():
                    self._handleNew(book, order)
        self._flush()
        return order

    def _validateNew(self, book, order):
        """
        @return: None for a valid new order, else (L{RejectReason}, text).
        """
        if book is None:
            return RejectReason.UNKNOWN_SYMBOL, "unknown symbol %r" % (order.symbol,)
        if type(order.quantity) is not int or order.quantity <= 0:
            return RejectReason.BAD_QUANTITY, "quantity must be a positive integer"
        if order.quantity % book.instrument.lotSize:
            return RejectReason.BAD_QUANTITY, book.instrument.lotProblem(order.quantity)
        if order.ordType in (OrdType.LIMIT, OrdType.STOP_LIMIT) or (
            order.ordType is OrdType.PEGGED and order.price is not None
        ):
            if type(order.price) is not int or order.price <= 0:
                return RejectReason.BAD_PRICE, "limit price must be positive"
            if not book.instrument.onTick(order.price):
                return RejectReason.BAD_PRICE, "price is not on the tick grid"
        elif order.ordType in (OrdType.MARKET, OrdType.STOP):
            # A market order has no price, whatever it came with.
            order.price = None
            if order.ordType is OrdType.MARKET and order.timeInForce in (
                TimeInForce.GTC, TimeInForce.GTD
            ):
                return RejectReason.UNSUPPORTED_TIME_IN_FORCE, "a market order cannot rest"
        elif order.ordType is not OrdType.PEGGED:
            return RejectReason.UNSUPPORTED_ORDER_TYPE, "unsupported order type"
        problem = book.limits.check(order.quantity, order.price)
        if problem is not None:
            return problem
        if order.timeInForce is TimeInForce.GTD:
            if order.expireTime is None:
                return RejectReason.UNSUPPORTED_TIME_IN_FORCE, "GTD needs an expire time"
            if order.expireTime <= self.now():
                return RejectReason.UNSUPPORTED_TIME_IN_FORCE, "expire time has passed"
        elif order.timeInForce not in (
            TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK,
            TimeInForce.AT_OPEN, TimeInForce.AT_CLOSE,
        ):
            return RejectReason.UNSUPPORTED_TIME_IN_FORCE, "unsupported time in force"
        problem = checkTerms(book, order)
        if problem is not None:
            return problem
        if self._wasUsed(order.owner, order.clOrdId):
            return RejectReason.DUPLICATE_ORDER, "duplicate client order id %r" % (
                order.clOrdId,
            )
        return self._phaseRefuses(book, order)

    def submitCancel(self, owner, clOrdId, origClOrdId=None, orderId=None, neverHeld=False):
        order, reason = self._locate(owner, origClOrdId, orderId)
        if order is None:
            self._cancelReject(owner, clOrdId, origClOrdId, orderId, None, reason, "cancel")
        elif order.orderId in self._pending:
            self._cancelReject(
                owner, clOrdId, origClOrdId, orderId, order, RejectReason.OTHER,
                "cancel", "a cancel or replace is already pending",
            )
        elif self.mode == "managed" and not neverHeld:
            self._hold(order, "cancel", clOrdId, None, None)
        else:
            self._cancel(order, CancelReason.USER, clOrdId)
        self._flush()

    def submitReplace(
        self, owner, clOrdId, origClOrdId=None, orderId=None, price=None,
        quantity=None, neverHeld=False, stopPx=None,
    ):
        """
        Modify an order: its price (a peg's limit), total quantity, and a
        waiting stop order's stop price (C{stopPx}).
        """
        order, reason = self._locate(owner, origClOrdId, orderId)
        text = None
        if order is not None:
            book = self.books[order.symbol]
            instrument = book.instrument
            if clOrdId != order.clOrdId and self._wasUsed(order.owner, clOrdId):
                reason, text = RejectReason.DUPLICATE_ORDER, "duplicate client order id"
            elif order.orderId in self._pending:
                reason, text = RejectReason.OTHER, "a cancel or replace is already pending"
            elif order.orderId in self._unaccepted:
                reason, text = RejectReason.OTHER, "the order is not yet accepted"
            elif quantity is not None and (type(quantity) is not int or quantity <= 0):
                reason, text = RejectReason.BAD_QUANTITY, "quantity must be a positive integer"
            elif quantity is not None and quantity % instrument.lotSize:
                reason, text = RejectReason.BAD_QUANTITY, instrument.lotProblem(quantity)
            elif price is not None and (
                type(price) is not int or price <= 0 or not instrument.onTick(price)
            ):
                reason, text = RejectReason.BAD_PRICE, "price must be positive and on the tick grid"
            elif price is not None and order.ordType in (OrdType.MARKET, OrdType.STOP):
                reason, text = RejectReason.BAD_PRICE, "a market order has no price"
            elif stopPx is not None and (
                type(stopPx) is not int or stopPx <= 0 or not instrument.onTick(stopPx)
            ):
                reason, text = RejectReason.BAD_PRICE, "the stop price must be positive and on the tick grid"
            elif stopPx is not None and not waiting(order):
                reason, text = RejectReason.OTHER, "only a waiting stop order has a stop price to change"
            else:
                problem = book.limits.check(
                    order.quantity if quantity is None else quantity, price
                ) or book.limits.check(1, stopPx)
                if problem is None:
                    problem = self._phaseRefusesReplace(book)
                if problem is not None:
                    reason, text = problem
        if reason is not None:
            self._cancelReject(owner, clOrdId, origClOrdId, orderId, order, reason, "replace", text)
        elif self.mode == "managed" and not neverHeld:
            self._hold(order, "replace", clOrdId, price, quantity, stopPx)
        else:
            # Only the continuous phase matches.
            self._replace(
                order, clOrdId, price, quantity, match=book.phase == CONTINUOUS, stopPx=stopPx
            )
        self._flush()

    def _cancelReject(self, owner, clOrdId, origClOrdId, orderId, order, reason, responseTo, text=None):
        if text is None:
            text = _REJECT_TEXT.get(reason, reason.value)
        self._events.append(
            CancelRejected(
                owner, clOrdId, origClOrdId,
                orderId if order is None else order.orderId,
                order, reason, text, responseTo,
            )
        )

    def _hold(self, order, kind, clOrdId, price, quantity, stopPx=None):
        self._pending[order.orderId] = _Pending(kind, clOrdId, price, quantity, stopPx)
        if kind == "cancel":
            order.status = OrdStatus.PENDING_CANCEL
        else:
            order.status = OrdStatus.PENDING_REPLACE
        self._events.append(PendingChange(order, self._newExecId(), kind, clOrdId))
        self._events.append(OrderRequest(kind, order, order.orderId, clOrdId, price, quantity, stopPx))

    # -- matching ----------------------------------------------------------

    def _accept(self, order):
        """
        Accept an order: an L{Accepted} event; a GTD order's expiry time
        now counts.  A cancel held meanwhile stays held (and the order's
        status pending).
        """
        self._unaccepted.discard(order.orderId)
        if order.orderId not in self._pending:
            order.status = OrdStatus.NEW
        self._events.append(Accepted(order, self._newExecId()))
        if order.timeInForce is TimeInForce.GTD:
            self._scheduleExpiry(order.expireTime)

    def matchNew(self, book, order, accept=True):
        """
        Accept C{order} (unless C{accept} is false) and match it in C{book}
        by price-time priority; rest, cancel or kill what is left as its
        type and time in force say.  A post-only order that would take
        liquidity is rejected (or, accepted already, cancelled), or slides
        (book property C{post_only_action}); a stop order waits for its
        trigger.
        """
        if not self._postOnlyAllowed(book, order, accept):
            return
        if accept:
            self._accept(order)
        self._enter(book, order)

    def _postOnlyAllowed(self, book, order, accept):
        """
        Whether a post-only C{order} may go on: it would not take
        liquidity, or it slid one tick away from the best contra price (of
        any order, displayed or not).  If not, it is rejected (C{accept}:
        not accepted yet) or cancelled.
        """
        extra = order.extra
        if extra is None or not extra.postOnly:
            return True
        price = postOnlyPrice(book, order, book.bestAny(not order.isBuy))
        if price is not None:
            order.price = price
            return True
        if accept:
            order.status = OrdStatus.REJECTED
            order.leavesQty = 0
            self._events.append(
                Rejected(
                    order, self._newExecId(), RejectReason.POST_ONLY,
                    POST_ONLY_TEXT,
                )
            )
            self._finish(order)
        else:
            self._cancel(order, CancelReason.POST_ONLY)
        return False

    def _enter(self, book, order):
        """
        An accepted order enters the book: a stop order starts waiting for
        its trigger; a peg is priced (or waits for a two-sided market); an
        order with a minimum quantity (or FOK) trades only if enough can
        fill at once; then it matches, and what is left rests or is
        cancelled.
        """
        if waiting(order):
            self._startWaiting(book, order)
            return
        if order.ordType is OrdType.PEGGED:
            order.extra.working = True
            book.pegs[order.orderId] = order
            order.price = pegPrice(
                book.bestBid(), book.bestAsk(), order.isBuy, order.extra.cap
            )
            if order.price is None:
                if not canRest(order):
                    self._cancel(order, CancelReason.IMMEDIATE_OR_CANCEL)
                return
        need = minimum(order)
        if order.timeInForce is TimeInForce.FOK:
            need = order.leavesQty
        if need and self._executable(book, order) < need:
            if order.timeInForce is TimeInForce.FOK:
                self._cancel(order, CancelReason.FILL_OR_KILL)
            elif canRest(order):
                self._rest(book, order)
            else:
                self._cancel(order, CancelReason.MIN_QUANTITY)
            return
        self._match(book, order)
        self._settle(book, order)

    def _startWaiting(self, book, order):
        """
        A stop order waits for a trade at or through its stop price, unless
        the last trade is there already: then it triggers at once.
        """
        last = book.lastPrice
        if last is not None and stopFires(order.isBuy, order.extra.stopPx, last, last):
            self._trigger(book, order)
        else:
            book.stops.append(order)

    def _trigger(self, book, order):
        """
        A stop order triggers: it enters the book as a market (stop) or
        limit (stop-limit) order, with a new time priority.
        """
        order.extra.triggered = True
        self._events.append(Triggered(order, self._newExecId()))
        self._enter(book, order)

    def _crossingPrices(self, book, order):
        """
        The prices of the other side's levels C{order} may trade at, best
        first.
        """
        return [
            level.price for level in book.allLevels(not order.isBuy)
            if crosses(order.isBuy, None if marketLike(order) else order.price, level.price)
        ]

    def _executable(self, book, order):
        """
        How much of C{order} would trade at once if it matched now: the
        walk of L{_match}, without trading.
        """
        left = order.leavesQty
        total = 0
        gone = set()
        for price in self._crossingPrices(book, order):
            level = book.level(not order.isBuy, price)
            for resting, part in level.candidates():
                if not left:
                    return total
                if resting.orderId in gone:
                    continue
                available = displayed(resting) if part is SHOWN else hiddenPart(resting)
                if available <= 0 or not tradeable(left, resting):
                    continue
                if selfTrade(book.stp, self._stpGroups, order, resting):
                    cancelResting, _, stop, reduceIncoming = stpOutcome(
                        book.stp, left, resting.leavesQty
                    )
                    if cancelResting:
                        gone.add(resting.orderId)
                    if stop:
                        return total
                    left -= reduceIncoming
                    continue
                quantity = min(left, available)
                total += quantity
                left -= quantity
        return total

    def _match(self, book, order):
        """
        Trade C{order} against the book's other side: price priority, then
        at each price displayed quantity, hidden quantity and pegs, each in
        time priority; skipping orders whose minimum quantity it cannot
        meet; self-trade prevention between orders of one party.
        """
        contraIsBuy = not order.isBuy
        stopped = False
        for price in self._crossingPrices(book, order):
            if not order.leavesQty or stopped:
                break
            level = book.level(contraIsBuy, price)
            before = book.totals(contraIsBuy, price)
            exhausted = []
            for resting, part in level.candidates():
                if not order.leavesQty:
                    break
                if not resting.resting:
                    continue
                available = displayed(resting) if part is SHOWN else hiddenPart(resting)
                if available <= 0 or not tradeable(order.leavesQty, resting):
                    continue
                if selfTrade(book.stp, self._stpGroups, order, resting):
                    cancelResting, reduceResting, stop, reduceIncoming = stpOutcome(
                        book.stp, order.leavesQty, resting.leavesQty
                    )
                    if cancelResting:
                        self._stpCancelResting(book, resting)
                    elif reduceResting:
                        self._restate(book, resting, reduceResting)
                    if stop:
                        stopped = True
                        break
                    if reduceIncoming:
                        self._restate(book, order, reduceIncoming)
                    continue
                self._trade(book, order, resting, price, min(order.leavesQty, available), part)
                if resting.resting and iceberg(resting) and not resting.extra.shown:
                    exhausted.append(resting)
            for resting in exhausted:
                if resting.resting and not resting.extra.shown:
                    self._refresh(book, resting)
            after = book.totals(contraIsBuy, price)
            if after != before:
                self._events.append(BookChanged(book.symbol, contraIsBuy, price, *after))
        if stopped:
            self._cancel(order, CancelReason.SELF_TRADE)
        elif not order.leavesQty:
            self._finish(order)

    def _stpCancelResting(self, book, resting):
        """
        Self-trade prevention cancels a resting order, in the middle of a
        match (the level's L{BookChanged} comes when the match leaves it).
        """
        quantity = resting.leavesQty
        book.remove(resting)
        resting.leavesQty = 0
        resting.status = OrdStatus.CANCELLED
        self._events.append(
            Cancelled(resting, self._newExecId(), CancelReason.SELF_TRADE, quantity, True)
        )
        self._finish(resting)

    def _restate(self, book, order, quantity):
        """
        Self-trade prevention (C{decrement}) reduces a live order by
        C{quantity} without a trade; an iceberg's displayed slice shrinks
        only if less than it is left.
        """
        order.quantity -= quantity
        order.leavesQty -= quantity
        if order.resting:
            self._reshape(book, order)
        self._events.append(
            Restated(
                order, self._newExecId(), CancelReason.SELF_TRADE, quantity, order.resting
            )
        )

    def _reshape(self, book, order):
        """
        A resting order's leaves quantity went down (it stays in its
        place): an iceberg shows no more than is left, and its hidden part
        leaves the hidden queue when none is left.
        """
        if iceberg(order):
            order.extra.shown = min(order.extra.shown, order.leavesQty)
            level = book.level(order.isBuy, order.price)
            if not order.extra.shown and order in level.orders:
                level.orders.remove(order)
            if not hiddenPart(order) and order in level.hidden:
                level.hidden.remove(order)

    def _refresh(self, book, order):
        """
        An iceberg's displayed slice was filled: a new one is shown at the
        back of the level's displayed orders (an L{Added} event).
        """
        level = book.level(order.isBuy, order.price)
        order.extra.shown = sliceOf(order)
        level.orders.append(order)
        if not hiddenPart(order) and order in level.hidden:
            level.hidden.remove(order)
        self._events.append(Added(order))

    def _trade(self, book, order, resting, price, quantity, part):
        """
        One execution between an incoming order and a resting one, at the
        resting order's price; C{part} says which part of it (C{SHOWN} or
        C{HIDDEN}).
        """
        for o in (resting, order):
            o.cumQty += quantity
            o.leavesQty -= quantity
            o.notional += quantity * price
            o.status = OrdStatus.PARTIALLY_FILLED if o.leavesQty else OrdStatus.FILLED
        if not resting.leavesQty:
            book.remove(resting)
            self._finish(resting)
        else:
            if part is SHOWN and iceberg(resting):
                resting.extra.shown -= quantity
            self._reshape(book, resting)
        tradeId = self._newTradeId()
        self._events.append(
            Filled(resting, self._newExecId(), tradeId, price, quantity, False, order.orderId, True)
        )
        self._events.append(
            Filled(order, self._newExecId(), tradeId, price, quantity, True, resting.orderId, False)
        )
        buy, sell = (order, resting) if order.isBuy else (resting, order)
        aggressorSide = Side.BUY if order.isBuy else Side.SELL
        self._events.append(
            Trade(book.symbol, tradeId, price, quantity, buy.orderId, sell.orderId, aggressorSide)
        )
        self._printed(book, price, quantity)

    def _printed(self, book, price, quantity):
        book.lastPrice = price
        book.lastQuantity = quantity
        book.volume += quantity
        book.tradeCount += 1
        if book.printed is None:
            book.printed = (price, price)
        else:
            low, high = book.printed
            book.printed = (min(low, price), max(high, price))

    def _settle(self, book, order):
        """
        After matching: rest what is left, or cancel it (market, IOC, FOK).
        """
        if not order.leavesQty or order.isDone:
            return
        if marketLike(order):
            self._cancel(order, CancelReason.NO_LIQUIDITY)
        elif order.timeInForce in (TimeInForce.IOC, TimeInForce.FOK):
            self._cancel(order, CancelReason.IMMEDIATE_OR_CANCEL)
        else:
            self._rest(book, order)

    def _rest(self, book, order):
        """
        Put an order in the book, at the back of its price (an iceberg
        shows its first slice): an L{Added} event, and the level's
        L{BookChanged} if anything of it is displayed.
        """
        if iceberg(order):
            order.extra.shown = sliceOf(order)
        book.add(order)
        self._events.append(Added(order))
        if displayed(order):
            self._bookChanged(book, order)

    def _bookChanged(self, book, order):
        """
        The L{BookChanged} of the level of C{order}'s side and price.
        """
        quantity, count = book.totals(order.isBuy, order.price)
        self._events.append(BookChanged(book.symbol, order.isBuy, order.price, quantity, count))

    def _restIfUncrossed(self, book, order):
        """
        Put an accepted order in the book without matching, unless it would
        cross it (then it stays off the book): a limit order, or a peg at
        its price now; a stop order starts waiting instead.
        """
        if waiting(order):
            if order not in book.stops:
                self._startWaiting(book, order)
            return
        if marketLike(order):
            return
        pegged = order.ordType is OrdType.PEGGED
        if pegged:
            book.pegs[order.orderId] = order
            order.extra.working = False
            order.price = pegPrice(book.bestBid(), book.bestAsk(), order.isBuy, order.extra.cap)
            if order.price is None:
                # It waits for a two-sided market.
                order.extra.working = True
                return
        best = book.bestAny(not order.isBuy)
        if best is None or not crosses(order.isBuy, order.price, best):
            if pegged:
                order.extra.working = True
            self._rest(book, order)
        elif pegged:
            order.price = None

    def _takeOut(self, book, order):
        """
        Take a live order out of the book or out of the waiting stops.

        @return: whether it was resting.
        """
        wasResting = order.resting
        if wasResting:
            shown = displayed(order)
            book.remove(order)
            if shown:
                self._bookChanged(book, order)
        elif order in book.stops:
            book.stops.remove(order)
        return wasResting

    def _cancel(self, order, reason, cancelClOrdId=None):
        book = self.books[order.symbol]
        quantity = order.leavesQty
        wasResting = order.resting
        shown = displayed(order) if wasResting else 0
        if wasResting:
            book.remove(order)
        elif order in book.stops:
            book.stops.remove(order)
        order.leavesQty = 0
        order.status = OrdStatus.CANCELLED
        if shown:
            self._bookChanged(book, order)
        self._events.append(
            Cancelled(order, self._newExecId(), reason, quantity, wasResting, cancelClOrdId)
        )
        self._finish(order)

    def _replace(self, order, clOrdId, price, quantity, match, stopPx=None):
        """
        Change an order's client order id, price (a peg's limit), quantity
        and a waiting stop's stop price.  It keeps its place in the queue
        when only its quantity goes down; else it goes to the back (and,
        with C{match}, trades if it now crosses).  A waiting stop keeps its
        place among the stops, and triggers at once if the last trade is at
        or through its new stop price.
        """
        book = self.books[order.symbol]
        origClOrdId = order.clOrdId
        oldPrice = order.price
        oldQuantity = order.quantity
        oldLeaves = order.leavesQty
        pegged = order.ordType is OrdType.PEGGED
        if pegged:
            oldLimit = order.extra.cap
            newLimit = oldLimit if price is None else price
            newPrice = oldPrice
        else:
            oldLimit = newLimit = None
            newPrice = oldPrice if price is None else price
        newQuantity = oldQuantity if quantity is None else quantity
        if clOrdId != origClOrdId:
            self._clOrdIds[order.owner][clOrdId] = order.orderId
            order.clOrdId = clOrdId
        wasResting = order.resting
        newLeaves = newQuantity - order.cumQty
        if newLeaves <= 0:
            # Lowered to what is filled already: the order is finished.
            self._takeOut(book, order)
            order.quantity = max(newQuantity, order.cumQty)
            order.leavesQty = 0
            order.status = OrdStatus.FILLED
            self._replaced(order, origClOrdId, oldPrice, oldQuantity, oldLeaves, False, wasResting)
            self._finish(order)
        elif waiting(order):
            order.price = newPrice
            order.quantity = newQuantity
            order.leavesQty = newLeaves
            if stopPx is not None:
                order.extra.stopPx = stopPx
            self._replaced(order, origClOrdId, oldPrice, oldQuantity, oldLeaves, False, False)
            last = book.lastPrice
            if (
                order in book.stops
                and last is not None
                and stopFires(order.isBuy, order.extra.stopPx, last, last)
            ):
                book.stops.remove(order)
                self._trigger(book, order)
        elif newPrice == oldPrice and newLimit == oldLimit and newQuantity <= oldQuantity:
            # A decrease keeps time priority.
            shown = displayed(order) if wasResting else 0
            order.leavesQty = newLeaves
            order.quantity = newQuantity
            if wasResting:
                self._reshape(book, order)
            self._replaced(order, origClOrdId, oldPrice, oldQuantity, oldLeaves, False, wasResting)
            if wasResting and (shown or displayed(order)):
                self._bookChanged(book, order)
        else:
            self._takeOut(book, order)
            order.price = newPrice
            order.quantity = newQuantity
            order.leavesQty = newLeaves
            if pegged:
                order.extra.cap = newLimit
            self._replaced(order, origClOrdId, oldPrice, oldQuantity, oldLeaves, True, wasResting)
            if wasResting and match:
                if self._postOnlyAllowed(book, order, False):
                    self._enter(book, order)
            elif wasResting:
                self._place(book, order)

    def _replaced(self, order, origClOrdId, oldPrice, oldQuantity, oldLeaves, lostPriority, wasResting):
        self._events.append(
            Replaced(
                order, self._newExecId(), origClOrdId, oldPrice, oldQuantity, oldLeaves,
                lostPriority, wasResting,
            )
        )

    # -- primitives (behaviours and managed mode) --------------------------

    def acceptOrder(self, orderId, rest=True):
        """
        Accept a held (pending new) order.  With C{rest}, a limit order
        joins the book without matching (unless it would cross it: then it
        stays off the book until filled or cancelled).
        """
        order = self._liveOrder(orderId)
        if order.orderId not in self._unaccepted:
            raise WrongState("order %r is already accepted" % (orderId,))
        self._accept(order)
        if rest:
            self._place(self.books[order.symbol], order)
        self._flush()

    def pendingKinds(self, orderId):
        """
        What is held for a live order in managed mode: a subset of
        C{{"new", "cancel", "replace"}}.
        """
        order = self.getOrder(orderId)
        if order is None:
            return set()
        kinds = set()
        if order.orderId in self._unaccepted:
            kinds.add("new")
        if order.orderId in self._pending:
            kinds.add(self._pending[order.orderId].kind)
        return kinds

    def pendingRequests(self):
        """
        {order id: kind} of the requests held in managed mode.
        """
        result = {}
        for order in self.liveOrders():
            kinds = self.pendingKinds(order.orderId)
            if "new" in kinds:
                result[order.orderId] = "new"
            elif kinds:
                (result[order.orderId],) = kinds
        return result

    def restOrder(self, orderId):
        """
        Put an accepted limit order that is not in the book into it,
        without matching (unless it would cross the book).
        """
        order = self._liveOrder(orderId)
        if order.resting:
            raise WrongState("order %r already rests in the book" % (orderId,))
        if order.orderId in self._unaccepted:
            raise WrongState("order %r is not accepted yet" % (orderId,))
        book = self.books[order.symbol]
        if order in book.marketOrders or order in book.parked:
            raise WrongState("order %r waits for a later trading phase" % (orderId,))
        self._place(book, order)
        self._flush()

    def rejectOrder(self, orderId, text=None, reason=RejectReason.OTHER):
        order = self._liveOrder(orderId)
        if order.orderId not in self._unaccepted:
            raise WrongState("order %r is already accepted; cancel it instead" % (orderId,))
        pending = self._pending.get(order.orderId)
        order.status = OrdStatus.REJECTED
        order.leavesQty = 0
        self._events.append(Rejected(order, self._newExecId(), reason, text or "rejected"))
        if pending is not None:
            # The cancel held behind it can never happen now.
            self._cancelReject(
                order.owner, pending.clOrdId, order.clOrdId, None, order,
                RejectReason.TOO_LATE, pending.kind,
            )
        self._finish(order)
        self._flush()

    def fillOrder(self, orderId, quantity, price, aggressor=False):
        """
        Execute C{quantity} of a live order at C{price} against the house.
        A held order is accepted first.
        """
        order = self._liveOrder(orderId)
        if type(quantity) is not int or quantity <= 0:
            raise BadValue("fill quantity must be a positive integer, not %r" % (quantity,))
        if type(price) is not int or price <= 0:
            raise BadValue("fill price must be positive, not %r" % (price,))
        self.books[order.symbol].limits.checkPrice(price, "fill price")
        if quantity > order.leavesQty:
            raise BadValue(
                "fill quantity %d exceeds the order's leaves quantity %d"
                % (quantity, order.leavesQty)
            )
        if order.orderId in self._unaccepted:
            self.acceptOrder(orderId, rest=False)
        book = self.books[order.symbol]
        tradeId = self._newTradeId()
        shown = displayed(order) if order.resting else 0
        wasResting = self._execute(book, order, quantity, price)
        self._events.append(
            Filled(order, self._newExecId(), tradeId, price, quantity, aggressor, None, wasResting)
        )
        if aggressor:
            aggressorSide = order.side
        else:
            aggressorSide = Side.SELL if order.isBuy else Side.BUY
        self._events.append(
            Trade(
                book.symbol, tradeId, price, quantity,
                order.orderId if order.isBuy else None,
                None if order.isBuy else order.orderId,
                aggressorSide,
            )
        )
        self._printed(book, price, quantity)
        self._executed(book, order, shown)
        if not order.leavesQty:
            self._finish(order)
        self._flush()

    def _execute(self, book, order, quantity, price):
        """
        Fill C{quantity} of C{order} at C{price} (a fill against the house
        or a trade the test matched); a filled order leaves the book (or
        the waiting stops).  Of a resting iceberg the displayed slice fills
        first.

        @return: whether the order was resting.
        """
        wasResting = order.resting
        order.cumQty += quantity
        order.notional += quantity * price
        order.leavesQty -= quantity
        order.status = OrdStatus.PARTIALLY_FILLED if order.leavesQty else OrdStatus.FILLED
        if not order.leavesQty:
            self._takeOutQuietly(book, order)
        elif wasResting:
            if iceberg(order):
                order.extra.shown -= min(order.extra.shown, quantity)
            self._reshape(book, order)
        return wasResting

    def _takeOutQuietly(self, book, order):
        """
        Take a live order out of the book or the waiting stops, with no
        event.
        """
        if order.resting:
            book.remove(order)
        elif order in book.stops:
            book.stops.remove(order)

    def _executed(self, book, order, shown):
        """
        After a house fill or a matched trade of C{order} (which had
        C{shown} displayed): an iceberg with its slice filled shows a new
        one, and the level's L{BookChanged} follows if anything of the
        order was or is displayed.
        """
        if order.resting and iceberg(order) and not order.extra.shown:
            self._refresh(book, order)
        if shown or (order.resting and displayed(order)):
            self._bookChanged(book, order)

    def cancelAll(self, owner=None, symbol=None, reason=None, side=None):
        """
        Cancel every live order of C{owner} (every owner if None) on the
        book of C{symbol} (every book if None), of C{side} (a
        L{exsim.model.Side}; every side if None), held ones included, in
        one batch of events.

        @return: how many orders were cancelled.
        """
        if reason is None:
            reason = CancelReason.UNSOLICITED
        if symbol is not None:
            self.getBook(symbol)
        orders = [
            order for order in self.liveOrders()
            if (owner is None or order.owner == owner)
            and (symbol is None or order.symbol == symbol)
            and (side is None or order.side is side)
        ]
        with self.batch():
            for order in orders:
                self._pending.pop(order.orderId, None)
                self._cancel(order, reason)
        return len(orders)

    def restoreOrders(self, orders, usedIds=(), nextIds=(0, 0, 0)):
        """
        Put back orders a journal recorded: live C{orders} (resting ones
        in time priority first), the client order ids their owners used
        (C{usedIds}: (owner, client order id, order id)), and the highest
        order, execution and trade ids used (the counters continue after
        them).  A live limit order, new or partially filled, whose
        C{resting} is true rests again:
        the C{Added} events, then the C{BookChanged} of every level
        touched (asks, then bids, each side in the order first touched),
        go out in one batch.

        @raise WrongState: if an order id is live already.
        """
        for order in orders:
            if order.orderId in self._live:
                raise WrongState("order %d is live already" % (order.orderId,))
        maxOrderId, maxExecId, maxTradeId = nextIds
        highest = max([maxOrderId] + [order.orderId for order in orders])
        self._nextOrderId = max(self._nextOrderId, highest + 1)
        self._nextExecId = max(self._nextExecId, maxExecId + 1)
        self._nextTradeId = max(self._nextTradeId, maxTradeId + 1)
        for owner, clOrdId, orderId in usedIds:
            self._clOrdIds.setdefault(owner, {}).setdefault(clOrdId, orderId)
        touched = []
        with self.batch():
            for order in orders:
                book = self.getBook(order.symbol)
                self._live[order.orderId] = order
                if order.status is OrdStatus.PENDING_NEW:
                    self._unaccepted.add(order.orderId)
                self._clOrdIds.setdefault(order.owner, {})[order.clOrdId] = order.orderId
                if order.timeInForce is TimeInForce.GTD and order.expireTime is not None:
                    self._scheduleExpiry(order.expireTime)
                wasResting, order.resting = order.resting, False
                live = order.status in (OrdStatus.NEW, OrdStatus.PARTIALLY_FILLED)
                if order.ordType is OrdType.PEGGED:
                    # Its price is its limit again: priced at the next
                    # settle, as a new peg is.
                    order.extra.cap, order.price = order.price, None
                    order.extra.working = live and order.leavesQty > 0
                    book.pegs[order.orderId] = order
                    continue
                if live and waiting(order):
                    book.stops.append(order)
                    continue
                if (
                    wasResting
                    and live
                    and restsAgain(order)
                    and order.leavesQty
                ):
                    if iceberg(order):
                        order.extra.shown = sliceOf(order)
                    book.add(order)
                    self._events.append(Added(order))
                    if (book.symbol, order.isBuy, order.price) not in touched:
                        touched.append((book.symbol, order.isBuy, order.price))
            for symbol, isBuy, price in sorted(touched, key=lambda level: level[:2]):
                quantity, count = self.books[symbol].totals(isBuy, price)
                self._events.append(BookChanged(symbol, isBuy, price, quantity, count))
        return None

    def _takePending(self, orderId, kind):
        """
        Take the held request of C{kind} of an order; the order's status is
        what it would be without the request.
        """
        order = self.getOrder(orderId)
        pending = self._pending.get(order.orderId) if order is not None else None
        if pending is None or pending.kind != kind:
            raise WrongState("order %r has no pending %s request" % (orderId, kind))
        del self._pending[order.orderId]
        if order.status in _PENDING_CHANGE:
            # (A fill meanwhile set the status already.)
            if order.orderId in self._unaccepted:
                order.status = OrdStatus.PENDING_NEW
            elif order.cumQty:
                order.status = OrdStatus.PARTIALLY_FILLED
            else:
                order.status = OrdStatus.NEW
        return order, pending

    def acceptCancel(self, orderId):
        order, pending = self._takePending(orderId, "cancel")
        self._cancel(order, CancelReason.USER, pending.clOrdId)
        self._flush()

    def rejectCancel(self, orderId, text=None):
        order, pending = self._takePending(orderId, "cancel")
        self._cancelReject(
            order.owner, pending.clOrdId, order.clOrdId, None, order, RejectReason.OTHER,
            "cancel", text,
        )
        self._flush()

    def acceptReplace(self, orderId):
        order, pending = self._takePending(orderId, "replace")
        self._replace(
            order, pending.clOrdId, pending.price, pending.quantity, match=False,
            stopPx=pending.stopPx,
        )
        self._flush()

    def rejectReplace(self, orderId, text=None):
        order, pending = self._takePending(orderId, "replace")
        self._cancelReject(
            order.owner, pending.clOrdId, order.clOrdId, None, order, RejectReason.OTHER,
            "replace", text,
        )
        self._flush()

    # -- house trades --------------------------------------------------------

    def matchOrders(self, orderIdA, orderIdB, quantity=None, price=None):
        """
        Trade two live orders of opposite sides against each other, as the
        test says (C{match_orders}).  Defaults: the smaller leaves quantity,
        at the price of the order that came first (of the other if that is
        a market order).  The order that came last is the aggressor.

        @return: the trade id.
        """
        a = self._liveOrder(orderIdA)
        b = self._liveOrder(orderIdB)
        if a.symbol != b.symbol:
            raise BadValue("orders %r and %r are on different books" % (orderIdA, orderIdB))
        if a.isBuy == b.isBuy:
            raise BadValue("orders %r and %r are on the same side" % (orderIdA, orderIdB))
        older, newer = (a, b) if a.orderId < b.orderId else (b, a)
        maxQty = min(a.leavesQty, b.leavesQty)
        if quantity is None:
            quantity = maxQty
        if type(quantity) is not int or not 0 < quantity <= maxQty:
            raise BadValue("match quantity must be between 1 and %d" % (maxQty,))
        if price is None:
            price = older.price if older.price is not None else newer.price
            if price is None:
                raise BadValue("two market orders: give a price")
        if type(price) is not int or price <= 0:
            raise BadValue("match price must be positive")
        book = self.books[a.symbol]
        book.limits.checkPrice(price, "match price")
        for order in (a, b):
            if order.orderId in self._unaccepted:
                self._accept(order)
        tradeId = self._newTradeId()
        buy, sell = (a, b) if a.isBuy else (b, a)
        for order, contra in ((buy, sell), (sell, buy)):
            shown = displayed(order) if order.resting else 0
            wasResting = self._execute(book, order, quantity, price)
            self._events.append(
                Filled(
                    order, self._newExecId(), tradeId, price, quantity, order is newer,
                    contra.orderId, wasResting,
                )
            )
            self._executed(book, order, shown)
        self._events.append(
            Trade(book.symbol, tradeId, price, quantity, buy.orderId, sell.orderId, newer.side)
        )
        self._printed(book, price, quantity)
        for order in (buy, sell):
            if not order.leavesQty:
                self._finish(order)
        self._flush()
        return tradeId

    def crossOrders(self, passive, aggressor, quantity=None, price=None):
        """
        An off-book trade (an accepted RFQ quote): two new orders of
        opposite sides on one book are accepted and trade against each
        other at once, without touching the book, in one batch.  If either
        is not valid as a new order, both are rejected (the valid one with
        the other's reason) and nothing trades.  Never held in managed
        mode.

        @return: the trade id, or None if the orders were rejected.
        @raise BadValue: for terms that cannot cross (see
            L{exsim.engine.cross.checkCross}); nothing changes.
        """
        checkCross(passive, aggressor, quantity, price)
        with self.batch():
            problems = [
                self._validateNew(self.books.get(order.symbol), order)
                for order in (passive, aggressor)
            ]
            if (
                problems == [None, None]
                and passive.owner == aggressor.owner
                and passive.clOrdId == aggressor.clOrdId
            ):
                problems[1] = (
                    RejectReason.DUPLICATE_ORDER,
                    "duplicate client order id %r" % (aggressor.clOrdId,),
                )
            for order, problem, other in zip((passive, aggressor), problems, problems[::-1]):
                order.orderId = self._nextOrderId
                self._nextOrderId += 1
                if problem is None and other is None:
                    self._live[order.orderId] = order
                    self._unaccepted.add(order.orderId)
                    self._clOrdIds.setdefault(order.owner, {})[order.clOrdId] = order.orderId
                    continue
                if problem is None:
                    problem = (
                        RejectReason.OTHER,
                        "the other side of the cross was rejected: %s" % (other[1],),
                    )
                order.status = OrdStatus.REJECTED
                order.leavesQty = 0
                self._events.append(Rejected(order, self._newExecId(), problem[0], problem[1]))
            if problems != [None, None]:
                return None
            return self.matchOrders(passive.orderId, aggressor.orderId, quantity, price)

    # -- expiry --------------------------------------------------------------

    def _expire(self, order):
        book = self.books[order.symbol]
        quantity = order.leavesQty
        wasResting = self._takeOut(book, order)
        order.leavesQty = 0
        order.status = OrdStatus.EXPIRED
        self._events.append(Expired(order, self._newExecId(), quantity, wasResting))
        self._finish(order)

    def expireDay(self):
        """
        End of day: every DAY order expires; finished client order ids are
        forgotten (a new day may use them again).
        """
        spared = set()
        for book in self.books.values():
            # Accepted in post_close for the next day: they live on.
            spared.update(book.forNextDay)
            book.forNextDay = set()
        for order in self.liveOrders():
            if order.timeInForce is TimeInForce.DAY and order.orderId not in spared:
                self._expire(order)
        self._clOrdIds = {}
        for order in self.liveOrders():
            self._clOrdIds.setdefault(order.owner, {})[order.clOrdId] = order.orderId
        self._events.append(DayEnded())
        self._flush()

    def _scheduleExpiry(self, expireTime):
        """
        Make sure an expiry check runs by C{expireTime}.
        """
        if self._clock is None:
            return
        call = self._expiryCall
        if call is not None and call.active():
            if call.getTime() <= expireTime:
                return
            call.cancel()
        self._expiryCall = self._clock.callLater(
            max(0, expireTime - self.now()), self.expireDue
        )

    def expireDue(self, now=None):
        """
        Expire every accepted GTD order whose time has come, soonest first.
        """
        if now is None:
            now = self.now()
        self._expiryCall = None
        due = [
            order for order in self.liveOrders()
            if order.timeInForce is TimeInForce.GTD
            and order.orderId not in self._unaccepted
            and order.expireTime <= now
        ]
        due.sort(key=lambda order: (order.expireTime, order.orderId))
        for order in due:
            self._expire(order)
        later = [
            order.expireTime for order in self.liveOrders()
            if order.timeInForce is TimeInForce.GTD and order.orderId not in self._unaccepted
        ]
        if later and self._clock is not None:
            self._expiryCall = self._clock.callLater(max(0, min(later) - now), self.expireDue)
        self._flush()

    # -- stops and pegs after each command ------------------------------------

    def _settleBooks(self):
        """
        Before events go out: in each book, waiting stops that the trades
        printed since they were last looked at trigger (one at a time, in
        the order they were entered: each may print more trades), and
        midpoint pegs are priced again when the best bid or offer moved.
        """
        for book in list(self.books.values()):
            while self._triggerOne(book) or self._repriceIfMoved(book):
                pass
            book.printed = None

    def _triggerOne(self, book):
        """
        Trigger the first waiting stop (in entry order) that a trade printed
        since the stops were last looked at reached.

        @return: whether one triggered.
        """
        if book.printed is None:
            return False
        low, high = book.printed
        for order in book.stops:
            if stopFires(order.isBuy, order.extra.stopPx, low, high):
                book.stops.remove(order)
                self._trigger(book, order)
                return True
        return False

    def _repriceIfMoved(self, book):
        """
        If the best bid or offer is not where the book's pegs were last
        priced: take every accepted peg out of the book, then let each, in
        order id order, enter again at its new price (trading with what it
        crosses; a peg with no two-sided market waits off the book).

        @return: whether they were priced again.
        """
        pegs = [book.pegs[orderId] for orderId in sorted(book.pegs)]
        pegs = [order for order in pegs if order.extra.working]
        touch = (book.bestBid(), book.bestAsk())
        if not pegs or touch == book.pegTouch:
            return False
        book.pegTouch = touch
        for order in pegs:
            if order.resting:
                book.remove(order)
        for order in pegs:
            if order.orderId in self._live:
                self._enter(book, order)
        return True

    # -- trading phases (the rest is in exsim.engine.phases.PhaseControl) -------

    def _phaseRefuses(self, book, order):
        """
        Whether the book's phase refuses a new (otherwise valid) order.

        @return: None, or (L{RejectReason}, text naming the phase).
        """
        phase = book.phase
        tif = order.timeInForce
        if phase == CLOSED:
            return RejectReason.EXCHANGE_CLOSED, "book %s is closed: orders are refused" % (book.symbol,)
        if phase == HALTED and not book.haltAcceptsOrders:
            return RejectReason.HALTED, "book %s is halted: orders are refused" % (book.symbol,)
        if order.extra is not None:
            if phase != CONTINUOUS:
                return RejectReason.UNSUPPORTED_ORDER_TYPE, ADVANCED_OUTSIDE_CONTINUOUS % (phase,)
            if tif in phases.AT_AUCTION_TIFS:
                return RejectReason.UNSUPPORTED_ORDER_TYPE, ADVANCED_AT_AUCTION
        if phase == POST_CLOSE:
            if not book.postCloseAccepts:
                return (
                    RejectReason.EXCHANGE_CLOSED,
                    "book %s is in post_close: orders are refused" % (book.symbol,),
                )
            if order.ordType is not OrdType.LIMIT or tif not in (
                TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD
            ):
                return (
                    RejectReason.EXCHANGE_CLOSED,
                    "book %s is in post_close: only limit DAY, GTC and GTD orders are "
                    "accepted, for the next day" % (book.symbol,),
                )
            return None
        if tif is TimeInForce.AT_OPEN and phase != PRE_OPEN:
            return (
                RejectReason.UNSUPPORTED_TIME_IN_FORCE,
                "At the Opening orders are accepted only during pre_open, not %s" % (phase,),
            )
        if tif in (TimeInForce.IOC, TimeInForce.FOK) and phase != CONTINUOUS:
            return (
                RejectReason.UNSUPPORTED_TIME_IN_FORCE,
                "%s orders are not accepted during %s" % (tif.name, phase),
            )
        return None

    def _phaseRefusesReplace(self, book):
        """
        Whether the book's phase refuses replaces.

        @return: None, or (L{RejectReason}, text naming the phase).
        """
        phase = book.phase
        if phase == CLOSED or phase == POST_CLOSE:
            return (
                RejectReason.EXCHANGE_CLOSED,
                "book %s is in %s: replaces are refused" % (book.symbol, phase),
            )
        if phase == HALTED and (not book.haltAcceptsOrders or book.call is None):
            return RejectReason.HALTED, "book %s is halted: replaces are refused" % (book.symbol,)
        return None

    def _handleNew(self, book, order):
        """
        A new, valid order: the book's behaviour handles it in the
        continuous phase; otherwise it goes where the phase says.
        """
        if book.phase == CONTINUOUS and order.timeInForce is not TimeInForce.AT_CLOSE:
            book.behaviour.handleNew(self, book, order)
            return
        self._accept(order)
        if book.phase == POST_CLOSE:
            book.parked.append(order)
            book.forNextDay.add(order.orderId)
        else:
            self._place(book, order)

    def _place(self, book, order):
        """
        Put an accepted order that is off the book where the phase says,
        without matching: in the book (in a call even if it crosses it;
        otherwise only if it does not), among the market orders waiting
        for the uncross, off the book until a later phase, or cancelled
        if the auction it was for is over.
        """
        tif = order.timeInForce
        phase = book.phase
        if order.extra is not None and phase != CONTINUOUS:
            # Orders with advanced terms live in the continuous phase only
            # (one held in managed mode may be accepted outside it).
            self._cancel(order, CancelReason.UNSOLICITED)
        elif tif is TimeInForce.AT_OPEN and phase not in (PRE_OPEN, HALTED):
            self._cancel(order, CancelReason.AUCTION)
        elif tif is TimeInForce.AT_CLOSE and phase in (POST_CLOSE, CLOSED):
            self._cancel(order, CancelReason.AUCTION)
        elif book.call is not None and (
            tif not in phases.AT_AUCTION_TIFS
            or (tif is TimeInForce.AT_OPEN and book.call == OPENING)
            or (tif is TimeInForce.AT_CLOSE and book.call == CLOSING)
        ):
            self._restInCall(book, order)
        elif phase in (CONTINUOUS, POST_CLOSE, CLOSED) and tif not in phases.AT_AUCTION_TIFS:
            self._restIfUncrossed(book, order)
        else:
            book.parked.append(order)

    def _restInCall(self, book, order):
        """
        During a call: a limit order rests (crossing or not), a market
        order waits for the uncross.
        """
        if order.ordType is OrdType.LIMIT:
            self._rest(book, order)
        else:
            book.marketOrders.append(order)

    def _changePhase(self, book, new, reason):
        """
        Move C{book} to phase C{new}: uncross it if it leaves a call for
        C{continuous}, C{post_close} or C{closed}; then cancel what can no
        longer trade, release the orders waiting for this phase, and start
        the indicative events of a call.
        """
        old = book.phase
        if new == old:
            return
        if old == CONTINUOUS:
            self._cancelAdvanced(book)
        auction = None
        if new in (CONTINUOUS, POST_CLOSE, CLOSED) and book.call is not None:
            auction = book.call
            book.call = None
            self._uncross(book, auction)
        book.phase = new
        if new == HALTED:
            book.resumePhase = old
            if book.call is None and book.reopenWithAuction:
                book.call = REOPENING
        elif new == PRE_OPEN:
            book.call = OPENING
        elif new == CLOSING_AUCTION:
            book.call = CLOSING
        book.properties["phase"] = new
        self._haltState(book, new, reason)
        self._events.append(PhaseChanged(book.symbol, old, new, reason))
        self._cancelLeftovers(book, new, auction)
        self._releaseParked(book)
        if book.call is not None:
            self._events.append(self._indicative(book))
            self._startAuctionTimer()

    def _uncrossInputs(self, book):
        """
        (bids, asks, market buy quantity, market sell quantity) of a book.
        """
        return (
            [(level.price, level.quantity) for level in book.levelsFrom(True)],
            [(level.price, level.quantity) for level in book.levelsFrom(False)],
            sum(order.leavesQty for order in book.marketOrders if order.isBuy),
            sum(order.leavesQty for order in book.marketOrders if not order.isBuy),
        )

    def _uncrossOf(self, book):
        """
        The L{exsim.engine.auction.Uncross} of a book now.
        """
        return uncross(*self._uncrossInputs(book), book.referencePrice, book.lastPrice)

    def _uncross(self, book, auction):
        """
        Execute a call's orders at the uncross price: market orders first,
        then limit orders in price-time priority, each buy against each
        sell in that order.  L{AuctionUncrossed} comes first, then each
        execution (the buy's L{Filled}, the sell's, the L{Trade}), then
        the L{BookChanged} of every level touched (bids, then asks, best
        first).
        """
        result = self._uncrossOf(book)
        self._events.append(AuctionUncrossed(book.symbol, auction, result.price, result.paired))
        price = result.price
        if price is None:
            return
        book.auctionPrices[auction] = (price, result.paired)
        buys = [(o, o.leavesQty) for o in book.marketOrders if o.isBuy]
        sells = [(o, o.leavesQty) for o in book.marketOrders if not o.isBuy]
        for level in book.levelsFrom(True):
            if level.price >= price:
                buys.extend((o, o.leavesQty) for o in level.orders)
        for level in book.levelsFrom(False):
            if level.price <= price:
                sells.extend((o, o.leavesQty) for o in level.orders)
        touched = {True: set(), False: set()}
        for buy, sell, quantity in pairs(buys, sells, result.paired):
            tradeId = self._newTradeId()
            for order, contra in ((buy, sell), (sell, buy)):
                wasResting = order.resting
                if wasResting:
                    touched[order.isBuy].add(order.price)
                self._execute(book, order, quantity, price)
                # An auction execution: neither order is the aggressor.
                self._events.append(
                    Filled(
                        order, self._newExecId(), tradeId, price, quantity, None,
                        contra.orderId, wasResting,
                    )
                )
            self._events.append(
                Trade(book.symbol, tradeId, price, quantity, buy.orderId, sell.orderId, None)
            )
            self._printed(book, price, quantity)
            for order in (buy, sell):
                if not order.leavesQty:
                    self._finish(order)
        for isBuy in (True, False):
            for level in sorted(touched[isBuy], reverse=isBuy):
                quantity, count = book.totals(isBuy, level)
                self._events.append(BookChanged(book.symbol, isBuy, level, quantity, count))

    def _cancelAdvanced(self, book):
        """
        The book leaves the continuous phase: cancel (unsolicited), in
        order id order, its accepted orders with advanced terms (stops,
        pegs, hidden, icebergs, post-only, minimum quantity), which live in
        the continuous phase only.
        """
        doomed = [
            order for order in self.liveOrders()
            if order.symbol == book.symbol and order.extra is not None
            and order.orderId not in self._unaccepted
        ]
        for order in doomed:
            self._pending.pop(order.orderId, None)
            self._cancel(order, CancelReason.UNSOLICITED)

    def _cancelLeftovers(self, book, new, auction):
        """
        Cancel, in order id order, the accepted orders of C{book} that can
        no longer trade: market orders of a call once it is over, At the
        Opening orders outside the opening call and halts, At the Close
        orders after the closing auction or the day's end.
        """
        doomed = []
        for order in self.liveOrders():
            if order.symbol != book.symbol or order.orderId in self._unaccepted:
                continue
            tif = order.timeInForce
            if order in book.marketOrders and new in (CONTINUOUS, POST_CLOSE, CLOSED):
                doomed.append(order)
            elif tif is TimeInForce.AT_OPEN and new in (
                CONTINUOUS, CLOSING_AUCTION, POST_CLOSE, CLOSED
            ):
                doomed.append(order)
            elif tif is TimeInForce.AT_CLOSE and (auction == CLOSING or new in (POST_CLOSE, CLOSED)):
                doomed.append(order)
        for order in doomed:
            self._pending.pop(order.orderId, None)
            self._cancel(order, CancelReason.AUCTION)

    def _releaseParked(self, book):
        """
        The orders waiting off the book for this phase join it, in arrival
        order: in a call they rest, in the continuous phase they are
        matched as if they had just arrived.  At the Close orders wait for
        the closing auction, At the Opening ones for the opening call.
        """
        new = book.phase
        if new not in (PRE_OPEN, CLOSING_AUCTION, CONTINUOUS):
            return
        released = []
        for order in book.parked:
            tif = order.timeInForce
            if tif is TimeInForce.AT_CLOSE and new != CLOSING_AUCTION:
                continue
            if tif is TimeInForce.AT_OPEN and new != PRE_OPEN:
                continue
            released.append(order)
        book.parked = [order for order in book.parked if order not in released]
        for order in released:
            book.forNextDay.discard(order.orderId)
            if new == CONTINUOUS:
                self._match(book, order)
                self._settle(book, order)
            else:
                self._restInCall(book, order)

    def _auctionInputs(self, book, tif):
        """
        What the indicative figures need: the levels, the waiting market
        orders' quantities and the orders of time in force C{tif} (None:
        none) as (isBuy, price or None, quantity).
        """
        bids, asks, marketBuy, marketSell = self._uncrossInputs(book)
        auctionOnly = [
            (order.isBuy, order.price if order.resting else None, order.leavesQty)
            for order in book.orders() + book.marketOrders
            if tif is not None and order.timeInForce is tif
        ]
        return bids, asks, marketBuy, marketSell, auctionOnly

    # -- checks --------------------------------------------------------------

    def validateInternalState(self):
        """
        Check every invariant of the engine and its books; raise
        C{AssertionError} if one does not hold.  Used by tests after every
        operation.
        """
        resting = set()
        for symbol, book in self.books.items():
            assert book.symbol == symbol, (book.symbol, symbol)
            book.validateInternalState()
            for order in book.orders():
                assert self._live.get(order.orderId) is order, order
                assert order.symbol == symbol, order
                resting.add(order.orderId)
        for orderId, order in self._live.items():
            assert order.orderId == orderId, (order, orderId)
            assert 0 < orderId < self._nextOrderId, order
            assert not order.isDone, order
            assert order.symbol in self.books, order
            assert order.resting == (orderId in resting), order
            assert order.leavesQty > 0, order
            assert order.cumQty + order.leavesQty == order.quantity, order
            assert self.findOrder(order.owner, order.clOrdId) is order, order
            if orderId in self._unaccepted:
                assert not order.resting and not order.cumQty, order
            if orderId in self._pending:
                assert self._pending[orderId].kind in ("cancel", "replace"), order
        for book in self.books.values():
            for order in book.marketOrders + book.parked:
                assert self._live.get(order.orderId) is order, order
                assert order.orderId not in self._unaccepted, order
            # Every working peg is known to its book; what it knows is live.
            for orderId, order in book.pegs.items():
                assert self._live.get(orderId) is order and order.symbol == book.symbol, order
        for order in self._live.values():
            if order.ordType is OrdType.PEGGED and order.extra.working:
                assert self.books[order.symbol].pegs.get(order.orderId) is order, order
        assert self._unaccepted <= set(self._live), self._unaccepted
        assert set(self._pending) <= set(self._live), self._pending
