# -*- test-case-name: tests.test_model -*-
"""
The neutral order model shared by the engine and every wire protocol.

Prices inside the core are integers: a price of C{12.34} on an instrument
with the default price scale of 10,000 is C{123400} (the OUCH convention).
Conversion to and from decimal text happens in the protocol layer, through
L{Instrument.toInternal} and L{Instrument.toDecimal}.
"""

import enum
from decimal import Decimal, InvalidOperation

from exsim.errors import BadValue
from exsim.memo import remember
from exsim.owners import ownerOf

DEFAULT_PRICE_SCALE = 10000
#: The largest internal price a decimal converts to (18 digits, as the FIX
#: decoder bounds them; see L{exsim.engine.limits}).
MAX_INTERNAL_PRICE = 10**18 - 1


class _FastEnum(enum.Enum):
    """
    An Enum hashed by identity, in C: members are singletons, and
    C{Enum.__hash__} (a Python-level hash of the name) is slow on the hot
    path where statuses and types are looked up in sets and dicts.
    """

    __hash__ = object.__hash__


class Side(_FastEnum):
    """
    Order side.  The values are the FIX tag 54 codes.
    """

    BUY = "1"
    SELL = "2"
    SELL_SHORT = "5"

    @property
    def isBuy(self):
        return self is Side.BUY

    @classmethod
    def fromName(cls, name):
        return _lookup(cls, name, _SIDE_NAMES, "side")


_SIDE_NAMES = {
    "buy": Side.BUY,
    "sell": Side.SELL,
    "sell_short": Side.SELL_SHORT,
    "short": Side.SELL_SHORT,
}


class OrdType(_FastEnum):
    """
    Order type.  The values are the FIX tag 40 codes.
    """

    MARKET = "1"
    LIMIT = "2"
    STOP = "3"
    STOP_LIMIT = "4"
    PEGGED = "P"

    @classmethod
    def fromName(cls, name):
        return _lookup(
            cls,
            name,
            {
                "market": cls.MARKET,
                "limit": cls.LIMIT,
                "stop": cls.STOP,
                "stop_limit": cls.STOP_LIMIT,
                "pegged": cls.PEGGED,
            },
            "order_type",
        )


class TimeInForce(_FastEnum):
    """
    Time in force.  The values are the FIX tag 59 codes.
    """

    DAY = "0"
    GTC = "1"
    IOC = "3"
    FOK = "4"
    GTD = "6"
    #: At the Opening: takes part only in the opening auction.
    AT_OPEN = "2"
    #: At the Close: takes part only in the closing auction.
    AT_CLOSE = "7"

    @classmethod
    def fromName(cls, name):
        return _lookup(
            cls,
            name,
            {
                "day": cls.DAY,
                "gtc": cls.GTC,
                "ioc": cls.IOC,
                "fok": cls.FOK,
                "gtd": cls.GTD,
                "opg": cls.AT_OPEN,
                "cls": cls.AT_CLOSE,
            },
            "time_in_force",
        )


class OrdStatus(_FastEnum):
    """
    Order status, with FIX tag 39 semantics and codes.
    """

    NEW = "0"
    PARTIALLY_FILLED = "1"
    FILLED = "2"
    CANCELLED = "4"
    REPLACED = "5"
    PENDING_CANCEL = "6"
    REJECTED = "8"
    PENDING_NEW = "A"
    EXPIRED = "C"
    PENDING_REPLACE = "E"


#: Statuses after which an order never changes again.
DONE_STATUSES = frozenset(
    [OrdStatus.FILLED, OrdStatus.CANCELLED, OrdStatus.REJECTED, OrdStatus.EXPIRED]
)


class RejectReason(_FastEnum):
    """
    Why the engine refused a request.  Business rejects are values, never
    exceptions; each protocol maps these to its own codes.
    """

    UNKNOWN_SYMBOL = "unknown_symbol"
    BAD_PRICE = "bad_price"
    BAD_QUANTITY = "bad_quantity"
    UNSUPPORTED_ORDER_TYPE = "unsupported_order_type"
    UNSUPPORTED_TIME_IN_FORCE = "unsupported_time_in_force"
    DUPLICATE_ORDER = "duplicate_order"
    UNKNOWN_ORDER = "unknown_order"
    TOO_LATE = "too_late"
    EXCHANGE_CLOSED = "exchange_closed"
    #: The book is halted (trading phase C{halted}).
    HALTED = "halted"
    BEHAVIOUR = "behaviour"
    #: A post-only order would have taken liquidity.
    POST_ONLY = "post_only"
    OTHER = "other"


