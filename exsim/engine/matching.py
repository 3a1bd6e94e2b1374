# -*- test-case-name: tests.test_matching -*-
"""
The matching engine: requests in, events out.

No reactor, no I/O.  Time comes from an injected clock (any
L{twisted.internet.interfaces.IReactorTime}), used for GTD expiry and for
behaviours that act later.
"""

from heapq import heappop, heappush

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine import phases
from exsim.engine.admin import EngineAdmin
from exsim.engine.auction import pairs, uncross
from exsim.engine.book import Book
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
    Trade,
    _new,
    appendAuctionFill,
    appendCancelled,
    appendFill,
)
from exsim.engine.orderindex import (
    CHUNK,
    CHUNK_BITS,
    CHUNK_MASK,
    SPARSE,
    ClientIds,
    OrderIndex,
)
from exsim.engine.ordertypes import STP_NONE, checkTerms, restsAgain, waiting
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
)
from exsim.engine.special import SpecialBooks
from exsim.errors import BadValue, WrongState
from exsim.interfaces import IEngine, IMarketPhases, ISelfTradePrevention
from exsim.memo import remember
from exsim.model import (
    T_BUY,
    T_EXTRA,
    T_OWNER,
    T_SYMBOL,
    T_TIF,
    T_TYPE,
    CancelReason,
    OrdStatus,
    OrdType,
    RejectReason,
    Side,
    TimeInForce,
)

NEW = OrdStatus.NEW
PARTIALLY_FILLED = OrdStatus.PARTIALLY_FILLED
FILLED = OrdStatus.FILLED
CANCELLED = OrdStatus.CANCELLED
REJECTED = OrdStatus.REJECTED
EXPIRED = OrdStatus.EXPIRED
PENDING_NEW = OrdStatus.PENDING_NEW
LIMIT = OrdType.LIMIT
MARKET = OrdType.MARKET
STOP = OrdType.STOP
STOP_LIMIT = OrdType.STOP_LIMIT
PEGGED = OrdType.PEGGED
IOC = TimeInForce.IOC
FOK = TimeInForce.FOK
GTD = TimeInForce.GTD
DAY = TimeInForce.DAY
GTC = TimeInForce.GTC
AT_OPEN = TimeInForce.AT_OPEN
AT_CLOSE = TimeInForce.AT_CLOSE
USER_CANCEL = CancelReason.USER

#: How many terms L{MatchingEngine._knownTerms} keeps at most.
KNOWN_TERMS = 10000


