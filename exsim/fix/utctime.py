# -*- test-case-name: tests.test_fix_utctime -*-
"""
FIX UTCTimestamps (C{YYYYMMDD-HH:MM:SS}, with C{.sss} from FIX.4.2) and
UTC dates: the one formatter and the one parser every part of exsim uses
(SendingTime and OrigSendingTime of the session layer, TransactTime of
reports, ExpireTime and ExpireDate of orders).

Formatting is on the hot path: every message carries a SendingTime and
every report a TransactTime, read from the reactor's clock.  A
L{UTCTimestampFormatter} keeps the text of the last second and
millisecond, and the interval of times for which that text is certainly
the answer (L{millisecondInterior}), so most calls are two comparisons.
That interval stays clear of the edges of the millisecond, so a clock
that stands still on an edge (a test's C{task.Clock} at a whole second,
the memory reactor) is answered by a third comparison: the time last
formatted.
"""

import calendar
import time

from exsim.memo import remember


def millisecondInterior(now, second, milli):
    """
    An interval of times well inside the millisecond of C{now} (C{second}
    and C{milli} as C{int(now)} and C{int((now - second) * 1000)} give
    them): any time in it gives the same two; clear of the edges by ten
    microseconds, far more than the rounding of a float time.  Empty for
    a time before 1970 (truncation goes the other way).

    @return: (low, high); C{low <= t < high} for a time C{t} inside.
    """
    if now < 0:
        return 0.0, 0.0
    return second + milli / 1000 + 1e-5, second + (milli + 1) / 1000 - 1e-5


def secondInterior(now, second):
    """
    As L{millisecondInterior}, for the second of C{now}.
    """
    if now < 0:
        return 0.0, 0.0
    return second + 1e-5, second + 1 - 1e-5


class UTCTimestampFormatter:
    """
    UTCTimestamps of times read from a clock, text or bytes, with or
    without milliseconds.

    L{format} is the whole of it; a caller on a hot path may test
    C{low <= seconds < high} and take C{text} itself, as L{format} does
    first.

    @ivar text: the last timestamp made.
    @ivar low: with C{high}, the times whose timestamp is certainly
        C{text} (empty at first).
    @ivar _last: the time C{text} was made for (None at first).
    """

    __slots__ = ("millis", "encoded", "text", "low", "high", "_last", "_second", "_prefix", "_milli")

    def __init__(self, millis=True, encoded=False):
        """
        @param millis: whether timestamps have milliseconds.
        @param encoded: whether they are bytes (else text).
        """
        self.millis = millis
        self.encoded = encoded
        self.text = None
        self.low = self.high = 0.0
        self._last = None
        self._second = None
        self._prefix = None
        self._milli = None

    def format(self, seconds):
        """
        The UTCTimestamp of C{seconds} since the epoch.
        """
        if self.low <= seconds < self.high or seconds == self._last:
            return self.text
        second = int(seconds)
        if second != self._second:
            prefix = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(second))
            # (Remembered once made: a time out of range raises, and
            # raises again when asked again.)
            self._second = second
            self._prefix = prefix.encode("ascii") if self.encoded else prefix
            self._milli = None
        if not self.millis:
            self.text = self._prefix
            self.low, self.high = secondInterior(seconds, second)
        else:
            milli = int((seconds - second) * 1000)
            if milli != self._milli:
                self._milli = milli
                if self.encoded:
                    self.text = self._prefix + b".%03d" % (min(milli, 999),)
                else:
                    self.text = "%s.%03d" % (self._prefix, min(milli, 999))
            self.low, self.high = millisecondInterior(seconds, second, milli)
        self._last = seconds
        return self.text

    def __repr__(self):
        return "<UTCTimestampFormatter millis=%r encoded=%r>" % (self.millis, self.encoded)


def formatUTCTimestamp(seconds, millis=True):
    """
    The UTCTimestamp (text) of C{seconds} since the epoch, without the
    memo of a L{UTCTimestampFormatter}: for a one-off.
    """
    return UTCTimestampFormatter(millis).format(seconds)


#: The whole-second part (first 17 characters, text or bytes) of
#: timestamps parsed lately -> its seconds since the epoch.
_SECONDS = {}
SECONDS_MEMO = 1000


def parseUTCTimestamp(text):
    """
    Seconds since the epoch of a UTCTimestamp (C{YYYYMMDD-HH:MM:SS} with
    optional fractional seconds; text or bytes), or None if it is not one.
    """
    if not text or len(text) < 17:
        return None
    head = text[:17]
    base = _SECONDS.get(head)
    if base is None:
        if type(head) is bytes:
            try:
                whole = head.decode("ascii")
            except UnicodeDecodeError:
                return None
        else:
            whole = head
        if whole[8] != "-":
            return None
        try:
            base = float(calendar.timegm(time.strptime(whole, "%Y%m%d-%H:%M:%S")))
        except ValueError:
            return None
        remember(_SECONDS, head, base, SECONDS_MEMO)
    if len(text) == 17:
        return base
    if text[17:18] not in (".", b".") or not text[18:].isdigit():
        return None
    try:
        # "0.sss": the fraction correctly rounded, whatever its length.
        return base + float((b"0" if type(text) is bytes else "0") + text[17:])
    except ValueError:
        return None


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
    return float(calendar.timegm(base) + 86400)
