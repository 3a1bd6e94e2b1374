# -*- test-case-name: tests.test_ouch_codec -*-
"""
OUCH 4.2 message layouts (Nasdaq OUCH 4.2 specification).

Integers are big-endian and unsigned; prices are 4-byte integers with four
implied decimals; alphanumeric fields are left-justified and padded with
spaces; timestamps are 8-byte nanoseconds since midnight.

Inbound (client to server): Enter Order C{O} (49 bytes), Replace Order
C{U} (47), Cancel Order C{X} (19), Modify Order C{M} (20).  Outbound:
System Event C{S} (10), Accepted C{A} (66), Replaced C{U} (80), Canceled
C{C} (28), Executed C{E} (40), Broken Trade C{B} (32), Rejected C{J} (24),
Cancel Pending C{P} (23), Cancel Reject C{I} (23).
"""

import struct

from exsim.soup.packets import SoupProtocolError

#: Price meaning "market order" (0x7FFFFFFF = 214748.3647).
MARKET_PRICE = 0x7FFFFFFF

#: Time in force values with a meaning of their own; any other value is a
#: number of seconds.
TIF_IOC = 0
TIF_MARKET_HOURS = 99998
TIF_SYSTEM_HOURS = 99999

ENTER_ORDER = struct.Struct(">c14scI8sII4scccIcc")
REPLACE_ORDER = struct.Struct(">c14s14sIIIccI")
CANCEL_ORDER = struct.Struct(">c14sI")
MODIFY_ORDER = struct.Struct(">c14scI")

SYSTEM_EVENT = struct.Struct(">cQc")
ACCEPTED = struct.Struct(">cQ14scI8sII4scQccIccc")
REPLACED = struct.Struct(">cQ14scI8sII4scQccIcc14sc")
CANCELED = struct.Struct(">cQ14sIc")
EXECUTED = struct.Struct(">cQ14sIIcQ")
BROKEN_TRADE = struct.Struct(">cQ14sQc")
REJECTED = struct.Struct(">cQ14sc")
CANCEL_PENDING = struct.Struct(">cQ14s")
CANCEL_REJECT = struct.Struct(">cQ14s")

#: Inbound message type -> layout.
INBOUND = {
    b"O": ENTER_ORDER,
    b"U": REPLACE_ORDER,
    b"X": CANCEL_ORDER,
    b"M": MODIFY_ORDER,
}

#: Outbound message type -> layout.
OUTBOUND = {
    b"S": SYSTEM_EVENT,
    b"A": ACCEPTED,
    b"U": REPLACED,
    b"C": CANCELED,
    b"E": EXECUTED,
    b"B": BROKEN_TRADE,
    b"J": REJECTED,
    b"P": CANCEL_PENDING,
    b"I": CANCEL_REJECT,
}

# Cancel reasons.
CANCEL_USER = b"U"
CANCEL_IOC = b"I"
CANCEL_TIMEOUT = b"T"
CANCEL_SUPERVISORY = b"S"
CANCEL_REGULATORY = b"D"
CANCEL_SELF_MATCH = b"Q"
CANCEL_SYSTEM = b"Z"
CANCEL_CROSS = b"C"
CANCEL_HALTED = b"H"
CANCEL_CLOSED = b"E"

# Reject reasons.
REJECT_TEST_MODE = b"T"
REJECT_HALTED = b"H"
REJECT_SHARES = b"Z"
REJECT_INVALID_STOCK = b"S"
REJECT_INVALID_DISPLAY = b"D"
REJECT_CLOSED = b"C"
REJECT_FIRM = b"L"
REJECT_NOT_ALLOWED = b"R"
REJECT_INVALID_PRICE = b"X"
REJECT_INVALID_MIN_QTY = b"N"
REJECT_OTHER = b"O"

LIQUIDITY_ADDED = b"A"
LIQUIDITY_REMOVED = b"R"
LIQUIDITY_OPENING_CROSS = b"O"
LIQUIDITY_CLOSING_CROSS = b"C"
LIQUIDITY_HALT_CROSS = b"H"