@implementer(IEngine, ISelfTradePrevention, IMarketPhases)
class MatchingEngine(SpecialBooks, phases.PhaseControl, EngineAdmin):
    """
    A price-time priority matching engine over any number of books.

    @ivar mode: C{"auto"}, or C{"managed"}: requests from the wire are held
        as L{OrderRequest} events until a test answers them.
    """

    log = Logger()

    def __init__(self, name="engine", clock=None):
        EngineAdmin.__init__(self, name, clock)
        # Live orders by order id (see OrderIndex); the hot paths read its
        # two dicts, which it never replaces, through these names.
        self._index = OrderIndex()
        self._chunks = self._index.chunks
        self._overflow = self._index.overflow
        # {owner: ClientIds}
        self._owners = {}
        # {terms: (book, owner's record, time in force)} of valid limit
        # DAY, GTC and IOC orders' terms (see Order.terms): what the hot
        # path of submitNew needs of them, found with one lookup.  Cleared
        # when books or owners' records change.
        self._knownTerms = {}
        self._pending = {}
        self._gtdHeap = []
        self._gtdCall = None
        # (_settling: whether a book is special, see exsim.engine.special.)

    # -- configuration (the rest in EngineAdmin) ---------------------------

    def _newBook(self, instrument, behaviour):
        return Book(instrument, behaviour)

    def _booksChanged(self, book=None):
        """
        Books, their properties or their bounds changed: terms known valid
        may be no more; a book with self-trade prevention takes the slow
        paths.
        """
        if book is not None and book.stp != STP_NONE:
            self._makeSpecial(book)
        self._knownTerms.clear()

    # -- lookups -----------------------------------------------------------

    def getOrder(self, orderId):
        if type(orderId) is not int:
            try:
                orderId = int(orderId)
            except (TypeError, ValueError):
                return None
        return self._index.get(orderId)

    def findOrder(self, owner, clOrdId):
        record = self._owners.get(owner)
        if record is None:
            return None
        orderId = record.orderIdOf(clOrdId)
        if orderId is None:
            return None
        order = self._index.get(orderId)
        if order is not None and order.clOrdId == clOrdId:
            return order
        return None

    def liveOrders(self):
        return self._index.live()

    def hasLiveOrders(self, owner):
        """
        Whether C{owner} has a live order: one of its client order ids maps
        to a live order id (a live order's id is always in its owner's
        remembered generations; see L{ClientIds}).  Costs one lookup per
        client order id the owner used (not on a hot path: a session
        logging out).
        """
        record = self._owners.get(owner)
        if record is None:
            return False
        get = self._index.get
        for ids in (record.ids, record.old):
            for orderId in ids.values():
                if get(orderId) is not None:
                    return True
        return False

    def _wasUsed(self, owner, clOrdId):
        """
        Whether C{owner} used C{clOrdId} (for a live order or a finished
        one) within the remembered generations.
        """
        record = self._owners.get(owner)
        return record is not None and record.used(clOrdId)

    def liveCount(self):
        """
        The number of live orders.
        """
        return self._index.count(self._nextOrderId)

    def _finish(self, order, orderId=None):
        """
        Forget a finished order: take it out of the order id index (its
        client order id stays known, see L{ClientIds}).  C{orderId}, if
        given, is its order id: an int the caller holds already is read
        faster than the order's own (on a cancel of a random old order, one
        object fewer to fetch from memory).
        """
        if orderId is None:
            orderId = order.orderId
        # (OrderIndex.remove, inline: every finished order passes here.)
        chunk = self._chunks.get(orderId >> CHUNK_BITS)
        if chunk is not None:
            index = orderId & CHUNK_MASK
            if chunk[index] is None:
                return
            chunk[index] = None
            gone = chunk[CHUNK] = chunk[CHUNK] + 1
            if gone > CHUNK - SPARSE and orderId >> CHUNK_BITS < self._nextOrderId >> CHUNK_BITS:
                self._index.retire(orderId >> CHUNK_BITS)
        elif self._overflow.pop(orderId, None) is None:
            return
        if self._pending:
            self._pending.pop(orderId, None)

    def _locate(self, owner, origClOrdId, orderId):
        """
        Find a live order for a cancel or replace.

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
        orderId = order.orderId = self._nextOrderId
        self._nextOrderId = orderId + 1
        terms = order.terms
        # The common case (a valid limit DAY/GTC/IOC order of terms seen
        # before) is checked inline; anything else goes through the full
        # validation.
        price = order.price
        quantity = order.quantity
        clOrdId = order.clOrdId
        known = self._knownTerms.get(terms)
        if known is not None:
            book, record, tif, maxQuantity, minPrice, maxPrice = known
        if (
            known is None
            or type(price) is not int
            or not minPrice <= price <= maxPrice
            or price % book.instrument.tickSize
            or type(quantity) is not int
            or quantity <= 0
            or quantity > maxQuantity
            or clOrdId in record.old
            # Checks that the id is new and, if it is, records it: one
            # lookup instead of two.
            or record.ids.setdefault(clOrdId, orderId) is not orderId
        ):
            book = self.books.get(terms[T_SYMBOL])
            owner = terms[T_OWNER]
            record = self._owners.get(owner)
            reason = self._validateNew(book, order)
            if reason is not None:
                reason, text = reason
                order.status = REJECTED
                order.leavesQty = 0
                # Its order id is gone at once.
                self._index.skip(orderId)
                self._events.append(Rejected(order, self._execId(), reason, text))
                self._flush()
                return order
            if record is None:
                record = self._owners[owner] = ClientIds()
            record.ids[clOrdId] = orderId
            if terms[T_EXTRA] is not None:
                self._specialRegister(book, order)
            if (
                known is None and terms[T_TYPE] is LIMIT and terms[T_TIF] in _SIMPLE_TIFS
                and book.instrument.plain and not book.special
            ):
                # Valid terms: the next order with them takes the hot path
                # (which checks the tick size only: not for a book with a
                # tick table or a lot size).
                limits = book.limits
                remember(self._knownTerms, terms, (
                    book, record, terms[T_TIF],
                    limits.maxQuantity, limits.minPrice, limits.maxPrice,
                ), KNOWN_TERMS)
            # Not the hot path below: matchNew handles every case.
            tif = None
        if len(record.ids) >= record.limit:
            record.maintain(terms[T_OWNER], self._index, self._nextOrderId)
        # OrderIndex.add, inline: new ids go to the newest chunk, kept at
        # hand.
        index = orderId & CHUNK_MASK
        orderIndex = self._index
        chunk = orderIndex.newest
        if chunk is None or not index:
            chunk = self._chunks.get(orderId >> CHUNK_BITS)
            if chunk is None:
                # The ids before this one in the chunk are gone already
                # (rejected, or 0, which is never used).
                chunk = self._chunks[orderId >> CHUNK_BITS] = [None] * CHUNK + [index]
            orderIndex.newest = chunk
        chunk[index] = order
        events = self._events
        if self._managed and not neverHeld:
            if self._ackHeld:
                # managed_ack = pending_new: the client hears at once that
                # the order is held (FIX ExecType/OrdStatus Pending New).
                events.append(PendingChange(order, self._execId(), "new", order.clOrdId))
            events.append(
                OrderRequest("new", order, orderId, order.clOrdId, order.price, order.quantity)
            )
        elif not book.standard:
            # The behaviour's primitives deliver nothing on their own: the
            # whole command's events go out together, below.
            with self._holdingEvents():
                self._handleNew(book, order)
            events = self._events
        elif tif is not DAY and tif is not GTC:
            self.matchNew(book, order)
        else:
            # The hot path: a limit DAY/GTC order on a standard book, with
            # matchNew and Book.add inline, and its events built inline as
            # in exsim.engine.events' fast paths.
            order.status = NEW
            execId = self._nextExecId
            self._nextExecId = execId + 1
            event = _new(Accepted)
            event.order = order
            event.execId = execId
            event.clOrdId = clOrdId
            event.price = price
            event.quantity = quantity
            event.status = NEW
            event.cumQty = 0
            event.leavesQty = quantity
            event.notional = 0
            events.append(event)
            isBuy = terms[T_BUY]
            # Every level's price is in its side's heap (with stale prices
            # of gone levels): when the top of the heap does not cross, no
            # level does, and bestAsk/bestBid need not be called.
            crossed = False
            if isBuy:
                heap = book._askHeap
                if heap and heap[0] <= price:
                    best = book.bestAsk()
                    crossed = best is not None and price >= best
                levels = book.bids
            else:
                heap = book._bidHeap
                if heap and -heap[0] >= price:
                    best = book.bestBid()
                    crossed = best is not None and price <= best
                levels = book.asks
            if crossed:
                self._match(book, order)
            if order.leavesQty:
                level = levels.get(price)
                if level is None:
                    level = book.newLevel(isBuy, price)
                order.price = level.price
                level.orders.append(order)
                level.quantity += order.leavesQty
                level.count += 1
                order.resting = True
                if crossed:
                    events.append(Added(order))
                else:
                    # Untouched: the snapshot is the same as on Accepted.
                    event = _new(Added)
                    event.order = order
                    event.clOrdId = clOrdId
                    event.price = price
                    event.quantity = quantity
                    event.status = NEW
                    event.cumQty = 0
                    event.leavesQty = quantity
                    event.notional = 0
                    events.append(event)
                event = _new(BookChanged)
                event.symbol = book.symbol
                event.isBuy = isBuy
                event.price = price
                event.quantity = level.quantity
                event.count = level.count
                events.append(event)
        if events and not self._busy:
            if self._settling:
                # Stops and pegs settle first (exsim.engine.special).
                self._flush()
                return order
            # EngineAdmin._flush, inline (the delivery loop is written
            # once, there; this copy of its first round saves a call per
            # command: callgrind, mixed flow, 4,391.8M -> 4,334.6M
            # instructions).
            # What listeners queue meanwhile goes out through _flush.
            self._events = []
            self._busy = True
            try:
                for listener in self._listenerTuple:
                    try:
                        listener.engineEvents(events)
                    except Exception:
                        self._listenerFailed(listener)
            finally:
                self._busy = False
            if self._events:
                self._flush()
        return order

    def _validateNew(self, book, order):
        if book is None:
            return RejectReason.UNKNOWN_SYMBOL, "unknown symbol %r" % (order.symbol,)
        quantity = order.quantity
        if type(quantity) is not int or quantity <= 0:
            return RejectReason.BAD_QUANTITY, "quantity must be a positive integer"
        instrument = book.instrument
        if quantity % instrument.lotSize:
            return RejectReason.BAD_QUANTITY, instrument.lotProblem(quantity)
        ordType = order.ordType
        if ordType is LIMIT or ordType is STOP_LIMIT or (
            ordType is PEGGED and order.price is not None
        ):
            price = order.price
            if type(price) is not int or price <= 0:
                return RejectReason.BAD_PRICE, "limit price must be positive"
            if not instrument.onTick(price):
                return RejectReason.BAD_PRICE, "price is not on the tick grid"
        elif ordType is MARKET or ordType is STOP:
            if order.price is not None:
                order.price = None
            if ordType is MARKET and order.timeInForce in (TimeInForce.GTC, GTD):
                return (
                    RejectReason.UNSUPPORTED_TIME_IN_FORCE,
                    "a market order cannot rest",
                )
        elif ordType is not PEGGED:
            return RejectReason.UNSUPPORTED_ORDER_TYPE, "unsupported order type"
        problem = book.limits.check(quantity, order.price)
        if problem is not None:
            return problem
        tif = order.timeInForce
        if tif is GTD:
            if order.expireTime is None:
                return RejectReason.UNSUPPORTED_TIME_IN_FORCE, "GTD needs an expire time"
            if order.expireTime <= self.now():
                return RejectReason.UNSUPPORTED_TIME_IN_FORCE, "expire time has passed"
        elif tif not in _TIFS:
            return RejectReason.UNSUPPORTED_TIME_IN_FORCE, "unsupported time in force"
        problem = checkTerms(book, order)
        if problem is not None:
            return problem
        if self._wasUsed(order.owner, order.clOrdId):
            return RejectReason.DUPLICATE_ORDER, "duplicate client order id %r" % (
                order.clOrdId,
            )
        if book.phase is not CONTINUOUS or tif is AT_OPEN or (
            tif is AT_CLOSE and order.terms[T_EXTRA] is not None
        ):
            return self._phaseRefuses(book, order)
        return None

    def submitCancel(self, owner, clOrdId, origClOrdId=None, orderId=None, neverHeld=False):
        order = chunk = None
        if type(orderId) is int:
            # OrderIndex.get, inline.
            chunk = self._chunks.get(orderId >> CHUNK_BITS)
            if chunk is not None:
                order = chunk[orderId & CHUNK_MASK]
            else:
                order = self._overflow.get(orderId)
        if order is None or owner is not None and order.terms[T_OWNER] != owner:
            order, reason = self._locate(owner, origClOrdId, orderId)
            chunk = None
        if order is None:
            self._cancelReject(owner, clOrdId, origClOrdId, orderId, None, reason, "cancel")
        elif self._pending and order.orderId in self._pending:
            self._cancelReject(
                owner, clOrdId, origClOrdId, orderId, order, RejectReason.OTHER,
                "cancel", "a cancel or replace is already pending",
            )
        elif chunk is not None and order.resting and (neverHeld or not self._managed):
            terms = order.terms
            if terms[T_EXTRA] is not None:
                # Advanced terms: not for the inline path below.
                self._cancel(order, CancelReason.USER, clOrdId)
                if self._events and not self._busy:
                    self._flush()
                return
            # The hot path: a resting order found by its order id in a
            # chunk.  _cancel and _finish, inline (the caller's int order id
            # and the chunk at hand: fewer objects to read from memory).
            book = self.books[terms[T_SYMBOL]]
            isBuy = terms[T_BUY]
            levels = book.bids if isBuy else book.asks
            price = order.price
            level = levels[price]
            quantity = order.leavesQty
            order.resting = False
            level.quantity -= quantity
            count = level.count = level.count - 1
            if not count:
                del levels[price]
            elif len(level.orders) > 2 * count + 32:
                book.compact(level)
            order.leavesQty = 0
            order.status = CANCELLED
            execId = self._nextExecId
            self._nextExecId = execId + 1
            # BookChanged and Cancelled, built inline as in
            # exsim.engine.events.appendCancelled.
            events = self._events
            event = _new(BookChanged)
            event.symbol = book.symbol
            event.isBuy = isBuy
            event.price = price
            event.quantity = level.quantity
            event.count = count
            events.append(event)
            event = _new(Cancelled)
            event.order = order
            event.execId = execId
            event.reason = USER_CANCEL
            event.cancelledQty = quantity
            event.resting = True
            event.cancelClOrdId = clOrdId
            event.clOrdId = order.clOrdId
            event.price = price
            event.quantity = order.quantity
            event.status = CANCELLED
            event.cumQty = order.cumQty
            event.leavesQty = 0
            event.notional = order.notional
            events.append(event)
            # OrderIndex.remove, inline.
            chunk[orderId & CHUNK_MASK] = None
            gone = chunk[CHUNK] = chunk[CHUNK] + 1
            if gone > CHUNK - SPARSE and orderId >> CHUNK_BITS < self._nextOrderId >> CHUNK_BITS:
                self._index.retire(orderId >> CHUNK_BITS)
            # (Not pending: checked above.)
        elif neverHeld or not self._managed:
            # Found by its int order id: pass the caller's int on (the
            # order's own is one more object to read from memory).
            self._cancel(order, CancelReason.USER, clOrdId, orderId if type(orderId) is int else None)
        else:
            self._hold(order, "cancel", clOrdId, None, None)
        events = self._events
        if events and not self._busy:
            if self._settling:
                # Stops and pegs settle first (exsim.engine.special).
                self._flush()
                return
            # EngineAdmin._flush, inline (the delivery loop is written
            # once, there; this copy of its first round saves a call per
            # command: callgrind, mixed flow, 4,391.8M -> 4,334.6M
            # instructions).
            # What listeners queue meanwhile goes out through _flush.
            self._events = []
            self._busy = True
            try:
                for listener in self._listenerTuple:
                    try:
                        listener.engineEvents(events)
                    except Exception:
                        self._listenerFailed(listener)
            finally:
                self._busy = False
            if self._events:
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
            if clOrdId != order.clOrdId and self._wasUsed(order.owner, clOrdId):
                reason, text = RejectReason.DUPLICATE_ORDER, "duplicate client order id"
            elif order.orderId in self._pending:
                reason, text = RejectReason.OTHER, "a cancel or replace is already pending"
            elif order.status is PENDING_NEW:
                reason, text = RejectReason.OTHER, "the order is not yet accepted"
            elif quantity is not None and (type(quantity) is not int or quantity <= 0):
                reason, text = RejectReason.BAD_QUANTITY, "quantity must be a positive integer"
            elif quantity is not None and quantity % book.instrument.lotSize:
                reason, text = RejectReason.BAD_QUANTITY, book.instrument.lotProblem(quantity)
            elif price is not None and (
                type(price) is not int or price <= 0 or not book.instrument.onTick(price)
            ):
                reason, text = RejectReason.BAD_PRICE, "price must be positive and on the tick grid"
            elif price is not None and (order.ordType is MARKET or order.ordType is STOP):
                reason, text = RejectReason.BAD_PRICE, "a market order has no price"
            elif stopPx is not None and (
                type(stopPx) is not int or stopPx <= 0 or not book.instrument.onTick(stopPx)
            ):
                reason, text = (
                    RejectReason.BAD_PRICE,
                    "the stop price must be positive and on the tick grid",
                )
            elif stopPx is not None and not waiting(order):
                reason, text = (
                    RejectReason.OTHER,
                    "only a waiting stop order has a stop price to change",
                )
            else:
                limits = book.limits
                problem = limits.check(
                    order.quantity if quantity is None else quantity, price
                ) or limits.check(1, stopPx)
                if problem is None and book.phase is not CONTINUOUS:
                    problem = self._phaseRefusesReplace(book)
                if problem is not None:
                    reason, text = problem
        if reason is not None:
            self._cancelReject(owner, clOrdId, origClOrdId, orderId, order, reason, "replace", text)
        elif self._managed and not neverHeld:
            self._hold(order, "replace", clOrdId, price, quantity, stopPx)
        else:
            # Only the continuous phase matches.
            self._replace(
                order, clOrdId, price, quantity, match=book.phase is CONTINUOUS, stopPx=stopPx
            )
        self._flush()

    def _cancelReject(self, owner, clOrdId, origClOrdId, orderId, order, reason, responseTo, text=None):
        if text is None:
            text = _REJECT_TEXT.get(reason)
            if text is None:
                text = reason.value
        self._events.append(
            CancelRejected(
                owner, clOrdId, origClOrdId,
                orderId if order is None else order.orderId,
                order, reason, text, responseTo,
            )
        )

    def _hold(self, order, kind, clOrdId, price, quantity, stopPx=None):
        self._pending[order.orderId] = (kind, clOrdId, price, quantity, order.status, stopPx)
        order.status = (
            OrdStatus.PENDING_CANCEL if kind == "cancel" else OrdStatus.PENDING_REPLACE
        )
        events = self._events
        events.append(PendingChange(order, self._execId(), kind, clOrdId))
        events.append(OrderRequest(kind, order, order.orderId, clOrdId, price, quantity, stopPx))

    # -- matching ----------------------------------------------------------

    def matchNew(self, book, order, accept=True):
        if book.special:
            if order.terms[T_TIF] is AT_CLOSE:
                # At the Close: it waits for the closing auction.
                if accept:
                    self._accept(order)
                self._place(book, order)
                return
            self._specialMatchNew(book, order, accept)
            return
        events = self._events
        if accept:
            order.status = NEW
            execId = self._nextExecId
            self._nextExecId = execId + 1
            events.append(Accepted(order, execId))
        terms = order.terms
        tif = terms[T_TIF]
        if tif is FOK:
            if not self._canFill(book, order):
                self._cancel(order, CancelReason.FILL_OR_KILL)
                return
        elif tif is AT_CLOSE:
            # At the Close: it waits for the closing auction.
            self._place(book, order)
            return
        price = order.price
        if order.isBuy:
            best = book.bestAsk()
            crosses = best is not None and (price is None or price >= best)
        else:
            best = book.bestBid()
            crosses = best is not None and (price is None or price <= best)
        if crosses:
            self._match(book, order)
            if not order.leavesQty:
                return
        if terms[T_TYPE] is MARKET:
            self._cancel(order, CancelReason.NO_LIQUIDITY)
        elif terms[T_TIF] is IOC or terms[T_TIF] is FOK:
            self._cancel(order, CancelReason.IMMEDIATE_OR_CANCEL)
        else:
            level = book.add(order)
            events.append(Added(order))
            events.append(BookChanged(book.symbol, order.isBuy, order.price, level.quantity, level.count))
            if terms[T_TIF] is GTD:
                self._scheduleExpiry(order)

    def _canFill(self, book, order):
        need = order.leavesQty
        limit = order.price
        isBuy = order.isBuy
        for level in book.levelsFrom(not isBuy):
            if limit is not None and (level.price > limit if isBuy else level.price < limit):
                break
            need -= level.quantity
            if need <= 0:
                return True
        return False

    def _match(self, book, order):
        isBuy = order.terms[T_BUY]
        if isBuy:
            best = book.bestAsk
            levels = book.asks
        else:
            best = book.bestBid
            levels = book.bids
        limit = order.price
        events = self._events
        append = events.append
        symbol = book.symbol
        # Counters in locals while matching, stored back at the end
        # (nothing reads them meanwhile).
        tradeId = self._nextTradeId
        execId = self._nextExecId
        firstTradeId = tradeId
        traded = 0
        leaves = order.leavesQty
        while leaves:
            price = best()
            if price is None:
                break
            if limit is not None and (price > limit if isBuy else price < limit):
                break
            level = levels[price]
            queue = level.orders
            while True:
                resting = queue[0]
                if not resting.resting:
                    queue.popleft()
                    continue
                qty = resting.leavesQty
                if leaves < qty:
                    qty = leaves
                notional = qty * price
                restingLeaves = resting.leavesQty = resting.leavesQty - qty
                resting.cumQty += qty
                resting.notional += notional
                leaves = order.leavesQty = leaves - qty
                order.cumQty += qty
                order.notional += notional
                level.quantity -= qty
                traded += qty
                lastPrice = price
                if restingLeaves:
                    resting.status = PARTIALLY_FILLED
                else:
                    resting.status = FILLED
                    resting.resting = False
                    queue.popleft()
                    level.count -= 1
                    self._finish(resting)
                order.status = PARTIALLY_FILLED if leaves else FILLED
                # Filled (resting), Filled (aggressor), Trade.
                appendFill(events, symbol, tradeId, price, qty, resting, execId, order, execId + 1, isBuy)
                tradeId += 1
                execId += 2
                if not leaves or not level.count:
                    break
            append(BookChanged(symbol, not isBuy, price, level.quantity, level.count))
            if not level.count:
                del levels[price]
        self._nextTradeId = tradeId
        self._nextExecId = execId
        if tradeId != firstTradeId:
            book.lastPrice = lastPrice
            book.lastQuantity = qty
            book.volume += traded
            book.tradeCount += tradeId - firstTradeId
        if not leaves:
            self._finish(order)

    def _settle(self, book, order):
        """
        After matching: rest the remainder, or cancel it (IOC, market).
        """
        if not order.leavesQty or order.status in _DONE:
            return
        if order.ordType is MARKET:
            self._cancel(order, CancelReason.NO_LIQUIDITY)
        elif order.timeInForce is IOC or order.timeInForce is FOK:
            self._cancel(order, CancelReason.IMMEDIATE_OR_CANCEL)
        else:
            self._rest(book, order)

    def _rest(self, book, order):
        level = book.add(order)
        events = self._events
        events.append(Added(order))
        events.append(BookChanged(book.symbol, order.isBuy, order.price, level.quantity, level.count))
        if order.timeInForce is GTD:
            self._scheduleExpiry(order)

    def _cancel(self, order, reason, cancelClOrdId=None, orderId=None):
        """
        Cancel a live order.  C{orderId}, if given, is its order id (see
        L{_finish}).
        """
        if order.terms[T_EXTRA] is not None:
            self._specialCancel(order, reason, cancelClOrdId)
            return
        quantity = order.leavesQty
        resting = order.resting
        events = self._events
        if resting:
            terms = order.terms
            book = self.books[terms[T_SYMBOL]]
            isBuy = terms[T_BUY]
            # Book.remove, inline: this is the hot path of every cancel.
            levels = book.bids if isBuy else book.asks
            price = order.price
            level = levels[price]
            order.resting = False
            level.quantity -= quantity
            count = level.count = level.count - 1
            if not count:
                del levels[price]
            elif len(level.orders) > 2 * count + 32:
                book.compact(level)
            symbol = book.symbol
        else:
            level = symbol = isBuy = None
        order.leavesQty = 0
        order.status = CANCELLED
        execId = self._nextExecId
        self._nextExecId = execId + 1
        # BookChanged (if it was resting) and Cancelled.
        appendCancelled(events, order, execId, reason, quantity, cancelClOrdId, symbol, isBuy, level)
        self._finish(order, orderId)

    def _replace(self, order, clOrdId, price, quantity, match, stopPx=None):
        book = self.books[order.symbol]
        if book.special:
            self._specialReplace(order, clOrdId, price, quantity, match, stopPx)
            return
        events = self._events
        oldPrice = order.price
        oldQuantity = order.quantity
        oldLeaves = order.leavesQty
        origClOrdId = order.clOrdId
        newPrice = oldPrice if price is None else price
        newQuantity = oldQuantity if quantity is None else quantity
        if clOrdId != origClOrdId:
            # The old id stays known, and maps to an order that no longer
            # has it: finished, as far as lookups go.
            self._owners[order.owner].ids[clOrdId] = order.orderId
            order.clOrdId = clOrdId
        wasResting = order.resting
        newLeaves = newQuantity - order.cumQty
        if newLeaves <= 0:
            # Lowered to what is already filled: the order is finished.
            if wasResting:
                level = book.remove(order)
                events.append(BookChanged(book.symbol, order.isBuy, oldPrice, level.quantity, level.count))
            order.quantity = max(newQuantity, order.cumQty)
            order.leavesQty = 0
            order.status = FILLED
            events.append(
                Replaced(order, self._execId(), origClOrdId, oldPrice, oldQuantity, oldLeaves, False, wasResting)
            )
            self._finish(order)
            return
        if newPrice == oldPrice and newQuantity <= oldQuantity:
            # A decrease keeps time priority.
            if wasResting:
                level = book.reduce(order, oldLeaves - newLeaves)
            else:
                order.leavesQty = newLeaves
            order.quantity = newQuantity
            events.append(
                Replaced(order, self._execId(), origClOrdId, oldPrice, oldQuantity, oldLeaves, False, wasResting)
            )
            if wasResting:
                events.append(BookChanged(book.symbol, order.isBuy, oldPrice, level.quantity, level.count))
            return
        if wasResting:
            level = book.unlink(order)
            events.append(BookChanged(book.symbol, order.isBuy, oldPrice, level.quantity, level.count))
        order.price = newPrice
        order.quantity = newQuantity
        order.leavesQty = newLeaves
        events.append(
            Replaced(order, self._execId(), origClOrdId, oldPrice, oldQuantity, oldLeaves, True, wasResting)
        )
        if not wasResting:
            return
        if match:
            self._match(book, order)
            self._settle(book, order)
        else:
            self._place(book, order)

    def _restIfUncrossed(self, book, order):
        if book.special:
            self._specialRestIfUncrossed(book, order)
            return
        if order.ordType is not LIMIT:
            return
        if order.isBuy:
            best = book.bestAsk()
            crosses = best is not None and order.price >= best
        else:
            best = book.bestBid()
            crosses = best is not None and order.price <= best
        if not crosses:
            self._rest(book, order)

    # -- primitives (behaviours and managed mode) --------------------------

    def acceptOrder(self, orderId, rest=True):
        """
        Accept a held (pending new) order.  With C{rest}, a limit order
        joins the book without matching (unless it would cross it: then it
        stays off the book until filled or cancelled).
        """
        order = self._liveOrder(orderId)
        if not self._heldNew(order):
            raise WrongState("order %r is already accepted" % (orderId,))
        self._accept(order)
        if rest:
            self._place(self.books[order.symbol], order)
        self._flush()

    def _accept(self, order):
        """
        Accept a held order (an L{Accepted} event).  A GTD order's expiry
        counts from now on, in the book or not.
        """
        pending = self._pending.get(order.orderId)
        if pending is None:
            order.status = NEW
        else:
            # A cancel or replace arrived before the order was accepted:
            # the order stays pending that change, which is still held.
            self._pending[order.orderId] = pending[:4] + (NEW,) + pending[5:]
        self._events.append(Accepted(order, self._execId()))
        if order.terms[T_TIF] is GTD:
            self._scheduleExpiry(order)

    def _heldNew(self, order):
        if order.status is PENDING_NEW:
            return True
        pending = self._pending.get(order.orderId)
        return pending is not None and pending[4] is PENDING_NEW

    def pendingKinds(self, orderId):
        """
        What is held for a live order in managed mode: a subset of
        C{{"new", "cancel", "replace"}}.
        """
        order = self.getOrder(orderId)
        if order is None:
            return set()
        kinds = set()
        if self._heldNew(order):
            kinds.add("new")
        pending = self._pending.get(order.orderId)
        if pending is not None:
            kinds.add(pending[0])
        return kinds

    def restOrder(self, orderId):
        """
        Put an accepted limit order that is not in the book into it,
        without matching (unless it would cross the book).
        """
        order = self._liveOrder(orderId)
        if order.resting:
            raise WrongState("order %r already rests in the book" % (orderId,))
        if self._heldNew(order):
            raise WrongState("order %r is not accepted yet" % (orderId,))
        book = self.books[order.symbol]
        if order in book.marketOrders or order in book.parked:
            raise WrongState("order %r waits for a later trading phase" % (orderId,))
        self._place(book, order)
        self._flush()

    def rejectOrder(self, orderId, text=None, reason=RejectReason.OTHER):
        order = self._liveOrder(orderId)
        if not self._heldNew(order):
            raise WrongState("order %r is already accepted; cancel it instead" % (orderId,))
        pending = self._pending.pop(orderId, None)
        order.status = REJECTED
        order.leavesQty = 0
        self._events.append(Rejected(order, self._execId(), reason, text or "rejected"))
        if pending is not None:
            # The cancel or replace held behind it can never happen now.
            self._cancelReject(
                order.owner, pending[1], order.clOrdId, None, order,
                RejectReason.TOO_LATE, pending[0],
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
        if self._heldNew(order):
            self.acceptOrder(orderId, rest=False)
        book = self.books[order.symbol]
        if book.special:
            self._specialFill(order, quantity, price, aggressor)
            self._flush()
            return
        events = self._events
        tradeId = self._nextTradeId
        self._nextTradeId = tradeId + 1
        wasResting = order.resting
        order.cumQty += quantity
        order.notional += quantity * price
        if wasResting:
            if quantity == order.leavesQty:
                level = book.remove(order)
                order.leavesQty = 0
            else:
                level = book.reduce(order, quantity)
        else:
            order.leavesQty -= quantity
        order.status = PARTIALLY_FILLED if order.leavesQty else FILLED
        events.append(
            Filled(order, self._execId(), tradeId, price, quantity, aggressor, None, wasResting)
        )
        events.append(
            Trade(
                book.symbol, tradeId, price, quantity,
                order.orderId if order.isBuy else None,
                None if order.isBuy else order.orderId,
                order.side if aggressor else (Side.SELL if order.isBuy else Side.BUY),
            )
        )
        book.lastPrice = price
        book.lastQuantity = quantity
        book.volume += quantity
        book.tradeCount += 1
        if wasResting:
            events.append(BookChanged(book.symbol, order.isBuy, order.price, level.quantity, level.count))
        if not order.leavesQty:
            self._finish(order)
        self._flush()

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
        cancelled = 0
        with self.batch():
            for order in self.liveOrders():
                if (
                    (owner is None or order.owner == owner)
                    and (symbol is None or order.symbol == symbol)
                    and (side is None or order.side is side)
                ):
                    self._pending.pop(order.orderId, None)
                    self._cancel(order, reason)
                    cancelled += 1
        return cancelled

    def restoreOrders(self, orders, usedIds=(), nextIds=(0, 0, 0)):
        """
        Put back orders a journal recorded: live C{orders} (resting ones
        in time priority first), the client order ids their owners used
        (C{usedIds}: (owner, client order id, order id)), and the highest
        order, execution and trade ids used (C{nextIds} continue after
        them).  Orders whose C{resting} is true rest again: their C{Added} and the books'
        C{BookChanged} events go out in one batch, so that every feed shows
        them; order entry reports nothing.

        @raise WrongState: if an order id is live already.
        """
        for order in orders:
            if self.getOrder(order.orderId) is not None:
                raise WrongState("order %d is live already" % (order.orderId,))
        maxOrderId, maxExecId, maxTradeId = nextIds
        highest = max([maxOrderId] + [order.orderId for order in orders])
        self._nextOrderId = max(self._nextOrderId, highest + 1)
        self._nextExecId = max(self._nextExecId, maxExecId + 1)
        self._nextTradeId = max(self._nextTradeId, maxTradeId + 1)
        owners = self._owners
        for owner, clOrdId, orderId in usedIds:
            record = owners.get(owner)
            if record is None:
                record = owners[owner] = ClientIds()
            record.ids.setdefault(clOrdId, orderId)
        keys = set()
        touched = {}
        with self.batch():
            for order in orders:
                book = self.getBook(order.symbol)
                orderId = order.orderId
                keys.add(self._index.put(order))
                record = owners.get(order.owner)
                if record is None:
                    record = owners[order.owner] = ClientIds()
                record.ids[order.clOrdId] = orderId
                if (
                    order.timeInForce is GTD
                    and order.expireTime is not None
                    and order.status is not PENDING_NEW
                ):
                    self._scheduleExpiry(order)
                wasResting, order.resting = order.resting, False
                extra = order.terms[T_EXTRA]
                if extra is not None:
                    # (A peg's price is its limit again: priced at the
                    # next settle.)
                    self._specialRegister(book, order)
                    if order.status in (NEW, PARTIALLY_FILLED) and order.leavesQty:
                        if waiting(order):
                            self._stopWaits(book, order)
                            continue
                        if order.ordType is PEGGED:
                            extra.working = True
                            continue
                if wasResting and order.status in (NEW, PARTIALLY_FILLED) and (
                    restsAgain(order) and order.leavesQty
                ):
                    if extra is None:
                        level = book.add(order)
                    else:
                        if extra.displayQty:
                            extra.shown = min(extra.displayQty, order.leavesQty)
                        self._specialAdd(book, order)
                    self._events.append(Added(order))
                    touched[(book.symbol, order.isBuy, order.price)] = None
            for symbol, isBuy, price in sorted(touched, key=lambda key: key[:2]):
                level = (self.books[symbol].bids if isBuy else self.books[symbol].asks).get(price)
                quantity, count = (0, 0) if level is None else (level.quantity, level.count)
                self._events.append(BookChanged(symbol, isBuy, price, quantity, count))
            self._index.recount(keys, self._nextOrderId)
            self._knownTerms.clear()

    def _takePending(self, orderId, kind):
        pending = self._pending.get(orderId)
        if pending is None or pending[0] != kind:
            raise WrongState("order %r has no pending %s request" % (orderId, kind))
        del self._pending[orderId]
        order = self.getOrder(orderId)
        if order.status is OrdStatus.PENDING_CANCEL or order.status is OrdStatus.PENDING_REPLACE:
            # (Unless a fill meanwhile set it.)
            order.status = pending[4]
        return order, pending

    def acceptCancel(self, orderId):
        order, (kind, clOrdId, _, _, _, _) = self._takePending(orderId, "cancel")
        self._cancel(order, CancelReason.USER, clOrdId)
        self._flush()

    def rejectCancel(self, orderId, text=None):
        order, (kind, clOrdId, _, _, _, _) = self._takePending(orderId, "cancel")
        self._cancelReject(order.owner, clOrdId, order.clOrdId, None, order, RejectReason.OTHER, "cancel", text)
        self._flush()

    def acceptReplace(self, orderId):
        order, (kind, clOrdId, price, quantity, _, stopPx) = self._takePending(orderId, "replace")
        self._replace(order, clOrdId, price, quantity, match=False, stopPx=stopPx)
        self._flush()

    def rejectReplace(self, orderId, text=None):
        order, (kind, clOrdId, _, _, _, _) = self._takePending(orderId, "replace")
        self._cancelReject(order.owner, clOrdId, order.clOrdId, None, order, RejectReason.OTHER, "replace", text)
        self._flush()

    def pendingRequests(self):
        """
        {order id: kind} of the requests held in managed mode.
        """
        result = {o.orderId: "new" for o in self.liveOrders() if o.status is PENDING_NEW}
        for orderId, pending in self._pending.items():
            if pending[4] is PENDING_NEW:
                result[orderId] = "new"
            else:
                result[orderId] = pending[0]
        return result

    # -- house trades --------------------------------------------------------

    def matchOrders(self, orderIdA, orderIdB, quantity=None, price=None):
        """
        Trade two live orders of opposite sides against each other, as the
        test says (C{match_orders}).  Defaults: the smaller leaves quantity,
        at the price of the order that was accepted first.

        @return: the trade id.
        """
        a = self._liveOrder(orderIdA)
        b = self._liveOrder(orderIdB)
        if a.symbol != b.symbol:
            raise BadValue("orders %r and %r are on different books" % (orderIdA, orderIdB))
        if a.isBuy == b.isBuy:
            raise BadValue("orders %r and %r are on the same side" % (orderIdA, orderIdB))
        maxQty = min(a.leavesQty, b.leavesQty)
        if quantity is None:
            quantity = maxQty
        if type(quantity) is not int or not 0 < quantity <= maxQty:
            raise BadValue("match quantity must be between 1 and %d" % (maxQty,))
        if price is None:
            price = (a if a.orderId < b.orderId else b).price
            if price is None:
                price = (b if a.orderId < b.orderId else a).price
            if price is None:
                raise BadValue("two market orders: give a price")
        if type(price) is not int or price <= 0:
            raise BadValue("match price must be positive")
        self.books[a.symbol].limits.checkPrice(price, "match price")
        book = self.books[a.symbol]
        for order in (a, b):
            if self._heldNew(order):
                self._accept(order)
        if book.special:
            buy, sell = (a, b) if a.isBuy else (b, a)
            tradeId = self._specialMatchOrders(
                book, buy, sell, b if a.orderId < b.orderId else a, quantity, price
            )
            self._flush()
            return tradeId
        tradeId = self._nextTradeId
        self._nextTradeId = tradeId + 1
        buy, sell = (a, b) if a.isBuy else (b, a)
        events = self._events
        aggressor = b if a.orderId < b.orderId else a
        for order, contra in ((buy, sell), (sell, buy)):
            wasResting = order.resting
            order.cumQty += quantity
            order.notional += quantity * price
            if wasResting:
                if quantity == order.leavesQty:
                    level = book.remove(order)
                    order.leavesQty = 0
                else:
                    level = book.reduce(order, quantity)
            else:
                order.leavesQty -= quantity
            order.status = PARTIALLY_FILLED if order.leavesQty else FILLED
            events.append(
                Filled(order, self._execId(), tradeId, price, quantity, order is aggressor, contra.orderId, wasResting)
            )
            if wasResting:
                events.append(BookChanged(book.symbol, order.isBuy, order.price, level.quantity, level.count))
        events.append(Trade(book.symbol, tradeId, price, quantity, buy.orderId, sell.orderId, aggressor.side))
        book.lastPrice = price
        book.lastQuantity = quantity
        book.volume += quantity
        book.tradeCount += 1
        for order in (buy, sell):
            if not order.leavesQty:
                self._finish(order)
        self._flush()
        return tradeId

    def crossOrders(self, passive, aggressor, quantity=None, price=None):
        """
        An off-book trade (an accepted RFQ quote): two new orders of
        opposite sides on one book are accepted and trade against each
        other at once, without touching the book, in one batch (C{Accepted}
        of each, C{Filled} of each, C{Trade}; C{aggressor} took
        liquidity).  If either order is not valid as a new order, both are
        rejected (the valid one with the other's reason) and nothing
        trades.  Never held in managed mode.

        @param quantity: default: the smaller order quantity.
        @param price: default: C{passive}'s price.
        @return: the trade id, or None if the orders were rejected.
        @raise BadValue: for orders of one side or of two books, a
            quantity above either's or a price that is not positive;
            nothing changes.
        """
        checkCross(passive, aggressor, quantity, price)
        with self.batch():
            problems = [self._validateNew(self.books.get(order.symbol), order) for order in (passive, aggressor)]
            if (
                problems == [None, None]
                and passive.owner == aggressor.owner
                and passive.clOrdId == aggressor.clOrdId
            ):
                problems[1] = (RejectReason.DUPLICATE_ORDER, "duplicate client order id %r" % (aggressor.clOrdId,))
            for order, problem, other in zip((passive, aggressor), problems, problems[::-1]):
                orderId = order.orderId = self._nextOrderId
                self._nextOrderId = orderId + 1
                if problem is None and other is None:
                    owner = order.owner
                    record = self._owners.get(owner)
                    if record is None:
                        record = self._owners[owner] = ClientIds()
                    record.ids[order.clOrdId] = orderId
                    if len(record.ids) >= record.limit:
                        record.maintain(owner, self._index, self._nextOrderId)
                    self._index.add(order)
                    continue
                reason, text = problem or (
                    RejectReason.OTHER, "the other side of the cross was rejected: %s" % (other[1],)
                )
                order.status = REJECTED
                order.leavesQty = 0
                self._index.skip(orderId)
                self._events.append(Rejected(order, self._execId(), reason, text))
            if problems != [None, None]:
                return None
            return self.matchOrders(passive.orderId, aggressor.orderId, quantity, price)

    # -- trading phases (the rest is in exsim.engine.phases.PhaseControl) -------
    #
    # The same rules as exsim.engine.reference, on this engine's
    # structures.  Nothing here is on the hot path: a book outside the
    # continuous phase is not "standard" (Book.phase), so its new orders
    # take the slow path to _handleNew, and every phase change clears the
    # known terms.  The book's lists of waiting orders keep finished ones
    # until they are next gone through.

    def _phaseRefuses(self, book, order):
        """
        Whether the book's phase refuses a new (otherwise valid) order.

        @return: None, or (L{RejectReason}, text naming the phase).
        """
        phase = book.phase
        tif = order.terms[T_TIF]
        symbol = book.symbol
        if phase is CLOSED:
            return RejectReason.EXCHANGE_CLOSED, "book %s is closed: orders are refused" % (symbol,)
        if phase is HALTED and not book.haltAcceptsOrders:
            return RejectReason.HALTED, "book %s is halted: orders are refused" % (symbol,)
        if order.terms[T_EXTRA] is not None:
            if phase is not CONTINUOUS:
                return RejectReason.UNSUPPORTED_ORDER_TYPE, ADVANCED_OUTSIDE_CONTINUOUS % (phase,)
            if tif is AT_CLOSE or tif is AT_OPEN:
                return RejectReason.UNSUPPORTED_ORDER_TYPE, ADVANCED_AT_AUCTION
        if phase is POST_CLOSE:
            if not book.postCloseAccepts:
                return (
                    RejectReason.EXCHANGE_CLOSED,
                    "book %s is in post_close: orders are refused" % (symbol,),
                )
            if order.terms[T_TYPE] is not LIMIT or tif not in _NEXT_DAY_TIFS:
                return (
                    RejectReason.EXCHANGE_CLOSED,
                    "book %s is in post_close: only limit DAY, GTC and GTD orders are "
                    "accepted, for the next day" % (symbol,),
                )
            return None
        if tif is AT_OPEN and phase is not PRE_OPEN:
            return (
                RejectReason.UNSUPPORTED_TIME_IN_FORCE,
                "At the Opening orders are accepted only during pre_open, not %s" % (phase,),
            )
        if (tif is IOC or tif is FOK) and phase is not CONTINUOUS:
            return (
                RejectReason.UNSUPPORTED_TIME_IN_FORCE,
                "%s orders are not accepted during %s" % (tif.name, phase),
            )
        return None

    def _phaseRefusesReplace(self, book):
        """
        Whether the book's phase (not the continuous one) refuses replaces.

        @return: None, or (L{RejectReason}, text naming the phase).
        """
        phase = book.phase
        if phase is CLOSED or phase is POST_CLOSE:
            return (
                RejectReason.EXCHANGE_CLOSED,
                "book %s is in %s: replaces are refused" % (book.symbol, phase),
            )
        if phase is HALTED and (not book.haltAcceptsOrders or book.call is None):
            return RejectReason.HALTED, "book %s is halted: replaces are refused" % (book.symbol,)
        return None

    def _handleNew(self, book, order):
        """
        A new, valid order on a book that is not standard: its behaviour
        handles it in the continuous phase; otherwise it goes where the
        phase says.
        """
        phase = book.phase
        if phase is CONTINUOUS and order.terms[T_TIF] is not AT_CLOSE:
            book.behaviour.handleNew(self, book, order)
            return
        self._accept(order)
        if phase is POST_CLOSE:
            book.parked.append(order)
            book.forNextDay.add(order.orderId)
        else:
            self._place(book, order)

    def _place(self, book, order):
        """
        Put an accepted order that is off the book where the phase says,
        without matching (see the reference engine's C{_place}).
        """
        tif = order.terms[T_TIF]
        phase = book.phase
        call = book.call
        if order.terms[T_EXTRA] is not None and phase is not CONTINUOUS:
            # (Held in managed mode, accepted outside the continuous phase.)
            self._cancel(order, CancelReason.UNSOLICITED)
        elif tif is AT_OPEN and phase is not PRE_OPEN and phase is not HALTED:
            self._cancel(order, CancelReason.AUCTION)
        elif tif is AT_CLOSE and (phase is POST_CLOSE or phase is CLOSED):
            self._cancel(order, CancelReason.AUCTION)
        elif call is not None and (
            (tif is not AT_OPEN and tif is not AT_CLOSE)
            or (tif is AT_OPEN and call is OPENING)
            or (tif is AT_CLOSE and call is CLOSING)
        ):
            self._restInCall(book, order)
        elif (phase is CONTINUOUS or phase is POST_CLOSE or phase is CLOSED) and (
            tif is not AT_OPEN and tif is not AT_CLOSE
        ):
            self._restIfUncrossed(book, order)
        else:
            book.parked.append(order)

    def _cancelAdvanced(self, book):
        """
        Cancel, in order id order, the live orders of C{book} with advanced
        terms (see the reference engine's C{_cancelAdvanced}).
        """
        symbol = book.symbol
        for order in sorted(
            (o for o in self.liveOrders() if o.terms[T_EXTRA] is not None and o.terms[T_SYMBOL] == symbol),
            key=lambda o: o.orderId,
        ):
            if not self._heldNew(order):
                if self._pending:
                    self._pending.pop(order.orderId, None)
                self._cancel(order, CancelReason.UNSOLICITED)

    def _restInCall(self, book, order):
        """
        During a call: a limit order rests (crossing or not), a market
        order waits for the uncross.
        """
        if order.terms[T_TYPE] is LIMIT:
            self._rest(book, order)
        else:
            book.marketOrders.append(order)

    def _changePhase(self, book, new, reason):
        """
        Move C{book} to phase C{new} (see the reference engine's
        C{_changePhase}).
        """
        old = book.phase
        if new is old:
            return
        self._knownTerms.clear()
        if old is CONTINUOUS and book.special:
            # Orders with advanced terms live in the continuous phase only.
            self._cancelAdvanced(book)
        auction = None
        if (new is CONTINUOUS or new is POST_CLOSE or new is CLOSED) and book.call is not None:
            auction = book.call
            book.call = None
            self._uncross(book, auction)
        book.phase = new
        if new is HALTED:
            book.resumePhase = old
            if book.call is None and book.reopenWithAuction:
                book.call = REOPENING
        elif new is PRE_OPEN:
            book.call = OPENING
        elif new is CLOSING_AUCTION:
            book.call = CLOSING
        book.properties["phase"] = new
        self._haltState(book, new, reason)
        self._events.append(PhaseChanged(book.symbol, old, new, reason))
        self._cancelLeftovers(book, new, auction)
        self._releaseParked(book)
        if book.call is not None:
            self._events.append(self._indicative(book))
            self._startAuctionTimer()

    def _waitingMarket(self, book):
        """
        The live market orders of a book waiting for the uncross, oldest
        first (finished ones are dropped from its list).
        """
        live = book.marketOrders = [o for o in book.marketOrders if o.status not in _DONE]
        return live

    def _uncrossOf(self, book):
        market = self._waitingMarket(book)
        marketBuy = marketSell = 0
        for order in market:
            if order.terms[T_BUY]:
                marketBuy += order.leavesQty
            else:
                marketSell += order.leavesQty
        return uncross(
            [(price, level.quantity) for price, level in book.bids.items()],
            [(price, level.quantity) for price, level in book.asks.items()],
            marketBuy, marketSell, book.referencePrice, book.lastPrice,
        )

    def _uncross(self, book, auction):
        """
        Execute a call's orders at the uncross price (see the reference
        engine's C{_uncross}; the same events in the same order).
        """
        result = self._uncrossOf(book)
        events = self._events
        symbol = book.symbol
        price = result.price
        events.append(AuctionUncrossed(symbol, auction, price, result.paired))
        if price is None:
            return
        book.auctionPrices[auction] = (price, result.paired)
        market = book.marketOrders
        buys = [(o, o.leavesQty) for o in market if o.terms[T_BUY]]
        sells = [(o, o.leavesQty) for o in market if not o.terms[T_BUY]]
        bids = book.bids
        asks = book.asks
        for level in sorted((p for p in bids if p >= price), reverse=True):
            buys.extend((o, o.leavesQty) for o in bids[level].orders if o.resting)
        for level in sorted(p for p in asks if p <= price):
            sells.extend((o, o.leavesQty) for o in asks[level].orders if o.resting)
        touchedBids = {}
        touchedAsks = {}
        tradeId = self._nextTradeId
        execId = self._nextExecId
        firstTradeId = tradeId
        traded = 0
        finish = self._finish
        for buy, sell, quantity in pairs(buys, sells, result.paired):
            notional = quantity * price
            # Both orders' fills: the buy's, then the sell's.
            buyResting = buy.resting
            leaves = buy.leavesQty = buy.leavesQty - quantity
            buy.cumQty += quantity
            buy.notional += notional
            buy.status = PARTIALLY_FILLED if leaves else FILLED
            if buyResting:
                level = touchedBids.get(buy.price)
                if level is None:
                    level = touchedBids[buy.price] = bids[buy.price]
                level.quantity -= quantity
                if not leaves:
                    buy.resting = False
                    level.count -= 1
            sellResting = sell.resting
            leaves = sell.leavesQty = sell.leavesQty - quantity
            sell.cumQty += quantity
            sell.notional += notional
            sell.status = PARTIALLY_FILLED if leaves else FILLED
            if sellResting:
                level = touchedAsks.get(sell.price)
                if level is None:
                    level = touchedAsks[sell.price] = asks[sell.price]
                level.quantity -= quantity
                if not leaves:
                    sell.resting = False
                    level.count -= 1
            appendAuctionFill(
                events, symbol, tradeId, price, quantity, buy, execId, sell, execId + 1,
                buyResting, sellResting,
            )
            tradeId += 1
            execId += 2
            traded += quantity
            if not buy.leavesQty:
                finish(buy)
            if not sell.leavesQty:
                finish(sell)
            lastQuantity = quantity
        self._nextTradeId = tradeId
        self._nextExecId = execId
        if tradeId != firstTradeId:
            book.lastPrice = price
            book.lastQuantity = lastQuantity
            book.volume += traded
            book.tradeCount += tradeId - firstTradeId
        for isBuy, touched, levels in ((True, touchedBids, bids), (False, touchedAsks, asks)):
            for levelPrice in sorted(touched, reverse=isBuy):
                level = touched[levelPrice]
                if not level.count:
                    del levels[levelPrice]
                elif len(level.orders) > 2 * level.count + 32:
                    book.compact(level)
                else:
                    # Filled orders leave the front of the queue.
                    queue = level.orders
                    while queue and not queue[0].resting:
                        queue.popleft()
                events.append(BookChanged(symbol, isBuy, levelPrice, level.quantity, level.count))
        book.marketOrders = [o for o in market if o.status not in _DONE]

    def _cancelLeftovers(self, book, new, auction):
        """
        Cancel, in order id order, the accepted orders of C{book} that can
        no longer trade (see the reference engine's C{_cancelLeftovers}).
        """
        endsCall = new is CONTINUOUS or new is POST_CLOSE or new is CLOSED
        dropOpen = endsCall or new is CLOSING_AUCTION
        dropClose = auction is CLOSING or new is POST_CLOSE or new is CLOSED
        doomed = {}
        if endsCall:
            for order in self._waitingMarket(book):
                doomed[order.orderId] = order
        if dropOpen or dropClose:
            symbol = book.symbol
            for order in self.liveOrders():
                terms = order.terms
                tif = terms[T_TIF]
                if (
                    ((tif is AT_OPEN and dropOpen) or (tif is AT_CLOSE and dropClose))
                    and terms[T_SYMBOL] == symbol
                    and not self._heldNew(order)
                ):
                    doomed[order.orderId] = order
        for orderId in sorted(doomed):
            order = doomed[orderId]
            if self._pending:
                self._pending.pop(orderId, None)
            self._cancel(order, CancelReason.AUCTION)

    def _releaseParked(self, book):
        """
        The orders waiting off the book for this phase join it, in arrival
        order (see the reference engine's C{_releaseParked}).
        """
        new = book.phase
        if new is not PRE_OPEN and new is not CLOSING_AUCTION and new is not CONTINUOUS:
            return
        released = []
        kept = []
        for order in book.parked:
            if order.status in _DONE:
                continue
            tif = order.terms[T_TIF]
            if (tif is AT_CLOSE and new is not CLOSING_AUCTION) or (
                tif is AT_OPEN and new is not PRE_OPEN
            ):
                kept.append(order)
            else:
                released.append(order)
        book.parked = kept
        for order in released:
            book.forNextDay.discard(order.orderId)
            if new is CONTINUOUS:
                self._match(book, order)
                self._settle(book, order)
            else:
                self._restInCall(book, order)

    def _auctionInputs(self, book, tif):
        """
        What the indicative figures need (L{PhaseControl._indicative}): the
        levels, the waiting market orders' quantities and the orders of
        time in force C{tif} (None: none) as (isBuy, price or None,
        quantity).
        """
        marketBuy = marketSell = 0
        auctionOnly = []
        for order in self._waitingMarket(book):
            isBuy = order.terms[T_BUY]
            if isBuy:
                marketBuy += order.leavesQty
            else:
                marketSell += order.leavesQty
            if tif is not None and order.terms[T_TIF] is tif:
                auctionOnly.append((isBuy, None, order.leavesQty))
        if tif is not None:
            for levels in (book.bids, book.asks):
                for level in levels.values():
                    for order in level.orders:
                        if order.resting and order.terms[T_TIF] is tif:
                            auctionOnly.append((order.terms[T_BUY], order.price, order.leavesQty))
        return (
            [(price, level.quantity) for price, level in book.bids.items()],
            [(price, level.quantity) for price, level in book.asks.items()],
            marketBuy, marketSell, auctionOnly,
        )

    # -- expiry --------------------------------------------------------------

    def _expire(self, order):
        if order.terms[T_EXTRA] is not None:
            self._specialExpire(order)
            return
        quantity = order.leavesQty
        resting = order.resting
        if resting:
            book = self.books[order.symbol]
            level = book.remove(order)
            self._events.append(
                BookChanged(book.symbol, order.isBuy, order.price, level.quantity, level.count)
            )
        order.leavesQty = 0
        order.status = EXPIRED
        self._events.append(Expired(order, self._execId(), quantity, resting))
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
            if order.timeInForce is DAY and order.orderId not in spared:
                self._expire(order)
        # Forget finished orders' ids; keep the survivors'.
        owners = self._owners
        for owner in list(owners):
            owners[owner] = ClientIds()
        self._knownTerms.clear()
        for order in self.liveOrders():
            owners[order.owner].ids[order.clOrdId] = order.orderId
        self._events.append(DayEnded())
        self._flush()

    def _scheduleExpiry(self, order):
        heappush(self._gtdHeap, (order.expireTime, order.orderId))
        if self._clock is None:
            return
        call = self._gtdCall
        if call is not None and call.active():
            if call.getTime() <= order.expireTime:
                return
            call.cancel()
        self._gtdCall = self._clock.callLater(
            max(0, order.expireTime - self.now()), self.expireDue
        )

    def expireDue(self, now=None):
        """
        Expire every GTD order whose time has come.
        """
        if now is None:
            now = self.now()
        self._gtdCall = None
        heap = self._gtdHeap
        while heap and heap[0][0] <= now:
            expireTime, orderId = heappop(heap)
            order = self.getOrder(orderId)
            if order is not None and order.expireTime == expireTime:
                self._expire(order)
        if heap and self._clock is not None:
            self._gtdCall = self._clock.callLater(max(0, heap[0][0] - now), self.expireDue)
        self._flush()



_TIFS = frozenset(
    [TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK, AT_OPEN, AT_CLOSE]
)
_SIMPLE_TIFS = frozenset([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.IOC])
_NEXT_DAY_TIFS = frozenset([TimeInForce.DAY, TimeInForce.GTC, TimeInForce.GTD])
_DONE = frozenset([FILLED, CANCELLED, REJECTED, EXPIRED])
_REJECT_TEXT = {
    RejectReason.UNKNOWN_ORDER: "unknown order",
    RejectReason.TOO_LATE: "too late to cancel",
    RejectReason.DUPLICATE_ORDER: "duplicate client order id",
}
