# -*- test-case-name: tests.test_auction -*-
"""
The uncross price of a call auction: one rule, written once, that both
engines (L{exsim.engine.matching}, L{exsim.engine.reference}) use when a
book leaves a call phase, and for the indicative price during a call.

The price is the one that executes the most volume; ties are broken by
the smallest imbalance (the quantity left unexecuted on the heavier side
at that price), then by the distance to the anchor (the reference price,
else the last trade price), then by the lower price.  The candidates are
the limit prices of the orders and the anchor prices: at any price
between two of them nothing more could execute.  Market orders count at
every price.

At the price chosen, the buy orders that execute are the market orders
in time order, then the limit orders at or above it in price-time
priority; the sell orders likewise; each engine pairs them in that order
(L{pairs}).
"""

from collections import namedtuple

from exsim.model import Side

#: The outcome of L{uncross}: C{price} (None if nothing can execute),
#: C{paired} (the quantity that executes), C{imbalance} (what the heavier
#: side has left over at that price) and C{imbalanceSide} (L{Side.BUY},
#: L{Side.SELL} or None), C{buyVolume} and C{sellVolume} (what each side
#: offers at that price).
Uncross = namedtuple(
    "Uncross", ["price", "paired", "imbalance", "imbalanceSide", "buyVolume", "sellVolume"]
)


def _curves(bids, asks, marketBuy, marketSell, anchors):
    """
    What each side offers at every candidate price: the orders' limit
    prices and the C{anchors} that are not None.

    @return: (prices ascending, buys, sells): C{buys[i]} is what the market
        buys and the bids at or above C{prices[i]} offer, C{sells[i]} what
        the market sells and the asks at or below it offer.
    """
    buyAt = {}
    for price, quantity in bids:
        buyAt[price] = buyAt.get(price, 0) + quantity
    sellAt = {}
    for price, quantity in asks:
        sellAt[price] = sellAt.get(price, 0) + quantity
    candidates = set(buyAt)
    candidates.update(sellAt)
    for price in anchors:
        if price is not None:
            candidates.add(price)
    prices = sorted(candidates)
    sells = []
    total = marketSell
    for price in prices:
        total += sellAt.get(price, 0)
        sells.append(total)
    buys = [0] * len(prices)
    total = marketBuy
    for i in range(len(prices) - 1, -1, -1):
        total += buyAt.get(prices[i], 0)
        buys[i] = total
    return prices, buys, sells


def _best(prices, buys, sells, anchor, unpaired=False):
    """
    The index of the price that pairs the most, then leaves the smallest
    imbalance, then is nearest C{anchor}, then is the lowest; None if none
    pairs anything (with C{unpaired}: if there is no price).
    """
    best = None
    bestKey = None
    for i, price in enumerate(prices):
        buy = buys[i]
        sell = sells[i]
        paired = buy if buy < sell else sell
        if not paired and not unpaired:
            continue
        key = (
            -paired,
            abs(buy - sell),
            abs(price - anchor) if anchor is not None else 0,
            price,
        )
        if bestKey is None or key < bestKey:
            bestKey = key
            best = i
    return best


def uncross(bids, asks, marketBuy=0, marketSell=0, reference=None, last=None):
    """
    Find the uncross price of a book.

    @param bids: (price, quantity) of the resting limit buy orders (or of
        their price levels), in any order.
    @param asks: the same, of the sell orders.
    @param marketBuy: the quantity of market buy orders.
    @param marketSell: the quantity of market sell orders.
    @param reference: the book's reference price, or None.
    @param last: the last trade price, or None.
    @return: an L{Uncross}.
    """
    prices, buys, sells = _curves(bids, asks, marketBuy, marketSell, (reference, last))
    anchor = reference if reference is not None else last
    best = _best(prices, buys, sells, anchor)
    if best is None:
        return _outcome(None, 0, buys[0] if buys else marketBuy, sells[-1] if sells else marketSell)
    buy, sell = buys[best], sells[best]
    return _outcome(prices[best], min(buy, sell), buy, sell)


def currentReference(bids, asks, marketBuy=0, marketSell=0, low=None, high=None, reference=None, last=None):
    """
    The Current Reference Price of an imbalance message (Nasdaq's NOII):
    the price at or within the inside (C{low} to C{high}; None: no bound on
    that side) at which the most shares pair, then the imbalance is the
    smallest, then nearest the anchor (the reference price, else the last
    price), then the lowest.  The candidates are the orders' limit prices,
    the anchors and the bounds, within the bounds.

    @return: an L{Uncross} at that price (whatever pairs there, perhaps
        nothing); its price is None only if there is no candidate.
    """
    prices, buys, sells = _curves(bids, asks, marketBuy, marketSell, (reference, last, low, high))
    keep = [
        i for i, price in enumerate(prices)
        if (low is None or price >= low) and (high is None or price <= high)
    ]
    prices = [prices[i] for i in keep]
    buys = [buys[i] for i in keep]
    sells = [sells[i] for i in keep]
    anchor = reference if reference is not None else last
    best = _best(prices, buys, sells, anchor, unpaired=True)
    if best is None:
        return _outcome(None, 0, marketBuy, marketSell)
    buy, sell = buys[best], sells[best]
    return _outcome(prices[best], min(buy, sell), buy, sell)


