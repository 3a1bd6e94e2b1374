# -*- test-case-name: tests.test_ordertypes -*-
"""
The rules of the advanced order types and protections that both engines
(L{exsim.engine.matching}, L{exsim.engine.reference}) use, written once:
pure decisions on values, no book structures.

The rules themselves, as both engines apply them (docs/ordertypes.rst says
the same to users):

 - B{Terms}: an order's L{exsim.model.AdvancedTerms} (C{order.extra}):
   stop price, display quantity (None: all displayed; 0: hidden; less than
   the quantity: an iceberg), minimum quantity, post-only, self-trade
   prevention id; L{checkTerms} says which combinations are valid.
 - B{Priority at one price}: displayed quantity first, in time priority
   (an iceberg's displayed slice loses it when a new slice is shown); then
   hidden quantity (hidden orders and iceberg reserves) in time priority;
   then midpoint pegs, in order id order.
 - B{Minimum quantity}: a resting order with one trades only with an
   incoming order whose leaves quantity is at least C{min(minQty, its
   leaves)} (L{tradeable}); an incoming order with one trades only if at
   least C{min(minQty, leaves)} can fill at once, else it rests untouched
   or, if it cannot rest, is cancelled.
 - B{Self-trade prevention} (L{STP_MODES}, L{selfTrade}, L{stpOutcome}).
 - B{Midpoint peg}: L{pegPrice}.
 - B{Post-only}: L{slidePrice}.
 - B{Stops}: L{stopFires}.
"""

from exsim.errors import BadValue
from exsim.model import T_EXTRA, OrdType, RejectReason, TimeInForce

#: Values of the book property C{self_trade_prevention}.
STP_NONE = "none"
STP_CANCEL_NEWEST = "cancel_newest"
STP_CANCEL_OLDEST = "cancel_oldest"
STP_CANCEL_BOTH = "cancel_both"
STP_DECREMENT = "decrement"
STP_MODES = (STP_NONE, STP_CANCEL_NEWEST, STP_CANCEL_OLDEST, STP_CANCEL_BOTH, STP_DECREMENT)

#: Values of the book property C{post_only_action}.
POST_ONLY_REJECT = "reject"
POST_ONLY_SLIDE = "slide"
POST_ONLY_ACTIONS = (POST_ONLY_REJECT, POST_ONLY_SLIDE)

#: The book properties of this module, with their defaults.
BOOK_PROPERTIES = {
    "self_trade_prevention": STP_NONE,
    "post_only_action": POST_ONLY_REJECT,
}

_STOPS = (OrdType.STOP, OrdType.STOP_LIMIT)
_LIMIT_TYPES = (OrdType.LIMIT, OrdType.STOP_LIMIT, OrdType.PEGGED)
_CANNOT_REST = (TimeInForce.IOC, TimeInForce.FOK)


def parseBookProperty(name, value):
    """
    Check the value of one of L{BOOK_PROPERTIES}.

    @return: the value, normalised.
    @raise BadValue: for a value that is not one of the known ones.
    """
    text = str(value).strip().lower()
    known = STP_MODES if name == "self_trade_prevention" else POST_ONLY_ACTIONS
    if text not in known:
        raise BadValue("%s must be one of %s, not %r" % (name, ", ".join(known), value))
    return text


def isStop(order):
    return order.ordType in _STOPS


def waiting(order):
    """
    Whether C{order} is a stop order that has not triggered.
    """
    return order.ordType in _STOPS and not order.terms[T_EXTRA].triggered


def marketLike(order):
    """
    Whether C{order} trades without a limit price: a market order or a
    triggered stop order.
    """
    return order.ordType is OrdType.MARKET or order.ordType is OrdType.STOP


def restsAgain(order):
    """
    Whether a live order read back from a journal, which rested, goes back
    into the book: a limit order (displayed, iceberg or hidden) or a
    triggered stop-limit order.  (A waiting stop waits again; a midpoint
    peg is priced again.)
    """
    ordType = order.ordType
    return ordType is OrdType.LIMIT or (
        ordType is OrdType.STOP_LIMIT and order.terms[T_EXTRA].triggered
    )


def canRest(order):
    """
    Whether what is left of C{order} after matching may rest in the book.
    """
    return not marketLike(order) and order.timeInForce not in _CANNOT_REST


def hidden(order):
    """
    Whether none of C{order} is displayed when it rests (a hidden order or
    a midpoint peg).
    """
    extra = order.terms[T_EXTRA]
    return extra is not None and (extra.displayQty == 0 or order.ordType is OrdType.PEGGED)


def iceberg(order):
    """
    Whether C{order} shows a slice of at most its display quantity at a
    time when it rests (all of it while no more than that is left).
    """
    extra = order.terms[T_EXTRA]
    return extra is not None and bool(extra.displayQty) and order.ordType is not OrdType.PEGGED


