"""
Tests for L{exsim.fix.utctime}: the one UTCTimestamp formatter and parser.
"""

import calendar
import time

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial import unittest

from exsim.fix import utctime


def reference(seconds, millis=True):
    """
    The UTCTimestamp of a time (at or after 1970) worked out from scratch.
    """
    second = int(seconds)
    text = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(second))
    if millis:
        text += ".%03d" % (min(int((seconds - second) * 1000), 999),)
    return text


class MillisecondInteriorTests(unittest.TestCase):
    """
    L{utctime.millisecondInterior}: every time inside gives the second and
    millisecond of the time it was made from.
    """

    @staticmethod
    def split(t):
        second = int(t)
        return second, int((t - second) * 1000)

    @settings(max_examples=500, deadline=None)
    @given(
        st.floats(0, 4e9, allow_nan=False),
        st.lists(st.floats(-2e-3, 2e-3, allow_nan=False), max_size=20),
    )
    def test_inside(self, now, offsets):
        second, milli = self.split(now)
        low, high = utctime.millisecondInterior(now, second, milli)
        self.assertLessEqual(low, high)
        edges = [low, high, low - 1e-9, high - 1e-9, (low + high) / 2]
        for t in [now + d for d in offsets] + edges:
            if low <= t < high:
                self.assertEqual(self.split(t), (second, milli), (now, t))

    def test_mostOfTheMillisecond(self):
        second, milli = self.split(1700000000.0005)
        low, high = utctime.millisecondInterior(1700000000.0005, second, milli)
        self.assertGreater(high - low, 0.00095)
        self.assertEqual(utctime.millisecondInterior(-0.5, 0, -500), (0.0, 0.0))

    @settings(max_examples=100, deadline=None)
    @given(st.lists(st.floats(0, 0.01, allow_nan=False), min_size=1, max_size=50),
           st.floats(1e9, 3e9, allow_nan=False))
    def test_timestamps(self, steps, start):
        """
        L{FixFactory.timestamp} and L{Profile.stamp} give what the second
        and millisecond of each time give.
        """
        import time

        from exsim.fix.factory import FixFactory
        from exsim.fix.versions import Profile

        class Reactor:
            now = start

            def seconds(self):
                return self.now

        factory = FixFactory.__new__(FixFactory)
        factory.reactor = reactor = Reactor()
        factory._millisStamps = utctime.UTCTimestampFormatter(millis=True, encoded=True)
        factory._secondsStamps = utctime.UTCTimestampFormatter(millis=False, encoded=True)
        profile = Profile("FIX.4.4")
        for step in steps:
            reactor.now += step
            second, milli = self.split(reactor.now)
            text = time.strftime("%Y%m%d-%H:%M:%S", time.gmtime(second)) + ".%03d" % (milli,)
            self.assertEqual(factory.timestamp(), text.encode())
            self.assertEqual(profile.stamp(reactor.now), text)
            self.assertEqual(factory.timestamp(False), text[:17].encode())


class SecondInteriorTests(unittest.TestCase):
    """
    L{utctime.secondInterior}: every time inside has the second of the
    time it was made from.
    """

    @settings(max_examples=300, deadline=None)
    @given(st.floats(0, 4e9, allow_nan=False), st.lists(st.floats(-2, 2, allow_nan=False), max_size=20))
    def test_inside(self, now, offsets):
        low, high = utctime.secondInterior(now, int(now))
        self.assertLess(low, high)
        for t in [now + d for d in offsets] + [low, high - 1e-7, (low + high) / 2]:
            if low <= t < high:
                self.assertEqual(int(t), int(now), (now, t))

    def test_before1970(self):
        self.assertEqual(utctime.secondInterior(-0.5, 0), (0.0, 0.0))


