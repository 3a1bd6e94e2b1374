# -*- test-case-name: tests.test_matching -*-
"""
The fast engine's books with advanced orders: L{SpecialBooks}, a mixin of
L{exsim.engine.matching.MatchingEngine}.

A book is I{special} while it has a live order with advanced terms (stop,
iceberg, hidden, post-only, minimum quantity, midpoint peg, self-trade
prevention id) or self-trade prevention on (C{book.special}).  The
engine's hot paths are for plain books only: the order of a special book
never takes the inline path of C{submitNew} (its terms are not in
C{_knownTerms}), and matching, resting, replacing, house fills and the
removal of orders with advanced terms come here.  The rules are those of
L{exsim.engine.reference} (written plainly there; the differential test
holds the two to the same events), on the fast engine's structures:

 - displayed quantity stays in the book's price levels (L{exsim.engine.book.Level},
   an iceberg counted with its displayed slice, C{extra.shown});
 - C{book.hidden[isBuy]}: {price: [orders]} of the orders with hidden
   quantity (hidden orders, iceberg reserves), in time priority;
 - C{book.pegOrders}: {order id: order} of the live midpoint pegs, in order
   id order; a working peg rests at C{order.price};
 - C{book.stops}: {order id: waiting stop order}, in the order they were
   entered, and C{book.stopHeaps}: buy stops by stop price, sell stops by
   minus it, to find the ones a range of trade prices reached.

Orders leave these structures at once (no lazy deletion): a special
book's orders may come back to the book (a refreshed iceberg slice, a
repriced peg).
"""

from heapq import heappop, heappush

from exsim.engine.events import (
    Accepted,
    Added,
    BookChanged,
    Cancelled,
    Expired,
    Filled,
    Rejected,
    Replaced,
    Restated,
    Trade,
    Triggered,
    appendFill,
)
from exsim.engine.ordertypes import (
    POST_ONLY_TEXT,
    STP_NONE,
    canRest,
    crosses,
    displayed,
    hiddenPart,
    iceberg,
    marketLike,
    minimum,
    pegPrice,
    postOnlyPrice,
    selfTrade,
    sliceOf,
    stopFires,
    stpOutcome,
    tradeable,
    waiting,
)
from exsim.model import (
    T_EXTRA,
    CancelReason,
    OrdStatus,
    OrdType,
    RejectReason,
    Side,
    TimeInForce,
)

SHOWN, HIDDEN = "shown", "hidden"

_IOC_FOK = (TimeInForce.IOC, TimeInForce.FOK)


