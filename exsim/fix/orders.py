# -*- test-case-name: tests.test_fix_orders -*-
"""
FIX order entry: NewOrderSingle (D), OrderCancelRequest (F),
OrderCancelReplaceRequest (G) and OrderStatusRequest (H) become engine
commands; engine events become ExecutionReports (8) and
OrderCancelRejects (9), with the fields each FIX version defines.

What differs between versions is gathered in one L{Profile} per version:
ExecTransType (20) in FIX.4.0-4.2 only, ExecType (150) from FIX.4.1, fills
as ExecType 1/2 up to FIX.4.2 and F (Trade) from FIX.4.3, OrdStatus 5
(Replaced) up to FIX.4.2, LeavesQty from FIX.4.1, timestamps with
milliseconds from FIX.4.2, reject reason codes as each version enumerates
them.
"""

import time
from decimal import Decimal, InvalidOperation

from twisted.logger import Logger
from zope.interface import implementer

from exsim.engine.delivery import Failures
from exsim.engine.events import (
    Accepted,
    CancelRejected,
    Cancelled,
    Expired,
    Filled,
    PendingChange,
    Rejected,
    Replaced,
)
from exsim.errors import BadValue
from exsim.fix import codec
from exsim.interfaces import (
    IEngineListener,
    IFixApplication,
    IFixEncodedSession,
    IOrderEntry,
)
from exsim.journal import registerUserData
from exsim.model import (
    CancelReason,
    OrdStatus,
    OrdType,
    Order,
    RejectReason,
    T_OWNER,
    T_SYMBOL,
    Side,
    TimeInForce,
)
from exsim.roles import roleOf

#: ApplVerID (1128) codes and the version name they stand for.
APPL_VER_IDS = {
    "2": "FIX.4.0",
    "3": "FIX.4.1",
    "4": "FIX.4.2",
    "5": "FIX.4.3",
    "6": "FIX.4.4",
    "7": "FIX.5.0",
    "8": "FIX.5.0SP1",
    "9": "FIX.5.0SP2",
}

_VERSION_RANK = {
    "FIX.4.0": 40,
    "FIX.4.1": 41,
    "FIX.4.2": 42,
    "FIX.4.3": 43,
    "FIX.4.4": 44,
    "FIX.5.0": 50,
    "FIX.5.0SP1": 51,
    "FIX.5.0SP2": 52,
}


def applicationVersion(beginString, applVerId=None):
    """
    The application version a session speaks: its BeginString, or for
    FIXT.1.1 the version its ApplVerID names (FIX.5.0SP2 by default).
    """
    if beginString == "FIXT.1.1":
        return APPL_VER_IDS.get(applVerId or "9", "FIX.5.0SP2")
    return beginString


