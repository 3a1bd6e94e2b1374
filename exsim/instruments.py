# -*- test-case-name: tests.test_instruments -*-
"""
Reference data: instruments from a file (C{load_instruments}, the
C{[instruments]} section), and the book properties that carry it.

A file is CSV (a header row naming the columns) or JSON (an array of
objects), one instrument a row.  Columns: C{symbol} (required),
C{tick_size} or C{tick_table}, C{lot_size}, C{price_decimals},
C{reference_price}, C{currency}, C{security_id}, C{security_id_source},
C{name}.  Each row creates a book named by its symbol on the engine, or
updates the engine's book of that symbol.  Every row is checked before
anything changes: an unknown column, a bad value, a repeated symbol is a
L{BadValue} naming the file, the line and the column, and nothing is
created or changed.

Each column is a book property (C{name} is C{instrument_name}), which
C{set_book_property} and C{[book:NAME]} sections set as well; they live on
the book's L{exsim.model.Instrument}.
"""

import csv
import io
import json
import os
import weakref
from decimal import Decimal

from exsim import registry
from exsim.errors import BadValue, ExsimError

#: The columns of an instruments file, in the order they are documented.
COLUMNS = (
    "symbol", "tick_size", "tick_table", "lot_size", "price_decimals", "reference_price",
    "currency", "security_id", "security_id_source", "name",
)

#: The book property each column (but C{symbol}) sets.
BOOK_PROPERTIES = {
    "tick_size": "tick_size",
    "tick_table": "tick_table",
    "lot_size": "lot_size",
    "price_decimals": "price_decimals",
    "reference_price": "reference_price",
    "currency": "currency",
    "security_id": "security_id",
    "security_id_source": "security_id_source",
    "name": "instrument_name",
}

#: SecurityIDSource (22) codes by name; the codes themselves are accepted too.
ID_SOURCES = {
    "cusip": "1",
    "sedol": "2",
    "quik": "3",
    "isin": "4",
    "ric": "5",
    "iso_currency": "6",
    "iso_country": "7",
    "exchange_symbol": "8",
    "cta": "9",
    "bloomberg": "A",
    "wertpapier": "B",
    "dutch": "C",
    "valoren": "D",
    "sicovam": "E",
    "belgian": "F",
    "common": "G",
}

#: The longest security id, name and security id source accepted.
MAX_ID = 64
MAX_NAME = 256
MAX_SOURCE = 4


def _text(name, value, limit):
    if value is None:
        return None
    text = str(value).strip()
    if not text or text.lower() == "none":
        return None
    if len(text) > limit:
        raise BadValue("%s must be at most %d characters, not %d" % (name, limit, len(text)))
    if not text.isprintable() or "|" in text:
        # It reaches the wire (FIX fields): no control characters, and no
        # "|", which stands for SOH in exsim's FIX texts.
        raise BadValue("%s must be printable text without '|', not %r" % (name, value))
    return text


def parseLotSize(value):
    """
    A lot size: a positive whole number (at most 10^9).
    """
    if isinstance(value, bool):
        raise BadValue("lot_size must be a positive whole number, not %r" % (value,))
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise BadValue("lot_size must be a positive whole number, not %r" % (value,))
    if not 0 < number <= 10**9:
        raise BadValue("lot_size must be between 1 and 1000000000, not %r" % (value,))
    return number


def _price(instrument, name, value):
    try:
        price = instrument.toInternal(value)
    except BadValue:
        price = 0
    if price <= 0:
        raise BadValue(
            "%s must be a positive decimal with at most %d decimal places, not %r"
            % (name, _scaleDecimals(instrument), value)
        )
    return price


def _scaleDecimals(instrument):
    return len(str(instrument.priceScale)) - 1


