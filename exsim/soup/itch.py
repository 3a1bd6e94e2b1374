# -*- test-case-name: tests.test_itch -*-
"""
The ITCH 5.0 feed over SoupBinTCP (C{protocol = itch}).

One sequenced stream per endpoint, shared by every client; a client that
logs in with sequence number 1 gets everything since the feed started
and can rebuild every book exactly.  When the feed starts it publishes
System Events (start of messages, system hours, market hours), a Stock
Directory and a Stock Trading Action for each book, and an Add Order for
every order already resting; after that it follows the engine's events:

 - L{Added} -> Add Order (A), or Order Replace (U) for an order that just
   lost priority through a replace and rests again without trading;
 - L{Filled} of a resting order -> Order Executed (E), or Order Executed
   With Price (C) when the price differs from the order's;
 - L{Trade} with no resting side -> Trade (P) (a non-displayed execution);
 - L{Cancelled} or L{Expired} of a resting order -> Order Delete (D);
 - L{Replaced} of a resting order that keeps priority -> Order Cancel (X)
   for the shares removed (Order Delete if none are left); one that loses
   priority -> Order Replace (U) as above, else Order Delete (D) (it
   trades at once; an Add Order follows if a rest of it rests).

The trading phases (L{exsim.engine.phases}) show as:

 - L{PhaseChanged} -> Stock Trading Action (H) when the book's trading
   state changes: C{H} (halted; the halt reason's first four characters
   as the reason), C{P} (a halt that is a pause), C{Q} (quotation only:
   a halt that accepts orders for a reopening auction), C{T} (trading,
   every other phase); a feed that starts during a halt says so, with
   the reason the book keeps;
 - L{MarketPhaseChanged} (the engine's schedule) -> the System Events
   that lead there: C{pre_open} start of system hours (S), C{continuous}
   start of market hours (Q), C{post_close} end of market hours (M),
   C{closed} end of system hours and end of messages (E, C); a new day
   after C{C} starts with start of messages (O);
 - L{Indicative} (a book in a call, every second) -> NOII (I): paired
   shares, imbalance shares and direction at the Current Reference Price
   (C{O} when nothing would execute), far, near and current reference
   price (L{exsim.engine.auction.imbalance}), the cross type (C{O}
   opening, C{C} closing, C{H} reopening), the price variation;
 - L{AuctionUncrossed} -> Cross Trade (Q) with the shares and price of
   the uncross (match number: its first execution's, 0 if none), after
   its executions; those show as Order Executed With Price marked not
   printable (the Cross Trade has the volume) for the orders in the book,
   and not at all for the others (no Trade message).

Order reference numbers are the feed's own, one per resting (order,
version); stock locate codes are given in the order books first appear,
from 1, and never change.

Only what is displayed is published: a hidden order or a midpoint peg never
has an Add Order, and an execution against it is a Trade (P); an iceberg
is added with its displayed slice, and when that is executed in full the
next slice is a new Add Order (at the back of the price level); what
trades of its hidden reserve is a Trade (P).  A self-trade prevention
decrement of a displayed order is an Order Cancel (X).
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine import events as ev
from exsim.engine.delivery import Failures
from exsim.engine.ordertypes import displayed
from exsim.engine.phases import CLOSED, CONTINUOUS, HALTED, POST_CLOSE, PRE_OPEN
from exsim.interfaces import IEngineEvents, IEngineListener, IMarketPhases, IProtocolFamily
from exsim.model import T_EXTRA, OrdType, Side
from exsim.roles import roleOf
from exsim.soup import control, itch50, packets
from exsim.soup.ouch import FEED_CONTROL_PROPERTIES, SOUP_PROPERTIES, parseSoupProperty, venueClock
from exsim.soup.session import SoupServerFactory, SoupStream

#: The auction of an uncross or NOII -> its cross type.
CROSS_TYPES = {
    "opening": itch50.CROSS_OPENING,
    "closing": itch50.CROSS_CLOSING,
    "reopening": itch50.CROSS_HALT,
}

#: The market phase of the engine's schedule -> the last System Event of
#: the day (an index into L{itch50.DAY_EVENTS}) the feed has sent then.
SYSTEM_LEVELS = {
    PRE_OPEN: 1,
    CONTINUOUS: 2,
    "closing_auction": 2,
    POST_CLOSE: 3,
    CLOSED: 5,
}


def tradingState(book, reason=None):
    """
    The Stock Trading Action state and reason of a book now: C{P} when its
    halt is a pause, C{Q} when it accepts orders for a reopening auction,
    else C{H}; C{T} outside a halt.  The reason code is the first four
    characters of C{reason}, else of the halt reason the book keeps.
    """
    if getattr(book, "phase", CONTINUOUS) is not HALTED:
        return itch50.TRADING, b"    "
    if reason is None:
        reason = getattr(book, "haltReason", None)
    if reason is None or reason == "schedule":
        code = b"    "
    else:
        code = reason.encode("ascii", "replace")[:4].ljust(4)
    if getattr(book, "paused", False):
        return itch50.PAUSED, code
    if book.haltAcceptsOrders and book.reopenWithAuction:
        return itch50.QUOTATION_ONLY, code
    return itch50.HALTED, code


def priceVariation(near, current):
    """
    The Price Variation Indicator of a NOII: how far the near price is
    from the Current Reference Price, as a fraction of it (ITCH 5.0: C{L}
    less than 1 %, C{1} to C{9} 1 % to 9.99 %, C{A} 10-19.99 %, C{B}
    20-29.99 %, C{C} 30 % or more; a space when it cannot be computed).
    """
    if near is None or not current:
        return b" "
    percent = abs(near - current) * 100 / current
    if percent < 1:
        return b"L"
    if percent < 10:
        return str(int(percent)).encode("ascii")
    if percent < 20:
        return b"A"
    if percent < 30:
        return b"B"
    return b"C"


def marketPhaseOf(engine):
    """
    The phase of an engine's schedule, or None (no schedule, or an engine
    without trading phases).
    """
    phases = IMarketPhases(engine, None)
    if phases is None:
        return None
    return phases.marketPhase()


@implementer(IProtocolFamily)
class ItchFamily:
    """
    The C{itch} protocol family.
    """

    name = "itch"
    properties = dict(SOUP_PROPERTIES, **FEED_CONTROL_PROPERTIES)
    #: Shares and Price(4) fields are 32 bits unsigned.
    maxQuantity = 2**32 - 1
    maxPrice = 2**32 - 1

    def propertyNames(self):
        return tuple(sorted(self.properties))

    def parseProperty(self, name, value):
        return parseSoupProperty(self.properties, name, value)

    def buildFactory(self, endpoint):
        return ItchFactory(endpoint)


family = ItchFamily()


@implementer(IEngineListener)
class ItchFactory(SoupServerFactory):
    """
    Publishes one engine's books as an ITCH 5.0 feed.

    @ivar stream: the L{SoupStream} of the feed.
    @ivar locates: {symbol: stock locate code}.
    @ivar references: {engine order id: current order reference number}.
    """

    log = Logger()
    maxPacketLength = 256

    def __init__(self, endpoint):
        self.failures = Failures(self)
        SoupServerFactory.__init__(self, endpoint)
        self.engine = roleOf(endpoint.engine, IEngineEvents, "an ITCH feed")
        self.venueClock = venueClock(endpoint)
        name = endpoint.properties.get("session") or "1"
        self.stream = SoupStream(name)
        self.locates = {}
        self.references = {}
        # {engine order id: displayed shares} of the icebergs with a
        # reference (see _shownOf).
        self._shown = {}
        self._sides = {}
        self._nextReference = 1
        self._tracking = 0
        self._replacing = {}
        #: {symbol: the (state, reason) of its last Stock Trading Action}
        self._states = {}
        #: The index in L{itch50.DAY_EVENTS} of the last System Event.
        self._systemLevel = -1
        #: (AuctionUncrossed, first trade id) of an uncross whose Cross
        #: Trade is due after its executions.
        self._cross = None
        phase = marketPhaseOf(endpoint.engine)
        self._systemTo(2 if phase is None else SYSTEM_LEVELS.get(phase))
        for symbol in sorted(self.engine.books):
            self._locate(symbol)
        for symbol in sorted(self.engine.books):
            for order in self.engine.books[symbol].orders():
                shares = displayed(order)
                if shares:
                    self._add(order, shares, order.price)
        self.engine.subscribe(self)

    def _now(self):
        return self.venueClock.nanos()

    def _track(self):
        tracking = self._tracking
        self._tracking = (tracking + 1) & 0xFFFF
        return tracking

    def _publish(self, payload):
        self.stream.append(payload)

    def _locate(self, symbol):
        locate = self.locates.get(symbol)
        if locate is None:
            locate = self.locates[symbol] = len(self.locates) + 1
            now = self._now()
            # A book with a lot size (reference data) says so: Round Lot
            # Size, Round Lots Only.
            book = self.engine.books.get(symbol)
            lot = book.instrument.lotSize if book is not None else 1
            self._publish(
                itch50.stockDirectory(
                    locate, self._track(), now, symbol, lot if lot > 1 else 100,
                    b"Y" if lot > 1 else b"N",
                )
            )
            state = self._states[symbol] = tradingState(book) if book is not None else (
                itch50.TRADING, b"    "
            )
            self._publish(itch50.stockTradingAction(locate, self._track(), now, symbol, *state))
        return locate

    def _systemTo(self, level):
        """
        Publish the System Events from the last one sent up to
        C{DAY_EVENTS[level]} (a new day from start of messages if it is
        behind); None: none.
        """
        if level is None:
            return
        current = self._systemLevel
        if level == 5 and current < 1:
            # Closed before the day started: messages start, no more.
            level = 0
        if level == current:
            return
        if level < current:
            current = -1
        for code in itch50.DAY_EVENTS[current + 1:level + 1]:
            self._publish(itch50.systemEvent(self._track(), self._now(), code))
        self._systemLevel = level

    def _phaseChanged(self, event):
        book = self.engine.books.get(event.symbol)
        if book is None:
            return
        self._flushCross()
        state = tradingState(book, event.reason)
        if self._states.get(event.symbol) != state:
            locate = self._locate(event.symbol)
            self._states[event.symbol] = state
            self._publish(
                itch50.stockTradingAction(locate, self._track(), self._now(), event.symbol, *state)
            )

    def _indicative(self, event):
        price = event.price
        if price is None:
            direction, variation = itch50.IMBALANCE_INSUFFICIENT, b" "
        else:
            side = event.currentImbalanceSide
            if side is None:
                direction = itch50.IMBALANCE_NONE
            elif side is Side.BUY:
                direction = itch50.IMBALANCE_BUY
            else:
                direction = itch50.IMBALANCE_SELL
            variation = priceVariation(price, event.currentReferencePrice)
        self._publish(
            itch50.noii(
                self._locate(event.symbol), self._track(), self._now(),
                event.currentPaired if price is not None else 0,
                event.currentImbalance if price is not None else event.imbalance,
                direction, event.symbol, event.farPrice or 0, price or 0,
                (event.currentReferencePrice or 0) if price is not None else 0,
                CROSS_TYPES.get(event.auction, itch50.CROSS_HALT), variation,
            )
        )

    def _flushCross(self):
        """
        Publish the Cross Trade of the uncross whose executions are done.
        """
        pending, self._cross = self._cross, None
        if pending is None:
            return
        event, matchNumber = pending
        self._publish(
            itch50.crossTrade(
                self._locate(event.symbol), self._track(), self._now(), event.quantity,
                event.symbol, event.price or 0, matchNumber or 0,
                CROSS_TYPES.get(event.auction, itch50.CROSS_HALT),
            )
        )

    def _add(self, order, shares, price):
        reference = self._nextReference
        self._nextReference = reference + 1
        self.references[order.orderId] = reference
        if order.terms[T_EXTRA] is not None:
            self._shown[order.orderId] = shares
        self._publish(
            itch50.addOrder(
                self._locate(order.symbol), self._track(), self._now(), reference,
                b"B" if order.isBuy else b"S", shares, order.symbol, price,
            )
        )

    # -- SoupBinTCP --------------------------------------------------------

    def login(self, connection, request):
        reason = self.checkCredentials(request)
        if reason is not None:
            return reason
        if request.session and request.session != self.stream.name:
            return packets.SESSION_NOT_AVAILABLE
        return self.stream, None

    def unsequencedData(self, connection, payload):
        # A feed takes no input: ignore it, as a feed server would.
        self.log.debug("itch {name}: unsequenced data ignored", name=self.name)

    def loggedIn(self, connection):
        if control.endpointHasControl(self.endpoint):
            self._controlOf(connection).refresh()

    def loggedOut(self, connection):
        if connection.control is not None:
            connection.control.detach(connection)

    def _controlOf(self, connection):
        if connection.control is not None:
            return connection.control
        return control.SoupControl(self.endpoint, connection.sessionId, connection=connection)

    def controlledSessions(self):
        """
        Handles of every connection (each is one session of the feed),
        for the session-control operations.
        """
        return [
            control.SoupSessionHandle(self, connection=c) for c in self.connections if not c._closing
        ]

    def propertyChanged(self, name, value):
        if name in control.CONTROL_PROPERTIES:
            for connection in self.connections:
                if connection.stream is not None and not connection._closing:
                    self._controlOf(connection).refresh()

    # -- engine ------------------------------------------------------------

    def engineEvents(self, events):
        restingTrades = None
        references = self.references
        while events:
            event = None
            try:
                for index, event in enumerate(events):
                    kind = type(event)
                    if kind is ev.BookChanged or kind is ev.Accepted:
                        continue
                    if kind is ev.Added:
                        order = event.order
                        shares = event.leavesQty
                        if order.terms[T_EXTRA] is not None:
                            shares = _shownOf(order, shares)
                            if not shares:
                                continue
                        old = self._replacing.pop(order.orderId, None)
                        if old is None:
                            self._add(order, shares, event.price)
                        else:
                            reference = self._nextReference
                            self._nextReference = reference + 1
                            references[order.orderId] = reference
                            if order.terms[T_EXTRA] is not None:
                                self._shown[order.orderId] = shares
                            self._publish(
                                itch50.orderReplace(
                                    self._locate(order.symbol), self._track(), self._now(), old,
                                    reference, shares, event.price,
                                )
                            )
                    elif kind is ev.Filled:
                        if not event.resting:
                            continue
                        if event.aggressor is None:
                            self._auctionExecuted(event)
                            continue
                        order = event.order
                        reference = references.get(order.orderId)
                        if reference is None:
                            # Not displayed: the Trade (P) says it.
                            continue
                        quantity = event.quantity
                        shown = self._shown.get(order.orderId)
                        if shown is not None:
                            if not shown:
                                continue
                            quantity = min(quantity, shown)
                            shown -= quantity
                            self._shown[order.orderId] = shown
                        if restingTrades is None:
                            restingTrades = {}
                        restingTrades[event.tradeId] = event.quantity - quantity
                        locate = self._locate(order.symbol)
                        if event.price == event.orderPrice:
                            payload = itch50.orderExecuted(
                                locate, self._track(), self._now(), reference, quantity, event.tradeId
                            )
                        else:
                            payload = itch50.orderExecutedWithPrice(
                                locate, self._track(), self._now(), reference, quantity,
                                event.tradeId, event.price,
                            )
                        self._publish(payload)
                        if not event.leavesQty or shown == 0:
                            del references[order.orderId]
                            self._shown.pop(order.orderId, None)
                    elif kind is ev.Trade:
                        if event.aggressorSide is None:
                            # An uncross's: the Cross Trade has it.
                            cross = self._cross
                            if cross is not None and cross[1] is None:
                                self._cross = (cross[0], event.tradeId)
                            continue
                        quantity = event.quantity
                        if restingTrades is not None and event.tradeId in restingTrades:
                            # The part not executed against displayed
                            # shares (none, mostly).
                            quantity = restingTrades[event.tradeId]
                            if not quantity:
                                continue
                        self._publish(
                            itch50.trade(
                                self._locate(event.symbol), self._track(), self._now(), quantity,
                                event.symbol, event.price, event.tradeId,
                            )
                        )
                    elif kind is ev.Cancelled or kind is ev.Expired:
                        self._delete(event.order)
                    elif kind is ev.Replaced:
                        self._replaced(event, events, index)
                    elif kind is ev.Restated:
                        self._reduced(event.order, event.reducedQty, event.leavesQty)
                    elif kind is ev.PhaseChanged:
                        self._phaseChanged(event)
                    elif kind is ev.AuctionUncrossed:
                        self._flushCross()
                        self._cross = (event, None)
                    elif kind is ev.Indicative:
                        self._indicative(event)
                    elif kind is ev.MarketPhaseChanged:
                        self._flushCross()
                        self._systemTo(SYSTEM_LEVELS.get(event.new))
                    elif kind is ev.DayEnded:
                        # The day closes and the next one opens on the same stream.
                        for code in (
                            itch50.END_OF_MARKET_HOURS,
                            itch50.END_OF_SYSTEM_HOURS,
                            itch50.START_OF_SYSTEM_HOURS,
                            itch50.START_OF_MARKET_HOURS,
                        ):
                            self._publish(itch50.systemEvent(self._track(), self._now(), code))
                        self._systemLevel = 2
                self._flushCross()
            except Exception:
                events = self.failures.failed(events, event)
            else:
                return

    def _auctionExecuted(self, event):
        """
        An uncross's execution of an order in the book: Order Executed With
        Price, not printable (the Cross Trade has the volume).
        """
        order = event.order
        reference = self.references.get(order.orderId)
        if reference is None:
            return
        self._publish(
            itch50.orderExecutedWithPrice(
                self._locate(order.symbol), self._track(), self._now(), reference,
                event.quantity, event.tradeId, event.price, b"N",
            )
        )
        if not event.leavesQty:
            del self.references[order.orderId]
            self._shown.pop(order.orderId, None)

    def _delete(self, order):
        self._shown.pop(order.orderId, None)
        reference = self.references.pop(order.orderId, None)
        if reference is not None:
            self._publish(
                itch50.orderDelete(self._locate(order.symbol), self._track(), self._now(), reference)
            )

    def _replaced(self, event, events, index):
        order = event.order
        reference = self.references.get(order.orderId)
        if reference is None:
            return
        if not event.lostPriority:
            if not event.leavesQty:
                self._delete(order)
            elif event.oldLeavesQty > event.leavesQty:
                self._reduced(order, event.oldLeavesQty - event.leavesQty, event.leavesQty)
            return
        # It left the book; if the next thing that happens to it is that it
        # rests again, publish one Order Replace then.
        for later in events[index + 1 :]:
            if getattr(later, "order", None) is order:
                if type(later) is ev.Added:
                    del self.references[order.orderId]
                    self._replacing[order.orderId] = reference
                    return
                break
        self._delete(order)

    def _reduced(self, order, quantity, leaves):
        """
        A resting order lost C{quantity} without trading (a replace, a
        decrement) and has C{leaves} left: an Order Cancel (X) of the
        displayed shares that went (an iceberg's reserve goes first).
        """
        reference = self.references.get(order.orderId)
        if reference is None:
            return
        shown = self._shown.get(order.orderId)
        if shown is not None:
            quantity = shown - min(shown, leaves)
            self._shown[order.orderId] = shown - quantity
        if quantity:
            self._publish(
                itch50.orderCancel(
                    self._locate(order.symbol), self._track(), self._now(), reference, quantity,
                )
            )

    def startFactory(self):
        # Listening again after a shutdown: follow the engine again.
        self.engine.subscribe(self)

    def shutdown(self):
        self.engine.unsubscribe(self)
        SoupServerFactory.shutdown(self)


def _shownOf(order, leaves):
    """
    How much of an order with C{leaves} left is displayed when it is
    added: none of a hidden order or a peg, a slice of an iceberg, all of
    the others.
    """
    extra = order.terms[T_EXTRA]
    if extra is None:
        return leaves
    if extra.displayQty == 0 or order.ordType is OrdType.PEGGED:
        return 0
    if extra.displayQty:
        return min(extra.displayQty, leaves)
    return leaves
