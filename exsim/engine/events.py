# -*- test-case-name: tests.test_matching -*-
"""
Events the engine emits.

The engine queues events while it processes one command and delivers the
whole batch afterwards (L{exsim.interfaces.IEngineListener.engineEvents}),
so a listener never sees a half-matched book.  Each event has a C{type}
(the name used in control events) and C{asDict()} for the control queue.

An order event keeps the L{exsim.model.Order} (C{order}, which keeps
changing) and a snapshot of its state when the event happened: C{clOrdId},
C{price}, C{quantity}, C{status}, C{cumQty}, C{leavesQty}, C{notional}
(C{orderPrice}/C{orderQuantity} on L{Filled}, where C{price} and
C{quantity} are the fill's).  Protocols report the snapshot.

Events that change an order carry an C{execId}, unique within the engine,
that every protocol uses for its execution identifier (FIX ExecID), so an
execution report and its drop copy agree.
"""

from exsim.model import T_EXTRA, Side

_BUY = Side.BUY
_SELL = Side.SELL


def _plain(value):
    if hasattr(value, "value") and hasattr(value, "name"):
        return value.name.lower()
    return value


def _snake(name):
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in name)


class EngineEvent:
    __slots__ = ()
    type = "event"

    def asDict(self):
        """
        A plain dict of simple values, for the control event queue.
        """
        result = {"type": self.type}
        for name in self.__slots__:
            if name in ("order", "notional"):
                continue
            result[_snake(name)] = _plain(getattr(self, name))
        return result

    def __repr__(self):
        return "<%s %s>" % (
            self.__class__.__name__,
            " ".join("%s=%r" % (n, getattr(self, n)) for n in self.__slots__),
        )


_SNAPSHOT = ("clOrdId", "price", "quantity", "status", "cumQty", "leavesQty", "notional")

#: The fields an C{order_request} of an order with advanced terms adds
#: (prices as decimal text: see L{exsim.control.queue.PRICE_FIELDS}).
ADVANCED_FIELDS = (
    "stop_price", "display_quantity", "min_quantity", "post_only", "stp_id", "peg_limit",
)


class OrderEvent(EngineEvent):
    """
    Base of events about one order.
    """

    __slots__ = ()

    def asDict(self):
        order = self.order
        result = EngineEvent.asDict(self)
        result["order_id"] = order.orderId
        result["owner"] = str(order.owner)
        result["symbol"] = order.symbol
        result["side"] = order.side.name.lower()
        result["avg_px"] = self.notional / self.cumQty if self.cumQty else 0
        return result


class Accepted(OrderEvent):
    """
    An order was accepted (FIX ExecType New).
    """

    __slots__ = ("order", "execId") + _SNAPSHOT
    type = "accepted"

    def __init__(self, order, execId):
        self.order = order
        self.execId = execId
        self.clOrdId = order.clOrdId
        self.price = order.price
        self.quantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional


class Rejected(OrderEvent):
    """
    A new order was rejected; C{reason} is a L{exsim.model.RejectReason}.
    """

    __slots__ = ("order", "execId", "reason", "text") + _SNAPSHOT
    type = "rejected"

    def __init__(self, order, execId, reason, text):
        self.order = order
        self.execId = execId
        self.reason = reason
        self.text = text
        self.clOrdId = order.clOrdId
        self.price = order.price
        self.quantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional


class Added(OrderEvent):
    """
    An order (or what is left of it after matching) now rests in the book;
    or an iceberg order shows a new display slice, at the back of its
    price level.  How much of it is displayed follows from its terms
    (L{exsim.engine.ordertypes.displayed}): all of a plain order, none of
    a hidden order or a peg, C{min(displayQty, leavesQty)} of an iceberg.
    """

    __slots__ = ("order",) + _SNAPSHOT
    type = "added"

    def __init__(self, order):
        self.order = order
        self.clOrdId = order.clOrdId
        self.price = order.price
        self.quantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional


class Filled(OrderEvent):
    """
    One side of one execution of C{quantity} at C{price}.  C{aggressor} is
    true for the order that removed liquidity, None for both orders of an
    auction's execution (L{AuctionUncrossed} comes before them).  C{contraOrderId} is
    C{None} for a fill against the house (managed mode, auto behaviours).
    C{resting} tells whether the order was in the book.
    """

    __slots__ = (
        "order",
        "execId",
        "tradeId",
        "price",
        "quantity",
        "aggressor",
        "contraOrderId",
        "resting",
        "clOrdId",
        "orderPrice",
        "orderQuantity",
        "status",
        "cumQty",
        "leavesQty",
        "notional",
    )
    type = "filled"

    def __init__(
        self, order, execId, tradeId, price, quantity, aggressor, contraOrderId, resting
    ):
        self.order = order
        self.execId = execId
        self.tradeId = tradeId
        self.price = price
        self.quantity = quantity
        self.aggressor = aggressor
        self.contraOrderId = contraOrderId
        self.resting = resting
        self.clOrdId = order.clOrdId
        self.orderPrice = order.price
        self.orderQuantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional


class Cancelled(OrderEvent):
    """
    An order was cancelled: C{cancelledQty} of it; C{resting} tells
    whether it was in the book until now.  C{cancelClOrdId} is the client
    id of the cancel request, if there was one.
    """

    __slots__ = (
        "order",
        "execId",
        "reason",
        "cancelledQty",
        "resting",
        "cancelClOrdId",
    ) + _SNAPSHOT
    type = "cancelled"

    def __init__(self, order, execId, reason, quantity, resting, cancelClOrdId=None):
        self.order = order
        self.execId = execId
        self.reason = reason
        self.cancelledQty = quantity
        self.resting = resting
        self.cancelClOrdId = cancelClOrdId
        self.clOrdId = order.clOrdId
        self.price = order.price
        self.quantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional


class Replaced(OrderEvent):
    """
    An order was modified: the snapshot holds its new client id, price and
    quantity; the old ones are here.  C{lostPriority} says whether it went
    to the back of its (new) price level.
    """

    __slots__ = (
        "order",
        "execId",
        "origClOrdId",
        "oldPrice",
        "oldQuantity",
        "oldLeavesQty",
        "lostPriority",
        "wasResting",
    ) + _SNAPSHOT
    type = "replaced"

    def __init__(
        self,
        order,
        execId,
        origClOrdId,
        oldPrice,
        oldQuantity,
        oldLeavesQty,
        lostPriority,
        wasResting,
    ):
        self.order = order
        self.execId = execId
        self.origClOrdId = origClOrdId
        self.oldPrice = oldPrice
        self.oldQuantity = oldQuantity
        self.oldLeavesQty = oldLeavesQty
        self.lostPriority = lostPriority
        self.wasResting = wasResting
        self.clOrdId = order.clOrdId
        self.price = order.price
        self.quantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional


class Expired(OrderEvent):
    """
    An order expired (end of day for DAY orders, expiry time for GTD):
    C{expiredQty} of it.
    """

    __slots__ = ("order", "execId", "expiredQty", "resting") + _SNAPSHOT
    type = "expired"

    def __init__(self, order, execId, quantity, resting):
        self.order = order
        self.execId = execId
        self.expiredQty = quantity
        self.resting = resting
        self.clOrdId = order.clOrdId
        self.price = order.price
        self.quantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional


class Triggered(OrderEvent):
    """
    A stop or stop-limit order triggered: a trade printed at or through its
    stop price, and it now enters the book as a market or limit order
    (FIX ExecType L, Triggered, where the version has it).
    """

    __slots__ = ("order", "execId") + _SNAPSHOT
    type = "triggered"

    def asDict(self):
        result = OrderEvent.asDict(self)
        result["stop_price"] = self.order.terms[T_EXTRA].stopPx
        return result

    def __init__(self, order, execId):
        self.order = order
        self.execId = execId
        self.clOrdId = order.clOrdId
        self.price = order.price
        self.quantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional


class Restated(OrderEvent):
    """
    The venue reduced a live order by C{reducedQty} without a trade
    (self-trade prevention C{decrement}): its quantity and leaves quantity
    are that much lower.  C{reason} is a L{exsim.model.CancelReason};
    C{resting} tells whether the order is in the book.
    """

    __slots__ = ("order", "execId", "reason", "reducedQty", "resting") + _SNAPSHOT
    type = "restated"

    def __init__(self, order, execId, reason, reducedQty, resting):
        self.order = order
        self.execId = execId
        self.reason = reason
        self.reducedQty = reducedQty
        self.resting = resting
        self.clOrdId = order.clOrdId
        self.price = order.price
        self.quantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional


class PendingChange(OrderEvent):
    """
    Managed mode: a cancel or replace (C{kind}) is held (FIX ExecType
    Pending Cancel / Pending Replace), or, with the engine property
    C{managed_ack = pending_new}, a new order (C{kind} C{"new"}: FIX
    ExecType and OrdStatus Pending New).  C{requestClOrdId} is the
    request's client id.
    """

    __slots__ = ("order", "execId", "kind", "requestClOrdId") + _SNAPSHOT
    type = "pending"

    def __init__(self, order, execId, kind, clOrdId):
        self.order = order
        self.execId = execId
        self.kind = kind
        self.requestClOrdId = clOrdId
        self.clOrdId = order.clOrdId
        self.price = order.price
        self.quantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional


class OrderRequest(OrderEvent):
    """
    Managed mode: a request from the wire is held until the test answers.
    C{kind} is C{"new"}, C{"cancel"} or C{"replace"}; C{requestId} is what
    the answer names (the exchange order id).  C{requestPrice},
    C{requestQuantity} and C{requestStopPx} are what a replace asks for.
    C{advanced}: the order's advanced terms when the request was held
    (stop price, display quantity, minimum quantity, post-only, self-trade
    prevention id, a peg's limit), or None for a plain order.
    """

    __slots__ = (
        "order",
        "kind",
        "requestId",
        "requestClOrdId",
        "requestPrice",
        "requestQuantity",
        "requestStopPx",
        "advanced",
    ) + _SNAPSHOT
    type = "order_request"

    def __init__(self, kind, order, requestId, clOrdId, price, quantity, stopPx=None):
        self.order = order
        self.kind = kind
        self.requestId = requestId
        self.requestClOrdId = clOrdId
        self.requestPrice = price
        self.requestQuantity = quantity
        self.requestStopPx = stopPx
        extra = order.terms[T_EXTRA]
        self.advanced = None if extra is None else (
            extra.stopPx, extra.displayQty, extra.minQty, extra.postOnly, extra.stpId, extra.cap,
        )
        self.clOrdId = order.clOrdId
        self.price = order.price
        self.quantity = order.quantity
        self.status = order.status
        self.cumQty = order.cumQty
        self.leavesQty = order.leavesQty
        self.notional = order.notional

    def asDict(self):
        result = OrderEvent.asDict(self)
        order = self.order
        result["order_type"] = order.ordType.name.lower()
        result["time_in_force"] = order.timeInForce.name.lower()
        del result["advanced"]
        if self.requestStopPx is None:
            del result["request_stop_px"]
        else:
            result["request_stop_price"] = result.pop("request_stop_px")
        if self.advanced is not None:
            result.update(zip(ADVANCED_FIELDS, self.advanced))
        return result


class CancelRejected(EngineEvent):
    """
    A cancel or replace request was refused.  C{responseTo} is
    C{"cancel"} or C{"replace"}; C{order} is the target order when known.
    """

    __slots__ = (
        "owner",
        "clOrdId",
        "origClOrdId",
        "orderId",
        "order",
        "reason",
        "text",
        "responseTo",
        "status",
    )
    type = "cancel_rejected"

    def __init__(
        self, owner, clOrdId, origClOrdId, orderId, order, reason, text, responseTo
    ):
        self.owner = owner
        self.clOrdId = clOrdId
        self.origClOrdId = origClOrdId
        self.orderId = orderId
        self.order = order
        self.reason = reason
        self.text = text
        self.responseTo = responseTo
        self.status = order.status if order is not None else None

    def asDict(self):
        result = EngineEvent.asDict(self)
        result["owner"] = str(self.owner)
        return result


class Trade(EngineEvent):
    """
    A trade printed on C{symbol}.  C{buyOrderId}/C{sellOrderId} are
    C{None} for a side that was not an order in the book (the house).
    """

    __slots__ = (
        "symbol",
        "tradeId",
        "price",
        "quantity",
        "buyOrderId",
        "sellOrderId",
        "aggressorSide",
    )
    type = "trade"

    def __init__(
        self, symbol, tradeId, price, quantity, buyOrderId, sellOrderId, aggressorSide
    ):
        self.symbol = symbol
        self.tradeId = tradeId
        self.price = price
        self.quantity = quantity
        self.buyOrderId = buyOrderId
        self.sellOrderId = sellOrderId
        self.aggressorSide = aggressorSide


class DayEnded(EngineEvent):
    """
    The engine's trading day ended (C{end_of_day}): after the expiry of its
    DAY orders, in the same batch.  Client order ids may be used again.
    """

    __slots__ = ()
    type = "day_ended"


class BookChanged(EngineEvent):
    """
    A price level changed: its new total C{quantity} and order C{count}
    (both 0 when the level is gone).
    """

    __slots__ = ("symbol", "isBuy", "price", "quantity", "count")
    type = "book_changed"

    def __init__(self, symbol, isBuy, price, quantity, count):
        self.symbol = symbol
        self.isBuy = isBuy
        self.price = price
        self.quantity = quantity
        self.count = count

    def asDict(self):
        return {
            "type": self.type,
            "symbol": self.symbol,
            "side": "buy" if self.isBuy else "sell",
            "price": self.price,
            "quantity": self.quantity,
            "count": self.count,
        }