def parseTickTable(instrument, value):
    """
    A tick table: C{LOW:TICK} pairs (decimal prices) separated by C{;},
    commas or spaces, C{"0:0.0001; 1:0.01"} (a price from 0 up to 1 has
    ticks of 0.0001, from 1 on 0.01), or (from JSON or Python) a list of
    C{[low, tick]} pairs or C{{"from": low, "tick": tick}} objects;
    C{none} or empty for no table.

    @return: C{((low, tick), ...)} in internal units, or None.
    """
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        pairs = []
        for item in value:
            if isinstance(item, dict):
                unknown = set(item) - {"from", "tick"}
                if unknown or "tick" not in item:
                    raise BadValue(
                        "a tick table band must be {\"from\": price, \"tick\": tick}, not %r" % (item,)
                    )
                pairs.append((item.get("from", 0), item["tick"]))
            elif isinstance(item, (list, tuple)) and len(item) == 2:
                pairs.append(tuple(item))
            else:
                raise BadValue("a tick table band must be a [from, tick] pair, not %r" % (item,))
    else:
        text = str(value).strip()
        if not text or text.lower() == "none":
            return None
        pairs = []
        for part in text.replace(";", " ").replace(",", " ").split():
            low, sep, tick = part.partition(":")
            if not sep:
                raise BadValue(
                    "a tick table is LOW:TICK pairs (e.g. '0:0.0001; 1:0.01'), not %r" % (value,)
                )
            pairs.append((low, tick))
    if not pairs:
        raise BadValue("a tick table needs at least one band")
    table = []
    for low, tick in pairs:
        try:
            internalLow = instrument.toInternal(low)
        except BadValue:
            internalLow = -1
        if internalLow < 0:
            raise BadValue("tick table: %r is not a price" % (low,))
        table.append((internalLow, _price(instrument, "a tick table's tick", tick)))
    table.sort()
    scratch = _copy(instrument)
    scratch.setTickTable(table)
    return scratch.tickTable


def parsePriceDecimals(instrument, value):
    """
    The decimal places prices are shown with: 0 to the price scale's (4).
    """
    limit = _scaleDecimals(instrument)
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        number = -1
    if isinstance(value, bool) or not 0 <= number <= limit:
        raise BadValue(
            "price_decimals must be a whole number from 0 to %d (prices carry %d decimals "
            "in OUCH and ITCH), not %r" % (limit, limit, value)
        )
    return number


def parseCurrency(value):
    """
    An ISO 4217 currency code: three letters (made upper case).
    """
    text = _text("currency", value, 3)
    if text is not None and not (len(text) == 3 and text.isascii() and text.isalpha()):
        raise BadValue("currency must be a three-letter ISO 4217 code, not %r" % (value,))
    return None if text is None else text.upper()


def parseSecurityId(value):
    return _text("security_id", value, MAX_ID)


def parseSecurityIdSource(value):
    """
    A SecurityIDSource (22): a code (C{4}, C{1}, C{8}...) or its name
    (C{isin}, C{cusip}, C{exchange_symbol}...: L{ID_SOURCES}).
    """
    text = _text("security_id_source", value, 32)
    if text is None:
        return None
    code = ID_SOURCES.get(text.lower().replace(" ", "_"))
    if code is not None:
        return code
    if len(text) > MAX_SOURCE or not text.isalnum():
        raise BadValue(
            "security_id_source must be a FIX SecurityIDSource code or one of %s, not %r"
            % (", ".join(sorted(ID_SOURCES)), value)
        )
    return text


def parseInstrumentName(value):
    return _text("instrument_name", value, MAX_NAME)


def _copy(instrument):
    """
    A scratch copy of an instrument, to try changes on.
    """
    from exsim.model import Instrument

    copy = Instrument(instrument.symbol, instrument.tickSize, instrument.priceScale)
    for name in Instrument.__slots__:
        setattr(copy, name, getattr(instrument, name))
    return copy


def _decimals(instrument, price):
    exponent = instrument.toDecimal(price).normalize().as_tuple().exponent
    return max(0, -exponent)


def _checkDecimals(instrument):
    decimals = instrument.priceDecimals
    if decimals is None:
        return
    ticks = [instrument.tickSize] if instrument.tickTable is None else [t for _, t in instrument.tickTable]
    for tick in ticks:
        if _decimals(instrument, tick) > decimals:
            raise BadValue(
                "a tick of %s has more decimal places than price_decimals %d"
                % (instrument.toDecimal(tick), decimals)
            )


