# -*- test-case-name: tests.test_replay -*-
"""
A CSV file of top-of-book quotes and trades, with a header row naming its
columns: C{time} (required: seconds after midnight, C{HH:MM:SS[.f]}, or a
date and time), C{bid}, C{bid_size}, C{ask}, C{ask_size}, C{trade_price},
C{trade_size}, and C{symbol} (optional: rows of other symbols are left
aside).  Prices are decimals.

A row with any quote column is a QUOTE (an empty side: no quote on it); a
row with a trade price is a TRADE (the last price moves).  The player keeps
one replay order per side at the quoted price and size.
"""

import csv
import io

from exsim.errors import BadValue
from exsim.replay.recording import QUOTE, TRADE, ReplayError, openFile, parseTime, readBlock

COLUMNS = ("time", "bid", "bid_size", "ask", "ask_size", "trade_price", "trade_size", "symbol")
_QUOTE_COLUMNS = ("bid", "bid_size", "ask", "ask_size")


def _header(head):
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    for line in text.split("\n"):
        line = line.strip()
        if line and not line.startswith("#"):
            return [cell.strip().lower() for cell in line.split(",")]
    return None


def sniff(head):
    """
    Whether C{head} starts (after comment lines, C{#}) with a quotes header
    row: C{time} and quote or trade columns.
    """
    header = _header(head)
    return bool(header) and "time" in header and any(
        c in header for c in _QUOTE_COLUMNS + ("trade_price",)
    )


class Recording:
    """
    A quotes CSV as replay actions.
    """

    format = "quotes"

    def __init__(self, path, symbol, instrument, priceScale=None, name=None):
        self.path = path
        self.name = name = name or path
        self.symbol = symbol
        self.instrument = instrument
        if priceScale is not None:
            raise ReplayError("a quotes file has decimal prices: price_scale does not apply")
        self.messages = 0
        f = openFile(path)
        try:
            data = b""
            while True:
                block = readBlock(f, name)
                if not block:
                    break
                data += block
        finally:
            f.close()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise ReplayError("%s, line %d: not UTF-8 text" % (name, data[: e.start].count(b"\n") + 1))
        # (lineno, cells) of every row that is not blank or a comment.
        reader = csv.reader(io.StringIO(text, newline=""))
        rows = []
        try:
            for cells in reader:
                if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                    continue
                rows.append((reader.line_num, cells))
        except csv.Error as e:
            raise ReplayError("%s, line %d: not valid CSV: %s" % (name, reader.line_num, e))
        if not rows:
            raise ReplayError("%s: no header row" % (name,))
        lineno, header = rows.pop(0)
        header = [c.strip().lower() for c in header]
        unknown = [c for c in header if c not in COLUMNS]
        if unknown or "time" not in header:
            raise ReplayError(
                "%s, line %d: a quotes file's header names its columns: time and any of %s%s"
                % (name, lineno, ", ".join(COLUMNS[1:]),
                   " (unknown: %s)" % (", ".join(unknown),) if unknown else "")
            )
        self._columns = header
        if "symbol" in header:
            index = header.index("symbol")
            if not any(len(r) > index and r[index].strip() == symbol for _, r in rows):
                raise ReplayError("%s: symbol %s is not in the file" % (name, symbol))
        self._rows = iter(rows)

    def close(self):
        pass

    def _price(self, where, column, text):
        try:
            price = self.instrument.toInternal(text)
        except BadValue:
            price = 0
        if price <= 0:
            raise ReplayError("%s, %s, column %s: %r is not a positive price" % (self.name, where, column, text))
        return price

    def _size(self, where, column, text):
        try:
            size = int(text)
        except ValueError:
            size = -1
        if size < 0:
            raise ReplayError("%s, %s, column %s: %r is not a size" % (self.name, where, column, text))
        return size

    def read(self, count):
        actions = []
        columns = self._columns
        while len(actions) < count:
            item = next(self._rows, None)
            if item is None:
                break
            lineno, row = item
            where = "line %d" % (lineno,)
            if len(row) > len(columns):
                raise ReplayError("%s, %s: %d values for %d columns" % (self.name, where, len(row), len(columns)))
            values = {c: v.strip() for c, v in zip(columns, row) if v.strip()}
            if values.get("symbol", self.symbol) != self.symbol:
                continue
            if "time" not in values:
                raise ReplayError("%s, %s, column time: no time" % (self.name, where))
            try:
                time = parseTime(values["time"])
            except BadValue as e:
                raise ReplayError("%s, %s, column time: %s" % (self.name, where, e))
            self.messages += 1
            if any(c in values for c in _QUOTE_COLUMNS):
                sides = []
                for price, size in (("bid", "bid_size"), ("ask", "ask_size")):
                    if price in values and values.get(size, "0") != "0":
                        sides.append(self._price(where, price, values[price]))
                        sides.append(self._size(where, size, values.get(size, "")))
                    elif size in values and values[size] != "0" and price not in values:
                        raise ReplayError("%s, %s, column %s: a size without a price" % (self.name, where, price))
                    else:
                        sides.extend((None, None))
                bid, bidSize, ask, askSize = sides
                if bid is not None and ask is not None and bid >= ask:
                    raise ReplayError("%s, %s: the quote is crossed (bid %s, ask %s)"
                                      % (self.name, where, values["bid"], values["ask"]))
                actions.append((time, QUOTE, bid, bidSize, ask, askSize))
            if "trade_price" in values:
                price = self._price(where, "trade_price", values["trade_price"])
                size = self._size(where, "trade_size", values.get("trade_size", "0"))
                actions.append((time, TRADE, size, price, None, None))
        return actions