class PhaseChanged(EngineEvent):
    """
    A book's trading phase changed from C{old} to C{new} (names of
    L{exsim.engine.phases.PHASES}); C{reason} is the halt reason given,
    C{"schedule"} for a change the schedule made, or None.
    """

    __slots__ = ("symbol", "old", "new", "reason")
    type = "phase_changed"

    def __init__(self, symbol, old, new, reason=None):
        self.symbol = symbol
        self.old = old
        self.new = new
        self.reason = reason

    def asDict(self):
        result = EngineEvent.asDict(self)
        result["book"] = self.symbol
        return result


class AuctionUncrossed(EngineEvent):
    """
    A book left a call phase and was uncrossed: C{quantity} executed at
    C{price} (0 and None when nothing could execute).  C{auction} is
    C{"opening"}, C{"closing"} or C{"reopening"}.  The executions come
    before it in the same batch.
    """

    __slots__ = ("symbol", "auction", "price", "quantity")
    type = "auction_uncrossed"

    def __init__(self, symbol, auction, price, quantity):
        self.symbol = symbol
        self.auction = auction
        self.price = price
        self.quantity = quantity

    def asDict(self):
        result = EngineEvent.asDict(self)
        result["book"] = self.symbol
        return result


class Indicative(EngineEvent):
    """
    During a call: where the book would uncross now.  C{price} (None if
    nothing could execute), C{paired} (what would execute), C{imbalance}
    and C{imbalanceSide} (what the heavier side would have left, its
    L{exsim.model.Side} or None), C{referencePrice} (the book's reference
    price, else its last trade price, or None).  Sent when a call starts
    and every second of the engine's clock during it.

    The figures of an imbalance message (L{exsim.engine.auction.imbalance}):
    C{price} is its near price; C{farPrice} the price the auction-only
    orders alone would cross at (None if they would not);
    C{currentReferencePrice} the Current Reference Price (None if there is
    none) and C{currentPaired}, C{currentImbalance},
    C{currentImbalanceSide} what pairs and what is left there.
    """

    __slots__ = (
        "symbol", "auction", "price", "paired", "imbalance", "imbalanceSide", "referencePrice",
        "farPrice", "currentReferencePrice", "currentPaired", "currentImbalance",
        "currentImbalanceSide",
    )
    type = "auction_indicative"

    def __init__(
        self, symbol, auction, price, paired, imbalance, imbalanceSide, referencePrice,
        farPrice=None, currentReferencePrice=None, currentPaired=0, currentImbalance=0,
        currentImbalanceSide=None,
    ):
        self.symbol = symbol
        self.auction = auction
        self.price = price
        self.paired = paired
        self.imbalance = imbalance
        self.imbalanceSide = imbalanceSide
        self.referencePrice = referencePrice
        self.farPrice = farPrice
        self.currentReferencePrice = currentReferencePrice
        self.currentPaired = currentPaired
        self.currentImbalance = currentImbalance
        self.currentImbalanceSide = currentImbalanceSide

    def asDict(self):
        result = EngineEvent.asDict(self)
        result["book"] = self.symbol
        return result


class OpeningDelayed(EngineEvent):
    """
    The opening of a book in C{pre_open} is delayed (C{delay_open}): the
    book stays in its opening call, whatever its schedule says, until
    C{resume_book}; C{reason} as given, or None.
    """

    __slots__ = ("symbol", "reason")
    type = "opening_delayed"

    def __init__(self, symbol, reason=None):
        self.symbol = symbol
        self.reason = reason

    def asDict(self):
        result = EngineEvent.asDict(self)
        result["book"] = self.symbol
        return result


class MarketPhaseChanged(EngineEvent):
    """
    The engine's schedule moved the market from phase C{old} to C{new}
    (sent before the books' L{PhaseChanged} events): feeds publish their
    system events from it.
    """

    __slots__ = ("old", "new")
    type = "market_phase_changed"

    def __init__(self, old, new):
        self.old = old
        self.new = new


# -- fast paths ----------------------------------------------------------------
#
# The engine's hot paths build several events at once through these
# functions: each makes exactly the events the constructors above would
# (same classes, same attributes), but one function call is much cheaper
# than a class call per event (CPython packs the arguments of every call
# to a Python __init__ into a tuple).  tests.test_matching checks that they
# agree with the constructors.

_new = object.__new__