class Profile:
    """
    How one FIX application version writes order-entry messages.

    @ivar version: e.g. C{"FIX.4.2"} or C{"FIX.5.0SP2"}.
    @ivar rank: 40 for FIX.4.0 ... 52 for FIX.5.0SP2, for comparisons.
    """

    def __init__(self, version):
        self.version = version
        rank = self.rank = _VERSION_RANK.get(version, 52)
        #: ExecTransType (20) is required up to FIX.4.2, gone after.
        self.execTransType = rank <= 42
        #: ExecType (150) exists from FIX.4.1.
        self.execType = rank >= 41
        #: Fills are ExecType F (Trade) from FIX.4.3, 1/2 before.
        self.tradeExecType = rank >= 43
        #: OrdStatus 5 (Replaced) on a replace, up to FIX.4.2.
        self.replacedStatus = rank <= 42
        #: LeavesQty (151) and OrigClOrdID (41) exist from FIX.4.1.
        self.leavesQty = rank >= 41
        self.origClOrdId = rank >= 41
        #: Pending replace is E from FIX.4.2; FIX.4.0/4.1 have only 6
        #: (pending cancel/replace).
        self.pendingReplace = "E" if rank >= 42 else "6"
        #: UTCTimestamp with milliseconds from FIX.4.2.
        self.millis = rank >= 42
        #: Quantities are integers (INT) in FIX.4.0/4.1, QTY after.
        self.intQty = rank <= 41
        #: ExecType I (Order Status) from FIX.4.3; before it, a status
        #: report has ExecTransType 3 (Status).
        self.statusExecType = rank >= 43
        #: OrderCancelReject: OrdStatus and OrigClOrdID from 4.1,
        #: CxlRejResponseTo from 4.2.
        self.cxlRejStatus = rank >= 41
        self.cxlRejResponseTo = rank >= 42
        #: LastLiquidityInd (851) from FIX.4.4; TrdMatchID (880) and
        #: AggressorIndicator (1057) in the ExecutionReport from FIX.5.0SP2.
        self.lastLiquidityInd = rank >= 44
        self.trdMatchId = rank >= 52
        #: The client of an order on a drop copy: ClientID (109) up to
        #: FIX.4.2, a Parties block (453/448/447/452) from FIX.4.3.
        self.parties = rank >= 43
        #: LastShares (32) and LastPx (31) are required on every
        #: ExecutionReport in FIX.4.0/4.1 (zero when nothing was filled).
        self.lastRequired = rank <= 41
        #: ExpireDate (432) exists from FIX.4.2.
        self.expireDate = rank >= 42
        self.ordRejReasons = _ordRejReasons(rank)
        self.cxlRejReasons = _cxlRejReasons(rank)
        self._stampSecond = None
        self._stampPrefix = None
        self._stampMillis = None
        self._stampText = None
        #: Times for which _stampText is certainly the stamp (see
        #: L{exsim.fix.codec.millisecondInterior}).
        self._stampLow = self._stampHigh = 0.0

    def stamp(self, seconds):
        """
        A UTCTimestamp for C{seconds} since the epoch.
        """
        if self._stampLow <= seconds < self._stampHigh:
            return self._stampText
        second = int(seconds)
        if second != self._stampSecond:
            self._stampSecond = second
            self._stampPrefix = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(second))
            self._stampMillis = None
        if self.millis:
            millis = int((seconds - second) * 1000)
            if millis != self._stampMillis:
                self._stampMillis = millis
                self._stampText = "%s.%03d" % (self._stampPrefix, min(millis, 999))
            self._stampLow, self._stampHigh = codec.millisecondInterior(seconds, second, millis)
            return self._stampText
        return self._stampPrefix

    def qty(self, value):
        """
        A quantity as FIX text (integers; a rejected order's odd quantity
        as given, or its whole part where the version wants an INT).
        """
        if type(value) is int:
            return str(value)
        if value is None:
            return "0"
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            return "0"
        if not number.is_finite():
            return "0"
        if self.intQty:
            return str(int(number))
        return _plainDecimal(number)

    def __repr__(self):
        return "<Profile %s>" % (self.version,)


def _ordRejReasons(rank):
    other = "99" if rank >= 44 else "0"
    unsupported = "11" if rank >= 43 else "0"
    reasons = {
        RejectReason.UNKNOWN_SYMBOL: "1",
        RejectReason.EXCHANGE_CLOSED: "2",
        RejectReason.TOO_LATE: "4",
        RejectReason.UNKNOWN_ORDER: "5" if rank >= 41 else "0",
        RejectReason.DUPLICATE_ORDER: "6" if rank >= 41 else "0",
        RejectReason.BAD_QUANTITY: "13" if rank >= 44 else "0",
        RejectReason.BAD_PRICE: other,
        RejectReason.UNSUPPORTED_ORDER_TYPE: unsupported,
        RejectReason.UNSUPPORTED_TIME_IN_FORCE: unsupported,
        RejectReason.BEHAVIOUR: other,
        RejectReason.OTHER: other,
    }
    return reasons


def _cxlRejReasons(rank):
    if rank <= 41:
        # Only 0 (too late) and 1 (unknown order) exist.
        return {RejectReason.TOO_LATE: "0", RejectReason.UNKNOWN_ORDER: "1"}
    other = "99" if rank >= 44 else "2"
    return {
        RejectReason.TOO_LATE: "0",
        RejectReason.UNKNOWN_ORDER: "1",
        RejectReason.DUPLICATE_ORDER: "6" if rank >= 43 else "2",
        RejectReason.BAD_PRICE: other,
        RejectReason.BAD_QUANTITY: other,
        RejectReason.OTHER: other,
        RejectReason.BEHAVIOUR: other,
        "pending": "3",
    }


