# -*- test-case-name: tests.test_fix_orders -*-
"""
ExecutionReports (8) for engine events, in two implementations side by
side:

 - the reference builders (L{ER_BUILDERS}, L{executionReport}): readable,
   a list of (tag, value) pairs per report;
 - L{ReportEncoder}: the same body written as one text per report, with
   what does not change between reports cached; it gives up (returns
   None) on anything unusual and the caller encodes the reference
   builder's pairs instead.  Tests hold it to the reference byte for byte.

L{reportHead}, L{orderFields} and L{reportTail} are the reference's
pieces, also used for the replies that are not engine events
(L{exsim.fix.replies}).
"""

from exsim.engine.events import (
    Accepted,
    Cancelled,
    Expired,
    Filled,
    PendingChange,
    Rejected,
    Replaced,
    Restated,
    Triggered,
)
from exsim.engine.ordertypes import POST_ONLY_TEXT
from exsim.fix import codec
from exsim.fix.convert import fieldCode, formatAvgPx, formatPrice
from exsim.journal import registerUserData
from exsim.memo import remember
from exsim.model import T_EXTRA, CancelReason, OrdStatus, OrdType, RejectReason


@registerUserData
class OrderData:
    """
    What a FIX order keeps beside the engine's model, in C{Order.userData}:
    fields echoed on every ExecutionReport.
    """

    __slots__ = ("account", "expireTime", "expireDate")

    def __init__(self, account=None, expireTime=None, expireDate=None):
        self.account = account
        self.expireTime = expireTime
        self.expireDate = expireDate


#: The bound of each memo here.
MEMO = 10000

#: (symbol, side, OrdType, TimeInForce) -> the fields they give, shared.
_STATIC = {}


def orderFields(profile, fields, order, quantity, price, scale):
    """
    Append an order's fields to C{fields}: Account (1), Symbol (55), Side
    (54), OrdType (40), TimeInForce (59), OrderQty (38), Price (44),
    ExpireTime (126) or ExpireDate (432).
    """
    data = order.userData
    ordType = order.ordType
    key = (order.symbol, order.side, ordType, order.timeInForce)
    static = _STATIC.get(key)
    if static is None:
        static = remember(_STATIC, key, (
            (55, order.symbol),
            (54, order.side.value),
            (40, fieldCode(ordType)),
            (59, fieldCode(order.timeInForce)),
        ), MEMO)
    if data is not None and type(data) is OrderData and data.account is not None:
        fields.append((1, data.account))
    fields.extend(static)
    fields.append((38, str(quantity) if type(quantity) is int else profile.qty(quantity)))
    extra = order.terms[T_EXTRA]
    if extra is not None and ordType is OrdType.PEGGED:
        # A peg's Price is its limit, not where it is pegged now.
        price = extra.cap
    if price is not None and ordType is not OrdType.MARKET and ordType is not OrdType.STOP:
        fields.append((44, formatPrice(price, scale)))
    if data is not None and type(data) is OrderData:
        if data.expireTime is not None:
            fields.append((126, data.expireTime))
        elif data.expireDate is not None and profile.expireDate:
            fields.append((432, data.expireDate))
    if extra is not None:
        advancedFields(profile, fields, order, extra, scale)


def advancedFields(profile, fields, order, extra, scale):
    """
    Append the fields of an order's advanced terms that the version's
    ExecutionReport has: StopPx (99), ExecInst (18: 6 post-only, M
    midpoint peg), MaxFloor (111) and DisplayQty (1138), MinQty (110),
    PegPriceType (1094, 4 midpoint), SelfMatchPreventionID (2362).
    """
    tags = profile.reportTags
    if extra.stopPx is not None and 99 in tags:
        fields.append((99, formatPrice(extra.stopPx, scale)))
    instructions = []
    if extra.postOnly:
        instructions.append("6")
    if order.ordType is OrdType.PEGGED:
        instructions.append("M")
    if instructions and 18 in tags:
        fields.append((18, " ".join(instructions)))
    if extra.displayQty is not None and order.ordType is not OrdType.PEGGED:
        if 111 in tags:
            fields.append((111, str(extra.displayQty)))
        if 1138 in tags:
            fields.append((1138, str(extra.displayQty)))
    if extra.minQty is not None and 110 in tags:
        fields.append((110, str(extra.minQty)))
    if order.ordType is OrdType.PEGGED and 1094 in tags:
        fields.append((1094, "4"))
    if extra.stpId is not None and 2362 in tags:
        fields.append((2362, extra.stpId))


