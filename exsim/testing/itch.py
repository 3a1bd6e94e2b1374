# -*- test-case-name: tests.test_testing_soup -*-
"""
An ITCH 5.0 client for tests: reads a feed over SoupBinTCP
(L{ItchClient}) or from a file (L{ItchFile}: each message preceded by its
two-byte big-endian length, the format of Nasdaq's ITCH files, which
C{ItchClient(record=PATH)} writes), decodes every message into an
L{ItchMessage} and keeps a L{BookView} of every symbol, whose C{get_book}
answers in the shape of exsim's C{get_book}:

    feed = ItchClient(host, port, "feed", "feed")
    feed.login()
    feed.wait_for("A", stock="AAPL")
    assert feed.get_book("AAPL")["bids"] == server.get_book("AAPL")["bids"]
"""

import struct
from decimal import Decimal

from exsim.soup import itch50
from exsim.testing.ouch import OuchMessage, SoupClient

__all__ = ["BookView", "ItchClient", "ItchFile", "ItchMessage", "decodeItch"]

PRICE_SCALE = 10000

#: Message type -> its field names after type, locate, tracking, timestamp.
FIELDS = {
    b"S": ("event_code",),
    b"R": ("stock", "market_category", "financial_status", "round_lot_size",
           "round_lots_only", "issue_classification", "issue_subtype", "authenticity",
           "short_sale_threshold", "ipo_flag", "luld_tier", "etp_flag",
           "etp_leverage_factor", "inverse_indicator"),
    b"H": ("stock", "trading_state", "reserved", "reason"),
    b"A": ("order_reference", "side", "shares", "stock", "price"),
    b"F": ("order_reference", "side", "shares", "stock", "price", "attribution"),
    b"E": ("order_reference", "executed_shares", "match_number"),
    b"C": ("order_reference", "executed_shares", "match_number", "printable",
           "execution_price"),
    b"X": ("order_reference", "cancelled_shares"),
    b"D": ("order_reference",),
    b"U": ("original_order_reference", "new_order_reference", "shares", "price"),
    b"P": ("order_reference", "side", "shares", "stock", "price", "match_number"),
    b"B": ("match_number",),
}

_PRICES = ("price", "execution_price")


class ItchMessage(OuchMessage):
    """
    One decoded ITCH message: named fields (C{stock_locate},
    C{tracking_number}, C{timestamp}, then the type's own), text stripped,
    prices as L{Decimal}; C{msg_type}; C{raw}.
    """

    def __repr__(self):
        return "<ItchMessage %s %s>" % (
            self.msg_type,
            " ".join("%s=%r" % (k, v) for k, v in self.items()
                     if k not in ("type", "timestamp", "tracking_number")),
        )


def decodeItch(payload):
    """
    One ITCH 5.0 message as an L{ItchMessage}; a type exsim does not
    publish keeps its bytes as C{payload}.
    """
    msgType = payload[:1]
    names = FIELDS.get(msgType)
    try:
        values = itch50.decode(payload) if names is not None else None
    except (struct.error, ValueError):
        values = None
    if values is None:
        return ItchMessage(msgType.decode("latin-1"), {"payload": payload[1:]}, payload)
    fields = {"stock_locate": values[1], "tracking_number": values[2], "timestamp": values[3]}
    for name, raw in zip(names, values[4:]):
        if isinstance(raw, bytes):
            raw = raw.rstrip(b" ").decode("latin-1")
        elif name in _PRICES:
            raw = Decimal(raw) / PRICE_SCALE
        fields[name] = raw
    return ItchMessage(msgType.decode("latin-1"), fields, payload)


def formatPrice(price, tickSize):
    """
    A price as exsim's C{get_book} writes it: at least the decimals of the
    tick size (C{"150.50"} for a tick of 0.01).
    """
    price = price.normalize()
    tick = Decimal(str(tickSize)).normalize()
    if price.as_tuple().exponent > tick.as_tuple().exponent:
        price = price.quantize(tick)
    return str(price)