#: The figures of an imbalance message: C{far} (the price the auction-only
#: orders alone would cross at, or None), C{near} (the L{Uncross} of the
#: whole book: what the auction would do now), C{current} (the L{Uncross}
#: at the Current Reference Price, see L{currentReference}).
Imbalance = namedtuple("Imbalance", ["far", "near", "current"])


def imbalance(bids, asks, marketBuy, marketSell, auctionOnly, crossOnly, reference=None, last=None):
    """
    The figures of Nasdaq's Net Order Imbalance Indicator for a book in a
    call (TotalView-ITCH 5.0: the far price is "a hypothetical
    auction-clearing price for cross orders only", the near price one "for
    cross orders as well as continuous orders", the paired and imbalance
    shares are those at the Current Reference Price).

    @param bids: (price, quantity) of every resting buy order (or level).
    @param asks: the same, of the sell orders.
    @param marketBuy: the quantity of every waiting market buy order.
    @param marketSell: the same, of the sell orders.
    @param auctionOnly: (isBuy, limit price or None for a market order,
        quantity) of the orders, among those, that take part in this
        auction only (At the Opening in the opening call, At the Close in
        the closing call).
    @param crossOnly: whether the auction has orders of its own (an
        opening or closing cross); otherwise (a reopening after a halt)
        every order is a cross order and the far price is the near one.
    @return: an L{Imbalance}.
    """
    near = uncross(bids, asks, marketBuy, marketSell, reference, last)
    if crossOnly:
        far = uncross(
            [(p, q) for isBuy, p, q in auctionOnly if isBuy and p is not None],
            [(p, q) for isBuy, p, q in auctionOnly if not isBuy and p is not None],
            sum(q for isBuy, p, q in auctionOnly if isBuy and p is None),
            sum(q for isBuy, p, q in auctionOnly if not isBuy and p is None),
            reference, last,
        ).price
    else:
        far = near.price
    # The inside: the best prices of the orders that are not auction-only
    # (crossed or not: nothing matches during a call).
    continuous = {}
    for price, quantity in bids:
        continuous[(True, price)] = continuous.get((True, price), 0) + quantity
    for price, quantity in asks:
        continuous[(False, price)] = continuous.get((False, price), 0) + quantity
    for isBuy, price, quantity in auctionOnly:
        if price is not None:
            continuous[(isBuy, price)] -= quantity
    bestBid = max((p for (isBuy, p), q in continuous.items() if isBuy and q > 0), default=None)
    bestAsk = min((p for (isBuy, p), q in continuous.items() if not isBuy and q > 0), default=None)
    low = high = None
    if bestBid is not None and bestAsk is not None:
        low, high = min(bestBid, bestAsk), max(bestBid, bestAsk)
    current = currentReference(bids, asks, marketBuy, marketSell, low, high, reference, last)
    return Imbalance(far, near, current)


def _outcome(price, paired, buy, sell):
    if buy > sell:
        side = Side.BUY
    elif sell > buy:
        side = Side.SELL
    else:
        side = None
    return Uncross(price, paired, abs(buy - sell), side, buy, sell)


def pairs(buys, sells, quantity):
    """
    Pair the executing orders of an uncross.

    @param buys: (order, quantity it offers) of the buy side, in execution
        order (market orders first, then price-time priority).
    @param sells: the same, of the sell side.
    @param quantity: the paired quantity (L{Uncross.paired}).
    @return: a list of (buy order, sell order, quantity), in execution
        order: the first buy with the first sell, and so on.
    """
    result = []
    buys = iter(buys)
    sells = iter(sells)
    buy = sell = None
    buyLeft = sellLeft = 0
    while quantity > 0:
        if not buyLeft:
            buy, buyLeft = next(buys)
        if not sellLeft:
            sell, sellLeft = next(sells)
        traded = buyLeft if buyLeft < sellLeft else sellLeft
        if quantity < traded:
            traded = quantity
        result.append((buy, sell, traded))
        buyLeft -= traded
        sellLeft -= traded
        quantity -= traded
    return result