def reportTail(profile, fields, leaves, cum, notional, scale, stamp, text=None, fill=False):
    """
    Append an ExecutionReport's closing fields to C{fields}: LastShares and
    LastPx where the version requires them (unless C{fill}), LeavesQty
    (151), CumQty (14), AvgPx (6), TransactTime (60) and Text (58).
    """
    if profile.lastRequired and not fill:
        fields.append((32, "0"))
        fields.append((31, "0"))
    if profile.leavesQty:
        fields.append((151, str(leaves) if type(leaves) is int else profile.qty(leaves)))
    fields.append((14, str(cum) if type(cum) is int else profile.qty(cum)))
    fields.append((6, formatAvgPx(notional, cum, scale)))
    fields.append((60, stamp))
    if text:
        fields.append((58, text))


def reportHead(profile, order, clOrdId, origClOrdId, execId, transType, execType, ordStatus):
    """
    An ExecutionReport's first fields, OrderID (37) to OrdStatus (39), as a
    new list.
    """
    fields = [(37, str(order.orderId))]
    if clOrdId is not None:
        fields.append((11, clOrdId))
    if origClOrdId is not None and profile.origClOrdId:
        fields.append((41, origClOrdId))
    fields.append((17, str(execId)))
    if profile.execTransType:
        fields.append((20, transType))
    if profile.execType:
        fields.append((150, execType))
    fields.append((39, ordStatus))
    return fields


def _erAccepted(profile, event, scale, stamp):
    order = event.order
    fields = reportHead(profile, order, event.clOrdId, None, event.execId, "0", "0", event.status.value)
    orderFields(profile, fields, order, event.quantity, event.price, scale)
    reportTail(profile, fields, event.leavesQty, event.cumQty, event.notional, scale, stamp)
    return fields


def _erRejected(profile, event, scale, stamp):
    order = event.order
    fields = reportHead(profile, order, event.clOrdId, None, event.execId, "0", "8", "8")
    fields.append((103, profile.ordRejReasons.get(event.reason, profile.ordRejReasons[RejectReason.OTHER])))
    orderFields(profile, fields, order, event.quantity, event.price, scale)
    reportTail(profile, fields, 0, event.cumQty, event.notional, scale, stamp, event.text)
    return fields


def _erFilled(profile, event, scale, stamp):
    order = event.order
    leaves = event.leavesQty
    if profile.tradeExecType:
        execType = "F"
    else:
        execType = "1" if leaves else "2"
    status = event.status.value
    fields = reportHead(profile, order, event.clOrdId, None, event.execId, "0", execType, status)
    orderFields(profile, fields, order, event.orderQuantity, event.orderPrice, scale)
    fields.append((32, profile.qty(event.quantity)))
    fields.append((31, formatPrice(event.price, scale)))
    reportTail(profile, fields, leaves, event.cumQty, event.notional, scale, stamp, fill=True)
    aggressor = event.aggressor
    if aggressor is None:
        # An auction's execution: neither side took liquidity.
        # LastLiquidityInd 4 (auction) from FIX.5.0SP1, none before;
        # no AggressorIndicator.
        if profile.auctionLiquidity:
            fields.append((851, "4"))
        if profile.trdMatchId:
            fields.append((880, str(event.tradeId)))
        return fields
    if profile.lastLiquidityInd:
        fields.append((851, "2" if aggressor else "1"))
    if profile.trdMatchId:
        fields.append((880, str(event.tradeId)))
        fields.append((1057, "Y" if aggressor else "N"))
    return fields


