# -*- test-case-name: tests.test_fix_orders -*-
"""
FIX order entry: NewOrderSingle (D), OrderCancelRequest (F),
OrderCancelReplaceRequest (G) and OrderStatusRequest (H) become engine
commands (request-for-quote messages go to L{exsim.fix.rfq}); engine events become ExecutionReports (8) and
OrderCancelRejects (9), with the fields each FIX version defines
(L{exsim.fix.versions}, L{exsim.fix.reports}, L{exsim.fix.replies}).
From FIX.4.3, OrderMassCancelRequest (q) is answered with an
OrderMassCancelReport (r) and an ExecutionReport per cancelled order, and
OrderMassStatusRequest (AF) with an ExecutionReport per live order.

The advanced order types: OrdType 3 (stop) and 4 (stop-limit) with StopPx
(99); MaxFloor (111) or DisplayQty (1138, FIX.5.0 on) for icebergs, 0 (or
DisplayMethod 1084 = 4, undisclosed) for hidden orders; ExecInst (18)
containing 6 (participate, don't initiate) for post-only; MinQty (110);
OrdType P with ExecInst M or PegPriceType (1094) 4 for midpoint pegs;
SelfMatchPreventionID (2362) for self-trade prevention.
"""

from decimal import Decimal, InvalidOperation

from twisted.logger import Logger
from zope.interface import implementer

from exsim import sessioncontrol
from exsim.engine.events import CancelRejected
from exsim.fix import refdata, status
from exsim.fix.convert import (
    ORD_TYPES,
    SIDES,
    TIME_IN_FORCES,
    fieldCode,
    internalPrice,
    parseQuantity,
)
from exsim.fix.done import DONE_MEMORY, DONE_STATUSES, DoneOrders
from exsim.fix.replies import (
    cancelReject,
    localReject,
    massCancelReport,
    massStatusNone,
    statusReport,
    unknownOrderStatus,
)
from exsim.fix.reports import ER_BUILDERS, OrderData, reportEncoderFor
from exsim.fix.rfq import FixRfq
from exsim.fix.utctime import parseDateEnd, parseUTCTimestamp
from exsim.fix.versions import profileFor
from exsim.instruments import findSecurity
from exsim.interfaces import IEngineListener, IFixApplication, IFixEncodedSession
from exsim.memo import remember
from exsim.model import (
    T_EXTRA,
    T_OWNER,
    T_SYMBOL,
    AdvancedTerms,
    CancelReason,
    Order,
    OrdType,
    RejectReason,
    TimeInForce,
)
from exsim.orderentry import OrderRouting
from exsim.owners import ownerOf

#: FIX.4.0 ExecIDs of reports the engine did not make start above this.
LOCAL_EXEC_ID_BASE = 9000000000

#: The fields of a NewOrderSingle read: ClOrdID, Symbol, Side, OrdType,
#: TimeInForce, OrderQty, Price, Account, ExpireTime, ExpireDate.
_NOS_TAGS = (11, 55, 54, 40, 59, 38, 44, 1, 126, 432)

# The code tables' lookups, bound once: CPython 3.11 compiles a method call
# on a name imported from another module as an attribute load (it takes it
# for a module), which makes a new bound method on every call.
_sideOf = SIDES.get
_builderOf = ER_BUILDERS.get
_ordTypeOf = ORD_TYPES.get
_timeInForceOf = TIME_IN_FORCES.get

#: The fields of the advanced order types: StopPx, MaxFloor, DisplayQty,
#: MinQty, ExecInst, PegPriceType, DisplayMethod, SelfMatchPreventionID.
_ADVANCED_TAGS = (99, 111, 1138, 110, 18, 1094, 1084, 2362)

_STOPS = (OrdType.STOP, OrdType.STOP_LIMIT)
_PEGGED = OrdType.PEGGED

#: Shapes remembered in L{_PLAIN_SHAPES} at most.
_SHAPES_LIMIT = 1000


#: {message shape: whether messages of that shape have none of
#: L{_ADVANCED_TAGS}} (a shape hashes by identity: cheaper than the tags).
_PLAIN_SHAPES = {}
_plainShape = _PLAIN_SHAPES.get