def applyProperty(instrument, name, value):
    """
    Set one reference-data property on C{instrument}.

    @raise BadValue: for a bad value; the instrument is then unchanged.
    """
    if name == "lot_size":
        instrument.setLotSize(parseLotSize(value))
    elif name == "tick_table":
        table = parseTickTable(instrument, value)
        scratch = _copy(instrument)
        scratch.setTickTable(table)
        _checkDecimals(scratch)
        instrument.setTickTable(table)
    elif name == "price_decimals":
        decimals = parsePriceDecimals(instrument, value)
        scratch = _copy(instrument)
        scratch.priceDecimals = decimals
        _checkDecimals(scratch)
        instrument.priceDecimals = decimals
    elif name == "currency":
        instrument.currency = parseCurrency(value)
    elif name == "security_id":
        instrument.securityId = parseSecurityId(value)
    elif name == "security_id_source":
        instrument.securityIdSource = parseSecurityIdSource(value)
    elif name == "instrument_name":
        instrument.name = parseInstrumentName(value)
    else:
        raise BadValue("unknown reference data property %r" % (name,))


#: The book properties of this module (registered as C{book_property}).
PROPERTIES = (
    "tick_table", "lot_size", "price_decimals", "currency", "security_id",
    "security_id_source", "instrument_name",
)


def setBookProperty(engine, book, name, value):
    """
    The C{book_property} handler of L{PROPERTIES}.
    """
    applyProperty(book.instrument, name, value)
    _securityIndex.pop(engine, None)


def registerBuiltins():
    """
    Register the reference-data book properties (unless a plugin took a
    name).
    """
    known = registry.entries("book_property")
    for name in PROPERTIES:
        if name not in known:
            registry.register("book_property", name, setBookProperty)


registerBuiltins()


# -- security ids -------------------------------------------------------------

#: {engine: {(security id, source): symbol}}, rebuilt when it misses.
_securityIndex = weakref.WeakKeyDictionary()


def findSecurity(engine, securityId, source=None):
    """
    The symbol of the book of C{engine} whose instrument has C{securityId}
    (and, if given, the SecurityIDSource C{source}), or None.
    """
    index = _securityIndex.get(engine)
    symbol = None
    if index is not None:
        symbol = index.get((securityId, source))
    books = engine.books
    if symbol is not None:
        book = books.get(symbol)
        if book is not None and book.instrument.securityId == securityId:
            return symbol
    index = {}
    for symbol, book in books.items():
        instrument = book.instrument
        if instrument.securityId is not None:
            index.setdefault((instrument.securityId, None), symbol)
            index.setdefault((instrument.securityId, instrument.securityIdSource), symbol)
    try:
        _securityIndex[engine] = index
    except TypeError:
        pass
    return index.get((securityId, source))


def describe(instrument):
    """
    An instrument's reference data as a plain dict (prices as decimal
    text).
    """

    def price(value):
        return str(instrument.toDecimal(value).normalize())

    return {
        "symbol": instrument.symbol,
        "tick_size": price(instrument.tickSize),
        "tick_table": None if instrument.tickTable is None else [
            (price(low), price(tick)) for low, tick in instrument.tickTable
        ],
        "lot_size": instrument.lotSize,
        "price_decimals": instrument.priceDecimals,
        "currency": instrument.currency,
        "security_id": instrument.securityId,
        "security_id_source": instrument.securityIdSource,
        "name": instrument.name,
    }


# -- files ---------------------------------------------------------------------


class _Row:
    """
    One instrument of a file: its values by column, and where it is.
    """

    def __init__(self, lineno, values, lines=None):
        self.lineno = lineno
        self.values = values
        #: {column: line} when columns are on lines of their own (JSON).
        self.lines = lines or {}

    def lineOf(self, column):
        return self.lines.get(column, self.lineno)


def _fileError(path, lineno, column, message):
    where = "%s, line %d" % (path, lineno)
    if column is not None:
        where += ", column %s" % (column,)
    return BadValue("%s: %s" % (where, message))


def readRows(path, shown=None):
    """
    The rows of an instruments file (named C{shown} in errors, by default
    its path).

    @return: a list of L{_Row}.
    @raise BadValue: naming the file (and line) if it cannot be read or
        parsed, or has an unknown column.
    """
    if shown is None:
        shown = path
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise BadValue("cannot read instruments file %s: %s" % (shown, e.strerror or e))
    path = shown
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise _fileError(path, line, None, "not UTF-8 text")
    kind = _format(path, text)
    rows = _jsonRows(path, text) if kind == "json" else _csvRows(path, text)
    for row in rows:
        for column in row.values:
            if column not in COLUMNS:
                raise _fileError(
                    path, row.lineOf(column), column,
                    "unknown column (known: %s)" % (", ".join(COLUMNS),),
                )
    return rows