class CancelReason(_FastEnum):
    """
    Why an order left the book without being filled.
    """

    USER = "user"
    IMMEDIATE_OR_CANCEL = "ioc"
    FILL_OR_KILL = "fok"
    NO_LIQUIDITY = "no_liquidity"
    UNSOLICITED = "unsolicited"
    DISCONNECT = "disconnect"
    REPLACED_TO_ZERO = "replaced_to_zero"
    #: Self-trade prevention (book property C{self_trade_prevention}).
    SELF_TRADE = "self_trade"
    #: The minimum quantity of an order could not be filled at once.
    MIN_QUANTITY = "min_quantity"
    #: A post-only order already accepted would have taken liquidity.
    POST_ONLY = "post_only"
    #: An order mass cancel request (FIX OrderMassCancelRequest).
    MASS_CANCEL = "mass_cancel"
    #: What an auction left of an order that could trade only in it (a
    #: market order in a call, At the Opening or At the Close).
    AUCTION = "auction"


def _lookup(cls, value, names, what):
    if isinstance(value, cls):
        return value
    text = str(value).strip()
    found = names.get(text.lower())
    if found is not None:
        return found
    for member in cls:
        if member.value == text:
            return member
    raise BadValue(
        "%s must be one of %s, not %r" % (what, ", ".join(sorted(names)), value)
    )


class Instrument:
    """
    A tradable symbol and its reference data.

    @ivar symbol: the symbol text.
    @ivar tickSize: the smallest price increment, in internal integer units
        (with a tick table: the finest grid every band's tick is on).
    @ivar priceScale: internal units per currency unit (10,000 by default).
    @ivar tickTable: None, or the tick table by price band: a tuple of
        C{(lowest price, tick)} in internal units, lowest prices ascending,
        the first one 0 (L{setTickTable}).
    @ivar lotSize: order quantities must be a multiple of this (1: any).
    @ivar plain: true when neither a tick table nor a lot size constrains
        orders beyond C{tickSize} (the engine's fast path checks only
        that).
    @ivar priceDecimals: the decimal places prices are shown with, or None
        (those of the tick size).
    @ivar currency: ISO 4217 code, or None.
    @ivar securityId: the security identifier (FIX SecurityID, 48), or
        None.
    @ivar securityIdSource: its source (FIX SecurityIDSource, 22: C{4} is
        ISIN, C{1} CUSIP, C{2} SEDOL, C{8} exchange symbol...), or None.
    @ivar name: a description (FIX SecurityDesc, 107), or None.
    """

    __slots__ = (
        "symbol", "tickSize", "priceScale", "tickTable", "lotSize", "plain",
        "priceDecimals", "currency", "securityId", "securityIdSource", "name",
    )

    def __init__(self, symbol, tickSize=100, priceScale=DEFAULT_PRICE_SCALE):
        if not symbol:
            raise BadValue("symbol must not be empty")
        if tickSize <= 0:
            raise BadValue("tick_size must be positive")
        self.symbol = symbol
        self.tickSize = tickSize
        self.priceScale = priceScale
        self.tickTable = None
        self.lotSize = 1
        self.plain = True
        self.priceDecimals = None
        self.currency = None
        self.securityId = None
        self.securityIdSource = None
        self.name = None

    def setTickTable(self, table):
        """
        Use a tick table (or, with None, C{tickSize} alone again).

        @param table: C{(lowest price, tick)} pairs in internal units: the
            tick of a price is that of the band with the highest lowest
            price not above it.  Lowest prices must ascend from 0.
        @raise BadValue: for an empty or badly ordered table, or a tick
            that is not positive.
        """
        if table is None:
            self.tickTable = None
        else:
            table = tuple((int(low), int(tick)) for low, tick in table)
            if not table or table[0][0] != 0:
                raise BadValue("a tick table's first band must start at 0")
            for (low, _), (nextLow, _) in zip(table, table[1:]):
                if nextLow <= low:
                    raise BadValue("a tick table's bands must ascend")
            if any(tick <= 0 for _, tick in table):
                raise BadValue("every tick of a tick table must be positive")
            grid = 0
            for _, tick in table:
                grid = _gcd(grid, tick)
            self.tickTable = table
            self.tickSize = grid
        self._replain()

    def setLotSize(self, lotSize):
        """
        Require order quantities to be a multiple of C{lotSize} (1: any).
        """
        if type(lotSize) is not int or lotSize <= 0:
            raise BadValue("lot_size must be a positive whole number, not %r" % (lotSize,))
        self.lotSize = lotSize
        self._replain()

    def _replain(self):
        self.plain = self.tickTable is None and self.lotSize == 1

    def tickAt(self, price):
        """
        The tick of the band C{price} is in (C{tickSize} without a table).
        """
        table = self.tickTable
        if table is None:
            return self.tickSize
        tick = table[0][1]
        for low, bandTick in table:
            if price < low:
                break
            tick = bandTick
        return tick

    def toInternal(self, value):
        """
        Convert a decimal price (text, L{Decimal}, int or float) to internal
        integer units.

        @raise BadValue: if the value is not a number or has more precision
            than the price scale allows.
        """
        try:
            number = Decimal(str(value).strip())
        except (InvalidOperation, ValueError):
            raise BadValue("price %r is not a decimal number" % (value,))
        if not number.is_finite():
            raise BadValue("price %r has too many decimal places" % (value,))
        # Range first: an exponent far out of range (1E+999999999)
        # overflows the decimal context when scaled.
        if not -MAX_INTERNAL_PRICE <= number <= MAX_INTERNAL_PRICE:
            raise BadValue("price %r is out of range" % (value,))
        scaled = number * self.priceScale
        if scaled != scaled.to_integral_value() or (number and not scaled):
            # (A tiny value underflows to zero when scaled.)
            raise BadValue("price %r has too many decimal places" % (value,))
        if not -MAX_INTERNAL_PRICE <= scaled <= MAX_INTERNAL_PRICE:
            raise BadValue("price %r is out of range" % (value,))
        return int(scaled)

    def toDecimal(self, internal):
        """
        Convert an internal integer price to a L{Decimal}.
        """
        return Decimal(internal) / self.priceScale

    def onTick(self, price):
        """
        Whether C{price} is on the grid of C{tickSize} and, with a tick
        table, of its band's tick.
        """
        if price % self.tickSize:
            return False
        return self.tickTable is None or price % self.tickAt(price) == 0

    def lotProblem(self, quantity):
        """
        None if C{quantity} is a whole number of lots, else the text of
        the reject.
        """
        if quantity % self.lotSize:
            return "quantity %d is not a multiple of the lot size %d" % (quantity, self.lotSize)
        return None

    def __repr__(self):
        return "<Instrument %s tick=%d scale=%d>" % (
            self.symbol,
            self.tickSize,
            self.priceScale,
        )