def sliceOf(order):
    """
    The display slice of an iceberg that is shown now: its display quantity
    or, if less is left, what is left.
    """
    return min(order.terms[T_EXTRA].displayQty, order.leavesQty)


def displayed(order):
    """
    How much of a resting C{order} is displayed: all of a plain order, the
    current slice of an iceberg, none of a hidden order or a peg.
    """
    extra = order.terms[T_EXTRA]
    if extra is None:
        return order.leavesQty
    if extra.displayQty == 0 or order.ordType is OrdType.PEGGED:
        return 0
    if extra.displayQty is not None:
        return extra.shown
    return order.leavesQty


def hiddenPart(order):
    """
    How much of a resting C{order} is not displayed.
    """
    return order.leavesQty - displayed(order)


def minimum(order):
    """
    The minimum quantity of C{order}'s executions now (at most its leaves
    quantity), or 0 if it has none.
    """
    extra = order.terms[T_EXTRA]
    if extra is None or not extra.minQty:
        return 0
    return min(extra.minQty, order.leavesQty)


def tradeable(incomingLeaves, resting):
    """
    Whether an incoming order with C{incomingLeaves} left may trade with
    C{resting} (whose minimum quantity must be met).
    """
    return incomingLeaves >= minimum(resting)


def checkTerms(book, order):
    """
    Check an order's advanced terms against its type (the engines check
    its price, quantity and time in force before).

    @return: None, or (L{RejectReason}, text).
    """
    extra = order.terms[T_EXTRA]
    ordType = order.ordType
    if extra is None:
        if ordType in _STOPS:
            return RejectReason.BAD_PRICE, "a stop order needs a stop price"
        if ordType is OrdType.PEGGED:
            return RejectReason.UNSUPPORTED_ORDER_TYPE, "a midpoint peg needs its advanced terms"
        return None
    quantity = order.quantity
    if ordType in _STOPS:
        stopPx = extra.stopPx
        if type(stopPx) is not int or stopPx <= 0:
            return RejectReason.BAD_PRICE, "the stop price must be positive"
        if not book.instrument.onTick(stopPx):
            return RejectReason.BAD_PRICE, "the stop price is not on the tick grid"
        problem = book.limits.check(quantity, stopPx)
        if problem is not None:
            return RejectReason.BAD_PRICE, "the stop price is outside the book's price range"
        if extra.displayQty is not None or extra.minQty or extra.postOnly:
            return (
                RejectReason.UNSUPPORTED_ORDER_TYPE,
                "a stop order cannot have a display quantity, a minimum quantity or post-only",
            )
    elif extra.stopPx is not None:
        return RejectReason.UNSUPPORTED_ORDER_TYPE, "only a stop order has a stop price"
    display = extra.displayQty
    if display is not None:
        if type(display) is not int or display < 0:
            return RejectReason.BAD_QUANTITY, "the display quantity must be 0 or more"
        if display > quantity:
            return RejectReason.BAD_QUANTITY, "the display quantity exceeds the order quantity"
        if display % book.instrument.lotSize:
            return RejectReason.BAD_QUANTITY, "the display quantity is not a whole number of lots"
        if ordType is OrdType.MARKET:
            return RejectReason.UNSUPPORTED_ORDER_TYPE, "a market order has no display quantity"
        if ordType is OrdType.PEGGED and display:
            return RejectReason.UNSUPPORTED_ORDER_TYPE, "a midpoint peg is never displayed"
    minQty = extra.minQty
    if minQty is not None:
        if type(minQty) is not int or minQty <= 0:
            return RejectReason.BAD_QUANTITY, "the minimum quantity must be positive"
        if minQty > quantity:
            return RejectReason.BAD_QUANTITY, "the minimum quantity exceeds the order quantity"
        if minQty % book.instrument.lotSize:
            return RejectReason.BAD_QUANTITY, "the minimum quantity is not a whole number of lots"
        if display:
            return (
                RejectReason.UNSUPPORTED_ORDER_TYPE,
                "an iceberg order cannot have a minimum quantity",
            )
    if extra.postOnly:
        if ordType is OrdType.MARKET:
            return RejectReason.UNSUPPORTED_ORDER_TYPE, "a market order cannot be post-only"
        if ordType is not OrdType.LIMIT:
            return RejectReason.UNSUPPORTED_ORDER_TYPE, "only a limit order can be post-only"
        if order.timeInForce in _CANNOT_REST:
            return (
                RejectReason.UNSUPPORTED_TIME_IN_FORCE,
                "a post-only order must be able to rest (not IOC or FOK)",
            )
    if ordType is OrdType.PEGGED and order.timeInForce is TimeInForce.FOK:
        return RejectReason.UNSUPPORTED_TIME_IN_FORCE, "a midpoint peg cannot be FOK"
    stpId = extra.stpId
    if stpId is not None and (type(stpId) is not str or not stpId):
        return RejectReason.OTHER, "the self-trade prevention id must be text"
    return None