def _advancedTexts(message):
    """
    The values of L{_ADVANCED_TAGS} in C{message}, or None if it has none
    of them (told by the message's shape, for the plain orders of the hot
    path, without looking at its values: see L{_PLAIN_SHAPES}, which
    C{_newOrder} also reads inline).
    """
    shape = message.shape
    if shape is not None:
        plain = _plainShape(shape)
        if plain is None:
            found = shape.textPickers.get(_ADVANCED_TAGS)
            if found is None:
                found = shape.textPicker(_ADVANCED_TAGS)
            plain = found[0] is None
            remember(_PLAIN_SHAPES, shape, plain, _SHAPES_LIMIT)
        if plain:
            return None
    texts = message.pickText(_ADVANCED_TAGS)
    for text in texts:
        if text is not None:
            return texts
    return None


def _wholeQuantity(text):
    """
    A quantity field as an int when it is a whole number, else the text
    (for the engine to reject).
    """
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    if number.is_finite() and number == number.to_integral_value():
        return int(number)
    return text


class _Terms:
    """
    The advanced terms a NewOrderSingle or a replace asks for, read from
    their fields.

    @ivar problem: why they cannot be taken (text), or None.
    """

    def __init__(self, ordType, texts, instrument):
        stopPx, maxFloor, displayQty, minQty, execInst, pegType, displayMethod, stpId = texts
        self.problem = None
        self.stopPx = None
        if stopPx is not None:
            self.stopPx = internalPrice(instrument, stopPx) if instrument is not None else stopPx
        display = displayQty if displayQty is not None else maxFloor
        self.displayQty = None if display is None else _wholeQuantity(display)
        if displayMethod == "4":
            self.displayQty = 0
        self.minQty = None if minQty is None else _wholeQuantity(minQty)
        if self.minQty == 0:
            self.minQty = None
        instructions = execInst.split() if execInst else ()
        self.postOnly = "6" in instructions
        self.stpId = stpId
        self.midpoint = "M" in instructions or pegType == "4"
        if ordType is OrdType.PEGGED:
            if pegType is not None and pegType != "4":
                self.problem = "only midpoint pegs are supported (PegPriceType 4)"
            elif not self.midpoint:
                self.problem = "a pegged order must be a midpoint peg (ExecInst M or PegPriceType 4)"

    def extra(self):
        return AdvancedTerms(self.stopPx, self.displayQty, self.minQty, self.postOnly, self.stpId)

    def changes(self, order):
        """
        Whether these terms differ from those of C{order} in what a
        replace cannot change.
        """
        extra = order.terms[T_EXTRA]
        if extra is None:
            extra = AdvancedTerms()
        return (
            (self.displayQty is not None and self.displayQty != extra.displayQty)
            or (self.minQty is not None and self.minQty != extra.minQty)
            or (self.postOnly and not extra.postOnly)
            or (self.stpId is not None and self.stpId != extra.stpId)
        )



def _priceScale(engine, symbol):
    book = engine.books.get(symbol) if engine is not None else None
    return book.instrument.priceScale if book is not None else 10000


