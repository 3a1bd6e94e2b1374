# -*- test-case-name: tests.test_itch -*-
"""
ITCH 5.0 message layouts (Nasdaq TotalView-ITCH 5.0 specification).

Every message starts with its type (1 byte), the stock locate code (2),
a tracking number (2) and a timestamp (6 bytes: nanoseconds since
midnight); integers are big-endian, prices 4 bytes with four implied
decimals, alphanumeric fields left-justified and padded with spaces.
"""

import struct

from exsim.soup.packets import SoupProtocolError

# The 6-byte timestamp is packed as a 2-byte high part and a 4-byte low part.
SYSTEM_EVENT = struct.Struct(">cHHHIc")
STOCK_DIRECTORY = struct.Struct(">cHHHI8sccIcc2scccccIc")
STOCK_TRADING_ACTION = struct.Struct(">cHHHI8scc4s")
ADD_ORDER = struct.Struct(">cHHHIQcI8sI")
ADD_ORDER_MPID = struct.Struct(">cHHHIQcI8sI4s")
ORDER_EXECUTED = struct.Struct(">cHHHIQIQ")
ORDER_EXECUTED_WITH_PRICE = struct.Struct(">cHHHIQIQcI")
ORDER_CANCEL = struct.Struct(">cHHHIQI")
ORDER_DELETE = struct.Struct(">cHHHIQ")
ORDER_REPLACE = struct.Struct(">cHHHIQQII")
TRADE = struct.Struct(">cHHHIQcI8sIQ")
BROKEN_TRADE = struct.Struct(">cHHHIQ")
CROSS_TRADE = struct.Struct(">cHHHIQ8sIQc")
NOII = struct.Struct(">cHHHIQQc8sIIIcc")

#: Message type -> layout, for the messages exsim publishes.
LAYOUTS = {
    b"S": SYSTEM_EVENT,
    b"R": STOCK_DIRECTORY,
    b"H": STOCK_TRADING_ACTION,
    b"A": ADD_ORDER,
    b"F": ADD_ORDER_MPID,
    b"E": ORDER_EXECUTED,
    b"C": ORDER_EXECUTED_WITH_PRICE,
    b"X": ORDER_CANCEL,
    b"D": ORDER_DELETE,
    b"U": ORDER_REPLACE,
    b"P": TRADE,
    b"B": BROKEN_TRADE,
    b"Q": CROSS_TRADE,
    b"I": NOII,
}

# System event codes.
START_OF_MESSAGES = b"O"
START_OF_SYSTEM_HOURS = b"S"
START_OF_MARKET_HOURS = b"Q"
END_OF_MARKET_HOURS = b"M"
END_OF_SYSTEM_HOURS = b"E"
END_OF_MESSAGES = b"C"

#: The system events of a day, in order.
DAY_EVENTS = (
    START_OF_MESSAGES,
    START_OF_SYSTEM_HOURS,
    START_OF_MARKET_HOURS,
    END_OF_MARKET_HOURS,
    END_OF_SYSTEM_HOURS,
    END_OF_MESSAGES,
)

# Trading states of Stock Trading Action.
HALTED = b"H"
PAUSED = b"P"
QUOTATION_ONLY = b"Q"
TRADING = b"T"

# Cross types (Cross Trade, NOII).
CROSS_OPENING = b"O"
CROSS_CLOSING = b"C"
CROSS_HALT = b"H"

# Imbalance directions (NOII).
IMBALANCE_BUY = b"B"
IMBALANCE_SELL = b"S"
IMBALANCE_NONE = b"N"
IMBALANCE_INSUFFICIENT = b"O"


def split(timestamp):
    """
    The (high 16 bits, low 32 bits) of a 48-bit timestamp.
    """
    return timestamp >> 32, timestamp & 0xFFFFFFFF


def stock(symbol):
    """
    A symbol as the 8-byte stock field.
    """
    return symbol.encode("ascii", "replace")[:8].ljust(8)


def systemEvent(tracking, timestamp, code):
    high, low = split(timestamp)
    return SYSTEM_EVENT.pack(b"S", 0, tracking, high, low, code)