class SpecialBooks:
    """
    The rules of special books, for L{exsim.engine.matching.MatchingEngine}
    (its L{exsim.engine.admin.EngineAdmin} holds C{_stpGroups}, and
    C{_settling}: whether any book is special).
    """

    # -- becoming special ----------------------------------------------------

    def _makeSpecial(self, book):
        """
        From now on C{book}'s orders take the slow paths.
        """
        if not book.special:
            book.special = True
            self._settling = True
            # The hot path of submitNew must not find this book's terms.
            self._knownTerms.clear()

    def _specialRegister(self, book, order):
        """
        A valid new order with advanced terms: its book becomes special; a
        peg's price is its limit, kept aside until it is priced.
        """
        book.specialOrders[order.orderId] = order
        if order.ordType is OrdType.PEGGED:
            order.terms[T_EXTRA].cap, order.price = order.price, None
            book.pegOrders[order.orderId] = order
        self._makeSpecial(book)

    # -- the book's structures -----------------------------------------------

    def _levels(self, book, isBuy):
        return book.bids if isBuy else book.asks

    def _totals(self, book, isBuy, price):
        level = (book.bids if isBuy else book.asks).get(price)
        if level is None:
            return 0, 0
        return level.quantity, level.count

    def _bookChangedAt(self, book, isBuy, price):
        quantity, count = self._totals(book, isBuy, price)
        self._events.append(BookChanged(book.symbol, isBuy, price, quantity, count))

    def _specialAdd(self, book, order):
        """
        Put C{order} in the book: its displayed part at the back of its
        level, its hidden part at the back of the hidden queue; a peg rests
        at its price.
        """
        isBuy = order.isBuy
        price = order.price
        if order.ordType is not OrdType.PEGGED:
            shown = displayed(order)
            if shown:
                levels = book.bids if isBuy else book.asks
                level = levels.get(price)
                if level is None:
                    level = book.newLevel(isBuy, price)
                level.orders.append(order)
                level.quantity += shown
                level.count += 1
            if hiddenPart(order):
                book.hidden[isBuy].setdefault(price, []).append(order)
        order.resting = True

    def _specialRemove(self, book, order):
        """
        Take a resting order out of the book, at once and with no event.
        """
        shown = displayed(order)
        if shown:
            self._leaveLevel(book, order, shown)
        self._leaveHidden(book, order)
        order.resting = False

    def _leaveLevel(self, book, order, shown):
        """
        Take C{order}, which shows C{shown}, out of its displayed level.
        """
        levels = book.bids if order.isBuy else book.asks
        level = levels[order.price]
        level.orders.remove(order)
        level.quantity -= shown
        level.count -= 1
        if not level.count:
            del levels[order.price]

    def _reduced(self, book, order, quantity, displayedFirst):
        """
        A resting order's leaves quantity went down by C{quantity} (some is
        left; it keeps its place).  Of an iceberg, the displayed slice
        shrinks by up to C{quantity} (C{displayedFirst}: a fill of the
        slice, a house fill) or only to what is left (a fill of its hidden
        part, a decrement, a replace); its hidden part leaves the hidden
        queue when none is left.
        """
        extra = order.terms[T_EXTRA]
        if extra is not None and (extra.displayQty == 0 or order.ordType is OrdType.PEGGED):
            pass
        elif extra is not None and extra.displayQty is not None:
            old = extra.shown
            if displayedFirst:
                new = old - min(old, quantity)
            else:
                new = min(old, order.leavesQty)
            if new != old:
                if new:
                    (book.bids if order.isBuy else book.asks)[order.price].quantity -= old - new
                else:
                    self._leaveLevel(book, order, old)
                extra.shown = new
        else:
            (book.bids if order.isBuy else book.asks)[order.price].quantity -= quantity
        if not hiddenPart(order):
            self._leaveHidden(book, order)

    def _leaveHidden(self, book, order):
        queue = book.hidden[order.isBuy].get(order.price)
        if queue is not None and order in queue:
            queue.remove(order)
            if not queue:
                del book.hidden[order.isBuy][order.price]

    def _prices(self, book, contraIsBuy, isBuy, limit):
        """
        The prices of the other side C{order} may trade at, best first:
        displayed levels, hidden quantity and pegs.
        """
        prices = set(book.bids if contraIsBuy else book.asks)
        prices.update(book.hidden[contraIsBuy])
        for peg in book.pegOrders.values():
            if peg.resting and peg.isBuy is contraIsBuy:
                prices.add(peg.price)
        if limit is not None:
            prices = [p for p in prices if (p <= limit if isBuy else p >= limit)]
        return sorted(prices, reverse=contraIsBuy)

    def _bestAny(self, book, isBuy):
        prices = self._prices(book, isBuy, not isBuy, None)
        return prices[0] if prices else None

    def _candidates(self, book, isBuy, price):
        """
        What an incoming order trades with at C{price} on side C{isBuy},
        in priority order: (order, C{SHOWN}) and (order, C{HIDDEN}).
        """
        level = (book.bids if isBuy else book.asks).get(price)
        result = []
        if level is not None:
            result.extend((o, SHOWN) for o in level.orders if o.resting)
        result.extend((o, HIDDEN) for o in book.hidden[isBuy].get(price, ()))
        result.extend(
            (o, HIDDEN) for o in book.pegOrders.values()
            if o.resting and o.isBuy is isBuy and o.price == price
        )
        return result

    # -- new orders ----------------------------------------------------------

    def _specialMatchNew(self, book, order, accept):
        if not self._specialPostOnly(book, order, accept):
            return
        if accept:
            order.status = OrdStatus.NEW
            self._events.append(Accepted(order, self._execId()))
            if order.timeInForce is TimeInForce.GTD:
                self._scheduleExpiry(order)
        self._specialEnter(book, order)

    def _specialPostOnly(self, book, order, accept):
        extra = order.terms[T_EXTRA]
        if extra is None or not extra.postOnly:
            return True
        price = postOnlyPrice(book, order, self._bestAny(book, not order.isBuy))
        if price is not None:
            order.price = price
            return True
        if accept:
            order.status = OrdStatus.REJECTED
            order.leavesQty = 0
            self._events.append(
                Rejected(
                    order, self._execId(), RejectReason.POST_ONLY,
                    POST_ONLY_TEXT,
                )
            )
            self._finish(order)
        else:
            self._specialCancel(order, CancelReason.POST_ONLY)
        return False

    def _specialEnter(self, book, order):
        if waiting(order):
            self._specialStartWaiting(book, order)
            return
        if order.ordType is OrdType.PEGGED:
            extra = order.terms[T_EXTRA]
            extra.working = True
            order.price = pegPrice(book.bestBid(), book.bestAsk(), order.isBuy, extra.cap)
            if order.price is None:
                if not canRest(order):
                    self._specialCancel(order, CancelReason.IMMEDIATE_OR_CANCEL)
                return
        need = minimum(order)
        fok = order.timeInForce is TimeInForce.FOK
        if fok:
            need = order.leavesQty
        if need and self._specialExecutable(book, order) < need:
            if fok:
                self._specialCancel(order, CancelReason.FILL_OR_KILL)
            elif canRest(order):
                self._specialRest(book, order)
            else:
                self._specialCancel(order, CancelReason.MIN_QUANTITY)
            return
        self._specialMatch(book, order)
        self._specialSettle(book, order)

    def _specialStartWaiting(self, book, order):
        last = book.lastPrice
        if last is not None and stopFires(order.isBuy, order.terms[T_EXTRA].stopPx, last, last):
            self._specialTrigger(book, order)
        else:
            self._stopWaits(book, order)

    def _specialTrigger(self, book, order):
        order.terms[T_EXTRA].triggered = True
        self._events.append(Triggered(order, self._execId()))
        self._specialEnter(book, order)

    def _specialExecutable(self, book, order):
        isBuy = order.isBuy
        contraIsBuy = not isBuy
        left = order.leavesQty
        total = 0
        gone = set()
        mode = book.stp
        limit = None if marketLike(order) else order.price
        for price in self._prices(book, contraIsBuy, isBuy, limit):
            for resting, part in self._candidates(book, contraIsBuy, price):
                if not left:
                    return total
                if resting.orderId in gone:
                    continue
                available = displayed(resting) if part is SHOWN else hiddenPart(resting)
                if available <= 0 or not tradeable(left, resting):
                    continue
                if mode != STP_NONE and selfTrade(mode, self._stpGroups, order, resting):
                    cancelResting, _, stop, reduceIncoming = stpOutcome(
                        mode, left, resting.leavesQty
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

    def _specialMatch(self, book, order):
        isBuy = order.isBuy
        contraIsBuy = not isBuy
        mode = book.stp
        limit = None if marketLike(order) else order.price
        stopped = False
        for price in self._prices(book, contraIsBuy, isBuy, limit):
            if not order.leavesQty or stopped:
                break
            before = self._totals(book, contraIsBuy, price)
            exhausted = []
            for resting, part in self._candidates(book, contraIsBuy, price):
                if not order.leavesQty:
                    break
                if not resting.resting:
                    continue
                available = displayed(resting) if part is SHOWN else hiddenPart(resting)
                if available <= 0 or not tradeable(order.leavesQty, resting):
                    continue
                if mode != STP_NONE and selfTrade(mode, self._stpGroups, order, resting):
                    cancelResting, reduceResting, stop, reduceIncoming = stpOutcome(
                        mode, order.leavesQty, resting.leavesQty
                    )
                    if cancelResting:
                        self._stpCancelResting(book, resting)
                    elif reduceResting:
                        self._specialRestate(book, resting, reduceResting)
                    if stop:
                        stopped = True
                        break
                    if reduceIncoming:
                        self._specialRestate(book, order, reduceIncoming)
                    continue
                self._specialTrade(
                    book, order, resting, price, min(order.leavesQty, available), part
                )
                if (
                    resting.resting
                    and iceberg(resting)
                    and not resting.terms[T_EXTRA].shown
                ):
                    exhausted.append(resting)
            for resting in exhausted:
                if resting.resting and not resting.terms[T_EXTRA].shown:
                    self._specialRefresh(book, resting)
            after = self._totals(book, contraIsBuy, price)
            if after != before:
                self._events.append(BookChanged(book.symbol, contraIsBuy, price, *after))
        if stopped:
            self._specialCancel(order, CancelReason.SELF_TRADE)
        elif not order.leavesQty:
            self._finish(order)

    def _stpCancelResting(self, book, resting):
        quantity = resting.leavesQty
        self._specialRemove(book, resting)
        resting.leavesQty = 0
        resting.status = OrdStatus.CANCELLED
        self._events.append(
            Cancelled(resting, self._execId(), CancelReason.SELF_TRADE, quantity, True)
        )
        self._finish(resting)

    def _specialRestate(self, book, order, quantity):
        order.quantity -= quantity
        order.leavesQty -= quantity
        if order.resting:
            self._reduced(book, order, quantity, False)
        self._events.append(
            Restated(order, self._execId(), CancelReason.SELF_TRADE, quantity, order.resting)
        )

    def _specialRefresh(self, book, order):
        """
        An iceberg whose slice filled shows a new one at the back of its
        level (an L{Added} event).
        """
        extra = order.terms[T_EXTRA]
        extra.shown = sliceOf(order)
        levels = book.bids if order.isBuy else book.asks
        level = levels.get(order.price)
        if level is None:
            level = book.newLevel(order.isBuy, order.price)
        level.orders.append(order)
        level.quantity += extra.shown
        level.count += 1
        if not hiddenPart(order):
            self._leaveHidden(book, order)
        self._events.append(Added(order))

    def _specialTrade(self, book, order, resting, price, quantity, part):
        shown = displayed(resting)
        for o in (resting, order):
            o.cumQty += quantity
            o.leavesQty -= quantity
            o.notional += quantity * price
            o.status = OrdStatus.PARTIALLY_FILLED if o.leavesQty else OrdStatus.FILLED
        if not resting.leavesQty:
            self._removeFilled(book, resting, shown)
            self._finish(resting)
        else:
            self._reduced(book, resting, quantity, part is SHOWN)
        tradeId = self._nextTradeId
        self._nextTradeId = tradeId + 1
        execId = self._nextExecId
        self._nextExecId = execId + 2
        appendFill(
            self._events, book.symbol, tradeId, price, quantity, resting, execId, order,
            execId + 1, order.isBuy,
        )
        self._specialPrinted(book, price, quantity)

    def _removeFilled(self, book, order, shown):
        """
        Take a resting order that just filled (it showed C{shown}) out of
        the book.
        """
        if shown:
            self._leaveLevel(book, order, shown)
        self._leaveHidden(book, order)
        order.resting = False

    def _specialPrinted(self, book, price, quantity):
        book.lastPrice = price
        book.lastQuantity = quantity
        book.volume += quantity
        book.tradeCount += 1
        printed = book.printed
        if printed is None:
            book.printed = (price, price)
        else:
            book.printed = (min(printed[0], price), max(printed[1], price))

    def _specialSettle(self, book, order):
        """
        After matching: rest what is left, or cancel it.
        """
        if not order.leavesQty or order.isDone:
            return
        if marketLike(order):
            self._specialCancel(order, CancelReason.NO_LIQUIDITY)
        elif order.timeInForce in _IOC_FOK:
            self._specialCancel(order, CancelReason.IMMEDIATE_OR_CANCEL)
        else:
            self._specialRest(book, order)

    def _specialRest(self, book, order):
        if iceberg(order):
            order.terms[T_EXTRA].shown = sliceOf(order)
        self._specialAdd(book, order)
        self._events.append(Added(order))
        if displayed(order):
            self._bookChangedAt(book, order.isBuy, order.price)
        if order.timeInForce is TimeInForce.GTD:
            self._scheduleExpiry(order)

    def _specialRestIfUncrossed(self, book, order):
        if waiting(order):
            if order.orderId not in book.stops:
                self._specialStartWaiting(book, order)
            return
        if marketLike(order):
            return
        pegged = order.ordType is OrdType.PEGGED
        if pegged:
            extra = order.terms[T_EXTRA]
            extra.working = False
            order.price = pegPrice(book.bestBid(), book.bestAsk(), order.isBuy, extra.cap)
            if order.price is None:
                extra.working = True
                return
        best = self._bestAny(book, not order.isBuy)
        if best is None or not crosses(order.isBuy, order.price, best):
            if pegged:
                order.terms[T_EXTRA].working = True
            self._specialRest(book, order)
        elif pegged:
            order.price = None

    # -- taking orders out ---------------------------------------------------

    def _specialTakeOut(self, book, order):
        """
        Take a live order out of the book (the level's L{BookChanged} if
        it showed anything) or out of the waiting stops.

        @return: whether it was resting.
        """
        wasResting = order.resting
        if wasResting:
            shown = displayed(order)
            self._specialRemove(book, order)
            if shown:
                self._bookChangedAt(book, order.isBuy, order.price)
        elif order.orderId in book.stops:
            del book.stops[order.orderId]
        return wasResting

    def _specialCancel(self, order, reason, cancelClOrdId=None):
        book = self.books[order.symbol]
        quantity = order.leavesQty
        wasResting = order.resting
        shown = displayed(order) if wasResting else 0
        if wasResting:
            self._specialRemove(book, order)
        elif order.orderId in book.stops:
            del book.stops[order.orderId]
        order.leavesQty = 0
        order.status = OrdStatus.CANCELLED
        if shown:
            self._bookChangedAt(book, order.isBuy, order.price)
        self._events.append(
            Cancelled(order, self._execId(), reason, quantity, wasResting, cancelClOrdId)
        )
        self._finish(order)

    def _specialExpire(self, order):
        book = self.books[order.symbol]
        quantity = order.leavesQty
        wasResting = self._specialTakeOut(book, order)
        order.leavesQty = 0
        order.status = OrdStatus.EXPIRED
        self._events.append(Expired(order, self._execId(), quantity, wasResting))
        self._finish(order)

    # -- replace -------------------------------------------------------------

    def _specialReplace(self, order, clOrdId, price, quantity, match, stopPx=None):
        book = self.books[order.symbol]
        events = self._events
        extra = order.terms[T_EXTRA]
        origClOrdId = order.clOrdId
        oldPrice = order.price
        oldQuantity = order.quantity
        oldLeaves = order.leavesQty
        pegged = order.ordType is OrdType.PEGGED
        if pegged:
            oldLimit = extra.cap
            newLimit = oldLimit if price is None else price
            newPrice = oldPrice
        else:
            oldLimit = newLimit = None
            newPrice = oldPrice if price is None else price
        newQuantity = oldQuantity if quantity is None else quantity
        if clOrdId != origClOrdId:
            self._owners[order.owner].ids[clOrdId] = order.orderId
            order.clOrdId = clOrdId
        wasResting = order.resting
        newLeaves = newQuantity - order.cumQty
        if newLeaves <= 0:
            self._specialTakeOut(book, order)
            order.quantity = max(newQuantity, order.cumQty)
            order.leavesQty = 0
            order.status = OrdStatus.FILLED
            events.append(
                Replaced(order, self._execId(), origClOrdId, oldPrice, oldQuantity, oldLeaves, False, wasResting)
            )
            self._finish(order)
        elif waiting(order):
            order.price = newPrice
            order.quantity = newQuantity
            order.leavesQty = newLeaves
            if stopPx is not None:
                extra.stopPx = stopPx
            events.append(
                Replaced(order, self._execId(), origClOrdId, oldPrice, oldQuantity, oldLeaves, False, False)
            )
            last = book.lastPrice
            if order.orderId in book.stops:
                if last is not None and stopFires(order.isBuy, extra.stopPx, last, last):
                    del book.stops[order.orderId]
                    self._specialTrigger(book, order)
                elif stopPx is not None:
                    self._stopPush(book, order)
        elif newPrice == oldPrice and newLimit == oldLimit and newQuantity <= oldQuantity:
            shown = displayed(order) if wasResting else 0
            order.leavesQty = newLeaves
            order.quantity = newQuantity
            if wasResting and oldLeaves != newLeaves:
                self._reduced(book, order, oldLeaves - newLeaves, False)
            events.append(
                Replaced(order, self._execId(), origClOrdId, oldPrice, oldQuantity, oldLeaves, False, wasResting)
            )
            if wasResting and (shown or displayed(order)):
                self._bookChangedAt(book, order.isBuy, order.price)
        else:
            self._specialTakeOut(book, order)
            order.price = newPrice
            order.quantity = newQuantity
            order.leavesQty = newLeaves
            if pegged:
                extra.cap = newLimit
            events.append(
                Replaced(order, self._execId(), origClOrdId, oldPrice, oldQuantity, oldLeaves, True, wasResting)
            )
            if wasResting and match:
                if self._specialPostOnly(book, order, False):
                    self._specialEnter(book, order)
            elif wasResting:
                # Where the phase says (during a call: in the book, crossing
                # or not), as every other order put back without matching.
                self._place(book, order)

    # -- fills the test makes ------------------------------------------------

    def _specialExecute(self, book, order, quantity, price):
        """
        Fill C{quantity} of C{order} at C{price} (house fill or matched
        trade); of an iceberg the displayed slice first.

        @return: (whether it was resting, what it showed before).
        """
        wasResting = order.resting
        shown = displayed(order) if wasResting else 0
        order.cumQty += quantity
        order.notional += quantity * price
        order.leavesQty -= quantity
        order.status = OrdStatus.PARTIALLY_FILLED if order.leavesQty else OrdStatus.FILLED
        if not order.leavesQty:
            if wasResting:
                self._removeFilled(book, order, shown)
            elif order.orderId in book.stops:
                del book.stops[order.orderId]
        elif wasResting:
            self._reduced(book, order, quantity, True)
        return wasResting, shown

    def _specialExecuted(self, book, order, shown):
        if order.resting and iceberg(order) and not order.terms[T_EXTRA].shown:
            self._specialRefresh(book, order)
        if shown or (order.resting and displayed(order)):
            self._bookChangedAt(book, order.isBuy, order.price)

    def _specialFill(self, order, quantity, price, aggressor):
        book = self.books[order.symbol]
        tradeId = self._nextTradeId
        self._nextTradeId = tradeId + 1
        wasResting, shown = self._specialExecute(book, order, quantity, price)
        events = self._events
        events.append(
            Filled(order, self._execId(), tradeId, price, quantity, aggressor, None, wasResting)
        )
        if aggressor:
            aggressorSide = order.side
        else:
            aggressorSide = Side.SELL if order.isBuy else Side.BUY
        events.append(
            Trade(
                book.symbol, tradeId, price, quantity,
                order.orderId if order.isBuy else None,
                None if order.isBuy else order.orderId,
                aggressorSide,
            )
        )
        self._specialPrinted(book, price, quantity)
        self._specialExecuted(book, order, shown)
        if not order.leavesQty:
            self._finish(order)

    def _specialMatchOrders(self, book, buy, sell, newer, quantity, price):
        tradeId = self._nextTradeId
        self._nextTradeId = tradeId + 1
        events = self._events
        for order, contra in ((buy, sell), (sell, buy)):
            wasResting, shown = self._specialExecute(book, order, quantity, price)
            events.append(
                Filled(
                    order, self._execId(), tradeId, price, quantity, order is newer,
                    contra.orderId, wasResting,
                )
            )
            self._specialExecuted(book, order, shown)
        events.append(Trade(book.symbol, tradeId, price, quantity, buy.orderId, sell.orderId, newer.side))
        self._specialPrinted(book, price, quantity)
        for order in (buy, sell):
            if not order.leavesQty:
                self._finish(order)
        return tradeId

    # -- after each command --------------------------------------------------

    def _settleBooks(self):
        """
        Before events go out: in each special book, the waiting stops that
        trades reached trigger, one at a time in entry order, and the pegs
        are priced again if the best bid or offer moved (see
        L{exsim.engine.reference.ReferenceEngine._settleBooks}); a book
        with nothing special left is plain again.
        """
        anySpecial = False
        for book in list(self.books.values()):
            if not book.special:
                continue
            while self._specialTriggerOne(book) or self._specialReprice(book):
                pass
            book.printed = None
            specialOrders = book.specialOrders
            book.sweepIn -= 1
            if book.sweepIn <= 0:
                # Forget finished special orders now and then (as many
                # settles apart as there are of them: O(1) a settle).
                for orderId in [i for i, o in specialOrders.items() if o.isDone]:
                    del specialOrders[orderId]
                    book.pegOrders.pop(orderId, None)
                book.sweepIn = max(16, len(specialOrders))
            if specialOrders or book.stp != STP_NONE:
                anySpecial = True
            else:
                book.special = False
        self._settling = anySpecial

    def _specialTriggerOne(self, book):
        """
        Trigger the first waiting stop (in entry order) that the trades
        printed since the stops were last looked at reached: the stops'
        heaps give those whose stop price the range reached.
        """
        if book.printed is None or not book.stops:
            return False
        low, high = book.printed
        stops = book.stops
        buys, sells = book.stopHeaps
        fired = []
        while buys and buys[0][0] <= high:
            entry = heappop(buys)
            order = entry[2]
            if order.orderId in stops and order.terms[T_EXTRA].stopPx == entry[0]:
                fired.append(entry)
        while sells and -sells[0][0] >= low:
            entry = heappop(sells)
            order = entry[2]
            if order.orderId in stops and order.terms[T_EXTRA].stopPx == -entry[0]:
                fired.append(entry)
        if not fired:
            return False
        fired.sort(key=lambda entry: entry[1])
        order = fired[0][2]
        # The others fired too: back in their heaps, still waiting.
        for entry in fired[1:]:
            heappush(buys if entry[2].isBuy else sells, entry)
        del stops[order.orderId]
        self._specialTrigger(book, order)
        return True

    def _stopWaits(self, book, order):
        """
        A stop order starts waiting: last in entry order.
        """
        book.stopSeq += 1
        order.terms[T_EXTRA].seq = book.stopSeq
        book.stops[order.orderId] = order
        self._stopPush(book, order)

    def _stopPush(self, book, order):
        extra = order.terms[T_EXTRA]
        if order.isBuy:
            heappush(book.stopHeaps[0], (extra.stopPx, extra.seq, order))
        else:
            heappush(book.stopHeaps[1], (-extra.stopPx, extra.seq, order))

    def _specialReprice(self, book):
        if not book.pegOrders:
            return False
        touch = (book.bestBid(), book.bestAsk())
        if touch == book.pegTouch:
            return False
        pegs = [
            order for order in book.pegOrders.values()
            if not order.isDone and order.terms[T_EXTRA].working
        ]
        if not pegs:
            return False
        book.pegTouch = touch
        for order in pegs:
            if order.resting:
                order.resting = False
        for order in pegs:
            if not order.isDone:
                self._specialEnter(book, order)
        return True