class FormatterTests(unittest.TestCase):
    """
    L{utctime.UTCTimestampFormatter}: text or bytes, with or without
    milliseconds, equal to the timestamp worked out from scratch whatever
    came before.
    """

    def test_known(self):
        self.assertEqual(utctime.formatUTCTimestamp(1700000000.25), "20231114-22:13:20.250")
        self.assertEqual(utctime.formatUTCTimestamp(1700000000.25, millis=False), "20231114-22:13:20")
        stamps = utctime.UTCTimestampFormatter(encoded=True)
        self.assertEqual(stamps.format(1700000000.0), b"20231114-22:13:20.000")
        self.assertEqual(stamps.format(1700000001.999), b"20231114-22:13:21.999")

    @settings(max_examples=200, deadline=None)
    @given(
        st.floats(0, 4e9, allow_nan=False),
        st.lists(st.floats(-1.5, 1.5, allow_nan=False), min_size=1, max_size=40),
        st.booleans(),
        st.booleans(),
    )
    def test_sequence(self, start, steps, millis, encoded):
        stamps = utctime.UTCTimestampFormatter(millis, encoded)
        now = start
        for step in steps:
            now = max(0.0, now + step)
            expected = reference(now, millis)
            if encoded:
                expected = expected.encode("ascii")
            self.assertEqual(stamps.format(now), expected, now)
            self.assertIs(type(stamps.text), bytes if encoded else str)

    def test_clockStandingOnAnEdge(self):
        """
        A clock that stands still where the interval of certain times
        cannot reach (a whole second, a millisecond's edge, before 1970)
        is answered from the time last formatted: the text is worked out
        once, not at every call.
        """
        made = []
        interior = utctime.millisecondInterior
        self.patch(utctime, "millisecondInterior", lambda *a: made.append(a) or interior(*a))
        for now in (1700000000.0, 1700000000.001, -1.5):
            stamps = utctime.UTCTimestampFormatter(encoded=True)
            expected = stamps.format(now)
            self.assertFalse(stamps.low <= now < stamps.high)
            del made[:]
            for _ in range(3):
                self.assertEqual(stamps.format(now), expected)
            self.assertEqual(made, [], now)
            # Another time is worked out afresh, and the memo follows it.
            later = now + 0.0105
            fresh = utctime.UTCTimestampFormatter(encoded=True).format(later)
            del made[:]
            self.assertEqual(stamps.format(later), fresh)
            self.assertEqual(len(made), 1)
            self.assertEqual(stamps.format(later), fresh)

    def test_failedFormatNotRemembered(self):
        """
        A time that cannot be formatted raises again when asked again (it
        is not answered with the text of the time before), and leaves the
        formatter as it was.
        """
        stamps = utctime.UTCTimestampFormatter()
        stamps.format(1700000000.0)
        self.assertRaises((OverflowError, ValueError, OSError), stamps.format, 1e300)
        self.assertRaises((OverflowError, ValueError, OSError), stamps.format, 1e300)
        self.assertEqual(stamps.format(1700000000.5), "20231114-22:13:20.500")

    @settings(max_examples=100, deadline=None)
    @given(st.lists(st.floats(-3e9, 4e9, allow_nan=False), min_size=1, max_size=20))
    def test_memoSameAsFresh(self, times):
        """
        Before 1970 too, a formatter that made other timestamps first gives
        what a new one gives.
        """
        stamps = utctime.UTCTimestampFormatter()
        for t in times:
            self.assertEqual(stamps.format(t), utctime.UTCTimestampFormatter().format(t))


class ParseTests(unittest.TestCase):
    """
    L{utctime.parseUTCTimestamp} and L{utctime.parseDateEnd}.
    """

    def test_known(self):
        parse = utctime.parseUTCTimestamp
        self.assertEqual(parse("20231114-22:13:20.250"), 1700000000.25)
        self.assertEqual(parse(b"20231114-22:13:20.250"), 1700000000.25)
        self.assertEqual(parse("20231114-22:13:20"), 1700000000.0)
        self.assertEqual(parse(b"20231114-22:13:20"), 1700000000.0)
        self.assertEqual(parse(b"20231114-22:13:20.123456789"), 1700000000 + 0.123456789)
        for bad in ("", "2023-11-14", "20231114-22:13:20.", "20231114-22:13:20.x",
                    "20231114-22:13:20,5", "20231114 22:13:20", "20231314-22:13:20",
                    "20231114-22:13:2", "20231114-22:13:20.\u00b2"):
            self.assertIsNone(parse(bad), bad)
            self.assertIsNone(parse(bad.encode("utf-8")), bad)
        self.assertIsNone(parse(b"\xff0231114-22:13:20"))
        self.assertIsNone(parse(None))

    def test_dateEnd(self):
        self.assertEqual(utctime.parseDateEnd("20231114"), 1700006400.0)
        self.assertIsNone(utctime.parseDateEnd("2023111"))
        self.assertIsNone(utctime.parseDateEnd("20231399"))

    @settings(max_examples=300, deadline=None)
    @given(st.floats(0, 4e9, allow_nan=False), st.booleans())
    def test_roundTrip(self, seconds, millis):
        text = reference(seconds, millis)
        parsed = utctime.parseUTCTimestamp(text)
        self.assertEqual(parsed, utctime.parseUTCTimestamp(text.encode("ascii")))
        self.assertLessEqual(parsed, seconds + 1e-6)
        self.assertLess(seconds - parsed, 0.001 if millis else 1.0)

    @settings(max_examples=500, deadline=None)
    @given(st.text(max_size=40))
    def test_anyText(self, text):
        """
        Any text gives a number or None, never an exception; as bytes
        (where it is ASCII) the same.
        """
        value = utctime.parseUTCTimestamp(text)
        self.assertTrue(value is None or isinstance(value, float))
        if text.isascii():
            self.assertEqual(utctime.parseUTCTimestamp(text.encode("ascii")), value)

    @settings(max_examples=500, deadline=None)
    @given(st.binary(max_size=40), st.sampled_from([b"", b"20231114-22:13:20"]))
    def test_anyBytes(self, data, prefix):
        value = utctime.parseUTCTimestamp(prefix + data)
        self.assertTrue(value is None or isinstance(value, float))

    def test_fractionExact(self):
        """
        The fraction is the decimal correctly rounded, as the session layer
        and order entry computed it before they shared this parser.
        """
        for digits in ("1", "001", "999", "5", "123456", "000000001", "9" * 30):
            expected = calendar.timegm((2023, 11, 14, 22, 13, 20, 0, 0, 0)) + float("0." + digits)
            self.assertEqual(utctime.parseUTCTimestamp("20231114-22:13:20." + digits), expected)
            if len(digits) < 20:
                legacy = 1700000000 + int(digits) / 10 ** len(digits)
                self.assertEqual(utctime.parseUTCTimestamp(b"20231114-22:13:20." + digits.encode()), legacy)