def _format(path, text):
    extension = os.path.splitext(path)[1].lower()
    if extension == ".json":
        return "json"
    if extension in (".csv", ".txt"):
        return "csv"
    start = text.lstrip()[:1]
    if start in ("[", "{"):
        return "json"
    firstLine = text.lstrip().split("\n", 1)[0]
    if "symbol" in [cell.strip().lower() for cell in firstLine.split(",")]:
        return "csv"
    raise BadValue(
        "%s: unknown instruments file format (a .csv file with a header row, "
        "or a .json array of objects)" % (path,)
    )


def _csvRows(path, text):
    reader = csv.reader(io.StringIO(text, newline=""))
    header = None
    rows = []
    try:
        for cells in reader:
            lineno = reader.line_num
            if not cells or all(not c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                continue
            if header is None:
                header = [c.strip().lower() for c in cells]
                for i, name in enumerate(header):
                    if not name:
                        raise _fileError(path, lineno, i + 1, "a column without a name")
                    if name in header[:i]:
                        raise _fileError(path, lineno, name, "column given twice")
                    if name not in COLUMNS:
                        raise _fileError(
                            path, lineno, name, "unknown column (known: %s)" % (", ".join(COLUMNS),)
                        )
                if "symbol" not in header:
                    raise _fileError(path, lineno, None, "no symbol column in the header row")
                continue
            if len(cells) > len(header):
                raise _fileError(
                    path, lineno, len(header) + 1,
                    "%d values for %d columns" % (len(cells), len(header)),
                )
            values = {}
            for name, cell in zip(header, cells):
                cell = cell.strip()
                if cell:
                    values[name] = cell
            rows.append(_Row(lineno, values))
    except csv.Error as e:
        raise _fileError(path, reader.line_num, None, "not valid CSV: %s" % (e,))
    if header is None:
        raise BadValue("%s: no header row (an instruments file names its columns first)" % (path,))
    return rows


def _jsonRows(path, text):
    decoder = json.JSONDecoder(parse_float=Decimal)
    index = len(text) - len(text.lstrip())
    def line(offset):
        return text.count("\n", 0, offset) + 1
    if text[index:index + 1] != "[":
        raise _fileError(path, line(index), None, "a JSON instruments file is an array of objects")
    index += 1
    rows = []
    while True:
        while index < len(text) and text[index] in " \t\r\n":
            index += 1
        if text[index:index + 1] == "]":
            index += 1
            break
        if rows:
            if text[index:index + 1] != ",":
                raise _fileError(path, line(index), None, "expected ',' or ']' in the array")
            index += 1
            while index < len(text) and text[index] in " \t\r\n":
                index += 1
        start = index
        try:
            item, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError as e:
            raise _fileError(path, e.lineno, None, "not valid JSON: %s" % (e.msg,))
        if not isinstance(item, dict):
            raise _fileError(path, line(start), None, "each instrument must be a JSON object")
        lines = {}
        chunk = text[start:index]
        for key in item:
            found = chunk.find(json.dumps(key))
            if found >= 0:
                lines[key] = line(start + found)
        values = {}
        for key, value in item.items():
            if value is None or value == "":
                continue
            if isinstance(value, (dict, bool)) or (isinstance(value, list) and key != "tick_table"):
                # (A tick table may be a list of bands.)
                raise _fileError(path, lines.get(key, line(start)), key, "not a text or a number: %r" % (value,))
            values[key] = value
        rows.append(_Row(line(start), values, lines))
    if text[index:].strip():
        raise _fileError(path, line(index), None, "text after the JSON array")
    return rows


def _number(value):
    """
    A JSON number as text (prices stay exact: floats are parsed as
    Decimal); in lists and objects too.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, list):
        return [_number(v) for v in value]
    if isinstance(value, dict):
        return {k: _number(v) for k, v in value.items()}
    return value


def plan(rows, path, engine, engineName, simulator):
    """
    Check every row against a copy of its instrument (the engine's, or a
    new one).

    @return: a list of (symbol, existing book name or None, [(book
        property, value)]), in file order.
    @raise BadValue: naming the file, line and column of the first
        problem.
    """
    from exsim.model import Instrument
    from exsim.service import _name

    seen = {}
    steps = []
    bySymbol = {
        s: n for n, s in simulator.bookSymbols.items() if simulator.bookEngines.get(n) == engineName
    }
    for row in rows:
        values = row.values

        def fail(column, message):
            return _fileError(path, row.lineOf(column), column, message)

        if "symbol" not in values:
            raise fail("symbol", "no symbol")
        try:
            symbol = _name(str(_number(values["symbol"])), "symbol")
        except BadValue as e:
            raise fail("symbol", str(e))
        if symbol in seen:
            raise fail("symbol", "%r is given twice (also on line %d)" % (symbol, seen[symbol]))
        seen[symbol] = row.lineno
        existing = bySymbol.get(symbol)
        if existing is None and symbol in simulator.bookEngines:
            raise fail(
                "symbol",
                "a book %r exists on engine %r" % (symbol, simulator.bookEngines[symbol]),
            )
        if existing is None and symbol in engine.books:
            raise fail("symbol", "engine %r has a book for %r already" % (engineName, symbol))
        if existing is not None:
            scratch = _copy(engine.books[symbol].instrument)
        else:
            scratch = Instrument(symbol)
        if "tick_size" in values and "tick_table" in values:
            raise fail("tick_table", "give tick_size or tick_table, not both")
        properties = []
        try:
            column = None
            if "tick_size" in values:
                column = "tick_size"
                tick = _price(scratch, "tick_size", _number(values["tick_size"]))
                scratch.setTickTable(None)
                scratch.tickSize = tick
                properties.append(("tick_table", "none"))
                properties.append(("tick_size", _number(values["tick_size"])))
            elif "tick_table" in values:
                column = "tick_table"
                value = _number(values["tick_table"])
                scratch.setTickTable(parseTickTable(scratch, value))
                properties.append(("tick_table", value))
            elif "price_decimals" in values and existing is None:
                # A new instrument's tick is its smallest price step.
                column = "price_decimals"
                decimals = parsePriceDecimals(scratch, _number(values["price_decimals"]))
                scratch.tickSize = scratch.priceScale // 10**decimals
                properties.append(("tick_size", str(scratch.toDecimal(scratch.tickSize))))
            for column in ("lot_size", "price_decimals", "currency", "security_id",
                           "security_id_source", "name"):
                if column in values:
                    value = _number(values[column])
                    prop = BOOK_PROPERTIES[column]
                    applyProperty(scratch, prop, value)
                    properties.append((prop, value))
            if "reference_price" in values:
                column = "reference_price"
                value = _number(values["reference_price"])
                _price(scratch, "reference_price", value)
                properties.append(("reference_price", value))
            column = None
            _checkDecimals(scratch)
        except BadValue as e:
            raise fail(column, str(e))
        steps.append((symbol, existing, properties))
    return steps


def loadInstruments(simulator, engineName, path, shown=None):
    """
    Load an instruments file onto an engine of C{simulator} (what
    L{exsim.service.Simulator.load_instruments} does); errors name it
    C{shown} (by default its path).

    @return: C{{"created": n, "updated": m}}.
    """
    engine = simulator.engine(engineName)
    if not isinstance(path, str) or not path.strip():
        raise BadValue("an instruments file path must be a non-empty string, not %r" % (path,))
    path = path.strip()
    rows = readRows(path, shown)
    path = path if shown is None else shown
    steps = plan(rows, path, engine, engineName, simulator)
    created = updated = 0
    for symbol, existing, properties in steps:
        if existing is None:
            simulator.create_book(symbol, engineName, symbol)
            bookName = symbol
            created += 1
        else:
            bookName = existing
            updated += 1
        for name, value in properties:
            try:
                simulator.set_book_property(bookName, name, value)
            except ExsimError as e:
                # Checked above; a failure here is a bug, said as such.
                raise BadValue(
                    "%s: instrument %s, property %s: %s (after %d instruments were loaded)"
                    % (path, symbol, name, e, created + updated - 1)
                )
    _securityIndex.pop(engine, None)
    return {"created": created, "updated": updated}