def _gcd(a, b):
    while b:
        a, b = b, a % b
    return a


class AdvancedTerms:
    """
    What an order asks for beyond a plain limit or market order (C{None} on
    a plain order, see L{Order.extra}): each order that has them has its
    own.  The first six are the client's terms; the last three are the
    engine's working state of the order, written by the engine only.

    @ivar stopPx: the stop price (internal units) of a stop or stop-limit
        order (L{OrdType.STOP}, L{OrdType.STOP_LIMIT}), else None.
    @ivar displayQty: None (all of the order is displayed), 0 (hidden: none
        of it is), or the quantity displayed at a time (an iceberg).
    @ivar minQty: the minimum quantity of each execution, or None.
    @ivar postOnly: whether the order must not take liquidity.
    @ivar stpId: the self-trade prevention id (FIX SelfMatchPreventionID),
        or None: self-trade prevention applies only between orders with
        equal ids.
    @ivar cap: a midpoint peg's limit price (L{OrdType.PEGGED}), or None;
        the engine moves a peg's price here when it accepts the order, and
        its C{price} is then the price it is pegged at (None while it is not
        pegged: no two-sided market).
    @ivar shown: an iceberg's displayed quantity now (the engine's).
    @ivar triggered: whether a stop order has triggered (the engine's).
    @ivar working: whether a peg follows the best bid and offer (the
        engine's): it entered the book, priced or waiting for a two-sided
        market.
    @ivar seq: the engine's sequence number of the order among its book's
        stops or hidden orders.
    """

    __slots__ = (
        "stopPx", "displayQty", "minQty", "postOnly", "stpId", "cap",
        "shown", "triggered", "working", "seq",
    )

    def __init__(self, stopPx=None, displayQty=None, minQty=None, postOnly=False, stpId=None):
        self.stopPx = stopPx
        self.displayQty = displayQty
        self.minQty = minQty
        self.postOnly = postOnly
        self.stpId = stpId
        self.cap = None
        self.shown = 0
        self.triggered = False
        self.working = False
        self.seq = 0

    def __repr__(self):
        return "<AdvancedTerms %s>" % (
            " ".join(
                "%s=%r" % (name, getattr(self, name))
                for name in self.__slots__
                if getattr(self, name) not in (None, False, 0)
            ),
        )