_PROFILES = {}


def profileFor(beginString, applVerId=None):
    """
    The (shared) L{Profile} of a session's version.
    """
    version = applicationVersion(beginString, applVerId)
    profile = _PROFILES.get(version)
    if profile is None:
        profile = _PROFILES[version] = Profile(version)
    return profile


# -- values ------------------------------------------------------------------


def _plainDecimal(number):
    """
    A L{Decimal} as plain FIX text: no exponent, no trailing zeros.
    """
    text = format(number, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text in ("", "-0"):
        text = "0"
    return text


_FAST_SCALES = {10000: 4, 100: 2, 1000: 3, 1000000: 6, 100000000: 8, 1: 0}


_PRICE_TEXT = {}


def formatPrice(internal, scale=10000):
    """
    An internal integer price as decimal FIX text (C{1502500} -> C{"150.25"}).
    Anything else (the raw text of a rejected price) is returned as text.
    """
    if type(internal) is not int:
        if internal is None:
            return "0"
        return str(internal)
    if scale == 10000:
        text = _PRICE_TEXT.get(internal)
        if text is not None:
            return text
    digits = _FAST_SCALES.get(scale)
    if digits is None or internal < 0:
        return _plainDecimal(Decimal(internal) / scale)
    if not digits:
        return str(internal)
    whole, frac = divmod(internal, scale)
    if not frac:
        text = str(whole)
    else:
        text = "%d.%s" % (whole, ("%0*d" % (digits, frac)).rstrip("0"))
    if scale == 10000:
        if len(_PRICE_TEXT) > 100000:
            _PRICE_TEXT.clear()
        _PRICE_TEXT[internal] = text
    return text


def formatAvgPx(notional, cumQty, scale=10000):
    """
    The average price of C{cumQty} filled for C{notional} (internal units
    times quantity), as decimal text rounded to 8 decimal places.
    """
    if not cumQty:
        return "0"
    if type(notional) is int and notional % cumQty == 0:
        return formatPrice(notional // cumQty, scale)
    value = (Decimal(notional) / (Decimal(cumQty) * scale)).quantize(Decimal("1e-8"))
    return _plainDecimal(value)


def parseUTCTimestamp(text):
    """
    Seconds since the epoch of a FIX UTCTimestamp (C{YYYYMMDD-HH:MM:SS}
    with optional fractional seconds), or None if it is not one.
    """
    if not text or len(text) < 17 or text[8] != "-":
        return None
    try:
        base = time.strptime(text[:17], "%Y%m%d-%H:%M:%S")
    except ValueError:
        return None
    seconds = float(_timegm(base))
    rest = text[17:]
    if rest:
        if rest[0] != "." or not rest[1:].isdigit():
            return None
        seconds += float("0" + rest)
    return seconds


def parseDateEnd(text):
    """
    The end of a FIX date (C{YYYYMMDD}, UTC): the next midnight, in seconds
    since the epoch; None if it is not a date.
    """
    if not text or len(text) != 8 or not text.isdigit():
        return None
    try:
        base = time.strptime(text, "%Y%m%d")
    except ValueError:
        return None
    return float(_timegm(base) + 86400)


def _timegm(struct):
    import calendar

    return calendar.timegm(struct)


def _qtyValue(text):
    """
    An order quantity from FIX text: an int when it is a whole positive
    number, else something the engine rejects as a bad quantity.
    """
    if text is None:
        return 0
    if len(text) > 34:
        # Longer than any quantity the dictionary lets through (15 digits,
        # a point and 18 decimals): the engine rejects 0.
        return 0
    try:
        return int(text)
    except ValueError:
        pass
    try:
        number = Decimal(text)
    except (InvalidOperation, ValueError):
        return 0
    if number.is_finite() and number == number.to_integral_value():
        return int(number)
    return number


#: (instrument class, price scale, price text) -> internal price, for the
#: prices last seen.
_INTERNAL_PRICES = {}


def _internalPrice(instrument, text):
    """
    A price from FIX text in C{instrument}'s internal units, or the text
    itself if it is not a price (for the engine to reject).
    """
    key = (instrument.__class__, instrument.priceScale, text)
    price = _INTERNAL_PRICES.get(key)
    if price is None:
        try:
            price = instrument.toInternal(text)
        except BadValue:
            return text
        if len(_INTERNAL_PRICES) > 10000:
            _INTERNAL_PRICES.clear()
        _INTERNAL_PRICES[key] = price
    return price


#: The fields of a NewOrderSingle read: ClOrdID, Symbol, Side, OrdType,
#: TimeInForce, OrderQty, Price, Account, ExpireTime, ExpireDate.
_NOS_TAGS = (11, 55, 54, 40, 59, 38, 44, 1, 126, 432)

_SIDES = {"1": Side.BUY, "2": Side.SELL, "5": Side.SELL_SHORT}
_ORD_TYPES = {"1": OrdType.MARKET, "2": OrdType.LIMIT}
_TIFS = {
    "0": TimeInForce.DAY,
    "1": TimeInForce.GTC,
    "3": TimeInForce.IOC,
    "4": TimeInForce.FOK,
    "6": TimeInForce.GTD,
}


def _code(value):
    """
    The FIX code of a model enum member, or the raw text kept for a
    rejected order.
    """
    return value.value if hasattr(value, "value") else str(value)


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


# -- ExecutionReport building ------------------------------------------------


def _instrumentOf(engine, symbol):
    book = engine.books.get(symbol) if engine is not None else None
    return book.instrument.priceScale if book is not None else 10000


#: (symbol, side, OrdType, TimeInForce) -> the fields they give, shared.
_STATIC = {}


def _orderFields(profile, fields, order, quantity, price, scale):
    data = order.userData
    ordType = order.ordType
    key = (order.symbol, order.side, ordType, order.timeInForce)
    static = _STATIC.get(key)
    if static is None:
        if len(_STATIC) > 10000:
            _STATIC.clear()
        static = _STATIC[key] = (
            (55, order.symbol),
            (54, order.side.value),
            (40, _code(ordType)),
            (59, _code(order.timeInForce)),
        )
    if data is not None and type(data) is OrderData and data.account is not None:
        fields.append((1, data.account))
    fields.extend(static)
    fields.append((38, str(quantity) if type(quantity) is int else profile.qty(quantity)))
    if price is not None and ordType is not OrdType.MARKET:
        fields.append((44, formatPrice(price, scale)))
    if data is not None and type(data) is OrderData:
        if data.expireTime is not None:
            fields.append((126, data.expireTime))
        elif data.expireDate is not None and profile.expireDate:
            fields.append((432, data.expireDate))


def _tail(profile, fields, leaves, cum, notional, scale, stamp, text=None, fill=False):
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


def _head(profile, order, clOrdId, origClOrdId, execId, transType, execType, ordStatus):
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
    fields = _head(profile, order, event.clOrdId, None, event.execId, "0", "0", event.status.value)
    _orderFields(profile, fields, order, event.quantity, event.price, scale)
    _tail(profile, fields, event.leavesQty, event.cumQty, event.notional, scale, stamp)
    return fields


def _erRejected(profile, event, scale, stamp):
    order = event.order
    fields = _head(profile, order, event.clOrdId, None, event.execId, "0", "8", "8")
    fields.append((103, profile.ordRejReasons.get(event.reason, profile.ordRejReasons[RejectReason.OTHER])))
    _orderFields(profile, fields, order, event.quantity, event.price, scale)
    _tail(profile, fields, 0, event.cumQty, event.notional, scale, stamp, event.text)
    return fields


def _erFilled(profile, event, scale, stamp):
    order = event.order
    leaves = event.leavesQty
    if profile.tradeExecType:
        execType = "F"
    else:
        execType = "1" if leaves else "2"
    status = event.status.value
    fields = _head(profile, order, event.clOrdId, None, event.execId, "0", execType, status)
    _orderFields(profile, fields, order, event.orderQuantity, event.orderPrice, scale)
    fields.append((32, profile.qty(event.quantity)))
    fields.append((31, formatPrice(event.price, scale)))
    _tail(profile, fields, leaves, event.cumQty, event.notional, scale, stamp, fill=True)
    if profile.lastLiquidityInd:
        fields.append((851, "2" if event.aggressor else "1"))
    if profile.trdMatchId:
        fields.append((880, str(event.tradeId)))
        fields.append((1057, "Y" if event.aggressor else "N"))
    return fields


_CANCEL_TEXT = {
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
    fields = _head(profile, order, clOrdId, origClOrdId, event.execId, "0", "4", "4")
    _orderFields(profile, fields, order, event.quantity, event.price, scale)
    _tail(
        profile, fields, 0, event.cumQty, event.notional, scale, stamp,
        _CANCEL_TEXT.get(event.reason),
    )
    return fields


def _erReplaced(profile, event, scale, stamp):
    order = event.order
    status = event.status
    if profile.replacedStatus and status is not OrdStatus.FILLED:
        code = "5"
    else:
        code = status.value
    fields = _head(profile, order, event.clOrdId, event.origClOrdId, event.execId, "0", "5", code)
    _orderFields(profile, fields, order, event.quantity, event.price, scale)
    _tail(profile, fields, event.leavesQty, event.cumQty, event.notional, scale, stamp)
    return fields


def _erExpired(profile, event, scale, stamp):
    order = event.order
    fields = _head(profile, order, event.clOrdId, None, event.execId, "0", "C", "C")
    _orderFields(profile, fields, order, event.quantity, event.price, scale)
    _tail(profile, fields, 0, event.cumQty, event.notional, scale, stamp)
    return fields


def _erPending(profile, event, scale, stamp):
    order = event.order
    code = "6" if event.kind == "cancel" else profile.pendingReplace
    fields = _head(
        profile, order, event.requestClOrdId, event.clOrdId, event.execId, "0", code, code
    )
    _orderFields(profile, fields, order, event.quantity, event.price, scale)
    _tail(profile, fields, event.leavesQty, event.cumQty, event.notional, scale, stamp)
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
        if len(_STATIC_TEXT) > 10000:
            _STATIC_TEXT.clear()
        text = _STATIC_TEXT[key] = "55=%s\x0154=%s\x0140=%s\x0159=%s\x01" % (
            order.symbol,
            order.side.value,
            _code(order.ordType),
            _code(order.timeInForce),
        )
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
        if profile.trdMatchId:
            fillEnd = ("851=1\x01880=%s\x011057=N\x01", "851=2\x01880=%s\x011057=Y\x01")
        elif profile.lastLiquidityInd:
            fillEnd = ("851=1\x01%.0s", "851=2\x01%.0s")
        else:
            fillEnd = ("%.0s", "%.0s")
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
        The order's fields (see L{_orderFields}), or None.  Those of an
        order without L{OrderData} and with an integer quantity and price
        are remembered.
        """
        if (
            order.userData is None
            and type(quantity) is int
            and (type(price) is int or price is None)
        ):
            key = (order.terms, quantity, price, scale)
            texts = self._orderTexts
            text = texts.get(key)
            if text is None:
                text = self._orderText(order, quantity, price, scale)
                if len(texts) > 10000:
                    texts.clear()
                texts[key] = text
            return text
        return self._orderText(order, quantity, price, scale)

    def _orderText(self, order, quantity, price, scale):
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
        The closing fields (see L{_tail}), or None.
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
        text = "" if text is None else state + text
        middles = self._middles
        if len(middles) > 10000:
            middles.clear()
        middles[key] = text
        return text

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
                return self._filledFormats[1 if event.aggressor else 0] % (
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
        if profile.lastLiquidityInd:
            text += "851=2\x01" if event.aggressor else "851=1\x01"
        if profile.trdMatchId:
            text += "880=%s\x011057=%s\x01" % (event.tradeId, "Y" if event.aggressor else "N")
        return text

    def _cancelled(self, event, scale, stamp):
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


def statusReport(profile, order, execId, stamp, scale, clOrdId=None):
    """
    The ExecutionReport answering an OrderStatusRequest for C{order} (its
    current state).
    """
    status = order.status.value
    execType = "I" if profile.statusExecType else status
    fields = _head(profile, order, order.clOrdId, None, execId, "3", execType, status)
    _orderFields(profile, fields, order, order.quantity, order.price, scale)
    _tail(profile, fields, order.leavesQty, order.cumQty, order.notional, scale, stamp)
    return fields


def cancelReject(profile, event, stamp, doneStatus=None, doneOrderId=None):
    """
    The OrderCancelReject (9) body for a L{CancelRejected} event.

    @param doneStatus: the final L{OrdStatus} of the target order if it is
        known to have finished (too late to cancel).
    """
    order = event.order
    if order is not None:
        orderId = str(order.orderId)
    elif doneOrderId is not None:
        orderId = str(doneOrderId)
    else:
        orderId = "NONE"
    fields = [(37, orderId), (11, event.clOrdId or "NONE")]
    origClOrdId = event.origClOrdId
    if origClOrdId is None and order is not None:
        origClOrdId = order.clOrdId
    if profile.cxlRejStatus:
        if profile.rank < 52 or origClOrdId is not None:
            fields.append((41, origClOrdId or "NONE"))
        if event.status is not None:
            status = event.status.value
        elif doneStatus is not None:
            status = doneStatus.value
        else:
            status = "8"
        fields.append((39, status))
    if profile.cxlRejResponseTo:
        fields.append((60, stamp))
        fields.append((434, "1" if event.responseTo == "cancel" else "2"))
    reasons = profile.cxlRejReasons
    reason = event.reason
    if reason is RejectReason.OTHER and event.status in (
        OrdStatus.PENDING_CANCEL,
        OrdStatus.PENDING_REPLACE,
    ):
        reason = "pending"
    code = reasons.get(reason)
    if code is None and profile.rank >= 42:
        code = reasons[RejectReason.OTHER]
    if code is not None:
        fields.append((102, code))
    if event.text:
        fields.append((58, event.text))
    return fields


# -- the application ---------------------------------------------------------

#: FIX.4.0 ExecIDs of reports the engine did not make start above this.
LOCAL_EXEC_ID_BASE = 9000000000

#: How many finished orders per engine are remembered for status requests
#: and cancel rejects, in two generations.
DONE_MEMORY = 200000

_DONE_STATUSES = frozenset(
    [OrdStatus.FILLED, OrdStatus.CANCELLED, OrdStatus.REJECTED, OrdStatus.EXPIRED]
)

#: Every L{OrdStatus} and its index, for L{DoneOrders} records.
_STATUS_LIST = tuple(OrdStatus)
_STATUS_INDEX = {status: index for index, status in enumerate(_STATUS_LIST)}


class DoneOrders:
    """
    Finished orders by owner and ClOrdID, in two generations of up to
    C{limit} each (the older is dropped when the newer fills).

    An order is kept as a tuple of plain values (its shared C{terms} and
    its status as indexes), which the garbage collector stops tracking: a
    few hundred thousand remembered L{Order}s made every full collection
    walk them all.  L{get} gives back an equal L{Order}.
    """

    def __init__(self, limit):
        self.limit = limit
        #: {owner: {ClOrdID: record}} of this generation and the one before.
        self._records = {}
        self._oldRecords = {}
        self._count = 0
        #: The terms tuples of this generation's records (which keeps
        #: them alive), and their indexes by identity (a terms tuple is
        #: shared by many orders; hashing its seven items every time
        #: costs more than its id).
        self._terms = []
        self._termIndex = {}
        self._oldTerms = []

    def __len__(self):
        return sum(len(r) for r in self._records.values()) + sum(
            len(r) for r in self._oldRecords.values()
        )

    def records(self):
        """
        Every record kept (for tests).
        """
        for generation in (self._records, self._oldRecords):
            for records in generation.values():
                yield from records.values()

    def add(self, order):
        """
        Remember C{order} (finished) as it is now.
        """
        terms = order.terms
        index = self._termIndex.get(id(terms))
        if index is None:
            index = self._termIndex[id(terms)] = len(self._terms)
            self._terms.append(terms)
        data = order.userData
        if data is not None:
            if type(data) is OrderData:
                data = (data.account, data.expireTime, data.expireDate)
            else:
                data = (data,)
        records = self._records.get(terms[T_OWNER])
        if records is None:
            records = self._records[terms[T_OWNER]] = {}
        clOrdId = order.clOrdId
        records[clOrdId] = (
            order.orderId,
            clOrdId,
            index,
            order.price,
            order.quantity,
            order.cumQty,
            order.leavesQty,
            order.notional,
            _STATUS_INDEX[order.status],
            data,
        )
        self._count += 1
        if self._count >= self.limit:
            self._oldRecords = self._records
            self._oldTerms = self._terms
            self._records = {}
            self._count = 0
            self._terms = []
            self._termIndex = {}

    def get(self, owner, clOrdId):
        """
        The finished order C{clOrdId} of C{owner} (an L{Order}), or None.
        """
        records = self._records.get(owner)
        record = records.get(clOrdId) if records is not None else None
        terms = self._terms
        if record is None:
            records = self._oldRecords.get(owner)
            record = records.get(clOrdId) if records is not None else None
            if record is None:
                return None
            terms = self._oldTerms
        (orderId, clOrdId, index, price, quantity, cumQty, leavesQty, notional, status,
         data) = record
        order = Order.__new__(Order)
        order.orderId = orderId
        order.clOrdId = clOrdId
        order.terms = terms[index]
        order.price = price
        order.quantity = quantity
        order.cumQty = cumQty
        order.leavesQty = leavesQty
        order.notional = notional
        order.status = _STATUS_LIST[status]
        if data is not None:
            data = OrderData(*data) if len(data) == 3 else data[0]
        order.userData = data
        order.resting = False
        return order


@implementer(IFixApplication, IEngineListener)
class OrderEntry:
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
        self.failures = Failures(self)
        self.endpoint = endpoint
        self.engine = roleOf(endpoint.engine, IOrderEntry, "FIX order entry")
        self.reactor = endpoint.reactor
        self.marketData = marketData
        self.sessions = {}
        self._profiles = {}
        self._routes = {}
        self._done = DoneOrders(DONE_MEMORY)
        self._localExecId = 0
        self._handlers = {
            "D": self._newOrder,
            "F": self._cancel,
            "G": self._replace,
            "H": self._status,
        }
        self.engine.subscribe(self)

    def shutdown(self):
        """
        Stop listening to the engine (the endpoint is closing).
        """
        self.engine.unsubscribe(self)
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
            self._routes[session.key] = (session, profile, None, {})
        else:
            # The encoders by event class (what ReportEncoder.encode
            # looks up), for the hot path.
            self._routes[session.key] = (
                session, profile, encoded.sendEncoded, reportEncoderFor(profile).encoders
            )
        if self.marketData is not None:
            self.marketData.sessionLoggedOn(session)

    def sessionLoggedOut(self, session):
        if self.marketData is not None:
            self.marketData.sessionLoggedOut(session)
        if self.endpoint.properties.get("cancel_on_disconnect"):
            self.cancelOrdersOf(session.key)

    def cancelOrdersOf(self, owner):
        """
        Cancel every live order of C{owner} (cancel on disconnect).
        """
        self.engine.cancelAll(owner, reason=CancelReason.DISCONNECT)

    def fromApp(self, session, message):
        handler = self._handlers.get(message.msgType)
        if handler is None:
            if message.msgType == "V" and self.marketData is not None:
                return self.marketData.fromApp(session, message)
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
        if not symbol:
            return self._missing(session, message, 55)
        if sideCode is None:
            return self._missing(session, message, 54)
        side = _SIDES.get(sideCode)
        engine = self.engine
        if ordTypeCode is None:
            ordTypeCode = "2"
        ordType = _ORD_TYPES.get(ordTypeCode, ordTypeCode)
        if tifCode is None:
            tifCode = "0"
        tif = _TIFS.get(tifCode, tifCode)
        try:
            # (_qtyValue, inline for a whole number.)
            quantity = int(qtyText)
        except (TypeError, ValueError):
            quantity = _qtyValue(qtyText)
        price = None
        if ordType is not OrdType.MARKET:
            book = engine.books.get(symbol)
            if priceText is not None and book is not None:
                price = _internalPrice(book.instrument, priceText)
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

    def _localReject(self, session, message, clOrdId, symbol, sideCode, quantity, text):
        """
        Reject a new order the engine cannot represent (an unsupported
        side): an ExecutionReport with a local ExecID.
        """
        profile = self._profile(session)
        execId = self._nextLocalExecId(profile, "L")
        stamp = profile.stamp(self.reactor.seconds())
        fields = [(37, "NONE"), (11, clOrdId), (17, execId)]
        if profile.execTransType:
            fields.append((20, "0"))
        if profile.execType:
            fields.append((150, "8"))
        fields.append((39, "8"))
        fields.append((103, profile.ordRejReasons[RejectReason.OTHER]))
        fields.append((55, symbol))
        fields.append((54, sideCode))
        fields.append((38, profile.qty(quantity)))
        _tail(profile, fields, 0, 0, 0, 10000, stamp, text)
        session.sendApp("8", fields)

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
            self._localReject(session, message, clOrdId, symbol, sideCode, _qtyValue(qtyText), text)
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
            quantity = _qtyValue(qtyText)
        if order is not None:
            problem = self._mismatch(order, message)
            ordTypeCode = get(40)
            if problem is None and ordTypeCode is not None and ordTypeCode != _code(order.ordType):
                problem = "the order type cannot be changed"
            tifCode = get(59)
            if problem is None and tifCode is not None and tifCode != _code(order.timeInForce):
                problem = "the time in force cannot be changed"
            if problem is not None:
                self._localCancelReject(session, clOrdId, order, "replace", problem)
                return
            priceText = get(44)
            if priceText is not None and order.ordType is not OrdType.MARKET:
                book = self.engine.books.get(order.symbol)
                price = _internalPrice(book.instrument, priceText)
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
            scale = _instrumentOf(engine, order.symbol)
            session.sendApp("8", statusReport(profile, order, execId, stamp, scale))
            return
        fields = [(37, orderIdText or "NONE")]
        if clOrdId is not None:
            fields.append((11, clOrdId))
        fields.append((17, execId))
        if profile.execTransType:
            fields.append((20, "3"))
        if profile.execType:
            fields.append((150, "I" if profile.statusExecType else "8"))
        fields.append((39, "8"))
        fields.append((103, profile.ordRejReasons[RejectReason.UNKNOWN_ORDER]))
        symbol = get(55)
        if symbol is not None:
            fields.append((55, symbol))
        elif profile.rank <= 42:
            fields.append((55, "NONE"))
        fields.append((54, get(54, "1")))
        if profile.rank <= 41:
            fields.append((38, "0"))
        _tail(profile, fields, 0, 0, 0, 10000, stamp, "unknown order")
        session.sendApp("8", fields)

    # -- engine events -----------------------------------------------------

    def engineEvents(self, events):
        routes = self._routes
        if not routes:
            return
        stampSeconds = None
        stamps = {}
        books = self.engine.books
        # The route, price scale and stamp of the last order's terms
        # (owner and symbol): an order's events come together.
        lastTerms = route = None
        while events:
            event = None
            try:
                for event in events:
                    cls = event.__class__
                    builder = ER_BUILDERS.get(cls)
                    if builder is None:
                        if cls is CancelRejected:
                            self._sendCancelReject(event)
                        continue
                    order = event.order
                    terms = order.terms
                    if terms is not lastTerms:
                        lastTerms = terms
                        route = routes.get(terms[T_OWNER])
                        if route is None:
                            continue
                        session, profile, sendEncoded, encoders = route
                        if stampSeconds is None:
                            stampSeconds = self.reactor.seconds()
                        stamp = stamps.get(profile)
                        if stamp is None:
                            stamp = stamps[profile] = profile.stamp(stampSeconds)
                        book = books.get(terms[T_SYMBOL])
                        scale = book.instrument.priceScale if book is not None else 10000
                    elif route is None:
                        continue
                    encoder = encoders.get(cls)
                    text = None if encoder is None else encoder(event, scale, stamp)
                    if text is None:
                        session.sendApp("8", builder(profile, event, scale, stamp))
                    else:
                        sendEncoded(b"8", text.encode("utf-8"))
                    if event.status in _DONE_STATUSES:
                        self._done.add(order)
            except Exception:
                events = self.failures.failed(events, event)
                lastTerms = None
            else:
                return

    def _sendCancelReject(self, event):
        session = self.sessions.get(event.owner)
        if session is None:
            return
        profile = self._profiles[event.owner]
        doneStatus = doneOrderId = None
        if event.order is None and event.origClOrdId is not None:
            done = self._done.get(event.owner, event.origClOrdId)
            if done is not None:
                doneStatus = done.status
                doneOrderId = done.orderId
        stamp = profile.stamp(self.reactor.seconds())
        session.sendApp("9", cancelReject(profile, event, stamp, doneStatus, doneOrderId))
