# -*- test-case-name: tests.test_fix_orders -*-
"""
FIX order entry: NewOrderSingle (D), OrderCancelRequest (F),
OrderCancelReplaceRequest (G) and OrderStatusRequest (H) become engine
commands (request-for-quote messages go to L{exsim.fix.rfq}); engine events become ExecutionReports (8) and
OrderCancelRejects (9), with the fields each FIX version defines
(L{exsim.fix.versions}, L{exsim.fix.reports}, L{exsim.fix.replies}).
"""

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine.events import CancelRejected
from exsim.fix import refdata
from exsim.fix.convert import (
    ORD_TYPES,
    SIDES,
    TIME_IN_FORCES,
    fieldCode,
    internalPrice,
    parseQuantity,
)
from exsim.fix.done import DONE_MEMORY, DONE_STATUSES, DoneOrders
from exsim.fix.replies import cancelReject, localReject, statusReport, unknownOrderStatus
from exsim.fix.reports import ER_BUILDERS, OrderData, reportEncoderFor
from exsim.fix.rfq import FixRfq
from exsim.fix.utctime import parseDateEnd, parseUTCTimestamp
from exsim.fix.versions import profileFor
from exsim.instruments import findSecurity
from exsim.interfaces import IEngineListener, IFixApplication, IFixEncodedSession
from exsim.model import T_SYMBOL, Order, OrdType, RejectReason, TimeInForce
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
_ordTypeOf = ORD_TYPES.get
_timeInForceOf = TIME_IN_FORCES.get


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
        }
        # Request for quote (exsim/fix/rfq.py): its messages, and
        # NewOrderSingle of OrdType D.
        self.rfq = FixRfq(self)
        self._handlers.update(self.rfq.handlers)
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
        if self.marketData is not None:
            self.marketData.sessionLoggedOn(session)

    def sessionLoggedOut(self, session):
        if self.marketData is not None:
            self.marketData.sessionLoggedOut(session)
        self.sessionEnded(session.key)

    def fromApp(self, session, message):
        handler = self._handlers.get(message.msgType)
        if handler is None:
            if message.msgType == "V" and self.marketData is not None:
                return self.marketData.fromApp(session, message)
            if message.msgType in refdata.MESSAGE_TYPES:
                return refdata.answer(self.engine, session, message)
            return False
        if session.key not in self.sessions:
            self.sessionLoggedOn(session)
        handler(session, message)
        return True

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
            if problem is not None:
                self._localCancelReject(session, clOrdId, order, "replace", problem)
                return
            priceText = get(44)
            if priceText is not None and order.ordType is not OrdType.MARKET:
                book = self.engine.books.get(order.symbol)
                price = internalPrice(book.instrument, priceText)
                if price == order.price:
                    price = None
            if quantity == order.quantity:
                quantity = None
        self.engine.submitReplace(
            session.key, clOrdId, origClOrdId=origClOrdId, orderId=orderId,
            price=price, quantity=quantity,
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
            session.sendApp("8", ER_BUILDERS[event.__class__](profile, event, scale, stamp))
        else:
            sendEncoded(b"8", text.encode("utf-8"))
        if event.status in DONE_STATUSES:
            self._done.add(event.order)

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