def stockDirectory(locate, tracking, timestamp, symbol, roundLot=100, roundLotsOnly=b"N"):
    """
    A Stock Directory message for an ordinary listed common stock.
    """
    high, low = split(timestamp)
    return STOCK_DIRECTORY.pack(
        b"R", locate, tracking, high, low, stock(symbol),
        b"Q",  # market category: Nasdaq Global Select
        b"N",  # financial status: normal
        roundLot,
        roundLotsOnly,
        b"C",  # issue classification: common stock
        b"Z ",  # issue sub-type: none
        b"P",  # authenticity: live/production
        b"N",  # short sale threshold indicator
        b"N",  # IPO flag
        b"1",  # LULD reference price tier
        b"N",  # ETP flag
        0,  # ETP leverage factor
        b"N",  # inverse indicator
    )


def stockTradingAction(locate, tracking, timestamp, symbol, state=b"T", reason=b"    "):
    high, low = split(timestamp)
    return STOCK_TRADING_ACTION.pack(
        b"H", locate, tracking, high, low, stock(symbol), state, b" ", reason
    )


def addOrder(locate, tracking, timestamp, reference, side, shares, symbol, price):
    high, low = split(timestamp)
    return ADD_ORDER.pack(
        b"A", locate, tracking, high, low, reference, side, shares, stock(symbol), price
    )


def orderExecuted(locate, tracking, timestamp, reference, shares, matchNumber):
    high, low = split(timestamp)
    return ORDER_EXECUTED.pack(b"E", locate, tracking, high, low, reference, shares, matchNumber)


def orderExecutedWithPrice(locate, tracking, timestamp, reference, shares, matchNumber, price, printable=b"Y"):
    high, low = split(timestamp)
    return ORDER_EXECUTED_WITH_PRICE.pack(
        b"C", locate, tracking, high, low, reference, shares, matchNumber, printable, price
    )


def orderCancel(locate, tracking, timestamp, reference, shares):
    high, low = split(timestamp)
    return ORDER_CANCEL.pack(b"X", locate, tracking, high, low, reference, shares)


def orderDelete(locate, tracking, timestamp, reference):
    high, low = split(timestamp)
    return ORDER_DELETE.pack(b"D", locate, tracking, high, low, reference)


def orderReplace(locate, tracking, timestamp, original, new, shares, price):
    high, low = split(timestamp)
    return ORDER_REPLACE.pack(b"U", locate, tracking, high, low, original, new, shares, price)


def trade(locate, tracking, timestamp, shares, symbol, price, matchNumber, reference=0, side=b"B"):
    high, low = split(timestamp)
    return TRADE.pack(
        b"P", locate, tracking, high, low, reference, side, shares, stock(symbol), price, matchNumber
    )


def brokenTrade(locate, tracking, timestamp, matchNumber):
    high, low = split(timestamp)
    return BROKEN_TRADE.pack(b"B", locate, tracking, high, low, matchNumber)


def crossTrade(locate, tracking, timestamp, shares, symbol, price, matchNumber, crossType):
    high, low = split(timestamp)
    return CROSS_TRADE.pack(
        b"Q", locate, tracking, high, low, shares, stock(symbol), price, matchNumber, crossType
    )


def noii(
    locate, tracking, timestamp, paired, imbalance, direction, symbol, farPrice, nearPrice,
    referencePrice, crossType, variation=b" ",
):
    """
    A Net Order Imbalance Indicator message.
    """
    high, low = split(timestamp)
    return NOII.pack(
        b"I", locate, tracking, high, low, paired, imbalance, direction, stock(symbol),
        farPrice, nearPrice, referencePrice, crossType, variation,
    )


def decode(payload):
    """
    Decode one message: its fields as a tuple, with the timestamp joined
    back into one integer (type, locate, tracking, timestamp, ...).

    @raise SoupProtocolError: for an unknown type or a wrong size.
    """
    layout = LAYOUTS.get(payload[:1])
    if layout is None or len(payload) != layout.size:
        raise SoupProtocolError("not an ITCH 5.0 message exsim publishes: %r" % (payload[:40],))
    fields = layout.unpack(payload)
    return fields[:3] + ((fields[3] << 32) | fields[4],) + fields[5:]