_CANCEL_TEXT = {
    CancelReason.SELF_TRADE: "cancelled by self-trade prevention",
    CancelReason.MIN_QUANTITY: "minimum quantity not available at once",
    CancelReason.POST_ONLY: POST_ONLY_TEXT,
    CancelReason.MASS_CANCEL: "cancelled by an order mass cancel request",
    CancelReason.IMMEDIATE_OR_CANCEL: "unfilled quantity of an immediate order cancelled",
    CancelReason.FILL_OR_KILL: "fill or kill order could not be filled",
    CancelReason.NO_LIQUIDITY: "no liquidity for the market order",
    CancelReason.UNSOLICITED: "cancelled by the exchange",
    CancelReason.DISCONNECT: "cancelled on disconnect",
    CancelReason.REPLACED_TO_ZERO: "cancelled by replace",
}


def _erCancelled(profile, event, scale, stamp):
    order = event.order
    if event.cancelClOrdId is not None:
        clOrdId, origClOrdId = event.cancelClOrdId, event.clOrdId
    else:
        clOrdId, origClOrdId = event.clOrdId, None
    fields = reportHead(profile, order, clOrdId, origClOrdId, event.execId, "0", "4", "4")
    if event.reason is CancelReason.SELF_TRADE and profile.stpReasons is not None:
        fields.append((378, profile.stpReasons[1 if event.resting else 0]))
    orderFields(profile, fields, order, event.quantity, event.price, scale)
    reportTail(
        profile, fields, 0, event.cumQty, event.notional, scale, stamp,
        _CANCEL_TEXT.get(event.reason),
    )
    return fields


def _erTriggered(profile, event, scale, stamp):
    """
    A stop order triggered: ExecType L (FIX.5.0 on) or D (FIX.4.2 to 4.4);
    None (no report) before FIX.4.2.
    """
    if profile.triggerExecType is None:
        return None
    order = event.order
    execType = profile.triggerExecType
    fields = reportHead(profile, order, event.clOrdId, None, event.execId, "0", execType, event.status.value)
    if profile.triggerReason is not None:
        fields.append((378, profile.triggerReason))
    orderFields(profile, fields, order, event.quantity, event.price, scale)
    reportTail(
        profile, fields, event.leavesQty, event.cumQty, event.notional, scale, stamp,
        "stop order triggered",
    )
    return fields


def _erRestated(profile, event, scale, stamp):
    """
    The venue reduced an order (self-trade prevention C{decrement}):
    ExecType D (Restated) with ExecRestatementReason 5 (partial decline of
    OrderQty) from FIX.4.2; before, a report of its state.
    """
    order = event.order
    status = event.status.value
    execType = "D" if profile.rank >= 42 else status
    fields = reportHead(profile, order, event.clOrdId, None, event.execId, "0", execType, status)
    if 378 in profile.reportTags:
        fields.append((378, "5"))
    orderFields(profile, fields, order, event.quantity, event.price, scale)
    reportTail(
        profile, fields, event.leavesQty, event.cumQty, event.notional, scale, stamp,
        "reduced by %d by self-trade prevention" % (event.reducedQty,),
    )
    return fields


def _erReplaced(profile, event, scale, stamp):
    order = event.order
    status = event.status
    if profile.replacedStatus and status is not OrdStatus.FILLED:
        code = "5"
    else:
        code = status.value
    fields = reportHead(profile, order, event.clOrdId, event.origClOrdId, event.execId, "0", "5", code)
    orderFields(profile, fields, order, event.quantity, event.price, scale)
    reportTail(profile, fields, event.leavesQty, event.cumQty, event.notional, scale, stamp)
    return fields


def _erExpired(profile, event, scale, stamp):
    order = event.order
    fields = reportHead(profile, order, event.clOrdId, None, event.execId, "0", "C", "C")
    orderFields(profile, fields, order, event.quantity, event.price, scale)
    reportTail(profile, fields, 0, event.cumQty, event.notional, scale, stamp)
    return fields