def appendCancelled(events, order, execId, reason, quantity, cancelClOrdId, symbol, isBuy, level):
    """
    Append, if C{level} is not C{None} (the order was resting), the
    L{BookChanged} of C{level}, then C{Cancelled(order, execId, reason,
    quantity, level is not None, cancelClOrdId)}.
    """
    if level is not None:
        event = _new(BookChanged)
        event.symbol = symbol
        event.isBuy = isBuy
        event.price = level.price
        event.quantity = level.quantity
        event.count = level.count
        events.append(event)
    event = _new(Cancelled)
    event.order = order
    event.execId = execId
    event.reason = reason
    event.cancelledQty = quantity
    event.resting = level is not None
    event.cancelClOrdId = cancelClOrdId
    event.clOrdId = order.clOrdId
    event.price = order.price
    event.quantity = order.quantity
    event.status = order.status
    event.cumQty = order.cumQty
    event.leavesQty = order.leavesQty
    event.notional = order.notional
    events.append(event)


def appendFill(events, symbol, tradeId, price, quantity, resting, restingExecId, order, orderExecId, aggressorIsBuy):
    """
    Append one execution between a resting order and an aggressor:
    C{Filled} of C{resting} (passive, in the book), C{Filled} of C{order}
    (aggressor, not in the book), then the L{Trade} (aggressor side
    C{Side.BUY} or C{Side.SELL}).
    """
    restingId = resting.orderId
    orderId = order.orderId
    event = _new(Filled)
    event.order = resting
    event.execId = restingExecId
    event.tradeId = tradeId
    event.price = price
    event.quantity = quantity
    event.aggressor = False
    event.contraOrderId = orderId
    event.resting = True
    event.clOrdId = resting.clOrdId
    event.orderPrice = resting.price
    event.orderQuantity = resting.quantity
    event.status = resting.status
    event.cumQty = resting.cumQty
    event.leavesQty = resting.leavesQty
    event.notional = resting.notional
    events.append(event)
    event = _new(Filled)
    event.order = order
    event.execId = orderExecId
    event.tradeId = tradeId
    event.price = price
    event.quantity = quantity
    event.aggressor = True
    event.contraOrderId = restingId
    event.resting = False
    event.clOrdId = order.clOrdId
    event.orderPrice = order.price
    event.orderQuantity = order.quantity
    event.status = order.status
    event.cumQty = order.cumQty
    event.leavesQty = order.leavesQty
    event.notional = order.notional
    events.append(event)
    event = _new(Trade)
    event.symbol = symbol
    event.tradeId = tradeId
    event.price = price
    event.quantity = quantity
    if aggressorIsBuy:
        event.buyOrderId = orderId
        event.sellOrderId = restingId
        event.aggressorSide = _BUY
    else:
        event.buyOrderId = restingId
        event.sellOrderId = orderId
        event.aggressorSide = _SELL
    events.append(event)


def appendAuctionFill(
    events, symbol, tradeId, price, quantity, buy, buyExecId, sell, sellExecId, buyResting, sellResting
):
    """
    Append one execution of an uncross: C{Filled} of C{buy}, C{Filled} of
    C{sell} (C{aggressor} None: neither; C{buyResting} and C{sellResting} say
    whether each was in the book), then the L{Trade} (no aggressor side).
    """
    buyId = buy.orderId
    sellId = sell.orderId
    event = _new(Filled)
    event.order = buy
    event.execId = buyExecId
    event.tradeId = tradeId
    event.price = price
    event.quantity = quantity
    event.aggressor = None
    event.contraOrderId = sellId
    event.resting = buyResting
    event.clOrdId = buy.clOrdId
    event.orderPrice = buy.price
    event.orderQuantity = buy.quantity
    event.status = buy.status
    event.cumQty = buy.cumQty
    event.leavesQty = buy.leavesQty
    event.notional = buy.notional
    events.append(event)
    event = _new(Filled)
    event.order = sell
    event.execId = sellExecId
    event.tradeId = tradeId
    event.price = price
    event.quantity = quantity
    event.aggressor = None
    event.contraOrderId = buyId
    event.resting = sellResting
    event.clOrdId = sell.clOrdId
    event.orderPrice = sell.price
    event.orderQuantity = sell.quantity
    event.status = sell.status
    event.cumQty = sell.cumQty
    event.leavesQty = sell.leavesQty
    event.notional = sell.notional
    events.append(event)
    event = _new(Trade)
    event.symbol = symbol
    event.tradeId = tradeId
    event.price = price
    event.quantity = quantity
    event.buyOrderId = buyId
    event.sellOrderId = sellId
    event.aggressorSide = None
    events.append(event)