_TERMS = {}
_TERMS_LIMIT = 100000

#: Indexes into L{Order.terms}.
T_SYMBOL, T_SIDE, T_OWNER, T_TYPE, T_TIF, T_EXPIRE, T_BUY, T_EXTRA = range(8)


def makeTerms(symbol, side, owner, ordType, timeInForce, expireTime, extra=None):
    """
    The tuple of what never changes in an order: (symbol, side, owner,
    ordType, timeInForce, expireTime, isBuy, extra), shared by the orders
    that have the same (with no L{AdvancedTerms}: C{extra} None).  Most
    orders share a handful of these, so each order keeps one reference
    instead of eight (a million resting orders must fit in little memory).  A text
    owner is kept as its L{exsim.owners.Owner}.
    """
    key = (symbol, side, owner, ordType, timeInForce, expireTime)
    terms = _TERMS.get(key) if extra is None else None
    if terms is None:
        # The owner as an Owner (equal to the text it was given as).
        terms = (
            symbol, side, ownerOf(owner), ordType, timeInForce, expireTime, side is Side.BUY, extra,
        )
        if expireTime is None and extra is None:
            remember(_TERMS, key, terms, _TERMS_LIMIT)
    return terms


class Order:
    """
    An order as the engine knows it.

    Attributes are mutated by the engine only.  C{price} is C{None} for a
    market order.  C{userData} belongs to whoever submitted the order (a
    protocol keeps its own per-order fields there); the engine never reads it.
    C{symbol}, C{side}, C{owner}, C{ordType}, C{timeInForce}, C{expireTime},
    C{isBuy} and C{extra} (the order's L{AdvancedTerms}, None for a plain
    order) never change: they are kept together in the tuple C{terms} (see
    L{makeTerms}), shared by plain orders.

    @ivar orderId: exchange order id (int), assigned by the engine.
    @ivar notional: sum of price * quantity over all fills (for average
        price).
    @ivar resting: whether the order is in the book now.
    @ivar entered: when the order entered its engine (seconds since the
        epoch, by the simulator's clock: its C{Accepted}, or its
        C{OrderRequest} when held in managed mode), or None.  Not the
        engine's: L{exsim.observe.inventory.EngineNotes} notes it, for
        C{get_order} and the web view.
    """

    __slots__ = (
        "orderId",
        "clOrdId",
        "terms",
        "price",
        "quantity",
        "cumQty",
        "leavesQty",
        "notional",
        "status",
        "userData",
        "resting",
        "entered",
    )

    def __init__(
        self,
        owner,
        clOrdId,
        symbol,
        side,
        quantity,
        price=None,
        ordType=OrdType.LIMIT,
        timeInForce=TimeInForce.DAY,
        expireTime=None,
        userData=None,
        extra=None,
    ):
        self.orderId = 0
        self.clOrdId = clOrdId
        if extra is None:
            terms = _TERMS.get((symbol, side, owner, ordType, timeInForce, expireTime))
            if terms is None:
                terms = makeTerms(symbol, side, owner, ordType, timeInForce, expireTime)
        else:
            terms = makeTerms(symbol, side, owner, ordType, timeInForce, expireTime, extra)
        self.terms = terms
        self.price = price
        self.quantity = quantity
        self.cumQty = 0
        self.leavesQty = quantity
        self.notional = 0
        self.status = OrdStatus.PENDING_NEW
        self.userData = userData
        self.resting = False
        self.entered = None

    symbol = property(lambda self: self.terms[T_SYMBOL])
    side = property(lambda self: self.terms[T_SIDE])
    owner = property(lambda self: self.terms[T_OWNER])
    ordType = property(lambda self: self.terms[T_TYPE])
    timeInForce = property(lambda self: self.terms[T_TIF])
    expireTime = property(lambda self: self.terms[T_EXPIRE])
    isBuy = property(lambda self: self.terms[T_BUY])
    extra = property(lambda self: self.terms[T_EXTRA])

    @property
    def avgPx(self):
        """
        Average fill price in internal units (a float, 0 when nothing filled).
        """
        if not self.cumQty:
            return 0
        return self.notional / self.cumQty

    @property
    def isDone(self):
        return self.status in DONE_STATUSES

    def __repr__(self):
        return "<Order %s %s %s %s %s@%s cum=%s leaves=%s %s>" % (
            self.orderId,
            self.clOrdId,
            self.symbol,
            self.side.name,
            self.quantity,
            self.price,
            self.cumQty,
            self.leavesQty,
            self.status.name,
        )