def _erPending(profile, event, scale, stamp):
    order = event.order
    kind = event.kind
    if kind == "new":
        fields = reportHead(profile, order, event.clOrdId, None, event.execId, "0", "A", "A")
        orderFields(profile, fields, order, event.quantity, event.price, scale)
        reportTail(profile, fields, event.leavesQty, event.cumQty, event.notional, scale, stamp)
        return fields
    code = "6" if kind == "cancel" else profile.pendingReplace
    fields = reportHead(
        profile, order, event.requestClOrdId, event.clOrdId, event.execId, "0", code, code
    )
    orderFields(profile, fields, order, event.quantity, event.price, scale)
    reportTail(profile, fields, event.leavesQty, event.cumQty, event.notional, scale, stamp)
    return fields


#: Engine event class -> function(profile, event, price scale, stamp)
#: returning the ExecutionReport body.
ER_BUILDERS = {
    Accepted: _erAccepted,
    Rejected: _erRejected,
    Filled: _erFilled,
    Cancelled: _erCancelled,
    Replaced: _erReplaced,
    Expired: _erExpired,
    PendingChange: _erPending,
    Triggered: _erTriggered,
    Restated: _erRestated,
}


def executionReport(profile, event, scale, stamp):
    """
    The ExecutionReport body for an engine event, or None if the event
    has none.
    """
    builder = ER_BUILDERS.get(event.__class__)
    if builder is None:
        return None
    return builder(profile, event, scale, stamp)


# -- ExecutionReport encoding straight to bytes ------------------------------
#
# The builders above are the reference: readable, (tag, value) pairs.  The
# encoders below write the same body as one text per report, with what
# does not change between reports (the ExecTransType/ExecType/OrdStatus
# run, the symbol/side/type/time-in-force run) cached.  They give up
# (return None) on anything unusual, a value that is not text where text
# is expected, and the caller encodes the reference builder's pairs
# instead; tests hold them to the reference byte for byte.

#: (symbol, side, OrdType, TimeInForce) -> their fields as text, shared.
_STATIC_TEXT = {}


def _staticText(order):
    """
    Symbol (55), Side (54), OrdType (40) and TimeInForce (59) of C{order}
    as text, or None if the symbol is not text.
    """
    key = (order.symbol, order.side, order.ordType, order.timeInForce)
    text = _STATIC_TEXT.get(key)
    if text is None:
        if type(order.symbol) is not str:
            return None
        text = remember(_STATIC_TEXT, key, "55=%s\x0154=%s\x0140=%s\x0159=%s\x01" % (
            order.symbol,
            order.side.value,
            fieldCode(order.ordType),
            fieldCode(order.timeInForce),
        ), MEMO)
    return text


