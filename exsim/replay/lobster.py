# -*- test-case-name: tests.test_replay -*-
"""
LOBSTER message files (lobsterdata.com): one event a line, six columns,
no header: time (seconds after midnight, a decimal), type, order id,
size, price (in units of 1/C{price_scale}, 10,000 by default: a dollar
price times 10,000) and direction (1 buy, -1 sell).  A file is one
symbol's: it replays into whatever book it is started on.

Types: 1 new limit order -> ADD; 2 partial cancel -> CANCEL; 3 deletion
-> DELETE; 4 execution of a visible order -> EXECUTE; 5 execution of a
hidden order and 6 a cross trade -> TRADE (the last price moves); 7 a
trading halt is read and left aside.
"""

from exsim.replay.recording import (
    ADD,
    CANCEL,
    DELETE,
    EXECUTE,
    SECOND,
    TRADE,
    ReplayError,
    openFile,
    readBlock,
    scaledPrice,
)

#: LOBSTER prices: a dollar price times 10,000.
DEFAULT_SCALE = 10000


def _isNumber(text):
    try:
        float(text)
    except ValueError:
        return False
    return True


def sniff(head):
    """
    Whether C{head} starts like a LOBSTER message file: a line of six
    numbers, the second a type from 1 to 7.
    """
    try:
        line = head.split(b"\n", 1)[0].decode("ascii").strip()
    except UnicodeDecodeError:
        return False
    cells = line.split(",")
    return (
        len(cells) == 6
        and all(_isNumber(c) for c in cells)
        and cells[1].strip() in ("1", "2", "3", "4", "5", "6", "7")
    )


def parseScale(value):
    """
    A price scale: a positive whole number (C{10000} for LOBSTER's own).
    """
    if value is None:
        return DEFAULT_SCALE
    try:
        scale = int(str(value).strip())
    except ValueError:
        scale = 0
    if isinstance(value, bool) or scale <= 0:
        raise ReplayError("price_scale must be a positive whole number, not %r" % (value,))
    return scale


def _nanos(text):
    """
    Seconds after midnight (a decimal) as nanoseconds, exactly.
    """
    whole, _, fraction = text.partition(".")
    return int(whole) * SECOND + int((fraction + "000000000")[:9] or 0)


class Recording:
    """
    A LOBSTER message file as replay actions.
    """

    format = "lobster"

    def __init__(self, path, symbol, instrument, priceScale=None, name=None):
        self.path = path
        self.name = name or path
        self.symbol = symbol
        self.fromScale = parseScale(priceScale)
        self.scale = instrument.priceScale
        self.messages = 0
        self._file = openFile(path)
        self._rest = b""
        self._line = 0
        self._eof = False

    def close(self):
        self._file.close()

    def _lines(self):
        block = readBlock(self._file, self.name)
        if not block:
            self._eof = True
            lines = [self._rest] if self._rest.strip() else []
            self._rest = b""
            return lines
        lines = (self._rest + block).split(b"\n")
        self._rest = lines.pop()
        return lines

    def read(self, count):
        actions = []
        append = actions.append
        fromScale, scale = self.fromScale, self.scale
        while len(actions) < count and not self._eof:
            for raw in self._lines():
                self._line += 1
                line = raw.strip()
                if not line:
                    continue
                cells = line.split(b",")
                where = "line %d" % (self._line,)
                if len(cells) != 6:
                    raise ReplayError(
                        "%s, %s: %d columns, not 6 (time, type, order id, size, price, direction)"
                        % (self.name, where, len(cells))
                    )
                try:
                    time = _nanos(cells[0].strip().decode("ascii"))
                    kind = int(cells[1])
                    ref = int(cells[2])
                    size = int(cells[3])
                    price = int(cells[4])
                    direction = int(cells[5])
                except (ValueError, UnicodeDecodeError):
                    raise ReplayError("%s, %s: not a LOBSTER message: %r" % (self.name, where, line[:80]))
                if kind == 7:
                    self.messages += 1
                    continue
                if not 1 <= kind <= 6 or direction not in (1, -1) or size < 0:
                    raise ReplayError("%s, %s: not a LOBSTER message: %r" % (self.name, where, line[:80]))
                if price > 0 and fromScale != scale:
                    price = scaledPrice(self.name, where, price, fromScale, scale)
                if kind == 1:
                    append((time, ADD, ref, direction == 1, size, price))
                elif kind == 2:
                    append((time, CANCEL, ref, size, None, None))
                elif kind == 3:
                    append((time, DELETE, ref, None, None, None))
                elif kind == 4:
                    append((time, EXECUTE, ref, size, None, None))
                elif size and price > 0:
                    append((time, TRADE, size, price, None, None))
                self.messages += 1
            if len(actions) >= count:
                break
        return actions