# Cross types of Enter Order.
CROSS_NONE = b"N"
CROSS_OPENING = b"O"
CROSS_CLOSING = b"C"
CROSS_HALT = b"H"

ORDER_LIVE = b"L"
ORDER_DEAD = b"D"


def alpha(text, size):
    """
    Encode text left-justified and padded with spaces (cut to C{size}).
    """
    data = text.encode("ascii", "replace") if isinstance(text, str) else text
    return data[:size].ljust(size)


def text(data):
    """
    Decode an alphanumeric field: ASCII, trailing spaces removed.

    @raise SoupProtocolError: if it is not ASCII.
    """
    try:
        return data.rstrip(b" ").decode("ascii")
    except UnicodeDecodeError:
        raise SoupProtocolError("alphanumeric field %r is not ASCII" % (data,))


def decode(payload):
    """
    Decode one inbound message.

    @return: the tuple of its fields (the type first), as raw values.
    @raise SoupProtocolError: for an unknown type or a wrong size.
    """
    layout = INBOUND.get(payload[:1])
    if layout is None:
        raise SoupProtocolError("unknown OUCH message type %r" % (payload[:1],))
    if len(payload) != layout.size:
        raise SoupProtocolError(
            "OUCH %r message must be %d bytes, not %d"
            % (payload[:1].decode("latin-1"), layout.size, len(payload))
        )
    return layout.unpack(payload)


def decodeOutbound(payload):
    """
    Decode one outbound message (for tests and tools).

    @raise SoupProtocolError: for an unknown type or a wrong size.
    """
    layout = OUTBOUND.get(payload[:1])
    if layout is None or len(payload) != layout.size:
        raise SoupProtocolError("not an OUCH 4.2 outbound message: %r" % (payload,))
    return layout.unpack(payload)


def enterOrder(
    token, side, shares, stock, price, timeInForce=TIF_MARKET_HOURS, firm=b"",
    display=b"Y", capacity=b"A", iso=b"N", minimumQuantity=0, crossType=b"N",
    customerType=b" ",
):
    """
    An Enter Order message, as a client sends it (tests, benchmarks).
    """
    return ENTER_ORDER.pack(
        b"O", alpha(token, 14), side, shares, alpha(stock, 8), price, timeInForce,
        alpha(firm, 4), display, capacity, iso, minimumQuantity, crossType, customerType,
    )


def replaceOrder(
    existing, replacement, shares, price, timeInForce=TIF_MARKET_HOURS, display=b"Y",
    iso=b"N", minimumQuantity=0,
):
    """
    A Replace Order message, as a client sends it.
    """
    return REPLACE_ORDER.pack(
        b"U", alpha(existing, 14), alpha(replacement, 14), shares, price, timeInForce,
        display, iso, minimumQuantity,
    )


def cancelOrder(token, shares=0):
    """
    A Cancel Order message, as a client sends it.
    """
    return CANCEL_ORDER.pack(b"X", alpha(token, 14), shares)


def systemEvent(timestamp, code):
    return SYSTEM_EVENT.pack(b"S", timestamp, code)


def canceled(timestamp, token, decrement, reason):
    return CANCELED.pack(b"C", timestamp, alpha(token, 14), decrement, reason)


def executed(timestamp, token, shares, price, liquidity, matchNumber):
    return EXECUTED.pack(b"E", timestamp, alpha(token, 14), shares, price, liquidity, matchNumber)


def brokenTrade(timestamp, token, matchNumber, reason):
    return BROKEN_TRADE.pack(b"B", timestamp, alpha(token, 14), matchNumber, reason)


def rejected(timestamp, token, reason):
    return REJECTED.pack(b"J", timestamp, alpha(token, 14), reason)


def cancelPending(timestamp, token):
    return CANCEL_PENDING.pack(b"P", timestamp, alpha(token, 14))


def cancelReject(timestamp, token):
    return CANCEL_REJECT.pack(b"I", timestamp, alpha(token, 14))