class ReportEncoder:
    """
    ExecutionReport bodies of one L{Profile} as bytes, equal to
    C{codec.encodeFields(executionReport(...))}.

    L{encode} returns None for a report it does not handle; the caller
    falls back to the (tag, value) builders.
    """

    def __init__(self, profile):
        self.profile = profile
        self._states = {}
        self._orderTexts = {}
        profile = self.profile
        #: The fields after the order's for an order with integer
        #: quantities and no text: % (LeavesQty, CumQty, AvgPx, time).
        tail = "32=0\x0131=0\x01" if profile.lastRequired else ""
        fillTail = ""
        if profile.leavesQty:
            tail += "151=%d\x01"
            fillTail += "151=%d\x01"
        else:
            tail += "%.0s"
            fillTail += "%.0s"
        tail += "14=%d\x016=%s\x0160=%s\x01"
        fillTail += "14=%d\x016=%s\x0160=%s\x01"
        # Passive, aggressor, then an auction's execution (neither:
        # LastLiquidityInd 4 from FIX.5.0SP1, no AggressorIndicator).
        auction = "851=4\x01" if profile.auctionLiquidity else ""
        if profile.trdMatchId:
            fillEnd = (
                "851=1\x01880=%s\x011057=N\x01", "851=2\x01880=%s\x011057=Y\x01",
                auction + "880=%s\x01",
            )
        elif profile.lastLiquidityInd:
            fillEnd = ("851=1\x01%.0s", "851=2\x01%.0s", auction + "%.0s")
        else:
            fillEnd = ("%.0s", "%.0s", "%.0s")
        #: The common reports as one format each: % (OrderID, ClOrdID,
        #: ExecID, state and order fields, [LastQty, LastPx,] LeavesQty,
        #: CumQty, AvgPx, TransactTime[, TrdMatchID]).
        self._acceptedFormat = "37=%s\x0111=%s\x0117=%s\x01%s" + tail
        self._filledFormats = tuple(
            "37=%s\x0111=%s\x0117=%s\x01%s32=%d\x0131=%s\x01" + fillTail + end for end in fillEnd
        )
        #: (state..., order fields...) -> their text, for those reports.
        self._middles = {}
        self._zeroLast = "32=0\x0131=0\x01" if profile.lastRequired else ""
        #: {engine event class: a function (event, price scale, stamp)
        #: returning the report's body as text, or None}
        self.encoders = self._encoders = {
            Accepted: self._accepted,
            Rejected: self._rejected,
            Filled: self._filled,
            Cancelled: self._cancelled,
            Replaced: self._replaced,
            Expired: self._expired,
            PendingChange: self._pending,
        }

    def encode(self, event, scale, stamp):
        """
        The body (bytes) of the ExecutionReport for C{event}, or None.
        """
        encoder = self._encoders.get(event.__class__)
        if encoder is None:
            return None
        text = encoder(event, scale, stamp)
        if text is None:
            return None
        return text.encode("utf-8")

    def _state(self, transType, execType, status):
        """
        ExecTransType (20), ExecType (150) and OrdStatus (39) as the
        profile writes them.
        """
        key = (transType, execType, status)
        text = self._states.get(key)
        if text is None:
            profile = self.profile
            text = ""
            if profile.execTransType:
                text += "20=%s\x01" % (transType,)
            if profile.execType:
                text += "150=%s\x01" % (execType,)
            text += "39=%s\x01" % (status,)
            self._states[key] = text
        return text

    def _head(self, order, clOrdId, origClOrdId, execId, state):
        """
        OrderID to OrdStatus, or None if a client id is not text.
        """
        if clOrdId is None:
            text = "37=%s\x01" % (order.orderId,)
        elif type(clOrdId) is str:
            text = "37=%s\x0111=%s\x01" % (order.orderId, clOrdId)
        else:
            return None
        if origClOrdId is not None and self.profile.origClOrdId:
            if type(origClOrdId) is not str:
                return None
            text += "41=%s\x01" % (origClOrdId,)
        return text + "17=%s\x01" % (execId,) + state

    def _order(self, order, quantity, price, scale):
        """
        The order's fields (see L{orderFields}), or None.  Those of an
        order without L{OrderData} and with an integer quantity and price
        are remembered.
        """
        if (
            order.userData is None
            and type(quantity) is int
            and (type(price) is int or price is None)
        ):
            key = (order.terms, quantity, price, scale)
            text = self._orderTexts.get(key)
            if text is None:
                text = remember(
                    self._orderTexts, key, self._orderText(order, quantity, price, scale), MEMO
                )
            return text
        return self._orderText(order, quantity, price, scale)

    def _orderText(self, order, quantity, price, scale):
        if order.terms[T_EXTRA] is not None:
            # Advanced terms: the reference builder writes them.
            return None
        static = _staticText(order)
        if static is None:
            return None
        data = order.userData
        if data is not None and type(data) is OrderData:
            account = data.account
            if account is not None:
                if type(account) is not str:
                    return None
                static = "1=%s\x01" % (account,) + static
        else:
            data = None
        text = static + "38=%s\x01" % (
            str(quantity) if type(quantity) is int else self.profile.qty(quantity),
        )
        if price is not None and order.ordType is not OrdType.MARKET:
            text += "44=%s\x01" % (formatPrice(price, scale),)
        if data is not None:
            if data.expireTime is not None:
                if type(data.expireTime) is not str:
                    return None
                text += "126=%s\x01" % (data.expireTime,)
            elif data.expireDate is not None and self.profile.expireDate:
                if type(data.expireDate) is not str:
                    return None
                text += "432=%s\x01" % (data.expireDate,)
        return text

    def _tail(self, leaves, cum, notional, scale, stamp, text=None, fill=False):
        """
        The closing fields (see L{reportTail}), or None.
        """
        profile = self.profile
        out = "" if fill else self._zeroLast
        if profile.leavesQty:
            out += "151=%s\x01" % (str(leaves) if type(leaves) is int else profile.qty(leaves),)
        out += "14=%s\x016=%s\x0160=%s\x01" % (
            str(cum) if type(cum) is int else profile.qty(cum),
            formatAvgPx(notional, cum, scale),
            stamp,
        )
        if text:
            if type(text) is not str:
                return None
            out += "58=%s\x01" % (text,)
        return out

    def _middle(self, key, state, order, quantity, price, scale):
        """
        Remember and return C{state} and the order's fields as one text
        (empty if the order's fields are not text).
        """
        text = self._orderText(order, quantity, price, scale)
        return remember(self._middles, key, "" if text is None else state + text, MEMO)

    def _join(self, *parts):
        if None in parts:
            return None
        return "".join(parts)

    def _accepted(self, event, scale, stamp):
        order = event.order
        clOrdId = event.clOrdId
        leaves = event.leavesQty
        cum = event.cumQty
        quantity = event.quantity
        price = event.price
        if (
            type(clOrdId) is str
            and type(leaves) is int
            and type(cum) is int
            and order.userData is None
            and type(quantity) is int
            and (type(price) is int or price is None)
        ):
            status = event.status
            key = (status, order.terms, quantity, price, scale)
            middle = self._middles.get(key)
            if middle is None:
                middle = self._middle(key, self._state("0", "0", status.value), order, quantity, price, scale)
            if middle:
                return self._acceptedFormat % (
                    order.orderId,
                    clOrdId,
                    event.execId,
                    middle,
                    leaves,
                    cum,
                    formatAvgPx(event.notional, cum, scale) if cum else "0",
                    stamp,
                )
        return self._join(
            self._head(
                order, event.clOrdId, None, event.execId,
                self._state("0", "0", event.status.value),
            ),
            self._order(order, event.quantity, event.price, scale),
            self._tail(event.leavesQty, event.cumQty, event.notional, scale, stamp),
        )

    def _rejected(self, event, scale, stamp):
        order = event.order
        reasons = self.profile.ordRejReasons
        head = self._head(order, event.clOrdId, None, event.execId, self._state("0", "8", "8"))
        return self._join(
            head,
            "103=%s\x01" % (reasons.get(event.reason, reasons[RejectReason.OTHER]),),
            self._order(order, event.quantity, event.price, scale),
            self._tail(0, event.cumQty, event.notional, scale, stamp, event.text),
        )

    def _filled(self, event, scale, stamp):
        order = event.order
        profile = self.profile
        leaves = event.leavesQty
        if profile.tradeExecType:
            execType = "F"
        else:
            execType = "1" if leaves else "2"
        clOrdId = event.clOrdId
        cum = event.cumQty
        quantity = event.quantity
        orderQuantity = event.orderQuantity
        orderPrice = event.orderPrice
        if (
            type(clOrdId) is str
            and type(leaves) is int
            and type(cum) is int
            and type(quantity) is int
            and type(event.price) is int
            and order.userData is None
            and type(orderQuantity) is int
            and (type(orderPrice) is int or orderPrice is None)
        ):
            status = event.status
            key = (
                execType, status, order.terms, orderQuantity, orderPrice, scale,
            )
            middle = self._middles.get(key)
            if middle is None:
                middle = self._middle(
                    key, self._state("0", execType, status.value), order, orderQuantity,
                    orderPrice, scale,
                )
            if middle:
                aggressor = event.aggressor
                return self._filledFormats[
                    2 if aggressor is None else (1 if aggressor else 0)
                ] % (
                    order.orderId,
                    clOrdId,
                    event.execId,
                    middle,
                    quantity,
                    formatPrice(event.price, scale),
                    leaves,
                    cum,
                    formatAvgPx(event.notional, cum, scale),
                    stamp,
                    event.tradeId,
                )
        text = self._join(
            self._head(
                order, event.clOrdId, None, event.execId,
                self._state("0", execType, event.status.value),
            ),
            self._order(order, event.orderQuantity, event.orderPrice, scale),
            "32=%s\x0131=%s\x01" % (profile.qty(event.quantity), formatPrice(event.price, scale)),
            self._tail(leaves, event.cumQty, event.notional, scale, stamp, fill=True),
        )
        if text is None:
            return None
        aggressor = event.aggressor
        if aggressor is None:
            if profile.auctionLiquidity:
                text += "851=4\x01"
            if profile.trdMatchId:
                text += "880=%s\x01" % (event.tradeId,)
            return text
        if profile.lastLiquidityInd:
            text += "851=2\x01" if aggressor else "851=1\x01"
        if profile.trdMatchId:
            text += "880=%s\x011057=%s\x01" % (event.tradeId, "Y" if aggressor else "N")
        return text

    def _cancelled(self, event, scale, stamp):
        if event.reason is CancelReason.SELF_TRADE:
            # (ExecRestatementReason: the reference builder writes it.)
            return None
        order = event.order
        if event.cancelClOrdId is not None:
            clOrdId, origClOrdId = event.cancelClOrdId, event.clOrdId
        else:
            clOrdId, origClOrdId = event.clOrdId, None
        return self._join(
            self._head(order, clOrdId, origClOrdId, event.execId, self._state("0", "4", "4")),
            self._order(order, event.quantity, event.price, scale),
            self._tail(
                0, event.cumQty, event.notional, scale, stamp, _CANCEL_TEXT.get(event.reason)
            ),
        )

    def _replaced(self, event, scale, stamp):
        order = event.order
        status = event.status
        if self.profile.replacedStatus and status is not OrdStatus.FILLED:
            code = "5"
        else:
            code = status.value
        return self._join(
            self._head(
                order, event.clOrdId, event.origClOrdId, event.execId,
                self._state("0", "5", code),
            ),
            self._order(order, event.quantity, event.price, scale),
            self._tail(event.leavesQty, event.cumQty, event.notional, scale, stamp),
        )

    def _expired(self, event, scale, stamp):
        order = event.order
        return self._join(
            self._head(order, event.clOrdId, None, event.execId, self._state("0", "C", "C")),
            self._order(order, event.quantity, event.price, scale),
            self._tail(0, event.cumQty, event.notional, scale, stamp),
        )

    def _pending(self, event, scale, stamp):
        order = event.order
        if event.kind == "new":
            return self._join(
                self._head(order, event.clOrdId, None, event.execId, self._state("0", "A", "A")),
                self._order(order, event.quantity, event.price, scale),
                self._tail(event.leavesQty, event.cumQty, event.notional, scale, stamp),
            )
        code = "6" if event.kind == "cancel" else self.profile.pendingReplace
        return self._join(
            self._head(
                order, event.requestClOrdId, event.clOrdId, event.execId,
                self._state("0", code, code),
            ),
            self._order(order, event.quantity, event.price, scale),
            self._tail(event.leavesQty, event.cumQty, event.notional, scale, stamp),
        )


_ENCODERS = {}


def reportEncoderFor(profile):
    """
    The (shared) L{ReportEncoder} of C{profile}.
    """
    encoder = _ENCODERS.get(profile)
    if encoder is None:
        encoder = _ENCODERS[profile] = ReportEncoder(profile)
    return encoder


def encodeExecutionReport(profile, event, scale, stamp):
    """
    The ExecutionReport body for an engine event as bytes (the fast
    encoder, else the encoded reference builder), or None if the event
    has none.
    """
    body = reportEncoderFor(profile).encode(event, scale, stamp)
    if body is None:
        fields = executionReport(profile, event, scale, stamp)
        if fields is None:
            return None
        body = codec.encodeFields(fields)
    return body