class BookView:
    """
    The books an ITCH feed describes, rebuilt from its messages
    (L{apply}).

    @ivar orders: {order reference: [stock, side ("B"/"S"), shares, price]}.
    @ivar trading_state: {stock: the last Stock Trading Action's state}.
    """

    def __init__(self):
        self.orders = {}
        self.trading_state = {}
        self.symbols = []

    def apply(self, message):
        t = message.msg_type
        orders = self.orders
        if t in ("A", "F"):
            orders[message["order_reference"]] = [
                message["stock"], message["side"], message["shares"], message["price"],
            ]
        elif t in ("E", "C"):
            order = orders.get(message["order_reference"])
            if order is not None:
                order[2] -= message["executed_shares"]
                if order[2] <= 0:
                    del orders[message["order_reference"]]
        elif t == "X":
            order = orders.get(message["order_reference"])
            if order is not None:
                order[2] -= message["cancelled_shares"]
                if order[2] <= 0:
                    del orders[message["order_reference"]]
        elif t == "D":
            orders.pop(message["order_reference"], None)
        elif t == "U":
            order = orders.pop(message["original_order_reference"], None)
            if order is not None:
                orders[message["new_order_reference"]] = [
                    order[0], order[1], message["shares"], message["price"],
                ]
        elif t == "R":
            if message["stock"] not in self.symbols:
                self.symbols.append(message["stock"])
        elif t == "H":
            self.trading_state[message["stock"]] = message["trading_state"]

    def get_book(self, symbol, depth=10, tick_size="0.01"):
        """
        The book of C{symbol}: C{{"symbol", "bids", "asks"}}, each side a
        list of (price text, quantity, order count), best first, at most
        C{depth} levels; prices written as exsim's C{get_book} writes them
        for a book of C{tick_size}.
        """
        levels = {"B": {}, "S": {}}
        for stock, side, shares, price in self.orders.values():
            if stock == symbol:
                level = levels[side].setdefault(price, [0, 0])
                level[0] += shares
                level[1] += 1

        def side(book, best):
            prices = sorted(book, reverse=best)[:depth]
            return [(formatPrice(p, tick_size), book[p][0], book[p][1]) for p in prices]

        return {"symbol": symbol, "bids": side(levels["B"], True), "asks": side(levels["S"], False)}


class ItchClient(SoupClient):
    """
    An ITCH 5.0 feed client over SoupBinTCP (blocking); by default it
    logs in from sequence number 1, so its L{BookView} is complete.

    @param record: a path: every message received is appended to it in
        the ITCH file format (see L{ItchFile}).
    @ivar book: the L{BookView}.
    """

    def __init__(self, host, port, username, password, session="", sequence=1, timeout=10.0,
                 tls=None, server_hostname=None, record=None):
        self.book = BookView()
        self._record = open(record, "ab") if record is not None else None
        SoupClient.__init__(self, host, port, username, password, session, sequence, timeout,
                            tls, server_hostname)

    def decode(self, payload):
        message = decodeItch(payload)
        self.book.apply(message)
        if self._record is not None:
            self._record.write(struct.pack(">H", len(payload)) + payload)
        return message

    def get_book(self, symbol, depth=10, tick_size="0.01"):
        """
        See L{BookView.get_book}.
        """
        return self.book.get_book(symbol, depth, tick_size)

    def close(self):
        SoupClient.close(self)
        if self._record is not None:
            self._record.close()
            self._record = None


class ItchFile:
    """
    The messages of an ITCH file (each message preceded by its length, two
    bytes big-endian), decoded, with their L{BookView}.

    @ivar messages: the L{ItchMessage}s in file order.
    @ivar book: the L{BookView} after the last one.
    """

    def __init__(self, path):
        self.book = BookView()
        self.messages = []
        with open(path, "rb") as f:
            data = f.read()
        offset = 0
        while offset + 2 <= len(data):
            (length,) = struct.unpack_from(">H", data, offset)
            payload = data[offset + 2 : offset + 2 + length]
            if len(payload) < length:
                raise ValueError("%s: truncated message at byte %d" % (path, offset))
            message = decodeItch(payload)
            self.book.apply(message)
            self.messages.append(message)
            offset += 2 + length

    def get_book(self, symbol, depth=10, tick_size="0.01"):
        return self.book.get_book(symbol, depth, tick_size)
