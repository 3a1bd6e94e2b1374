"""
Tests for L{exsim.latency}: the C{latency} values and the outbound queue,
on a L{task.Clock}.
"""

import random

from hypothesis import given, strategies as st
from twisted.internet.task import Clock
from twisted.trial.unittest import TestCase

from exsim.errors import BadValue
from exsim.latency import (
    MAX_LATENCY,
    Fixed,
    Normal,
    OutboundQueue,
    Uniform,
    generatorFor,
    parseLatency,
    parseSeed,
)


class ParseTests(TestCase):
    def test_seconds(self):
        self.assertEqual(parseLatency("0.005"), Fixed(0.005))
        self.assertEqual(parseLatency(0.25), Fixed(0.25))
        self.assertEqual(parseLatency(2), Fixed(2.0))
        self.assertEqual(str(parseLatency("0.005")), "0.005")

    def test_none(self):
        for value in (None, "", "0", 0, "none", "None", " off "):
            self.assertIsNone(parseLatency(value), value)

    def test_distributions(self):
        self.assertEqual(parseLatency("uniform:0.001:0.003"), Uniform(0.001, 0.003))
        self.assertEqual(parseLatency(" Normal:0.002:0.0005 "), Normal(0.002, 0.0005))
        self.assertEqual(str(parseLatency("uniform:0.001:0.003")), "uniform:0.001:0.003")
        self.assertEqual(str(parseLatency("normal:0.002:0.0005")), "normal:0.002:0.0005")
        # A parsed value parses to itself.
        value = Uniform(0.001, 0.002)
        self.assertIs(parseLatency(value), value)

    def test_bad(self):
        for value in (
            "-1", "abc", "uniform:0.003:0.001", "uniform:1", "normal:1:2:3", "gauss:1:1",
            "nan", "inf", "uniform:-1:1", "normal:0:-1", MAX_LATENCY + 1, True, "1e400",
        ):
            e = self.assertRaises(BadValue, parseLatency, value)
            self.assertIn("latency", str(e))

    @given(st.one_of(st.text(max_size=30), st.floats(), st.integers()))
    def test_anyInput(self, value):
        """
        Whatever the input: a latency, None, or BadValue.
        """
        try:
            result = parseLatency(value)
        except BadValue:
            return
        self.assertIsInstance(result, (Fixed, Uniform, Normal, type(None)))
        if result is not None:
            self.assertEqual(parseLatency(str(result)), result)

    def test_draws(self):
        generator = random.Random(1)
        for _ in range(200):
            self.assertTrue(0.001 <= Uniform(0.001, 0.002).draw(generator) <= 0.002)
            # Never negative.
            self.assertGreaterEqual(Normal(0.0, 1.0).draw(generator), 0.0)

    def test_seed(self):
        self.assertEqual(parseSeed("42"), 42)
        self.assertEqual(parseSeed(7), 7)
        self.assertRaises(BadValue, parseSeed, "x")
        self.assertRaises(BadValue, parseSeed, True)

    def test_generatorPerSession(self):
        """
        The same seed and session give the same draws; another session or
        seed others.
        """
        draws = lambda seed, session: [generatorFor(seed, session).random() for _ in range(3)]
        self.assertEqual(draws(1, "fix1/A"), draws(1, "fix1/A"))
        self.assertNotEqual(draws(1, "fix1/A"), draws(1, "fix1/B"))
        self.assertNotEqual(draws(1, "fix1/A"), draws(2, "fix1/A"))


class OutboundQueueTests(TestCase):
    def setUp(self):
        self.clock = Clock()
        self.released = []

    def queue(self, latency=None, generator=None):
        return OutboundQueue(self.clock, self.released.append, latency, generator)

    def items(self):
        return [item for batch in self.released for item in batch]

    def test_noLatencyAtOnce(self):
        q = self.queue()
        self.assertTrue(q.idle)
        q.put("a")
        self.assertEqual(self.released, [["a"]])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_fixedLatency(self):
        q = self.queue(Fixed(0.001))
        q.put("a")
        q.put("b")
        self.assertEqual(self.released, [])
        self.assertEqual(len(q), 2)
        self.clock.advance(0.0009)
        self.assertEqual(self.released, [])
        self.clock.advance(0.0001)
        # Due together: one release of both.
        self.assertEqual(self.released, [["a", "b"]])
        self.assertEqual(self.clock.getDelayedCalls(), [])

    def test_orderPreserved(self):
        """
        A message drawn a shorter latency waits for the one before it.
        """
        q = self.queue(Uniform(0.0, 0.01), random.Random(3))
        for i in range(50):
            q.put(i)
            self.clock.advance(0.0001)
        self.clock.advance(1)
        self.assertEqual(self.items(), list(range(50)))

    def test_sameSeedSameSchedule(self):
        def run():
            clock = Clock()
            times = []
            q = OutboundQueue(clock, lambda items: times.append((clock.seconds(), items)),
                              Normal(0.002, 0.001), generatorFor(5, "s"))
            for i in range(20):
                q.put(i)
                clock.advance(0.0005)
            clock.advance(1)
            return times

        self.assertEqual(run(), run())

    def test_holdAndResume(self):
        q = self.queue()
        q.hold()
        q.put("a")
        q.put("b")
        self.clock.advance(10)
        self.assertEqual(self.released, [])
        self.assertFalse(q.idle)
        q.resume()
        self.assertEqual(self.released, [["a", "b"]])
        self.assertTrue(q.idle)
        q.put("c")
        self.assertEqual(self.released[-1], ["c"])

    def test_holdWithLatency(self):
        """
        While held nothing leaves; after resume, messages whose latency
        passed leave at once, the others when it passes.
        """
        q = self.queue(Fixed(1.0))
        q.put("a")
        q.hold()
        self.clock.advance(0.5)
        q.put("b")
        self.clock.advance(0.7)
        self.assertEqual(self.released, [])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        q.resume()
        self.assertEqual(self.released, [["a"]])
        self.clock.advance(0.2)
        self.assertEqual(self.released, [["a"]])
        self.clock.advance(0.1)
        self.assertEqual(self.released, [["a"], ["b"]])

    def test_latencyRemovedWhileWaiting(self):
        """
        Messages already waiting keep their time; new ones wait behind
        them.
        """
        q = self.queue(Fixed(1.0))
        q.put("a")
        q.latency = None
        q.put("b")
        self.assertEqual(self.released, [])
        self.clock.advance(1.0)
        self.assertEqual(self.items(), ["a", "b"])

    def test_drainAndStop(self):
        q = self.queue(Fixed(1.0))
        q.put("a")
        q.put("b")
        self.assertEqual(q.drain(), ["a", "b"])
        self.assertEqual(self.clock.getDelayedCalls(), [])
        q.put("c")
        q.stop()
        self.assertEqual(self.clock.getDelayedCalls(), [])
