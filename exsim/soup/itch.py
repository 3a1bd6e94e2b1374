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
from exsim.interfaces import IEngineEvents, IEngineListener, IProtocolFamily
from exsim.model import T_EXTRA, OrdType
from exsim.roles import roleOf
from exsim.soup import control, itch50, packets
from exsim.soup.ouch import FEED_CONTROL_PROPERTIES, SOUP_PROPERTIES, parseSoupProperty, venueClock
from exsim.soup.session import SoupServerFactory, SoupStream


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
        for code in (
            itch50.START_OF_MESSAGES,
            itch50.START_OF_SYSTEM_HOURS,
            itch50.START_OF_MARKET_HOURS,
        ):
            self._publish(itch50.systemEvent(self._track(), self._now(), code))
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
            self._publish(itch50.stockTradingAction(locate, self._track(), now, symbol))
        return locate

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
                    elif kind is ev.DayEnded:
                        # The day closes and the next one opens on the same stream.
                        for code in (
                            itch50.END_OF_MARKET_HOURS,
                            itch50.END_OF_SYSTEM_HOURS,
                            itch50.START_OF_SYSTEM_HOURS,
                            itch50.START_OF_MARKET_HOURS,
                        ):
                            self._publish(itch50.systemEvent(self._track(), self._now(), code))
            except Exception:
                events = self.failures.failed(events, event)
            else:
                return

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
