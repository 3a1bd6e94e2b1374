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
    buyAt = {}
    for price, quantity in bids:
        buyAt[price] = buyAt.get(price, 0) + quantity
    sellAt = {}
    for price, quantity in asks:
        sellAt[price] = sellAt.get(price, 0) + quantity
    anchor = reference if reference is not None else last
    candidates = set(buyAt)
    candidates.update(sellAt)
    for price in (reference, last):
        if price is not None:
            candidates.add(price)
    prices = sorted(candidates)
    # sell(p): market sells and the asks at or below p (ascending sums);
    # buy(p): market buys and the bids at or above p (descending sums).
    sells = []
    total = marketSell
    for price in prices:
        total += sellAt.get(price, 0)
        sells.append(total)
    totalSell = total
    buys = [0] * len(prices)
    total = marketBuy
    for i in range(len(prices) - 1, -1, -1):
        total += buyAt.get(prices[i], 0)
        buys[i] = total
    totalBuy = total
    best = None
    bestKey = None
    for i, price in enumerate(prices):
        buy = buys[i]
        sell = sells[i]
        paired = buy if buy < sell else sell
        if not paired:
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
    if best is None:
        return _outcome(None, 0, totalBuy, totalSell)
    return _outcome(prices[best], -bestKey[0], buys[best], sells[best])


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
