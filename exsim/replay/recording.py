# -*- test-case-name: tests.test_replay -*-
"""
Recorded market data as a stream of actions on one book, whatever the
file's format: the formats (L{exsim.replay.itch}, L{exsim.replay.lobster},
L{exsim.replay.quotes}) read a file and give these; the player
(L{exsim.replay.player}) applies them.

An action is a tuple C{(time, kind, a, b, c, d)}: C{time} is the recorded
time in nanoseconds since midnight; prices are in the book's internal
units; C{kind} is one of:

 - L{ADD}: C{(reference, isBuy, shares, price)}: a new order rests;
 - L{EXECUTE}: C{(reference, shares, price or None)}: shares of a
   resting order traded (at its own price when None);
 - L{CANCEL}: C{(reference, shares)}: shares of an order are cancelled;
 - L{DELETE}: C{(reference,)}: an order is gone;
 - L{REPLACE}: C{(old reference, new reference, shares, price)}: an
   order is replaced by a new one (which loses priority);
 - L{TRADE}: C{(shares, price)}: a trade with no resting order of the
   recording (non-displayed, a cross, a trade print): the last price
   moves;
 - L{QUOTE}: C{(bid, bid size, ask, ask size)}: the top of the book, a
   side None when it has no quote.

Missing fields are None.
"""

import gzip
import re
import zlib
from decimal import Decimal, InvalidOperation

from exsim.errors import BadValue

ADD, EXECUTE, CANCEL, DELETE, REPLACE, TRADE, QUOTE = range(1, 8)

#: Nanoseconds in a second, and in a day.
SECOND = 10**9
DAY = 86400 * SECOND

#: Bytes read from a file at a time.
BLOCK = 1 << 20


class ReplayError(BadValue):
    """
    A recording cannot be read: its format is unknown, it is truncated or
    corrupt, or it has nothing for the book's symbol.  The message names
    the file and where.
    """


def openFile(path, name=None):
    """
    Open a recording for reading, decompressing it if it is gzip.

    @param name: what errors call it (default: C{path}).
    @return: a binary file object.
    @raise ReplayError: if it cannot be opened.
    """
    if not isinstance(path, str) or not path.strip():
        raise ReplayError("a replay source must be a file path, not %r" % (path,))
    try:
        f = open(path, "rb")
    except OSError as e:
        raise ReplayError("cannot read %s: %s" % (name or path, e.strerror or e))
    magic = f.read(2)
    f.seek(0)
    if magic == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f, mode="rb")
    return f


def readBlock(f, path, size=BLOCK):
    """
    Read up to C{size} bytes of a (maybe compressed) recording.

    @raise ReplayError: for a truncated or corrupt compressed file.
    """
    try:
        return f.read(size)
    except EOFError:
        raise ReplayError("%s: the compressed file is truncated" % (path,))
    except (OSError, zlib.error) as e:
        raise ReplayError("%s: the compressed file is corrupt (%s)" % (path, e))


_CLOCK = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?$")


def parseTime(value, what="time"):
    """
    A recorded time of day as nanoseconds since midnight: seconds after
    midnight (a decimal, C{34200.5}), C{HH:MM:SS[.fraction]}, or a date
    and time (C{2024-01-02T09:30:00.25}, C{2024-01-02 09:30:00}: the date
    is ignored).

    @raise BadValue: for anything else.
    """
    if isinstance(value, bool):
        raise BadValue("%s must be a time of day, not %r" % (what, value))
    if isinstance(value, int):
        seconds = Decimal(value)
    elif isinstance(value, float):
        seconds = Decimal(repr(value))
    else:
        text = str(value).strip()
        for sep in ("T", " "):
            if sep in text and "-" in text.split(sep, 1)[0]:
                text = text.split(sep, 1)[1]
                break
        match = _CLOCK.match(text)
        if match is not None:
            hours, minutes, secs, fraction = match.groups()
            if int(minutes) > 59 or int(secs) > 60:
                raise BadValue("%s %r is not a time of day" % (what, value))
            nanos = (int(hours) * 3600 + int(minutes) * 60 + int(secs)) * SECOND
            if fraction:
                nanos += int(fraction.ljust(9, "0"))
            if nanos >= DAY + SECOND:
                raise BadValue("%s %r is not a time of day" % (what, value))
            return nanos
        try:
            seconds = Decimal(text)
        except InvalidOperation:
            raise BadValue(
                "%s must be seconds after midnight or HH:MM:SS[.fraction], not %r" % (what, value)
            )
    if not seconds.is_finite() or not 0 <= seconds < 86401:
        raise BadValue("%s %r is not a time of day" % (what, value))
    return int(seconds * SECOND)


def formatTime(nanos):
    """
    Nanoseconds since midnight as C{HH:MM:SS.nnnnnnnnn} (None stays None).
    """
    if nanos is None:
        return None
    seconds, fraction = divmod(int(nanos), SECOND)
    hours, rest = divmod(seconds, 3600)
    return "%02d:%02d:%02d.%09d" % (hours, rest // 60, rest % 60, fraction)


def scaledPrice(path, where, raw, fromScale, toScale):
    """
    A price of C{fromScale} units per currency unit in C{toScale} units.

    @raise ReplayError: if it does not convert exactly.
    """
    if fromScale == toScale:
        return raw
    value = raw * toScale
    if value % fromScale:
        raise ReplayError(
            "%s, %s: price %s does not fit the book's price scale" % (path, where, raw)
        )
    return value // fromScale


#: The formats, by name: a module with C{sniff(head)} and a
#: C{Recording(path, symbol, instrument, priceScale)} class.
FORMATS = ("itch", "lobster", "quotes")


def _formatModule(name):
    if name == "itch":
        from exsim.replay import itch as module
    elif name == "lobster":
        from exsim.replay import lobster as module
    else:
        from exsim.replay import quotes as module
    return module


def open_(path, symbol, instrument, format=None, priceScale=None, name=None):
    """
    Open a recording of C{symbol}: its format as given, or found from its
    first bytes; errors call it C{name} (default: C{path}).

    @return: a recording (C{read(count)}, C{close()}, C{format}).
    @raise ReplayError: for an unknown format, a file that cannot be read,
        or one with nothing for C{symbol}.
    """
    shown = name or path
    f = openFile(path, shown)
    try:
        head = readBlock(f, shown, 4096)
    finally:
        f.close()
    if format is not None:
        kind = str(format).strip().lower()
        if kind not in FORMATS:
            raise ReplayError(
                "unknown replay format %r (known: %s)" % (format, ", ".join(FORMATS))
            )
    else:
        kind = None
        for candidate in FORMATS:
            if _formatModule(candidate).sniff(head):
                kind = candidate
                break
        if kind is None:
            raise ReplayError(
                "%s: unknown format (not an ITCH 5.0 file, a LOBSTER message file or a "
                "quotes CSV with a header row)" % (shown,)
            )
    return _formatModule(kind).Recording(path, symbol, instrument, priceScale, shown)
