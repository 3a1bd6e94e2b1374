# -*- test-case-name: tests.test_ouch -*-
"""
OUCH 4.2 order entry over SoupBinTCP (C{protocol = ouch}).

Each username is one OUCH session with its own sequenced stream, kept
across reconnects; orders entered on it belong to the owner
C{"<endpoint name>/<username>"} and their order token is the engine's
client order id.  Requests go to the engine; engine events about the
session's orders become OUCH messages.
"""

import datetime
import zoneinfo

from twisted.logger import Logger
from zope.interface import implementer

from exsim import sessioncontrol
from exsim.engine import events as ev
from exsim.errors import BadValue
from exsim.interfaces import IEngineListener, IProtocolFamily
from exsim.journal import registerUserData
from exsim.model import (
    T_EXTRA,
    AdvancedTerms,
    CancelReason,
    Order,
    OrdType,
    RejectReason,
    Side,
    TimeInForce,
)
from exsim.observe.messagelog import newLog
from exsim.orderentry import OrderRouting
from exsim.owners import ownerOf
from exsim.soup import control, ouch42, packets
from exsim.soup.session import SoupServerFactory, SoupStream
from exsim.values import parseBoolean

#: Shares must be below this (OUCH 4.2: "less than 1,000,000").
MAX_SHARES = 1000000

#: How many Stock fields and symbols an endpoint remembers decoded and
#: encoded (L{OuchFactory.symbolOf}, L{OuchFactory.stockOf}): more than a
#: venue lists, and a bound on what unknown ones can take.
STOCK_MEMO = 4096

_SIDES = {
    b"B": Side.BUY,
    b"S": Side.SELL,
    b"T": Side.SELL_SHORT,
    b"E": Side.SELL_SHORT,
}

#: Engine reject reason -> OUCH reject reason.
REJECT_REASONS = {
    RejectReason.UNKNOWN_SYMBOL: ouch42.REJECT_INVALID_STOCK,
    RejectReason.BAD_PRICE: ouch42.REJECT_INVALID_PRICE,
    RejectReason.BAD_QUANTITY: ouch42.REJECT_SHARES,
    RejectReason.UNSUPPORTED_ORDER_TYPE: ouch42.REJECT_OTHER,
    RejectReason.UNSUPPORTED_TIME_IN_FORCE: ouch42.REJECT_OTHER,
    RejectReason.DUPLICATE_ORDER: ouch42.REJECT_OTHER,
    RejectReason.EXCHANGE_CLOSED: ouch42.REJECT_CLOSED,
    RejectReason.HALTED: ouch42.REJECT_HALTED,
    RejectReason.TOO_LATE: ouch42.REJECT_NOT_ALLOWED,
    RejectReason.BEHAVIOUR: ouch42.REJECT_OTHER,
    RejectReason.OTHER: ouch42.REJECT_OTHER,
}

#: Engine cancel reason -> OUCH cancel reason.
CANCEL_REASONS = {
    CancelReason.USER: ouch42.CANCEL_USER,
    CancelReason.IMMEDIATE_OR_CANCEL: ouch42.CANCEL_IOC,
    CancelReason.FILL_OR_KILL: ouch42.CANCEL_IOC,
    CancelReason.NO_LIQUIDITY: ouch42.CANCEL_IOC,
    CancelReason.UNSOLICITED: ouch42.CANCEL_SUPERVISORY,
    CancelReason.DISCONNECT: ouch42.CANCEL_SYSTEM,
    CancelReason.REPLACED_TO_ZERO: ouch42.CANCEL_USER,
    CancelReason.SELF_TRADE: ouch42.CANCEL_SELF_MATCH,
    CancelReason.MIN_QUANTITY: ouch42.CANCEL_IOC,
    CancelReason.POST_ONLY: ouch42.CANCEL_SYSTEM,
    CancelReason.MASS_CANCEL: ouch42.CANCEL_USER,
    CancelReason.AUCTION: ouch42.CANCEL_CROSS,
}

#: Cross Type of Enter Order -> the time in force of an order that takes
#: part in that auction only (other cross types trade as usual).
CROSS_TIME_IN_FORCE = {
    ouch42.CROSS_OPENING: TimeInForce.AT_OPEN,
    ouch42.CROSS_CLOSING: TimeInForce.AT_CLOSE,
}