# -- self-trade prevention -------------------------------------------------------


def party(groups, owner):
    """
    Who an order belongs to for self-trade prevention: the C{stp_group} of
    its owner (C{groups}: {owner: group}), else the owner.
    """
    group = groups.get(owner)
    if group is None:
        return ("owner", owner)
    return ("group", group)


def selfTrade(mode, groups, incoming, resting):
    """
    Whether self-trade prevention stops C{incoming} from trading with
    C{resting}: the book's C{mode} is not C{none}, they belong to the same
    party (L{party}), and their self-trade prevention ids are equal (both
    None, or the same text).
    """
    if mode == STP_NONE:
        return False
    a = incoming.terms[T_EXTRA]
    b = resting.terms[T_EXTRA]
    if (a.stpId if a is not None else None) != (b.stpId if b is not None else None):
        return False
    return party(groups, incoming.owner) == party(groups, resting.owner)


def stpOutcome(mode, incomingLeaves, restingLeaves):
    """
    What self-trade prevention does to a pair that would trade.

    @return: (cancel the resting order, reduce the resting order by, stop
        the incoming order and cancel what is left of it, reduce the
        incoming order by).  C{decrement} reduces both by the smaller leaves
        quantity: the one with nothing left is cancelled instead.
    """
    if mode == STP_CANCEL_NEWEST:
        return False, 0, True, 0
    if mode == STP_CANCEL_OLDEST:
        return True, 0, False, 0
    if mode == STP_CANCEL_BOTH:
        return True, 0, True, 0
    quantity = min(incomingLeaves, restingLeaves)
    cancelResting = restingLeaves == quantity
    stopIncoming = incomingLeaves == quantity
    return (
        cancelResting,
        0 if cancelResting else quantity,
        stopIncoming,
        0 if stopIncoming else quantity,
    )


# -- prices -------------------------------------------------------------------------


def pegPrice(bid, ask, isBuy, cap):
    """
    The price of a midpoint peg: the midpoint of the best displayed bid and
    offer, rounded to the half tick (a buy down, a sell up, where half a
    tick is not a whole internal unit), no worse than its limit C{cap}; None
    when there is no two-sided market.
    """
    if bid is None or ask is None:
        return None
    total = bid + ask
    price = total // 2 if isBuy else -(-total // 2)
    if cap is not None:
        price = min(price, cap) if isBuy else max(price, cap)
    return price


def slidePrice(isBuy, contra, instrument):
    """
    The price a post-only order slides to (C{post_only_action = slide}):
    one tick away from the best contra price C{contra}, on the tick grid
    (the best price below an ask for a buy, above a bid for a sell; with a
    tick table, the tick of the band it lands in).
    """
    if isBuy:
        tick = instrument.tickAt(contra - 1)
        price = ((contra - 1) // tick) * tick
        while price > 0 and not instrument.onTick(price):
            price -= instrument.tickSize
        return price
    tick = instrument.tickAt(contra + 1)
    price = (contra // tick + 1) * tick
    while not instrument.onTick(price):
        price += instrument.tickSize
    return price


#: The text of a post-only order's reject (or cancel) when it would take
#: liquidity: the engines' Rejected events and FIX's cancel reason.
POST_ONLY_TEXT = "a post-only order would take liquidity"


def postOnlyPrice(book, order, contra):
    """
    Where a post-only C{order} may rest, given the best price C{contra} of
    any order on the other side (displayed or not; None if there is
    none): its own price if it would not take liquidity; with the book's
    C{post_only_action = slide}, one tick away from C{contra} (within the
    book's price bounds); else None: it must be refused.
    """
    if contra is None or not crosses(order.isBuy, order.price, contra):
        return order.price
    if book.postOnlyAction == POST_ONLY_SLIDE:
        price = slidePrice(order.isBuy, contra, book.instrument)
        if book.limits.minPrice <= price <= book.limits.maxPrice:
            return price
    return None


def crosses(isBuy, limit, price):
    """
    Whether an order on side C{isBuy} with C{limit} (None: no limit) may
    trade at C{price}.
    """
    if limit is None:
        return True
    return price <= limit if isBuy else price >= limit


def stopFires(isBuy, stopPx, low, high):
    """
    Whether a stop order triggers on trades printed between C{low} and
    C{high}: a buy when one printed at or above its stop price, a sell at or
    below it.
    """
    if low is None:
        return False
    return high >= stopPx if isBuy else low <= stopPx
