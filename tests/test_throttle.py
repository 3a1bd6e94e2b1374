"""
Tests for L{exsim.throttle}: the C{throttle} values and the sliding
window, on a L{task.Clock}.
"""

from hypothesis import given, strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from exsim.errors import BadValue
from exsim.throttle import (
    DISCONNECT,
    MAX_QUEUED,
    QUEUE,
    REJECT,
    Limit,
    Throttle,
    parseThrottle,
    parseThrottleAction,
)


class ParseTests(TestCase):
    def test_good(self):
        self.assertEqual(parseThrottle("10/1"), Limit(10, 1.0))
        self.assertEqual(parseThrottle(" 5 / 0.5 "), Limit(5, 0.5))
        self.assertEqual(str(parseThrottle("100/2")), "100/2")
        for value in (None, "", "none", "off"):
            self.assertIsNone(parseThrottle(value))

    def test_bad(self):
        for value in ("10", "x/1", "0/1", "-1/1", "1/0", "1/-2", "1/nan", "1/inf", "1.5/1",
                      "10/1/2", "2000000/1", "1/100000"):
            e = self.assertRaises(BadValue, parseThrottle, value)
            self.assertIn("throttle", str(e))

    @given(st.text(max_size=20))
    def test_anyText(self, text):
        try:
            limit = parseThrottle(text)
        except BadValue:
            return
        if limit is not None:
            self.assertGreaterEqual(limit.messages, 1)
            self.assertGreater(limit.seconds, 0)

    def test_action(self):
        self.assertEqual(parseThrottleAction(" Queue "), QUEUE)
        self.assertEqual(parseThrottleAction("reject"), REJECT)
        self.assertEqual(parseThrottleAction("disconnect"), DISCONNECT)
        self.assertRaises(BadValue, parseThrottleAction, "drop")


class ThrottleTests(TestCase):
    def setUp(self):
        self.clock = Clock()
        self.delivered = []
        self.refused = []

    def throttle(self, limit="2/1", action=REJECT):
        return Throttle(
            self.clock, parseThrottle(limit), action, self.delivered.append,
            lambda m, a: self.refused.append((m, a)),
        )

    def test_slidingWindow(self):
        t = self.throttle("2/1")
        self.assertTrue(t.check("a"))
        self.clock.advance(0.5)
        self.assertTrue(t.check("b"))
        self.assertFalse(t.check("c"))
        self.assertEqual(self.refused, [("c", REJECT)])
        # One second after "a": one more fits; not two.
        self.clock.advance(0.5)
        self.assertTrue(t.check("d"))
        self.assertFalse(t.check("e"))
        self.clock.advance(0.5)
        self.assertTrue(t.check("f"))
        self.assertEqual(self.delivered, [])

    def test_disconnectAction(self):
        t = self.throttle("1/1", DISCONNECT)
        t.check("a")
        self.assertFalse(t.check("b"))
        self.assertEqual(self.refused, [("b", DISCONNECT)])

    def test_queueInOrder(self):
        t = self.throttle("2/1", QUEUE)
        self.assertTrue(t.check("a"))
        self.assertTrue(t.check("b"))
        for m in "cde":
            self.assertFalse(t.check(m))
        self.assertEqual(t.queued, 3)
        self.clock.advance(0.999)
        self.assertEqual(self.delivered, [])
        self.clock.advance(0.001)
        self.assertEqual(self.delivered, ["c", "d"])
        # A new message waits behind the queued one, even if the window
        # would let it through later.
        self.assertFalse(t.check("f"))
        self.clock.advance(1)
        self.assertEqual(self.delivered, ["c", "d", "e", "f"])
        self.assertEqual(t.queued, 0)
        self.assertEqual(self.refused, [(m, QUEUE) for m in "cdef"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_queueFull(self):
        t = self.throttle("1/1", QUEUE)
        t.check("first")
        for i in range(MAX_QUEUED):
            t.check(i)
        self.assertFalse(t.check("over"))
        self.assertEqual(self.refused[-1], ("over", REJECT))
        t.stop()

    def test_changeToRejectDelivers(self):
        t = self.throttle("1/1", QUEUE)
        t.check("a")
        t.check("b")
        t.change(parseThrottle("1/1"), REJECT)
        self.assertEqual(self.delivered, ["b"])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_drain(self):
        t = self.throttle("1/10", QUEUE)
        t.check("a")
        t.check("b")
        t.check("c")
        t.drain()
        self.assertEqual(self.delivered, ["b", "c"])
        self.assertEqual(self.clock.getDelayedCalls(), [])