#: The auction of an uncross (L{exsim.engine.events.AuctionUncrossed})
#: -> the Liquidity Flag of its executions.
AUCTION_LIQUIDITY = {
    "opening": ouch42.LIQUIDITY_OPENING_CROSS,
    "closing": ouch42.LIQUIDITY_CLOSING_CROSS,
    "reopening": ouch42.LIQUIDITY_HALT_CROSS,
}

#: Display values and the advanced terms they stand for: (hidden,
#: post-only, midpoint peg).  A (attributable) and Y (anonymous) are
#: displayed; the others (I imbalance only, W midpoint post-only, O, T, Q
#: retail) are refused (Rejected reason D).
DISPLAYS = {
    b"Y": (False, False, False),
    b"A": (False, False, False),
    b"N": (True, False, False),
    b"P": (False, True, False),
    b"L": (False, True, False),
    b"M": (False, False, True),
}


_boolean = parseBoolean


def _seconds(name, value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadValue("%s must be a number of seconds, not %r" % (name, value))
    if not number > 0:
        raise BadValue("%s must be positive, not %r" % (name, value))
    return number


def _sessionName(name, value):
    text = str(value).strip()
    if not text or len(text) > 10 or not text.isascii() or not text.isprintable():
        raise BadValue("session must be 1 to 10 printable ASCII characters, not %r" % (value,))
    return text


#: The venue's time zone: Nasdaq timestamps count from midnight Eastern.
DEFAULT_TIMEZONE = "America/New_York"


def _timezone(name, value):
    text = str(value).strip()
    if text.upper() == "UTC":
        return "UTC"
    try:
        zoneinfo.ZoneInfo(text)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise BadValue("%s must be an IANA time zone such as America/New_York or UTC, not %r" % (name, value))
    return text


SOUP_PROPERTIES = {
    "session": _sessionName,
    "heartbeat_interval": _seconds,
    "idle_timeout": _seconds,
    "timezone": _timezone,
}


def _controlParser(parse):
    return lambda name, value: parse(value)


#: Session control of an order-entry endpoint: latency, seed, throttle,
#: throttle_action, accept_logons.
CONTROL_PROPERTIES = {
    name: _controlParser(parse) for name, parse in sessioncontrol.ENDPOINT_PROPERTIES.items()
}

#: Session control of a feed (no inbound messages to throttle).
FEED_CONTROL_PROPERTIES = {name: CONTROL_PROPERTIES[name] for name in sessioncontrol.FEED_PROPERTIES}


def parseSoupProperty(properties, name, value):
    """
    Check a property of a SoupBinTCP endpoint.

    @raise BadValue: for an unknown name or a bad value.
    """
    parser = properties.get(name)
    if parser is None:
        raise BadValue("unknown property %r (known: %s)" % (name, ", ".join(sorted(properties))))
    return parser(name, value)


class VenueClock:
    """
    Nanoseconds since midnight in the venue's time zone (Eastern for
    Nasdaq), as OUCH and ITCH timestamps count them, from a reactor's
    clock.  The day's start is worked out once a day (time zone rules,
    daylight saving included), not for every message.
    """

    def __init__(self, reactor, timezone=DEFAULT_TIMEZONE):
        self.reactor = reactor
        self.zone = datetime.timezone.utc if timezone == "UTC" else zoneinfo.ZoneInfo(timezone)
        self._start = self._end = None

    def nanos(self):
        seconds = self.reactor.seconds()
        start = self._start
        if start is None or not start <= seconds < self._end:
            local = datetime.datetime.fromtimestamp(seconds, self.zone)
            day = local.date()
            midnight = datetime.datetime.combine(day, datetime.time(0), self.zone)
            following = datetime.datetime.combine(
                day + datetime.timedelta(days=1), datetime.time(0), self.zone
            )
            start = self._start = midnight.timestamp()
            self._end = following.timestamp()
        return int((seconds - start) * 1000000000)


def venueClock(endpoint):
    """
    The L{VenueClock} of a SoupBinTCP endpoint (its C{timezone} property).
    """
    return VenueClock(endpoint.reactor, endpoint.properties.get("timezone", DEFAULT_TIMEZONE))


@implementer(IProtocolFamily)
class OuchFamily:
    """
    The C{ouch} protocol family.
    """

    name = "ouch"
    properties = dict(
        SOUP_PROPERTIES, cancel_on_disconnect=_boolean,
        stp_group=lambda name, value: sessioncontrol.parseStpGroup(value), **CONTROL_PROPERTIES
    )
    #: Shares and Price(4) fields are 32 bits unsigned; an order's price
    #: must stay below the market-order price (214748.3647).
    maxQuantity = 2**32 - 1
    maxPrice = ouch42.MARKET_PRICE - 1

    def propertyNames(self):
        return tuple(sorted(self.properties))

    def parseProperty(self, name, value):
        return parseSoupProperty(self.properties, name, value)

    def buildFactory(self, endpoint):
        return OuchFactory(endpoint)


family = OuchFamily()


@registerUserData
class OrderExtra:
    """
    What an OUCH order carries that the engine does not use, echoed on
    Accepted and Replaced (kept in C{Order.userData}).
    """

    __slots__ = (
        "side", "timeInForce", "firm", "display", "capacity", "iso",
        "minimumQuantity", "crossType", "market",
    )

    def __init__(self, side, timeInForce, firm, display, capacity, iso, minimumQuantity, crossType, market):
        self.side = side
        self.timeInForce = timeInForce
        self.firm = firm
        self.display = display
        self.capacity = capacity
        self.iso = iso
        self.minimumQuantity = minimumQuantity
        self.crossType = crossType
        self.market = market


@implementer(IEngineListener)
class OuchFactory(SoupServerFactory, OrderRouting):
    """
    Serves one OUCH endpoint: its sessions by username, and the engine's
    events about their orders.

    @ivar sessions: {username: L{OuchSession}}.
    """

    log = Logger()
    maxPacketLength = 1024

    def __init__(self, endpoint):
        SoupServerFactory.__init__(self, endpoint)
        self.venueClock = venueClock(endpoint)
        self.sessions = {}
        self.startRouting(
            "OUCH order entry",
            {
                ev.Accepted: OuchSession.onAccepted,
                ev.Rejected: OuchSession.onRejected,
                ev.Filled: OuchSession.onFilled,
                ev.Cancelled: OuchSession.onCancelled,
                ev.Expired: OuchSession.onExpired,
                ev.Replaced: OuchSession.onReplaced,
                ev.PendingChange: OuchSession.onPending,
                ev.Restated: OuchSession.onRestated,
            },
            {ev.CancelRejected: OuchSession.onCancelRejected},
            {ev.DayEnded: self._dayEnded, ev.AuctionUncrossed: self._uncrossed},
        )
        #: {symbol: the Liquidity Flag of its last uncross's executions}
        #: (L{ev.AuctionUncrossed} comes before them).
        self.auctionLiquidity = {}
        #: {Stock field: its symbol} and {symbol: its Stock field}: an
        #: endpoint sees few symbols, so each is decoded and encoded once
        #: (L{symbolOf}, L{stockOf}; read for every order).
        self.symbols = {}
        self.stocks = {}

    def symbolOf(self, stock):
        """
        The symbol of a Stock field (L{ouch42.text}), remembered for the
        next orders (at most L{STOCK_MEMO} of them).

        @raise SoupProtocolError: if it is not ASCII.
        """
        symbol = ouch42.text(stock)
        if len(self.symbols) < STOCK_MEMO:
            self.symbols[stock] = symbol
        return symbol

    def stockOf(self, symbol):
        """
        The Stock field of a symbol (L{ouch42.alpha}), remembered for the
        next messages (at most L{STOCK_MEMO} of them).
        """
        stock = ouch42.alpha(symbol, 8)
        if len(self.stocks) < STOCK_MEMO:
            self.stocks[symbol] = stock
        return stock

    @property
    def sessionName(self):
        name = self.endpoint.properties.get("session")
        return name if name else "1"

    def session(self, username):
        """
        The L{OuchSession} of C{username}, created on first use.
        """
        session = self.sessions.get(username)
        if session is None:
            session = self.sessions[username] = OuchSession(self, username)
            self.attach(ownerOf(session.owner), session)
            sessioncontrol.applyStpGroup(self.endpoint, session.owner)
            if control.endpointHasControl(self.endpoint):
                control.controlOfOuch(session).refresh()
        return session

    def sessionIdOf(self, connection, username, session):
        return session.owner

    def controlledSessions(self):
        """
        Handles of every OUCH session and of every connection not logged
        in yet, for the session-control operations.
        """
        handles = [control.SoupSessionHandle(self, owner=s) for s in self.sessions.values()]
        handles.extend(
            control.SoupSessionHandle(self, connection=c)
            for c in self.connections
            if c.stream is None and not c._closing
        )
        return handles

    def propertyChanged(self, name, value):
        if name in control.CONTROL_PROPERTIES:
            for session in self.sessions.values():
                control.controlOfOuch(session).refresh()
        elif name == "stp_group":
            for session in self.sessions.values():
                sessioncontrol.applyStpGroup(self.endpoint, session.owner)

    # -- SoupBinTCP --------------------------------------------------------

    def login(self, connection, request):
        reason = self.checkCredentials(request)
        if reason is not None:
            return reason
        if not request.username:
            return packets.NOT_AUTHORIZED
        if request.session and request.session != self.sessionName:
            return packets.SESSION_NOT_AVAILABLE
        session = self.session(request.username)
        if session.connection is not None:
            return packets.SESSION_NOT_AVAILABLE
        session.connection = connection
        if session.control is not None:
            session.control.attach(connection)
        return session.stream, session

    def loggedOut(self, connection):
        session = connection.session
        if session is None or session.connection is not connection:
            return
        session.connection = None
        if session.control is not None:
            session.control.detach(connection)
        self.sessionEnded(session.owner)

    def unsequencedData(self, connection, payload):
        control = connection.control
        if control is not None and not control.inbound(payload):
            return  # throttled (exsim.soup.control)
        connection.session.handle(payload)

    # -- engine ------------------------------------------------------------

    def _uncrossed(self, event):
        self.auctionLiquidity[event.symbol] = AUCTION_LIQUIDITY.get(
            event.auction, ouch42.LIQUIDITY_HALT_CROSS
        )

    def _dayEnded(self, event):
        for session in self.sessions.values():
            session.onDayEnded()

    def startFactory(self):
        # Listening again after a shutdown: follow the engine again.
        self.followEngine()

    def shutdown(self):
        self.leaveEngine()
        SoupServerFactory.shutdown(self)
        for session in self.sessions.values():
            if session.control is not None:
                session.control.stop()


class OuchSession:
    """
    One OUCH session (a username): its sequenced stream, the order tokens
    it used today, and the mapping of requests and events.
    """

    log = Logger()

    def __init__(self, factory, username):
        #: The session's L{exsim.soup.control.SoupControl} while it has one.
        self.control = None
        self.factory = factory
        self.engine = factory.engine
        self.reactor = factory.reactor
        self.username = username
        self.owner = "%s/%s" % (factory.endpoint.name, username)
        self.stream = SoupStream(factory.sessionName)
        self.connection = None
        #: Every packet in and out (L{exsim.observe.messagelog}).
        self.journal = newLog(factory.endpoint, self.owner, "ouch")
        self.tokens = set()
        self._partialCancels = set()
        self._replaceExtras = {}
        #: The factory's L{VenueClock}: C{self._clock.nanos()} is the
        #: time of a message.
        self._clock = factory.venueClock
        self._symbols = factory.symbols
        self._stocks = factory.stocks
        #: The token of the last order entered and its Order Token field
        #: as received (the field of its Accepted and first Executions).
        self._lastToken = self._lastTokenField = None
        self.stream.append(ouch42.systemEvent(self._clock.nanos(), b"S"))


    # -- requests ----------------------------------------------------------

    def handle(self, payload):
        """
        One inbound OUCH message.

        @raise SoupProtocolError: if it is malformed.
        """
        kind = payload[:1]
        if kind == b"O":
            self.enterOrder(payload)
        elif kind == b"X":
            self.cancelOrder(payload)
        elif kind == b"U":
            self.replaceOrder(payload)
        else:
            fields = ouch42.decode(payload)
            self._ignore(fields[1], "Modify Order is not supported")

    def refuse(self, payload, text):
        """
        Answer a request the venue will not act on (over the session's
        throttle): an Enter Order or Replace Order with Rejected, a
        Cancel Order with Cancel Reject.  (OUCH has no field for
        C{text}: it is logged.)

        @raise SoupProtocolError: if the payload is malformed.
        """
        kind = payload[:1]
        fields = ouch42.decode(payload)
        self.log.info("ouch {owner}: refused a {kind!r} message: {text}", owner=self.owner, kind=kind, text=text)
        if kind == b"O":
            self._reject(ouch42.text(fields[1]), ouch42.REJECT_OTHER)
        elif kind == b"U":
            self._reject(ouch42.text(fields[2]), ouch42.REJECT_OTHER)
        elif kind == b"X":
            self.stream.append(ouch42.cancelReject(self._clock.nanos(), ouch42.text(fields[1])))
        else:
            self._ignore(fields[1], text)

    def _ignore(self, token, why):
        self.log.info(
            "ouch {owner}: message for token {token!r} ignored: {why}",
            owner=self.owner,
            token=token,
            why=why,
        )
        if self.connection is not None:
            self.connection.sendPacket(packets.debug("%s: %s" % (token.decode("ascii", "replace").rstrip(), why)))

    def enterOrder(self, payload):
        if len(payload) != 49:
            ouch42.decode(payload)
        (_, rawToken, side, shares, stock, price, tif, firm, display, capacity, iso,
         minQty, crossType, _customerType) = ouch42.ENTER_ORDER.unpack(payload)
        token = ouch42.text(rawToken)
        if token in self.tokens:
            self._ignore(rawToken, "duplicate order token")
            return
        self.tokens.add(token)
        sideValue = _SIDES.get(side)
        if sideValue is None:
            self._reject(token, ouch42.REJECT_OTHER)
            return
        if not 0 < shares < MAX_SHARES:
            self._reject(token, ouch42.REJECT_SHARES)
            return
        market = price == ouch42.MARKET_PRICE
        expireTime = None
        if tif == ouch42.TIF_IOC:
            timeInForce = TimeInForce.IOC
        elif tif == ouch42.TIF_MARKET_HOURS or tif == ouch42.TIF_SYSTEM_HOURS:
            timeInForce = TimeInForce.DAY
        else:
            timeInForce = TimeInForce.GTD
            expireTime = self.engine.now() + tif
        ordType = OrdType.MARKET if market else OrdType.LIMIT
        extra = None
        if display != b"Y" or minQty:
            terms = DISPLAYS.get(display)
            if terms is None:
                self._reject(token, ouch42.REJECT_INVALID_DISPLAY)
                return
            if minQty > shares:
                self._reject(token, ouch42.REJECT_INVALID_MIN_QTY)
                return
            dark, postOnly, midpoint = terms
            if midpoint:
                ordType = OrdType.PEGGED
            extra = AdvancedTerms(
                displayQty=0 if dark else None, minQty=minQty or None, postOnly=postOnly
            )
        auctionOnly = CROSS_TIME_IN_FORCE.get(crossType)
        if auctionOnly is not None:
            # Cross Type O or C: this auction only (At the Opening, At
            # the Close), whatever the time in force says.
            timeInForce = auctionOnly
            expireTime = None
        symbol = self._symbols.get(stock)
        if symbol is None:
            symbol = self.factory.symbolOf(stock)
        order = Order(
            self.owner,
            token,
            symbol,
            sideValue,
            shares,
            None if market else price,
            ordType,
            timeInForce,
            expireTime,
            OrderExtra(side, tif, firm, display, capacity, iso, minQty, crossType, market),
            extra,
        )
        self._lastToken = token
        self._lastTokenField = rawToken
        self.engine.submitNew(order)

    def cancelOrder(self, payload):
        _, rawToken, shares = ouch42.decode(payload)
        token = ouch42.text(rawToken)
        order = self.engine.findOrder(self.owner, token)
        if order is None:
            self._ignore(rawToken, "no live order with this token")
            return
        if shares == 0:
            self.engine.submitCancel(self.owner, token, origClOrdId=token)
        elif shares < order.leavesQty:
            self._partialCancels.add(order.orderId)
            self.engine.submitReplace(
                self.owner, token, origClOrdId=token, quantity=order.cumQty + shares
            )
        else:
            self._ignore(rawToken, "cancel leaves the order as it is")

    def replaceOrder(self, payload):
        (_, rawExisting, rawReplacement, shares, price, tif, display, iso,
         minQty) = ouch42.decode(payload)
        existing = ouch42.text(rawExisting)
        replacement = ouch42.text(rawReplacement)
        if replacement in self.tokens:
            self._ignore(rawReplacement, "replacement order token already used")
            return
        order = self.engine.findOrder(self.owner, existing)
        if order is None:
            self._ignore(rawExisting, "no live order with this token")
            return
        self.tokens.add(replacement)
        if shares == 0:
            self.engine.submitCancel(self.owner, replacement, origClOrdId=existing)
            return
        if shares >= MAX_SHARES:
            self._reject(replacement, ouch42.REJECT_SHARES)
            return
        extra = order.userData
        if isinstance(extra, OrderExtra):
            if display != extra.display and DISPLAYS.get(display) != DISPLAYS.get(extra.display):
                self._reject(replacement, ouch42.REJECT_INVALID_DISPLAY)
                return
            if minQty != extra.minimumQuantity:
                self._reject(replacement, ouch42.REJECT_INVALID_MIN_QTY)
                return
            self._replaceExtras[order.orderId] = (tif, display, iso, minQty)
        if price == ouch42.MARKET_PRICE:
            newPrice = None
        else:
            newPrice = price
        self.engine.submitReplace(
            self.owner, replacement, origClOrdId=existing, price=newPrice,
            quantity=order.cumQty + shares,
        )

    # -- events ------------------------------------------------------------

    def _reject(self, token, reason):
        self.stream.append(ouch42.rejected(self._clock.nanos(), ouch42.alpha(token, 14), reason))

    def _tokenField(self, token):
        """
        The Order Token field of C{token} (L{ouch42.alpha}): the last
        entered order's field as received, which is the same bytes (a
        field decodes, L{ouch42.text}, to the token that encodes back to
        it: TokenFieldTests), without encoding it again for its Accepted
        and the Executions of its entry.
        """
        if token is self._lastToken:
            return self._lastTokenField
        return ouch42.alpha(token, 14)

    def _extra(self, order):
        extra = order.userData
        if isinstance(extra, OrderExtra):
            return extra
        # An order of this owner entered some other way: echo defaults.
        return OrderExtra(
            b"B" if order.isBuy else (b"T" if order.side is Side.SELL_SHORT else b"S"),
            ouch42.TIF_MARKET_HOURS, b"    ", b"Y", b"A", b"N", 0, b"N",
            order.ordType is OrdType.MARKET,
        )

    def _price(self, order, price):
        """
        The Price field of an order's Accepted or Replaced: a midpoint
        peg's limit (the market-order price without one).
        """
        if order.ordType is OrdType.PEGGED:
            price = order.terms[T_EXTRA].cap
        return ouch42.MARKET_PRICE if price is None else price

    def onAccepted(self, event):
        order = event.order
        extra = self._extra(order)
        price = event.price
        if price is None or order.terms[T_EXTRA] is not None:
            price = self._price(order, price)
        stock = self._stocks.get(order.symbol)
        if stock is None:
            stock = self.factory.stockOf(order.symbol)
        self.stream.append(
            ouch42.ACCEPTED.pack(
                b"A", self._clock.nanos(), self._tokenField(event.clOrdId), extra.side,
                event.quantity, stock, price, extra.timeInForce,
                extra.firm, extra.display, order.orderId, extra.capacity, extra.iso,
                extra.minimumQuantity, extra.crossType,
                ouch42.ORDER_LIVE if event.leavesQty else ouch42.ORDER_DEAD, b" ",
            )
        )

    def onRejected(self, event):
        reason = REJECT_REASONS.get(event.reason, ouch42.REJECT_OTHER)
        text = event.text
        if event.reason in (RejectReason.OTHER, RejectReason.BEHAVIOUR) and text:
            # A test may name the OUCH code: reject_order(id, "H").
            text = text.strip()
            if len(text) == 1 and text.isascii() and text.isalpha():
                reason = text.encode("ascii")
        self._reject(event.clOrdId, reason)

    def onFilled(self, event):
        aggressor = event.aggressor
        if aggressor is None:
            # An auction's execution: the flag of its cross.
            liquidity = self.factory.auctionLiquidity.get(
                event.order.symbol, ouch42.LIQUIDITY_HALT_CROSS
            )
        else:
            liquidity = ouch42.LIQUIDITY_REMOVED if aggressor else ouch42.LIQUIDITY_ADDED
        self.stream.append(
            ouch42.EXECUTED.pack(
                b"E", self._clock.nanos(), self._tokenField(event.clOrdId), event.quantity,
                event.price, liquidity, event.tradeId,
            )
        )

    def onCancelled(self, event):
        self._partialCancels.discard(event.order.orderId)
        self._replaceExtras.pop(event.order.orderId, None)
        self.stream.append(
            ouch42.canceled(
                self._clock.nanos(), event.clOrdId, event.cancelledQty,
                CANCEL_REASONS.get(event.reason, ouch42.CANCEL_SYSTEM),
            )
        )

    def onRestated(self, event):
        """
        Self-trade prevention reduced the order: a Canceled message for
        the shares taken off (reason Q, self-match prevention).
        """
        self.stream.append(
            ouch42.canceled(
                self._clock.nanos(), event.clOrdId, event.reducedQty,
                CANCEL_REASONS.get(event.reason, ouch42.CANCEL_SYSTEM),
            )
        )

    def onDayEnded(self):
        """
        The day ended: System Event End of Day, then Start of Day of the
        next one, whose order tokens start afresh.
        """
        self.tokens = set()
        self.stream.append(ouch42.systemEvent(self._clock.nanos(), b"E"))
        self.stream.append(ouch42.systemEvent(self._clock.nanos(), b"S"))

    def onExpired(self, event):
        order = event.order
        reason = ouch42.CANCEL_TIMEOUT if order.timeInForce is TimeInForce.GTD else ouch42.CANCEL_CLOSED
        self.stream.append(ouch42.canceled(self._clock.nanos(), event.clOrdId, event.expiredQty, reason))

    def onReplaced(self, event):
        order = event.order
        orderId = order.orderId
        if orderId in self._partialCancels:
            self._partialCancels.discard(orderId)
            self.stream.append(
                ouch42.canceled(
                    self._clock.nanos(), event.clOrdId, event.oldLeavesQty - event.leavesQty,
                    ouch42.CANCEL_USER,
                )
            )
            return
        extra = self._extra(order)
        change = self._replaceExtras.pop(orderId, None)
        if change is not None and extra is order.userData:
            extra.timeInForce, extra.display, extra.iso, extra.minimumQuantity = change
        price = event.price
        if price is None or order.terms[T_EXTRA] is not None:
            price = self._price(order, price)
        stock = self._stocks.get(order.symbol)
        if stock is None:
            stock = self.factory.stockOf(order.symbol)
        self.stream.append(
            ouch42.REPLACED.pack(
                b"U", self._clock.nanos(), ouch42.alpha(event.clOrdId, 14), extra.side,
                event.leavesQty, stock, price, extra.timeInForce,
                extra.firm, extra.display, orderId, extra.capacity, extra.iso,
                extra.minimumQuantity, extra.crossType,
                ouch42.ORDER_LIVE if event.leavesQty else ouch42.ORDER_DEAD,
                ouch42.alpha(event.origClOrdId, 14), b" ",
            )
        )

    def onPending(self, event):
        if event.kind == "cancel" or event.order.orderId in self._partialCancels:
            self.stream.append(ouch42.cancelPending(self._clock.nanos(), event.clOrdId))

    def onCancelRejected(self, event):
        orderId = event.orderId
        partial = orderId in self._partialCancels
        self._partialCancels.discard(orderId)
        self._replaceExtras.pop(orderId, None)
        if event.order is None:
            # Unknown or finished order: OUCH ignores such requests.
            self.log.info(
                "ouch {owner}: {kind} of {token!r} refused: {text}",
                owner=self.owner, kind=event.responseTo, token=event.origClOrdId,
                text=event.text,
            )
            return
        if event.responseTo == "cancel" or partial:
            self.stream.append(ouch42.cancelReject(self._clock.nanos(), event.order.clOrdId))
        else:
            self._reject(event.clOrdId, REJECT_REASONS.get(event.reason, ouch42.REJECT_OTHER))
