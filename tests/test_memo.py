"""
Tests for L{exsim.memo}: bounded memos.
"""

from hypothesis import given, settings
from hypothesis import strategies as st
from twisted.trial.unittest import SynchronousTestCase

from exsim.memo import remember, rememberAll


class RememberTests(SynchronousTestCase):
    def test_stores(self):
        memo = {}
        self.assertEqual(remember(memo, "a", 1, 3), 1)
        self.assertEqual(memo, {"a": 1})

    def test_emptiedWhenFull(self):
        """
        A full memo is emptied before the new entry goes in: it never holds
        more than its bound, and the newest entry is always there.
        """
        memo = {}
        for key in range(3):
            remember(memo, key, key * 10, 3)
        self.assertEqual(memo, {0: 0, 1: 10, 2: 20})
        remember(memo, 3, 30, 3)
        self.assertEqual(memo, {3: 30})

    def test_sameDict(self):
        """
        The memo stays the same dict (a bound C{get} taken earlier still
        reads it).
        """
        memo = {}
        get = memo.get
        remember(memo, 1, "x", 1)
        remember(memo, 2, "y", 1)
        self.assertEqual((get(1), get(2)), (None, "y"))

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.integers(0, 50)), st.integers(1, 10))
    def test_bounded(self, keys, bound):
        memo = {}
        for key in keys:
            value = remember(memo, key, -key, bound)
            self.assertEqual(value, -key)
            self.assertLessEqual(len(memo), bound)
            self.assertEqual(memo[key], -key)


class RememberAllTests(SynchronousTestCase):
    def test_addsAndEmpties(self):
        memo = set()
        rememberAll(memo, ("a", "b"), 2)
        self.assertEqual(memo, {"a", "b"})
        rememberAll(memo, ("c",), 2)
        self.assertEqual(memo, {"c"})