@implementer(IFixApplication, IEngineListener)
class OrderEntry(OrderRouting):
    """
    The order-entry application of a FIX endpoint: requests of its
    sessions go to the endpoint's engine, and the engine's events about
    their orders come back as ExecutionReports.

    @ivar sessions: {session key: L{exsim.interfaces.IFixSession}} of every
        session that has logged on; a session stays here after it logs
        out, so reports about its orders are stored for resend.
    @ivar marketData: an L{exsim.fix.marketdata.MarketData} answering
        MarketDataRequests, or None.
    """

    log = Logger()

    def __init__(self, endpoint, marketData=None):
        self.endpoint = endpoint
        self.reactor = endpoint.reactor
        self.marketData = marketData
        self.sessions = {}
        self._profiles = {}
        self._done = DoneOrders(DONE_MEMORY)
        self._localExecId = 0
        self._handlers = {
            "D": self._newOrder,
            "F": self._cancel,
            "G": self._replace,
            "H": self._status,
            "q": self._massCancel,
            "AF": self._massStatus,
        }
        # Request for quote (exsim/fix/rfq.py): its messages, and
        # NewOrderSingle of OrdType D.
        self.rfq = FixRfq(self)
        self._handlers.update(self.rfq.handlers)
        self._massReportId = 0
        # SecurityStatusRequest, TradingSessionStatusRequest.
        self.status = status.TradingStatus(endpoint, endpoint.engine)
        self.startRouting(
            "FIX order entry",
            {cls: self._report for cls in ER_BUILDERS},
            {CancelRejected: self._cancelRejected},
            prepareRoute=self._prepare,
        )

    def shutdown(self):
        """
        Stop listening to the engine (the endpoint is closing).
        """
        self.leaveEngine()
        self.rfq.shutdown()
        self.status.shutdown()
        if self.marketData is not None:
            self.marketData.shutdown()

    # -- IFixApplication ---------------------------------------------------

    def sessionLoggedOn(self, session):
        self.sessions[session.key] = session
        profile = self._profiles[session.key] = profileFor(
            session.beginString, session.applVerId
        )
        encoded = IFixEncodedSession(session, None)
        if encoded is None:
            route = (session, profile, None, {})
        else:
            # The encoders by event class (what ReportEncoder.encode
            # looks up), for the hot path.
            route = (session, profile, encoded.sendEncoded, reportEncoderFor(profile).encoders)
        self.attach(ownerOf(session.key), route)
        sessioncontrol.applyStpGroup(self.endpoint, session.key)
        if self.marketData is not None:
            self.marketData.sessionLoggedOn(session)

    def sessionLoggedOut(self, session):
        if self.marketData is not None:
            self.marketData.sessionLoggedOut(session)
        self.status.sessionLoggedOut(session)
        self.sessionEnded(session.key)

    def canForget(self, session):
        """
        Whether C{session}, logged out, may be forgotten: nothing would be
        sent to it any more (no live order, no request for quote open; a
        dealer's sessions are asked for quotes, so they never are).
        """
        if self.rfq.isDealer:
            return False
        hasLiveOrders = getattr(self.engine, "hasLiveOrders", None)
        if hasLiveOrders is None or hasLiveOrders(ownerOf(session.key)):
            return False
        return not self.rfq.hasOpenRequests(session.key)

    def sessionForgotten(self, session):
        """
        C{session} is forgotten (see L{canForget}): drop what is kept for
        it.
        """
        key = session.key
        if self.sessions.get(key) is session:
            del self.sessions[key]
            self._profiles.pop(key, None)
            self.detach(ownerOf(key))

    def fromApp(self, session, message):
        handler = self._handlers.get(message.msgType)
        if handler is None:
            if message.msgType == "V" and self.marketData is not None:
                return self.marketData.fromApp(session, message)
            if message.msgType in refdata.MESSAGE_TYPES:
                return refdata.answer(self.engine, session, message)
            if message.msgType in status.MESSAGE_TYPES:
                return self.status.answer(session, message)
            return False
        if session.key not in self.sessions:
            self.sessionLoggedOn(session)
        return handler(session, message) is not False

    def _nextLocalExecId(self, profile, prefix):
        """
        An ExecID for a report the engine did not make (a status answer, a
        reject of what the engine cannot represent): C{prefix} and a
        number, or in FIX.4.0 (where ExecID is an INT) a number far above
        the engine's.
        """
        self._localExecId += 1
        if profile.rank == 40:
            return str(LOCAL_EXEC_ID_BASE + self._localExecId)
        return "%s%d" % (prefix, self._localExecId)

    def _profile(self, session):
        profile = self._profiles.get(session.key)
        if profile is None:
            profile = self._profiles[session.key] = profileFor(
                session.beginString, session.applVerId
            )
        return profile

    def _missing(self, session, message, tag):
        session.sendSessionReject(
            message.seqNum, 1, "Required tag missing", refTagId=tag, refMsgType=message.msgType
        )

    # -- requests ----------------------------------------------------------

    def _newOrder(self, session, message):
        (
            clOrdId, symbol, sideCode, ordTypeCode, tifCode, qtyText, priceText, account,
            expireText, expireDate,
        ) = message.pickText(_NOS_TAGS)
        if not clOrdId:
            return self._missing(session, message, 11)
        if not symbol or symbol == "[N/A]":
            symbol = self._securitySymbol(session, message, clOrdId, symbol, sideCode, qtyText)
            if symbol is None:
                return
        if sideCode is None:
            return self._missing(session, message, 54)
        side = _sideOf(sideCode)
        engine = self.engine
        if ordTypeCode is None:
            ordTypeCode = "2"
        elif ordTypeCode == "D":
            # Previously quoted: a trade on an RFQ quote.
            return self.rfq.acceptOrder(session, message, symbol)
        ordType = _ordTypeOf(ordTypeCode, ordTypeCode)
        if tifCode is None:
            tifCode = "0"
        tif = _timeInForceOf(tifCode, tifCode)
        try:
            # (parseQuantity, inline for a whole number.)
            quantity = int(qtyText)
        except (TypeError, ValueError):
            quantity = parseQuantity(qtyText)
        price = None
        if ordType is not OrdType.MARKET:
            book = engine.books.get(symbol)
            if priceText is not None and book is not None:
                price = internalPrice(book.instrument, priceText)
        data = None
        expireTime = None
        if expireText is not None:
            expireTime = parseUTCTimestamp(expireText)
        elif expireDate is not None:
            expireTime = parseDateEnd(expireDate)
        if account is not None or expireText is not None or expireDate is not None:
            data = OrderData(account, expireText, expireDate)
        if side is None:
            self._localReject(
                session, message, clOrdId, symbol, sideCode, quantity,
                "unsupported side %s" % (sideCode,),
            )
            return
        extra = None
        # (_advancedTexts, inline for a known plain shape.)
        advanced = None if _plainShape(message.shape) else _advancedTexts(message)
        if advanced is not None or ordType is _PEGGED or ordType in _STOPS:
            book = engine.books.get(symbol)
            terms = _Terms(
                ordType, advanced or (None,) * len(_ADVANCED_TAGS),
                book.instrument if book is not None else None,
            )
            if terms.problem is not None:
                self._localReject(session, message, clOrdId, symbol, sideCode, quantity, terms.problem)
                return
            extra = terms.extra()
        order = Order(
            session.key,
            clOrdId,
            symbol,
            side,
            quantity,
            price,
            ordType,
            tif,
            expireTime if tif is TimeInForce.GTD else None,
            data,
            extra,
        )
        engine.submitNew(order)

    def _securitySymbol(self, session, message, clOrdId, symbol, sideCode, qtyText):
        """
        The symbol of the instrument a NewOrderSingle with no Symbol (or
        55=[N/A]) names by SecurityID (48) and SecurityIDSource (22); None
        once the order is answered (a missing field, an unknown id).
        """
        securityId = message.get(48)
        if not securityId:
            if not symbol:
                self._missing(session, message, 55)
                return None
            return symbol
        if sideCode is None:
            self._missing(session, message, 54)
            return None
        found = findSecurity(self.engine, securityId, message.get(22) or None)
        if found is None:
            self._localReject(
                session, message, clOrdId, symbol or "[N/A]", sideCode, parseQuantity(qtyText),
                "unknown SecurityID %s" % (securityId,),
            )
        return found

    def _localReject(self, session, message, clOrdId, symbol, sideCode, quantity, text):
        """
        Reject a new order the engine cannot represent (an unsupported
        side): an ExecutionReport with a local ExecID.
        """
        profile = self._profile(session)
        execId = self._nextLocalExecId(profile, "L")
        stamp = profile.stamp(self.reactor.seconds())
        session.sendApp(
            "8", localReject(profile, clOrdId, symbol, sideCode, quantity, execId, stamp, text)
        )

    def refuse(self, session, message, text):
        """
        Answer a request the venue will not act on (over the session's
        throttle): a NewOrderSingle with an ExecutionReport Rejected, a
        cancel or replace with an OrderCancelReject, each with C{text}.

        @return: True if answered; False for any other message (the
            session layer sends a BusinessMessageReject).
        """
        msgType = message.msgType
        clOrdId = message.get(11)
        if not clOrdId or msgType not in ("D", "F", "G"):
            return False
        if msgType == "D":
            symbol, sideCode, qtyText = message.get(55), message.get(54), message.get(38)
            if not symbol or not sideCode:
                return False
            self._localReject(session, message, clOrdId, symbol, sideCode, parseQuantity(qtyText), text)
            return True
        order, origClOrdId, orderId = self._target(session, message)
        event = CancelRejected(
            session.key, clOrdId, origClOrdId, orderId, order, RejectReason.OTHER, text,
            "cancel" if msgType == "F" else "replace",
        )
        profile = self._profile(session)
        session.sendApp("9", cancelReject(profile, event, profile.stamp(self.reactor.seconds())))
        return True

    def _target(self, session, message):
        """
        The live order a cancel, replace or status request names (by
        OrigClOrdID, else OrderID), and the engine arguments naming it.
        """
        origClOrdId = message.get(41)
        orderIdText = message.get(37)
        orderId = None
        if origClOrdId is None and orderIdText is not None:
            try:
                orderId = int(orderIdText)
            except ValueError:
                orderId = orderIdText
        engine = self.engine
        if orderId is not None:
            order = engine.getOrder(orderId) if type(orderId) is int else None
            if order is not None and order.owner != session.key:
                order = None
        else:
            order = engine.findOrder(session.key, origClOrdId)
        return order, origClOrdId, orderId

    def _mismatch(self, order, message):
        symbol = message.get(55)
        if symbol is not None and symbol != order.symbol:
            return "symbol %s does not match the order's %s" % (symbol, order.symbol)
        side = message.get(54)
        if side is not None and side != order.side.value:
            return "side %s does not match the order's %s" % (side, order.side.value)
        return None

    def _cancel(self, session, message):
        clOrdId = message.get(11)
        if not clOrdId:
            return self._missing(session, message, 11)
        order, origClOrdId, orderId = self._target(session, message)
        if order is not None:
            problem = self._mismatch(order, message)
            if problem is not None:
                self._localCancelReject(session, clOrdId, order, "cancel", problem)
                return
        self.engine.submitCancel(session.key, clOrdId, origClOrdId=origClOrdId, orderId=orderId)

    def _replace(self, session, message):
        get = message.get
        clOrdId = get(11)
        if not clOrdId:
            return self._missing(session, message, 11)
        order, origClOrdId, orderId = self._target(session, message)
        price = None
        quantity = None
        stopPx = None
        qtyText = get(38)
        if qtyText is not None:
            quantity = parseQuantity(qtyText)
        if order is not None:
            problem = self._mismatch(order, message)
            ordTypeCode = get(40)
            if problem is None and ordTypeCode is not None and ordTypeCode != fieldCode(order.ordType):
                problem = "the order type cannot be changed"
            tifCode = get(59)
            if problem is None and tifCode is not None and tifCode != fieldCode(order.timeInForce):
                problem = "the time in force cannot be changed"
            book = self.engine.books.get(order.symbol)
            advanced = _advancedTexts(message)
            extra = order.terms[T_EXTRA]
            if problem is None and advanced is not None:
                terms = _Terms(order.ordType, advanced, book.instrument)
                if terms.changes(order):
                    problem = (
                        "the display quantity, minimum quantity, post-only and self-trade "
                        "prevention id cannot be changed"
                    )
                elif terms.stopPx is not None and extra is not None and terms.stopPx != extra.stopPx:
                    stopPx = terms.stopPx
            if problem is not None:
                self._localCancelReject(session, clOrdId, order, "replace", problem)
                return
            priceText = get(44)
            if priceText is not None and order.ordType not in (OrdType.MARKET, OrdType.STOP):
                price = internalPrice(book.instrument, priceText)
                current = extra.cap if order.ordType is OrdType.PEGGED else order.price
                if price == current:
                    price = None
            if quantity == order.quantity:
                quantity = None
        if stopPx is None:
            self.engine.submitReplace(
                session.key, clOrdId, origClOrdId=origClOrdId, orderId=orderId,
                price=price, quantity=quantity,
            )
        else:
            self.engine.submitReplace(
                session.key, clOrdId, origClOrdId=origClOrdId, orderId=orderId,
                price=price, quantity=quantity, stopPx=stopPx,
            )

    def _localCancelReject(self, session, clOrdId, order, responseTo, text):
        event = CancelRejected(
            session.key, clOrdId, order.clOrdId, order.orderId, order,
            RejectReason.OTHER, text, responseTo,
        )
        profile = self._profile(session)
        stamp = profile.stamp(self.reactor.seconds())
        session.sendApp("9", cancelReject(profile, event, stamp))

    def _status(self, session, message):
        get = message.get
        clOrdId = get(11)
        orderIdText = get(37)
        order = None
        engine = self.engine
        if orderIdText is not None:
            try:
                order = engine.getOrder(int(orderIdText))
            except ValueError:
                order = None
            if order is not None and order.owner != session.key:
                order = None
        if order is None and clOrdId is not None:
            order = engine.findOrder(session.key, clOrdId)
            if order is None:
                order = self._done.get(session.key, clOrdId)
        profile = self._profile(session)
        stamp = profile.stamp(self.reactor.seconds())
        execId = self._nextLocalExecId(profile, "S")
        if order is not None:
            scale = _priceScale(engine, order.symbol)
            session.sendApp("8", statusReport(profile, order, execId, stamp, scale))
            return
        session.sendApp(
            "8", unknownOrderStatus(profile, orderIdText, clOrdId, get(55), get(54, "1"), execId, stamp)
        )

    def _massCancel(self, session, message):
        """
        OrderMassCancelRequest (q): cancel the session's orders, all
        (MassCancelRequestType 7) or of one symbol (1), of one side if
        Side is given; an OrderMassCancelReport (r) first, then an
        ExecutionReport per cancelled order.
        """
        profile = self._profile(session)
        if profile.rank < 43:
            return False
        get = message.get
        clOrdId = get(11)
        if not clOrdId:
            return self._missing(session, message, 11)
        requestType = get(530)
        if requestType is None:
            return self._missing(session, message, 530)
        symbol = get(55)
        sideCode = get(54)
        side = _sideOf(sideCode) if sideCode is not None else None
        self._massReportId += 1
        reportId = "MC%d" % (self._massReportId,)
        engine = self.engine
        rejection = None
        if requestType not in ("1", "7"):
            rejection = ("0", "MassCancelRequestType %s is not supported (1 or 7)" % (requestType,))
        elif requestType == "1" and (symbol is None or symbol not in engine.books):
            rejection = ("1", "unknown symbol %s" % (symbol,))
        elif sideCode is not None and side is None:
            rejection = ("99" if profile.rank >= 44 else "0", "unsupported side %s" % (sideCode,))
        if requestType == "7":
            symbol = None
        live = getattr(engine, "liveOrders", None)
        if rejection is None and live is None:
            rejection = ("0", "this engine does not take mass cancels")
        if rejection is not None:
            session.sendApp(
                "r", massCancelReport(profile, clOrdId, reportId, requestType, "0", 0, get(55), sideCode, rejection)
            )
            return True
        owner = session.key
        affected = [
            o for o in live()
            if o.owner == owner and (symbol is None or o.symbol == symbol)
            and (side is None or o.side is side)
        ]
        session.sendApp(
            "r",
            massCancelReport(
                profile, clOrdId, reportId, requestType, requestType, len(affected), get(55),
                sideCode,
            ),
        )
        if affected:
            if side is None:
                engine.cancelAll(owner, symbol, CancelReason.MASS_CANCEL)
            else:
                engine.cancelAll(owner, symbol, CancelReason.MASS_CANCEL, side=side)
        return True

    def _massStatus(self, session, message):
        """
        OrderMassStatusRequest (AF): an ExecutionReport (ExecType I) per
        live order of the session, all (MassStatusReqType 7) or of one
        symbol (1); the last one has LastRptRequested Y.  With none, one
        report says so.
        """
        profile = self._profile(session)
        if profile.rank < 43:
            return False
        get = message.get
        requestId = get(584)
        if not requestId:
            return self._missing(session, message, 584)
        requestType = get(585)
        if requestType is None:
            return self._missing(session, message, 585)
        symbol = get(55)
        stamp = profile.stamp(self.reactor.seconds())
        live = getattr(self.engine, "liveOrders", None)
        text = None
        orders = []
        if requestType not in ("1", "7"):
            text = "MassStatusReqType %s is not supported (1 or 7)" % (requestType,)
        elif requestType == "1" and not symbol:
            text = "MassStatusReqType 1 needs a Symbol"
        elif live is None:
            text = "this engine does not answer mass status requests"
        else:
            owner = session.key
            orders = [
                o for o in live()
                if o.owner == owner and (requestType == "7" or o.symbol == symbol)
            ]
            if not orders:
                text = "no live orders"
        tags = profile.reportTags
        if text is not None:
            execId = self._nextLocalExecId(profile, "S")
            session.sendApp("8", massStatusNone(profile, requestId, symbol, execId, stamp, text))
            return True
        engine = self.engine
        for i, order in enumerate(orders):
            execId = self._nextLocalExecId(profile, "S")
            fields = statusReport(profile, order, execId, stamp, _priceScale(engine, order.symbol))
            fields.append((584, requestId))
            if 911 in tags:
                fields.append((911, str(len(orders))))
            if i == len(orders) - 1 and 912 in tags:
                fields.append((912, "Y"))
            session.sendApp("8", fields)
        return True

    # -- engine events (routed by OrderRouting) ---------------------------

    def _prepare(self, route, terms):
        """
        What the reports of an order with C{terms} share: the session's
        route, the price scale of the order's book and the report time.
        """
        session, profile, sendEncoded, encoders = route
        book = self.engine.books.get(terms[T_SYMBOL])
        # (self.deliveryTime() and profile.stamp(seconds), their common
        # case inline: this runs for every order.)
        seconds = self._deliveryTime
        if seconds is None:
            seconds = self.deliveryTime()
        stamps = profile.stamps
        if stamps.low <= seconds < stamps.high:
            stamp = stamps.text
        else:
            stamp = stamps.format(seconds)
        return (
            session, profile, sendEncoded, encoders,
            book.instrument.priceScale if book is not None else 10000,
            stamp,
        )

    def _report(self, target, event):
        """
        Send the ExecutionReport for an engine event about an order: the
        fast encoder's body, else the reference builder's fields.
        """
        session, profile, sendEncoded, encoders, scale, stamp = target
        encoder = encoders.get(event.__class__)
        text = None if encoder is None else encoder(event, scale, stamp)
        if text is None:
            fields = ER_BUILDERS[event.__class__](profile, event, scale, stamp)
            if fields is not None:
                session.sendApp("8", fields)
        else:
            sendEncoded(b"8", text.encode("utf-8"))
        if event.status in DONE_STATUSES:
            self._done.add(event.order)

    def engineEvents(self, events):
        """
        L{OrderRouting.engineEvents} with this endpoint's handlers of an
        order's events (L{_prepare}, L{_report}) written out in its loop:
        a hot-path copy (two calls an event and a tuple an order fewer:
        callgrind, benchmarks/instructions.py --flow fix --simulator, see
        docs/performance.rst), held to the same output as the shared loop
        calling the handlers by tests.test_fix_orders.InlineRoutingTests.
        """
        routes = self._routes
        if not routes:
            return
        self._deliveryTime = None
        otherHandlers = self._otherHandlers
        books = self.engine.books
        done = self._done
        lastTerms = route = seconds = None
        while events:
            event = None
            try:
                for event in events:
                    cls = event.__class__
                    builder = _builderOf(cls)
                    if builder is None:
                        handler = otherHandlers.get(cls)
                        if handler is not None:
                            handler(event)
                        continue
                    terms = event.order.terms
                    if terms is not lastTerms:
                        lastTerms = terms
                        route = routes.get(terms[T_OWNER])
                        if route is None:
                            continue
                        # (_prepare.)
                        session, profile, sendEncoded, encoders = route
                        book = books.get(terms[T_SYMBOL])
                        scale = book.instrument.priceScale if book is not None else 10000
                        if seconds is None:
                            # (self.deliveryTime().)
                            seconds = self._deliveryTime
                            if seconds is None:
                                seconds = self._deliveryTime = self.reactor.seconds()
                        stamps = profile.stamps
                        if stamps.low <= seconds < stamps.high:
                            stamp = stamps.text
                        else:
                            stamp = stamps.format(seconds)
                    elif route is None:
                        continue
                    # (_report.)
                    encoder = encoders.get(cls)
                    text = None if encoder is None else encoder(event, scale, stamp)
                    if text is None:
                        fields = builder(profile, event, scale, stamp)
                        if fields is not None:
                            session.sendApp("8", fields)
                    else:
                        sendEncoded(b"8", text.encode("utf-8"))
                    if event.status in DONE_STATUSES:
                        done.add(event.order)
            except Exception:
                events = self.failures.failed(events, event)
                lastTerms = None
            else:
                return

    def _cancelRejected(self, route, event):
        """
        Send the OrderCancelReject for a refused cancel or replace.
        """
        session, profile = route[:2]
        doneStatus = doneOrderId = None
        if event.order is None and event.origClOrdId is not None:
            done = self._done.get(event.owner, event.origClOrdId)
            if done is not None:
                doneStatus = done.status
                doneOrderId = done.orderId
        stamp = profile.stamp(self.reactor.seconds())
        session.sendApp("9", cancelReject(profile, event, stamp, doneStatus, doneOrderId))
