# -*- test-case-name: tests.test_fix_orders -*-
"""
FIX field text to and from the neutral model's values: prices (internal
integers <-> decimal text), quantities, times, and the codes of sides,
order types and times in force.
"""

from decimal import Decimal, InvalidOperation

from exsim.errors import BadValue
from exsim.memo import remember
from exsim.model import OrdType, Side, TimeInForce


def plainDecimal(number):
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


#: Internal prices (scale 10,000) -> their text, for the prices last seen.
_PRICE_TEXT = {}
PRICE_TEXT_MEMO = 100000


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
        return plainDecimal(Decimal(internal) / scale)
    if not digits:
        return str(internal)
    whole, frac = divmod(internal, scale)
    if not frac:
        text = str(whole)
    else:
        text = "%d.%s" % (whole, ("%0*d" % (digits, frac)).rstrip("0"))
    if scale == 10000:
        remember(_PRICE_TEXT, internal, text, PRICE_TEXT_MEMO)
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
    return plainDecimal(value)


def parseQuantity(text):
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
INTERNAL_PRICES_MEMO = 10000


def internalPrice(instrument, text):
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
        remember(_INTERNAL_PRICES, key, price, INTERNAL_PRICES_MEMO)
    return price


SIDES = {"1": Side.BUY, "2": Side.SELL, "5": Side.SELL_SHORT}
ORD_TYPES = {
    "1": OrdType.MARKET,
    "2": OrdType.LIMIT,
    "3": OrdType.STOP,
    "4": OrdType.STOP_LIMIT,
    "P": OrdType.PEGGED,
}
TIME_IN_FORCES = {
    "0": TimeInForce.DAY,
    "1": TimeInForce.GTC,
    "2": TimeInForce.AT_OPEN,
    "3": TimeInForce.IOC,
    "4": TimeInForce.FOK,
    "6": TimeInForce.GTD,
    "7": TimeInForce.AT_CLOSE,
}


def fieldCode(value):
    """
    The FIX code of a model enum member, or the raw text kept for a
    rejected order.
    """
    return value.value if hasattr(value, "value") else str(value)

